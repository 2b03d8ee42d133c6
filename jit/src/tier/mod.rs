//! The tiered engine's glue: thresholds, the background compiler, what it publishes for the
//! interpreter to find, and the statistics of it all.
//!
//! The interpreter counts calls and loop-header arrivals (`interp::TierHooks`). A function that
//! crosses its threshold is compiled on a background thread and published in the module's
//! `CodeTable`: from then on every call, from either tier, runs native code. A loop that crosses
//! its threshold gets an on-stack-replacement entry: native code that takes the interpreter's
//! frame at the loop header and runs the rest of that activation. Native code never calls back
//! into the interpreter: a call from native code to a function without code compiles it on the
//! spot (`vsp_jit_compile`), so traps, `exit` and backtraces unwind out of native code exactly as
//! in the JIT, and the interpreter adds its own frames on top.

mod worker;

use crate::interp::{HotCode, LoopInfo, Program};
use crate::native::{CodeTable, NativeCode, Observe, SharedCode};
use bytecode::Module;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub(crate) use worker::Worker;

/// When code moves to the native tier. Defaults chosen by measurement (see `docs/tiered.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierConfig {
    /// Interpreted calls of a function before it is compiled.
    pub call_threshold: u32,
    /// Arrivals at a loop header (its first entry, then each back-edge) before the loop gets an
    /// on-stack-replacement entry.
    pub loop_threshold: u32,
    /// Compile on the interpreter's thread at the threshold, so runs are reproducible (tests);
    /// otherwise a background thread compiles while the interpreter keeps going.
    pub synchronous: bool,
    /// Functions with more bytecode instructions than this stay interpreted when they get hot
    /// (compile time and memory grow faster than linearly with size).
    pub max_function_size: usize,
    /// Nothing is compiled in the background before the instance's first call has run this
    /// long: a run that ends sooner never pays for starting the compiler (counts that run out
    /// earlier count again). Not in synchronous mode.
    pub startup_delay: Duration,
}

/// The default `startup_delay` in milliseconds (docs/tiered.md says how it was chosen).
pub const STARTUP_DELAY_MS: u64 = 5;

impl Default for TierConfig {
    fn default() -> TierConfig {
        TierConfig {
            call_threshold: 1000,
            loop_threshold: 1000,
            synchronous: false,
            max_function_size: 20_000,
            startup_delay: Duration::from_millis(STARTUP_DELAY_MS),
        }
    }
}

/// What the tiered engine did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierStats {
    /// Functions compiled because they got hot, in order (a loop's OSR compiles its function
    /// too), with the compile time.
    pub tiered_up: Vec<(String, Duration)>,
    /// Functions compiled because native code called them before they got hot.
    pub compiled_on_call: Vec<String>,
    /// OSR entries compiled: function and `.sil` line of the loop header.
    pub osr_entries: Vec<(String, u32)>,
    /// Code left in the interpreter: function and reason.
    pub fallbacks: Vec<(String, String)>,
    /// Compile time spent off the interpreter's thread (all of it, when not synchronous).
    pub background_compile_time: Duration,
    /// From the first call into the instance to the first native code running, if any ran.
    pub time_to_first_native: Option<Duration>,
}

/// What is known of each function's native code.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FuncState {
    Cold,
    Requested,
    Compiled,
    /// It will not be compiled when hot (too large, or the compiler failed); why.
    Refused(String),
}

/// Shared by the interpreter's thread and the background compiler.
pub(crate) struct Shared {
    pub code: SharedCode,
    pub table: Arc<CodeTable>,
    sigs: codegen::SigInterner,
    pub module: Arc<Module>,
    loops: Vec<LoopInfo>,
    /// The OSR entry of each loop (array trampoline taking the frame), null until compiled.
    pub osr: Box<[AtomicPtr<u8>]>,
    /// The instance's configuration (thresholds, optimisation level, interrupts, cache).
    config: crate::Config,
    /// Profiler files to tell about code compiled here.
    observe: Observe,
    /// The `NativeCode` generation this module's code belongs to (redefinitions count up).
    generation: u32,
    /// Set when the tiering that owns this is dropped or replaced: queued jobs are skipped.
    closed: AtomicBool,
    book: Mutex<Book>,
}

/// Per-function states, which loops were asked for, and the statistics, behind one lock.
struct Book {
    funcs: Vec<FuncState>,
    loops_requested: Vec<bool>,
    stats: TierStats,
}

impl Shared {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn code(&self) -> MutexGuard<'_, Option<NativeCode>> {
        self.code.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Compiles what `hot` names (on whichever thread calls this) and publishes it. Failures
    /// leave the code interpreted and are recorded with their reason.
    fn compile(&self, hot: HotCode) -> Duration {
        let start = Instant::now();
        if self.closed.load(Ordering::Relaxed) {
            return start.elapsed();
        }
        let mut guard = self.code();
        if guard.is_none() {
            let created = NativeCode::for_tiering(
                &self.module,
                self.config.opt_level,
                self.config.interruptible,
                self.table.clone(),
                self.sigs.clone(),
                self.observe.clone(),
            )
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.configure(&self.config)
                    .map(|()| c)
                    .map_err(|e| format!("cannot use the code cache: {e}"))
            });
            match created {
                Ok(c) => *guard = Some(c),
                Err(e) => {
                    let why = format!("the JIT could not start: {e}");
                    let mut book = self.book();
                    for f in &mut book.funcs {
                        *f = FuncState::Refused(why.clone());
                    }
                    book.stats.fallbacks.push(("*".into(), why));
                    return start.elapsed();
                }
            }
        }
        let code = guard.as_mut().expect("created above");
        if code.generation() != self.generation {
            // A redefinition replaced this module while the job waited.
            return start.elapsed();
        }
        let (func, osr) = match hot {
            HotCode::Func(f) => (f as usize, None),
            HotCode::Loop(id) => {
                let l = self.loops[id as usize];
                (l.func as usize, Some((id as usize, l)))
            }
        };
        let name = &self.module.funcs[func].name;
        // The function itself (an OSR'd loop's function is hot too: its next call runs native).
        let state = self.book().funcs[func].clone();
        if matches!(state, FuncState::Cold | FuncState::Requested) {
            let t = Instant::now();
            let size = self.module.funcs[func].body.len();
            let result = if size > self.config.tier.max_function_size {
                Err(format!(
                    "too large to compile when hot ({size} instructions; the limit is {})",
                    self.config.tier.max_function_size
                ))
            } else if code.is_compiled(func) {
                Ok(())
            } else {
                code.ensure(&self.module, func).map_err(|e| e.to_string())
            };
            let mut book = self.book();
            match result {
                Ok(()) => {
                    book.funcs[func] = FuncState::Compiled;
                    book.stats.tiered_up.push((name.clone(), t.elapsed()));
                }
                Err(why) => {
                    book.funcs[func] = FuncState::Refused(why.clone());
                    book.stats.fallbacks.push((name.clone(), why));
                }
            }
        }
        let compiled = matches!(self.book().funcs[func], FuncState::Compiled);
        if let Some((id, l)) = osr
            && compiled
        {
            match code.compile_osr(&self.module, func, l.header) {
                Ok(entry) => {
                    self.osr[id].store(entry as *mut u8, Ordering::Release);
                    self.book().stats.osr_entries.push((name.clone(), l.line));
                }
                Err(e) => self
                    .book()
                    .stats
                    .fallbacks
                    .push((name.clone(), format!("OSR at line {}: {e}", l.line))),
            }
        }
        start.elapsed()
    }

    /// Marks a function as requested; false if it already was (or will never be compiled).
    fn claim(&self, hot: HotCode) -> bool {
        let mut book = self.book();
        match hot {
            HotCode::Func(f) => {
                let s = &mut book.funcs[f as usize];
                if *s == FuncState::Cold {
                    *s = FuncState::Requested;
                    true
                } else {
                    false
                }
            }
            HotCode::Loop(id) => {
                let f = self.loops[id as usize].func as usize;
                !matches!(book.funcs[f], FuncState::Refused(_))
                    && !std::mem::replace(&mut book.loops_requested[id as usize], true)
            }
        }
    }
}

impl Drop for Tiering {
    fn drop(&mut self) {
        // The compile thread may outlive the instance by one job; the rest of its queue is
        // for code nobody will run.
        self.shared.closed.store(true, Ordering::Relaxed);
    }
}

/// Asks for native code for `hot`: compiles it now (synchronous mode, or if no thread can be
/// started) or queues it for the background compiler. Code already asked for is not asked again.
/// `Some(n)` while the run is younger than the startup delay: nothing is asked for, count `n`
/// more first.
fn request(
    shared: &Arc<Shared>,
    worker: &mut Option<Worker>,
    started: Option<Instant>,
    hot: HotCode,
) -> Option<u32> {
    let cfg = &shared.config.tier;
    if !cfg.synchronous
        && worker.is_none()
        && started.is_some_and(|t| t.elapsed() < cfg.startup_delay)
    {
        return Some(
            match hot {
                HotCode::Func(_) => cfg.call_threshold,
                HotCode::Loop(_) => cfg.loop_threshold,
            }
            .max(1),
        );
    }
    if !shared.claim(hot) {
        return None;
    }
    let synchronous = cfg.synchronous;
    if worker.is_none() && !synchronous {
        *worker = Worker::spawn(shared.clone());
    }
    match worker {
        Some(w) if !synchronous => w.send(hot, shared),
        _ => {
            shared.compile(hot);
        }
    }
    None
}

/// The tiered engine's state in an instance: counters (the interpreter's alone) and what it
/// shares with the background compiler.
pub(crate) struct Tiering {
    pub shared: Arc<Shared>,
    call_counts: Vec<u32>,
    loop_counts: Vec<u32>,
    worker: Option<Worker>,
    /// When native code first ran.
    first_native: Option<Instant>,
    /// When the first call into the instance started (for `time_to_first_native`).
    first_call: Option<Instant>,
}

impl Tiering {
    /// Tiering for `module`, decoded as `prog` (with loop heads); `code` is the instance's native
    /// code (kept across redefinitions: functions compiled and unchanged stay compiled).
    // Each argument is a separate setting of the instance; a struct for them would only move
    // the list.
    pub fn new(
        module: Arc<Module>,
        prog: &Program,
        code: SharedCode,
        config: &crate::Config,
        observe: Observe,
    ) -> Tiering {
        let cfg = config.tier;
        let (table, sigs, generation) = {
            let guard = code.lock().unwrap_or_else(|e| e.into_inner());
            match guard.as_ref() {
                Some(c) => (c.table.clone(), c.env_sigs(), c.generation()),
                None => {
                    let mut sigs = codegen::SigInterner::default();
                    (Arc::new(CodeTable::new(&module, &mut sigs)), sigs, 0)
                }
            }
        };
        let funcs = (0..module.funcs.len())
            .map(|i| {
                if table.trampoline(i).is_null() {
                    FuncState::Cold
                } else {
                    FuncState::Compiled
                }
            })
            .collect();
        let n_loops = prog.loops.len();
        Tiering {
            call_counts: vec![cfg.call_threshold.max(1); module.funcs.len()],
            loop_counts: vec![cfg.loop_threshold.max(1); n_loops],
            shared: Arc::new(Shared {
                code,
                table,
                sigs,
                loops: prog.loops.clone(),
                osr: (0..n_loops)
                    .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                    .collect(),
                module,
                config: config.clone(),
                observe,
                generation,
                closed: AtomicBool::new(false),
                book: Mutex::new(Book {
                    funcs,
                    loops_requested: vec![false; n_loops],
                    stats: TierStats::default(),
                }),
            }),
            worker: None,
            first_native: None,
            first_call: None,
        }
    }

    /// Notes the start of a call into the instance.
    pub fn call_started(&mut self) {
        self.first_call.get_or_insert_with(Instant::now);
    }

    /// Runs `f` with the interpreter's hooks.
    pub fn with_hooks<R>(&mut self, f: impl FnOnce(&mut crate::interp::TierHooks) -> R) -> R {
        let shared = self.shared.clone();
        let worker = &mut self.worker;
        let started = self.first_call;
        let mut request = |hot: HotCode| request(&shared, worker, started, hot);
        let mut hooks = crate::interp::TierHooks {
            entries: &shared.table.trampolines,
            osr: &shared.osr,
            call_counts: &mut self.call_counts,
            loop_counts: &mut self.loop_counts,
            request: &mut request,
            first_native: &mut self.first_native,
        };
        f(&mut hooks)
    }

    /// The function's array trampoline if it has native code, for a call from the host
    /// (counted like any other call; null: interpret it).
    pub fn entry_for_host_call(&mut self, func: usize) -> *const u8 {
        let mut e = self.shared.table.trampoline(func);
        if e.is_null() {
            let c = &mut self.call_counts[func];
            *c = c.wrapping_sub(1);
            if *c == 0 {
                let hot = HotCode::Func(func as u32);
                if let Some(again) = request(&self.shared, &mut self.worker, self.first_call, hot) {
                    *c = again;
                }
                e = self.shared.table.trampoline(func);
            }
        }
        if !e.is_null() {
            self.first_native.get_or_insert_with(Instant::now);
        }
        e
    }

    pub fn stats(&self) -> TierStats {
        let mut s = self.shared.book().stats.clone();
        s.background_compile_time += self.worker.as_ref().map_or(Duration::ZERO, |w| w.busy());
        if let (Some(start), Some(native)) = (self.first_call, self.first_native) {
            s.time_to_first_native = Some(native.saturating_duration_since(start));
        }
        if let Some(code) = self.shared.code().as_ref() {
            s.compiled_on_call = code
                .stats
                .iter()
                .filter(|f| f.compiles > 0 && !s.tiered_up.iter().any(|(n, _)| *n == f.name))
                .map(|f| f.name.clone())
                .collect();
        }
        s
    }

    /// Keeps the statistics (and the start time) of the tiering this one replaces, after a
    /// redefinition: they describe the instance, not one version of its module.
    pub fn inherit(&mut self, old: &Tiering) {
        self.shared.book().stats = old.stats();
        self.first_call = old.first_call;
        self.first_native = old.first_native;
    }

    /// Waits until the background compiler has nothing left to do (tests, and before a
    /// redefinition replaces the module).
    pub fn quiesce(&mut self) {
        if let Some(w) = &self.worker {
            w.wait_idle();
        }
    }
}
