//! Number formatting for `print` (SPEC §3.5) into caller buffers, without allocation.

use core::fmt::Write;

/// Bytes in a [`FmtBuf`]. The longest outputs are about 330 bytes: `-f64::MAX` with 17 decimals
/// (1 + 309 + 1 + 17 = 328) and negative subnormals written out in full (`-0.` + 324 digits);
/// the rest is headroom.
pub const FMT_BUF_LEN: usize = 384;

/// A buffer big enough for every f64 and sil output of this module.
pub type FmtBuf = [u8; FMT_BUF_LEN];

/// A buffer big enough for any i64 (`-9223372036854775808` is 20 bytes).
pub type IntBuf = [u8; 24];

/// A buffer big enough for any ByteSil (`sil(-8,15)` is 10 bytes).
pub type SilBuf = [u8; 16];

/// Most decimals `print a, P` accepts; larger requests are clamped to it.
pub const MAX_PRECISION: u32 = 17;

/// A `core::fmt::Write` over a byte slice that reports an error instead of overrunning it.
struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Cursor { buf, len: 0 }
    }

    fn into_written(self) -> &'a [u8] {
        let buf: &'a [u8] = self.buf;
        buf.get(..self.len).unwrap_or_default()
    }
}

impl Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        // zip instead of copy_from_slice: same lengths by construction, and no panic path.
        for (d, b) in dst.iter_mut().zip(s.as_bytes()) {
            *d = *b;
        }
        self.len = end;
        Ok(())
    }
}

/// An i64 in decimal, e.g. `-42`.
pub fn format_i64(v: i64, buf: &mut IntBuf) -> &[u8] {
    // Digits are produced from the least significant end, so fill the buffer backwards.
    let mut n = v.unsigned_abs();
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        start = start.saturating_sub(1);
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        start = start.saturating_sub(1);
        if let Some(slot) = buf.get_mut(start) {
            *slot = b'-';
        }
    }
    let buf: &[u8] = buf;
    buf.get(start..).unwrap_or_default()
}

/// An f64 as the shortest decimal that reads back to the same value, never with an exponent
/// (`0.1`, `3`, `-0`, `1000000000000000000000`), or `NaN`, `inf`, `-inf`.
pub fn format_f64(v: f64, buf: &mut FmtBuf) -> &[u8] {
    let mut c = Cursor::new(buf);
    // core's Display for f64 is exactly this format (shortest round-trip digits, no exponent,
    // `-0` for negative zero, `NaN`/`inf`/`-inf`); the tests pin it down. The buffer is sized
    // for the longest output, so the write cannot fail.
    let _ = write!(c, "{v}");
    c.into_written()
}

/// An f64 with `prec` decimals as C's `%.Pf` (ties in the exact binary value go to even, the sign
/// of negative zero and of negatives rounding to zero is kept), but `NaN`, `inf`, `-inf` as in
/// [`format_f64`]. `prec` above 17 is treated as 17.
pub fn format_f64_prec(v: f64, prec: u32, buf: &mut FmtBuf) -> &[u8] {
    if !v.is_finite() {
        return format_f64(v, buf);
    }
    let prec = prec.min(MAX_PRECISION) as usize;
    let mut c = Cursor::new(buf);
    // core's `{:.P}` formats the exact binary value and rounds half to even, as glibc's printf
    // does in the default rounding mode; the tests compare the two on ties and random values.
    let _ = write!(c, "{v:.prec$}");
    c.into_written()
}

/// A ByteSil as `sil(RHO,THETA)` from the raw fields, e.g. `sil(-8,5)`.
pub fn format_sil(b: u8, buf: &mut SilBuf) -> &[u8] {
    let mut c = Cursor::new(buf);
    let _ = write!(c, "sil({},{})", crate::sil::rho(b), crate::sil::theta(b));
    c.into_written()
}

#[cfg(test)]
mod tests;
