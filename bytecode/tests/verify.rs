//! The verifier, one test per rule, and the builder API that most of these tests build with.

use Type::{F64, I64, Sil};
use bytecode::{
    BinOp, Callee, CmpOp, Const, DataSegment, Diagnostics, ExternId, FuncId, Inst, InstAt, Label,
    LabelId, Loc, MemTy, Module, ModuleBuilder, Operand, RegDecl, RegId, SilIntOp, Type, UnOp,
    verify,
};

/// The messages of a failed `finish`/`verify`.
fn messages(r: Result<impl std::fmt::Debug, Diagnostics>) -> Vec<String> {
    match r {
        Ok(m) => panic!("expected errors, but it verified: {m:?}"),
        Err(d) => d.0.into_iter().map(|d| d.message).collect(),
    }
}

/// Asserts exactly one error, containing every one of `parts`.
fn one_error(r: Result<impl std::fmt::Debug, Diagnostics>, parts: &[&str]) {
    let msgs = messages(r);
    assert_eq!(msgs.len(), 1, "expected one error, got {msgs:#?}");
    for p in parts {
        assert!(msgs[0].contains(p), "{:?} does not contain {p:?}", msgs[0]);
    }
}

/// A module with one function `f(x: i64, y: f64) -> i64` holding `body` and a final `ret 0`;
/// registers: x (i64, 0), y (f64, 1), s (sil, 2), h (i64, 3).
fn with_body(body: impl FnOnce(&mut bytecode::FunctionBuilder<'_>)) -> ModuleBuilder {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("x", I64), ("y", F64)], Some(I64));
    let mut fb = mb.func(f);
    fb.reg("s", Sil);
    fb.reg("h", I64);
    body(&mut fb);
    fb.ret(0);
    mb
}

const X: RegId = RegId(0);
const Y: RegId = RegId(1);
const S: RegId = RegId(2);
const H: RegId = RegId(3);

fn at(inst: Inst, line: u32) -> InstAt {
    InstAt {
        inst,
        loc: Loc::new(line, 5),
    }
}

/// A hand-built function, for shapes the builder would not produce.
fn raw_func(
    name: &str,
    regs: &[(&str, Type)],
    num_params: u32,
    body: Vec<InstAt>,
) -> bytecode::Function {
    bytecode::Function {
        name: name.into(),
        export: false,
        num_params,
        regs: regs
            .iter()
            .map(|&(n, ty)| RegDecl {
                name: n.into(),
                ty,
                loc: Loc::NONE,
            })
            .collect(),
        ret: None,
        labels: Vec::new(),
        body,
        loc: Loc::new(1, 1),
    }
}

// ---------------------------------------------------------------------------------------------
// Valid modules.

#[test]
fn empty_module_is_valid() {
    assert!(verify(&Module::new("empty")).is_ok());
    assert!(ModuleBuilder::new("empty").finish().is_ok());
}

#[test]
fn builder_doc_example_style_module_verifies() {
    let mut mb = ModuleBuilder::new("demo");
    mb.memory(1, 2).data(0, b"hello\n".to_vec());
    let puts = mb.extern_func("host_puts", &[I64, I64], None);
    let fib = mb.declare_func("fib", &[("n", I64)], Some(I64));
    let main = mb.declare_func("main", &[("k", I64), ("z", F64)], Some(I64));
    {
        let mut f = mb.func(fib);
        let n = f.param(0);
        let (a, b) = (f.reg("a", I64), f.reg("b", I64));
        let rec = f.new_label("rec");
        f.export();
        f.bge(n, 2, rec).ret(n);
        f.bind(rec).sub(a, n, 1).call(a, fib, &[a.into()]);
        f.sub(b, n, 2).call(b, fib, &[b.into()]).add(a, a, b).ret(a);
    }
    {
        let mut f = mb.func(main);
        let (k, z) = (f.param(0), f.param(1));
        let t = f.temp(F64);
        let s = f.temp(Sil);
        let h = f.temp(I64);
        f.call(None, puts, &[0.into(), 6.into()]);
        f.write(0, 6)
            .i2f(t, k)
            .add(t, t, z)
            .add(t, t, 1)
            .println_prec(t, 3);
        f.mov(s, Const::sil(0, 4))
            .mul(s, s, Const::sil(1, 2))
            .println(s);
        f.sil_int(SilIntOp::Pow, s, s, 3)
            .sil_lerp(s, s, Const::sil(-8, 0), 0.5);
        f.sil_re(t, s).sil_from(s, t, 0.0).sil_new(s, -3, 20);
        f.fref(h, fib)
            .calli(h, h, &[10.into()], &[I64], Some(I64))
            .println(h);
        f.load(MemTy::U8, h, 0, 1)
            .store(MemTy::I8, h, 8, 65)
            .memsize(h)
            .memgrow(h, 1);
        f.memcopy(0, 8, 4)
            .memfill(0, 0, 8)
            .putc('A' as i64)
            .getc(h)
            .clock(h)
            .nop();
        f.cmp(CmpOp::Eq, h, s, Const::sil(0, 0))
            .select(t, h, 1.5, t)
            .lt(h, t, 2);
        f.newline().tail(fib, &[k.into()]);
    }
    let m = mb.finish().expect("verifies");
    assert_eq!(m.funcs.len(), 2);
    assert!(m.funcs[0].export);
    assert!(m.memory_declared);
}

#[test]
fn unreachable_code_is_allowed_and_still_type_checked() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    let mut fb = mb.func(f);
    let x = fb.reg("x", I64);
    fb.ret_void().add(x, x, 1); // unreachable, falls off: fine, nothing reaches it
    assert!(mb.finish().is_ok());

    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    let mut fb = mb.func(f);
    let x = fb.reg("x", I64);
    fb.ret_void().add(x, x, 1.5);
    one_error(mb.finish(), &["operand `1.5` of `add`", "expected i64"]);
}

#[test]
fn final_conditional_branch_followed_by_ret_is_valid() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("n", I64)], Some(I64));
    let mut fb = mb.func(f);
    let n = fb.param(0);
    let l = fb.new_label("l");
    fb.jz(n, l).ret(1);
    fb.bind(l).jnz(n, l).ret(0);
    assert!(mb.finish().is_ok());
}

#[test]
fn switch_is_a_terminator() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("n", I64)], Some(I64));
    let mut fb = mb.func(f);
    let n = fb.param(0);
    let (a, b, dflt) = (fb.new_label("a"), fb.new_label("b"), fb.temp_label());
    fb.switch(n, &[a, b], dflt);
    fb.bind(a).ret(10);
    fb.bind(b).ret(20);
    fb.bind(dflt).exit(3);
    assert!(mb.finish().is_ok());
}

#[test]
fn trap_exit_and_loops_end_paths() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    let mut fb = mb.func(f);
    let top = fb.new_label("top");
    fb.bind(top).nop().jmp(top);
    let g = mb.declare_func("g", &[], None);
    mb.func(g).trap();
    assert!(mb.finish().is_ok());
}

#[test]
fn int_literal_may_stand_for_f64_if_exact() {
    assert!(
        with_body(|f| {
            f.add(Y, Y, 3).add(Y, Y, 1i64 << 53);
        })
        .finish()
        .is_ok()
    );
    one_error(
        with_body(|f| {
            f.add(Y, Y, (1i64 << 53) + 1);
        })
        .finish(),
        &["`9007199254740993`", "does not convert exactly to f64"],
    );
}

#[test]
fn comparison_of_two_literals_uses_their_natural_type() {
    assert!(
        with_body(|f| {
            f.lt(X, 1, 2.5).eq(X, Const::sil(0, 0), Const::sil(1, 1));
        })
        .finish()
        .is_ok()
    );
}

#[test]
fn exported_functions_and_externs_take_any_types() {
    let mut mb = ModuleBuilder::new("t");
    mb.extern_func("e", &[Sil, F64], Some(Sil));
    let f = mb.declare_func("f", &[("s", Sil)], Some(Sil));
    let mut fb = mb.func(f);
    let s = fb.param(0);
    fb.export().ret(s);
    assert!(mb.finish().is_ok());
}

#[test]
fn main_may_take_i64_and_f64_and_return_nothing() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("main", &[("a", I64), ("b", F64)], None);
    mb.func(f).ret_void();
    assert!(mb.finish().is_ok());
}

// ---------------------------------------------------------------------------------------------
// Operand and destination types.

#[test]
fn operand_type_mismatch_names_the_register() {
    one_error(
        with_body(|f| {
            f.add(X, X, Y);
        })
        .finish(),
        &["operand `y` of `add` has type f64, expected i64"],
    );
}

#[test]
fn float_literal_never_stands_for_i64() {
    one_error(
        with_body(|f| {
            f.mov(X, 2.0);
        })
        .finish(),
        &["operand `2.0` of `mov` is a f64 literal, expected i64"],
    );
}

#[test]
fn sil_literal_only_stands_for_sil() {
    one_error(
        with_body(|f| {
            f.add(Y, Y, Const::sil(1, 1));
        })
        .finish(),
        &["`sil(1,1)`", "expected f64"],
    );
}

#[test]
fn binary_destination_type_must_be_allowed() {
    one_error(
        with_body(|f| {
            f.bin(BinOp::Shl, Y, Y, Y);
        })
        .finish(),
        &["destination `y` of `shl` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.rem(S, S, S);
        })
        .finish(),
        &["destination `s` of `rem` has type sil, expected i64 or f64"],
    );
}

#[test]
fn unary_operand_and_destination_types() {
    one_error(
        with_body(|f| {
            f.sqrt(X, X);
        })
        .finish(),
        &["destination `x` of `sqrt` has type i64, expected f64"],
    );
    one_error(
        with_body(|f| {
            f.un(UnOp::I2F, Y, Y);
        })
        .finish(),
        &["operand `y` of `i2f` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.bitcast(S, X);
        })
        .finish(),
        &["destination `s` of `bitcast`", "expected i64 or f64"],
    );
    one_error(
        with_body(|f| {
            f.sil_re(Y, X);
        })
        .finish(),
        &["operand `x` of `sil.re` has type i64, expected sil"],
    );
}

#[test]
fn sil_instruction_types() {
    one_error(
        with_body(|f| {
            f.sil_int(SilIntOp::Scale, S, S, Y);
        })
        .finish(),
        &["operand `y` of `sil.scale` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.sil_new(X, 1, 2);
        })
        .finish(),
        &["destination `x` of `sil.new` has type i64, expected sil"],
    );
    one_error(
        with_body(|f| {
            f.sil_from(S, X, 0.0);
        })
        .finish(),
        &["operand `x` of `sil.from` has type i64, expected f64"],
    );
    one_error(
        with_body(|f| {
            f.sil_lerp(S, S, S, X);
        })
        .finish(),
        &["operand `x` of `sil.lerp` has type i64, expected f64"],
    );
}

#[test]
fn compare_destination_and_operand_types() {
    one_error(
        with_body(|f| {
            f.eq(Y, X, X);
        })
        .finish(),
        &["destination `y` of `eq` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.lt(X, S, S);
        })
        .finish(),
        &["operands of `lt` have type sil, expected i64 or f64"],
    );
    one_error(
        with_body(|f| {
            f.cmp(CmpOp::LtU, X, Y, 1.0);
        })
        .finish(),
        &["operands of `ltu` have type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.ge(X, X, Y);
        })
        .finish(),
        &["operand `y` of `ge` has type f64, expected i64"],
    );
}

#[test]
fn branch_operand_types() {
    one_error(
        with_body(|f| {
            let l = f.new_label("l");
            f.blt(X, Y, l).bind(l);
        })
        .finish(),
        &["operand `y` of `blt` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            let l = f.new_label("l");
            f.branch(CmpOp::GeU, Y, Y, l).bind(l);
        })
        .finish(),
        &["operands of `bgeu` have type f64, expected i64"],
    );
}

#[test]
fn select_condition_must_be_i64() {
    one_error(
        with_body(|f| {
            f.select(X, Y, 1, 2);
        })
        .finish(),
        &["condition `y` of `select` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.select(X, X, Y, 2);
        })
        .finish(),
        &["operand `y` of `select` has type f64, expected i64"],
    );
}

#[test]
fn jump_condition_and_switch_index_must_be_i64() {
    one_error(
        with_body(|f| {
            let l = f.new_label("l");
            f.jz(Y, l).bind(l);
        })
        .finish(),
        &["condition `y` of `jz` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            let l = f.new_label("l");
            f.switch(S, &[], l).bind(l);
        })
        .finish(),
        &["condition `s` of `switch` has type sil, expected i64"],
    );
}

#[test]
fn memory_instruction_types() {
    one_error(
        with_body(|f| {
            f.load(MemTy::F64, X, 0, 0);
        })
        .finish(),
        &["destination `x` of `load.f64` has type i64, expected f64"],
    );
    one_error(
        with_body(|f| {
            f.load(MemTy::I64, X, Y, 8);
        })
        .finish(),
        &["address `y` of `load.i64` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.store(MemTy::Sil, 0, 0, X);
        })
        .finish(),
        &["value `x` of `store.sil` has type i64, expected sil"],
    );
    one_error(
        with_body(|f| {
            f.store(MemTy::U8, 0, 0, X);
        })
        .finish(),
        &["there is no `store.u8`"],
    );
    one_error(
        with_body(|f| {
            f.memsize(Y);
        })
        .finish(),
        &["destination `y` of `memsize` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.memgrow(X, 1.0);
        })
        .finish(),
        &["count `1.0` of `memgrow`"],
    );
    one_error(
        with_body(|f| {
            f.memcopy(0, Y, 1);
        })
        .finish(),
        &["address `y` of `memcopy`"],
    );
    one_error(
        with_body(|f| {
            f.memfill(0, S, 1);
        })
        .finish(),
        &["value `s` of `memfill`"],
    );
    one_error(
        with_body(|f| {
            f.write(0, Y);
        })
        .finish(),
        &["count `y` of `write`"],
    );
}

#[test]
fn io_instruction_types() {
    one_error(
        with_body(|f| {
            f.putc(Y);
        })
        .finish(),
        &["value `y` of `putc` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.getc(S);
        })
        .finish(),
        &["destination `s` of `getc`"],
    );
    one_error(
        with_body(|f| {
            f.clock(Y);
        })
        .finish(),
        &["destination `y` of `clock`"],
    );
    one_error(
        with_body(|f| {
            f.exit(Y);
        })
        .finish(),
        &["value `y` of `exit` has type f64, expected i64"],
    );
}

#[test]
fn print_precision_only_with_f64_and_at_most_17() {
    assert!(
        with_body(|f| {
            f.print_prec(Y, 17).println_prec(2.5, 0);
        })
        .finish()
        .is_ok()
    );
    one_error(
        with_body(|f| {
            f.print_prec(X, 3);
        })
        .finish(),
        &[
            "precision is only allowed when printing f64",
            "`x` of `print` has type i64",
        ],
    );
    one_error(
        with_body(|f| {
            f.println_prec(Y, 18);
        })
        .finish(),
        &["precision 18 of `println` is out of range 0..=17"],
    );
    one_error(
        with_body(|f| {
            f.inst(Inst::Print {
                a: None,
                precision: None,
                newline: false,
            });
        })
        .finish(),
        &["`print` needs an operand"],
    );
    one_error(
        with_body(|f| {
            f.inst(Inst::Print {
                a: None,
                precision: Some(2),
                newline: true,
            });
        })
        .finish(),
        &["`println` without an operand cannot have a precision"],
    );
}

// ---------------------------------------------------------------------------------------------
// Calls and returns.

fn callee_module(
    call: impl FnOnce(&mut bytecode::FunctionBuilder<'_>, FuncId, ExternId),
) -> ModuleBuilder {
    let mut mb = ModuleBuilder::new("t");
    let e = mb.extern_func("host", &[F64], None);
    let f = mb.declare_func("caller", &[("x", I64), ("y", F64)], Some(I64));
    let fun = mb.declare_func("foo", &[("a", I64), ("b", I64)], Some(F64));
    mb.func(fun).ret(0.0);
    let mut fb = mb.func(f);
    call(&mut fb, fun, e);
    fb.ret(0);
    mb
}

#[test]
fn call_arity() {
    one_error(
        callee_module(|f, fun, _| {
            f.call(None, fun, &[1.into(), 2.into(), 3.into()]);
        })
        .finish(),
        &["function `foo` takes 2 arguments, 3 given"],
    );
    one_error(
        callee_module(|f, _, e| {
            f.call(None, e, &[]);
        })
        .finish(),
        &["extern `host` takes 1 argument, 0 given"],
    );
}

#[test]
fn call_argument_types() {
    one_error(
        callee_module(|f, fun, _| {
            f.call(None, fun, &[X.into(), Y.into()]);
        })
        .finish(),
        &["argument 2 `y` of `call` to function `foo` has type f64, expected i64"],
    );
    one_error(
        callee_module(|f, _, e| {
            f.call(None, e, &[Const::sil(0, 0).into()]);
        })
        .finish(),
        &[
            "argument 1 `sil(0,0)` of `call` to extern `host`",
            "expected f64",
        ],
    );
}

#[test]
fn call_result_must_match_destination() {
    assert!(
        callee_module(|f, fun, _| {
            f.call(Y, fun, &[1.into(), 2.into()]);
        })
        .finish()
        .is_ok()
    );
    one_error(
        callee_module(|f, fun, _| {
            f.call(X, fun, &[1.into(), 2.into()]);
        })
        .finish(),
        &["function `foo` returns f64, but destination `x` has type i64"],
    );
    one_error(
        callee_module(|f, _, e| {
            f.call(X, e, &[1.0.into()]);
        })
        .finish(),
        &["extern `host` returns nothing, but `call` assigns its result to `x`"],
    );
}

#[test]
fn tail_needs_the_same_return_type() {
    let mut mb = callee_module(|_, _, _| {});
    let g = mb.declare_func("g", &[], Some(I64));
    mb.func(g).tail(FuncId(1), &[1.into(), 2.into()]);
    one_error(
        mb.finish(),
        &["`tail` to function `foo` which returns f64, but function `g` returns i64"],
    );

    let mut mb = callee_module(|_, _, _| {});
    let g = mb.declare_func("g", &[], None);
    mb.func(g).tail(ExternId(0), &[1.0.into()]);
    assert!(mb.finish().is_ok());
}

#[test]
fn tail_arity_and_argument_types() {
    let mut mb = callee_module(|_, _, _| {});
    let g = mb.declare_func("g", &[], Some(F64));
    mb.func(g).tail(FuncId(1), &[1.into(), 2.5.into()]);
    one_error(
        mb.finish(),
        &["argument 2 `2.5` of `tail` to function `foo`"],
    );
}

#[test]
fn ret_must_match_the_function() {
    one_error(
        with_body(|f| {
            f.ret(Y);
        })
        .finish(),
        &["returned value `y` of function `f` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.ret_void();
        })
        .finish(),
        &["function `f` returns i64, but `ret` gives no value"],
    );
    let mut mb = ModuleBuilder::new("t");
    let g = mb.declare_func("g", &[], None);
    mb.func(g).ret(1);
    one_error(
        mb.finish(),
        &["function `g` returns nothing, but `ret` gives a value"],
    );
}

#[test]
fn calli_types() {
    assert!(
        with_body(|f| {
            f.fref(H, FuncId(0))
                .calli(X, H, &[1.into(), 2.5.into()], &[I64, F64], Some(I64));
        })
        .finish()
        .is_ok()
    );
    one_error(
        with_body(|f| {
            f.calli(X, Y, &[], &[], Some(I64));
        })
        .finish(),
        &["handle `y` of `calli` has type f64, expected i64"],
    );
    one_error(
        with_body(|f| {
            f.calli(None, H, &[X.into()], &[F64], None);
        })
        .finish(),
        &["argument 1 `x` of `calli` has type i64, expected f64"],
    );
    one_error(
        with_body(|f| {
            f.calli(None, H, &[X.into()], &[], None);
        })
        .finish(),
        &["`calli` signature takes 0 arguments, 1 given"],
    );
    one_error(
        with_body(|f| {
            f.calli(X, H, &[], &[], Some(F64));
        })
        .finish(),
        &["`calli` signature returns f64, but destination `x` has type i64"],
    );
    one_error(
        with_body(|f| {
            f.calli(X, H, &[], &[], None);
        })
        .finish(),
        &["`calli` signature returns nothing, but `calli` assigns its result to `x`"],
    );
}

#[test]
fn fref_destination_must_be_i64() {
    one_error(
        with_body(|f| {
            f.fref(Y, FuncId(0));
        })
        .finish(),
        &["destination `y` of `fref` has type f64, expected i64"],
    );
}

// ---------------------------------------------------------------------------------------------
// Control flow.

#[test]
fn running_off_the_end_is_an_error() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    mb.func(f).nop();
    one_error(
        mb.finish(),
        &[
            "function `f` may run off its end without `ret`",
            "instruction 0",
        ],
    );

    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("empty", &[], None);
    mb.func(f);
    one_error(
        mb.finish(),
        &["function `empty` may run off its end without `ret`"],
    );
}

#[test]
fn final_conditional_branch_may_fall_off() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("n", I64)], None);
    let mut fb = mb.func(f);
    let n = fb.param(0);
    let top = fb.new_label("top");
    fb.bind(top).sub(n, n, 1).jnz(n, top);
    one_error(
        mb.finish(),
        &[
            "function `f` may run off its end without `ret`",
            "instruction 1",
        ],
    );
}

#[test]
fn jump_to_a_label_at_the_end_runs_off() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("n", I64)], None);
    let mut fb = mb.func(f);
    let n = fb.param(0);
    let end = fb.new_label("end");
    fb.jz(n, end).ret_void().bind(end);
    one_error(
        mb.finish(),
        &[
            "function `f` may run off its end without `ret`",
            "instruction 0",
        ],
    );
}

#[test]
fn errors_carry_the_instruction_location_and_are_sorted() {
    let mut m = Module::new("t");
    let mut f = raw_func(
        "f",
        &[("x", I64), ("y", F64)],
        0,
        vec![
            at(
                Inst::Mov {
                    d: RegId(0),
                    a: Operand::Reg(RegId(1)),
                },
                7,
            ),
            at(
                Inst::Mov {
                    d: RegId(1),
                    a: Operand::Reg(RegId(0)),
                },
                3,
            ),
            at(Inst::Ret { a: None }, 8),
        ],
    );
    f.loc = Loc::new(2, 1);
    m.funcs.push(f);
    let errs = verify(&m).unwrap_err().0;
    assert_eq!(errs.len(), 2);
    assert_eq!(errs[0].loc, Loc::new(3, 5));
    assert_eq!(
        errs[0].message,
        "operand `x` of `mov` has type i64, expected f64"
    );
    assert_eq!(errs[1].loc, Loc::new(7, 5));
    assert_eq!(
        errs[1].message,
        "operand `y` of `mov` has type f64, expected i64"
    );
}

#[test]
fn run_off_is_reported_at_the_offending_instruction() {
    let mut m = Module::new("t");
    let mut f = raw_func(
        "f",
        &[("x", I64)],
        1,
        vec![at(Inst::Nop, 4), at(Inst::Nop, 5)],
    );
    f.loc = Loc::new(3, 1);
    m.funcs.push(f);
    let errs = verify(&m).unwrap_err().0;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].loc, Loc::new(5, 5));
    assert_eq!(
        errs[0].message,
        "function `f` may run off its end without `ret`"
    );
}

// ---------------------------------------------------------------------------------------------
// Ranges (modules from the decoder or a careless builder): errors, never panics.

#[test]
fn register_out_of_range() {
    one_error(
        with_body(|f| {
            f.mov(RegId(9), 1);
        })
        .finish(),
        &["register #9 of `mov` is out of range (function `f` has 4 registers)"],
    );
}

#[test]
fn label_out_of_range() {
    one_error(
        with_body(|f| {
            f.jz(X, LabelId(5));
        })
        .finish(),
        &["label #5 of `jz` is out of range (function `f` has 0 labels)"],
    );
    let mut m = Module::new("t");
    let mut f = raw_func("f", &[], 0, vec![at(Inst::Trap, 2)]);
    f.labels.push(Label {
        name: "far".into(),
        pos: 7,
        loc: Loc::new(2, 1),
    });
    m.funcs.push(f);
    one_error(
        verify(&m),
        &["label `far` of function `f` is at instruction 7, past the end of its 1 instruction"],
    );
}

#[test]
fn function_and_extern_out_of_range() {
    one_error(
        with_body(|f| {
            f.call(None, FuncId(42), &[]);
        })
        .finish(),
        &["function #42 of `call` does not exist (the module has 1 function)"],
    );
    one_error(
        with_body(|f| {
            f.tail(ExternId(0), &[]);
        })
        .finish(),
        &["extern #0 of `tail` does not exist (the module has 0 externs)"],
    );
    one_error(
        with_body(|f| {
            f.fref(H, FuncId(3));
        })
        .finish(),
        &["function #3 of `fref` does not exist"],
    );
}

#[test]
fn num_params_beyond_registers() {
    let mut m = Module::new("t");
    m.funcs.push(raw_func(
        "f",
        &[("x", I64)],
        3,
        vec![at(Inst::Ret { a: None }, 2)],
    ));
    // A caller of the broken function must not make the verifier index past its registers.
    m.funcs.push(raw_func(
        "g",
        &[],
        0,
        vec![
            at(
                Inst::Call {
                    d: None,
                    callee: Callee::Func(FuncId(0)),
                    args: vec![],
                },
                5,
            ),
            at(Inst::Ret { a: None }, 6),
        ],
    ));
    one_error(
        verify(&m),
        &["function `f` has 3 parameters but only 1 register"],
    );
}

#[test]
fn hostile_shapes_do_not_panic() {
    let mut m = Module::new("t");
    m.memory.min_pages = u64::MAX;
    m.memory.max_pages = u64::MAX;
    m.data.push(DataSegment {
        offset: i64::MAX,
        bytes: vec![1; 4],
        loc: Loc::NONE,
    });
    let mut f = raw_func(
        "f",
        &[],
        u32::MAX,
        vec![at(
            Inst::Switch {
                a: Operand::Reg(RegId(u32::MAX)),
                targets: vec![LabelId(u32::MAX)],
                default: LabelId(0),
            },
            1,
        )],
    );
    f.labels.push(Label {
        name: "l".into(),
        pos: u32::MAX,
        loc: Loc::NONE,
    });
    m.funcs.push(f);
    let errs = messages(verify(&m));
    assert!(errs.len() >= 5, "{errs:#?}");
}

// ---------------------------------------------------------------------------------------------
// Names.

#[test]
fn duplicate_functions() {
    let mut mb = ModuleBuilder::new("t");
    for _ in 0..2 {
        let f = mb.declare_func("twice", &[], None);
        mb.func(f).ret_void();
    }
    one_error(mb.finish(), &["duplicate function `twice`"]);
}

#[test]
fn duplicate_externs() {
    let mut mb = ModuleBuilder::new("t");
    mb.extern_func("ext", &[], None);
    mb.extern_func("ext", &[I64], None);
    one_error(mb.finish(), &["duplicate extern `ext`"]);
}

#[test]
fn function_and_extern_with_the_same_name() {
    let mut mb = ModuleBuilder::new("t");
    mb.extern_func("both", &[], None);
    let f = mb.declare_func("both", &[], None);
    mb.func(f).ret_void();
    one_error(
        mb.finish(),
        &["extern `both` has the same name as function `both`"],
    );
}

#[test]
fn duplicate_registers() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("x", I64)], None);
    let mut fb = mb.func(f);
    fb.reg("x", F64);
    fb.ret_void();
    one_error(mb.finish(), &["duplicate register `x` in function `f`"]);
}

#[test]
fn duplicate_labels() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    let mut fb = mb.func(f);
    let (a, b) = (fb.new_label("again"), fb.new_label("again"));
    fb.bind(a).bind(b).ret_void();
    one_error(mb.finish(), &["duplicate label `again` in function `f`"]);
}

#[test]
fn names_must_be_identifiers_and_registers_not_reserved() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("two words", &[], None);
    mb.func(f).ret_void();
    one_error(mb.finish(), &["invalid function name `two words`"]);

    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("inf", F64)], None);
    mb.func(f).ret_void();
    one_error(
        mb.finish(),
        &["`inf` is reserved and cannot name a register"],
    );

    let mut mb = ModuleBuilder::new("t");
    mb.extern_func("9lives", &[], None);
    one_error(mb.finish(), &["invalid extern name `9lives`"]);

    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    let mut fb = mb.func(f);
    let l = fb.new_label("no-dash");
    fb.bind(l).ret_void();
    one_error(
        mb.finish(),
        &["invalid label name `no-dash` in function `f`"],
    );
}

// ---------------------------------------------------------------------------------------------
// Module items.

#[test]
fn memory_limits() {
    let mut mb = ModuleBuilder::new("t");
    mb.memory(3, 2);
    one_error(
        mb.finish(),
        &["memory minimum of 3 pages exceeds its maximum of 2"],
    );
    let mut mb = ModuleBuilder::new("t");
    mb.memory(1, 70000);
    one_error(
        mb.finish(),
        &["memory maximum of 70000 pages exceeds the limit of 65536"],
    );
    let mut mb = ModuleBuilder::new("t");
    mb.memory(65536, 65536);
    assert!(mb.finish().is_ok());
}

#[test]
fn data_segments_inside_initial_memory() {
    let mut mb = ModuleBuilder::new("t");
    mb.memory(1, 1).data(65530, [0u8; 6]).data(0, Vec::new());
    assert!(mb.finish().is_ok());
    let mut mb = ModuleBuilder::new("t");
    mb.memory(1, 1).data(65531, [0u8; 6]);
    one_error(
        mb.finish(),
        &[
            "data segment at offset 65531 (6 bytes) does not fit in the initial memory of 65536 bytes (1 page)",
        ],
    );
    let mut mb = ModuleBuilder::new("t");
    mb.memory(1, 1).data(-1, [0u8; 1]);
    one_error(
        mb.finish(),
        &["data segment at offset -1 starts before address 0"],
    );
    let mut mb = ModuleBuilder::new("t");
    mb.data(0, *b"x");
    one_error(mb.finish(), &["initial memory of 0 bytes (0 pages)"]);
}

#[test]
fn main_signature() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("main", &[("s", Sil)], None);
    mb.func(f).ret_void();
    one_error(
        mb.finish(),
        &["parameter `s` of `main` has type sil, but `main` takes only i64 or f64"],
    );
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("main", &[], Some(F64));
    mb.func(f).ret(0.0);
    one_error(
        mb.finish(),
        &["function `main` must return i64 or nothing, not f64"],
    );
}

#[test]
fn extern_parameter_names_match_parameters() {
    let mut m = Module::new("t");
    m.externs.push(bytecode::Extern {
        name: "e".into(),
        params: vec![I64, F64],
        param_names: vec![Some("a".into())],
        ret: None,
        loc: Loc::new(1, 1),
    });
    one_error(
        verify(&m),
        &["extern `e` has 1 parameter name for 2 parameters"],
    );
}

// ---------------------------------------------------------------------------------------------
// Builder misuse.

#[test]
fn builder_reports_unbound_and_twice_bound_labels() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    let mut fb = mb.func(f);
    let l = fb.new_label("nowhere");
    fb.jmp(l);
    one_error(
        mb.finish(),
        &["label `nowhere` of function `f` is never bound"],
    );

    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[], None);
    let mut fb = mb.func(f);
    let l = fb.new_label("l");
    fb.bind(l).nop().bind(l).ret_void();
    one_error(mb.finish(), &["label `l` of function `f` is bound twice"]);
}

#[test]
fn builder_reports_unknown_function_and_parameter() {
    let mut mb = ModuleBuilder::new("t");
    mb.func(FuncId(3)).ret_void();
    one_error(mb.finish(), &["no function with id 3"]);

    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("f", &[("a", I64)], None);
    let mut fb = mb.func(f);
    fb.param(1);
    fb.ret_void();
    one_error(
        mb.finish(),
        &["function `f` has 1 parameters, no parameter 1"],
    );
}

#[test]
fn const_sil_clamps_and_wraps_like_sil_new() {
    assert_eq!(Const::sil(0, 0), Const::Sil(0x80));
    assert_eq!(Const::sil(0, 4), Const::Sil(0x84));
    assert_eq!(Const::sil(7, 0), Const::Sil(0xF0));
    assert_eq!(Const::sil(100, -1), Const::Sil(0xFF));
    assert_eq!(Const::sil(-8, 5), Const::Sil(0x05));
    assert_eq!(Const::sil(i64::MIN, i64::MIN), Const::Sil(0x00));
}

#[test]
fn builder_modules_print_and_parse_back() {
    let mut mb = ModuleBuilder::new("t");
    let f = mb.declare_func("main", &[], Some(I64));
    let mut fb = mb.func(f);
    let t = fb.temp(I64);
    let l = fb.temp_label();
    fb.mov(t, 5)
        .bind(l)
        .sub(t, t, 1)
        .bgt(t, 0, l)
        .println(t)
        .ret(t);
    let m = mb.finish().unwrap();
    let text = bytecode::print(&m);
    let back = bytecode::parse(&text, "t").expect("parses");
    assert!(verify(&back).is_ok());
    assert_eq!(back.funcs[0].body.len(), m.funcs[0].body.len());
}

#[test]
fn parsed_modules_report_lines() {
    let src = "func f(x: i64) -> i64 {\n    reg y: f64\n    add x, x, y\n    ret x\n}\n";
    let m = bytecode::parse(src, "t").expect("parses");
    let errs = verify(&m).unwrap_err().0;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].loc.line, 3);
    assert_eq!(
        errs[0].message,
        "operand `y` of `add` has type f64, expected i64"
    );
}

#[test]
fn parsed_duplicates_are_reported_with_lines() {
    let src = "func f(x: i64) {\n    reg x: f64\nl:\nl:  ret\n}\nfunc f() {\n    ret\n}\n";
    let m = bytecode::parse(src, "t").expect("parses");
    let errs = verify(&m).unwrap_err().0;
    let got: Vec<(u32, &str)> = errs
        .iter()
        .map(|d| (d.loc.line, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                2,
                "duplicate register `x` in function `f` (first declared at line 1)"
            ),
            (
                4,
                "duplicate label `l` in function `f` (first declared at line 3)"
            ),
            (6, "duplicate function `f` (first declared at line 1)"),
        ]
    );
}

#[test]
fn parsed_module_using_every_item_kind_verifies() {
    let src = r#"
module demo
memory 1 max 4
data 16 "hi;\n"
data 0 bytes 1, 2, 0xFF
extern func host_log(x: i64, f64) -> i64

export func main(n: i64) -> i64 {
    reg x: f64
    mov x, 2
    reg s: sil, h: i64
loop: jz n, done
    sub n, n, 1
    jmp loop
done:
    mov s, sil(-3, 15)
    print x, 3
    println
    fref h, helper
    calli h, h(1_000, 'A') : (i64, i64) -> i64
    load.u8 n, [h - 8]
    store.f64 [1024], -inf
    switch n, [loop, done], done
}

func helper(a: i64, b: i64) -> i64 {
    call a, host_log(a, 1.5e-3)
    tail helper(b, a)
}
"#;
    let m = bytecode::parse(src, "t").expect("parses");
    assert_eq!(verify(&m), Ok(()));
}
