//! The README's tour program is real: it is extracted, checked and run on every engine.

mod common;
use std::process::Command;

#[test]
fn readme_tour_runs() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let tour = readme
        .split("## A tour of the text format")
        .nth(1)
        .expect("tour section");
    let code = tour.split("```").nth(1).expect("code block");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("tour.sil");
    std::fs::write(&file, code).unwrap();
    for engine in ["interp", "jit"] {
        let out = Command::new(common::vsp())
            .args(["run", "--engine", engine])
            .arg(&file)
            .arg("10")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello\n9.00\n",
            "{engine}"
        );
        assert_eq!(out.status.code(), Some(0));
    }
}
