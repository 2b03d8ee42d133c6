//! Debuggers see `.sil` functions and lines: `vsp build -g` executables under the real gdb (in
//! batch mode) and addr2line. Skipped, with a message, where the tool is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::vsp;

fn work(name: &str) -> PathBuf {
    common::scratch_dir("debuggers", name)
}

/// `fib` is lines 2 to 13 (the first recursive call on 6); `main` starts on 14, calls it on 16.
const PROG: &str = "\
module dbg
func fib(n: i64) -> i64 {
    reg a: i64, b: i64
    blt n, 2, base
    sub a, n, 1
    call a, fib(a)
    sub b, n, 2
    call b, fib(b)
    add a, a, b
    ret a
base:
    ret n
}
func main(n: i64) -> i64 {
    reg r: i64
    call r, fib(n)
    println r
    ret 0
}
";

fn prog(dir: &Path) -> PathBuf {
    let p = dir.join("dbg.sil");
    std::fs::write(&p, PROG).unwrap();
    p
}

fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: `{tool}` is not installed (.ci/run installs it)");
    }
    ok
}

fn build(dir: &Path, args: &[&str]) {
    let o = Command::new(vsp())
        .arg("build")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs gdb in batch mode with `commands` on `args`; its stdout and stderr together.
fn gdb(dir: &Path, commands: &[&str], args: &[&str]) -> String {
    let mut cmd = Command::new("gdb");
    cmd.args(["-batch", "-nx"]).current_dir(dir);
    for c in commands {
        cmd.args(["-ex", c]);
    }
    let o = cmd.arg("--args").args(args).output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn gdb_breaks_on_sil_lines_of_a_built_executable_and_shows_them_in_bt() {
    let d = work("gdb_aot");
    if !have("gdb") {
        return;
    }
    let p = prog(&d);
    // -O0: every line keeps code of its own to stop on (at -O2, code moves between lines).
    build(&d, &["-g", "-O0", p.to_str().unwrap(), "-o", "dbg"]);
    let out = gdb(
        &d,
        // A temporary breakpoint, so the recursive calls stepped over do not stop again.
        &["tbreak dbg.sil:5", "run", "bt", "next", "next"],
        &["./dbg", "10"],
    );
    let file = d.join("dbg.sil");
    let file = file.display();
    assert!(out.contains("dbg.sil, line 5."), "{out}");
    assert!(out.contains(&format!("fib () at {file}:5")), "{out}");
    // The backtrace goes through main's call, on its line.
    assert!(out.contains(&format!("in main () at {file}:16")), "{out}");
    // `next` steps by .sil line: to 6, then over the (recursive) call to 7.
    assert!(out.contains("\n6\t    call a, fib(a)\n"), "{out}");
    assert!(out.contains("\n7\t    sub b, n, 2\n"), "{out}");
}

#[test]
fn gdb_breaks_on_a_sil_function_by_name() {
    let d = work("gdb_aot_name");
    if !have("gdb") {
        return;
    }
    let p = prog(&d);
    build(&d, &["-g", p.to_str().unwrap(), "-o", "dbg"]);
    let out = gdb(&d, &["break fib", "run", "bt 1"], &["./dbg", "5"]);
    let file = d.join("dbg.sil");
    assert!(
        out.contains(&format!("fib () at {}:", file.display())),
        "{out}"
    );
}

#[test]
fn addr2line_maps_code_to_sil_lines() {
    let d = work("addr2line");
    if !have("addr2line") || !have("nm") {
        return;
    }
    let p = prog(&d);
    build(
        &d,
        &["-g", p.to_str().unwrap(), "--emit", "exe,obj", "-o", "dbg"],
    );
    for file in ["dbg", "dbg.o"] {
        let nm = Command::new("nm")
            .arg(file)
            .current_dir(&d)
            .output()
            .unwrap();
        let nm = String::from_utf8_lossy(&nm.stdout);
        let addr = nm
            .lines()
            .find(|l| l.ends_with(" dbg::main"))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_else(|| panic!("no dbg::main in {nm}"))
            .to_string();
        let o = Command::new("addr2line")
            .args(["-e", file, &addr])
            .current_dir(&d)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        // A function's first instruction belongs to its `func` line.
        assert_eq!(
            text.trim(),
            format!("{}:14", d.join("dbg.sil").display()),
            "{file}"
        );
    }
}

#[test]
fn executables_without_g_carry_no_debug_info() {
    let d = work("no_g");
    if !have("readelf") {
        return;
    }
    let p = prog(&d);
    build(&d, &[p.to_str().unwrap(), "-o", "dbg"]);
    let o = Command::new("readelf")
        .args(["-S", "dbg"])
        .current_dir(&d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains(".debug_line"), "{text}");
}

/// gdb's commands for JIT code: breakpoints wait (pending) until the code is registered.
fn jit_gdb(dir: &Path, commands: &[&str], run_args: &[&str]) -> String {
    let mut all = vec!["set breakpoint pending on"];
    all.extend_from_slice(commands);
    // The JIT unless the test names an engine: every function is compiled before it runs
    // (the default, tiered, would interpret these short runs).
    let mut args = vec![vsp(), "run", "--gdb-jit"];
    if !run_args.contains(&"--engine") {
        args.extend(["--engine", "jit"]);
    }
    args.extend_from_slice(run_args);
    gdb(dir, &all, &args)
}

#[test]
fn gdb_breaks_on_a_sil_function_in_jit_code_and_shows_sil_lines_in_bt() {
    let d = work("gdb_jit");
    if !have("gdb") {
        return;
    }
    let p = prog(&d);
    let out = jit_gdb(
        &d,
        &["break fib", "run", "bt"],
        &[p.to_str().unwrap(), "10"],
    );
    let file = p.display();
    // Stopped in JIT code, past the prologue, on one of fib's lines.
    assert!(out.contains(&format!("fib () at {file}:")), "{out}");
    // The backtrace names main on the line of its call, and goes on into vsp's own frames.
    assert!(out.contains(&format!("in main () at {file}:16")), "{out}");
    assert!(out.contains("in main.trampoline ()"), "{out}");
    assert!(out.contains("jit::instance::"), "{out}");
}

#[test]
fn gdb_steps_by_sil_line_in_jit_code() {
    let d = work("gdb_jit_step");
    if !have("gdb") {
        return;
    }
    let p = prog(&d);
    let out = jit_gdb(
        &d,
        &["tbreak dbg.sil:5", "run", "next", "next"],
        &["-O0", p.to_str().unwrap(), "10"],
    );
    let file = p.display();
    assert!(out.contains(&format!("fib () at {file}:5")), "{out}");
    assert!(out.contains("\n6\t    call a, fib(a)\n"), "{out}");
    assert!(out.contains("\n7\t    sub b, n, 2\n"), "{out}");
}

#[test]
fn gdb_sees_code_the_tiered_engine_compiles_in_the_background() {
    let d = work("gdb_tiered");
    if !have("gdb") {
        return;
    }
    let p = prog(&d);
    // Not synchronous: fib is compiled on the background thread once hot, and main's loop-free
    // body stays interpreted; the breakpoint is hit in fib's native code. fib(32) keeps the
    // interpreter busy long enough for the compile to land (fib(25) took the optimized
    // interpreter 5 ms, done before the code was ready).
    let out = jit_gdb(
        &d,
        &["break fib", "run", "bt 1"],
        &[
            "--engine",
            "tiered",
            "--tier-calls",
            "50",
            p.to_str().unwrap(),
            "32",
        ],
    );
    assert!(
        out.contains(&format!("fib () at {}:", p.display())),
        "{out}"
    );
}

#[test]
fn gdb_shows_sil_registers_as_variables() {
    let d = work("gdb_vars");
    if !have("gdb") {
        return;
    }
    let p = prog(&d);
    build(&d, &["-g", "-O0", p.to_str().unwrap(), "-o", "dbg"]);
    // Line 5 of the first call, fib(10); line 9 first in the deepest call, fib(2) = 1 + 0.
    let cmds = [
        "tbreak dbg.sil:5",
        "run",
        "print n",
        "tbreak dbg.sil:9",
        "continue",
        "info locals",
    ];
    let aot = gdb(&d, &cmds, &["./dbg", "10"]);
    let mut jit_cmds = vec!["set breakpoint pending on"];
    jit_cmds.extend_from_slice(&cmds);
    let jit = gdb(
        &d,
        &jit_cmds,
        &[
            vsp(),
            "run",
            "--engine",
            "jit",
            "--gdb-jit",
            "-O0",
            p.to_str().unwrap(),
            "10",
        ],
    );
    for out in [aot, jit] {
        assert!(out.contains("$1 = 10\n"), "{out}");
        assert!(out.contains("\na = 1\nb = 0\n"), "{out}");
    }
}
