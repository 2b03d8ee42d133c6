//! The interpreter's dispatch loop: one flat stack of 64-bit slots, an explicit frame stack,
//! runs of fast ops handed to the threaded fast path (`threaded.rs`), and a `match` over the
//! slow ops. No allocation per instruction; calls copy the callee's frame template.

use super::code::*;
use super::decode::Program;
use super::threaded;
use crate::io::clock_ns;
use crate::native::HostState;
use crate::trap::{FrameInfo, Trap, TrapCode};
use runtime::sil;
use runtime::vmctx::{TRAP_EXIT, VmCtx};
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// A host function for an `extern func`: raw slot arguments in, a raw slot result out (0 for
/// a function without result). A `Trap` it returns unwinds the program like any other trap.
pub type HostFn = Box<dyn FnMut(&[u64]) -> Result<u64, Trap> + Send>;

/// How a run ended, when it did not trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The entry function returned (the slot is meaningless for a function without result).
    Return(u64),
    /// `exit` ran, with this status (already `& 255`).
    Exit(i32),
}

/// The array trampoline's type: `(vmctx, args, ret)` (function entries and OSR entries alike).
pub(crate) type ArrayFn = unsafe extern "C" fn(*mut VmCtx, *const u64, *mut u64);

/// Call depth at which the interpreter traps `stack overflow`.
pub const MAX_DEPTH: usize = 1_000_000;
/// Total frame slots (8 bytes each) the interpreter's stack may hold.
pub const MAX_SLOTS: usize = 1 << 25;

/// A waiting caller.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    pub func: u32,
    /// The caller's slot that receives the result.
    pub dest: Slot,
    pub base: usize,
    /// Where to continue in `func`: the op after the call.
    pub ret: *const Op,
}

/// What calls and returns touch besides `ip` and `fp`, shared by the dispatch loop and the
/// threaded fast path (`threaded.rs`), which makes plain calls and returns without leaving
/// the threaded code. The loop writes `func` and `base` before a threaded run and reads
/// them back after it; `stack`/`stack_len` follow every resize of the stack.
pub(super) struct Shared {
    /// `Program::funcs` and `Program::call_sites` (validated: every index an op or frame holds
    /// is in range).
    pub funcs: *const Code,
    pub call_sites: *const CallSite,
    pub frames: Vec<Frame>,
    /// The stack's buffer and length.
    pub stack: *mut u64,
    pub stack_len: usize,
    /// The running function and its frame's first slot.
    pub func: u32,
    pub base: usize,
    /// The tiered engine's entry and call count of each function (null for the plain
    /// interpreter): the fast path makes a call itself only while the callee has no native
    /// code and is not about to ask for it. The counts pointer is taken afresh from
    /// `TierHooks` before each threaded run.
    pub entries: *const AtomicPtr<u8>,
    pub call_counts: *mut u32,
    /// The memory's size in bytes, set by `threaded::run` (memory cannot grow during a run).
    pub mem_size: u64,
}

/// The interpreter's machine state, reusable across runs.
#[derive(Default)]
pub struct Vm {
    stack: Vec<u64>,
    frames: Vec<Frame>,
    args: Vec<u64>,
}

/// What a run may touch besides its own frames. Raw pointers, because native code the tiered
/// engine calls from inside the loop reaches the same objects through the VM context: the loop
/// holds no borrow of them across such a call, only short ones inside a single op.
pub struct Env<'a> {
    /// The VM context: linear memory (allocated and grown by the runtime, so every tier
    /// follows the same memory rules), output, and what native code needs.
    pub ctx: *mut VmCtx,
    /// Input and host functions (`VmCtx::host` points here too).
    pub(crate) state: *mut HostState,
    /// Polled by `Op::Poll` (emitted only when the program was decoded with interrupts).
    pub interrupt: Option<&'a AtomicU32>,
}

/// What the tiered engine gives the interpreter: where native code is, the counters, and a
/// way to ask for more native code.
pub(crate) struct TierHooks<'a> {
    /// The array trampoline of each function that has native code; null: interpret it.
    pub entries: &'a [AtomicPtr<u8>],
    /// The OSR entry (array trampoline taking the frame) of each loop, by loop id.
    pub osr: &'a [AtomicPtr<u8>],
    /// Calls left before each function asks to be compiled (counting down; 0 asks).
    pub call_counts: &'a mut [u32],
    /// Arrivals left at each loop header before it asks for an OSR entry.
    pub loop_counts: &'a mut [u32],
    /// Asks for native code; may publish it before returning (synchronous mode). `Some(n)`:
    /// not yet (the run is still starting up), count `n` more and ask again.
    pub request: &'a mut dyn FnMut(HotCode) -> Option<u32>,
    /// When native code first ran (set on the first native call or OSR entry).
    pub first_native: &'a mut Option<std::time::Instant>,
}

/// Code that crossed its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HotCode {
    /// A function (by index): compile it and publish its entry.
    Func(u32),
    /// A loop (by id): compile an OSR entry at its header.
    Loop(u32),
}

enum Stop {
    Trap(TrapCode),
    HostTrap(Trap),
    /// Native code called from the loop trapped; the VM context holds the code and the native
    /// frames. `with_current`: the interpreter frame that made the call is not among them.
    Native {
        with_current: bool,
    },
}

impl Vm {
    pub fn new() -> Vm {
        Vm::default()
    }

    /// Runs function `func` of `prog` with `args` (one slot per parameter).
    pub fn run(
        &mut self,
        prog: &Program,
        env: Env,
        func: usize,
        args: &[u64],
    ) -> Result<Completion, Trap> {
        self.run_with::<false>(prog, env, None, func, args)
    }

    /// As `run`, for the tiered engine: counts calls and loop arrivals, calls native code
    /// where it exists and enters it at hot loop headers. The caller runs this on the native
    /// stack with the VM context set up for native calls.
    pub(crate) fn run_tiered(
        &mut self,
        prog: &Program,
        env: Env,
        tier: &mut TierHooks,
        func: usize,
        args: &[u64],
    ) -> Result<Completion, Trap> {
        self.run_with::<true>(prog, env, Some(tier), func, args)
    }

    fn run_with<const TIER: bool>(
        &mut self,
        prog: &Program,
        env: Env,
        tier: Option<&mut TierHooks>,
        func: usize,
        args: &[u64],
    ) -> Result<Completion, Trap> {
        self.frames.clear();
        let Some(code) = prog.funcs.get(func) else {
            return Err(Trap::new(TrapCode::InvalidFunctionHandle));
        };
        let n = code.num_slots();
        if self.stack.len() < n.max(1024) {
            self.stack.resize(n.max(1024), 0);
        }
        self.stack[..n].copy_from_slice(&code.frame_template);
        for (slot, &a) in self
            .stack
            .iter_mut()
            .zip(args.iter().take(code.num_params as usize))
        {
            *slot = a;
        }
        let ctx = env.ctx;
        let mut at = (func as u32, 0u32);
        let result = match tier {
            Some(t) => self.exec::<true>(prog, env, t, &mut at),
            None => {
                let mut no_request = |_: HotCode| None;
                let mut first_native = None;
                let mut none = TierHooks {
                    entries: &[],
                    osr: &[],
                    call_counts: &mut [],
                    loop_counts: &mut [],
                    request: &mut no_request,
                    first_native: &mut first_native,
                };
                self.exec::<false>(prog, env, &mut none, &mut at)
            }
        };
        match result {
            Ok(c) => Ok(c),
            Err(stop) => {
                let with_current = !matches!(
                    stop,
                    Stop::Native {
                        with_current: false
                    }
                );
                let (interp, interp_total) = self.interp_frames(prog, at, with_current);
                let mut trap = match stop {
                    Stop::Trap(code) => Trap::new(code),
                    Stop::HostTrap(t) => Trap::new(t.code),
                    Stop::Native { .. } => {
                        // SAFETY: `ctx` is the live context the native code just used.
                        let c = unsafe { &*ctx };
                        let mut t =
                            Trap::new(TrapCode::from_u32(c.trap).unwrap_or(TrapCode::Unreachable));
                        t.backtrace = c
                            .frames()
                            .iter()
                            .map(|f| FrameInfo {
                                func: prog.func_name(f.func as usize).to_string(),
                                line: f.line,
                            })
                            .collect();
                        t.omitted_frames = c.bt_total - c.bt_len as u64;
                        t
                    }
                };
                // Native frames (innermost) first, then the interpreter's, at most
                // `BACKTRACE_LEN` in all; the rest are counted.
                let total = trap.backtrace.len() as u64 + trap.omitted_frames + interp_total;
                if trap.omitted_frames == 0 {
                    let room = crate::trap::BACKTRACE_LEN.saturating_sub(trap.backtrace.len());
                    trap.backtrace.extend(interp.into_iter().take(room));
                }
                trap.omitted_frames = total - trap.backtrace.len() as u64;
                self.frames.clear();
                Err(trap)
            }
        }
    }

    /// The interpreter's frames, innermost first: the op that stopped (if `with_current`),
    /// then each waiting caller. Only the innermost `BACKTRACE_LEN` are named.
    fn interp_frames(
        &self,
        prog: &Program,
        at: (u32, u32),
        with_current: bool,
    ) -> (Vec<FrameInfo>, u64) {
        let frame = |func: u32, pc: u32| {
            let line = prog.funcs[func as usize]
                .lines
                .get(pc as usize)
                .copied()
                .unwrap_or(0);
            FrameInfo {
                func: prog.func_name(func as usize).to_string(),
                line,
            }
        };
        let mut bt = Vec::new();
        if with_current {
            bt.push(frame(at.0, at.1));
        }
        let waiting = self.frames.iter().rev().map(|f| {
            let ops = prog.funcs[f.func as usize].ops.as_ptr();
            // SAFETY: `ret` points into (or one past) the ops of the frame's own function.
            let pc = unsafe { f.ret.offset_from(ops) } as u32;
            frame(f.func, pc.saturating_sub(1))
        });
        bt.extend(waiting.take(crate::trap::BACKTRACE_LEN.saturating_sub(bt.len())));
        let total = (self.frames.len() + usize::from(with_current)) as u64;
        (bt, total)
    }

    /// The loop. On a stop, `at` holds the function and op index that stopped. The waiting
    /// callers move into `Shared` for the run, where the fast path's calls and returns reach
    /// them, and back into the VM after it.
    fn exec<const TIER: bool>(
        &mut self,
        prog: &Program,
        env: Env,
        tier: &mut TierHooks,
        at: &mut (u32, u32),
    ) -> Result<Completion, Stop> {
        // The fast path indexes these without checks (the loop's own look-ups are checked).
        assert!(
            !TIER
                || (tier.entries.len() >= prog.funcs.len()
                    && tier.call_counts.len() >= prog.funcs.len()),
            "the tiered engine has an entry and a call count for every function"
        );
        let mut sh = Shared {
            funcs: prog.funcs.as_ptr(),
            call_sites: prog.call_sites.as_ptr(),
            frames: std::mem::take(&mut self.frames),
            stack: self.stack.as_mut_ptr(),
            stack_len: self.stack.len(),
            func: at.0,
            base: 0,
            entries: if TIER {
                tier.entries.as_ptr()
            } else {
                std::ptr::null()
            },
            call_counts: std::ptr::null_mut(),
            mem_size: 0,
        };
        let result = self.exec_loop::<TIER>(prog, env, tier, at, &mut sh);
        self.frames = sh.frames;
        result
    }

    /// Fast ops run in threaded code (`threaded::run`) until a slow op, which the `match`
    /// runs. Jumps are relative, so only `ip` (the next op) and `fp` (the frame's first slot)
    /// matter to most ops; `func`, `code` and `base` are touched on calls, returns and traps,
    /// and re-read after each threaded run, whose calls and returns may change them.
    // `r!` is also used inside unsafe blocks; `frame!` refreshes `fp` even where a switch follows.
    #[allow(unused_unsafe, unused_assignments)]
    fn exec_loop<const TIER: bool>(
        &mut self,
        prog: &Program,
        env: Env,
        tier: &mut TierHooks,
        at: &mut (u32, u32),
        sh: &mut Shared,
    ) -> Result<Completion, Stop> {
        let Env {
            ctx,
            state,
            interrupt,
        } = env;
        let mut func = at.0;
        let mut code: &Code = &prog.funcs[func as usize];
        let mut base = 0usize;
        let stack = &mut self.stack;
        let argbuf = &mut self.args;
        let mut ip: *const Op = code.ops.as_ptr();
        // Only raw pointers touch the stack's buffer below, so `fp` stays valid until the Vec
        // reallocates, after which `frame!` recomputes it.
        let mut fp: *mut u64 = stack.as_mut_ptr();

        // Slot access without bounds checks.
        // SAFETY (for every use of `r!`, `f!`, `i!`, `b!`): `Program::decode` validated that
        // every slot an op names is below its function's `num_slots()`, and `frame!` (and `run`
        // for the entry frame) makes `stack.len() >= base + num_slots()` before running a frame
        // whose window starts at `base`, with `fp` pointing at `stack[base]`; the stack never
        // shrinks, so a caller's window stays valid while it waits.
        macro_rules! r {
            ($s:expr) => {
                *unsafe { &mut *fp.add($s as usize) }
            };
        }
        macro_rules! f {
            ($s:expr) => {
                f64::from_bits(r!($s))
            };
        }
        macro_rules! i {
            ($s:expr) => {
                r!($s) as i64
            };
        }
        macro_rules! b {
            ($s:expr) => {
                r!($s) as u8
            };
        }
        macro_rules! stop {
            ($e:expr) => {{
                // SAFETY: `ip` is one past the current op, inside `code.ops`.
                let pc = unsafe { ip.offset_from(code.ops.as_ptr()) } as u32;
                *at = (func, pc - 1);
                return Err($e);
            }};
        }
        macro_rules! trap {
            ($c:ident) => {
                stop!(Stop::Trap(TrapCode::$c))
            };
        }
        // Makes room for `c`'s frame at `nb` and fills it from its template (zeroed
        // registers, constants). Traps `stack overflow` past the limits.
        macro_rules! frame {
            ($c:expr, $nb:expr) => {{
                let c: &Code = $c;
                let nb: usize = $nb;
                let top = nb + c.num_slots();
                if top > stack.len() {
                    if top > MAX_SLOTS {
                        trap!(StackOverflow);
                    }
                    stack.resize((top * 2).min(MAX_SLOTS).max(top), 0);
                    (sh.stack, sh.stack_len) = (stack.as_mut_ptr(), stack.len());
                    // SAFETY: `base` is inside the (grown) stack.
                    fp = unsafe { stack.as_mut_ptr().add(base) };
                }
                // SAFETY: `nb + c.num_slots() == top <= stack.len()`; the template is not in
                // the stack.
                unsafe { c.init_frame(stack.as_mut_ptr().add(nb)) };
            }};
        }
        // Switches the loop to function `callee`, whose frame is at `nb`.
        macro_rules! switch_to {
            ($callee:expr, $nb:expr) => {{
                func = $callee;
                // SAFETY: validated: call targets are functions of the program.
                code = unsafe { prog.funcs.get_unchecked(func as usize) };
                base = $nb;
                // SAFETY: `frame!` made room for this frame at `base`.
                fp = unsafe { stack.as_mut_ptr().add(base) };
                ip = code.ops.as_ptr();
            }};
        }
        // A call: a fresh frame right above this one, the arguments copied straight into it
        // (the windows do not overlap).
        macro_rules! call {
            ($callee:expr, $site:expr) => {{
                let s: &CallSite = $site;
                let callee: u32 = $callee;
                // SAFETY: validated (direct calls) or range-checked (calli) function index.
                let c = unsafe { prog.funcs.get_unchecked(callee as usize) };
                if sh.frames.len() >= MAX_DEPTH {
                    trap!(StackOverflow);
                }
                let nb = base + s.frame as usize;
                frame!(c, nb);
                // SAFETY: `frame!` made room for the callee's frame at `nb`.
                let new_fp = unsafe { stack.as_mut_ptr().add(nb) };
                for (k, &a) in s.args.iter().enumerate() {
                    // SAFETY: `a` is a validated slot of this frame; `k < num_params <=
                    // num_slots` of the new frame, which does not overlap this one.
                    unsafe { *new_fp.add(k) = r!(a) };
                }
                sh.frames.push(Frame {
                    func,
                    dest: s.dest,
                    base,
                    ret: ip,
                });
                switch_to!(callee, nb);
            }};
        }
        macro_rules! collect_args {
            ($site:expr) => {{
                argbuf.clear();
                for &a in $site.args.iter() {
                    argbuf.push(r!(a));
                }
            }};
        }
        macro_rules! ret {
            ($v:expr, $write:expr) => {{
                let v: u64 = $v;
                match sh.frames.pop() {
                    None => return Ok(Completion::Return(v)),
                    Some(fr) => {
                        func = fr.func;
                        // SAFETY: frames only ever hold functions of the program.
                        code = unsafe { prog.funcs.get_unchecked(func as usize) };
                        base = fr.base;
                        // SAFETY: the caller's window is still inside the stack.
                        fp = unsafe { stack.as_mut_ptr().add(base) };
                        ip = fr.ret;
                        if $write && fr.dest != NO_SLOT {
                            r!(fr.dest) = v;
                        }
                    }
                }
            }};
        }

        // Tiered only: entry `$i` of `$entries` (null: none yet), counting down `$counts[$i]`
        // while there is none, and asking for `$hot` when the count runs out (in synchronous
        // mode the entry exists when the request returns).
        macro_rules! entry_or_count {
            ($entries:ident, $counts:ident, $i:expr, $hot:expr) => {{
                let i = $i as usize;
                let mut e = tier.$entries[i].load(Ordering::Acquire);
                if e.is_null() {
                    let c = &mut tier.$counts[i];
                    *c = c.wrapping_sub(1);
                    if *c == 0 {
                        if let Some(again) = (tier.request)($hot) {
                            *c = again;
                        }
                        e = tier.$entries[i].load(Ordering::Acquire);
                    }
                }
                e
            }};
        }
        // Tiered only: the native entry of function `f`, counting the call while it has none.
        macro_rules! native_entry {
            ($f:expr) => {
                entry_or_count!(entries, call_counts, $f, HotCode::Func($f as u32))
            };
        }
        // Tiered only: runs array trampoline `$entry` with `$args` (a pointer to one slot per
        // parameter, or the frame for an OSR entry) and yields its result. A trap or `exit` in
        // native code stops the loop; `$with_current` says whether this frame still needs a
        // line in the backtrace (not after a tail call or an OSR entry, which replace it).
        macro_rules! run_native {
            ($entry:expr, $args:expr, $with_current:expr) => {{
                let mut ret = 0u64;
                if tier.first_native.is_none() {
                    *tier.first_native = Some(std::time::Instant::now());
                }
                // SAFETY: entries and OSR entries are finalized array trampolines (`ArrayFn`)
                // published by the tiered engine for this program; `ctx` is set up for native
                // code (table, output, host state, stack limit: the engine runs this loop on
                // the native stack), the argument array holds one slot per parameter of the
                // callee (or the frame's registers, for an OSR entry), and nothing else holds a
                // borrow of what native code may touch (see `Env`).
                unsafe {
                    let f = std::mem::transmute::<*mut u8, ArrayFn>($entry);
                    f(ctx, $args, &mut ret);
                }
                // SAFETY: `ctx` is live; the native call has returned.
                match unsafe { (*ctx).trap } {
                    0 => {}
                    TRAP_EXIT => {
                        // SAFETY: as above.
                        return Ok(Completion::Exit(unsafe { (*ctx).exit_status }));
                    }
                    _ => stop!(Stop::Native {
                        with_current: $with_current
                    }),
                }
                ret
            }};
        }

        loop {
            // SAFETY: validated: every function ends in a terminator, and every jump target and
            // return address is an op of its function, so `ip` points at an op here.
            if unsafe { threaded::is_fast(ip) } {
                (sh.func, sh.base) = (func, base);
                if TIER {
                    sh.call_counts = tier.call_counts.as_mut_ptr();
                }
                // SAFETY: `ip` as above; `fp` is this frame, made by `frame!` (or `run`) with
                // `num_slots()` slots; `ctx` is the live context; `sh` describes this frame,
                // the stack and the waiting callers.
                let e = unsafe { threaded::run(ip, fp, ctx, sh) };
                // Threaded calls and returns may have moved to another function.
                (func, base) = (sh.func, sh.base);
                // SAFETY: frames only ever hold functions of the program.
                code = unsafe { prog.funcs.get_unchecked(func as usize) };
                // SAFETY: `base` is a frame inside the stack (threaded code never resizes it).
                fp = unsafe { stack.as_mut_ptr().add(base) };
                ip = e.ip;
                if e.trap != 0 {
                    stop!(Stop::Trap(
                        TrapCode::from_u32(e.trap).unwrap_or(TrapCode::Unreachable)
                    ));
                }
            }
            // SAFETY: as above; a threaded run ends at an op of this function.
            let op = unsafe { *ip };
            // SAFETY: at most one past the last op (never dereferenced there, see above).
            ip = unsafe { ip.add(1) };
            match op {
                Op::SilLerp { d, ab, t } => {
                    // SAFETY: validated: pairs exist.
                    let (a, b) = *unsafe { prog.pairs.get_unchecked(ab as usize) };
                    r!(d) = sil::lerp(b!(a), b!(b), f!(t)) as u64;
                }

                Op::Select { d, c, ab } => {
                    // SAFETY: validated: pairs exist.
                    let (a, b) = *unsafe { prog.pairs.get_unchecked(ab as usize) };
                    r!(d) = if r!(c) != 0 { r!(a) } else { r!(b) };
                }

                Op::Switch { a, table } => {
                    let tab = &prog.switch_tables[table as usize];
                    let last = tab.len() - 1;
                    let k = usize::try_from(i!(a)).map_or(last, |k| k.min(last));
                    // SAFETY: validated: switch entries are ops of this function (absolute).
                    ip = unsafe { code.ops.as_ptr().add(tab[k] as usize) };
                }

                Op::Call { site } => {
                    // SAFETY: validated: call sites exist.
                    let s = unsafe { prog.call_sites.get_unchecked(site as usize) };
                    if TIER {
                        let e = native_entry!(s.target);
                        if !e.is_null() {
                            collect_args!(s);
                            let v = run_native!(e, argbuf.as_ptr(), true);
                            if s.dest != NO_SLOT {
                                r!(s.dest) = v;
                            }
                            continue;
                        }
                    }
                    call!(s.target, s);
                }
                Op::Tail { site } => {
                    // The new frame replaces this one: stage the arguments first.
                    let s = &prog.call_sites[site as usize];
                    collect_args!(s);
                    if TIER {
                        let e = native_entry!(s.target);
                        if !e.is_null() {
                            let v = run_native!(e, argbuf.as_ptr(), false);
                            ret!(v, true);
                            continue;
                        }
                    }
                    let c = &prog.funcs[s.target as usize];
                    frame!(c, base);
                    // SAFETY: `frame!` sized this frame for the callee, whose parameter count
                    // equals `argbuf.len()` (validated).
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            argbuf.as_ptr(),
                            stack.as_mut_ptr().add(base),
                            argbuf.len(),
                        )
                    };
                    switch_to!(s.target, base);
                }
                Op::CallI { site } => {
                    let s = &prog.call_sites[site as usize];
                    let h = r!(s.target) as i64;
                    let Some(target) =
                        bytecode::FuncId::from_handle(h).filter(|&k| k < prog.funcs.len())
                    else {
                        trap!(InvalidFunctionHandle);
                    };
                    // Equal signature ids mean equal parameter lists, so the argument count
                    // matches the callee's parameters as `call!` needs.
                    if prog.funcs[target].sig != s.sig {
                        trap!(IndirectCallTypeMismatch);
                    }
                    if TIER {
                        let e = native_entry!(target);
                        if !e.is_null() {
                            collect_args!(s);
                            let v = run_native!(e, argbuf.as_ptr(), true);
                            if s.dest != NO_SLOT {
                                r!(s.dest) = v;
                            }
                            continue;
                        }
                    }
                    call!(target as u32, s);
                }
                Op::CallHost { site } | Op::TailHost { site } => {
                    let s = &prog.call_sites[site as usize];
                    collect_args!(s);
                    // SAFETY: `state` is the live host state; this borrow ends with the call
                    // (a host function cannot reach the instance).
                    let hosts = unsafe { &mut (*state).hosts };
                    let Some(host) = hosts.get_mut(s.target as usize) else {
                        trap!(InvalidFunctionHandle);
                    };
                    let v = match host(argbuf) {
                        Ok(v) => v,
                        Err(t) => stop!(Stop::HostTrap(t)),
                    };
                    if matches!(op, Op::TailHost { .. }) {
                        ret!(v, true);
                    } else if s.dest != NO_SLOT {
                        r!(s.dest) = v;
                    }
                }
                Op::Ret { a } => ret!(r!(a), true),
                Op::RetVoid => ret!(0, false),
                Op::Exit { a } => return Ok(Completion::Exit((r!(a) & 255) as i32)),
                Op::Trap => trap!(Unreachable),
                Op::Count { id } => {
                    if let Some(c) = &prog.counts {
                        c.bump_interp(id as usize);
                    }
                }
                Op::Poll => {
                    if interrupted(interrupt) {
                        trap!(Interrupted);
                    }
                }
                Op::LoopHead { id } => {
                    if TIER {
                        let e = entry_or_count!(osr, loop_counts, id, HotCode::Loop(id));
                        if !e.is_null() {
                            // On-stack replacement: the rest of this activation runs natively
                            // from this loop header, taking its registers from the frame (the
                            // first slots, numbered as codegen numbers registers).
                            let v = run_native!(e, fp as *const u64, false);
                            ret!(v, true);
                        }
                    }
                }

                // SAFETY (the memory ops below): `ctx` is the live context that owns memory.
                Op::MemSize { d } => r!(d) = unsafe { (*ctx).mem_size },
                Op::MemGrow { d, a } => {
                    r!(d) = unsafe { runtime::mem::vsp_mem_grow(ctx, i!(a)) } as u64
                }
                Op::MemCopy { dst, src, n } => {
                    if unsafe { runtime::mem::vsp_mem_copy(ctx, i!(dst), i!(src), i!(n)) } != 0 {
                        trap!(OutOfBounds);
                    }
                }
                Op::MemFill { dst, byte, n } => {
                    if unsafe { runtime::mem::vsp_mem_fill(ctx, i!(dst), i!(byte), i!(n)) } != 0 {
                        trap!(OutOfBounds);
                    }
                }

                // SAFETY (output ops): `ctx.out` is the instance's live `Output`, which only
                // this thread touches while the program runs.
                Op::PrintI { a, nl } => out(ctx).print_i64(i!(a), nl),
                Op::PrintF { a, prec, nl } => {
                    out(ctx).print_f64(f!(a), u32::try_from(prec).ok(), nl)
                }
                Op::PrintS { a, nl } => out(ctx).print_sil(b!(a), nl),
                Op::Newline => out(ctx).newline(),
                Op::Putc { a } => out(ctx).putc(i!(a)),
                Op::Write { a, n } => {
                    if unsafe { runtime::mem::vsp_mem_write(ctx, i!(a), i!(n)) } != 0 {
                        trap!(OutOfBounds);
                    }
                }
                // SAFETY: `state` is the live host state; the borrow ends with the op.
                Op::Getc { d } => r!(d) = unsafe { (*state).io.getc() } as u64,
                Op::Clock { d } => r!(d) = clock_ns() as u64,
                // A threaded run stops only at a slow op or a trap.
                _ => unreachable!("fast op {op:?} in the dispatch loop"),
            }
        }
    }
}

/// Out of line: the flag stays out of the loop's registers (an inline atomic load here cost
/// the whole loop a factor of two on float kernels, interrupts on or off).
#[inline(never)]
fn interrupted(flag: Option<&AtomicU32>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed) != 0)
}

/// The program's output.
#[inline(always)]
fn out<'a>(ctx: *mut VmCtx) -> &'a mut runtime::Output {
    // SAFETY: the engine points `ctx.out` at the instance's boxed `Output` before a run and
    // keeps it alive; every borrow made here ends within the op that made it.
    unsafe { &mut *(*ctx).out }
}
