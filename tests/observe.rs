//! Profilers see `.sil` names and lines in JIT code: the perf map and the jitdump file, parsed
//! here byte by byte, and read by the real `perf` where the kernel lets it sample.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::vsp;

fn work(name: &str) -> PathBuf {
    common::scratch_dir("observe", name)
}

/// A recursive function and a loop, on known lines: `fib` is lines 2 to 13, the loop's
/// header instruction (`bge`, after `top:`) is line 17.
const PROG: &str = "\
module obs
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
    reg i: i64, s: i64, f: i64
top:
    bge i, n, done
    call f, fib(15)
    add s, s, f
    add i, i, 1
    jmp top
done:
    println s
    ret 0
}
";

fn prog(dir: &Path) -> PathBuf {
    let p = dir.join("obs.sil");
    std::fs::write(&p, PROG).unwrap();
    p
}

/// Runs `vsp run ARGS` (on the JIT unless ARGS name an engine: the default, tiered, would
/// interpret these short runs), returning its output and pid.
fn run(dir: &Path, args: &[&str]) -> (Output, u32) {
    let engine: &[&str] = if args.contains(&"--engine") {
        &[]
    } else {
        &["--engine", "jit"]
    };
    let child = Command::new(vsp())
        .arg("run")
        .args(engine)
        .args(args)
        .current_dir(dir)
        .env("JITDUMPDIR", dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out, pid)
}

/// The perf map of process `pid` as (start, size, name), removed from /tmp once read.
fn perf_map(pid: u32) -> Vec<(u64, u64, String)> {
    let path = format!("/tmp/perf-{pid}.map");
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    text.lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let start = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
            let size = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
            (start, size, parts.next().unwrap().to_string())
        })
        .collect()
}

fn assert_disjoint(entries: &[(u64, u64, String)]) {
    let mut v = entries.to_vec();
    v.sort();
    for w in v.windows(2) {
        assert!(w[0].1 > 0 && w[0].0 + w[0].1 <= w[1].0, "overlap: {w:?}");
    }
}

#[test]
fn perf_map_names_every_function_and_trampoline() {
    // The JIT makes a host trampoline only for what the host calls: `main`.
    let d = work("perf_map_jit");
    let p = prog(&d);
    let (out, pid) = run(&d, &["--perf-map", p.to_str().unwrap(), "3"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1830\n");
    let map = perf_map(pid);
    let names: Vec<&str> = map.iter().map(|e| e.2.as_str()).collect();
    for want in ["fib", "main", "main.trampoline"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert_disjoint(&map);
}

#[test]
fn perf_map_names_osr_entries_of_the_tiered_engine() {
    let d = work("perf_map_tiered");
    let p = prog(&d);
    // Synchronous compiles, `main` (called once) never hot, its loop hot at once: the loop
    // gets an OSR entry.
    let args = [
        "--engine",
        "tiered",
        "--tier-sync",
        "--tier-calls",
        "1000",
        "--tier-loops",
        "1",
        "--perf-map",
        p.to_str().unwrap(),
        "3",
    ];
    let (out, pid) = run(&d, &args);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1830\n");
    let map = perf_map(pid);
    let names: Vec<&str> = map.iter().map(|e| e.2.as_str()).collect();
    assert!(names.contains(&"fib"), "{names:?}");
    assert!(names.contains(&"main.osr.line17"), "{names:?}");
    assert_disjoint(&map);
}

/// One record of a jitdump file.
#[derive(Debug)]
enum Record {
    Load {
        name: String,
        addr: u64,
        code: Vec<u8>,
    },
    Debug {
        addr: u64,
        /// (address, line, file)
        rows: Vec<(u64, u32, String)>,
    },
    Other,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}
fn cstr_at(b: &[u8], at: usize) -> (String, usize) {
    let end = at + b[at..].iter().position(|&c| c == 0).unwrap();
    (String::from_utf8(b[at..end].to_vec()).unwrap(), end + 1)
}

/// Parses a jitdump file (header checked, then every record).
fn parse_jitdump(b: &[u8], pid: u32) -> Vec<Record> {
    assert_eq!(u32_at(b, 0), 0x4A69_5444, "magic");
    assert_eq!(u32_at(b, 4), 1, "version");
    let header = u32_at(b, 8) as usize;
    assert_eq!(header, 40);
    assert_eq!(u32_at(b, 20), pid);
    let mut at = header;
    let mut out = Vec::new();
    while at < b.len() {
        let id = u32_at(b, at);
        let size = u32_at(b, at + 4) as usize;
        let body = &b[at..at + size];
        out.push(match id {
            0 => {
                assert_eq!(u32_at(body, 16), pid);
                let addr = u64_at(body, 32);
                let len = u64_at(body, 40) as usize;
                let (name, end) = cstr_at(body, 56);
                assert_eq!(end + len, size, "code size of {name}");
                Record::Load {
                    name,
                    addr,
                    code: body[end..].to_vec(),
                }
            }
            2 => {
                let addr = u64_at(body, 16);
                let n = u64_at(body, 24) as usize;
                let mut rows = Vec::new();
                let mut p = 32;
                for _ in 0..n {
                    let (file, next) = cstr_at(body, p + 16);
                    rows.push((u64_at(body, p), u32_at(body, p + 8), file));
                    p = next;
                }
                assert_eq!(p, size);
                Record::Debug { addr, rows }
            }
            _ => Record::Other,
        });
        at += size;
    }
    out
}

#[test]
fn jitdump_has_code_and_sil_line_tables() {
    let d = work("jitdump");
    let p = prog(&d);
    let (_, pid) = run(&d, &["--jitdump", p.to_str().unwrap(), "3"]);
    let bytes = std::fs::read(d.join(format!("jit-{pid}.dump"))).unwrap();
    let records = parse_jitdump(&bytes, pid);
    let fib = records
        .iter()
        .position(|r| matches!(r, Record::Load { name, .. } if name == "fib"))
        .expect("a load record for fib");
    let Record::Load { addr, code, .. } = &records[fib] else {
        unreachable!()
    };
    assert!(!code.is_empty());
    // Its line table comes just before it, covers its code, names the file, and lies within
    // fib's lines (2..=12), starting at the function's own line.
    let Record::Debug { addr: daddr, rows } = &records[fib - 1] else {
        panic!("no debug info before fib: {:?}", records[fib - 1]);
    };
    assert_eq!(daddr, addr);
    assert_eq!(rows[0].0, *addr);
    assert_eq!(rows[0].1, 2);
    let file = std::path::absolute(&p).unwrap();
    for (a, line, f) in rows {
        assert!(*a >= *addr && *a < addr + code.len() as u64);
        assert!((2..=12).contains(line), "line {line}");
        assert_eq!(Path::new(f), file);
    }
    let lines: std::collections::BTreeSet<u32> = rows.iter().map(|r| r.1).collect();
    assert!(lines.len() >= 5, "{lines:?}");
    // Trampolines have code but no lines.
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::Load { name, .. } if name == "main.trampoline"))
    );
}

/// Whether `perf` can sample here (a software clock event: VMs often lack hardware counters).
fn perf_works(dir: &Path) -> bool {
    let ok = Command::new("perf")
        .args(["record", "-q", "-e", "cpu-clock", "-o"])
        .arg(dir.join("probe.data"))
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: `perf record -e cpu-clock` does not work here (no perf, or the kernel forbids sampling: see /proc/sys/kernel/perf_event_paranoid); only the file formats were checked"
        );
    }
    ok
}

fn perf(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("perf")
        .args(args)
        .current_dir(dir)
        .env("JITDUMPDIR", dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn perf_report_names_sil_functions() {
    let d = work("perf_report");
    if !perf_works(&d) {
        return;
    }
    let p = prog(&d);
    let vsp = vsp();
    let p = p.to_str().unwrap();
    perf(
        &d,
        &[
            "record",
            "-q",
            "-e",
            "cpu-clock",
            "-F",
            "5000",
            "-o",
            "p.data",
            vsp,
            "run",
            "--perf-map",
            p,
            "20000",
        ],
    );
    let report = perf(&d, &["report", "-i", "p.data", "--stdio", "--sort", "sym"]);
    assert!(
        report.lines().any(|l| l.trim_end().ends_with("] fib")),
        "{report}"
    );
    let _ = std::fs::remove_file(d.join("p.data"));
}

#[test]
fn perf_inject_and_annotate_show_sil_lines() {
    let d = work("perf_inject");
    if !perf_works(&d) {
        return;
    }
    let p = prog(&d);
    let vsp = vsp();
    let p = p.to_str().unwrap();
    perf(
        &d,
        &[
            "record",
            "-q",
            "-k",
            "mono",
            "-e",
            "cpu-clock",
            "-F",
            "5000",
            "-o",
            "p.data",
            vsp,
            "run",
            "--jitdump",
            p,
            "20000",
        ],
    );
    perf(&d, &["inject", "--jit", "-i", "p.data", "-o", "pj.data"]);
    let report = perf(
        &d,
        &["report", "-i", "pj.data", "--stdio", "--sort", "dso,sym"],
    );
    assert!(
        report
            .lines()
            .any(|l| l.contains("jitted-") && l.trim_end().ends_with("] fib")),
        "{report}"
    );
    let annotate = perf(&d, &["annotate", "-i", "pj.data", "--stdio", "-l", "fib"]);
    assert!(annotate.contains("obs.sil:"), "{annotate}");
}

#[test]
fn bad_jitdump_dir_is_an_error_not_a_crash() {
    let d = work("bad_dir");
    let p = prog(&d);
    let o = Command::new(vsp())
        .args(["run", "--jitdump"])
        .arg(&p)
        .arg("1")
        .env("JITDUMPDIR", d.join("no/such/dir"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(73));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot write") && err.contains("jit-"),
        "{err}"
    );
}

#[test]
fn emitted_clif_names_the_sil_line_of_each_block() {
    let d = work("clif");
    let p = prog(&d);
    let o = Command::new(vsp())
        .args(["build", "--emit", "clif", "-o"])
        .arg(d.join("obs.clif"))
        .arg(&p)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let clif = std::fs::read_to_string(d.join("obs.clif")).unwrap();
    // fib's entry block is its `func` line; the `blt` on line 4 starts a block, the loop
    // header on line 17 another.
    for want in [
        "block0(v0: i64, v1: i64):  ; line 2",
        ":  ; line 4",
        ":  ; line 17",
    ] {
        assert!(clif.contains(want), "{want} in {clif}");
    }
    assert!(clif.contains("    ; line 6\n"), "{clif}");
    // Cranelift's own hexadecimal source locations are replaced by the comments.
    assert!(
        !clif.lines().any(|l| l.trim_start().starts_with('@')),
        "{clif}"
    );
}

/// `vsp run --profile ARGS`: the `[profile]` row whose first column is `name` (split on
/// runs of spaces, without the `[profile]` tag).
fn profile_rows(dir: &Path, args: &[&str]) -> (String, Vec<Vec<String>>) {
    let mut all = vec!["--profile"];
    all.extend_from_slice(args);
    let (out, _) = run(dir, &all);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let rows = err
        .lines()
        .filter_map(|l| l.strip_prefix("[profile] "))
        .map(|l| {
            // "main line 17" is one column: join the words before the tier.
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.iter().position(|w| *w == "line") {
                Some(1) if words.len() > 3 => {
                    let mut v = vec![format!("{} line {}", words[0], words[2])];
                    v.extend(words[3..].iter().map(|w| w.to_string()));
                    v
                }
                _ => words.iter().map(|w| w.to_string()).collect(),
            }
        })
        .collect();
    (err, rows)
}

fn row<'a>(rows: &'a [Vec<String>], name: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == name)
        .unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
}

/// Calls of fib in `obs.sil 3` (3 × fib(15), each 1973 calls), loop-header arrivals (3
/// iterations and the exit test).
const FIB_CALLS: u64 = 3 * 1973;

#[test]
fn profile_counts_calls_and_loop_iterations_in_each_engine() {
    let d = work("profile");
    let p = prog(&d);
    let p = p.to_str().unwrap();
    for (engine, fib_tier, main_tier) in
        [("jit", "native", "native"), ("interp", "interp", "interp")]
    {
        let (err, rows) = profile_rows(&d, &["--engine", engine, p, "3"]);
        let fib = row(&rows, "fib");
        assert_eq!(fib[1], fib_tier, "{err}");
        let (ci, cn): (u64, u64) = (fib[2].parse().unwrap(), fib[3].parse().unwrap());
        assert_eq!(ci + cn, FIB_CALLS, "{err}");
        assert_eq!(row(&rows, "main")[1], main_tier, "{err}");
        let l = row(&rows, "main line 17");
        let (ai, an): (u64, u64) = (l[2].parse().unwrap(), l[3].parse().unwrap());
        assert_eq!(ai + an, 4, "{err}");
        assert!(
            err.contains(&format!("[profile] engine {engine}: ")),
            "{err}"
        );
    }
}

#[test]
fn profile_shows_code_moving_between_tiers() {
    let d = work("profile_tiered");
    let p = prog(&d);
    let args = [
        "--engine",
        "tiered",
        "--tier-sync",
        "--tier-calls",
        "100",
        "--tier-loops",
        "2",
        p.to_str().unwrap(),
        "3",
    ];
    let (err, rows) = profile_rows(&d, &args);
    let fib = row(&rows, "fib");
    assert_eq!(fib[1], "interp+native", "{err}");
    // The interpreter counts the calls before the threshold (the 100th is compiled and runs
    // natively), native code the rest.
    assert_eq!(fib[2], "99", "{err}");
    assert_eq!(fib[3].parse::<u64>().unwrap(), FIB_CALLS - 99, "{err}");
    // main is called once (interpreted) and its loop moves to native code mid-run.
    assert_eq!(row(&rows, "main")[1], "interp+OSR", "{err}");
    let l = row(&rows, "main line 17");
    assert_eq!(l[1], "interp+native", "{err}");
    let (ai, an): (u64, u64) = (l[2].parse().unwrap(), l[3].parse().unwrap());
    assert_eq!((ai, an), (1, 3), "{err}");
}

#[test]
fn profile_samples_land_in_the_hot_native_function() {
    let d = work("profile_samples");
    let p = prog(&d);
    // Long enough for a steady 20+ samples: since fib's self-calls are inlined, 20000 rounds
    // took only ~80 ms of CPU on CI (19 samples).
    let (err, rows) = profile_rows(&d, &[p.to_str().unwrap(), "80000"]);
    // Nearly all of the run is fib's native code: it has the most samples, and most of them.
    let fib = row(&rows, "fib");
    let samples: u64 = fib[4].parse().unwrap();
    let total: u64 = err
        .split(" samples over ")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(total >= 20 && samples * 2 > total, "{err}");
}

#[test]
fn code_loaded_from_the_cache_is_named_too() {
    let d = work("cache");
    let p = prog(&d);
    let cache = format!("--cache={}", d.join("cache").display());
    let args = [
        cache.as_str(),
        "--perf-map",
        "--stats",
        p.to_str().unwrap(),
        "3",
    ];
    let (_, first) = run(&d, &args);
    let _ = std::fs::remove_file(format!("/tmp/perf-{first}.map"));
    let (out, pid) = run(&d, &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loaded from cache: 2"), "{err}");
    let names: Vec<String> = perf_map(pid).into_iter().map(|e| e.2).collect();
    assert!(names.iter().any(|n| n == "fib"), "{names:?}");
}
