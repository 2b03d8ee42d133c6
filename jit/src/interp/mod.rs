//! The reference interpreter: decode once into dispatch-ready ops, then run them on flat frames.

mod code;
mod decode;
mod exec;
mod inline;
mod threaded;

pub(crate) use decode::LoopInfo;
pub use decode::{DecodeOptions, Program};
pub(crate) use exec::{ArrayFn, HotCode, TierHooks};
pub use exec::{Completion, Env, HostFn, MAX_DEPTH, Vm};
