//! Embedding the JIT in a host program: load text, provide a host function, call typed
//! functions, catch a trap as a value, capture output, redefine a function, read memory.
//! `cargo run --example embed`

use jit::{CallError, Config, Instance, Linker, Value};

const SRC: &str = r#"
memory 1
extern func host_scale(x: f64) -> f64

func area(r: f64) -> f64 {
    reg a: f64
    mul a, r, r
    mul a, a, 3.141592653589793
    call a, host_scale(a)
    println a, 3
    ret a
}

func ratio(a: i64, b: i64) -> i64 {
    div a, a, b
    ret a
}

func fill(n: i64) {
    memfill 0, 0x2A, n
    ret
}
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut linker = Linker::new();
    linker.func("host_scale", |args| match args {
        [Value::F64(x)] => Ok(Some(Value::F64(x * 2.0))),
        _ => unreachable!("the verifier guarantees the extern's types"),
    });
    let mut inst = Instance::from_text(Config::new().capture_output(), SRC, "embed", linker)?;

    let a = inst.call("area", &[Value::F64(1.5)])?;
    println!(
        "area(1.5) = {:?}, program printed {:?}",
        a,
        String::from_utf8(inst.take_output())?
    );

    match inst.call("ratio", &[Value::I64(1), Value::I64(0)]) {
        Err(CallError::Trap(t)) => println!(
            "ratio(1, 0) trapped: {} at {:?}",
            t.message(),
            t.backtrace[0]
        ),
        other => println!("unexpected: {other:?}"),
    }
    // The instance is still usable after a trap.
    println!(
        "ratio(10, 3) = {:?}",
        inst.call("ratio", &[Value::I64(10), Value::I64(3)])?
    );

    // Replace `ratio`; callers compiled before would see it too.
    inst.define("func ratio(a: i64, b: i64) -> i64 {\n    rem a, a, b\n    ret a\n}\n")?;
    println!(
        "after redefinition, ratio(10, 3) = {:?}",
        inst.call("ratio", &[Value::I64(10), Value::I64(3)])?
    );

    inst.call("fill", &[Value::I64(4)])?;
    println!("memory[0..5] = {:?}", &inst.memory()[..5]);
    let s = inst.stats();
    println!(
        "engine {}: {} functions, {} bytes of code, compiled in {:?}",
        s.engine,
        s.functions.len(),
        s.code_size,
        s.compile_time
    );
    Ok(())
}

#[test]
fn example_runs() {
    main().unwrap();
}
