//! `vsp build`: native executables, objects, C headers, the runtime archive and listings, for the host or a cross target.

use crate::error::CliError;
use crate::load;
use aot::{AotError, Listings, ObjectKind, Target};
use std::path::{Path, PathBuf};

/// What `vsp build` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Emit {
    /// A native executable (runs `main`; needs the target's C compiler to link).
    Exe,
    /// An ELF object for C programs (`.o`).
    Obj,
    /// The C header of the module's exports (`.h`).
    Header,
    /// The runtime as a static archive, linked once into a C program (`.a`).
    Runtime,
    /// Cranelift IR of every function (`.clif`).
    Clif,
    /// Disassembly of every function's machine code (`.s`).
    Asm,
}

impl Emit {
    /// The extension added to the output stem when several kinds are emitted.
    fn extension(self) -> &'static str {
        match self {
            Emit::Exe => "",
            Emit::Obj => ".o",
            Emit::Header => ".h",
            Emit::Runtime => ".a",
            Emit::Clif => ".clif",
            Emit::Asm => ".s",
        }
    }
}

#[derive(clap::Args)]
pub(crate) struct BuildArgs {
    /// The module (.sil or .silc).
    file: PathBuf,
    /// Output file; with several `--emit` kinds, a stem each output adds its extension to
    /// (none for exe). Default: the input's file stem, in the current directory.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// What to write, comma-separated: exe, obj, header, runtime, clif, asm.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "exe")]
    emit: Vec<Emit>,
    /// Target triple: x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu (default: this
    /// machine's). Linking for another architecture uses its cross C compiler (e.g.
    /// aarch64-linux-gnu-gcc); set VSP_CC to choose the C compiler.
    #[arg(long)]
    target: Option<String>,
    /// Optimisation level 0, 1 or 2 (`-O0`, `-O1`, `-O2`).
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=2))]
    opt: u8,
    /// Debug information (DWARF): `.sil` lines and functions for gdb, addr2line and perf.
    #[arg(short = 'g')]
    debug: bool,
}

/// Maps a backend error to the command's error and exit status.
fn cli_error(loaded_name: &str, e: AotError) -> CliError {
    match e {
        AotError::UnsupportedTarget(_) => CliError::Usage(e.to_string()),
        AotError::NoMain | AotError::NeedsExtern(_) | AotError::SymbolClash(_) => {
            CliError::Invalid(format!("{loaded_name}: error: {e}\n"))
        }
        AotError::Io { path, err } => CliError::CantWrite { path, err },
        e if e.is_unavailable() => CliError::Unavailable(e.to_string()),
        e => CliError::Internal(e.to_string()),
    }
}

/// Where output `kind` goes.
fn output_path(args: &BuildArgs, emits: &[Emit], kind: Emit) -> PathBuf {
    let stem = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(
            args.file
                .file_stem()
                .map_or_else(|| "out".into(), |s| s.to_os_string()),
        )
    });
    if emits.len() == 1 {
        return match (&args.output, kind) {
            (Some(out), _) => out.clone(),
            (None, Emit::Runtime) => PathBuf::from("libvsprt.a"),
            (None, k) => append(&stem, k.extension()),
        };
    }
    append(&stem, kind.extension())
}

/// `stem` with `ext` appended (not replacing an extension it may have).
fn append(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_os_string();
    s.push(ext);
    PathBuf::from(s)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|err| CliError::CantWrite {
        path: path.display().to_string(),
        err,
    })
}

/// Runs `vsp build`; returns the exit status.
pub(crate) fn build(args: &BuildArgs) -> Result<i32, CliError> {
    let target = match &args.target {
        Some(t) => Target::parse(t),
        None => Target::host(),
    }
    .map_err(|e| cli_error("", e))?;
    let mut emits: Vec<Emit> = Vec::new();
    for &e in &args.emit {
        if !emits.contains(&e) {
            emits.push(e);
        }
    }
    let loaded = load::load(&args.file)?;
    let name = loaded.display_name.as_str();
    let wants = |k: Emit| emits.contains(&k);
    if wants(Emit::Exe) {
        aot::check_executable(&loaded.module).map_err(|e| cli_error(name, e))?;
    }
    if wants(Emit::Exe) || wants(Emit::Runtime) {
        target.runtime_archive().map_err(|e| cli_error(name, e))?;
    }
    // Like `cc -o` with a directory that is not there yet, but friendlier: an output stem such
    // as `build/lib` makes its directory, so a C project can point several outputs there.
    for &k in &emits {
        let path = output_path(args, &emits, k);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| CliError::CantWrite {
                path: path.display().to_string(),
                err,
            })?;
        }
    }

    let listings = Listings {
        clif: wants(Emit::Clif),
        asm: wants(Emit::Asm),
    };
    // The listings come with the first object compiled; a library object when no executable
    // is wanted (a library may have no `main`).
    let mut listed: Option<aot::Compiled> = None;
    let source = args.debug.then(|| crate::run::source_path(name));
    let compile = |kind: ObjectKind, listings: Listings| {
        let isa = target
            .isa_with(args.opt, args.debug)
            .map_err(|e| cli_error(name, e))?;
        aot::compile_with_debug(&loaded.module, isa, kind, listings, source.as_deref())
            .map_err(|e| cli_error(name, e))
    };
    if wants(Emit::Exe) {
        let exe = compile(ObjectKind::Executable, listings)?;
        let path = output_path(args, &emits, Emit::Exe);
        aot::link_executable_with(&exe.object, target, &path, args.debug)
            .map_err(|e| cli_error(name, e))?;
        listed = Some(exe);
    }
    if wants(Emit::Obj) || (listed.is_none() && (listings.clif || listings.asm)) {
        let more = if listed.is_some() {
            Listings::default()
        } else {
            listings
        };
        let lib = compile(ObjectKind::Library, more)?;
        if wants(Emit::Obj) {
            write(&output_path(args, &emits, Emit::Obj), &lib.object)?;
        }
        if listed.is_none() {
            listed = Some(lib);
        }
    }
    if wants(Emit::Header) {
        write(
            &output_path(args, &emits, Emit::Header),
            aot::header(&loaded.module).as_bytes(),
        )?;
    }
    if wants(Emit::Runtime) {
        let archive = target.runtime_archive().map_err(|e| cli_error(name, e))?;
        write(&output_path(args, &emits, Emit::Runtime), archive)?;
    }
    if let Some(c) = &listed {
        if listings.clif {
            write(&output_path(args, &emits, Emit::Clif), c.clif.as_bytes())?;
        }
        if listings.asm {
            write(&output_path(args, &emits, Emit::Asm), c.asm.as_bytes())?;
        }
    }
    Ok(0)
}
