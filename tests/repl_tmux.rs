//! `vsp repl` through a real terminal: tmux types into a pane and the test polls what it shows.

mod common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long any one expected text may take to appear (a debug build on a loaded machine).
const TIMEOUT: Duration = Duration::from_secs(30);

/// True if tmux runs here. Without it the tests are skipped, except in CI, where that is a
/// broken setup (`.ci/run` installs tmux) and must fail loudly.
fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is not installed, and CI=true: the terminal tests must run in CI"
        );
        eprintln!("skipping: tmux is not installed (the REPL's terminal tests need it)");
    }
    ok
}

/// One tmux server (its own socket) running one `vsp repl` session, killed on drop, so a
/// failing test leaves nothing behind.
struct Pane {
    socket: String,
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

impl Pane {
    /// Starts `vsp repl ARGS` in a 120x40 pane, with a private history directory `state`.
    fn start(test: &str, state: &Path, args: &str) -> Pane {
        std::fs::create_dir_all(state).unwrap();
        let pane = Pane {
            socket: format!("vsp-test-{}-{test}", std::process::id()),
        };
        let cmd = format!(
            "env XDG_STATE_HOME={} HOME={} {} repl {args}",
            shell_quote(state),
            shell_quote(state),
            shell_quote(Path::new(common::vsp()))
        );
        let out = pane.tmux(&[
            "new-session",
            "-d",
            "-s",
            "repl",
            "-x",
            "120",
            "-y",
            "40",
            &cmd,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pane
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        if std::env::var_os("TERM").is_none() {
            cmd.env("TERM", "xterm");
        }
        cmd.output().expect("tmux runs")
    }

    /// Keys as tmux names them (`Enter`, `Up`, `C-c`, `Tab`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "repl"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Types `text` literally (`-l`: no key names) without waiting for a prompt.
    fn type_ahead(&self, text: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", "repl", "-l", text])
                .status
                .success()
        );
    }

    /// Waits for a prompt (`vsp>` or `...>`) on the last line, as a person would before
    /// typing: keys typed earlier reach the terminal while it is not in the line editor's
    /// raw mode and are echoed out of place (as with any readline program).
    fn wait_prompt(&self) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            let last = screen.lines().rev().find(|l| !l.trim().is_empty());
            if matches!(last.map(str::trim), Some("vsp>" | "...>")) {
                return;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "no prompt within {TIMEOUT:?}; the pane:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// At the next prompt, types `text`, then Enter.
    fn line(&self, text: &str) {
        self.wait_prompt();
        self.type_ahead(text);
        self.keys(&["Enter"]);
    }

    /// Types several lines.
    fn lines(&self, text: &str) {
        for l in text.lines() {
            self.line(l);
        }
    }

    /// The whole pane, scrollback included. (Not `-J`: joining wrapped lines loses a line
    /// after coloured text with tmux 3.3.)
    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-S", "-", "-t", "repl"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn count(&self, needle: &str) -> usize {
        self.screen().matches(needle).count()
    }

    /// Waits until `needle` shows at least `times` times; returns how long that took.
    fn wait_n(&self, needle: &str, times: usize) -> Duration {
        let start = Instant::now();
        loop {
            if self.count(needle) >= times {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "`{needle}` did not show {times} time(s) within {TIMEOUT:?}; the pane:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Does `act`, then waits for one more `needle` than there was before.
    fn expect(&self, needle: &str, act: impl FnOnce()) -> Duration {
        let before = self.count(needle);
        act();
        self.wait_n(needle, before + 1)
    }

    fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", "repl"]).status.success()
    }

    /// Waits for the REPL to exit (the session closes with it).
    fn wait_exit(&self) {
        let start = Instant::now();
        while self.alive() {
            assert!(
                start.elapsed() < TIMEOUT,
                "the REPL did not exit; the pane:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

fn state_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("repl_tmux")
        .join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const SQ: &str = "func sq(x: i64) -> i64 {\n    mul x, x, x\n    ret x\n}";

#[test]
fn a_terminal_session() {
    if !have_tmux() {
        return;
    }
    let state = state_dir("session");
    let p = Pane::start("session", &state, "");
    p.wait_prompt();

    // A multi-line definition and a call; the time from typing to seeing the result is the
    // latency a person feels (parse, verify, lazy Cranelift compile, call, print).
    p.wait_prompt();
    let typed = Instant::now();
    // All keys at once (`\r` is Enter), so the number is the REPL's, not the test's polling.
    p.type_ahead(&format!("{SQ}\nsq(12)\n").replace('\n', "\r"));
    p.wait_n("= 144 : i64", 1);
    let first = typed.elapsed();
    assert!(
        p.screen().contains("...>     mul x, x, x"),
        "continuation prompt"
    );
    let warm = p.expect("= 169 : i64", || p.line("sq(13)"));
    println!(
        "repl latency (tmux send-keys to result on screen): 4-line function + call {:.1} ms; a call to it {:.1} ms",
        first.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3
    );

    // Redefinition seen by a caller compiled earlier.
    p.lines("func scale() -> i64 {\n    ret 10\n}");
    p.lines("func twice(x: i64) -> i64 {\n    reg k: i64\n    call k, scale()\n    mul x, x, k\n    ret x\n}");
    p.expect("= 40 : i64", || p.line("twice(4)"));
    p.lines("func scale() -> i64 {\n    ret 100\n}");
    p.expect("= 400 : i64", || p.line("twice(4)"));

    // A trap, then a good call.
    p.lines("func div(a: i64, b: i64) -> i64 {\n    div a, a, b\n    ret a\n}");
    p.expect("error: trap: integer divide by zero", || {
        p.line("div(1, 0)")
    });
    p.wait_n("  at div (line 2)", 1);
    p.expect("= 3 : i64", || p.line("div(7, 2)"));

    // An invalid definition (with its caret), then a good call.
    p.expect("error: undeclared register `x`", || {
        p.lines("func bad() {\n    add x, 1, 2\n}")
    });
    p.wait_n("  |         ^", 1);
    p.expect("= 400 : i64", || p.line("twice(4)"));

    // :load, :sil, :dis, :clif, :time, tab completion.
    let file = state.join("lib.sil");
    std::fs::write(&file, "func cube(x: f64) -> f64 {\n    reg y: f64\n    mul y, x, x\n    mul y, y, x\n    ret y\n}\n").unwrap();
    p.expect("defined cube(x: f64) -> f64", || {
        p.line(&format!(":load {}", file.display()))
    });
    p.expect("= 3.375 : f64", || p.line("cube(1.5)"));
    p.expect("    mul y, y, x", || p.line(":sil cube"));
    p.expect(":  ; line ", || p.line(":dis cube"));
    p.expect("fmul", || p.line(":clif cube"));
    p.lines("func sum(n: i64) -> i64 {\n    reg s: i64\nloop:\n    add s, s, n\n    sub n, n, 1\n    bgt n, 0, loop\n    ret s\n}");
    p.expect("time: compile ", || p.line(":time sum(1000000)"));
    p.wait_n("= 500000500000 : i64", 1);
    // `cu` + Tab completes to `cube`.
    p.expect("= 8 : f64", || {
        p.wait_prompt();
        p.type_ahead("cu");
        p.keys(&["Tab"]);
        p.wait_n("vsp> cube", 1);
        p.type_ahead("(2)");
        p.keys(&["Enter"]);
    });

    // `:he` + Tab completes the command.
    p.expect("Commands (any unique prefix", || {
        p.wait_prompt();
        p.type_ahead(":he");
        p.keys(&["Tab"]);
        p.wait_n("vsp> :help", 1);
        p.keys(&["Enter"]);
    });

    let screen = p.screen();
    p.line(":quit");
    p.wait_exit();
    // The first screenful, for the report and docs/repl.md.
    println!("--- transcript ---\n{}", screen.trim_end());
}

#[test]
fn ctrl_c_stops_a_running_call() {
    if !have_tmux() {
        return;
    }
    let state = state_dir("ctrlc");
    for engine in ["jit", "interp", "tiered"] {
        let p = Pane::start(
            &format!("ctrlc-{engine}"),
            &state,
            &format!("--engine {engine}"),
        );
        p.wait_prompt();
        p.lines("func spin() {\nloop:\n    jmp loop\n}");
        p.lines("func ok() -> i64 {\n    ret 7\n}");
        p.wait_n("defined ok()", 1);
        p.line("spin()");
        // Ctrl-C until the call reports it was interrupted (a first one may arrive before the
        // call starts, when SIGINT is ignored).
        let start = Instant::now();
        loop {
            p.keys(&["C-c"]);
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(500) && p.count("error: interrupted") == 0 {
                std::thread::sleep(Duration::from_millis(10));
            }
            if p.count("error: interrupted") > 0 {
                break;
            }
            assert!(start.elapsed() < TIMEOUT, "{engine}: {}", p.screen());
        }
        p.wait_n("  at spin", 1);
        p.expect("= 7 : i64", || p.line("ok()"));
        // Ctrl-C at the prompt clears the line, also inside a half-typed definition.
        p.wait_prompt();
        p.type_ahead("this is not run");
        p.wait_n("vsp> this is not run", 1);
        p.keys(&["C-c"]);
        p.line("func half() {");
        p.wait_n("...>", 1);
        p.keys(&["C-c"]);
        p.expect("= 7 : i64", || p.line("ok()"));
        let screen = p.screen();
        assert!(!screen.contains("error: <repl>"), "{screen}");
        assert!(!screen.contains("defined half"), "{screen}");
        p.wait_prompt();
        p.keys(&["C-d"]);
        p.wait_exit();
    }
}

#[test]
fn history_is_recalled_with_up_and_kept_across_sessions() {
    if !have_tmux() {
        return;
    }
    let state = state_dir("history");
    {
        let p = Pane::start("history-1", &state, "");
        p.wait_prompt();
        p.lines(SQ);
        p.expect("= 4 : i64", || p.line("sq(2)"));
        // Up recalls the call; Up twice the whole multi-line definition.
        p.expect("= 4 : i64", || {
            p.wait_prompt();
            p.keys(&["Up", "Enter"]);
        });
        p.expect("redefined sq(x: i64) -> i64", || {
            p.wait_prompt();
            p.keys(&["Up"]);
            p.wait_n("vsp> sq(2)", 3);
            p.keys(&["Up"]);
            p.wait_n("vsp> func sq(x: i64) -> i64 {", 2);
            p.keys(&["Enter"]);
        });
        p.line(":quit");
        p.wait_exit();
    }
    let file = state.join("vsp").join("history");
    let saved = std::fs::read_to_string(&file).expect("history written to $XDG_STATE_HOME/vsp");
    assert!(saved.contains("sq(2)"), "{saved}");

    // A new session recalls the previous one's definition.
    let p = Pane::start("history-2", &state, "");
    p.wait_prompt();
    p.expect("defined sq(x: i64) -> i64", || {
        p.wait_prompt();
        p.keys(&["Up", "Up"]);
        p.wait_n("vsp> func sq", 1);
        p.keys(&["Enter"]);
    });
    p.expect("= 9 : i64", || p.line("sq(3)"));
    p.wait_prompt();
    p.keys(&["C-d"]);
    p.wait_exit();
}
