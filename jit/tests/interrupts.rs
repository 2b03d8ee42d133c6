//! Interrupts under load: a tight loop, a deep recursion, a host call and a lazy compile each
//! return an `interrupted` trap promptly when another thread interrupts, on every engine, and
//! the instance stays usable, many times over.

use jit::{CallError, Config, EngineKind, Instance, Linker, TrapCode, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const ENGINES: [EngineKind; 2] = [EngineKind::Interp, EngineKind::Jit];

/// How long after the request the call may take to return (debug builds, a shared machine).
const PROMPT: Duration = Duration::from_secs(2);

const SRC: &str = "
func spin() -> i64 {
    reg x: i64
loop:
    add x, x, 1
    jmp loop
}
func deep(n: i64) -> i64 {
    reg r: i64
    beq n, 0, bottom
    sub n, n, 1
    call r, deep(n)
    ret r
bottom:
    call r, spin()
    ret r
}
func down(n: i64) -> i64 {
    reg r: i64
    beq n, 0, zero
    sub n, n, 1
    call r, down(n)
    add r, r, 1
    ret r
zero:
    ret 0
}
func recurse_forever() -> i64 {
    reg r: i64
again:
    call r, down(100000)
    jmp again
}
extern func slow(x: i64) -> i64
func host_loop() -> i64 {
    reg r: i64
again:
    call r, slow(r)
    jmp again
}
func ok(x: i64) -> i64 {
    add x, x, 1
    ret x
}
";

fn instance(engine: EngineKind) -> Instance {
    let mut linker = Linker::new();
    linker.func("slow", |args| {
        std::thread::sleep(Duration::from_millis(20));
        Ok(args.first().copied())
    });
    let config = Config::new()
        .engine(engine)
        .capture_output()
        .interruptible(true);
    Instance::from_text(config, SRC, "interrupts", linker).unwrap()
}

/// Calls `func`, interrupting it from another thread after `delay` (and again every
/// millisecond, since a request made before the call starts is dropped); returns the result and
/// how long the call took to return after the first request.
fn interrupted_call(
    inst: &mut Instance,
    func: &str,
    args: &[Value],
    delay: Duration,
) -> (Result<Option<Value>, CallError>, Duration) {
    let handle = inst.interrupt_handle();
    let done = Arc::new(AtomicBool::new(false));
    let first = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let stopper = {
        let (done, first) = (done.clone(), first.clone());
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            *first.lock().unwrap() = Some(Instant::now());
            while !done.load(Ordering::Relaxed) {
                handle.interrupt();
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let r = inst.call(func, args);
    let returned = Instant::now();
    done.store(true, Ordering::Relaxed);
    stopper.join().unwrap();
    let asked = first.lock().unwrap().unwrap_or(returned);
    (r, returned.saturating_duration_since(asked))
}

fn check(engine: EngineKind, func: &str, args: &[Value], rounds: usize) {
    let mut inst = instance(engine);
    let mut worst = Duration::ZERO;
    for round in 0..rounds {
        let (r, latency) = interrupted_call(&mut inst, func, args, Duration::from_millis(30));
        match r {
            Err(CallError::Trap(t)) => {
                assert_eq!(
                    t.code,
                    TrapCode::Interrupted,
                    "{engine:?} {func} round {round}"
                )
            }
            other => panic!("{engine:?} {func} round {round}: {other:?}"),
        }
        assert!(
            latency < PROMPT,
            "{engine:?} {func} round {round}: returned {latency:?} after the interrupt"
        );
        worst = worst.max(latency);
        assert_eq!(
            inst.call("ok", &[Value::I64(round as i64)]).unwrap(),
            Some(Value::I64(round as i64 + 1)),
            "{engine:?} usable after interrupting {func}"
        );
    }
    eprintln!("[interrupt] {engine:?} {func}: {rounds} rounds, worst latency {worst:?}");
}

#[test]
fn interrupting_a_tight_loop() {
    for engine in ENGINES {
        check(engine, "spin", &[], 20);
    }
}

#[test]
fn interrupting_a_loop_at_the_bottom_of_a_deep_recursion() {
    for engine in ENGINES {
        check(engine, "deep", &[Value::I64(50_000)], 3);
    }
}

#[test]
fn interrupting_a_recursion_that_keeps_going_down_and_up() {
    for engine in ENGINES {
        check(engine, "recurse_forever", &[], 5);
    }
}

#[test]
fn interrupting_during_a_host_call() {
    for engine in ENGINES {
        check(engine, "host_loop", &[], 5);
    }
}

/// The interrupt arrives while the JIT compiles, on the spot, a large function `calli` reaches
/// for the first time: the trap comes at the first poll after the compile.
#[test]
fn interrupting_during_a_lazy_compile() {
    let n = 20_000;
    let mut src = String::from(
        "func start(h: i64) -> i64 {\n    reg r: i64\n    calli r, h(1) : (i64) -> i64\n    ret r\n}\nfunc big(x: i64) -> i64 {\n    reg y: i64\n",
    );
    for _ in 0..n {
        src.push_str("    add x, x, 3\n    xor y, y, x\n");
    }
    src.push_str("loop:\n    jmp loop\n}\nfunc ok() -> i64 {\n    ret 1\n}\n");
    for engine in ENGINES {
        let config = Config::new().engine(engine).interruptible(true);
        let mut inst = Instance::from_text(config, &src, "compile", Linker::new()).unwrap();
        // `big` is function 1, so its handle is 2 (index + 1 on every engine).
        let (r, latency) = interrupted_call(
            &mut inst,
            "start",
            &[Value::I64(2)],
            Duration::from_millis(5),
        );
        match r {
            Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::Interrupted, "{engine:?}"),
            other => panic!("{engine:?}: {other:?}"),
        }
        eprintln!("[interrupt] {engine:?} during a lazy compile: returned after {latency:?}");
        assert_eq!(inst.call("ok", &[]).unwrap(), Some(Value::I64(1)));
    }
}

/// Interrupts do not leak: after an interrupted call, the next uninterrupted ones complete.
#[test]
fn an_interrupt_does_not_outlive_its_call() {
    for engine in ENGINES {
        let mut inst = instance(engine);
        let (r, _) = interrupted_call(&mut inst, "spin", &[], Duration::from_millis(10));
        assert!(matches!(r, Err(CallError::Trap(_))));
        for i in 0..100 {
            assert_eq!(
                inst.call("down", &[Value::I64(1000)]).unwrap(),
                Some(Value::I64(1000)),
                "{engine:?} call {i}"
            );
        }
    }
}
