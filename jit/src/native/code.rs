//! The native tier's code: compiles functions (and OSR entries) into a `JITModule` and keeps the
//! table of entry points every call goes through, so a function can be compiled later,
//! recompiled or redefined by swapping one pointer, without touching its callers.

use super::cache::CodeCache;
use super::gdb::GdbImage;
use super::host::symbols;
use super::observe::{CodeRecord, Observe};
use crate::profile::CodeKind;
use bytecode::Module as BcModule;
use codegen::{CallMode, CodegenError, Config, ExternMode, ModuleEnv};
use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::{Duration, Instant};

/// Where each function's code is, shared with running code and (in the tiered engine) with
/// the interpreter, which reads it without taking any lock: entries are published atomically,
/// once finalized.
pub(crate) struct CodeTable {
    /// Body entry of each function (tail convention); null until compiled. `VmCtx::funcs`
    /// points here (`AtomicPtr<u8>` has the layout of a pointer).
    pub entries: Box<[AtomicPtr<u8>]>,
    /// Array trampoline of each function (`ArrayFn`), for calls from the host and the
    /// interpreter; published after the entry, so non-null means callable.
    pub trampolines: Box<[AtomicPtr<u8>]>,
    /// Signature id of each function: `VmCtx::func_sigs` points here.
    pub sig_ids: Box<[u32]>,
}

impl CodeTable {
    /// An empty table (nothing compiled) for `bc`'s functions.
    pub fn new(bc: &BcModule, sigs: &mut codegen::SigInterner) -> CodeTable {
        let null = || (0..bc.funcs.len()).map(|_| AtomicPtr::new(std::ptr::null_mut()));
        CodeTable {
            entries: null().collect(),
            trampolines: null().collect(),
            sig_ids: bc
                .funcs
                .iter()
                .map(|f| sigs.intern(&f.param_types(), f.ret))
                .collect(),
        }
    }

    /// This table resized for `bc` (after a redefinition), keeping the entries of `keep`.
    fn resized(&self, bc: &BcModule, sigs: &mut codegen::SigInterner, keep: &[bool]) -> CodeTable {
        let t = CodeTable::new(bc, sigs);
        for (i, k) in keep.iter().enumerate().take(bc.funcs.len()) {
            if *k {
                t.entries[i].store(self.entries[i].load(Ordering::Relaxed), Ordering::Relaxed);
                t.trampolines[i].store(
                    self.trampolines[i].load(Ordering::Relaxed),
                    Ordering::Relaxed,
                );
            }
        }
        t
    }

    pub fn trampoline(&self, i: usize) -> *const u8 {
        self.trampolines
            .get(i)
            .map_or(std::ptr::null_mut(), |p| p.load(Ordering::Acquire))
    }

    /// Points a VM context at this table.
    pub fn install(&self, vmctx: &mut runtime::VmCtx) {
        vmctx.funcs = self.entries.as_ptr() as *const *const u8;
        vmctx.func_sigs = self.sig_ids.as_ptr();
        vmctx.num_funcs = self.entries.len() as u64;
    }
}

/// Compile statistics of one function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuncStats {
    pub name: String,
    pub compile_time: Duration,
    /// Machine code bytes of the body (without its trampoline).
    pub code_size: usize,
    /// How many times it has been compiled (redefinitions count).
    pub compiles: u32,
    /// How many times its code was loaded from the persistent cache instead.
    pub cache_loads: u32,
}

pub(crate) struct NativeCode {
    /// Always `Some` until drop, which frees its code memory.
    module: Option<JITModule>,
    env: ModuleEnv,
    ctx: Context,
    fctx: FunctionBuilderContext,
    /// Threads compiling a batch (`Config::compile_threads`).
    threads: usize,
    /// Wall-clock time spent compiling (at most the sum of the functions' times, which
    /// counts each thread's share).
    pub compile_wall: Duration,
    /// Replaced (not changed in place) when a redefinition changes the function count, so a
    /// reader holding the old one never sees it resized.
    pub table: Arc<CodeTable>,
    pub stats: Vec<FuncStats>,
    generation: u32,
    /// Compile one function at a time (the tiered engine: direct calls check their entry);
    /// otherwise a function is compiled with everything it reaches directly.
    one_at_a_time: bool,
    osr_count: u32,
    /// Profiler files (and gdb) told about every piece of code as it is finalized.
    observe: Observe,
    /// The debug images registered with gdb for this code (unregistered on drop).
    gdb_images: Vec<GdbImage>,
    opt_level: u8,
    interrupts: bool,
    /// Redefinitions since the JIT module was last built afresh: each leaves dead code and
    /// declarations in it, which only a new module frees.
    replaced: usize,
    isa: OwnedTargetIsa,
    /// The persistent code cache, if the instance has one.
    pub cache: Option<CodeCache>,
    /// `Config::refuse_to_compile`.
    refuse: Option<String>,
}

/// A module is rebuilt once this many redefinitions have left dead code in it (or twice as
/// many as it has live functions, if more), so memory stays flat however long a REPL runs, at
/// an amortised cost of recompiling a few live functions per redefinition.
const REBUILD_AFTER: usize = 256;

// SAFETY: the JIT module (raw pointers to its own code memory) has no thread affinity; every
// use goes through `&mut NativeCode`, which the tiered engine keeps behind a mutex.
unsafe impl Send for NativeCode {}

/// Builds the host ISA with the requested optimisation level (`0`, `1`, `2`); `debug` when gdb
/// will be told where variables live.
fn host_isa(
    opt_level: u8,
    debug: bool,
) -> Result<std::sync::Arc<dyn cranelift_codegen::isa::TargetIsa>, String> {
    let mut flags = settings::builder();
    let level = match opt_level {
        0 => "none",
        1 => "speed",
        _ => "speed_and_size",
    };
    flags.set("opt_level", level).map_err(|e| e.to_string())?;
    // -O0 is for compiling fast: Cranelift's single-pass register allocator, unless a debugger
    // wants variables, which it tracks less well (docs/optimization.md).
    if opt_level == 0 && !debug {
        flags
            .set("regalloc_algorithm", "single_pass")
            .map_err(|e| e.to_string())?;
    }
    // The JIT's code is not position independent (cranelift-jit requires that).
    flags.set("is_pic", "false").map_err(|e| e.to_string())?;
    // Block offsets and edges, to place small loops (`codegen::placement`).
    flags
        .set("machine_code_cfg_info", "true")
        .map_err(|e| e.to_string())?;
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
        observe: Observe,
    ) -> Result<NativeCode, CodegenError> {
        let mut nc = NativeCode::with_options(bc, opt_level, interrupts, false, observe)?;
        if eager {
            let all: Vec<usize> = (0..bc.funcs.len()).collect();
            nc.define(bc, &all)?;
        }
        Ok(nc)
    }

    /// For the tiered engine: nothing compiled yet, and every function compiled on its own
    /// (`ensure` does not pull in callees; a call to one without code compiles it then).
    /// `table` (made with `sigs`) is the one the interpreter already reads.
    pub fn for_tiering(
        bc: &BcModule,
        opt_level: u8,
        interrupts: bool,
        table: Arc<CodeTable>,
        sigs: codegen::SigInterner,
        observe: Observe,
    ) -> Result<NativeCode, CodegenError> {
        let mut nc = NativeCode::with_options(bc, opt_level, interrupts, true, observe)?;
        nc.table = table;
        nc.env.sigs = sigs;
        Ok(nc)
    }

    /// The signature ids calli compares (a tiered engine's table must use the same).
    pub fn env_sigs(&self) -> codegen::SigInterner {
        self.env.sigs.clone()
    }

    /// Applies what the instance's configuration asks of compiled code beyond the ISA: the
    /// persistent cache and the test seam `refuse_to_compile`.
    pub fn configure(&mut self, config: &crate::Config) -> std::io::Result<()> {
        self.refuse = config.refuse_to_compile.clone();
        self.threads = config.compile_thread_count();
        match &config.cache_dir {
            Some(dir) => self.open_cache(dir, config.cache_max_bytes),
            None => Ok(()),
        }
    }

    /// Uses the persistent code cache in `dir` from now on.
    pub fn open_cache(&mut self, dir: &std::path::Path, max_bytes: u64) -> std::io::Result<()> {
        let isa_flags: Vec<String> = self.isa.isa_flags().iter().map(|v| v.to_string()).collect();
        let target = format!("{} {}", self.isa.triple(), isa_flags.join(" "));
        self.cache = Some(CodeCache::open(dir, max_bytes, target)?);
        Ok(())
    }

    /// Tells codegen which functions will have code whenever the code compiled next runs:
    /// those compiled now and those compiled with it (`batch`). Their direct calls need no
    /// check for missing code (only with one-at-a-time compilation; otherwise no call checks).
    fn note_compiled(&mut self, batch: &[usize]) {
        if !self.one_at_a_time {
            return;
        }
        let n = self.table.entries.len();
        let mut has = vec![false; n];
        for (i, h) in has.iter_mut().enumerate() {
            *h = self.is_compiled(i);
        }
        for &i in batch {
            if let Some(h) = has.get_mut(i) {
                *h = true;
            }
        }
        self.env.has_code = has;
    }

    /// Counts redefinitions: code compiled for an older module must not be published.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn with_options(
        bc: &BcModule,
        opt_level: u8,
        interrupts: bool,
        one_at_a_time: bool,
        observe: Observe,
    ) -> Result<NativeCode, CodegenError> {
        let isa = host_isa(opt_level, observe.gdb).map_err(|message| CodegenError::Cranelift {
            func: "<isa>".into(),
            message,
        })?;
        let mut builder = JITBuilder::with_isa(isa.clone(), default_libcall_names());
        for (name, ptr) in symbols() {
            builder.symbol(name, ptr);
        }
        let mut module = JITModule::new(builder);
        let cfg = Config {
            calls: CallMode::Table,
            externs: ExternMode::Host,
            interrupts,
            lazy_direct_calls: one_at_a_time,
            profile: observe.profile,
            debug_vars: observe.gdb,
        };
        let mut env = ModuleEnv::declare(
            &mut module,
            bc,
            cfg,
            &|i| format!("f{i}.g0"),
            Linkage::Local,
        )?;
        let table = Arc::new(CodeTable::new(bc, &mut env.sigs));
        Ok(NativeCode {
            ctx: module.make_context(),
            module: Some(module),
            env,
            fctx: FunctionBuilderContext::new(),
            threads: codegen::default_threads(),
            compile_wall: Duration::ZERO,
            table,
            stats: bc
                .funcs
                .iter()
                .map(|f| FuncStats {
                    name: f.name.clone(),
                    ..FuncStats::default()
                })
                .collect(),
            generation: 0,
            one_at_a_time,
            osr_count: 0,
            observe,
            gdb_images: Vec::new(),
            opt_level,
            interrupts,
            replaced: 0,
            isa,
            cache: None,
            refuse: None,
        })
    }

    pub fn is_compiled(&self, i: usize) -> bool {
        self.table
            .entries
            .get(i)
            .is_some_and(|p| !p.load(Ordering::Relaxed).is_null())
    }

    /// Compiles function `i` if it is not yet; unless compiling one at a time, with every
    /// not-yet-compiled function reachable from it by direct calls and `fref` (so direct
    /// calls never meet an empty table slot).
    pub fn ensure(&mut self, bc: &BcModule, i: usize) -> Result<(), CodegenError> {
        if self.is_compiled(i) {
            return Ok(());
        }
        let todo = if self.one_at_a_time {
            vec![i]
        } else {
            self.uncompiled_closure(bc, &[i])
        };
        self.define(bc, &todo)
    }

    /// The body entry of function `i` (null if not compiled).
    pub fn entry(&self, i: usize) -> *const u8 {
        self.table
            .entries
            .get(i)
            .map_or(std::ptr::null_mut(), |p| p.load(Ordering::Acquire))
    }

    /// Compiles an on-stack-replacement entry into function `func` at the loop header that
    /// starts at instruction `header`, and returns its array trampoline (`ArrayFn`, taking the
    /// interpreter's frame as its argument array).
    pub fn compile_osr(
        &mut self,
        bc: &BcModule,
        func: usize,
        header: u32,
    ) -> Result<*const u8, CodegenError> {
        self.osr_count += 1;
        let n = self.osr_count;
        self.note_compiled(&[]);
        let NativeCode {
            module,
            env,
            ctx,
            fctx,
            stats,
            observe,
            gdb_images,
            isa,
            cache,
            compile_wall,
            ..
        } = self;
        let module = module.as_mut().expect("module lives until drop");
        let start = Instant::now();
        let f = &bc.funcs[func];
        let sig = codegen::osr_signature(module, f.ret);
        let id = module.declare_function(&format!("osr{n}.f{func}"), Linkage::Local, &sig)?;
        codegen::translate_osr_entry(module, bc, env, func, header, ctx, fctx)?;
        let mut hits = define_compiled(module, isa, cache, ctx, id, &f.name)?;
        let piece = observe.piece(ctx, module.isa(), &f.regs);
        let tsig = codegen::array_signature(module);
        let tid = module.declare_function(&format!("osr{n}.t{func}"), Linkage::Local, &tsig)?;
        codegen::build_osr_trampoline(module, bc, func, id, ctx, fctx)?;
        hits &= define_compiled(module, isa, cache, ctx, tid, &f.name)?;
        let tpiece = observe.piece(ctx, module.isa(), &[]);
        let _ = hits;
        module.finalize_definitions()?;
        stats[func].compile_time += start.elapsed();
        *compile_wall += start.elapsed();
        let trampoline = module.get_finalized_function(tid);
        if observe.any() {
            let line = bc.funcs[func]
                .body
                .get(header as usize)
                .map_or(0, |i| i.loc.line);
            let records = [
                CodeRecord {
                    name: format!("{}.osr.line{line}", f.name),
                    addr: module.get_finalized_function(id),
                    decl_line: f.loc.line,
                    piece,
                    kind: CodeKind::Osr {
                        func: func as u32,
                        header,
                    },
                },
                trampoline_record(
                    &format!("{}.osr.line{line}", f.name),
                    trampoline,
                    tpiece,
                    CodeKind::Osr {
                        func: func as u32,
                        header,
                    },
                ),
            ];
            gdb_images.extend(observe.publish(module.isa(), &records));
        }
        Ok(trampoline)
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
            for next in bc.funcs[f].func_edges() {
                let n = next.0 as usize;
                if !seen[n] && !self.is_compiled(n) {
                    stack.push(n);
                }
            }
        }
        out
    }

    /// (Re)compiles functions `which` of `bc` (the whole, updated module) under fresh names,
    /// then swaps their table entries: callers compiled earlier call through the table and see
    /// the new code at their next call. With one-at-a-time compilation (tiered), replaced
    /// functions start cold again: they lose their code and are compiled when next hot.
    pub fn recompile(&mut self, bc: &BcModule, which: &[usize]) -> Result<(), CodegenError> {
        self.replaced += 1;
        let live = (0..self.table.entries.len())
            .filter(|&i| self.is_compiled(i))
            .count();
        if self.replaced > REBUILD_AFTER.max(2 * live) {
            return self.rebuild(bc, which);
        }
        self.generation += 1;
        let g = self.generation;
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
        // Functions never compiled stay that way (they compile, new body and all, when first
        // needed); compiled ones are replaced, with anything new they now reach.
        let compiled: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| self.is_compiled(i))
            .collect();
        let keep: Vec<bool> = (0..bc.funcs.len())
            .map(|i| self.is_compiled(i) && !which.contains(&i))
            .collect();
        self.table = Arc::new(self.table.resized(bc, &mut self.env.sigs, &keep));
        let todo = if self.one_at_a_time {
            Vec::new()
        } else {
            self.uncompiled_closure(bc, &compiled)
        };
        self.define(bc, &todo)
    }

    /// `recompile`, into a fresh JIT module: what is compiled now (and unchanged, when
    /// compiling one at a time) is compiled again there, and the old module with all its dead
    /// code is freed. Only between calls: no code of the old module may be running.
    fn rebuild(&mut self, bc: &BcModule, which: &[usize]) -> Result<(), CodegenError> {
        let keep: Vec<usize> = (0..bc.funcs.len())
            .filter(|&i| self.is_compiled(i) && !(self.one_at_a_time && which.contains(&i)))
            .collect();
        let mut fresh = NativeCode::with_options(
            bc,
            self.opt_level,
            self.interrupts,
            self.one_at_a_time,
            self.observe.clone(),
        )?;
        fresh.generation = self.generation + 1;
        fresh.cache = self.cache.take();
        fresh.refuse = self.refuse.take();
        fresh.threads = self.threads;
        fresh.compile_wall = self.compile_wall;
        fresh.stats = std::mem::take(&mut self.stats);
        fresh.stats.resize(bc.funcs.len(), FuncStats::default());
        for (st, f) in fresh.stats.iter_mut().zip(&bc.funcs) {
            st.name = f.name.clone();
        }
        let todo = if fresh.one_at_a_time {
            keep
        } else {
            fresh.uncompiled_closure(bc, &keep)
        };
        fresh.define(bc, &todo)?;
        // Dropping the old code frees its JIT module.
        *self = fresh;
        Ok(())
    }

    /// Compiles the bodies of `which` (with their host trampolines when compiling one at a
    /// time: the tiered engine's interpreter calls any compiled function through its
    /// trampoline), then publishes them.
    fn define(&mut self, bc: &BcModule, which: &[usize]) -> Result<(), CodegenError> {
        if let Some(f) = which
            .iter()
            .map(|&i| &bc.funcs[i].name)
            .find(|n| Some(*n) == self.refuse.as_ref())
        {
            return Err(CodegenError::Cranelift {
                func: f.clone(),
                message: "refused by Config::refuse_to_compile (a test seam)".into(),
            });
        }
        let with_trampolines = self.one_at_a_time;
        self.note_compiled(which);
        let g = self.generation;
        let wall = Instant::now();
        let mut tramp_ids = Vec::with_capacity(which.len());
        // Line tables of each body and trampoline, for the profiler and debugger files.
        let mut pieces = Vec::new();
        let NativeCode {
            module,
            env,
            ctx,
            fctx,
            stats,
            observe,
            gdb_images,
            isa,
            cache,
            threads,
            ..
        } = self;
        let module = module.as_mut().expect("module lives until drop");
        // Translate a batch (which needs the module), compile it (on several threads unless
        // through the cache, which is one store), then define each body in order. The
        // contexts go when done, so a long-lived instance keeps no batch's worth of IR.
        let mut pool: Vec<Context> = Vec::new();
        for batch in which.chunks(codegen::BATCH) {
            while pool.len() < batch.len() {
                pool.push(module.make_context());
            }
            let contexts = &mut pool[..batch.len()];
            let mut spent = Vec::with_capacity(batch.len());
            for (&i, c) in batch.iter().zip(contexts.iter_mut()) {
                let start = Instant::now();
                codegen::translate_function(module, bc, env, i, c, fctx)?;
                spent.push(start.elapsed());
            }
            let mut hits = vec![false; batch.len()];
            match cache {
                None => {
                    let times =
                        codegen::compile_batch(&**isa, contexts, *threads).map_err(|e| {
                            CodegenError::Cranelift {
                                func: bc.funcs[batch[e.index]].name.clone(),
                                message: e.message,
                            }
                        })?;
                    spent.iter_mut().zip(times).for_each(|(s, t)| *s += t);
                }
                Some(_) => {
                    for (k, (&i, c)) in batch.iter().zip(contexts.iter_mut()).enumerate() {
                        let start = Instant::now();
                        hits[k] = compile_cached(isa, cache, c, &bc.funcs[i].name)?;
                        spent[k] += start.elapsed();
                    }
                }
            }
            for (k, &i) in batch.iter().enumerate() {
                let start = Instant::now();
                let c = &pool[k];
                codegen::define_placed(module, c, env.body_ids[i])?;
                let size = c.compiled_code().map_or(0, |c| c.code_buffer().len());
                let piece = observe.piece(c, module.isa(), &bc.funcs[i].regs);
                let mut hit = hits[k];
                let mut tpiece = None;
                if with_trampolines {
                    let (tid, tramp_hit) =
                        define_trampoline(module, bc, env, isa, cache, ctx, fctx, i, g)?;
                    tramp_ids.push(tid);
                    hit &= tramp_hit;
                    tpiece = Some(observe.piece(ctx, module.isa(), &[]));
                }
                if observe.any() {
                    pieces.push((piece, tpiece));
                }
                let st = &mut stats[i];
                st.compile_time += spent[k] + start.elapsed();
                st.code_size = size;
                if hit {
                    st.cache_loads += 1;
                } else {
                    st.compiles += 1;
                }
            }
        }
        module.finalize_definitions()?;
        self.compile_wall += wall.elapsed();
        if observe.any() {
            let mut records = Vec::with_capacity(2 * which.len());
            for (k, (&i, (piece, tpiece))) in which.iter().zip(pieces).enumerate() {
                let f = &bc.funcs[i];
                records.push(CodeRecord {
                    name: f.name.clone(),
                    addr: module.get_finalized_function(env.body_ids[i]),
                    decl_line: f.loc.line,
                    piece,
                    kind: CodeKind::Func(i as u32),
                });
                if let (Some(tpiece), Some(&tid)) = (tpiece, tramp_ids.get(k)) {
                    let addr = module.get_finalized_function(tid);
                    records.push(trampoline_record(
                        &f.name,
                        addr,
                        tpiece,
                        CodeKind::Func(i as u32),
                    ));
                }
            }
            gdb_images.extend(observe.publish(module.isa(), &records));
        }
        for (k, &i) in which.iter().enumerate() {
            let entry = module.get_finalized_function(self.env.body_ids[i]);
            self.table.entries[i].store(entry as *mut u8, Ordering::Release);
            if let Some(&tid) = tramp_ids.get(k) {
                let t = module.get_finalized_function(tid);
                self.table.trampolines[i].store(t as *mut u8, Ordering::Release);
            }
        }
        Ok(())
    }

    /// Compiles function `i` if needed and its host trampoline if it has none yet (the JIT
    /// makes a trampoline only for functions the host calls); returns the trampoline.
    pub fn host_entry(&mut self, bc: &BcModule, i: usize) -> Result<*const u8, CodegenError> {
        self.ensure(bc, i)?;
        let t = self.table.trampoline(i);
        if !t.is_null() {
            return Ok(t);
        }
        let g = self.generation;
        let NativeCode {
            module,
            env,
            ctx,
            fctx,
            stats,
            observe,
            gdb_images,
            isa,
            cache,
            compile_wall,
            ..
        } = self;
        let module = module.as_mut().expect("module lives until drop");
        let start = Instant::now();
        let (tid, _) = define_trampoline(module, bc, env, isa, cache, ctx, fctx, i, g)?;
        let tpiece = observe.piece(ctx, module.isa(), &[]);
        module.finalize_definitions()?;
        stats[i].compile_time += start.elapsed();
        *compile_wall += start.elapsed();
        let t = module.get_finalized_function(tid);
        if observe.any() {
            let record = trampoline_record(&bc.funcs[i].name, t, tpiece, CodeKind::Func(i as u32));
            gdb_images.extend(observe.publish(module.isa(), &[record]));
        }
        self.table.trampolines[i].store(t as *mut u8, Ordering::Release);
        Ok(t)
    }

    /// The Cranelift IR of function `index`, as `vsp build --emit clif` and `:clif` show it.
    pub fn clif(&mut self, bc: &BcModule, index: usize) -> Result<String, CodegenError> {
        self.translated(bc, index, |_, ctx, _| {
            Ok(codegen::annotated_clif(&ctx.func))
        })
    }

    /// The machine code of function `index` with its `.sil` lines, as the REPL's `:dis` shows it
    /// (compiled afresh, so the listing is what the function compiles to now).
    pub fn asm(&mut self, bc: &BcModule, index: usize) -> Result<String, CodegenError> {
        let name = &bc.funcs[index].name;
        let failed = |message: String| CodegenError::Cranelift {
            func: name.to_string(),
            message,
        };
        self.translated(bc, index, |module, ctx, isa| {
            ctx.compile(isa, &mut ControlPlane::default())
                .map_err(|e| failed(format!("{:?}", e.inner)))?;
            let names = codegen::referenced_names(module, &ctx.func);
            codegen::asm_listing(ctx, isa, &names).map_err(failed)
        })
    }

    /// Translates function `index` into the context, hands it to `show`, and clears it: for
    /// listings, which define nothing.
    fn translated(
        &mut self,
        bc: &BcModule,
        index: usize,
        show: impl FnOnce(
            &JITModule,
            &mut Context,
            &dyn cranelift_codegen::isa::TargetIsa,
        ) -> Result<String, CodegenError>,
    ) -> Result<String, CodegenError> {
        let NativeCode {
            module,
            env,
            ctx,
            fctx,
            isa,
            ..
        } = self;
        let module = module.as_mut().expect("module lives until drop");
        codegen::translate_function(module, bc, env, index, ctx, fctx)?;
        let text = show(module, ctx, &**isa);
        module.clear_context(ctx);
        text
    }
}

/// The profiler/debugger record of a trampoline into the code named `of`: named after it, with
/// no `.sil` line of its own.
fn trampoline_record(
    of: &str,
    addr: *const u8,
    piece: super::observe::Piece,
    kind: CodeKind,
) -> CodeRecord {
    CodeRecord {
        name: format!("{of}.trampoline"),
        addr,
        decl_line: 0,
        piece,
        kind,
    }
}

/// Declares, builds and defines the host trampoline of function `i` (generation `g`); returns
/// its id and whether its code came from the cache.
#[allow(clippy::too_many_arguments)]
fn define_trampoline(
    module: &mut JITModule,
    bc: &BcModule,
    env: &ModuleEnv,
    isa: &OwnedTargetIsa,
    cache: &mut Option<CodeCache>,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    i: usize,
    g: u32,
) -> Result<(FuncId, bool), CodegenError> {
    let tsig = codegen::array_signature(module);
    let tid = module.declare_function(&format!("t{i}.g{g}"), Linkage::Local, &tsig)?;
    codegen::build_array_trampoline(module, bc, env, i, ctx, fctx)?;
    let hit = define_compiled(module, isa, cache, ctx, tid, &bc.funcs[i].name)?;
    Ok((tid, hit))
}

/// Compiles `ctx.func` and defines it as `id`, through the persistent cache if there is one
/// (then the machine code may come from disk: Cranelift re-links it to this module's names).
/// Returns whether the code came from the cache.
fn define_compiled(
    module: &mut JITModule,
    isa: &OwnedTargetIsa,
    cache: &mut Option<CodeCache>,
    ctx: &mut Context,
    id: FuncId,
    name: &str,
) -> Result<bool, CodegenError> {
    let hit = compile_cached(isa, cache, ctx, name)?;
    codegen::define_placed(module, ctx, id)?;
    Ok(hit)
}

/// Compiles `ctx.func`, through the persistent cache if there is one; returns whether the code
/// came from the cache.
fn compile_cached(
    isa: &OwnedTargetIsa,
    cache: &mut Option<CodeCache>,
    ctx: &mut Context,
    name: &str,
) -> Result<bool, CodegenError> {
    let failed = |message: String| CodegenError::Cranelift {
        func: name.to_string(),
        message,
    };
    let hit = match cache {
        None => {
            ctx.compile(&**isa, &mut ControlPlane::default())
                .map_err(|e| failed(format!("{:?}", e.inner)))?;
            false
        }
        Some(cache) => {
            let hit = ctx
                .compile_with_cache(&**isa, cache, &mut ControlPlane::default())
                .map_err(|e| failed(format!("{:?}", e.inner)))?
                .1;
            cache.count(hit);
            hit
        }
    };
    Ok(hit)
}

impl Drop for NativeCode {
    fn drop(&mut self) {
        // gdb forgets the code before it goes.
        self.gdb_images.clear();
        if let Some(m) = self.module.take() {
            // SAFETY: the table and trampolines point into this module's memory; they are
            // dropped with `self`, and no call is running (calls borrow the instance mutably).
            unsafe { m.free_memory() };
        }
    }
}
