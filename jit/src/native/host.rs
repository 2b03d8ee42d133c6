//! What JIT code calls back into: the runtime helpers (registered by name), and the host side of
//! `extern func` calls and `getc`, which need the instance's own state.

use super::SharedCode;
use crate::interp::HostFn;
use crate::io::Io;
use runtime::VmCtx;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// `VmCtx::trap` value for "a function could not be compiled": unwinds like a trap, but is
/// reported as an internal error of vsp, never as the program's trap.
pub(crate) const TRAP_COMPILE_ERROR: u32 = 254;

/// The instance state host callbacks reach through `VmCtx::host`.
pub(crate) struct HostState {
    pub io: Io,
    pub hosts: Vec<HostFn>,
    /// Parameter count of each extern, to slice the argument array.
    pub extern_arity: Vec<usize>,
    /// Set when a host function panicked (reported as a trap, never unwound through JIT code).
    pub host_panicked: bool,
    /// The instance's native code and module, for `vsp_jit_compile`.
    pub native: Option<SharedCode>,
    pub module: Option<Arc<bytecode::Module>>,
    /// Why the last `TRAP_COMPILE_ERROR` happened.
    pub compile_error: Option<String>,
}

/// `vsp_host_call(vmctx, extern_index, args, ret) -> 0 | trap`: runs a host function.
extern "C" fn host_call(ctx: *mut VmCtx, idx: u32, args: *const u64, ret: *mut u64) -> u32 {
    // SAFETY: JIT code passes its own vmctx, whose `host` the instance set to its live
    // `HostState` for the duration of the call; nothing else touches either meanwhile.
    let (ctx, state) = unsafe {
        let host = (*ctx).host as *mut HostState;
        (&mut *ctx, &mut *host)
    };
    let n = state.extern_arity.get(idx as usize).copied().unwrap_or(0);
    // SAFETY: codegen passes an array with one 8-byte slot per parameter of this extern.
    let argv = unsafe { std::slice::from_raw_parts(args, n) };
    let Some(f) = state.hosts.get_mut(idx as usize) else {
        ctx.trap = runtime::TrapCode::InvalidFunctionHandle as u32;
        return ctx.trap;
    };
    // A panic must not unwind through JIT frames: catch it and report it as a trap.
    match std::panic::catch_unwind(AssertUnwindSafe(|| f(argv))) {
        Ok(Ok(v)) => {
            // SAFETY: codegen passes a writable 8-byte slot for the result.
            unsafe { *ret = v };
            0
        }
        Ok(Err(trap)) => {
            ctx.bt_len = 0;
            ctx.bt_total = 0;
            ctx.trap = trap.code as u32;
            ctx.trap
        }
        Err(_) => {
            state.host_panicked = true;
            ctx.bt_len = 0;
            ctx.bt_total = 0;
            ctx.trap = runtime::TrapCode::Unreachable as u32;
            ctx.trap
        }
    }
}

/// `vsp_jit_compile(vmctx, index) -> entry`: compiles function `index`, reached by a call
/// before anything compiled it, and returns its table entry; null, with the trap word set to
/// `TRAP_COMPILE_ERROR`, if that fails.
extern "C" fn jit_compile(ctx: *mut VmCtx, index: i64) -> *const u8 {
    // SAFETY: as in `host_call`. Compiling adds code to the JIT module without moving existing
    // code or the table the context points at (only a redefinition replaces it, and none runs
    // during a call).
    let (ctx, state) = unsafe {
        let host = (*ctx).host as *mut HostState;
        (&mut *ctx, &mut *host)
    };
    let i = index as usize;
    // A panic must not unwind through JIT frames (it would abort): report it as an error.
    let compiled = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let (Some(code), Some(module)) = (&state.native, &state.module) else {
            return Err("no native code to compile into".to_string());
        };
        let mut guard = code.lock().unwrap_or_else(|e| e.into_inner());
        let Some(code) = guard.as_mut() else {
            return Err("no native code to compile into".to_string());
        };
        code.ensure(module, i).map_err(|e| e.to_string())?;
        Ok(code.entry(i))
    }));
    let error = match compiled {
        Ok(Ok(entry)) if !entry.is_null() => return entry,
        Ok(Ok(_)) => format!("function {i} has no code after compiling it"),
        Ok(Err(e)) => e,
        Err(_) => "the compiler panicked".to_string(),
    };
    state.compile_error = Some(error);
    ctx.bt_len = 0;
    ctx.bt_total = 0;
    ctx.trap = TRAP_COMPILE_ERROR;
    std::ptr::null()
}

/// `vsp_getc(vmctx)`: reads through the instance's `Io` (so tests and embedders can feed input).
extern "C" fn jit_getc(ctx: *mut VmCtx) -> i64 {
    // SAFETY: as in `host_call`.
    let state = unsafe { &mut *((*ctx).host as *mut HostState) };
    state.io.getc()
}

/// Every symbol JIT code may import, with the address that resolves it.
pub(crate) fn symbols() -> Vec<(&'static str, *const u8)> {
    use runtime::{math, mem, out, sil, sys, vmctx};
    macro_rules! syms {
        ($($module:ident :: $f:ident),* $(,)?) => {
            vec![$((stringify!($f), $module::$f as *const u8)),*]
        };
    }
    let mut v = syms![
        vmctx::vsp_trap_begin,
        vmctx::vsp_trap_frame,
        vmctx::vsp_exit,
        mem::vsp_mem_grow,
        mem::vsp_mem_copy,
        mem::vsp_mem_fill,
        mem::vsp_mem_write,
        sys::vsp_clock_ns,
        out::vsp_out_print_i64,
        out::vsp_out_print_f64,
        out::vsp_out_print_sil,
        out::vsp_out_newline,
        out::vsp_out_putc,
        math::vsp_f64_sin,
        math::vsp_f64_cos,
        math::vsp_f64_tan,
        math::vsp_f64_asin,
        math::vsp_f64_acos,
        math::vsp_f64_atan,
        math::vsp_f64_exp,
        math::vsp_f64_ln,
        math::vsp_f64_log10,
        math::vsp_f64_atan2,
        math::vsp_f64_pow,
        math::vsp_f64_hypot,
        math::vsp_f64_fmod,
        sil::vsp_sil_add,
        sil::vsp_sil_sub,
        sil::vsp_sil_pow,
        sil::vsp_sil_root,
        sil::vsp_sil_lerp,
        sil::vsp_sil_from,
        sil::vsp_sil_re,
        sil::vsp_sil_im,
        sil::vsp_sil_abs,
        sil::vsp_sil_arg,
    ];
    v.push(("vsp_host_call", host_call as *const u8));
    v.push(("vsp_getc", jit_getc as *const u8));
    v.push(("vsp_jit_compile", jit_compile as *const u8));
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_helper_codegen_imports_is_registered() {
        let have: Vec<&str> = super::symbols().iter().map(|s| s.0).collect();
        for name in codegen::helper_names() {
            assert!(have.contains(&name), "JIT does not register `{name}`");
        }
    }
}
