//! Text format: parsing, printing, and the round trip between them.

use bytecode::{Const, Inst, Operand, parse, print};

const SAMPLE: &str = r#"
module demo        ; a comment
memory 1 max 4
data 16 "hi;\n"
data 0 bytes 1, 2, 0xFF
extern func host_log(x: i64, f64) -> i64

EXPORT FUNC main(n: i64) -> i64 {
    reg x: f64
    MOV x, 2
    Add n, n, 0xFFFFFFFFFFFFFFFF
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

#[test]
fn parses_every_item_and_literal_form() {
    let m = parse(SAMPLE, "fallback").expect("parses");
    assert_eq!(m.name, "demo");
    assert_eq!(m.memory.max_pages, 4);
    assert_eq!(m.data[0].bytes, b"hi;\n");
    assert_eq!(m.data[1].bytes, vec![1, 2, 255]);
    let main = &m.funcs[0];
    assert!(main.export);
    assert_eq!(main.regs.len(), 4);
    assert_eq!(
        main.body[1].inst,
        Inst::Bin {
            op: bytecode::BinOp::Add,
            d: bytecode::RegId(0),
            a: Operand::Reg(bytecode::RegId(0)),
            b: Operand::Const(Const::Int(-1)),
        }
    );
    assert_eq!(main.labels[0].pos, 2);
    assert_eq!(main.body[2].loc, bytecode::Loc::new(13, 7));
}

#[test]
fn print_then_parse_is_identity() {
    let m = parse(SAMPLE, "x").unwrap();
    let text = print(&m);
    let again =
        parse(&text, "x").unwrap_or_else(|e| panic!("{}\n{}", text, e.render("p", Some(&text))));
    // Locations differ after printing; compare with them cleared.
    assert_eq!(strip(m), strip(again));
}

fn strip(mut m: bytecode::Module) -> bytecode::Module {
    let none = bytecode::Loc::NONE;
    m.memory.loc = none;
    m.data.iter_mut().for_each(|d| d.loc = none);
    m.externs.iter_mut().for_each(|e| e.loc = none);
    for f in &mut m.funcs {
        f.loc = none;
        f.regs.iter_mut().for_each(|r| r.loc = none);
        f.labels.iter_mut().for_each(|l| l.loc = none);
        f.body.iter_mut().for_each(|i| i.loc = none);
    }
    m
}

#[test]
fn errors_name_line_column_and_culprit() {
    let src = "func f() {\n    add q, 1, 2\n    ret\n}\n";
    let e = parse(src, "t").unwrap_err();
    let text = e.render("t.sil", Some(src));
    assert!(
        text.starts_with("t.sil:2:9: error: undeclared register `q`\n"),
        "{text}"
    );
    assert!(text.contains('^'), "{text}");
    for (src, frag) in [
        ("func f() {\n    frob 1\n}\n", "unknown instruction `frob`"),
        ("func f() {\n    ret\n", "missing its closing"),
        (
            "func f() -> i64 {\n    ret 9223372036854775808\n}\n",
            "out of range",
        ),
        ("func f() -> i64 {\n    ret -9223372036854775808\n}\n", ""),
        ("data 0 \"abc\n", "unterminated string"),
        ("func f() {\n    reg inf: f64\n    ret\n}\n", "reserved"),
        (
            "func f() {\n    jmp nowhere\n}\n",
            "undefined label `nowhere`",
        ),
        (
            "func f() {\n    call g()\n    ret\n}\n",
            "undefined function `g`",
        ),
        ("func f() {\n    ret 1 2\n}\n", "unexpected"),
    ] {
        match parse(src, "t") {
            Ok(_) => assert!(frag.is_empty(), "{src:?} should fail with {frag}"),
            Err(e) => assert!(
                !frag.is_empty() && e.0[0].message.contains(frag),
                "{src:?}: {}",
                e.0[0].message
            ),
        }
    }
}
