//! One REPL session: the live instance, the text of every accepted input, and what inputs do.

use super::input::{self, Call};
use bytecode::{Diagnostic, Diagnostics, Loc, Module, Type};
use jit::{CallError, FrameInfo, Instance, Linker, LoadError, Trap, TrapCode, Value};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A `:command`: its name, how its argument is written, what it does.
pub(crate) struct Cmd {
    pub name: &'static str,
    pub arg: &'static str,
    pub what: &'static str,
}

const fn cmd(name: &'static str, arg: &'static str, what: &'static str) -> Cmd {
    Cmd { name, arg, what }
}

/// The commands, for `:help`, prefix matching and tab completion.
pub(crate) const COMMANDS: [Cmd; 11] = [
    cmd("help", "", "this list"),
    cmd(
        "load",
        " FILE",
        "define everything in a .sil (or .silc) file",
    ),
    cmd(
        "list",
        "",
        "the functions (and externs) with their signatures",
    ),
    cmd("sil", " NAME", "a function as .sil text"),
    cmd(
        "dis",
        " NAME",
        "a function's machine code, with its .sil lines",
    ),
    cmd("clif", " NAME", "a function's Cranelift IR"),
    cmd("time", " CALL", "a call, then its compile and run time"),
    cmd("save", " FILE", "write the session's module as a .sil file"),
    cmd(
        "{",
        "",
        "start a group: items up to `:}` are defined together",
    ),
    cmd("}", "", "end a group"),
    cmd("quit", "", "leave (so does Ctrl-D)"),
];

/// Name used in diagnostics for text typed at the prompt.
const INPUT_NAME: &str = "<repl>";

/// What the front end does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Ready for a new input.
    Ready,
    /// Inside a definition or group: more lines are needed.
    More,
    Quit,
}

/// Text the module was built from, and where its lines sit in the session's line numbering.
///
/// Every accepted input is parsed as if preceded by the lines of all earlier inputs (by
/// padding it with empty lines), so a source line number names exactly one input. That is
/// what lets a verifier error in a function typed ten inputs ago, or a backtrace frame, be
/// shown with that function's own text, file name and line.
struct Chunk {
    /// `<repl>` or the path given to `:load`.
    name: String,
    text: String,
    /// Session line number of the text's first line.
    first: u32,
    lines: u32,
}

impl Chunk {
    fn contains(&self, line: u32) -> bool {
        line >= self.first && line - self.first < self.lines
    }
}

/// A definition or group still being typed.
struct Pending {
    text: String,
    /// Opened with `:{`: ends at `:}`, not when braces balance.
    group: bool,
}

pub(crate) struct Session {
    inst: Instance,
    /// True while a call runs: the SIGINT handler interrupts only then.
    running: Arc<AtomicBool>,
    chunks: Vec<Chunk>,
    next_line: u32,
    pending: Option<Pending>,
    /// Some input failed (piped mode turns this into the exit status).
    failed: bool,
    colour: bool,
    interactive: bool,
}

impl Session {
    pub(crate) fn new(inst: Instance, running: Arc<AtomicBool>, interactive: bool) -> Session {
        let colour = interactive && colour_wanted();
        Session {
            inst,
            running,
            chunks: Vec::new(),
            next_line: 1,
            pending: None,
            failed: false,
            colour,
            interactive,
        }
    }

    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    pub(crate) fn pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Drops a half-typed definition (Ctrl-C at the continuation prompt).
    pub(crate) fn discard_pending(&mut self) {
        self.pending = None;
    }

    /// Names for tab completion.
    pub(crate) fn function_names(&self) -> Vec<String> {
        self.inst
            .module()
            .funcs
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    /// End of input: a definition still open is reported, not silently dropped.
    pub(crate) fn finish(&mut self) {
        if let Some(p) = self.pending.take() {
            let what = if p.group {
                "a group opened with `:{` was not closed with `:}`"
            } else {
                "a definition was not finished (its `{` has no matching `}`)"
            };
            self.error(&format!(
                "error: end of input: {what}; it was not defined\n"
            ));
        }
    }

    /// Handles one line of input.
    pub(crate) fn feed_line(&mut self, line: &str) -> Flow {
        let line = line.trim_end_matches(['\n', '\r']);
        match &mut self.pending {
            Some(p) if p.group => {
                if line.trim() == ":}" {
                    let text = std::mem::take(&mut p.text);
                    self.pending = None;
                    self.define(&text, INPUT_NAME);
                    return Flow::Ready;
                }
                p.text.push_str(line);
                p.text.push('\n');
                return Flow::More;
            }
            Some(p) => {
                p.text.push_str(line);
                p.text.push('\n');
            }
            None => {
                let t = line.trim();
                if let Some(cmd) = t.strip_prefix(':') {
                    return self.command(cmd);
                }
                if input::strip_comments(t).trim().is_empty() {
                    return Flow::Ready;
                }
                self.pending = Some(Pending {
                    text: format!("{line}\n"),
                    group: false,
                });
            }
        }
        let Some(p) = &self.pending else {
            return Flow::Ready;
        };
        if input::open_braces(&p.text) > 0 {
            return Flow::More;
        }
        let text = self.pending.take().map(|p| p.text).unwrap_or_default();
        self.submit(&text);
        Flow::Ready
    }

    /// A complete input: a call, or items to define.
    fn submit(&mut self, text: &str) {
        match input::parse_call(text) {
            Some(Ok(call)) => self.call(&call, false),
            Some(Err(why)) => self.error(&format!("error: {why}\n")),
            None => match input::lone_ident(text) {
                Some(name) if self.inst.module().find_func(&name).is_some() => {
                    let sig = self.signature(&name);
                    self.error(&format!(
                        "error: `{name}` is a function; call it with literal arguments: {sig}\n"
                    ));
                }
                _ => self.define(text, INPUT_NAME),
            },
        }
    }

    fn signature(&self, name: &str) -> String {
        let m = self.inst.module();
        m.find_func(name)
            .map_or_else(String::new, |id| m.func(id).signature())
    }

    // ---- output ----------------------------------------------------------------------------

    fn out(&self, text: &str) {
        let mut so = std::io::stdout().lock();
        // A closed stdout (`vsp repl | head`) is not worth dying over; the session goes on.
        let _ = so.write_all(text.as_bytes());
        let _ = so.flush();
    }

    /// Text for stderr, after what stdout has (so a shared terminal shows them in order).
    fn to_stderr(&self, text: &str) {
        let _ = std::io::stdout().flush();
        let text = if self.colour {
            paint(text)
        } else {
            text.to_string()
        };
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    fn error(&mut self, text: &str) {
        self.failed = true;
        self.to_stderr(text);
    }

    // ---- definitions -----------------------------------------------------------------------

    /// Defines the items in `text` (all or nothing), naming what changed.
    fn define(&mut self, text: &str, name: &str) {
        let chunk = Chunk {
            name: name.to_string(),
            text: text.to_string(),
            first: self.next_line,
            lines: (text.lines().count() as u32).max(1),
        };
        let padded = format!("{}{text}", "\n".repeat(chunk.first as usize - 1));
        let old = self.inst.module().clone();
        // Parsing here first finds the externs the text adds (the REPL gives them a host
        // function that traps) and, if it fails, is the same diagnostic `define` would give.
        let new = match bytecode::parse_into(&padded, old.clone()) {
            Ok(m) => m,
            Err(d) => {
                let text = self.render(&d, &chunk);
                self.error(&text);
                return;
            }
        };
        let mut linker = Linker::new();
        for e in new.externs.iter().skip(old.externs.len()) {
            let ext = e.name.clone();
            linker.func(&e.name, move |_| {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: extern `{ext}` has no host function in the REPL (calling it traps)"
                );
                Err(Trap::new(TrapCode::Unreachable))
            });
        }
        match self.inst.define_with(&padded, linker) {
            Ok(_) => {
                self.next_line = chunk.first + chunk.lines;
                self.chunks.push(chunk);
                self.report_defined(&old, &new);
            }
            Err(LoadError::Invalid(d)) => self.refuse(&old, &new, &d, &chunk),
            Err(e) => self.error(&format!("error: {e}\n")),
        }
    }

    /// `defined f(..)` / `redefined f(..)` for each function the text changed.
    fn report_defined(&self, old: &Module, new: &Module) {
        let mut text = String::new();
        for (i, f) in new.funcs.iter().enumerate() {
            match old.funcs.get(i) {
                None => text.push_str(&format!("defined {}\n", f.signature())),
                Some(o) if o != f => text.push_str(&format!("redefined {}\n", f.signature())),
                Some(_) => {}
            }
        }
        for e in new.externs.iter().skip(old.externs.len()) {
            text.push_str(&format!(
                "declared extern {} (the REPL has no host functions: calling it traps)\n",
                e.name
            ));
        }
        self.out(&text);
    }

    /// The module did not verify: explain, naming the callers a signature change breaks.
    fn refuse(&mut self, old: &Module, new: &Module, d: &Diagnostics, chunk: &Chunk) {
        let mut text = String::new();
        for (i, o) in old.funcs.iter().enumerate() {
            let f = &new.funcs[i];
            if o.param_types() == f.param_types() && o.ret == f.ret {
                continue;
            }
            // Callers defined in this same input changed with it; the others did not.
            let broken: Vec<String> = self
                .inst
                .callers(&o.name)
                .into_iter()
                .filter(|c| {
                    let idx = old.find_func(c).map_or(0, |id| id.0 as usize);
                    old.funcs.get(idx) == new.funcs.get(idx)
                        && d.0.iter().any(|x| in_function(&old.funcs[idx], x.loc.line))
                })
                .collect();
            if broken.is_empty() {
                continue;
            }
            let list = broken
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let (s, them) = if broken.len() == 1 {
                ("", "it")
            } else {
                ("s", "them")
            };
            text.push_str(&format!(
                "error: `{}` cannot change its signature from `{}` to `{}`: its caller{s} {list} would no longer verify\n",
                o.name,
                o.signature(),
                f.signature()
            ));
            text.push_str(&format!(
                "note: nothing changed; to change both, redefine `{}` together with {them} between `:{{` and `:}}` (or `:load` a file with all of them)\n",
                o.name
            ));
        }
        text.push_str(&self.render(d, chunk));
        self.error(&text);
    }

    /// Diagnostics, each shown with the file (or `<repl>`), line and text of the input it is
    /// in: the current one, or an earlier one (a caller the current input breaks).
    fn render(&self, d: &Diagnostics, current: &Chunk) -> String {
        d.0.iter()
            .map(|x| {
                let line = x.loc.line;
                let chunk = if current.contains(line) {
                    Some(current)
                } else {
                    self.chunks.iter().find(|c| c.contains(line))
                };
                match chunk {
                    Some(c) => {
                        Diagnostic::new(Loc::new(line - c.first + 1, x.loc.col), x.message.clone())
                            .render(&c.name, Some(&c.text))
                    }
                    None => {
                        Diagnostic::new(Loc::NONE, x.message.clone()).render(&current.name, None)
                    }
                }
            })
            .collect()
    }

    // ---- calls -----------------------------------------------------------------------------

    /// Turns the call's literal arguments into values of the parameters' types.
    fn arguments(&self, call: &Call) -> Result<Vec<Value>, String> {
        let m = self.inst.module();
        let Some(id) = m.find_func(&call.name) else {
            return Err(if m.find_extern(&call.name).is_some() {
                format!(
                    "`{}` is an extern: the REPL has no host function for it",
                    call.name
                )
            } else {
                format!("no function named `{}` (`:list` shows them)", call.name)
            });
        };
        let f = m.func(id);
        let params = f.params();
        if params.len() != call.args.len() {
            return Err(format!(
                "`{}` takes {} argument{} ({}), {} given",
                call.name,
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                f.signature(),
                call.args.len()
            ));
        }
        let mut values = Vec::with_capacity(params.len());
        for (text, p) in call.args.iter().zip(params) {
            let bad = |why: String| format!("argument `{text}` for `{}: {}`: {why}", p.name, p.ty);
            let k = bytecode::parse_literal(text).map_err(bad)?;
            let slot = k.to_slot(p.ty).ok_or_else(|| {
                bad(match (k, p.ty) {
                    (bytecode::Const::Float(_), Type::I64) => {
                        "expected an integer, found a float".into()
                    }
                    (bytecode::Const::Int(_), Type::F64) => {
                        "this integer has no exact f64 value (write it as a float)".into()
                    }
                    (_, Type::Sil) => "expected a sil literal such as `sil(1, 2)`".into(),
                    _ => format!("not a value of type {}", p.ty),
                })
            })?;
            values.push(match p.ty {
                Type::I64 => Value::I64(slot as i64),
                Type::F64 => Value::F64(f64::from_bits(slot)),
                Type::Sil => Value::Sil(slot as u8),
            });
        }
        Ok(values)
    }

    /// Runs a call: the program's output (flushed by the engine), then `= VALUE : TYPE`.
    fn call(&mut self, call: &Call, timed: bool) {
        let args = match self.arguments(call) {
            Ok(a) => a,
            Err(why) => return self.error(&format!("error: {why}\n")),
        };
        let compiled_before = self.inst.stats().compile_time;
        self.running.store(true, Ordering::SeqCst);
        let start = Instant::now();
        let result = self.inst.call(&call.name, &args);
        let elapsed = start.elapsed();
        self.running.store(false, Ordering::SeqCst);
        let compile = self
            .inst
            .stats()
            .compile_time
            .saturating_sub(compiled_before);
        if self.inst.output_line_open() {
            self.out("\n");
        }
        match result {
            Ok(Some(v)) => self.out(&format!("= {v} : {}\n", v.ty())),
            Ok(None) => {}
            Err(CallError::Trap(t)) if t.code == TrapCode::Interrupted => {
                // The terminal echoed `^C` on the current line.
                let nl = if self.interactive { "\n" } else { "" };
                let bt = self.backtrace(&t);
                self.error(&format!("{nl}error: interrupted\n{bt}"));
            }
            Err(CallError::Trap(t)) => {
                let bt = self.backtrace(&t);
                self.error(&format!("error: {t}\n{bt}"));
            }
            Err(CallError::Exit(status)) => self.to_stderr(&format!(
                "note: the program ran `exit {status}`; the session goes on\n"
            )),
            Err(e) => self.error(&format!("error: {e}\n")),
        }
        if timed {
            self.out(&format!(
                "time: compile {}, run {}\n",
                ms(compile),
                ms(elapsed.saturating_sub(compile))
            ));
        }
    }

    /// The trap's backtrace with lines counted within each function's own input, and runs of
    /// one repeated frame (deep recursion) folded.
    fn backtrace(&self, t: &Trap) -> String {
        let frames: Vec<FrameInfo> = t
            .backtrace
            .iter()
            .map(|f| FrameInfo {
                func: f.func.clone(),
                line: self
                    .chunks
                    .iter()
                    .find(|c| c.contains(f.line))
                    .map_or(0, |c| f.line - c.first + 1),
            })
            .collect();
        let mut out = String::new();
        let mut i = 0;
        while i < frames.len() {
            let run = frames[i..].iter().take_while(|f| **f == frames[i]).count();
            let one = Trap {
                code: t.code,
                backtrace: vec![frames[i].clone()],
                omitted_frames: 0,
            };
            out.push_str(&one.render_backtrace());
            if run > 2 {
                out.push_str(&format!(
                    "  ... {} more frames like the one above\n",
                    run - 1
                ));
                i += run;
            } else {
                i += 1;
            }
        }
        out
    }

    // ---- commands --------------------------------------------------------------------------

    fn command(&mut self, cmd: &str) -> Flow {
        let cmd = cmd.trim();
        let (word, arg) = match cmd.find(char::is_whitespace) {
            Some(i) => (&cmd[..i], cmd[i..].trim()),
            None => (cmd, ""),
        };
        let matches: Vec<&str> = COMMANDS
            .iter()
            .map(|c| c.name)
            .filter(|c| *c == word || (!word.is_empty() && c.starts_with(word)))
            .collect();
        let name = match matches.as_slice() {
            [one] => *one,
            _ if matches.contains(&word) => word,
            [] => {
                self.error(&format!(
                    "error: unknown command `:{word}` (`:help` lists the commands)\n"
                ));
                return Flow::Ready;
            }
            many => {
                let list: Vec<String> = many.iter().map(|c| format!("`:{c}`")).collect();
                self.error(&format!(
                    "error: `:{word}` is ambiguous: {}\n",
                    list.join(", ")
                ));
                return Flow::Ready;
            }
        };
        let needs_arg = COMMANDS.iter().any(|c| c.name == name && !c.arg.is_empty());
        if needs_arg && arg.is_empty() {
            let usage = COMMANDS
                .iter()
                .find(|c| c.name == name)
                .map_or("", |c| c.arg);
            self.error(&format!("error: usage: :{name}{usage}\n"));
            return Flow::Ready;
        }
        if !needs_arg && !arg.is_empty() {
            self.error(&format!("error: `:{name}` takes no argument\n"));
            return Flow::Ready;
        }
        match name {
            "help" => self.out(&help()),
            "quit" => return Flow::Quit,
            "list" => self.list(),
            "load" => self.load(unquote(arg)),
            "save" => self.save(unquote(arg)),
            "dis" => match self.inst.asm(arg) {
                Some(asm) => self.out(&format!("{}\n", asm.trim_end())),
                None if self.inst.module().find_func(arg).is_none() => self.no_function(arg),
                None => self.error(&format!("error: `{arg}` could not be compiled\n")),
            },
            "sil" => match self.inst.module().find_func(arg) {
                Some(id) => {
                    let m = self.inst.module();
                    self.out(&bytecode::text::print_function(m, m.func(id)));
                }
                None => self.no_function(arg),
            },
            "clif" => match self.inst.clif(arg) {
                Some(ir) => self.out(&format!("{}\n", ir.trim_end())),
                None if self.inst.module().find_func(arg).is_none() => self.no_function(arg),
                None => self.error(&format!("error: `{arg}` could not be compiled\n")),
            },
            "time" => match input::parse_call(arg) {
                Some(Ok(call)) => self.call(&call, true),
                Some(Err(why)) => self.error(&format!("error: {why}\n")),
                None => self.error("error: `:time` takes a call, e.g. `:time fib(30)`\n"),
            },
            "{" => {
                self.pending = Some(Pending {
                    text: String::new(),
                    group: true,
                });
                return Flow::More;
            }
            "}" => self.error("error: `:}` without `:{`\n"),
            _ => {}
        }
        Flow::Ready
    }

    fn no_function(&mut self, name: &str) {
        self.error(&format!(
            "error: no function named `{name}` (`:list` shows them)\n"
        ));
    }

    fn list(&self) {
        let m = self.inst.module();
        let mut text = String::new();
        for e in &m.externs {
            let params: Vec<String> = e.params.iter().map(Type::to_string).collect();
            let ret = e.ret.map_or(String::new(), |t| format!(" -> {t}"));
            text.push_str(&format!(
                "extern func {}({}){ret}\n",
                e.name,
                params.join(", ")
            ));
        }
        for f in &m.funcs {
            let export = if f.export { "export " } else { "" };
            text.push_str(&format!("{export}func {}\n", f.signature()));
        }
        if text.is_empty() {
            text.push_str("(no functions yet)\n");
        }
        self.out(&text);
    }

    fn load(&mut self, path: &str) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.error(&format!("error: cannot read `{path}`: {e}\n")),
        };
        // A `.silc` is shown as the text it decodes to (its diagnostics point there).
        let text = if path.ends_with(".silc") || bytes.first() == Some(&0) {
            match bytecode::decode(&bytes) {
                Ok(m) => bytecode::print(&m),
                Err(e) => return self.error(&format!("{path}: error: invalid .silc: {e}\n")),
            }
        } else {
            match crate::load::utf8_source(bytes, path) {
                Ok(t) => t,
                Err(rendered) => return self.error(&rendered),
            }
        };
        self.define(&text, path);
    }

    fn save(&mut self, path: &str) {
        let m = self.inst.module();
        let text = bytecode::print(m);
        let n = m.funcs.len();
        match std::fs::write(path, text) {
            Ok(()) => self.out(&format!(
                "saved {n} function{} to {path}\n",
                if n == 1 { "" } else { "s" }
            )),
            Err(e) => self.error(&format!("error: cannot write `{path}`: {e}\n")),
        }
    }
}

/// Whether a diagnostic on session line `line` lies in function `f` (from its header to its
/// last instruction, label or register declaration).
fn in_function(f: &bytecode::Function, line: u32) -> bool {
    let last = f
        .body
        .iter()
        .map(|i| i.loc.line)
        .chain(f.labels.iter().map(|l| l.loc.line))
        .chain(f.regs.iter().map(|r| r.loc.line))
        .max()
        .unwrap_or(f.loc.line);
    line >= f.loc.line && line <= last.max(f.loc.line)
}

/// `"a b.sil"` → `a b.sil`: paths with spaces may be quoted.
fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

pub(crate) fn help() -> String {
    let mut s = String::from(
        "Type module items (`func`, `export func`, `memory`, `data`, `extern func`, `module`) to\n\
         define or redefine them; a `func ... {` continues until its braces balance.\n\
         Type a call with literal arguments, e.g. `fib(30)` or `f(1.5, 'A', sil(1, 2))`, to run it.\n\
         Commands (any unique prefix works, e.g. `:q`):\n",
    );
    for Cmd { name, arg, what } in COMMANDS {
        let left = format!(":{name}{arg}");
        s.push_str(&format!("  {left:<12} {what}\n"));
    }
    s.push_str("Ctrl-C stops a running call or clears the line; Ctrl-D leaves.\n");
    s
}

/// Colour only where a person reads it, and never against their wish (`NO_COLOR`).
fn colour_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Red `error:`, cyan `note:`.
fn paint(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for line in text.split_inclusive('\n') {
        let styled = [("error:", "\x1b[1;31m"), ("note:", "\x1b[1;36m")]
            .iter()
            .find_map(|(word, style)| {
                let at = if line.starts_with(word) {
                    Some(0)
                } else {
                    line.find(&format!(": {word}")).map(|i| i + 2)
                }?;
                Some(format!(
                    "{}{style}{word}\x1b[0m{}",
                    &line[..at],
                    &line[at + word.len()..]
                ))
            });
        out.push_str(styled.as_deref().unwrap_or(line));
    }
    out
}
