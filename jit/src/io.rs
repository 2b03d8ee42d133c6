//! A running program's input and output: the runtime's buffered `Output`, pointed at the
//! process's stdout or at a capture buffer, and a byte source for `getc`.

use runtime::Output;
use std::ffi::c_void;
use std::io::{Read, Write};

/// Where a program's output goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputMode {
    /// The process's standard output.
    #[default]
    Stdout,
    /// Kept in memory; read it with `Io::take_captured`.
    Capture,
}

/// Output and input of one instance.
pub struct Io {
    /// Boxed: compiled code and the sink hold pointers into it, so it must not move.
    out: Box<Output>,
    /// The capture buffer the capture sink appends to (its `user` pointer).
    captured: Box<Vec<u8>>,
    stdin: Box<dyn Read + Send>,
}

extern "C" fn stdout_sink(_user: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: `Output` calls its sink with a pointer to `len` initialised bytes of its own
    // buffer (or of the caller's slice), valid for the duration of this call.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    let mut so = std::io::stdout().lock();
    // A closed pipe is not the program's error: the bytes are dropped, as a C program's would be.
    let _ = so.write_all(bytes);
    let _ = so.flush();
}

extern "C" fn capture_sink(user: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: `user` is the `Box<Vec<u8>>` owned by the same `Io` as the `Output` calling us;
    // `Io` keeps both boxes alive and never hands out another reference to the Vec while its
    // Output is in use. `data`/`len` are as in `stdout_sink`.
    let (buf, bytes) = unsafe {
        (
            &mut *(user as *mut Vec<u8>),
            std::slice::from_raw_parts(data, len),
        )
    };
    buf.extend_from_slice(bytes);
}

impl Io {
    pub fn new(mode: OutputMode) -> Io {
        let mut captured = Box::new(Vec::new());
        let user = (&mut *captured) as *mut Vec<u8> as *mut c_void;
        let out = match mode {
            OutputMode::Stdout => Output::new(stdout_sink, std::ptr::null_mut()),
            OutputMode::Capture => Output::new(capture_sink, user),
        };
        Io {
            out: Box::new(out),
            captured,
            stdin: Box::new(std::io::stdin()),
        }
    }

    /// Replaces the byte source `getc` reads.
    pub fn set_stdin(&mut self, r: impl Read + Send + 'static) {
        self.stdin = Box::new(r);
    }

    pub fn out(&mut self) -> &mut Output {
        &mut self.out
    }

    /// The `Output` for compiled code, which calls the runtime's `vsp_out_*` helpers on it.
    pub fn out_ptr(&mut self) -> *mut Output {
        &mut *self.out
    }

    /// Flushes, then returns and clears everything captured so far (empty in `Stdout` mode).
    pub fn take_captured(&mut self) -> Vec<u8> {
        self.out.flush();
        std::mem::take(&mut *self.captured)
    }

    /// `getc`: flushes output first (a prompt must appear before input blocks), then reads one
    /// byte; -1 at end of input or on a read error.
    pub fn getc(&mut self) -> i64 {
        self.out.flush();
        let mut b = [0u8; 1];
        loop {
            match self.stdin.read(&mut b) {
                Ok(0) => return -1,
                Ok(_) => return b[0] as i64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return -1,
            }
        }
    }
}

/// `clock`: monotonic nanoseconds since an arbitrary fixed point.
pub fn clock_ns() -> i64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX)
}
