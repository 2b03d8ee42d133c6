//! The persistent code cache from the command line: the conformance corpus run twice on the
//! JIT with `--cache`, the second time compiling nothing and behaving identically, and the
//! `vsp cache` commands.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn cache_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Runs `file` with `vsp run --engine jit --cache=DIR --stats`; returns (stdout, status, stderr).
fn cached_run(file: &Path, exp: &Expect, dir: &Path) -> (Vec<u8>, i32, String) {
    let mut c = Command::new(vsp());
    c.args(["run", "--engine", "jit", "--stats"])
        .arg(format!("--cache={}", dir.display()))
        .arg(file)
        .args(&exp.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(&exp.stdin);
    }
    let out = wait_with_timeout(child, 120).unwrap();
    (
        out.stdout,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_corpus_runs_from_the_cache_identically_with_nothing_compiled() {
    let dir = cache_dir("cache-corpus");
    let mut failures = Vec::new();
    let mut warm_compiles = 0;
    for file in programs() {
        let exp = read_expect(&file);
        let cold = cached_run(&file, &exp, &dir);
        let warm = cached_run(&file, &exp, &dir);
        let name = file.display();
        for (run, (stdout, status, stderr)) in [("cold", &cold), ("warm", &warm)] {
            if *stdout != exp.stdout || *status != exp.status {
                failures.push(format!(
                    "{name} ({run}): status {status}, stdout {stdout:?}"
                ));
            }
            if let Some(msg) = &exp.trap {
                let first = stderr.lines().next().unwrap_or("");
                if first != format!("error: trap: {msg}") {
                    failures.push(format!("{name} ({run}): first stderr line {first:?}"));
                }
            }
        }
        // The backtraces (with `.sil` lines) of cached code are the compiled code's.
        let trace = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| !l.starts_with("[stats]"))
                .map(String::from)
                .collect()
        };
        if trace(&cold.2) != trace(&warm.2) {
            failures.push(format!(
                "{name}: stderr differs:\n{}\n--\n{}",
                cold.2, warm.2
            ));
        }
        if exp.status != 2 && exp.status != 65 {
            if !warm.2.contains("functions compiled: 0;") {
                warm_compiles += 1;
                failures.push(format!("{name}: the warm run compiled: {}", warm.2));
            }
            if !warm.2.contains(" 0 misses") {
                failures.push(format!("{name}: the warm run missed: {}", warm.2));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures ({warm_compiles} warm runs compiled something):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn vsp_cache_reports_and_clears_a_directory() {
    let dir = cache_dir("cache-cmd");
    let fib = root().join("examples/fib.sil");
    let run = Command::new(vsp())
        .args(["run", &format!("--cache={}", dir.display())])
        .arg(&fib)
        .arg("10")
        .output()
        .unwrap();
    assert_eq!(run.stdout, b"55\n");
    let stats = |args: &[&str]| {
        let o = Command::new(vsp())
            .arg("cache")
            .args(args)
            .arg("--dir")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    let s = stats(&["stats"]);
    assert!(!s.contains(": 0 entries"), "{s}");
    let c = stats(&["clear"]);
    assert!(c.contains("removed") && !c.contains("removed 0"), "{c}");
    assert!(stats(&["stats"]).contains(": 0 entries, 0 bytes"));
    // A usage error, not a panic: `--cache` takes its directory only with `=`.
    let o = Command::new(vsp()).args(["cache"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}
