//! calc, a small language compiled to vsp through the builder API: `cargo run --example calc -- run examples/calc/programs/fib.calc 20`.
//!
//! ```text
//! calc run [--engine jit|interp] FILE [ARGS...]   compile and run `main` in this process
//! calc emit FILE -o OUT.sil|OUT.silc              write the module for `vsp run` / `vsp build`
//! ```
//!
//! The language and this compiler are explained in docs/frontend-tutorial.md.

mod codegen;
mod error;
mod syntax;

use jit::{CallError, Config, EngineKind, Instance, Linker, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Everything that stops `calc`, with the exit status it maps to (as `vsp` uses them).
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("usage: calc run [--engine jit|interp] FILE [ARGS...] | calc emit FILE -o OUT")]
    Usage,
    #[error("{0}")]
    BadArgument(String),
    #[error("cannot read `{path}`: {err}")]
    Read { path: PathBuf, err: std::io::Error },
    #[error("cannot write `{path}`: {err}")]
    Write { path: PathBuf, err: std::io::Error },
    #[error("{file}:{err}")]
    Compile { file: String, err: error::CalcError },
    #[error("{0}")]
    Load(#[from] jit::LoadError),
}

impl CliError {
    fn status(&self) -> u8 {
        match self {
            CliError::Usage | CliError::BadArgument(_) => 2,
            CliError::Read { .. } => 66,
            CliError::Write { .. } => 73,
            CliError::Compile { .. } | CliError::Load(_) => 65,
        }
    }
}

/// Reads, parses and compiles a calc file; the module is named after the file.
fn compile_file(path: &Path) -> Result<bytecode::Module, CliError> {
    let src = std::fs::read_to_string(path).map_err(|err| CliError::Read {
        path: path.to_path_buf(),
        err,
    })?;
    let name = path
        .file_stem()
        .map_or_else(|| "calc".to_string(), |s| s.to_string_lossy().into_owned());
    let file = path.display().to_string();
    let funcs = syntax::parse(&src).map_err(|err| CliError::Compile {
        file: file.clone(),
        err,
    })?;
    codegen::compile(&funcs, &name).map_err(|err| CliError::Compile { file, err })
}

/// `main`'s arguments from the command line, typed by its parameters.
fn main_args(module: &bytecode::Module, args: &[String]) -> Result<Vec<Value>, CliError> {
    let main = module
        .find_func("main")
        .map(|id| module.func(id))
        .ok_or_else(|| CliError::BadArgument("the program has no `main`".into()))?;
    let types = main.param_types();
    if types.len() != args.len() {
        return Err(CliError::BadArgument(format!(
            "`main` takes {} arguments, {} given",
            types.len(),
            args.len()
        )));
    }
    types
        .iter()
        .zip(args)
        .map(|(ty, a)| {
            let bad = || CliError::BadArgument(format!("`{a}` is not a {ty}"));
            match ty {
                bytecode::Type::F64 => a.parse().map(Value::F64).map_err(|_| bad()),
                _ => a.parse().map(Value::I64).map_err(|_| bad()),
            }
        })
        .collect()
}

fn run(engine: EngineKind, file: &Path, args: &[String]) -> Result<u8, CliError> {
    let module = compile_file(file)?;
    let values = main_args(&module, args)?;
    let mut inst = Instance::new(Config::new().engine(engine), module, Linker::new())?;
    match inst.call("main", &values) {
        Ok(Some(Value::I64(status))) => Ok(status as u8),
        Ok(_) => Ok(0),
        Err(CallError::Exit(status)) => Ok(status as u8),
        Err(CallError::Trap(t)) => {
            eprintln!("error: trap: {}", t.message());
            eprint!("{}", t.render_backtrace());
            Ok(70)
        }
        Err(e) => Err(CliError::BadArgument(e.to_string())),
    }
}

fn emit(file: &Path, out: &Path) -> Result<u8, CliError> {
    let module = compile_file(file)?;
    let bytes = if out.extension().is_some_and(|e| e == "silc") {
        bytecode::encode(&module)
    } else {
        bytecode::print(&module).into_bytes()
    };
    std::fs::write(out, bytes).map_err(|err| CliError::Write {
        path: out.to_path_buf(),
        err,
    })?;
    Ok(0)
}

fn dispatch(args: &[String]) -> Result<u8, CliError> {
    match args {
        [cmd, rest @ ..] if cmd == "run" => {
            let (engine, rest) = match rest {
                [flag, e, rest @ ..] if flag == "--engine" => match e.as_str() {
                    "jit" => (EngineKind::Jit, rest),
                    "interp" => (EngineKind::Interp, rest),
                    _ => return Err(CliError::BadArgument(format!("unknown engine `{e}`"))),
                },
                _ => (EngineKind::Jit, rest),
            };
            let [file, main_args @ ..] = rest else {
                return Err(CliError::Usage);
            };
            run(engine, Path::new(file), main_args)
        }
        [cmd, file, o, out] if cmd == "emit" && o == "-o" => emit(Path::new(file), Path::new(out)),
        _ => Err(CliError::Usage),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("calc: {e}");
            ExitCode::from(e.status())
        }
    }
}
