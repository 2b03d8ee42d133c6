//! The embedding API on both engines: typed calls, host functions, traps as values (and the
//! engine still usable after each), redefinition seen by compiled callers, memory, output.

use jit::{CallError, Config, EngineKind, Instance, Linker, LoadError, Trap, TrapCode, Value};

const ENGINES: [EngineKind; 3] = [EngineKind::Interp, EngineKind::Jit, EngineKind::Tiered];

fn load(engine: EngineKind, src: &str) -> Instance {
    load_with(engine, src, Linker::new())
}

fn load_with(engine: EngineKind, src: &str, linker: Linker) -> Instance {
    // Tiered: a function's first call is interpreted, the next ones native, so the tests see
    // both tiers and the mixed stacks between them.
    let config = Config::new()
        .engine(engine)
        .capture_output()
        .tier_thresholds(2, 2)
        .tier_synchronous(true);
    Instance::from_text(config, src, "test", linker).unwrap_or_else(|e| panic!("{engine:?}: {e}"))
}

const TRAPS: &str = r#"
memory 1
func div(a: i64, b: i64) -> i64 {
    div a, a, b
    ret a
}
func load(p: i64) -> i64 {
    reg v: i64
    load.i64 v, [p]
    ret v
}
func deep(n: i64) -> i64 {
    reg r: i64
    add n, n, 1
    call r, deep(n)
    ret r
}
func boom() {
    trap
}
func takes_f64(x: f64) -> f64 {
    ret x
}
func badcall(h: i64) -> i64 {
    reg r: i64
    calli r, h(1) : (i64) -> i64
    ret r
}
func handle_of_f64() -> i64 {
    reg h: i64
    fref h, takes_f64
    ret h
}
func ok(x: i64) -> i64 {
    mul x, x, 2
    ret x
}
"#;

fn expect_trap(r: Result<Option<Value>, CallError>, code: TrapCode) -> Trap {
    match r {
        Err(CallError::Trap(t)) => {
            assert_eq!(t.code, code, "wrong trap: {t}");
            t
        }
        other => panic!("expected trap {code:?}, got {other:?}"),
    }
}

#[test]
fn every_trap_kind_is_a_value_and_the_engine_stays_usable() {
    for engine in ENGINES {
        let mut inst = load(engine, TRAPS);
        let ok = |inst: &mut Instance| {
            assert_eq!(
                inst.call("ok", &[Value::I64(21)]).unwrap(),
                Some(Value::I64(42)),
                "{engine:?}"
            );
        };
        let t = expect_trap(
            inst.call("div", &[Value::I64(1), Value::I64(0)]),
            TrapCode::IntegerDivideByZero,
        );
        assert_eq!(t.backtrace[0].func, "div");
        assert_eq!(t.backtrace[0].line, 4, "{engine:?}: trap line");
        ok(&mut inst);
        expect_trap(
            inst.call("div", &[Value::I64(i64::MIN), Value::I64(-1)]),
            TrapCode::IntegerOverflow,
        );
        ok(&mut inst);
        expect_trap(
            inst.call("load", &[Value::I64(65536 - 7)]),
            TrapCode::OutOfBounds,
        );
        expect_trap(inst.call("load", &[Value::I64(-1)]), TrapCode::OutOfBounds);
        ok(&mut inst);
        let t = expect_trap(inst.call("deep", &[Value::I64(0)]), TrapCode::StackOverflow);
        assert!(
            t.backtrace.iter().all(|f| f.func == "deep"),
            "{engine:?}: {:?}",
            &t.backtrace[..3]
        );
        ok(&mut inst);
        expect_trap(inst.call("boom", &[]), TrapCode::Unreachable);
        ok(&mut inst);
        let h = inst.call("handle_of_f64", &[]).unwrap().unwrap();
        expect_trap(
            inst.call("badcall", &[h]),
            TrapCode::IndirectCallTypeMismatch,
        );
        ok(&mut inst);
        expect_trap(
            inst.call("badcall", &[Value::I64(0)]),
            TrapCode::InvalidFunctionHandle,
        );
        expect_trap(
            inst.call("badcall", &[Value::I64(1 << 40)]),
            TrapCode::InvalidFunctionHandle,
        );
        ok(&mut inst);
    }
}

#[test]
fn typed_calls_check_their_arguments() {
    for engine in ENGINES {
        let mut inst = load(
            engine,
            "func f(a: i64, b: f64) -> f64 {\n    reg c: f64\n    i2f c, a\n    add c, c, b\n    ret c\n}\n",
        );
        assert_eq!(
            inst.call("f", &[Value::I64(2), Value::F64(0.5)]).unwrap(),
            Some(Value::F64(2.5))
        );
        assert!(matches!(
            inst.call("f", &[Value::I64(2)]),
            Err(CallError::Arity {
                expected: 2,
                given: 1,
                ..
            })
        ));
        assert!(matches!(
            inst.call("f", &[Value::F64(2.0), Value::F64(0.5)]),
            Err(CallError::ArgType { index: 1, .. })
        ));
        assert!(matches!(
            inst.call("nope", &[]),
            Err(CallError::NoSuchFunction(_))
        ));
    }
}

#[test]
fn host_functions_receive_typed_values_and_can_trap() {
    let src = r#"
extern func host_add(a: i64, b: f64) -> f64
extern func host_fail()
func use_host(x: i64) -> f64 {
    reg r: f64
    call r, host_add(x, 0.25)
    ret r
}
func fails() -> i64 {
    call host_fail()
    ret 1
}
"#;
    for engine in ENGINES {
        let mut linker = Linker::new();
        linker.func("host_add", |args| match args {
            [Value::I64(a), Value::F64(b)] => Ok(Some(Value::F64(*a as f64 + b))),
            _ => panic!("bad args {args:?}"),
        });
        linker.func("host_fail", |_| Err(Trap::new(TrapCode::Unreachable)));
        let mut inst = load_with(engine, src, linker);
        assert_eq!(
            inst.call("use_host", &[Value::I64(4)]).unwrap(),
            Some(Value::F64(4.25))
        );
        let t = expect_trap(inst.call("fails", &[]), TrapCode::Unreachable);
        assert_eq!(t.backtrace[0].func, "fails", "{engine:?}");
        assert_eq!(
            inst.call("use_host", &[Value::I64(1)]).unwrap(),
            Some(Value::F64(1.25))
        );
    }
    let missing = Instance::from_text(Config::new(), src, "t", Linker::new());
    assert!(matches!(missing, Err(LoadError::MissingHost(name)) if name == "host_add"));
}

#[test]
fn redefinition_is_seen_by_an_already_compiled_caller() {
    let src = "func inner() -> i64 {\n    ret 1\n}\nfunc outer() -> i64 {\n    reg r: i64\n    call r, inner()\n    add r, r, 100\n    ret r\n}\n";
    for engine in ENGINES {
        let mut inst = load(engine, src);
        assert_eq!(inst.call("outer", &[]).unwrap(), Some(Value::I64(101)));
        let changed = inst
            .define("func inner() -> i64 {\n    ret 2\n}\n")
            .unwrap();
        assert_eq!(changed, vec!["inner".to_string()]);
        assert_eq!(
            inst.call("outer", &[]).unwrap(),
            Some(Value::I64(102)),
            "{engine:?}"
        );
        // A change that breaks a caller is refused, and nothing changes.
        let err = inst
            .define("func inner() -> f64 {\n    ret 2.0\n}\n")
            .unwrap_err();
        assert!(err.to_string().contains("inner"), "{err}");
        assert_eq!(inst.call("outer", &[]).unwrap(), Some(Value::I64(102)));
        // New functions can be added and called.
        inst.define("func added(x: i64) -> i64 {\n    reg r: i64\n    call r, outer()\n    add r, r, x\n    ret r\n}\n").unwrap();
        assert_eq!(
            inst.call("added", &[Value::I64(5)]).unwrap(),
            Some(Value::I64(107))
        );
    }
}

#[test]
fn memory_is_readable_and_writable_from_the_host() {
    let src = "memory 1\ndata 8 \"hi\"\nfunc get(p: i64) -> i64 {\n    reg v: i64\n    load.u8 v, [p]\n    ret v\n}\nfunc put(p: i64, v: i64) {\n    store.i8 [p], v\n    ret\n}\n";
    for engine in ENGINES {
        let mut inst = load(engine, src);
        assert_eq!(inst.memory().len(), 65536);
        assert_eq!(&inst.memory()[8..10], b"hi");
        inst.memory_mut()[100] = 77;
        assert_eq!(
            inst.call("get", &[Value::I64(100)]).unwrap(),
            Some(Value::I64(77))
        );
        inst.call("put", &[Value::I64(200), Value::I64(9)]).unwrap();
        assert_eq!(inst.memory()[200], 9, "{engine:?}");
    }
}

#[test]
fn output_is_captured_per_call_and_exit_is_reported() {
    let src = "func hello(n: i64) {\n    println n\n    print 0.5\n    putc 10\n    ret\n}\nfunc bye() {\n    println 7\n    exit 3\n}\n";
    for engine in ENGINES {
        let mut inst = load(engine, src);
        inst.call("hello", &[Value::I64(42)]).unwrap();
        assert_eq!(inst.take_output(), b"42\n0.5\n");
        assert!(matches!(inst.call("bye", &[]), Err(CallError::Exit(3))));
        assert_eq!(
            inst.take_output(),
            b"7\n",
            "{engine:?}: output flushed at exit"
        );
    }
}

#[test]
fn load_errors_are_values() {
    let e = Instance::from_text(
        Config::new(),
        "func f() {\n    add x, 1, 2\n}\n",
        "bad",
        Linker::new(),
    )
    .unwrap_err();
    match e {
        LoadError::Invalid(d) => assert_eq!(d.0[0].loc.line, 2),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Instance::from_binary(Config::new(), b"\0SILC\x09", Linker::new()),
        Err(LoadError::Decode(_))
    ));
}

#[test]
fn jit_compiles_lazily_or_eagerly_and_reports_each_function() {
    let mut lazy = load(EngineKind::Jit, TRAPS);
    lazy.call("ok", &[Value::I64(1)]).unwrap();
    let s = lazy.stats();
    assert_eq!(s.engine, "jit");
    assert_eq!(s.functions.len(), 8);
    let compiled: Vec<&str> = s
        .functions
        .iter()
        .filter(|f| f.compiles > 0)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(compiled, ["ok"], "only what was called is compiled");
    assert!(s.code_size > 0 && s.calls == 1);

    let config = Config::new()
        .engine(EngineKind::Jit)
        .capture_output()
        .eager(true);
    let eager = Instance::from_text(config, TRAPS, "t", Linker::new()).unwrap();
    assert!(
        eager
            .stats()
            .functions
            .iter()
            .all(|f| f.compiles == 1 && f.code_size > 0)
    );
}

/// `count` functions `f0 .. f{count-1}`, each a little different, and a `main` that calls
/// every one and sums what they return (printing every 100th partial sum).
fn many_functions(count: usize) -> String {
    let mut src = String::new();
    for k in 0..count {
        src += &format!(
            "func f{k}(x: i64) -> i64 {{\n    reg i: i64\nloop:\n    bge i, {n}, done\n    mul x, x, {m}\n    xor x, x, i\n    add i, i, 1\n    jmp loop\ndone:\n    ret x\n}}\n",
            n = k % 7 + 1,
            m = 2 * k + 3
        );
    }
    src += "func main() -> i64 {\n    reg s: i64, r: i64\n";
    for k in 0..count {
        src += &format!("    call r, f{k}(s)\n    add s, s, r\n");
        if k % 100 == 99 {
            src += "    println s\n";
        }
    }
    src += "    ret s\n}\n";
    src
}

#[test]
fn functions_compiled_on_several_threads_are_the_same_code() {
    let src = many_functions(700);
    let run = |threads: usize| {
        let config = Config::new()
            .engine(EngineKind::Jit)
            .capture_output()
            .compile_threads(threads);
        let mut inst = Instance::from_text(config, &src, "many", Linker::new()).unwrap();
        let ret = inst.call("main", &[]).unwrap();
        let s = inst.stats();
        assert_eq!(s.functions.iter().filter(|f| f.compiles == 1).count(), 701);
        assert!(s.compile_wall_time > std::time::Duration::ZERO);
        let sizes: Vec<usize> = s.functions.iter().map(|f| f.code_size).collect();
        (ret, String::from_utf8(inst.take_output()).unwrap(), sizes)
    };
    let one = run(1);
    assert_eq!(one.1.lines().count(), 7, "{}", one.1);
    // Same results and the same machine code, function by function, however many threads.
    assert_eq!(one, run(4));
    assert_eq!(one, run(0));
    let interp = {
        let config = Config::new().engine(EngineKind::Interp).capture_output();
        let mut inst = Instance::from_text(config, &src, "many", Linker::new()).unwrap();
        (
            inst.call("main", &[]).unwrap(),
            String::from_utf8(inst.take_output()).unwrap(),
        )
    };
    assert_eq!((one.0, one.1), interp);
}

#[test]
fn calli_reaches_a_function_nothing_compiled_yet() {
    // `double` is neither called directly nor named by `fref` anywhere, so a lazy JIT has not
    // compiled it when `apply` receives a handle to it from the host.
    let src = "func apply(h: i64, x: i64) -> i64 {\n    reg r: i64\n    calli r, h(x) : (i64) -> i64\n    ret r\n}\nfunc double(x: i64) -> i64 {\n    add x, x, x\n    ret x\n}\n";
    for engine in ENGINES {
        let mut inst = load(engine, src);
        // Handles are function index + 1 on every engine (programs must not rely on that).
        assert_eq!(
            inst.call("apply", &[Value::I64(2), Value::I64(21)])
                .unwrap(),
            Some(Value::I64(42)),
            "{engine:?}"
        );
    }
}

#[test]
fn clif_is_available_for_a_function() {
    let mut inst = load(EngineKind::Jit, TRAPS);
    let clif = inst.clif("ok").unwrap();
    assert!(clif.contains("imul"), "{clif}");
}

#[test]
fn another_thread_can_interrupt_a_running_call() {
    let src = "func spin() {\nloop:\n    jmp loop\n}\nfunc leaf(x: i64) -> i64 {\n    ret x\n}\nfunc calls() {\n    reg r: i64\nagain:\n    call r, leaf(r)\n    jmp again\n}\nfunc ok() -> i64 {\n    ret 7\n}\n";
    for engine in ENGINES {
        let config = Config::new()
            .engine(engine)
            .capture_output()
            .interruptible(true);
        let mut inst = Instance::from_text(config, src, "spin", Linker::new()).unwrap();
        for func in ["spin", "calls"] {
            let handle = inst.interrupt_handle();
            let stopper = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(150));
                handle.interrupt();
            });
            let t = expect_trap(inst.call(func, &[]), TrapCode::Interrupted);
            assert_eq!(t.message(), "interrupted");
            stopper.join().unwrap();
            assert_eq!(
                inst.call("ok", &[]).unwrap(),
                Some(Value::I64(7)),
                "{engine:?} after interrupting {func}"
            );
        }
        // A request made while nothing runs does not leak into the next call.
        inst.interrupt_handle().interrupt();
        assert_eq!(inst.call("ok", &[]).unwrap(), Some(Value::I64(7)));
    }
}

#[test]
fn callers_are_the_functions_that_call_directly() {
    let src = "func leaf() -> i64 {\n    ret 1\n}\nfunc a() -> i64 {\n    reg r: i64\n    call r, leaf()\n    ret r\n}\nfunc b() -> i64 {\n    tail leaf()\n}\nfunc c() -> i64 {\n    reg h: i64\n    fref h, leaf\n    ret h\n}\n";
    for engine in ENGINES {
        let inst = load(engine, src);
        assert_eq!(inst.callers("leaf"), ["a", "b"], "fref is not a call");
        assert!(inst.callers("a").is_empty());
        assert!(inst.callers("missing").is_empty());
    }
}

#[test]
fn output_line_open_tells_whether_a_call_left_a_line_unfinished() {
    let src = "func part() {\n    print 5\n    ret\n}\nfunc line() {\n    println 5\n    ret\n}\nfunc quiet() {\n    ret\n}\n";
    for engine in ENGINES {
        let mut inst = load(engine, src);
        assert!(!inst.output_line_open(), "nothing written yet");
        inst.call("part", &[]).unwrap();
        assert!(inst.output_line_open(), "{engine:?}");
        inst.call("quiet", &[]).unwrap();
        assert!(
            !inst.output_line_open(),
            "a call that writes nothing leaves no line open"
        );
        inst.call("part", &[]).unwrap();
        inst.call("line", &[]).unwrap();
        assert!(!inst.output_line_open(), "{engine:?}");
        assert_eq!(inst.take_output(), b"555\n");
    }
}

#[test]
fn define_with_links_host_functions_for_new_externs() {
    for engine in ENGINES {
        let mut inst = load(engine, "func one() -> i64 {\n    ret 1\n}\n");
        // Without a host function the extern is refused, and nothing changes.
        let err = inst
            .define("extern func twice(x: i64) -> i64\n")
            .unwrap_err();
        assert!(
            matches!(err, LoadError::MissingHost(ref n) if n == "twice"),
            "{err}"
        );
        assert!(inst.module().externs.is_empty());
        let mut linker = Linker::new();
        linker.func("twice", |args| match args {
            [Value::I64(x)] => Ok(Some(Value::I64(x * 2))),
            _ => Err(Trap::new(TrapCode::Unreachable)),
        });
        inst.define_with("extern func twice(x: i64) -> i64\n", linker)
            .unwrap();
        inst.define(
            "func use(x: i64) -> i64 {\n    reg r: i64\n    call r, twice(x)\n    ret r\n}\n",
        )
        .unwrap();
        assert_eq!(
            inst.call("use", &[Value::I64(21)]).unwrap(),
            Some(Value::I64(42)),
            "{engine:?}"
        );
        // A second new extern without a host is refused and the first keeps working.
        assert!(inst.define("extern func other()\n").is_err());
        assert_eq!(
            inst.call("use", &[Value::I64(4)]).unwrap(),
            Some(Value::I64(8))
        );
    }
}

#[test]
fn bounds_are_exact_at_every_edge_including_empty_memory() {
    let src = "func ld8(p: i64) -> i64 {\n    reg v: i64\n    load.i64 v, [p]\n    ret v\n}\nfunc ld1(p: i64) -> i64 {\n    reg v: i64\n    load.u8 v, [p + 1]\n    ret v\n}\n";
    for engine in ENGINES {
        let mut empty = load(engine, src);
        for p in [0, 1, -1, i64::MIN, i64::MAX, -8] {
            expect_trap(empty.call("ld8", &[Value::I64(p)]), TrapCode::OutOfBounds);
            expect_trap(empty.call("ld1", &[Value::I64(p)]), TrapCode::OutOfBounds);
        }
        let mut one = load(engine, &format!("memory 1\n{src}"));
        assert_eq!(
            one.call("ld8", &[Value::I64(65528)]).unwrap(),
            Some(Value::I64(0))
        );
        assert_eq!(
            one.call("ld1", &[Value::I64(65534)]).unwrap(),
            Some(Value::I64(0))
        );
        for p in [65529, 65536, -1, i64::MAX - 4, i64::MIN] {
            expect_trap(one.call("ld8", &[Value::I64(p)]), TrapCode::OutOfBounds);
        }
        for p in [65535, -2, i64::MAX] {
            expect_trap(one.call("ld1", &[Value::I64(p)]), TrapCode::OutOfBounds);
        }
        assert_eq!(
            one.call("ld1", &[Value::I64(-1)]).unwrap(),
            Some(Value::I64(0)),
            "{engine:?}: [-1 + 1] is address 0"
        );
    }
}

/// At -O1 and -O2 the JIT inlines a function's calls to itself several levels deep. A trap
/// inside the inlined copies must still show one frame per level, each at its own line, and
/// results must not change: the same backtrace and values as the interpreter.
#[test]
fn inlined_self_calls_keep_every_frame_and_value() {
    let src = r#"
func down(n: i64, z: i64) -> i64 {
    reg r: i64
    beq n, 0, bottom
    sub n, n, 1
    call r, down(n, z)
    add r, r, 1
    ret r
bottom:
    div r, n, z
    ret r
}
func leave(n: i64) -> i64 {
    reg r: i64
    beq n, 0, bottom
    println n
    sub n, n, 1
    call r, leave(n)
    println r
    ret r
bottom:
    exit 3
}
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
"#;
    // The inlining happens: at -O2 the body holds copies of itself, each with its calls.
    let calls = |level: u8| {
        let config = Config::new().engine(EngineKind::Jit).opt_level(level);
        let mut inst = Instance::from_text(config, src, "test", Linker::new()).unwrap();
        inst.clif("fib").unwrap().matches(" call fn").count()
    };
    assert!(
        calls(2) > 4 * calls(0),
        "-O2 {} calls, -O0 {}",
        calls(2),
        calls(0)
    );
    let mut reference = load(EngineKind::Interp, src);
    let want = expect_trap(
        reference.call("down", &[Value::I64(37), Value::I64(0)]),
        TrapCode::IntegerDivideByZero,
    );
    assert_eq!(want.backtrace.len(), 38);
    assert_eq!(want.backtrace[0].line, 10);
    assert!(want.backtrace[1..].iter().all(|f| f.line == 6));
    for level in 0..=2 {
        for engine in [EngineKind::Jit, EngineKind::Tiered] {
            let config = Config::new()
                .engine(engine)
                .opt_level(level)
                .capture_output()
                .tier_thresholds(2, 2)
                .tier_synchronous(true);
            let mut inst = Instance::from_text(config, src, "test", Linker::new()).unwrap();
            for _ in 0..3 {
                let got = expect_trap(
                    inst.call("down", &[Value::I64(37), Value::I64(0)]),
                    TrapCode::IntegerDivideByZero,
                );
                assert_eq!(got.backtrace, want.backtrace, "{engine:?} -O{level}");
                assert_eq!(
                    inst.call("down", &[Value::I64(37), Value::I64(1)]).unwrap(),
                    Some(Value::I64(37)),
                    "{engine:?} -O{level}"
                );
                // `exit` deep in the copies ends the call, after exactly the output before it.
                assert!(
                    matches!(
                        inst.call("leave", &[Value::I64(40)]),
                        Err(CallError::Exit(3))
                    ),
                    "{engine:?} -O{level}"
                );
                let printed: String = (1..=40).rev().map(|n| format!("{n}\n")).collect();
                assert_eq!(
                    inst.take_output(),
                    printed.as_bytes(),
                    "{engine:?} -O{level}"
                );
                for n in [0, 1, 2, 10, 25] {
                    assert_eq!(
                        inst.call("fib", &[Value::I64(n)]).unwrap(),
                        reference.call("fib", &[Value::I64(n)]).unwrap(),
                        "{engine:?} -O{level} fib({n})"
                    );
                }
            }
        }
    }
}
