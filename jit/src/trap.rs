//! Traps as values: what went wrong and where, the same from every tier.

pub use runtime::TrapCode;
use std::fmt;

/// One frame of a trap's backtrace, innermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    pub func: String,
    /// `.sil` line of the instruction executing in this frame (0 when unknown).
    pub line: u32,
}

/// A trap: the program stopped at an error of `docs/reference/execution.md`. The engine stays usable afterwards.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Trap {
    pub code: TrapCode,
    /// At most `BACKTRACE_LEN` frames, innermost first (deep recursion would otherwise print
    /// a million lines); `omitted_frames` counts the outer ones left out.
    pub backtrace: Vec<FrameInfo>,
    pub omitted_frames: u64,
}

/// Frames a backtrace keeps, on every engine (the native VM context's own limit).
pub const BACKTRACE_LEN: usize = runtime::vmctx::BACKTRACE_LEN;

impl Trap {
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            backtrace: Vec::new(),
            omitted_frames: 0,
        }
    }

    pub fn message(&self) -> &'static str {
        self.code.message()
    }

    /// The backtrace as `vsp run` prints it, one `  at FUNC (line N)` line per frame.
    pub fn render_backtrace(&self) -> String {
        let mut s = String::new();
        for f in &self.backtrace {
            if f.line != 0 {
                s.push_str(&format!("  at {} (line {})\n", f.func, f.line));
            } else {
                s.push_str(&format!("  at {}\n", f.func));
            }
        }
        if self.omitted_frames > 0 {
            s.push_str(&format!("  ... {} more frames\n", self.omitted_frames));
        }
        s
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trap: {}", self.code.message())
    }
}
