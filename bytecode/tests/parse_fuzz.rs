//! No input makes the parser or the verifier panic: arbitrary text, and the conformance and
//! negative corpora mutated line by line and character by character.

use proptest::prelude::*;
use std::path::PathBuf;

fn corpus() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let mut v = Vec::new();
    for dir in ["programs", "invalid"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "sil") {
                v.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    v.sort();
    v
}

/// Parses, and verifies what parses; any panic fails the property.
fn check(src: &str) {
    if let Ok(m) = bytecode::parse(src, "fuzz") {
        let _ = bytecode::verify(&m);
        let _ = bytecode::print(&m);
    }
}

/// Tokens that matter to the grammar, to splice into programs.
const SPLICE: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "->",
    "-",
    "+",
    ";",
    "'",
    "\"",
    "\\",
    "0x",
    "0b",
    "1e",
    "_",
    "sil(",
    "reg ",
    "func ",
    "export ",
    "extern func ",
    "data 0 ",
    "memory ",
    "max ",
    "call ",
    "calli ",
    "tail ",
    "switch ",
    "ret",
    "9223372036854775808",
    "-9223372036854775809",
    "0xFFFFFFFFFFFFFFFFF",
    "inf",
    "nan",
    "é",
    "\u{0}",
    "\t",
    "\n",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        check(&s);
    }

    #[test]
    fn arbitrary_lines_of_tokens_never_panic(lines in prop::collection::vec(prop::collection::vec(prop::sample::select(SPLICE), 0..12), 0..12)) {
        let src: String = lines.iter().map(|l| l.concat()).collect::<Vec<_>>().join("\n");
        check(&src);
    }

    #[test]
    fn mutated_corpus_programs_never_panic(which in 0usize..1000, edits in prop::collection::vec((0usize..10_000, prop::sample::select(SPLICE), 0u8..3), 1..6)) {
        let all = corpus();
        let mut src: Vec<char> = all[which % all.len()].chars().collect();
        for (at, tok, kind) in edits {
            let at = at % (src.len() + 1);
            match kind {
                0 => { src.splice(at..at, tok.chars()); }
                1 => { let end = (at + tok.len()).min(src.len()); src.drain(at..end); }
                _ => { let end = (at + tok.len()).min(src.len()); src.splice(at..end, tok.chars()); }
            }
        }
        check(&src.into_iter().collect::<String>());
    }
}

#[test]
fn every_truncation_of_every_corpus_file_is_handled() {
    for src in corpus() {
        let chars: Vec<(usize, char)> = src.char_indices().collect();
        for &(i, _) in chars.iter().step_by(7) {
            check(&src[..i]);
        }
    }
}
