//! Cross-engine conformance: every program in `tests/programs/` runs on every engine and must
//! give the stdout bytes, exit status and trap written by hand in its `.out` file and directives.
//!
//! Directives at the top of a program: `; args: ...`, `; stdin: ...` (escapes `\n \t \\ \xHH`),
//! `; status: N`, `; trap: MESSAGE` (status 70). Engines are rows of `engines()`: each turns a
//! program into a command to run, so the JIT and the AOT backend plug in as one more row.
//! `aot` builds each program into a native executable; `aot-aarch64` cross-builds it and runs it
//! under `qemu-aarch64` (only where qemu and the cross compiler are installed; always in CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;
use common::{Expect, programs, read_expect, vsp};

/// How one engine runs a program: returns the command (already holding the program's args).
struct Engine {
    name: &'static str,
    /// Prepares and returns the command, or an error if preparing failed (e.g. a build).
    command: fn(&Path, &[String], &Path) -> Result<Command, String>,
}

fn run_with(engine: &'static str) -> impl Fn(&Path, &[String], &Path) -> Result<Command, String> {
    move |file, args, _work| {
        let mut c = Command::new(vsp());
        c.args(["run", "--engine", engine]).arg(file).args(args);
        Ok(c)
    }
}

fn engines() -> Vec<Engine> {
    let mut v = vec![
        Engine {
            name: "interp",
            command: |f, a, w| run_with("interp")(f, a, w),
        },
        Engine {
            name: "jit",
            command: |f, a, w| run_with("jit")(f, a, w),
        },
        // The binary form must run the same: assemble, then interpret the `.silc`.
        Engine {
            name: "interp(.silc)",
            command: |file, args, work| {
                let silc = work.join(file.file_stem().unwrap()).with_extension("silc");
                let out = Command::new(vsp())
                    .arg("asm")
                    .arg(file)
                    .arg("-o")
                    .arg(&silc)
                    .output()
                    .map_err(|e| e.to_string())?;
                if !out.status.success() {
                    return Err(format!(
                        "vsp asm failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                run_with("interp")(&silc, args, work)
            },
        },
    ];
    if host_tools() {
        // A native executable from `vsp build`, run directly.
        v.push(Engine {
            name: "aot",
            command: |file, args, work| {
                Ok(match aot_build(file, work, "aot", &[])? {
                    Ok(exe) => {
                        let mut c = Command::new(exe);
                        c.args(args);
                        c
                    }
                    Err(build) => build,
                })
            },
        });
    }
    if aarch64_tools() {
        v.push(Engine {
            name: "aot-aarch64",
            command: |file, args, work| {
                let target = ["--target", "aarch64-unknown-linux-gnu"];
                Ok(match aot_build(file, work, "aot-aarch64", &target)? {
                    Ok(exe) => {
                        let mut c = Command::new("qemu-aarch64");
                        c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(exe).args(args);
                        c
                    }
                    Err(build) => build,
                })
            },
        });
    }
    v
}

/// Whether `program` runs (is installed).
fn installed(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Whether the aot row can run here: linking needs the system C compiler `cc` (required in CI).
fn host_tools() -> bool {
    let have = installed("cc", "--version");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        have || !ci,
        "CI=true but `cc` is missing: the aot row must run in CI"
    );
    if !have {
        eprintln!("conformance: skipping the aot row (no C compiler `cc` to link executables)");
    }
    have
}

/// Whether the aarch64 row can run here: it needs `qemu-aarch64` and `aarch64-linux-gnu-gcc`.
/// In CI (`CI=true`) they must be installed.
fn aarch64_tools() -> bool {
    let have =
        installed("qemu-aarch64", "--version") && installed("aarch64-linux-gnu-gcc", "--version");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        have || !ci,
        "CI=true but qemu-aarch64 or aarch64-linux-gnu-gcc is missing: \
         install qemu-user and gcc-aarch64-linux-gnu (the aot-aarch64 row must run in CI)"
    );
    if !have {
        eprintln!(
            "conformance: skipping the aot-aarch64 row (qemu-aarch64 or aarch64-linux-gnu-gcc is not installed)"
        );
    }
    have
}

/// Builds `file` into an executable under `work/dir/` with `vsp build` (plus `extra` flags).
/// `Ok(Ok(exe))` when it built; `Ok(Err(cmd))` when the build itself ended with a status the
/// program may expect (a module that cannot run, status 65): running `cmd` repeats the build,
/// whose status and stderr then stand for the run's.
fn aot_build(
    file: &Path,
    work: &Path,
    dir: &str,
    extra: &[&str],
) -> Result<Result<PathBuf, Command>, String> {
    let dir = work.join(dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let exe = dir.join(file.file_stem().unwrap());
    let build = || {
        let mut c = Command::new(vsp());
        c.arg("build").arg(file).arg("-o").arg(&exe).args(extra);
        c
    };
    let out = build().output().map_err(|e| e.to_string())?;
    match out.status.code() {
        Some(0) => Ok(Ok(exe)),
        Some(65) => Ok(Err(build())),
        _ => Err(format!(
            "vsp build failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

fn check_one(engine: &Engine, file: &Path, exp: &Expect, work: &Path) -> Result<(), String> {
    let mut cmd = (engine.command)(file, &exp.args, work)?;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(&exp.stdin);
    }
    let out = common::wait_with_timeout(child, 120).map_err(|e| e.to_string())?;
    let status = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.stdout != exp.stdout {
        problems.push(format!(
            "stdout differs\n    expected: {:?}\n    actual:   {:?}",
            String::from_utf8_lossy(&exp.stdout),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    if status != exp.status {
        problems.push(format!("status {status}, expected {}", exp.status));
    }
    let first = stderr.lines().next().unwrap_or("");
    match &exp.trap {
        Some(msg) => {
            let want = format!("error: trap: {msg}");
            if first != want {
                problems.push(format!("first stderr line {first:?}, expected {want:?}"));
            }
        }
        None if !stderr.is_empty() && exp.status != 2 && exp.status != 65 => {
            problems.push(format!("unexpected stderr: {stderr}"));
        }
        None => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

#[test]
fn every_program_on_every_engine() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    std::fs::create_dir_all(&work).unwrap();
    let progs = programs();
    assert!(
        progs.len() >= 80,
        "only {} conformance programs",
        progs.len()
    );
    let mut failures = Vec::new();
    let mut passed = 0;
    for engine in engines() {
        for file in &progs {
            let exp = read_expect(file);
            match check_one(&engine, file, &exp, &work) {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!("[{}] {}:\n  {}", engine.name, file.display(), e)),
            }
        }
    }
    eprintln!("conformance: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
