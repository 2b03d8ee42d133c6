//! Unit tests of the AOT crate: argument parsing against `vsp run`'s, the embedded runtime archives, and objects for every target.

use crate::rt::args::parse_arg;
use crate::*;
use bytecode::Type;
use proptest::prelude::*;

/// What `vsp run` makes of `text` for a parameter of type `ty` (its `main_args`).
fn reference(text: &str, ty: Type) -> Option<u64> {
    bytecode::parse_literal(text).ok()?.to_slot(ty)
}

fn agree(text: &str) {
    for (ty, is_f64) in [(Type::I64, false), (Type::F64, true)] {
        let want = reference(text, ty);
        let got = parse_arg(text.as_bytes(), is_f64).ok();
        assert_eq!(got, want, "{text:?} as {ty}");
    }
}

#[test]
fn arguments_read_like_vsp_run() {
    for text in [
        "0",
        "42",
        "-7",
        "0x2A",
        "0X2a",
        "-0x2A",
        "0b101",
        "0B11",
        "1_000_000",
        "1__0",
        "_1",
        "1_",
        "0x_1",
        "0x1_",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "0xFFFFFFFFFFFFFFFF",
        "0x10000000000000000",
        "-0x8000000000000000",
        "-0xFFFFFFFFFFFFFFFF",
        "0b",
        "0x",
        "12abc",
        "1.5",
        "-2.0e-3",
        "1e9",
        "1E9",
        "1e+9",
        "1e-9",
        "1.",
        ".5",
        "1.5e",
        "1e5e5",
        "1_0.5",
        "inf",
        "-inf",
        "INF",
        "nan",
        "-nan",
        "NaN",
        "infinity",
        "inf.",
        "'A'",
        "'\\n'",
        "'\\''",
        "'\\x41'",
        "'\\x4'",
        "'ab'",
        "''",
        "'",
        "-'A'",
        "'é'",
        "';'",
        "5 ; comment",
        "5;",
        "  5  ",
        "- 5",
        "--5",
        "->5",
        "5 6",
        "sil(1, 2)",
        "sil",
        "-sil(1,2)",
        "\"5\"",
        "",
        " ",
        "x",
        "_",
        "9007199254740993",
        "9007199254740992",
        "-9007199254740992",
        "1e400",
        "-1e400",
        "4.9e-324",
        "1e-400",
        "0x1e5",
        "0x1.5",
        "0x1e-5",
        "1e-5x",
        "1.5.5",
        "\t7\t",
        "5\u{a0}",
        "٣",
        "0b2",
        "0o7",
        "00",
        "007",
        "1e",
        "1e+",
        "+5",
    ] {
        agree(text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arguments_agree_on_random_text(text in "[-+ 0-9a-fA-FxXbBeE._';infaNsil()\\\\]{0,12}") {
        agree(&text);
    }

    #[test]
    fn arguments_agree_on_numbers(v in any::<i64>(), f in any::<f64>()) {
        agree(&v.to_string());
        agree(&format!("{v:#x}"));
        agree(&format!("{f}"));
        agree(&format!("{f:e}"));
    }
}

#[test]
fn argument_errors_say_why() {
    use crate::rt::args::ArgError;
    assert_eq!(parse_arg(b"\xff", false), Err(ArgError::NotALiteral));
    assert_eq!(parse_arg(b"2.5", false), Err(ArgError::FloatForInt));
    assert_eq!(
        parse_arg(b"2.5", false).unwrap_err().message(),
        "expected an integer, found a float"
    );
    assert_eq!(parse_arg(b"12abc", false), Err(ArgError::InvalidNumber));
    assert_eq!(
        parse_arg(b"9223372036854775808", false),
        Err(ArgError::OutOfRange)
    );
    assert_eq!(
        parse_arg(b"9007199254740993", true),
        Err(ArgError::WrongType)
    );
    assert_eq!(parse_arg(b"sil(0,0)", true), Err(ArgError::WrongType));
}

/// The global symbols an archive's index lists.
fn archive_symbols(a: &[u8]) -> Vec<String> {
    assert!(a.starts_with(b"!<arch>\n/ "), "no symbol index first");
    let size: usize = std::str::from_utf8(&a[8 + 48..8 + 58])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let index = &a[68..68 + size];
    let count = u32::from_be_bytes(index[..4].try_into().unwrap()) as usize;
    index[4 + 4 * count..]
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .take(count)
        .collect()
}

/// Every `vsp_*` symbol the objects of the conformance corpus (and `SAMPLE`) import.
fn imported_runtime_symbols(t: Target) -> std::collections::BTreeSet<String> {
    use cranelift_object::object::{Object, ObjectSymbol};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs");
    let mut sources: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "sil"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect()
        })
        .unwrap_or_default();
    sources.push(SAMPLE.to_string());
    let mut names = std::collections::BTreeSet::new();
    for src in sources {
        let Ok(bc) = bytecode::parse(&src, "m") else {
            continue;
        };
        if bytecode::verify(&bc).is_err() {
            continue;
        }
        for kind in [ObjectKind::Library, ObjectKind::Executable] {
            if kind == ObjectKind::Executable && bc.find_func("main").is_none() {
                continue;
            }
            let c = compile(&bc, t.isa(2).unwrap(), kind, Listings::default()).unwrap();
            let file = cranelift_object::object::File::parse(&*c.object).unwrap();
            for sym in file.symbols().filter(|s| s.is_undefined()) {
                let name = sym.name().unwrap();
                if name.starts_with("vsp_") {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

#[test]
fn runtime_archives_define_what_objects_import() {
    let mut checked = 0;
    for t in Target::ALL {
        let Ok(a) = t.runtime_archive() else {
            eprintln!("no runtime archive for {t} in this build; skipped");
            continue;
        };
        let syms = archive_symbols(a);
        let imported = imported_runtime_symbols(t);
        assert!(imported.len() > 20, "{t}: only {imported:?}");
        for name in imported
            .iter()
            .map(String::as_str)
            .chain(["vsp_set_trap_handler", "vsp_flush"])
        {
            assert!(
                syms.iter().any(|s| s == name),
                "{t}: archive lacks `{name}`"
            );
        }
        assert!(
            !syms.iter().any(|s| s == "main"),
            "{t}: the archive must not define `main`"
        );
        assert!(
            a.len() < 1 << 20,
            "{t}: runtime archive is {} bytes",
            a.len()
        );
        checked += 1;
    }
    assert!(checked >= 1, "no runtime archive at all");
}

const SAMPLE: &str = r#"
module sample
memory 1 max 4
data 0 "hello\n"
extern func host_add(a: i64, b: i64) -> i64

export func add(a: i64, b: i64) -> i64 {
    reg r: i64
    call r, host_add(a, b)
    ret r
}

export func scale(x: f64, s: sil) -> sil {
    reg r: sil
    sil.scale r, s, 1
    ret r
}

func loop(n: i64) -> i64 {
    blt n, 1, done
    sub n, n, 1
    tail loop(n)
done:
    ret n
}

func main(n: i64) -> i64 {
    reg h: i64, r: i64
    write 0, 6
    fref h, loop
    calli r, h(n) : (i64) -> i64
    ret r
}
"#;

#[test]
fn objects_for_every_target_and_level() {
    let bc = bytecode::parse(SAMPLE, "sample").unwrap();
    bytecode::verify(&bc).unwrap();
    for t in Target::ALL {
        for level in 0..=2 {
            for kind in [ObjectKind::Library, ObjectKind::Executable] {
                let c = compile(
                    &bc,
                    t.isa(level).unwrap(),
                    kind,
                    Listings {
                        clif: true,
                        asm: true,
                    },
                )
                .unwrap_or_else(|e| panic!("{t} -O{level} {kind:?}: {e}"));
                assert!(c.object.starts_with(b"\x7fELF"));
                assert!(c.clif.contains("; sample::loop"), "{}", c.clif);
                assert!(c.asm.contains("sample::main:"), "{}", c.asm);
                assert!(c.asm.contains(":  ; line "), "{}", c.asm);
            }
        }
    }
}

#[test]
fn executables_need_main_and_no_externs() {
    let bc = bytecode::parse(SAMPLE, "sample").unwrap();
    assert!(matches!(check_executable(&bc), Err(AotError::NeedsExtern(e)) if e == "host_add"));
    let lib = bytecode::parse("export func f() -> i64 {\n ret 1\n}\n", "lib").unwrap();
    assert!(matches!(check_executable(&lib), Err(AotError::NoMain)));
    let isa = Target::X86_64.isa(2).unwrap();
    assert!(matches!(
        compile(&lib, isa, ObjectKind::Executable, Listings::default()),
        Err(AotError::NoMain)
    ));
}

#[test]
fn headers_declare_the_c_interface() {
    let bc = bytecode::parse(SAMPLE, "sample").unwrap();
    let h = header(&bc);
    for want in [
        "int64_t add(int64_t a, int64_t b);",
        "uint8_t scale(double x, uint8_t s);",
        "int64_t host_add(int64_t a, int64_t b);",
        "uint8_t *sample_memory(void);",
        "size_t sample_memory_size(void);",
        "int sample__vsp_main(int argc, char **argv);",
        "void vsp_set_trap_handler(void (*handler)(int code, const char *msg));",
        "#define VSP_TRAP_INTEGER_DIVIDE_BY_ZERO 1",
    ] {
        assert!(h.contains(want), "header lacks {want:?}:\n{h}");
    }
    assert!(
        !h.contains("loop("),
        "internal functions are not declared:\n{h}"
    );
}
