//! `main`'s command-line arguments in built executables: literals of the `.sil` text format, read exactly as `vsp run` reads them.
//!
//! `no_std` and allocation-free: it is compiled into the runtime archive, and into the `aot`
//! crate, whose tests check it against `bytecode::parse_literal` (the parser `vsp run` uses).
//! The rules are those of the lexer and `Cur::literal`: optional `-`, then an integer (decimal,
//! `0x`, `0b`, `_` separators, `'c'` characters), a float (`1.5`, `2e-3`, `inf`, `nan`) or a
//! `sil(...)` literal, surrounded by optional whitespace and followed by an optional `;` comment.

/// Why an argument is not a value of the parameter's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// Not UTF-8 or not a literal at all.
    NotALiteral,
    /// A malformed number or character literal.
    InvalidNumber,
    /// An integer beyond the i64 (or, for hex and binary, 64-bit) range.
    OutOfRange,
    /// A float where an `i64` is expected.
    FloatForInt,
    /// An integer that does not convert to f64 exactly, or a sil literal.
    WrongType,
}

impl ArgError {
    pub fn message(self) -> &'static str {
        match self {
            ArgError::NotALiteral => "not a literal",
            ArgError::InvalidNumber => "invalid number",
            ArgError::OutOfRange => "integer literal out of range for i64",
            ArgError::FloatForInt => "expected an integer, found a float",
            ArgError::WrongType => "not a value of this type",
        }
    }
}

/// A literal as read, before its type is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lit {
    Int(i64),
    Float(f64),
}

/// Reads `text` as a literal and returns its 64-bit slot for a parameter of type `f64`
/// (`is_f64`) or `i64`.
pub fn parse_arg(text: &[u8], is_f64: bool) -> Result<u64, ArgError> {
    let s = core::str::from_utf8(text).map_err(|_| ArgError::NotALiteral)?;
    match (literal(s)?, is_f64) {
        (Lit::Int(v), false) => Ok(v as u64),
        (Lit::Int(v), true) => {
            let f = v as f64;
            // Exact iff the conversion round-trips (and is not the 2^63 edge, which `as`
            // saturates back to i64::MAX).
            if f != -(i64::MIN as f64) && f as i64 == v {
                Ok(f.to_bits())
            } else {
                Err(ArgError::WrongType)
            }
        }
        (Lit::Float(f), true) => Ok(f.to_bits()),
        (Lit::Float(_), false) => Err(ArgError::FloatForInt),
    }
}

/// A cursor over the characters of the argument.
struct Cur<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cur<'a> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn peek2(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|r| r.chars().nth(1))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// True at the end of the text or at a `;` comment (after whitespace).
    fn at_end(&mut self) -> bool {
        self.skip_ws();
        matches!(self.peek(), None | Some(';'))
    }
}

fn literal(s: &str) -> Result<Lit, ArgError> {
    let mut c = Cur { s, pos: 0 };
    c.skip_ws();
    // `->` is an arrow token, not a minus.
    let neg = c.peek() == Some('-') && c.peek2() != Some('>');
    if neg {
        c.bump();
        c.skip_ws();
    }
    let lit = match c.peek() {
        Some(ch) if ch.is_ascii_digit() => {
            let start = c.pos;
            scan_number(&mut c);
            let word = c.s.get(start..c.pos).unwrap_or("");
            match number(word)? {
                Num::Float(f) => Lit::Float(if neg { -f } else { f }),
                Num::Int { value, decimal } => {
                    Lit::Int(int_value(value, decimal, neg).ok_or(ArgError::OutOfRange)?)
                }
            }
        }
        Some('\'') => {
            c.bump();
            let cp = escaped_char(&mut c)?;
            if c.bump() != Some('\'') {
                return Err(ArgError::InvalidNumber);
            }
            if neg {
                return Err(ArgError::NotALiteral);
            }
            Lit::Int(cp as i64)
        }
        Some(ch) if ch.is_ascii_alphabetic() || ch == '_' => {
            let start = c.pos;
            while c
                .peek()
                .is_some_and(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '$'))
            {
                c.bump();
            }
            let word = c.s.get(start..c.pos).unwrap_or("");
            if word.eq_ignore_ascii_case("inf") {
                Lit::Float(if neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                })
            } else if word.eq_ignore_ascii_case("nan") {
                Lit::Float(f64::NAN)
            } else if word.eq_ignore_ascii_case("sil") && !neg {
                // A sil literal never fits an i64 or f64 parameter; whether it is well formed
                // only changes the message.
                return Err(ArgError::WrongType);
            } else {
                return Err(ArgError::NotALiteral);
            }
        }
        _ => return Err(ArgError::NotALiteral),
    };
    if c.at_end() {
        Ok(lit)
    } else {
        Err(ArgError::NotALiteral)
    }
}

/// Advances over a numeric word as the lexer delimits it: alphanumerics, `_`, `.`, and a sign
/// right after an `e` of a non-prefixed number.
fn scan_number(c: &mut Cur<'_>) {
    let start = c.pos;
    let mut prev = '\0';
    while let Some(ch) = c.peek() {
        let word = c.s.get(start..c.pos).unwrap_or("");
        let ok = ch.is_ascii_alphanumeric()
            || ch == '_'
            || ch == '.'
            || ((ch == '-' || ch == '+') && matches!(prev, 'e' | 'E') && !radix_prefixed(word));
        if !ok {
            break;
        }
        prev = ch;
        c.bump();
    }
}

fn radix_prefixed(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 2 && b[0] == b'0' && matches!(b[1], b'x' | b'X' | b'b' | b'B')
}

enum Num {
    Int { value: u128, decimal: bool },
    Float(f64),
}

/// A numeric word (no sign): decimal, `0x`, `0b` with `_` separators, or a float.
fn number(word: &str) -> Result<Num, ArgError> {
    let bad = ArgError::InvalidNumber;
    let (radix, digits) = if radix_prefixed(word) {
        let r = if matches!(word.as_bytes()[1], b'x' | b'X') {
            16
        } else {
            2
        };
        (r, word.get(2..).unwrap_or(""))
    } else {
        (10, word)
    };
    if radix == 10 && digits.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        // A float: digits, optional fraction, optional exponent; `_` is not allowed.
        let (mant, exp) = match digits.find(['e', 'E']) {
            Some(i) => (&digits[..i], Some(&digits[i + 1..])),
            None => (digits, None),
        };
        let (int, frac) = match mant.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (mant, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let valid = all_digits(int)
            && frac.is_none_or(all_digits)
            && exp.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
        if !valid {
            return Err(bad);
        }
        return digits.parse::<f64>().map(Num::Float).map_err(|_| bad);
    }
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return Err(bad);
    }
    let mut value: u128 = 0;
    for ch in digits.chars() {
        if ch == '_' {
            continue;
        }
        let d = ch.to_digit(radix).ok_or(bad)?;
        value = value * radix as u128 + d as u128;
        if value > u64::MAX as u128 {
            return Err(ArgError::OutOfRange);
        }
    }
    Ok(Num::Int {
        value,
        decimal: radix == 10,
    })
}

/// The sign and range rules of docs/reference/text-format.md: decimal within i64, hex and binary also as 64-bit
/// patterns, and `-` of exactly 2^63.
fn int_value(mag: u128, decimal: bool, neg: bool) -> Option<i64> {
    const MIN_MAG: u128 = 1u128 << 63;
    match (neg, decimal) {
        (false, true) => i64::try_from(mag).ok(),
        (false, false) => u64::try_from(mag).ok().map(|v| v as i64),
        (true, _) if mag == MIN_MAG => Some(i64::MIN),
        (true, _) => i64::try_from(mag).ok().map(|v| -v),
    }
}

/// One possibly escaped character inside `'...'` (the opening quote already read).
fn escaped_char(c: &mut Cur<'_>) -> Result<u32, ArgError> {
    match c.bump() {
        None | Some('\'') => Err(ArgError::InvalidNumber),
        Some('\\') => {
            let simple = match c.peek() {
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
                c.bump();
                return Ok(s as u32);
            }
            if c.peek() == Some('x') {
                c.bump();
                let hi = c.bump().and_then(|h| h.to_digit(16));
                let lo = c.bump().and_then(|h| h.to_digit(16));
                return match (hi, lo) {
                    (Some(h), Some(l)) => Ok(h * 16 + l),
                    _ => Err(ArgError::InvalidNumber),
                };
            }
            Err(ArgError::InvalidNumber)
        }
        Some(ch) => Ok(ch as u32),
    }
}
