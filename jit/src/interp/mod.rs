//! The reference interpreter: decode once into dispatch-ready ops, then run them on flat frames.

mod code;
mod decode;
mod exec;

pub use decode::Program;
#[allow(unused_imports)] // used by the JIT tier once it lands
pub(crate) use decode::{func_of_handle, handle_of};
pub use exec::{Completion, Env, HostFn, MAX_DEPTH, Memory, Vm};
