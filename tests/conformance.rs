//! Cross-engine conformance: every program in `tests/programs/` runs on every engine and must
//! give the stdout bytes, exit status and trap written by hand in its `.out` file and directives.
//!
//! Directives at the top of a program: `; args: ...`, `; stdin: ...` (escapes `\n \t \\ \xHH`),
//! `; status: N`, `; trap: MESSAGE` (status 70). Engines are rows of `engines()`: each turns a
//! program into a command to run, so the JIT and the AOT backend plug in as one more row.

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
    vec![
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
    ]
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
