//! The interpreter's threaded fast path keeps the native stack flat: every handler passes
//! control to the next by a jump, so a long run of fast ops fits in a small thread stack.
//! A handler that LLVM left as a real call would grow the stack by a frame per op executed
//! and crash this test (the process dies of a stack overflow: it fails loudly).

use jit::{Config, EngineKind, Instance, Linker, Value};

/// Iterations: with ~200 ops each, tens of millions of handler runs.
const N: i64 = 200_000;

/// One loop whose body runs every op kind of the fast path, and plain calls and returns.
const EVERY_FAST_OP: &str = r#"
memory 1
func leaf(x: i64) -> i64 {
    add x, x, 1
    ret x
}
func nothing() {
    ret
}
func main(n: i64) -> i64 {
    reg i: i64, a: i64, b: i64, c: i64, f: f64, g: f64, h: f64, s: sil, t: sil
    mov i, 0
    mov a, 7
loop:
    add a, a, 3
    sub a, a, 1
    mul b, a, 3
    div b, b, 2
    rem c, b, 7
    udiv c, b, 3
    urem c, b, 5
    min c, a, b
    max c, a, b
    and c, a, b
    or c, a, b
    xor c, a, b
    shl c, a, 2
    shr c, a, 1
    ushr c, a, 1
    rotl c, a, 3
    rotr c, a, 3
    neg c, a
    abs c, c
    not c, a
    clz c, a
    ctz c, a
    popcnt c, a
    i2f f, a
    add g, f, 1.5
    sub g, g, f
    mul g, g, f
    mul h, g, f
    add g, g, h
    mul h, g, f
    sub g, g, h
    div g, g, 3.0
    min g, g, f
    max g, g, f
    neg g, g
    abs g, g
    sqrt g, g
    floor g, g
    ceil g, g
    trunc g, g
    round g, g
    sin g, g
    pow g, g, 1.0
    f2i c, g
    sil.new s, 2, 3
    add t, s, s
    sub t, t, s
    mul t, t, s
    div t, t, s
    not t, t
    sil.inv t, t
    sil.re g, t
    sil.pow t, s, 2
    sil.rho c, t
    sil.theta c, t
    sil.from_byte t, a
    sil.from t, g, g
    eq c, a, b
    ne c, a, b
    lt c, a, b
    le c, a, b
    ltu c, a, b
    leu c, a, b
    eq c, f, g
    ne c, f, g
    lt c, f, g
    le c, f, g
    jz i, j1
j1:
    jnz i, j2
j2:
    beq a, b, j3
j3:
    bne a, b, j4
j4:
    blt a, b, j5
j5:
    ble a, b, j6
j6:
    bltu a, b, j7
j7:
    bleu a, b, j8
j8:
    beq f, g, j9
j9:
    bne f, g, j10
j10:
    blt f, g, j11
j11:
    ble f, g, j12
j12:
    store.i64 [0], a
    store.i32 [8], a
    store.i16 [12], a
    store.i8 [14], a
    load.i64 c, [0]
    load.i32 c, [8]
    load.u32 c, [8]
    load.i16 c, [12]
    load.u16 c, [12]
    load.i8 c, [14]
    load.u8 c, [14]
    add c, a, 1
    add c, c, 2
    sub c, 9, c
    sub c, c, 1
    mul c, c, 3
    and c, c, 1023
    or c, c, 1
    xor c, c, 5
    shl c, c, 1
    shr c, c, 1
    ushr c, c, 1
    div c, c, 3
    rem c, c, 7
    div c, c, 2
    rem c, c, 4
    i2f f, c
    add g, f, 1.0
    sub g, g, 0.5
    sub g, 2.0, g
    mul g, g, g
    div g, g, 3.0
    div g, 1.0, g
    sqrt g, g
    f2i c, g
    store.i64 [16], c
    add c, a, 0
    store.i8 [24], c
    mul g, f, 1.0
    store.f64 [32], g
    and c, a, 0
    load.i64 c, [c]
    and c, a, 0
    load.i32 c, [c]
    and c, a, 0
    load.u8 c, [c]
    add c, a, 0
    jz c, k1
k1:
    add c, a, 0
    jnz c, k2
k2:
    add c, a, 0
    beq c, b, k3
k3:
    add c, a, 0
    bne c, b, k4
k4:
    add c, a, 0
    blt c, b, k5
k5:
    add c, a, 0
    blt b, c, k6
k6:
    add c, a, 0
    ble c, b, k7
k7:
    add c, a, 0
    ble b, c, k8
k8:
    add g, f, 0.0
    blt g, f, k9
k9:
    add g, f, 0.0
    blt f, g, k10
k10:
    add g, f, 0.0
    ble g, f, k11
k11:
    add g, f, 0.0
    ble f, g, k12
k12:
    mov c, 0
k13:
    add c, c, 1
    ble c, 2, k13
    call c, leaf(c)
    call nothing()
    jmp latch
latch:
    add i, i, 1
    blt i, n, loop
    ret a
}
"#;

#[test]
fn a_long_run_of_fast_ops_fits_in_a_small_stack() {
    let worker = std::thread::Builder::new()
        // Far less than the ops run would need if each took even 8 bytes of native stack.
        .stack_size(256 * 1024)
        .spawn(|| {
            let config = Config::new().engine(EngineKind::Interp).capture_output();
            let mut inst =
                Instance::from_text(config, EVERY_FAST_OP, "fast", Linker::new()).expect("loads");
            inst.call("main", &[Value::I64(N)]).expect("runs")
        })
        .expect("spawns");
    let result = worker.join().expect("no stack overflow");
    // a = 7 + 2 per iteration.
    assert_eq!(result, Some(Value::I64(7 + 2 * N)));
}
