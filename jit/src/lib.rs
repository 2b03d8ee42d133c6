//! In-process engines: the reference interpreter, and (later) the Cranelift JIT and tiering.

pub mod interp;
mod io;
mod trap;

pub use io::{Io, OutputMode, clock_ns};
pub use trap::{FrameInfo, Trap, TrapCode};
