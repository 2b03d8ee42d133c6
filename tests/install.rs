//! `vsp` is one self-contained binary (docs/reference/command-line.md): installed into an empty prefix, it builds an executable in an empty directory with nothing but the system C compiler. Slow (a release build), so it runs only with `CI=true` or `VSP_SLOW_TESTS=1`.

use std::path::PathBuf;
use std::process::Command;

mod common;

#[test]
fn installed_vsp_builds_executables_without_the_source_tree() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let slow = std::env::var("VSP_SLOW_TESTS").is_ok_and(|v| v == "1");
    if !ci && !slow {
        eprintln!(
            "skipped: `cargo install` rebuilds vsp in release mode; set VSP_SLOW_TESTS=1 (or CI=true) to run it"
        );
        return;
    }
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("install");
    let _ = std::fs::remove_dir_all(tmp.join("prefix"));
    let _ = std::fs::remove_dir_all(tmp.join("empty"));
    let prefix = tmp.join("prefix");
    let empty = tmp.join("empty");
    std::fs::create_dir_all(&empty).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["install", "--locked", "--offline", "--path"])
        .arg(common::root())
        .arg("--root")
        .arg(&prefix)
        .arg("--target-dir")
        .arg(tmp.join("target"))
        .output()
        .expect("run cargo install");
    assert!(
        out.status.success(),
        "cargo install failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vsp = prefix.join("bin/vsp");
    assert!(vsp.is_file(), "no {}", vsp.display());
    // The installed binary says what it can build for; this machine is always among them.
    let version = Command::new(&vsp).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    assert!(
        version
            .lines()
            .any(|l| l.starts_with("target ") && l.contains(": yes, this machine")),
        "{version}"
    );

    std::fs::copy(
        common::root().join("examples/fib.sil"),
        empty.join("fib.sil"),
    )
    .unwrap();
    let out = Command::new(&vsp)
        .args(["build", "fib.sil"])
        .current_dir(&empty)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vsp build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(empty.join("fib")).arg("20").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "6765\n");
    assert_eq!(out.status.code(), Some(0));

    // The runtime archive comes out of the binary too.
    let out = Command::new(&vsp)
        .args([
            "build",
            "fib.sil",
            "--emit",
            "obj,header,runtime",
            "-o",
            "fib",
        ])
        .current_dir(&empty)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["fib.o", "fib.h", "fib.a"] {
        assert!(empty.join(f).is_file(), "no {f}");
    }
}

/// After `rustup target add aarch64-unknown-linux-gnu`, rebuilding vsp must build the aarch64
/// runtime: the `aot` build script tells cargo to rerun when the toolchain's list of installed
/// components changes. This reads what the script told cargo in the build that made this test.
#[test]
fn runtime_build_script_reruns_when_a_target_is_installed() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc");
    let rustlib =
        PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim()).join("lib/rustlib");
    let components = rustlib.join("components");
    let watched = if components.is_file() {
        components
    } else {
        rustlib
    };
    // CARGO_TARGET_TMPDIR is `<target>/tmp`; the build scripts' outputs are under
    // `<target>/<profile>/build/aot-*/output`. The newest one belongs to this build.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut outputs: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for profile in std::fs::read_dir(&target).unwrap().flatten() {
        let Ok(builds) = std::fs::read_dir(profile.path().join("build")) else {
            continue;
        };
        for b in builds.flatten() {
            let output = b.path().join("output");
            if b.file_name().to_string_lossy().starts_with("aot-")
                && let Ok(m) = output.metadata()
            {
                outputs.push((m.modified().unwrap(), output));
            }
        }
    }
    outputs.sort();
    let (_, newest) = outputs.last().expect("the aot build script's output");
    let text = std::fs::read_to_string(newest).unwrap();
    let want = format!("cargo:rerun-if-changed={}", watched.display());
    assert!(
        text.lines().any(|l| l == want),
        "{} does not contain {want:?}:\n{text}",
        newest.display()
    );
}
