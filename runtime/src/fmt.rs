//! Number formatting for `print` (docs/reference/instructions.md) into caller buffers, without allocation.

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
/// (`0.1`, `3`, `-0`, `1000000000000000000000`), or `NaN`, `inf`, `-inf`. Where several
/// decimals of that length read back, the one closest to the exact binary value is printed, and
/// on a tie the one with an even last digit, as Python's `repr`, JavaScript and Ryu do
/// (`1e15 + 0.3`, which is exactly `...000.25`, prints `1000000000000000.2`).
pub fn format_f64(v: f64, buf: &mut FmtBuf) -> &[u8] {
    let mut c = Cursor::new(buf);
    if !v.is_finite() || v == 0.0 {
        // core's Display gives exactly `NaN`, `inf`, `-inf`, `0` and `-0`.
        let _ = write!(c, "{v}");
        return c.into_written();
    }
    let d = closest_shortest(v.abs());
    // The buffer is sized for the longest fixed form, so these writes cannot fail.
    if v.is_sign_negative() {
        let _ = c.write_str("-");
    }
    let _ = write_fixed(&mut c, &d);
    c.into_written()
}

/// A positive decimal `0.d1d2d3... * 10^(exp + 1)`: `digits[..len]` are its significant digits
/// (ASCII) and `exp` is the power of ten of the first one.
struct Decimal {
    digits: [u8; 17],
    len: usize,
    exp: i32,
}

/// Room for one f64 in scientific notation (`d.dddddddddddddddde-324` is 23 bytes).
type SciText = [u8; 32];

/// `v` (finite, positive) with `{:e}` or, given `digits`, `{:.Pe}` with `digits` significant
/// digits; returns the buffer and the length written.
fn scientific(v: f64, digits: Option<usize>) -> (SciText, usize) {
    let mut text = [0u8; 32];
    let mut c = Cursor::new(&mut text);
    let _ = match digits {
        None => write!(c, "{v:e}"),
        Some(n) => write!(c, "{:.*e}", n.saturating_sub(1), v),
    };
    let len = c.len;
    (text, len)
}

/// The shortest decimal that reads back to `v` (finite, positive) and, of those, the closest
/// to it, ties to an even last digit.
fn closest_shortest(v: f64) -> Decimal {
    // core's `{:e}` finds the shortest length that reads back, but among the decimals of that
    // length it may pick one that is not the closest. `{:.Pe}` rounds the exact binary value to
    // P + 1 digits, ties to even: the closest decimal of that length. It is the answer when it
    // reads back; otherwise (possible only next to a power of two, where the neighbours below
    // are closer than those above) no closer one of that length reads back, so core's stands.
    let (short, short_len) = scientific(v, None);
    let shortest = parse_scientific(short.get(..short_len).unwrap_or_default());
    let (near, near_len) = scientific(v, Some(shortest.len));
    let near = near.get(..near_len).unwrap_or_default();
    let reads_back = core::str::from_utf8(near)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .is_some_and(|back| back.to_bits() == v.to_bits());
    if reads_back {
        parse_scientific(near)
    } else {
        shortest
    }
}

/// Reads `d.ddde±x` (as core writes it) into a [`Decimal`]; digits beyond 17 are dropped.
fn parse_scientific(sci: &[u8]) -> Decimal {
    let mut d = Decimal {
        digits: [b'0'; 17],
        len: 0,
        exp: 0,
    };
    let e_at = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let (mantissa, exp) = sci.split_at(e_at);
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        if let Some(slot) = d.digits.get_mut(d.len) {
            *slot = b;
            d.len += 1;
        }
    }
    d.exp = core::str::from_utf8(exp.get(1..).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
        .unwrap_or(0);
    d
}

/// Writes `d` in positional notation: `123000`, `12.3`, `0.00123`.
fn write_fixed(c: &mut Cursor<'_>, d: &Decimal) -> core::fmt::Result {
    let digits = d.digits.get(..d.len).unwrap_or_default();
    let digits = core::str::from_utf8(digits).map_err(|_| core::fmt::Error)?;
    if d.exp < 0 {
        c.write_str("0.")?;
        for _ in 1..d.exp.unsigned_abs() {
            c.write_str("0")?;
        }
        return c.write_str(digits);
    }
    // Digits before the point: the first `exp + 1`, padded with zeros if there are fewer.
    let whole = usize::try_from(d.exp)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let (int_part, frac_part) = digits.split_at_checked(whole).unwrap_or((digits, ""));
    c.write_str(int_part)?;
    for _ in digits.len()..whole {
        c.write_str("0")?;
    }
    if !frac_part.is_empty() {
        c.write_str(".")?;
        c.write_str(frac_part)?;
    }
    Ok(())
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
