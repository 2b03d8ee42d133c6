//! Random valid programs from a seed, through the builder API, terminating by construction.
//!
//! A program is `main` plus a few functions of random signatures that use every type's
//! arithmetic, ByteSil, branches, loops, switches, direct/indirect/tail calls, recursion, memory,
//! traps and output. Termination: loops count a register nothing else writes up to a literal
//! bound, and every function starts by spending one unit of a call budget kept at memory
//! address 0 (returning a default at once when it is spent), so any call graph, recursion and
//! tail loops included, ends. Generated memory accesses stay at or above `SCRATCH_BASE`, so the
//! program never overwrites its budget.
//!
//! Differences the spec allows are kept out: no `clock`; NaN bit patterns never reach `bitcast`
//! to i64 or `store.f64` (NaNs are replaced by 0.0 first); the budget bounds recursion far below
//! any engine's stack limit.

use crate::rng::Rng;
use bytecode::{
    BinOp, CmpOp, Const, FuncId, FunctionBuilder, LabelId, MemTy, Module, ModuleBuilder, Operand,
    RegId, SilIntOp, Type, UnOp,
};

/// Where the call budget lives (an i64).
pub const FUEL_ADDR: i64 = 0;
/// Calls a program may make before functions return their default at once.
pub const FUEL: i64 = 100;
/// Lowest address generated stores, copies and fills write to.
const SCRATCH_BASE: i64 = 16;
/// Generated addresses are `SCRATCH_BASE + (x & SCRATCH_MASK) + K`.
const SCRATCH_MASK: i64 = 0x3FF;
const MAX_PAGES: u64 = 4;

/// The signature of a generated function.
#[derive(Clone, Debug)]
struct Sig {
    params: Vec<Type>,
    ret: Option<Type>,
}

/// A random valid program; the same seed always gives the same module.
pub fn generate(seed: u64) -> Module {
    let mut rng = Rng::new(seed);
    let mut mb = ModuleBuilder::new("fuzz");
    mb.memory(1, MAX_PAGES);
    mb.data(FUEL_ADDR, FUEL.to_le_bytes().to_vec());
    if rng.chance(1, 2) {
        let len = rng.range(1, 40) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.chance(3, 4) {
                    rng.range(32, 126) as u8
                } else {
                    rng.next_u64() as u8
                }
            })
            .collect();
        mb.data(SCRATCH_BASE + rng.range(0, 200), bytes);
    }

    let nfuncs = 1 + rng.below(5) as usize;
    let mut sigs = vec![Sig {
        params: Vec::new(),
        ret: if rng.chance(4, 5) {
            Some(Type::I64)
        } else {
            None
        },
    }];
    for _ in 0..nfuncs {
        // Sometimes more parameters than fit in argument registers, so calls, tail calls and
        // trampolines pass some on the stack.
        let nparams = if rng.chance(1, 5) {
            rng.range(5, 12) as usize
        } else {
            rng.below(5) as usize
        };
        let params = (0..nparams).map(|_| random_type(&mut rng)).collect();
        let ret = if rng.chance(4, 5) {
            Some(random_type(&mut rng))
        } else {
            None
        };
        sigs.push(Sig { params, ret });
    }
    let ids: Vec<FuncId> = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let name = if i == 0 {
                "main".to_string()
            } else {
                format!("f{i}")
            };
            let names: Vec<String> = (0..s.params.len()).map(|p| format!("p{p}")).collect();
            let params: Vec<(&str, Type)> = names
                .iter()
                .map(String::as_str)
                .zip(s.params.iter().copied())
                .collect();
            mb.declare_func(name, &params, s.ret)
        })
        .collect();
    for (i, &id) in ids.iter().enumerate() {
        let fb = mb.func(id);
        let budget = rng.range(5, 50) as u32;
        let mut g = FnGen::new(fb, &mut rng, &sigs, &ids, i);
        g.body(budget);
    }
    match mb.finish() {
        Ok(m) => m,
        // The generator's own bug: fail loudly, with the seed to reproduce it.
        Err(d) => panic!("generated program (seed {seed}) does not verify: {d:?}"),
    }
}

fn random_type(rng: &mut Rng) -> Type {
    *rng.pick(&Type::ALL)
}

/// Builds one function body.
struct FnGen<'a, 'r> {
    fb: FunctionBuilder<'a>,
    rng: &'r mut Rng,
    sigs: &'r [Sig],
    ids: &'r [FuncId],
    this: usize,
    /// Registers generated code may read and write, by type (`Type::ALL` order).
    pool: [Vec<RegId>; 3],
    /// Scratch registers of the generator's own idioms (never in `pool`).
    addr: RegId,
    is_nan: RegId,
    clean: RegId,
    handle: RegId,
    loops: u32,
}

fn type_index(t: Type) -> usize {
    match t {
        Type::I64 => 0,
        Type::F64 => 1,
        Type::Sil => 2,
    }
}

impl<'a, 'r> FnGen<'a, 'r> {
    fn new(
        mut fb: FunctionBuilder<'a>,
        rng: &'r mut Rng,
        sigs: &'r [Sig],
        ids: &'r [FuncId],
        this: usize,
    ) -> FnGen<'a, 'r> {
        let mut pool: [Vec<RegId>; 3] = Default::default();
        for (p, &t) in sigs[this].params.iter().enumerate() {
            pool[type_index(t)].push(fb.param(p));
        }
        for t in Type::ALL {
            for k in 0..3 {
                let r = fb.reg(format!("{}{k}", &t.name()[..1]), t);
                pool[type_index(t)].push(r);
            }
        }
        let addr = fb.reg("_a", Type::I64);
        let is_nan = fb.reg("_n", Type::I64);
        let clean = fb.reg("_s", Type::F64);
        let handle = fb.reg("_h", Type::I64);
        FnGen {
            fb,
            rng,
            sigs,
            ids,
            this,
            pool,
            addr,
            is_nan,
            clean,
            handle,
            loops: 0,
        }
    }

    fn body(&mut self, mut budget: u32) {
        // Spend one unit of the call budget, or return a default when it is gone.
        let fuel = self.fb.reg("_fuel", Type::I64);
        let out = self.fb.new_label("out_of_fuel");
        self.fb
            .load(MemTy::I64, fuel, FUEL_ADDR, 0)
            .ble(fuel, 0, out)
            .sub(fuel, fuel, 1)
            .store(MemTy::I64, FUEL_ADDR, 0, fuel);
        while budget > 0 {
            self.stmts(&mut budget, 0);
        }
        let ret = self.sigs[self.this].ret;
        self.ret(ret);
        self.fb.bind(out);
        match ret {
            Some(t) => {
                let k = self.constant(t);
                self.fb.ret(k)
            }
            None => self.fb.ret_void(),
        };
    }

    fn ret(&mut self, ret: Option<Type>) {
        match ret {
            Some(t) => {
                let a = self.operand(t);
                self.fb.ret(a)
            }
            None => self.fb.ret_void(),
        };
    }

    fn stmts(&mut self, budget: &mut u32, depth: u32) {
        let n = self.rng.range(1, 6);
        for _ in 0..n {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            self.stmt(budget, depth);
        }
    }

    fn stmt(&mut self, budget: &mut u32, depth: u32) {
        let roll = self.rng.below(1000);
        match roll {
            0..=479 => self.simple(),
            480..=569 => self.output(),
            570..=659 => self.memory(),
            660..=729 => self.call(),
            730..=764 => self.calli(),
            765..=779 => self.tail(),
            780..=849 if depth < 3 => self.if_else(budget, depth),
            850..=909 if depth < 3 && self.loops < 4 => self.counted_loop(budget, depth),
            910..=939 if depth < 3 => self.switch(budget, depth),
            940..=959 => {
                let r = self.sigs[self.this].ret;
                self.ret(r)
            }
            960..=962 => {
                let a = self.operand(Type::I64);
                self.fb.exit(a);
            }
            963..=964 => {
                self.fb.trap();
            }
            965..=974 => {
                let d = self.dest(Type::I64);
                self.fb.getc(d);
            }
            _ => self.simple(),
        }
    }

    fn dest(&mut self, t: Type) -> RegId {
        let p = &self.pool[type_index(t)];
        p[self.rng.below(p.len() as u64) as usize]
    }

    fn operand(&mut self, t: Type) -> Operand {
        if self.rng.chance(3, 4) {
            self.dest(t).into()
        } else {
            self.constant(t).into()
        }
    }

    fn constant(&mut self, t: Type) -> Const {
        match t {
            Type::I64 => Const::Int(self.int_const()),
            Type::F64 => Const::Float(self.float_const()),
            Type::Sil => Const::Sil(self.rng.next_u64() as u8),
        }
    }

    fn int_const(&mut self) -> i64 {
        const EDGES: [i64; 14] = [
            0,
            1,
            -1,
            2,
            3,
            7,
            8,
            63,
            64,
            255,
            65536,
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
        ];
        match self.rng.below(4) {
            0 => *self.rng.pick(&EDGES),
            1 => self.next_i64(),
            _ => self.rng.range(-20, 20),
        }
    }

    fn next_i64(&mut self) -> i64 {
        self.rng.next_u64() as i64
    }

    fn float_const(&mut self) -> f64 {
        const EDGES: [f64; 16] = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            2.0,
            std::f64::consts::PI,
            1e300,
            -1e300,
            1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            5e-324,
            2.5,
            -3.5,
        ];
        match self.rng.below(4) {
            0 => *self.rng.pick(&EDGES),
            1 => f64::from_bits(self.rng.next_u64()),
            _ => self.rng.range(-1000, 1000) as f64 / 8.0,
        }
    }

    /// `x` with any NaN replaced by 0.0, so its bits are the same on every engine.
    fn no_nan(&mut self, x: Operand) -> Operand {
        match x {
            Operand::Const(Const::Float(f)) if f.is_nan() => Const::Float(0.0).into(),
            Operand::Const(_) => x,
            Operand::Reg(_) => {
                let (n, s) = (self.is_nan, self.clean);
                self.fb.ne(n, x, x).select(s, n, 0.0, x);
                s.into()
            }
        }
    }

    /// An i64 divisor: usually a nonzero literal, sometimes whatever a register holds.
    fn divisor(&mut self) -> Operand {
        if self.rng.chance(1, 3) {
            self.dest(Type::I64).into()
        } else {
            let k = self.int_const();
            Const::Int(if k == 0 { 3 } else { k }).into()
        }
    }

    fn simple(&mut self) {
        let t = random_type(self.rng);
        match t {
            Type::I64 => self.simple_i64(),
            Type::F64 => self.simple_f64(),
            Type::Sil => self.simple_sil(),
        }
    }

    fn simple_i64(&mut self) {
        let d = self.dest(Type::I64);
        match self.rng.below(14) {
            0..=3 => {
                let op = *self.rng.pick(&[
                    BinOp::Add,
                    BinOp::Sub,
                    BinOp::Mul,
                    BinOp::And,
                    BinOp::Or,
                    BinOp::Xor,
                    BinOp::Shl,
                    BinOp::Shr,
                    BinOp::UShr,
                    BinOp::Rotl,
                    BinOp::Rotr,
                    BinOp::Min,
                    BinOp::Max,
                ]);
                let (a, b) = (self.operand(Type::I64), self.operand(Type::I64));
                self.fb.bin(op, d, a, b);
            }
            4 => {
                let op = *self
                    .rng
                    .pick(&[BinOp::Div, BinOp::Rem, BinOp::UDiv, BinOp::URem]);
                // Now and then the one signed division that overflows: MIN / -1.
                let (a, b): (Operand, Operand) = if self.rng.chance(1, 20) {
                    (Const::Int(i64::MIN).into(), Const::Int(-1).into())
                } else {
                    (self.operand(Type::I64), self.divisor())
                };
                self.fb.bin(op, d, a, b);
            }
            5 => {
                let op = *self.rng.pick(&[
                    UnOp::Neg,
                    UnOp::Abs,
                    UnOp::Not,
                    UnOp::Clz,
                    UnOp::Ctz,
                    UnOp::Popcnt,
                ]);
                let a = self.operand(Type::I64);
                self.fb.un(op, d, a);
            }
            6..=7 => {
                let (op, t) = self.cmp_op();
                let (a, b) = (self.operand(t), self.operand(t));
                self.fb.cmp(op, d, a, b);
            }
            8 => {
                let (c, a, b) = (
                    self.operand(Type::I64),
                    self.operand(Type::I64),
                    self.operand(Type::I64),
                );
                self.fb.select(d, c, a, b);
            }
            9 => {
                let a = self.operand(Type::F64);
                self.fb.f2i(d, a);
            }
            10 => {
                let op = *self
                    .rng
                    .pick(&[UnOp::SilRho, UnOp::SilTheta, UnOp::SilByte]);
                let a = self.operand(Type::Sil);
                self.fb.un(op, d, a);
            }
            11 => {
                let a = self.operand(Type::F64);
                let a = self.no_nan(a);
                self.fb.bitcast(d, a);
            }
            12 => {
                let a = self.operand(Type::I64);
                self.fb.mov(d, a);
            }
            _ => {
                self.fb.memsize(d);
            }
        }
    }

    /// A comparison and the type of its operands (ordered ones only on i64/f64, unsigned ones
    /// only on i64).
    fn cmp_op(&mut self) -> (CmpOp, Type) {
        let op = *self.rng.pick(&CmpOp::ALL);
        let t = match op {
            CmpOp::Eq | CmpOp::Ne => random_type(self.rng),
            CmpOp::LtU | CmpOp::LeU | CmpOp::GtU | CmpOp::GeU => Type::I64,
            _ => *self.rng.pick(&[Type::I64, Type::F64]),
        };
        (op, t)
    }

    fn simple_f64(&mut self) {
        let d = self.dest(Type::F64);
        match self.rng.below(10) {
            0..=2 => {
                let op = *self.rng.pick(&[
                    BinOp::Add,
                    BinOp::Sub,
                    BinOp::Mul,
                    BinOp::Div,
                    BinOp::Rem,
                    BinOp::Min,
                    BinOp::Max,
                    BinOp::Atan2,
                    BinOp::Pow,
                    BinOp::Hypot,
                ]);
                let (a, b) = (self.operand(Type::F64), self.operand(Type::F64));
                self.fb.bin(op, d, a, b);
            }
            3..=4 => {
                let op = *self.rng.pick(&[
                    UnOp::Neg,
                    UnOp::Abs,
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
                ]);
                let a = self.operand(Type::F64);
                self.fb.un(op, d, a);
            }
            5 => {
                let a = self.operand(Type::I64);
                self.fb.i2f(d, a);
            }
            6 => {
                let a = self.operand(Type::I64);
                self.fb.bitcast(d, a);
            }
            7 => {
                let op = *self
                    .rng
                    .pick(&[UnOp::SilRe, UnOp::SilIm, UnOp::SilAbs, UnOp::SilArg]);
                let a = self.operand(Type::Sil);
                self.fb.un(op, d, a);
            }
            8 => {
                let (c, a, b) = (
                    self.operand(Type::I64),
                    self.operand(Type::F64),
                    self.operand(Type::F64),
                );
                self.fb.select(d, c, a, b);
            }
            _ => {
                let a = self.operand(Type::F64);
                self.fb.mov(d, a);
            }
        }
    }

    fn simple_sil(&mut self) {
        let d = self.dest(Type::Sil);
        match self.rng.below(10) {
            0..=2 => {
                let op = *self.rng.pick(&[
                    BinOp::Add,
                    BinOp::Sub,
                    BinOp::Mul,
                    BinOp::Div,
                    BinOp::And,
                    BinOp::Or,
                    BinOp::Xor,
                ]);
                let (a, b) = (self.operand(Type::Sil), self.operand(Type::Sil));
                self.fb.bin(op, d, a, b);
            }
            3 => {
                let op = *self.rng.pick(&[
                    UnOp::Neg,
                    UnOp::Not,
                    UnOp::SilInv,
                    UnOp::SilConj,
                    UnOp::SilMag,
                    UnOp::SilPhase,
                ]);
                let a = self.operand(Type::Sil);
                self.fb.un(op, d, a);
            }
            4 => {
                let a = self.operand(Type::I64);
                self.fb.sil_from_byte(d, a);
            }
            5 => {
                let op = *self.rng.pick(&SilIntOp::ALL);
                let a = self.operand(Type::Sil);
                let n = self.operand(Type::I64);
                self.fb.sil_int(op, d, a, n);
            }
            6 => {
                let (r, t) = (self.operand(Type::I64), self.operand(Type::I64));
                self.fb.sil_new(d, r, t);
            }
            7 => {
                let (re, im) = (self.operand(Type::F64), self.operand(Type::F64));
                self.fb.sil_from(d, re, im);
            }
            8 => {
                let (a, b, t) = (
                    self.operand(Type::Sil),
                    self.operand(Type::Sil),
                    self.operand(Type::F64),
                );
                self.fb.sil_lerp(d, a, b, t);
            }
            _ => {
                let (c, a, b) = (
                    self.operand(Type::I64),
                    self.operand(Type::Sil),
                    self.operand(Type::Sil),
                );
                self.fb.select(d, c, a, b);
            }
        }
    }

    fn output(&mut self) {
        match self.rng.below(10) {
            0..=5 => {
                let t = random_type(self.rng);
                let a = self.operand(t);
                let newline = self.rng.chance(1, 2);
                match (t, self.rng.chance(1, 3)) {
                    (Type::F64, true) => {
                        let p = self.rng.below(18) as u8;
                        if newline {
                            self.fb.println_prec(a, p)
                        } else {
                            self.fb.print_prec(a, p)
                        }
                    }
                    _ if newline => self.fb.println(a),
                    _ => self.fb.print(a),
                };
            }
            6..=7 => {
                let a = self.operand(Type::I64);
                self.fb.putc(a);
            }
            8 => {
                self.fb.newline();
            }
            _ => {
                let base = self.scratch_addr();
                let n = self.rng.range(0, 32);
                self.fb.write(base, n);
            }
        }
    }

    /// An address in the scratch area: `SCRATCH_BASE + (x & SCRATCH_MASK)` in `self.addr`.
    fn scratch_addr(&mut self) -> Operand {
        if self.rng.chance(1, 4) {
            return Const::Int(SCRATCH_BASE + self.rng.range(0, SCRATCH_MASK)).into();
        }
        let x = self.dest(Type::I64);
        let a = self.addr;
        self.fb.and(a, x, SCRATCH_MASK).add(a, a, SCRATCH_BASE);
        a.into()
    }

    /// A base that is out of bounds however far memory grows.
    fn wild_addr(&mut self) -> Operand {
        let k = *self.rng.pick(&[
            -1,
            -8,
            i64::MIN,
            i64::MAX,
            (MAX_PAGES as i64) << 16,
            1 << 40,
        ]);
        Const::Int(k).into()
    }

    fn memory(&mut self) {
        let wild = self.rng.chance(1, 25);
        match self.rng.below(12) {
            0..=3 => {
                let ty = *self.rng.pick(&MemTy::ALL);
                let d = self.dest(ty.value_type());
                let (base, k) = if wild {
                    (self.wild_addr(), 0)
                } else if self.rng.chance(1, 6) {
                    // The last bytes of memory, wherever it ends now.
                    let a = self.addr;
                    self.fb.memsize(a);
                    (a.into(), -(ty.size() as i64))
                } else {
                    let base = if self.rng.chance(1, 5) {
                        // Reads may look at the budget too.
                        Const::Int(0).into()
                    } else {
                        self.scratch_addr()
                    };
                    (base, self.rng.range(0, 56))
                };
                self.fb.load(ty, d, base, k);
            }
            4..=6 => {
                let ty = *self.rng.pick(&[
                    MemTy::I64,
                    MemTy::F64,
                    MemTy::Sil,
                    MemTy::I32,
                    MemTy::I16,
                    MemTy::I8,
                ]);
                let v = self.operand(ty.value_type());
                let v = if ty == MemTy::F64 { self.no_nan(v) } else { v };
                let (base, k) = if wild {
                    (self.wild_addr(), 0)
                } else {
                    (self.scratch_addr(), self.rng.range(0, 56))
                };
                self.fb.store(ty, base, k, v);
            }
            7 => {
                let dst = if wild {
                    self.wild_addr()
                } else {
                    self.scratch_addr()
                };
                let src: Operand = Const::Int(self.rng.range(0, 1100)).into();
                let n = self.length(wild);
                self.fb.memcopy(dst, src, n);
            }
            8 => {
                let dst = self.scratch_addr();
                let byte = self.operand(Type::I64);
                let n = self.length(wild);
                self.fb.memfill(dst, byte, n);
            }
            9 => {
                let d = self.dest(Type::I64);
                let a: Operand = if self.rng.chance(1, 4) {
                    self.dest(Type::I64).into()
                } else {
                    Const::Int(self.rng.range(-1, 2)).into()
                };
                self.fb.memgrow(d, a);
            }
            _ => {
                let d = self.dest(Type::I64);
                self.fb.memsize(d);
            }
        }
    }

    /// A byte count for `memcopy`/`memfill`: small, or (when `wild`) possibly negative.
    fn length(&mut self, wild: bool) -> Operand {
        if wild {
            Const::Int(*self.rng.pick(&[-1, i64::MIN, 1 << 20])).into()
        } else {
            Const::Int(self.rng.range(0, 128)).into()
        }
    }

    fn args(&mut self, params: &[Type]) -> Vec<Operand> {
        params.iter().map(|&t| self.operand(t)).collect()
    }

    fn call(&mut self) {
        let j = self.rng.below(self.sigs.len() as u64) as usize;
        let sig = self.sigs[j].clone();
        let args = self.args(&sig.params);
        let d = match sig.ret {
            Some(t) if self.rng.chance(3, 4) => Some(self.dest(t)),
            _ => None,
        };
        self.fb.call(d, self.ids[j], &args);
    }

    fn calli(&mut self) {
        let j = self.rng.below(self.sigs.len() as u64) as usize;
        let h = self.handle;
        let handle: Operand = match self.rng.below(20) {
            0 => Const::Int(*self.rng.pick(&[0, -1, 1_000_000, i64::MIN])).into(),
            1 => self.dest(Type::I64).into(),
            _ => {
                self.fb.fref(h, self.ids[j]);
                h.into()
            }
        };
        // Mostly the callee's own signature; sometimes another one, which must trap.
        let sig = if self.rng.chance(9, 10) {
            self.sigs[j].clone()
        } else {
            let nparams = self.rng.below(4) as usize;
            Sig {
                params: (0..nparams).map(|_| random_type(self.rng)).collect(),
                ret: if self.rng.chance(1, 2) {
                    Some(random_type(self.rng))
                } else {
                    None
                },
            }
        };
        let args = self.args(&sig.params);
        let d = match sig.ret {
            Some(t) if self.rng.chance(3, 4) => Some(self.dest(t)),
            _ => None,
        };
        self.fb.calli(d, handle, &args, &sig.params, sig.ret);
    }

    fn tail(&mut self) {
        let ret = self.sigs[self.this].ret;
        let same: Vec<usize> = (0..self.sigs.len())
            .filter(|&j| self.sigs[j].ret == ret)
            .collect();
        let j = *self.rng.pick(&same);
        let params = self.sigs[j].params.clone();
        let args = self.args(&params);
        self.fb.tail(self.ids[j], &args);
    }

    fn condition(&mut self, target: LabelId) {
        if self.rng.chance(1, 4) {
            let a = self.operand(Type::I64);
            if self.rng.chance(1, 2) {
                self.fb.jz(a, target);
            } else {
                self.fb.jnz(a, target);
            }
        } else {
            let (op, t) = self.cmp_op();
            let (a, b) = (self.operand(t), self.operand(t));
            self.fb.branch(op, a, b, target);
        }
    }

    fn if_else(&mut self, budget: &mut u32, depth: u32) {
        let (els, end) = (self.fb.temp_label(), self.fb.temp_label());
        self.condition(els);
        self.stmts(budget, depth + 1);
        self.fb.jmp(end);
        self.fb.bind(els);
        if self.rng.chance(1, 2) {
            self.stmts(budget, depth + 1);
        }
        self.fb.bind(end);
    }

    fn counted_loop(&mut self, budget: &mut u32, depth: u32) {
        self.loops += 1;
        let c = self.fb.reg(format!("_c{}", self.loops), Type::I64);
        let (top, end) = (self.fb.temp_label(), self.fb.temp_label());
        let n = self.rng.range(0, 6);
        self.fb.mov(c, 0).bind(top).bge(c, n, end);
        self.stmts(budget, depth + 1);
        self.fb.add(c, c, 1).jmp(top).bind(end);
    }

    fn switch(&mut self, budget: &mut u32, depth: u32) {
        let ncases = self.rng.range(1, 4) as usize;
        let cases: Vec<LabelId> = (0..ncases).map(|_| self.fb.temp_label()).collect();
        let (default, end) = (self.fb.temp_label(), self.fb.temp_label());
        let a = self.operand(Type::I64);
        self.fb.switch(a, &cases, default);
        for &l in &cases {
            self.fb.bind(l);
            self.stmts(budget, depth + 1);
            self.fb.jmp(end);
        }
        self.fb.bind(default);
        self.stmts(budget, depth + 1);
        self.fb.bind(end);
    }
}
