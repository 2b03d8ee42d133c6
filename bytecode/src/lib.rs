//! The vsp bytecode: module model, `.sil` text format, `.silc` binary codec, verifier and builder.

mod diag;
mod model;
pub mod types;

pub use diag::{Diagnostic, Diagnostics};
pub use model::*;
