//! calc's errors, each at a line and column of the source.

use std::fmt;

/// A place in the source, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Why a calc program does not compile.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CalcError {
    /// The text does not follow the grammar.
    #[error("{pos}: syntax error: {message}")]
    Syntax { pos: Pos, message: String },
    /// Names or types do not fit together.
    #[error("{pos}: error: {message}")]
    Semantic { pos: Pos, message: String },
    /// The module calc built does not verify: a bug in calc, never in the program.
    #[error("internal error, the generated module does not verify:\n{0}")]
    Verify(#[from] bytecode::Diagnostics),
}

impl CalcError {
    pub(crate) fn syntax(pos: Pos, message: impl Into<String>) -> CalcError {
        CalcError::Syntax {
            pos,
            message: message.into(),
        }
    }

    pub(crate) fn semantic(pos: Pos, message: impl Into<String>) -> CalcError {
        CalcError::Semantic {
            pos,
            message: message.into(),
        }
    }
}
