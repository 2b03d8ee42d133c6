//! The documentation's examples are real: every ```sil block in README.md and docs/ is extracted and run on every engine, with the output in the ```stdout block after it.
//!
//! A ```sil block is a whole module. It may start with the directives of the conformance corpus
//! (`; args: ...`, `; stdin: ...`, `; status: N`, `; trap: MESSAGE`); `; library` marks a module
//! without `main`, which is only checked. The ```stdout block right after it (blank lines
//! between are allowed) is its expected standard output; none means it prints nothing.
//! Fragments that are not whole modules go in ```text blocks.

mod common;
use common::{root, run_on_every_engine, vsp};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One fenced block of a markdown file.
struct Block {
    info: String,
    text: String,
    /// Line of the opening fence, 1-based.
    line: usize,
    /// Whether only blank lines separate it from the block before it.
    follows_previous: bool,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    let mut since_last_block_only_blank = false;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    text: String::new(),
                    line: i + 1,
                    follows_previous: since_last_block_only_blank,
                });
            }
            (Some(_), Some(_)) => {
                out.extend(open.take());
                since_last_block_only_blank = true;
            }
            (Some(b), None) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {
                if !line.trim().is_empty() {
                    since_last_block_only_blank = false;
                }
            }
        }
    }
    out
}

/// Every markdown file of the documentation: README.md and everything under docs/.
fn doc_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut v = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut v);
    v.sort();
    v
}

/// A runnable example: its source, where it came from, and its expected stdout.
struct Example {
    name: String,
    origin: String,
    source: String,
    stdout: String,
}

fn examples() -> Vec<Example> {
    let mut out = Vec::new();
    for file in doc_files() {
        let rel = file.strip_prefix(root()).unwrap().display().to_string();
        let md = std::fs::read_to_string(&file).unwrap();
        let bs = blocks(&md);
        for (i, b) in bs.iter().enumerate() {
            if b.info != "sil" {
                continue;
            }
            let stdout = bs
                .get(i + 1)
                .filter(|n| n.info == "stdout" && n.follows_previous)
                .map(|n| n.text.clone())
                .unwrap_or_default();
            let stem: String = rel
                .trim_end_matches(".md")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            out.push(Example {
                name: format!("{stem}_line{}", b.line),
                origin: format!("{rel}:{}", b.line),
                source: b.text.clone(),
                stdout,
            });
        }
    }
    out
}

#[test]
fn every_documented_program_runs_on_every_engine() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let mut programs = Vec::new();
    let mut failures = Vec::new();
    let all = examples();
    assert!(all.len() >= 20, "only {} documented programs", all.len());
    for ex in &all {
        let file = work.join(&ex.name).with_extension("sil");
        std::fs::write(&file, &ex.source).unwrap();
        let library = ex.source.lines().any(|l| l.trim() == "; library");
        if library {
            let out = Command::new(vsp())
                .arg("check")
                .arg(&file)
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "{}: vsp check failed:\n{}",
                    ex.origin,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            continue;
        }
        std::fs::write(file.with_extension("out"), &ex.stdout).unwrap();
        programs.push(file);
    }
    let (passed, run_failures) = run_on_every_engine(&programs, &work);
    // Name the documentation line, not the extracted file, in failures.
    for f in run_failures {
        let origin = all
            .iter()
            .find(|ex| f.contains(&format!("/{}.sil", ex.name)))
            .map_or("?", |ex| ex.origin.as_str());
        failures.push(format!("{origin}: {f}"));
    }
    eprintln!("docs: {passed} runs passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The mnemonics the parser knows, read from its table in `bytecode/src/mnemonic.rs`.
fn mnemonics() -> Vec<String> {
    let table = std::fs::read_to_string(root().join("bytecode/src/mnemonic.rs")).unwrap();
    let v: Vec<String> = table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("(\""))
        .filter_map(|l| l.split_once("\", S::"))
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(v.len() > 100, "the mnemonic table was not found");
    v
}

#[test]
fn the_reference_documents_every_instruction_with_a_running_example() {
    let reference = std::fs::read_to_string(root().join("docs/reference/instructions.md")).unwrap();
    let examples: String = examples()
        .into_iter()
        .filter(|e| e.origin.starts_with("docs/reference/"))
        .map(|e| e.source)
        .collect();
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .map(|w| w.to_ascii_lowercase())
            .collect()
    };
    let in_tables = words(&reference);
    let in_examples: Vec<String> = examples
        .lines()
        .map(|l| l.split(';').next().unwrap_or(""))
        .flat_map(words)
        .collect();
    let mut missing = Vec::new();
    for m in mnemonics() {
        if !in_tables.contains(&m) {
            missing.push(format!(
                "`{m}` is not described in docs/reference/instructions.md"
            ));
        }
        if !in_examples.contains(&m) {
            missing.push(format!("`{m}` is used by no example in docs/reference/"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn docs_refer_only_to_files_in_the_repository() {
    let mut problems = Vec::new();
    for file in doc_files() {
        let md = std::fs::read_to_string(&file).unwrap();
        let rel = file.strip_prefix(root()).unwrap().display().to_string();
        let dir = file.parent().unwrap();
        for (n, line) in md.lines().enumerate() {
            if line.contains("SPEC") || line.contains("../shared") {
                problems.push(format!(
                    "{rel}:{}: refers to a file outside the repository: {line}",
                    n + 1
                ));
            }
            // Markdown links to local files must resolve from the linking file.
            for part in line.split("](").skip(1) {
                let target = part.split([')', '#']).next().unwrap_or("");
                if target.is_empty() || target.contains("://") {
                    continue;
                }
                if !dir.join(target).exists() {
                    problems.push(format!("{rel}:{}: broken link `{target}`", n + 1));
                }
            }
            // Paths in backticks that name a documentation file must exist from the root.
            for (k, part) in line.split('`').enumerate() {
                if k % 2 == 1
                    && part.ends_with(".md")
                    && !part.contains(' ')
                    && !root().join(part).exists()
                    && !dir.join(part).exists()
                {
                    problems.push(format!("{rel}:{}: `{part}` does not exist", n + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
