//! The differential runner in bounded form: a few hundred generated programs on every engine
//! must agree (the long run is `vsp-fuzz diff --seconds 3600`). Also checks the generator and
//! the minimiser themselves.

use std::process::{Command, Stdio};
use std::time::Duration;
use vsp_fuzz::diff::{self, Engine};
use vsp_fuzz::{minimize::minimize, program, runner};

/// Programs the CI run compares (each on five engines, one of them a linked executable).
const CI_PROGRAMS: u64 = 300;

fn have_cc() -> bool {
    let have = Command::new("cc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        have || !ci,
        "CI=true but `cc` is missing: the aot engine must run in CI"
    );
    have
}

#[test]
fn engines_agree_on_generated_programs() {
    let out = std::env::temp_dir().join(format!("vsp-diff-findings-{}", std::process::id()));
    let mut o = runner::DiffOptions::new(out.clone());
    if !have_cc() {
        o.engines.retain(|e| !matches!(e, Engine::Aot { .. }));
    }
    o.count = CI_PROGRAMS;
    o.time = Duration::from_secs(600);
    // A different slice of seeds each day, so CI keeps exploring; the seed is in the message.
    o.start = std::env::var("VSP_DIFF_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let days = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() / 86_400);
            days * CI_PROGRAMS
        });
    let s = runner::run(&o);
    assert_eq!(s.programs, CI_PROGRAMS);
    let mut msg = String::new();
    for (seed, path) in &s.findings {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        msg.push_str(&format!("seed {seed} ({}):\n{text}\n", path.display()));
    }
    assert!(s.findings.is_empty(), "engines disagree:\n{msg}");
    // The generated programs do reach the interesting endings.
    assert!(
        s.endings.keys().any(|k| k.starts_with("trap:")),
        "{:?}",
        s.endings
    );
    assert!(s.endings.contains_key("status 0"), "{:?}", s.endings);
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn generator_is_deterministic_and_valid() {
    for seed in 0..200 {
        let a = program::generate(seed);
        let b = program::generate(seed);
        assert_eq!(bytecode::print(&a), bytecode::print(&b), "seed {seed}");
        bytecode::verify(&a).unwrap();
        // The printed form is a valid `.sil` program too (reproducers are written that way).
        let text = bytecode::print(&a);
        let back = bytecode::parse(&text, "fuzz").unwrap();
        bytecode::verify(&back).unwrap();
    }
}

#[test]
fn minimiser_keeps_the_failure_and_shrinks() {
    // "Fails" while the program still prints something on the interpreter.
    let prints = |m: &bytecode::Module| {
        let work = std::env::temp_dir();
        matches!(Engine::Interp.run(m, &work, Duration::from_secs(10)),
            Ok(o) if !o.stdout.is_empty())
    };
    let m = (0..)
        .map(program::generate)
        .find(|m| prints(m) && m.funcs.iter().map(|f| f.body.len()).sum::<usize>() > 60)
        .unwrap();
    let before: usize = m.funcs.iter().map(|f| f.body.len()).sum();
    let small = minimize(&m, prints, 500);
    let after: usize = small.funcs.iter().map(|f| f.body.len()).sum();
    assert!(prints(&small));
    bytecode::verify(&small).unwrap();
    assert!(after < before / 2, "{before} -> {after}");
}

#[test]
fn a_difference_is_reported() {
    // Two runs of different programs stand in for two engines that disagree.
    let work = std::env::temp_dir();
    let a = Engine::Interp.run(&program::generate(1), &work, Duration::from_secs(10));
    let b = Engine::Interp.run(&program::generate(2), &work, Duration::from_secs(10));
    let r = diff::Report {
        results: vec![(Engine::Interp, a), (Engine::Jit { opt: 2 }, b)],
    };
    assert!(r.differs());
    assert_eq!(r.disagreeing().len(), 2);
}
