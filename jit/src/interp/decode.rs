//! Decodes a verified module into interpreter code, once, before it runs.

use super::code::*;
use bytecode::types::{cmp_operand_type, natural_operand_type, un_operand};
use bytecode::{
    BinOp, Callee, CmpOp, Function, Inst, MemTy, Module, Operand, SilIntOp, Type, UnOp,
};
use std::collections::HashMap;

/// A decoded module: the function table that every call goes through, plus side tables.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub(crate) funcs: Vec<Code>,
    pub(crate) names: Vec<String>,
    pub(crate) call_sites: Vec<CallSite>,
    pub(crate) switch_tables: Vec<Box<[u32]>>,
    /// Second operand pairs of `select` and `sil.lerp`.
    pub(crate) pairs: Vec<(Slot, Slot)>,
    /// Interned signatures: `(params, result)`.
    pub(crate) sigs: Vec<(Vec<Type>, Option<Type>)>,
    /// Loop headers, in `Op::LoopHead` id order (only when decoded for the tiered engine).
    pub(crate) loops: Vec<LoopInfo>,
    /// Profiling: where `Op::Count` counts, and how many loop headers have a counter so far.
    pub(crate) counts: Option<std::sync::Arc<crate::profile::Counters>>,
    profiled_loops: u32,
}

/// A loop header the tiered engine counts arrivals at and may enter native code from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LoopInfo {
    pub func: u32,
    /// The bytecode instruction index the header label names (where OSR code enters).
    pub header: u32,
    /// Its `.sil` line.
    pub line: u32,
}

/// What to emit besides the program's own ops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// `Op::Poll` at function entry and before every backward jump.
    pub interrupts: bool,
    /// `Op::LoopHead` at every loop header (the tiered engine counts them).
    pub loop_heads: bool,
    /// `Op::Count` at function entry and at every loop header (`vsp run --profile`), counting
    /// into the slots `codegen::ProfileCounters` describes.
    pub profile: bool,
}

impl Program {
    /// Decodes every function of a module that has passed `bytecode::verify`, then checks the
    /// result's structural invariants (`validate`), which the interpreter's unchecked slot
    /// accesses rely on. An unverified module can only fail here, never reach the loop.
    pub fn decode(m: &Module) -> Result<Program, String> {
        Program::decode_with(m, DecodeOptions::default())
    }

    /// As `decode`, with the extra ops `opts` asks for (without them, none is emitted and
    /// nothing is slower).
    pub fn decode_with(m: &Module, opts: DecodeOptions) -> Result<Program, String> {
        let mut p = Program::default();
        for (fi, f) in m.funcs.iter().enumerate() {
            let sig = p.intern_sig(f.param_types(), f.ret);
            let mut d = FuncDecoder::new(&mut p, m, f, sig);
            d.opts = opts;
            d.index = fi as u32;
            let code = d.run();
            p.funcs.push(code);
            p.names.push(f.name.clone());
        }
        // Not when instrumented: the tiered engine counts calls and may redefine a leaf under
        // its callers' OSR code, and the profiler counts functions and loops.
        if opts == DecodeOptions::default() {
            p.inline_leaves();
        }
        // After inlining, which copies only single-result ops.
        for code in &mut p.funcs {
            fuse_mul_add(&mut code.ops);
        }
        p.validate()?;
        if super::threaded::FORWARDS {
            for fi in 0..p.funcs.len() {
                let ops = std::mem::take(&mut p.funcs[fi].ops);
                let mut ops = ops.into_vec();
                forward(&mut ops, &p.switch_tables);
                p.funcs[fi].ops = ops.into();
            }
        }
        // The loop follows jumps relative to the next op (no base pointer needed): store each
        // validated target as that offset, an i32 in the u32 field.
        for code in &mut p.funcs {
            for (i, op) in code.ops.iter_mut().enumerate() {
                if let Some(t) = op.jump_target_mut() {
                    *t = (*t as i64 - (i as i64 + 1)) as i32 as u32;
                }
            }
        }
        Ok(p)
    }

    /// The invariants `exec` relies on: every slot an op names is inside its function's
    /// frame; every jump target, switch entry and return point is an op of the same function;
    /// every function ends in a terminator (so `pc` never leaves `ops`); every direct call names
    /// a function and passes exactly its parameter count in slots of the caller's frame.
    fn validate(&self) -> Result<(), String> {
        for (fi, code) in self.funcs.iter().enumerate() {
            let name = self.func_name(fi);
            let n = code.num_slots() as u64;
            let len = code.ops.len() as u32;
            if code.num_params as u64 > n {
                return Err(format!("`{name}`: more parameters than frame slots"));
            }
            if !matches!(code.ops.last(), Some(Op::Trap)) {
                return Err(format!("`{name}`: missing the closing sentinel"));
            }
            for op in code.ops.iter() {
                let mut bad = false;
                op.for_each_slot(|s| bad |= s as u64 >= n);
                if bad {
                    return Err(format!("`{name}`: slot out of range in {op:?}"));
                }
                if op.jump_target().is_some_and(|t| t >= len) {
                    return Err(format!("`{name}`: jump out of range in {op:?}"));
                }
                match *op {
                    Op::Select { ab, .. } | Op::SilLerp { ab, .. } => {
                        match self.pairs.get(ab as usize) {
                            Some(&(a, b)) if (a as u64) < n && (b as u64) < n => {}
                            _ => return Err(format!("`{name}`: bad operand pair {ab}")),
                        }
                    }
                    Op::Switch { table, .. } => match self.switch_tables.get(table as usize) {
                        Some(t) if !t.is_empty() && t.iter().all(|&x| x < len) => {}
                        _ => return Err(format!("`{name}`: bad switch table {table}")),
                    },
                    Op::Call { site }
                    | Op::Tail { site }
                    | Op::CallHost { site }
                    | Op::TailHost { site }
                    | Op::CallI { site } => {
                        let Some(s) = self.call_sites.get(site as usize) else {
                            return Err(format!("`{name}`: bad call site {site}"));
                        };
                        if s.args.iter().any(|&a| a as u64 >= n)
                            || (s.dest != NO_SLOT && s.dest as u64 >= n)
                        {
                            return Err(format!("`{name}`: call operand out of range"));
                        }
                        // A callee's frame must start above all of its caller's.
                        if s.frame as u64 != n {
                            return Err(format!("`{name}`: call site with the wrong frame size"));
                        }
                        match *op {
                            Op::Call { .. } | Op::Tail { .. } => {
                                match self.funcs.get(s.target as usize) {
                                    Some(c) if c.num_params as usize == s.args.len() => {}
                                    _ => {
                                        return Err(format!(
                                            "`{name}`: call to a bad function or with the wrong arity"
                                        ));
                                    }
                                }
                            }
                            Op::CallI { .. } if s.target as u64 >= n => {
                                return Err(format!("`{name}`: handle slot out of range"));
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    pub(crate) fn intern_sig(&mut self, params: Vec<Type>, ret: Option<Type>) -> u32 {
        let key = (params, ret);
        match self.sigs.iter().position(|s| *s == key) {
            Some(i) => i as u32,
            None => {
                self.sigs.push(key);
                self.sigs.len() as u32 - 1
            }
        }
    }

    pub fn func_name(&self, i: usize) -> &str {
        self.names.get(i).map_or("?", |s| s.as_str())
    }
}

struct FuncDecoder<'a> {
    p: &'a mut Program,
    m: &'a Module,
    f: &'a Function,
    ops: Vec<Op>,
    lines: Vec<u32>,
    template: Vec<u64>,
    consts: HashMap<u64, Slot>,
    scratch: Option<Slot>,
    sig: u32,
    opts: DecodeOptions,
    index: u32,
}

impl<'a> FuncDecoder<'a> {
    fn new(p: &'a mut Program, m: &'a Module, f: &'a Function, sig: u32) -> Self {
        FuncDecoder {
            p,
            m,
            f,
            ops: Vec::with_capacity(f.body.len()),
            lines: Vec::with_capacity(f.body.len()),
            template: vec![0; f.regs.len()],
            consts: HashMap::new(),
            scratch: None,
            sig,
            opts: DecodeOptions::default(),
            index: 0,
        }
    }

    fn run(mut self) -> Code {
        let first_site = self.p.call_sites.len();
        // Op index where each instruction starts (instructions may take 0, 1 or 2 ops).
        let mut starts = Vec::with_capacity(self.f.body.len() + 1);
        let headers = if self.opts.loop_heads || self.opts.profile {
            self.f.loop_headers()
        } else {
            Vec::new()
        };
        if self.opts.interrupts {
            self.emit(Op::Poll);
            self.lines.push(self.f.loc.line);
        }
        if self.opts.profile {
            self.emit(Op::Count { id: self.index });
            self.lines.push(self.f.loc.line);
        }
        for (i, inst) in self.f.body.iter().enumerate() {
            starts.push(self.ops.len() as u32);
            let before = self.ops.len();
            let header = headers.binary_search(&(i as u32)).is_ok();
            if header && self.opts.loop_heads {
                let id = self.p.loops.len() as u32;
                self.p.loops.push(LoopInfo {
                    func: self.index,
                    header: i as u32,
                    line: inst.loc.line,
                });
                self.emit(Op::LoopHead { id });
            }
            // After `LoopHead`: an arrival that enters native code there is counted there.
            if header && self.opts.profile {
                let id = self.m.funcs.len() as u32 + self.p.profiled_loops;
                self.p.profiled_loops += 1;
                self.emit(Op::Count { id });
            }
            // A backward jump (to this instruction or earlier) closes a loop: poll before it.
            let backward = inst
                .inst
                .branch_targets()
                .iter()
                .any(|&t| self.f.is_back_edge(i, t));
            if self.opts.interrupts && backward {
                self.emit(Op::Poll);
            }
            self.inst(&inst.inst);
            let line = inst.loc.line;
            self.lines
                .extend(std::iter::repeat_n(line, self.ops.len() - before));
        }
        starts.push(self.ops.len() as u32);
        // A sentinel: nothing verified reaches it, but it keeps `pc` inside `ops` by construction.
        self.ops.push(Op::Trap);
        self.lines
            .push(self.f.body.last().map_or(self.f.loc.line, |i| i.loc.line));
        // Branch targets were emitted as label ids; turn them into op indices.
        let target = |label: u32| -> u32 {
            let pos = self
                .f
                .labels
                .get(label as usize)
                .map_or(0, |l| l.pos as usize);
            starts.get(pos).copied().unwrap_or(0)
        };
        for op in &mut self.ops {
            if let Some(t) = op.jump_target_mut() {
                *t = target(*t);
            } else if let Op::Switch { table, .. } = op {
                let tab = &mut self.p.switch_tables[*table as usize];
                tab.iter_mut().for_each(|t| *t = target(*t));
            }
        }
        peephole(&mut self.ops);
        // Whole chunks of `FRAME_CHUNK` slots, so a call copies the template without a tail
        // loop; the padding is unnamed scratch.
        let mut template = self.template;
        template.resize(
            template
                .len()
                .next_multiple_of(FRAME_CHUNK)
                .max(FRAME_CHUNK),
            0,
        );
        for site in &mut self.p.call_sites[first_site..] {
            site.frame = template.len() as u32;
        }
        Code {
            ops: self.ops.into(),
            frame_template: template.into(),
            num_params: self.f.num_params,
            lines: self.lines.into(),
            sig: self.sig,
        }
    }

    fn emit(&mut self, op: Op) {
        self.ops.push(op);
    }

    fn pair(&mut self, a: Slot, b: Slot) -> u32 {
        self.p.pairs.push((a, b));
        self.p.pairs.len() as u32 - 1
    }

    fn new_slot(&mut self, init: u64) -> Slot {
        self.template.push(init);
        self.template.len() as Slot - 1
    }

    fn konst(&mut self, bits: u64) -> Slot {
        if let Some(&s) = self.consts.get(&bits) {
            return s;
        }
        let s = self.new_slot(bits);
        self.consts.insert(bits, s);
        s
    }

    /// The slot holding operand `o` read as type `ty`.
    fn slot(&mut self, o: &Operand, ty: Type) -> Slot {
        match o {
            Operand::Reg(r) => r.0,
            // Verified: the literal can stand at `ty`.
            Operand::Const(c) => {
                let bits = c.to_slot(ty).unwrap_or(0);
                self.konst(bits)
            }
        }
    }

    fn reg_ty(&self, r: bytecode::RegId) -> Type {
        self.f.reg_type(r)
    }

    /// Base slot and a 32-bit offset for `[a + K]`; a larger K is added into a scratch slot
    /// first (with the same wrapping as the effective-address rule).
    fn addr(&mut self, a: &bytecode::Addr) -> (Slot, i32) {
        let base = self.slot(&a.base, Type::I64);
        match i32::try_from(a.offset) {
            Ok(off) => (base, off),
            Err(_) => {
                let k = self.konst(a.offset as u64);
                let scratch = match self.scratch {
                    Some(s) => s,
                    None => {
                        let s = self.new_slot(0);
                        self.scratch = Some(s);
                        s
                    }
                };
                self.emit(Op::AddI {
                    d: scratch,
                    a: base,
                    b: k,
                });
                (scratch, 0)
            }
        }
    }

    fn call_site(
        &mut self,
        target: u32,
        args: &[Operand],
        params: &[Type],
        dest: Slot,
        sig: u32,
    ) -> u32 {
        let args = args
            .iter()
            .zip(params)
            .map(|(a, &t)| self.slot(a, t))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        self.p.call_sites.push(CallSite {
            target,
            args,
            dest,
            sig,
            // Set once the frame's size is known (end of `run`).
            frame: 0,
        });
        self.p.call_sites.len() as u32 - 1
    }

    fn direct_call(&mut self, callee: Callee, args: &[Operand], dest: Slot, tail: bool) {
        let (params, _) = self.m.callee_sig(callee);
        let (target, host) = match callee {
            Callee::Func(f) => (f.0, false),
            Callee::Extern(e) => (e.0, true),
        };
        let site = self.call_site(target, args, &params, dest, 0);
        self.emit(match (tail, host) {
            (false, false) => Op::Call { site },
            (false, true) => Op::CallHost { site },
            (true, false) => Op::Tail { site },
            (true, true) => Op::TailHost { site },
        });
    }

    fn inst(&mut self, inst: &Inst) {
        match inst {
            Inst::Mov { d, a } => {
                let a = self.slot(a, self.reg_ty(*d));
                self.emit(Op::Mov { d: d.0, a });
            }
            Inst::Bin { op, d, a, b } => {
                let ty = self.reg_ty(*d);
                // Division by a literal power of two, as compilers do it: a shift. `2^63` is
                // not an i64, and `/ 1` is not worth an op of its own.
                // Any other literal but 0 and -1 cannot trap: no checks at run time.
                let divisor = match (op, b) {
                    (BinOp::Div | BinOp::Rem, Operand::Const(c)) if ty == Type::I64 => {
                        c.to_slot(Type::I64)
                    }
                    _ => None,
                };
                let (a, d) = (self.slot(a, ty), d.0);
                let is_div = matches!(op, BinOp::Div);
                if let Some(v) = divisor
                    && v.is_power_of_two()
                    && (2..=1 << 62).contains(&v)
                {
                    let k = v.trailing_zeros();
                    self.emit(if is_div {
                        Op::DivPow2I { d, a, k }
                    } else {
                        Op::RemPow2I { d, a, k }
                    });
                } else if let Some(v) = divisor
                    && v != 0
                    && v != u64::MAX
                {
                    let b = self.slot(b, ty);
                    self.emit(if is_div {
                        Op::DivConstI { d, a, b }
                    } else {
                        Op::RemConstI { d, a, b }
                    });
                } else {
                    let b = self.slot(b, ty);
                    self.emit(bin(*op, ty, d, a, b));
                }
            }
            Inst::Un { op, d, a } => {
                let dty = self.reg_ty(*d);
                let aty = un_operand(*op, dty).unwrap_or(dty);
                let (a, d) = (self.slot(a, aty), d.0);
                self.emit(un(*op, dty, d, a));
            }
            Inst::SilInt { op, d, a, n } => {
                let (a, n) = (self.slot(a, Type::Sil), self.slot(n, Type::I64));
                let f = match op {
                    SilIntOp::Pow => SilIntFn::Pow,
                    SilIntOp::Root => SilIntFn::Root,
                    SilIntOp::Scale => SilIntFn::Scale,
                    SilIntOp::Rotate => SilIntFn::Rotate,
                };
                self.emit(Op::SilInt { f, d: d.0, a, n });
            }
            Inst::SilNew { d, rho, theta } => {
                let (rho, theta) = (self.slot(rho, Type::I64), self.slot(theta, Type::I64));
                self.emit(Op::SilNew { d: d.0, rho, theta });
            }
            Inst::SilFrom { d, re, im } => {
                let (re, im) = (self.slot(re, Type::F64), self.slot(im, Type::F64));
                self.emit(Op::SilFrom { d: d.0, re, im });
            }
            Inst::SilLerp { d, a, b, t } => {
                let (a, b) = (self.slot(a, Type::Sil), self.slot(b, Type::Sil));
                let t = self.slot(t, Type::F64);
                let ab = self.pair(a, b);
                self.emit(Op::SilLerp { d: d.0, ab, t });
            }
            Inst::Cmp { op, d, a, b } => {
                let ty = cmp_operand_type(self.f, a, b);
                let (a, b) = (self.slot(a, ty), self.slot(b, ty));
                self.emit(cmp(*op, ty, d.0, a, b));
            }
            Inst::Select { d, c, a, b } => {
                let ty = self.reg_ty(*d);
                let c = self.slot(c, Type::I64);
                let (a, b) = (self.slot(a, ty), self.slot(b, ty));
                let ab = self.pair(a, b);
                self.emit(Op::Select { d: d.0, c, ab });
            }
            Inst::Jmp { target } => self.emit(Op::Jmp { t: target.0 }),
            Inst::JumpIf { nonzero, a, target } => {
                let a = self.slot(a, Type::I64);
                let t = target.0;
                self.emit(if *nonzero {
                    Op::Jnz { a, t }
                } else {
                    Op::Jz { a, t }
                });
            }
            Inst::Branch { op, a, b, target } => {
                let ty = cmp_operand_type(self.f, a, b);
                let (a, b) = (self.slot(a, ty), self.slot(b, ty));
                self.emit(branch(*op, ty, a, b, target.0));
            }
            Inst::Switch {
                a,
                targets,
                default,
            } => {
                let a = self.slot(a, Type::I64);
                let mut tab: Vec<u32> = targets.iter().map(|t| t.0).collect();
                tab.push(default.0);
                self.p.switch_tables.push(tab.into());
                let table = self.p.switch_tables.len() as u32 - 1;
                self.emit(Op::Switch { a, table });
            }
            Inst::Call { d, callee, args } => {
                let dest = d.map_or(NO_SLOT, |d| d.0);
                self.direct_call(*callee, args, dest, false);
            }
            Inst::Tail { callee, args } => self.direct_call(*callee, args, NO_SLOT, true),
            Inst::Fref { d, func } => {
                let h = self.konst(func.handle() as u64);
                self.emit(Op::Mov { d: d.0, a: h });
            }
            Inst::CallI {
                d,
                handle,
                args,
                params,
                ret,
            } => {
                let h = self.slot(handle, Type::I64);
                let sig = self.p.intern_sig(params.clone(), *ret);
                let dest = d.map_or(NO_SLOT, |d| d.0);
                let site = self.call_site(h, args, params, dest, sig);
                self.emit(Op::CallI { site });
            }
            Inst::Ret { a: Some(a) } => {
                let ty = self.f.ret.unwrap_or(Type::I64);
                let a = self.slot(a, ty);
                self.emit(Op::Ret { a });
            }
            Inst::Ret { a: None } => self.emit(Op::RetVoid),
            Inst::Exit { a } => {
                let a = self.slot(a, Type::I64);
                self.emit(Op::Exit { a });
            }
            Inst::Trap => self.emit(Op::Trap),
            Inst::Nop => {}
            Inst::Load { ty, d, addr } => {
                let (a, off) = self.addr(addr);
                let d = d.0;
                self.emit(match ty {
                    MemTy::I64 | MemTy::F64 => Op::LoadI64 { d, a, off },
                    MemTy::I32 => Op::LoadI32 { d, a, off },
                    MemTy::U32 => Op::LoadU32 { d, a, off },
                    MemTy::I16 => Op::LoadI16 { d, a, off },
                    MemTy::U16 => Op::LoadU16 { d, a, off },
                    MemTy::I8 => Op::LoadI8 { d, a, off },
                    MemTy::U8 | MemTy::Sil => Op::LoadU8 { d, a, off },
                });
            }
            Inst::Store { ty, addr, v } => {
                let v = self.slot(v, ty.value_type());
                let (a, off) = self.addr(addr);
                self.emit(match ty.size() {
                    8 => Op::Store64 { a, off, v },
                    4 => Op::Store32 { a, off, v },
                    2 => Op::Store16 { a, off, v },
                    _ => Op::Store8 { a, off, v },
                });
            }
            Inst::MemSize { d } => self.emit(Op::MemSize { d: d.0 }),
            Inst::MemGrow { d, a } => {
                let a = self.slot(a, Type::I64);
                self.emit(Op::MemGrow { d: d.0, a });
            }
            Inst::MemCopy { dst, src, n } => {
                let (dst, src, n) = (
                    self.slot(dst, Type::I64),
                    self.slot(src, Type::I64),
                    self.slot(n, Type::I64),
                );
                self.emit(Op::MemCopy { dst, src, n });
            }
            Inst::MemFill { dst, byte, n } => {
                let (dst, byte, n) = (
                    self.slot(dst, Type::I64),
                    self.slot(byte, Type::I64),
                    self.slot(n, Type::I64),
                );
                self.emit(Op::MemFill { dst, byte, n });
            }
            Inst::Print { a: None, .. } => self.emit(Op::Newline),
            Inst::Print {
                a: Some(a),
                precision,
                newline,
            } => {
                let ty = natural_operand_type(self.f, a);
                let s = self.slot(a, ty);
                let nl = *newline;
                self.emit(match ty {
                    Type::I64 => Op::PrintI { a: s, nl },
                    Type::F64 => Op::PrintF {
                        a: s,
                        prec: precision.map_or(-1, |p| p as i8),
                        nl,
                    },
                    Type::Sil => Op::PrintS { a: s, nl },
                });
            }
            Inst::Putc { a } => {
                let a = self.slot(a, Type::I64);
                self.emit(Op::Putc { a });
            }
            Inst::Write { a, n } => {
                let (a, n) = (self.slot(a, Type::I64), self.slot(n, Type::I64));
                self.emit(Op::Write { a, n });
            }
            Inst::Getc { d } => self.emit(Op::Getc { d: d.0 }),
            Inst::Clock { d } => self.emit(Op::Clock { d: d.0 }),
        }
    }
}

fn bin(op: BinOp, ty: Type, d: Slot, a: Slot, b: Slot) -> Op {
    use BinOp as B;
    match (op, ty) {
        (B::Add, Type::I64) => Op::AddI { d, a, b },
        (B::Sub, Type::I64) => Op::SubI { d, a, b },
        (B::Mul, Type::I64) => Op::MulI { d, a, b },
        (B::Div, Type::I64) => Op::DivI { d, a, b },
        (B::Rem, Type::I64) => Op::RemI { d, a, b },
        (B::Add, Type::F64) => Op::AddF { d, a, b },
        (B::Sub, Type::F64) => Op::SubF { d, a, b },
        (B::Mul, Type::F64) => Op::MulF { d, a, b },
        (B::Div, Type::F64) => Op::DivF { d, a, b },
        (B::Rem, _) => Op::Math2 {
            f: Math2Fn::Rem,
            d,
            a,
            b,
        },
        (B::Add, _) => Op::AddS { d, a, b },
        (B::Sub, _) => Op::SubS { d, a, b },
        (B::Mul, _) => Op::MulS { d, a, b },
        (B::Div, _) => Op::DivS { d, a, b },
        (B::UDiv, _) => Op::UDiv { d, a, b },
        (B::URem, _) => Op::URem { d, a, b },
        (B::Min, Type::F64) => Op::MinF { d, a, b },
        (B::Max, Type::F64) => Op::MaxF { d, a, b },
        (B::Min, _) => Op::MinI { d, a, b },
        (B::Max, _) => Op::MaxI { d, a, b },
        // On sil slots (always 0..=255) the i64 bitwise ops give the same byte.
        (B::And, _) => Op::And { d, a, b },
        (B::Or, _) => Op::Or { d, a, b },
        (B::Xor, _) => Op::Xor { d, a, b },
        (B::Shl, _) => Op::Shl { d, a, b },
        (B::Shr, _) => Op::Shr { d, a, b },
        (B::UShr, _) => Op::UShr { d, a, b },
        (B::Rotl, _) => Op::Rotl { d, a, b },
        (B::Rotr, _) => Op::Rotr { d, a, b },
        (B::Atan2, _) => Op::Math2 {
            f: Math2Fn::Atan2,
            d,
            a,
            b,
        },
        (B::Pow, _) => Op::Math2 {
            f: Math2Fn::Pow,
            d,
            a,
            b,
        },
        (B::Hypot, _) => Op::Math2 {
            f: Math2Fn::Hypot,
            d,
            a,
            b,
        },
    }
}

fn un(op: UnOp, dty: Type, d: Slot, a: Slot) -> Op {
    use UnOp as U;
    let math = |f| Op::Math { f, d, a };
    match (op, dty) {
        (U::Neg, Type::I64) => Op::NegI { d, a },
        (U::Neg, Type::F64) => Op::NegF { d, a },
        (U::Neg, _) => Op::Sil {
            f: SilFn::Neg,
            d,
            a,
        },
        (U::Abs, Type::F64) => Op::AbsF { d, a },
        (U::Abs, _) => Op::AbsI { d, a },
        (U::Not, Type::Sil) => Op::NotS { d, a },
        (U::Not, _) => Op::NotI { d, a },
        (U::Clz, _) => Op::Clz { d, a },
        (U::Ctz, _) => Op::Ctz { d, a },
        (U::Popcnt, _) => Op::Popcnt { d, a },
        (U::Sqrt, _) => Op::Sqrt { d, a },
        (U::Floor, _) => Op::Floor { d, a },
        (U::Ceil, _) => Op::Ceil { d, a },
        (U::Trunc, _) => Op::Trunc { d, a },
        (U::Round, _) => Op::RoundF { d, a },
        (U::Sin, _) => math(MathFn::Sin),
        (U::Cos, _) => math(MathFn::Cos),
        (U::Tan, _) => math(MathFn::Tan),
        (U::Asin, _) => math(MathFn::Asin),
        (U::Acos, _) => math(MathFn::Acos),
        (U::Atan, _) => math(MathFn::Atan),
        (U::Exp, _) => math(MathFn::Exp),
        (U::Ln, _) => math(MathFn::Ln),
        (U::Log10, _) => math(MathFn::Log10),
        (U::I2F, _) => Op::I2F { d, a },
        (U::F2I, _) => Op::F2I { d, a },
        // Slots hold raw bits, so a bitcast and a sil → byte are plain copies.
        (U::Bitcast, _) | (U::SilByte, _) => Op::Mov { d, a },
        (U::SilRho, _) => Op::SilRho { d, a },
        (U::SilTheta, _) => Op::SilTheta { d, a },
        (U::SilFromByte, _) => Op::SilFromByte { d, a },
        (U::SilInv, _) => Op::Sil {
            f: SilFn::Inv,
            d,
            a,
        },
        (U::SilConj, _) => Op::Sil {
            f: SilFn::Conj,
            d,
            a,
        },
        (U::SilMag, _) => Op::Sil {
            f: SilFn::Mag,
            d,
            a,
        },
        (U::SilPhase, _) => Op::Sil {
            f: SilFn::Phase,
            d,
            a,
        },
        (U::SilRe, _) => Op::SilToF {
            f: SilToF::Re,
            d,
            a,
        },
        (U::SilIm, _) => Op::SilToF {
            f: SilToF::Im,
            d,
            a,
        },
        (U::SilAbs, _) => Op::SilToF {
            f: SilToF::Abs,
            d,
            a,
        },
        (U::SilArg, _) => Op::SilToF {
            f: SilToF::Arg,
            d,
            a,
        },
    }
}

/// `gt`/`ge` are `lt`/`le` with the operands swapped (also right for NaN: both are false).
fn cmp(op: CmpOp, ty: Type, d: Slot, a: Slot, b: Slot) -> Op {
    use CmpOp as C;
    let float = ty == Type::F64;
    match (op, float) {
        (C::Eq, false) => Op::EqI { d, a, b },
        (C::Ne, false) => Op::NeI { d, a, b },
        (C::Lt, false) => Op::LtI { d, a, b },
        (C::Le, false) => Op::LeI { d, a, b },
        (C::Gt, false) => Op::LtI { d, a: b, b: a },
        (C::Ge, false) => Op::LeI { d, a: b, b: a },
        (C::Eq, true) => Op::EqF { d, a, b },
        (C::Ne, true) => Op::NeF { d, a, b },
        (C::Lt, true) => Op::LtF { d, a, b },
        (C::Le, true) => Op::LeF { d, a, b },
        (C::Gt, true) => Op::LtF { d, a: b, b: a },
        (C::Ge, true) => Op::LeF { d, a: b, b: a },
        (C::LtU, _) => Op::LtU { d, a, b },
        (C::LeU, _) => Op::LeU { d, a, b },
        (C::GtU, _) => Op::LtU { d, a: b, b: a },
        (C::GeU, _) => Op::LeU { d, a: b, b: a },
    }
}

fn branch(op: CmpOp, ty: Type, a: Slot, b: Slot, t: u32) -> Op {
    use CmpOp as C;
    let float = ty == Type::F64;
    match (op, float) {
        (C::Eq, false) => Op::BeqI { a, b, t },
        (C::Ne, false) => Op::BneI { a, b, t },
        (C::Lt, false) => Op::BltI { a, b, t },
        (C::Le, false) => Op::BleI { a, b, t },
        (C::Gt, false) => Op::BltI { a: b, b: a, t },
        (C::Ge, false) => Op::BleI { a: b, b: a, t },
        (C::Eq, true) => Op::BeqF { a, b, t },
        (C::Ne, true) => Op::BneF { a, b, t },
        (C::Lt, true) => Op::BltF { a, b, t },
        (C::Le, true) => Op::BleF { a, b, t },
        (C::Gt, true) => Op::BltF { a: b, b: a, t },
        (C::Ge, true) => Op::BleF { a: b, b: a, t },
        (C::LtU, _) => Op::BltU { a, b, t },
        (C::LeU, _) => Op::BleU { a, b, t },
        (C::GtU, _) => Op::BltU { a: b, b: a, t },
        (C::GeU, _) => Op::BleU { a: b, b: a, t },
    }
}

/// Rewrites that save dispatches, on ops whose targets are absolute op indices. Neither adds
/// nor removes an op, so targets and the line table stay as they are:
/// - a `jmp` to a conditional branch that would leave the loop to just after the `jmp` becomes
///   that branch inverted, jumping to the op after it (the loop is rotated: one dispatch per
///   iteration instead of two);
/// - `add d, d, k` followed by `blt d, b, t` becomes `AddBltI`, or by `ble d, b, t`
///   `AddBleI`.
///
/// Instrumented loops still see every iteration: the tiered engine's `LoopHead` and the
/// profiler's `Count` stand at the header, so a `jmp` there does not reach a branch; an
/// interrupt `Poll` stands just before the backward jump (still run each time round, rotated
/// or not) and so between an `add` and its `blt`.
fn peephole(ops: &mut [Op]) {
    for i in 0..ops.len() {
        if let Op::Jmp { t } = ops[i]
            && let Some(head) = ops.get(t as usize)
            && head.jump_target() == Some(i as u32 + 1)
            && let Some(inv) = inverted(head, t + 1)
        {
            ops[i] = inv;
        }
    }
    for i in 0..ops.len().saturating_sub(1) {
        let Op::AddI { d, a, b: k } = ops[i] else {
            continue;
        };
        let fused = match ops[i + 1] {
            Op::BltI { a: x, b, t } if x == d => pack_dk(d, k).map(|dk| Op::AddBltI { dk, b, t }),
            Op::BleI { a: x, b, t } if x == d => pack_dk(d, k).map(|dk| Op::AddBleI { dk, b, t }),
            _ => None,
        };
        if a == d
            && let Some(op) = fused
        {
            ops[i] = op;
        }
    }
}

/// `mul t, x, y` on f64 followed by `add s, o, t`, `add s, t, o` or `sub s, o, t` becomes one
/// op (`MulAddF`, `MulSubF`) in the `mul`'s place, which skips the `add`: one
/// dispatch fewer in dot products and polynomial steps, with both results rounded and written
/// as before. The `add` stays where it was, so a jump to it still finds it. Neither adds nor
/// removes an op; slots must fit the packed fields (16 bits).
fn fuse_mul_add(ops: &mut [Op]) {
    for i in 0..ops.len().saturating_sub(1) {
        let Op::MulF { d: t, a: x, b: y } = ops[i] else {
            continue;
        };
        // `(s, o, subtract)`.
        let (s, o, sub) = match ops[i + 1] {
            Op::AddF { d, a, b } if b == t => (d, a, false),
            // The sum the other way round: equal but for a NaN's bits, which may differ.
            Op::AddF { d, a, b } if a == t => (d, b, false),
            Op::SubF { d, a, b } if b == t => (d, a, true),
            _ => continue,
        };
        if let (Some(ts), Some(xy)) = (pack_dk(t, s), pack_dk(x, y)) {
            ops[i] = if sub {
                Op::MulSubF { ts, xy, o }
            } else {
                Op::MulAddF { ts, xy, o }
            };
        }
    }
}

/// Which of the threaded handlers' forwarding registers holds an op's result: `acc` (an
/// integer), `facc` (an f64), or both.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Forwarded {
    Int,
    Float,
    Both,
}

/// The slot `op` writes and where its handler forwards that value; `None` for the ops whose
/// handlers forward nothing. Every op listed here must set the register it is listed for
/// (`threaded`'s `op2`, `f2`, `load`, ... macros do).
fn forwarded(op: &Op) -> Option<(Slot, Forwarded)> {
    use Forwarded::*;
    use Op::*;
    Some(match *op {
        AddI { d, .. }
        | SubI { d, .. }
        | MulI { d, .. }
        | DivI { d, .. }
        | RemI { d, .. }
        | DivConstI { d, .. }
        | RemConstI { d, .. }
        | DivPow2I { d, .. }
        | RemPow2I { d, .. }
        | UDiv { d, .. }
        | URem { d, .. }
        | MinI { d, .. }
        | MaxI { d, .. }
        | And { d, .. }
        | Or { d, .. }
        | Xor { d, .. }
        | Shl { d, .. }
        | Shr { d, .. }
        | UShr { d, .. }
        | Rotl { d, .. }
        | Rotr { d, .. }
        | NegI { d, .. }
        | AbsI { d, .. }
        | NotI { d, .. }
        | Clz { d, .. }
        | Ctz { d, .. }
        | Popcnt { d, .. }
        | F2I { d, .. }
        | EqI { d, .. }
        | NeI { d, .. }
        | LtI { d, .. }
        | LeI { d, .. }
        | LtU { d, .. }
        | LeU { d, .. }
        | EqF { d, .. }
        | NeF { d, .. }
        | LtF { d, .. }
        | LeF { d, .. }
        | LoadI32 { d, .. }
        | LoadU32 { d, .. }
        | LoadI16 { d, .. }
        | LoadU16 { d, .. }
        | LoadI8 { d, .. }
        | LoadU8 { d, .. }
        | AddIAcc { d, .. }
        | SubIAcc { d, .. }
        | SubIAccB { d, .. }
        | MulIAcc { d, .. }
        | AndAcc { d, .. }
        | OrAcc { d, .. }
        | XorAcc { d, .. }
        | ShlAcc { d, .. }
        | ShrAcc { d, .. }
        | UShrAcc { d, .. }
        | DivConstIAcc { d, .. }
        | RemConstIAcc { d, .. }
        | DivPow2IAcc { d, .. }
        | RemPow2IAcc { d, .. }
        | F2IAcc { d, .. }
        | LoadI32Acc { d, .. }
        | LoadU8Acc { d, .. } => (d, Int),
        AddF { d, .. }
        | SubF { d, .. }
        | MulF { d, .. }
        | DivF { d, .. }
        | MinF { d, .. }
        | MaxF { d, .. }
        | NegF { d, .. }
        | AbsF { d, .. }
        | Sqrt { d, .. }
        | Floor { d, .. }
        | Ceil { d, .. }
        | Trunc { d, .. }
        | RoundF { d, .. }
        | I2F { d, .. }
        | AddFAcc { d, .. }
        | SubFAcc { d, .. }
        | SubFAccB { d, .. }
        | MulFAcc { d, .. }
        | DivFAcc { d, .. }
        | DivFAccB { d, .. }
        | SqrtAcc { d, .. }
        | I2FAcc { d, .. } => (d, Float),
        Mov { d, .. } | LoadI64 { d, .. } | LoadI64Acc { d, .. } => (d, Both),
        _ => return None,
    })
}

/// `op` reading slot `s` from the forwarding register instead, if it has such a form and
/// `s` holds the kind of value that register does.
fn reading_forwarded(op: &Op, s: Slot, kind: Forwarded) -> Option<Op> {
    use Op::*;
    let int = kind != Forwarded::Float;
    let float = kind != Forwarded::Int;
    Some(match *op {
        AddI { d, a, b } if int && a == s => AddIAcc { d, a, b },
        AddI { d, a, b } if int && b == s => AddIAcc { d, a: b, b: a },
        SubI { d, a, b } if int && a == s => SubIAcc { d, a, b },
        SubI { d, a, b } if int && b == s => SubIAccB { d, a, b },
        MulI { d, a, b } if int && a == s => MulIAcc { d, a, b },
        MulI { d, a, b } if int && b == s => MulIAcc { d, a: b, b: a },
        And { d, a, b } if int && a == s => AndAcc { d, a, b },
        And { d, a, b } if int && b == s => AndAcc { d, a: b, b: a },
        Or { d, a, b } if int && a == s => OrAcc { d, a, b },
        Or { d, a, b } if int && b == s => OrAcc { d, a: b, b: a },
        Xor { d, a, b } if int && a == s => XorAcc { d, a, b },
        Xor { d, a, b } if int && b == s => XorAcc { d, a: b, b: a },
        Shl { d, a, b } if int && a == s => ShlAcc { d, a, b },
        Shr { d, a, b } if int && a == s => ShrAcc { d, a, b },
        UShr { d, a, b } if int && a == s => UShrAcc { d, a, b },
        DivConstI { d, a, b } if int && a == s => DivConstIAcc { d, a, b },
        RemConstI { d, a, b } if int && a == s => RemConstIAcc { d, a, b },
        DivPow2I { d, a, k } if int && a == s => DivPow2IAcc { d, a, k },
        RemPow2I { d, a, k } if int && a == s => RemPow2IAcc { d, a, k },
        I2F { d, a } if int && a == s => I2FAcc { d, a },
        Jz { a, t } if int && a == s => JzAcc { a, t },
        Jnz { a, t } if int && a == s => JnzAcc { a, t },
        BeqI { a, b, t } if int && a == s => BeqIAcc { a, b, t },
        BeqI { a, b, t } if int && b == s => BeqIAcc { a: b, b: a, t },
        BneI { a, b, t } if int && a == s => BneIAcc { a, b, t },
        BneI { a, b, t } if int && b == s => BneIAcc { a: b, b: a, t },
        BltI { a, b, t } if int && a == s => BltIAcc { a, b, t },
        BltI { a, b, t } if int && b == s => BltIAccB { a, b, t },
        BleI { a, b, t } if int && a == s => BleIAcc { a, b, t },
        BleI { a, b, t } if int && b == s => BleIAccB { a, b, t },
        LoadI64 { d, a, off } if int && a == s => LoadI64Acc { d, a, off },
        LoadI32 { d, a, off } if int && a == s => LoadI32Acc { d, a, off },
        LoadU8 { d, a, off } if int && a == s => LoadU8Acc { d, a, off },
        Store8 { a, off, v } if int && v == s => Store8Acc { a, off, v },
        Store64 { a, off, v } if int && v == s => Store64Acc { a, off, v },
        Store64 { a, off, v } if float && v == s => Store64AccF { a, off, v },
        AddF { d, a, b } if float && a == s => AddFAcc { d, a, b },
        AddF { d, a, b } if float && b == s => AddFAcc { d, a: b, b: a },
        SubF { d, a, b } if float && a == s => SubFAcc { d, a, b },
        SubF { d, a, b } if float && b == s => SubFAccB { d, a, b },
        MulF { d, a, b } if float && a == s => MulFAcc { d, a, b },
        MulF { d, a, b } if float && b == s => MulFAcc { d, a: b, b: a },
        DivF { d, a, b } if float && a == s => DivFAcc { d, a, b },
        DivF { d, a, b } if float && b == s => DivFAccB { d, a, b },
        Sqrt { d, a } if float && a == s => SqrtAcc { d, a },
        F2I { d, a } if float && a == s => F2IAcc { d, a },
        BltF { a, b, t } if float && a == s => BltFAcc { a, b, t },
        BltF { a, b, t } if float && b == s => BltFAccB { a, b, t },
        BleF { a, b, t } if float && a == s => BleFAcc { a, b, t },
        BleF { a, b, t } if float && b == s => BleFAccB { a, b, t },
        _ => return None,
    })
}

/// Result forwarding, on one function's final ops (absolute jump targets): an op that reads
/// the slot the op just before it wrote takes the value from that op's handler, in a register
/// (`threaded::FORWARDS`), instead of loading it back from the frame. Only where the op before
/// is the only way in: never at a jump or switch target. Every other way into the middle of a
/// function (a return, the dispatch loop resuming after a slow op or at a loop header) comes
/// after an op that forwards nothing. Commutative ops take the forwarded operand as `a`.
fn forward(ops: &mut [Op], switch_tables: &[Box<[u32]>]) {
    let mut targets = vec![false; ops.len()];
    for op in ops.iter() {
        if let Some(t) = op.jump_target() {
            targets[t as usize] = true;
        } else if let Op::Switch { table, .. } = op {
            for &t in switch_tables[*table as usize].iter() {
                targets[t as usize] = true;
            }
        }
    }
    for i in 1..ops.len() {
        if targets[i] {
            continue;
        }
        if let Some((s, kind)) = forwarded(&ops[i - 1])
            && let Some(op) = reading_forwarded(&ops[i], s, kind)
        {
            ops[i] = op;
        }
    }
}

/// Branch `b` with its condition negated, jumping to `t` (`None` where the negation is not an
/// op: `lt`/`le` on f64 are false on NaN both ways round).
fn inverted(b: &Op, t: u32) -> Option<Op> {
    Some(match *b {
        Op::Jz { a, .. } => Op::Jnz { a, t },
        Op::Jnz { a, .. } => Op::Jz { a, t },
        Op::BeqI { a, b, .. } => Op::BneI { a, b, t },
        Op::BneI { a, b, .. } => Op::BeqI { a, b, t },
        Op::BltI { a, b, .. } => Op::BleI { a: b, b: a, t },
        Op::BleI { a, b, .. } => Op::BltI { a: b, b: a, t },
        Op::BltU { a, b, .. } => Op::BleU { a: b, b: a, t },
        Op::BleU { a, b, .. } => Op::BltU { a: b, b: a, t },
        Op::BeqF { a, b, .. } => Op::BneF { a, b, t },
        Op::BneF { a, b, .. } => Op::BeqF { a, b, t },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main_ops(src: &str, opts: DecodeOptions) -> Vec<Op> {
        let m = bytecode::parse(src, "t").expect("parses");
        bytecode::verify(&m).expect("verifies");
        let p = Program::decode_with(&m, opts).expect("decodes");
        let main = p.names.iter().position(|n| n == "main").expect("main");
        p.funcs[main].ops.to_vec()
    }

    const LOOPS: &str = include_str!("../../../tests/programs/ctrl_rotated_loops.sil");

    #[test]
    fn peephole_rotates_while_loops_and_fuses_latches() {
        let ops = main_ops(LOOPS, DecodeOptions::default());
        let count = |pred: fn(&Op) -> bool| ops.iter().filter(|o| pred(o)).count();
        // Every `jmp` closes a while loop whose exit follows it; only `h13`'s stays, as its
        // head is an f64 `bge`, which has no inverse.
        assert_eq!(count(|o| matches!(o, Op::Jmp { .. })), 1, "{ops:#?}");
        // `h1` (rotated into `blt`), `l14`, `l15` and `l16`; `h2` (rotated into `ble`), `l17`
        // and `l18`.
        assert_eq!(count(|o| matches!(o, Op::AddBltI { .. })), 4, "{ops:#?}");
        assert_eq!(count(|o| matches!(o, Op::AddBleI { .. })), 3, "{ops:#?}");
    }

    #[test]
    fn f64_products_fuse_with_the_add_or_sub_that_takes_them() {
        let src = include_str!("../../../tests/programs/interp_mul_add.sil");
        let m = bytecode::parse(src, "t").expect("parses");
        bytecode::verify(&m).expect("verifies");
        let p = Program::decode(&m).expect("decodes");
        let ops = |name: &str| {
            p.funcs[p.names.iter().position(|n| n == name).unwrap()]
                .ops
                .clone()
        };
        let fused = |name: &str| {
            ops(name)
                .iter()
                .filter(|o| matches!(o, Op::MulAddF { .. } | Op::MulSubF { .. }))
                .count()
        };
        // dot: 1; poly: 3 (the last a sub); shared: all 5 pairs; into_add: the loop's pair,
        // though the add is a jump target (it stays, for the jump).
        assert_eq!(
            [
                fused("dot"),
                fused("poly"),
                fused("shared"),
                fused("into_add")
            ],
            [1, 3, 5, 1]
        );
        let poly = ops("poly");
        assert!(poly.iter().any(|o| matches!(o, Op::MulSubF { .. })));
        let into_add = ops("into_add");
        let at = into_add
            .iter()
            .position(|o| matches!(o, Op::MulAddF { .. }))
            .unwrap();
        assert!(matches!(into_add[at + 1], Op::AddF { .. }), "{into_add:#?}");
        // The mul of `x` by 2.0 is followed by an integer add: not fused.
        assert!(into_add.iter().any(|o| matches!(o, Op::MulF { .. })));
    }

    #[test]
    fn results_forward_to_the_next_op_but_never_into_a_jump_target() {
        if !super::super::threaded::FORWARDS {
            return; // unoptimized builds chain handlers from a loop: nothing to forward
        }
        let src = "func main(n: i64) -> i64 {\n reg i: i64, s: i64, t: i64\nloop:\n \
                   mul t, i, i\n add s, s, t\n add i, i, 1\n blt i, n, loop\n ret s\n}\n";
        let ops = main_ops(src, DecodeOptions::default());
        // `mul` heads the loop, a jump target: it reads the frame. `add s, s, t` takes `t`
        // from `mul`, as its first operand (slots: n 0, i 1, s 2, t 3).
        assert!(matches!(ops[0], Op::MulI { .. }), "{ops:?}");
        assert!(
            matches!(ops[1], Op::AddIAcc { d: 2, a: 3, b: 2 }),
            "{ops:?}"
        );

        // The conformance program written for forwarding reaches every forwarded form.
        let src = include_str!("../../../tests/programs/interp_forwarding.sil");
        let m = bytecode::parse(src, "t").expect("parses");
        bytecode::verify(&m).expect("verifies");
        let p = Program::decode(&m).expect("decodes");
        let seen: Vec<String> = p
            .funcs
            .iter()
            .flat_map(|c| c.ops.iter())
            .map(|o| {
                format!("{o:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let mut missing = Vec::new();
        [
            "AddIAcc",
            "SubIAcc",
            "SubIAccB",
            "MulIAcc",
            "AndAcc",
            "OrAcc",
            "XorAcc",
            "ShlAcc",
            "ShrAcc",
            "UShrAcc",
            "DivConstIAcc",
            "RemConstIAcc",
            "DivPow2IAcc",
            "RemPow2IAcc",
            "I2FAcc",
            "AddFAcc",
            "SubFAcc",
            "SubFAccB",
            "MulFAcc",
            "DivFAcc",
            "DivFAccB",
            "SqrtAcc",
            "F2IAcc",
            "JzAcc",
            "JnzAcc",
            "BeqIAcc",
            "BneIAcc",
            "BltIAcc",
            "BltIAccB",
            "BleIAcc",
            "BleIAccB",
            "BltFAcc",
            "BltFAccB",
            "BleFAcc",
            "BleFAccB",
            "LoadI64Acc",
            "LoadI32Acc",
            "LoadU8Acc",
            "Store8Acc",
            "Store64Acc",
            "Store64AccF",
        ]
        .into_iter()
        .filter(|form| !seen.iter().any(|s| s == form))
        .for_each(|form| missing.push(form));
        assert!(missing.is_empty(), "never made: {missing:?}");
    }

    #[test]
    fn division_by_a_literal_needs_no_checks_and_by_a_power_of_two_is_a_shift() {
        let src = include_str!("../../../tests/programs/arith_div_rem_pow2.sil");
        let ops = main_ops(src, DecodeOptions::default());
        let count = |pred: fn(&Op) -> bool| ops.iter().filter(|o| pred(o)).count();
        // 13 dividends, each by 2, 4, 1024 and 2^62 (shifts) and by 1, -2 and MIN (divides
        // without checks: no literal but 0 and -1 can trap).
        // (Either form: some read a forwarded dividend.)
        let div_pow2 = |o: &Op| matches!(o, Op::DivPow2I { .. } | Op::DivPow2IAcc { .. });
        let rem_pow2 = |o: &Op| matches!(o, Op::RemPow2I { .. } | Op::RemPow2IAcc { .. });
        let div_const = |o: &Op| matches!(o, Op::DivConstI { .. } | Op::DivConstIAcc { .. });
        let rem_const = |o: &Op| matches!(o, Op::RemConstI { .. } | Op::RemConstIAcc { .. });
        assert_eq!(count(div_pow2), 13 * 4);
        assert_eq!(count(rem_pow2), 13 * 4);
        assert_eq!(count(div_const), 13 * 3);
        assert_eq!(count(rem_const), 13 * 3);
        assert_eq!(count(|o| matches!(o, Op::DivI { .. } | Op::RemI { .. })), 0);
        // By -1 (which overflows on MIN) or 0 they keep their checks.
        let checked = main_ops(
            "func main() {\n reg r: i64\n div r, r, -1\n rem r, r, 0\n ret\n}\n",
            DecodeOptions::default(),
        );
        assert!(matches!(checked[0], Op::DivI { .. }), "{checked:?}");
        assert!(matches!(checked[1], Op::RemI { .. }), "{checked:?}");
    }

    #[test]
    fn instrumented_code_keeps_its_loops() {
        // The tiered engine's `LoopHead` and the profiler's `Count` sit at the loop header,
        // the interrupt `Poll` before each backward jump: all must still run every iteration.
        for opts in [
            DecodeOptions {
                loop_heads: true,
                ..Default::default()
            },
            DecodeOptions {
                profile: true,
                ..Default::default()
            },
        ] {
            let ops = main_ops(LOOPS, opts);
            let jumps = ops.iter().filter(|o| matches!(o, Op::Jmp { .. })).count();
            assert_eq!(jumps, 13, "{opts:?}");
        }
        let ops = main_ops(
            LOOPS,
            DecodeOptions {
                interrupts: true,
                ..Default::default()
            },
        );
        assert!(!ops.iter().any(|o| matches!(o, Op::AddBltI { .. })));
    }
}
