//! The `vsp` command: check, run, assemble and disassemble vsp bytecode.

mod build;
mod error;
mod load;
mod profile;
mod repl;
mod run;

use clap::{Parser, Subcommand};
use error::CliError;
use run::{EngineKind, RunOptions};
use std::path::PathBuf;
use std::process::ExitCode;

// Compiling is allocation-heavy (Cranelift builds and frees IR, e-graphs and register
// allocator state per function): with mimalloc, `vsp run --engine jit` on the 404-function
// `bench/sil/program.sil 1` took 88 ms against 116 ms with glibc's malloc, and loading
// 10,101 functions in the interpreter 255 ms against 320 ms (hyperfine, docs/optimization.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What `vsp --version` prints after the name: the version, then each target and whether this
/// binary can build executables for it (the runtime for a target is built into vsp only when
/// the Rust target was installed at the time vsp was compiled).
fn version_text() -> &'static str {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let host = aot::Target::host().ok();
        let mut text = env!("CARGO_PKG_VERSION").to_string();
        for t in aot::Target::ALL {
            let here = if Some(t) == host {
                ", this machine"
            } else {
                ""
            };
            let line = if t.runtime_archive().is_ok() {
                format!("\ntarget {}: yes{here}", t.triple())
            } else {
                format!(
                    "\ntarget {}: no{here} (run `rustup target add {}`, then rebuild vsp)",
                    t.triple(),
                    t.triple()
                )
            };
            text.push_str(&line);
        }
        text
    });
    &TEXT
}

#[derive(Parser)]
#[command(
    name = "vsp",
    version = version_text(),
    about = "A compiler toolchain for the vsp register bytecode"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum CacheAction {
    /// How many entries the cache holds, and their size.
    Stats,
    /// Remove every entry.
    Clear,
}

#[derive(Subcommand)]
enum Command {
    /// Run a module's `main` (FILE is .sil or .silc; ARGS go to `main`).
    Run {
        file: PathBuf,
        /// Arguments for `main`, written as literals (`-3`, `0x10`, `2.5`, `inf`).
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
        /// `tiered` starts in the interpreter and moves hot code to native code as it runs;
        /// `jit` compiles before running; `interp` never compiles.
        #[arg(long, value_enum, default_value = "tiered")]
        engine: EngineKind,
        /// Optimisation level 0, 1 or 2 (`-O0`, `-O1`, `-O2`).
        #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=2))]
        opt: u8,
        /// Print compile and run statistics to stderr.
        #[arg(long)]
        stats: bool,
        /// Tiered engine: interpreted calls before a function is compiled.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        tier_calls: Option<u32>,
        /// Tiered engine: arrivals at a loop header before it is entered in native code.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        tier_loops: Option<u32>,
        /// Tiered engine: compile at the threshold, on the interpreter's thread (reproducible).
        #[arg(long)]
        tier_sync: bool,
        /// Tiered engine: milliseconds a run goes before anything is compiled in the
        /// background (default 5; 0 compiles as soon as a threshold is reached).
        #[arg(long, value_name = "MS")]
        tier_delay: Option<u64>,
        /// Name native code in /tmp/perf-PID.map, so `perf report` shows `.sil` functions.
        #[arg(long)]
        perf_map: bool,
        /// Write native code with `.sil` line tables to $JITDUMPDIR/jit-PID.dump (default
        /// /tmp), for `perf record -k mono` + `perf inject --jit`.
        #[arg(long)]
        jitdump: bool,
        /// Register native code with gdb (its JIT interface): `gdb --args vsp run --gdb-jit
        /// FILE` can break on `.sil` functions and lines.
        #[arg(long)]
        gdb_jit: bool,
        /// At exit, print the hottest functions and loops to stderr: calls and loop iterations
        /// in each tier, and CPU-time samples in native code.
        #[arg(long)]
        profile: bool,
        /// Keep compiled code in a persistent cache and load it from there next time
        /// (`--cache` for the default directory, `--cache=DIR` for another).
        #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true, default_missing_value = "")]
        cache: Option<PathBuf>,
        /// Threads that compile functions in parallel (JIT; default: one per core). The code
        /// is the same whatever the number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        compile_threads: Option<u16>,
    },
    /// Inspect or empty the persistent code cache of `vsp run --cache`.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
        /// The cache directory (default: $XDG_CACHE_HOME/vsp, or ~/.cache/vsp).
        #[arg(long, value_name = "DIR", global = true)]
        dir: Option<PathBuf>,
    },
    /// Build a native executable, object, C header or runtime archive (ahead of time).
    Build(build::BuildArgs),
    /// Parse and verify a module.
    Check { file: PathBuf },
    /// Assemble `.sil` text into a `.silc` binary.
    Asm {
        file: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print a `.silc` (or `.sil`) module as `.sil` text.
    Disasm { file: PathBuf },
    /// Interactive session: define functions, call them, inspect them (`:help` inside).
    Repl(repl::ReplArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match dispatch(cli.command) {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            eprint!("{}", e.render());
            ExitCode::from(e.status() as u8)
        }
    }
}

/// The cache directory: the one given, or the default.
fn cache_dir(given: Option<PathBuf>) -> Result<PathBuf, CliError> {
    given.or_else(jit::default_cache_dir).ok_or_else(|| {
        CliError::Usage(
            "no default cache directory (neither XDG_CACHE_HOME nor HOME is set): give one".into(),
        )
    })
}

fn dispatch(cmd: Command) -> Result<i32, CliError> {
    match cmd {
        Command::Run {
            file,
            args,
            engine,
            opt,
            stats,
            tier_calls,
            tier_loops,
            tier_sync,
            tier_delay,
            perf_map,
            jitdump,
            gdb_jit,
            profile,
            cache,
            compile_threads,
        } => {
            let loaded = load::load(&file)?;
            let defaults = jit::TierConfig::default();
            let tier = jit::TierConfig {
                call_threshold: tier_calls.unwrap_or(defaults.call_threshold),
                loop_threshold: tier_loops.unwrap_or(defaults.loop_threshold),
                synchronous: tier_sync,
                startup_delay: tier_delay
                    .map_or(defaults.startup_delay, std::time::Duration::from_millis),
                ..defaults
            };
            run::run(
                &loaded,
                &args,
                &RunOptions {
                    engine,
                    opt_level: opt,
                    stats,
                    tier,
                    perf_map,
                    jitdump,
                    gdb_jit,
                    profile,
                    compile_threads: compile_threads.map_or(0, usize::from),
                    cache: match cache {
                        None => None,
                        Some(d) if d.as_os_str().is_empty() => Some(cache_dir(None)?),
                        Some(d) => Some(d),
                    },
                },
            )
        }
        Command::Cache { action, dir } => {
            let dir = cache_dir(dir)?;
            match action {
                CacheAction::Stats => {
                    let (n, bytes) = if dir.exists() {
                        jit::cache_dir_usage(&dir).map_err(|err| CliError::Unreadable {
                            path: dir.display().to_string(),
                            err,
                        })?
                    } else {
                        (0, 0)
                    };
                    println!(
                        "{}: {n} entries, {bytes} bytes (limit {} bytes)",
                        dir.display(),
                        jit::Config::new().cache_max_bytes
                    );
                }
                CacheAction::Clear => {
                    let n = if dir.exists() {
                        jit::clear_cache_dir(&dir).map_err(|err| CliError::CantWrite {
                            path: dir.display().to_string(),
                            err,
                        })?
                    } else {
                        0
                    };
                    println!("{}: removed {n} entries", dir.display());
                }
            }
            Ok(0)
        }
        Command::Build(args) => build::build(&args),
        Command::Repl(args) => repl::repl(&args),
        Command::Check { file } => {
            load::load(&file)?;
            Ok(0)
        }
        Command::Asm { file, output } => {
            let loaded = load::load(&file)?;
            let bytes = bytecode::encode(&loaded.module);
            std::fs::write(&output, bytes).map_err(|err| CliError::CantWrite {
                path: output.display().to_string(),
                err,
            })?;
            Ok(0)
        }
        Command::Disasm { file } => {
            let loaded = load::load(&file)?;
            print!("{}", bytecode::print(&loaded.module));
            Ok(0)
        }
    }
}
