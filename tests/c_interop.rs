//! C interop (docs/aot.md): objects and headers of two modules plus the runtime archive, linked by the system C compiler into `tests/c/interop.c`, which calls both, provides externs, reads memory and handles traps.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{root, vsp};

/// What `interop.c` prints on stdout (module output included, in order).
const EXPECTED_STDOUT: &str = "\
bump: 42
memory: 65536 bytes, \"counter says hi\", total 42
counter says hi
note: 144, noted 2.5
grow: 1, now 131072 bytes
fib(20): 6765
hyp(3, 4): 5
twice(0x93): 0xa6
apply(14): 42
divide(7, 0): 0, traps 1, last \"1 integer divide by zero\"
divide(7, 2): 3
poke(-8): 0, traps 2, last \"3 out of bounds memory access\"
";

/// What the default trap handler prints for the last call, `poke(1 << 20)`.
const EXPECTED_STDERR: &str = "\
error: trap: out of bounds memory access
  at deep (line 49)
  at poke (line 43)
";

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn check_ok(what: &str, out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn installed(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// Builds the two modules and the runtime for `target`, links them with `cc` into the C
/// program, runs it (through `runner` if given) and checks everything it prints.
fn build_and_run(target: &str, cc: &str, runner: &[&str], work: &Path) {
    std::fs::create_dir_all(work).unwrap();
    let c_dir = root().join("tests/c");
    for module in ["counter", "mathlib"] {
        let out = run(Command::new(vsp())
            .arg("build")
            .arg(c_dir.join(format!("{module}.sil")))
            .args(["--emit", "obj,header", "--target", target, "-o"])
            .arg(work.join(module)));
        check_ok(&format!("vsp build {module}"), &out);
        assert!(work.join(format!("{module}.o")).is_file());
        assert!(work.join(format!("{module}.h")).is_file());
    }
    let out = run(Command::new(vsp())
        .args(["build", "--emit", "runtime", "--target", target, "-o"])
        .arg(work.join("libvsprt.a"))
        .arg(c_dir.join("counter.sil")));
    check_ok("vsp build --emit runtime", &out);

    let exe = work.join("interop");
    let out = run(Command::new(cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(c_dir.join("interop.c"))
        .arg(work.join("counter.o"))
        .arg(work.join("mathlib.o"))
        .arg(work.join("libvsprt.a"))
        .arg("-I")
        .arg(work)
        .arg("-lm"));
    check_ok(&format!("{cc} (linking interop.c)"), &out);

    let mut cmd = match runner.split_first() {
        Some((prog, args)) => {
            let mut c = Command::new(prog);
            c.args(args).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    let out = run(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stdout, EXPECTED_STDOUT,
        "[{target}] stdout (stderr: {stderr})"
    );
    assert_eq!(stderr, EXPECTED_STDERR, "[{target}] stderr");
    assert_eq!(out.status.code(), Some(70), "[{target}] exit status");
}

fn work_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("c_interop")
        .join(name)
}

#[test]
fn c_program_links_two_modules_and_the_runtime() {
    if !installed("cc") {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the C compiler `cc` is missing"
        );
        eprintln!("skipped: no C compiler `cc`");
        return;
    }
    build_and_run("x86_64-unknown-linux-gnu", "cc", &[], &work_dir("x86_64"));
}

#[test]
fn c_program_cross_built_for_aarch64() {
    let have = installed("aarch64-linux-gnu-gcc") && installed("qemu-aarch64");
    if !have {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but aarch64-linux-gnu-gcc or qemu-aarch64 is missing"
        );
        eprintln!("skipped: aarch64-linux-gnu-gcc or qemu-aarch64 is not installed");
        return;
    }
    build_and_run(
        "aarch64-unknown-linux-gnu",
        "aarch64-linux-gnu-gcc",
        &["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"],
        &work_dir("aarch64"),
    );
}

#[test]
fn docs_show_the_c_program_verbatim() {
    let doc = std::fs::read_to_string(root().join("docs/aot.md")).unwrap();
    let c = std::fs::read_to_string(root().join("tests/c/interop.c")).unwrap();
    assert!(
        doc.contains(&format!("```c\n{c}```")),
        "docs/aot.md must quote tests/c/interop.c as it is"
    );
    assert!(doc.contains(EXPECTED_STDOUT) && doc.contains(EXPECTED_STDERR));
}

#[test]
fn the_header_compiles_as_cxx_and_names_every_export() {
    let work = work_dir("header");
    std::fs::create_dir_all(&work).unwrap();
    let out = run(Command::new(vsp())
        .arg("build")
        .arg(root().join("tests/c/mathlib.sil"))
        .args(["--emit", "header", "-o"])
        .arg(work.join("mathlib.h")));
    check_ok("vsp build --emit header", &out);
    let h = std::fs::read_to_string(work.join("mathlib.h")).unwrap();
    for decl in [
        "int64_t fib(int64_t n);",
        "double hyp(double a, double b);",
        "uint8_t twice(uint8_t s);",
        "int64_t apply(int64_t x);",
        "int64_t poke(int64_t addr);",
        "uint8_t *mathlib_memory(void);",
        "size_t mathlib_memory_size(void);",
        "void vsp_set_trap_handler(void (*handler)(int code, const char *msg));",
    ] {
        assert!(h.contains(decl), "header lacks `{decl}`:\n{h}");
    }
    assert!(
        !h.contains("helper"),
        "internal functions leak into the header:\n{h}"
    );
    if installed("c++") {
        let out = run(Command::new("c++")
            .args(["-fsyntax-only", "-Wall", "-Werror", "-x", "c++"])
            .arg(work.join("mathlib.h")));
        check_ok("c++ -fsyntax-only mathlib.h", &out);
    } else {
        eprintln!("c++ is not installed: the header was not compiled as C++");
    }
}
