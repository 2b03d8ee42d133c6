//! The Cranelift JIT tier: compiles functions into a `JITModule` and keeps the table of entry
//! points that every call goes through, so a function can be recompiled or redefined by
//! swapping one pointer, without touching its callers.

use crate::host::symbols;
use bytecode::Module as BcModule;
use codegen::{CallMode, CodegenError, Config, ExternMode, ModuleEnv};
use cranelift_codegen::Context;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use std::time::{Duration, Instant};

/// Compile statistics of one function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuncStats {
    pub name: String,
    pub compile_time: Duration,
    /// Machine code bytes of the body (without its trampoline).
    pub code_size: usize,
    /// How many times it has been compiled (redefinitions count).
    pub compiles: u32,
}

pub(crate) struct NativeCode {
    /// Always `Some` until drop, which frees its code memory.
    module: Option<JITModule>,
    env: ModuleEnv,
    ctx: Context,
    fctx: FunctionBuilderContext,
    /// Body entry point of each function (tail convention): `VmCtx::funcs` points here.
    pub table: Vec<*const u8>,
    /// Signature id of each function: `VmCtx::func_sigs` points here.
    pub sig_ids: Vec<u32>,
    /// Array trampoline of each function, for calls from the host.
    pub trampolines: Vec<*const u8>,
    pub stats: Vec<FuncStats>,
    generation: u32,
}

/// Builds the host ISA with the requested optimisation level (`0`, `1`, `2`).
fn host_isa(
    opt_level: u8,
) -> Result<std::sync::Arc<dyn cranelift_codegen::isa::TargetIsa>, String> {
    let mut flags = settings::builder();
    let level = match opt_level {
        0 => "none",
        1 => "speed",
        _ => "speed_and_size",
    };
    flags.set("opt_level", level).map_err(|e| e.to_string())?;
    // The JIT's code is not position independent (cranelift-jit requires that).
    flags.set("is_pic", "false").map_err(|e| e.to_string())?;
    // x64 `return_call` relies on frame pointers; they also make native stacks walkable by
    // profilers.
    flags
        .set("preserve_frame_pointers", "true")
        .map_err(|e| e.to_string())?;
    flags
        .set(
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )
        .map_err(|e| e.to_string())?;
    let isa = cranelift_native::builder().map_err(|e| e.to_string())?;
    isa.finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())
}

impl NativeCode {
    /// Prepares a verified module for native code: every function is declared and gets a
    /// table slot, but only `eager` compiles them all now; otherwise a function is compiled
    /// (with everything it calls directly or takes a handle of) the first time it is needed.
    pub fn new(
        bc: &BcModule,
        opt_level: u8,
        interrupts: bool,
        eager: bool,
    ) -> Result<NativeCode, CodegenError> {
        let isa = host_isa(opt_level).map_err(|message| CodegenError::Cranelift {
            func: "<isa>".into(),
            message,
        })?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        for (name, ptr) in symbols() {
            builder.symbol(name, ptr);
        }
        let mut module = JITModule::new(builder);
        let cfg = Config {
            calls: CallMode::Table,
            externs: ExternMode::Host,
            interrupts,
        };
        let mut env = ModuleEnv::declare(
            &mut module,
            bc,
            cfg,
            &|i| format!("f{i}.g0"),
            Linkage::Local,
        )?;
        let sig_ids = env.sig_ids(bc);
        let mut nc = NativeCode {
            ctx: module.make_context(),
            module: Some(module),
            env,
            fctx: FunctionBuilderContext::new(),
            table: vec![std::ptr::null(); bc.funcs.len()],
            sig_ids,
            trampolines: vec![std::ptr::null(); bc.funcs.len()],
            stats: bc
                .funcs
                .iter()
                .map(|f| FuncStats {
                    name: f.name.clone(),
                    ..FuncStats::default()
                })
                .collect(),
            generation: 0,
        };
        if eager {
            let all: Vec<usize> = (0..bc.funcs.len()).collect();
            nc.define(bc, &all)?;
        }
        Ok(nc)
    }

    pub fn is_compiled(&self, i: usize) -> bool {
        self.table.get(i).is_some_and(|p| !p.is_null())
    }

    /// Compiles function `i` if it is not yet, with every not-yet-compiled function reachable
    /// from it by direct calls and `fref` (so direct calls never meet an empty table slot).
    pub fn ensure(&mut self, bc: &BcModule, i: usize) -> Result<(), CodegenError> {
        if self.is_compiled(i) {
            return Ok(());
        }
        let todo = self.uncompiled_closure(bc, &[i]);
        self.define(bc, &todo)
    }

    /// `roots` plus every function reachable from them that has no code yet.
    fn uncompiled_closure(&self, bc: &BcModule, roots: &[usize]) -> Vec<usize> {
        let mut seen = vec![false; bc.funcs.len()];
        let mut out = Vec::new();
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(f) = stack.pop() {
            if std::mem::replace(&mut seen[f], true) {
                continue;
            }
            out.push(f);
            for inst in &bc.funcs[f].body {
                let next = match &inst.inst {
                    bytecode::Inst::Call {
                        callee: bytecode::Callee::Func(c),
                        ..
                    }
                    | bytecode::Inst::Tail {
                        callee: bytecode::Callee::Func(c),
                        ..
                    } => Some(c.0 as usize),
                    bytecode::Inst::Fref { func, .. } => Some(func.0 as usize),
                    _ => None,
                };
                if let Some(n) = next.filter(|&n| !seen[n] && !self.is_compiled(n)) {
                    stack.push(n);
                }
            }
        }
        out
    }

    /// (Re)compiles functions `which` of `bc` (the whole, updated module) under fresh names,
    /// then swaps their table entries: callers compiled earlier call through the table and see
    /// the new code at their next call.
    pub fn recompile(&mut self, bc: &BcModule, which: &[usize]) -> Result<(), CodegenError> {
        self.generation += 1;
        let g = self.generation;
        self.table.resize(bc.funcs.len(), std::ptr::null());
        self.trampolines.resize(bc.funcs.len(), std::ptr::null());
        self.stats.resize(bc.funcs.len(), FuncStats::default());
        self.env
            .body_ids
            .resize(bc.funcs.len(), FuncId::from_u32(0));
        let module = self.module.as_mut().expect("module lives until drop");
        for &i in which {
            let f = &bc.funcs[i];
            let sig = codegen::body_signature(module, &f.param_types(), f.ret);
            self.env.body_ids[i] =
                module.declare_function(&format!("f{i}.g{g}"), Linkage::Local, &sig)?;
            self.stats[i].name = f.name.clone();
        }
        self.sig_ids = self.env.sig_ids(bc);
        // Functions never compiled stay that way (they compile, new body and all, when first
        // needed); compiled ones are replaced, with anything new they now reach.
        let compiled: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| self.is_compiled(i))
            .collect();
        for &i in which {
            self.table[i] = std::ptr::null();
            self.trampolines[i] = std::ptr::null();
        }
        let todo = self.uncompiled_closure(bc, &compiled);
        self.define(bc, &todo)
    }

    fn define(&mut self, bc: &BcModule, which: &[usize]) -> Result<(), CodegenError> {
        let g = self.generation;
        let mut tramp_ids = Vec::with_capacity(which.len());
        let NativeCode {
            module,
            env,
            ctx,
            fctx,
            stats,
            ..
        } = self;
        let module = module.as_mut().expect("module lives until drop");
        for &i in which {
            let start = Instant::now();
            codegen::translate_function(module, bc, env, i, ctx, fctx)?;
            module
                .define_function(env.body_ids[i], ctx)
                .map_err(|e| CodegenError::Cranelift {
                    func: bc.funcs[i].name.clone(),
                    message: format!("{e:?}"),
                })?;
            let size = ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
            let tsig = codegen::array_signature(module);
            let tid = module.declare_function(&format!("t{i}.g{g}"), Linkage::Local, &tsig)?;
            codegen::build_array_trampoline(module, bc, env, i, ctx, fctx)?;
            module.define_function(tid, ctx)?;
            tramp_ids.push(tid);
            let st = &mut stats[i];
            st.compile_time += start.elapsed();
            st.code_size = size;
            st.compiles += 1;
        }
        module.finalize_definitions()?;
        for (&i, tid) in which.iter().zip(tramp_ids) {
            self.table[i] = module.get_finalized_function(self.env.body_ids[i]);
            self.trampolines[i] = module.get_finalized_function(tid);
        }
        Ok(())
    }

    /// The Cranelift IR of function `index`, as `vsp build --emit clif` and `:clif` show it.
    pub fn clif(&mut self, bc: &BcModule, index: usize) -> Result<String, CodegenError> {
        let NativeCode {
            module,
            env,
            ctx,
            fctx,
            ..
        } = self;
        let module = module.as_mut().expect("module lives until drop");
        codegen::translate_function(module, bc, env, index, ctx, fctx)?;
        let text = ctx.func.display().to_string();
        module.clear_context(ctx);
        Ok(text)
    }
}

impl Drop for NativeCode {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the table and trampolines point into this module's memory; they are
            // dropped with `self`, and no call is running (calls borrow the instance mutably).
            unsafe { m.free_memory() };
        }
    }
}
