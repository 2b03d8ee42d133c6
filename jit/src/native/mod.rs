//! The native tier: Cranelift code in memory, the stack it runs on, and the host side that
//! compiled code calls back into.

mod cache;
mod code;
mod gdb;
mod host;
mod observe;
mod stack;

pub use cache::{CacheStats, DEFAULT_MAX_BYTES, clear_dir, default_cache_dir, dir_usage};
pub use code::FuncStats;
pub(crate) use code::{CodeTable, NativeCode};
pub(crate) use host::{HostState, TRAP_COMPILE_ERROR};
pub(crate) use observe::Observe;
pub use observe::{ObserveError, jitdump_path, perf_map_path};
pub(crate) use stack::NativeStack;

use std::sync::{Arc, Mutex};

/// An instance's native code, shared with `vsp_jit_compile` (which compiles into it while
/// native code runs) and, in the tiered engine, with the background compiler. `None` until the
/// tiered engine first needs it (setting up a JIT module costs more than a short program runs).
pub(crate) type SharedCode = Arc<Mutex<Option<NativeCode>>>;
