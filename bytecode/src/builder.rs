//! The builder API: Rust front ends emit modules with it instead of writing `.sil` text.
//!
//! [`ModuleBuilder`] collects items; [`ModuleBuilder::func`] hands out a [`FunctionBuilder`]
//! that appends instructions; [`ModuleBuilder::finish`] verifies the result, so a module that
//! comes out of the builder is as safe to run as a parsed one. Misuse (an unknown id, a label
//! bound twice or never) is reported by `finish` as diagnostics, never by a panic.

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{
    Addr, BinOp, Callee, CmpOp, Const, DataSegment, Extern, ExternId, FuncId, Function, Inst,
    InstAt, Label, LabelId, Loc, MemTy, Memory, Module, Operand, RegDecl, RegId, SilIntOp, Type,
    UnOp,
};

/// A label position no instruction index can have: "declared, not yet bound".
const UNBOUND: u32 = u32::MAX;

impl From<RegId> for Operand {
    fn from(r: RegId) -> Operand {
        Operand::Reg(r)
    }
}

impl From<Const> for Operand {
    fn from(c: Const) -> Operand {
        Operand::Const(c)
    }
}

impl From<i64> for Operand {
    fn from(v: i64) -> Operand {
        Operand::Const(Const::Int(v))
    }
}

/// So that a bare integer literal (`f.add(x, x, 1)`), which Rust types as `i32` when nothing
/// else decides, works as an operand.
impl From<i32> for Operand {
    fn from(v: i32) -> Operand {
        Operand::Const(Const::Int(v.into()))
    }
}

impl From<f64> for Operand {
    fn from(v: f64) -> Operand {
        Operand::Const(Const::Float(v))
    }
}

impl From<FuncId> for Callee {
    fn from(f: FuncId) -> Callee {
        Callee::Func(f)
    }
}

impl From<ExternId> for Callee {
    fn from(e: ExternId) -> Callee {
        Callee::Extern(e)
    }
}

impl Const {
    /// The ByteSil literal `sil(rho, theta)`: `rho` clamped to -8..=7 and `theta` wrapped into
    /// 0..=15, as `sil.new` does (so `sil(-8, 5)` is the byte 0x05, a non-canonical zero).
    pub fn sil(rho: i64, theta: i64) -> Const {
        let rho = rho.clamp(-8, 7) + 8;
        let theta = theta.rem_euclid(16);
        Const::Sil(((rho << 4) | theta) as u8)
    }
}

/// Builds a [`Module`] without text.
///
/// Instructions built here carry `Loc::NONE`; the verifier then names the function and the
/// instruction index in its messages instead of a line.
///
/// ```
/// use bytecode::{ModuleBuilder, Type};
///
/// let mut mb = ModuleBuilder::new("demo");
/// // Declared first, so `main` can call it before its body exists.
/// let fact = mb.declare_func("fact", &[("n", Type::I64)], Some(Type::I64));
/// let main = mb.declare_func("main", &[], Some(Type::I64));
///
/// let mut f = mb.func(fact);
/// let n = f.param(0);
/// let acc = f.reg("acc", Type::I64);
/// let (top, done) = (f.new_label("top"), f.new_label("done"));
/// f.mov(acc, 1);
/// f.bind(top).ble(n, 0, done);
/// f.mul(acc, acc, n).sub(n, n, 1).jmp(top);
/// f.bind(done).ret(acc);
///
/// let mut f = mb.func(main);
/// let r = f.reg("r", Type::I64);
/// f.call(r, fact, &[10.into()]).println(r).ret(0);
///
/// let module = mb.finish().expect("the module verifies");
/// assert_eq!(module.funcs.len(), 2);
/// // The text form, as `vsp disasm` would show it.
/// assert!(bytecode::print(&module).contains("call r, fact(10)"));
/// ```
#[derive(Debug)]
pub struct ModuleBuilder {
    module: Module,
    /// Misuse of the builder itself, reported by `finish`.
    errors: Vec<Diagnostic>,
    /// What a `FunctionBuilder` for an unknown `FuncId` writes to, so that it always has a
    /// function and the mistake surfaces in `finish` rather than as a panic.
    scratch: Function,
}

impl ModuleBuilder {
    /// An empty module called `name` (the C symbol prefix of AOT output).
    pub fn new(name: impl Into<String>) -> ModuleBuilder {
        ModuleBuilder {
            module: Module::new(name),
            errors: Vec::new(),
            scratch: empty_func(""),
        }
    }

    /// Declares linear memory: `min_pages` initially, growable up to `max_pages` (64 KiB each).
    pub fn memory(&mut self, min_pages: u64, max_pages: u64) -> &mut ModuleBuilder {
        self.module.memory = Memory {
            min_pages,
            max_pages,
            loc: Loc::NONE,
        };
        self.module.memory_declared = true;
        self
    }

    /// Initial memory contents at `offset`; must lie inside the initial memory.
    pub fn data(&mut self, offset: i64, bytes: impl Into<Vec<u8>>) -> &mut ModuleBuilder {
        self.module.data.push(DataSegment {
            offset,
            bytes: bytes.into(),
            loc: Loc::NONE,
        });
        self
    }

    /// A function the host (JIT) or the C linker (AOT) provides.
    pub fn extern_func(
        &mut self,
        name: impl Into<String>,
        params: &[Type],
        ret: Option<Type>,
    ) -> ExternId {
        let id = ExternId(self.module.externs.len() as u32);
        self.module.externs.push(Extern {
            name: name.into(),
            params: params.to_vec(),
            param_names: vec![None; params.len()],
            ret,
            loc: Loc::NONE,
        });
        id
    }

    /// Declares a function with named parameters, without a body yet: calls may refer to it
    /// before [`func`](Self::func) fills it in.
    pub fn declare_func(
        &mut self,
        name: impl Into<String>,
        params: &[(&str, Type)],
        ret: Option<Type>,
    ) -> FuncId {
        let id = FuncId(self.module.funcs.len() as u32);
        let mut f = empty_func(name);
        f.num_params = params.len() as u32;
        f.regs = params
            .iter()
            .map(|&(name, ty)| RegDecl {
                name: name.to_string(),
                ty,
                loc: Loc::NONE,
            })
            .collect();
        f.ret = ret;
        self.module.funcs.push(f);
        id
    }

    /// Appends to the body of function `id`. May be called again later to append more.
    pub fn func(&mut self, id: FuncId) -> FunctionBuilder<'_> {
        let f = match self.module.funcs.get_mut(id.0 as usize) {
            Some(f) => f,
            None => {
                self.errors.push(Diagnostic::new(
                    Loc::NONE,
                    format!("builder: no function with id {} was declared", id.0),
                ));
                self.scratch = empty_func("");
                &mut self.scratch
            }
        };
        FunctionBuilder {
            f,
            id,
            errors: &mut self.errors,
        }
    }

    /// The module built so far (not verified).
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The finished module, if the builder was used correctly and the module verifies.
    pub fn finish(mut self) -> Result<Module, Diagnostics> {
        for f in &self.module.funcs {
            for l in f.labels.iter().filter(|l| l.pos == UNBOUND) {
                self.errors.push(Diagnostic::new(
                    Loc::NONE,
                    format!(
                        "builder: label `{}` of function `{}` is never bound",
                        l.name, f.name
                    ),
                ));
            }
        }
        // Builder misuse leaves the module in a state the verifier would only report
        // confusingly (an unbound label looks out of range), so it is reported alone.
        if !self.errors.is_empty() {
            return Err(Diagnostics(self.errors));
        }
        crate::verify::verify(&self.module)?;
        Ok(self.module)
    }
}

fn empty_func(name: impl Into<String>) -> Function {
    Function {
        name: name.into(),
        export: false,
        num_params: 0,
        regs: Vec::new(),
        ret: None,
        labels: Vec::new(),
        body: Vec::new(),
        loc: Loc::NONE,
    }
}

/// Appends registers, labels and instructions to one function.
///
/// Instruction methods take sources as `impl Into<Operand>` (a [`RegId`], an `i64`/`i32`, an
/// `f64` or a [`Const`]) and return `&mut Self`, so they chain.
#[derive(Debug)]
pub struct FunctionBuilder<'a> {
    f: &'a mut Function,
    id: FuncId,
    errors: &'a mut Vec<Diagnostic>,
}

macro_rules! bin_ops {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(
            &mut self,
            d: RegId,
            a: impl Into<Operand>,
            b: impl Into<Operand>,
        ) -> &mut Self {
            self.bin(BinOp::$op, d, a, b)
        }
    )*};
}

macro_rules! un_ops {
    ($($name:ident => $op:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), " d, a`")]
        pub fn $name(&mut self, d: RegId, a: impl Into<Operand>) -> &mut Self {
            self.un(UnOp::$op, d, a)
        }
    )*};
}

macro_rules! cmp_ops {
    ($($name:ident, $branch:ident => $op:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), " d, a, b`: `d = 1` if the comparison holds, else 0.")]
        pub fn $name(
            &mut self,
            d: RegId,
            a: impl Into<Operand>,
            b: impl Into<Operand>,
        ) -> &mut Self {
            self.cmp(CmpOp::$op, d, a, b)
        }

        #[doc = concat!("`", stringify!($branch), " a, b, L`")]
        pub fn $branch(
            &mut self,
            a: impl Into<Operand>,
            b: impl Into<Operand>,
            target: LabelId,
        ) -> &mut Self {
            self.branch(CmpOp::$op, a, b, target)
        }
    )*};
}

impl FunctionBuilder<'_> {
    /// The function being built.
    pub fn id(&self) -> FuncId {
        self.id
    }

    fn misuse(&mut self, msg: String) {
        self.errors
            .push(Diagnostic::new(Loc::NONE, format!("builder: {msg}")));
    }

    /// Declares a local register (zero-initialised).
    pub fn reg(&mut self, name: impl Into<String>, ty: Type) -> RegId {
        let id = RegId(self.f.regs.len() as u32);
        self.f.regs.push(RegDecl {
            name: name.into(),
            ty,
            loc: Loc::NONE,
        });
        id
    }

    /// Declares a local register with a generated name (`_t0`, `_t1`, ...), for temporaries.
    pub fn temp(&mut self, ty: Type) -> RegId {
        let name = fresh_name(self.f.regs.len(), "_t", |n| {
            self.f.regs.iter().any(|r| r.name == n)
        });
        self.reg(name, ty)
    }

    /// The register of parameter `i` (0-based).
    pub fn param(&mut self, i: usize) -> RegId {
        if i >= self.f.num_params as usize {
            let msg = format!(
                "function `{}` has {} parameters, no parameter {i}",
                self.f.name, self.f.num_params
            );
            self.misuse(msg);
        }
        RegId(i as u32)
    }

    /// Declares a label; [`bind`](Self::bind) places it.
    pub fn new_label(&mut self, name: impl Into<String>) -> LabelId {
        let id = LabelId(self.f.labels.len() as u32);
        self.f.labels.push(Label {
            name: name.into(),
            pos: UNBOUND,
            loc: Loc::NONE,
        });
        id
    }

    /// Declares a label with a generated name (`_L0`, `_L1`, ...).
    pub fn temp_label(&mut self) -> LabelId {
        let name = fresh_name(self.f.labels.len(), "_L", |n| {
            self.f.labels.iter().any(|l| l.name == n)
        });
        self.new_label(name)
    }

    /// Places `label` at the next instruction appended (or at the end of the body).
    pub fn bind(&mut self, label: LabelId) -> &mut Self {
        let pos = u32::try_from(self.f.body.len()).unwrap_or(UNBOUND);
        match self.f.labels.get_mut(label.0 as usize) {
            Some(l) if l.pos == UNBOUND => l.pos = pos,
            Some(l) => {
                let msg = format!(
                    "label `{}` of function `{}` is bound twice",
                    l.name, self.f.name
                );
                self.misuse(msg);
            }
            None => {
                let msg = format!(
                    "function `{}` has no label with id {}",
                    self.f.name, label.0
                );
                self.misuse(msg);
            }
        }
        self
    }

    /// Makes the function visible to the host API and to C.
    pub fn export(&mut self) -> &mut Self {
        self.f.export = true;
        self
    }

    /// Appends any instruction.
    pub fn inst(&mut self, inst: Inst) -> &mut Self {
        self.f.body.push(InstAt {
            inst,
            loc: Loc::NONE,
        });
        self
    }

    /// `mov d, a`
    pub fn mov(&mut self, d: RegId, a: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Mov { d, a: a.into() })
    }

    /// `op d, a, b` for any binary operation.
    pub fn bin(
        &mut self,
        op: BinOp,
        d: RegId,
        a: impl Into<Operand>,
        b: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::Bin {
            op,
            d,
            a: a.into(),
            b: b.into(),
        })
    }

    bin_ops! {
        /// `add d, a, b`
        add => Add,
        /// `sub d, a, b`
        sub => Sub,
        /// `mul d, a, b`
        mul => Mul,
        /// `div d, a, b`
        div => Div,
        /// `rem d, a, b`
        rem => Rem,
        /// `udiv d, a, b`
        udiv => UDiv,
        /// `urem d, a, b`
        urem => URem,
        /// `min d, a, b`
        min => Min,
        /// `max d, a, b`
        max => Max,
        /// `and d, a, b`
        and => And,
        /// `or d, a, b`
        or => Or,
        /// `xor d, a, b`
        xor => Xor,
        /// `shl d, a, b`
        shl => Shl,
        /// `shr d, a, b` (arithmetic)
        shr => Shr,
        /// `ushr d, a, b` (logical)
        ushr => UShr,
        /// `rotl d, a, b`
        rotl => Rotl,
        /// `rotr d, a, b`
        rotr => Rotr,
        /// `atan2 d, y, x`
        atan2 => Atan2,
        /// `pow d, a, b`
        pow => Pow,
        /// `hypot d, a, b`
        hypot => Hypot,
    }

    /// `op d, a` for any unary operation.
    pub fn un(&mut self, op: UnOp, d: RegId, a: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Un { op, d, a: a.into() })
    }

    un_ops! {
        neg => Neg, abs => Abs, not => Not, clz => Clz, ctz => Ctz, popcnt => Popcnt,
        sqrt => Sqrt, floor => Floor, ceil => Ceil, trunc => Trunc, round => Round,
        sin => Sin, cos => Cos, tan => Tan, asin => Asin, acos => Acos, atan => Atan,
        exp => Exp, ln => Ln, log10 => Log10, i2f => I2F, f2i => F2I, bitcast => Bitcast,
        sil_rho => SilRho, sil_theta => SilTheta, sil_byte => SilByte,
        sil_from_byte => SilFromByte, sil_inv => SilInv, sil_conj => SilConj, sil_mag => SilMag,
        sil_phase => SilPhase, sil_re => SilRe, sil_im => SilIm, sil_abs => SilAbs,
        sil_arg => SilArg,
    }

    /// `sil.pow d, a, n` and friends.
    pub fn sil_int(
        &mut self,
        op: SilIntOp,
        d: RegId,
        a: impl Into<Operand>,
        n: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::SilInt {
            op,
            d,
            a: a.into(),
            n: n.into(),
        })
    }

    /// `sil.new d, rho, theta`
    pub fn sil_new(
        &mut self,
        d: RegId,
        rho: impl Into<Operand>,
        theta: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::SilNew {
            d,
            rho: rho.into(),
            theta: theta.into(),
        })
    }

    /// `sil.from d, re, im`
    pub fn sil_from(
        &mut self,
        d: RegId,
        re: impl Into<Operand>,
        im: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::SilFrom {
            d,
            re: re.into(),
            im: im.into(),
        })
    }

    /// `sil.lerp d, a, b, t`
    pub fn sil_lerp(
        &mut self,
        d: RegId,
        a: impl Into<Operand>,
        b: impl Into<Operand>,
        t: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::SilLerp {
            d,
            a: a.into(),
            b: b.into(),
            t: t.into(),
        })
    }

    /// `op d, a, b` for any comparison (`eq`, `ltu`, ...).
    pub fn cmp(
        &mut self,
        op: CmpOp,
        d: RegId,
        a: impl Into<Operand>,
        b: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::Cmp {
            op,
            d,
            a: a.into(),
            b: b.into(),
        })
    }

    /// `bOP a, b, L` for any comparison (`beq`, `bltu`, ...).
    pub fn branch(
        &mut self,
        op: CmpOp,
        a: impl Into<Operand>,
        b: impl Into<Operand>,
        target: LabelId,
    ) -> &mut Self {
        self.inst(Inst::Branch {
            op,
            a: a.into(),
            b: b.into(),
            target,
        })
    }

    cmp_ops! {
        eq, beq => Eq, ne, bne => Ne, lt, blt => Lt, le, ble => Le, gt, bgt => Gt, ge, bge => Ge,
        ltu, bltu => LtU, leu, bleu => LeU, gtu, bgtu => GtU, geu, bgeu => GeU,
    }

    /// `select d, c, a, b`: `d = c != 0 ? a : b`.
    pub fn select(
        &mut self,
        d: RegId,
        c: impl Into<Operand>,
        a: impl Into<Operand>,
        b: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::Select {
            d,
            c: c.into(),
            a: a.into(),
            b: b.into(),
        })
    }

    /// `jmp L`
    pub fn jmp(&mut self, target: LabelId) -> &mut Self {
        self.inst(Inst::Jmp { target })
    }

    /// `jz a, L`
    pub fn jz(&mut self, a: impl Into<Operand>, target: LabelId) -> &mut Self {
        self.inst(Inst::JumpIf {
            nonzero: false,
            a: a.into(),
            target,
        })
    }

    /// `jnz a, L`
    pub fn jnz(&mut self, a: impl Into<Operand>, target: LabelId) -> &mut Self {
        self.inst(Inst::JumpIf {
            nonzero: true,
            a: a.into(),
            target,
        })
    }

    /// `switch a, [targets...], default`
    pub fn switch(
        &mut self,
        a: impl Into<Operand>,
        targets: &[LabelId],
        default: LabelId,
    ) -> &mut Self {
        self.inst(Inst::Switch {
            a: a.into(),
            targets: targets.to_vec(),
            default,
        })
    }

    /// `call d, f(args)`, or `call f(args)` with `d = None` (the result, if any, is dropped).
    pub fn call(
        &mut self,
        d: impl Into<Option<RegId>>,
        callee: impl Into<Callee>,
        args: &[Operand],
    ) -> &mut Self {
        self.inst(Inst::Call {
            d: d.into(),
            callee: callee.into(),
            args: args.to_vec(),
        })
    }

    /// `tail f(args)`
    pub fn tail(&mut self, callee: impl Into<Callee>, args: &[Operand]) -> &mut Self {
        self.inst(Inst::Tail {
            callee: callee.into(),
            args: args.to_vec(),
        })
    }

    /// `fref d, f`: a handle for `calli`.
    pub fn fref(&mut self, d: RegId, func: FuncId) -> &mut Self {
        self.inst(Inst::Fref { d, func })
    }

    /// `calli d, handle(args) : (params) -> ret`; `d = None` drops the result.
    pub fn calli(
        &mut self,
        d: impl Into<Option<RegId>>,
        handle: impl Into<Operand>,
        args: &[Operand],
        params: &[Type],
        ret: Option<Type>,
    ) -> &mut Self {
        self.inst(Inst::CallI {
            d: d.into(),
            handle: handle.into(),
            args: args.to_vec(),
            params: params.to_vec(),
            ret,
        })
    }

    /// `ret a`
    pub fn ret(&mut self, a: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Ret { a: Some(a.into()) })
    }

    /// `ret` without a value.
    pub fn ret_void(&mut self) -> &mut Self {
        self.inst(Inst::Ret { a: None })
    }

    /// `exit a`
    pub fn exit(&mut self, a: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Exit { a: a.into() })
    }

    /// `trap`
    pub fn trap(&mut self) -> &mut Self {
        self.inst(Inst::Trap)
    }

    /// `nop`
    pub fn nop(&mut self) -> &mut Self {
        self.inst(Inst::Nop)
    }

    /// `load.TY d, [base + offset]`
    pub fn load(
        &mut self,
        ty: MemTy,
        d: RegId,
        base: impl Into<Operand>,
        offset: i64,
    ) -> &mut Self {
        self.inst(Inst::Load {
            ty,
            d,
            addr: Addr {
                base: base.into(),
                offset,
            },
        })
    }

    /// `store.TY [base + offset], v`
    pub fn store(
        &mut self,
        ty: MemTy,
        base: impl Into<Operand>,
        offset: i64,
        v: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::Store {
            ty,
            addr: Addr {
                base: base.into(),
                offset,
            },
            v: v.into(),
        })
    }

    /// `memsize d`
    pub fn memsize(&mut self, d: RegId) -> &mut Self {
        self.inst(Inst::MemSize { d })
    }

    /// `memgrow d, pages`
    pub fn memgrow(&mut self, d: RegId, pages: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::MemGrow { d, a: pages.into() })
    }

    /// `memcopy dst, src, n`
    pub fn memcopy(
        &mut self,
        dst: impl Into<Operand>,
        src: impl Into<Operand>,
        n: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::MemCopy {
            dst: dst.into(),
            src: src.into(),
            n: n.into(),
        })
    }

    /// `memfill dst, byte, n`
    pub fn memfill(
        &mut self,
        dst: impl Into<Operand>,
        byte: impl Into<Operand>,
        n: impl Into<Operand>,
    ) -> &mut Self {
        self.inst(Inst::MemFill {
            dst: dst.into(),
            byte: byte.into(),
            n: n.into(),
        })
    }

    /// `print a`
    pub fn print(&mut self, a: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Print {
            a: Some(a.into()),
            precision: None,
            newline: false,
        })
    }

    /// `println a`
    pub fn println(&mut self, a: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Print {
            a: Some(a.into()),
            precision: None,
            newline: true,
        })
    }

    /// `print a, precision` (f64 only, precision 0..=17).
    pub fn print_prec(&mut self, a: impl Into<Operand>, precision: u8) -> &mut Self {
        self.inst(Inst::Print {
            a: Some(a.into()),
            precision: Some(precision),
            newline: false,
        })
    }

    /// `println a, precision` (f64 only, precision 0..=17).
    pub fn println_prec(&mut self, a: impl Into<Operand>, precision: u8) -> &mut Self {
        self.inst(Inst::Print {
            a: Some(a.into()),
            precision: Some(precision),
            newline: true,
        })
    }

    /// A bare `println`: just the newline.
    pub fn newline(&mut self) -> &mut Self {
        self.inst(Inst::Print {
            a: None,
            precision: None,
            newline: true,
        })
    }

    /// `putc a`
    pub fn putc(&mut self, a: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Putc { a: a.into() })
    }

    /// `write addr, n`
    pub fn write(&mut self, addr: impl Into<Operand>, n: impl Into<Operand>) -> &mut Self {
        self.inst(Inst::Write {
            a: addr.into(),
            n: n.into(),
        })
    }

    /// `getc d`
    pub fn getc(&mut self, d: RegId) -> &mut Self {
        self.inst(Inst::Getc { d })
    }

    /// `clock d`
    pub fn clock(&mut self, d: RegId) -> &mut Self {
        self.inst(Inst::Clock { d })
    }
}

/// `PREFIX<n>`, bumping `n` past names already taken.
fn fresh_name(mut n: usize, prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    loop {
        let name = format!("{prefix}{n}");
        if !taken(&name) {
            return name;
        }
        n += 1;
    }
}
