//! `vsp run`: runs a module's `main` on the chosen engine and turns the outcome into an exit
//! status (main's result & 255, `exit`'s status, 70 for a trap).

use crate::error::CliError;
use crate::load::Loaded;
use bytecode::{Const, Type};
use jit::interp::{Completion, HostFn, Memory, Program, Vm};
use jit::{Io, OutputMode, Trap};
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
        let bad = |why: String| CliError::Usage(format!("argument `{text}` for `{}: {ty}`: {why}", decl.name));
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
    if opts.engine != EngineKind::Interp {
        return Err(CliError::Usage(format!(
            "the `{:?}` engine is not available yet; use `--engine interp`",
            opts.engine
        ).to_lowercase()));
    }
    let _ = opts.opt_level;
    let t0 = Instant::now();
    let prog = Program::decode(m);
    let decode_time = t0.elapsed();
    let mut mem = Memory::new(m);
    let mut io = Io::new(OutputMode::Stdout);
    let mut hosts: Vec<HostFn> = Vec::new();
    let mut vm = Vm::new();
    let t1 = Instant::now();
    let env = jit::interp::Env { mem: &mut mem, io: &mut io, hosts: &mut hosts };
    let result = vm.run(&prog, env, main, &slots);
    io.out().flush();
    let run_time = t1.elapsed();
    if opts.stats {
        eprintln!(
            "[stats] engine: interp; decode: {:.3} ms ({} functions); run: {:.3} ms",
            decode_time.as_secs_f64() * 1e3,
            m.funcs.len(),
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
