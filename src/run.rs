//! `vsp run`: runs a module's `main` on the chosen engine and turns the outcome into an exit
//! status (main's result & 255, `exit`'s status, 70 for a trap).

use crate::error::CliError;
use crate::load::Loaded;
use bytecode::{Const, Type};
use jit::{Completion, Config, Instance, Linker, LoadError, Trap};
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
        EngineKind::Tiered => {
            return Err(CliError::Usage(
                "the `tiered` engine is not available yet; use `--engine jit` or `--engine interp`"
                    .into(),
            ));
        }
    };
    let config = Config::new().engine(engine).opt_level(opts.opt_level);
    let mut inst = Instance::new(config, m.clone(), Linker::new()).map_err(|e| match e {
        LoadError::Invalid(d) => {
            CliError::Invalid(d.render(&loaded.display_name, loaded.source.as_deref()))
        }
        other => CliError::Invalid(format!("{}: error: {other}\n", loaded.display_name)),
    })?;
    let t = Instant::now();
    let result = inst.call_index(main, &slots);
    let run_time = t.elapsed();
    if opts.stats {
        let s = inst.stats();
        eprintln!(
            "[stats] engine: {}; functions compiled: {}; compile: {:.3} ms; code: {} bytes; load: {:.3} ms; run: {:.3} ms",
            s.engine,
            s.functions.iter().filter(|f| f.compiles > 0).count(),
            s.compile_time.as_secs_f64() * 1e3,
            s.code_size,
            s.load_time.as_secs_f64() * 1e3,
            run_time.as_secs_f64() * 1e3
        );
    }
    Ok(match result {
        Ok(Completion::Return(v)) => match m.func(bytecode::FuncId(main as u32)).ret {
            Some(_) => (v & 255) as i32,
            None => 0,
        },
        Ok(Completion::Exit(status)) => status,
        Err(trap) => {
            report_trap(&trap);
            70
        }
    })
}

/// `error: trap: MESSAGE` then the backtrace, on stderr.
pub(crate) fn report_trap(trap: &Trap) {
    eprint!("error: {trap}\n{}", trap.render_backtrace());
}
