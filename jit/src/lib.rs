//! In-process engines: the reference interpreter, and (later) the Cranelift JIT and tiering.

mod host;
pub mod interp;
mod io;
mod native;
mod trap;

pub use io::{Io, OutputMode, clock_ns};
pub use native::FuncStats;
pub use trap::{FrameInfo, Trap, TrapCode};
