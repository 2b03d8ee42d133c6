//! Property tests of the `.silc` codec: round trips, and hostile bytes never panic or over-allocate.

use bytecode::{
    Addr, BinOp, Callee, CmpOp, Const, DataSegment, DecodeError, Extern, ExternId, FuncId,
    Function, Inst, InstAt, Label, LabelId, Loc, MemTy, Memory, Module, Operand, RegDecl, RegId,
    SilIntOp, Type, UnOp, decode, encode,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

/// How many of each thing a generated function may refer to; all at least 1 so every index
/// strategy has something to pick from (empty tables are covered by the unit tests).
#[derive(Clone, Copy, Debug)]
struct Sizes {
    regs: u32,
    labels: u32,
    funcs: u32,
    externs: u32,
}

fn ty() -> impl Strategy<Value = Type> {
    select(Type::ALL.to_vec())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[A-Za-z_][A-Za-z0-9_.$]{0,8}", 1 => "\\PC{0,4}"]
}

fn loc() -> impl Strategy<Value = Loc> {
    prop_oneof![
        Just(Loc::NONE),
        (1u32..5000, 1u32..200).prop_map(|(l, c)| Loc::new(l, c)),
        (any::<u32>(), any::<u32>()).prop_map(|(l, c)| Loc::new(l, c)),
    ]
}

fn constant() -> impl Strategy<Value = Const> {
    prop_oneof![
        any::<i64>().prop_map(Const::Int),
        (-200i64..200).prop_map(Const::Int),
        // Arbitrary bit patterns, NaN payloads included.
        any::<u64>().prop_map(|b| Const::Float(f64::from_bits(b))),
        any::<f64>().prop_map(Const::Float),
        any::<u8>().prop_map(Const::Sil),
    ]
}

fn reg(s: Sizes) -> impl Strategy<Value = RegId> {
    (0..s.regs).prop_map(RegId)
}

fn label(s: Sizes) -> impl Strategy<Value = LabelId> {
    (0..s.labels).prop_map(LabelId)
}

fn operand(s: Sizes) -> impl Strategy<Value = Operand> {
    prop_oneof![
        reg(s).prop_map(Operand::Reg),
        constant().prop_map(Operand::Const)
    ]
}

fn operands(s: Sizes) -> impl Strategy<Value = Vec<Operand>> {
    vec(operand(s), 0..5)
}

fn callee(s: Sizes) -> impl Strategy<Value = Callee> {
    prop_oneof![
        (0..s.funcs).prop_map(|f| Callee::Func(FuncId(f))),
        (0..s.externs).prop_map(|e| Callee::Extern(ExternId(e))),
    ]
}

fn addr(s: Sizes) -> impl Strategy<Value = Addr> {
    (operand(s), any::<i64>()).prop_map(|(base, offset)| Addr { base, offset })
}

fn inst(s: Sizes) -> BoxedStrategy<Inst> {
    let o = move || operand(s);
    prop_oneof![
        (reg(s), o()).prop_map(|(d, a)| Inst::Mov { d, a }),
        (select(BinOp::ALL.to_vec()), reg(s), o(), o()).prop_map(|(op, d, a, b)| Inst::Bin {
            op,
            d,
            a,
            b
        }),
        (select(UnOp::ALL.to_vec()), reg(s), o()).prop_map(|(op, d, a)| Inst::Un { op, d, a }),
        (select(SilIntOp::ALL.to_vec()), reg(s), o(), o()).prop_map(|(op, d, a, n)| Inst::SilInt {
            op,
            d,
            a,
            n
        }),
        (reg(s), o(), o()).prop_map(|(d, rho, theta)| Inst::SilNew { d, rho, theta }),
        (reg(s), o(), o()).prop_map(|(d, re, im)| Inst::SilFrom { d, re, im }),
        (reg(s), o(), o(), o()).prop_map(|(d, a, b, t)| Inst::SilLerp { d, a, b, t }),
        (select(CmpOp::ALL.to_vec()), reg(s), o(), o()).prop_map(|(op, d, a, b)| Inst::Cmp {
            op,
            d,
            a,
            b
        }),
        (reg(s), o(), o(), o()).prop_map(|(d, c, a, b)| Inst::Select { d, c, a, b }),
        label(s).prop_map(|target| Inst::Jmp { target }),
        (any::<bool>(), o(), label(s)).prop_map(|(nonzero, a, target)| Inst::JumpIf {
            nonzero,
            a,
            target
        }),
        (select(CmpOp::ALL.to_vec()), o(), o(), label(s))
            .prop_map(|(op, a, b, target)| Inst::Branch { op, a, b, target }),
        (o(), vec(label(s), 0..6), label(s)).prop_map(|(a, targets, default)| Inst::Switch {
            a,
            targets,
            default
        }),
        (option::of(reg(s)), callee(s), operands(s)).prop_map(|(d, callee, args)| Inst::Call {
            d,
            callee,
            args
        }),
        (callee(s), operands(s)).prop_map(|(callee, args)| Inst::Tail { callee, args }),
        (reg(s), 0..s.funcs).prop_map(|(d, f)| Inst::Fref { d, func: FuncId(f) }),
        (
            option::of(reg(s)),
            o(),
            operands(s),
            vec(ty(), 0..5),
            option::of(ty())
        )
            .prop_map(|(d, handle, args, params, ret)| Inst::CallI {
                d,
                handle,
                args,
                params,
                ret
            }),
        option::of(o()).prop_map(|a| Inst::Ret { a }),
        o().prop_map(|a| Inst::Exit { a }),
        Just(Inst::Trap),
        Just(Inst::Nop),
        (select(MemTy::ALL.to_vec()), reg(s), addr(s)).prop_map(|(ty, d, addr)| Inst::Load {
            ty,
            d,
            addr
        }),
        (select(MemTy::ALL.to_vec()), addr(s), o()).prop_map(|(ty, addr, v)| Inst::Store {
            ty,
            addr,
            v
        }),
        reg(s).prop_map(|d| Inst::MemSize { d }),
        (reg(s), o()).prop_map(|(d, a)| Inst::MemGrow { d, a }),
        (o(), o(), o()).prop_map(|(dst, src, n)| Inst::MemCopy { dst, src, n }),
        (o(), o(), o()).prop_map(|(dst, byte, n)| Inst::MemFill { dst, byte, n }),
        (option::of(o()), option::of(any::<u8>()), any::<bool>()).prop_map(
            |(a, precision, newline)| Inst::Print {
                a,
                precision,
                newline
            }
        ),
        o().prop_map(|a| Inst::Putc { a }),
        (o(), o()).prop_map(|(a, n)| Inst::Write { a, n }),
        reg(s).prop_map(|d| Inst::Getc { d }),
        reg(s).prop_map(|d| Inst::Clock { d }),
    ]
    .boxed()
}

fn function(funcs: u32, externs: u32) -> impl Strategy<Value = Function> {
    (1u32..6, 1u32..4).prop_flat_map(move |(regs, labels)| {
        let s = Sizes {
            regs,
            labels,
            funcs,
            externs,
        };
        (
            name(),
            any::<bool>(),
            0..=regs,
            vec((name(), ty(), loc()), regs as usize),
            option::of(ty()),
            vec((name(), any::<u32>(), loc()), labels as usize),
            vec((inst(s), loc()), 0..12),
            loc(),
        )
            .prop_map(|(name, export, num_params, regs, ret, labels, body, loc)| {
                let body: Vec<InstAt> = body
                    .into_iter()
                    .map(|(inst, loc)| InstAt { inst, loc })
                    .collect();
                // Any position up to and including "after the last instruction".
                let end = body.len() as u32 + 1;
                Function {
                    name,
                    export,
                    num_params,
                    regs: regs
                        .into_iter()
                        .map(|(name, ty, loc)| RegDecl { name, ty, loc })
                        .collect(),
                    ret,
                    labels: labels
                        .into_iter()
                        .map(|(name, pos, loc)| Label {
                            name,
                            pos: pos % end,
                            loc,
                        })
                        .collect(),
                    body,
                    loc,
                }
            })
    })
}

fn data_segment() -> impl Strategy<Value = DataSegment> {
    (any::<i64>(), vec(any::<u8>(), 0..16), loc()).prop_map(|(offset, bytes, loc)| DataSegment {
        offset,
        bytes,
        loc,
    })
}

fn external() -> impl Strategy<Value = Extern> {
    // Names and types are generated apart: the model does not tie their lengths together.
    (
        name(),
        vec(ty(), 0..4),
        vec(option::of(name()), 0..4),
        option::of(ty()),
        loc(),
    )
        .prop_map(|(name, params, param_names, ret, loc)| Extern {
            name,
            params,
            param_names,
            ret,
            loc,
        })
}

fn memory() -> impl Strategy<Value = Memory> {
    (any::<u64>(), any::<u64>(), loc()).prop_map(|(min_pages, max_pages, loc)| Memory {
        min_pages,
        max_pages,
        loc,
    })
}

fn module() -> impl Strategy<Value = Module> {
    (1u32..4, 1u32..3).prop_flat_map(|(funcs, externs)| {
        (
            name(),
            memory(),
            any::<bool>(),
            vec(data_segment(), 0..3),
            vec(external(), externs as usize),
            vec(function(funcs, externs), funcs as usize),
        )
            .prop_map(
                |(name, memory, memory_declared, data, externs, funcs)| Module {
                    name,
                    memory,
                    memory_declared,
                    data,
                    externs,
                    funcs,
                },
            )
    })
}

fn uleb(mut v: u64) -> Vec<u8> {
    let mut out = vec![];
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

/// Counts and lengths a hostile file might claim.
const HUGE: [u64; 6] = [
    u64::MAX,
    1 << 63,
    u32::MAX as u64,
    1 << 31,
    1 << 24,
    100_000,
];

#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: usize,
        mask: u8,
    },
    Set {
        at: usize,
        byte: u8,
    },
    Insert {
        at: usize,
        byte: u8,
    },
    Delete {
        at: usize,
    },
    /// Replaces the byte at `at` by the LEB128 form of a huge number, or inserts it there.
    Splice {
        at: usize,
        value: u64,
        replace: bool,
    },
    Truncate {
        at: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 1u8..).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        at.prop_map(|at| Mutation::Delete { at }),
        (
            at,
            prop_oneof![select(HUGE.to_vec()), any::<u64>()],
            any::<bool>()
        )
            .prop_map(|(at, value, replace)| Mutation::Splice { at, value, replace }),
        at.prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    // Positions are taken modulo the current length so every mutation lands somewhere.
    let len = bytes.len();
    let pick = |at: usize| if len == 0 { 0 } else { at % len };
    match *m {
        Mutation::Flip { at, mask } if len > 0 => bytes[pick(at)] ^= mask,
        Mutation::Set { at, byte } if len > 0 => bytes[pick(at)] = byte,
        Mutation::Insert { at, byte } => bytes.insert(at % (len + 1), byte),
        Mutation::Delete { at } if len > 0 => {
            bytes.remove(pick(at));
        }
        Mutation::Splice { at, value, replace } => {
            let at = at % (len + 1);
            let end = if replace && at < len { at + 1 } else { at };
            bytes.splice(at..end, uleb(value));
        }
        Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
        _ => {}
    }
}

/// Decodes without panicking (a panic fails the test); whatever is accepted must be the
/// canonical encoding of what it decodes to.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(m) = decode(bytes) {
        prop_assert_eq!(encode(&m), bytes);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_modules_round_trip(m in module()) {
        let bytes = encode(&m);
        prop_assert_eq!(&encode(&m.clone()), &bytes);
        prop_assert_eq!(decode(&bytes), Ok(m));
    }

    #[test]
    fn truncations_of_random_modules_fail(m in module(), cut in any::<usize>()) {
        let bytes = encode(&m);
        let cut = cut % bytes.len();
        prop_assert!(decode(&bytes[..cut]).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in vec(any::<u8>(), 0..256)) {
        check_decode(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_do_not_panic(tail in vec(any::<u8>(), 0..256)) {
        // Random bytes almost never pass the magic check, so this reaches the body decoder.
        let mut bytes = b"\0SILC\x01".to_vec();
        bytes.extend(tail);
        check_decode(&bytes)?;
    }

    #[test]
    fn mutated_encodings_do_not_panic(m in module(), muts in vec(mutation(), 1..5)) {
        let mut bytes = encode(&m);
        for mu in &muts {
            apply(&mut bytes, mu);
        }
        check_decode(&bytes)?;
    }
}

/// A fixed module touching every kind of list, used as the seed of the exhaustive splices.
fn seed() -> Module {
    let i = |inst| InstAt {
        inst,
        loc: Loc::new(3, 5),
    };
    Module {
        name: "seed".into(),
        memory: Memory {
            min_pages: 1,
            max_pages: 4,
            loc: Loc::new(1, 1),
        },
        memory_declared: true,
        data: vec![DataSegment {
            offset: 8,
            bytes: b"hello".to_vec(),
            loc: Loc::new(2, 1),
        }],
        externs: vec![Extern {
            name: "putd".into(),
            params: vec![Type::F64],
            param_names: vec![Some("x".into())],
            ret: None,
            loc: Loc::new(3, 1),
        }],
        funcs: vec![Function {
            name: "main".into(),
            export: true,
            num_params: 1,
            regs: vec![
                RegDecl {
                    name: "n".into(),
                    ty: Type::I64,
                    loc: Loc::new(4, 11),
                },
                RegDecl {
                    name: "x".into(),
                    ty: Type::F64,
                    loc: Loc::new(5, 9),
                },
            ],
            ret: Some(Type::I64),
            labels: vec![Label {
                name: "l".into(),
                pos: 1,
                loc: Loc::new(6, 1),
            }],
            body: vec![
                i(Inst::Un {
                    op: UnOp::I2F,
                    d: RegId(1),
                    a: Operand::Reg(RegId(0)),
                }),
                i(Inst::Call {
                    d: None,
                    callee: Callee::Extern(ExternId(0)),
                    args: vec![Operand::Reg(RegId(1))],
                }),
                i(Inst::Switch {
                    a: Operand::Reg(RegId(0)),
                    targets: vec![LabelId(0), LabelId(0)],
                    default: LabelId(0),
                }),
                i(Inst::CallI {
                    d: Some(RegId(0)),
                    handle: Operand::Const(Const::Int(0)),
                    args: vec![Operand::Const(Const::Float(1.0))],
                    params: vec![Type::F64],
                    ret: Some(Type::I64),
                }),
                i(Inst::Ret {
                    a: Some(Operand::Reg(RegId(0))),
                }),
            ],
            loc: Loc::new(4, 1),
        }],
    }
}

/// Every huge count at every position of a valid encoding, replacing a byte or inserted.
fn splice_everywhere() -> usize {
    let bytes = encode(&seed());
    let mut rejected = 0;
    for at in 0..=bytes.len() {
        for value in HUGE {
            for replace in [false, true] {
                let mut b = bytes.clone();
                apply(&mut b, &Mutation::Splice { at, value, replace });
                match decode(&b) {
                    Ok(m) => assert_eq!(encode(&m), b),
                    Err(_) => rejected += 1,
                }
            }
        }
    }
    rejected
}

#[test]
fn huge_counts_everywhere_are_rejected() {
    assert_eq!(decode(&encode(&seed())), Ok(seed()));
    assert!(splice_everywhere() > 0);
}

#[test]
fn huge_count_errors_name_the_count() {
    // The function count sits right before the first function's name.
    let bytes = encode(&seed());
    let at = bytes.windows(5).position(|w| w == b"\x04main").unwrap() - 1;
    assert_eq!(bytes[at], 1);
    let mut b = bytes.clone();
    b.splice(at..at + 1, uleb(u64::MAX));
    assert_eq!(
        decode(&b),
        Err(DecodeError::TooLarge {
            offset: at,
            what: "function count",
            len: u64::MAX
        })
    );
}

/// Reruns the splices in a child process whose address space is capped (`ulimit -v`): an
/// allocation sized by a hostile count, reserved or not, would exceed the cap and abort the
/// child, where in this process it might silently succeed on a machine with memory to spare.
#[cfg(target_os = "linux")]
#[test]
fn hostile_counts_stay_within_a_small_address_space() {
    const CHILD: &str = "SILC_FUZZ_MEMORY_CAPPED_CHILD";
    if std::env::var_os(CHILD).is_some() {
        splice_everywhere();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        // 512 MiB: a test binary needs a few tens; one huge reservation needs gigabytes.
        .arg(r#"ulimit -v 524288 && exec "$0" "$1" --exact --test-threads=1 --nocapture"#)
        .arg(exe)
        .arg("hostile_counts_stay_within_a_small_address_space")
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "capped child failed: {:?}\n{}\n{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// docs/silc.md: `text → binary → text` reproduces an equivalent module, for every sample program.
#[test]
fn sample_programs_round_trip_through_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let mut checked = 0;
    for dir in ["programs", "invalid"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "sil") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            let stem = path.file_stem().unwrap().to_str().unwrap();
            // Files meant to fail parsing have nothing to encode.
            let Ok(m) = bytecode::parse(&src, stem) else {
                continue;
            };
            let bytes = encode(&m);
            let back = decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(back, m, "{}", path.display());
            assert_eq!(
                bytecode::print(&back),
                bytecode::print(&m),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0 || !root.join("programs").exists());
    eprintln!("round-tripped {checked} sample programs");
}

/// The worked example of docs/silc.md, from text to bytes, is what the docs say.
#[test]
fn docs_worked_example_parses_to_the_documented_bytes() {
    let doc = include_str!("../../docs/silc.md");
    let example = &doc[doc.find("## Worked example").unwrap()..];
    // The first code block is the text, the second the hex dump.
    let mut blocks = example.split("```").skip(1).step_by(2);
    // The block starts after the fence's newline, so that `module` is on line 1.
    let text = blocks.next().unwrap().trim_start_matches('\n');
    let dump = blocks.next().unwrap();
    let m = bytecode::parse(text, "unused").expect("the example parses");
    let bytes: Vec<u8> = dump
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    assert_eq!(encode(&m), bytes);
}
