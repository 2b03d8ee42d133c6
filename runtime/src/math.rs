//! f64 helpers with the exact semantics docs/reference/instructions.md gives the float instructions, shared by every engine.

use crate::libm;

/// Sine (libm `sin`).
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}

/// Cosine (libm `cos`).
pub fn cos(x: f64) -> f64 {
    libm::cos(x)
}

/// Tangent (libm `tan`).
pub fn tan(x: f64) -> f64 {
    libm::tan(x)
}

/// Arc sine (libm `asin`).
pub fn asin(x: f64) -> f64 {
    libm::asin(x)
}

/// Arc cosine (libm `acos`).
pub fn acos(x: f64) -> f64 {
    libm::acos(x)
}

/// Arc tangent (libm `atan`).
pub fn atan(x: f64) -> f64 {
    libm::atan(x)
}

/// e^x (libm `exp`).
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// Natural logarithm (libm `log`).
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// Base-10 logarithm (libm `log10`).
pub fn log10(x: f64) -> f64 {
    libm::log10(x)
}

/// Angle of the point (x, y) (libm `atan2`; note the argument order y, x).
pub fn atan2(y: f64, x: f64) -> f64 {
    libm::atan2(y, x)
}

/// x^y (libm `pow`).
pub fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// sqrt(x² + y²) without intermediate overflow (libm `hypot`).
pub fn hypot(x: f64, y: f64) -> f64 {
    libm::hypot(x, y)
}

/// Remainder with the sign of the dividend (libm `fmod`; the f64 `rem` instruction).
pub fn fmod(x: f64, y: f64) -> f64 {
    libm::fmod(x, y)
}

/// The `round` instruction: to nearest, ties to even. NaN and infinities pass through; the sign
/// of zero is kept (`-0.4` gives `-0.0`), as C's `roundeven` does.
pub fn round_half_even(x: f64) -> f64 {
    // From 2^52 up every f64 is an integer. Below it, |x| + 2^52 lands in [2^52, 2^53) where the
    // spacing is exactly 1, so the addition itself rounds |x| to an integer under the default
    // ties-to-even mode, and subtracting 2^52 again is exact. This needs no libm (`rint` would
    // depend on the current rounding mode) and no `core` rounding method (there is none in core).
    const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
    let a = x.abs();
    // NaN, infinities and everything from 2^52 up are already integral (or not numbers).
    if a.is_nan() || a >= TWO_POW_52 {
        return x;
    }
    ((a + TWO_POW_52) - TWO_POW_52).copysign(x)
}

/// C `round`: to nearest, halves away from zero. ByteSil's `from_complex` rounds with this.
pub fn c_round(x: f64) -> f64 {
    libm::round(x)
}

/// The `f2i` instruction: truncate toward zero, saturating at the i64 range; NaN gives 0.
pub fn f2i(x: f64) -> i64 {
    // Rust's float-to-int `as` is defined to be exactly this (saturating, NaN -> 0).
    x as i64
}

/// The f64 `min` instruction: NaN if either operand is NaN, and -0.0 counts as below +0.0.
pub fn f64_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        // Adding propagates one of the NaNs (payload bits are allowed to differ per engine).
        a + b
    } else if a < b {
        a
    } else if b < a {
        b
    } else if a.is_sign_negative() {
        // Equal, so either both are the same number or they are +0.0 and -0.0.
        a
    } else {
        b
    }
}

/// The f64 `max` instruction: NaN if either operand is NaN, and +0.0 counts as above -0.0.
pub fn f64_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        a + b
    } else if a > b {
        a
    } else if b > a {
        b
    } else if a.is_sign_positive() {
        a
    } else {
        b
    }
}

// C ABI exports for compiled code: each forwards to the function above so that compiled and
// interpreted code share one implementation.

/// C ABI for [`sin`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_sin(x: f64) -> f64 {
    sin(x)
}

/// C ABI for [`cos`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_cos(x: f64) -> f64 {
    cos(x)
}

/// C ABI for [`tan`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_tan(x: f64) -> f64 {
    tan(x)
}

/// C ABI for [`asin`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_asin(x: f64) -> f64 {
    asin(x)
}

/// C ABI for [`acos`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_acos(x: f64) -> f64 {
    acos(x)
}

/// C ABI for [`atan`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_atan(x: f64) -> f64 {
    atan(x)
}

/// C ABI for [`exp`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_exp(x: f64) -> f64 {
    exp(x)
}

/// C ABI for [`ln`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_ln(x: f64) -> f64 {
    ln(x)
}

/// C ABI for [`log10`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_log10(x: f64) -> f64 {
    log10(x)
}

/// C ABI for [`atan2`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_atan2(y: f64, x: f64) -> f64 {
    atan2(y, x)
}

/// C ABI for [`pow`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_pow(x: f64, y: f64) -> f64 {
    pow(x, y)
}

/// C ABI for [`hypot`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_hypot(x: f64, y: f64) -> f64 {
    hypot(x, y)
}

/// C ABI for [`fmod`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_fmod(x: f64, y: f64) -> f64 {
    fmod(x, y)
}

/// C ABI for [`round_half_even`] (the `round` instruction).
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_round_half_even(x: f64) -> f64 {
    round_half_even(x)
}

/// C ABI for [`c_round`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_c_round(x: f64) -> f64 {
    c_round(x)
}

/// C ABI for [`f2i`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_f2i(x: f64) -> i64 {
    f2i(x)
}

/// C ABI for [`f64_min`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_min(a: f64, b: f64) -> f64 {
    f64_min(a, b)
}

/// C ABI for [`f64_max`].
#[unsafe(no_mangle)]
pub extern "C" fn vsp_f64_max(a: f64, b: f64) -> f64 {
    f64_max(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator so the tests need no crates.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    #[test]
    fn round_half_even_edges() {
        let cases = [
            (0.5, 0.0),
            (1.5, 2.0),
            (2.5, 2.0),
            (-0.5, -0.0),
            (-1.5, -2.0),
            (-2.5, -2.0),
            (0.49999999999999994, 0.0),
            (-0.4, -0.0),
            (-0.0, -0.0),
            (0.0, 0.0),
            (4503599627370495.5, 4503599627370496.0),
            (4503599627370497.0, 4503599627370497.0),
            (1e300, 1e300),
            (f64::INFINITY, f64::INFINITY),
            (f64::NEG_INFINITY, f64::NEG_INFINITY),
            (5e-324, 0.0),
        ];
        for (x, want) in cases {
            assert!(
                same(round_half_even(x), want),
                "{x} -> {}",
                round_half_even(x)
            );
        }
        assert!(round_half_even(f64::NAN).is_nan());
    }

    #[test]
    fn round_half_even_matches_std() {
        let mut s = 1;
        for _ in 0..200_000 {
            let bits = splitmix(&mut s);
            // Half random bit patterns, half values with small exponents where ties live.
            let x = if bits & 1 == 0 {
                f64::from_bits(bits)
            } else {
                (bits >> 12) as f64 / 1024.0 * if bits & 2 == 0 { 1.0 } else { -1.0 }
            };
            assert!(same(round_half_even(x), x.round_ties_even()), "{x:e}");
            assert!(same(c_round(x), x.round()), "{x:e}");
        }
    }

    #[test]
    fn c_round_is_half_away_from_zero() {
        assert_eq!(c_round(0.5), 1.0);
        assert_eq!(c_round(-0.5), -1.0);
        assert_eq!(c_round(2.5), 3.0);
        assert_eq!(c_round(0.49999999999999994), 0.0);
    }

    #[test]
    fn f2i_saturates() {
        assert_eq!(f2i(f64::NAN), 0);
        assert_eq!(f2i(-f64::NAN), 0);
        assert_eq!(f2i(f64::INFINITY), i64::MAX);
        assert_eq!(f2i(f64::NEG_INFINITY), i64::MIN);
        assert_eq!(f2i(1e300), i64::MAX);
        assert_eq!(f2i(-1e300), i64::MIN);
        assert_eq!(f2i(2f64.powi(63)), i64::MAX); // 2^63
        assert_eq!(f2i(-9223372036854775808.0), i64::MIN);
        assert_eq!(f2i(-2.9), -2);
        assert_eq!(f2i(2.9), 2);
        assert_eq!(f2i(-0.0), 0);
        assert_eq!(vsp_f64_f2i(-1.5), -1);
    }

    #[test]
    fn min_max_nan_and_signed_zero() {
        assert!(f64_min(f64::NAN, 1.0).is_nan());
        assert!(f64_min(1.0, f64::NAN).is_nan());
        assert!(f64_max(f64::NAN, 1.0).is_nan());
        assert!(f64_max(1.0, f64::NAN).is_nan());
        assert!(same(f64_min(0.0, -0.0), -0.0));
        assert!(same(f64_min(-0.0, 0.0), -0.0));
        assert!(same(f64_max(0.0, -0.0), 0.0));
        assert!(same(f64_max(-0.0, 0.0), 0.0));
        assert_eq!(f64_min(1.0, 2.0), 1.0);
        assert_eq!(f64_max(1.0, 2.0), 2.0);
        assert_eq!(f64_min(f64::NEG_INFINITY, 2.0), f64::NEG_INFINITY);
        assert_eq!(f64_max(f64::NEG_INFINITY, f64::INFINITY), f64::INFINITY);
        assert_eq!(vsp_f64_min(3.0, -3.0), -3.0);
        assert_eq!(vsp_f64_max(3.0, -3.0), 3.0);
    }

    #[test]
    fn libm_wrappers_match_std() {
        // std's methods call the same glibc functions on Linux, so they must agree bit for bit.
        let mut s = 7;
        for _ in 0..20_000 {
            let x = (splitmix(&mut s) >> 11) as f64 / (1u64 << 50) as f64 - 4.0;
            let y = (splitmix(&mut s) >> 11) as f64 / (1u64 << 50) as f64 - 4.0;
            assert!(same(vsp_f64_sin(x), x.sin()));
            assert!(same(vsp_f64_cos(x), x.cos()));
            assert!(same(vsp_f64_tan(x), x.tan()));
            assert!(same(vsp_f64_asin(x / 8.0), (x / 8.0).asin()));
            assert!(same(vsp_f64_acos(x / 8.0), (x / 8.0).acos()));
            assert!(same(vsp_f64_atan(x), x.atan()));
            assert!(same(vsp_f64_exp(x), x.exp()));
            assert!(same(vsp_f64_ln(x.abs()), x.abs().ln()));
            assert!(same(vsp_f64_log10(x.abs()), x.abs().log10()));
            assert!(same(vsp_f64_atan2(y, x), y.atan2(x)));
            assert!(same(vsp_f64_pow(x.abs(), y), x.abs().powf(y)));
            assert!(same(vsp_f64_hypot(x, y), x.hypot(y)));
            assert!(same(vsp_f64_fmod(x, y), x % y));
            assert!(same(vsp_f64_round_half_even(x), x.round_ties_even()));
            assert!(same(vsp_f64_c_round(x), x.round()));
        }
        assert!(ln(-1.0).is_nan());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(fmod(1.0, 0.0).is_nan());
        assert!(same(fmod(-5.0, 3.0), -2.0));
    }
}
