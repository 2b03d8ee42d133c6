//! The mnemonic table: one list that both the parser and the printer read, so they cannot drift.

use crate::model::{BinOp, CmpOp, Inst, MemTy, SilIntOp, UnOp};

/// The operand shape a mnemonic takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Mov,
    Bin(BinOp),
    Un(UnOp),
    SilInt(SilIntOp),
    SilNew,
    SilFrom,
    SilLerp,
    Cmp(CmpOp),
    Select,
    Jmp,
    JumpIf(bool),
    Branch(CmpOp),
    Switch,
    Call,
    Tail,
    Fref,
    CallI,
    Ret,
    Exit,
    Trap,
    Nop,
    Load(MemTy),
    Store(MemTy),
    MemSize,
    MemGrow,
    MemCopy,
    MemFill,
    Print(bool),
    Putc,
    Write,
    Getc,
    Clock,
}

use Shape as S;

pub(crate) const TABLE: &[(&str, Shape)] = &[
    ("mov", S::Mov),
    ("add", S::Bin(BinOp::Add)),
    ("sub", S::Bin(BinOp::Sub)),
    ("mul", S::Bin(BinOp::Mul)),
    ("div", S::Bin(BinOp::Div)),
    ("rem", S::Bin(BinOp::Rem)),
    ("udiv", S::Bin(BinOp::UDiv)),
    ("urem", S::Bin(BinOp::URem)),
    ("min", S::Bin(BinOp::Min)),
    ("max", S::Bin(BinOp::Max)),
    ("and", S::Bin(BinOp::And)),
    ("or", S::Bin(BinOp::Or)),
    ("xor", S::Bin(BinOp::Xor)),
    ("shl", S::Bin(BinOp::Shl)),
    ("shr", S::Bin(BinOp::Shr)),
    ("ushr", S::Bin(BinOp::UShr)),
    ("rotl", S::Bin(BinOp::Rotl)),
    ("rotr", S::Bin(BinOp::Rotr)),
    ("atan2", S::Bin(BinOp::Atan2)),
    ("pow", S::Bin(BinOp::Pow)),
    ("hypot", S::Bin(BinOp::Hypot)),
    ("neg", S::Un(UnOp::Neg)),
    ("abs", S::Un(UnOp::Abs)),
    ("not", S::Un(UnOp::Not)),
    ("clz", S::Un(UnOp::Clz)),
    ("ctz", S::Un(UnOp::Ctz)),
    ("popcnt", S::Un(UnOp::Popcnt)),
    ("sqrt", S::Un(UnOp::Sqrt)),
    ("floor", S::Un(UnOp::Floor)),
    ("ceil", S::Un(UnOp::Ceil)),
    ("trunc", S::Un(UnOp::Trunc)),
    ("round", S::Un(UnOp::Round)),
    ("sin", S::Un(UnOp::Sin)),
    ("cos", S::Un(UnOp::Cos)),
    ("tan", S::Un(UnOp::Tan)),
    ("asin", S::Un(UnOp::Asin)),
    ("acos", S::Un(UnOp::Acos)),
    ("atan", S::Un(UnOp::Atan)),
    ("exp", S::Un(UnOp::Exp)),
    ("ln", S::Un(UnOp::Ln)),
    ("log10", S::Un(UnOp::Log10)),
    ("i2f", S::Un(UnOp::I2F)),
    ("f2i", S::Un(UnOp::F2I)),
    ("bitcast", S::Un(UnOp::Bitcast)),
    ("sil.rho", S::Un(UnOp::SilRho)),
    ("sil.theta", S::Un(UnOp::SilTheta)),
    ("sil.byte", S::Un(UnOp::SilByte)),
    ("sil.from_byte", S::Un(UnOp::SilFromByte)),
    ("sil.inv", S::Un(UnOp::SilInv)),
    ("sil.conj", S::Un(UnOp::SilConj)),
    ("sil.mag", S::Un(UnOp::SilMag)),
    ("sil.phase", S::Un(UnOp::SilPhase)),
    ("sil.re", S::Un(UnOp::SilRe)),
    ("sil.im", S::Un(UnOp::SilIm)),
    ("sil.abs", S::Un(UnOp::SilAbs)),
    ("sil.arg", S::Un(UnOp::SilArg)),
    ("sil.pow", S::SilInt(SilIntOp::Pow)),
    ("sil.root", S::SilInt(SilIntOp::Root)),
    ("sil.scale", S::SilInt(SilIntOp::Scale)),
    ("sil.rotate", S::SilInt(SilIntOp::Rotate)),
    ("sil.new", S::SilNew),
    ("sil.from", S::SilFrom),
    ("sil.lerp", S::SilLerp),
    ("eq", S::Cmp(CmpOp::Eq)),
    ("ne", S::Cmp(CmpOp::Ne)),
    ("lt", S::Cmp(CmpOp::Lt)),
    ("le", S::Cmp(CmpOp::Le)),
    ("gt", S::Cmp(CmpOp::Gt)),
    ("ge", S::Cmp(CmpOp::Ge)),
    ("ltu", S::Cmp(CmpOp::LtU)),
    ("leu", S::Cmp(CmpOp::LeU)),
    ("gtu", S::Cmp(CmpOp::GtU)),
    ("geu", S::Cmp(CmpOp::GeU)),
    ("select", S::Select),
    ("jmp", S::Jmp),
    ("jz", S::JumpIf(false)),
    ("jnz", S::JumpIf(true)),
    ("beq", S::Branch(CmpOp::Eq)),
    ("bne", S::Branch(CmpOp::Ne)),
    ("blt", S::Branch(CmpOp::Lt)),
    ("ble", S::Branch(CmpOp::Le)),
    ("bgt", S::Branch(CmpOp::Gt)),
    ("bge", S::Branch(CmpOp::Ge)),
    ("bltu", S::Branch(CmpOp::LtU)),
    ("bleu", S::Branch(CmpOp::LeU)),
    ("bgtu", S::Branch(CmpOp::GtU)),
    ("bgeu", S::Branch(CmpOp::GeU)),
    ("switch", S::Switch),
    ("call", S::Call),
    ("tail", S::Tail),
    ("fref", S::Fref),
    ("calli", S::CallI),
    ("ret", S::Ret),
    ("exit", S::Exit),
    ("trap", S::Trap),
    ("nop", S::Nop),
    ("load.i64", S::Load(MemTy::I64)),
    ("load.f64", S::Load(MemTy::F64)),
    ("load.sil", S::Load(MemTy::Sil)),
    ("load.i32", S::Load(MemTy::I32)),
    ("load.i16", S::Load(MemTy::I16)),
    ("load.i8", S::Load(MemTy::I8)),
    ("load.u32", S::Load(MemTy::U32)),
    ("load.u16", S::Load(MemTy::U16)),
    ("load.u8", S::Load(MemTy::U8)),
    ("store.i64", S::Store(MemTy::I64)),
    ("store.f64", S::Store(MemTy::F64)),
    ("store.sil", S::Store(MemTy::Sil)),
    ("store.i32", S::Store(MemTy::I32)),
    ("store.i16", S::Store(MemTy::I16)),
    ("store.i8", S::Store(MemTy::I8)),
    ("memsize", S::MemSize),
    ("memgrow", S::MemGrow),
    ("memcopy", S::MemCopy),
    ("memfill", S::MemFill),
    ("print", S::Print(false)),
    ("println", S::Print(true)),
    ("putc", S::Putc),
    ("write", S::Write),
    ("getc", S::Getc),
    ("clock", S::Clock),
];

/// Looks a mnemonic up, case-insensitively.
pub(crate) fn lookup(name: &str) -> Option<Shape> {
    TABLE
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, s)| s)
}

/// The shape of an instruction, the inverse of `lookup` up to the mnemonic's spelling.
pub(crate) fn shape_of(inst: &Inst) -> Shape {
    match inst {
        Inst::Mov { .. } => S::Mov,
        Inst::Bin { op, .. } => S::Bin(*op),
        Inst::Un { op, .. } => S::Un(*op),
        Inst::SilInt { op, .. } => S::SilInt(*op),
        Inst::SilNew { .. } => S::SilNew,
        Inst::SilFrom { .. } => S::SilFrom,
        Inst::SilLerp { .. } => S::SilLerp,
        Inst::Cmp { op, .. } => S::Cmp(*op),
        Inst::Select { .. } => S::Select,
        Inst::Jmp { .. } => S::Jmp,
        Inst::JumpIf { nonzero, .. } => S::JumpIf(*nonzero),
        Inst::Branch { op, .. } => S::Branch(*op),
        Inst::Switch { .. } => S::Switch,
        Inst::Call { .. } => S::Call,
        Inst::Tail { .. } => S::Tail,
        Inst::Fref { .. } => S::Fref,
        Inst::CallI { .. } => S::CallI,
        Inst::Ret { .. } => S::Ret,
        Inst::Exit { .. } => S::Exit,
        Inst::Trap => S::Trap,
        Inst::Nop => S::Nop,
        Inst::Load { ty, .. } => S::Load(*ty),
        Inst::Store { ty, .. } => S::Store(*ty),
        Inst::MemSize { .. } => S::MemSize,
        Inst::MemGrow { .. } => S::MemGrow,
        Inst::MemCopy { .. } => S::MemCopy,
        Inst::MemFill { .. } => S::MemFill,
        Inst::Print { newline, .. } => S::Print(*newline),
        Inst::Putc { .. } => S::Putc,
        Inst::Write { .. } => S::Write,
        Inst::Getc { .. } => S::Getc,
        Inst::Clock { .. } => S::Clock,
    }
}

/// The canonical (lower-case) mnemonic of an instruction.
pub fn mnemonic(inst: &Inst) -> &'static str {
    let shape = shape_of(inst);
    TABLE
        .iter()
        .find(|(_, s)| *s == shape)
        .map_or("?", |(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SilIntOp;

    #[test]
    fn every_operator_has_a_mnemonic_that_reads_back() {
        let shapes = BinOp::ALL
            .map(Shape::Bin)
            .into_iter()
            .chain(UnOp::ALL.map(Shape::Un))
            .chain(SilIntOp::ALL.map(Shape::SilInt))
            .chain(CmpOp::ALL.map(Shape::Cmp))
            .chain(CmpOp::ALL.map(Shape::Branch))
            .chain(MemTy::ALL.map(Shape::Load))
            .chain(
                MemTy::ALL
                    .into_iter()
                    .filter(|m| m.storable())
                    .map(Shape::Store),
            );
        for shape in shapes {
            let (name, _) = TABLE
                .iter()
                .find(|(_, s)| *s == shape)
                .unwrap_or_else(|| panic!("no mnemonic for {shape:?}"));
            assert_eq!(lookup(&name.to_uppercase()), Some(shape));
        }
    }
}
