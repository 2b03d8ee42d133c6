//! Runs one module on several engines and compares what each did: stdout bytes, exit status and
//! trap (SPEC §4), the only things the engines must agree on.

use aot::{Listings, ObjectKind, Target};
use bytecode::Module;
use jit::{Completion, Config, EngineKind, Instance, Linker};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What running `main` did, as a user of `vsp run` or a built executable sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub status: i32,
    /// The trap message (`error: trap: MESSAGE` on stderr), if it trapped.
    pub trap: Option<String>,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let out = String::from_utf8_lossy(&self.stdout);
        let shown: String = out.chars().take(400).collect();
        write!(f, "status {}", self.status)?;
        if let Some(t) = &self.trap {
            write!(f, ", trap `{t}`")?;
        }
        write!(f, ", stdout {} bytes {:?}", self.stdout.len(), shown)
    }
}

/// An engine of the differential runner. Adding one (e.g. `tiered` with low thresholds) is one
/// more variant here and one more arm in `Engine::run`.
///
/// `Interp` and `Jit` run the code `vsp run` runs (no interrupt polls compiled in): a program
/// that outlives the limit there cannot be stopped, so the process aborts (the runner's state
/// file then names the seed). The `Polling` variants compile the polls in, and are stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Interp,
    InterpPolling,
    /// The interpreter (with polls), on the module after a `.silc` encode/decode round trip.
    InterpSilc,
    Jit {
        opt: u8,
    },
    JitPolling {
        opt: u8,
    },
    /// A native executable built with the `aot` crate and the system C compiler, run as a child.
    Aot {
        opt: u8,
    },
    /// The tiered engine, compiling synchronously at the thresholds `calls` and `loops` (with
    /// polls): 1 and 1 send every function and loop through tier-up and OSR at once; 2 and 3
    /// leave the first call interpreted, so stacks mix the two tiers.
    Tiered {
        calls: u32,
        loops: u32,
    },
}

impl Engine {
    pub fn name(self) -> String {
        match self {
            Engine::Interp => "interp".into(),
            Engine::InterpPolling => "interp-poll".into(),
            Engine::InterpSilc => "interp-silc".into(),
            Engine::Jit { opt } => format!("jit-O{opt}"),
            Engine::JitPolling { opt } => format!("jit-O{opt}-poll"),
            Engine::Aot { opt } => format!("aot-O{opt}"),
            Engine::Tiered { calls: 1, loops: 1 } => "tiered1".into(),
            Engine::Tiered { calls, loops } => format!("tiered-{calls}-{loops}"),
        }
    }

    pub fn parse(name: &str) -> Option<Engine> {
        let (base, polling) = match name.strip_suffix("-poll") {
            Some(b) => (b, true),
            None => (name, false),
        };
        let opt = |s: &str| match s {
            "" | "-O2" => Some(2),
            "-O1" => Some(1),
            "-O0" => Some(0),
            _ => None,
        };
        Some(if let Some(rest) = base.strip_prefix("jit") {
            let opt = opt(rest)?;
            if polling {
                Engine::JitPolling { opt }
            } else {
                Engine::Jit { opt }
            }
        } else if let Some(rest) = base.strip_prefix("aot") {
            Engine::Aot { opt: opt(rest)? }
        } else if base == "tiered1" {
            Engine::Tiered { calls: 1, loops: 1 }
        } else if let Some(rest) = base.strip_prefix("tiered-") {
            let (c, l) = rest.split_once('-')?;
            Engine::Tiered {
                calls: c.parse().ok().filter(|&n| n > 0)?,
                loops: l.parse().ok().filter(|&n| n > 0)?,
            }
        } else {
            match (base, polling) {
                ("interp", false) => Engine::Interp,
                ("interp", true) => Engine::InterpPolling,
                ("interp-silc", false) => Engine::InterpSilc,
                _ => return None,
            }
        })
    }

    /// The same engine with interrupt polls, so a run past its limit can be stopped.
    pub fn polling(self) -> Engine {
        match self {
            Engine::Interp => Engine::InterpPolling,
            Engine::Jit { opt } => Engine::JitPolling { opt },
            e => e,
        }
    }

    /// Runs `main` of `m` (which takes no arguments), stopping it after `limit`.
    pub fn run(self, m: &Module, work: &Path, limit: Duration) -> Result<Outcome, String> {
        match self {
            Engine::Interp => in_process(m, Config::new().engine(EngineKind::Interp), limit, false),
            Engine::InterpPolling => {
                in_process(m, Config::new().engine(EngineKind::Interp), limit, true)
            }
            Engine::InterpSilc => {
                let bytes = bytecode::encode(m);
                let back = bytecode::decode(&bytes).map_err(|e| format!("decode: {e}"))?;
                in_process(&back, Config::new().engine(EngineKind::Interp), limit, true)
            }
            Engine::Jit { opt } => in_process(
                m,
                Config::new().engine(EngineKind::Jit).opt_level(opt),
                limit,
                false,
            ),
            Engine::JitPolling { opt } => in_process(
                m,
                Config::new().engine(EngineKind::Jit).opt_level(opt),
                limit,
                true,
            ),
            Engine::Tiered { calls, loops } => {
                let config = Config::new()
                    .engine(EngineKind::Tiered)
                    .tier_thresholds(calls, loops)
                    .tier_synchronous(true);
                in_process(m, config, limit, true)
            }
            Engine::Aot { opt } => aot_run(m, opt, work, limit),
        }
    }
}

/// The engines a run compares by default: everything there is.
pub fn default_engines() -> Vec<Engine> {
    vec![
        Engine::Interp,
        Engine::InterpSilc,
        Engine::Jit { opt: 2 },
        Engine::JitPolling { opt: 0 },
        Engine::Tiered { calls: 1, loops: 1 },
        Engine::Tiered { calls: 2, loops: 3 },
        Engine::Aot { opt: 2 },
    ]
}

/// Runs `main` in this process, with a watchdog that fires after `limit` (a generated program
/// always ends well before, so reaching it is a finding): with `polling` it interrupts the call,
/// without it the process aborts.
fn in_process(
    m: &Module,
    config: Config,
    limit: Duration,
    polling: bool,
) -> Result<Outcome, String> {
    let kind = config.engine;
    let config = config.capture_output().interruptible(polling);
    let mut inst = Instance::new(config, m.clone(), Linker::new()).map_err(|e| e.to_string())?;
    inst.set_stdin(std::io::empty());
    let main = m.find_func("main").ok_or("no main")?;
    let has_ret = m.func(main).ret.is_some();
    let handle = inst.interrupt_handle();
    let done = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let fired = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (done, fired) = (done.clone(), fired.clone());
        std::thread::spawn(move || {
            let (lock, cv) = &*done;
            let mut finished = lock.lock().unwrap_or_else(|e| e.into_inner());
            let start = Instant::now();
            while !*finished {
                let left = limit.saturating_sub(start.elapsed());
                if left.is_zero() {
                    if !polling {
                        eprintln!(
                            "vsp-fuzz: a {kind:?} run passed its {limit:?} limit and cannot be stopped; aborting"
                        );
                        std::process::abort();
                    }
                    fired.store(true, Ordering::Relaxed);
                    handle.interrupt();
                    return;
                }
                finished = cv
                    .wait_timeout(finished, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        })
    };
    let result = inst.call_index(main.0 as usize, &[]);
    {
        let (lock, cv) = &*done;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }
    let _ = watchdog.join();
    if fired.load(Ordering::Relaxed) {
        return Err(format!("timed out after {limit:?}"));
    }
    let stdout = inst.take_output();
    Ok(match result {
        Ok(Completion::Return(v)) => Outcome {
            stdout,
            status: if has_ret { (v & 255) as i32 } else { 0 },
            trap: None,
        },
        Ok(Completion::Exit(status)) => Outcome {
            stdout,
            status,
            trap: None,
        },
        Err(jit::CallError::Trap(t)) => Outcome {
            stdout,
            status: 70,
            trap: Some(t.message().to_string()),
        },
        // A compile failure is vsp's bug, never the program's trap: report it as a difference.
        Err(e) => return Err(format!("{e}")),
    })
}

/// Builds an executable of `m` under `work` and runs it.
fn aot_run(m: &Module, opt: u8, work: &Path, limit: Duration) -> Result<Outcome, String> {
    let target = Target::host().map_err(|e| e.to_string())?;
    let isa = target.isa(opt).map_err(|e| e.to_string())?;
    let obj = aot::compile(m, isa, ObjectKind::Executable, Listings::default())
        .map_err(|e| format!("aot compile: {e}"))?;
    std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
    let exe: PathBuf = work.join(format!("prog-O{opt}"));
    let _ = std::fs::remove_file(&exe);
    aot::link_executable(&obj.object, target, &exe).map_err(|e| format!("link: {e}"))?;
    let mut child = Command::new(&exe)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = so.as_mut() {
            let _ = s.read_to_end(&mut v);
        }
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = se.as_mut() {
            let _ = s.read_to_end(&mut v);
        }
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    let Some(code) = status.code() else {
        return Err(format!("killed by a signal: {status}"));
    };
    let first = String::from_utf8_lossy(&stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let trap = first.strip_prefix("error: trap: ").map(str::to_string);
    Ok(Outcome {
        stdout,
        status: code,
        trap,
    })
}

/// What each engine did with one module.
#[derive(Clone, Debug)]
pub struct Report {
    pub results: Vec<(Engine, Result<Outcome, String>)>,
}

impl Report {
    /// True when some engine did something else than the first one.
    pub fn differs(&self) -> bool {
        let Some((_, first)) = self.results.first() else {
            return false;
        };
        self.results.iter().any(|(_, r)| r != first)
    }

    /// True when the engines disagree and none of them merely ran out of time (while minimising,
    /// deleting a loop's increment makes a loop endless: that is not the difference sought).
    pub fn differs_in_time(&self) -> bool {
        self.differs()
            && !self
                .results
                .iter()
                .any(|(_, r)| r.as_ref().is_err_and(|e| e.contains("timed out")))
    }

    /// The engines whose results differ from the first engine's (the reference).
    pub fn disagreeing(&self) -> Vec<Engine> {
        let Some((e0, first)) = self.results.first() else {
            return Vec::new();
        };
        let mut v = vec![*e0];
        v.extend(
            self.results
                .iter()
                .filter(|(_, r)| r != first)
                .map(|(e, _)| *e),
        );
        v
    }

    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (e, r) in &self.results {
            match r {
                Ok(o) => s.push_str(&format!("{}: {o}\n", e.name())),
                Err(msg) => s.push_str(&format!("{}: error: {msg}\n", e.name())),
            }
        }
        s
    }
}

/// Runs `m` on every engine of `engines`.
pub fn compare(m: &Module, engines: &[Engine], work: &Path, limit: Duration) -> Report {
    Report {
        results: engines
            .iter()
            .map(|&e| (e, e.run(m, work, limit)))
            .collect(),
    }
}
