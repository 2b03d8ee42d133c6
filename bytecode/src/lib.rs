//! The vsp bytecode: module model, `.sil` text format, `.silc` binary codec, verifier and builder.

mod binary;
mod builder;
mod diag;
mod mnemonic;
mod model;
pub mod text;
pub mod types;
mod verify;

pub use binary::{DecodeError, decode, encode};
pub use builder::*;
pub use diag::{Diagnostic, Diagnostics};
pub use mnemonic::mnemonic;
pub use model::*;
pub use text::{parse, parse_into, parse_literal, print};
pub use verify::verify;
