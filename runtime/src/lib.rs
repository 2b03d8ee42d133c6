//! C-ABI runtime helpers shared by every engine: ByteSil math, number formatting, buffered output, traps.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

// Tests compare against std and libc's printf; the library itself stays core-only so it can be
// archived into native executables that link nothing but the C library.
#[cfg(test)]
extern crate std;

pub mod fmt;
mod libm;
pub mod math;
pub mod mem;
pub mod out;
pub mod sil;
pub mod sys;
pub mod trap;
pub mod vmctx;

pub use out::Output;
pub use trap::TrapCode;
pub use vmctx::VmCtx;
