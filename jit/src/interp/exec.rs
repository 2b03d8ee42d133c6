//! The interpreter loop: one flat stack of 64-bit slots, an explicit frame stack, and a `match`
//! over decoded ops. No allocation per instruction; calls copy the callee's frame template.

use super::code::*;
use super::decode::{Program, func_of_handle};
use crate::io::{Io, clock_ns};
use crate::trap::{FrameInfo, Trap, TrapCode};
use runtime::{math, sil};

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

/// Linear memory: `pages * 64 KiB` bytes and the maximum it may grow to.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    pub bytes: Vec<u8>,
    pub max_pages: u64,
}

impl Memory {
    pub fn new(m: &bytecode::Module) -> Memory {
        let mut bytes = vec![0u8; (m.memory.min_pages * bytecode::PAGE_SIZE) as usize];
        for seg in &m.data {
            // Verified: every segment lies inside the initial memory.
            let start = seg.offset as usize;
            if let Some(dst) = bytes.get_mut(start..start + seg.bytes.len()) {
                dst.copy_from_slice(&seg.bytes);
            }
        }
        Memory {
            bytes,
            max_pages: m.memory.max_pages,
        }
    }

    /// The byte range `[ea, ea + n)` for `ea = base + off` (wrapping), if it lies in memory.
    #[inline(always)]
    fn range(&self, base: u64, off: i64, n: u64) -> Option<usize> {
        let ea = (base as i64).wrapping_add(off);
        if ea < 0 {
            return None;
        }
        let end = (ea as u64).checked_add(n)?;
        (end <= self.bytes.len() as u64).then_some(ea as usize)
    }

    /// `memgrow`: the old size in pages, or -1 (memory unchanged).
    pub fn grow(&mut self, pages: i64) -> i64 {
        let old = self.bytes.len() as u64 / bytecode::PAGE_SIZE;
        let Ok(pages) = u64::try_from(pages) else {
            return -1;
        };
        let Some(new) = old.checked_add(pages).filter(|&n| n <= self.max_pages) else {
            return -1;
        };
        let extra = ((new - old) * bytecode::PAGE_SIZE) as usize;
        if self.bytes.try_reserve_exact(extra).is_err() {
            return -1;
        }
        self.bytes.resize(self.bytes.len() + extra, 0);
        old as i64
    }
}

/// Call depth at which the interpreter traps `stack overflow`.
pub const MAX_DEPTH: usize = 1_000_000;
/// Total frame slots (8 bytes each) the interpreter's stack may hold.
pub const MAX_SLOTS: usize = 1 << 25;

#[derive(Clone, Copy, Debug)]
struct Frame {
    func: u32,
    /// The caller's slot that receives the result.
    dest: Slot,
    base: usize,
    /// Where to continue in `func`: the op after the call.
    ret: *const Op,
}

/// The interpreter's machine state, reusable across runs.
#[derive(Default)]
pub struct Vm {
    stack: Vec<u64>,
    frames: Vec<Frame>,
    args: Vec<u64>,
}

/// What a run may touch besides its own frames.
pub struct Env<'a> {
    pub mem: &'a mut Memory,
    pub io: &'a mut Io,
    pub hosts: &'a mut [HostFn],
    /// Polled by `Op::Poll` (emitted only when the program was decoded with interrupts).
    pub interrupt: Option<&'a std::sync::atomic::AtomicU32>,
}

enum Stop {
    Trap(TrapCode),
    HostTrap(Trap),
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
        let mut at = (func as u32, 0u32);
        match self.exec(prog, env, &mut at) {
            Ok(c) => Ok(c),
            Err(stop) => {
                let mut trap = match stop {
                    Stop::Trap(code) => Trap::new(code),
                    Stop::HostTrap(t) => t,
                };
                trap.backtrace = self.backtrace(prog, at);
                trap.omitted_frames = (self.frames.len() + 1 - trap.backtrace.len()) as u64;
                self.frames.clear();
                Err(trap)
            }
        }
    }

    /// Innermost first: the trapping op, then each waiting caller.
    fn backtrace(&self, prog: &Program, at: (u32, u32)) -> Vec<FrameInfo> {
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
        let mut bt = vec![frame(at.0, at.1)];
        for f in self
            .frames
            .iter()
            .rev()
            .take(crate::trap::BACKTRACE_LEN - 1)
        {
            let ops = prog.funcs[f.func as usize].ops.as_ptr();
            // SAFETY: `ret` points into (or one past) the ops of the frame's own function.
            let pc = unsafe { f.ret.offset_from(ops) } as u32;
            bt.push(frame(f.func, pc.saturating_sub(1)));
        }
        bt
    }

    /// The loop. On a stop, `at` holds the function and op index that stopped.
    ///
    /// Only two values are live in every op: `ip` (the next op) and `fp` (the frame's first
    /// slot); jumps are relative, so no base pointer is needed to take one. Everything calls,
    /// returns and traps need (`func`, `code`, `base`) is touched only on those paths.
    // `r!` is also used inside unsafe blocks; `frame!` refreshes `fp` even where a switch follows.
    #[allow(unused_unsafe, unused_assignments)]
    fn exec(&mut self, prog: &Program, env: Env, at: &mut (u32, u32)) -> Result<Completion, Stop> {
        let Env {
            mem,
            io,
            hosts,
            interrupt,
        } = env;
        let mut func = at.0;
        let mut code: &Code = &prog.funcs[func as usize];
        let mut base = 0usize;
        let stack = &mut self.stack;
        let frames = &mut self.frames;
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
        macro_rules! jump_if {
            ($cond:expr, $t:expr) => {
                if $cond {
                    // SAFETY: decode made `t` relative to the next op and validated that the
                    // target is an op of this function.
                    ip = unsafe { ip.offset($t as i32 as isize) };
                }
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
                    // SAFETY: `base` is inside the (grown) stack.
                    fp = unsafe { stack.as_mut_ptr().add(base) };
                }
                let t = &c.frame_template;
                // SAFETY: `nb + t.len() == top <= stack.len()`; the template is not in the stack.
                let dst = unsafe { stack.as_mut_ptr().add(nb) };
                if t.len() <= 16 {
                    // Frames are usually small: a few stores beat a call to memcpy.
                    for (k, &v) in t.iter().enumerate() {
                        // SAFETY: `k < t.len()`, inside the new frame.
                        unsafe { *dst.add(k) = v };
                    }
                } else {
                    // SAFETY: as above.
                    unsafe { std::ptr::copy_nonoverlapping(t.as_ptr(), dst, t.len()) };
                }
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
                if frames.len() >= MAX_DEPTH {
                    trap!(StackOverflow);
                }
                let nb = base + code.num_slots();
                frame!(c, nb);
                // SAFETY: `frame!` made room for the callee's frame at `nb`.
                let new_fp = unsafe { stack.as_mut_ptr().add(nb) };
                for (k, &a) in s.args.iter().enumerate() {
                    // SAFETY: `a` is a validated slot of this frame; `k < num_params <=
                    // num_slots` of the new frame, which does not overlap this one.
                    unsafe { *new_fp.add(k) = r!(a) };
                }
                frames.push(Frame {
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
                match frames.pop() {
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

        loop {
            // SAFETY: validated: every function ends in a terminator, and every jump target and
            // return address is an op of its function, so `ip` points at an op here.
            let op = unsafe { *ip };
            // SAFETY: at most one past the last op (never dereferenced there, see above).
            ip = unsafe { ip.add(1) };
            match op {
                Op::Mov { d, a } => r!(d) = r!(a),

                Op::AddI { d, a, b } => r!(d) = r!(a).wrapping_add(r!(b)),
                Op::SubI { d, a, b } => r!(d) = r!(a).wrapping_sub(r!(b)),
                Op::MulI { d, a, b } => r!(d) = r!(a).wrapping_mul(r!(b)),
                Op::DivI { d, a, b } => {
                    let (x, y) = (i!(a), i!(b));
                    if y == 0 {
                        trap!(IntegerDivideByZero);
                    }
                    if x == i64::MIN && y == -1 {
                        trap!(IntegerOverflow);
                    }
                    r!(d) = (x / y) as u64;
                }
                Op::RemI { d, a, b } => {
                    let y = i!(b);
                    if y == 0 {
                        trap!(IntegerDivideByZero);
                    }
                    r!(d) = i!(a).wrapping_rem(y) as u64;
                }
                Op::UDiv { d, a, b } => {
                    let y = r!(b);
                    if y == 0 {
                        trap!(IntegerDivideByZero);
                    }
                    r!(d) = r!(a) / y;
                }
                Op::URem { d, a, b } => {
                    let y = r!(b);
                    if y == 0 {
                        trap!(IntegerDivideByZero);
                    }
                    r!(d) = r!(a) % y;
                }
                Op::MinI { d, a, b } => r!(d) = i!(a).min(i!(b)) as u64,
                Op::MaxI { d, a, b } => r!(d) = i!(a).max(i!(b)) as u64,
                Op::And { d, a, b } => r!(d) = r!(a) & r!(b),
                Op::Or { d, a, b } => r!(d) = r!(a) | r!(b),
                Op::Xor { d, a, b } => r!(d) = r!(a) ^ r!(b),
                Op::Shl { d, a, b } => r!(d) = r!(a).wrapping_shl(r!(b) as u32),
                Op::Shr { d, a, b } => r!(d) = i!(a).wrapping_shr(r!(b) as u32) as u64,
                Op::UShr { d, a, b } => r!(d) = r!(a).wrapping_shr(r!(b) as u32),
                Op::Rotl { d, a, b } => r!(d) = r!(a).rotate_left((r!(b) & 63) as u32),
                Op::Rotr { d, a, b } => r!(d) = r!(a).rotate_right((r!(b) & 63) as u32),
                Op::NegI { d, a } => r!(d) = i!(a).wrapping_neg() as u64,
                Op::AbsI { d, a } => r!(d) = i!(a).wrapping_abs() as u64,
                Op::NotI { d, a } => r!(d) = !r!(a),
                Op::Clz { d, a } => r!(d) = r!(a).leading_zeros() as u64,
                Op::Ctz { d, a } => r!(d) = r!(a).trailing_zeros() as u64,
                Op::Popcnt { d, a } => r!(d) = r!(a).count_ones() as u64,

                Op::AddF { d, a, b } => r!(d) = (f!(a) + f!(b)).to_bits(),
                Op::SubF { d, a, b } => r!(d) = (f!(a) - f!(b)).to_bits(),
                Op::MulF { d, a, b } => r!(d) = (f!(a) * f!(b)).to_bits(),
                Op::DivF { d, a, b } => r!(d) = (f!(a) / f!(b)).to_bits(),
                Op::MinF { d, a, b } => r!(d) = math::f64_min(f!(a), f!(b)).to_bits(),
                Op::MaxF { d, a, b } => r!(d) = math::f64_max(f!(a), f!(b)).to_bits(),
                Op::NegF { d, a } => r!(d) = r!(a) ^ (1 << 63),
                Op::AbsF { d, a } => r!(d) = r!(a) & !(1 << 63),
                Op::Sqrt { d, a } => r!(d) = f!(a).sqrt().to_bits(),
                Op::Floor { d, a } => r!(d) = f!(a).floor().to_bits(),
                Op::Ceil { d, a } => r!(d) = f!(a).ceil().to_bits(),
                Op::Trunc { d, a } => r!(d) = f!(a).trunc().to_bits(),
                Op::RoundF { d, a } => r!(d) = math::round_half_even(f!(a)).to_bits(),
                Op::Math { f, d, a } => r!(d) = math1(f, f!(a)).to_bits(),
                Op::Math2 { f, d, a, b } => r!(d) = math2(f, f!(a), f!(b)).to_bits(),
                Op::I2F { d, a } => r!(d) = (i!(a) as f64).to_bits(),
                Op::F2I { d, a } => r!(d) = math::f2i(f!(a)) as u64,

                Op::AddS { d, a, b } => r!(d) = sil::add(b!(a), b!(b)) as u64,
                Op::SubS { d, a, b } => r!(d) = sil::sub(b!(a), b!(b)) as u64,
                Op::MulS { d, a, b } => r!(d) = sil::mul(b!(a), b!(b)) as u64,
                Op::DivS { d, a, b } => r!(d) = sil::div(b!(a), b!(b)) as u64,
                Op::NotS { d, a } => r!(d) = sil::not(b!(a)) as u64,
                Op::Sil { f, d, a } => r!(d) = sil1(f, b!(a)) as u64,
                Op::SilToF { f, d, a } => r!(d) = sil_to_f(f, b!(a)).to_bits(),
                Op::SilInt { f, d, a, n } => r!(d) = sil_int(f, b!(a), i!(n)) as u64,
                Op::SilRho { d, a } => r!(d) = sil::rho(b!(a)) as u64,
                Op::SilTheta { d, a } => r!(d) = sil::theta(b!(a)) as u64,
                Op::SilFromByte { d, a } => r!(d) = r!(a) & 0xFF,
                Op::SilNew { d, rho, theta } => r!(d) = sil::make(i!(rho), i!(theta)) as u64,
                Op::SilFrom { d, re, im } => r!(d) = sil::from_complex(f!(re), f!(im)) as u64,
                Op::SilLerp { d, ab, t } => {
                    // SAFETY: validated: pairs exist.
                    let (a, b) = *unsafe { prog.pairs.get_unchecked(ab as usize) };
                    r!(d) = sil::lerp(b!(a), b!(b), f!(t)) as u64;
                }

                Op::EqI { d, a, b } => r!(d) = (r!(a) == r!(b)) as u64,
                Op::NeI { d, a, b } => r!(d) = (r!(a) != r!(b)) as u64,
                Op::LtI { d, a, b } => r!(d) = (i!(a) < i!(b)) as u64,
                Op::LeI { d, a, b } => r!(d) = (i!(a) <= i!(b)) as u64,
                Op::LtU { d, a, b } => r!(d) = (r!(a) < r!(b)) as u64,
                Op::LeU { d, a, b } => r!(d) = (r!(a) <= r!(b)) as u64,
                Op::EqF { d, a, b } => r!(d) = (f!(a) == f!(b)) as u64,
                Op::NeF { d, a, b } => r!(d) = (f!(a) != f!(b)) as u64,
                Op::LtF { d, a, b } => r!(d) = (f!(a) < f!(b)) as u64,
                Op::LeF { d, a, b } => r!(d) = (f!(a) <= f!(b)) as u64,
                Op::Select { d, c, ab } => {
                    // SAFETY: validated: pairs exist.
                    let (a, b) = *unsafe { prog.pairs.get_unchecked(ab as usize) };
                    r!(d) = if r!(c) != 0 { r!(a) } else { r!(b) };
                }

                Op::Jmp { t } => jump_if!(true, t),
                Op::Jz { a, t } => jump_if!(r!(a) == 0, t),
                Op::Jnz { a, t } => jump_if!(r!(a) != 0, t),
                Op::BeqI { a, b, t } => jump_if!(r!(a) == r!(b), t),
                Op::BneI { a, b, t } => jump_if!(r!(a) != r!(b), t),
                Op::BltI { a, b, t } => jump_if!(i!(a) < i!(b), t),
                Op::BleI { a, b, t } => jump_if!(i!(a) <= i!(b), t),
                Op::BltU { a, b, t } => jump_if!(r!(a) < r!(b), t),
                Op::BleU { a, b, t } => jump_if!(r!(a) <= r!(b), t),
                Op::BeqF { a, b, t } => jump_if!(f!(a) == f!(b), t),
                Op::BneF { a, b, t } => jump_if!(f!(a) != f!(b), t),
                Op::BltF { a, b, t } => jump_if!(f!(a) < f!(b), t),
                Op::BleF { a, b, t } => jump_if!(f!(a) <= f!(b), t),
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
                    call!(s.target, s);
                }
                Op::Tail { site } => {
                    // The new frame replaces this one: stage the arguments first.
                    let s = &prog.call_sites[site as usize];
                    collect_args!(s);
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
                    let Some(target) = func_of_handle(h).filter(|&k| k < prog.funcs.len()) else {
                        trap!(InvalidFunctionHandle);
                    };
                    // Equal signature ids mean equal parameter lists, so the argument count
                    // matches the callee's parameters as `call!` needs.
                    if prog.funcs[target].sig != s.sig {
                        trap!(IndirectCallTypeMismatch);
                    }
                    call!(target as u32, s);
                }
                Op::CallHost { site } | Op::TailHost { site } => {
                    let s = &prog.call_sites[site as usize];
                    collect_args!(s);
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
                Op::Poll => {
                    if interrupted(interrupt) {
                        trap!(Interrupted);
                    }
                }

                Op::Load { k, d, a, off } => match load(mem, r!(a), off, k) {
                    Some(v) => r!(d) = v,
                    None => trap!(OutOfBounds),
                },
                Op::Store8 { a, off, v } => {
                    if !store(mem, r!(a), off, &r!(v).to_le_bytes()[..1]) {
                        trap!(OutOfBounds);
                    }
                }
                Op::Store16 { a, off, v } => {
                    if !store(mem, r!(a), off, &r!(v).to_le_bytes()[..2]) {
                        trap!(OutOfBounds);
                    }
                }
                Op::Store32 { a, off, v } => {
                    if !store(mem, r!(a), off, &r!(v).to_le_bytes()[..4]) {
                        trap!(OutOfBounds);
                    }
                }
                Op::Store64 { a, off, v } => {
                    if !store(mem, r!(a), off, &r!(v).to_le_bytes()) {
                        trap!(OutOfBounds);
                    }
                }
                Op::MemSize { d } => r!(d) = mem.bytes.len() as u64,
                Op::MemGrow { d, a } => r!(d) = mem.grow(i!(a)) as u64,
                Op::MemCopy { dst, src, n } => {
                    if !mem_copy(mem, r!(dst), r!(src), i!(n)) {
                        trap!(OutOfBounds);
                    }
                }
                Op::MemFill { dst, byte, n } => {
                    if !mem_fill(mem, r!(dst), r!(byte) as u8, i!(n)) {
                        trap!(OutOfBounds);
                    }
                }

                Op::PrintI { a, nl } => io.out().print_i64(i!(a), nl),
                Op::PrintF { a, prec, nl } => {
                    io.out().print_f64(f!(a), u32::try_from(prec).ok(), nl)
                }
                Op::PrintS { a, nl } => io.out().print_sil(b!(a), nl),
                Op::Newline => io.out().newline(),
                Op::Putc { a } => io.out().putc(i!(a)),
                Op::Write { a, n } => {
                    if !mem_write(mem, io, r!(a), i!(n)) {
                        trap!(OutOfBounds);
                    }
                }
                Op::Getc { d } => r!(d) = io.getc() as u64,
                Op::Clock { d } => r!(d) = clock_ns() as u64,
            }
        }
    }
}

/// Out of line: the flag stays out of the loop's registers (an inline atomic load here cost
/// the whole loop a factor of two on float kernels, interrupts on or off).
#[inline(never)]
fn interrupted(flag: Option<&std::sync::atomic::AtomicU32>) -> bool {
    flag.is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed) != 0)
}

// Out-of-line helpers for the heavier ops: they keep the loop small, so the registers go to
// `ip` and `fp`.

#[inline(never)]
fn math1(f: MathFn, x: f64) -> f64 {
    match f {
        MathFn::Sin => math::sin(x),
        MathFn::Cos => math::cos(x),
        MathFn::Tan => math::tan(x),
        MathFn::Asin => math::asin(x),
        MathFn::Acos => math::acos(x),
        MathFn::Atan => math::atan(x),
        MathFn::Exp => math::exp(x),
        MathFn::Ln => math::ln(x),
        MathFn::Log10 => math::log10(x),
    }
}

#[inline(never)]
fn math2(f: Math2Fn, x: f64, y: f64) -> f64 {
    match f {
        Math2Fn::Atan2 => math::atan2(x, y),
        Math2Fn::Pow => math::pow(x, y),
        Math2Fn::Hypot => math::hypot(x, y),
        Math2Fn::Rem => math::fmod(x, y),
    }
}

#[inline(never)]
fn sil1(f: SilFn, x: u8) -> u8 {
    match f {
        SilFn::Inv => sil::inv(x),
        SilFn::Conj => sil::conj(x),
        SilFn::Mag => sil::mag(x),
        SilFn::Phase => sil::phase(x),
        SilFn::Neg => sil::neg(x),
    }
}

#[inline(never)]
fn sil_to_f(f: SilToF, x: u8) -> f64 {
    match f {
        SilToF::Re => sil::re(x),
        SilToF::Im => sil::im(x),
        SilToF::Abs => sil::abs(x),
        SilToF::Arg => sil::arg(x),
    }
}

#[inline(never)]
fn sil_int(f: SilIntFn, x: u8, k: i64) -> u8 {
    match f {
        SilIntFn::Pow => sil::pow(x, k),
        SilIntFn::Root => sil::root(x, k),
        SilIntFn::Scale => sil::scale(x, k),
        SilIntFn::Rotate => sil::rotate(x, k),
    }
}

/// A load of kind `k` at `[base + off]`, or `None` if out of bounds.
#[inline]
fn load(mem: &Memory, base: u64, off: i32, k: LoadKind) -> Option<u64> {
    let n = match k {
        LoadKind::I64 => 8,
        LoadKind::I32 | LoadKind::U32 => 4,
        LoadKind::I16 | LoadKind::U16 => 2,
        LoadKind::I8 | LoadKind::U8 => 1,
    };
    let p = mem.range(base, off as i64, n)?;
    let mut buf = [0u8; 8];
    buf[..n as usize].copy_from_slice(&mem.bytes[p..p + n as usize]);
    let raw = u64::from_le_bytes(buf);
    Some(match k {
        LoadKind::I64 | LoadKind::U32 | LoadKind::U16 | LoadKind::U8 => raw,
        LoadKind::I32 => raw as u32 as i32 as i64 as u64,
        LoadKind::I16 => raw as u16 as i16 as i64 as u64,
        LoadKind::I8 => raw as u8 as i8 as i64 as u64,
    })
}

/// Stores `bytes` at `[base + off]`; false if out of bounds.
#[inline]
fn store(mem: &mut Memory, base: u64, off: i32, bytes: &[u8]) -> bool {
    match mem.range(base, off as i64, bytes.len() as u64) {
        Some(p) => {
            mem.bytes[p..p + bytes.len()].copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

#[inline(never)]
fn mem_copy(mem: &mut Memory, dst: u64, src: u64, n: i64) -> bool {
    let Ok(n) = u64::try_from(n) else {
        return false;
    };
    match (mem.range(dst, 0, n), mem.range(src, 0, n)) {
        (Some(to), Some(from)) => {
            mem.bytes.copy_within(from..from + n as usize, to);
            true
        }
        _ => false,
    }
}

#[inline(never)]
fn mem_fill(mem: &mut Memory, dst: u64, byte: u8, n: i64) -> bool {
    let Ok(n) = u64::try_from(n) else {
        return false;
    };
    match mem.range(dst, 0, n) {
        Some(to) => {
            mem.bytes[to..to + n as usize].fill(byte);
            true
        }
        None => false,
    }
}

#[inline(never)]
fn mem_write(mem: &Memory, io: &mut Io, a: u64, n: i64) -> bool {
    let Ok(n) = u64::try_from(n) else {
        return false;
    };
    match mem.range(a, 0, n) {
        Some(p) => {
            io.out().write_bytes(&mem.bytes[p..p + n as usize]);
            true
        }
        None => false,
    }
}
