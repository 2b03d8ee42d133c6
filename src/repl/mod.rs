//! `vsp repl`: an interactive session on the embedding API (docs/reference/embedding.md), at a terminal or piped.

mod input;
mod session;
mod terminal;

use crate::error::CliError;
use jit::{Config, Instance, Linker};
use session::{Flow, Session};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which engine runs the session's calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReplEngine {
    Jit,
    Interp,
    Tiered,
}

#[derive(clap::Args)]
pub(crate) struct ReplArgs {
    #[arg(long, value_enum, default_value = "jit")]
    engine: ReplEngine,
    /// Optimisation level 0, 1 or 2 (`-O0`, `-O1`, `-O2`).
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=2))]
    opt: u8,
}

/// Runs the session. Status: 0, or (piped input only) 1 if any input failed; see docs/repl.md.
pub(crate) fn repl(args: &ReplArgs) -> Result<i32, CliError> {
    let engine = match args.engine {
        ReplEngine::Jit => jit::EngineKind::Jit,
        ReplEngine::Interp => jit::EngineKind::Interp,
        ReplEngine::Tiered => jit::EngineKind::Tiered,
    };
    let config = Config::new()
        .engine(engine)
        .opt_level(args.opt)
        .interruptible(true);
    let inst = Instance::from_text(config, "", "repl", Linker::new())
        .map_err(|e| CliError::Internal(format!("cannot start the session: {e}")))?;
    let interactive = std::io::stdin().is_terminal();
    let running = Arc::new(AtomicBool::new(false));
    let handle = inst.interrupt_handle();
    let flag = running.clone();
    // Ctrl-C while a call runs stops the call. At a terminal prompt the line editor sees Ctrl-C
    // as a key (raw mode), so this runs only during calls and definitions, where it is
    // ignored. Piped, SIGINT outside a call ends the session as it would any filter.
    let installed = ctrlc::set_handler(move || {
        if flag.load(Ordering::SeqCst) {
            handle.interrupt();
        } else if !interactive {
            std::process::exit(130);
        }
    });
    if let Err(e) = installed {
        let _ = writeln!(
            std::io::stderr(),
            "note: Ctrl-C cannot stop running calls in this session: {e}"
        );
    }
    let mut session = Session::new(inst, running, interactive);
    if interactive {
        let banner = format!(
            "vsp repl ({}, -O{}): `:help` lists the commands, Ctrl-D leaves",
            engine.name(),
            args.opt
        );
        terminal::run(&mut session, &banner);
        Ok(0)
    } else {
        piped(&mut session);
        Ok(i32::from(session.failed()))
    }
}

/// Reads standard input line by line: no prompts, no colour, no echo.
fn piped(session: &mut Session) {
    loop {
        let mut buf = Vec::new();
        // The lock is held only while reading a line: a call's `getc` reads the same buffered
        // stdin (from the thread running the code), so a program can read the lines after it.
        let n = std::io::stdin().lock().read_until(b'\n', &mut buf);
        match n {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: cannot read standard input: {e}");
                break;
            }
        }
        if session.feed_line(&String::from_utf8_lossy(&buf)) == Flow::Quit {
            return;
        }
    }
    session.finish();
}
