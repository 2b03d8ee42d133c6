//! The terminal front end: rustyline editing, history in the state directory, tab completion.

use super::session::{COMMANDS, Flow, Session};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::io::Write;
use std::path::PathBuf;

const PROMPT: &str = "vsp> ";
const MORE: &str = "...> ";

/// Completion: `:command` names, file names after `:load`/`:save`, function names elsewhere.
struct ReplHelper {
    names: Vec<String>,
    files: FilenameCompleter,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let trimmed = before.trim_start();
        if let Some(word) = trimmed.strip_prefix(':') {
            if !word.contains(char::is_whitespace) {
                let start = before.len() - trimmed.len();
                let pairs = COMMANDS
                    .iter()
                    .filter(|c| c.name.starts_with(word))
                    .map(|c| Pair {
                        display: format!(":{}", c.name),
                        replacement: format!(
                            ":{}{}",
                            c.name,
                            if c.arg.is_empty() { "" } else { " " }
                        ),
                    })
                    .collect();
                return Ok((start, pairs));
            }
            if word.starts_with("load") || word.starts_with("save") {
                return self.files.complete(line, pos, ctx);
            }
        }
        let start = before
            .char_indices()
            .rev()
            .find(|&(_, c)| !super::input::is_ident_char(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        let pairs = self
            .names
            .iter()
            .filter(|n| n.starts_with(word))
            .map(|n| Pair {
                display: n.clone(),
                replacement: n.clone(),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}
impl Highlighter for ReplHelper {}
impl Validator for ReplHelper {}
impl Helper for ReplHelper {}

/// `$XDG_STATE_HOME/vsp/history`, else `~/.local/state/vsp/history` (relative values are
/// ignored, as the XDG spec asks).
fn history_path() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let state = std::env::var_os("XDG_STATE_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".local").join("state"))
        })?;
    Some(state.join("vsp").join("history"))
}

/// Writes history without ever failing the session; says so once if it cannot.
struct HistoryFile {
    path: Option<PathBuf>,
    warned: bool,
}

impl HistoryFile {
    fn warn(&mut self, what: &str) {
        if !std::mem::replace(&mut self.warned, true) {
            let _ = writeln!(std::io::stderr(), "note: history is not saved: {what}");
        }
    }

    fn open(&mut self, rl: &mut Editor<ReplHelper, FileHistory>) {
        let Some(path) = self.path.clone() else {
            return self.warn("neither XDG_STATE_HOME nor HOME is set");
        };
        if let Some(dir) = path.parent()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            return self.warn(&format!("cannot create {}: {e}", dir.display()));
        }
        if path.exists()
            && let Err(e) = rl.load_history(&path)
        {
            self.warn(&format!("cannot read {}: {e}", path.display()));
        }
    }

    fn add(&mut self, rl: &mut Editor<ReplHelper, FileHistory>, entry: &str) {
        if entry.trim().is_empty() {
            return;
        }
        let _ = rl.add_history_entry(entry);
        if let Some(path) = self.path.clone()
            && let Err(e) = rl.append_history(&path)
        {
            self.warn(&format!("cannot write {}: {e}", path.display()));
        }
    }
}

/// The interactive loop.
pub(crate) fn run(session: &mut Session, banner: &str) {
    let config = rustyline::Config::builder()
        .max_history_size(10_000)
        .and_then(|b| b.history_ignore_dups(true))
        .map(|b| b.auto_add_history(false).build());
    let editor = config.and_then(Editor::<ReplHelper, FileHistory>::with_config);
    let mut rl = match editor {
        Ok(rl) => rl,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot start line editing: {e}");
            return;
        }
    };
    rl.set_helper(Some(ReplHelper {
        names: Vec::new(),
        files: FilenameCompleter::new(),
    }));
    let mut history = HistoryFile {
        path: history_path(),
        warned: false,
    };
    history.open(&mut rl);
    let _ = writeln!(std::io::stdout(), "{banner}");
    // A multi-line definition is one history entry, so Up brings all of it back to edit.
    let mut entry = String::new();
    loop {
        let prompt = if session.pending() { MORE } else { PROMPT };
        match rl.readline(prompt) {
            Ok(text) => {
                if !entry.is_empty() {
                    entry.push('\n');
                }
                entry.push_str(&text);
                let mut flow = Flow::Ready;
                for line in text.split('\n') {
                    flow = session.feed_line(line);
                    if flow == Flow::Quit {
                        break;
                    }
                }
                if flow != Flow::More {
                    history.add(&mut rl, &std::mem::take(&mut entry));
                }
                if flow == Flow::Quit {
                    return;
                }
                if let Some(h) = rl.helper_mut() {
                    h.names = session.function_names();
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C at the prompt clears the line (and a half-typed definition).
                session.discard_pending();
                entry.clear();
            }
            Err(ReadlineError::Eof) => {
                if !entry.is_empty() {
                    history.add(&mut rl, &std::mem::take(&mut entry));
                }
                session.finish();
                return;
            }
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: cannot read the terminal: {e}");
                return;
            }
        }
    }
}
