//! The negative corpus: every module in `tests/invalid/` must be rejected by `vsp check` with
//! status 65 and a diagnostic on the line its `; error: LINE: TEXT` header names — never a panic.

mod common;
use common::{sil_files, vsp};
use std::process::Command;

#[test]
fn every_invalid_module_is_rejected_at_its_line() {
    let files = sil_files("invalid");
    assert!(files.len() >= 30, "only {} invalid modules", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let src = std::fs::read_to_string(file).unwrap();
        let header = src
            .lines()
            .find_map(|l| l.trim().strip_prefix("; error:"))
            .map(str::trim);
        let Some((line, frag)) = header.and_then(|h| h.split_once(':')) else {
            failures.push(format!(
                "{}: no `; error: LINE: TEXT` header",
                file.display()
            ));
            continue;
        };
        let (line, frag) = (line.trim(), frag.trim());
        let out = Command::new(vsp()).arg("check").arg(file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or("");
        let want_prefix = format!("{}:{}:", file.display(), line);
        let status = out.status.code().unwrap_or(-1);
        if status != 65
            || !first.starts_with(&want_prefix)
            || !first.to_lowercase().contains(&frag.to_lowercase())
        {
            failures.push(format!(
                "{}: status {status}, first line {first:?}; expected status 65, `{want_prefix}` and {frag:?}",
                file.display()
            ));
        }
        if stderr.contains("panicked") {
            failures.push(format!("{}: vsp panicked", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_file_that_is_not_utf8_gets_line_column_and_caret() {
    // Kept out of tests/invalid/, whose files the parser's fuzz tests read as text.
    let file = common::root().join("tests/encoding/not_utf8.sil");
    let out = Command::new(vsp())
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = file.display();
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!("{name}:4:12: error: the file is not UTF-8 text (invalid byte 0xE9)").as_str()
        ),
        "{stderr}"
    );
    let rest: Vec<&str> = lines.collect();
    assert!(
        rest.iter().any(|l| l.ends_with("reg caf\u{FFFD}: i64")),
        "the line is not shown: {stderr}"
    );
    let caret = rest.iter().find(|l| l.contains('^')).expect("a caret line");
    // The caret sits under column 12 of the source line, whatever the gutter's width.
    let gutter = rest
        .iter()
        .find(|l| l.ends_with("reg caf\u{FFFD}: i64"))
        .and_then(|l| l.find("    reg"))
        .unwrap();
    assert_eq!(caret.find('^'), Some(gutter + 11), "{stderr}");
    assert_eq!(out.status.code(), Some(65));
}
