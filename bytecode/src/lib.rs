//! The vsp bytecode: module model, `.sil` text format, `.silc` binary codec, verifier and builder.

mod diag;
mod mnemonic;
mod model;
pub mod text;
pub mod types;

pub use diag::{Diagnostic, Diagnostics};
pub use mnemonic::mnemonic;
pub use model::*;
pub use text::{parse, print};
