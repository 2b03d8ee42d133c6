//! Every fuzz target, run briefly in CI: the seed corpus and a few thousand mutants must not
//! panic (the long run is `vsp-fuzz run all --seconds 3600`).

use std::time::Duration;
use vsp_fuzz::{harness, targets};

fn run(name: &str, inputs: u64) {
    let t = targets::find(name).unwrap();
    let crashes = std::env::temp_dir().join(format!("vsp-fuzz-crashes-{}", std::process::id()));
    let s = harness::fuzz(
        &t,
        &vsp_fuzz::repo_root(),
        Duration::from_secs(30),
        inputs,
        1,
        &crashes,
    );
    assert!(s.inputs > 0);
    let report: Vec<String> = s
        .crashes
        .iter()
        .map(|(m, f)| format!("{m} (input {})", f.display()))
        .collect();
    assert!(report.is_empty(), "{name} panicked:\n{}", report.join("\n"));
}

#[test]
fn parse_target() {
    run("parse", 5000);
}

#[test]
fn decode_target() {
    run("decode", 5000);
}

#[test]
fn verify_target() {
    run("verify", 1500);
}

#[test]
fn codegen_target() {
    run("codegen", 150);
}
