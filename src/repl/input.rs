//! Reading REPL input without the parser: comments, brace balance, and calls `NAME(ARGS)`.

/// Where a character of the text stands, for the scanner.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Code,
    /// Inside `"..."` or `'...'`: braces, commas and `;` there are not syntax.
    Quoted,
    Comment,
}

/// Calls `f(byte_index, char, where)` for every character of `text`. Literals follow docs/reference/text-format.md:
/// `\` escapes the next character inside quotes, `;` starts a comment that ends at the line.
fn scan(text: &str, mut f: impl FnMut(usize, char, At)) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut comment = false;
    for (i, c) in text.char_indices() {
        if c == '\n' {
            // A literal or comment never spans lines; an unterminated one ends here too.
            quote = None;
            escaped = false;
            comment = false;
            f(i, c, At::Code);
            continue;
        }
        if comment {
            f(i, c, At::Comment);
        } else if let Some(q) = quote {
            f(i, c, At::Quoted);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
        } else if c == ';' {
            comment = true;
            f(i, c, At::Comment);
        } else {
            if c == '"' || c == '\'' {
                quote = Some(c);
                f(i, c, At::Quoted);
                continue;
            }
            f(i, c, At::Code);
        }
    }
}

/// `text` with every `;` comment removed (a `;` inside a literal is kept).
pub(crate) fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    scan(text, |_, c, at| {
        if at != At::Comment {
            out.push(c);
        }
    });
    out
}

/// How many `{` are still open in `text` (negative if `}` outnumber them), not counting braces
/// inside comments or literals.
pub(crate) fn open_braces(text: &str) -> i64 {
    let mut depth = 0i64;
    scan(text, |_, c, at| match (c, at) {
        ('{', At::Code) => depth += 1,
        ('}', At::Code) => depth -= 1,
        _ => {}
    });
    depth
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')
}

/// `text` (comments removed, trimmed) when it is exactly one identifier.
pub(crate) fn lone_ident(text: &str) -> Option<String> {
    let t = strip_comments(text);
    let t = t.trim();
    let mut cs = t.chars();
    (cs.next().is_some_and(is_ident_start) && cs.all(is_ident_char)).then(|| t.to_string())
}

/// A call typed at the prompt: the function and its arguments as literal text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Call {
    pub name: String,
    pub args: Vec<String>,
}

/// `None` unless `text` looks like a call (an identifier, then `(`); then the call, or why it
/// is malformed.
pub(crate) fn parse_call(text: &str) -> Option<Result<Call, String>> {
    let t = strip_comments(text);
    let t = t.trim();
    let name_len = t
        .char_indices()
        .find(|&(i, c)| {
            if i == 0 {
                !is_ident_start(c)
            } else {
                !is_ident_char(c)
            }
        })
        .map_or(t.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let name = &t[..name_len];
    let rest = t[name_len..].trim_start();
    let inner_start = t.len() - rest.len() + 1;
    if !rest.starts_with('(') {
        return None;
    }
    // Find the matching `)`, splitting at commas outside nested parentheses and literals.
    let mut depth = 0i64;
    let mut close = None;
    let mut cuts = Vec::new();
    let mut bad = None;
    scan(&t[inner_start..], |i, c, at| {
        if at != At::Code || close.is_some() {
            if close.is_some() && !c.is_whitespace() && bad.is_none() {
                bad = Some(inner_start + i);
            }
            return;
        }
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => close = Some(inner_start + i),
            ')' => depth -= 1,
            ',' if depth == 0 => cuts.push(inner_start + i),
            '\n' => bad = bad.or(Some(inner_start + i)),
            _ => {}
        }
    });
    let Some(close) = close else {
        return Some(Err(format!(
            "missing `)` at the end of the call to `{name}`"
        )));
    };
    if let Some(at) = bad {
        return Some(Err(format!(
            "unexpected `{}` after the call to `{name}`",
            t[at..].trim()
        )));
    }
    let mut args = Vec::new();
    let mut from = inner_start;
    for cut in cuts.into_iter().chain([close]) {
        args.push(t[from..cut].trim().to_string());
        from = cut + 1;
    }
    if args.len() == 1 && args[0].is_empty() {
        args.clear();
    }
    if args.iter().any(String::is_empty) {
        return Some(Err(format!(
            "an argument of the call to `{name}` is empty (arguments are literals separated by commas)"
        )));
    }
    Some(Ok(Call {
        name: name.to_string(),
        args,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(text: &str) -> Option<Result<Call, String>> {
        parse_call(text)
    }

    #[test]
    fn braces_in_literals_and_comments_do_not_count() {
        assert_eq!(open_braces("func f() {"), 1);
        assert_eq!(open_braces("func f() { ; }"), 1);
        assert_eq!(open_braces("    mov x, '{'"), 0);
        assert_eq!(open_braces("data 0 \"{\\\"}\""), 0);
        assert_eq!(open_braces("    mov x, '\\''  ; {"), 0);
        assert_eq!(open_braces("func f() {\n    ret\n}"), 0);
        assert_eq!(open_braces("}"), -1);
    }

    #[test]
    fn calls_split_their_literal_arguments() {
        assert_eq!(
            call("fib(30)"),
            Some(Ok(Call {
                name: "fib".into(),
                args: vec!["30".into()]
            }))
        );
        assert_eq!(
            call("  f ( sil(1, 2), ',', \")\" , -2.5e3 ) ; note"),
            Some(Ok(Call {
                name: "f".into(),
                args: vec![
                    "sil(1, 2)".into(),
                    "','".into(),
                    "\")\"".into(),
                    "-2.5e3".into()
                ]
            }))
        );
        assert_eq!(call("g()").unwrap().unwrap().args, Vec::<String>::new());
        assert!(call("f(1").unwrap().is_err());
        assert!(call("f(1) 2").unwrap().is_err());
        assert!(call("f(1,,2)").unwrap().is_err());
        assert!(call("func f() {").is_none());
        assert!(call("memory 1").is_none());
        assert!(call("(1)").is_none());
        assert!(call("").is_none());
    }

    #[test]
    fn lone_identifiers() {
        assert_eq!(lone_ident(" fib ; x").as_deref(), Some("fib"));
        assert_eq!(lone_ident("fib 1"), None);
        assert_eq!(lone_ident("1abc"), None);
    }
}
