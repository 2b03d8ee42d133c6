//! Diagnostics: an error with a source position, rendered as `FILE:LINE:COL: error: MESSAGE`
//! followed by the source line and a caret.

use crate::model::Loc;
use annotate_snippets::{Level, Renderer, Snippet};

/// One error at one place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    pub loc: Loc,
    pub message: String,
}

impl Diagnostic {
    pub fn new(loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            loc,
            message: message.into(),
        }
    }

    /// Renders for a person: the `FILE:LINE:COL: error: MESSAGE` line, then (when the source is
    /// at hand and the position known) the line itself with a caret under the column.
    pub fn render(&self, file: &str, source: Option<&str>) -> String {
        let mut out = if self.loc.is_known() {
            format!(
                "{}:{}:{}: error: {}\n",
                file, self.loc.line, self.loc.col, self.message
            )
        } else {
            format!("{}: error: {}\n", file, self.message)
        };
        let line_text = source
            .filter(|_| self.loc.is_known())
            .and_then(|s| s.lines().nth(self.loc.line as usize - 1));
        if let Some(text) = line_text {
            // The caret spans the token at the column (at least one character).
            let start = char_to_byte(text, self.loc.col.saturating_sub(1) as usize);
            let len = text[start..]
                .find(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == ']')
                .unwrap_or(text.len() - start)
                .max(1);
            let end = (start + len).min(text.len());
            let snippet = Snippet::source(text)
                .line_start(self.loc.line as usize)
                .annotation(Level::Error.span(start..end.max(start)));
            let msg = Level::Error.title("").snippet(snippet);
            let rendered = Renderer::plain().render(msg).to_string();
            // Drop annotate-snippets' own (empty) title line: ours is the first line.
            for l in rendered.lines().skip_while(|l| l.starts_with("error")) {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

fn char_to_byte(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}

/// All errors found in one module, in source order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.first().map_or("error", |d| d.message.as_str()))]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn one(loc: Loc, message: impl Into<String>) -> Diagnostics {
        Diagnostics(vec![Diagnostic::new(loc, message)])
    }

    pub fn render(&self, file: &str, source: Option<&str>) -> String {
        self.0.iter().map(|d| d.render(file, source)).collect()
    }
}
