//! Inlining a function's calls to itself: recursion unrolled a few levels, as gcc does for `fib`.
//!
//! Only self-calls are inlined. Every other call goes through the table (JIT) so that a callee
//! can change tier or be redefined; a function's own body is the one thing a call site knows
//! for sure. Traps stay exact: an inlined body's unwinding paths still record its frame and
//! reach the caller's trap test, so a backtrace shows every level as if it had been a call;
//! its normal returns skip that test, as they leave the trap word clear.

use cranelift_codegen::Context;
use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName, Function, InstBuilder, UserExternalName};
use std::borrow::Cow;

/// Bodies larger than this (in Cranelift instructions) are not copied into themselves: the
/// gain is the call overhead, which only matters next to a small body.
const MAX_BODY_INSTS: usize = 120;

/// How many copies of the body one function may receive in all: fib's 2, 4, 8 and 16 of
/// four levels (`fib 42` ran 12% faster with the fourth level than without it).
const MAX_COPIES: usize = 30;

/// How many instructions the copies may add in all, which keeps a larger body to fewer
/// levels (a 120-instruction body gets two levels, 6 copies).
const MAX_INLINED_INSTS: usize = 1600;

/// Inlines the calls `ctx.func` makes to itself (`self_id`, as the module declared it), level
/// by level: every self-call of one level is inlined before any of the next, while the copies
/// stay within `MAX_COPIES` and `MAX_INLINED_INSTS` (fib: its 2 calls, then the 4 they bring,
/// then 8 and 16, leaving 32 real calls per 5 levels of recursion). `unwinding` are the
/// helpers after which a function returns with the trap word set. Returns whether anything
/// was inlined.
pub(crate) fn inline_self_calls(
    ctx: &mut Context,
    self_id: cranelift_module::FuncId,
    unwinding: &[cranelift_module::FuncId],
) -> Result<bool, cranelift_codegen::CodegenError> {
    let self_name = UserExternalName::new(0, self_id.as_u32());
    let mut checks = self_call_checks(&ctx.func, &self_name);
    if checks.is_empty() {
        return Ok(false);
    }
    let body_insts = ctx
        .func
        .layout
        .blocks()
        .map(|b| ctx.func.layout.block_insts(b).count())
        .sum::<usize>();
    if body_insts > MAX_BODY_INSTS {
        return Ok(false);
    }
    let unwinding: Vec<UserExternalName> = unwinding
        .iter()
        .map(|id| UserExternalName::new(0, id.as_u32()))
        .collect();
    let mut body = ctx.func.clone();
    drop_stack_check(&mut body);
    let mut copies = 0;
    loop {
        let after = copies + checks.len();
        if checks.is_empty() || after > MAX_COPIES || after * body_insts > MAX_INLINED_INSTS {
            break;
        }
        let mut inliner = SelfInliner {
            body: &body,
            self_name: self_name.clone(),
        };
        ctx.inline(&mut inliner)?;
        for &check in &checks {
            skip_check_on_normal_return(&mut ctx.func, check, &unwinding);
        }
        copies += checks.len();
        checks = self_call_checks(&ctx.func, &self_name);
    }
    if copies > 0 {
        mark_cold_copies(&mut ctx.func, &unwinding);
    }
    Ok(copies > 0)
}

/// The copies need no stack check of their own: they run in the frame of the function that
/// checked at its entry (and whose frame grew to hold them). The compare becomes a constant
/// false, and Cranelift folds the branch away.
fn drop_stack_check(body: &mut Function) {
    let insts = || {
        body.layout
            .blocks()
            .flat_map(|b| body.layout.block_insts(b))
    };
    let Some(sp) = insts().find(|&i| body.dfg.insts[i].opcode() == ir::Opcode::GetStackPointer)
    else {
        return;
    };
    let sp = body.dfg.first_result(sp);
    let compare = insts().find(|&i| {
        body.dfg.insts[i].opcode() == ir::Opcode::Icmp
            && body
                .dfg
                .inst_args(i)
                .iter()
                .any(|&a| body.dfg.resolve_aliases(a) == sp)
    });
    let Some(compare) = compare else {
        return;
    };
    let limit = body.dfg.inst_args(compare)[1];
    body.replace(compare).iconst(ir::types::I8, 0);
    // The load of the limit has no other use, but a load stays unless it is made a constant.
    if let ir::ValueDef::Result(load, _) = body.dfg.value_def(body.dfg.resolve_aliases(limit))
        && body.dfg.insts[load].opcode() == ir::Opcode::Load
    {
        body.replace(load).iconst(ir::types::I64, 0);
    }
}

/// For each direct self-call, the instruction after it: the load of the trap word that
/// `check_after_call` puts right after every call. Inlining splits the block there, so it
/// becomes the first instruction of the block the inlined copy returns to.
fn self_call_checks(func: &Function, name: &UserExternalName) -> Vec<ir::Inst> {
    func.layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b))
        .filter(|&i| match func.dfg.insts[i] {
            ir::InstructionData::Call {
                opcode: ir::Opcode::Call,
                func_ref,
                ..
            } => calls_name(func, func_ref, name),
            _ => false,
        })
        .filter_map(|call| func.layout.next_inst(call))
        .collect()
}

/// After an inlined copy, the caller's test of the trap word matters only where the copy
/// unwinds (after a trap helper or `exit`): a normal return has the word clear. The copy's
/// normal returns jump straight on, past the test, taking the result with them; its
/// unwinding returns still reach the test. Leaves the code as it is if it does not have the
/// shape `check_after_call` gives it.
fn skip_check_on_normal_return(
    func: &mut Function,
    check: ir::Inst,
    unwinding: &[UserExternalName],
) {
    let Some(ret) = func.layout.inst_block(check) else {
        return;
    };
    if func.layout.first_inst(ret) != Some(check) {
        return;
    }
    // The shape: the trap word's load and constants (the line), then the branch on the word.
    let insts: Vec<ir::Inst> = func.layout.block_insts(ret).collect();
    let Some((&branch, before)) = insts.split_last() else {
        return;
    };
    let loads: Vec<ir::Inst> = before
        .iter()
        .copied()
        .filter(|&i| func.dfg.insts[i].opcode() == ir::Opcode::Load)
        .collect();
    let only_consts = before.iter().all(|&i| {
        matches!(
            func.dfg.insts[i].opcode(),
            ir::Opcode::Load | ir::Opcode::Iconst
        )
    });
    if loads.len() != 1 || !only_consts {
        return;
    }
    let word = func.dfg.first_result(loads[0]);
    let ir::InstructionData::Brif { arg, blocks, .. } = func.dfg.insts[branch] else {
        return;
    };
    // Nothing outside the block may use what it defines: `cont` will not be dominated by it.
    let defined: Vec<ir::Value> = before.iter().map(|&i| func.dfg.first_result(i)).collect();
    let used_outside = func
        .layout
        .blocks()
        .filter(|&b| b != ret)
        .flat_map(|b| func.layout.block_insts(b))
        .any(|i| {
            let args = func.dfg.inst_values(i);
            args.into_iter()
                .any(|v| defined.contains(&func.dfg.resolve_aliases(v)))
        });
    if used_outside {
        return;
    }
    let pool = &func.dfg.value_lists;
    let cont = blocks[1].block(pool);
    if func.dfg.resolve_aliases(arg) != word
        || cont == ret
        || cont == blocks[0].block(pool)
        || blocks[1].len(pool) != 0
        || !func.dfg.block_params(cont).is_empty()
    {
        return;
    }
    let normal: Vec<ir::Inst> = func
        .layout
        .blocks()
        .filter(|&b| !calls_any(func, b, unwinding))
        .filter_map(|b| func.layout.last_inst(b))
        .filter(|&j| match &func.dfg.insts[j] {
            ir::InstructionData::Jump { destination, .. } => destination.block(pool) == ret,
            _ => false,
        })
        .collect();
    if normal.is_empty() {
        return;
    }
    // The result moves from the return block's parameters to `cont`'s: `cont` now has more
    // than one predecessor, so it no longer sees the return block's values.
    let results: Vec<ir::Value> = func.dfg.block_params(ret).to_vec();
    func.dfg.detach_block_params(ret);
    let mut passed = Vec::with_capacity(results.len());
    for &old in &results {
        let ty = func.dfg.value_type(old);
        let at_cont = func.dfg.append_block_param(cont, ty);
        let at_ret = func.dfg.append_block_param(ret, ty);
        func.dfg.change_to_alias(old, at_cont);
        passed.push(ir::BlockArg::Value(at_ret));
    }
    let to_cont = func.dfg.block_call(cont, &passed);
    if let ir::InstructionData::Brif { blocks, .. } = &mut func.dfg.insts[branch] {
        blocks[1] = to_cont;
    }
    let dfg = &mut func.dfg;
    for j in normal {
        if let ir::InstructionData::Jump { destination, .. } = &mut dfg.insts[j] {
            destination.set_block(cont, &mut dfg.value_lists);
        }
    }
}

/// Cranelift's inliner does not carry the callee's cold blocks over. The copies' trap paths
/// are found again (blocks that call a trap helper, and blocks of constants that lead only to
/// those) and laid out cold, as in the function itself.
fn mark_cold_copies(func: &mut Function, unwinding: &[UserExternalName]) {
    let entry = func.layout.entry_block();
    let blocks: Vec<ir::Block> = func.layout.blocks().collect();
    for &b in &blocks {
        if Some(b) != entry && calls_any(func, b, unwinding) {
            func.layout.set_cold(b);
        }
    }
    loop {
        let leads_to_cold = |b: ir::Block| {
            let mut insts = func.layout.block_insts(b).rev();
            let to_cold = match insts.next().map(|j| &func.dfg.insts[j]) {
                Some(ir::InstructionData::Jump { destination, .. }) => func
                    .layout
                    .is_cold(destination.block(&func.dfg.value_lists)),
                _ => false,
            };
            to_cold && insts.all(|i| func.dfg.insts[i].opcode() == ir::Opcode::Iconst)
        };
        let more: Vec<ir::Block> = blocks
            .iter()
            .copied()
            .filter(|&b| Some(b) != entry && !func.layout.is_cold(b) && leads_to_cold(b))
            .collect();
        if more.is_empty() {
            return;
        }
        for b in more {
            func.layout.set_cold(b);
        }
    }
}

/// Whether block `b` calls one of the functions named `names`.
fn calls_any(func: &Function, b: ir::Block, names: &[UserExternalName]) -> bool {
    func.layout.block_insts(b).any(|i| match func.dfg.insts[i] {
        ir::InstructionData::Call { func_ref, .. } => {
            names.iter().any(|n| calls_name(func, func_ref, n))
        }
        _ => false,
    })
}

fn calls_name(func: &Function, r: ir::FuncRef, name: &UserExternalName) -> bool {
    match &func.dfg.ext_funcs[r].name {
        ExternalName::User(u) => func.params.user_named_funcs()[*u] == *name,
        _ => false,
    }
}

/// Answers Cranelift's inliner: a self-call gets the function's own body, as translated
/// before any inlining.
struct SelfInliner<'a> {
    body: &'a Function,
    self_name: UserExternalName,
}

impl Inline for SelfInliner<'_> {
    fn inline(
        &mut self,
        caller: &Function,
        _inst: ir::Inst,
        opcode: ir::Opcode,
        callee: ir::FuncRef,
        _args: &[ir::Value],
    ) -> InlineCommand<'_> {
        // A tail call keeps its constant stack by staying a call.
        if opcode != ir::Opcode::Call || !calls_name(caller, callee, &self.self_name) {
            return InlineCommand::KeepCall;
        }
        // The copy's own self-calls wait for the next level (`inline_self_calls`).
        InlineCommand::Inline {
            callee: Cow::Borrowed(self.body),
            visit_callee: false,
        }
    }
}
