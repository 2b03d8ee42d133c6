//! Splits one line of `.sil` text into tokens, each with its 1-based column.

use crate::diag::Diagnostic;
use crate::model::Loc;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    /// An integer literal's magnitude as written (sign handled by the parser); `decimal` says
    /// whether it was written in decimal (range rules differ).
    Int {
        value: u128,
        decimal: bool,
    },
    Float(f64),
    /// A character literal's code point.
    Char(u32),
    Str(Vec<u8>),
    Punct(char),
    Arrow,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub col: u32,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int { .. } => "an integer literal".into(),
            Tok::Float(_) => "a float literal".into(),
            Tok::Char(_) => "a character literal".into(),
            Tok::Str(_) => "a string".into(),
            Tok::Punct(c) => format!("`{c}`"),
            Tok::Arrow => "`->`".into(),
        }
    }
}

/// Tokenizes `text` (one line, without its newline). Comments are dropped.
pub(crate) fn lex_line(text: &str, line: u32) -> Result<Vec<Token>, Diagnostic> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let err = |col: usize, msg: String| Diagnostic::new(Loc::new(line, col as u32 + 1), msg);
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let col = start as u32 + 1;
        if c == ';' {
            break;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.' | '$'))
            {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else if c.is_ascii_digit() {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '.'
                    || ((chars[i] == '-' || chars[i] == '+')
                        && matches!(chars[i - 1], 'e' | 'E')
                        && !is_radix_prefixed(&chars[start..i])))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            number(&word).map_err(|m| err(start, m))?
        } else if c == '\'' {
            i += 1;
            let (cp, next, _) = escaped_char(&chars, i, '\'').map_err(|(at, m)| err(at, m))?;
            i = next;
            if chars.get(i) != Some(&'\'') {
                return Err(err(start, "unterminated character literal".into()));
            }
            i += 1;
            Tok::Char(cp)
        } else if c == '"' {
            i += 1;
            let mut bytes = Vec::new();
            loop {
                match chars.get(i) {
                    None => return Err(err(start, "unterminated string literal".into())),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let (cp, next, raw_byte) =
                            escaped_char(&chars, i, '"').map_err(|(at, m)| err(at, m))?;
                        i = next;
                        // `\xHH` is a raw byte; everything else is a character in UTF-8.
                        if raw_byte {
                            bytes.push(cp as u8);
                        } else {
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                }
            }
            Tok::Str(bytes)
        } else if c == '-' && chars.get(i + 1) == Some(&'>') {
            i += 2;
            Tok::Arrow
        } else if "()[]{},:+-".contains(c) {
            i += 1;
            Tok::Punct(c)
        } else {
            return Err(err(start, format!("unexpected character `{c}`")));
        };
        toks.push(Token { tok, col });
    }
    Ok(toks)
}

fn is_radix_prefixed(word: &[char]) -> bool {
    word.len() >= 2 && word[0] == '0' && matches!(word[1], 'x' | 'X' | 'b' | 'B')
}

/// Reads one possibly escaped character at `i` inside a literal closed by `quote`.
/// Returns the code point, the index after it, and whether it was a raw `\xHH` byte.
fn escaped_char(
    chars: &[char],
    i: usize,
    quote: char,
) -> Result<(u32, usize, bool), (usize, String)> {
    match chars.get(i) {
        None => Err((i, "unterminated literal".into())),
        Some(&c) if c == quote && quote == '\'' => Err((i, "empty character literal".into())),
        Some('\\') => {
            let e = chars.get(i + 1).copied();
            let simple = match e {
                Some('n') => Some('\n'),
                Some('t') => Some('\t'),
                Some('r') => Some('\r'),
                Some('0') => Some('\0'),
                Some('\\') => Some('\\'),
                Some('"') => Some('"'),
                Some('\'') => Some('\''),
                _ => None,
            };
            if let Some(s) = simple {
                return Ok((s as u32, i + 2, false));
            }
            if e == Some('x') {
                let h: String = chars.get(i + 2..i + 4).unwrap_or(&[]).iter().collect();
                if h.len() == 2 && h.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Ok((u32::from_str_radix(&h, 16).unwrap_or(0), i + 4, true));
                }
                return Err((i, "`\\x` needs two hexadecimal digits".into()));
            }
            match e {
                Some(e) => Err((i, format!("unknown escape `\\{e}`"))),
                None => Err((i, "unterminated literal".into())),
            }
        }
        Some(&c) => Ok((c as u32, i + 1, false)),
    }
}

/// Parses a numeric word (no sign): decimal, `0x`, `0b` with `_` separators, or a float.
fn number(word: &str) -> Result<Tok, String> {
    let bad = || format!("invalid number `{word}`");
    let lower = word.to_ascii_lowercase();
    let (radix, digits) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else {
        (10, lower.as_str())
    };
    if radix == 10 && (digits.contains('.') || digits.contains('e')) {
        // A float: digits, optional fraction, optional exponent; `_` is not allowed.
        let valid = {
            let (mant, exp) = match digits.split_once('e') {
                Some((m, e)) => (m, Some(e)),
                None => (digits, None),
            };
            let (int, frac) = match mant.split_once('.') {
                Some((i, f)) => (i, Some(f)),
                None => (mant, None),
            };
            let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            all_digits(int)
                && frac.is_none_or(all_digits)
                && exp.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
        };
        if !valid {
            return Err(bad());
        }
        return digits.parse::<f64>().map(Tok::Float).map_err(|_| bad());
    }
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return Err(bad());
    }
    let mut value: u128 = 0;
    for ch in digits.chars() {
        if ch == '_' {
            continue;
        }
        let d = ch.to_digit(radix).ok_or_else(bad)?;
        value = value * radix as u128 + d as u128;
        if value > u64::MAX as u128 {
            return Err(format!("integer literal `{word}` is out of range"));
        }
    }
    Ok(Tok::Int {
        value,
        decimal: radix == 10,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex_line(s, 1).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_and_punctuation() {
        assert_eq!(
            toks("add x, 0x2A, 1_000 ; c"),
            vec![
                Tok::Ident("add".into()),
                Tok::Ident("x".into()),
                Tok::Punct(','),
                Tok::Int {
                    value: 42,
                    decimal: false
                },
                Tok::Punct(','),
                Tok::Int {
                    value: 1000,
                    decimal: true
                },
            ]
        );
        assert_eq!(toks("2.0e-3"), vec![Tok::Float(2.0e-3)]);
        assert_eq!(toks("1e9"), vec![Tok::Float(1e9)]);
        assert_eq!(
            toks("0b101"),
            vec![Tok::Int {
                value: 5,
                decimal: false
            }]
        );
        assert_eq!(toks("-> -"), vec![Tok::Arrow, Tok::Punct('-')]);
    }

    #[test]
    fn chars_and_strings() {
        assert_eq!(toks(r"'\''"), vec![Tok::Char(39)]);
        assert_eq!(toks("';'"), vec![Tok::Char(59)]);
        assert_eq!(toks(r#""a;\x41\n""#), vec![Tok::Str(b"a;A\n".to_vec())]);
        assert!(lex_line(r#""abc"#, 1).is_err());
        assert!(lex_line(r#""\q""#, 1).is_err());
        assert!(lex_line("12abc", 1).is_err());
    }
}
