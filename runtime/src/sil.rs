//! ByteSil: a complex number in one byte of log-polar form, with every operation of docs/reference/README.md#bytesil.

use crate::math;
use core::f64::consts::PI;

/// `sil(-8,0)`, the canonical zero. Every byte with rho = -8 also reads as zero.
pub const NULL: u8 = 0x00;
/// `sil(0,0)` = 1.
pub const ONE: u8 = 0x80;
/// `sil(0,4)` = i.
pub const I: u8 = 0x84;
/// `sil(0,8)` = -1.
pub const NEG_ONE: u8 = 0x88;
/// `sil(7,0)` = e^7, the largest magnitude.
pub const MAX: u8 = 0xF0;

/// The angle of one theta step. Dividing by 8 is exact, so this is the f64 nearest π/8, which is
/// what the spec requires every engine to use.
const PI_8: f64 = PI / 8.0;

const RHO_MIN: i64 = -8;
const RHO_MAX: i64 = 7;

/// The log-magnitude field, -8..=7.
pub fn rho(b: u8) -> i64 {
    i64::from(b >> 4) - 8
}

/// The angle field, 0..=15 (in steps of π/8).
pub fn theta(b: u8) -> i64 {
    i64::from(b & 15)
}

/// Packs fields: `rho` clamped to -8..=7, `theta` wrapped Euclidean mod 16 (`make(-8, 5) == 0x05`).
pub fn make(rho: i64, theta: i64) -> u8 {
    // clamp's `min <= max` assertion holds for these constants, so it cannot fire.
    let r = rho.clamp(RHO_MIN, RHO_MAX);
    let t = theta.rem_euclid(16);
    // Both fit a nibble after the clamp and wrap, so the casts are lossless.
    (((r - RHO_MIN) as u8) << 4) | (t as u8)
}

/// Whether the byte reads as zero (rho = -8, any theta).
pub fn is_null(b: u8) -> bool {
    rho(b) == RHO_MIN
}

/// `rho = clamp(ra + rb)`, `theta = wrap(ta + tb)`; NULL operands follow the formula.
pub fn mul(a: u8, b: u8) -> u8 {
    make(rho(a) + rho(b), theta(a) + theta(b))
}

/// `rho = clamp(ra - rb)`, `theta = wrap(ta - tb)`; NULL operands follow the formula.
pub fn div(a: u8, b: u8) -> u8 {
    make(rho(a) - rho(b), theta(a) - theta(b))
}

/// Complex sum, re-encoded with [`from_complex`]; NULL counts as zero.
pub fn add(a: u8, b: u8) -> u8 {
    let (ar, ai) = to_complex(a);
    let (br, bi) = to_complex(b);
    from_complex(ar + br, ai + bi)
}

/// Complex difference, re-encoded with [`from_complex`]; NULL counts as zero.
pub fn sub(a: u8, b: u8) -> u8 {
    let (ar, ai) = to_complex(a);
    let (br, bi) = to_complex(b);
    from_complex(ar - br, ai - bi)
}

/// Half a turn: `theta = wrap(ta + 8)`; a byte with rho = -8 comes back unchanged.
pub fn neg(a: u8) -> u8 {
    if is_null(a) {
        a
    } else {
        make(rho(a), theta(a) + 8)
    }
}

/// Bitwise complement of the byte.
pub fn not(a: u8) -> u8 {
    !a
}

/// Bitwise and of the bytes.
pub fn and(a: u8, b: u8) -> u8 {
    a & b
}

/// Bitwise or of the bytes.
pub fn or(a: u8, b: u8) -> u8 {
    a | b
}

/// Bitwise exclusive or of the bytes.
pub fn xor(a: u8, b: u8) -> u8 {
    a ^ b
}

/// `rho = clamp(ra * n)`, `theta = wrap(ta * n)`, exact for every i64 `n`.
pub fn pow(a: u8, n: i64) -> u8 {
    // Saturating is exact for the clamp: a saturated product is far outside -8..=7 on the same
    // side as the true one. For theta only n mod 16 matters, and 15 * 15 cannot overflow.
    let r = rho(a).saturating_mul(n);
    let t = theta(a) * n.rem_euclid(16);
    make(r, t)
}

/// `n = 0` gives ONE; else `rho = clamp(ra / n)`, `theta = wrap(ta / n)`, truncating division.
pub fn root(a: u8, n: i64) -> u8 {
    // checked_div is None only for n = 0 (the dividends are tiny, so never i64::MIN / -1).
    match (rho(a).checked_div(n), theta(a).checked_div(n)) {
        (Some(r), Some(t)) => make(r, t),
        _ => ONE,
    }
}

/// `rho = clamp(ra + k)`, `theta = ta`.
pub fn scale(a: u8, k: i64) -> u8 {
    make(rho(a).saturating_add(k), theta(a))
}

/// `rho = ra`, `theta = wrap(ta + k)`.
pub fn rotate(a: u8, k: i64) -> u8 {
    // Reducing k first keeps the sum tiny; wrapping is modular, so the result is the same.
    make(rho(a), theta(a) + k.rem_euclid(16))
}

/// Reciprocal: `rho = clamp(-ra)`, `theta = wrap(-ta)` (so NULL gives `sil(7, -ta)`).
pub fn inv(a: u8) -> u8 {
    make(-rho(a), -theta(a))
}

/// Complex conjugate: `rho = ra`, `theta = wrap(-ta)`.
pub fn conj(a: u8) -> u8 {
    make(rho(a), -theta(a))
}

/// Magnitude as a ByteSil: `rho = ra`, `theta = 0`.
pub fn mag(a: u8) -> u8 {
    make(rho(a), 0)
}

/// Unit phase: `rho = 0`, `theta = ta` (NULL keeps its raw theta here).
pub fn phase(a: u8) -> u8 {
    make(0, theta(a))
}

/// `from_complex((1-t) * a + t * b)` with `t` clamped to 0..=1 and NaN taken as 0.
pub fn lerp(a: u8, b: u8, t: f64) -> u8 {
    // Written as comparisons so that NaN falls through to 0.
    let t = if t >= 0.0 {
        if t <= 1.0 { t } else { 1.0 }
    } else {
        0.0
    };
    let (ar, ai) = to_complex(a);
    let (br, bi) = to_complex(b);
    let s = 1.0 - t;
    from_complex(s * ar + t * br, s * ai + t * bi)
}

/// Real part: `e^rho cos(theta pi/8)`, 0 for NULL.
pub fn re(a: u8) -> f64 {
    if is_null(a) {
        0.0
    } else {
        math::exp(rho(a) as f64) * math::cos(angle(a))
    }
}

/// Imaginary part: `e^rho sin(theta pi/8)`, 0 for NULL.
pub fn im(a: u8) -> f64 {
    if is_null(a) {
        0.0
    } else {
        math::exp(rho(a) as f64) * math::sin(angle(a))
    }
}

/// Magnitude `e^rho`, 0 for NULL.
pub fn abs(a: u8) -> f64 {
    if is_null(a) {
        0.0
    } else {
        math::exp(rho(a) as f64)
    }
}

/// Angle `theta * pi/8` from the raw theta field, also for NULL bytes.
pub fn arg(a: u8) -> f64 {
    angle(a)
}

/// `theta * (pi/8)`, the spec's exact angle expression.
fn angle(a: u8) -> f64 {
    theta(a) as f64 * PI_8
}

/// Encodes a complex number: magnitude rounded in the log domain, angle to the nearest π/8,
/// both halves away from zero, exactly by the formulas of docs/reference/README.md#bytesil.
pub fn from_complex(re: f64, im: f64) -> u8 {
    let m = math::hypot(re, im);
    // NaN would slip through `m < e^-8` (the comparison is false), so it is tested first.
    if m.is_nan() || m < math::exp(RHO_MIN as f64) {
        return NULL;
    }
    // m >= e^-8 > 0, so ln m is finite or +inf: round it and clamp while still in f64 so that
    // +inf (from an infinite input) lands on 7 without any conversion surprises.
    let l = math::c_round(math::ln(m));
    let r = if l >= RHO_MAX as f64 {
        RHO_MAX
    } else if l <= RHO_MIN as f64 {
        return NULL;
    } else {
        l as i64
    };
    // atan2 lies in [-pi, pi], so the index is in [-8, 8]; a NaN angle (NaN input next to an
    // infinite one) gives theta 0, and `as` maps NaN to 0 as well, but say it explicitly.
    let q = math::c_round(math::atan2(im, re) / PI_8);
    let t = if q.is_nan() { 0 } else { q as i64 };
    make(r, t)
}

/// Decodes to `(re, im)`: `(0.0, 0.0)` for NULL.
pub fn to_complex(a: u8) -> (f64, f64) {
    (re(a), im(a))
}

// C ABI exports for compiled code: each forwards to the function above so that compiled and
// interpreted code share one implementation.

/// C ABI for [`rho`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_rho(a: u8) -> i64 {
    rho(a)
}

/// C ABI for [`theta`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_theta(a: u8) -> i64 {
    theta(a)
}

/// C ABI for [`make`] (the `sil.new` instruction).
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_make(rho: i64, theta: i64) -> u8 {
    make(rho, theta)
}

/// C ABI for [`mul`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_mul(a: u8, b: u8) -> u8 {
    mul(a, b)
}

/// C ABI for [`div`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_div(a: u8, b: u8) -> u8 {
    div(a, b)
}

/// C ABI for [`add`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_add(a: u8, b: u8) -> u8 {
    add(a, b)
}

/// C ABI for [`sub`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_sub(a: u8, b: u8) -> u8 {
    sub(a, b)
}

/// C ABI for [`neg`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_neg(a: u8) -> u8 {
    neg(a)
}

/// C ABI for [`not`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_not(a: u8) -> u8 {
    not(a)
}

/// C ABI for [`and`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_and(a: u8, b: u8) -> u8 {
    and(a, b)
}

/// C ABI for [`or`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_or(a: u8, b: u8) -> u8 {
    or(a, b)
}

/// C ABI for [`xor`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_xor(a: u8, b: u8) -> u8 {
    xor(a, b)
}

/// C ABI for [`pow`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_pow(a: u8, n: i64) -> u8 {
    pow(a, n)
}

/// C ABI for [`root`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_root(a: u8, n: i64) -> u8 {
    root(a, n)
}

/// C ABI for [`scale`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_scale(a: u8, k: i64) -> u8 {
    scale(a, k)
}

/// C ABI for [`rotate`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_rotate(a: u8, k: i64) -> u8 {
    rotate(a, k)
}

/// C ABI for [`inv`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_inv(a: u8) -> u8 {
    inv(a)
}

/// C ABI for [`conj`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_conj(a: u8) -> u8 {
    conj(a)
}

/// C ABI for [`mag`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_mag(a: u8) -> u8 {
    mag(a)
}

/// C ABI for [`phase`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_phase(a: u8) -> u8 {
    phase(a)
}

/// C ABI for [`lerp`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_lerp(a: u8, b: u8, t: f64) -> u8 {
    lerp(a, b, t)
}

/// C ABI for [`re`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_re(a: u8) -> f64 {
    re(a)
}

/// C ABI for [`im`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_im(a: u8) -> f64 {
    im(a)
}

/// C ABI for [`abs`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_abs(a: u8) -> f64 {
    abs(a)
}

/// C ABI for [`arg`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_arg(a: u8) -> f64 {
    arg(a)
}

/// C ABI for [`from_complex`] (the `sil.from` instruction).
#[unsafe(no_mangle)]
pub extern "C" fn vsp_sil_from(re: f64, im: f64) -> u8 {
    from_complex(re, im)
}

/// C ABI for [`to_complex`]: stores the parts through the out-pointers; a null pointer skips
/// that part.
///
/// # Safety
/// Each of `re_out` and `im_out` must be null or valid for writing one `f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_sil_to_complex(a: u8, re_out: *mut f64, im_out: *mut f64) {
    let (r, i) = to_complex(a);
    // SAFETY: the caller guarantees each pointer is null or valid for one f64 write; `as_mut`
    // turns null into None, so only valid pointers are written.
    if let Some(p) = unsafe { re_out.as_mut() } {
        *p = r;
    }
    // SAFETY: as above, for the imaginary part.
    if let Some(p) = unsafe { im_out.as_mut() } {
        *p = i;
    }
}

#[cfg(test)]
mod tests;
