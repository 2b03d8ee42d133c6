//! The command line's errors and the exit status each one maps to (docs/reference/command-line.md).

/// Everything that ends a `vsp` command early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad arguments: status 2.
    #[error("{0}")]
    Usage(String),
    /// The input file cannot be read: status 66.
    #[error("cannot read `{path}`: {err}")]
    Unreadable { path: String, err: std::io::Error },
    /// The module does not parse or verify; the text is already rendered: status 65.
    #[error("{0}")]
    Invalid(String),
    /// Writing an output file failed: status 73 (EX_CANTCREAT).
    #[error("cannot write `{path}`: {err}")]
    CantWrite { path: String, err: std::io::Error },
    /// A tool or target support this machine lacks (a C compiler, the runtime for a target),
    /// or linking failed: status 69 (EX_UNAVAILABLE).
    #[error("{0}")]
    Unavailable(String),
    /// The compiler failed on a verified module (a bug): status 70 (EX_SOFTWARE).
    #[error("internal compiler error: {0}")]
    Internal(String),
}

impl CliError {
    pub(crate) fn status(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Unreadable { .. } => 66,
            CliError::Invalid(_) => 65,
            CliError::CantWrite { .. } => 73,
            CliError::Unavailable(_) => 69,
            CliError::Internal(_) => 70,
        }
    }

    /// The text for stderr: rendered diagnostics as they are, other errors after `error: `.
    pub(crate) fn render(&self) -> String {
        match self {
            CliError::Invalid(text) => text.clone(),
            other => format!("error: {other}\n"),
        }
    }
}
