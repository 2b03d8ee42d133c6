//! A front end emitting vsp bytecode with the builder API (no text), then running it on both
//! engines: `cargo run --example build_module`.

use bytecode::{ModuleBuilder, Type};
use jit::{Config, EngineKind, Instance, Linker, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // sum_squares(n) = 0² + 1² + ... + (n-1)², as a loop.
    let mut mb = ModuleBuilder::new("squares");
    let id = mb.declare_func("sum_squares", &[("n", Type::I64)], Some(Type::I64));
    {
        let mut f = mb.func(id);
        f.export();
        let n = f.param(0);
        let (i, acc, sq) = (
            f.reg("i", Type::I64),
            f.reg("acc", Type::I64),
            f.reg("sq", Type::I64),
        );
        let (top, done) = (f.new_label("top"), f.new_label("done"));
        f.bind(top).bge(i, n, done);
        f.mul(sq, i, i).add(acc, acc, sq).add(i, i, 1).jmp(top);
        f.bind(done).ret(acc);
    }
    let module = mb.finish()?;
    println!("{}", bytecode::print(&module));

    for engine in [EngineKind::Interp, EngineKind::Jit] {
        let mut inst = Instance::new(Config::new().engine(engine), module.clone(), Linker::new())?;
        let r = inst.call("sum_squares", &[Value::I64(1000)])?;
        println!(
            "{engine:?}: sum_squares(1000) = {}",
            r.expect("returns a value")
        );
        assert_eq!(r, Some(Value::I64(332_833_500)));
    }
    Ok(())
}

#[test]
fn example_runs() {
    main().unwrap();
}
