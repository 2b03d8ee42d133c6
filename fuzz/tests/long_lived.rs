//! Long-lived hosts keep a flat memory footprint: an embedding host that calls trapping
//! functions a million times, and a REPL-style host that redefines a function 100,000 times.
//! CI runs scaled-down counts; `VSP_FULL=1` runs the full ones. Each prints resident memory over
//! time (run with `--nocapture`).

use jit::{CallError, Config, EngineKind, Instance, Linker, TrapCode, Value};
use std::sync::Mutex;
use std::time::Instant;
use vsp_fuzz::rss;

/// One case at a time, so resident memory is each case's own.
static SERIAL: Mutex<()> = Mutex::new(());

/// Growth of resident memory allowed between the end of warm-up and the end of a run.
const FLAT_KIB: u64 = 16 * 1024;

const TRAPPING: &str = "memory 1
func inner(x: i64) -> i64 {
    reg r: i64
    div r, 100, x
    ret r
}
func f(k: i64) -> i64 {
    reg r: i64, m: i64
    rem m, k, 4
    switch m, [div0, oob, nested], deep
div0:
    div r, k, 0
    ret r
oob:
    load.i64 r, [k + 65536]
    ret r
nested:
    call r, inner(0)
    ret r
deep:
    trap
}
func ok(x: i64) -> i64 {
    add x, x, 1
    ret x
}
";

/// Calls `step(i)` `n` times; samples resident memory ten times; asserts that it stays within
/// `FLAT_KIB` of what it was after the first tenth. Returns the samples (call count, KiB).
fn measure(label: &str, n: usize, mut step: impl FnMut(usize)) -> Vec<(usize, u64)> {
    let mut samples = vec![(0, rss::current_kib())];
    let maps_before = rss::mappings();
    let t = Instant::now();
    for i in 0..n {
        step(i);
        if (i + 1) % (n / 10).max(1) == 0 {
            samples.push((i + 1, rss::current_kib()));
        }
    }
    let maps_after = rss::mappings();
    let line: Vec<String> = samples
        .iter()
        .map(|(i, k)| format!("{i}: {:.1}", *k as f64 / 1024.0))
        .collect();
    eprintln!(
        "[long-lived] {label}: {n} in {:.1} s; mappings {maps_before} -> {maps_after}; RSS MiB by count: {}",
        t.elapsed().as_secs_f64(),
        line.join(", ")
    );
    let warm = samples.get(1).map_or(0, |s| s.1);
    let last = samples.last().map_or(0, |s| s.1);
    assert!(
        last <= warm + FLAT_KIB,
        "{label}: resident memory grew from {warm} KiB (after warm-up) to {last} KiB over {n} iterations"
    );
    samples
}

fn trapping_calls(engine: EngineKind) {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let n = if rss::full() { 1_000_000 } else { 40_000 };
    let mut inst = Instance::from_text(
        Config::new().engine(engine).capture_output(),
        TRAPPING,
        "trapping",
        Linker::new(),
    )
    .unwrap();
    let expected = [
        TrapCode::IntegerDivideByZero,
        TrapCode::OutOfBounds,
        TrapCode::IntegerDivideByZero,
        TrapCode::Unreachable,
    ];
    measure(&format!("{engine:?} trapping calls"), n, |i| {
        match inst.call("f", &[Value::I64(i as i64)]) {
            Err(CallError::Trap(t)) => assert_eq!(t.code, expected[i % 4], "call {i}"),
            other => panic!("call {i}: {other:?}"),
        }
    });
    // Still usable.
    assert_eq!(
        inst.call("ok", &[Value::I64(41)]).unwrap(),
        Some(Value::I64(42))
    );
}

#[test]
fn a_million_trapping_calls_on_the_jit() {
    trapping_calls(EngineKind::Jit);
}

#[test]
fn a_million_trapping_calls_on_the_interpreter() {
    trapping_calls(EngineKind::Interp);
}

/// A trap raised by a host function, a million times: the host's error travels back each time.
#[test]
fn a_million_traps_from_a_host_function() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let n = if rss::full() { 1_000_000 } else { 40_000 };
    for engine in [EngineKind::Jit, EngineKind::Interp] {
        let mut linker = Linker::new();
        linker.func("fail", |_| Err(jit::Trap::new(TrapCode::Unreachable)));
        let mut inst = Instance::from_text(
            Config::new().engine(engine),
            "extern func fail(x: i64) -> i64\nfunc f(x: i64) -> i64 {\n    call x, fail(x)\n    ret x\n}\n",
            "host",
            linker,
        )
        .unwrap();
        measure(&format!("{engine:?} host traps"), n, |i| {
            assert!(matches!(
                inst.call("f", &[Value::I64(i as i64)]),
                Err(CallError::Trap(_))
            ));
        });
    }
}

fn redefinitions(engine: EngineKind, n: usize) {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut inst = Instance::from_text(
        Config::new().engine(engine).capture_output(),
        "func f(x: i64) -> i64 {\n    ret x\n}\nfunc g(x: i64) -> i64 {\n    reg r: i64\n    call r, f(x)\n    ret r\n}\n",
        "repl",
        Linker::new(),
    )
    .unwrap();
    measure(&format!("{engine:?} redefinitions"), n, |i| {
        let k = i as i64;
        inst.define(&format!(
            "func f(x: i64) -> i64 {{\n    add x, x, {k}\n    ret x\n}}\n"
        ))
        .unwrap();
        // Called through a caller compiled earlier, so the new body really is in use.
        assert_eq!(
            inst.call("g", &[Value::I64(1)]).unwrap(),
            Some(Value::I64(1 + k)),
            "after redefinition {i}"
        );
    });
}

/// The REPL case. Fails today on the JIT: see `docs/limits.md` (every redefinition compiles into
/// the instance's one `JITModule`, whose code and declarations are only freed with the instance).
#[test]
fn jit_redefining_a_function_100k_times_keeps_memory_flat() {
    redefinitions(EngineKind::Jit, if rss::full() { 100_000 } else { 10_000 });
}

#[test]
fn interp_redefining_a_function_100k_times_keeps_memory_flat() {
    redefinitions(
        EngineKind::Interp,
        if rss::full() { 100_000 } else { 10_000 },
    );
}
