//! The module model: what a `.sil` file, a `.silc` file and the builder API all produce.
//!
//! Names are resolved to indices once (registers, labels, functions), so engines never look a
//! name up while running. Literals keep the form they were written in (`Const::Int` may stand
//! where an `f64` is expected); `types::operand_types` says which type each operand is read at.

use std::fmt;

/// A value type of the bytecode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    I64,
    F64,
    Sil,
}

impl Type {
    pub const ALL: [Type; 3] = [Type::I64, Type::F64, Type::Sil];

    pub fn name(self) -> &'static str {
        match self {
            Type::I64 => "i64",
            Type::F64 => "f64",
            Type::Sil => "sil",
        }
    }

    /// Parses a type name, case-insensitively.
    pub fn from_name(s: &str) -> Option<Type> {
        Type::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A source position, 1-based. `line == 0` means "unknown" (a module built without source).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

impl Loc {
    pub const NONE: Loc = Loc { line: 0, col: 0 };
    pub fn new(line: u32, col: u32) -> Loc {
        Loc { line, col }
    }
    pub fn is_known(self) -> bool {
        self.line != 0
    }
}

/// Index of a register in its function: parameters first, then `reg` declarations in order.
/// Engines number frame slots the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegId(pub u32);

/// Index into `Function::labels`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelId(pub u32);

/// Index into `Module::funcs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

impl FuncId {
    /// The value `fref` gives this function: its index plus one, so 0 is never a handle.
    /// Every engine uses this numbering (programs may not depend on it; engines must agree,
    /// since a handle may be stored in memory by one tier and called by another).
    pub const fn handle(self) -> i64 {
        self.0 as i64 + 1
    }

    /// The function index a handle names, if it could name one (the caller range-checks it).
    pub fn from_handle(h: i64) -> Option<usize> {
        usize::try_from(h.checked_sub(1)?).ok()
    }

    /// What codegen adds to a handle to get the index (`FuncId::handle` inverted).
    pub const HANDLE_TO_INDEX: i64 = -1;
}

/// Index into `Module::externs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternId(pub u32);

/// A literal as written. `Int` may stand for an `f64` when it converts exactly.
#[derive(Clone, Copy, Debug)]
pub enum Const {
    Int(i64),
    Float(f64),
    Sil(u8),
}

impl PartialEq for Const {
    /// Floats compare by bits, so a NaN literal equals itself (round trips must hold).
    fn eq(&self, other: &Const) -> bool {
        match (self, other) {
            (Const::Int(a), Const::Int(b)) => a == b,
            (Const::Float(a), Const::Float(b)) => a.to_bits() == b.to_bits(),
            (Const::Sil(a), Const::Sil(b)) => a == b,
            _ => false,
        }
    }
}

impl Const {
    /// The 64-bit slot value of this literal read as `ty`, or `None` if it cannot stand there.
    pub fn to_slot(self, ty: Type) -> Option<u64> {
        match (self, ty) {
            (Const::Int(v), Type::I64) => Some(v as u64),
            (Const::Int(v), Type::F64) => {
                let f = v as f64;
                // Exact iff the conversion round-trips (and is not 2^63, which `as i64` saturates).
                (f != i64::MAX as f64 && f as i64 == v).then_some(f.to_bits())
            }
            (Const::Float(f), Type::F64) => Some(f.to_bits()),
            (Const::Sil(b), Type::Sil) => Some(b as u64),
            _ => None,
        }
    }

    /// The type this literal has when nothing else decides it.
    pub fn natural_type(self) -> Type {
        match self {
            Const::Int(_) => Type::I64,
            Const::Float(_) => Type::F64,
            Const::Sil(_) => Type::Sil,
        }
    }
}

/// A source operand: a register or a literal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operand {
    Reg(RegId),
    Const(Const),
}

/// `[base + offset]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Addr {
    pub base: Operand,
    pub offset: i64,
}

/// The target of a direct call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Callee {
    Func(FuncId),
    Extern(ExternId),
}

/// Two-operand instructions `op d, a, b` whose operands have the type of `d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    UDiv,
    URem,
    Min,
    Max,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    UShr,
    Rotl,
    Rotr,
    Atan2,
    Pow,
    Hypot,
}

impl BinOp {
    /// Every variant, for tables and exhaustive tests.
    pub const ALL: [BinOp; 20] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
        BinOp::UDiv,
        BinOp::URem,
        BinOp::Min,
        BinOp::Max,
        BinOp::And,
        BinOp::Or,
        BinOp::Xor,
        BinOp::Shl,
        BinOp::Shr,
        BinOp::UShr,
        BinOp::Rotl,
        BinOp::Rotr,
        BinOp::Atan2,
        BinOp::Pow,
        BinOp::Hypot,
    ];
}

/// One-operand instructions `op d, a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Abs,
    Not,
    Clz,
    Ctz,
    Popcnt,
    Sqrt,
    Floor,
    Ceil,
    Trunc,
    Round,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Exp,
    Ln,
    Log10,
    /// f64 ← i64
    I2F,
    /// i64 ← f64
    F2I,
    /// i64 ↔ f64
    Bitcast,
    /// i64 ← sil
    SilRho,
    /// i64 ← sil
    SilTheta,
    /// i64 ← sil
    SilByte,
    /// sil ← i64
    SilFromByte,
    SilInv,
    SilConj,
    SilMag,
    SilPhase,
    /// f64 ← sil
    SilRe,
    /// f64 ← sil
    SilIm,
    /// f64 ← sil
    SilAbs,
    /// f64 ← sil
    SilArg,
}

impl UnOp {
    /// Every variant, for tables and exhaustive tests.
    pub const ALL: [UnOp; 35] = [
        UnOp::Neg,
        UnOp::Abs,
        UnOp::Not,
        UnOp::Clz,
        UnOp::Ctz,
        UnOp::Popcnt,
        UnOp::Sqrt,
        UnOp::Floor,
        UnOp::Ceil,
        UnOp::Trunc,
        UnOp::Round,
        UnOp::Sin,
        UnOp::Cos,
        UnOp::Tan,
        UnOp::Asin,
        UnOp::Acos,
        UnOp::Atan,
        UnOp::Exp,
        UnOp::Ln,
        UnOp::Log10,
        UnOp::I2F,
        UnOp::F2I,
        UnOp::Bitcast,
        UnOp::SilRho,
        UnOp::SilTheta,
        UnOp::SilByte,
        UnOp::SilFromByte,
        UnOp::SilInv,
        UnOp::SilConj,
        UnOp::SilMag,
        UnOp::SilPhase,
        UnOp::SilRe,
        UnOp::SilIm,
        UnOp::SilAbs,
        UnOp::SilArg,
    ];
}

/// `sil.pow d, a, n` and friends: a sil and an i64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SilIntOp {
    Pow,
    Root,
    Scale,
    Rotate,
}

impl SilIntOp {
    /// Every variant, for tables and exhaustive tests.
    pub const ALL: [SilIntOp; 4] = [
        SilIntOp::Pow,
        SilIntOp::Root,
        SilIntOp::Scale,
        SilIntOp::Rotate,
    ];
}

/// Comparisons, used by `eq d, a, b` and by the branches `beq a, b, L`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LtU,
    LeU,
    GtU,
    GeU,
}

impl CmpOp {
    /// Every variant, for tables and exhaustive tests.
    pub const ALL: [CmpOp; 10] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::LtU,
        CmpOp::LeU,
        CmpOp::GtU,
        CmpOp::GeU,
    ];
}

/// Memory access widths and their interpretation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemTy {
    I64,
    F64,
    Sil,
    I32,
    I16,
    I8,
    U32,
    U16,
    U8,
}

impl MemTy {
    /// Every variant, for tables and exhaustive tests.
    pub const ALL: [MemTy; 9] = [
        MemTy::I64,
        MemTy::F64,
        MemTy::Sil,
        MemTy::I32,
        MemTy::I16,
        MemTy::I8,
        MemTy::U32,
        MemTy::U16,
        MemTy::U8,
    ];
}

impl MemTy {
    /// Bytes accessed.
    pub fn size(self) -> u64 {
        match self {
            MemTy::I64 | MemTy::F64 => 8,
            MemTy::I32 | MemTy::U32 => 4,
            MemTy::I16 | MemTy::U16 => 2,
            MemTy::I8 | MemTy::U8 | MemTy::Sil => 1,
        }
    }

    /// The register type loaded or stored.
    pub fn value_type(self) -> Type {
        match self {
            MemTy::F64 => Type::F64,
            MemTy::Sil => Type::Sil,
            _ => Type::I64,
        }
    }

    /// Stores exist for every width but not for the unsigned forms.
    pub fn storable(self) -> bool {
        !matches!(self, MemTy::U32 | MemTy::U16 | MemTy::U8)
    }
}

/// One instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Inst {
    Mov {
        d: RegId,
        a: Operand,
    },
    Bin {
        op: BinOp,
        d: RegId,
        a: Operand,
        b: Operand,
    },
    Un {
        op: UnOp,
        d: RegId,
        a: Operand,
    },
    SilInt {
        op: SilIntOp,
        d: RegId,
        a: Operand,
        n: Operand,
    },
    SilNew {
        d: RegId,
        rho: Operand,
        theta: Operand,
    },
    SilFrom {
        d: RegId,
        re: Operand,
        im: Operand,
    },
    SilLerp {
        d: RegId,
        a: Operand,
        b: Operand,
        t: Operand,
    },
    Cmp {
        op: CmpOp,
        d: RegId,
        a: Operand,
        b: Operand,
    },
    Select {
        d: RegId,
        c: Operand,
        a: Operand,
        b: Operand,
    },

    Jmp {
        target: LabelId,
    },
    /// `jz a, L` (`nonzero == false`) or `jnz a, L`.
    JumpIf {
        nonzero: bool,
        a: Operand,
        target: LabelId,
    },
    /// `beq a, b, L` and friends.
    Branch {
        op: CmpOp,
        a: Operand,
        b: Operand,
        target: LabelId,
    },
    Switch {
        a: Operand,
        targets: Vec<LabelId>,
        default: LabelId,
    },
    Call {
        d: Option<RegId>,
        callee: Callee,
        args: Vec<Operand>,
    },
    /// A tail call; to an extern it behaves as `call` then `ret` (host code cannot re-enter).
    Tail {
        callee: Callee,
        args: Vec<Operand>,
    },
    Fref {
        d: RegId,
        func: FuncId,
    },
    CallI {
        d: Option<RegId>,
        handle: Operand,
        args: Vec<Operand>,
        params: Vec<Type>,
        ret: Option<Type>,
    },
    Ret {
        a: Option<Operand>,
    },
    Exit {
        a: Operand,
    },
    Trap,
    Nop,

    Load {
        ty: MemTy,
        d: RegId,
        addr: Addr,
    },
    Store {
        ty: MemTy,
        addr: Addr,
        v: Operand,
    },
    MemSize {
        d: RegId,
    },
    MemGrow {
        d: RegId,
        a: Operand,
    },
    MemCopy {
        dst: Operand,
        src: Operand,
        n: Operand,
    },
    MemFill {
        dst: Operand,
        byte: Operand,
        n: Operand,
    },

    /// `print`, `println`; `a == None` only for a bare `println`.
    Print {
        a: Option<Operand>,
        precision: Option<u8>,
        newline: bool,
    },
    Putc {
        a: Operand,
    },
    Write {
        a: Operand,
        n: Operand,
    },
    Getc {
        d: RegId,
    },
    Clock {
        d: RegId,
    },
}

impl Inst {
    /// True for instructions after which control never falls through.
    pub fn is_terminator(&self) -> bool {
        matches!(
            self,
            Inst::Jmp { .. }
                | Inst::Switch { .. }
                | Inst::Tail { .. }
                | Inst::Ret { .. }
                | Inst::Exit { .. }
                | Inst::Trap
        )
    }

    /// Labels this instruction may jump to (not counting fall-through).
    pub fn branch_targets(&self) -> Vec<LabelId> {
        match self {
            Inst::Jmp { target } | Inst::JumpIf { target, .. } | Inst::Branch { target, .. } => {
                vec![*target]
            }
            Inst::Switch {
                targets, default, ..
            } => {
                let mut v = targets.clone();
                v.push(*default);
                v
            }
            _ => Vec::new(),
        }
    }

    /// The register this instruction writes, if any.
    pub fn dest(&self) -> Option<RegId> {
        match self {
            Inst::Mov { d, .. }
            | Inst::Bin { d, .. }
            | Inst::Un { d, .. }
            | Inst::SilInt { d, .. }
            | Inst::SilNew { d, .. }
            | Inst::SilFrom { d, .. }
            | Inst::SilLerp { d, .. }
            | Inst::Cmp { d, .. }
            | Inst::Select { d, .. }
            | Inst::Fref { d, .. }
            | Inst::Load { d, .. }
            | Inst::MemSize { d }
            | Inst::MemGrow { d, .. }
            | Inst::Getc { d }
            | Inst::Clock { d } => Some(*d),
            Inst::Call { d, .. } | Inst::CallI { d, .. } => *d,
            _ => None,
        }
    }
}

/// An instruction with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct InstAt {
    pub inst: Inst,
    pub loc: Loc,
}

/// A register: a parameter or a `reg` declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct RegDecl {
    pub name: String,
    pub ty: Type,
    pub loc: Loc,
}

/// A label: a name for the instruction index `pos` (`pos == body.len()` means "after the last").
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub name: String,
    pub pos: u32,
    pub loc: Loc,
}

/// A function.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: String,
    pub export: bool,
    /// The first `num_params` entries of `regs` are the parameters.
    pub num_params: u32,
    pub regs: Vec<RegDecl>,
    pub ret: Option<Type>,
    pub labels: Vec<Label>,
    pub body: Vec<InstAt>,
    /// Where the `func` header stands.
    pub loc: Loc,
}

impl Function {
    pub fn params(&self) -> &[RegDecl] {
        &self.regs[..self.num_params as usize]
    }

    pub fn param_types(&self) -> Vec<Type> {
        self.params().iter().map(|r| r.ty).collect()
    }

    pub fn reg_type(&self, r: RegId) -> Type {
        self.regs[r.0 as usize].ty
    }

    pub fn reg_name(&self, r: RegId) -> &str {
        &self.regs[r.0 as usize].name
    }

    pub fn find_reg(&self, name: &str) -> Option<RegId> {
        self.regs
            .iter()
            .position(|r| r.name == name)
            .map(|i| RegId(i as u32))
    }

    /// Whether a branch at instruction `at` to `label` goes backward (to `at` or earlier):
    /// such a branch closes a loop, whose header is the label.
    pub fn is_back_edge(&self, at: usize, label: LabelId) -> bool {
        self.labels
            .get(label.0 as usize)
            .is_some_and(|l| l.pos as usize <= at)
    }

    /// The instruction index of every loop header (a label some backward branch targets),
    /// ascending and without repeats. Engines poll, count and enter loops here.
    pub fn loop_headers(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .body
            .iter()
            .enumerate()
            .flat_map(|(i, inst)| {
                inst.inst
                    .branch_targets()
                    .into_iter()
                    .filter(move |&t| self.is_back_edge(i, t))
            })
            .map(|t| self.labels[t.0 as usize].pos)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The module functions this one can reach without `calli`: direct calls, tail calls and
    /// `fref` handles (each once, in first-use order).
    pub fn func_edges(&self) -> Vec<FuncId> {
        let mut v: Vec<FuncId> = Vec::new();
        for inst in &self.body {
            let f = match &inst.inst {
                Inst::Call {
                    callee: Callee::Func(c),
                    ..
                }
                | Inst::Tail {
                    callee: Callee::Func(c),
                    ..
                } => *c,
                Inst::Fref { func, .. } => *func,
                _ => continue,
            };
            if !v.contains(&f) {
                v.push(f);
            }
        }
        v
    }

    /// The module functions this one calls directly (`call` or `tail`; not `fref`): the ones
    /// whose signature it depends on.
    pub fn direct_callees(&self) -> impl Iterator<Item = FuncId> + '_ {
        self.body.iter().filter_map(|inst| match &inst.inst {
            Inst::Call {
                callee: Callee::Func(c),
                ..
            }
            | Inst::Tail {
                callee: Callee::Func(c),
                ..
            } => Some(*c),
            _ => None,
        })
    }

    pub fn find_label(&self, name: &str) -> Option<LabelId> {
        self.labels
            .iter()
            .position(|l| l.name == name)
            .map(|i| LabelId(i as u32))
    }

    /// The signature as the text format writes it, e.g. `fib(n: i64) -> i64`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params()
            .iter()
            .map(|p| format!("{}: {}", p.name, p.ty))
            .collect();
        match self.ret {
            Some(t) => format!("{}({}) -> {}", self.name, params.join(", "), t),
            None => format!("{}({})", self.name, params.join(", ")),
        }
    }
}

/// A function the host (JIT) or the C linker (AOT) provides.
#[derive(Clone, Debug, PartialEq)]
pub struct Extern {
    pub name: String,
    pub params: Vec<Type>,
    /// Optional parameter names, kept for printing.
    pub param_names: Vec<Option<String>>,
    pub ret: Option<Type>,
    pub loc: Loc,
}

/// Initial memory contents.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSegment {
    pub offset: i64,
    pub bytes: Vec<u8>,
    pub loc: Loc,
}

/// Linear memory declaration, in 64 KiB pages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    pub min_pages: u64,
    pub max_pages: u64,
    pub loc: Loc,
}

pub const PAGE_SIZE: u64 = 65536;
pub const MAX_PAGES: u64 = 65536;

impl Default for Memory {
    fn default() -> Memory {
        Memory {
            min_pages: 0,
            max_pages: MAX_PAGES,
            loc: Loc::NONE,
        }
    }
}

/// A whole module.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    pub name: String,
    pub memory: Memory,
    /// True when the source had a `memory` line (kept so printing reproduces it).
    pub memory_declared: bool,
    pub data: Vec<DataSegment>,
    pub externs: Vec<Extern>,
    pub funcs: Vec<Function>,
}

impl Module {
    pub fn new(name: impl Into<String>) -> Module {
        Module {
            name: name.into(),
            ..Module::default()
        }
    }

    pub fn find_func(&self, name: &str) -> Option<FuncId> {
        self.funcs
            .iter()
            .position(|f| f.name == name)
            .map(|i| FuncId(i as u32))
    }

    pub fn find_extern(&self, name: &str) -> Option<ExternId> {
        self.externs
            .iter()
            .position(|f| f.name == name)
            .map(|i| ExternId(i as u32))
    }

    pub fn func(&self, id: FuncId) -> &Function {
        &self.funcs[id.0 as usize]
    }

    pub fn ext(&self, id: ExternId) -> &Extern {
        &self.externs[id.0 as usize]
    }

    /// Parameter and result types of a direct callee.
    pub fn callee_sig(&self, c: Callee) -> (Vec<Type>, Option<Type>) {
        match c {
            Callee::Func(f) => {
                let f = self.func(f);
                (f.param_types(), f.ret)
            }
            Callee::Extern(e) => {
                let e = self.ext(e);
                (e.params.clone(), e.ret)
            }
        }
    }

    pub fn callee_name(&self, c: Callee) -> &str {
        match c {
            Callee::Func(f) => &self.func(f).name,
            Callee::Extern(e) => &self.ext(e).name,
        }
    }
}
