//! `vsp run`: runs a module's `main` on the chosen engine and turns the outcome into an exit
//! status (main's result & 255, `exit`'s status, 70 for a trap).

use crate::error::CliError;
use crate::load::Loaded;
use bytecode::{Const, Type};
use jit::{CallError, Completion, Config, Instance, Linker, LoadError, Stats, TierConfig, Trap};
use std::time::Instant;

/// Which engine runs the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EngineKind {
    Jit,
    Interp,
    Tiered,
}

pub(crate) struct RunOptions {
    pub engine: EngineKind,
    pub opt_level: u8,
    pub stats: bool,
    pub tier: TierConfig,
    pub perf_map: bool,
    pub jitdump: bool,
    pub gdb_jit: bool,
    pub profile: bool,
    /// `Config::compile_threads` (0: one per core).
    pub compile_threads: usize,
    /// The persistent code cache directory, if any.
    pub cache: Option<std::path::PathBuf>,
}

/// Reads `main`'s arguments as literals of the text format, typed by its parameters.
fn main_args(loaded: &Loaded, args: &[String]) -> Result<(usize, Vec<u64>), CliError> {
    let m = &loaded.module;
    let Some(id) = m.find_func("main") else {
        return Err(CliError::Invalid(format!(
            "{}: error: the module has no `main` function, so it cannot be run (it is a library)\n",
            loaded.display_name
        )));
    };
    let main = m.func(id);
    let params = main.param_types();
    if params.len() != args.len() {
        return Err(CliError::Usage(format!(
            "`main` takes {} argument{} ({}), {} given",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            main.signature(),
            args.len()
        )));
    }
    let mut slots = Vec::with_capacity(args.len());
    for ((text, ty), decl) in args.iter().zip(&params).zip(main.params()) {
        let bad = |why: String| {
            CliError::Usage(format!(
                "argument `{text}` for `{}: {ty}`: {why}",
                decl.name
            ))
        };
        let k = bytecode::parse_literal(text).map_err(bad)?;
        let slot = k.to_slot(*ty).ok_or_else(|| {
            bad(match (k, ty) {
                (Const::Float(_), Type::I64) => "expected an integer, found a float".into(),
                _ => format!("not a value of type {ty}"),
            })
        })?;
        slots.push(slot);
    }
    Ok((id.0 as usize, slots))
}

/// Runs `main`; returns the process exit status.
pub(crate) fn run(loaded: &Loaded, args: &[String], opts: &RunOptions) -> Result<i32, CliError> {
    let (main, slots) = main_args(loaded, args)?;
    let m = &loaded.module;
    if let Some(e) = m.externs.first() {
        return Err(CliError::Invalid(format!(
            "{}: error: `vsp run` provides no host functions, but the module needs extern `{}` (link it with `vsp build` and C, or embed the JIT)\n",
            loaded.display_name, e.name
        )));
    }
    let engine = match opts.engine {
        EngineKind::Interp => jit::EngineKind::Interp,
        EngineKind::Jit => jit::EngineKind::Jit,
        EngineKind::Tiered => jit::EngineKind::Tiered,
    };
    let mut config = Config::new()
        .engine(engine)
        .opt_level(opts.opt_level)
        .tier(opts.tier)
        .perf_map(opts.perf_map)
        .jitdump(opts.jitdump)
        .gdb_jit(opts.gdb_jit)
        .profile(opts.profile)
        .compile_threads(opts.compile_threads)
        .source_name(source_path(&loaded.display_name));
    if let Some(dir) = &opts.cache {
        config = config.cache_dir(dir);
    }
    let mut inst = Instance::new(config, m.clone(), Linker::new()).map_err(|e| match e {
        LoadError::Invalid(d) => {
            CliError::Invalid(d.render(&loaded.display_name, loaded.source.as_deref()))
        }
        LoadError::Observe(e) => CliError::CantWrite {
            path: e.path,
            err: e.err,
        },
        other => CliError::Invalid(format!("{}: error: {other}\n", loaded.display_name)),
    })?;
    let t = Instant::now();
    let result = inst.call_index(main, &slots);
    let run_time = t.elapsed();
    let status = match result {
        Ok(Completion::Return(v)) => match m.func(bytecode::FuncId(main as u32)).ret {
            Some(_) => (v & 255) as i32,
            None => 0,
        },
        Ok(Completion::Exit(status)) => status,
        Err(CallError::Trap(trap)) => {
            // First: the first line of stderr is the trap's, with or without `--stats`.
            report_trap(&trap);
            70
        }
        Err(CallError::Compile(why)) => return Err(CliError::Internal(why)),
        Err(other) => return Err(CliError::Internal(other.to_string())),
    };
    if opts.stats {
        print_stats(&inst.stats(), run_time);
    }
    if let Some(p) = inst.profile() {
        eprint!("{}", crate::profile::render(&p, &inst.stats()));
    }
    Ok(status)
}

/// `--stats`: one summary line, then what the tiered engine did.
fn print_stats(s: &Stats, run_time: std::time::Duration) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "[stats] engine: {}; functions compiled: {}{}; compile: {:.3} ms (CPU {:.3} ms); code: {} bytes; load: {:.3} ms; run: {:.3} ms",
        s.engine,
        s.functions.iter().filter(|f| f.compiles > 0).count(),
        match s.cache {
            Some(_) => format!(
                "; loaded from cache: {}",
                s.functions.iter().filter(|f| f.cache_loads > 0).count()
            ),
            None => String::new(),
        },
        ms(s.compile_wall_time),
        ms(s.compile_time),
        s.code_size,
        ms(s.load_time),
        ms(run_time)
    );
    if let Some(c) = &s.cache {
        eprintln!(
            "[stats] cache: {} hits, {} misses, {} rejected, {} stored, {} evicted; load {:.3} ms",
            c.hits,
            c.misses,
            c.rejected,
            c.stored,
            c.evicted,
            ms(c.load_time)
        );
    }
    let Some(t) = &s.tier else {
        return;
    };
    let names = |v: &mut dyn Iterator<Item = String>| {
        let v: Vec<String> = v.collect();
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    eprintln!(
        "[stats] tier-ups: {} ({})",
        t.tiered_up.len(),
        names(
            &mut t
                .tiered_up
                .iter()
                .map(|(f, d)| format!("{f} {:.3} ms", ms(*d)))
        )
    );
    eprintln!(
        "[stats] OSR entries: {} ({})",
        t.osr_entries.len(),
        names(
            &mut t
                .osr_entries
                .iter()
                .map(|(f, line)| format!("{f} loop at line {line}"))
        )
    );
    eprintln!(
        "[stats] compiled when first called from native code: {} ({})",
        t.compiled_on_call.len(),
        names(&mut t.compiled_on_call.iter().cloned())
    );
    eprintln!(
        "[stats] fallbacks: {} ({})",
        t.fallbacks.len(),
        names(&mut t.fallbacks.iter().map(|(f, why)| format!("{f}: {why}")))
    );
    eprintln!(
        "[stats] background compile: {:.3} ms; first native code after: {}",
        ms(t.background_compile_time),
        t.time_to_first_native
            .map_or("never".to_string(), |d| format!("{:.3} ms", ms(d)))
    );
}

/// `error: trap: MESSAGE` then the backtrace, on stderr.
pub(crate) fn report_trap(trap: &Trap) {
    eprint!("error: {trap}\n{}", trap.render_backtrace());
}

/// The `.sil` file as profilers and debuggers should name it: absolute, so they find it from
/// any directory.
pub(crate) fn source_path(display_name: &str) -> String {
    std::path::absolute(display_name)
        .map_or_else(|_| display_name.to_string(), |p| p.display().to_string())
}
