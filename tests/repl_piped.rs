//! `vsp repl` with piped input on both engines: every behaviour, command and the docs transcript.

mod common;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const ENGINES: [&str; 3] = ["jit", "interp", "tiered"];

struct Out {
    stdout: String,
    stderr: String,
    status: i32,
}

fn repl_cmd(engine: &str) -> Command {
    let mut cmd = Command::new(common::vsp());
    cmd.args(["repl", "--engine", engine]);
    // History is a terminal feature, but keep any run away from the user's state directory.
    cmd.env("XDG_STATE_HOME", tmp("state")).env("NO_COLOR", "1");
    cmd
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("repl_piped");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs a session with `input` on standard input (killed after 60 s).
fn repl(engine: &str, input: &str) -> Out {
    let mut child = repl_cmd(engine)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = common::wait_with_timeout(child, 60).expect("vsp repl finishes");
    writer.join().unwrap();
    Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

/// Runs a session with stdout and stderr on one pipe, as a terminal would show them.
fn repl_merged(engine: &str, input: &str) -> (String, i32) {
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut cmd = repl_cmd(engine);
    cmd.stdin(Stdio::piped())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // closes our copies of the pipe's write end
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    let status = common::wait_with_timeout(child, 60).unwrap().status;
    (text, status.code().unwrap_or(-1))
}

const FIB: &str = "func fib(n: i64) -> i64 {
    reg a: i64, b: i64
    blt n, 2, small
    sub a, n, 1
    call a, fib(a)
    sub b, n, 2
    call b, fib(b)
    add a, a, b
    ret a
small:
    ret n
}
";

#[test]
fn multi_line_definitions_and_calls_with_every_literal_kind() {
    let input = format!(
        "{FIB}fib(30)
; a comment line, then a blank one

func kinds(a: i64, b: f64, c: sil) -> f64 {{   ; a comment with a brace {{
    reg t: f64
    i2f t, a
    add t, t, b
    println c
    ret t
}}
kinds(42, 1.5, sil(1, 2))
kinds(-7, -2.0e-3, sil(-8, 0))
kinds(0x2A, 1e9, sil(7,15))
kinds(0b101010, inf, sil(0, 4))
kinds(1_000_000, -inf, sil(0, 8))
kinds('A', nan, sil(0, 0))
kinds('\\n', 2, sil(0, 0))
kinds(0xFFFFFFFFFFFFFFFF, 0.25, sil(0, 0))
kinds( ',' , 0 , sil(0, 0) ) ; spaces and a comma literal
func nothing() {{
    ret
}}
nothing()
func part() {{
    print 5
    ret
}}
part()
"
    );
    for engine in ENGINES {
        let out = repl(engine, &input);
        assert_eq!(out.stderr, "", "{engine}");
        assert_eq!(
            out.stdout,
            "defined fib(n: i64) -> i64
= 832040 : i64
defined kinds(a: i64, b: f64, c: sil) -> f64
sil(1,2)
= 43.5 : f64
sil(-8,0)
= -7.002 : f64
sil(7,15)
= 1000000042 : f64
sil(0,4)
= inf : f64
sil(0,8)
= -inf : f64
sil(0,0)
= NaN : f64
sil(0,0)
= 12 : f64
sil(0,0)
= -0.75 : f64
sil(0,0)
= 44 : f64
defined nothing()
defined part()
5
",
            "{engine}"
        );
        assert_eq!(out.status, 0, "{engine}");
    }
}

#[test]
fn bad_arguments_are_errors_and_the_session_goes_on() {
    let input = format!(
        "{FIB}fib(1.5)
fib(1, 2)
fib()
fib(99999999999999999999)
fib(sil(9, 0))
fib(x)
fib(1
fib(1) 2
fib(1,,2)
nope(1)
fib
fib(10)
"
    );
    for engine in ENGINES {
        let out = repl(engine, &input);
        assert_eq!(
            out.stdout, "defined fib(n: i64) -> i64\n= 55 : i64\n",
            "{engine}"
        );
        let errors: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(
            errors,
            [
                "error: argument `1.5` for `n: i64`: expected an integer, found a float",
                "error: `fib` takes 1 argument (fib(n: i64) -> i64), 2 given",
                "error: `fib` takes 1 argument (fib(n: i64) -> i64), 0 given",
                "error: argument `99999999999999999999` for `n: i64`: integer literal `99999999999999999999` is out of range",
                "error: argument `sil(9, 0)` for `n: i64`: sil rho 9 is out of range -8..=7",
                "error: argument `x` for `n: i64`: `x` is not a literal",
                "error: missing `)` at the end of the call to `fib`",
                "error: unexpected `2` after the call to `fib`",
                "error: an argument of the call to `fib` is empty (arguments are literals separated by commas)",
                "error: no function named `nope` (`:list` shows them)",
                "error: `fib` is a function; call it with literal arguments: fib(n: i64) -> i64",
            ],
            "{engine}"
        );
        assert_eq!(out.status, 1, "errors make a piped session fail");
    }
}

const CALLER: &str = "func scale() -> i64 {
    ret 10
}
func twice(x: i64) -> i64 {
    reg k: i64
    call k, scale()
    mul x, x, k
    ret x
}
twice(4)
";

#[test]
fn redefinition_is_seen_by_an_existing_caller() {
    let input = format!("{CALLER}func scale() -> i64 {{\n    ret 100\n}}\ntwice(4)\n");
    for engine in ENGINES {
        let out = repl(engine, &input);
        assert_eq!(out.stderr, "", "{engine}");
        assert_eq!(
            out.stdout,
            "defined scale() -> i64\ndefined twice(x: i64) -> i64\n= 40 : i64\nredefined scale() -> i64\n= 400 : i64\n",
            "{engine}"
        );
    }
}

#[test]
fn a_signature_change_is_refused_naming_the_callers() {
    let input = format!(
        "{CALLER}func thrice() -> i64 {{
    reg k: i64
    call k, scale()
    ret k
}}
func scale() -> f64 {{
    ret 1.5
}}
twice(4)
scale()
:{{
func scale() -> f64 {{
    ret 1.5
}}
func twice(x: i64) -> i64 {{
    ret x
}}
func thrice() -> i64 {{
    ret 3
}}
:}}
scale()
twice(4)
"
    );
    for engine in ENGINES {
        let out = repl(engine, &input);
        let first = out.stderr.lines().next().unwrap_or("");
        assert_eq!(
            first,
            "error: `scale` cannot change its signature from `scale() -> i64` to `scale() -> f64`: its callers `twice`, `thrice` would no longer verify",
            "{engine}: {}",
            out.stderr
        );
        // Each broken caller is shown at its own line, in the input that defined it.
        assert!(
            out.stderr
                .contains("<repl>:3:5: error: function `scale` returns f64, but destination `k` has type i64\n  |\n3 |     call k, scale()"),
            "{engine}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("note: nothing changed"),
            "{}",
            out.stderr
        );
        assert_eq!(
            out.stdout,
            "defined scale() -> i64
defined twice(x: i64) -> i64
= 40 : i64
defined thrice() -> i64
= 40 : i64
= 10 : i64
redefined scale() -> f64
redefined twice(x: i64) -> i64
redefined thrice() -> i64
= 1.5 : f64
= 4 : i64
",
            "{engine}: nothing changed until the group changed all three"
        );
    }
}

#[test]
fn parse_and_verify_errors_show_a_caret_and_change_nothing() {
    let input = format!(
        "{CALLER}func scale() -> i64 {{
    ret 7 7
}}
func scale() -> i64 {{
    add x, 1, 2
    ret 1
}}
1 + 2
}}
twice(4)
"
    );
    for engine in ENGINES {
        let out = repl(engine, &input);
        assert_eq!(
            out.stdout,
            "defined scale() -> i64\ndefined twice(x: i64) -> i64\n= 40 : i64\n= 40 : i64\n",
            "{engine}"
        );
        assert!(
            out.stderr.starts_with("<repl>:2:11: error: "),
            "{engine}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(
                "<repl>:2:9: error: undeclared register `x`\n  |\n2 |     add x, 1, 2\n  |         ^\n"
            ),
            "{engine}: {}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("<repl>:1:1: error: expected a module item")
        );
        assert!(out.stderr.contains("<repl>:1:1: error: unexpected `}`"));
        assert_eq!(out.status, 1);
    }
}

#[test]
fn traps_and_stack_overflow_are_reported_and_the_session_goes_on() {
    let input = "func div(a: i64, b: i64) -> i64 {
    div a, a, b
    ret a
}
div(1, 0)
div(7, 2)
func deep(n: i64) -> i64 {
    reg r: i64
    add n, n, 1
    call r, deep(n)
    ret r
}
deep(0)
div(9, 3)
func boom() {
    trap
}
boom()
div(8, 2)
";
    for engine in ENGINES {
        let out = repl(engine, input);
        assert_eq!(
            out.stdout,
            "defined div(a: i64, b: i64) -> i64\n= 3 : i64\ndefined deep(n: i64) -> i64\n= 3 : i64\ndefined boom()\n= 4 : i64\n",
            "{engine}"
        );
        let err = &out.stderr;
        assert!(
            err.starts_with("error: trap: integer divide by zero\n  at div (line 2)\n"),
            "{engine}: {err}"
        );
        assert!(
            err.contains("error: trap: stack overflow\n"),
            "{engine}: {err}"
        );
        assert!(
            err.contains("  at deep (line 4)\n  ... "),
            "{engine}: recursion is folded: {err}"
        );
        assert!(
            err.contains("error: trap: unreachable\n  at boom (line 2)\n"),
            "{engine}: {err}"
        );
        assert!(err.lines().count() < 20, "{engine}: {err}");
    }
}

#[test]
fn load_defines_a_file_and_its_errors_name_the_file() {
    let good = tmp("good.sil");
    std::fs::write(&good, FIB).unwrap();
    let bad = tmp("bad.sil");
    std::fs::write(
        &bad,
        "func ok() -> i64 {\n    ret 1\n}\nfunc broken() -> i64 {\n    ret 1.5\n}\n",
    )
    .unwrap();
    let input = format!(
        ":load {}\nfib(20)\n:load {}\nok()\n:load {}\n:load\nfib(1)\n",
        good.display(),
        bad.display(),
        tmp("missing.sil").display()
    );
    for engine in ENGINES {
        let out = repl(engine, &input);
        assert_eq!(
            out.stdout, "defined fib(n: i64) -> i64\n= 6765 : i64\n= 1 : i64\n",
            "{engine}"
        );
        let err: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(
            err[0],
            format!(
                "{}:5:5: error: returned value `1.5` of function `broken` is a f64 literal, expected i64",
                bad.display()
            ),
            "{engine}"
        );
        assert_eq!(err[2], "5 |     ret 1.5");
        assert!(
            out.stderr.contains("error: no function named `ok`"),
            "nothing from a bad file is defined: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!(
                "error: cannot read `{}`",
                tmp("missing.sil").display()
            )),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("error: usage: :load FILE"));
    }
}

#[test]
fn list_dis_clif_and_time() {
    let input = format!(
        "{FIB}export func sq(x: f64) -> f64 {{
    mul x, x, x
    ret x
}}
:list
:sil sq
:dis sq
:clif sq
:time fib(20)
:dis nope
:clif nope
:time fib
:time
"
    );
    for engine in ENGINES {
        let out = repl(engine, &input);
        let o = &out.stdout;
        assert!(
            o.contains("func fib(n: i64) -> i64\nexport func sq(x: f64) -> f64\n"),
            "{engine}: {o}"
        );
        assert!(
            o.contains("export func sq(x: f64) -> f64 {\n    mul x, x, x\n    ret x\n}\n"),
            "{engine}: {o}"
        );
        assert!(
            o.contains("function ") && o.contains("fmul"),
            "{engine}: {o}"
        );
        // `:dis`: machine code, each block headed by its `.sil` line.
        assert!(
            o.contains(":  ; line ") && o.contains("mulsd"),
            "{engine}: {o}"
        );
        let time = o
            .lines()
            .find(|l| l.starts_with("time: "))
            .unwrap_or_else(|| panic!("{engine}: {o}"));
        assert!(
            time.starts_with("time: compile ")
                && time.contains(" ms, run ")
                && time.ends_with(" ms"),
            "{time}"
        );
        assert!(o.contains("= 6765 : i64\ntime: "), "{engine}: {o}");
        assert_eq!(
            out.stderr,
            "error: no function named `nope` (`:list` shows them)
error: no function named `nope` (`:list` shows them)
error: `:time` takes a call, e.g. `:time fib(30)`
error: usage: :time CALL
",
            "{engine}"
        );
    }
}

#[test]
fn save_writes_a_module_vsp_run_accepts() {
    for engine in ENGINES {
        let file = tmp(&format!("saved-{engine}.sil"));
        let input = format!(
            "memory 1\ndata 0 \"hi\\n\"\n{FIB}func main() -> i64 {{
    reg r: i64
    write 0, 3
    call r, fib(10)
    println r
    ret 3
}}
main()
:save {}
:save /nonexistent-dir/x.sil
",
            file.display()
        );
        let out = repl(engine, &input);
        assert!(
            out.stdout.ends_with(&format!(
                "hi\n55\n= 3 : i64\nsaved 2 functions to {}\n",
                file.display()
            )),
            "{engine}: {}",
            out.stdout
        );
        assert!(
            out.stderr
                .starts_with("error: cannot write `/nonexistent-dir/x.sil`")
        );
        let run = Command::new(common::vsp())
            .args(["run", "--engine", engine])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&run.stdout), "hi\n55\n");
        assert_eq!(run.status.code(), Some(3), "{engine}");
    }
}

#[test]
fn help_quit_and_bad_commands() {
    let input = ":help\n:h\n:foo\n:l\n:list extra\n:\n:}\n:q\nfib(1)\n";
    for engine in ENGINES {
        let out = repl(engine, input);
        let help_text = out.stdout.split("Commands").count();
        assert_eq!(help_text, 3, "`:help` and `:h`: {}", out.stdout);
        for cmd in [
            ":help",
            ":load FILE",
            ":list",
            ":sil NAME",
            ":dis NAME",
            ":clif NAME",
            ":time CALL",
            ":save FILE",
            ":quit",
            ":{",
            ":}",
        ] {
            assert!(out.stdout.contains(&format!("  {cmd} ")), "{cmd}");
        }
        assert_eq!(
            out.stderr,
            "error: unknown command `:foo` (`:help` lists the commands)
error: `:l` is ambiguous: `:load`, `:list`
error: `:list` takes no argument
error: unknown command `:` (`:help` lists the commands)
error: `:}` without `:{`
",
            "{engine}: input after `:q` is not read"
        );
    }
}

#[test]
fn exit_status_is_zero_without_errors() {
    for engine in ENGINES {
        let out = repl(engine, &format!("{FIB}fib(5)\n:quit\n"));
        assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{engine}");
        let out = repl(engine, "");
        assert_eq!((out.status, out.stdout.as_str()), (0, ""), "{engine}");
        // An unfinished definition at end of input is an error, not silently dropped.
        let out = repl(engine, "func f() {\n    ret\n");
        assert_eq!(out.status, 1);
        assert!(out.stderr.contains("end of input"), "{}", out.stderr);
    }
}

#[test]
fn exit_getc_externs_and_memory() {
    let input = "func bye() {
    println 7
    exit 3
}
bye()
func readc() -> i64 {
    reg c: i64
    getc c
    ret c
}
readc()
Z
memory 1
data 8 \"hi\"
func peek(p: i64) -> i64 {
    reg v: i64
    load.u8 v, [p]
    ret v
}
peek(9)
extern func host(x: i64) -> i64
func use_host() -> i64 {
    reg r: i64
    call r, host(1)
    ret r
}
use_host()
peek(8)
";
    for engine in ENGINES {
        let out = repl(engine, input);
        assert_eq!(
            out.stdout,
            "defined bye()
7
defined readc() -> i64
= 90 : i64
defined peek(p: i64) -> i64
= 105 : i64
declared extern host (the REPL has no host functions: calling it traps)
defined use_host() -> i64
= 104 : i64
",
            "{engine}: `getc` reads the line after the call"
        );
        assert!(
            out.stderr
                .starts_with("note: the program ran `exit 3`; the session goes on\n"),
            "{engine}: {}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("error: trap: unreachable\n  at use_host (line 3)")
        );
    }
}

#[test]
fn sigint_stops_a_running_call_and_the_session_goes_on() {
    let input =
        "func spin() {\nloop:\n    jmp loop\n}\nfunc ok() -> i64 {\n    ret 7\n}\nspin()\nok()\n";
    for engine in ENGINES {
        let mut child = repl_cmd(engine)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        // Collect stdout on a thread, so waiting for it can time out.
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let text = || String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        // Both definitions reported: `spin()` is the next line, so the call is about to run.
        let start = std::time::Instant::now();
        while !text().contains("defined ok() -> i64\n") {
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("{engine}: definitions not reported: {}", text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(300));
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = common::wait_with_timeout(child, 30).expect("the interrupted call returns");
        reader.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            text().ends_with("defined ok() -> i64\n= 7 : i64\n"),
            "{engine}: {}{stderr}",
            text()
        );
        assert!(
            stderr.starts_with("error: interrupted\n  at spin"),
            "{engine}: {stderr}"
        );
    }
}

/// The transcript in docs/repl.md is what the REPL prints for its input, on both engines.
#[test]
fn the_documented_transcript_is_real() {
    let doc = std::fs::read_to_string(common::root().join("docs/repl.md")).unwrap();
    let block = |marker: &str| -> String {
        let after = doc
            .split(marker)
            .nth(1)
            .unwrap_or_else(|| panic!("docs/repl.md has no {marker}"));
        let code = after.split("```").nth(1).expect("a fenced block");
        // Drop the info string (` ```text `).
        code.split_once('\n').map_or("", |x| x.1).to_string()
    };
    let input = block("<!-- transcript: input -->");
    let want = block("<!-- transcript: output -->");
    for engine in ENGINES {
        let (got, status) = repl_merged(engine, &input);
        assert_eq!(got, want, "{engine}: docs/repl.md is out of date");
        assert_eq!(status, 1, "the transcript shows errors");
    }
}
