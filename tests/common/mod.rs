//! Helpers shared by the integration tests: the corpus, its directives, running `vsp`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::{Duration, Instant};

pub fn vsp() -> &'static str {
    env!("CARGO_BIN_EXE_vsp")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
