//! The tiered engine: tier-up, on-stack replacement, fallbacks and mixed interpreted/native
//! stacks, each checked against the reference interpreter and through the engine's statistics.

use jit::{CallError, Config, EngineKind, Instance, Linker, TierConfig, Trap, TrapCode, Value};
use std::time::{Duration, Instant};

/// Tiered, compiling synchronously at the given thresholds (reproducible).
fn tiered(calls: u32, loops: u32) -> Config {
    Config::new()
        .engine(EngineKind::Tiered)
        .capture_output()
        .tier_thresholds(calls, loops)
        .tier_synchronous(true)
}

fn load(config: Config, src: &str) -> Instance {
    Instance::from_text(config, src, "test", Linker::new()).unwrap_or_else(|e| panic!("{e}"))
}

/// Calls `main` and returns (result, output).
fn run(inst: &mut Instance, args: &[Value]) -> (Result<Option<Value>, CallError>, String) {
    let r = inst.call("main", args);
    (r, String::from_utf8(inst.take_output()).unwrap())
}

/// Runs `src` on the interpreter and on `config`; both must agree. Returns the tiered instance.
fn agree(config: Config, src: &str, args: &[Value]) -> Instance {
    let mut reference = load(
        Config::new().engine(EngineKind::Interp).capture_output(),
        src,
    );
    let (want, want_out) = run(&mut reference, args);
    let mut inst = load(config, src);
    let (got, got_out) = run(&mut inst, args);
    assert_eq!(got_out, want_out, "output differs from the interpreter's");
    assert_eq!(format!("{got:?}"), format!("{want:?}"), "result differs");
    inst
}

fn osr_lines(inst: &Instance, func: &str) -> Vec<u32> {
    let s = inst.stats().tier.expect("tiered statistics");
    s.osr_entries
        .iter()
        .filter(|(f, _)| f == func)
        .map(|(_, l)| *l)
        .collect()
}

const MAIN_LOOP: &str = r#"
memory 1
func main(n: i64) -> i64 {
    reg i: i64, acc: i64, f: f64, g: f64, s: sil, t: sil, k: i64, m: i64
    mov f, 1.5
    mov g, 0.25
    mov s, sil(1, 3)
    mov t, sil(0, 1)
    mov k, 7
    mov m, 1000
    store.i64 [8], 42
loop:
    bge i, n, done
    add acc, acc, k
    mul f, f, 1.0001
    add g, g, f
    mul s, s, t
    load.i64 k, [8]
    add k, k, i
    store.i64 [8], k
    and k, k, 1023
    add i, i, 1
    jmp loop
done:
    println acc
    println f, 6
    println g, 6
    println s
    println k
    println m
    ret acc
}
"#;

#[test]
fn a_loop_in_main_continues_in_native_code_with_every_register() {
    for loops in [1, 2, 100] {
        let inst = agree(tiered(1000, loops), MAIN_LOOP, &[Value::I64(1000)]);
        assert_eq!(osr_lines(&inst, "main"), vec![13], "loops = {loops}");
    }
}

/// Forty registers of every type, each with its own value when the loop is entered, printed
/// after it: a register an OSR entry forgot would print as zero.
#[test]
fn osr_carries_every_register_of_every_type() {
    let mut src = String::from("memory 1\nfunc main() -> i64 {\n    reg i: i64\n");
    let ty = |k: usize| ["i64", "f64", "sil"][k % 3];
    for k in 0..40 {
        src += &format!("    reg r{k}: {}\n", ty(k));
    }
    for k in 0..40 {
        let v = match k % 3 {
            0 => format!("{}", 1000 + k),
            1 => format!("{}.5", k + 1),
            _ => format!("sil({}, {})", k % 7, (k + 1) % 16),
        };
        src += &format!("    mov r{k}, {v}\n");
    }
    src += "loop:\n    add i, i, 1\n    add r0, r0, i\n    blt i, 10, loop\n";
    for k in 0..40 {
        src += &format!("    println r{k}\n");
    }
    src += "    ret 0\n}\n";
    let inst = agree(tiered(1000, 1), &src, &[]);
    assert_eq!(osr_lines(&inst, "main").len(), 1);
}

const NESTED: &str = r#"
func main(inner_from: i64) -> i64 {
    reg i: i64, j: i64, s: i64, lim: i64
outer:
    bge i, 100, done
    mov j, 0
    mov lim, 0
    blt i, inner_from, inner
    mov lim, 50
inner:
    bge j, lim, next
    add s, s, j
    add j, j, 1
    jmp inner
next:
    add i, i, 1
    jmp outer
done:
    println s
    ret 0
}
"#;

#[test]
fn nested_loops_enter_native_code_at_whichever_loop_is_hot() {
    // The inner loop runs from the start: it gets hot first.
    let inst = agree(tiered(1000, 20), NESTED, &[Value::I64(0)]);
    assert_eq!(osr_lines(&inst, "main"), vec![11]);
    // The inner loop does nothing until i = 90: the outer one gets hot first.
    let inst = agree(tiered(1000, 20), NESTED, &[Value::I64(90)]);
    assert_eq!(osr_lines(&inst, "main"), vec![5]);
}

const RECURSIVE: &str = r#"
func walk(d: i64) -> i64 {
    reg i: i64, s: i64, r: i64
    jz d, base
loop:
    bge i, 30, after
    add s, s, i
    add i, i, d
    jmp loop
after:
    sub d, d, 1
    call r, walk(d)
    add s, s, r
    ret s
base:
    ret 0
}
func main() -> i64 {
    reg r: i64
    call r, walk(12)
    println r
    ret 0
}
"#;

#[test]
fn a_loop_inside_a_recursive_function_is_entered_natively() {
    let inst = agree(tiered(1000, 8), RECURSIVE, &[]);
    assert_eq!(osr_lines(&inst, "walk"), vec![6]);
    let s = inst.stats().tier.unwrap();
    assert!(s.tiered_up.iter().any(|(f, _)| f == "walk"));
}

const TRAPPING: &str = r#"
func g(x: i64) -> i64 {
    reg r: i64
    sub r, 2, x
    div r, 10, r
    ret r
}
func f(x: i64) -> i64 {
    reg r: i64
    call r, g(x)
    add r, r, 1
    ret r
}
func main() -> i64 {
    reg i: i64, r: i64
loop:
    call r, f(i)
    println r
    add i, i, 1
    jmp loop
}
"#;

fn trap_of(r: Result<Option<Value>, CallError>) -> Trap {
    match r {
        Err(CallError::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn a_trap_in_native_code_called_from_the_interpreter_has_the_interpreters_backtrace() {
    let mut reference = load(
        Config::new().engine(EngineKind::Interp).capture_output(),
        TRAPPING,
    );
    let want = trap_of(reference.call("main", &[]));
    // f becomes native at its second call, g is compiled when native f first calls it; main
    // stays interpreted: the stack is interpreted main, native f, native g.
    for (calls, loops) in [(2, 1000), (1, 1000), (1, 1), (1000, 1)] {
        let mut inst = load(tiered(calls, loops), TRAPPING);
        let got = trap_of(inst.call("main", &[]));
        assert_eq!(got.code, TrapCode::IntegerDivideByZero);
        assert_eq!(
            got.backtrace, want.backtrace,
            "calls {calls}, loops {loops}"
        );
        assert_eq!(got.omitted_frames, want.omitted_frames);
        assert_eq!(inst.take_output(), b"6\n11\n");
        // The engine stays usable.
        assert_eq!(
            inst.call("f", &[Value::I64(0)]).unwrap(),
            Some(Value::I64(6))
        );
    }
}

const DEEP: &str = r#"
func down(n: i64) -> i64 {
    jz n, zero
    sub n, n, 1
    call n, down(n)
    add n, n, 1
    ret n
zero:
    ret 0
}
func forever(n: i64) -> i64 {
    add n, n, 1
    call n, forever(n)
    ret n
}
func main(n: i64) -> i64 {
    reg r: i64
    call r, down(n)
    println r
    ret 0
}
"#;

#[test]
fn deep_recursion_works_across_the_tiers_and_unbounded_recursion_traps() {
    // The first 50,000 frames interpreted, the rest native.
    let mut inst = load(tiered(50_000, 1000), DEEP);
    let (r, out) = run(&mut inst, &[Value::I64(100_000)]);
    assert_eq!(r.unwrap(), Some(Value::I64(0)));
    assert_eq!(out, "100000\n");
    let t = trap_of(inst.call("forever", &[Value::I64(0)]));
    assert_eq!(t.code, TrapCode::StackOverflow);
    assert!(t.omitted_frames > 0);
    assert_eq!(t.backtrace[0].func, "forever");
    // Still usable, and now native all the way.
    assert_eq!(
        inst.call("down", &[Value::I64(1000)]).unwrap(),
        Some(Value::I64(1000))
    );
}

const SPIN: &str = r#"
func spin() -> i64 {
    reg i: i64
loop:
    add i, i, 1
    jmp loop
}
func one() -> i64 {
    ret 1
}
"#;

#[test]
fn an_interrupt_stops_native_code_entered_by_osr_and_during_a_background_compile() {
    for synchronous in [true, false] {
        let config = Config::new()
            .engine(EngineKind::Tiered)
            .interruptible(true)
            .tier_thresholds(1000, 100)
            .tier_synchronous(synchronous);
        let mut inst = load(config, SPIN);
        let h = inst.interrupt_handle();
        let start = Instant::now();
        let t = std::thread::spawn(move || {
            // Long enough for the loop to be entered natively (synchronous), short enough
            // that a background compile may still be running (asynchronous).
            std::thread::sleep(Duration::from_millis(if synchronous { 100 } else { 1 }));
            h.interrupt();
        });
        let trap = trap_of(inst.call("spin", &[]));
        t.join().unwrap();
        assert_eq!(trap.code, TrapCode::Interrupted);
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(inst.call("one", &[]).unwrap(), Some(Value::I64(1)));
        if synchronous {
            assert_eq!(osr_lines(&inst, "spin"), vec![5]);
        }
    }
}

const HOT_CALLEE: &str = r#"
func f(x: i64) -> i64 {
    add x, x, 1
    mul x, x, 3
    sub x, x, 2
    xor x, x, 5
    ret x
}
func main() -> i64 {
    reg i: i64, s: i64, r: i64
loop:
    call r, f(i)
    add s, s, r
    add i, i, 1
    blt i, 500, loop
    println s
    ret 0
}
"#;

#[test]
fn a_function_the_jit_will_not_compile_keeps_running_interpreted() {
    let config = tiered(10, 1_000_000).tier(TierConfig {
        call_threshold: 10,
        loop_threshold: 1_000_000,
        synchronous: true,
        max_function_size: 3,
        ..TierConfig::default()
    });
    let inst = agree(config, HOT_CALLEE, &[]);
    let s = inst.stats().tier.unwrap();
    assert!(s.tiered_up.is_empty(), "{s:?}");
    assert_eq!(s.fallbacks.len(), 1, "{s:?}");
    assert_eq!(s.fallbacks[0].0, "f");
    assert!(s.fallbacks[0].1.contains("too large"), "{s:?}");
    assert!(inst.stats().functions.iter().all(|f| f.compiles == 0));
}

/// Runs `HOT_CALLEE` three times on `config`, letting background compiles finish after each
/// run, and checks every run against the interpreter's.
fn three_runs_agree_with_the_interpreter(config: Config) -> Instance {
    let mut inst = load(config, HOT_CALLEE);
    let mut reference = load(
        Config::new().engine(EngineKind::Interp).capture_output(),
        HOT_CALLEE,
    );
    let want = run(&mut reference, &[]);
    // A compile may finish during or after any run; every run agrees.
    for _ in 0..3 {
        let got = run(&mut inst, &[]);
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
        inst.wait_for_compiles();
    }
    inst
}

#[test]
fn hot_functions_tier_up_in_the_background() {
    let config = Config::new()
        .engine(EngineKind::Tiered)
        .capture_output()
        .tier(TierConfig {
            call_threshold: 10,
            loop_threshold: 1_000_000,
            // These runs take well under the default startup delay.
            startup_delay: Duration::ZERO,
            ..TierConfig::default()
        });
    let s = three_runs_agree_with_the_interpreter(config)
        .stats()
        .tier
        .unwrap();
    assert_eq!(s.tiered_up.len(), 1, "{s:?}");
    assert_eq!(s.tiered_up[0].0, "f");
    assert!(s.background_compile_time > Duration::ZERO);
    assert!(s.time_to_first_native.is_some());
}

#[test]
fn nothing_compiles_in_the_background_before_the_startup_delay() {
    let config = Config::new()
        .engine(EngineKind::Tiered)
        .capture_output()
        .tier(TierConfig {
            call_threshold: 10,
            loop_threshold: 10,
            startup_delay: Duration::from_secs(3600),
            ..TierConfig::default()
        });
    let inst = three_runs_agree_with_the_interpreter(config);
    // Far past both thresholds, but the run is younger than the delay: all interpreted.
    let s = inst.stats().tier.unwrap();
    assert!(s.tiered_up.is_empty() && s.osr_entries.is_empty(), "{s:?}");
    assert!(s.time_to_first_native.is_none(), "{s:?}");
}

#[test]
fn a_redefined_function_starts_cold_again() {
    let mut inst = load(tiered(2, 1000), HOT_CALLEE);
    for _ in 0..3 {
        inst.call("f", &[Value::I64(1)]).unwrap();
    }
    let before = inst.stats().tier.unwrap().tiered_up.len();
    assert_eq!(before, 1, "{:?}", inst.stats());
    inst.define("func f(x: i64) -> i64 {\n    mul x, x, 100\n    ret x\n}\n")
        .unwrap();
    // Cold: the first call is interpreted, the second compiles the new body.
    assert_eq!(
        inst.call("f", &[Value::I64(2)]).unwrap(),
        Some(Value::I64(200))
    );
    assert_eq!(inst.stats().tier.unwrap().tiered_up.len(), before);
    assert_eq!(
        inst.call("f", &[Value::I64(3)]).unwrap(),
        Some(Value::I64(300))
    );
    assert_eq!(inst.stats().tier.unwrap().tiered_up.len(), before + 1);
    assert_eq!(
        inst.call("f", &[Value::I64(4)]).unwrap(),
        Some(Value::I64(400))
    );
}

#[test]
fn exit_in_native_code_called_from_the_interpreter_ends_the_call() {
    let src = "func bye(x: i64) {\n    exit x\n}\nfunc main() -> i64 {\n    reg i: i64\nloop:\n    call bye(7)\n    jmp loop\n}\n";
    let mut inst = load(tiered(1, 1000), src);
    assert!(matches!(inst.call("main", &[]), Err(CallError::Exit(7))));
}

const CALLS_G: &str = r#"
func g(x: i64) -> i64 {
    add x, x, 1
    ret x
}
func main() -> i64 {
    reg i: i64, s: i64, h: i64, r: i64
    fref h, g
loop:
    calli r, h(i) : (i64) -> i64
    add s, s, r
    add i, i, 1
    blt i, 100, loop
    println s
    ret s
}
"#;

/// A function the code generator cannot compile (a bug in vsp, simulated) is vsp's error on
/// the JIT, never the program's trap; on the tiered engine it stays interpreted and the
/// program runs as on the interpreter.
#[test]
fn a_function_that_cannot_be_compiled_is_never_a_program_trap() {
    let refuse = |engine| {
        let mut c = Config::new()
            .engine(engine)
            .capture_output()
            .tier_thresholds(5, 5)
            .tier_synchronous(true);
        c.refuse_to_compile = Some("g".into());
        c
    };
    // JIT: main compiles, its `calli` reaches g, whose lazy compile fails.
    let mut jit = load(refuse(EngineKind::Jit), CALLS_G);
    match jit.call("main", &[]) {
        Err(CallError::Compile(why)) => assert!(why.contains("`g`"), "{why}"),
        other => panic!("expected an internal compiler error, got {other:?}"),
    }
    // Called from the host directly: the same.
    assert!(matches!(
        jit.call("g", &[Value::I64(1)]),
        Err(CallError::Compile(_))
    ));
    // Tiered, with main kept interpreted: g gets hot, fails to compile, stays interpreted.
    let mut cfg = refuse(EngineKind::Tiered).tier_thresholds(5, 1_000_000);
    cfg.refuse_to_compile = Some("g".into());
    let inst = agree(cfg, CALLS_G, &[]);
    let s = inst.stats().tier.unwrap();
    assert_eq!(s.fallbacks.len(), 1, "{s:?}");
    assert_eq!(s.fallbacks[0].0, "g");
    assert!(s.fallbacks[0].1.contains("refused"), "{s:?}");
}
