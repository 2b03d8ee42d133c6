//! The fuzz targets: the `.sil` parser, the `.silc` decoder, the verifier and the codegen. Each
//! takes raw bytes, must never panic, and returns a small "feature" number describing what the
//! input did (which error, which path), which the harness uses to keep inputs that reach
//! something new.

use crate::program;
use arbitrary::Unstructured;
use bytecode::{Diagnostics, Inst, Module, Type};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// A fuzz target: its name, the function under test, and where its seed inputs come from.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]) -> u64,
    /// Bytes to splice into inputs (tokens of the grammar for text targets).
    pub dictionary: &'static [&'static [u8]],
}

pub fn all() -> Vec<Target> {
    vec![
        Target {
            name: "parse",
            run: parse,
            dictionary: TEXT_TOKENS,
        },
        Target {
            name: "decode",
            run: decode,
            dictionary: &[
                b"\0SILC",
                b"\x01",
                b"\xff\xff\xff\xff\x0f",
                b"\x80",
                b"\x00",
            ],
        },
        Target {
            name: "verify",
            run: verify,
            dictionary: &[],
        },
        Target {
            name: "codegen",
            run: codegen,
            dictionary: &[],
        },
    ]
}

pub fn find(name: &str) -> Option<Target> {
    all().into_iter().find(|t| t.name == name)
}

const TEXT_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"(",
    b")",
    b"[",
    b"]",
    b",",
    b":",
    b"->",
    b"-",
    b"+",
    b";",
    b"'",
    b"\"",
    b"\\",
    b"0x",
    b"0b",
    b"1e",
    b"_",
    b"sil(",
    b"reg ",
    b"func ",
    b"export ",
    b"extern func ",
    b"data 0 ",
    b"memory ",
    b"max ",
    b"call ",
    b"calli ",
    b"tail ",
    b"fref ",
    b"switch ",
    b"i64",
    b"f64",
    b"sil",
    b"nan",
    b"inf",
    b"\n",
    b"9223372036854775808",
    b"0xFFFFFFFFFFFFFFFF",
    b"load.i64 ",
    b"store.f64 ",
    b"jmp ",
    b"ret",
    b"module ",
    b"\xc3\xa9",
    b"\xff",
];

fn hash(x: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

/// A diagnostic's message with digits and quoted names removed: the kind of error, not its
/// instance, so each kind counts once as a feature.
fn error_kind(d: &Diagnostics) -> u64 {
    let msg = d.0.first().map_or("", |d| d.message.as_str());
    let mut kind = String::new();
    let mut quoted = false;
    for c in msg.chars() {
        if c == '`' {
            quoted = !quoted;
        } else if !quoted && !c.is_ascii_digit() {
            kind.push(c);
        }
    }
    hash(kind)
}

/// `.sil` text: parse, verify what parses, and check that the printed form parses again and
/// verifies the same way.
pub fn parse(input: &[u8]) -> u64 {
    let src = String::from_utf8_lossy(input);
    match bytecode::parse(&src, "fuzz") {
        Err(d) => error_kind(&d),
        Ok(m) => {
            let verdict = bytecode::verify(&m);
            let printed = bytecode::print(&m);
            let again = match bytecode::parse(&printed, "fuzz") {
                Ok(again) => again,
                Err(d) => panic!("printed module does not parse: {d:?}\n{printed}"),
            };
            assert_eq!(
                verdict.is_ok(),
                bytecode::verify(&again).is_ok(),
                "printing changed the verifier's verdict:\n{printed}"
            );
            match verdict {
                Ok(()) => hash(("ok", m.funcs.len().min(8), m.data.len().min(4))),
                Err(d) => error_kind(&d) ^ 1,
            }
        }
    }
}

/// `.silc` bytes: decode; what decodes re-encodes deterministically to bytes that decode to the
/// same module.
pub fn decode(input: &[u8]) -> u64 {
    match bytecode::decode(input) {
        Err(e) => {
            let text = e.to_string();
            let kind: String = text.chars().filter(|c| !c.is_ascii_digit()).collect();
            hash(kind)
        }
        Ok(m) => {
            let bytes = bytecode::encode(&m);
            let back = bytecode::decode(&bytes).expect("re-encoded module decodes");
            assert_eq!(
                bytecode::encode(&back),
                bytes,
                "encoding is not deterministic"
            );
            let v = bytecode::verify(&m);
            hash(("ok", v.is_ok(), m.funcs.len().min(8)))
        }
    }
}

/// A generated module, mutated structurally (instructions moved between functions, indices and
/// types changed, label positions and memory sizes scrambled), given to the verifier; what still
/// verifies must prepare on the interpreter.
pub fn verify(input: &[u8]) -> u64 {
    let mut u = Unstructured::new(input);
    let Ok(seed) = u.arbitrary::<u64>() else {
        return 0;
    };
    let mut m = program::generate(seed % 1_000_000);
    let n = u.int_in_range(1..=8u8).unwrap_or(1);
    let mut kinds = Vec::new();
    for _ in 0..n {
        kinds.push(mutate(&mut m, &mut u));
    }
    match bytecode::verify(&m) {
        Err(d) => error_kind(&d),
        Ok(()) => {
            let inst = jit::Instance::new(
                jit::Config::new()
                    .engine(jit::EngineKind::Interp)
                    .capture_output(),
                m,
                jit::Linker::new(),
            );
            hash(("ok", kinds, inst.is_ok()))
        }
    }
}

/// A generated module, with structural mutations kept only while it still verifies, compiled by
/// the JIT (every function, eagerly) and by the AOT backend: compiled, or refused with an error.
pub fn codegen(input: &[u8]) -> u64 {
    let mut u = Unstructured::new(input);
    let Ok(seed) = u.arbitrary::<u64>() else {
        return 0;
    };
    let opt = u.int_in_range(0..=2u8).unwrap_or(2);
    let mut m = program::generate(seed % 1_000_000);
    let n = u.int_in_range(0..=6u8).unwrap_or(0);
    let mut kinds = Vec::new();
    for _ in 0..n {
        let mut cand = m.clone();
        let k = mutate(&mut cand, &mut u);
        if bytecode::verify(&cand).is_ok() {
            m = cand;
            kinds.push(k);
        }
    }
    let jit_ok = jit::Instance::new(
        jit::Config::new()
            .eager(true)
            .opt_level(opt)
            .capture_output(),
        m.clone(),
        jit::Linker::new(),
    )
    .is_ok();
    let aot_ok = aot::Target::host()
        .and_then(|t| t.isa(opt))
        .and_then(|isa| aot::compile(&m, isa, aot::ObjectKind::Library, aot::Listings::default()))
        .is_ok();
    hash((kinds, jit_ok, aot_ok))
}

/// One structural mutation of `m`, chosen by `u`; returns which kind it was.
fn mutate(m: &mut Module, u: &mut Unstructured) -> u8 {
    let kind = u.int_in_range(0..=9u8).unwrap_or(0);
    let nf = m.funcs.len();
    if nf == 0 {
        return kind;
    }
    let pick = |u: &mut Unstructured, n: usize| -> usize {
        if n == 0 {
            0
        } else {
            u.choose_index(n).unwrap_or(0)
        }
    };
    let f = pick(u, nf);
    let g = pick(u, nf);
    let ty = *u.choose(&Type::ALL).unwrap_or(&Type::I64);
    match kind {
        // An instruction of function g copied into f (its indices mean other things there).
        0 => {
            if let Some(inst) = m.funcs[g].body.get(pick(u, m.funcs[g].body.len())).cloned() {
                let len = m.funcs[f].body.len();
                let at = pick(u, len + 1).min(len);
                m.funcs[f].body.insert(at, inst);
            }
        }
        1 => {
            let n = m.funcs[f].regs.len();
            if n > 0 {
                let r = pick(u, n);
                m.funcs[f].regs[r].ty = ty;
            }
        }
        2 => {
            let n = m.funcs[f].labels.len();
            if n > 0 {
                let l = pick(u, n);
                m.funcs[f].labels[l].pos = u.arbitrary().unwrap_or(u32::MAX);
            }
        }
        3 => {
            let n = m.funcs[f].body.len();
            if n > 0 {
                m.funcs[f].body.remove(pick(u, n));
            }
        }
        4 => {
            m.funcs[f].ret = if u.arbitrary().unwrap_or(false) {
                Some(ty)
            } else {
                None
            }
        }
        5 => m.funcs[f].num_params = u.int_in_range(0..=12u32).unwrap_or(0),
        6 => {
            m.memory.min_pages = u.arbitrary::<u64>().unwrap_or(0) % 100_000;
            m.memory.max_pages = u.arbitrary::<u64>().unwrap_or(0) % 100_000;
        }
        7 => {
            if let Some(d) = m.data.first_mut() {
                d.offset = u.arbitrary().unwrap_or(-1);
            }
        }
        8 => {
            let body = m.funcs[g].body.clone();
            let labels = m.funcs[g].labels.clone();
            m.funcs[f].body = body;
            m.funcs[f].labels = labels;
        }
        _ => {
            // Retarget a call or a handle to another (possibly nonexistent) function.
            let n = m.funcs[f].body.len();
            if n > 0 {
                let at = pick(u, n);
                let to = bytecode::FuncId(u.int_in_range(0..=nf as u32 + 1).unwrap_or(0));
                match &mut m.funcs[f].body[at].inst {
                    Inst::Call {
                        callee: bytecode::Callee::Func(c),
                        ..
                    }
                    | Inst::Tail {
                        callee: bytecode::Callee::Func(c),
                        ..
                    } => *c = to,
                    Inst::Fref { func, .. } => *func = to,
                    _ => {}
                }
            }
        }
    }
    kind
}
