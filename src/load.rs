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
        let text = String::from_utf8(bytes).map_err(|e| {
            CliError::Invalid(format!(
                "{display_name}: error: the file is not UTF-8 text (invalid byte at offset {})\n",
                e.utf8_error().valid_up_to()
            ))
        })?;
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
