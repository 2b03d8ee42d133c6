//! Cross-engine conformance: every program in `tests/programs/` runs on every engine and must
//! give the stdout bytes, exit status and trap written by hand in its `.out` file and directives.
//!
//! Directives at the top of a program: `; args: ...`, `; stdin: ...` (escapes `\n \t \\ \xHH`),
//! `; status: N`, `; trap: MESSAGE` (status 70). The engines are the rows of
//! `common::engines()`, shared with the documentation examples and the front end's programs.

use std::path::PathBuf;

mod common;
use common::{programs, run_on_every_engine};

#[test]
fn every_program_on_every_engine() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    std::fs::create_dir_all(&work).unwrap();
    let progs = programs();
    assert!(
        progs.len() >= 80,
        "only {} conformance programs",
        progs.len()
    );
    let (passed, failures) = run_on_every_engine(&progs, &work);
    eprintln!("conformance: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
