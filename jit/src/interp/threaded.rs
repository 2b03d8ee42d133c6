//! The interpreter's fast path: every straight-line op (arithmetic, compares, branches, memory)
//! is a handler function that ends by calling the next op's handler in tail position.
//!
//! Optimized builds turn those calls into jumps (`vsp_tail_calls`, set by `build.rs`), so a
//! run of fast ops is threaded code: each handler jumps straight to the next through its own
//! indirect branch, with `ip`, `fp`, the VM context and the call state in argument registers
//! and no shared dispatch block. Plain calls and returns are fast ops too. Anything else that
//! needs the dispatch loop (switch tables, tail and indirect calls, host calls, native code,
//! output) ends the run: the slow op's handler returns its address and `exec.rs` carries on. Unoptimized builds, where LLVM makes no sibling calls, chain the same
//! handlers from a loop instead, so the native stack never grows with the ops run.

use super::code::*;
use super::exec::{Frame, MAX_DEPTH, Shared};
use crate::trap::TrapCode;
use runtime::vmctx::VmCtx;
use runtime::{math, sil};
use std::sync::atomic::Ordering;

/// Whether handlers chain by tail calls (see the module comment). `build.rs` sets the cfg only
/// at opt-levels where LLVM reliably turns a call in tail position into a jump.
const TAIL_CALLS: bool = cfg!(vsp_tail_calls);

/// Where a threaded run stopped. Two words, so it comes back in registers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exit {
    /// With `trap == 0`: the op the dispatch loop runs next, always a slow one. With a trap:
    /// one past the op that trapped (where the dispatch loop's `ip` would be).
    pub ip: *const Op,
    /// 0, or the trap (`TrapCode as u32`).
    pub trap: u32,
}

/// `Exit::trap` of a handler that ran and wants the next op run (loop chaining only).
const CONTINUE: u32 = u32::MAX;

/// A fast op's handler: the op at `ip`, the frame's first slot `fp`, the linear memory's base
/// `mem`, what calls, returns and memory bounds need (`st`), and the previous op's result (`acc` if an integer, `facc` if
/// an f64; see `FORWARDS`), which stays in registers from one handler to the next.
type Handler = unsafe fn(
    ip: *const Op,
    fp: *mut u64,
    mem: *mut u8,
    st: *mut Shared,
    acc: u64,
    facc: f64,
) -> Exit;

/// Whether decode may forward results (`decode::forward`): only when handlers chain by tail
/// calls, which carry `acc` and `facc` from one to the next in argument registers. The
/// loop-chained handlers of unoptimized builds return to `run` in between and lose them.
pub(crate) const FORWARDS: bool = TAIL_CALLS;

/// The tag of `op`, its first byte (`Op` is `repr(u8)`).
const fn tag_of(op: &Op) -> usize {
    // SAFETY: `Op` is `repr(u8)`, so every value starts with its initialized u8 tag.
    unsafe { *(op as *const Op as *const u8) as usize }
}

/// The tag of the op at `ip`.
///
/// # Safety
/// `ip` points at an op.
#[inline(always)]
unsafe fn tag(ip: *const Op) -> usize {
    // SAFETY: the contract; `Op` is `repr(u8)`, its tag is its first byte.
    unsafe { *(ip as *const u8) as usize }
}

/// The first tag the fast path leaves to the dispatch loop: `Op` declares its fast ops first.
const FIRST_SLOW: usize = tag_of(&Op::SilLerp { d: 0, ab: 0, t: 0 });

/// Whether the op at `ip` runs in the fast path.
///
/// # Safety
/// `ip` points at an op.
#[inline(always)]
pub(crate) unsafe fn is_fast(ip: *const Op) -> bool {
    // SAFETY: the contract.
    unsafe { tag(ip) < FIRST_SLOW }
}

/// Runs ops from `ip` until one the fast path leaves to the dispatch loop, or a trap.
///
/// # Safety
/// `ip` points at an op of a function decoded by `Program::decode`; `fp` points at a frame of
/// that function with `num_slots()` slots inside the stack; `ctx` is the live VM context; `st`
/// describes that frame (`func`, `base`), the stack and the waiting callers.
/// Decoding validated every slot, jump target and terminator, so every op reached is again an
/// op of the same function and every slot named is inside the frame.
#[inline(always)]
pub(crate) unsafe fn run(ip: *const Op, fp: *mut u64, ctx: *mut VmCtx, st: &mut Shared) -> Exit {
    let st: *mut Shared = st;
    // Nothing the fast path runs can grow or move memory (`mem.grow`, host calls and native
    // code are slow ops), so its base stays in a register for the whole run, and its size in
    // `st` (a register more for it made LLVM spill in the loop latches' handlers).
    // SAFETY: `ctx` is the live context; its memory fields are read, not borrowed.
    let mem = unsafe {
        (*st).mem_size = (*ctx).mem_size;
        (*ctx).mem_base
    };
    // SAFETY (both arms): as this function's contract; each handler keeps it for the next op.
    if TAIL_CALLS {
        // No op a run starts at reads a forwarded result: it is a function's first op, a
        // jump target, or follows an op that produces none (`decode::forward`).
        unsafe { HANDLERS[tag(ip)](ip, fp, mem, st, 0, 0.0) }
    } else {
        let (mut ip, mut fp) = (ip, fp);
        while unsafe { is_fast(ip) } {
            let e = unsafe { HANDLERS[tag(ip)](ip, fp, mem, st, 0, 0.0) };
            if e.trap != CONTINUE {
                return e;
            }
            ip = e.ip;
            // A call or return moves to another frame.
            fp = unsafe { (*st).stack.add((*st).base) };
        }
        Exit { ip, trap: 0 }
    }
}

/// Goes on to the op at `ip`: a jump to its handler (tail calls), or back to `run`'s loop.
#[inline(always)]
unsafe fn next(
    ip: *const Op,
    fp: *mut u64,
    mem: *mut u8,
    st: *mut Shared,
    acc: u64,
    facc: f64,
) -> Exit {
    if TAIL_CALLS {
        // SAFETY: `ip` is the next op of the same function (fall-through or a validated jump
        // target) or the first op of a callee or the return address of a caller whose frame
        // `fp` and `st` now describe, so `run`'s contract holds for it.
        unsafe { HANDLERS[tag(ip)](ip, fp, mem, st, acc, facc) }
    } else {
        Exit { ip, trap: CONTINUE }
    }
}

/// Stops the run at the op at `ip`, which trapped.
#[inline(always)]
fn trap(ip: *const Op, code: TrapCode) -> Exit {
    Exit {
        ip: ip.wrapping_add(1),
        trap: code as u32,
    }
}

/// The handler of every slow op: ends the run there.
unsafe fn slow(
    ip: *const Op,
    _fp: *mut u64,
    _mem: *mut u8,
    _st: *mut Shared,
    _acc: u64,
    _facc: f64,
) -> Exit {
    Exit { ip, trap: 0 }
}

/// `x`, plus `2^k - 1` if it is negative: then `>> k` divides by `2^k` rounding toward zero,
/// as `div` does (`1 <= k <= 62`, so the sum cannot overflow).
#[inline(always)]
fn round_toward_zero(x: i64, k: u32) -> i64 {
    x + ((x >> 63) as u64 >> (64 - k)) as i64
}

/// Slot `s` of the frame at `fp`.
#[inline(always)]
unsafe fn get(fp: *mut u64, s: Slot) -> u64 {
    // SAFETY: decode validated `s < num_slots()`; `run`'s contract: the frame holds that many.
    unsafe { *fp.add(s as usize) }
}

/// Sets slot `s` of the frame at `fp`.
#[inline(always)]
unsafe fn set(fp: *mut u64, s: Slot, v: u64) {
    // SAFETY: as `get`.
    unsafe { *fp.add(s as usize) = v }
}

/// `ip + 1 + t`: a relative jump target, as decode made it.
#[inline(always)]
unsafe fn target(ip: *const Op, t: u32) -> *const Op {
    // SAFETY: decode made `t` relative to the next op and validated that the target is an op
    // of this function.
    unsafe { ip.add(1).offset(t as i32 as isize) }
}

/// Defines handler `$name` for ops `$Var`, binding their fields; the body ends in `next` or a
/// trap. The parameter names come from the caller so that its body can use them.
macro_rules! handler {
    ($name:ident, $Var:ident { $($f:ident),* }, |$ip:ident, $fp:ident, $mem:ident, $st:ident, $acc:ident, $facc:ident| $body:block) => {
        #[allow(unused_variables)]
        unsafe fn $name(
            $ip: *const Op,
            $fp: *mut u64,
            $mem: *mut u8,
            $st: *mut Shared,
            $acc: u64,
            $facc: f64,
        ) -> Exit {
            // SAFETY: `HANDLERS` sends only `$Var` ops here, and `run`'s contract holds for
            // `ip`, `fp` and `mem` (slot accesses, jump targets and the next op rely on it).
            unsafe {
                let Op::$Var { $($f),* } = *$ip else { std::hint::unreachable_unchecked() };
                $body
            }
        }
    };
}

/// An operand's raw bits: slot `$s` (`S`), or the previous op's integer result (`A`) or f64
/// result (`F`), forwarded in `acc` or `facc` (only where `decode::forward` put the op that
/// names it, right after the op that made it).
macro_rules! bits {
    (S, $fp:ident, $acc:ident, $facc:ident, $s:ident) => {
        get($fp, $s)
    };
    (A, $fp:ident, $acc:ident, $facc:ident, $s:ident) => {
        $acc
    };
    (F, $fp:ident, $acc:ident, $facc:ident, $s:ident) => {
        $facc.to_bits()
    };
}

/// An f64 operand: slot `$s` (`S`) or the previous op's f64 result (`F`).
macro_rules! float {
    (S, $fp:ident, $facc:ident, $s:ident) => {
        f64::from_bits(get($fp, $s))
    };
    (F, $fp:ident, $facc:ident, $s:ident) => {
        $facc
    };
}

/// `d = e(x, y)` over raw operands `x = a`, `y = b` (from slots unless `[sa, sb]` says which
/// is forwarded), an integer result (forwarded in `acc`).
macro_rules! op2 {
    ($name:ident, $Var:ident { $d:ident, $a:ident, $b:ident }, |$x:ident, $y:ident| $e:expr) => {
        op2!($name, $Var { $d, $a, $b } [S, S], |$x, $y| $e);
    };
    ($name:ident, $Var:ident { $d:ident, $a:ident, $b:ident } [$sa:ident, $sb:ident], |$x:ident, $y:ident| $e:expr) => {
        handler!($name, $Var { $d, $a, $b }, |ip, fp, mem, st, acc, facc| {
            let ($x, $y) = (bits!($sa, fp, acc, facc, $a), bits!($sb, fp, acc, facc, $b));
            let r: u64 = $e;
            set(fp, $d, r);
            next(ip.add(1), fp, mem, st, r, facc)
        });
    };
}

/// `d = e(x)` over raw operand `x = a`, an integer result.
macro_rules! op1 {
    ($name:ident, $Var:ident, |$x:ident| $e:expr) => {
        op1!($name, $Var[S], |$x| $e);
    };
    ($name:ident, $Var:ident [$sa:ident], |$x:ident| $e:expr) => {
        handler!($name, $Var { d, a }, |ip, fp, mem, st, acc, facc| {
            let $x = bits!($sa, fp, acc, facc, a);
            let r: u64 = $e;
            set(fp, d, r);
            next(ip.add(1), fp, mem, st, r, facc)
        });
    };
}

/// `d = e(x, y)` over f64 operands, an f64 result (forwarded in `facc`).
macro_rules! f2 {
    ($name:ident, $Var:ident, |$x:ident, $y:ident| $e:expr) => {
        f2!($name, $Var [S, S], |$x, $y| $e);
    };
    ($name:ident, $Var:ident [$sa:ident, $sb:ident], |$x:ident, $y:ident| $e:expr) => {
        handler!($name, $Var { d, a, b }, |ip, fp, mem, st, acc, facc| {
            let ($x, $y) = (float!($sa, fp, facc, a), float!($sb, fp, facc, b));
            let r: f64 = $e;
            set(fp, d, r.to_bits());
            next(ip.add(1), fp, mem, st, acc, r)
        });
    };
}

/// `d = e(x)` over an f64 operand, an f64 result.
macro_rules! f1 {
    ($name:ident, $Var:ident, |$x:ident| $e:expr) => {
        f1!($name, $Var[S], |$x| $e);
    };
    ($name:ident, $Var:ident [$sa:ident], |$x:ident| $e:expr) => {
        handler!($name, $Var { d, a }, |ip, fp, mem, st, acc, facc| {
            let $x = float!($sa, fp, facc, a);
            let r: f64 = $e;
            set(fp, d, r.to_bits());
            next(ip.add(1), fp, mem, st, acc, r)
        });
    };
}

/// `d = (c(x, y)) as u64` over f64 slots.
macro_rules! fcmp {
    ($name:ident, $Var:ident, |$x:ident, $y:ident| $c:expr) => {
        op2!($name, $Var { d, a, b }, |x, y| {
            let ($x, $y) = (f64::from_bits(x), f64::from_bits(y));
            ($c) as u64
        });
    };
}

/// `d = e(x, y)?`: a division that may trap.
macro_rules! div {
    ($name:ident, $Var:ident, |$x:ident, $y:ident| $e:expr) => {
        handler!($name, $Var { d, a, b }, |ip, fp, mem, st, acc, facc| {
            let ($x, $y) = (get(fp, a), get(fp, b));
            let r: Result<u64, TrapCode> = $e;
            match r {
                Ok(v) => {
                    set(fp, d, v);
                    next(ip.add(1), fp, mem, st, v, facc)
                }
                Err(code) => trap(ip, code),
            }
        });
    };
}

/// Jumps to `t` when `c(x, y)` holds over raw operands `a`, `b`.
macro_rules! br2 {
    ($name:ident, $Var:ident, |$x:ident, $y:ident| $c:expr) => {
        br2!($name, $Var [S, S], |$x, $y| $c);
    };
    ($name:ident, $Var:ident [$sa:ident, $sb:ident], |$x:ident, $y:ident| $c:expr) => {
        handler!($name, $Var { a, b, t }, |ip, fp, mem, st, acc, facc| {
            let ($x, $y) = (bits!($sa, fp, acc, facc, a), bits!($sb, fp, acc, facc, b));
            // LLVM gives each way its own jump here (the latches need `fall_through`).
            let to = if $c { target(ip, t) } else { ip.add(1) };
            next(to, fp, mem, st, acc, facc)
        });
    };
}

/// Jumps to `t` when `c(x, y)` holds over f64 operands `a`, `b`.
macro_rules! brf {
    ($name:ident, $Var:ident, |$x:ident, $y:ident| $c:expr) => {
        brf!($name, $Var [S, S], |$x, $y| $c);
    };
    ($name:ident, $Var:ident [$sa:ident, $sb:ident], |$x:ident, $y:ident| $c:expr) => {
        handler!($name, $Var { a, b, t }, |ip, fp, mem, st, acc, facc| {
            let ($x, $y) = (float!($sa, fp, facc, a), float!($sb, fp, facc, b));
            // LLVM gives each way its own jump here (the latches need `fall_through`).
            let to = if $c { target(ip, t) } else { ip.add(1) };
            next(to, fp, mem, st, acc, facc)
        });
    };
}

/// Jumps to `t` when operand `a` is (`jz`) or is not (`jnz`) zero.
macro_rules! jz {
    ($name:ident, $Var:ident [$sa:ident], |$x:ident| $c:expr) => {
        handler!($name, $Var { a, t }, |ip, fp, mem, st, acc, facc| {
            let $x = bits!($sa, fp, acc, facc, a);
            // LLVM gives each way its own jump here (the latches need `fall_through`).
            let to = if $c { target(ip, t) } else { ip.add(1) };
            next(to, fp, mem, st, acc, facc)
        });
    };
}

/// `d = e(x)` for the `$T` at `[a + off]` (little-endian, as memory is); the address from
/// slot `a` unless `[A]`. The value is forwarded as an integer, and as an f64 too by
/// `[.., F]` (f64 loads are `LoadI64`).
macro_rules! load {
    ($name:ident, $Var:ident, $T:ty, |$x:ident| $e:expr) => {
        load!($name, $Var [S], $T, |$x| $e);
    };
    ($name:ident, $Var:ident [$sa:ident $(, $f:ident)?], $T:ty, |$x:ident| $e:expr) => {
        handler!($name, $Var { d, a, off }, |ip, fp, mem, st, acc, facc| {
            match mem_at(mem, (*st).mem_size, bits!($sa, fp, acc, facc, a), off, size_of::<$T>() as u64) {
                Some(p) => {
                    // `mem_at` checked that the bytes read lie inside memory; reads are
                    // unaligned as memory allows any address.
                    let $x = <$T>::from_le((p as *const $T).read_unaligned());
                    let r: u64 = $e;
                    set(fp, d, r);
                    $(let _ = stringify!($f); let facc = f64::from_bits(r);)?
                    next(ip.add(1), fp, mem, st, r, facc)
                }
                None => trap(ip, TrapCode::OutOfBounds),
            }
        });
    };
}

/// Stores the low bytes of operand `v` (slot `v` unless `[A]` or `[F]`), as a `$T`, at
/// `[a + off]`.
macro_rules! store {
    ($name:ident, $Var:ident, $T:ty) => {
        store!($name, $Var[S], $T);
    };
    ($name:ident, $Var:ident [$sv:ident], $T:ty) => {
        handler!($name, $Var { a, off, v }, |ip, fp, mem, st, acc, facc| {
            match mem_at(mem, (*st).mem_size, get(fp, a), off, size_of::<$T>() as u64) {
                Some(p) => {
                    // `mem_at` checked that the bytes written lie inside memory. A typed
                    // write, not a copy from a local's bytes: a local whose address is taken
                    // keeps a stack frame, and the call to the next handler stays a call.
                    (p as *mut $T).write_unaligned((bits!($sv, fp, acc, facc, v) as $T).to_le());
                    next(ip.add(1), fp, mem, st, acc, facc)
                }
                None => trap(ip, TrapCode::OutOfBounds),
            }
        });
    };
}

handler!(mov, Mov { d, a }, |ip, fp, mem, st, acc, facc| {
    // Forwarded both ways: decode does not know which type the register has.
    let x = get(fp, a);
    set(fp, d, x);
    next(ip.add(1), fp, mem, st, x, f64::from_bits(x))
});

op2!(add_i, AddI { d, a, b }, |x, y| x.wrapping_add(y));
op2!(add_i_acc, AddIAcc { d, a, b } [A, S], |x, y| x.wrapping_add(y));
op2!(sub_i, SubI { d, a, b }, |x, y| x.wrapping_sub(y));
op2!(sub_i_acc, SubIAcc { d, a, b } [A, S], |x, y| x.wrapping_sub(y));
op2!(sub_i_acc_b, SubIAccB { d, a, b } [S, A], |x, y| x.wrapping_sub(y));
op2!(mul_i, MulI { d, a, b }, |x, y| x.wrapping_mul(y));
op2!(mul_i_acc, MulIAcc { d, a, b } [A, S], |x, y| x.wrapping_mul(y));
div!(div_i, DivI, |x, y| {
    let (x, y) = (x as i64, y as i64);
    if y == 0 {
        Err(TrapCode::IntegerDivideByZero)
    } else if x == i64::MIN && y == -1 {
        Err(TrapCode::IntegerOverflow)
    } else {
        Ok((x / y) as u64)
    }
});
div!(rem_i, RemI, |x, y| match y as i64 {
    0 => Err(TrapCode::IntegerDivideByZero),
    y => Ok((x as i64).wrapping_rem(y) as u64),
});
div!(udiv, UDiv, |x, y| x
    .checked_div(y)
    .ok_or(TrapCode::IntegerDivideByZero));
div!(urem, URem, |x, y| x
    .checked_rem(y)
    .ok_or(TrapCode::IntegerDivideByZero));
op2!(div_const_i, DivConstI { d, a, b }, |x, y| {
    // SAFETY: decode made this op only for a literal divisor other than 0 and -1.
    std::hint::assert_unchecked(y != 0 && y != u64::MAX);
    ((x as i64) / (y as i64)) as u64
});
op2!(rem_const_i, RemConstI { d, a, b }, |x, y| {
    // SAFETY: as `div_const_i`.
    std::hint::assert_unchecked(y != 0 && y != u64::MAX);
    ((x as i64) % (y as i64)) as u64
});
op2!(div_const_i_acc, DivConstIAcc { d, a, b } [A, S], |x, y| {
    // SAFETY: as `div_const_i`.
    std::hint::assert_unchecked(y != 0 && y != u64::MAX);
    ((x as i64) / (y as i64)) as u64
});
op2!(rem_const_i_acc, RemConstIAcc { d, a, b } [A, S], |x, y| {
    // SAFETY: as `div_const_i`.
    std::hint::assert_unchecked(y != 0 && y != u64::MAX);
    ((x as i64) % (y as i64)) as u64
});
/// `d = e(x, k)`: a division or remainder by the literal `2^k`.
macro_rules! pow2 {
    ($name:ident, $Var:ident [$sa:ident], |$x:ident, $k:ident| $e:expr) => {
        handler!($name, $Var { d, a, k }, |ip, fp, mem, st, acc, facc| {
            let ($x, $k) = (bits!($sa, fp, acc, facc, a) as i64, k);
            let r = ($e) as u64;
            set(fp, d, r);
            next(ip.add(1), fp, mem, st, r, facc)
        });
    };
}
pow2!(div_pow2_i, DivPow2I[S], |x, k| round_toward_zero(x, k) >> k);
pow2!(div_pow2_i_acc, DivPow2IAcc[A], |x, k| round_toward_zero(
    x, k
) >> k);
pow2!(rem_pow2_i, RemPow2I[S], |x, k| x
    .wrapping_sub(round_toward_zero(x, k) >> k << k));
pow2!(rem_pow2_i_acc, RemPow2IAcc[A], |x, k| x
    .wrapping_sub(round_toward_zero(x, k) >> k << k));
op2!(min_i, MinI { d, a, b }, |x, y| (x as i64).min(y as i64)
    as u64);
op2!(max_i, MaxI { d, a, b }, |x, y| (x as i64).max(y as i64)
    as u64);
op2!(and, And { d, a, b }, |x, y| x & y);
op2!(or, Or { d, a, b }, |x, y| x | y);
op2!(xor, Xor { d, a, b }, |x, y| x ^ y);
op2!(and_acc, AndAcc { d, a, b } [A, S], |x, y| x & y);
op2!(or_acc, OrAcc { d, a, b } [A, S], |x, y| x | y);
op2!(xor_acc, XorAcc { d, a, b } [A, S], |x, y| x ^ y);
op2!(shl, Shl { d, a, b }, |x, y| x.wrapping_shl(y as u32));
op2!(
    shr,
    Shr { d, a, b },
    |x, y| (x as i64).wrapping_shr(y as u32) as u64
);
op2!(ushr, UShr { d, a, b }, |x, y| x.wrapping_shr(y as u32));
op2!(shl_acc, ShlAcc { d, a, b } [A, S], |x, y| x.wrapping_shl(y as u32));
op2!(shr_acc, ShrAcc { d, a, b } [A, S], |x, y| (x as i64)
    .wrapping_shr(y as u32)
    as u64);
op2!(ushr_acc, UShrAcc { d, a, b } [A, S], |x, y| x.wrapping_shr(y as u32));
op2!(rotl, Rotl { d, a, b }, |x, y| x
    .rotate_left((y & 63) as u32));
op2!(rotr, Rotr { d, a, b }, |x, y| x
    .rotate_right((y & 63) as u32));
op1!(neg_i, NegI, |x| (x as i64).wrapping_neg() as u64);
op1!(abs_i, AbsI, |x| (x as i64).wrapping_abs() as u64);
op1!(not_i, NotI, |x| !x);
op1!(clz, Clz, |x| x.leading_zeros() as u64);
op1!(ctz, Ctz, |x| x.trailing_zeros() as u64);
op1!(popcnt, Popcnt, |x| x.count_ones() as u64);

f2!(add_f, AddF, |x, y| x + y);
f2!(sub_f, SubF, |x, y| x - y);
f2!(mul_f, MulF, |x, y| x * y);
f2!(div_f, DivF, |x, y| x / y);
f2!(add_f_acc, AddFAcc [F, S], |x, y| x + y);
f2!(sub_f_acc, SubFAcc [F, S], |x, y| x - y);
f2!(sub_f_acc_b, SubFAccB [S, F], |x, y| x - y);
f2!(mul_f_acc, MulFAcc [F, S], |x, y| x * y);
f2!(div_f_acc, DivFAcc [F, S], |x, y| x / y);
f2!(div_f_acc_b, DivFAccB [S, F], |x, y| x / y);
f2!(min_f, MinF, |x, y| math::f64_min(x, y));
f2!(max_f, MaxF, |x, y| math::f64_max(x, y));
// Both flip or clear the sign bit only, NaN payloads included.
f1!(neg_f, NegF, |x| -x);
f1!(abs_f, AbsF, |x| x.abs());
f1!(sqrt, Sqrt, |x| x.sqrt());
f1!(sqrt_acc, SqrtAcc[F], |x| x.sqrt());
f1!(floor, Floor, |x| x.floor());
f1!(ceil, Ceil, |x| x.ceil());
f1!(trunc, Trunc, |x| x.trunc());
f1!(round_f, RoundF, |x| math::round_half_even(x));
handler!(math_1, Math { f, d, a }, |ip, fp, mem, st, acc, facc| {
    set(fp, d, math1(f, f64::from_bits(get(fp, a))).to_bits());
    next(ip.add(1), fp, mem, st, acc, facc)
});
handler!(
    math_2,
    Math2 { f, d, a, b },
    |ip, fp, mem, st, acc, facc| {
        let (x, y) = (f64::from_bits(get(fp, a)), f64::from_bits(get(fp, b)));
        set(fp, d, math2(f, x, y).to_bits());
        next(ip.add(1), fp, mem, st, acc, facc)
    }
);
/// `d = x as f64` for the i64 operand `x`.
macro_rules! i2f {
    ($name:ident, $Var:ident [$sa:ident]) => {
        handler!($name, $Var { d, a }, |ip, fp, mem, st, acc, facc| {
            let r = bits!($sa, fp, acc, facc, a) as i64 as f64;
            set(fp, d, r.to_bits());
            next(ip.add(1), fp, mem, st, acc, r)
        });
    };
}
i2f!(i2f, I2F[S]);
i2f!(i2f_acc, I2FAcc[A]);
/// `d = f2i(x)` for the f64 operand `x`.
macro_rules! f2i {
    ($name:ident, $Var:ident [$sa:ident]) => {
        handler!($name, $Var { d, a }, |ip, fp, mem, st, acc, facc| {
            let r = math::f2i(float!($sa, fp, facc, a)) as u64;
            set(fp, d, r);
            next(ip.add(1), fp, mem, st, r, facc)
        });
    };
}
f2i!(f2i, F2I[S]);
f2i!(f2i_acc, F2IAcc[F]);

op2!(add_s, AddS { d, a, b }, |x, y| sil::add(x as u8, y as u8)
    as u64);
op2!(sub_s, SubS { d, a, b }, |x, y| sil::sub(x as u8, y as u8)
    as u64);
op2!(mul_s, MulS { d, a, b }, |x, y| sil::mul(x as u8, y as u8)
    as u64);
op2!(div_s, DivS { d, a, b }, |x, y| sil::div(x as u8, y as u8)
    as u64);
op1!(not_s, NotS, |x| sil::not(x as u8) as u64);
handler!(sil_1, Sil { f, d, a }, |ip, fp, mem, st, acc, facc| {
    set(fp, d, sil1(f, get(fp, a) as u8) as u64);
    next(ip.add(1), fp, mem, st, acc, facc)
});
handler!(
    sil_to_f64,
    SilToF { f, d, a },
    |ip, fp, mem, st, acc, facc| {
        set(fp, d, sil_to_f(f, get(fp, a) as u8).to_bits());
        next(ip.add(1), fp, mem, st, acc, facc)
    }
);
handler!(
    sil_int_op,
    SilInt { f, d, a, n },
    |ip, fp, mem, st, acc, facc| {
        set(
            fp,
            d,
            sil_int(f, get(fp, a) as u8, get(fp, n) as i64) as u64,
        );
        next(ip.add(1), fp, mem, st, acc, facc)
    }
);
op1!(sil_rho, SilRho, |x| sil::rho(x as u8) as u64);
op1!(sil_theta, SilTheta, |x| sil::theta(x as u8) as u64);
op1!(sil_from_byte, SilFromByte, |x| x & 0xFF);
op2!(
    sil_new,
    SilNew { d, rho, theta },
    |x, y| sil::make(x as i64, y as i64) as u64
);
op2!(sil_from, SilFrom { d, re, im }, |x, y| {
    sil::from_complex(f64::from_bits(x), f64::from_bits(y)) as u64
});

op2!(eq_i, EqI { d, a, b }, |x, y| (x == y) as u64);
op2!(ne_i, NeI { d, a, b }, |x, y| (x != y) as u64);
op2!(lt_i, LtI { d, a, b }, |x, y| ((x as i64) < (y as i64))
    as u64);
op2!(le_i, LeI { d, a, b }, |x, y| ((x as i64) <= (y as i64))
    as u64);
op2!(lt_u, LtU { d, a, b }, |x, y| (x < y) as u64);
op2!(le_u, LeU { d, a, b }, |x, y| (x <= y) as u64);
fcmp!(eq_f, EqF, |x, y| x == y);
fcmp!(ne_f, NeF, |x, y| x != y);
fcmp!(lt_f, LtF, |x, y| x < y);
fcmp!(le_f, LeF, |x, y| x <= y);

handler!(jmp, Jmp { t }, |ip, fp, mem, st, acc, facc| {
    next(target(ip, t), fp, mem, st, acc, facc)
});
jz!(jz, Jz[S], |x| x == 0);
jz!(jz_acc, JzAcc[A], |x| x == 0);
jz!(jnz, Jnz[S], |x| x != 0);
jz!(jnz_acc, JnzAcc[A], |x| x != 0);
br2!(beq_i, BeqI, |x, y| x == y);
br2!(bne_i, BneI, |x, y| x != y);
br2!(blt_i, BltI, |x, y| (x as i64) < (y as i64));
br2!(ble_i, BleI, |x, y| (x as i64) <= (y as i64));
br2!(blt_u, BltU, |x, y| x < y);
br2!(ble_u, BleU, |x, y| x <= y);
br2!(beq_i_acc, BeqIAcc [A, S], |x, y| x == y);
br2!(bne_i_acc, BneIAcc [A, S], |x, y| x != y);
br2!(blt_i_acc, BltIAcc [A, S], |x, y| (x as i64) < (y as i64));
br2!(blt_i_acc_b, BltIAccB [S, A], |x, y| (x as i64) < (y as i64));
br2!(ble_i_acc, BleIAcc [A, S], |x, y| (x as i64) <= (y as i64));
br2!(ble_i_acc_b, BleIAccB [S, A], |x, y| (x as i64) <= (y as i64));
brf!(beq_f, BeqF, |x, y| x == y);
brf!(bne_f, BneF, |x, y| x != y);
brf!(blt_f, BltF, |x, y| x < y);
brf!(ble_f, BleF, |x, y| x <= y);
brf!(blt_f_acc, BltFAcc [F, S], |x, y| x < y);
brf!(blt_f_acc_b, BltFAccB [S, F], |x, y| x < y);
brf!(ble_f_acc, BleFAcc [F, S], |x, y| x <= y);
brf!(ble_f_acc_b, BleFAccB [S, F], |x, y| x <= y);
/// Goes on to the op after `ip`, out of line: a handler that jumps here for one way of its
/// branch keeps its own jump for the other (LLVM would otherwise merge the two into one).
#[inline(never)]
unsafe fn fall_through(
    ip: *const Op,
    fp: *mut u64,
    mem: *mut u8,
    st: *mut Shared,
    acc: u64,
    facc: f64,
) -> Exit {
    // SAFETY: as `next`: the op after a branch is an op of the same function (decode put the
    // closing sentinel after every terminator).
    unsafe { next(ip.add(1), fp, mem, st, acc, facc) }
}

/// `add d, d, k` then a branch on `c(d, b)`, fused (`decode::peephole`).
macro_rules! add_branch {
    ($name:ident, $Var:ident, |$x:ident, $y:ident| $c:expr) => {
        handler!($name, $Var { dk, b, t }, |ip, fp, mem, st, acc, facc| {
            let (d, k) = unpack_dk(dk);
            let v = get(fp, d).wrapping_add(get(fp, k));
            set(fp, d, v);
            let ($x, $y) = (v as i64, get(fp, b) as i64);
            // A branch to one of two jumps, not a select of the next `ip` (which LLVM made
            // of a single `next`, and which cost sieve 27%): the jump back to the loop then
            // always sees one target, and the way out is the conditional branch's to predict.
            if $c {
                next(target(ip, t), fp, mem, st, acc, facc)
            } else {
                fall_through(ip, fp, mem, st, acc, facc)
            }
        });
    };
}
add_branch!(add_blt_i, AddBltI, |x, y| x < y);
add_branch!(add_ble_i, AddBleI, |x, y| x <= y);

/// `mul t, x, y` then `s = e(o, t)`, with the `add` or `sub` it was fused with skipped.
/// Written in the ops' order, so any of the slots may be the same.
macro_rules! mul_then {
    ($name:ident, $Var:ident, |$o:ident, $t:ident| $e:expr) => {
        handler!($name, $Var { ts, xy, o }, |ip, fp, mem, st, acc, facc| {
            let ((t, s), (x, y)) = (unpack_dk(ts), unpack_dk(xy));
            let $t = f64::from_bits(get(fp, x)) * f64::from_bits(get(fp, y));
            set(fp, t, $t.to_bits());
            let $o = f64::from_bits(get(fp, o));
            let r: f64 = $e;
            set(fp, s, r.to_bits());
            // The fused `add` (or `sub`) is the next op: it is skipped. It is no terminator,
            // so an op follows it.
            next(ip.add(2), fp, mem, st, acc, r)
        });
    };
}
mul_then!(mul_add_f, MulAddF, |o, t| o + t);
mul_then!(mul_sub_f, MulSubF, |o, t| o - t);

load!(load_i64, LoadI64 [S, F], u64, |x| x);
load!(load_i64_acc, LoadI64Acc [A, F], u64, |x| x);
load!(load_i32_acc, LoadI32Acc[A], i32, |x| x as i64 as u64);
load!(load_u8_acc, LoadU8Acc[A], u8, |x| x as u64);
load!(load_i32, LoadI32, i32, |x| x as i64 as u64);
load!(load_u32, LoadU32, u32, |x| x as u64);
load!(load_i16, LoadI16, i16, |x| x as i64 as u64);
load!(load_u16, LoadU16, u16, |x| x as u64);
load!(load_i8, LoadI8, i8, |x| x as i64 as u64);
load!(load_u8, LoadU8, u8, |x| x as u64);
store!(store8, Store8, u8);
store!(store16, Store16, u16);
store!(store32, Store32, u32);
store!(store64, Store64, u64);
store!(store8_acc, Store8Acc[A], u8);
store!(store64_acc, Store64Acc[A], u64);
store!(store64_acc_f, Store64AccF[F], u64);

// A call the fast path makes itself: a fresh frame right above this one, filled from the
// callee's template, the arguments copied in (the windows do not overlap). It leaves to the
// dispatch loop any call that needs a bigger stack or passes the depth limit, and for the
// tiered engine a call to a function with native code or whose count is about to run out
// (the loop then calls the native code or asks for it, exactly as it would have).
/// `call`'s general case, out of line so that the common one needs few registers (the
/// handler below): any frame size and argument count, and the tiered engine's call counts.
///
/// # Safety
/// As `run`'s contract, with `ip` at a `Call`.
#[inline(never)]
unsafe fn call_general(
    ip: *const Op,
    fp: *mut u64,
    mem: *mut u8,
    st: *mut Shared,
    acc: u64,
    facc: f64,
) -> Exit {
    // SAFETY: as `run`'s contract; `HANDLERS` sends only `Call` ops to `call`, which comes
    // here.
    unsafe {
        let Op::Call { site } = *ip else {
            std::hint::unreachable_unchecked()
        };
        let sh = &mut *st;
        let s = &*sh.call_sites.add(site as usize);
        let callee = &*sh.funcs.add(s.target as usize);
        let nb = sh.base + s.frame as usize;
        let depth = sh.frames.len();
        // A full frame stack would need a (non-tail) call to grow it: leave that to the loop. The
        // tier count last: a call it counts must not go to the loop too, which would count again.
        if nb + callee.num_slots() > sh.stack_len
            || depth == sh.frames.capacity()
            || depth >= MAX_DEPTH
            || (!sh.entries.is_null() && !tier_counts_call(sh, s.target))
        {
            return slow(ip, fp, mem, st, acc, facc);
        }
        // `nb + num_slots() <= stack_len`: the new frame lies inside the stack.
        let new_fp = fp.add(s.frame as usize);
        callee.init_frame(new_fp);
        // `k < num_params <= num_slots` of the callee (validated). Up to three arguments
        // without a loop.
        match *s.args {
            [] => {}
            [a] => *new_fp = get(fp, a),
            [a, b] => {
                *new_fp = get(fp, a);
                *new_fp.add(1) = get(fp, b);
            }
            [a, b, c] => {
                *new_fp = get(fp, a);
                *new_fp.add(1) = get(fp, b);
                *new_fp.add(2) = get(fp, c);
            }
            ref args => {
                for (k, &a) in args.iter().enumerate() {
                    *new_fp.add(k) = get(fp, a);
                }
            }
        }
        push_frame(sh, s, ip, nb, depth);
        // A function's first op reads no forwarded result: nothing to carry over.
        next(callee.ops.as_ptr(), new_fp, mem, st, 0, 0.0)
    }
}

handler!(call, Call { site }, |ip, fp, mem, st, acc, facc| {
    let sh = &mut *st;
    let s = &*sh.call_sites.add(site as usize);
    let callee = &*sh.funcs.add(s.target as usize);
    let nb = sh.base + s.frame as usize;
    let depth = sh.frames.len();
    // The common case only: a frame of at most two chunks, up to two arguments, the plain
    // interpreter, room on both stacks. The rest (and leaving to the loop) is `call_general`.
    let slots = callee.num_slots();
    if slots > 2 * FRAME_CHUNK
        || s.args.len() > 2
        || !sh.entries.is_null()
        || nb + slots > sh.stack_len
        || depth == sh.frames.capacity()
        || depth >= MAX_DEPTH
    {
        return call_general(ip, fp, mem, st, acc, facc);
    }
    // `nb + slots <= stack_len`: the new frame lies inside the stack.
    let new_fp = fp.add(s.frame as usize);
    callee.init_frame(new_fp);
    // `k < num_params <= num_slots` of the callee (validated).
    match *s.args {
        [] => {}
        [a] => *new_fp = get(fp, a),
        [a, b] => {
            *new_fp = get(fp, a);
            *new_fp.add(1) = get(fp, b);
        }
        _ => std::hint::unreachable_unchecked(),
    }
    push_frame(sh, s, ip, nb, depth);
    // A function's first op reads no forwarded result: nothing to carry over.
    next(callee.ops.as_ptr(), new_fp, mem, st, 0, 0.0)
});

/// Pushes the caller's frame for the call at `ip` (site `s`) as the `depth`-th, and makes the
/// callee's frame at `nb` the running one.
///
/// # Safety
/// `depth` is the frame stack's length and below its capacity; `ip` is an op of the running
/// function.
#[inline(always)]
unsafe fn push_frame(sh: &mut Shared, s: &CallSite, ip: *const Op, nb: usize, depth: usize) {
    // SAFETY: `depth < capacity`: room for one more frame without growing; the slot written
    // is then counted by `set_len`.
    unsafe {
        sh.frames.as_mut_ptr().add(depth).write(Frame {
            func: sh.func,
            dest: s.dest,
            base: sh.base,
            ret: ip.add(1),
        });
        sh.frames.set_len(depth + 1);
    }
    (sh.func, sh.base) = (s.target, nb);
}
handler!(ret, Ret { a }, |ip, fp, mem, st, acc, facc| {
    return_to_caller(ip, fp, mem, st, Some(get(fp, a)))
});
handler!(ret_void, RetVoid {}, |ip, fp, mem, st, acc, facc| {
    return_to_caller(ip, fp, mem, st, None)
});

/// Tiered engine: counts an interpreted call of `f` and says yes, if `f` has no native code
/// and its count does not run out with this call (which the dispatch loop must see, to ask
/// for code); otherwise says no and counts nothing.
///
/// # Safety
/// `sh.entries` and `sh.call_counts` point at one entry and count per function of the
/// program, `f` is one of them, and nothing else touches the counts during the run.
#[inline(always)]
unsafe fn tier_counts_call(sh: &mut Shared, f: u32) -> bool {
    // SAFETY: the contract.
    unsafe {
        if !(*sh.entries.add(f as usize))
            .load(Ordering::Acquire)
            .is_null()
        {
            return false;
        }
        let count = &mut *sh.call_counts.add(f as usize);
        if *count <= 1 {
            return false;
        }
        *count -= 1;
        true
    }
}

/// Returns `v` to the waiting caller, or leaves the entry function's return to the dispatch
/// loop, which ends the run.
///
/// # Safety
/// As `run`'s contract, with `ip` at a `Ret` or `RetVoid`.
#[inline(always)]
unsafe fn return_to_caller(
    ip: *const Op,
    fp: *mut u64,
    mem: *mut u8,
    st: *mut Shared,
    v: Option<u64>,
) -> Exit {
    // The op a return comes back to follows a call, so it reads no forwarded result.
    let (acc, facc) = (0, 0.0);
    // SAFETY: `st` is valid (the contract); frames hold only functions of the program, frame
    // windows inside the stack and return addresses inside their function's ops.
    unsafe {
        let sh = &mut *st;
        let Some(fr) = sh.frames.pop() else {
            return slow(ip, fp, mem, st, acc, facc);
        };
        (sh.func, sh.base) = (fr.func, fr.base);
        let fp = sh.stack.add(fr.base);
        if let Some(v) = v
            && fr.dest != NO_SLOT
        {
            set(fp, fr.dest, v);
        }
        next(fr.ret, fp, mem, st, acc, facc)
    }
}

/// A value of each operand type, to build sample ops whose tags `build_handlers` reads.
trait Sample {
    const SAMPLE: Self;
}
impl Sample for u32 {
    const SAMPLE: u32 = 0;
}
impl Sample for i32 {
    const SAMPLE: i32 = 0;
}
impl Sample for MathFn {
    const SAMPLE: MathFn = MathFn::Sin;
}
impl Sample for Math2Fn {
    const SAMPLE: Math2Fn = Math2Fn::Atan2;
}
impl Sample for SilFn {
    const SAMPLE: SilFn = SilFn::Inv;
}
impl Sample for SilToF {
    const SAMPLE: SilToF = SilToF::Re;
}
impl Sample for SilIntFn {
    const SAMPLE: SilIntFn = SilIntFn::Pow;
}
const fn sample<T: Sample>() -> T {
    T::SAMPLE
}

/// `(a sample op, its handler)` pairs, one per fast op.
macro_rules! entries {
    ($($name:ident: $Var:ident { $($f:ident),* }),* $(,)?) => {
        [$((Op::$Var { $($f: sample()),* }, $name as Handler)),*]
    };
}

/// The handler of each tag: the fast ops' own, `slow` for the rest.
static HANDLERS: [Handler; 256] = build_handlers();

/// Builds `HANDLERS`; checked when compiling: every tag below `FIRST_SLOW` has exactly one
/// handler, so no fast op can reach `slow` (nor a slow op a fast handler).
const fn build_handlers() -> [Handler; 256] {
    let entries = entries![
        mov: Mov { d, a },
        add_i: AddI { d, a, b },
        sub_i: SubI { d, a, b },
        mul_i: MulI { d, a, b },
        div_i: DivI { d, a, b },
        rem_i: RemI { d, a, b },
        div_const_i: DivConstI { d, a, b },
        rem_const_i: RemConstI { d, a, b },
        div_pow2_i: DivPow2I { d, a, k },
        rem_pow2_i: RemPow2I { d, a, k },
        udiv: UDiv { d, a, b },
        urem: URem { d, a, b },
        min_i: MinI { d, a, b },
        max_i: MaxI { d, a, b },
        and: And { d, a, b },
        or: Or { d, a, b },
        xor: Xor { d, a, b },
        shl: Shl { d, a, b },
        shr: Shr { d, a, b },
        ushr: UShr { d, a, b },
        rotl: Rotl { d, a, b },
        rotr: Rotr { d, a, b },
        neg_i: NegI { d, a },
        abs_i: AbsI { d, a },
        not_i: NotI { d, a },
        clz: Clz { d, a },
        ctz: Ctz { d, a },
        popcnt: Popcnt { d, a },
        add_f: AddF { d, a, b },
        sub_f: SubF { d, a, b },
        mul_f: MulF { d, a, b },
        div_f: DivF { d, a, b },
        min_f: MinF { d, a, b },
        max_f: MaxF { d, a, b },
        neg_f: NegF { d, a },
        abs_f: AbsF { d, a },
        sqrt: Sqrt { d, a },
        floor: Floor { d, a },
        ceil: Ceil { d, a },
        trunc: Trunc { d, a },
        round_f: RoundF { d, a },
        math_1: Math { f, d, a },
        math_2: Math2 { f, d, a, b },
        i2f: I2F { d, a },
        f2i: F2I { d, a },
        add_s: AddS { d, a, b },
        sub_s: SubS { d, a, b },
        mul_s: MulS { d, a, b },
        div_s: DivS { d, a, b },
        not_s: NotS { d, a },
        sil_1: Sil { f, d, a },
        sil_to_f64: SilToF { f, d, a },
        sil_int_op: SilInt { f, d, a, n },
        sil_rho: SilRho { d, a },
        sil_theta: SilTheta { d, a },
        sil_from_byte: SilFromByte { d, a },
        sil_new: SilNew { d, rho, theta },
        sil_from: SilFrom { d, re, im },
        eq_i: EqI { d, a, b },
        ne_i: NeI { d, a, b },
        lt_i: LtI { d, a, b },
        le_i: LeI { d, a, b },
        lt_u: LtU { d, a, b },
        le_u: LeU { d, a, b },
        eq_f: EqF { d, a, b },
        ne_f: NeF { d, a, b },
        lt_f: LtF { d, a, b },
        le_f: LeF { d, a, b },
        jmp: Jmp { t },
        jz: Jz { a, t },
        jnz: Jnz { a, t },
        beq_i: BeqI { a, b, t },
        bne_i: BneI { a, b, t },
        blt_i: BltI { a, b, t },
        ble_i: BleI { a, b, t },
        blt_u: BltU { a, b, t },
        ble_u: BleU { a, b, t },
        beq_f: BeqF { a, b, t },
        bne_f: BneF { a, b, t },
        blt_f: BltF { a, b, t },
        ble_f: BleF { a, b, t },
        add_blt_i: AddBltI { dk, b, t },
        add_ble_i: AddBleI { dk, b, t },
        mul_add_f: MulAddF { ts, xy, o },
        mul_sub_f: MulSubF { ts, xy, o },
        load_i64: LoadI64 { d, a, off },
        load_i32: LoadI32 { d, a, off },
        load_u32: LoadU32 { d, a, off },
        load_i16: LoadI16 { d, a, off },
        load_u16: LoadU16 { d, a, off },
        load_i8: LoadI8 { d, a, off },
        load_u8: LoadU8 { d, a, off },
        store8: Store8 { a, off, v },
        store16: Store16 { a, off, v },
        store32: Store32 { a, off, v },
        store64: Store64 { a, off, v },
        call: Call { site },
        ret: Ret { a },
        ret_void: RetVoid {},
        add_i_acc: AddIAcc { d, a, b },
        sub_i_acc: SubIAcc { d, a, b },
        sub_i_acc_b: SubIAccB { d, a, b },
        mul_i_acc: MulIAcc { d, a, b },
        and_acc: AndAcc { d, a, b },
        or_acc: OrAcc { d, a, b },
        xor_acc: XorAcc { d, a, b },
        shl_acc: ShlAcc { d, a, b },
        shr_acc: ShrAcc { d, a, b },
        ushr_acc: UShrAcc { d, a, b },
        div_const_i_acc: DivConstIAcc { d, a, b },
        rem_const_i_acc: RemConstIAcc { d, a, b },
        div_pow2_i_acc: DivPow2IAcc { d, a, k },
        rem_pow2_i_acc: RemPow2IAcc { d, a, k },
        i2f_acc: I2FAcc { d, a },
        add_f_acc: AddFAcc { d, a, b },
        sub_f_acc: SubFAcc { d, a, b },
        sub_f_acc_b: SubFAccB { d, a, b },
        mul_f_acc: MulFAcc { d, a, b },
        div_f_acc: DivFAcc { d, a, b },
        div_f_acc_b: DivFAccB { d, a, b },
        sqrt_acc: SqrtAcc { d, a },
        f2i_acc: F2IAcc { d, a },
        jz_acc: JzAcc { a, t },
        jnz_acc: JnzAcc { a, t },
        beq_i_acc: BeqIAcc { a, b, t },
        bne_i_acc: BneIAcc { a, b, t },
        blt_i_acc: BltIAcc { a, b, t },
        blt_i_acc_b: BltIAccB { a, b, t },
        ble_i_acc: BleIAcc { a, b, t },
        ble_i_acc_b: BleIAccB { a, b, t },
        blt_f_acc: BltFAcc { a, b, t },
        blt_f_acc_b: BltFAccB { a, b, t },
        ble_f_acc: BleFAcc { a, b, t },
        ble_f_acc_b: BleFAccB { a, b, t },
        load_i64_acc: LoadI64Acc { d, a, off },
        load_i32_acc: LoadI32Acc { d, a, off },
        load_u8_acc: LoadU8Acc { d, a, off },
        store8_acc: Store8Acc { a, off, v },
        store64_acc: Store64Acc { a, off, v },
        store64_acc_f: Store64AccF { a, off, v },
    ];
    let mut table = [slow as Handler; 256];
    let mut seen = [false; 256];
    let mut i = 0;
    while i < entries.len() {
        let k = tag_of(&entries[i].0);
        assert!(k < FIRST_SLOW, "a slow op has a fast handler");
        assert!(!seen[k], "an op has two handlers");
        seen[k] = true;
        table[k] = entries[i].1;
        i += 1;
    }
    assert!(entries.len() == FIRST_SLOW, "a fast op has no handler");
    table
}

// Out-of-line helpers for the heavier ops: their handlers stay small, with `ip`, `fp`, the
// context and the call state left in their argument registers across the call.

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

/// The host address of the `n` bytes at `[base + off]` (wrapping), if they lie in the memory
/// of `size` bytes at `mem` (the rule of `runtime::mem::range`, with the offset folded in).
#[inline(always)]
fn mem_at(mem: *mut u8, size: u64, base: u64, off: i32, n: u64) -> Option<*mut u8> {
    // A negative address, as a u64, lies above any memory size (sizes are below 2^63).
    let start = (base as i64).wrapping_add(off as i64) as u64;
    // SAFETY: `start + n <= size`, so the range lies inside the allocation.
    (start <= size && size - start >= n).then(|| unsafe { mem.add(start as usize) })
}
