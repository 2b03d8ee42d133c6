//! vsp's own fuzzing: targets for the parser, decoder, verifier and codegen on a stable-Rust
//! harness, a generator of valid programs, and a runner that compares every engine on them.

pub mod diff;
pub mod harness;
pub mod minimize;
pub mod program;
pub mod rng;
pub mod rss;
pub mod runner;
pub mod targets;

/// FNV-1a of `bytes`: a stable name for a saved input.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The repository root (where `fuzz/corpus` and `tests/programs` are).
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
