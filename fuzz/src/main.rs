//! `vsp-fuzz`: runs a fuzz target or the cross-engine differential runner for a given time.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vsp_fuzz::{diff, harness, program, runner, targets};

const USAGE: &str = "\
usage:
  vsp-fuzz run TARGET|all [--seconds N] [--inputs N] [--seed S] [--crashes DIR]
      fuzz a target (parse, decode, verify, codegen; `all` splits the time between them);
      panicking inputs are saved to DIR (default fuzz/crashes)
  vsp-fuzz diff [--seconds N] [--count N] [--start SEED] [--engines a,b,...] [--out DIR]
                [--state FILE] [--limit SECS]
      generate programs and compare the engines (default: interp,interp-silc,jit-O2,jit-O0,aot-O2);
      reproducers go to DIR (default fuzz/findings); --state resumes an earlier run
  vsp-fuzz gen SEED          print the program generated from SEED
  vsp-fuzz repro FILE.sil [--engines a,b,...]
      run one program (taking no arguments) on the engines and show each outcome
exit status: 0 nothing found, 1 something found, 2 usage error";

struct Args(Vec<String>);

impl Args {
    fn value(&self, flag: &str) -> Option<&str> {
        let i = self.0.iter().position(|a| a == flag)?;
        self.0.get(i + 1).map(String::as_str)
    }
    fn num(&self, flag: &str) -> Result<Option<u64>, String> {
        self.value(flag)
            .map(|v| v.parse().map_err(|_| format!("{flag}: not a number: {v}")))
            .transpose()
    }
    fn engines(&self) -> Result<Vec<diff::Engine>, String> {
        match self.value("--engines") {
            None => Ok(diff::default_engines()),
            Some(list) => list
                .split(',')
                .map(|n| diff::Engine::parse(n).ok_or(format!("unknown engine `{n}`")))
                .collect(),
        }
    }
}

fn main() -> ExitCode {
    let args = Args(std::env::args().skip(1).collect());
    match real_main(&args) {
        Ok(found) => ExitCode::from(u8::from(found)),
        Err(e) => {
            eprintln!("vsp-fuzz: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Ok(true) when something was found.
fn real_main(args: &Args) -> Result<bool, String> {
    let root = vsp_fuzz::repo_root();
    match args.0.first().map(String::as_str) {
        Some("run") => {
            let name = args.0.get(1).ok_or("run: which target?")?;
            let chosen: Vec<targets::Target> = if name == "all" {
                targets::all()
            } else {
                vec![targets::find(name).ok_or(format!("unknown target `{name}`"))?]
            };
            let secs = args.num("--seconds")?.unwrap_or(60);
            let per = Duration::from_secs(secs) / chosen.len() as u32;
            let inputs = args.num("--inputs")?.unwrap_or(u64::MAX);
            let seed = args.num("--seed")?.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
            let crashes = args
                .value("--crashes")
                .map_or_else(|| root.join("fuzz/crashes"), PathBuf::from);
            let mut found = false;
            for t in &chosen {
                let s = harness::fuzz(t, &root, per, inputs, seed, &crashes);
                println!(
                    "{}: {} inputs in {:.1} s (seed {seed}), {} features, corpus {}, {} distinct panics",
                    t.name,
                    s.inputs,
                    s.elapsed.as_secs_f64(),
                    s.features,
                    s.corpus,
                    s.crashes.len()
                );
                for (msg, file) in &s.crashes {
                    println!("  panic: {msg}\n    input: {}", file.display());
                }
                found |= !s.crashes.is_empty();
            }
            Ok(found)
        }
        Some("diff") => {
            let out = args
                .value("--out")
                .map_or_else(|| root.join("fuzz/findings"), PathBuf::from);
            let mut o = runner::DiffOptions::new(out);
            o.engines = args.engines()?;
            o.time = Duration::from_secs(args.num("--seconds")?.unwrap_or(60));
            o.count = args.num("--count")?.unwrap_or(u64::MAX);
            o.start = args.num("--start")?.unwrap_or(0);
            o.state = args.value("--state").map(PathBuf::from);
            o.limit = Duration::from_secs(args.num("--limit")?.unwrap_or(20));
            o.progress_every = 500;
            let s = runner::run(&o);
            println!(
                "diff: {} programs in {:.1} s on {}; next seed {}; {} findings",
                s.programs,
                s.elapsed.as_secs_f64(),
                o.engines
                    .iter()
                    .map(|e| e.name())
                    .collect::<Vec<_>>()
                    .join(","),
                s.next_seed,
                s.findings.len()
            );
            for (ending, n) in &s.endings {
                println!("  {n:>8}  {ending}");
            }
            for (seed, path) in &s.findings {
                println!("  finding: seed {seed}: {}", path.display());
            }
            Ok(!s.findings.is_empty())
        }
        Some("gen") => {
            let seed = args
                .0
                .get(1)
                .and_then(|s| s.parse().ok())
                .ok_or("gen: SEED")?;
            print!("{}", bytecode::print(&program::generate(seed)));
            Ok(false)
        }
        Some("repro") => {
            let file = args.0.get(1).ok_or("repro: FILE")?;
            let src = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            let m = bytecode::parse(&src, "repro").map_err(|d| format!("{d:?}"))?;
            let work = std::env::temp_dir().join(format!("vsp-repro-{}", std::process::id()));
            let report = diff::compare(&m, &args.engines()?, &work, Duration::from_secs(20));
            let _ = std::fs::remove_dir_all(&work);
            print!("{}", report.describe());
            Ok(report.differs())
        }
        _ => Err("which command?".into()),
    }
}
