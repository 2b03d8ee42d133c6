//! Inlining a function's calls to itself: recursion unrolled a level, as gcc does for `fib`.
//!
//! Only self-calls are inlined. Every other call goes through the table (JIT) so that a callee
//! can change tier or be redefined; a function's own body is the one thing a call site knows
//! for sure. Traps stay exact: an inlined body still records its frame and "returns" into the
//! caller's check after the call, so a backtrace shows every level as if it had been a call.

use cranelift_codegen::Context;
use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName, Function, UserExternalName};
use std::borrow::Cow;

/// Bodies larger than this (in Cranelift instructions) are not copied into themselves: the
/// gain is the call overhead, which only matters next to a small body.
const MAX_BODY_INSTS: usize = 120;

/// How many copies of the body one function may receive in all.
const MAX_COPIES: usize = 14;

/// Inlines the calls `ctx.func` makes to itself (`self_id`, as the module declared it), level
/// by level: every self-call of one level is inlined before any of the next, while the copies
/// stay within `MAX_COPIES` (fib: its 2 calls, then the 4 they bring, leaving 8 real calls
/// per 7 levels of recursion). Returns whether anything was inlined.
pub(crate) fn inline_self_calls(
    ctx: &mut Context,
    self_id: cranelift_module::FuncId,
) -> Result<bool, cranelift_codegen::CodegenError> {
    let self_name = UserExternalName::new(0, self_id.as_u32());
    let body_insts = ctx
        .func
        .layout
        .blocks()
        .map(|b| ctx.func.layout.block_insts(b).count())
        .sum::<usize>();
    if body_insts > MAX_BODY_INSTS {
        return Ok(false);
    }
    let body = ctx.func.clone();
    let mut copies = 0;
    loop {
        let calls = self_calls(&ctx.func, &self_name);
        if calls == 0 || copies + calls > MAX_COPIES {
            return Ok(copies > 0);
        }
        let mut inliner = SelfInliner {
            body: &body,
            self_name: self_name.clone(),
        };
        ctx.inline(&mut inliner)?;
        copies += calls;
    }
}

/// Counts the direct calls (not tail calls) of `func` to the function named `name`.
fn self_calls(func: &Function, name: &UserExternalName) -> usize {
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
        .count()
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
