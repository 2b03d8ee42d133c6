//! Reading a module from a `.sil` or `.silc` file, verified, with errors rendered for people.

use crate::error::CliError;
use bytecode::Module;
use std::path::Path;

/// A module and, for text input, the source its diagnostics point into.
pub(crate) struct Loaded {
    pub module: Module,
    #[allow(dead_code)] // kept for the REPL and future diagnostics at run time
    pub source: Option<String>,
    pub display_name: String,
}

/// The magic bytes every `.silc` file starts with, used to tell binary from text input.
fn is_binary(bytes: &[u8], path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "silc") || bytes.first() == Some(&0)
}

/// `bytes` as text, or the rendered diagnostic for the first byte that is not UTF-8: at its line
/// and column, with the line shown and a caret under it, like every other error in a `.sil`.
pub(crate) fn utf8_source(bytes: Vec<u8>, display_name: &str) -> Result<String, String> {
    let err = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(err) => err,
    };
    let at = err.utf8_error().valid_up_to();
    let bytes = err.into_bytes();
    let before = bytes.get(..at).unwrap_or_default();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |nl| nl + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    // Everything before the bad byte is valid UTF-8, so counting chars gives the column.
    let col = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
        .chars()
        .count()
        + 1;
    let bad = bytes.get(at).copied().unwrap_or(0);
    let loc = bytecode::Loc::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    );
    let diag = bytecode::Diagnostic::new(
        loc,
        format!("the file is not UTF-8 text (invalid byte 0x{bad:02X})"),
    );
    // The shown line has the bad byte replaced by U+FFFD, one character, so the caret lines up.
    Err(diag.render(display_name, Some(&String::from_utf8_lossy(&bytes))))
}

/// Reads, parses (or decodes) and verifies `path`.
pub(crate) fn load(path: &Path) -> Result<Loaded, CliError> {
    let display_name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CliError::Unreadable {
        path: display_name.clone(),
        err: e,
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "module".into());
    let (module, source) = if is_binary(&bytes, path) {
        let m = bytecode::decode(&bytes)
            .map_err(|e| CliError::Invalid(format!("{display_name}: error: {e}\n")))?;
        (m, None)
    } else {
        let text = utf8_source(bytes, &display_name).map_err(CliError::Invalid)?;
        let m = bytecode::parse(&text, &stem)
            .map_err(|d| CliError::Invalid(d.render(&display_name, Some(&text))))?;
        (m, Some(text))
    };
    bytecode::verify(&module)
        .map_err(|d| CliError::Invalid(d.render(&display_name, source.as_deref())))?;
    Ok(Loaded {
        module,
        source,
        display_name,
    })
}
