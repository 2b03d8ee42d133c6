//! Targets `vsp build` supports: parsing triples, the Cranelift ISA for each, the embedded runtime archive and the C compiler that links for it.

use crate::AotError;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;
use target_lexicon::{Architecture, Triple};

/// The runtime archives built by `build.rs` (empty when that target was not installed).
static RUNTIME_X86_64: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/libvsprt-x86_64-unknown-linux-gnu.a"
));
static RUNTIME_AARCH64: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/libvsprt-aarch64-unknown-linux-gnu.a"
));

/// A supported target architecture (always Linux with the GNU C library).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    X86_64,
    Aarch64,
}

impl Target {
    /// Every supported target.
    pub const ALL: [Target; 2] = [Target::X86_64, Target::Aarch64];

    /// The canonical triple.
    pub fn triple(self) -> &'static str {
        match self {
            Target::X86_64 => "x86_64-unknown-linux-gnu",
            Target::Aarch64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// The target `vsp` itself runs on.
    pub fn host() -> Result<Target, AotError> {
        Target::from_architecture(target_lexicon::HOST.architecture)
            .ok_or_else(|| AotError::UnsupportedTarget(target_lexicon::HOST.to_string()))
    }

    fn from_architecture(a: Architecture) -> Option<Target> {
        match a {
            Architecture::X86_64 => Some(Target::X86_64),
            Architecture::Aarch64(_) => Some(Target::Aarch64),
            _ => None,
        }
    }

    /// Parses `x86_64-unknown-linux-gnu`, `aarch64-linux-gnu`, `x86_64`, `aarch64`, `arm64`, ...
    /// Only Linux with the GNU C library is supported.
    pub fn parse(text: &str) -> Result<Target, AotError> {
        let unsupported = || AotError::UnsupportedTarget(text.to_string());
        match text {
            "x86_64" | "x86-64" | "amd64" => return Ok(Target::X86_64),
            "aarch64" | "arm64" => return Ok(Target::Aarch64),
            _ => {}
        }
        let t = Triple::from_str(text).map_err(|_| unsupported())?;
        let linux = t.operating_system == target_lexicon::OperatingSystem::Linux;
        let gnu = matches!(
            t.environment,
            target_lexicon::Environment::Gnu | target_lexicon::Environment::Unknown
        );
        match Target::from_architecture(t.architecture) {
            Some(target) if linux && gnu => Ok(target),
            _ => Err(unsupported()),
        }
    }

    /// The Cranelift ISA for code linked into position-independent executables and shared
    /// objects. Baseline features only, so the code runs on every CPU of the architecture.
    pub fn isa(self, opt_level: u8) -> Result<OwnedTargetIsa, AotError> {
        self.isa_with(opt_level, false)
    }

    /// `isa`, and with `debug` computing each function's call frame information (for the
    /// `.debug_frame` of `compile_with_debug`; it changes no code).
    pub fn isa_with(self, opt_level: u8, debug: bool) -> Result<OwnedTargetIsa, AotError> {
        let isa_err = |message: String| AotError::Isa {
            target: self.triple().to_string(),
            message,
        };
        let mut flags = settings::builder();
        let level = match opt_level {
            0 => "none",
            1 => "speed",
            _ => "speed_and_size",
        };
        let verifier = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        // -O0 is for compiling fast: Cranelift's single-pass register allocator, unless `-g`
        // asks for variables, which it tracks less well.
        let regalloc = if opt_level == 0 && !debug {
            "single_pass"
        } else {
            "backtracking"
        };
        for (name, value) in [
            ("opt_level", level),
            ("regalloc_algorithm", regalloc),
            // Objects end up in PIE executables (the default of today's C compilers).
            ("is_pic", "true"),
            // x64 `return_call` relies on frame pointers; they also let profilers walk stacks.
            ("preserve_frame_pointers", "true"),
            // Traps unwind by return, never natively; cranelift-object's `.eh_frame` would also
            // need absolute FDE pointers that do not link into a PIE. Debuggers get the same
            // information as `.debug_frame` (`-g`), which nothing links against.
            ("unwind_info", if debug { "true" } else { "false" }),
            ("enable_verifier", verifier),
            // Block offsets and edges, to place small loops (`codegen::placement`).
            ("machine_code_cfg_info", "true"),
        ] {
            flags
                .set(name, value)
                .map_err(|e| isa_err(format!("{name}={value}: {e}")))?;
        }
        let triple = Triple::from_str(self.triple()).map_err(|e| isa_err(e.to_string()))?;
        cranelift_codegen::isa::lookup(triple)
            .map_err(|e| isa_err(e.to_string()))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| isa_err(e.to_string()))
    }

    /// The runtime archive for this target, embedded in `vsp` when it was built.
    pub fn runtime_archive(self) -> Result<&'static [u8], AotError> {
        let bytes = match self {
            Target::X86_64 => RUNTIME_X86_64,
            Target::Aarch64 => RUNTIME_AARCH64,
        };
        if bytes.is_empty() {
            return Err(AotError::NoRuntime {
                target: self.triple().to_string(),
            });
        }
        Ok(bytes)
    }

    /// The C compiler that links for this target: `$VSP_CC` if set, `cc` for the host's own
    /// architecture, else the Debian-style cross compiler (`aarch64-linux-gnu-gcc`).
    pub fn c_compiler(self) -> String {
        if let Some(cc) = std::env::var_os("VSP_CC").filter(|s| !s.is_empty()) {
            return cc.to_string_lossy().into_owned();
        }
        if Target::host().ok() == Some(self) {
            return "cc".to_string();
        }
        match self {
            Target::X86_64 => "x86_64-linux-gnu-gcc".to_string(),
            Target::Aarch64 => "aarch64-linux-gnu-gcc".to_string(),
        }
    }

    /// How to get the C compiler for this target, for error messages.
    pub(crate) fn c_compiler_hint(self) -> String {
        if Target::host().ok() == Some(self) {
            "install a C compiler (Debian/Ubuntu: `apt-get install gcc`) or set VSP_CC".to_string()
        } else {
            let pkg = match self {
                Target::X86_64 => "gcc-x86-64-linux-gnu",
                Target::Aarch64 => "gcc-aarch64-linux-gnu",
            };
            format!(
                "install the cross compiler (Debian/Ubuntu: `apt-get install {pkg}`) or set VSP_CC to a C compiler for {}",
                self.triple()
            )
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.triple())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triples() {
        for (text, want) in [
            ("x86_64-unknown-linux-gnu", Target::X86_64),
            ("x86_64-linux-gnu", Target::X86_64),
            ("x86_64", Target::X86_64),
            ("aarch64-unknown-linux-gnu", Target::Aarch64),
            ("aarch64-linux-gnu", Target::Aarch64),
            ("arm64", Target::Aarch64),
        ] {
            assert_eq!(Target::parse(text).unwrap(), want, "{text}");
        }
        for bad in [
            "riscv64gc-unknown-linux-gnu",
            "x86_64-pc-windows-msvc",
            "aarch64-apple-darwin",
            "x86_64-unknown-linux-musl",
            "nonsense",
            "",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(AotError::UnsupportedTarget(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn isas_exist_for_every_target() {
        for t in Target::ALL {
            for level in 0..=2 {
                let isa = t.isa(level).unwrap();
                assert_eq!(isa.triple().to_string(), t.triple());
            }
        }
    }
}
