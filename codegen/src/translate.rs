//! `FunctionTranslator`: one bytecode function → one Cranelift function, each register a
//! `Variable` of its own type, each label a block.
//!
//! Traps are explicit: a failed check jumps to the function's trap block, which records the trap
//! in the VM context and returns; after every call the caller looks at the trap word and, if set,
//! records its own frame and returns too. No signal handler is involved, so this is safe inside
//! any host process and unwinds identically from every tier.

use crate::abi::{body_signature, clif_type};
use crate::imports::{H, Imports};
use crate::{CallMode, Config, ExternMode, ModuleEnv};
use bytecode::types::{cmp_operand_type, natural_operand_type, un_operand};
use bytecode::{
    BinOp, Callee, CmpOp, Const, Function, Inst, MemTy, Module as BcModule, Operand, SilIntOp,
    Type, UnOp,
};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::Ieee64;
use cranelift_codegen::ir::{Block, FuncRef, SigRef, SourceLoc, ValueLabel};
use cranelift_codegen::ir::{
    BlockArg, InstBuilder, JumpTableData, MemFlagsData, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_module::{Module, ModuleResult};
use runtime::TrapCode;
use runtime::vmctx::offsets;
use std::collections::HashMap;

use types::{F64, I8, I32, I64};

/// Memory flags for the VM context's fields: never trap, always aligned.
fn vm_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Linear-memory accesses: bounds-checked before, so they cannot trap; may be unaligned.
fn heap_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

pub(crate) struct FunctionTranslator<'a, 'b> {
    pub b: FunctionBuilder<'b>,
    pub m: &'a mut dyn Module,
    pub bc: &'a BcModule,
    pub f: &'a Function,
    pub func_index: u32,
    pub env: &'a mut ModuleEnv,
    pub imports: &'a mut Imports,
    pub cfg: Config,
    /// For an on-stack-replacement entry: the instruction index of the loop header entered.
    pub osr_header: Option<u32>,
    pub vars: Vec<Variable>,
    pub vmctx: Value,
    /// Block of each instruction index that a label names.
    pub label_blocks: HashMap<u32, Block>,
    /// Shared cold blocks: trap (code, line) and unwind-after-call (line).
    pub trap_block: Option<Block>,
    pub unwind_block: Option<Block>,
    pub line: u32,
    pub helper_refs: HashMap<H, FuncRef>,
    /// Linear memory's base and size, cached in variables in functions that access memory:
    /// loaded at entry and again after every call (only a call can move or grow memory).
    pub mem_vars: Option<(Variable, Variable)>,
    pub sig_refs: HashMap<(Vec<Type>, Option<Type>), SigRef>,
}

impl<'a, 'b> FunctionTranslator<'a, 'b> {
    /// Tags the instructions emitted from now on with `.sil` line `line` (Cranelift carries it
    /// to the machine code, where profilers and debuggers read it: `crate::line_table`).
    fn at_line(&mut self, line: u32) {
        self.line = line;
        self.b.set_srcloc(SourceLoc::new(line));
    }

    pub fn translate(&mut self) -> ModuleResult<()> {
        self.at_line(self.f.loc.line);
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.switch_sealed(entry);
        self.vmctx = self.b.block_params(entry)[0];
        let params: Vec<Value> = self.b.block_params(entry)[1..].to_vec();
        for (i, reg) in self.f.regs.iter().enumerate() {
            let ty = clif_type(reg.ty);
            let var = self.b.declare_var(ty);
            let init = match (self.osr_header, params.get(i)) {
                // OSR: every register, parameters or not, comes from its interpreter slot
                // (a variable left undefined would silently read as zero).
                (Some(_), _) => {
                    let slots = params[0];
                    let off = (i * 8) as i32;
                    self.b.ins().load(ty, vm_flags(), slots, off)
                }
                (None, Some(&p)) if i < self.f.num_params as usize => p,
                (None, _) => self.zero(ty),
            };
            self.b.def_var(var, init);
            self.b.set_val_label(init, ValueLabel::from_u32(i as u32));
            self.vars.push(var);
        }
        let touches_memory = self.f.body.iter().any(|i| {
            matches!(
                i.inst,
                Inst::Load { .. } | Inst::Store { .. } | Inst::MemSize { .. }
            )
        });
        if touches_memory {
            let vars = (self.b.declare_var(I64), self.b.declare_var(I64));
            self.mem_vars = Some(vars);
            self.reload_memory();
        }
        for l in &self.f.labels {
            if !self.label_blocks.contains_key(&l.pos) {
                let blk = self.b.create_block();
                self.label_blocks.insert(l.pos, blk);
            }
        }

        // Entry checks: stack depth, and interrupts when enabled.
        self.at_line(self.f.loc.line);
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self
            .b
            .ins()
            .load(I64, vm_flags(), self.vmctx, offsets::STACK_LIMIT);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(low, TrapCode::StackOverflow)?;
        self.poll_interrupt()?;
        if self.osr_header.is_none() {
            self.count(self.func_index);
        }
        // Loop headers and their counter slots (profiling only).
        let loop_slots: HashMap<u32, u32> = match self.cfg.profile {
            Some(p) => {
                let first = p.first_loop_slot(self.bc, self.func_index as usize);
                (self.f.loop_headers().into_iter()).zip(first..).collect()
            }
            None => HashMap::new(),
        };

        let mut open = true;
        if let Some(header) = self.osr_header {
            // Straight to the loop header; the function's own start becomes unreachable.
            let blk = self.label_blocks[&header];
            self.b.ins().jump(blk, &[]);
            open = false;
        }
        // A label's block is sealed once the last branch to it is translated: at once for
        // labels only branched to from before, after the closing back-edge for loop headers.
        let mut last_branch: HashMap<u32, u32> = HashMap::new();
        for (i, inst) in self.f.body.iter().enumerate() {
            for t in inst.inst.branch_targets() {
                let pos = self.f.labels[t.0 as usize].pos;
                last_branch.insert(pos, i as u32);
            }
        }
        let mut seal_after: HashMap<u32, Vec<Block>> = HashMap::new();
        for (i, inst) in self.f.body.iter().enumerate() {
            self.at_line(inst.loc.line);
            let i = i as u32;
            if let Some(&blk) = self.label_blocks.get(&i) {
                if open {
                    self.b.ins().jump(blk, &[]);
                }
                match last_branch.get(&i) {
                    Some(&last) if last >= i => {
                        self.b.switch_to_block(blk);
                        seal_after.entry(last).or_default().push(blk);
                    }
                    _ => self.switch_sealed(blk),
                }
                if let Some(&slot) = loop_slots.get(&i) {
                    self.count(slot);
                }
            } else if !open {
                // Unreachable code still gets translated (it was type-checked), in a block of
                // its own that nothing jumps to.
                let blk = self.b.create_block();
                self.switch_sealed(blk);
            }
            open = self.inst(i, &inst.inst)?;
            for blk in seal_after.remove(&i).unwrap_or_default() {
                self.b.seal_block(blk);
            }
        }
        // Only unreachable code can get here (the verifier forbids running off the end).
        let end = self.f.body.len() as u32;
        if let Some(&blk) = self.label_blocks.get(&end) {
            if open {
                self.b.ins().jump(blk, &[]);
            }
            self.b.switch_to_block(blk);
            open = true;
        }
        if open {
            self.trap_always(TrapCode::Unreachable)?;
        }
        self.fill_cold_blocks()?;
        self.b.seal_all_blocks();
        Ok(())
    }

    fn zero(&mut self, ty: types::Type) -> Value {
        if ty == F64 {
            self.b.ins().f64const(Ieee64::with_bits(0))
        } else {
            self.b.ins().iconst(ty, 0)
        }
    }

    fn ret_zero(&mut self) {
        match self.f.ret {
            Some(t) => {
                let z = self.zero(clif_type(t));
                self.b.ins().return_(&[z]);
            }
            None => {
                self.b.ins().return_(&[]);
            }
        }
    }

    fn helper(&mut self, h: H) -> ModuleResult<FuncRef> {
        if let Some(&r) = self.helper_refs.get(&h) {
            return Ok(r);
        }
        let id = self.imports.get(self.m, h)?;
        let r = self.m.declare_func_in_func(id, self.b.func);
        self.helper_refs.insert(h, r);
        Ok(r)
    }

    fn call_helper(&mut self, h: H, args: &[Value]) -> ModuleResult<Option<Value>> {
        let r = self.helper(h)?;
        let call = self.b.ins().call(r, args);
        Ok(self.b.inst_results(call).first().copied())
    }

    fn call_helper_v(&mut self, h: H, args: &[Value]) -> ModuleResult<Value> {
        Ok(self.call_helper(h, args)?.expect("helper returns a value"))
    }

    fn body_sig_ref(&mut self, params: &[Type], ret: Option<Type>) -> SigRef {
        let key = (params.to_vec(), ret);
        if let Some(&s) = self.sig_refs.get(&key) {
            return s;
        }
        let sig = body_signature(self.m, params, ret);
        let s = self.b.import_signature(sig);
        self.sig_refs.insert(key, s);
        s
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(I64, v)
    }

    fn line_const(&mut self) -> Value {
        self.b.ins().iconst(I32, self.line as i64)
    }

    /// Switches to a block whose predecessors are all emitted already, and seals it: a
    /// variable read there is then looked up in its predecessors at once instead of becoming
    /// a block parameter (sealing only at the end made every variable read inside a loop nest
    /// a parameter of each enclosing header: quadratic in the nesting depth).
    fn switch_sealed(&mut self, blk: Block) {
        self.b.switch_to_block(blk);
        self.b.seal_block(blk);
    }

    // ---- traps -----------------------------------------------------------------------------

    fn trap_block(&mut self) -> Block {
        *self.trap_block.get_or_insert_with(|| {
            let blk = self.b.create_block();
            self.b.append_block_param(blk, I32);
            self.b.append_block_param(blk, I32);
            self.b.set_cold_block(blk);
            blk
        })
    }

    /// Traps with `code` at the current line if `cond` is non-zero. The trap's code and line
    /// are set in a cold block of this site's own, so the hot path is one compare and branch
    /// (passed on the branch edge, the constants were materialized in every loop iteration).
    fn trap_if(&mut self, cond: Value, code: TrapCode) -> ModuleResult<()> {
        let tb = self.trap_block();
        let site = self.b.create_block();
        self.b.set_cold_block(site);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, site, &[], cont, &[]);
        self.switch_sealed(site);
        let c = self.b.ins().iconst(I32, code as i64);
        let l = self.line_const();
        self.b
            .ins()
            .jump(tb, &[BlockArg::Value(c), BlockArg::Value(l)]);
        self.switch_sealed(cont);
        Ok(())
    }

    fn trap_always(&mut self, code: TrapCode) -> ModuleResult<()> {
        let tb = self.trap_block();
        let c = self.b.ins().iconst(I32, code as i64);
        let l = self.line_const();
        self.b
            .ins()
            .jump(tb, &[BlockArg::Value(c), BlockArg::Value(l)]);
        Ok(())
    }

    /// After a call that may trap: if the trap word is set, record this frame and return.
    fn check_after_call(&mut self) -> ModuleResult<()> {
        let ub = *self.unwind_block.get_or_insert_with(|| {
            let blk = self.b.create_block();
            self.b.append_block_param(blk, I32);
            self.b.set_cold_block(blk);
            blk
        });
        let t = self
            .b
            .ins()
            .load(I32, vm_flags(), self.vmctx, offsets::TRAP);
        let cont = self.b.create_block();
        let l = self.line_const();
        self.b.ins().brif(t, ub, &[BlockArg::Value(l)], cont, &[]);
        self.switch_sealed(cont);
        Ok(())
    }

    /// Profiling: adds one to counter `slot` (a plain load, add and store: only the thread
    /// running this code writes it).
    fn count(&mut self, slot: u32) {
        let Some(p) = self.cfg.profile else {
            return;
        };
        if slot >= p.len {
            return;
        }
        let addr = self
            .b
            .ins()
            .iconst(I64, (p.base + 8 * u64::from(slot)) as i64);
        let v = self.b.ins().load(I64, vm_flags(), addr, 0);
        let v = self.b.ins().iadd_imm_s(v, 1);
        self.b.ins().store(vm_flags(), v, addr, 0);
    }

    fn poll_interrupt(&mut self) -> ModuleResult<()> {
        if !self.cfg.interrupts {
            return Ok(());
        }
        // An atomic load: another thread sets the flag, and the poll must never be hoisted
        // out of the loop it guards.
        let flag = self.vm_load(I64, offsets::INTERRUPT);
        let v = self.b.ins().atomic_load(I32, MemFlagsData::trusted(), flag);
        self.trap_if(v, TrapCode::Interrupted)
    }

    fn fill_cold_blocks(&mut self) -> ModuleResult<()> {
        if let Some(tb) = self.trap_block {
            self.b.switch_to_block(tb);
            let (code, line) = (self.b.block_params(tb)[0], self.b.block_params(tb)[1]);
            let fi = self.b.ins().iconst(I32, self.func_index as i64);
            let vm = self.vmctx;
            self.call_helper(H::TrapBegin, &[vm, code, fi, line])?;
            self.ret_zero();
        }
        if let Some(ub) = self.unwind_block {
            self.b.switch_to_block(ub);
            let line = self.b.block_params(ub)[0];
            let fi = self.b.ins().iconst(I32, self.func_index as i64);
            let vm = self.vmctx;
            self.call_helper(H::TrapFrame, &[vm, fi, line])?;
            self.ret_zero();
        }
        Ok(())
    }

    // ---- operands --------------------------------------------------------------------------

    fn operand(&mut self, o: &Operand, ty: Type) -> Value {
        match o {
            Operand::Reg(r) => self.b.use_var(self.vars[r.0 as usize]),
            Operand::Const(c) => self.konst(*c, ty),
        }
    }

    fn konst(&mut self, c: Const, ty: Type) -> Value {
        // Verified: the literal can stand at `ty`.
        let bits = c.to_slot(ty).unwrap_or(0);
        match ty {
            Type::I64 => self.b.ins().iconst(I64, bits as i64),
            Type::F64 => self.b.ins().f64const(Ieee64::with_bits(bits)),
            Type::Sil => self.b.ins().iconst(I8, bits as i64),
        }
    }

    fn set(&mut self, d: bytecode::RegId, v: Value) {
        self.b.def_var(self.vars[d.0 as usize], v);
        // Register `d` lives in `v` from here (recorded only when debug info is collected).
        self.b.set_val_label(v, ValueLabel::from_u32(d.0));
    }

    fn reg_ty(&self, r: bytecode::RegId) -> Type {
        self.f.reg_type(r)
    }

    fn block_of(&self, label: bytecode::LabelId) -> Block {
        let pos = self.f.labels[label.0 as usize].pos;
        self.label_blocks[&pos]
    }

    fn is_back_edge(&self, at: u32, label: bytecode::LabelId) -> bool {
        self.f.is_back_edge(at as usize, label)
    }

    fn vm_load(&mut self, ty: types::Type, off: i32) -> Value {
        self.b.ins().load(ty, vm_flags(), self.vmctx, off)
    }

    // ---- ByteSil integer math, inline --------------------------------------------------------

    fn sil_rho(&mut self, v: Value) -> Value {
        let w = self.b.ins().uextend(I64, v);
        let hi = self.b.ins().ushr_imm_u(w, 4);
        self.b.ins().iadd_imm_s(hi, -8)
    }

    fn sil_theta(&mut self, v: Value) -> Value {
        let w = self.b.ins().uextend(I64, v);
        self.b.ins().band_imm_u(w, 15)
    }

    /// `rho` clamped to -8..=7, `theta` wrapped mod 16 (two's complement low bits are the
    /// Euclidean remainder), packed into a byte.
    fn sil_make(&mut self, rho: Value, theta: Value) -> Value {
        let lo = self.iconst(-8);
        let hi = self.iconst(7);
        let r = self.b.ins().smax(rho, lo);
        let r = self.b.ins().smin(r, hi);
        let r = self.b.ins().iadd_imm_s(r, 8);
        let r = self.b.ins().ishl_imm_u(r, 4);
        let t = self.b.ins().band_imm_u(theta, 15);
        let byte = self.b.ins().bor(r, t);
        self.b.ins().ireduce(I8, byte)
    }

    /// Clamps a rho offset to -16..=16 so adding it to a rho in -8..=7 cannot overflow and
    /// still clamps to the same result.
    fn clamp_rho_delta(&mut self, k: Value) -> Value {
        let lo = self.iconst(-16);
        let hi = self.iconst(16);
        let k = self.b.ins().smax(k, lo);
        self.b.ins().smin(k, hi)
    }

    // ---- memory ----------------------------------------------------------------------------

    /// The host address of `[base + off]` for an `n`-byte access, trapping if out of bounds.
    fn heap_addr(&mut self, addr: &bytecode::Addr, n: i64) -> ModuleResult<Value> {
        let base = self.operand(&addr.base, Type::I64);
        let ea = if addr.offset == 0 {
            base
        } else {
            self.b.ins().iadd_imm_s(base, addr.offset)
        };
        let size = self.mem_size();
        // Valid iff 0 <= ea and ea + n <= size. As one unsigned compare: ea < size - n + 1
        // (a negative ea is huge unsigned), with the bound 0 when size < n so nothing passes.
        // The bound depends only on `size`, so in a loop it is computed once, outside.
        let bound = self.b.ins().iadd_imm_s(size, 1 - n);
        let small = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, size, n);
        let zero = self.iconst(0);
        let bound = self.b.ins().select(small, zero, bound);
        let bad = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, ea, bound);
        self.trap_if(bad, TrapCode::OutOfBounds)?;
        let mem = self.mem_base();
        Ok(self.b.ins().iadd(mem, ea))
    }

    /// Refreshes the cached memory base and size (at entry, and after anything that may have
    /// grown memory: every call).
    fn reload_memory(&mut self) {
        if let Some((base, size)) = self.mem_vars {
            let b = self.vm_load(I64, offsets::MEM_BASE);
            let s = self.vm_load(I64, offsets::MEM_SIZE);
            self.b.def_var(base, b);
            self.b.def_var(size, s);
        }
    }

    fn mem_base(&mut self) -> Value {
        match self.mem_vars {
            Some((base, _)) => self.b.use_var(base),
            None => self.vm_load(I64, offsets::MEM_BASE),
        }
    }

    fn mem_size(&mut self) -> Value {
        match self.mem_vars {
            Some((_, size)) => self.b.use_var(size),
            None => self.vm_load(I64, offsets::MEM_SIZE),
        }
    }

    fn trap_if_code(&mut self, code: Value) -> ModuleResult<()> {
        // A bulk helper returns 0 or the trap code; only out-of-bounds can come back.
        self.trap_if(code, TrapCode::OutOfBounds)
    }

    // ---- calls -----------------------------------------------------------------------------

    /// Loads entry `idx` of the function table.
    fn table_entry(&mut self, idx: Value) -> Value {
        let table = self.vm_load(I64, offsets::FUNCS);
        let off = self.b.ins().ishl_imm_u(idx, 3);
        let slot = self.b.ins().iadd(table, off);
        self.b.ins().load(I64, vm_flags(), slot, 0)
    }

    /// With a lazily compiling host (`CallMode::Table`), an indirect call may reach a function
    /// that has not been compiled yet: its table entry is null, and the host's
    /// `vsp_jit_compile(vmctx, index)` compiles it and returns the entry. Direct calls need
    /// this only with `lazy_direct_calls`; otherwise the host compiles a function's direct
    /// callees with it.
    fn compile_if_missing(&mut self, ptr: Value, idx: Value) -> ModuleResult<Value> {
        if self.cfg.calls != CallMode::Table {
            return Ok(ptr);
        }
        let lazy = self.b.create_block();
        let cont = self.b.create_block();
        let entry = self.b.append_block_param(cont, I64);
        self.b.set_cold_block(lazy);
        let missing = self.b.ins().icmp_imm_s(IntCC::Equal, ptr, 0);
        self.b
            .ins()
            .brif(missing, lazy, &[], cont, &[BlockArg::Value(ptr)]);
        self.switch_sealed(lazy);
        let vm = self.vmctx;
        let compiled = self.call_helper_v(H::JitCompile, &[vm, idx])?;
        self.check_after_call()?;
        self.b.ins().jump(cont, &[BlockArg::Value(compiled)]);
        self.switch_sealed(cont);
        Ok(entry)
    }

    fn call_args(&mut self, args: &[Operand], params: &[Type]) -> Vec<Value> {
        let mut v = vec![self.vmctx];
        for (a, &t) in args.iter().zip(params) {
            let x = self.operand(a, t);
            v.push(x);
        }
        v
    }

    fn direct_call(
        &mut self,
        callee: Callee,
        args: &[Operand],
        d: Option<bytecode::RegId>,
        tail: bool,
    ) -> ModuleResult<bool> {
        let (params, ret) = self.bc.callee_sig(callee);
        match callee {
            Callee::Func(fid) => {
                let argv = self.call_args(args, &params);
                let sig = self.body_sig_ref(&params, ret);
                // A function's call to itself may be direct even in table mode: whatever
                // redefines or recompiles it replaces the caller too. (Not from an OSR entry,
                // which is not the function's body.) Direct self-calls are what
                // `inline::inline_self_calls` unrolls.
                let direct_self = fid.0 == self.func_index && self.osr_header.is_none() && !tail;
                match self.cfg.calls {
                    CallMode::Table if !direct_self => {
                        let idx = self.iconst(fid.0 as i64);
                        let mut ptr = self.table_entry(idx);
                        let known = fid.0 == self.func_index
                            || self.env.has_code.get(fid.0 as usize) == Some(&true);
                        if self.cfg.lazy_direct_calls && !known {
                            ptr = self.compile_if_missing(ptr, idx)?;
                        }
                        if tail {
                            self.b.ins().return_call_indirect(sig, ptr, &argv);
                            return Ok(false);
                        }
                        let call = self.b.ins().call_indirect(sig, ptr, &argv);
                        self.finish_call(call, d)?;
                    }
                    CallMode::Table | CallMode::Direct => {
                        let id = self.env.body_ids[fid.0 as usize];
                        let r = self.m.declare_func_in_func(id, self.b.func);
                        if tail {
                            self.b.ins().return_call(r, &argv);
                            return Ok(false);
                        }
                        let call = self.b.ins().call(r, &argv);
                        self.finish_call(call, d)?;
                    }
                }
                Ok(true)
            }
            Callee::Extern(eid) => {
                let result = self.extern_call(eid.0, args, &params, ret)?;
                if tail {
                    match result {
                        Some(v) if self.f.ret.is_some() => {
                            self.b.ins().return_(&[v]);
                        }
                        _ => {
                            self.b.ins().return_(&[]);
                        }
                    }
                    return Ok(false);
                }
                if let (Some(d), Some(v)) = (d, result) {
                    self.set(d, v);
                }
                Ok(true)
            }
        }
    }

    fn finish_call(
        &mut self,
        call: cranelift_codegen::ir::Inst,
        d: Option<bytecode::RegId>,
    ) -> ModuleResult<()> {
        let result = self.b.inst_results(call).first().copied();
        self.check_after_call()?;
        self.reload_memory();
        if let (Some(d), Some(v)) = (d, result) {
            self.set(d, v);
        }
        Ok(())
    }

    /// Calls an `extern func`: in the JIT through the host trampoline (arguments and result in
    /// a stack array; a host trap unwinds like any trap), in AOT directly with the C convention.
    fn extern_call(
        &mut self,
        idx: u32,
        args: &[Operand],
        params: &[Type],
        ret: Option<Type>,
    ) -> ModuleResult<Option<Value>> {
        match self.cfg.externs {
            ExternMode::Direct => {
                let id = self.env.extern_ids[idx as usize];
                let r = self.m.declare_func_in_func(id, self.b.func);
                let argv: Vec<Value> = args
                    .iter()
                    .zip(params)
                    .map(|(a, &t)| self.operand(a, t))
                    .collect();
                let call = self.b.ins().call(r, &argv);
                let result = self.b.inst_results(call).first().copied();
                // C may call back into the module's exports, which may grow memory.
                self.reload_memory();
                Ok(result)
            }
            ExternMode::Host => {
                let n = args.len().max(1) as u32;
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    n * 8,
                    3,
                ));
                for (i, (a, &t)) in args.iter().zip(params).enumerate() {
                    let mut v = self.operand(a, t);
                    if t == Type::Sil {
                        v = self.b.ins().uextend(I64, v);
                    }
                    self.b.ins().stack_store(I64, v, slot, (i * 8) as i32);
                }
                let ret_slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8,
                    3,
                ));
                let ap = self.b.ins().stack_addr(I64, slot, 0);
                let rp = self.b.ins().stack_addr(I64, ret_slot, 0);
                let fi = self.b.ins().iconst(I32, idx as i64);
                let vm = self.vmctx;
                self.call_helper(H::HostCall, &[vm, fi, ap, rp])?;
                self.check_after_call()?;
                self.reload_memory();
                Ok(ret.map(|t| self.b.ins().stack_load(I64, clif_type(t), ret_slot, 0)))
            }
        }
    }

    // ---- instructions ----------------------------------------------------------------------

    /// Translates one instruction; returns whether control falls through.
    fn inst(&mut self, at: u32, inst: &Inst) -> ModuleResult<bool> {
        match inst {
            Inst::Mov { d, a } => {
                let v = self.operand(a, self.reg_ty(*d));
                self.set(*d, v);
            }
            Inst::Bin { op, d, a, b } => {
                let ty = self.reg_ty(*d);
                let (x, y) = (self.operand(a, ty), self.operand(b, ty));
                let v = self.bin(*op, ty, x, y)?;
                self.set(*d, v);
            }
            Inst::Un { op, d, a } => {
                let dty = self.reg_ty(*d);
                let aty = un_operand(*op, dty).unwrap_or(dty);
                let x = self.operand(a, aty);
                let v = self.un(*op, dty, x)?;
                self.set(*d, v);
            }
            Inst::SilInt { op, d, a, n } => {
                let x = self.operand(a, Type::Sil);
                let k = self.operand(n, Type::I64);
                let v = match op {
                    SilIntOp::Pow => self.call_helper_v(H::SilPow, &[x, k])?,
                    SilIntOp::Root => self.call_helper_v(H::SilRoot, &[x, k])?,
                    SilIntOp::Scale => {
                        let (r, t) = (self.sil_rho(x), self.sil_theta(x));
                        let k = self.clamp_rho_delta(k);
                        let r = self.b.ins().iadd(r, k);
                        self.sil_make(r, t)
                    }
                    SilIntOp::Rotate => {
                        let (r, t) = (self.sil_rho(x), self.sil_theta(x));
                        let t = self.b.ins().iadd(t, k);
                        self.sil_make(r, t)
                    }
                };
                self.set(*d, v);
            }
            Inst::SilNew { d, rho, theta } => {
                let (r, t) = (self.operand(rho, Type::I64), self.operand(theta, Type::I64));
                let v = self.sil_make(r, t);
                self.set(*d, v);
            }
            Inst::SilFrom { d, re, im } => {
                let (x, y) = (self.operand(re, Type::F64), self.operand(im, Type::F64));
                let v = self.call_helper_v(H::SilFrom, &[x, y])?;
                self.set(*d, v);
            }
            Inst::SilLerp { d, a, b, t } => {
                let (x, y) = (self.operand(a, Type::Sil), self.operand(b, Type::Sil));
                let t = self.operand(t, Type::F64);
                let v = self.call_helper_v(H::SilLerp, &[x, y, t])?;
                self.set(*d, v);
            }
            Inst::Cmp { op, d, a, b } => {
                let ty = cmp_operand_type(self.f, a, b);
                let (x, y) = (self.operand(a, ty), self.operand(b, ty));
                let c = self.compare(*op, ty, x, y);
                let v = self.b.ins().uextend(I64, c);
                self.set(*d, v);
            }
            Inst::Select { d, c, a, b } => {
                let ty = self.reg_ty(*d);
                let c = self.operand(c, Type::I64);
                let (x, y) = (self.operand(a, ty), self.operand(b, ty));
                let v = self.b.ins().select(c, x, y);
                self.set(*d, v);
            }
            Inst::Jmp { target } => {
                if self.is_back_edge(at, *target) {
                    self.poll_interrupt()?;
                }
                let blk = self.block_of(*target);
                self.b.ins().jump(blk, &[]);
                return Ok(false);
            }
            Inst::JumpIf { nonzero, a, target } => {
                if self.is_back_edge(at, *target) {
                    self.poll_interrupt()?;
                }
                let c = self.operand(a, Type::I64);
                self.branch(c, !*nonzero, *target);
            }
            Inst::Branch { op, a, b, target } => {
                if self.is_back_edge(at, *target) {
                    self.poll_interrupt()?;
                }
                let ty = cmp_operand_type(self.f, a, b);
                let (x, y) = (self.operand(a, ty), self.operand(b, ty));
                let c = self.compare(*op, ty, x, y);
                self.branch(c, false, *target);
            }
            Inst::Switch {
                a,
                targets,
                default,
            } => {
                if targets
                    .iter()
                    .chain(std::iter::once(default))
                    .any(|t| self.is_back_edge(at, *t))
                {
                    self.poll_interrupt()?;
                }
                let x = self.operand(a, Type::I64);
                // Out-of-range (including negative, as unsigned) goes to the default entry.
                let n = self.iconst(targets.len() as i64);
                let idx = self.b.ins().umin(x, n);
                let idx = self.b.ins().ireduce(I32, idx);
                let def = self.block_of(*default);
                let mut table: Vec<_> = targets.iter().map(|t| self.block_of(*t)).collect();
                table.push(def);
                let pool = &mut self.b.func.dfg.value_lists;
                let calls: Vec<_> = table
                    .iter()
                    .map(|&blk| cranelift_codegen::ir::BlockCall::new(blk, [], pool))
                    .collect();
                let def_call = cranelift_codegen::ir::BlockCall::new(def, [], pool);
                let jt = self
                    .b
                    .create_jump_table(JumpTableData::new(def_call, &calls));
                self.b.ins().br_table(idx, jt);
                return Ok(false);
            }
            Inst::Call { d, callee, args } => return self.direct_call(*callee, args, *d, false),
            Inst::Tail { callee, args } => return self.direct_call(*callee, args, None, true),
            Inst::Fref { d, func } => {
                let h = self.iconst(func.handle());
                self.set(*d, h);
            }
            Inst::CallI {
                d,
                handle,
                args,
                params,
                ret,
            } => {
                let h = self.operand(handle, Type::I64);
                let idx = self
                    .b
                    .ins()
                    .iadd_imm_s(h, bytecode::FuncId::HANDLE_TO_INDEX);
                let n = self.vm_load(I64, offsets::NUM_FUNCS);
                let bad = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, idx, n);
                self.trap_if(bad, TrapCode::InvalidFunctionHandle)?;
                let sigs = self.vm_load(I64, offsets::FUNC_SIGS);
                let off = self.b.ins().ishl_imm_u(idx, 2);
                let p = self.b.ins().iadd(sigs, off);
                let sig_id = self.b.ins().load(I32, vm_flags(), p, 0);
                let want = self.env.sigs.intern(params, *ret);
                let mismatch = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::NotEqual, sig_id, want as i64);
                self.trap_if(mismatch, TrapCode::IndirectCallTypeMismatch)?;
                let ptr = self.table_entry(idx);
                let ptr = self.compile_if_missing(ptr, idx)?;
                let argv = self.call_args(args, params);
                let sig = self.body_sig_ref(params, *ret);
                let call = self.b.ins().call_indirect(sig, ptr, &argv);
                self.finish_call(call, *d)?;
            }
            Inst::Ret { a } => {
                match (a, self.f.ret) {
                    (Some(a), Some(t)) => {
                        let v = self.operand(a, t);
                        self.b.ins().return_(&[v]);
                    }
                    _ => {
                        self.b.ins().return_(&[]);
                    }
                }
                return Ok(false);
            }
            Inst::Exit { a } => {
                let v = self.operand(a, Type::I64);
                let vm = self.vmctx;
                self.call_helper(H::Exit, &[vm, v])?;
                self.ret_zero();
                return Ok(false);
            }
            Inst::Trap => {
                self.trap_always(TrapCode::Unreachable)?;
                return Ok(false);
            }
            Inst::Nop => {}
            Inst::Load { ty, d, addr } => {
                let p = self.heap_addr(addr, ty.size() as i64)?;
                let fl = heap_flags();
                let v = match ty {
                    MemTy::I64 => self.b.ins().load(I64, fl, p, 0),
                    MemTy::F64 => self.b.ins().load(F64, fl, p, 0),
                    MemTy::Sil => self.b.ins().load(I8, fl, p, 0),
                    MemTy::I32 => self.b.ins().sload32(fl, p, 0),
                    MemTy::U32 => self.b.ins().uload32(fl, p, 0),
                    MemTy::I16 => self.b.ins().sload16(I64, fl, p, 0),
                    MemTy::U16 => self.b.ins().uload16(I64, fl, p, 0),
                    MemTy::I8 => self.b.ins().sload8(I64, fl, p, 0),
                    MemTy::U8 => self.b.ins().uload8(I64, fl, p, 0),
                };
                self.set(*d, v);
            }
            Inst::Store { ty, addr, v } => {
                let x = self.operand(v, ty.value_type());
                let p = self.heap_addr(addr, ty.size() as i64)?;
                let fl = heap_flags();
                match ty {
                    MemTy::I32 => self.b.ins().istore32(fl, x, p, 0),
                    MemTy::I16 => self.b.ins().istore16(fl, x, p, 0),
                    MemTy::I8 => self.b.ins().istore8(fl, x, p, 0),
                    _ => self.b.ins().store(fl, x, p, 0),
                };
            }
            Inst::MemSize { d } => {
                let v = self.mem_size();
                self.set(*d, v);
            }
            Inst::MemGrow { d, a } => {
                let x = self.operand(a, Type::I64);
                let vm = self.vmctx;
                let v = self.call_helper_v(H::MemGrow, &[vm, x])?;
                self.reload_memory();
                self.set(*d, v);
            }
            Inst::MemCopy { dst, src, n } => {
                let (x, y, z) = (
                    self.operand(dst, Type::I64),
                    self.operand(src, Type::I64),
                    self.operand(n, Type::I64),
                );
                let vm = self.vmctx;
                let code = self.call_helper_v(H::MemCopy, &[vm, x, y, z])?;
                self.trap_if_code(code)?;
            }
            Inst::MemFill { dst, byte, n } => {
                let (x, y, z) = (
                    self.operand(dst, Type::I64),
                    self.operand(byte, Type::I64),
                    self.operand(n, Type::I64),
                );
                let vm = self.vmctx;
                let code = self.call_helper_v(H::MemFill, &[vm, x, y, z])?;
                self.trap_if_code(code)?;
            }
            Inst::Print {
                a,
                precision,
                newline,
            } => {
                let out = self.vm_load(I64, offsets::OUT);
                let nl = self.b.ins().iconst(I32, *newline as i64);
                match a {
                    None => {
                        self.call_helper(H::Newline, &[out])?;
                    }
                    Some(a) => {
                        let ty = natural_operand_type(self.f, a);
                        let v = self.operand(a, ty);
                        match ty {
                            Type::I64 => self.call_helper(H::PrintI64, &[out, v, nl])?,
                            Type::Sil => self.call_helper(H::PrintSil, &[out, v, nl])?,
                            Type::F64 => {
                                let p =
                                    self.b.ins().iconst(I32, precision.map_or(-1, |p| p as i64));
                                self.call_helper(H::PrintF64, &[out, v, p, nl])?
                            }
                        };
                    }
                }
            }
            Inst::Putc { a } => {
                let out = self.vm_load(I64, offsets::OUT);
                let v = self.operand(a, Type::I64);
                self.call_helper(H::Putc, &[out, v])?;
            }
            Inst::Write { a, n } => {
                let (x, y) = (self.operand(a, Type::I64), self.operand(n, Type::I64));
                let vm = self.vmctx;
                let code = self.call_helper_v(H::MemWrite, &[vm, x, y])?;
                self.trap_if_code(code)?;
            }
            Inst::Getc { d } => {
                let vm = self.vmctx;
                let v = self.call_helper_v(H::Getc, &[vm])?;
                self.set(*d, v);
            }
            Inst::Clock { d } => {
                let v = self.call_helper_v(H::Clock, &[])?;
                self.set(*d, v);
            }
        }
        Ok(true)
    }

    /// `brif` to `target` when `c` is non-zero (or zero, if `on_zero`), else fall through.
    fn branch(&mut self, c: Value, on_zero: bool, target: bytecode::LabelId) {
        let blk = self.block_of(target);
        let next = self.b.create_block();
        if on_zero {
            self.b.ins().brif(c, next, &[], blk, &[]);
        } else {
            self.b.ins().brif(c, blk, &[], next, &[]);
        }
        self.switch_sealed(next);
    }

    fn compare(&mut self, op: CmpOp, ty: Type, x: Value, y: Value) -> Value {
        if ty == Type::F64 {
            let cc = match op {
                CmpOp::Eq => FloatCC::Equal,
                CmpOp::Ne => FloatCC::NotEqual,
                CmpOp::Lt => FloatCC::LessThan,
                CmpOp::Le => FloatCC::LessThanOrEqual,
                CmpOp::Gt => FloatCC::GreaterThan,
                _ => FloatCC::GreaterThanOrEqual,
            };
            return self.b.ins().fcmp(cc, x, y);
        }
        let cc = match op {
            CmpOp::Eq => IntCC::Equal,
            CmpOp::Ne => IntCC::NotEqual,
            CmpOp::Lt => IntCC::SignedLessThan,
            CmpOp::Le => IntCC::SignedLessThanOrEqual,
            CmpOp::Gt => IntCC::SignedGreaterThan,
            CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
            CmpOp::LtU => IntCC::UnsignedLessThan,
            CmpOp::LeU => IntCC::UnsignedLessThanOrEqual,
            CmpOp::GtU => IntCC::UnsignedGreaterThan,
            CmpOp::GeU => IntCC::UnsignedGreaterThanOrEqual,
        };
        self.b.ins().icmp(cc, x, y)
    }

    fn bin(&mut self, op: BinOp, ty: Type, x: Value, y: Value) -> ModuleResult<Value> {
        Ok(match (op, ty) {
            (BinOp::Add, Type::I64) => self.b.ins().iadd(x, y),
            (BinOp::Sub, Type::I64) => self.b.ins().isub(x, y),
            (BinOp::Mul, Type::I64) => self.b.ins().imul(x, y),
            (BinOp::Div, Type::I64) => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                self.trap_if(zero, TrapCode::IntegerDivideByZero)?;
                let min = self.b.ins().icmp_imm_s(IntCC::Equal, x, i64::MIN);
                let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let ovf = self.b.ins().band(min, m1);
                self.trap_if(ovf, TrapCode::IntegerOverflow)?;
                self.b.ins().sdiv(x, y)
            }
            (BinOp::Rem, Type::I64) => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                self.trap_if(zero, TrapCode::IntegerDivideByZero)?;
                // MIN rem -1 = 0: divide by 1 instead of -1 (same remainder, no overflow).
                let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let one = self.iconst(1);
                let y = self.b.ins().select(m1, one, y);
                self.b.ins().srem(x, y)
            }
            (BinOp::UDiv | BinOp::URem, _) => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                self.trap_if(zero, TrapCode::IntegerDivideByZero)?;
                if op == BinOp::UDiv {
                    self.b.ins().udiv(x, y)
                } else {
                    self.b.ins().urem(x, y)
                }
            }
            (BinOp::Min, Type::I64) => self.b.ins().smin(x, y),
            (BinOp::Max, Type::I64) => self.b.ins().smax(x, y),
            (BinOp::And, _) => self.b.ins().band(x, y),
            (BinOp::Or, _) => self.b.ins().bor(x, y),
            (BinOp::Xor, _) => self.b.ins().bxor(x, y),
            // Cranelift masks shift and rotate amounts by the type's width, as the reference says (`docs/reference/instructions.md`).
            (BinOp::Shl, _) => self.b.ins().ishl(x, y),
            (BinOp::Shr, _) => self.b.ins().sshr(x, y),
            (BinOp::UShr, _) => self.b.ins().ushr(x, y),
            (BinOp::Rotl, _) => self.b.ins().rotl(x, y),
            (BinOp::Rotr, _) => self.b.ins().rotr(x, y),
            (BinOp::Add, Type::F64) => self.b.ins().fadd(x, y),
            (BinOp::Sub, Type::F64) => self.b.ins().fsub(x, y),
            (BinOp::Mul, Type::F64) => self.b.ins().fmul(x, y),
            (BinOp::Div, Type::F64) => self.b.ins().fdiv(x, y),
            (BinOp::Rem, _) => self.call_helper_v(H::Fmod, &[x, y])?,
            (BinOp::Min, _) => self.b.ins().fmin(x, y),
            (BinOp::Max, _) => self.b.ins().fmax(x, y),
            (BinOp::Atan2, _) => self.call_helper_v(H::Atan2, &[x, y])?,
            (BinOp::Pow, _) => self.call_helper_v(H::Pow, &[x, y])?,
            (BinOp::Hypot, _) => self.call_helper_v(H::Hypot, &[x, y])?,
            (BinOp::Add, _) => self.call_helper_v(H::SilAdd, &[x, y])?,
            (BinOp::Sub, _) => self.call_helper_v(H::SilSub, &[x, y])?,
            (BinOp::Mul, _) | (BinOp::Div, _) => {
                let (ra, ta) = (self.sil_rho(x), self.sil_theta(x));
                let (rb, tb) = (self.sil_rho(y), self.sil_theta(y));
                let (r, t) = if op == BinOp::Mul {
                    (self.b.ins().iadd(ra, rb), self.b.ins().iadd(ta, tb))
                } else {
                    (self.b.ins().isub(ra, rb), self.b.ins().isub(ta, tb))
                };
                self.sil_make(r, t)
            }
        })
    }

    fn un(&mut self, op: UnOp, dty: Type, x: Value) -> ModuleResult<Value> {
        use UnOp as U;
        Ok(match (op, dty) {
            (U::Neg, Type::I64) => self.b.ins().ineg(x),
            (U::Neg, Type::F64) => self.b.ins().fneg(x),
            (U::Neg, _) => {
                // theta + 8 flips bit 3; a NULL byte (rho = -8, i.e. < 0x10) stays as it is.
                let flipped = self.b.ins().bxor_imm_u(x, 8);
                let is_null = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, x, 0x10);
                self.b.ins().select(is_null, x, flipped)
            }
            (U::Abs, Type::I64) => self.b.ins().iabs(x),
            (U::Abs, _) => self.b.ins().fabs(x),
            (U::Not, _) => self.b.ins().bnot(x),
            (U::Clz, _) => self.b.ins().clz(x),
            (U::Ctz, _) => self.b.ins().ctz(x),
            (U::Popcnt, _) => self.b.ins().popcnt(x),
            (U::Sqrt, _) => self.b.ins().sqrt(x),
            (U::Floor, _) => self.b.ins().floor(x),
            (U::Ceil, _) => self.b.ins().ceil(x),
            (U::Trunc, _) => self.b.ins().trunc(x),
            (U::Round, _) => self.b.ins().nearest(x),
            (U::Sin, _) => self.call_helper_v(H::Sin, &[x])?,
            (U::Cos, _) => self.call_helper_v(H::Cos, &[x])?,
            (U::Tan, _) => self.call_helper_v(H::Tan, &[x])?,
            (U::Asin, _) => self.call_helper_v(H::Asin, &[x])?,
            (U::Acos, _) => self.call_helper_v(H::Acos, &[x])?,
            (U::Atan, _) => self.call_helper_v(H::Atan, &[x])?,
            (U::Exp, _) => self.call_helper_v(H::Exp, &[x])?,
            (U::Ln, _) => self.call_helper_v(H::Ln, &[x])?,
            (U::Log10, _) => self.call_helper_v(H::Log10, &[x])?,
            (U::I2F, _) => self.b.ins().fcvt_from_sint(F64, x),
            (U::F2I, _) => self.b.ins().fcvt_to_sint_sat(I64, x),
            (U::Bitcast, Type::I64) => self.b.ins().bitcast(I64, MemFlagsData::new(), x),
            (U::Bitcast, _) => self.b.ins().bitcast(F64, MemFlagsData::new(), x),
            (U::SilRho, _) => self.sil_rho(x),
            (U::SilTheta, _) => self.sil_theta(x),
            (U::SilByte, _) => self.b.ins().uextend(I64, x),
            (U::SilFromByte, _) => self.b.ins().ireduce(I8, x),
            (U::SilInv, _) | (U::SilConj, _) => {
                let (r, t) = (self.sil_rho(x), self.sil_theta(x));
                let r = if op == U::SilInv {
                    self.b.ins().ineg(r)
                } else {
                    r
                };
                let t = self.b.ins().ineg(t);
                self.sil_make(r, t)
            }
            (U::SilMag, _) => self.b.ins().band_imm_u(x, 0xF0),
            (U::SilPhase, _) => {
                let t = self.b.ins().band_imm_u(x, 15);
                self.b.ins().bor_imm_u(t, 0x80)
            }
            (U::SilRe, _) => self.call_helper_v(H::SilRe, &[x])?,
            (U::SilIm, _) => self.call_helper_v(H::SilIm, &[x])?,
            (U::SilAbs, _) => self.call_helper_v(H::SilAbs, &[x])?,
            (U::SilArg, _) => self.call_helper_v(H::SilArg, &[x])?,
        })
    }
}
