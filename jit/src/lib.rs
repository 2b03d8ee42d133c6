//! In-process engines behind one embedding API: the reference interpreter and the Cranelift JIT.

mod host;
mod instance;
pub mod interp;
mod io;
mod native;
mod stack;
mod trap;

pub use instance::{
    CallError, Config, EngineKind, HostFunc, Instance, InterruptHandle, Linker, LoadError, Stats,
    Value,
};
pub use interp::Completion;
pub use io::{Io, OutputMode, clock_ns};
pub use native::FuncStats;
pub use trap::{FrameInfo, Trap, TrapCode};
