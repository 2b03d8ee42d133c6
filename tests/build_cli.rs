//! `vsp build` on the command line: what each `--emit` writes and where, exit statuses (docs/reference/command-line.md), executables' argument handling, traps and stack, and compiling on several threads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::vsp;

fn work(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("build_cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn build(dir: &Path, args: &[&str]) -> Output {
    Command::new(vsp())
        .arg("build")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn status(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const PROG: &str = "\
func main(n: i64, x: f64) -> i64 {
    reg r: i64
    println x
    call r, half(n)
    println r
    ret r
}

func half(n: i64) -> i64 {
    div n, n, 2
    ret n
}
";

const LIB: &str = "\
module lib
export func twice(n: i64) -> i64 {
    add n, n, n
    ret n
}
";

#[test]
fn default_output_is_an_executable_named_after_the_input() {
    let d = work("default");
    write(&d, "prog.sil", PROG);
    let o = build(&d, &["prog.sil"]);
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    let run = Command::new(d.join("prog"))
        .args(["0x10", "2.5"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "2.5\n8\n");
    assert_eq!(run.status.code(), Some(8));
}

#[test]
fn several_kinds_share_a_stem() {
    let d = work("multi");
    write(&d, "prog.sil", PROG);
    std::fs::create_dir_all(d.join("out")).unwrap();
    let o = build(
        &d,
        &[
            "prog.sil",
            "--emit",
            "exe,obj,header,runtime,clif,asm",
            "-o",
            "out/p",
            "-O1",
        ],
    );
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    for f in ["p", "p.o", "p.h", "p.a", "p.clif", "p.s"] {
        let p = d.join("out").join(f);
        assert!(
            p.metadata().is_ok_and(|m| m.len() > 0),
            "no {}",
            p.display()
        );
    }
    let clif = std::fs::read_to_string(d.join("out/p.clif")).unwrap();
    assert!(
        clif.contains("; prog::half") && clif.contains("sdiv"),
        "{clif}"
    );
    let asm = std::fs::read_to_string(d.join("out/p.s")).unwrap();
    // Real machine code, each block headed by the `.sil` line it came from.
    assert!(
        asm.contains("prog::half:") && asm.contains(":  ; line ") && asm.contains("ret"),
        "{asm}"
    );
    let a = std::fs::read(d.join("out/p.a")).unwrap();
    assert!(a.starts_with(b"!<arch>\n"));
    let o = std::fs::read(d.join("out/p.o")).unwrap();
    assert!(o.starts_with(b"\x7fELF"));
}

#[test]
fn missing_output_directories_are_made() {
    let d = work("mkdir");
    write(&d, "lib.sil", LIB);
    write(&d, "prog.sil", PROG);
    let o = build(
        &d,
        &["lib.sil", "--emit", "obj,header,runtime", "-o", "lib/t"],
    );
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    for f in ["lib/t.o", "lib/t.h", "lib/t.a"] {
        assert!(d.join(f).is_file(), "no {f}");
    }
    let o = build(&d, &["prog.sil", "-o", "out/deeper/prog"]);
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    let run = Command::new(d.join("out/deeper/prog"))
        .args(["4", "1"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "1\n2\n");
}

#[test]
fn one_kind_writes_exactly_the_output_named() {
    let d = work("single");
    write(&d, "lib.sil", LIB);
    for (emit, out) in [("obj", "x.obj"), ("header", "api.h"), ("runtime", "rt.a")] {
        let o = build(&d, &["lib.sil", "--emit", emit, "-o", out]);
        assert_eq!(status(&o), 0, "{emit}: {}", stderr(&o));
        assert!(d.join(out).is_file(), "{emit}: no {out}");
    }
    let o = build(&d, &["lib.sil", "--emit", "runtime"]);
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    assert!(d.join("libvsprt.a").is_file());
    let o = build(&d, &["lib.sil", "--emit", "obj,header"]);
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    assert!(d.join("lib.o").is_file() && d.join("lib.h").is_file());
}

#[test]
fn exit_statuses() {
    let d = work("status");
    write(&d, "prog.sil", PROG);
    write(&d, "lib.sil", LIB);
    write(
        &d,
        "bad.sil",
        "func main() {\n    add r, 1, 2\n    ret\n}\n",
    );
    write(
        &d,
        "ext.sil",
        "extern func f(i64)\nfunc main() {\n    call f(1)\n    ret\n}\n",
    );
    write(&d, "clash.sil", "export func vsp_flush() {\n    ret\n}\n");
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["prog.sil", "--target", "riscv64gc-unknown-linux-gnu"],
            2,
            "unsupported target",
        ),
        (&["prog.sil", "--emit", "exe,bogus"], 2, "invalid value"),
        (&["prog.sil", "-O3"], 2, ""),
        (&["missing.sil"], 66, "cannot read"),
        (&["bad.sil"], 65, "bad.sil:2:"),
        (&["lib.sil"], 65, "no `main` function"),
        (&["ext.sil"], 65, "extern `f`"),
        (&["clash.sil", "--emit", "obj"], 65, "`vsp_flush`"),
        // An output directory that cannot be made (a file stands in its place).
        (
            &["prog.sil", "-o", "lib.sil/prog"],
            73,
            "cannot write `lib.sil/prog`",
        ),
        (
            &["prog.sil", "--emit", "obj,header", "-o", "lib.sil/sub/p"],
            73,
            "cannot write",
        ),
    ];
    for (args, want, text) in cases {
        let o = build(&d, args);
        assert_eq!(status(&o), *want, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(text), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
    // A missing C compiler is reported as such (status 69, EX_UNAVAILABLE).
    let o = Command::new(vsp())
        .args(["build", "prog.sil", "--target", "aarch64-unknown-linux-gnu"])
        .env("VSP_CC", "/nonexistent/cc")
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(status(&o), 69, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`/nonexistent/cc` is not installed"),
        "{}",
        stderr(&o)
    );
    // Objects and headers need no C compiler at all.
    let o = Command::new(vsp())
        .args([
            "build",
            "lib.sil",
            "--emit",
            "obj,header",
            "--target",
            "aarch64",
        ])
        .env("VSP_CC", "/nonexistent/cc")
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(status(&o), 0, "{}", stderr(&o));
}

#[test]
fn executables_read_arguments_like_vsp_run() {
    let d = work("args");
    write(&d, "prog.sil", PROG);
    assert_eq!(status(&build(&d, &["prog.sil"])), 0);
    for args in [
        &["4", "1"][..],
        &["-7", "inf"],
        &["'A'", "1e3"],
        &["0b101", "-0.0"],
        &["1_000", "nan"],
        &["4"],
        &["4", "1", "2"],
        &["2.5", "1"],
        &["x", "1"],
        &["9223372036854775808", "1"],
        &["4", "9007199254740993"],
    ] {
        let exe = Command::new(d.join("prog")).args(args).output().unwrap();
        let run = Command::new(vsp())
            .args(["run", "--engine", "interp"])
            .arg(d.join("prog.sil"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            exe.status.code(),
            run.status.code(),
            "{args:?}: {}",
            stderr(&exe)
        );
        assert_eq!(exe.stdout, run.stdout, "{args:?}");
        if run.status.code() == Some(2) && run.stdout.is_empty() {
            // A usage error: both explain it on stderr.
            assert!(
                stderr(&exe).starts_with("error: "),
                "{args:?}: {}",
                stderr(&exe)
            );
            assert!(
                stderr(&run).starts_with("error: "),
                "{args:?}: {}",
                stderr(&run)
            );
        }
    }
}

#[test]
fn executables_trap_like_vsp_run() {
    let d = work("trap");
    write(&d, "prog.sil", PROG);
    assert_eq!(status(&build(&d, &["prog.sil", "-O0"])), 0);
    let exe = Command::new(d.join("prog"))
        .args(["-9223372036854775808", "0"])
        .output()
        .unwrap();
    assert_eq!(exe.status.code(), Some(0), "{}", stderr(&exe));
    write(
        &d,
        "t.sil",
        "func main() -> i64 {\n    reg r: i64\n    call r, f(0)\n    ret r\n}\n\nfunc f(z: i64) -> i64 {\n    div z, 1, z\n    ret z\n}\n",
    );
    assert_eq!(status(&build(&d, &["t.sil"])), 0);
    let exe = Command::new(d.join("t")).output().unwrap();
    assert_eq!(exe.status.code(), Some(70));
    assert_eq!(
        stderr(&exe),
        "error: trap: integer divide by zero\n  at f (line 8)\n  at main (line 3)\n"
    );
}

#[test]
fn deep_recursion_fits_and_unbounded_recursion_traps() {
    let d = work("stack");
    write(
        &d,
        "deep.sil",
        "func main(n: i64) -> i64 {\n    reg r: i64\n    call r, down(n)\n    println r\n    ret 0\n}\n\n\
         func down(n: i64) -> i64 {\n    reg a: i64, b: i64, c: i64, e: i64, f: i64, g: i64, h: i64\n    \
         reg i: i64, j: i64, k: i64, l: i64, m: i64, o: i64, p: i64, q: i64\n    \
         beq n, 0, done\n    sub a, n, 1\n    call a, down(a)\n    add a, a, 1\n    ret a\n\
         done:\n    ret 0\n}\n",
    );
    assert_eq!(status(&build(&d, &["deep.sil"])), 0);
    let exe = Command::new(d.join("deep")).arg("100000").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&exe.stdout),
        "100000\n",
        "{}",
        stderr(&exe)
    );
    let exe = Command::new(d.join("deep")).arg("-1").output().unwrap();
    assert_eq!(exe.status.code(), Some(70));
    assert!(
        stderr(&exe).starts_with("error: trap: stack overflow\n  at down"),
        "{}",
        stderr(&exe)
    );
}

#[test]
fn version_lists_the_targets_this_binary_can_build_for() {
    let d = work("version");
    write(&d, "lib.sil", LIB);
    let out = Command::new(vsp()).arg("--version").output().unwrap();
    assert_eq!(status(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(concat!("vsp ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("target {triple}: ")))
            .unwrap_or_else(|| panic!("no line for {triple}:\n{text}"));
        // What --version claims is what `vsp build` can do: write that target's runtime.
        let built = build(
            &d,
            &[
                "lib.sil", "--emit", "runtime", "--target", triple, "-o", "rt.a",
            ],
        );
        let can = status(&built) == 0;
        assert_eq!(line.contains(": yes"), can, "{line}\n{}", stderr(&built));
        if !can {
            assert!(line.contains("rustup target add"), "{line}");
        }
    }
}

/// A module of `count` small functions and a `main` calling each (as `bench/sil/program.sil`
/// does), so compiling it fills several parallel batches.
fn many_functions(count: usize) -> String {
    let mut src = String::new();
    for k in 0..count {
        src += &format!(
            "func f{k}(x: i64) -> i64 {{\n    mul x, x, {}\n    xor x, x, {k}\n    ret x\n}}\n",
            2 * k + 1
        );
    }
    src += "func main() -> i64 {\n    reg s: i64\n";
    for k in 0..count {
        src += &format!("    call s, f{k}(s)\n");
    }
    src += "    println s\n    ret 0\n}\n";
    src
}

#[test]
fn objects_do_not_depend_on_how_many_threads_compiled_them() {
    let d = work("threads");
    write(&d, "many.sil", &many_functions(600));
    let mut objects = Vec::new();
    for (k, one_core) in [false, false, true].into_iter().enumerate() {
        let out = format!("many{k}.o");
        let mut cmd = if one_core {
            // One core: `available_parallelism` (and so the compile threads) is 1.
            let mut c = Command::new("taskset");
            c.args(["-c", "0", vsp()]);
            c
        } else {
            Command::new(vsp())
        };
        let o = match cmd
            .args(["build", "--emit", "obj", "many.sil", "-o", &out])
            .current_dir(&d)
            .output()
        {
            Ok(o) => o,
            Err(_) if one_core => continue, // no taskset here
            Err(e) => panic!("vsp: {e}"),
        };
        assert_eq!(status(&o), 0, "{}", stderr(&o));
        objects.push(std::fs::read(d.join(&out)).unwrap());
    }
    assert!(objects.len() >= 2);
    assert!(objects.windows(2).all(|w| w[0] == w[1]), "objects differ");
}

#[test]
fn run_compile_threads_is_checked_and_reported() {
    let d = work("run_threads");
    write(&d, "many.sil", &many_functions(300));
    let run = |threads: &str| {
        Command::new(vsp())
            .args([
                "run",
                "--engine",
                "jit",
                "--stats",
                "--compile-threads",
                threads,
                "many.sil",
            ])
            .current_dir(&d)
            .output()
            .unwrap()
    };
    let one = run("1");
    let four = run("4");
    for o in [&one, &four] {
        assert_eq!(status(o), 0, "{}", stderr(o));
        let err = stderr(o);
        assert!(err.contains("functions compiled: 301;"), "{err}");
        assert!(err.contains(" ms (CPU "), "{err}");
    }
    assert_eq!(one.stdout, four.stdout);
    let zero = run("0");
    assert_eq!(status(&zero), 2);
    assert!(
        stderr(&zero).contains("--compile-threads"),
        "{}",
        stderr(&zero)
    );
}
