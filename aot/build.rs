//! Builds the runtime archive (`aot/rtlib`, a `no_std` staticlib around `runtime`) for every supported target, so `vsp` can embed it.
//!
//! For each target whose Rust standard library is installed, runs a nested `cargo build` of
//! `rtlib` into `OUT_DIR`, then rewrites the resulting `.a` keeping only the runtime's own
//! object (the Rust `compiler_builtins` members are dropped: the C compiler's libgcc provides
//! the few such routines, and they would make the archive ten times larger). A target that is
//! not installed gets an empty file, and `vsp build --target` then says what is missing.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every target `vsp build` supports.
const TARGETS: [&str; 2] = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    for dir in [
        "rtlib/src",
        "rtlib/Cargo.toml",
        "src/rt",
        "../runtime/src",
        "../runtime/Cargo.toml",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(dir).display()
        );
    }
    println!("cargo:rerun-if-env-changed=VSP_SKIP_RUNTIME");
    watch_installed_targets();
    for target in TARGETS {
        let dest = out_dir.join(format!("libvsprt-{target}.a"));
        let built = if env::var_os("VSP_SKIP_RUNTIME").is_some() {
            Err("VSP_SKIP_RUNTIME is set".to_string())
        } else {
            build_runtime(&manifest_dir, &out_dir, target)
        };
        match built {
            Ok(archive) => std::fs::write(&dest, archive).expect("write the runtime archive"),
            Err(why) => {
                println!("cargo:warning=no vsp runtime for {target}: {why}");
                std::fs::write(&dest, b"").expect("write an empty runtime archive");
            }
        }
    }
}

/// Makes cargo rerun this script when a Rust target is added or removed, so that after
/// `rustup target add aarch64-unknown-linux-gnu` a plain rebuild of vsp picks the runtime up.
/// rustup records every installed component, targets included, in the toolchain's
/// `lib/rustlib/components`, rewriting it on each `target add` or `remove`; a toolchain not
/// managed by rustup has no such file, and then the `lib/rustlib` directory (which gains a
/// directory per target) stands in. A path that does not exist would make cargo rerun the
/// script on every build, so only an existing one is named.
fn watch_installed_targets() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(&rustc).args(["--print", "sysroot"]).output() else {
        return;
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let rustlib = sysroot.join("lib/rustlib");
    let components = rustlib.join("components");
    if components.is_file() {
        println!("cargo:rerun-if-changed={}", components.display());
    } else if rustlib.is_dir() {
        println!("cargo:rerun-if-changed={}", rustlib.display());
    }
}

/// Builds `rtlib` for `target` and returns the slimmed archive.
fn build_runtime(manifest_dir: &Path, out_dir: &Path, target: &str) -> Result<Vec<u8>, String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .map_err(|e| format!("cannot run {rustc}: {e}"))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&libdir.stdout).trim());
    let has_core = std::fs::read_dir(&libdir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
        })
        .unwrap_or(false);
    if !has_core {
        return Err(format!(
            "the Rust target is not installed (run `rustup target add {target}` and rebuild vsp)"
        ));
    }
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = out_dir.join("rtlib-target");
    let mut cmd = Command::new(&cargo);
    cmd.args([
        "build",
        "--release",
        "--offline",
        "--quiet",
        "--target",
        target,
    ])
    .arg("--manifest-path")
    .arg(manifest_dir.join("rtlib/Cargo.toml"))
    .arg("--target-dir")
    .arg(&target_dir);
    // The nested build is its own workspace with its own profile: nothing of the outer build's
    // configuration (target dir, flags, wrappers such as clippy's) may leak into it.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let keep = key == "CARGO_HOME" || key == "CARGO_MAKEFLAGS";
        if (key.starts_with("CARGO_") && !keep)
            || matches!(
                &*key,
                "RUSTFLAGS" | "RUSTDOCFLAGS" | "RUSTC_WORKSPACE_WRAPPER" | "TARGET" | "HOST"
            )
        {
            cmd.env_remove(&*key);
        }
    }
    cmd.env("RUSTC", &rustc);
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !status.success() {
        return Err(format!("building the runtime failed ({status})"));
    }
    let built = target_dir.join(target).join("release/libvsprt.a");
    let bytes = std::fs::read(&built).map_err(|e| format!("{}: {e}", built.display()))?;
    slim_archive(&bytes)
}

/// Keeps the archive members of the `vsprt` crate itself and writes a new GNU archive with a
/// symbol index.
fn slim_archive(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let members = read_archive(bytes)?;
    let kept: Vec<(String, &[u8])> = members
        .into_iter()
        .filter(|(name, _)| name.starts_with("vsprt-") && name.ends_with(".o"))
        .collect();
    if kept.is_empty() {
        return Err("the runtime archive has no vsprt object".into());
    }
    let mut symbols: Vec<Vec<(String, usize)>> = Vec::new();
    for (i, (_, data)) in kept.iter().enumerate() {
        symbols.push(
            elf_global_symbols(data)?
                .into_iter()
                .map(|s| (s, i))
                .collect(),
        );
    }
    write_archive(&kept, &symbols.concat())
}

/// The members of a GNU `ar` archive (name, contents), special members skipped.
fn read_archive(b: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    let bad = || "malformed runtime archive".to_string();
    if !b.starts_with(b"!<arch>\n") {
        return Err(bad());
    }
    let mut pos = 8;
    let mut long_names: &[u8] = &[];
    let mut out = Vec::new();
    while pos + 60 <= b.len() {
        let hdr = &b[pos..pos + 60];
        let name = String::from_utf8_lossy(&hdr[..16]).trim_end().to_string();
        let size: usize = String::from_utf8_lossy(&hdr[48..58])
            .trim()
            .parse()
            .map_err(|_| bad())?;
        let data = b.get(pos + 60..pos + 60 + size).ok_or_else(bad)?;
        pos += 60 + size + (size & 1);
        if name == "/" || name == "/SYM64/" {
            continue;
        }
        if name == "//" {
            long_names = data;
            continue;
        }
        let full = if let Some(off) = name.strip_prefix('/') {
            let off: usize = off.parse().map_err(|_| bad())?;
            let rest = long_names.get(off..).ok_or_else(bad)?;
            let end = rest
                .iter()
                .position(|&c| c == b'\n' || c == 0)
                .unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end])
                .trim_end_matches('/')
                .to_string()
        } else {
            name.trim_end_matches('/').to_string()
        };
        out.push((full, data));
    }
    Ok(out)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?) as usize)
}

/// Names of the global and weak symbols an ELF64 little-endian object defines.
fn elf_global_symbols(o: &[u8]) -> Result<Vec<String>, String> {
    let bad = || "the runtime object is not a little-endian ELF64 file".to_string();
    if !o.starts_with(b"\x7fELF\x02\x01") {
        return Err(bad());
    }
    let shoff = u64_at(o, 0x28).ok_or_else(bad)?;
    let shentsize = u16_at(o, 0x3a).ok_or_else(bad)? as usize;
    let shnum = u16_at(o, 0x3c).ok_or_else(bad)? as usize;
    let section = |i: usize| shoff + i * shentsize;
    let mut names = Vec::new();
    for i in 0..shnum {
        let sh = section(i);
        if u32_at(o, sh + 4).ok_or_else(bad)? != 2 {
            continue; // not SHT_SYMTAB
        }
        let (off, size, link) = (
            u64_at(o, sh + 0x18).ok_or_else(bad)?,
            u64_at(o, sh + 0x20).ok_or_else(bad)?,
            u32_at(o, sh + 0x28).ok_or_else(bad)? as usize,
        );
        let strtab = u64_at(o, section(link) + 0x18).ok_or_else(bad)?;
        for s in (off..off + size).step_by(24) {
            let name = u32_at(o, s).ok_or_else(bad)? as usize;
            let info = *o.get(s + 4).ok_or_else(bad)?;
            let shndx = u16_at(o, s + 6).ok_or_else(bad)?;
            let bind = info >> 4;
            if (bind == 1 || bind == 2) && shndx != 0 {
                let rest = o.get(strtab + name..).ok_or_else(bad)?;
                let end = rest.iter().position(|&c| c == 0).ok_or_else(bad)?;
                names.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            }
        }
    }
    Ok(names)
}

/// A GNU archive: the `/` symbol index, then members named `vsprt0.o`, `vsprt1.o`, ...
fn write_archive(
    members: &[(String, &[u8])],
    symbols: &[(String, usize)],
) -> Result<Vec<u8>, String> {
    fn header(out: &mut Vec<u8>, name: &str, size: usize) {
        out.extend_from_slice(
            format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 644).as_bytes(),
        );
    }
    let index_size =
        4 + 4 * symbols.len() + symbols.iter().map(|(s, _)| s.len() + 1).sum::<usize>();
    let mut offsets = Vec::new();
    let mut at = 8 + 60 + index_size + (index_size & 1);
    for (_, data) in members {
        offsets.push(at);
        at += 60 + data.len() + (data.len() & 1);
    }
    let mut out = b"!<arch>\n".to_vec();
    header(&mut out, "/", index_size);
    let count = u32::try_from(symbols.len()).map_err(|_| "too many symbols".to_string())?;
    out.extend_from_slice(&count.to_be_bytes());
    for (_, m) in symbols {
        let off = u32::try_from(offsets[*m]).map_err(|_| "archive too large".to_string())?;
        out.extend_from_slice(&off.to_be_bytes());
    }
    for (s, _) in symbols {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    if index_size & 1 == 1 {
        out.push(b'\n');
    }
    for (i, (_, data)) in members.iter().enumerate() {
        header(&mut out, &format!("vsprt{i}.o/"), data.len());
        out.extend_from_slice(data);
        if data.len() & 1 == 1 {
            out.push(b'\n');
        }
    }
    Ok(out)
}
