//! The vsp runtime archive (`libvsprt.a`): the `runtime` crate's helpers plus the glue AOT objects call to initialise modules, report traps and run `main`.
//!
//! Every symbol compiled code imports comes from `runtime` (re-exported by linking it in); the
//! functions here are the entry and exit protocol of the C wrappers an AOT object contains:
//!
//! - `vsp_aot_enter(module)` before a call from C: initialises the module on first use (memory,
//!   data segments, output), clears the trap state and sets the stack limit for this thread.
//! - `vsp_aot_leave(module) -> u32` after it: flushes the output when the outermost call ends;
//!   on `exit` flushes and ends the process; on a trap calls the trap handler (default: print
//!   `error: trap: MESSAGE` and a backtrace, exit 70) and returns 1 if the handler returned.
//! - `vsp_aot_main(argc, argv, module)`: a built executable's `main`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../../src/rt/args.rs"]
mod args;
// Shared with the emitter, which uses the parts the runtime does not.
#[allow(dead_code)]
#[path = "../../src/rt/layout.rs"]
mod layout;

use core::ffi::{CStr, c_char, c_int, c_void};
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};
use layout::{ARG_F64, AotModule, STATE_READY};
use runtime::out::vsp_out_fd_sink;
use runtime::vmctx::TRAP_EXIT;
use runtime::{Output, TrapCode, VmCtx};

unsafe extern "C" {
    fn abort() -> !;
    fn exit(status: c_int) -> !;
    fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    fn calloc(n: usize, size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
    fn pthread_self() -> PthreadT;
    fn pthread_getattr_np(thread: PthreadT, attr: *mut PthreadAttr) -> c_int;
    fn pthread_attr_init(attr: *mut PthreadAttr) -> c_int;
    fn pthread_attr_destroy(attr: *mut PthreadAttr) -> c_int;
    fn pthread_attr_getstack(
        attr: *const PthreadAttr,
        addr: *mut *mut c_void,
        size: *mut usize,
    ) -> c_int;
    fn pthread_attr_setstacksize(attr: *mut PthreadAttr, size: usize) -> c_int;
    fn pthread_create(
        thread: *mut PthreadT,
        attr: *const PthreadAttr,
        start: extern "C" fn(*mut c_void) -> *mut c_void,
        arg: *mut c_void,
    ) -> c_int;
    fn pthread_join(thread: PthreadT, ret: *mut *mut c_void) -> c_int;
}

/// `pthread_t` on Linux (glibc and musl): an unsigned long.
type PthreadT = usize;

/// Storage for a `pthread_attr_t` (56 bytes on x86_64 glibc, 64 on aarch64): 128 is ample.
#[repr(C, align(16))]
struct PthreadAttr([u8; 128]);

/// Stack of the thread a built executable runs `main` on (docs/reference/execution.md: 100,000 frames must fit).
const MAIN_STACK: usize = 512 << 20;
/// Room kept below the stack limit for runtime helpers and the C library.
const STACK_MARGIN: usize = 256 << 10;
/// Exit status when the module's initial memory cannot be allocated (EX_OSERR).
const STATUS_NO_MEMORY: c_int = 71;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: abort has no preconditions.
    unsafe { abort() }
}

/// The one output every module in the process prints to (so output keeps its order).
static mut STDOUT: Output = Output::new(vsp_out_fd_sink, core::ptr::without_provenance_mut(1));

/// The installed trap handler (`void (*)(int, const char *)`), or 0 for the default.
static TRAP_HANDLER: AtomicUsize = AtomicUsize::new(0);

type TrapHandler = extern "C" fn(c_int, *const c_char);

/// Installs the function called when code called from C traps; null restores the default
/// (print `error: trap: MESSAGE` and a backtrace to stderr, exit with status 70). When the
/// handler returns, the trapping call returns 0 to its C caller.
#[unsafe(no_mangle)]
pub extern "C" fn vsp_set_trap_handler(handler: Option<TrapHandler>) {
    TRAP_HANDLER.store(handler.map_or(0, |f| f as usize), Ordering::SeqCst);
}

/// Writes everything the modules printed so far to standard output.
#[unsafe(no_mangle)]
pub extern "C" fn vsp_flush() {
    let out = &raw mut STDOUT;
    // SAFETY: STDOUT is only touched from the thread running module code (modules are not
    // thread-safe, as documented), so this is the only reference to it while it lives.
    unsafe { (*out).flush() };
}

/// A `core::fmt::Write` straight to a file descriptor (stderr), unbuffered.
struct Fd(c_int);

impl Write for Fd {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let mut b = s.as_bytes();
        while !b.is_empty() {
            // SAFETY: `b` is a valid byte slice for the duration of the call.
            let n = unsafe { write(self.0, b.as_ptr().cast(), b.len()) };
            if n <= 0 {
                return Err(core::fmt::Error);
            }
            b = b.get(n as usize..).unwrap_or_default();
        }
        Ok(())
    }
}

/// A NUL-terminated string from the object as text (`?` if absent or not UTF-8).
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string that lives for `'a`.
unsafe fn cstr<'a>(p: *const c_char) -> &'a str {
    if p.is_null() {
        return "?";
    }
    // SAFETY: per the contract, `p` is a NUL-terminated string in the object's read-only data.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?")
}

/// The name of function `index` of the module.
///
/// # Safety
/// `m` must describe a module emitted by `vsp build` (its name table has `num_funcs` entries).
unsafe fn func_name(m: &AotModule, index: u32) -> &str {
    if u64::from(index) >= m.num_funcs || m.func_names.is_null() {
        return "?";
    }
    // SAFETY: the index is inside the table of `num_funcs` string pointers.
    unsafe { cstr(*m.func_names.add(index as usize)) }
}

/// An approximation of the stack pointer: the address of a local.
#[inline(never)]
fn stack_pointer() -> usize {
    let marker = 0u8;
    core::hint::black_box(&marker) as *const u8 as usize
}

/// The bounds `(low, high)` of the calling thread's stack, if the C library knows them.
fn thread_stack() -> Option<(usize, usize)> {
    let mut attr = PthreadAttr([0; 128]);
    let mut addr: *mut c_void = core::ptr::null_mut();
    let mut size = 0usize;
    // SAFETY: `attr` is large and aligned enough for a pthread_attr_t; pthread_getattr_np
    // initialises it, and it is destroyed after use. `addr` and `size` are valid out-pointers.
    unsafe {
        if pthread_getattr_np(pthread_self(), &mut attr) != 0 {
            return None;
        }
        let rc = pthread_attr_getstack(&attr, &mut addr, &mut size);
        pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return None;
        }
    }
    let low = addr as usize;
    Some((low, low.checked_add(size)?))
}

/// Sets the context's stack limit for the calling thread, reusing the last one when the
/// stack pointer lies in the same stack.
fn set_stack_limit(m: &mut AotModule, ctx: &mut VmCtx) {
    let sp = stack_pointer();
    if sp > ctx.stack_limit && sp <= m.stack_hi {
        return;
    }
    match thread_stack() {
        Some((low, high)) if sp > low && sp <= high => {
            ctx.stack_limit = low.saturating_add(STACK_MARGIN);
            m.stack_hi = high;
        }
        // Unknown bounds: assume the 8 MiB a Linux main thread gets by default.
        _ => {
            ctx.stack_limit = sp.saturating_sub((8 << 20) - STACK_MARGIN);
            m.stack_hi = sp;
        }
    }
}

/// Allocates the module's memory and copies its data segments, once. Exits the process with
/// a message if the memory cannot be allocated.
///
/// # Safety
/// `m` must describe a module emitted by `vsp build`.
unsafe fn init(m: &mut AotModule) {
    if m.state == STATE_READY {
        return;
    }
    // SAFETY: `vmctx` points to the module's own context in the object's writable data; no
    // code of the module runs yet.
    let ctx = unsafe { &mut *m.vmctx };
    // SAFETY: the context owns no memory yet.
    if !unsafe { runtime::mem::vsp_mem_init(ctx, m.min_pages, m.max_pages) } {
        let _ = writeln!(
            Fd(2),
            "error: cannot allocate the initial memory of module `{}` ({} pages of 64 KiB)",
            // SAFETY: the name is a NUL-terminated string of the object.
            unsafe { cstr(m.name) },
            m.min_pages
        );
        // SAFETY: exit has no preconditions.
        unsafe { exit(STATUS_NO_MEMORY) };
    }
    for i in 0..m.num_segments as usize {
        // SAFETY: the segment table has `num_segments` entries.
        let seg = unsafe { &*m.segments.add(i) };
        let (Ok(off), Ok(len)) = (i64::try_from(seg.offset), i64::try_from(seg.len)) else {
            continue;
        };
        // Verified to fit the initial memory; checked again rather than trusted.
        if let Some((start, n)) = runtime::mem::range(off, len, ctx.mem_size) {
            // SAFETY: `[start, start + n)` lies inside the memory just allocated, and the
            // segment's bytes are `len` bytes of the object's read-only data.
            unsafe { core::ptr::copy_nonoverlapping(seg.bytes, ctx.mem_base.add(start), n) };
        }
    }
    ctx.out = &raw mut STDOUT;
    m.state = STATE_READY;
}

/// Called by an export wrapper before the body runs.
///
/// # Safety
/// `m` must point to the module record of an object emitted by `vsp build`; calls into one
/// module must not run on several threads at once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_aot_enter(m: *mut AotModule) {
    // SAFETY: per the contract.
    let m = unsafe { &mut *m };
    // SAFETY: as above.
    unsafe { init(m) };
    // SAFETY: the module's context, not otherwise borrowed between calls.
    let ctx = unsafe { &mut *m.vmctx };
    if m.depth == 0 {
        ctx.reset_trap();
        set_stack_limit(m, ctx);
    }
    m.depth = m.depth.saturating_add(1);
}

/// Called by an export wrapper after the body returned: 0 if it completed, 1 if it trapped and
/// the trap handler returned (the wrapper then returns 0). `exit` ends the process here.
///
/// # Safety
/// As for [`vsp_aot_enter`], which must have been called first.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_aot_leave(m: *mut AotModule) -> u32 {
    // SAFETY: per the contract.
    let m = unsafe { &mut *m };
    // SAFETY: as in `vsp_aot_enter`.
    let ctx = unsafe { &mut *m.vmctx };
    m.depth = m.depth.saturating_sub(1);
    let trap = ctx.trap;
    if trap == 0 {
        if m.depth == 0 {
            vsp_flush();
        }
        return 0;
    }
    vsp_flush();
    if trap == TRAP_EXIT {
        // SAFETY: exit has no preconditions.
        unsafe { exit(ctx.exit_status) };
    }
    report_trap(m, ctx);
    ctx.reset_trap();
    1
}

/// Reports the context's pending trap: through the installed handler if there is one (which
/// may return), else on stderr followed by `exit(70)`.
fn report_trap(m: &AotModule, ctx: &VmCtx) {
    let code = TrapCode::from_u32(ctx.trap).unwrap_or(TrapCode::Unreachable);
    let handler = TRAP_HANDLER.load(Ordering::SeqCst);
    if handler != 0 {
        // SAFETY: the value was stored from a `TrapHandler` by `vsp_set_trap_handler`.
        let f = unsafe { core::mem::transmute::<usize, TrapHandler>(handler) };
        f(code.code() as c_int, code.c_message().as_ptr());
        return;
    }
    print_trap(m, ctx, code);
    // SAFETY: exit has no preconditions.
    unsafe { exit(70) };
}

/// `error: trap: MESSAGE` and the backtrace, innermost frame first, as `vsp run` prints them.
fn print_trap(m: &AotModule, ctx: &VmCtx, code: TrapCode) {
    let mut err = Fd(2);
    let _ = writeln!(err, "error: trap: {}", code.message());
    for f in ctx.frames() {
        // SAFETY: `m` is a module record emitted by `vsp build`.
        let name = unsafe { func_name(m, f.func) };
        let _ = if f.line != 0 {
            writeln!(err, "  at {name} (line {})", f.line)
        } else {
            writeln!(err, "  at {name}")
        };
    }
    let more = ctx.bt_total.saturating_sub(u64::from(ctx.bt_len));
    if more > 0 {
        let _ = writeln!(err, "  ... and {more} more frames");
    }
}

/// The module's linear memory (initialising the module on first use).
///
/// # Safety
/// As for [`vsp_aot_enter`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_aot_memory(m: *mut AotModule) -> *mut u8 {
    // SAFETY: per the contract.
    let m = unsafe { &mut *m };
    // SAFETY: as above.
    unsafe {
        init(m);
        (*m.vmctx).mem_base
    }
}

/// The size of the module's linear memory in bytes (initialising the module on first use).
///
/// # Safety
/// As for [`vsp_aot_enter`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_aot_memory_size(m: *mut AotModule) -> usize {
    // SAFETY: per the contract.
    let m = unsafe { &mut *m };
    // SAFETY: as above.
    unsafe {
        init(m);
        (*m.vmctx).mem_size as usize
    }
}

/// What the thread running `main` needs.
struct MainCall {
    m: *mut AotModule,
    args: *const u64,
    ret: u64,
    /// The stack size of the thread (0: running on the caller's own thread).
    stack: usize,
}

type ArrayFn = unsafe extern "C" fn(*mut VmCtx, *const u64, *mut u64);

extern "C" fn run_main(p: *mut c_void) -> *mut c_void {
    // SAFETY: `p` is the `MainCall` of `vsp_aot_main`, which waits for this call to finish.
    let call = unsafe { &mut *(p as *mut MainCall) };
    // SAFETY: the module record outlives the process; `main` runs on this thread only.
    let m = unsafe { &mut *call.m };
    // SAFETY: as above.
    let ctx = unsafe { &mut *m.vmctx };
    ctx.reset_trap();
    let sp = stack_pointer();
    match thread_stack() {
        // The exact bounds of this thread's stack (static TLS and guard pages excluded).
        Some((low, high)) if call.stack != 0 && sp > low && sp <= high => {
            ctx.stack_limit = low.saturating_add(STACK_MARGIN);
            m.stack_hi = high;
        }
        _ if call.stack != 0 => {
            ctx.stack_limit = sp.saturating_sub(call.stack.saturating_sub(STACK_MARGIN));
            m.stack_hi = sp;
        }
        _ => set_stack_limit(m, ctx),
    }
    m.depth = 1;
    // SAFETY: `main_entry` is the array trampoline of `main` (checked non-null by the caller):
    // it reads one slot per parameter from `args` and writes at most one slot to `ret`.
    unsafe {
        let f = core::mem::transmute::<*const u8, ArrayFn>(m.main_entry);
        f(m.vmctx, call.args, &mut call.ret);
    }
    m.depth = 0;
    core::ptr::null_mut()
}

/// A built executable's `main`: reads `argv[1..]` as `main`'s parameters (the literal rules of
/// `vsp run`; status 2 with a usage message when they do not fit), runs `main` on a thread with
/// a 512 MiB stack, flushes the output and returns the exit status: `main`'s result & 255, 0 if
/// it returns nothing, `exit`'s status, or 70 after printing a trap.
///
/// # Safety
/// `argv` must hold `argc` NUL-terminated strings, as C's `main` receives them; `m` must be the
/// record of a module with `main`, emitted by `vsp build`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_aot_main(
    argc: c_int,
    argv: *const *const c_char,
    m: *mut AotModule,
) -> c_int {
    // SAFETY: per the contract.
    let md = unsafe { &mut *m };
    if md.main_entry.is_null() {
        let _ = writeln!(Fd(2), "error: the module has no `main` function");
        return 65;
    }
    let n = md.main_num_params as usize;
    let given = usize::try_from(argc).unwrap_or(0).saturating_sub(1);
    // SAFETY: the signature is a NUL-terminated string of the object.
    let sig = unsafe { cstr(md.main_sig) };
    if given != n {
        let _ = writeln!(
            Fd(2),
            "error: `main` takes {n} argument{} ({sig}), {given} given",
            if n == 1 { "" } else { "s" }
        );
        return 2;
    }
    // SAFETY: calloc has no preconditions; at least one slot so the pointer is never dangling.
    let slots = unsafe { calloc(n.max(1), 8) } as *mut u64;
    if slots.is_null() {
        return STATUS_NO_MEMORY;
    }
    for i in 0..n {
        // SAFETY: `argv` has `argc` entries (`n + 1`); the tables have `n` entries.
        let (text, is_f64, name) = unsafe {
            (
                CStr::from_ptr(*argv.add(i + 1)).to_bytes(),
                *md.main_param_types.add(i) == ARG_F64,
                cstr(*md.main_param_names.add(i)),
            )
        };
        match args::parse_arg(text, is_f64) {
            // SAFETY: `slots` has `n` entries.
            Ok(v) => unsafe { *slots.add(i) = v },
            Err(e) => {
                let shown = core::str::from_utf8(text).unwrap_or("<not UTF-8>");
                let ty = if is_f64 { "f64" } else { "i64" };
                let mut err = Fd(2);
                let _ = write!(err, "error: argument `{shown}` for `{name}: {ty}`: ");
                let _ = match e {
                    args::ArgError::WrongType => writeln!(err, "not a value of type {ty}"),
                    e => writeln!(err, "{}", e.message()),
                };
                let _ = writeln!(Fd(2), "usage: {sig}");
                // SAFETY: allocated above, freed once.
                unsafe { free(slots.cast()) };
                return 2;
            }
        }
    }
    // SAFETY: as above.
    unsafe { init(md) };
    let mut call = MainCall {
        m,
        args: slots,
        ret: 0,
        stack: MAIN_STACK,
    };
    let p = (&mut call) as *mut MainCall as *mut c_void;
    let mut attr = PthreadAttr([0; 128]);
    let mut tid: PthreadT = 0;
    // SAFETY: `attr` has room for a pthread_attr_t and is initialised before use and destroyed
    // after; the thread only uses `call`, which lives until it is joined.
    let created = unsafe {
        if pthread_attr_init(&mut attr) != 0 {
            false
        } else {
            let ok = pthread_attr_setstacksize(&mut attr, MAIN_STACK) == 0
                && pthread_create(&mut tid, &attr, run_main, p) == 0;
            pthread_attr_destroy(&mut attr);
            ok
        }
    };
    if created {
        // SAFETY: `tid` is the thread just created, joined once.
        unsafe { pthread_join(tid, core::ptr::null_mut()) };
    } else {
        // No thread with a big stack: run on this one, with its own limit.
        call.stack = 0;
        run_main(p);
    }
    // SAFETY: allocated above, freed once; the thread has finished.
    unsafe { free(slots.cast()) };
    vsp_flush();
    // SAFETY: main has finished; the context is ours again.
    let ctx = unsafe { &mut *md.vmctx };
    match ctx.trap {
        0 if md.main_returns != 0 => (call.ret & 255) as c_int,
        0 => 0,
        TRAP_EXIT => ctx.exit_status,
        _ => {
            report_trap(md, ctx);
            ctx.reset_trap();
            70
        }
    }
}
