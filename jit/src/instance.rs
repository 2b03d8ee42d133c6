//! The embedding API (`docs/reference/embedding.md`): load a module, call its functions with typed arguments, get
//! traps back as values, provide host functions, capture output, touch memory, redefine
//! functions in a live module, and read statistics — on the interpreter or the JIT alike.

use crate::interp::{self, ArrayFn, Completion, DecodeOptions, HostFn, Program, Vm};
use crate::io::{Io, OutputMode};
use crate::native::{
    CacheStats, FuncStats, HostState, NativeCode, NativeStack, Observe, ObserveError, SharedCode,
    TRAP_COMPILE_ERROR,
};
use crate::tier::{TierConfig, TierStats, Tiering};
use crate::trap::{FrameInfo, Trap, TrapCode};
use bytecode::{Diagnostics, Module, Type};
use runtime::VmCtx;
use runtime::vmctx::TRAP_EXIT;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which engine runs the code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// The reference interpreter.
    Interp,
    /// Cranelift-compiled native code.
    #[default]
    Jit,
    /// Starts in the interpreter; hot functions and hot loops move to native code, loops
    /// mid-flight (on-stack replacement). Thresholds: `Config::tier`.
    Tiered,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
            EngineKind::Tiered => "tiered",
        }
    }
}

/// Engine configuration, built fluently: `Config::new().engine(EngineKind::Jit).opt_level(2)`.
#[derive(Clone, Debug)]
pub struct Config {
    pub engine: EngineKind,
    /// 0, 1 or 2 (Cranelift's none, speed, speed_and_size).
    pub opt_level: u8,
    pub output: OutputMode,
    /// Stack for native code (reserved once per instance, committed as used), so a deep
    /// recursion (100,000 frames, `docs/reference/execution.md`) fits and overflow is a trap, never a crash.
    pub stack_size: usize,
    /// Compile every function when the module loads, instead of each one (with what it calls
    /// directly) the first time it is called.
    pub eager: bool,
    /// Let `InterruptHandle::interrupt` stop running code (polled at function entry and on
    /// loop back-edges). Off by default: then no poll is compiled and nothing is slower.
    pub interruptible: bool,
    /// When the tiered engine moves code to native.
    pub tier: TierConfig,
    /// Name every piece of native code in `/tmp/perf-PID.map`, for `perf report`.
    pub perf_map: bool,
    /// Write native code, its names and `.sil` line tables to a jitdump file
    /// (`$JITDUMPDIR/jit-PID.dump`, default `/tmp`), for `perf inject --jit`.
    pub jitdump: bool,
    /// Tell gdb about native code through its JIT interface (symbols, `.sil` lines, frames).
    pub gdb_jit: bool,
    /// Count calls and loop iterations in every tier and sample where time goes
    /// (`Instance::profile`). Off by default: then nothing is counted or compiled for it.
    pub profile: bool,
    /// The `.sil` file that line tables name (default: the module name with `.sil`).
    pub source_name: Option<String>,
    /// A persistent code cache directory (JIT and tiered): compiled functions are stored
    /// there and loaded instead of compiled by later instances, in this process or another.
    pub cache_dir: Option<std::path::PathBuf>,
    /// The cache directory's size limit; the oldest entries are evicted beyond it.
    pub cache_max_bytes: u64,
    /// Threads that compile a batch of functions (the JIT compiles a function with
    /// everything it calls); 0, the default, means one per available core.
    pub compile_threads: usize,
    /// A test seam: the code generator refuses to compile the function of this name, as it
    /// would on a bug in vsp, so tests can check that such a failure is reported as vsp's
    /// error and never as the program's trap.
    #[doc(hidden)]
    pub refuse_to_compile: Option<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            engine: EngineKind::Jit,
            opt_level: 2,
            output: OutputMode::Stdout,
            stack_size: 512 << 20,
            eager: false,
            interruptible: false,
            tier: TierConfig::default(),
            perf_map: false,
            jitdump: false,
            gdb_jit: false,
            profile: false,
            source_name: None,
            cache_dir: None,
            cache_max_bytes: crate::native::DEFAULT_MAX_BYTES,
            compile_threads: 0,
            refuse_to_compile: None,
        }
    }
}

impl Config {
    pub fn new() -> Config {
        Config::default()
    }
    pub fn engine(mut self, e: EngineKind) -> Config {
        self.engine = e;
        self
    }
    pub fn opt_level(mut self, level: u8) -> Config {
        self.opt_level = level.min(2);
        self
    }
    /// Keep the program's output in memory (read it with `Instance::take_output`).
    pub fn capture_output(mut self) -> Config {
        self.output = OutputMode::Capture;
        self
    }
    pub fn stack_size(mut self, bytes: usize) -> Config {
        self.stack_size = bytes;
        self
    }
    /// Make running code stoppable from another thread (see `Instance::interrupt_handle`).
    pub fn interruptible(mut self, on: bool) -> Config {
        self.interruptible = on;
        self
    }
    /// Compile everything at load time (default: lazily, on first call).
    pub fn eager(mut self, eager: bool) -> Config {
        self.eager = eager;
        self
    }
    /// Tiered engine: interpreted calls before a function is compiled, and arrivals at a loop
    /// header before it gets an on-stack-replacement entry (each at least 1).
    pub fn tier_thresholds(mut self, calls: u32, loops: u32) -> Config {
        self.tier.call_threshold = calls.max(1);
        self.tier.loop_threshold = loops.max(1);
        self
    }
    /// Tiered engine: compile at the threshold on the calling thread (reproducible runs).
    pub fn tier_synchronous(mut self, on: bool) -> Config {
        self.tier.synchronous = on;
        self
    }
    /// Keep compiled code in `dir` and load it from there instead of compiling (see
    /// `docs/cache.md`); `vsp run --cache` uses `jit::default_cache_dir()`.
    pub fn cache_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Config {
        self.cache_dir = Some(dir.into());
        self
    }
    /// Threads that compile a batch of functions at once (0: one per available core). The code
    /// is the same whatever the number; only the time to compile it changes.
    pub fn compile_threads(mut self, threads: usize) -> Config {
        self.compile_threads = threads;
        self
    }
    /// The number of compiling threads `compile_threads` asks for.
    pub(crate) fn compile_thread_count(&self) -> usize {
        match self.compile_threads {
            0 => codegen::default_threads(),
            n => n,
        }
    }
    /// Tiered engine: every setting at once.
    pub fn tier(mut self, tier: TierConfig) -> Config {
        self.tier = tier;
        self
    }
    /// Keep `/tmp/perf-PID.map` up to date with every function, trampoline and OSR entry
    /// compiled, so `perf report` names `.sil` functions instead of bare addresses.
    pub fn perf_map(mut self, on: bool) -> Config {
        self.perf_map = on;
        self
    }
    /// Write a jitdump file (code, names, `.sil` lines) for `perf inject --jit` and
    /// `perf annotate`; see `jit::jitdump_path`.
    pub fn jitdump(mut self, on: bool) -> Config {
        self.jitdump = on;
        self
    }
    /// Register native code with gdb's JIT interface as it is compiled (an in-memory ELF with
    /// DWARF per batch), so gdb can break on `.sil` functions and lines and show them in `bt`.
    pub fn gdb_jit(mut self, on: bool) -> Config {
        self.gdb_jit = on;
        self
    }
    /// Profile the module as loaded: calls and loop-header arrivals per tier, and CPU-time
    /// samples (SIGPROF, 1 ms) attributed to native code; read it with `Instance::profile`.
    /// Counters are only compiled in when this is on.
    pub fn profile(mut self, on: bool) -> Config {
        self.profile = on;
        self
    }
    /// The `.sil` file name profilers and debuggers show for line numbers.
    pub fn source_name(mut self, name: impl Into<String>) -> Config {
        self.source_name = Some(name.into());
        self
    }

    /// What the native tier tells profilers.
    fn observe(&self, module: &Module) -> Observe {
        Observe {
            perf_map: self.perf_map,
            jitdump: self.jitdump,
            gdb: self.gdb_jit,
            source: self
                .source_name
                .clone()
                .unwrap_or_else(|| format!("{}.sil", module.name))
                .into(),
            profile: None,
            code_map: None,
        }
    }
}

/// Stops the code an instance is running, from any thread: the call returns
/// `Err(Trap { code: TrapCode::Interrupted, .. })` and the instance stays usable. Works only
/// with `Config::interruptible(true)`; a request made while nothing runs is dropped when the
/// next call starts.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    flag: Arc<AtomicU32>,
}

impl InterruptHandle {
    pub fn interrupt(&self) {
        self.flag.store(1, Ordering::Relaxed);
    }
}

/// A typed value crossing the API.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    I64(i64),
    F64(f64),
    Sil(u8),
}

impl Value {
    pub fn ty(self) -> Type {
        match self {
            Value::I64(_) => Type::I64,
            Value::F64(_) => Type::F64,
            Value::Sil(_) => Type::Sil,
        }
    }

    pub(crate) fn to_slot(self) -> u64 {
        match self {
            Value::I64(v) => v as u64,
            Value::F64(f) => f.to_bits(),
            Value::Sil(b) => b as u64,
        }
    }

    pub(crate) fn from_slot(ty: Type, s: u64) -> Value {
        match ty {
            Type::I64 => Value::I64(s as i64),
            Type::F64 => Value::F64(f64::from_bits(s)),
            Type::Sil => Value::Sil(s as u8),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::I64(v) => write!(f, "{v}"),
            Value::F64(v) => {
                let mut b: runtime::fmt::FmtBuf = [0u8; runtime::fmt::FMT_BUF_LEN];
                f.write_str(
                    std::str::from_utf8(runtime::fmt::format_f64(*v, &mut b)).unwrap_or("?"),
                )
            }
            Value::Sil(b) => write!(
                f,
                "sil({},{})",
                runtime::sil::rho(*b),
                runtime::sil::theta(*b)
            ),
        }
    }
}

/// A host function: typed arguments in, an optional result (of the extern's declared type) out.
pub type HostFunc = Box<dyn FnMut(&[Value]) -> Result<Option<Value>, Trap> + Send>;

/// Host functions by name, for a module's `extern func` items.
#[derive(Default)]
pub struct Linker {
    funcs: HashMap<String, HostFunc>,
}

impl Linker {
    pub fn new() -> Linker {
        Linker::default()
    }

    /// Provides `extern func NAME`.
    pub fn func(
        &mut self,
        name: &str,
        f: impl FnMut(&[Value]) -> Result<Option<Value>, Trap> + Send + 'static,
    ) -> &mut Linker {
        self.funcs.insert(name.to_string(), Box::new(f));
        self
    }
}

/// Errors of loading or changing a module.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The text does not parse or the module does not verify.
    #[error("{0}")]
    Invalid(Diagnostics),
    #[error("invalid .silc: {0}")]
    Decode(#[from] bytecode::DecodeError),
    #[error("extern `{0}` has no host function (register it with `Linker::func`)")]
    MissingHost(String),
    #[error("the module's initial memory ({0} pages) cannot be allocated")]
    Memory(u64),
    #[error("{0}")]
    Compile(#[from] codegen::CodegenError),
    #[error("cannot use the code cache in `{dir}`: {err}")]
    Cache { dir: String, err: std::io::Error },
    /// A broken invariant in a verified module: a bug in vsp, reported instead of run.
    #[error("internal error: {0}")]
    Internal(String),
    /// A profiler file (`Config::perf_map`, `Config::jitdump`) could not be created.
    #[error("{0}")]
    Observe(#[from] ObserveError),
}

/// Errors of a call from the host.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Trap(Trap),
    /// The program ran `exit`.
    #[error("the program exited with status {0}")]
    Exit(i32),
    /// vsp could not compile a function the program needed (a bug in vsp, not the program's).
    #[error("internal compiler error: {0}")]
    Compile(String),
    #[error("no function named `{0}`")]
    NoSuchFunction(String),
    #[error("`{func}` takes {expected} arguments, {given} given")]
    Arity {
        func: String,
        expected: usize,
        given: usize,
    },
    #[error("argument {index} of `{func}` must be {expected}, not {given}")]
    ArgType {
        func: String,
        index: usize,
        expected: Type,
        given: Type,
    },
}

impl From<Trap> for CallError {
    fn from(t: Trap) -> CallError {
        CallError::Trap(t)
    }
}

/// Engine statistics.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub engine: &'static str,
    /// What the tiered engine did (tiered only).
    pub tier: Option<TierStats>,
    /// What the persistent code cache did (with `Config::cache_dir`).
    pub cache: Option<CacheStats>,
    /// Per function (JIT only): compile time and code size.
    pub functions: Vec<FuncStats>,
    /// Time spent compiling, summed over functions (with several compiling threads, more than
    /// the time it took: see `compile_wall_time`).
    pub compile_time: Duration,
    /// Wall-clock time spent compiling.
    pub compile_wall_time: Duration,
    pub code_size: usize,
    /// Time spent preparing the module (decoding for the interpreter, compiling for the JIT).
    pub load_time: Duration,
    pub calls: u64,
}

// One per instance, never moved around in bulk: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
enum Backend {
    Interp {
        prog: Program,
        vm: Vm,
    },
    Native {
        code: SharedCode,
        stack: NativeStack,
    },
    Tiered {
        prog: Program,
        vm: Vm,
        tier: Tiering,
        stack: NativeStack,
    },
}

/// A loaded module, ready to call.
pub struct Instance {
    config: Config,
    module: Arc<Module>,
    /// Boxed: `VmCtx::host` points at it while code runs.
    state: Box<HostState>,
    /// Linear memory and everything compiled code reads its world from; the interpreter uses
    /// the same memory, so every engine follows the runtime's memory rules.
    vmctx: Box<VmCtx>,
    linker: Linker,
    backend: Backend,
    load_time: Duration,
    calls: u64,
    interrupt: Arc<AtomicU32>,
    /// `Config::profile`: the counters and the sampler.
    profiling: Option<crate::profile::Profiling>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("module", &self.module.name)
            .field("engine", &self.config.engine)
            .field("functions", &self.module.funcs.len())
            .finish()
    }
}

// SAFETY: the raw pointers inside (`VmCtx`, the JIT's code table) point only into memory the
// instance owns; nothing is shared with another thread except during a call, when the calling
// thread waits for the one running the code.
unsafe impl Send for Instance {}

impl Instance {
    /// Loads `.sil` text (`name` is used for diagnostics and as the default module name).
    pub fn from_text(
        config: Config,
        src: &str,
        name: &str,
        linker: Linker,
    ) -> Result<Instance, LoadError> {
        let m = bytecode::parse(src, name).map_err(LoadError::Invalid)?;
        Instance::new(config, m, linker)
    }

    /// Loads a `.silc` binary.
    pub fn from_binary(
        config: Config,
        bytes: &[u8],
        linker: Linker,
    ) -> Result<Instance, LoadError> {
        let m = bytecode::decode(bytes)?;
        Instance::new(config, m, linker)
    }

    /// Verifies `module` and prepares it on the configured engine.
    pub fn new(config: Config, module: Module, linker: Linker) -> Result<Instance, LoadError> {
        bytecode::verify(&module).map_err(LoadError::Invalid)?;
        let module = Arc::new(module);
        let mut inst = Instance {
            state: Box::new(HostState {
                io: Io::new(config.output),
                hosts: Vec::new(),
                extern_arity: Vec::new(),
                host_panicked: false,
                native: None,
                module: Some(module.clone()),
                compile_error: None,
            }),
            vmctx: Box::new(VmCtx::empty()),
            config,
            module,
            linker,
            backend: Backend::Interp {
                prog: Program::default(),
                vm: Vm::new(),
            },
            load_time: Duration::ZERO,
            calls: 0,
            interrupt: Arc::new(AtomicU32::new(0)),
            profiling: None,
        };
        inst.link_hosts()?;
        let start = Instant::now();
        let mem = &inst.module.memory;
        // SAFETY: `vmctx` is a fresh context that owns no memory yet.
        if !unsafe { runtime::mem::vsp_mem_init(&mut *inst.vmctx, mem.min_pages, mem.max_pages) } {
            return Err(LoadError::Memory(mem.min_pages));
        }
        inst.vmctx.interrupt = inst.interrupt.as_ptr();
        inst.vmctx.out = inst.state.io.out_ptr();
        write_data(&mut inst.vmctx, &inst.module.data);
        let opts = DecodeOptions {
            interrupts: inst.config.interruptible,
            loop_heads: inst.config.engine == EngineKind::Tiered,
            profile: inst.config.profile,
        };
        let mut observe = inst.config.observe(&inst.module);
        if inst.config.engine != EngineKind::Interp {
            observe.open()?;
        }
        if inst.config.profile {
            let p = crate::profile::Profiling::start(&inst.module);
            observe.profile = Some(p.counters.for_native());
            observe.code_map = Some(p.code.clone());
            inst.profiling = Some(p);
        }
        let counts = inst.profiling.as_ref().map(|p| p.counters.clone());
        let decode = |m: &Module| {
            Program::decode_with(m, opts)
                .map(|mut p| {
                    p.counts = counts.clone();
                    p
                })
                .map_err(LoadError::Internal)
        };
        inst.backend = match inst.config.engine {
            EngineKind::Interp => Backend::Interp {
                prog: decode(&inst.module)?,
                vm: Vm::new(),
            },
            EngineKind::Jit => {
                let mut code = NativeCode::new(
                    &inst.module,
                    inst.config.opt_level,
                    inst.config.interruptible,
                    false,
                    observe,
                )?;
                code.configure(&inst.config)
                    .map_err(|err| LoadError::Cache {
                        dir: inst
                            .config
                            .cache_dir
                            .as_ref()
                            .map_or_else(String::new, |d| d.display().to_string()),
                        err,
                    })?;
                if inst.config.eager {
                    let all: Vec<usize> = (0..inst.module.funcs.len()).collect();
                    for i in all {
                        code.ensure(&inst.module, i)?;
                    }
                }
                code.table.install(&mut inst.vmctx);
                let code: SharedCode = Arc::new(Mutex::new(Some(code)));
                inst.state.native = Some(code.clone());
                Backend::Native {
                    code,
                    stack: inst.native_stack()?,
                }
            }
            EngineKind::Tiered => {
                let prog = decode(&inst.module)?;
                let code: SharedCode = Arc::new(Mutex::new(None));
                inst.state.native = Some(code.clone());
                if let Some(dir) = &inst.config.cache_dir {
                    // Fail at load, as the JIT does, rather than at the first tier-up.
                    std::fs::create_dir_all(dir).map_err(|err| LoadError::Cache {
                        dir: dir.display().to_string(),
                        err,
                    })?;
                }
                let tier = Tiering::new(inst.module.clone(), &prog, code, &inst.config, observe);
                tier.shared.table.install(&mut inst.vmctx);
                Backend::Tiered {
                    prog,
                    vm: Vm::new(),
                    tier,
                    stack: inst.native_stack()?,
                }
            }
        };
        inst.load_time = start.elapsed();
        Ok(inst)
    }

    fn native_stack(&self) -> Result<NativeStack, LoadError> {
        NativeStack::new(self.config.stack_size).ok_or_else(|| {
            LoadError::Internal(format!(
                "cannot map a {} byte native stack",
                self.config.stack_size
            ))
        })
    }

    /// Wraps the linker's typed host functions as slot functions, in extern order.
    fn link_hosts(&mut self) -> Result<(), LoadError> {
        let mut hosts: Vec<HostFn> = Vec::new();
        for e in &self.module.externs {
            let Some(f) = self.linker.funcs.remove(&e.name) else {
                return Err(LoadError::MissingHost(e.name.clone()));
            };
            hosts.push(slot_host(e, f));
        }
        self.state.extern_arity = self.module.externs.iter().map(|e| e.params.len()).collect();
        self.state.hosts = hosts;
        Ok(())
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Calls function `name` (any function of the module; `export` only matters to C).
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Option<Value>, CallError> {
        let id = self
            .module
            .find_func(name)
            .ok_or_else(|| CallError::NoSuchFunction(name.to_string()))?;
        let f = self.module.func(id);
        let params = f.param_types();
        if params.len() != args.len() {
            return Err(CallError::Arity {
                func: name.to_string(),
                expected: params.len(),
                given: args.len(),
            });
        }
        for (i, (a, &t)) in args.iter().zip(&params).enumerate() {
            if a.ty() != t {
                return Err(CallError::ArgType {
                    func: name.to_string(),
                    index: i + 1,
                    expected: t,
                    given: a.ty(),
                });
            }
        }
        let ret = f.ret;
        let slots: Vec<u64> = args.iter().map(|a| a.to_slot()).collect();
        match self.call_index(id.0 as usize, &slots)? {
            Completion::Return(v) => Ok(ret.map(|t| Value::from_slot(t, v))),
            Completion::Exit(status) => Err(CallError::Exit(status)),
        }
    }

    /// Calls function `index` with raw slots (one per parameter, already typed). Output is
    /// flushed when the call ends, however it ends.
    pub fn call_index(&mut self, index: usize, args: &[u64]) -> Result<Completion, CallError> {
        if index >= self.module.funcs.len() {
            return Err(CallError::NoSuchFunction(format!("#{index}")));
        }
        self.calls += 1;
        self.state.host_panicked = false;
        self.state.compile_error = None;
        self.state.io.mark_line_start();
        self.interrupt.store(0, Ordering::Relaxed);
        self.vmctx.reset_trap();
        self.vmctx.host = &mut *self.state as *mut HostState as *mut std::ffi::c_void;
        let env = interp::Env {
            ctx: &mut *self.vmctx,
            state: &mut *self.state,
            interrupt: Some(&*self.interrupt),
        };
        let result = match &mut self.backend {
            Backend::Interp { prog, vm } => vm.run(prog, env, index, args),
            Backend::Native { code, stack } => {
                let entry = {
                    let mut guard = code.lock().unwrap_or_else(|e| e.into_inner());
                    let code = guard.as_mut().expect("the JIT creates its code at load");
                    // Lazy compilation: the function and what it reaches directly, on first call.
                    match code.host_entry(&self.module, index) {
                        Ok(t) => t,
                        Err(e) => {
                            self.state.io.out().flush();
                            return Err(CallError::Compile(e.to_string()));
                        }
                    }
                };
                native_call(&mut self.vmctx, entry, args, stack, &self.module)
            }
            Backend::Tiered {
                prog,
                vm,
                tier,
                stack,
            } => {
                tier.call_started();
                let entry = tier.entry_for_host_call(index);
                if !entry.is_null() {
                    native_call(&mut self.vmctx, entry, args, stack, &self.module)
                } else {
                    let ctx: *mut VmCtx = &mut *self.vmctx;
                    tier.with_hooks(|hooks| {
                        // SAFETY: the closure does not unwind (the interpreter does not panic on
                        // verified code; native code it calls never unwinds, see
                        // `NativeStack::run`). `ctx` is the instance's context, exclusively
                        // ours during the call.
                        unsafe {
                            stack.run(|limit| {
                                (*ctx).stack_limit = limit;
                                vm.run_tiered(prog, env, hooks, index, args)
                            })
                        }
                    })
                }
            }
        };
        self.state.io.out().flush();
        if self.vmctx.trap == TRAP_COMPILE_ERROR {
            let why = self.state.compile_error.take().unwrap_or_default();
            return Err(CallError::Compile(why));
        }
        result.map_err(CallError::Trap)
    }

    /// A handle that stops running code from another thread (with `Config::interruptible`).
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            flag: self.interrupt.clone(),
        }
    }

    /// Everything the program printed since the last call (with `Config::capture_output`).
    pub fn take_output(&mut self) -> Vec<u8> {
        self.state.io.take_captured()
    }

    /// Replaces the byte source `getc` reads (standard input by default).
    pub fn set_stdin(&mut self, r: impl std::io::Read + Send + 'static) {
        self.state.io.set_stdin(r);
    }

    /// The module's linear memory.
    pub fn memory(&self) -> &[u8] {
        // SAFETY: `mem_base`/`mem_size` describe the allocation the context owns; no call is
        // running (that would need `&mut self`), so nothing changes it while borrowed.
        unsafe { std::slice::from_raw_parts(self.vmctx.mem_base, self.vmctx.mem_size as usize) }
    }

    pub fn memory_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `memory`, and `&mut self` makes the borrow exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.vmctx.mem_base, self.vmctx.mem_size as usize) }
    }

    /// Adds or replaces module items given as `.sil` text (functions, externs, data, memory).
    /// The whole resulting module is verified first: on any error nothing changes. Replaced
    /// functions keep their slot in the table, so callers compiled earlier see the new body.
    /// Returns the names of the functions defined.
    pub fn define(&mut self, src: &str) -> Result<Vec<String>, LoadError> {
        let new = bytecode::parse_into(src, (*self.module).clone()).map_err(LoadError::Invalid)?;
        bytecode::verify(&new).map_err(LoadError::Invalid)?;
        let old = std::mem::replace(&mut self.module, Arc::new(new));
        let changed: Vec<usize> = (0..self.module.funcs.len())
            .filter(|&i| old.funcs.get(i) != Some(&self.module.funcs[i]))
            .collect();
        // Callers embed their callees' signatures: recompile them along with what changed.
        let mut which = changed.clone();
        for i in direct_callers(&self.module, &changed) {
            if !which.contains(&i) {
                which.push(i);
            }
        }
        let hosts_changed = old.externs != self.module.externs;
        if let Err(e) = self.apply(&old, &which, hosts_changed) {
            self.module = old;
            self.state.module = Some(self.module.clone());
            return Err(e);
        }
        Ok(changed
            .iter()
            .map(|&i| self.module.funcs[i].name.clone())
            .collect())
    }

    /// Like `define`, with host functions for the `extern func` items `src` adds (externs the
    /// module already has keep theirs). Host functions the text does not use are kept for
    /// later definitions.
    pub fn define_with(&mut self, src: &str, linker: Linker) -> Result<Vec<String>, LoadError> {
        self.linker.funcs.extend(linker.funcs);
        self.define(src)
    }

    /// The functions that call `name` directly (`call` or `tail`), in module order: the ones
    /// that stop verifying if `name` changes its signature, so `define` refuses such a change
    /// unless they change with it. Empty if there is no such function.
    pub fn callers(&self, name: &str) -> Vec<String> {
        let Some(id) = self.module.find_func(name) else {
            return Vec::new();
        };
        direct_callers(&self.module, &[id.0 as usize])
            .into_iter()
            .map(|i| self.module.funcs[i].name.clone())
            .collect()
    }

    /// True when the last call wrote output that does not end with a newline. A host that
    /// shares the terminal with the program (`OutputMode::Stdout`, as a REPL does) checks it
    /// after a call to start its own text on a fresh line.
    pub fn output_line_open(&self) -> bool {
        self.state.io.line_open()
    }

    fn apply(
        &mut self,
        old: &Module,
        which: &[usize],
        hosts_changed: bool,
    ) -> Result<(), LoadError> {
        if hosts_changed {
            // Host functions already moved into closures stay (externs keep their index when
            // redefined); new externs take theirs from the linker. Check everything before
            // moving anything, so a refusal leaves the hosts as they were.
            // (Truncating drops hosts a define that failed later on may have added.)
            self.state.hosts.truncate(old.externs.len());
            let have = self.state.hosts.len();
            let added = self.module.externs.get(have..).unwrap_or_default();
            if let Some(e) = added
                .iter()
                .find(|e| !self.linker.funcs.contains_key(&e.name))
            {
                return Err(LoadError::MissingHost(e.name.clone()));
            }
            for e in added {
                if let Some(f) = self.linker.funcs.remove(&e.name) {
                    self.state.hosts.push(slot_host(e, f));
                }
            }
            self.state.extern_arity = self.module.externs.iter().map(|e| e.params.len()).collect();
        }
        let new_data: Vec<bytecode::DataSegment> =
            self.module.data[old.data.len().min(self.module.data.len())..].to_vec();
        let start = Instant::now();
        self.state.module = Some(self.module.clone());
        // A profile covers the module as loaded: redefined code is not counted.
        let opts = DecodeOptions {
            interrupts: self.config.interruptible,
            loop_heads: self.config.engine == EngineKind::Tiered,
            profile: false,
        };
        match &mut self.backend {
            Backend::Interp { prog, .. } => {
                *prog = Program::decode_with(&self.module, opts).map_err(LoadError::Internal)?;
            }
            Backend::Native { code, .. } => {
                let mut guard = code.lock().unwrap_or_else(|e| e.into_inner());
                let code = guard.as_mut().expect("the JIT creates its code at load");
                code.recompile(&self.module, which)?;
                code.table.install(&mut self.vmctx);
            }
            Backend::Tiered { prog, tier, .. } => {
                let new_prog =
                    Program::decode_with(&self.module, opts).map_err(LoadError::Internal)?;
                // Nothing may compile against the old module while it is replaced.
                tier.quiesce();
                let code = tier.shared.code.clone();
                if let Some(c) = code.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                    // Changed functions (and their callers) lose their code: they start cold.
                    c.recompile(&self.module, which)?;
                }
                let mut new_tier = Tiering::new(
                    self.module.clone(),
                    &new_prog,
                    code,
                    &self.config,
                    self.config.observe(&self.module),
                );
                new_tier.inherit(tier);
                *tier = new_tier;
                tier.shared.table.install(&mut self.vmctx);
                *prog = new_prog;
            }
        }
        self.vmctx.max_pages = self.module.memory.max_pages;
        let have = self.vmctx.mem_size / bytecode::PAGE_SIZE;
        if self.module.memory.min_pages > have {
            // SAFETY: the context owns its memory; no call is running.
            unsafe {
                runtime::mem::vsp_mem_grow(
                    &mut *self.vmctx,
                    (self.module.memory.min_pages - have) as i64,
                )
            };
        }
        write_data(&mut self.vmctx, &new_data);
        self.load_time += start.elapsed();
        Ok(())
    }

    /// The Cranelift IR of a function (compiled on the side if the engine has none yet).
    pub fn clif(&mut self, name: &str) -> Option<String> {
        self.listing(name, NativeCode::clif)
    }

    /// The machine code function `name` compiles to, with the `.sil` line of each block (the
    /// REPL's `:dis`); `None` if there is no such function or it cannot be compiled.
    pub fn asm(&mut self, name: &str) -> Option<String> {
        self.listing(name, NativeCode::asm)
    }

    /// A listing of function `name` by the JIT's own code, or by code made on the side when
    /// the engine has none (the interpreter, the tiered engine before anything is hot).
    fn listing(
        &mut self,
        name: &str,
        list: fn(&mut NativeCode, &Module, usize) -> Result<String, codegen::CodegenError>,
    ) -> Option<String> {
        let id = self.module.find_func(name)?;
        if let Backend::Native { code, .. } = &self.backend {
            let mut guard = code.lock().unwrap_or_else(|e| e.into_inner());
            return list(guard.as_mut()?, &self.module, id.0 as usize).ok();
        }
        let mut code = NativeCode::new(
            &self.module,
            self.config.opt_level,
            false,
            false,
            Observe::default(),
        )
        .ok()?;
        list(&mut code, &self.module, id.0 as usize).ok()
    }

    pub fn stats(&self) -> Stats {
        let (code, tier) = match &self.backend {
            Backend::Interp { .. } => (None, None),
            Backend::Native { code, .. } => (Some(code), None),
            Backend::Tiered { tier, .. } => (Some(&tier.shared.code), Some(tier.stats())),
        };
        let (functions, cache, wall) = code.map_or((Vec::new(), None, Duration::ZERO), |code| {
            let guard = code.lock().unwrap_or_else(|e| e.into_inner());
            guard
                .as_ref()
                .map_or((Vec::new(), None, Duration::ZERO), |c| {
                    (
                        c.stats.clone(),
                        c.cache.as_ref().map(|k| k.stats()),
                        c.compile_wall,
                    )
                })
        });
        Stats {
            engine: self.config.engine.name(),
            tier,
            cache,
            compile_time: functions.iter().map(|f| f.compile_time).sum(),
            compile_wall_time: wall,
            code_size: functions.iter().map(|f| f.code_size).sum(),
            functions,
            load_time: self.load_time,
            calls: self.calls,
        }
    }

    /// The profile so far (`Config::profile`; `None` without it): calls and loop-header
    /// arrivals per function and loop in each tier, and CPU-time samples in native code.
    pub fn profile(&self) -> Option<crate::profile::Profile> {
        let p = self.profiling.as_ref()?;
        Some(p.report(&self.module, self.config.engine.name()))
    }

    /// Tiered engine: waits until the background compiler has finished what was asked of it.
    pub fn wait_for_compiles(&mut self) {
        if let Backend::Tiered { tier, .. } = &mut self.backend {
            tier.quiesce();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: the context owns its memory and nothing runs any more.
        unsafe { runtime::mem::vsp_mem_free(&mut *self.vmctx) };
    }
}

/// Indices of the functions of `m` that call (or tail-call) one of `targets` directly.
fn direct_callers(m: &Module, targets: &[usize]) -> Vec<usize> {
    (0..m.funcs.len())
        .filter(|&i| {
            m.funcs[i]
                .direct_callees()
                .any(|c| targets.contains(&(c.0 as usize)))
        })
        .collect()
}

/// Wraps a typed host function as the slot function engines call for extern `e`.
fn slot_host(e: &bytecode::Extern, mut f: HostFunc) -> HostFn {
    let (params, ret) = (e.params.clone(), e.ret);
    Box::new(move |slots: &[u64]| {
        let args: Vec<Value> = params
            .iter()
            .zip(slots)
            .map(|(&t, &s)| Value::from_slot(t, s))
            .collect();
        match (f(&args)?, ret) {
            (Some(v), Some(t)) if v.ty() == t => Ok(v.to_slot()),
            (None, None) => Ok(0),
            // A host function returning the wrong type is the host's bug; the program
            // cannot continue with a value of the wrong type.
            _ => Err(Trap::new(TrapCode::Unreachable)),
        }
    })
}

/// Writes data segments into memory (verified to fit the initial memory).
fn write_data(vmctx: &mut VmCtx, data: &[bytecode::DataSegment]) {
    // SAFETY: the context owns `mem_size` bytes at `mem_base`; no call is running.
    let mem = unsafe { std::slice::from_raw_parts_mut(vmctx.mem_base, vmctx.mem_size as usize) };
    for seg in data {
        let start = seg.offset as usize;
        if let Some(dst) = mem.get_mut(start..start + seg.bytes.len()) {
            dst.copy_from_slice(&seg.bytes);
        }
    }
}

/// Runs native code through array trampoline `entry` on the instance's native stack and turns
/// the VM context's trap word into the result.
fn native_call(
    vmctx: &mut VmCtx,
    entry: *const u8,
    args: &[u64],
    stack: &mut NativeStack,
    module: &Module,
) -> Result<Completion, Trap> {
    if entry.is_null() {
        return Err(Trap::new(TrapCode::InvalidFunctionHandle));
    }
    let mut ret = 0u64;
    // SAFETY: `entry` is a finalized array trampoline, whose type is exactly `ArrayFn`
    // (codegen::array_signature, platform C convention).
    let f = unsafe { std::mem::transmute::<*const u8, ArrayFn>(entry) };
    let vm: *mut VmCtx = vmctx;
    // SAFETY: the closure does not unwind (see `NativeStack::run`). Inside it, `vm` is the
    // instance's context, exclusively ours during the call, and the trampoline reads one slot
    // per parameter from `args` (the caller checked the count), writes at most one slot to
    // `ret`, and touches only memory the context describes: verified bytecode cannot make it
    // do otherwise.
    unsafe {
        stack.run(|limit| {
            (*vm).stack_limit = limit;
            f(vm, args.as_ptr(), &mut ret);
        })
    };
    match vmctx.trap {
        0 => Ok(Completion::Return(ret)),
        TRAP_EXIT => Ok(Completion::Exit(vmctx.exit_status)),
        t => {
            let code = TrapCode::from_u32(t).unwrap_or(TrapCode::Unreachable);
            let backtrace = vmctx
                .frames()
                .iter()
                .map(|f| FrameInfo {
                    func: module
                        .funcs
                        .get(f.func as usize)
                        .map_or_else(|| "?".to_string(), |x| x.name.clone()),
                    line: f.line,
                })
                .collect();
            let omitted_frames = vmctx.bt_total.saturating_sub(vmctx.bt_len as u64);
            Err(Trap {
                code,
                backtrace,
                omitted_frames,
            })
        }
    }
}
