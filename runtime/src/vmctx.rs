//! The VM context: the one structure compiled code reads its world from (memory, the table of
//! entry points, output, stack limit) and records traps into. Its layout is shared by codegen,
//! the JIT host and the AOT runtime, so it is `#[repr(C)]` and only grows at the end.
//!
//! Traps unwind without signals or longjmp: the trapping function records the trap and returns;
//! every caller checks `trap` after each call, adds its own frame to the backtrace and returns
//! too, so a trap comes out of every tier the same way, as a value.

use crate::out::Output;
use crate::trap::TrapCode;
use core::ffi::c_void;

/// Frames kept in a trap's backtrace (innermost first); deeper frames are counted only.
pub const BACKTRACE_LEN: usize = 64;

/// `VmCtx::trap` value for `exit` (not a trap: it unwinds the same way but ends cleanly).
pub const TRAP_EXIT: u32 = 255;

/// One backtrace frame: the function's index in the module and the `.sil` line.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BtFrame {
    pub func: u32,
    pub line: u32,
}

#[repr(C)]
pub struct VmCtx {
    /// Linear memory: `mem_size` bytes at `mem_base` (dangling but non-null when empty).
    pub mem_base: *mut u8,
    pub mem_size: u64,
    pub max_pages: u64,
    /// The table every call goes through: one code pointer per function (tail convention).
    pub funcs: *const *const u8,
    /// The signature id of each function, compared by `calli`.
    pub func_sigs: *const u32,
    pub num_funcs: u64,
    pub out: *mut Output,
    /// Compiled code traps `stack overflow` when the stack pointer drops below this.
    pub stack_limit: usize,
    /// 0 while running; a `TrapCode` or `TRAP_EXIT` once unwinding.
    pub trap: u32,
    pub exit_status: i32,
    /// Points at a 32-bit flag (an `AtomicU32` the host shares with other threads); non-zero
    /// asks running code to stop with `TrapCode::Interrupted`. Read only by code compiled
    /// with interrupts enabled, which then requires it to be non-null.
    pub interrupt: *const u32,
    /// Frames recorded in `backtrace` so far, and frames seen in all.
    pub bt_len: u32,
    pub bt_total: u64,
    pub backtrace: [BtFrame; BACKTRACE_LEN],
    /// The host's own state (the JIT instance); null in AOT code.
    pub host: *mut c_void,
}

impl VmCtx {
    pub const fn empty() -> VmCtx {
        VmCtx {
            mem_base: core::ptr::NonNull::<u8>::dangling().as_ptr(),
            mem_size: 0,
            max_pages: 0,
            funcs: core::ptr::null(),
            func_sigs: core::ptr::null(),
            num_funcs: 0,
            out: core::ptr::null_mut(),
            stack_limit: 0,
            trap: 0,
            exit_status: 0,
            interrupt: core::ptr::null(),
            bt_len: 0,
            bt_total: 0,
            backtrace: [BtFrame { func: 0, line: 0 }; BACKTRACE_LEN],
            host: core::ptr::null_mut(),
        }
    }

    /// Clears the trap state before a new call in.
    pub fn reset_trap(&mut self) {
        self.trap = 0;
        self.exit_status = 0;
        self.bt_len = 0;
        self.bt_total = 0;
    }

    /// Records a frame on the way out of a trap.
    pub fn push_frame(&mut self, func: u32, line: u32) {
        if let Some(slot) = self.backtrace.get_mut(self.bt_len as usize) {
            *slot = BtFrame { func, line };
            self.bt_len += 1;
        }
        self.bt_total += 1;
    }

    /// The recorded frames, innermost first.
    pub fn frames(&self) -> &[BtFrame] {
        self.backtrace.get(..self.bt_len as usize).unwrap_or(&[])
    }

    pub fn trap_code(&self) -> Option<TrapCode> {
        TrapCode::from_u32(self.trap)
    }
}

/// Byte offsets of the fields compiled code touches.
pub mod offsets {
    use super::VmCtx;
    use core::mem::offset_of;
    pub const MEM_BASE: i32 = offset_of!(VmCtx, mem_base) as i32;
    pub const MEM_SIZE: i32 = offset_of!(VmCtx, mem_size) as i32;
    pub const FUNCS: i32 = offset_of!(VmCtx, funcs) as i32;
    pub const FUNC_SIGS: i32 = offset_of!(VmCtx, func_sigs) as i32;
    pub const NUM_FUNCS: i32 = offset_of!(VmCtx, num_funcs) as i32;
    pub const OUT: i32 = offset_of!(VmCtx, out) as i32;
    pub const STACK_LIMIT: i32 = offset_of!(VmCtx, stack_limit) as i32;
    pub const TRAP: i32 = offset_of!(VmCtx, trap) as i32;
    pub const INTERRUPT: i32 = offset_of!(VmCtx, interrupt) as i32;
}

/// Called by compiled code where a trap (or `exit`) starts: records it and the first frame.
///
/// # Safety
/// `ctx` must point to a live `VmCtx`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_trap_begin(ctx: *mut VmCtx, code: u32, func: u32, line: u32) {
    // SAFETY: compiled code passes its own vmctx, which the host keeps alive during the call.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return;
    };
    ctx.bt_len = 0;
    ctx.bt_total = 0;
    ctx.trap = code;
    if code != TRAP_EXIT {
        ctx.push_frame(func, line);
    }
}

/// Called by compiled code after a call that returned with a trap pending: adds the caller's
/// frame (exits record none).
///
/// # Safety
/// `ctx` must point to a live `VmCtx`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_trap_frame(ctx: *mut VmCtx, func: u32, line: u32) {
    // SAFETY: as in `vsp_trap_begin`.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return;
    };
    if ctx.trap != TRAP_EXIT {
        ctx.push_frame(func, line);
    }
}

/// `exit a`: records the status and starts unwinding.
///
/// # Safety
/// `ctx` must point to a live `VmCtx`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_exit(ctx: *mut VmCtx, status: i64) {
    // SAFETY: as in `vsp_trap_begin`.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return;
    };
    ctx.bt_len = 0;
    ctx.bt_total = 0;
    ctx.trap = TRAP_EXIT;
    ctx.exit_status = (status & 255) as i32;
}

/// The runtime's output for compiled code (`vsp_out_*` take it).
///
/// # Safety
/// `ctx` must point to a live `VmCtx`.
pub unsafe fn output_of(ctx: *mut VmCtx) -> *mut Output {
    // SAFETY: the caller guarantees `ctx` is live.
    unsafe { ctx.as_ref().map_or(core::ptr::null_mut(), |c| c.out) }
}
