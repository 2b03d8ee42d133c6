//! Ahead-of-time backend: ELF objects, C headers and native executables from the same codegen the JIT uses.
//!
//! `compile` turns a verified module into an object for a [`Target`]; [`header`] writes its C
//! header; [`link_executable`] links an executable object with the runtime archive, which is
//! built from the `runtime` crate when `vsp` is built and embedded in it
//! ([`Target::runtime_archive`]). `docs/aot.md` describes the layout of what is produced.

mod debug;
mod header;
mod link;
mod object;
mod target;

/// Sources shared with the runtime archive (`rtlib` includes them by path): the module record
/// the emitter lays out, and the argument parser, tested here against `vsp run`'s.
pub(crate) mod rt {
    #[cfg(test)]
    pub mod args;
    // The runtime reads fields the emitter never names.
    #[allow(dead_code)]
    pub mod layout;
}

pub use header::header;
pub use link::{link_executable, link_executable_with};
pub use object::{Compiled, Listings, ObjectKind, c_module_name, compile, compile_with_debug};
pub use target::Target;

/// Errors of building: bad requests, missing tools, and (for verified input, bugs) Cranelift's.
#[derive(Debug, thiserror::Error)]
pub enum AotError {
    #[error(
        "unsupported target `{0}`: vsp builds for x86_64-unknown-linux-gnu and aarch64-unknown-linux-gnu"
    )]
    UnsupportedTarget(String),
    #[error(
        "this vsp was built without the runtime for {target}: install the Rust target (`rustup target add {target}`), then rebuild vsp"
    )]
    NoRuntime { target: String },
    #[error("cannot link for {target}: the C compiler `{cc}` is not installed; {hint}")]
    NoLinker {
        target: String,
        cc: String,
        hint: String,
    },
    #[error("linking with `{cc}` failed ({status}):\n{stderr}")]
    LinkFailed {
        cc: String,
        status: String,
        stderr: String,
    },
    #[error(
        "the module has no `main` function, so it cannot be built as an executable (it is a library: use `--emit obj,header`)"
    )]
    NoMain,
    #[error(
        "the module needs extern `{0}`, which an executable cannot provide: build an object and a header (`--emit obj,header`) and link them with C code that defines it"
    )]
    NeedsExtern(String),
    #[error(
        "exported function `{0}` would clash with a symbol of the module's object or of the runtime (`vsp_*`); rename it"
    )]
    SymbolClash(String),
    #[error("cannot set up code generation for {target}: {message}")]
    Isa { target: String, message: String },
    #[error("{0}")]
    Codegen(Box<codegen::CodegenError>),
    #[error("cranelift rejected function `{func}`: {message}")]
    Cranelift { func: String, message: String },
    #[error("cranelift module error: {0}")]
    Module(Box<cranelift_module::ModuleError>),
    #[error("cannot write the object file: {0}")]
    Object(String),
    #[error("`{path}`: {err}")]
    Io { path: String, err: std::io::Error },
}

// Boxed: Cranelift's errors are large, and every function here returns `Result<_, AotError>`.
impl From<codegen::CodegenError> for AotError {
    fn from(e: codegen::CodegenError) -> AotError {
        AotError::Codegen(Box::new(e))
    }
}

impl From<cranelift_module::ModuleError> for AotError {
    fn from(e: cranelift_module::ModuleError) -> AotError {
        AotError::Module(Box::new(e))
    }
}

impl AotError {
    /// True when the error means a tool or target support is missing on this machine (rather
    /// than something wrong with the module or a bug).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            AotError::NoRuntime { .. } | AotError::NoLinker { .. } | AotError::LinkFailed { .. }
        )
    }
}

/// Checks that `bc` can become an executable: it has `main` and needs no extern.
pub fn check_executable(bc: &bytecode::Module) -> Result<(), AotError> {
    if bc.find_func("main").is_none() {
        return Err(AotError::NoMain);
    }
    if let Some(e) = bc.externs.first() {
        return Err(AotError::NeedsExtern(e.name.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
