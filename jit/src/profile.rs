//! The built-in profiler (`Config::profile`, `vsp run --profile`): counts calls and loop-header
//! arrivals in each tier (the interpreter's `Op::Count`, counters compiled into native code),
//! samples where the time goes (a SIGPROF timer recording the interrupted instruction, matched
//! against the native code's address ranges), and reports the hottest functions and loops.

use bytecode::Module;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The counters of one module: slots `0..len` count what the interpreter runs, slots
/// `len..2 * len` what native code runs (`codegen::ProfileCounters` numbers them).
#[derive(Debug)]
pub(crate) struct Counters {
    slots: Box<[AtomicU64]>,
    len: usize,
    funcs: usize,
}

impl Counters {
    pub fn new(m: &Module) -> Counters {
        let loops: usize = m.funcs.iter().map(|f| f.loop_headers().len()).sum();
        let len = m.funcs.len() + loops;
        Counters {
            slots: (0..2 * len).map(|_| AtomicU64::new(0)).collect(),
            len,
            funcs: m.funcs.len(),
        }
    }

    /// The interpreter counts through here (the only writer on its thread, so no atomic add).
    pub fn bump_interp(&self, id: usize) {
        if let Some(c) = self.slots.get(id) {
            c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
    }

    /// What native code is told: where its half of the slots is.
    pub fn for_native(&self) -> codegen::ProfileCounters {
        codegen::ProfileCounters {
            base: self.slots[self.len..].as_ptr() as u64,
            funcs: self.funcs as u32,
            len: self.len as u32,
        }
    }

    fn get(&self, slot: usize) -> (u64, u64) {
        let at = |i: usize| self.slots.get(i).map_or(0, |c| c.load(Ordering::Relaxed));
        (at(slot), at(self.len + slot))
    }
}

/// What a piece of native code is, for attributing samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeKind {
    /// A function's body or trampoline.
    Func(u32),
    /// An OSR entry (or its trampoline) of function `func`, at the loop header instruction
    /// `header`.
    Osr { func: u32, header: u32 },
}

/// Native code address ranges, as compiled (shared with the native tier).
pub(crate) type CodeMap = Arc<Mutex<Vec<(u64, u64, CodeKind)>>>;

/// Samples recorded by the SIGPROF handler: the interrupted instruction's address.
const CAPACITY: usize = 1 << 18;
static SAMPLES: [AtomicU64; CAPACITY] = [const { AtomicU64::new(0) }; CAPACITY];
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// One sampler per process at a time.
static SAMPLING: AtomicBool = AtomicBool::new(false);

/// How often the sampler fires, in CPU time of the process.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(1);

extern "C" fn on_sigprof(_sig: libc::c_int, _info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // Only atomics and a read of the interrupted context: async-signal-safe.
    let pc = interrupted_pc(uc);
    let i = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Some(s) = SAMPLES.get(i) {
        s.store(pc, Ordering::Relaxed);
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn interrupted_pc(uc: *mut libc::c_void) -> u64 {
    // SAFETY: the kernel passes a valid `ucontext_t` to an SA_SIGINFO handler.
    unsafe { (*(uc as *const libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize] as u64 }
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
fn interrupted_pc(uc: *mut libc::c_void) -> u64 {
    // SAFETY: the kernel passes a valid `ucontext_t` to an SA_SIGINFO handler.
    unsafe { (*(uc as *const libc::ucontext_t)).uc_mcontext.pc }
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
fn interrupted_pc(_uc: *mut libc::c_void) -> u64 {
    0
}

/// A running profile: the counters, the code map, and (if this instance got it) the sampler.
#[derive(Debug)]
pub(crate) struct Profiling {
    pub counters: Arc<Counters>,
    pub code: CodeMap,
    sampling: bool,
    /// The process's CPU time when profiling started.
    cpu_start: Duration,
}

/// CPU time the process has used (user and system, every thread).
fn cpu_time() -> Duration {
    // SAFETY: `ru` is a valid, writable rusage.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn itimer(interval: Duration) {
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: interval.as_micros() as libc::suseconds_t,
    };
    let t = libc::itimerval {
        it_interval: tv,
        it_value: tv,
    };
    // SAFETY: a valid itimerval; the old value is not wanted.
    unsafe { libc::setitimer(libc::ITIMER_PROF, &t, std::ptr::null_mut()) };
}

impl Profiling {
    /// Starts profiling `m`: counters, and sampling unless another instance samples already.
    pub fn start(m: &Module) -> Profiling {
        let sampling = SAMPLING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok();
        if sampling {
            NEXT.store(0, Ordering::Relaxed);
            // SAFETY: installs a handler that only touches atomics (see `on_sigprof`); with
            // SA_RESTART, system calls it interrupts are restarted rather than failing.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_sigprof as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(libc::SIGPROF, &sa, std::ptr::null_mut());
            }
            itimer(SAMPLE_INTERVAL);
        }
        Profiling {
            counters: Arc::new(Counters::new(m)),
            code: CodeMap::default(),
            sampling,
            cpu_start: cpu_time(),
        }
    }

    /// The profile so far.
    pub fn report(&self, m: &Module, engine: &str) -> Profile {
        let n = NEXT.load(Ordering::Relaxed);
        let samples: Vec<u64> = if self.sampling {
            SAMPLES[..n.min(CAPACITY)]
                .iter()
                .map(|s| s.load(Ordering::Relaxed))
                .collect()
        } else {
            Vec::new()
        };
        let mut code = self.code.lock().unwrap_or_else(|e| e.into_inner()).clone();
        code.sort_unstable_by_key(|c| c.0);
        let mut func_samples = vec![0u64; m.funcs.len()];
        let mut loop_samples: std::collections::HashMap<(u32, u32), u64> = Default::default();
        let mut elsewhere = 0;
        for pc in &samples {
            let i = code.partition_point(|c| c.0 <= *pc);
            match i.checked_sub(1).map(|i| code[i]) {
                Some((start, size, kind)) if *pc < start + size => match kind {
                    CodeKind::Func(f) => {
                        if let Some(s) = func_samples.get_mut(f as usize) {
                            *s += 1;
                        }
                    }
                    CodeKind::Osr { func, header } => {
                        *loop_samples.entry((func, header)).or_default() += 1;
                    }
                },
                _ => elsewhere += 1,
            }
        }
        let c = &self.counters;
        let mut functions = Vec::new();
        let mut loops = Vec::new();
        let mut slot = m.funcs.len();
        for (i, f) in m.funcs.iter().enumerate() {
            let (interp, native) = c.get(i);
            let osr: u64 = loop_samples
                .iter()
                .filter(|((func, _), _)| *func as usize == i)
                .map(|(_, n)| n)
                .sum();
            functions.push(FuncProfile {
                name: f.name.clone(),
                calls_interp: interp,
                calls_native: native,
                samples: func_samples[i] + osr,
            });
            for h in f.loop_headers() {
                let (interp, native) = c.get(slot);
                slot += 1;
                loops.push(LoopProfile {
                    func: f.name.clone(),
                    line: f.body.get(h as usize).map_or(f.loc.line, |x| x.loc.line),
                    arrivals_interp: interp,
                    arrivals_native: native,
                    osr_samples: loop_samples.get(&(i as u32, h)).copied().unwrap_or(0),
                });
            }
        }
        Profile {
            engine: engine.to_string(),
            sampled: self.sampling,
            interval: SAMPLE_INTERVAL,
            cpu_time: cpu_time().saturating_sub(self.cpu_start),
            samples: samples.len() as u64,
            samples_lost: n.saturating_sub(CAPACITY) as u64,
            samples_elsewhere: elsewhere,
            functions,
            loops,
        }
    }
}

impl Drop for Profiling {
    fn drop(&mut self) {
        if self.sampling {
            itimer(Duration::ZERO);
            // SAFETY: restores the default action for SIGPROF (the timer is already off).
            unsafe { libc::signal(libc::SIGPROF, libc::SIG_DFL) };
            SAMPLING.store(false, Ordering::Release);
        }
    }
}

/// What `--profile` found (`Instance::profile`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub engine: String,
    /// Whether this instance sampled (only one instance per process samples at a time).
    pub sampled: bool,
    /// CPU time between samples, as asked of the kernel (which may round it up to its tick).
    pub interval: Duration,
    /// CPU time the process used while profiling (all threads): what the samples divide up.
    pub cpu_time: Duration,
    pub samples: u64,
    /// Samples beyond the buffer (very long runs): counted, not attributed.
    pub samples_lost: u64,
    /// Samples outside native code: the interpreter, the runtime, the compiler.
    pub samples_elsewhere: u64,
    pub functions: Vec<FuncProfile>,
    pub loops: Vec<LoopProfile>,
}

/// One function: calls in each tier, and samples in its native code (OSR entries included).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuncProfile {
    pub name: String,
    pub calls_interp: u64,
    pub calls_native: u64,
    pub samples: u64,
}

/// One loop (by its header): arrivals at the header in each tier (entries plus back-edges
/// taken), and samples in its OSR entry's code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoopProfile {
    pub func: String,
    /// The `.sil` line of the header instruction.
    pub line: u32,
    pub arrivals_interp: u64,
    pub arrivals_native: u64,
    pub osr_samples: u64,
}
