//! Formatting tests: the docs/reference/instructions.md#input-and-output examples, buffer bounds, and agreement with glibc's printf.

use super::*;
use core::ffi::{c_char, c_int};
use std::format;
use std::string::String;
use std::vec::Vec;

unsafe extern "C" {
    fn snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
    fn strtod(s: *const c_char, end: *mut *mut c_char) -> f64;
}

/// `printf("%.Pf", v)` or `printf("%.Pe", v)` from the C library.
fn c_printf(v: f64, prec: u32, conv: &core::ffi::CStr) -> String {
    let mut buf = std::vec![0u8; 1024];
    // SAFETY: the buffer is 1024 writable bytes and its length is passed; the format string is
    // NUL-terminated and consumes exactly an int precision and a double, which are passed.
    let n = unsafe {
        snprintf(
            buf.as_mut_ptr().cast(),
            buf.len(),
            conv.as_ptr(),
            prec as c_int,
            v,
        )
    };
    assert!(n > 0 && (n as usize) < buf.len());
    buf.truncate(n as usize);
    String::from_utf8(buf).unwrap()
}

fn c_strtod(s: &str) -> f64 {
    let cs = std::ffi::CString::new(s).unwrap();
    // SAFETY: `cs` is a valid NUL-terminated string; a null end pointer is allowed.
    unsafe { strtod(cs.as_ptr(), core::ptr::null_mut()) }
}

fn f(v: f64) -> String {
    let mut buf = [0u8; FMT_BUF_LEN];
    String::from_utf8(format_f64(v, &mut buf).to_vec()).unwrap()
}

fn fp(v: f64, p: u32) -> String {
    let mut buf = [0u8; FMT_BUF_LEN];
    String::from_utf8(format_f64_prec(v, p, &mut buf).to_vec()).unwrap()
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn integers() {
    let mut buf = [0u8; 24];
    for v in [
        0,
        1,
        -1,
        9,
        10,
        -10,
        42,
        -7,
        1_000_000,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
    ] {
        assert_eq!(format_i64(v, &mut buf), format!("{v}").as_bytes());
    }
    let mut s = 3;
    for _ in 0..100_000 {
        let v = splitmix(&mut s) as i64 >> (splitmix(&mut s) % 64);
        assert_eq!(format_i64(v, &mut buf), format!("{v}").as_bytes());
    }
}

#[test]
fn shortest_float_examples() {
    let cases: &[(f64, &str)] = &[
        (0.1, "0.1"),
        (3.0, "3"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1e21, "1000000000000000000000"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1.5, "1.5"),
        (-2.0e-3, "-0.002"),
        (1e9, "1000000000"),
        (123456789012345680.0, "123456789012345680"),
        (f64::NAN, "NaN"),
        (-f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ];
    for (v, want) in cases {
        assert_eq!(f(*v), *want);
    }
    let max = f(f64::MAX);
    assert_eq!(max.len(), 309);
    assert!(max.starts_with("17976931348623157") && max[17..].bytes().all(|b| b == b'0'));
    assert_eq!(f(f64::MIN), format!("-{max}"));
    let tiny = f(5e-324);
    assert_eq!(tiny, format!("0.{}5", "0".repeat(323)));
    assert_eq!(f(-5e-324), format!("-{tiny}"));
    let min_pos = f(f64::MIN_POSITIVE);
    assert_eq!(min_pos, format!("0.{}22250738585072014", "0".repeat(307)));
}

#[test]
fn shortest_float_round_trips_and_is_shortest() {
    let mut s = 11;
    for i in 0..20_000 {
        let v = f64::from_bits(splitmix(&mut s));
        if !v.is_finite() {
            continue;
        }
        let out = f(v);
        assert!(!out.contains(['e', 'E']), "{out}");
        assert_eq!(c_strtod(&out).to_bits(), v.to_bits(), "{out}");
        // Independently of Rust: the fewest significant digits that glibc's `%.Ne` needs to
        // read back to v must equal the number of significant digits printed.
        if i % 4 == 0 {
            let needed = (0..17)
                .find(|&p| c_strtod(&c_printf(v, p, c"%.*e")).to_bits() == v.to_bits())
                .unwrap_or(16)
                + 1;
            let digits: String = out.chars().filter(|c| c.is_ascii_digit()).collect();
            let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
            assert_eq!(significant as u32, needed, "{v:e} printed as {out}");
        }
    }
}

/// The significant digits of a positional decimal, without sign, point or outer zeros.
fn significant(out: &str) -> String {
    let digits: String = out.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.trim_start_matches('0').trim_end_matches('0').into()
}

/// glibc's `%.Pe` with the fewest digits that read back: the decimal of that length closest to
/// `v` (glibc rounds the exact binary value, ties to even), as significant digits.
fn glibc_closest_shortest(v: f64) -> String {
    let sci = (0..17)
        .map(|p| c_printf(v, p, c"%.*e"))
        .find(|s| c_strtod(s).to_bits() == v.to_bits())
        .unwrap_or_else(|| c_printf(v, 16, c"%.*e"));
    significant(sci.split('e').next().unwrap_or(""))
}

#[test]
fn shortest_float_takes_the_closest_and_ties_to_even() {
    // 1e15 + 0.3 is exactly 1000000000000000.25: `.2` and `.3` both read back, `.2` is the
    // even one of the two equally close. Likewise for the value a random program printed.
    assert_eq!(f(1e15 + 0.3), "1000000000000000.2");
    assert_eq!(f(-838602994387060.2), "-838602994387060.2");
    assert_eq!(f(1e15 + 0.7), "1000000000000000.8");
    let mut s = 23;
    for _ in 0..20_000 {
        let v = f64::from_bits(splitmix(&mut s));
        if !v.is_finite() || v == 0.0 {
            continue;
        }
        assert_eq!(significant(&f(v)), glibc_closest_shortest(v), "{v:e}");
    }
    // Large integers with a fraction of .25 or .75 are exact ties at 16 or 17 digits.
    for k in 0..5_000u64 {
        let base = (1u64 << 49) + k * 7919;
        for frac in [0.25, 0.75] {
            let v = base as f64 + frac;
            assert_eq!(significant(&f(v)), glibc_closest_shortest(v), "{v:e}");
        }
    }
    // Powers of two are where the closest decimal of the shortest length may not read back.
    for e in -1074i64..1024 {
        let bits = if e < -1022 {
            1u64 << (e + 1074)
        } else {
            ((e + 1023) as u64) << 52
        };
        let v = f64::from_bits(bits);
        let out = f(v);
        assert_eq!(
            c_strtod(&out).to_bits(),
            v.to_bits(),
            "2^{e} printed as {out}"
        );
        assert!(
            significant(&out).len() <= glibc_closest_shortest(v).len(),
            "2^{e} printed as {out}"
        );
    }
}

#[test]
fn buffer_is_big_enough_everywhere() {
    let mut s = 5;
    let mut longest = 0;
    let mut check = |v: f64| {
        let a = f(v);
        assert_eq!(c_strtod(&a).to_bits(), v.to_bits(), "{a}");
        let b = fp(v, 17);
        assert_eq!(b, format!("{v:.17}"));
        longest = longest.max(a.len()).max(b.len());
    };
    // Every exponent, with mantissas of many shapes, both signs.
    for exp in 0..2047u64 {
        for _ in 0..8 {
            let m = splitmix(&mut s) & ((1 << 52) - 1);
            check(f64::from_bits((1 << 63) | (exp << 52) | m));
        }
        check(-f64::from_bits((exp << 52) | ((1 << 52) - 1)));
    }
    // Subnormals carry their last digit furthest right.
    for m in 1..4096u64 {
        check(-f64::from_bits(m));
        check(-f64::from_bits((1 << 52) - m));
    }
    check(-f64::MAX);
    check(-f64::MIN_POSITIVE);
    assert!(longest + 32 <= FMT_BUF_LEN, "longest output {longest}");
    assert!(
        longest >= 328,
        "the worst cases were not reached: {longest}"
    );
}

#[test]
fn precision_examples() {
    let cases: &[(f64, u32, &str)] = &[
        (0.125, 2, "0.12"),
        (0.375, 2, "0.38"),
        (2.5, 0, "2"),
        (3.5, 0, "4"),
        (0.5, 0, "0"),
        (1.5, 0, "2"),
        (-0.5, 0, "-0"),
        (-0.0, 2, "-0.00"),
        (0.0, 0, "0"),
        (-0.001, 2, "-0.00"),
        (1.23456, 3, "1.235"),
        (1.0, 17, "1.00000000000000000"),
        (0.1, 17, "0.10000000000000001"),
        (2.0, 3, "2.000"),
        (f64::NAN, 3, "NaN"),
        (f64::INFINITY, 0, "inf"),
        (f64::NEG_INFINITY, 17, "-inf"),
    ];
    for (v, p, want) in cases {
        assert_eq!(fp(*v, *p), *want, "{v} with {p}");
    }
    assert_eq!(fp(1e300, 17), c_printf(1e300, 17, c"%.*f"));
    assert_eq!(fp(1e300, 17).len(), 301 + 1 + 17);
    // Precision above 17 is clamped.
    assert_eq!(fp(0.1, 40), fp(0.1, 17));
}

#[test]
fn precision_matches_glibc_printf() {
    let mut s = 17;
    let compare = |v: f64, p: u32| {
        if v.is_finite() {
            assert_eq!(fp(v, p), c_printf(v, p, c"%.*f"), "{v:e} with %.{p}f");
        }
    };
    // Exact decimal ties at precision P are the odd multiples of 2^-(P+1).
    for p in 0..=17u32 {
        for k in 0..2_000u64 {
            let odd = (2 * k + 1) as f64;
            let v = odd / (1u64 << (p + 1)) as f64;
            compare(v, p);
            compare(-v, p);
            // Ties far from zero too (these stay exact while odd * 2^-(P+1) fits 53 bits).
            let big = ((splitmix(&mut s) >> 12) | 1) as f64 / (1u64 << (p + 1)) as f64;
            compare(big, p);
            compare(-big, p);
        }
    }
    // Random bit patterns over the whole range, and values near small decimals.
    for _ in 0..100_000 {
        let bits = splitmix(&mut s);
        let p = (splitmix(&mut s) % 18) as u32;
        compare(f64::from_bits(bits), p);
        let near = (bits >> 40) as f64 / 1000.0;
        compare(near, p);
        compare(-near, p);
    }
    for p in 0..=17 {
        for v in [
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1e21,
            1e22,
            0.1 + 0.2,
            9.5,
            0.05,
            0.015,
            1.005,
            2.675,
            1e300,
            -1e-300,
        ] {
            compare(v, p);
        }
    }
}

#[test]
fn sil_text() {
    let mut buf = [0u8; 16];
    assert_eq!(format_sil(0x05, &mut buf), b"sil(-8,5)");
    assert_eq!(format_sil(0x80, &mut buf), b"sil(0,0)");
    assert_eq!(format_sil(0x0F, &mut buf), b"sil(-8,15)");
    assert_eq!(format_sil(0xFF, &mut buf), b"sil(7,15)");
    let all: Vec<u8> = (0..=255u8)
        .flat_map(|b| format_sil(b, &mut [0u8; 16]).to_vec())
        .collect();
    let want: String = (0..=255u8)
        .map(|b| format!("sil({},{})", (b >> 4) as i64 - 8, b & 15))
        .collect();
    assert_eq!(all, want.as_bytes());
}
