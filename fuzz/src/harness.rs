//! A fuzzing loop on stable Rust: mutate inputs from a seed corpus, run a target under
//! `catch_unwind`, keep inputs that show a new feature, and save every input that panics.
//!
//! It has no coverage instrumentation (libFuzzer needs a nightly toolchain); the targets' own
//! "feature" numbers (which error, which path) stand in for coverage as the signal to keep an
//! input.

use crate::rng::Rng;
use crate::targets::Target;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest input the mutator makes.
const MAX_INPUT: usize = 64 << 10;
/// Most inputs kept in memory.
const MAX_CORPUS: usize = 20_000;

/// What a fuzzing run did.
#[derive(Clone, Debug, Default)]
pub struct FuzzStats {
    pub inputs: u64,
    pub corpus: usize,
    pub features: usize,
    /// Distinct panic messages, each with the file its input was saved to.
    pub crashes: Vec<(String, PathBuf)>,
    pub elapsed: Duration,
}

/// The seed corpus of a target: `fuzz/corpus/TARGET/*`, plus for the text and binary targets
/// the conformance and negative corpora (as text, and assembled), plus generated programs.
pub fn seeds(target: &str, root: &Path) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let read_dir = |dir: PathBuf| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
    };
    for p in read_dir(root.join("fuzz/corpus").join(target)) {
        if let Ok(b) = std::fs::read(&p) {
            v.push(b);
        }
    }
    let programs: Vec<Vec<u8>> = ["tests/programs", "tests/invalid"]
        .iter()
        .flat_map(|d| read_dir(root.join(d)))
        .filter(|p| p.extension().is_some_and(|e| e == "sil"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    match target {
        "parse" => {
            v.extend(programs);
            v.extend((0..20).map(|s| bytecode::print(&crate::program::generate(s)).into_bytes()));
        }
        "decode" => {
            for src in &programs {
                if let Ok(m) = bytecode::parse(&String::from_utf8_lossy(src), "seed") {
                    v.push(bytecode::encode(&m));
                }
            }
            v.extend((0..20).map(|s| bytecode::encode(&crate::program::generate(s))));
        }
        _ => v.extend((0u64..32).map(|s| s.to_le_bytes().to_vec())),
    }
    if v.is_empty() {
        v.push(Vec::new());
    }
    v
}

/// The message of the last panic on this process (the hook is silent while fuzzing).
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

fn install_quiet_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default(),
        };
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = format!("{msg}{at}");
    }));
}

/// Fuzzes `target` until `time` has passed or `max_inputs` have run; saves panicking inputs to
/// `crash_dir` (created when needed).
pub fn fuzz(
    target: &Target,
    root: &Path,
    time: Duration,
    max_inputs: u64,
    seed: u64,
    crash_dir: &Path,
) -> FuzzStats {
    let mut rng = Rng::new(seed);
    let mut corpus = seeds(target.name, root);
    let mut features = HashSet::new();
    let mut stats = FuzzStats::default();
    let mut seen_panics = HashSet::new();
    install_quiet_hook();
    let start = Instant::now();
    // The seeds first, unmutated, then mutants.
    let nseeds = corpus.len();
    let mut i = 0usize;
    while stats.inputs < max_inputs && start.elapsed() < time {
        let input = if i < nseeds {
            corpus[i].clone()
        } else {
            mutant(&corpus, target.dictionary, &mut rng)
        };
        i += 1;
        stats.inputs += 1;
        match catch_unwind(AssertUnwindSafe(|| (target.run)(&input))) {
            Ok(feature) => {
                if features.insert(feature) && i > nseeds && corpus.len() < MAX_CORPUS {
                    corpus.push(input);
                }
            }
            Err(_) => {
                let msg = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let first_line = msg.lines().next().unwrap_or("").to_string();
                if seen_panics.insert(first_line.clone()) {
                    let _ = std::fs::create_dir_all(crash_dir);
                    let file =
                        crash_dir.join(format!("{}-{:016x}.bin", target.name, crate::fnv(&input)));
                    let _ = std::fs::write(&file, &input);
                    let _ = std::fs::write(file.with_extension("txt"), &msg);
                    stats.crashes.push((first_line, file));
                }
            }
        }
    }
    let _ = std::panic::take_hook();
    stats.corpus = corpus.len();
    stats.features = features.len();
    stats.elapsed = start.elapsed();
    stats
}

/// A mutant of a corpus entry: one to four byte-level edits, tokens spliced in, or a crossover.
fn mutant(corpus: &[Vec<u8>], dict: &[&[u8]], rng: &mut Rng) -> Vec<u8> {
    let mut v = rng.pick(corpus).clone();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        let len = v.len();
        let at = rng.below(len as u64 + 1) as usize;
        match rng.below(10) {
            0 if len > 0 => {
                let i = at.min(len - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = at.min(len - 1);
                v[i] = *rng.pick(&[0u8, 0xff, 0x7f, 0x80, b'\n', b' ', b'9', b'-']);
            }
            2 => {
                let n = rng.range(1, 8) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                v.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let n = (rng.range(1, 64) as usize).min(len - at.min(len));
                v.drain(at..at + n);
            }
            4 if len > 0 => {
                let from = rng.below(len as u64) as usize;
                let n = (rng.range(1, 64) as usize).min(len - from);
                let chunk = v[from..from + n].to_vec();
                v.splice(at..at, chunk);
            }
            5..=6 if !dict.is_empty() => {
                let tok = rng.pick(dict).to_vec();
                v.splice(at..at, tok);
            }
            7 => {
                let other = rng.pick(corpus);
                if !other.is_empty() {
                    let from = rng.below(other.len() as u64) as usize;
                    let n = (rng.range(1, 256) as usize).min(other.len() - from);
                    v.splice(at..at, other[from..from + n].iter().copied());
                }
            }
            8 if len > 0 => v.truncate(at),
            _ if len >= 8 => {
                // A little-endian integer field set to an interesting value.
                let i = at.min(len - 8);
                let k = *rng.pick(&[0u64, 1, u64::MAX, u32::MAX as u64, 1 << 31, 1 << 62]);
                v[i..i + 8].copy_from_slice(&k.to_le_bytes());
            }
            _ => v.push(rng.next_u64() as u8),
        }
    }
    v.truncate(MAX_INPUT);
    v
}
