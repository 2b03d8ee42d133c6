//! Bytecode → Cranelift IR: one translator shared by the JIT and the AOT backend.
//!
//! Everything here is generic over `&mut dyn cranelift_module::Module`; a backend decides only
//! how calls reach other functions (`CallMode`), how `extern func`s are reached (`ExternMode`),
//! and how the names it declares are spelled.

// `ModuleResult` is Cranelift's own (a large error type); boxing it at every call would only
// add noise to the translator.
#![allow(clippy::result_large_err)]

mod abi;
mod align;
mod dwarf;
mod imports;
mod inline;
mod lines;
mod listing;
mod parallel;
mod translate;

pub use abi::{
    SigInterner, array_signature, body_signature, c_signature, clif_type, osr_signature,
};
pub use align::{Placement, code_offset, define_placed, placement};
pub use dwarf::{DebugFunc, DebugVar, VarLoc, variables, write_dwarf};
pub use imports::{Imports, helper_names};
pub use lines::{LineRow, annotated_clif, line_table};
pub use listing::{asm_listing, referenced_names};
pub use parallel::{BATCH, BatchError, compile_batch, default_threads};

use bytecode::{Module as BcModule, Type};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, UserFuncName, types};
use cranelift_codegen::{Context, settings};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module, ModuleError};
use std::collections::HashMap;

/// How a call to another module function is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallMode {
    /// Through the VM context's table of entry points, so a function can be recompiled,
    /// redefined or change tier without touching its callers (the JIT).
    Table,
    /// A direct call to the callee's symbol (AOT: nothing is ever redefined).
    Direct,
}

/// How an `extern func` is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternMode {
    /// Through the host's `vsp_host_call` (the JIT calls Rust closures).
    Host,
    /// A direct C call to the symbol of the same name (AOT: resolved by the C linker).
    Direct,
}

/// What a backend asks of codegen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub calls: CallMode,
    pub externs: ExternMode,
    /// Poll `VmCtx::interrupt` at function entry and on loop back-edges.
    pub interrupts: bool,
    /// With `CallMode::Table`: direct callees may have no code yet (the tiered engine compiles
    /// one function at a time), so a direct call checks its table entry as `calli` does.
    pub lazy_direct_calls: bool,
    /// Count calls and loop-header arrivals into a table of `u64` counters (`vsp run
    /// --profile`); without it nothing is emitted.
    pub profile: Option<ProfileCounters>,
    /// Track where each `.sil` register lives in the machine code (for debuggers'
    /// variables: `DebugFunc::of`); it changes no code.
    pub debug_vars: bool,
}

/// Where compiled code counts (JIT only: the table's address is built into the code). Slot
/// `f` counts calls of function `f`; slot `funcs + k` counts arrivals at loop header `k` of the
/// module, numbering every function's `loop_headers()` in order. Slots past `len` are not
/// counted (functions added by a later redefinition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileCounters {
    pub base: u64,
    pub funcs: u32,
    pub len: u32,
}

impl ProfileCounters {
    /// The slot of the first loop header of function `index` in `bc`.
    pub fn first_loop_slot(&self, bc: &BcModule, index: usize) -> u32 {
        let before: usize = bc.funcs[..index]
            .iter()
            .map(|f| f.loop_headers().len())
            .sum();
        self.funcs + before as u32
    }
}

/// Errors of code generation: Cranelift's own (which, for verified bytecode, mean a bug).
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// Boxed: Cranelift's error is large, and this one travels through every `Result`.
    #[error("cranelift module error: {0}")]
    Module(Box<ModuleError>),
    #[error("cranelift rejected function `{func}`: {message}")]
    Cranelift { func: String, message: String },
}

impl From<ModuleError> for CodegenError {
    fn from(e: ModuleError) -> CodegenError {
        CodegenError::Module(Box::new(e))
    }
}

/// Module-wide state across functions: declared ids, signatures, imports.
pub struct ModuleEnv {
    pub cfg: Config,
    /// The tail-convention body of each bytecode function (declared by the backend).
    pub body_ids: Vec<FuncId>,
    /// Each `extern func`'s C symbol (only with `ExternMode::Direct`).
    pub extern_ids: Vec<FuncId>,
    pub sigs: SigInterner,
    pub imports: Imports,
    /// With `lazy_direct_calls`: the functions known to have code for as long as anything
    /// compiled now can run (a backend that drops a function's code drops its callers' too),
    /// so direct calls to them need no check. A function calling itself never needs one.
    pub has_code: Vec<bool>,
}

impl ModuleEnv {
    /// Declares the body of every function under `name_of(index)` with `linkage`, and (for
    /// `ExternMode::Direct`) every extern as an imported C symbol.
    pub fn declare(
        m: &mut dyn Module,
        bc: &BcModule,
        cfg: Config,
        name_of: &dyn Fn(usize) -> String,
        linkage: Linkage,
    ) -> Result<ModuleEnv, CodegenError> {
        let mut env = ModuleEnv {
            cfg,
            body_ids: Vec::new(),
            extern_ids: Vec::new(),
            sigs: SigInterner::default(),
            imports: Imports::default(),
            has_code: Vec::new(),
        };
        for (i, f) in bc.funcs.iter().enumerate() {
            let sig = body_signature(m, &f.param_types(), f.ret);
            env.body_ids
                .push(m.declare_function(&name_of(i), linkage, &sig)?);
        }
        if cfg.externs == ExternMode::Direct {
            for e in &bc.externs {
                let sig = c_signature(m, &e.params, e.ret);
                env.extern_ids
                    .push(m.declare_function(&e.name, Linkage::Import, &sig)?);
            }
        }
        Ok(env)
    }

    /// The signature id `calli` compares, for each function (backends fill `VmCtx::func_sigs`).
    pub fn sig_ids(&mut self, bc: &BcModule) -> Vec<u32> {
        bc.funcs
            .iter()
            .map(|f| self.sigs.intern(&f.param_types(), f.ret))
            .collect()
    }
}

/// Translates bytecode function `index` into `ctx.func` (the body, tail convention).
/// `ctx` is cleared first; the caller defines it in its module under whatever id it chose.
pub fn translate_function(
    m: &mut dyn Module,
    bc: &BcModule,
    env: &mut ModuleEnv,
    index: usize,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CodegenError> {
    translate(m, bc, env, index, None, ctx, fctx)
}

/// Translates an on-stack-replacement entry of function `index` into `ctx.func`: the same body,
/// entered at the loop header that starts at instruction `header` instead of at the top, with
/// every register loaded from the interpreter's frame (`osr_signature`: `(vmctx, slots) ->
/// ret`, slot *i* holding register *i*). The rest of the function runs natively to its end.
pub fn translate_osr_entry(
    m: &mut dyn Module,
    bc: &BcModule,
    env: &mut ModuleEnv,
    index: usize,
    header: u32,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CodegenError> {
    translate(m, bc, env, index, Some(header), ctx, fctx)
}

fn translate(
    m: &mut dyn Module,
    bc: &BcModule,
    env: &mut ModuleEnv,
    index: usize,
    osr_header: Option<u32>,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CodegenError> {
    let f = &bc.funcs[index];
    if let Some(h) = osr_header
        && !f.labels.iter().any(|l| l.pos == h)
    {
        return Err(CodegenError::Cranelift {
            func: f.name.clone(),
            message: format!("no label at instruction {h} to enter"),
        });
    }
    m.clear_context(ctx);
    if env.cfg.debug_vars {
        ctx.func.collect_debug_info();
    }
    ctx.func.signature = match osr_header {
        None => body_signature(m, &f.param_types(), f.ret),
        Some(_) => osr_signature(m, f.ret),
    };
    ctx.func.name = UserFuncName::user(u32::from(osr_header.is_some()), index as u32);
    let mut imports = std::mem::take(&mut env.imports);
    let cfg = env.cfg;
    let frontend = m.target_config();
    let result = {
        let b = FunctionBuilder::new(&mut ctx.func, fctx);
        let mut t = translate::FunctionTranslator {
            b,
            m,
            bc,
            f,
            func_index: index as u32,
            env,
            imports: &mut imports,
            cfg,
            osr_header,
            vars: Vec::new(),
            vmctx: cranelift_codegen::ir::Value::from_u32(0),
            label_blocks: HashMap::new(),
            trap_block: None,
            unwind_block: None,
            line: 0,
            helper_refs: HashMap::new(),
            sig_refs: HashMap::new(),
            mem_vars: None,
        };
        let r = t.translate();
        t.b.finalize(frontend);
        r
    };
    env.imports = imports;
    result?;
    verify_in_debug(m, ctx, &f.name)?;
    // Inlined code has no variable locations of its own, so not when a debugger asks for them.
    let optimizing = m.isa().flags().opt_level() != settings::OptLevel::None;
    if optimizing && osr_header.is_none() && !cfg.debug_vars {
        // The helpers after which a function returns with the trap word set.
        let unwinding: Vec<FuncId> = [
            imports::H::TrapBegin,
            imports::H::TrapFrame,
            imports::H::Exit,
        ]
        .into_iter()
        .filter_map(|h| env.imports.declared(h))
        .collect();
        let inlined =
            inline::inline_self_calls(ctx, env.body_ids[index], &unwinding).map_err(|e| {
                CodegenError::Cranelift {
                    func: f.name.clone(),
                    message: format!("inlining: {e:?}"),
                }
            })?;
        if inlined {
            verify_in_debug(m, ctx, &f.name)?;
        }
    }
    Ok(())
}

/// Cranelift's own verifier, on in debug builds and tests.
fn verify_in_debug(m: &dyn Module, ctx: &Context, name: &str) -> Result<(), CodegenError> {
    if cfg!(debug_assertions) {
        let flags = settings::Flags::new(settings::builder());
        let _ = flags;
        if let Err(errors) = cranelift_codegen::verify_function(&ctx.func, m.isa()) {
            return Err(CodegenError::Cranelift {
                func: name.to_string(),
                message: errors.to_string(),
            });
        }
    }
    Ok(())
}

/// Builds the array trampoline of function `index` into `ctx.func`:
/// `extern "C" fn(vmctx, args: *const u64, ret: *mut u64)` that loads each argument from its
/// 64-bit slot, calls the body through `callee` (the table or a direct reference), and stores
/// the result (zero-extended) into `*ret`.
pub fn build_array_trampoline(
    m: &mut dyn Module,
    bc: &BcModule,
    env: &ModuleEnv,
    index: usize,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CodegenError> {
    let f = &bc.funcs[index];
    let name = format!("{} (trampoline)", f.name);
    let params = f.param_types();
    build_trampoline(
        m,
        env.body_ids[index],
        Some(&params),
        f.ret,
        &name,
        ctx,
        fctx,
    )
}

/// Builds the array trampoline of an OSR entry (`osr_entry`, declared with `osr_signature`):
/// the same C shape as `build_array_trampoline`, but `args` is passed through as the frame.
pub fn build_osr_trampoline(
    m: &mut dyn Module,
    bc: &BcModule,
    index: usize,
    osr_entry: FuncId,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CodegenError> {
    let f = &bc.funcs[index];
    let name = format!("{} (OSR trampoline)", f.name);
    build_trampoline(m, osr_entry, None, f.ret, &name, ctx, fctx)
}

/// `params: Some(types)` loads one argument per slot; `None` passes the array pointer itself.
fn build_trampoline(
    m: &mut dyn Module,
    callee_id: FuncId,
    params: Option<&[Type]>,
    ret: Option<Type>,
    name: &str,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CodegenError> {
    m.clear_context(ctx);
    ctx.func.signature = array_signature(m);
    let callee = m.declare_func_in_func(callee_id, &mut ctx.func);
    let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let (vmctx, argp, retp) = (
        b.block_params(entry)[0],
        b.block_params(entry)[1],
        b.block_params(entry)[2],
    );
    let flags = MemFlagsData::trusted();
    let mut args = vec![vmctx];
    match params {
        Some(params) => {
            for (i, &t) in params.iter().enumerate() {
                args.push(b.ins().load(clif_type(t), flags, argp, (i * 8) as i32));
            }
        }
        None => args.push(argp),
    }
    let call = b.ins().call(callee, &args);
    if let (Some(t), Some(&v)) = (ret, b.inst_results(call).first()) {
        let v = if t == Type::Sil {
            b.ins().uextend(types::I64, v)
        } else {
            v
        };
        b.ins().store(flags, v, retp, 0);
    }
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(m.target_config());
    verify_in_debug(m, ctx, name)
}
