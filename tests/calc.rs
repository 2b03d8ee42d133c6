//! The calc front end (examples/calc): its sample programs compile to vsp and run on every engine, native executables included; its errors point at the source.

#[path = "../examples/calc/codegen.rs"]
mod codegen;
#[path = "../examples/calc/error.rs"]
mod error;
#[path = "../examples/calc/syntax.rs"]
mod syntax;

mod common;
use common::{root, run_on_every_engine};
use std::path::PathBuf;

fn compile(src: &str, name: &str) -> Result<bytecode::Module, error::CalcError> {
    codegen::compile(&syntax::parse(src)?, name)
}

#[test]
fn sample_programs_run_on_every_engine() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("calc");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let dir = root().join("examples/calc/programs");
    let mut calc_files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "calc"))
        .collect();
    calc_files.sort();
    assert!(
        calc_files.len() >= 5,
        "only {} sample programs",
        calc_files.len()
    );
    let mut programs = Vec::new();
    for file in &calc_files {
        let src = std::fs::read_to_string(file).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let module = compile(&src, &stem).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // The program's `// args:`-style directives become the corpus's `; args:` comments.
        let directives: String = src
            .lines()
            .filter_map(|l| l.trim().strip_prefix("//"))
            .map(str::trim)
            .filter(|l| {
                ["args:", "stdin:", "status:", "trap:"]
                    .iter()
                    .any(|d| l.starts_with(d))
            })
            .map(|l| format!("; {l}\n"))
            .collect();
        let sil = work.join(&stem).with_extension("sil");
        std::fs::write(&sil, directives + &bytecode::print(&module)).unwrap();
        std::fs::copy(file.with_extension("out"), sil.with_extension("out")).unwrap();
        programs.push(sil);
    }
    let (passed, failures) = run_on_every_engine(&programs, &work);
    eprintln!("calc: {passed} runs passed, {} failed", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn errors_name_the_line_and_column() {
    let cases = [
        (
            "fn main() {\n    print 1 +;\n}\n",
            "2:14: syntax error: expected an expression",
        ),
        (
            "fn main() {\n    let x = 1;\n    x = 2.5;\n}\n",
            "3:9: error: the variable must be `int`",
        ),
        (
            "fn main() {\n    print 1 + 2.0;\n}\n",
            "2:13: error: the operands are `int` and `float`",
        ),
        (
            "fn main() {\n    print y;\n}\n",
            "2:11: error: unknown variable `y`",
        ),
        (
            "fn f(n: int) -> int {\n    if n > 0 {\n        return 1;\n    }\n}\n",
            "1:1: error: `f` can reach its end",
        ),
        (
            "fn main() {\n    print g(1);\n}\n",
            "2:11: error: unknown function `g`",
        ),
        (
            "fn main() {\n    print sqrt(2);\n}\n",
            "2:16: error: this argument must be `float`",
        ),
        (
            "fn main() {\n    let x = 1 $ 2;\n}\n",
            "2:15: syntax error: unexpected character `$`",
        ),
    ];
    for (src, want) in cases {
        match compile(src, "t") {
            Ok(_) => panic!("compiled: {src}"),
            Err(e) => assert!(e.to_string().starts_with(want), "{e}\nwanted: {want}"),
        }
    }
}

#[test]
fn emitted_text_reads_back_and_names_registers_after_variables() {
    let src = std::fs::read_to_string(root().join("examples/calc/programs/fib.calc")).unwrap();
    let module = compile(&src, "fib").unwrap();
    let text = bytecode::print(&module);
    let back = bytecode::parse(&text, "fib").unwrap();
    bytecode::verify(&back).unwrap();
    assert!(text.contains("tail fib") || text.contains("call"), "{text}");
    assert!(text.contains("reg i: i64"), "{text}");
}

#[test]
fn the_tutorial_shows_what_calc_emits() {
    let doc = std::fs::read_to_string(root().join("docs/frontend-tutorial.md")).unwrap();
    let block = |fence: &str| -> String {
        let after = doc
            .split(fence)
            .nth(1)
            .unwrap_or_else(|| panic!("no {fence} block"));
        after
            .split("\n```")
            .next()
            .unwrap_or("")
            .trim_start_matches('\n')
            .to_string()
    };
    let calc = block("```calc\n");
    let shown = block("```sil\n");
    let module = compile(&calc, "squares").unwrap();
    assert_eq!(
        bytecode::print(&module).trim_end(),
        shown.trim_end(),
        "docs/frontend-tutorial.md is out of date"
    );
}

#[test]
fn variables_named_like_vsp_words_still_make_valid_text() {
    // `nan`, `inf` and the type names are reserved in .sil text, not in calc.
    let src = "fn f(nan: int) -> int {\n    let sil = nan + 1;\n    let sil = sil * 2;\n    return sil;\n}\n";
    let module = compile(src, "words").unwrap_or_else(|e| panic!("{e}"));
    let text = bytecode::print(&module);
    let back = bytecode::parse(&text, "words").unwrap_or_else(|e| panic!("{e}\n{text}"));
    bytecode::verify(&back).unwrap();
}
