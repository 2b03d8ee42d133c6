//! Linking an executable: the module's object and the embedded runtime archive, through the target's C compiler.

use crate::AotError;
use crate::target::Target;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, AotError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "vsp-build-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        std::fs::create_dir_all(&dir).map_err(|err| AotError::Io {
            path: dir.display().to_string(),
            err,
        })?;
        Ok(Scratch(dir))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, AotError> {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).map_err(|err| AotError::Io {
            path: p.display().to_string(),
            err,
        })?;
        Ok(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Links `object` (an `ObjectKind::Executable` object for `target`) with the runtime into the
/// executable `out`. Needs only the target's C compiler: the runtime comes from inside `vsp`.
pub fn link_executable(object: &[u8], target: Target, out: &Path) -> Result<(), AotError> {
    link_executable_with(object, target, out, false)
}

/// `link_executable`, keeping debug information (the object's, from `compile_with_debug`)
/// when `debug` is set; otherwise it is stripped.
pub fn link_executable_with(
    object: &[u8],
    target: Target,
    out: &Path,
    debug: bool,
) -> Result<(), AotError> {
    let runtime = target.runtime_archive()?;
    let scratch = Scratch::new()?;
    let obj = scratch.write("module.o", object)?;
    let lib = scratch.write("libvsprt.a", runtime)?;
    let cc = target.c_compiler();
    let mut cmd = Command::new(&cc);
    cmd.arg("-o")
        .arg(out)
        .arg(&obj)
        .arg(&lib)
        .arg("-lm")
        // Drop unused runtime code, and (unless debugging) the runtime's debug info: backtraces
        // use the module's own name table, not debug info.
        .arg("-Wl,--gc-sections");
    if !debug {
        cmd.arg("-Wl,-S");
    }
    let output = cmd.output().map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            AotError::NoLinker {
                target: target.triple().to_string(),
                cc: cc.clone(),
                hint: target.c_compiler_hint(),
            }
        } else {
            AotError::Io {
                path: cc.clone(),
                err,
            }
        }
    })?;
    if !output.status.success() {
        return Err(AotError::LinkFailed {
            cc,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_string(),
        });
    }
    Ok(())
}
