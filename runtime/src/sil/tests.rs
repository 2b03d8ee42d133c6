//! Edge-case tests for every ByteSil operation, checked against an independent i128 model.

use super::*;
use std::vec::Vec;

/// The spec's formulas written the obvious way in i128, where nothing can overflow.
fn model(rho: i128, theta: i128) -> u8 {
    let r = rho.clamp(-8, 7);
    let t = theta.rem_euclid(16);
    (((r + 8) as u8) << 4) | t as u8
}

fn r128(b: u8) -> i128 {
    i128::from(rho(b))
}

fn t128(b: u8) -> i128 {
    i128::from(theta(b))
}

/// Interesting i64 arguments for pow/root/scale/rotate.
fn edge_ints() -> Vec<i64> {
    let mut v: Vec<i64> = (-40..=40).collect();
    v.extend([
        i64::MIN,
        i64::MIN + 1,
        i64::MIN + 15,
        i64::MIN + 16,
        i64::MAX,
        i64::MAX - 1,
        i64::MAX - 15,
        1 << 40,
        -(1 << 40),
        (1 << 62) + 3,
    ]);
    v
}

fn sil(r: i64, t: i64) -> u8 {
    make(r, t)
}

#[test]
fn named_values() {
    assert_eq!(NULL, sil(-8, 0));
    assert_eq!(ONE, sil(0, 0));
    assert_eq!(I, sil(0, 4));
    assert_eq!(NEG_ONE, sil(0, 8));
    assert_eq!(MAX, sil(7, 0));
}

#[test]
fn fields_and_make() {
    for b in 0..=255u8 {
        assert_eq!(make(rho(b), theta(b)), b);
        assert!((-8..=7).contains(&rho(b)));
        assert!((0..=15).contains(&theta(b)));
        assert_eq!(is_null(b), b < 0x10);
    }
    assert_eq!(make(-8, 5), 0x05);
    assert_eq!(make(8, 0), 0xF0);
    assert_eq!(make(7, 0), 0xF0);
    assert_eq!(make(-9, 3), 0x03);
    assert_eq!(make(0, 16), 0x80);
    assert_eq!(make(0, -1), 0x8F);
    assert_eq!(make(0, -16), 0x80);
    assert_eq!(make(0, -17), 0x8F);
    assert_eq!(make(i64::MIN, i64::MIN), 0x00);
    assert_eq!(make(i64::MAX, i64::MAX), 0xFF);
    assert_eq!(make(i64::MAX, i64::MIN + 1), 0xF1);
    assert_eq!(vsp_sil_make(-8, 5), 0x05);
    assert_eq!(vsp_sil_rho(0x05), -8);
    assert_eq!(vsp_sil_theta(0x05), 5);
    for r in -20..=20 {
        for t in -40..=40 {
            assert_eq!(make(r, t), model(r.into(), t.into()));
        }
    }
}

#[test]
fn mul_div_follow_the_table_for_all_pairs() {
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            assert_eq!(mul(a, b), model(r128(a) + r128(b), t128(a) + t128(b)));
            assert_eq!(div(a, b), model(r128(a) - r128(b), t128(a) - t128(b)));
            assert_eq!(vsp_sil_mul(a, b), mul(a, b));
            assert_eq!(vsp_sil_div(a, b), div(a, b));
        }
    }
    // NULL follows the formula literally.
    assert_eq!(mul(NULL, sil(3, 0)), sil(-5, 0));
    assert_eq!(mul(sil(-8, 5), sil(3, 2)), sil(-5, 7));
    assert_eq!(mul(MAX, MAX), MAX);
    assert_eq!(mul(NULL, NULL), NULL);
    assert_eq!(mul(sil(0, 15), sil(0, 1)), ONE);
    assert_eq!(mul(I, I), NEG_ONE);
    assert_eq!(div(ONE, sil(0, 1)), sil(0, 15));
    assert_eq!(div(NULL, MAX), NULL);
    assert_eq!(div(MAX, NULL), MAX);
    assert_eq!(div(sil(3, 0), NULL), sil(7, 0));
}

#[test]
fn bitwise() {
    for a in 0..=255u8 {
        assert_eq!(not(a), !a);
        assert_eq!(vsp_sil_not(a), !a);
        for b in [0u8, 0x0F, 0x5A, 0xF0, 0xFF] {
            assert_eq!(and(a, b), a & b);
            assert_eq!(or(a, b), a | b);
            assert_eq!(xor(a, b), a ^ b);
            assert_eq!(vsp_sil_and(a, b), a & b);
            assert_eq!(vsp_sil_or(a, b), a | b);
            assert_eq!(vsp_sil_xor(a, b), a ^ b);
        }
    }
}

#[test]
fn neg_keeps_null_bytes() {
    for a in 0..=255u8 {
        if rho(a) == -8 {
            assert_eq!(neg(a), a);
        } else {
            assert_eq!(neg(a), model(r128(a), t128(a) + 8));
            assert_eq!(neg(neg(a)), a);
        }
        assert_eq!(vsp_sil_neg(a), neg(a));
    }
    assert_eq!(neg(ONE), NEG_ONE);
    assert_eq!(neg(sil(2, 12)), sil(2, 4));
    assert_eq!(neg(0x05), 0x05);
}

#[test]
fn pow_exact_for_every_n() {
    for a in 0..=255u8 {
        for n in edge_ints() {
            let n128 = i128::from(n);
            let want = model(r128(a) * n128, t128(a) * n128);
            assert_eq!(pow(a, n), want, "pow({a:#x}, {n})");
            assert_eq!(vsp_sil_pow(a, n), want);
        }
        assert_eq!(pow(a, 0), ONE);
        assert_eq!(pow(a, 1), a);
    }
    assert_eq!(pow(sil(1, 1), i64::MAX), sil(7, 15));
    assert_eq!(pow(sil(1, 1), i64::MIN), sil(-8, 0));
    assert_eq!(pow(sil(-1, 3), i64::MIN), sil(7, 0));
    assert_eq!(pow(sil(-1, 3), i64::MAX), sil(-8, 13));
    assert_eq!(pow(sil(7, 15), i64::MIN + 1), sil(-8, 15));
    assert_eq!(pow(NULL, 2), NULL);
    assert_eq!(pow(NULL, -1), sil(7, 0));
    assert_eq!(pow(I, 2), NEG_ONE);
    assert_eq!(pow(I, -1), sil(0, 12));
}

#[test]
fn root_truncates_and_handles_zero() {
    for a in 0..=255u8 {
        for n in edge_ints() {
            let want = if n == 0 {
                ONE
            } else {
                let n128 = i128::from(n);
                model(r128(a) / n128, t128(a) / n128)
            };
            assert_eq!(root(a, n), want, "root({a:#x}, {n})");
            assert_eq!(vsp_sil_root(a, n), want);
        }
        assert_eq!(root(a, 0), ONE);
        assert_eq!(root(a, 1), a);
        assert_eq!(root(a, i64::MIN), ONE);
        assert_eq!(root(a, i64::MAX), ONE);
    }
    assert_eq!(root(sil(7, 5), 2), sil(3, 2));
    assert_eq!(root(sil(7, 5), -2), sil(-3, 14));
    assert_eq!(root(sil(-7, 15), 2), sil(-3, 7));
    assert_eq!(root(sil(-8, 15), -1), sil(7, 1));
    assert_eq!(root(NULL, 0), ONE);
}

#[test]
fn scale_and_rotate_with_extreme_k() {
    for a in 0..=255u8 {
        for k in edge_ints() {
            let k128 = i128::from(k);
            assert_eq!(scale(a, k), model(r128(a) + k128, t128(a)));
            assert_eq!(rotate(a, k), model(r128(a), t128(a) + k128));
            assert_eq!(vsp_sil_scale(a, k), scale(a, k));
            assert_eq!(vsp_sil_rotate(a, k), rotate(a, k));
        }
        assert_eq!(scale(a, i64::MAX), model(7, t128(a)));
        assert_eq!(scale(a, i64::MIN), model(-8, t128(a)));
        assert_eq!(rotate(a, i64::MIN), a); // i64::MIN is a multiple of 16
        assert_eq!(rotate(a, i64::MAX), model(r128(a), t128(a) + 15));
    }
    assert_eq!(scale(0x05, 1), sil(-7, 5));
    assert_eq!(rotate(sil(0, 15), 1), ONE);
    assert_eq!(rotate(ONE, -1), sil(0, 15));
    assert_eq!(rotate(NULL, 3), sil(-8, 3));
}

#[test]
fn inv_conj_mag_phase() {
    for a in 0..=255u8 {
        assert_eq!(inv(a), model(-r128(a), -t128(a)));
        assert_eq!(conj(a), model(r128(a), -t128(a)));
        assert_eq!(mag(a), model(r128(a), 0));
        assert_eq!(phase(a), model(0, t128(a)));
        assert_eq!(vsp_sil_inv(a), inv(a));
        assert_eq!(vsp_sil_conj(a), conj(a));
        assert_eq!(vsp_sil_mag(a), mag(a));
        assert_eq!(vsp_sil_phase(a), phase(a));
    }
    assert_eq!(inv(NULL), sil(7, 0));
    assert_eq!(inv(0x05), sil(7, 11));
    assert_eq!(inv(MAX), sil(-7, 0));
    assert_eq!(inv(I), sil(0, 12));
    assert_eq!(conj(I), sil(0, 12));
    assert_eq!(conj(0x05), 0x0B);
    assert_eq!(mag(0x05), NULL);
    assert_eq!(phase(0x05), sil(0, 5));
}

#[test]
fn decode_uses_the_exact_formulas() {
    let pi8 = core::f64::consts::PI / 8.0;
    for a in 0..=255u8 {
        let (re_a, im_a) = to_complex(a);
        if rho(a) == -8 {
            assert_eq!(re_a.to_bits(), 0.0f64.to_bits());
            assert_eq!(im_a.to_bits(), 0.0f64.to_bits());
            assert_eq!(abs(a), 0.0);
        } else {
            // std's exp/cos/sin call the same glibc functions.
            let e = (rho(a) as f64).exp();
            let ang = theta(a) as f64 * pi8;
            assert_eq!(re_a.to_bits(), (e * ang.cos()).to_bits());
            assert_eq!(im_a.to_bits(), (e * ang.sin()).to_bits());
            assert_eq!(abs(a).to_bits(), e.to_bits());
        }
        assert_eq!(re(a).to_bits(), re_a.to_bits());
        assert_eq!(im(a).to_bits(), im_a.to_bits());
        assert_eq!(vsp_sil_re(a).to_bits(), re_a.to_bits());
        assert_eq!(vsp_sil_im(a).to_bits(), im_a.to_bits());
        assert_eq!(vsp_sil_abs(a).to_bits(), abs(a).to_bits());
        // arg uses the raw theta, NULL included.
        assert_eq!(arg(a).to_bits(), (theta(a) as f64 * pi8).to_bits());
        assert_eq!(vsp_sil_arg(a).to_bits(), arg(a).to_bits());

        let (mut r, mut i) = (f64::NAN, f64::NAN);
        // SAFETY: both pointers are to live, aligned locals.
        unsafe { vsp_sil_to_complex(a, &mut r, &mut i) };
        assert_eq!((r.to_bits(), i.to_bits()), (re_a.to_bits(), im_a.to_bits()));
        // SAFETY: null pointers are documented as skipped.
        unsafe { vsp_sil_to_complex(a, core::ptr::null_mut(), core::ptr::null_mut()) };
    }
    assert_eq!(re(ONE), 1.0);
    assert_eq!(im(ONE), 0.0);
    assert_eq!(re(NEG_ONE), -1.0);
    assert_eq!(im(I), 1.0);
    assert_eq!(arg(I), core::f64::consts::FRAC_PI_2);
    assert_eq!(arg(0x05), 5.0 * pi8);
    assert_eq!(abs(MAX), 7f64.exp());
}

#[test]
fn encode_decode_round_trip() {
    // Every non-NULL byte is the nearest code of its own value.
    for a in 0x10..=255u8 {
        let (r, i) = to_complex(a);
        assert_eq!(from_complex(r, i), a, "{a:#x}");
        assert_eq!(vsp_sil_from(r, i), a);
    }
}

#[test]
fn from_complex_nan_inf_and_tiny() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    assert_eq!(from_complex(nan, 0.0), NULL);
    assert_eq!(from_complex(0.0, nan), NULL);
    assert_eq!(from_complex(nan, nan), NULL);
    // hypot(inf, NaN) is inf, so the magnitude clamps to 7 and the NaN angle gives theta 0.
    assert_eq!(from_complex(inf, nan), sil(7, 0));
    assert_eq!(from_complex(nan, -inf), sil(7, 0));
    assert_eq!(from_complex(inf, 0.0), sil(7, 0));
    assert_eq!(from_complex(-inf, 0.0), sil(7, 8));
    assert_eq!(from_complex(-inf, -0.0), sil(7, 8));
    assert_eq!(from_complex(0.0, inf), sil(7, 4));
    assert_eq!(from_complex(0.0, -inf), sil(7, 12));
    assert_eq!(from_complex(inf, inf), sil(7, 2));
    assert_eq!(from_complex(-inf, -inf), sil(7, 10));
    assert_eq!(from_complex(f64::MAX, f64::MAX), sil(7, 2));
    assert_eq!(from_complex(1e300, 0.0), sil(7, 0));
    assert_eq!(from_complex(0.0, 0.0), NULL);
    assert_eq!(from_complex(-0.0, -0.0), NULL);
    assert_eq!(from_complex(5e-324, 0.0), NULL);
    // The NULL threshold: below e^-8 is NULL, and anything rounding to rho -8 is NULL too.
    let e8 = (-8f64).exp();
    assert_eq!(from_complex(e8, 0.0), NULL);
    assert_eq!(from_complex(e8.next_down(), 0.0), NULL);
    assert_eq!(from_complex((-7.5f64).exp().next_down(), 0.0), NULL);
    assert_eq!(from_complex((-7.4f64).exp(), 0.0), sil(-7, 0));
    assert_eq!(from_complex(-(-7.4f64).exp(), 0.0), sil(-7, 8));
}

#[test]
fn from_complex_rounds_magnitude_halves_away_from_zero() {
    for k in -8i64..=7 {
        let h = k as f64 + 0.5;
        let m = h.exp();
        let l = m.ln();
        for mm in [m.next_down(), m, m.next_up()] {
            let lr = mm.ln().round(); // std's round is C round: halves away from zero
            let want = if mm < (-8f64).exp() || lr <= -8.0 {
                NULL
            } else {
                make((lr as i64).min(7), 0)
            };
            assert_eq!(from_complex(mm, 0.0), want, "k={k} m={mm:e}");
        }
        // Where ln(exp(k + 0.5)) comes out as the exact half, the tie must go away from zero.
        if l == h {
            let want = if h > 0.0 { k + 1 } else { k };
            let want = if want <= -8 {
                NULL
            } else {
                make(want.min(7), 0)
            };
            assert_eq!(from_complex(m, 0.0), want, "tie at {h}");
        }
    }
    // These two are exact ties on glibc; pin them so a ties-to-even round would be caught.
    assert_eq!(0.5f64.exp().ln(), 0.5);
    assert_eq!(from_complex(0.5f64.exp(), 0.0), sil(1, 0));
    assert_eq!((-0.5f64).exp().ln(), -0.5);
    assert_eq!(from_complex((-0.5f64).exp(), 0.0), sil(-1, 0));
}

#[test]
fn from_complex_rounds_angle_halves_away_from_zero() {
    let pi8 = core::f64::consts::PI / 8.0;
    let mut ties = 0;
    for j in -8i64..8 {
        let target = (j as f64 + 0.5) * pi8;
        // Search around the point at that angle for one whose atan2 quotient is exactly j + 0.5.
        let (x, mut y) = (target.cos(), target.sin());
        for _ in 0..64 {
            let q = y.atan2(x) / pi8;
            if q == j as f64 + 0.5 && (-8.0..=8.0).contains(&q) {
                ties += 1;
                let want_t = if q > 0.0 { j + 1 } else { j };
                assert_eq!(from_complex(x, y), make(0, want_t), "tie at {q}");
                break;
            }
            // Walk y by one ulp in the direction that moves the angle toward the target.
            y = if q < j as f64 + 0.5 {
                y.next_up()
            } else {
                y.next_down()
            };
        }
    }
    assert!(ties >= 4, "found only {ties} exact angle ties");
    // Negative angles wrap.
    assert_eq!(from_complex(0.0, -1.0), sil(0, 12));
    assert_eq!(from_complex(-1.0, -0.0), sil(0, 8));
    assert_eq!(from_complex(-1.0, 0.0), sil(0, 8));
    assert_eq!(from_complex(1.0, -1e-300), ONE);
}

#[test]
fn add_sub_treat_null_as_zero() {
    for a in 0..=255u8 {
        for n in [0x00u8, 0x05, 0x0F] {
            let self_code = if is_null(a) { NULL } else { a };
            assert_eq!(add(a, n), self_code, "{a:#x} + {n:#x}");
            assert_eq!(add(n, a), self_code);
            assert_eq!(sub(a, n), self_code);
            assert_eq!(vsp_sil_add(a, n), add(a, n));
            assert_eq!(vsp_sil_sub(a, n), sub(a, n));
        }
        assert_eq!(sub(a, a), NULL);
        if !is_null(a) {
            assert_eq!(sub(NULL, a), neg(a));
        }
        for b in 0..=255u8 {
            let (ar, ai) = to_complex(a);
            let (br, bi) = to_complex(b);
            assert_eq!(add(a, b), from_complex(ar + br, ai + bi));
            assert_eq!(sub(a, b), from_complex(ar - br, ai - bi));
        }
    }
    assert_eq!(add(ONE, NEG_ONE), NULL);
    assert_eq!(add(ONE, ONE), sil(1, 0)); // ln 2 = 0.69 rounds to 1
    assert_eq!(add(MAX, MAX), MAX);
    assert_eq!(add(ONE, I), sil(0, 2)); // |1+i| = 1.41, ln = 0.35
}

#[test]
fn lerp_clamps_t() {
    let a = sil(2, 3);
    let b = sil(-1, 9);
    assert_eq!(lerp(a, b, f64::NAN), a);
    assert_eq!(lerp(a, b, -f64::NAN), a);
    assert_eq!(lerp(a, b, -1.0), a);
    assert_eq!(lerp(a, b, -0.0), a);
    assert_eq!(lerp(a, b, f64::NEG_INFINITY), a);
    assert_eq!(lerp(a, b, 0.0), a);
    assert_eq!(lerp(a, b, 1.0), b);
    assert_eq!(lerp(a, b, 2.0), b);
    assert_eq!(lerp(a, b, f64::INFINITY), b);
    assert_eq!(lerp(ONE, NEG_ONE, 0.5), NULL);
    assert_eq!(lerp(NULL, MAX, 1.0), MAX);
    assert_eq!(lerp(0x05, ONE, 0.0), NULL);
    assert_eq!(lerp(0x05, ONE, 1.0), ONE);
    for x in 0..=255u8 {
        for y in [NULL, ONE, I, MAX, sil(-3, 13)] {
            for t in [0.25, 0.5, 0.75, 1e-9] {
                let (xr, xi) = to_complex(x);
                let (yr, yi) = to_complex(y);
                let want = from_complex((1.0 - t) * xr + t * yr, (1.0 - t) * xi + t * yi);
                assert_eq!(lerp(x, y, t), want);
                assert_eq!(vsp_sil_lerp(x, y, t), want);
            }
        }
    }
}
