//! In-process engines behind one embedding API: the reference interpreter (`interp/`), the
//! Cranelift JIT (`native/`), and the tiered engine that joins them (`tier/`).

mod instance;
pub mod interp;
mod io;
mod native;
mod profile;
mod tier;
mod trap;

pub use instance::{
    CallError, Config, EngineKind, HostFunc, Instance, InterruptHandle, Linker, LoadError, Stats,
    Value,
};
pub use interp::Completion;
pub use io::{Io, OutputMode, clock_ns};
pub use native::{
    CacheStats, FuncStats, ObserveError, clear_dir as clear_cache_dir, default_cache_dir,
    dir_usage as cache_dir_usage, jitdump_path, perf_map_path,
};
pub use profile::{FuncProfile, LoopProfile, Profile};
pub use tier::{TierConfig, TierStats};
pub use trap::{FrameInfo, Trap, TrapCode};
