//! The differential loop: generate programs seed after seed, run each on every engine, and write
//! a minimised `.sil` reproducer for each disagreement. Bounded by a count and a time, and
//! resumable through a state file (which also catches a seed that killed the process).

use crate::diff::{self, Engine, Report};
use crate::minimize::minimize;
use crate::program;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct DiffOptions {
    /// First seed (a resumed run starts where the state file says instead).
    pub start: u64,
    pub count: u64,
    pub time: Duration,
    pub engines: Vec<Engine>,
    /// Where reproducers go.
    pub out: PathBuf,
    /// Scratch space for executables.
    pub work: PathBuf,
    /// Resume from, and record progress in, this file.
    pub state: Option<PathBuf>,
    /// Longest one engine may run one program.
    pub limit: Duration,
    /// Candidate modules the minimiser may try per finding.
    pub minimize_tries: usize,
    /// Print a progress line every this many programs (0: never).
    pub progress_every: u64,
}

impl DiffOptions {
    pub fn new(out: PathBuf) -> DiffOptions {
        DiffOptions {
            start: 0,
            count: u64::MAX,
            time: Duration::from_secs(60),
            engines: diff::default_engines(),
            work: std::env::temp_dir().join(format!("vsp-diff-{}", std::process::id())),
            out,
            state: None,
            limit: Duration::from_secs(20),
            minimize_tries: 400,
            progress_every: 0,
        }
    }
}

/// What a differential run did.
#[derive(Clone, Debug, Default)]
pub struct DiffStats {
    pub programs: u64,
    /// Seeds whose engines disagreed (or that panicked or killed the runner), with the
    /// reproducer written for each.
    pub findings: Vec<(u64, PathBuf)>,
    /// How the reference engine's runs ended: `return`, `exit`, or the trap message.
    pub endings: BTreeMap<String, u64>,
    pub next_seed: u64,
    pub elapsed: Duration,
}

fn write_state(path: &Option<PathBuf>, text: String) {
    if let Some(p) = path {
        let _ = std::fs::write(p, text);
    }
}

/// Reads `next SEED` / `running SEED` from a state file.
fn read_state(path: &Option<PathBuf>) -> (Option<u64>, Option<u64>) {
    let Some(text) = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) else {
        return (None, None);
    };
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    };
    (field("next "), field("running "))
}

pub fn run(opts: &DiffOptions) -> DiffStats {
    let mut stats = DiffStats::default();
    let (next, running) = read_state(&opts.state);
    let mut seed = next.unwrap_or(opts.start);
    let start = Instant::now();
    if let Some(s) = running {
        // The previous run ended while this seed ran: it may have killed the process (or the
        // run was simply stopped). Rerun it in a child, where a crash cannot take us down.
        if let Some(path) = recheck_in_child(s, opts) {
            stats.findings.push((s, path));
        }
        seed = s + 1;
    }
    let _ = std::fs::create_dir_all(&opts.out);
    while stats.programs < opts.count && start.elapsed() < opts.time {
        write_state(&opts.state, format!("next {seed}\nrunning {seed}\n"));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let m = program::generate(seed);
            let report = diff::compare(&m, &opts.engines, &opts.work, opts.limit);
            (m, report)
        }));
        stats.programs += 1;
        match outcome {
            Ok((m, report)) => {
                *stats.endings.entry(ending(&report)).or_default() += 1;
                if report.differs() {
                    let path = save_finding(seed, &m, &report, opts);
                    eprintln!("seed {seed}: engines differ; reproducer {}", path.display());
                    stats.findings.push((seed, path));
                }
            }
            Err(_) => {
                let path = opts.out.join(format!("seed-{seed}.panic.sil"));
                if let Ok(m) = catch_unwind(|| program::generate(seed)) {
                    let _ = std::fs::write(&path, bytecode::print(&m));
                }
                eprintln!("seed {seed}: panicked; program {}", path.display());
                stats.findings.push((seed, path));
            }
        }
        seed += 1;
        write_state(&opts.state, format!("next {seed}\n"));
        if opts.progress_every > 0 && stats.programs.is_multiple_of(opts.progress_every) {
            eprintln!(
                "[diff] {} programs in {:.0} s, {} findings, next seed {seed}",
                stats.programs,
                start.elapsed().as_secs_f64(),
                stats.findings.len()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&opts.work);
    stats.next_seed = seed;
    stats.elapsed = start.elapsed();
    stats
}

/// How the first engine's run ended, for the summary.
fn ending(report: &Report) -> String {
    match report.results.first() {
        Some((_, Ok(o))) => match &o.trap {
            Some(t) => format!("trap: {t}"),
            None => format!("status {}", if o.status == 0 { "0" } else { "nonzero" }),
        },
        Some((_, Err(e))) => format!("error: {}", e.lines().next().unwrap_or("")),
        None => "none".into(),
    }
}

/// Minimises a disagreement to the engines involved and writes `seed-N.sil` (minimised, with
/// each engine's outcome in comments) and `seed-N.orig.sil`.
fn save_finding(seed: u64, m: &bytecode::Module, report: &Report, opts: &DiffOptions) -> PathBuf {
    // Polling engines and a short limit: minimising can make loops endless.
    let involved: Vec<Engine> = report
        .disagreeing()
        .into_iter()
        .map(Engine::polling)
        .collect();
    let limit = opts.limit.min(Duration::from_secs(3));
    let _ = std::fs::write(
        opts.out.join(format!("seed-{seed}.orig.sil")),
        format!("{}{}", comment(&report.describe()), bytecode::print(m)),
    );
    let small = minimize(
        m,
        |cand| diff::compare(cand, &involved, &opts.work, limit).differs_in_time(),
        opts.minimize_tries,
    );
    let again = diff::compare(&small, &involved, &opts.work, limit);
    let path = opts.out.join(format!("seed-{seed}.sil"));
    let _ = std::fs::write(
        &path,
        format!(
            "; differential finding, seed {seed}, minimised; each engine's outcome:\n{}{}",
            comment(&again.describe()),
            bytecode::print(&small)
        ),
    );
    path
}

fn comment(text: &str) -> String {
    text.lines().map(|l| format!("; {l}\n")).collect()
}

/// Reruns one seed in a child process of this executable; a reproducer path if the child died.
fn recheck_in_child(seed: u64, opts: &DiffOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let engines: Vec<String> = opts.engines.iter().map(|e| e.name()).collect();
    let mut child = std::process::Command::new(exe)
        .args(["diff", "--start", &seed.to_string(), "--count", "1"])
        .args(["--engines", &engines.join(",")])
        .arg("--out")
        .arg(&opts.out)
        .spawn()
        .ok()?;
    // Every engine may take up to the limit; past that the child hangs, which is a finding too.
    let deadline = Instant::now() + opts.limit * (engines.len() as u32 + 1);
    let status = loop {
        if let Some(s) = child.try_wait().ok()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().ok()?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if status.success() || status.code() == Some(1) {
        // Exit 1 means it ran and reported a difference itself (reproducer written).
        return None;
    }
    let _ = std::fs::create_dir_all(&opts.out);
    let path = opts.out.join(format!("seed-{seed}.crash.sil"));
    let m = program::generate(seed);
    let _ = std::fs::write(
        &path,
        format!(
            "; seed {seed} killed the differential runner ({status})\n{}",
            bytecode::print(&m)
        ),
    );
    eprintln!(
        "seed {seed}: killed the runner ({status}); program {}",
        path.display()
    );
    Some(path)
}
