//! The `#[repr(C)]` record each AOT object hands the runtime archive, shared by the emitter and the archive.
//!
//! Compiled into two crates: `aot` (which lays the record out in the object's data, using the
//! offsets below) and the runtime archive `vsprt` (which reads it). Both targets are LP64, so the
//! layout is the same for x86_64 and aarch64.

use core::ffi::c_char;
use runtime::VmCtx;

/// One `data` segment of the module, in source order (a later one wins where they overlap).
#[repr(C)]
pub struct Segment {
    pub offset: u64,
    pub len: u64,
    pub bytes: *const u8,
}

/// `main` parameter type codes in [`AotModule::main_param_types`].
pub const ARG_I64: u8 = 0;
pub const ARG_F64: u8 = 1;

/// [`AotModule::state`]: not yet initialised / memory allocated and data copied.
pub const STATE_NEW: u32 = 0;
pub const STATE_READY: u32 = 1;

/// Everything the runtime needs to know about one compiled module. Lives in the object's
/// writable data under a local symbol (`MODULE::vsp_module`); the fields from `state` on start
/// zeroed and belong to the runtime.
#[repr(C)]
pub struct AotModule {
    /// The module's own VM context (a local symbol of the object).
    pub vmctx: *mut VmCtx,
    /// NUL-terminated module name.
    pub name: *const c_char,
    /// NUL-terminated name of each function, by index, for backtraces.
    pub func_names: *const *const c_char,
    pub num_funcs: u64,
    pub segments: *const Segment,
    pub num_segments: u64,
    pub min_pages: u64,
    pub max_pages: u64,
    /// `main`'s array trampoline `extern "C" fn(vmctx, args, ret)`, or null without `main`.
    pub main_entry: *const u8,
    /// NUL-terminated `main(n: i64) -> i64`, for usage messages.
    pub main_sig: *const c_char,
    /// One `ARG_*` code and one NUL-terminated name per parameter of `main`.
    pub main_param_types: *const u8,
    pub main_param_names: *const *const c_char,
    pub main_num_params: u64,
    /// Non-zero if `main` returns a value (its low byte is the exit status).
    pub main_returns: u64,
    /// `STATE_NEW` until the first call initialises the module.
    pub state: u32,
    /// Calls from C into this module currently running (re-entry through an extern counts).
    pub depth: u32,
    /// The top of the stack the current `VmCtx::stack_limit` was computed for.
    pub stack_hi: usize,
}

/// Byte offsets of the fields the emitter fills in.
pub mod offsets {
    use super::AotModule;
    use core::mem::offset_of;
    pub const VMCTX: usize = offset_of!(AotModule, vmctx);
    pub const NAME: usize = offset_of!(AotModule, name);
    pub const FUNC_NAMES: usize = offset_of!(AotModule, func_names);
    pub const NUM_FUNCS: usize = offset_of!(AotModule, num_funcs);
    pub const SEGMENTS: usize = offset_of!(AotModule, segments);
    pub const NUM_SEGMENTS: usize = offset_of!(AotModule, num_segments);
    pub const MIN_PAGES: usize = offset_of!(AotModule, min_pages);
    pub const MAX_PAGES: usize = offset_of!(AotModule, max_pages);
    pub const MAIN_ENTRY: usize = offset_of!(AotModule, main_entry);
    pub const MAIN_SIG: usize = offset_of!(AotModule, main_sig);
    pub const MAIN_PARAM_TYPES: usize = offset_of!(AotModule, main_param_types);
    pub const MAIN_PARAM_NAMES: usize = offset_of!(AotModule, main_param_names);
    pub const MAIN_NUM_PARAMS: usize = offset_of!(AotModule, main_num_params);
    pub const MAIN_RETURNS: usize = offset_of!(AotModule, main_returns);
    pub const SIZE: usize = core::mem::size_of::<AotModule>();
}

/// Byte offsets inside a [`Segment`].
pub mod segment_offsets {
    use super::Segment;
    use core::mem::offset_of;
    pub const OFFSET: usize = offset_of!(Segment, offset);
    pub const LEN: usize = offset_of!(Segment, len);
    pub const BYTES: usize = offset_of!(Segment, bytes);
    pub const SIZE: usize = core::mem::size_of::<Segment>();
}
