//! Buffered program output (docs/reference/instructions.md#input-and-output): a fixed buffer flushed to a caller-supplied sink.

use crate::fmt::{self, FmtBuf, IntBuf, SilBuf};
use core::ffi::c_void;

/// Where flushed bytes go: called with the `user` pointer given to [`Output::new`] and a run of
/// bytes valid for the duration of the call. The JIT points it at a capture buffer, AOT code at
/// [`vsp_out_fd_sink`].
pub type Sink = extern "C" fn(user: *mut c_void, data: *const u8, len: usize);

/// Bytes buffered before the sink is called.
pub const OUTPUT_BUF_LEN: usize = 8192;

/// A program's output stream. Nothing reaches the sink until the buffer fills or [`flush`] is
/// called; engines flush when the program ends, traps or exits, and before `getc` blocks.
/// Dropping an `Output` does not flush, so that an engine decides exactly when bytes appear.
///
/// `#[repr(C)]` so compiled code and C can hold it by pointer; C initialises one with
/// [`vsp_out_init`] into [`OUTPUT_SIZE`] bytes aligned to [`OUTPUT_ALIGN`].
///
/// [`flush`]: Output::flush
#[repr(C)]
pub struct Output {
    sink: Sink,
    user: *mut c_void,
    /// Bytes of `buf` in use; always at most `OUTPUT_BUF_LEN`.
    len: usize,
    buf: [u8; OUTPUT_BUF_LEN],
}

/// `size_of::<Output>()`, for C code that allocates one.
pub const OUTPUT_SIZE: usize = core::mem::size_of::<Output>();
/// `align_of::<Output>()`, for C code that allocates one.
pub const OUTPUT_ALIGN: usize = core::mem::align_of::<Output>();

impl Output {
    /// An empty output that flushes into `sink(user, ..)`.
    pub const fn new(sink: Sink, user: *mut c_void) -> Self {
        Output {
            sink,
            user,
            len: 0,
            buf: [0; OUTPUT_BUF_LEN],
        }
    }

    /// The bytes written but not yet flushed.
    pub fn pending(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Appends raw bytes, flushing first if they do not fit; a run at least as large as the
    /// whole buffer goes straight to the sink (after what was buffered before it).
    pub fn write_bytes(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let free = OUTPUT_BUF_LEN.saturating_sub(self.len);
        if data.len() > free {
            self.flush();
        }
        if data.len() >= OUTPUT_BUF_LEN {
            (self.sink)(self.user, data.as_ptr(), data.len());
            return;
        }
        let end = self.len.saturating_add(data.len());
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            // zip instead of copy_from_slice: same lengths by construction, and no panic path.
            for (d, b) in dst.iter_mut().zip(data) {
                *d = *b;
            }
            self.len = end;
        }
    }

    /// Sends everything buffered to the sink.
    pub fn flush(&mut self) {
        if self.len > 0 {
            let len = self.len.min(OUTPUT_BUF_LEN);
            self.len = 0;
            (self.sink)(self.user, self.buf.as_ptr(), len);
        }
    }

    /// `print` / `println` of an i64.
    pub fn print_i64(&mut self, v: i64, newline: bool) {
        let mut buf: IntBuf = [0; 24];
        self.write_bytes(fmt::format_i64(v, &mut buf));
        self.end_line(newline);
    }

    /// `print` / `println` of an f64: shortest round-trip form, or `%.Pf` with a precision
    /// (clamped to 17).
    pub fn print_f64(&mut self, v: f64, precision: Option<u32>, newline: bool) {
        let mut buf: FmtBuf = [0; fmt::FMT_BUF_LEN];
        let text = match precision {
            Some(p) => fmt::format_f64_prec(v, p, &mut buf),
            None => fmt::format_f64(v, &mut buf),
        };
        self.write_bytes(text);
        self.end_line(newline);
    }

    /// `print` / `println` of a sil.
    pub fn print_sil(&mut self, b: u8, newline: bool) {
        let mut buf: SilBuf = [0; 16];
        self.write_bytes(fmt::format_sil(b, &mut buf));
        self.end_line(newline);
    }

    /// `println` without an operand.
    pub fn newline(&mut self) {
        self.put_byte(b'\n');
    }

    /// `putc`: writes the byte `v & 255`.
    pub fn putc(&mut self, v: i64) {
        self.put_byte((v & 255) as u8);
    }

    fn put_byte(&mut self, b: u8) {
        if self.len >= OUTPUT_BUF_LEN {
            self.flush();
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn end_line(&mut self, newline: bool) {
        if newline {
            self.newline();
        }
    }
}

// C ABI exports for compiled code. They all take the Output by pointer and do nothing for null.

/// Initialises an [`Output`] in place (for C code holding one in its own storage).
///
/// # Safety
/// `out` must be null or valid for writing [`OUTPUT_SIZE`] bytes and aligned to
/// [`OUTPUT_ALIGN`]; any Output previously there is overwritten without a flush.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_init(out: *mut Output, sink: Sink, user: *mut c_void) {
    if !out.is_null() {
        // SAFETY: non-null, and the caller guarantees it is valid and aligned for an Output;
        // `write` does not read or drop the old contents, so they may be uninitialised.
        unsafe { out.write(Output::new(sink, user)) };
    }
}

/// C ABI for [`Output::print_i64`]; `newline != 0` appends `\n`.
///
/// # Safety
/// `out` must be null or point to a live, initialised [`Output`] not otherwise borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_print_i64(out: *mut Output, v: i64, newline: u32) {
    // SAFETY: the caller guarantees the pointer is null or a live, unaliased Output.
    if let Some(out) = unsafe { out.as_mut() } {
        out.print_i64(v, newline != 0);
    }
}

/// C ABI for [`Output::print_f64`]; `precision < 0` means none (shortest form), above 17 is
/// clamped to 17; `newline != 0` appends `\n`.
///
/// # Safety
/// `out` must be null or point to a live, initialised [`Output`] not otherwise borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_print_f64(out: *mut Output, v: f64, precision: i32, newline: u32) {
    // SAFETY: the caller guarantees the pointer is null or a live, unaliased Output.
    if let Some(out) = unsafe { out.as_mut() } {
        out.print_f64(v, u32::try_from(precision).ok(), newline != 0);
    }
}

/// C ABI for [`Output::print_sil`]; `newline != 0` appends `\n`.
///
/// # Safety
/// `out` must be null or point to a live, initialised [`Output`] not otherwise borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_print_sil(out: *mut Output, b: u8, newline: u32) {
    // SAFETY: the caller guarantees the pointer is null or a live, unaliased Output.
    if let Some(out) = unsafe { out.as_mut() } {
        out.print_sil(b, newline != 0);
    }
}

/// C ABI for [`Output::newline`].
///
/// # Safety
/// `out` must be null or point to a live, initialised [`Output`] not otherwise borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_newline(out: *mut Output) {
    // SAFETY: the caller guarantees the pointer is null or a live, unaliased Output.
    if let Some(out) = unsafe { out.as_mut() } {
        out.newline();
    }
}

/// C ABI for [`Output::putc`].
///
/// # Safety
/// `out` must be null or point to a live, initialised [`Output`] not otherwise borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_putc(out: *mut Output, v: i64) {
    // SAFETY: the caller guarantees the pointer is null or a live, unaliased Output.
    if let Some(out) = unsafe { out.as_mut() } {
        out.putc(v);
    }
}

/// C ABI for [`Output::write_bytes`]; `len == 0` or a null `data` writes nothing.
///
/// # Safety
/// `out` must be null or point to a live, initialised [`Output`] not otherwise borrowed, and
/// `data` must be valid for reading `len` bytes (at most `isize::MAX`) that do not overlap it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_write(out: *mut Output, data: *const u8, len: usize) {
    if data.is_null() || len == 0 {
        return;
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes at `data` that the
    // Output (the only thing mutated below) does not overlap.
    let bytes = unsafe { core::slice::from_raw_parts(data, len) };
    // SAFETY: the caller guarantees the pointer is null or a live, unaliased Output.
    if let Some(out) = unsafe { out.as_mut() } {
        out.write_bytes(bytes);
    }
}

/// C ABI for [`Output::flush`].
///
/// # Safety
/// `out` must be null or point to a live, initialised [`Output`] not otherwise borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_out_flush(out: *mut Output) {
    // SAFETY: the caller guarantees the pointer is null or a live, unaliased Output.
    if let Some(out) = unsafe { out.as_mut() } {
        out.flush();
    }
}

unsafe extern "C" {
    /// POSIX `write(2)`.
    fn write(fd: core::ffi::c_int, buf: *const c_void, count: usize) -> isize;
}

#[cfg(target_os = "linux")]
unsafe extern "C" {
    /// glibc and musl both expose the thread's errno through this.
    fn __errno_location() -> *mut core::ffi::c_int;
}

/// Whether the last failed system call on this thread was interrupted by a signal.
fn interrupted() -> bool {
    #[cfg(target_os = "linux")]
    {
        const EINTR: core::ffi::c_int = 4;
        // SAFETY: __errno_location takes no arguments and returns this thread's errno slot,
        // which is always valid to read.
        unsafe { *__errno_location() == EINTR }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// A [`Sink`] that writes to the file descriptor `user as usize as c_int` (so `1` is stdout),
/// retrying short and interrupted writes. On any other error the rest of the bytes are dropped:
/// a program whose stdout is closed keeps running, as one writing with C stdio would.
#[unsafe(no_mangle)]
pub extern "C" fn vsp_out_fd_sink(user: *mut c_void, data: *const u8, len: usize) {
    let fd = user as usize as core::ffi::c_int;
    let mut data = data;
    let mut left = len;
    while left > 0 && !data.is_null() {
        // write(2) takes at most SSIZE_MAX bytes at once.
        let chunk = left.min(isize::MAX as usize);
        // SAFETY: the Output calling this passes `len` readable bytes at `data`; the pointer
        // arithmetic below stays inside that run. A bad pointer would make the kernel return
        // EFAULT rather than touch memory from this process's side.
        let n = unsafe { write(fd, data.cast(), chunk) };
        if n > 0 {
            let n = (n as usize).min(left);
            data = data.wrapping_add(n);
            left -= n;
        } else if n < 0 && interrupted() {
            continue;
        } else {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
