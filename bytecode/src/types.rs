//! Typing rules of every instruction, shared by the verifier and every engine.
//!
//! The verifier checks a module against these rules; engines call the same functions to learn
//! which type each operand has (and so how to read a literal), so the two can never disagree.

use crate::model::{BinOp, CmpOp, Function, Operand, Type, UnOp};

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
        if let Operand::Reg(r) = o {
            if let Some(decl) = f.regs.get(r.0 as usize) {
                return decl.ty;
            }
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
