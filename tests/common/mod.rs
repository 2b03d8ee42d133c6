//! Helpers shared by the integration tests: the corpus, its directives, running `vsp`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn vsp() -> &'static str {
    env!("CARGO_BIN_EXE_vsp")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty directory `CARGO_TARGET_TMPDIR/suite/name` for one test's files.
pub fn scratch_dir(suite: &str, name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(suite)
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every `.sil` under `tests/<dir>/`, sorted.
pub fn sil_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("tests").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sil"))
        .collect();
    v.sort();
    v
}

pub fn programs() -> Vec<PathBuf> {
    sil_files("programs")
}

/// What a conformance program must do.
#[derive(Debug, Default)]
pub struct Expect {
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
    pub status: i32,
    pub trap: Option<String>,
    pub stdout: Vec<u8>,
}

pub fn read_expect(file: &Path) -> Expect {
    let src = std::fs::read_to_string(file).unwrap();
    let mut e = Expect::default();
    let mut status = None;
    for line in src.lines() {
        let Some(rest) = line.trim().strip_prefix(';') else {
            continue;
        };
        let rest = rest.trim();
        if let Some(a) = rest.strip_prefix("args:") {
            e.args = a.split_whitespace().map(String::from).collect();
        } else if let Some(s) = rest.strip_prefix("stdin:") {
            e.stdin = unescape(s.trim());
        } else if let Some(s) = rest.strip_prefix("status:") {
            status = Some(s.trim().parse().expect("status directive"));
        } else if let Some(t) = rest.strip_prefix("trap:") {
            e.trap = Some(t.trim().to_string());
        }
    }
    e.status = status.unwrap_or(if e.trap.is_some() { 70 } else { 0 });
    e.stdout = std::fs::read(file.with_extension("out")).unwrap_or_default();
    e
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' if i + 3 < b.len() => {
                    let h = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(h, 16).unwrap());
                    i += 4;
                    continue;
                }
                c => {
                    out.push(b'\\');
                    out.push(c);
                }
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Waits for a child, killing it after `secs` (a hung engine must fail the test, not hang it).
pub fn wait_with_timeout(mut child: Child, secs: u64) -> std::io::Result<Output> {
    let start = Instant::now();
    // Drain pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = so.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut v);
        }
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = se.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut v);
        }
        v
    });
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Output {
                status,
                stdout: t_out.join().unwrap(),
                stderr: t_err.join().unwrap(),
            });
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!("timed out after {secs} s")));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---- Engines: how each one runs a program ----------------------------------------------------
//
// `interp`, `jit` and `tiered` are `vsp run --engine` (`tiered(forced)` with every threshold at
// 1); `interp(.silc)` assembles first; `aot` builds each
// program into a native executable; `aot-aarch64` cross-builds it and runs it under
// `qemu-aarch64` (only where qemu and the cross compiler are installed; always in CI).

/// How one engine runs a program: returns the command (already holding the program's args).
pub struct Engine {
    pub name: &'static str,
    /// Prepares and returns the command, or an error if preparing failed (e.g. a build).
    pub command: fn(&Path, &[String], &Path) -> Result<Command, String>,
}

fn run_with(engine: &'static str) -> impl Fn(&Path, &[String], &Path) -> Result<Command, String> {
    move |file, args, _work| {
        let mut c = Command::new(vsp());
        c.args(["run", "--engine", engine]).arg(file).args(args);
        Ok(c)
    }
}

/// Every engine a program must agree on. Adding an engine is adding a row here.
pub fn engines() -> Vec<Engine> {
    let mut v = vec![
        Engine {
            name: "interp",
            command: |f, a, w| run_with("interp")(f, a, w),
        },
        Engine {
            name: "jit",
            command: |f, a, w| run_with("jit")(f, a, w),
        },
        // Tiered with its default thresholds: most of the corpus stays interpreted.
        Engine {
            name: "tiered",
            command: |f, a, w| run_with("tiered")(f, a, w),
        },
        // Tiered with every threshold at 1, compiling synchronously: every function is
        // compiled at its first call and every loop entered natively at its first arrival.
        Engine {
            name: "tiered(forced)",
            command: |file, args, _work| {
                let mut c = Command::new(vsp());
                c.args(["run", "--engine", "tiered", "--tier-sync"])
                    .args(["--tier-calls", "1", "--tier-loops", "1"])
                    .arg(file)
                    .args(args);
                Ok(c)
            },
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

/// Runs `file` on `engine` and compares with `exp`; `Err` describes every difference.
pub fn check_one(engine: &Engine, file: &Path, exp: &Expect, work: &Path) -> Result<(), String> {
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
    let out = wait_with_timeout(child, 120).map_err(|e| e.to_string())?;
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

/// Runs every program in `files` (each with its directives and `.out` file, see
/// [`read_expect`]) on every engine; returns how many runs passed and a description of each
/// that failed.
pub fn run_on_every_engine(files: &[PathBuf], work: &Path) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut passed = 0;
    for engine in engines() {
        for file in files {
            let exp = read_expect(file);
            match check_one(&engine, file, &exp, work) {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!("[{}] {}:\n  {}", engine.name, file.display(), e)),
            }
        }
    }
    (passed, failures)
}
