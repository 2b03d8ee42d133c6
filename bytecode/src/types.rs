//! Typing rules of every instruction, shared by the verifier and every engine.
//!
//! The verifier checks a module against these rules; engines call the same functions to learn
//! which type each operand has (and so how to read a literal), so the two can never disagree.

use crate::model::{BinOp, Callee, CmpOp, Function, Inst, Module, Operand, RegId, Type, UnOp};

/// Which destination types a binary operation accepts.
pub fn bin_allowed(op: BinOp) -> &'static [Type] {
    use BinOp::*;
    match op {
        Add | Sub | Mul | Div => &[Type::I64, Type::F64, Type::Sil],
        Rem | Min | Max => &[Type::I64, Type::F64],
        UDiv | URem | Shl | Shr | UShr | Rotl | Rotr => &[Type::I64],
        And | Or | Xor => &[Type::I64, Type::Sil],
        Atan2 | Pow | Hypot => &[Type::F64],
    }
}

/// For a unary operation and its destination type, the operand type, or `None` if `d` may not
/// have that type.
pub fn un_operand(op: UnOp, d: Type) -> Option<Type> {
    use Type::*;
    use UnOp::*;
    let ok = |allowed: &[Type]| allowed.contains(&d).then_some(d);
    match op {
        Neg => ok(&[I64, F64, Sil]),
        Abs => ok(&[I64, F64]),
        Not => ok(&[I64, Sil]),
        Clz | Ctz | Popcnt => ok(&[I64]),
        Sqrt | Floor | Ceil | Trunc | Round | Sin | Cos | Tan | Asin | Acos | Atan | Exp | Ln
        | Log10 => ok(&[F64]),
        I2F => (d == F64).then_some(I64),
        F2I => (d == I64).then_some(F64),
        Bitcast => match d {
            I64 => Some(F64),
            F64 => Some(I64),
            Sil => None,
        },
        SilRho | SilTheta | SilByte => (d == I64).then_some(Sil),
        SilFromByte => (d == Sil).then_some(I64),
        SilInv | SilConj | SilMag | SilPhase => ok(&[Sil]),
        SilRe | SilIm | SilAbs | SilArg => (d == F64).then_some(Sil),
    }
}

/// Which operand types a comparison accepts.
pub fn cmp_allowed(op: CmpOp) -> &'static [Type] {
    use CmpOp::*;
    match op {
        Eq | Ne => &[Type::I64, Type::F64, Type::Sil],
        Lt | Le | Gt | Ge => &[Type::I64, Type::F64],
        LtU | LeU | GtU | GeU => &[Type::I64],
    }
}

/// The type at which a comparison of `a` and `b` is made: the type of the first register
/// operand; with two literals, `f64` if either is a float, `sil` if either is a sil, else `i64`.
pub fn cmp_operand_type(f: &Function, a: &Operand, b: &Operand) -> Type {
    for o in [a, b] {
        if let Operand::Reg(r) = o
            && let Some(decl) = f.regs.get(r.0 as usize)
        {
            return decl.ty;
        }
    }
    let natural = |o: &Operand| match o {
        Operand::Const(c) => c.natural_type(),
        Operand::Reg(_) => Type::I64,
    };
    let (ta, tb) = (natural(a), natural(b));
    if ta == Type::F64 || tb == Type::F64 {
        Type::F64
    } else if ta == Type::Sil || tb == Type::Sil {
        Type::Sil
    } else {
        Type::I64
    }
}

/// The type of an operand as it stands in a `print`: a register's type, or the literal's own.
pub fn natural_operand_type(f: &Function, a: &Operand) -> Type {
    match a {
        Operand::Reg(r) => f.regs.get(r.0 as usize).map_or(Type::I64, |d| d.ty),
        Operand::Const(c) => c.natural_type(),
    }
}

/// What a source operand is for, so that a message can name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An ordinary operand (`a`, `b`, `rho`, `t`, ...).
    Operand,
    /// The condition of `select`, `jz`, `jnz`, or the index of `switch`.
    Condition,
    /// The base of `[a + K]`, or an address of `memcopy`, `memfill`, `write`.
    Address,
    /// The value stored by `store`, written by `print`, `putc`, `exit`, or the fill byte.
    Value,
    /// A byte or page count (`memcopy`, `memfill`, `write`, `memgrow`).
    Count,
    /// Argument `i` (0-based) of a call.
    Argument(usize),
    /// The handle of `calli`.
    Handle,
    /// The value of `ret`.
    Return,
}

/// One source operand of an instruction with the type it is read at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperandUse<'a> {
    pub operand: &'a Operand,
    pub ty: Type,
    pub role: Role,
}

/// The type of register `r`, or `None` if it is out of range.
pub fn reg_type(f: &Function, r: RegId) -> Option<Type> {
    f.regs.get(r.0 as usize).map(|d| d.ty)
}

/// Parameter and result types of a direct callee, or `None` if its id is out of range (or the
/// callee's `num_params` exceeds its registers). Unlike `Module::callee_sig`, never panics.
pub fn callee_signature(m: &Module, c: Callee) -> Option<(Vec<Type>, Option<Type>)> {
    match c {
        Callee::Func(id) => {
            let f = m.funcs.get(id.0 as usize)?;
            let params = f.regs.get(..f.num_params as usize)?;
            Some((params.iter().map(|p| p.ty).collect(), f.ret))
        }
        Callee::Extern(id) => m
            .externs
            .get(id.0 as usize)
            .map(|e| (e.params.clone(), e.ret)),
    }
}

/// Every source operand of `inst` with the type it is read at (so engines know how to read a
/// literal: `Const::to_slot(ty)`), in the order the text format writes them.
///
/// On a verified module every operand is listed. On an unverified one, operands whose type
/// cannot be known (an out-of-range register decides it, an operation that does not exist at
/// the destination's type, an argument beyond the callee's parameters, a `ret` value in a
/// function that returns nothing) are left out; the verifier reports their cause.
pub fn operand_types<'a>(m: &Module, f: &Function, inst: &'a Inst) -> Vec<OperandUse<'a>> {
    use Role as R;
    use Type::*;
    let mut v = Vec::new();
    let mut put = |operand: &'a Operand, ty: Option<Type>, role: Role| {
        if let Some(ty) = ty {
            v.push(OperandUse { operand, ty, role });
        }
    };
    let d_ty = |d: &RegId| reg_type(f, *d);
    match inst {
        Inst::Mov { d, a } => put(a, d_ty(d), R::Operand),
        Inst::Bin { d, a, b, .. } => {
            put(a, d_ty(d), R::Operand);
            put(b, d_ty(d), R::Operand);
        }
        Inst::Un { op, d, a } => put(a, d_ty(d).and_then(|t| un_operand(*op, t)), R::Operand),
        Inst::SilInt { a, n, .. } => {
            put(a, Some(Sil), R::Operand);
            put(n, Some(I64), R::Operand);
        }
        Inst::SilNew { rho, theta, .. } => {
            put(rho, Some(I64), R::Operand);
            put(theta, Some(I64), R::Operand);
        }
        Inst::SilFrom { re, im, .. } => {
            put(re, Some(F64), R::Operand);
            put(im, Some(F64), R::Operand);
        }
        Inst::SilLerp { a, b, t, .. } => {
            put(a, Some(Sil), R::Operand);
            put(b, Some(Sil), R::Operand);
            put(t, Some(F64), R::Operand);
        }
        Inst::Cmp { a, b, .. } | Inst::Branch { a, b, .. } => {
            let t = cmp_operand_type(f, a, b);
            put(a, Some(t), R::Operand);
            put(b, Some(t), R::Operand);
        }
        Inst::Select { d, c, a, b } => {
            put(c, Some(I64), R::Condition);
            put(a, d_ty(d), R::Operand);
            put(b, d_ty(d), R::Operand);
        }
        Inst::Jmp { .. } | Inst::Fref { .. } | Inst::Trap | Inst::Nop => {}
        Inst::JumpIf { a, .. } | Inst::Switch { a, .. } => put(a, Some(I64), R::Condition),
        Inst::Call { callee, args, .. } | Inst::Tail { callee, args } => {
            if let Some((params, _)) = callee_signature(m, *callee) {
                for (i, (a, t)) in args.iter().zip(params).enumerate() {
                    put(a, Some(t), R::Argument(i));
                }
            }
        }
        Inst::CallI {
            handle,
            args,
            params,
            ..
        } => {
            put(handle, Some(I64), R::Handle);
            for (i, (a, t)) in args.iter().zip(params).enumerate() {
                put(a, Some(*t), R::Argument(i));
            }
        }
        Inst::Ret { a } => {
            if let Some(a) = a {
                put(a, f.ret, R::Return);
            }
        }
        Inst::Exit { a } | Inst::Putc { a } => put(a, Some(I64), R::Value),
        Inst::Load { addr, .. } => put(&addr.base, Some(I64), R::Address),
        Inst::Store { ty, addr, v } => {
            put(&addr.base, Some(I64), R::Address);
            put(v, Some(ty.value_type()), R::Value);
        }
        Inst::MemSize { .. } | Inst::Getc { .. } | Inst::Clock { .. } => {}
        Inst::MemGrow { a, .. } => put(a, Some(I64), R::Count),
        Inst::MemCopy { dst, src, n } => {
            put(dst, Some(I64), R::Address);
            put(src, Some(I64), R::Address);
            put(n, Some(I64), R::Count);
        }
        Inst::MemFill { dst, byte, n } => {
            put(dst, Some(I64), R::Address);
            put(byte, Some(I64), R::Value);
            put(n, Some(I64), R::Count);
        }
        Inst::Print { a, .. } => {
            if let Some(a) = a {
                put(a, Some(natural_operand_type(f, a)), R::Value);
            }
        }
        Inst::Write { a, n } => {
            put(a, Some(I64), R::Address);
            put(n, Some(I64), R::Count);
        }
    }
    v
}

/// The destination types an instruction accepts for `d`, or `None` if `d` may have any type
/// (`mov`, `select`) or the instruction has no typed destination of its own (`call`, `calli`:
/// their callee decides).
pub fn dest_allowed(inst: &Inst) -> Option<Vec<Type>> {
    use Type::*;
    Some(match inst {
        Inst::Bin { op, .. } => bin_allowed(*op).to_vec(),
        Inst::Un { op, .. } => Type::ALL
            .into_iter()
            .filter(|t| un_operand(*op, *t).is_some())
            .collect(),
        Inst::SilInt { .. } | Inst::SilNew { .. } | Inst::SilFrom { .. } | Inst::SilLerp { .. } => {
            vec![Sil]
        }
        Inst::Cmp { .. }
        | Inst::Fref { .. }
        | Inst::MemSize { .. }
        | Inst::MemGrow { .. }
        | Inst::Getc { .. }
        | Inst::Clock { .. } => vec![I64],
        Inst::Load { ty, .. } => vec![ty.value_type()],
        _ => return None,
    })
}
