//! The `.silc` binary codec: a compact, versioned, deterministic encoding of a `Module`.

use crate::model::{
    Addr, BinOp, Callee, CmpOp, Const, DataSegment, Extern, ExternId, FuncId, Function, Inst,
    InstAt, Label, LabelId, Loc, MemTy, Memory, Module, Operand, RegDecl, RegId, SilIntOp, Type,
    UnOp,
};
use thiserror::Error;

/// First bytes of every `.silc` file. The leading NUL makes the file unmistakably binary: no
/// `.sil` text can start with it, so a reader may sniff the format instead of trusting the name.
pub(crate) const MAGIC: [u8; 5] = *b"\0SILC";

/// The format version this build writes, and the only one it reads.
pub(crate) const VERSION: u64 = 1;

/// Most items reserved ahead of decoding them. Counts are already checked against the bytes left,
/// but an item in memory is much larger than its smallest encoding (an `InstAt` takes 88 bytes, a
/// `trap` 3 in the file), so a lying count could still reserve ~30× the input before the items
/// turn out to be missing. Beyond this cap the vector grows only as items actually decode.
const PREALLOC_CAP: usize = 256;

// Fewest bytes each kind of list item can take: a count of N items needs N × this many bytes left,
// which bounds every count by the input length before anything is reserved.
/// offset, length, line, col
const MIN_DATA: usize = 4;
/// name length, param count, name count, ret, line, col
const MIN_EXTERN: usize = 6;
/// name length, export, num_params, reg count, ret, label count, inst count, line, col
const MIN_FUNC: usize = 9;
/// name length, type, line, col
const MIN_REG: usize = 4;
/// name length, pos, line, col
const MIN_LABEL: usize = 4;
/// opcode, line, col (`trap`, `nop`)
const MIN_INST: usize = 3;
/// tag and at least one byte of payload
const MIN_OPERAND: usize = 2;
/// a type code, a label index, a presence byte
const MIN_BYTE: usize = 1;

/// Why a byte string is not a valid `.silc` module. Offsets are byte positions in the input.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("not a .silc file (bad magic bytes)")]
    BadMagic,
    #[error(
        "unsupported .silc format version {found} (this build reads version {})",
        VERSION
    )]
    UnsupportedVersion { found: u64 },
    #[error("truncated .silc input: {what} expected at byte {offset}")]
    Truncated { offset: usize, what: &'static str },
    #[error("invalid {what} 0x{tag:02x} at byte {offset}")]
    BadTag {
        offset: usize,
        what: &'static str,
        tag: u8,
    },
    #[error("{what} {len} at byte {offset} is larger than the rest of the input")]
    TooLarge {
        offset: usize,
        what: &'static str,
        len: u64,
    },
    #[error("{what} at byte {offset} does not fit its integer type")]
    Overflow { offset: usize, what: &'static str },
    #[error("{what} at byte {offset} is not minimally encoded")]
    NonCanonical { offset: usize, what: &'static str },
    #[error("invalid UTF-8 at byte {offset}")]
    BadUtf8 { offset: usize },
    #[error("{what} {index} at byte {offset} is out of range (there are {len})")]
    IndexOutOfRange {
        offset: usize,
        what: &'static str,
        index: u64,
        len: usize,
    },
    #[error("{what} {value} at byte {offset} exceeds {max}")]
    LimitExceeded {
        offset: usize,
        what: &'static str,
        value: u64,
        max: u64,
    },
    #[error("unexpected bytes after the module at byte {offset}")]
    TrailingBytes { offset: usize },
}

impl DecodeError {
    /// The byte position the error refers to.
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::BadMagic => 0,
            DecodeError::UnsupportedVersion { .. } => MAGIC.len(),
            DecodeError::Truncated { offset, .. }
            | DecodeError::BadTag { offset, .. }
            | DecodeError::TooLarge { offset, .. }
            | DecodeError::Overflow { offset, .. }
            | DecodeError::NonCanonical { offset, .. }
            | DecodeError::BadUtf8 { offset }
            | DecodeError::IndexOutOfRange { offset, .. }
            | DecodeError::LimitExceeded { offset, .. }
            | DecodeError::TrailingBytes { offset } => *offset,
        }
    }
}

/// Opcode bytes, one per `Inst` variant. 0x00 is never an opcode, so zeroed bytes do not decode
/// as instructions. Gaps leave room for related instructions in later versions.
mod opcode {
    pub(super) const MOV: u8 = 0x01;
    pub(super) const BIN: u8 = 0x02;
    pub(super) const UN: u8 = 0x03;
    pub(super) const SIL_INT: u8 = 0x04;
    pub(super) const SIL_NEW: u8 = 0x05;
    pub(super) const SIL_FROM: u8 = 0x06;
    pub(super) const SIL_LERP: u8 = 0x07;
    pub(super) const CMP: u8 = 0x08;
    pub(super) const SELECT: u8 = 0x09;
    pub(super) const JMP: u8 = 0x10;
    pub(super) const JUMP_IF: u8 = 0x11;
    pub(super) const BRANCH: u8 = 0x12;
    pub(super) const SWITCH: u8 = 0x13;
    pub(super) const CALL: u8 = 0x14;
    pub(super) const TAIL: u8 = 0x15;
    pub(super) const FREF: u8 = 0x16;
    pub(super) const CALL_I: u8 = 0x17;
    pub(super) const RET: u8 = 0x18;
    pub(super) const EXIT: u8 = 0x19;
    pub(super) const TRAP: u8 = 0x1A;
    pub(super) const NOP: u8 = 0x1B;
    pub(super) const LOAD: u8 = 0x20;
    pub(super) const STORE: u8 = 0x21;
    pub(super) const MEM_SIZE: u8 = 0x22;
    pub(super) const MEM_GROW: u8 = 0x23;
    pub(super) const MEM_COPY: u8 = 0x24;
    pub(super) const MEM_FILL: u8 = 0x25;
    pub(super) const PRINT: u8 = 0x30;
    pub(super) const PUTC: u8 = 0x31;
    pub(super) const WRITE: u8 = 0x32;
    pub(super) const GETC: u8 = 0x33;
    pub(super) const CLOCK: u8 = 0x34;
}

/// Operand tags.
const OPERAND_REG: u8 = 0x00;
const OPERAND_INT: u8 = 0x01;
const OPERAND_FLOAT: u8 = 0x02;
const OPERAND_SIL: u8 = 0x03;

/// Callee tags.
const CALLEE_FUNC: u8 = 0x00;
const CALLEE_EXTERN: u8 = 0x01;

/// Defines the byte code of each variant of a fieldless enum, as an encoder and its inverse.
/// Codes are written out rather than taken from `as u8`, so reordering the model's enums cannot
/// silently change the format; the encoder's match is exhaustive, so a new variant cannot be
/// forgotten; a duplicated code makes the decoder's match arm unreachable, which the build flags.
macro_rules! codes {
    ($enc:ident, $dec:ident, $ty:ident { $($variant:ident = $code:literal),* $(,)? }) => {
        fn $enc(v: $ty) -> u8 {
            match v {
                $($ty::$variant => $code,)*
            }
        }
        fn $dec(c: u8) -> Option<$ty> {
            match c {
                $($code => Some($ty::$variant),)*
                _ => None,
            }
        }
    };
}

// Types start at 1 so that 0 can mean "none" where a type is optional.
codes!(type_code, type_from, Type { I64 = 1, F64 = 2, Sil = 3 });

codes!(bin_code, bin_from, BinOp {
    Add = 0, Sub = 1, Mul = 2, Div = 3, Rem = 4, UDiv = 5, URem = 6, Min = 7, Max = 8, And = 9,
    Or = 10, Xor = 11, Shl = 12, Shr = 13, UShr = 14, Rotl = 15, Rotr = 16, Atan2 = 17, Pow = 18,
    Hypot = 19,
});

codes!(un_code, un_from, UnOp {
    Neg = 0, Abs = 1, Not = 2, Clz = 3, Ctz = 4, Popcnt = 5, Sqrt = 6, Floor = 7, Ceil = 8,
    Trunc = 9, Round = 10, Sin = 11, Cos = 12, Tan = 13, Asin = 14, Acos = 15, Atan = 16, Exp = 17,
    Ln = 18, Log10 = 19, I2F = 20, F2I = 21, Bitcast = 22, SilRho = 23, SilTheta = 24,
    SilByte = 25, SilFromByte = 26, SilInv = 27, SilConj = 28, SilMag = 29, SilPhase = 30,
    SilRe = 31, SilIm = 32, SilAbs = 33, SilArg = 34,
});

codes!(sil_int_code, sil_int_from, SilIntOp { Pow = 0, Root = 1, Scale = 2, Rotate = 3 });

codes!(cmp_code, cmp_from, CmpOp {
    Eq = 0, Ne = 1, Lt = 2, Le = 3, Gt = 4, Ge = 5, LtU = 6, LeU = 7, GtU = 8, GeU = 9,
});

codes!(mem_code, mem_from, MemTy {
    I64 = 0, F64 = 1, Sil = 2, I32 = 3, I16 = 4, I8 = 5, U32 = 6, U16 = 7, U8 = 8,
});

/// The unsigned LEB128 encoding of `v`, minimal (the only form the decoder accepts).
fn uleb_bytes(mut v: u64) -> ([u8; 10], usize) {
    let mut buf = [0u8; 10];
    let mut n = 0;
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            buf[n] = low;
            return (buf, n + 1);
        }
        buf[n] = low | 0x80;
        n += 1;
    }
}

/// The signed LEB128 encoding of `v`, minimal: it stops as soon as the remaining bits are all
/// copies of the sign bit of the last group written.
fn sleb_bytes(mut v: i64) -> ([u8; 10], usize) {
    let mut buf = [0u8; 10];
    let mut n = 0;
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        let sign_bit_set = low & 0x40 != 0;
        if (v == 0 && !sign_bit_set) || (v == -1 && sign_bit_set) {
            buf[n] = low;
            return (buf, n + 1);
        }
        buf[n] = low | 0x80;
        n += 1;
    }
}

/// Encodes a module in the format of docs/silc.md. The result depends only on the module's
/// contents. The encoder writes whatever the module holds: a module with dangling indices encodes
/// but does not decode.
pub fn encode(m: &Module) -> Vec<u8> {
    let mut w = Writer { out: Vec::new() };
    w.module(m);
    w.out
}

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    fn uleb(&mut self, v: u64) {
        let (buf, n) = uleb_bytes(v);
        self.out.extend_from_slice(&buf[..n]);
    }

    fn sleb(&mut self, v: i64) {
        let (buf, n) = sleb_bytes(v);
        self.out.extend_from_slice(&buf[..n]);
    }

    fn len(&mut self, n: usize) {
        self.uleb(n as u64);
    }

    fn bool(&mut self, b: bool) {
        self.byte(u8::from(b));
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn loc(&mut self, l: Loc) {
        self.uleb(l.line.into());
        self.uleb(l.col.into());
    }

    fn ty(&mut self, t: Type) {
        self.byte(type_code(t));
    }

    fn opt_ty(&mut self, t: Option<Type>) {
        self.byte(t.map_or(0, type_code));
    }

    fn types(&mut self, ts: &[Type]) {
        self.len(ts.len());
        for &t in ts {
            self.ty(t);
        }
    }

    fn reg(&mut self, r: RegId) {
        self.uleb(r.0.into());
    }

    fn opt_reg(&mut self, r: Option<RegId>) {
        self.bool(r.is_some());
        if let Some(r) = r {
            self.reg(r);
        }
    }

    fn label(&mut self, l: LabelId) {
        self.uleb(l.0.into());
    }

    fn operand(&mut self, o: &Operand) {
        match *o {
            Operand::Reg(r) => {
                self.byte(OPERAND_REG);
                self.reg(r);
            }
            Operand::Const(Const::Int(v)) => {
                self.byte(OPERAND_INT);
                self.sleb(v);
            }
            Operand::Const(Const::Float(f)) => {
                // The bit pattern, so NaN payloads and -0.0 survive.
                self.byte(OPERAND_FLOAT);
                self.out.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Operand::Const(Const::Sil(b)) => {
                self.byte(OPERAND_SIL);
                self.byte(b);
            }
        }
    }

    fn opt_operand(&mut self, o: &Option<Operand>) {
        self.bool(o.is_some());
        if let Some(o) = o {
            self.operand(o);
        }
    }

    fn operands(&mut self, os: &[Operand]) {
        self.len(os.len());
        for o in os {
            self.operand(o);
        }
    }

    fn addr(&mut self, a: &Addr) {
        self.operand(&a.base);
        self.sleb(a.offset);
    }

    fn callee(&mut self, c: Callee) {
        match c {
            Callee::Func(f) => {
                self.byte(CALLEE_FUNC);
                self.uleb(f.0.into());
            }
            Callee::Extern(e) => {
                self.byte(CALLEE_EXTERN);
                self.uleb(e.0.into());
            }
        }
    }

    fn inst(&mut self, inst: &Inst) {
        // Operands follow the opcode in the order the model declares the variant's fields.
        match inst {
            Inst::Mov { d, a } => {
                self.byte(opcode::MOV);
                self.reg(*d);
                self.operand(a);
            }
            Inst::Bin { op, d, a, b } => {
                self.byte(opcode::BIN);
                self.byte(bin_code(*op));
                self.reg(*d);
                self.operand(a);
                self.operand(b);
            }
            Inst::Un { op, d, a } => {
                self.byte(opcode::UN);
                self.byte(un_code(*op));
                self.reg(*d);
                self.operand(a);
            }
            Inst::SilInt { op, d, a, n } => {
                self.byte(opcode::SIL_INT);
                self.byte(sil_int_code(*op));
                self.reg(*d);
                self.operand(a);
                self.operand(n);
            }
            Inst::SilNew { d, rho, theta } => {
                self.byte(opcode::SIL_NEW);
                self.reg(*d);
                self.operand(rho);
                self.operand(theta);
            }
            Inst::SilFrom { d, re, im } => {
                self.byte(opcode::SIL_FROM);
                self.reg(*d);
                self.operand(re);
                self.operand(im);
            }
            Inst::SilLerp { d, a, b, t } => {
                self.byte(opcode::SIL_LERP);
                self.reg(*d);
                self.operand(a);
                self.operand(b);
                self.operand(t);
            }
            Inst::Cmp { op, d, a, b } => {
                self.byte(opcode::CMP);
                self.byte(cmp_code(*op));
                self.reg(*d);
                self.operand(a);
                self.operand(b);
            }
            Inst::Select { d, c, a, b } => {
                self.byte(opcode::SELECT);
                self.reg(*d);
                self.operand(c);
                self.operand(a);
                self.operand(b);
            }
            Inst::Jmp { target } => {
                self.byte(opcode::JMP);
                self.label(*target);
            }
            Inst::JumpIf { nonzero, a, target } => {
                self.byte(opcode::JUMP_IF);
                self.bool(*nonzero);
                self.operand(a);
                self.label(*target);
            }
            Inst::Branch { op, a, b, target } => {
                self.byte(opcode::BRANCH);
                self.byte(cmp_code(*op));
                self.operand(a);
                self.operand(b);
                self.label(*target);
            }
            Inst::Switch {
                a,
                targets,
                default,
            } => {
                self.byte(opcode::SWITCH);
                self.operand(a);
                self.len(targets.len());
                for &t in targets {
                    self.label(t);
                }
                self.label(*default);
            }
            Inst::Call { d, callee, args } => {
                self.byte(opcode::CALL);
                self.opt_reg(*d);
                self.callee(*callee);
                self.operands(args);
            }
            Inst::Tail { callee, args } => {
                self.byte(opcode::TAIL);
                self.callee(*callee);
                self.operands(args);
            }
            Inst::Fref { d, func } => {
                self.byte(opcode::FREF);
                self.reg(*d);
                self.uleb(func.0.into());
            }
            Inst::CallI {
                d,
                handle,
                args,
                params,
                ret,
            } => {
                self.byte(opcode::CALL_I);
                self.opt_reg(*d);
                self.operand(handle);
                self.operands(args);
                self.types(params);
                self.opt_ty(*ret);
            }
            Inst::Ret { a } => {
                self.byte(opcode::RET);
                self.opt_operand(a);
            }
            Inst::Exit { a } => {
                self.byte(opcode::EXIT);
                self.operand(a);
            }
            Inst::Trap => self.byte(opcode::TRAP),
            Inst::Nop => self.byte(opcode::NOP),
            Inst::Load { ty, d, addr } => {
                self.byte(opcode::LOAD);
                self.byte(mem_code(*ty));
                self.reg(*d);
                self.addr(addr);
            }
            Inst::Store { ty, addr, v } => {
                self.byte(opcode::STORE);
                self.byte(mem_code(*ty));
                self.addr(addr);
                self.operand(v);
            }
            Inst::MemSize { d } => {
                self.byte(opcode::MEM_SIZE);
                self.reg(*d);
            }
            Inst::MemGrow { d, a } => {
                self.byte(opcode::MEM_GROW);
                self.reg(*d);
                self.operand(a);
            }
            Inst::MemCopy { dst, src, n } => {
                self.byte(opcode::MEM_COPY);
                self.operand(dst);
                self.operand(src);
                self.operand(n);
            }
            Inst::MemFill { dst, byte, n } => {
                self.byte(opcode::MEM_FILL);
                self.operand(dst);
                self.operand(byte);
                self.operand(n);
            }
            Inst::Print {
                a,
                precision,
                newline,
            } => {
                self.byte(opcode::PRINT);
                self.opt_operand(a);
                self.bool(precision.is_some());
                if let Some(p) = precision {
                    self.byte(*p);
                }
                self.bool(*newline);
            }
            Inst::Putc { a } => {
                self.byte(opcode::PUTC);
                self.operand(a);
            }
            Inst::Write { a, n } => {
                self.byte(opcode::WRITE);
                self.operand(a);
                self.operand(n);
            }
            Inst::Getc { d } => {
                self.byte(opcode::GETC);
                self.reg(*d);
            }
            Inst::Clock { d } => {
                self.byte(opcode::CLOCK);
                self.reg(*d);
            }
        }
    }

    fn function(&mut self, f: &Function) {
        self.str(&f.name);
        self.bool(f.export);
        self.uleb(f.num_params.into());
        self.len(f.regs.len());
        for r in &f.regs {
            self.str(&r.name);
            self.ty(r.ty);
            self.loc(r.loc);
        }
        self.opt_ty(f.ret);
        self.len(f.labels.len());
        for l in &f.labels {
            self.str(&l.name);
            self.uleb(l.pos.into());
            self.loc(l.loc);
        }
        self.len(f.body.len());
        for i in &f.body {
            self.inst(&i.inst);
            self.loc(i.loc);
        }
        self.loc(f.loc);
    }

    fn module(&mut self, m: &Module) {
        self.out.extend_from_slice(&MAGIC);
        self.uleb(VERSION);
        self.str(&m.name);
        self.uleb(m.memory.min_pages);
        self.uleb(m.memory.max_pages);
        self.loc(m.memory.loc);
        self.bool(m.memory_declared);
        self.len(m.data.len());
        for d in &m.data {
            self.sleb(d.offset);
            self.bytes(&d.bytes);
            self.loc(d.loc);
        }
        self.len(m.externs.len());
        for e in &m.externs {
            self.str(&e.name);
            self.types(&e.params);
            self.len(e.param_names.len());
            for n in &e.param_names {
                self.bool(n.is_some());
                if let Some(n) = n {
                    self.str(n);
                }
            }
            self.opt_ty(e.ret);
            self.loc(e.loc);
        }
        self.len(m.funcs.len());
        for f in &m.funcs {
            self.function(f);
        }
    }
}

/// Decodes a module, checking that every index refers to an existing register, label, function
/// or extern (types are left to the verifier). Only the canonical encoding is accepted (minimal
/// LEB128, booleans 0 or 1, no trailing bytes), so `encode(&decode(b)?) == b` for every accepted
/// `b`.
pub fn decode(bytes: &[u8]) -> Result<Module, DecodeError> {
    if !bytes.starts_with(&MAGIC) {
        return Err(DecodeError::BadMagic);
    }
    let mut r = Reader {
        bytes,
        pos: MAGIC.len(),
    };
    let version = r.uleb("format version")?;
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion { found: version });
    }
    let m = r.module()?;
    if r.pos != bytes.len() {
        return Err(DecodeError::TrailingBytes { offset: r.pos });
    }
    Ok(m)
}

type Result<T, E = DecodeError> = std::result::Result<T, E>;

/// Sizes of the tables that instruction operands index into.
struct Tables {
    regs: usize,
    labels: usize,
    funcs: usize,
    externs: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn byte(&mut self, what: &'static str) -> Result<u8> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated {
            offset: self.pos,
            what,
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let s = self.bytes[self.pos..]
            .get(..n)
            .ok_or(DecodeError::Truncated {
                offset: self.pos,
                what,
            })?;
        self.pos += n;
        Ok(s)
    }

    /// A byte that must be one of the codes `from` knows.
    fn code<T>(&mut self, what: &'static str, from: impl Fn(u8) -> Option<T>) -> Result<T> {
        let offset = self.pos;
        let tag = self.byte(what)?;
        from(tag).ok_or(DecodeError::BadTag { offset, what, tag })
    }

    fn bool(&mut self, what: &'static str) -> Result<bool> {
        self.code(what, |b| match b {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        })
    }

    fn uleb(&mut self, what: &'static str) -> Result<u64> {
        let offset = self.pos;
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.byte(what)?;
            let payload = u64::from(b & 0x7f);
            // The tenth group holds only bit 63.
            if shift == 63 && payload > 1 {
                return Err(DecodeError::Overflow { offset, what });
            }
            value |= payload << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(DecodeError::Overflow { offset, what });
            }
        }
        if self.pos - offset != uleb_bytes(value).1 {
            return Err(DecodeError::NonCanonical { offset, what });
        }
        Ok(value)
    }

    fn sleb(&mut self, what: &'static str) -> Result<i64> {
        let offset = self.pos;
        let mut value = 0i64;
        let mut shift = 0u32;
        loop {
            let b = self.byte(what)?;
            let payload = i64::from(b & 0x7f);
            if shift == 63 {
                // The tenth group holds only bit 63; its other bits must repeat it (sign
                // extension) and it must be the last.
                if b & 0x80 != 0 || (payload != 0 && payload != 0x7f) {
                    return Err(DecodeError::Overflow { offset, what });
                }
                value |= payload << 63;
                break;
            }
            value |= payload << shift;
            if b & 0x80 == 0 {
                if b & 0x40 != 0 {
                    value |= -1i64 << (shift + 7);
                }
                break;
            }
            shift += 7;
        }
        if self.pos - offset != sleb_bytes(value).1 {
            return Err(DecodeError::NonCanonical { offset, what });
        }
        Ok(value)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32> {
        let offset = self.pos;
        let v = self.uleb(what)?;
        u32::try_from(v).map_err(|_| DecodeError::Overflow { offset, what })
    }

    /// A count of items that each take at least `min_item` bytes, checked against the bytes left
    /// so that no count can make the caller reserve more than the input can hold.
    fn count(&mut self, what: &'static str, min_item: usize) -> Result<usize> {
        let offset = self.pos;
        let n = self.uleb(what)?;
        if n > (self.remaining() / min_item) as u64 {
            return Err(DecodeError::TooLarge {
                offset,
                what,
                len: n,
            });
        }
        Ok(n as usize)
    }

    fn vec<T>(
        &mut self,
        what: &'static str,
        min_item: usize,
        mut item: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Vec<T>> {
        let n = self.count(what, min_item)?;
        let mut v = Vec::with_capacity(n.min(PREALLOC_CAP));
        for _ in 0..n {
            v.push(item(self)?);
        }
        Ok(v)
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.count(what, 1)?;
        self.take(n, what)
    }

    fn string(&mut self, what: &'static str) -> Result<String> {
        let raw = self.bytes(what)?;
        let text_start = self.pos - raw.len();
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(DecodeError::BadUtf8 {
                offset: text_start + e.valid_up_to(),
            }),
        }
    }

    fn loc(&mut self) -> Result<Loc> {
        let line = self.u32("line number")?;
        let col = self.u32("column number")?;
        Ok(Loc { line, col })
    }

    fn ty(&mut self, what: &'static str) -> Result<Type> {
        self.code(what, type_from)
    }

    fn opt_ty(&mut self, what: &'static str) -> Result<Option<Type>> {
        self.code(what, |c| {
            if c == 0 {
                Some(None)
            } else {
                type_from(c).map(Some)
            }
        })
    }

    /// An index below `len`.
    fn index(&mut self, what: &'static str, len: usize) -> Result<u32> {
        let offset = self.pos;
        let index = self.uleb(what)?;
        match u32::try_from(index) {
            Ok(i) if (i as usize) < len => Ok(i),
            _ => Err(DecodeError::IndexOutOfRange {
                offset,
                what,
                index,
                len,
            }),
        }
    }

    fn reg(&mut self, t: &Tables) -> Result<RegId> {
        self.index("register index", t.regs).map(RegId)
    }

    fn opt_reg(&mut self, t: &Tables) -> Result<Option<RegId>> {
        if self.bool("destination flag")? {
            self.reg(t).map(Some)
        } else {
            Ok(None)
        }
    }

    fn label(&mut self, t: &Tables) -> Result<LabelId> {
        self.index("label index", t.labels).map(LabelId)
    }

    fn operand(&mut self, t: &Tables) -> Result<Operand> {
        let offset = self.pos;
        let tag = self.byte("operand")?;
        Ok(match tag {
            OPERAND_REG => Operand::Reg(self.reg(t)?),
            OPERAND_INT => Operand::Const(Const::Int(self.sleb("integer literal")?)),
            OPERAND_FLOAT => {
                let raw = self.take(8, "float literal")?;
                let mut bits = [0u8; 8];
                bits.copy_from_slice(raw);
                Operand::Const(Const::Float(f64::from_bits(u64::from_le_bytes(bits))))
            }
            OPERAND_SIL => Operand::Const(Const::Sil(self.byte("sil literal")?)),
            _ => {
                return Err(DecodeError::BadTag {
                    offset,
                    what: "operand tag",
                    tag,
                });
            }
        })
    }

    fn opt_operand(&mut self, t: &Tables) -> Result<Option<Operand>> {
        if self.bool("operand flag")? {
            self.operand(t).map(Some)
        } else {
            Ok(None)
        }
    }

    fn operands(&mut self, t: &Tables) -> Result<Vec<Operand>> {
        self.vec("argument count", MIN_OPERAND, |r| r.operand(t))
    }

    fn addr(&mut self, t: &Tables) -> Result<Addr> {
        let base = self.operand(t)?;
        let offset = self.sleb("address offset")?;
        Ok(Addr { base, offset })
    }

    fn func_id(&mut self, t: &Tables) -> Result<FuncId> {
        self.index("function index", t.funcs).map(FuncId)
    }

    fn callee(&mut self, t: &Tables) -> Result<Callee> {
        let offset = self.pos;
        match self.byte("callee")? {
            CALLEE_FUNC => self.func_id(t).map(Callee::Func),
            CALLEE_EXTERN => self
                .index("extern index", t.externs)
                .map(|e| Callee::Extern(ExternId(e))),
            tag => Err(DecodeError::BadTag {
                offset,
                what: "callee tag",
                tag,
            }),
        }
    }

    // Fields below are read in the order they are written: Rust evaluates the fields of a struct
    // expression in source order, and each variant lists them in the model's declaration order.
    fn inst(&mut self, t: &Tables) -> Result<Inst> {
        let offset = self.pos;
        let op = self.byte("instruction")?;
        Ok(match op {
            opcode::MOV => Inst::Mov {
                d: self.reg(t)?,
                a: self.operand(t)?,
            },
            opcode::BIN => Inst::Bin {
                op: self.code("binary operation", bin_from)?,
                d: self.reg(t)?,
                a: self.operand(t)?,
                b: self.operand(t)?,
            },
            opcode::UN => Inst::Un {
                op: self.code("unary operation", un_from)?,
                d: self.reg(t)?,
                a: self.operand(t)?,
            },
            opcode::SIL_INT => Inst::SilInt {
                op: self.code("sil operation", sil_int_from)?,
                d: self.reg(t)?,
                a: self.operand(t)?,
                n: self.operand(t)?,
            },
            opcode::SIL_NEW => Inst::SilNew {
                d: self.reg(t)?,
                rho: self.operand(t)?,
                theta: self.operand(t)?,
            },
            opcode::SIL_FROM => Inst::SilFrom {
                d: self.reg(t)?,
                re: self.operand(t)?,
                im: self.operand(t)?,
            },
            opcode::SIL_LERP => Inst::SilLerp {
                d: self.reg(t)?,
                a: self.operand(t)?,
                b: self.operand(t)?,
                t: self.operand(t)?,
            },
            opcode::CMP => Inst::Cmp {
                op: self.code("comparison", cmp_from)?,
                d: self.reg(t)?,
                a: self.operand(t)?,
                b: self.operand(t)?,
            },
            opcode::SELECT => Inst::Select {
                d: self.reg(t)?,
                c: self.operand(t)?,
                a: self.operand(t)?,
                b: self.operand(t)?,
            },
            opcode::JMP => Inst::Jmp {
                target: self.label(t)?,
            },
            opcode::JUMP_IF => Inst::JumpIf {
                nonzero: self.bool("jump condition")?,
                a: self.operand(t)?,
                target: self.label(t)?,
            },
            opcode::BRANCH => Inst::Branch {
                op: self.code("comparison", cmp_from)?,
                a: self.operand(t)?,
                b: self.operand(t)?,
                target: self.label(t)?,
            },
            opcode::SWITCH => Inst::Switch {
                a: self.operand(t)?,
                targets: self.vec("switch target count", MIN_BYTE, |r| r.label(t))?,
                default: self.label(t)?,
            },
            opcode::CALL => Inst::Call {
                d: self.opt_reg(t)?,
                callee: self.callee(t)?,
                args: self.operands(t)?,
            },
            opcode::TAIL => Inst::Tail {
                callee: self.callee(t)?,
                args: self.operands(t)?,
            },
            opcode::FREF => Inst::Fref {
                d: self.reg(t)?,
                func: self.func_id(t)?,
            },
            opcode::CALL_I => Inst::CallI {
                d: self.opt_reg(t)?,
                handle: self.operand(t)?,
                args: self.operands(t)?,
                params: self.vec("parameter type count", MIN_BYTE, |r| r.ty("parameter type"))?,
                ret: self.opt_ty("result type")?,
            },
            opcode::RET => Inst::Ret {
                a: self.opt_operand(t)?,
            },
            opcode::EXIT => Inst::Exit {
                a: self.operand(t)?,
            },
            opcode::TRAP => Inst::Trap,
            opcode::NOP => Inst::Nop,
            opcode::LOAD => Inst::Load {
                ty: self.code("memory type", mem_from)?,
                d: self.reg(t)?,
                addr: self.addr(t)?,
            },
            opcode::STORE => Inst::Store {
                ty: self.code("memory type", mem_from)?,
                addr: self.addr(t)?,
                v: self.operand(t)?,
            },
            opcode::MEM_SIZE => Inst::MemSize { d: self.reg(t)? },
            opcode::MEM_GROW => Inst::MemGrow {
                d: self.reg(t)?,
                a: self.operand(t)?,
            },
            opcode::MEM_COPY => Inst::MemCopy {
                dst: self.operand(t)?,
                src: self.operand(t)?,
                n: self.operand(t)?,
            },
            opcode::MEM_FILL => Inst::MemFill {
                dst: self.operand(t)?,
                byte: self.operand(t)?,
                n: self.operand(t)?,
            },
            opcode::PRINT => Inst::Print {
                a: self.opt_operand(t)?,
                precision: if self.bool("precision flag")? {
                    Some(self.byte("precision")?)
                } else {
                    None
                },
                newline: self.bool("newline flag")?,
            },
            opcode::PUTC => Inst::Putc {
                a: self.operand(t)?,
            },
            opcode::WRITE => Inst::Write {
                a: self.operand(t)?,
                n: self.operand(t)?,
            },
            opcode::GETC => Inst::Getc { d: self.reg(t)? },
            opcode::CLOCK => Inst::Clock { d: self.reg(t)? },
            _ => {
                return Err(DecodeError::BadTag {
                    offset,
                    what: "opcode",
                    tag: op,
                });
            }
        })
    }

    fn function(&mut self, funcs: usize, externs: usize) -> Result<Function> {
        let name = self.string("function name")?;
        let export = self.bool("export flag")?;
        let params_at = self.pos;
        let num_params = self.u32("parameter count")?;
        let regs = self.vec("register count", MIN_REG, |r| {
            Ok(RegDecl {
                name: r.string("register name")?,
                ty: r.ty("register type")?,
                loc: r.loc()?,
            })
        })?;
        if num_params as usize > regs.len() {
            return Err(DecodeError::LimitExceeded {
                offset: params_at,
                what: "parameter count",
                value: num_params.into(),
                max: regs.len() as u64,
            });
        }
        let ret = self.opt_ty("result type")?;
        // Where each label's position was read, to report it once the body length is known.
        let mut pos_at = Vec::new();
        let labels = self.vec("label count", MIN_LABEL, |r| {
            let name = r.string("label name")?;
            pos_at.push(r.pos);
            Ok(Label {
                name,
                pos: r.u32("label position")?,
                loc: r.loc()?,
            })
        })?;
        let t = Tables {
            regs: regs.len(),
            labels: labels.len(),
            funcs,
            externs,
        };
        let body = self.vec("instruction count", MIN_INST, |r| {
            Ok(InstAt {
                inst: r.inst(&t)?,
                loc: r.loc()?,
            })
        })?;
        for (l, &offset) in labels.iter().zip(&pos_at) {
            if l.pos as usize > body.len() {
                return Err(DecodeError::LimitExceeded {
                    offset,
                    what: "label position",
                    value: l.pos.into(),
                    max: body.len() as u64,
                });
            }
        }
        let loc = self.loc()?;
        Ok(Function {
            name,
            export,
            num_params,
            regs,
            ret,
            labels,
            body,
            loc,
        })
    }

    fn module(&mut self) -> Result<Module> {
        let name = self.string("module name")?;
        let memory = Memory {
            min_pages: self.uleb("minimum pages")?,
            max_pages: self.uleb("maximum pages")?,
            loc: self.loc()?,
        };
        let memory_declared = self.bool("memory flag")?;
        let data = self.vec("data segment count", MIN_DATA, |r| {
            Ok(DataSegment {
                offset: r.sleb("data offset")?,
                bytes: r.bytes("data length")?.to_vec(),
                loc: r.loc()?,
            })
        })?;
        let externs = self.vec("extern count", MIN_EXTERN, |r| {
            Ok(Extern {
                name: r.string("extern name")?,
                params: r.vec("parameter type count", MIN_BYTE, |r| r.ty("parameter type"))?,
                param_names: r.vec("parameter name count", MIN_BYTE, |r| {
                    if r.bool("parameter name flag")? {
                        r.string("parameter name").map(Some)
                    } else {
                        Ok(None)
                    }
                })?,
                ret: r.opt_ty("result type")?,
                loc: r.loc()?,
            })
        })?;
        // Calls may name functions defined later, so indices are checked against the count.
        let nfuncs = self.count("function count", MIN_FUNC)?;
        let mut funcs = Vec::with_capacity(nfuncs.min(PREALLOC_CAP));
        for _ in 0..nfuncs {
            funcs.push(self.function(nfuncs, externs.len())?);
        }
        Ok(Module {
            name,
            memory,
            memory_declared,
            data,
            externs,
            funcs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(i: u32) -> Operand {
        Operand::Reg(RegId(i))
    }
    fn int(v: i64) -> Operand {
        Operand::Const(Const::Int(v))
    }
    fn float(bits: u64) -> Operand {
        Operand::Const(Const::Float(f64::from_bits(bits)))
    }
    fn sil(b: u8) -> Operand {
        Operand::Const(Const::Sil(b))
    }
    fn reg(name: &str, ty: Type, line: u32) -> RegDecl {
        RegDecl {
            name: name.into(),
            ty,
            loc: Loc::new(line, 5),
        }
    }

    /// Every instruction variant, every sub-operation, every operand and literal form, both
    /// callee kinds, every optional field present and absent, and extreme numbers.
    fn kitchen_sink() -> Module {
        let operands = [
            r(0),
            r(3),
            int(0),
            int(-1),
            int(63),
            int(64),
            int(-65),
            int(i64::MIN),
            int(i64::MAX),
            float(0.0f64.to_bits()),
            float((-0.0f64).to_bits()),
            float(1.5f64.to_bits()),
            float(f64::INFINITY.to_bits()),
            float(f64::NEG_INFINITY.to_bits()),
            float(f64::NAN.to_bits()),
            float(0x7ff0_0000_0000_0001), // signalling NaN payload
            float(0xfff8_dead_beef_0001), // negative quiet NaN with payload
            float(1),                     // smallest subnormal
            sil(0x00),
            sil(0x80),
            sil(0xff),
        ];
        let mut body = vec![];
        for (i, &a) in operands.iter().enumerate() {
            body.push(Inst::Mov {
                d: RegId(i as u32 % 4),
                a,
            });
        }
        for (i, op) in BinOp::ALL.into_iter().enumerate() {
            body.push(Inst::Bin {
                op,
                d: RegId(1),
                a: operands[i % operands.len()],
                b: r(2),
            });
        }
        for (i, op) in UnOp::ALL.into_iter().enumerate() {
            body.push(Inst::Un {
                op,
                d: RegId(2),
                a: operands[i % operands.len()],
            });
        }
        for op in SilIntOp::ALL {
            body.push(Inst::SilInt {
                op,
                d: RegId(3),
                a: sil(0x84),
                n: int(-3),
            });
        }
        for (i, op) in CmpOp::ALL.into_iter().enumerate() {
            body.push(Inst::Cmp {
                op,
                d: RegId(0),
                a: r(1),
                b: operands[i],
            });
            body.push(Inst::Branch {
                op,
                a: operands[i + 5],
                b: r(1),
                target: LabelId(1),
            });
        }
        for (i, ty) in MemTy::ALL.into_iter().enumerate() {
            let addr = Addr {
                base: operands[i],
                offset: [0, -8, 8, i64::MIN, i64::MAX][i % 5],
            };
            body.push(Inst::Load {
                ty,
                d: RegId(0),
                addr,
            });
            body.push(Inst::Store {
                ty,
                addr,
                v: operands[i + 3],
            });
        }
        body.extend([
            Inst::SilNew {
                d: RegId(3),
                rho: int(-8),
                theta: int(5),
            },
            Inst::SilFrom {
                d: RegId(3),
                re: float(1.0f64.to_bits()),
                im: r(1),
            },
            Inst::SilLerp {
                d: RegId(3),
                a: r(3),
                b: sil(0xf0),
                t: float(0.5f64.to_bits()),
            },
            Inst::Select {
                d: RegId(0),
                c: r(0),
                a: int(1),
                b: int(2),
            },
            Inst::Jmp { target: LabelId(0) },
            Inst::JumpIf {
                nonzero: false,
                a: r(0),
                target: LabelId(1),
            },
            Inst::JumpIf {
                nonzero: true,
                a: int(1),
                target: LabelId(2),
            },
            Inst::Switch {
                a: r(0),
                targets: vec![],
                default: LabelId(0),
            },
            Inst::Switch {
                a: int(2),
                targets: vec![LabelId(0), LabelId(1), LabelId(2), LabelId(1)],
                default: LabelId(2),
            },
            Inst::Call {
                d: None,
                callee: Callee::Func(FuncId(1)),
                args: vec![],
            },
            Inst::Call {
                d: Some(RegId(0)),
                callee: Callee::Extern(ExternId(0)),
                args: vec![r(0), int(1), float(2.0f64.to_bits()), sil(3)],
            },
            Inst::Tail {
                callee: Callee::Func(FuncId(0)),
                args: vec![r(0), r(1), r(2)],
            },
            Inst::Tail {
                callee: Callee::Extern(ExternId(1)),
                args: vec![],
            },
            Inst::Fref {
                d: RegId(0),
                func: FuncId(1),
            },
            Inst::CallI {
                d: None,
                handle: r(0),
                args: vec![],
                params: vec![],
                ret: None,
            },
            Inst::CallI {
                d: Some(RegId(1)),
                handle: int(7),
                args: vec![int(1), float(2.5f64.to_bits()), sil(0x80)],
                params: vec![Type::I64, Type::F64, Type::Sil],
                ret: Some(Type::F64),
            },
            Inst::Ret { a: None },
            Inst::Ret { a: Some(r(0)) },
            Inst::Ret {
                a: Some(float(f64::NAN.to_bits())),
            },
            Inst::Exit { a: int(3) },
            Inst::Trap,
            Inst::Nop,
            Inst::MemSize { d: RegId(0) },
            Inst::MemGrow {
                d: RegId(0),
                a: int(1),
            },
            Inst::MemCopy {
                dst: int(0),
                src: r(0),
                n: int(16),
            },
            Inst::MemFill {
                dst: r(0),
                byte: int(0xff),
                n: r(1),
            },
            Inst::Print {
                a: None,
                precision: None,
                newline: true,
            },
            Inst::Print {
                a: Some(r(1)),
                precision: None,
                newline: false,
            },
            Inst::Print {
                a: Some(r(1)),
                precision: Some(17),
                newline: true,
            },
            Inst::Print {
                a: Some(float(0.1f64.to_bits())),
                precision: Some(0),
                newline: false,
            },
            Inst::Putc {
                a: int('\n' as i64),
            },
            Inst::Write {
                a: int(1024),
                n: r(0),
            },
            Inst::Getc { d: RegId(0) },
            Inst::Clock { d: RegId(0) },
        ]);
        let body: Vec<InstAt> = body
            .into_iter()
            .enumerate()
            .map(|(i, inst)| {
                // Known and unknown positions, and the largest a u32 can say.
                let loc = match i % 3 {
                    0 => Loc::NONE,
                    1 => Loc::new(i as u32 + 10, 5),
                    _ => Loc::new(u32::MAX, u32::MAX),
                };
                InstAt { inst, loc }
            })
            .collect();
        let n = body.len() as u32;
        let big = Function {
            name: "kitchen_sink".into(),
            export: true,
            num_params: 2,
            regs: vec![
                reg("n", Type::I64, 2),
                reg("x", Type::F64, 2),
                reg("y", Type::F64, 3),
                reg("s", Type::Sil, 4),
            ],
            ret: Some(Type::I64),
            labels: vec![
                Label {
                    name: "start".into(),
                    pos: 0,
                    loc: Loc::new(5, 1),
                },
                Label {
                    name: "mid".into(),
                    pos: n / 2,
                    loc: Loc::new(6, 1),
                },
                Label {
                    name: "end".into(),
                    pos: n,
                    loc: Loc::NONE,
                },
            ],
            body,
            loc: Loc::new(2, 1),
        };
        let empty = Function {
            name: "ünïcödé.$_".into(),
            export: false,
            num_params: 0,
            regs: vec![],
            ret: None,
            labels: vec![],
            body: vec![],
            loc: Loc::NONE,
        };
        Module {
            name: "sink".into(),
            memory: Memory {
                min_pages: 1,
                max_pages: u64::MAX,
                loc: Loc::new(1, 1),
            },
            memory_declared: true,
            data: vec![
                DataSegment {
                    offset: 0,
                    bytes: b"hi\n\0".to_vec(),
                    loc: Loc::new(7, 1),
                },
                DataSegment {
                    offset: -1,
                    bytes: vec![],
                    loc: Loc::NONE,
                },
                DataSegment {
                    offset: i64::MAX,
                    bytes: (0..=255).collect(),
                    loc: Loc::new(9, 3),
                },
            ],
            externs: vec![
                Extern {
                    name: "host_fn".into(),
                    params: vec![Type::I64, Type::F64, Type::Sil, Type::I64],
                    param_names: vec![Some("a".into()), None, Some(String::new()), None],
                    ret: Some(Type::Sil),
                    loc: Loc::new(10, 1),
                },
                Extern {
                    name: "noargs".into(),
                    params: vec![],
                    param_names: vec![],
                    ret: None,
                    loc: Loc::NONE,
                },
            ],
            funcs: vec![big, empty],
        }
    }

    /// The worked example of docs/silc.md.
    fn tiny() -> Module {
        Module {
            name: "tiny".into(),
            funcs: vec![Function {
                name: "inc".into(),
                export: true,
                num_params: 1,
                regs: vec![RegDecl {
                    name: "n".into(),
                    ty: Type::I64,
                    loc: Loc::new(2, 17),
                }],
                ret: Some(Type::I64),
                labels: vec![Label {
                    name: "top".into(),
                    pos: 0,
                    loc: Loc::new(3, 1),
                }],
                body: vec![
                    InstAt {
                        inst: Inst::Bin {
                            op: BinOp::Add,
                            d: RegId(0),
                            a: r(0),
                            b: int(1),
                        },
                        loc: Loc::new(4, 5),
                    },
                    InstAt {
                        inst: Inst::Ret { a: Some(r(0)) },
                        loc: Loc::new(5, 5),
                    },
                ],
                loc: Loc::new(2, 8),
            }],
            ..Module::default()
        }
    }

    const TINY_HEX: &str = "
        00 53 49 4c 43 01
        04 74 69 6e 79
        00 80 80 04 00 00 00
        00
        00
        01
        03 69 6e 63 01 01
        01 01 6e 01 02 11
        01
        01 03 74 6f 70 00 03 01
        02
        02 00 00 00 00 01 01 04 05
        18 01 00 00 05 05
        02 08
    ";

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn round_trip_kitchen_sink() {
        let m = kitchen_sink();
        let bytes = encode(&m);
        assert_eq!(decode(&bytes), Ok(m));
    }

    #[test]
    fn round_trip_empty_and_default_modules() {
        for m in [Module::default(), Module::new("x")] {
            assert_eq!(decode(&encode(&m)), Ok(m));
        }
    }

    #[test]
    fn nan_payloads_survive() {
        let m = kitchen_sink();
        let back = decode(&encode(&m)).unwrap();
        let bits = |m: &Module| -> Vec<u64> {
            m.funcs[0]
                .body
                .iter()
                .filter_map(|i| match i.inst {
                    Inst::Mov {
                        a: Operand::Const(Const::Float(f)),
                        ..
                    } => Some(f.to_bits()),
                    _ => None,
                })
                .collect()
        };
        assert!(bits(&m).contains(&0x7ff0_0000_0000_0001));
        assert_eq!(bits(&m), bits(&back));
    }

    #[test]
    fn worked_example_matches_the_docs() {
        assert_eq!(encode(&tiny()), hex(TINY_HEX));
        assert_eq!(decode(&hex(TINY_HEX)), Ok(tiny()));
    }

    #[test]
    fn worked_example_in_the_docs_is_current() {
        // The hex block of docs/silc.md, from its first line to the end of the code block.
        let doc = include_str!("../../docs/silc.md");
        let start = doc
            .find("00 53 49 4c 43 01 04")
            .expect("hex dump in docs/silc.md");
        let block = &doc[start..start + doc[start..].find("```").unwrap()];
        assert_eq!(hex(block), encode(&tiny()));
    }

    #[test]
    fn encoding_is_deterministic() {
        let m = kitchen_sink();
        let a = encode(&m);
        assert_eq!(a, encode(&m.clone()));
        assert_eq!(a, encode(&decode(&a).unwrap()));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for m in [kitchen_sink(), tiny(), Module::default()] {
            let bytes = encode(&m);
            for len in 0..bytes.len() {
                assert!(
                    decode(&bytes[..len]).is_err(),
                    "prefix of {len} bytes decoded"
                );
            }
        }
    }

    #[test]
    fn every_single_byte_change_is_rejected_or_canonical() {
        // The decoder accepts only canonical encodings, so any input it accepts must re-encode
        // to itself; that is checked for every value of every byte of the worked example.
        let bytes = encode(&tiny());
        for i in 0..bytes.len() {
            for v in 0..=255u8 {
                let mut b = bytes.clone();
                b[i] = v;
                if let Ok(m) = decode(&b) {
                    assert_eq!(encode(&m), b, "byte {i} = {v:#x}");
                }
            }
        }
    }

    #[test]
    fn header_errors() {
        assert_eq!(decode(b""), Err(DecodeError::BadMagic));
        assert_eq!(decode(b"\0SIL"), Err(DecodeError::BadMagic));
        assert_eq!(decode(b"module x\n"), Err(DecodeError::BadMagic));
        assert_eq!(
            decode(b"\0SILC"),
            Err(DecodeError::Truncated {
                offset: 5,
                what: "format version"
            })
        );
        assert_eq!(
            decode(b"\0SILC\x02"),
            Err(DecodeError::UnsupportedVersion { found: 2 })
        );
        assert_eq!(
            decode(b"\0SILC\x00"),
            Err(DecodeError::UnsupportedVersion { found: 0 })
        );
        let mut b = encode(&Module::default());
        b.push(0);
        assert_eq!(
            decode(&b),
            Err(DecodeError::TrailingBytes {
                offset: b.len() - 1
            })
        );
    }

    #[test]
    fn leb128_round_trips_and_is_minimal() {
        let unsigned = [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ];
        for v in unsigned {
            let (buf, n) = uleb_bytes(v);
            let mut r = Reader {
                bytes: &buf[..n],
                pos: 0,
            };
            assert_eq!(r.uleb("x"), Ok(v));
            assert_eq!(r.pos, n);
        }
        let signed = [
            0,
            1,
            -1,
            63,
            64,
            -64,
            -65,
            8191,
            -8192,
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
        ];
        for v in signed {
            let (buf, n) = sleb_bytes(v);
            let mut r = Reader {
                bytes: &buf[..n],
                pos: 0,
            };
            assert_eq!(r.sleb("x"), Ok(v));
            assert_eq!(r.pos, n);
        }
        assert_eq!(uleb_bytes(u64::MAX).1, 10);
        assert_eq!(sleb_bytes(i64::MIN).1, 10);
        assert_eq!(&sleb_bytes(-1).0[..1], &[0x7f]);
        assert_eq!(&sleb_bytes(64).0[..2], &[0xc0, 0x00]);
    }

    #[test]
    fn leb128_rejects_overlong_and_overflowing_forms() {
        let uleb = |b: &[u8]| Reader { bytes: b, pos: 0 }.uleb("x");
        let sleb = |b: &[u8]| Reader { bytes: b, pos: 0 }.sleb("x");
        let non_canonical = Some(DecodeError::NonCanonical {
            offset: 0,
            what: "x",
        });
        let overflow = Some(DecodeError::Overflow {
            offset: 0,
            what: "x",
        });
        assert_eq!(uleb(&[0x80, 0x00]).err(), non_canonical);
        assert_eq!(uleb(&[0x81, 0x80, 0x00]).err(), non_canonical);
        assert_eq!(sleb(&[0x80, 0x00]).err(), non_canonical);
        assert_eq!(sleb(&[0xff, 0x7f]).err(), non_canonical);
        assert_eq!(sleb(&[0xc0, 0x00]), Ok(64));
        assert_eq!(sleb(&[0xbf, 0x7f]), Ok(-65));
        // Ten groups: the last may carry only bit 63.
        let mut max = [0xff; 10];
        max[9] = 0x01;
        assert_eq!(uleb(&max), Ok(u64::MAX));
        max[9] = 0x02;
        assert_eq!(uleb(&max).err(), overflow);
        max[9] = 0x81;
        assert_eq!(uleb(&max).err(), overflow);
        assert_eq!(uleb(&[0xff; 11]).err(), overflow);
        let mut min = [0x80; 10];
        min[9] = 0x7f;
        assert_eq!(sleb(&min), Ok(i64::MIN));
        min[9] = 0x01;
        assert_eq!(sleb(&min).err(), overflow);
        min[9] = 0xff;
        assert_eq!(sleb(&min).err(), overflow);
        assert_eq!(
            uleb(&[0x80]),
            Err(DecodeError::Truncated {
                offset: 1,
                what: "x"
            })
        );
        // A u32 field holding 2^32.
        let mut r = Reader {
            bytes: &[0x80, 0x80, 0x80, 0x80, 0x10],
            pos: 0,
        };
        assert_eq!(
            r.u32("y"),
            Err(DecodeError::Overflow {
                offset: 0,
                what: "y"
            })
        );
    }

    /// The bytes of the worked example with `range` replaced by `with`.
    fn patched(range: std::ops::Range<usize>, with: &[u8]) -> Vec<u8> {
        let mut b = hex(TINY_HEX);
        b.splice(range, with.iter().copied());
        b
    }

    // Byte offsets into TINY_HEX, see the table in docs/silc.md.
    const AT_NAME: usize = 6;
    const AT_FUNC_COUNT: usize = 20;
    const AT_NUM_PARAMS: usize = 26;
    const AT_REG_COUNT: usize = 27;
    const AT_REG_TYPE: usize = 30;
    const AT_LABEL_POS: usize = 39;
    const AT_BODY: usize = 43;

    #[test]
    fn offsets_in_the_tests_match_the_example() {
        let b = hex(TINY_HEX);
        assert_eq!(&b[AT_NAME..AT_NAME + 5], b"\x04tiny");
        assert_eq!(b[AT_FUNC_COUNT], 1);
        assert_eq!(&b[AT_NUM_PARAMS..AT_NUM_PARAMS + 2], &[1, 1]);
        assert_eq!(&b[AT_REG_COUNT..AT_REG_COUNT + 3], b"\x01\x01n");
        assert_eq!(b[AT_REG_TYPE], type_code(Type::I64));
        assert_eq!(b[AT_BODY - 1], 2);
        assert_eq!(b[AT_BODY], opcode::BIN);
    }

    #[test]
    fn huge_counts_are_rejected_before_allocating() {
        for huge in [u64::MAX, u32::MAX as u64, 1 << 40, 1000] {
            let (leb, n) = uleb_bytes(huge);
            let b = patched(AT_FUNC_COUNT..AT_FUNC_COUNT + 1, &leb[..n]);
            assert_eq!(
                decode(&b),
                Err(DecodeError::TooLarge {
                    offset: AT_FUNC_COUNT,
                    what: "function count",
                    len: huge
                })
            );
            let b = patched(AT_NAME..AT_NAME + 1, &leb[..n]);
            assert!(matches!(
                decode(&b),
                Err(DecodeError::TooLarge {
                    offset: AT_NAME,
                    ..
                })
            ));
        }
        // A count is checked against the smallest size of its items, not only against 1 byte:
        // 12 instructions need 36 bytes, registers 4 each.
        let b = patched(AT_BODY - 1..AT_BODY, &[12]);
        assert!(b.len() - AT_BODY >= 12);
        assert!(matches!(
            decode(&b),
            Err(DecodeError::TooLarge {
                what: "instruction count",
                ..
            })
        ));
        let b = patched(AT_REG_COUNT..AT_REG_COUNT + 1, &[10]);
        assert!(b.len() - AT_REG_COUNT >= 10);
        assert!(matches!(
            decode(&b),
            Err(DecodeError::TooLarge {
                what: "register count",
                ..
            })
        ));
    }

    #[test]
    fn indices_are_checked() {
        // `add n, n, 1` with d = register 1, of one.
        let b = patched(AT_BODY + 2..AT_BODY + 3, &[1]);
        assert_eq!(
            decode(&b),
            Err(DecodeError::IndexOutOfRange {
                offset: AT_BODY + 2,
                what: "register index",
                index: 1,
                len: 1
            })
        );
        // num_params 2 with one register.
        let b = patched(AT_NUM_PARAMS..AT_NUM_PARAMS + 1, &[2]);
        assert!(matches!(
            decode(&b),
            Err(DecodeError::LimitExceeded {
                offset: AT_NUM_PARAMS,
                what: "parameter count",
                ..
            })
        ));
        // Label position 3 in a body of 2.
        let b = patched(AT_LABEL_POS..AT_LABEL_POS + 1, &[3]);
        assert_eq!(
            decode(&b),
            Err(DecodeError::LimitExceeded {
                offset: AT_LABEL_POS,
                what: "label position",
                value: 3,
                max: 2
            })
        );
        // Position 2 (after the last instruction) is fine.
        assert!(decode(&patched(AT_LABEL_POS..AT_LABEL_POS + 1, &[2])).is_ok());

        // Replace `ret n` (6 bytes) by each instruction naming something out of range.
        let ret_at = AT_BODY + 9;
        let cases: [(&[u8], &str); 6] = [
            (&[opcode::JMP, 1], "label index"),
            (&[opcode::FREF, 0, 1], "function index"),
            (&[opcode::CALL, 0, CALLEE_FUNC, 1, 0], "function index"),
            (&[opcode::TAIL, CALLEE_EXTERN, 0, 0], "extern index"),
            (&[opcode::SWITCH, OPERAND_INT, 0, 1, 0, 5], "label index"),
            (
                &[opcode::MOV, 0, OPERAND_REG, 0x80, 0x80, 0x80, 0x80, 0x10],
                "register index",
            ),
        ];
        for (inst, what) in cases {
            let mut with = inst.to_vec();
            with.extend([5, 5]);
            let b = patched(ret_at..ret_at + 6, &with);
            match decode(&b) {
                Err(DecodeError::IndexOutOfRange { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{inst:x?}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_tags_and_text() {
        let bad = |range: std::ops::Range<usize>, with: &[u8]| decode(&patched(range, with));
        assert_eq!(
            bad(AT_BODY..AT_BODY + 1, &[0x00]),
            Err(DecodeError::BadTag {
                offset: AT_BODY,
                what: "opcode",
                tag: 0
            })
        );
        assert_eq!(
            bad(AT_BODY + 1..AT_BODY + 2, &[20]),
            Err(DecodeError::BadTag {
                offset: AT_BODY + 1,
                what: "binary operation",
                tag: 20
            })
        );
        assert_eq!(
            bad(AT_BODY + 3..AT_BODY + 4, &[9]),
            Err(DecodeError::BadTag {
                offset: AT_BODY + 3,
                what: "operand tag",
                tag: 9
            })
        );
        assert_eq!(
            bad(AT_REG_TYPE..AT_REG_TYPE + 1, &[0]),
            Err(DecodeError::BadTag {
                offset: AT_REG_TYPE,
                what: "register type",
                tag: 0
            })
        );
        assert_eq!(
            bad(AT_NUM_PARAMS - 1..AT_NUM_PARAMS, &[2]),
            Err(DecodeError::BadTag {
                offset: AT_NUM_PARAMS - 1,
                what: "export flag",
                tag: 2
            })
        );
        assert_eq!(
            bad(AT_NAME + 2..AT_NAME + 3, &[0xff]),
            Err(DecodeError::BadUtf8 {
                offset: AT_NAME + 2
            })
        );
    }

    #[test]
    fn code_tables_are_inverse() {
        for c in 0..=255u8 {
            assert_eq!(type_from(c).map(type_code), type_from(c).map(|_| c));
            assert_eq!(bin_from(c).map(bin_code), bin_from(c).map(|_| c));
            assert_eq!(un_from(c).map(un_code), un_from(c).map(|_| c));
            assert_eq!(
                sil_int_from(c).map(sil_int_code),
                sil_int_from(c).map(|_| c)
            );
            assert_eq!(cmp_from(c).map(cmp_code), cmp_from(c).map(|_| c));
            assert_eq!(mem_from(c).map(mem_code), mem_from(c).map(|_| c));
        }
        // Every variant listed in the tests has a distinct code, and the codes are dense.
        let dense = |codes: Vec<u8>| codes.iter().enumerate().all(|(i, &c)| c as usize == i);
        assert!(dense(BinOp::ALL.map(bin_code).to_vec()));
        assert!(dense(UnOp::ALL.map(un_code).to_vec()));
        assert!(dense(SilIntOp::ALL.map(sil_int_code).to_vec()));
        assert!(dense(CmpOp::ALL.map(cmp_code).to_vec()));
        assert!(dense(MemTy::ALL.map(mem_code).to_vec()));
    }

    #[test]
    fn errors_render_with_offsets() {
        let e = DecodeError::TooLarge {
            offset: 20,
            what: "function count",
            len: 99,
        };
        assert_eq!(
            e.to_string(),
            "function count 99 at byte 20 is larger than the rest of the input"
        );
        assert_eq!(e.offset(), 20);
        assert_eq!(
            DecodeError::UnsupportedVersion { found: 7 }.to_string(),
            "unsupported .silc format version 7 (this build reads version 1)"
        );
    }
}
