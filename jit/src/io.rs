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
    /// What the sinks update (their `user` pointer).
    sink: Box<SinkState>,
    stdin: Box<dyn Read + Send>,
}

/// State behind a sink's `user` pointer.
#[derive(Default)]
struct SinkState {
    /// The capture buffer (capture mode only).
    captured: Vec<u8>,
    /// The last byte that reached the sink since the current call began, in either mode: lets
    /// a host that shares the terminal with the program (a REPL) know whether the call left a
    /// line unfinished.
    last: Option<u8>,
}

/// Recovers the sink state and the bytes of a sink call.
///
/// # Safety
/// `user` must be the `Box<SinkState>` owned by the same `Io` as the `Output` calling the sink
/// (`Io` keeps it alive and hands out no other reference while its Output is in use), and
/// `data`/`len` must be as `Output` passes them: `len` initialised bytes valid for the call.
unsafe fn sink_args<'a>(
    user: *mut c_void,
    data: *const u8,
    len: usize,
) -> (&'a mut SinkState, &'a [u8]) {
    // SAFETY: guaranteed by the caller, see above.
    unsafe {
        (
            &mut *(user as *mut SinkState),
            std::slice::from_raw_parts(data, len),
        )
    }
}

extern "C" fn stdout_sink(user: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: `Io::new` passes its own `SinkState` as `user`; `Output` passes its buffer.
    let (state, bytes) = unsafe { sink_args(user, data, len) };
    if let Some(&b) = bytes.last() {
        state.last = Some(b);
    }
    let mut so = std::io::stdout().lock();
    // A closed pipe is not the program's error: the bytes are dropped, as a C program's would be.
    let _ = so.write_all(bytes);
    let _ = so.flush();
}

extern "C" fn capture_sink(user: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: as in `stdout_sink`.
    let (state, bytes) = unsafe { sink_args(user, data, len) };
    if let Some(&b) = bytes.last() {
        state.last = Some(b);
    }
    state.captured.extend_from_slice(bytes);
}

impl Io {
    pub fn new(mode: OutputMode) -> Io {
        let mut sink = Box::<SinkState>::default();
        let user = (&mut *sink) as *mut SinkState as *mut c_void;
        let out = match mode {
            OutputMode::Stdout => Output::new(stdout_sink, user),
            OutputMode::Capture => Output::new(capture_sink, user),
        };
        Io {
            out: Box::new(out),
            sink,
            stdin: Box::new(std::io::stdin()),
        }
    }

    /// True when output flushed since the last `mark_line_start` ends in the middle of a line.
    pub(crate) fn line_open(&self) -> bool {
        !matches!(self.sink.last, None | Some(b'\n'))
    }

    /// Forgets the last byte written: `line_open` is false until something more is written.
    pub(crate) fn mark_line_start(&mut self) {
        self.sink.last = None;
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
        std::mem::take(&mut self.sink.captured)
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
