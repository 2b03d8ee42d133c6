//! The interpreter's instruction set: verified bytecode decoded once into ops made for dispatch.
//!
//! Every operand is a frame slot. A frame is `[registers (params first) | constants | scratch]`:
//! registers are numbered exactly as the bytecode (and codegen) number them, literals are hoisted
//! into constant slots, so no op ever asks "register or literal?". Ops are specialised by type
//! (`AddI`, `AddF`, `AddS`), `gt`/`ge` become `lt`/`le` with swapped operands, `nop` disappears,
//! and jump targets are op indices.

/// A frame slot index.
pub(crate) type Slot = u32;

/// Frame templates (and so frames) are a whole number of these slot chunks.
pub(crate) const FRAME_CHUNK: usize = 4;

/// "No destination" for calls whose result is dropped.
pub(crate) const NO_SLOT: Slot = u32::MAX;

/// Unary f64 functions dispatched through a table (keeps `Op` small).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MathFn {
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Exp,
    Ln,
    Log10,
}

/// Binary f64 functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Math2Fn {
    Atan2,
    Pow,
    Hypot,
    Rem,
}

/// ByteSil → ByteSil functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SilFn {
    Inv,
    Conj,
    Mag,
    Phase,
    Neg,
}

/// ByteSil → f64 functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SilToF {
    Re,
    Im,
    Abs,
    Arg,
}

/// ByteSil × i64 → ByteSil functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SilIntFn {
    Pow,
    Root,
    Scale,
    Rotate,
}

/// `repr(u8)`: the tag is the op's first byte, which the threaded fast path reads to pick the
/// next handler (`threaded::tag`). Ops up to `RetVoid` are the fast path's; `FIRST_SLOW` and the
/// order of the variants below keep that range contiguous.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
pub(crate) enum Op {
    Mov {
        d: Slot,
        a: Slot,
    },

    AddI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SubI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MulI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    DivI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    RemI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    /// `div d, a, 2^k` for a literal `2^k`, `1 <= k <= 62`: a rounding shift, no divide.
    DivPow2I {
        d: Slot,
        a: Slot,
        k: u32,
    },
    /// `rem d, a, 2^k` for a literal `2^k`, `1 <= k <= 62`.
    RemPow2I {
        d: Slot,
        a: Slot,
        k: u32,
    },
    /// `div`/`rem` by any other literal but 0 and -1 (in slot `b`): they cannot trap.
    DivConstI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    RemConstI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    UDiv {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    URem {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MinI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MaxI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    And {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    Or {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    Xor {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    Shl {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    Shr {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    UShr {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    Rotl {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    Rotr {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    NegI {
        d: Slot,
        a: Slot,
    },
    AbsI {
        d: Slot,
        a: Slot,
    },
    NotI {
        d: Slot,
        a: Slot,
    },
    Clz {
        d: Slot,
        a: Slot,
    },
    Ctz {
        d: Slot,
        a: Slot,
    },
    Popcnt {
        d: Slot,
        a: Slot,
    },

    AddF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SubF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MulF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    DivF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MinF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MaxF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    NegF {
        d: Slot,
        a: Slot,
    },
    AbsF {
        d: Slot,
        a: Slot,
    },
    Sqrt {
        d: Slot,
        a: Slot,
    },
    Floor {
        d: Slot,
        a: Slot,
    },
    Ceil {
        d: Slot,
        a: Slot,
    },
    Trunc {
        d: Slot,
        a: Slot,
    },
    RoundF {
        d: Slot,
        a: Slot,
    },
    Math {
        f: MathFn,
        d: Slot,
        a: Slot,
    },
    Math2 {
        f: Math2Fn,
        d: Slot,
        a: Slot,
        b: Slot,
    },
    I2F {
        d: Slot,
        a: Slot,
    },
    F2I {
        d: Slot,
        a: Slot,
    },

    AddS {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SubS {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MulS {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    DivS {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    NotS {
        d: Slot,
        a: Slot,
    },
    Sil {
        f: SilFn,
        d: Slot,
        a: Slot,
    },
    SilToF {
        f: SilToF,
        d: Slot,
        a: Slot,
    },
    SilInt {
        f: SilIntFn,
        d: Slot,
        a: Slot,
        n: Slot,
    },
    SilRho {
        d: Slot,
        a: Slot,
    },
    SilTheta {
        d: Slot,
        a: Slot,
    },
    SilFromByte {
        d: Slot,
        a: Slot,
    },
    SilNew {
        d: Slot,
        rho: Slot,
        theta: Slot,
    },
    SilFrom {
        d: Slot,
        re: Slot,
        im: Slot,
    },

    /// `eq`/`ne` on i64 and sil (raw bytes) alike.
    EqI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    NeI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    LtI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    LeI {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    LtU {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    LeU {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    EqF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    NeF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    LtF {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    LeF {
        d: Slot,
        a: Slot,
        b: Slot,
    },

    Jmp {
        t: u32,
    },
    Jz {
        a: Slot,
        t: u32,
    },
    Jnz {
        a: Slot,
        t: u32,
    },
    BeqI {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BneI {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BltI {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BleI {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BltU {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BleU {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BeqF {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BneF {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BltF {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BleF {
        a: Slot,
        b: Slot,
        t: u32,
    },
    /// `add d, d, k` then `blt d, b, t`, fused (`peephole`): the usual loop latch in one
    /// dispatch. Falls through to the `blt` it replaces, which then falls through as well.
    /// `dk` is `d | k << 16`: three u32 fields, at the offsets every other op uses, keep the
    /// dispatch loop's shared operand loads (and its register allocation) as they were.
    AddBltI {
        dk: u32,
        b: Slot,
        t: u32,
    },
    /// The same with `ble`.
    AddBleI {
        dk: u32,
        b: Slot,
        t: u32,
    },
    /// `mul t, x, y` then `add s, o, t` (or `add s, t, o`: the same sum, but for the bits of a
    /// NaN, which may differ) on f64, fused (`decode::fuse_mul_add`): both results rounded and
    /// written as the two ops would (this is not a fused multiply-add). Replaces
    /// the `mul` and skips the `add` it was fused with, which stays for jumps to it. `ts` is
    /// `t | s << 16`, `xy` is `x | y << 16` (`pack_dk`).
    MulAddF {
        ts: u32,
        xy: u32,
        o: Slot,
    },
    /// The same with `sub s, o, t`.
    MulSubF {
        ts: u32,
        xy: u32,
        o: Slot,
    },

    /// `d = [a + off]`, one op per width and extension (f64 loads as `LoadI64`, sil as
    /// `LoadU8`): each its own handler, with no second dispatch on the kind.
    LoadI64 {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadI32 {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadU32 {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadI16 {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadU16 {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadI8 {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadU8 {
        d: Slot,
        a: Slot,
        off: i32,
    },
    Store8 {
        a: Slot,
        off: i32,
        v: Slot,
    },
    Store16 {
        a: Slot,
        off: i32,
        v: Slot,
    },
    Store32 {
        a: Slot,
        off: i32,
        v: Slot,
    },
    Store64 {
        a: Slot,
        off: i32,
        v: Slot,
    },

    // Forwarded operands (`decode::forward`): the same ops as above, but the operand named
    // `Acc` (`a`, or `b` for `..AccB`) is read from the handler's register copy of the previous
    // op's result (`acc` for integers, `facc` for f64) instead of from its slot. The slot still
    // holds the same value, so every field keeps its meaning; only the dispatch differs, and a
    // dependent chain skips a store-to-load round trip through the frame per op.
    AddIAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SubIAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SubIAccB {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MulIAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    AndAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    OrAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    XorAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    ShlAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    ShrAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    UShrAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    DivConstIAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    RemConstIAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    DivPow2IAcc {
        d: Slot,
        a: Slot,
        k: u32,
    },
    RemPow2IAcc {
        d: Slot,
        a: Slot,
        k: u32,
    },
    I2FAcc {
        d: Slot,
        a: Slot,
    },
    AddFAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SubFAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SubFAccB {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    MulFAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    DivFAcc {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    DivFAccB {
        d: Slot,
        a: Slot,
        b: Slot,
    },
    SqrtAcc {
        d: Slot,
        a: Slot,
    },
    F2IAcc {
        d: Slot,
        a: Slot,
    },
    JzAcc {
        a: Slot,
        t: u32,
    },
    JnzAcc {
        a: Slot,
        t: u32,
    },
    BeqIAcc {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BneIAcc {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BltIAcc {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BltIAccB {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BleIAcc {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BleIAccB {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BltFAcc {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BltFAccB {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BleFAcc {
        a: Slot,
        b: Slot,
        t: u32,
    },
    BleFAccB {
        a: Slot,
        b: Slot,
        t: u32,
    },
    /// Loads whose address `a` is forwarded.
    LoadI64Acc {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadI32Acc {
        d: Slot,
        a: Slot,
        off: i32,
    },
    LoadU8Acc {
        d: Slot,
        a: Slot,
        off: i32,
    },
    /// Stores whose value `v` is forwarded: an integer (`acc`), or an f64 (`facc`, `..AccF`).
    Store8Acc {
        a: Slot,
        off: i32,
        v: Slot,
    },
    Store64Acc {
        a: Slot,
        off: i32,
        v: Slot,
    },
    Store64AccF {
        a: Slot,
        off: i32,
        v: Slot,
    },

    /// `Program::call_sites[site]`.
    Call {
        site: u32,
    },
    Ret {
        a: Slot,
    },
    RetVoid,

    // Everything above runs in the threaded fast path (`threaded.rs`; the dispatch loop takes
    // over the calls that need a bigger stack, native code or a tier-up); everything from
    // here on needs the dispatch loop's program tables, tiering or I/O.
    /// `a` and `b` are `Program::pairs[ab]` (keeps `Op` at 16 bytes).
    SilLerp {
        d: Slot,
        ab: u32,
        t: Slot,
    },
    /// `a` and `b` are `Program::pairs[ab]`.
    Select {
        d: Slot,
        c: Slot,
        ab: u32,
    },
    /// `Program::switch_tables[table]`: the targets, then the default last.
    Switch {
        a: Slot,
        table: u32,
    },

    /// `Program::call_sites[site]` (so are the other calls' sites).
    CallHost {
        site: u32,
    },
    Tail {
        site: u32,
    },
    /// A tail call to an extern: call, then return its result.
    TailHost {
        site: u32,
    },
    CallI {
        site: u32,
    },
    Exit {
        a: Slot,
    },
    Trap,
    /// Emitted only when interrupts are enabled: at function entry and before backward jumps.
    Poll,
    /// Emitted only for the tiered engine, at a loop header (the target of a backward jump):
    /// counts arrivals at `Program::loops[id]` and enters its native code once there is some.
    LoopHead {
        id: u32,
    },
    /// Emitted only when profiling (`vsp run --profile`): adds one to profile counter `id`
    /// (a call at function entry, an arrival at a loop header).
    Count {
        id: u32,
    },

    MemSize {
        d: Slot,
    },
    MemGrow {
        d: Slot,
        a: Slot,
    },
    MemCopy {
        dst: Slot,
        src: Slot,
        n: Slot,
    },
    MemFill {
        dst: Slot,
        byte: Slot,
        n: Slot,
    },

    PrintI {
        a: Slot,
        nl: bool,
    },
    /// `prec < 0`: shortest form.
    PrintF {
        a: Slot,
        prec: i8,
        nl: bool,
    },
    PrintS {
        a: Slot,
        nl: bool,
    },
    Newline,
    Putc {
        a: Slot,
    },
    Write {
        a: Slot,
        n: Slot,
    },
    Getc {
        d: Slot,
    },
    Clock {
        d: Slot,
    },
}

/// A call's operands, kept out of line so `Op` stays small.
#[derive(Clone, Debug)]
pub(crate) struct CallSite {
    /// A function index (`Call`, `Tail`), an extern index (`CallHost`, `TailHost`), or for
    /// `CallI` the slot holding the handle.
    pub target: u32,
    pub args: Box<[Slot]>,
    pub dest: Slot,
    /// For `CallI`: the signature id the handle's function must have.
    pub sig: u32,
    /// The calling function's frame size in slots: the callee's frame starts that far above
    /// the caller's (so a call needs no look-up of its own function).
    pub frame: u32,
}

/// One function, decoded.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub ops: Box<[Op]>,
    /// The initial frame: zeros for registers, literal values for constant slots.
    pub frame_template: Box<[u64]>,
    pub num_params: u32,
    /// Source line of each op, for backtraces.
    pub lines: Box<[u32]>,
    /// Interned signature, compared by `calli`.
    pub sig: u32,
}

impl Code {
    pub fn num_slots(&self) -> usize {
        self.frame_template.len()
    }

    /// Fills a new frame of this function at `dst` from its template (zeroed registers,
    /// constants).
    ///
    /// # Safety
    /// `dst` points at `num_slots()` writable slots that do not overlap the template.
    #[inline(always)]
    pub unsafe fn init_frame(&self, dst: *mut u64) {
        // Templates are whole chunks, at least one (decode pads them): one 32-byte copy per
        // chunk, no call to memcpy, and the first two chunks (frames of up to 8 slots, the
        // usual small function) without a loop.
        let t = self.frame_template.as_ptr() as *const [u64; FRAME_CHUNK];
        let dst = dst as *mut [u64; FRAME_CHUNK];
        let chunks = self.frame_template.len() / FRAME_CHUNK;
        // SAFETY (each copy): chunk `k < chunks` lies inside the template and inside the new
        // frame (the contract), and the two do not overlap.
        unsafe {
            dst.write_unaligned(t.read_unaligned());
            if chunks > 1 {
                dst.add(1).write_unaligned(t.add(1).read_unaligned());
                if chunks > 2 {
                    copy_chunks(t, dst, 2, chunks);
                }
            }
        }
    }
}

/// Copies chunks `from..to` of a frame template `t` to a new frame `dst`: the bigger frames'
/// rest, out of line so that a call to a small function carries no loop for it.
///
/// # Safety
/// As `Code::init_frame`, for chunks `from..to` of the template.
#[inline(never)]
unsafe fn copy_chunks(
    t: *const [u64; FRAME_CHUNK],
    dst: *mut [u64; FRAME_CHUNK],
    from: usize,
    to: usize,
) {
    for k in from..to {
        // SAFETY: the contract.
        unsafe { dst.add(k).write_unaligned(t.add(k).read_unaligned()) };
    }
}

impl Op {
    /// Calls `f` with every frame slot this op reads or writes (not call-site arguments, which
    /// live in `CallSite`); a destination comes first.
    pub(crate) fn for_each_slot(&self, mut f: impl FnMut(Slot)) {
        let mut op = *self;
        op.for_each_slot_mut(|s| f(*s));
    }

    /// As `for_each_slot`, letting `f` change each slot (renaming a leaf's slots when it is
    /// inlined). `AddBltI`'s packed slots are renamed only if the new ones still fit.
    pub(crate) fn for_each_slot_mut(&mut self, mut f: impl FnMut(&mut Slot)) {
        use Op::*;
        match self {
            Mov { d, a }
            | DivPow2I { d, a, .. }
            | RemPow2I { d, a, .. }
            | NegI { d, a }
            | AbsI { d, a }
            | NotI { d, a }
            | Clz { d, a }
            | Ctz { d, a }
            | Popcnt { d, a }
            | NegF { d, a }
            | AbsF { d, a }
            | Sqrt { d, a }
            | Floor { d, a }
            | Ceil { d, a }
            | Trunc { d, a }
            | RoundF { d, a }
            | Math { d, a, .. }
            | I2F { d, a }
            | F2I { d, a }
            | NotS { d, a }
            | Sil { d, a, .. }
            | SilToF { d, a, .. }
            | SilRho { d, a }
            | SilTheta { d, a }
            | SilFromByte { d, a }
            | MemGrow { d, a }
            | LoadI64 { d, a, .. }
            | LoadI32 { d, a, .. }
            | LoadU32 { d, a, .. }
            | LoadI16 { d, a, .. }
            | LoadU16 { d, a, .. }
            | LoadI8 { d, a, .. }
            | LoadU8 { d, a, .. }
            | DivPow2IAcc { d, a, .. }
            | RemPow2IAcc { d, a, .. }
            | I2FAcc { d, a }
            | SqrtAcc { d, a }
            | F2IAcc { d, a }
            | LoadI64Acc { d, a, .. }
            | LoadI32Acc { d, a, .. }
            | LoadU8Acc { d, a, .. } => {
                f(d);
                f(a);
            }
            AddI { d, a, b }
            | SubI { d, a, b }
            | MulI { d, a, b }
            | DivI { d, a, b }
            | RemI { d, a, b }
            | DivConstI { d, a, b }
            | RemConstI { d, a, b }
            | UDiv { d, a, b }
            | URem { d, a, b }
            | MinI { d, a, b }
            | MaxI { d, a, b }
            | And { d, a, b }
            | Or { d, a, b }
            | Xor { d, a, b }
            | Shl { d, a, b }
            | Shr { d, a, b }
            | UShr { d, a, b }
            | Rotl { d, a, b }
            | Rotr { d, a, b }
            | AddF { d, a, b }
            | SubF { d, a, b }
            | MulF { d, a, b }
            | DivF { d, a, b }
            | MinF { d, a, b }
            | MaxF { d, a, b }
            | Math2 { d, a, b, .. }
            | AddS { d, a, b }
            | SubS { d, a, b }
            | MulS { d, a, b }
            | DivS { d, a, b }
            | SilInt { d, a, n: b, .. }
            | SilNew {
                d,
                rho: a,
                theta: b,
            }
            | SilFrom { d, re: a, im: b }
            | EqI { d, a, b }
            | NeI { d, a, b }
            | LtI { d, a, b }
            | LeI { d, a, b }
            | LtU { d, a, b }
            | LeU { d, a, b }
            | EqF { d, a, b }
            | NeF { d, a, b }
            | LtF { d, a, b }
            | LeF { d, a, b }
            | AddIAcc { d, a, b }
            | SubIAcc { d, a, b }
            | SubIAccB { d, a, b }
            | MulIAcc { d, a, b }
            | AndAcc { d, a, b }
            | OrAcc { d, a, b }
            | XorAcc { d, a, b }
            | ShlAcc { d, a, b }
            | ShrAcc { d, a, b }
            | UShrAcc { d, a, b }
            | DivConstIAcc { d, a, b }
            | RemConstIAcc { d, a, b }
            | AddFAcc { d, a, b }
            | SubFAcc { d, a, b }
            | SubFAccB { d, a, b }
            | MulFAcc { d, a, b }
            | DivFAcc { d, a, b }
            | DivFAccB { d, a, b } => {
                f(d);
                f(a);
                f(b);
            }
            SilLerp { d, t: c, .. } | Select { d, c, .. } => {
                f(d);
                f(c);
            }
            Jz { a, .. }
            | Jnz { a, .. }
            | JzAcc { a, .. }
            | JnzAcc { a, .. }
            | Switch { a, .. }
            | Ret { a }
            | Exit { a }
            | Putc { a }
            | PrintI { a, .. }
            | PrintF { a, .. }
            | PrintS { a, .. }
            | MemSize { d: a }
            | Getc { d: a }
            | Clock { d: a } => f(a),
            BeqI { a, b, .. }
            | BneI { a, b, .. }
            | BltI { a, b, .. }
            | BleI { a, b, .. }
            | BltU { a, b, .. }
            | BleU { a, b, .. }
            | BeqF { a, b, .. }
            | BneF { a, b, .. }
            | BltF { a, b, .. }
            | BleF { a, b, .. }
            | Store8 { a, v: b, .. }
            | Store16 { a, v: b, .. }
            | Store32 { a, v: b, .. }
            | Store64 { a, v: b, .. }
            | BeqIAcc { a, b, .. }
            | BneIAcc { a, b, .. }
            | BltIAcc { a, b, .. }
            | BltIAccB { a, b, .. }
            | BleIAcc { a, b, .. }
            | BleIAccB { a, b, .. }
            | BltFAcc { a, b, .. }
            | BltFAccB { a, b, .. }
            | BleFAcc { a, b, .. }
            | BleFAccB { a, b, .. }
            | Store8Acc { a, v: b, .. }
            | Store64Acc { a, v: b, .. }
            | Store64AccF { a, v: b, .. }
            | Write { a, n: b } => {
                f(a);
                f(b);
            }
            AddBltI { dk, b, .. } | AddBleI { dk, b, .. } => {
                let (mut d, mut k) = unpack_dk(*dk);
                f(&mut d);
                f(&mut k);
                f(b);
                if let Some(packed) = pack_dk(d, k) {
                    *dk = packed;
                }
            }
            MulAddF { ts, xy, o } | MulSubF { ts, xy, o } => {
                let ((mut t, mut s), (mut x, mut y)) = (unpack_dk(*ts), unpack_dk(*xy));
                // The two destinations first: `t`, then `s`.
                f(&mut t);
                f(&mut s);
                f(&mut x);
                f(&mut y);
                f(o);
                if let (Some(a), Some(b)) = (pack_dk(t, s), pack_dk(x, y)) {
                    (*ts, *xy) = (a, b);
                }
            }
            MemCopy { dst, src, n } => {
                f(dst);
                f(src);
                f(n);
            }
            MemFill { dst, byte, n } => {
                f(dst);
                f(byte);
                f(n);
            }
            Jmp { .. }
            | Call { .. }
            | CallHost { .. }
            | Tail { .. }
            | TailHost { .. }
            | CallI { .. }
            | RetVoid
            | Trap
            | Poll
            | LoopHead { .. }
            | Count { .. }
            | Newline => {}
        }
    }

    /// The op index this op may jump to, if any (switches are checked through their table).
    pub(crate) fn jump_target(&self) -> Option<u32> {
        let mut op = *self;
        op.jump_target_mut().map(|t| *t)
    }
}

impl Op {
    /// The jump target field, if this op has one (switches keep absolute tables).
    pub(crate) fn jump_target_mut(&mut self) -> Option<&mut u32> {
        use Op::*;
        match self {
            Jmp { t }
            | Jz { t, .. }
            | Jnz { t, .. }
            | BeqI { t, .. }
            | BneI { t, .. }
            | BltI { t, .. }
            | BleI { t, .. }
            | BltU { t, .. }
            | BleU { t, .. }
            | BeqF { t, .. }
            | BneF { t, .. }
            | BltF { t, .. }
            | BleF { t, .. }
            | AddBltI { t, .. }
            | AddBleI { t, .. }
            | JzAcc { t, .. }
            | JnzAcc { t, .. }
            | BeqIAcc { t, .. }
            | BneIAcc { t, .. }
            | BltIAcc { t, .. }
            | BltIAccB { t, .. }
            | BleIAcc { t, .. }
            | BleIAccB { t, .. }
            | BltFAcc { t, .. }
            | BltFAccB { t, .. }
            | BleFAcc { t, .. }
            | BleFAccB { t, .. } => Some(t),
            _ => None,
        }
    }
}

/// `AddBltI`'s `dk` from its two slots, if both fit in 16 bits.
pub(crate) fn pack_dk(d: Slot, k: Slot) -> Option<u32> {
    let (d, k) = (u16::try_from(d).ok()?, u16::try_from(k).ok()?);
    Some(u32::from(d) | u32::from(k) << 16)
}

/// `AddBltI`'s two slots, `(d, k)`.
#[inline(always)]
pub(crate) fn unpack_dk(dk: u32) -> (Slot, Slot) {
    (dk & 0xffff, dk >> 16)
}

#[cfg(test)]
mod tests {
    #[test]
    fn op_stays_small() {
        // Dispatch copies an op per instruction: keep it within 16 bytes.
        assert!(
            std::mem::size_of::<super::Op>() <= 16,
            "Op is {} bytes",
            std::mem::size_of::<super::Op>()
        );
    }
}
