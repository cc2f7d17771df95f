//! Scalar float functions missing from `core` on Rust 1.63 (no libm in `no_std`).
//!
//! `expf` and `logf` follow Cephes (`expf.c`, `logf.c`): range reduction plus a minimax
//! polynomial, max relative error ~2 ulp over the finite range. `sqrtf` is correctly rounded:
//! the SIMD build uses the `f32x4.sqrt` instruction; the scalar build runs Newton's iteration in
//! f64 (exact to f64 precision after four steps) and rounds once.

const LOG2E: f32 = core::f32::consts::LOG2_E;
const C1: f32 = 0.693_359_375;
const C2: f32 = -2.121_944_4e-4;

#[inline]
fn pow2i(k: i32) -> f32 {
    // 2^k for k in [-126, 127] as a normal float.
    f32::from_bits(((k + 127) as u32) << 23)
}

/// e^x in f32 (Cephes `expf`). Overflows to +inf above 88.72, underflows to 0 below -103.9.
#[inline]
pub fn expf(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x > 88.722_84 {
        return f32::INFINITY;
    }
    if x < -103.972_08 {
        return 0.0;
    }
    let kf = floorf(x * LOG2E + 0.5);
    let k = kf as i32;
    let r = x - kf * C1 - kf * C2;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1;
    let y = p * z + r + 1.0;
    // k in [-150, 128]: scale in two steps so neither factor leaves the normal range.
    let k1 = k / 2;
    let k2 = k - k1;
    y * pow2i(k1) * pow2i(k2)
}

/// Natural logarithm in f32 (Cephes `logf`). ln(0) = -inf, ln(x<0) = NaN, ln(inf) = inf.
#[inline]
pub fn logf(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 {
        return f32::NEG_INFINITY;
    }
    if x == f32::INFINITY {
        return x;
    }
    let mut bits = x.to_bits();
    let mut e: i32 = 0;
    if bits < 0x0080_0000 {
        // subnormal: scale by 2^25 first
        bits = (x * 33_554_432.0).to_bits();
        e = -25;
    }
    e += ((bits >> 23) as i32) - 126;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000); // m in [0.5, 1)
    if m < 0.707_106_77 {
        e -= 1;
        m = m + m - 1.0;
    } else {
        m -= 1.0;
    }
    let z = m * m;
    let mut y = ((((((((7.037_683_6e-2 * m - 1.151_461e-1) * m + 1.167_699_9e-1) * m
        - 1.242_014_1e-1)
        * m
        + 1.424_932_3e-1)
        * m
        - 1.666_805_8e-1)
        * m
        + 2.000_071_4e-1)
        * m
        - 2.499_999_4e-1)
        * m
        + 3.333_333_1e-1)
        * m
        * z;
    let ef = e as f32;
    y += C2 * ef;
    y += -0.5 * z;
    m + y + C1 * ef
}

/// |x| without libm (`f32::abs` is std-only on Rust 1.63).
#[inline]
pub fn absf(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7fff_ffff)
}

/// floor for finite f32 without libm.
#[inline]
pub fn floorf(x: f32) -> f32 {
    if !(absf(x) < 8_388_608.0) {
        return x; // already integral (or NaN/inf)
    }
    let t = (x as i32) as f32;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// Correctly rounded square root.
#[inline]
pub fn sqrtf(x: f32) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(x)))
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        sqrtf_newton(x)
    }
}

/// Square root in f64 (Newton's iteration, for norms accumulated in f64). 0 for x <= 0. Out of
/// line: called once per tensor or layer, one copy.
#[inline(never)]
pub fn sqrt64(x: f64) -> f64 {
    if !(x > 0.0) || x == f64::INFINITY {
        return if x == f64::INFINITY { x } else { 0.0 };
    }
    let mut y = f64::from_bits((x.to_bits() >> 1) + (1023u64 << 51));
    for _ in 0..6 {
        y = 0.5 * (y + x / y);
    }
    y
}

/// Newton's iteration in f64, rounded once to f32.
#[inline]
pub fn sqrtf_newton(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 || x == f32::INFINITY {
        return x;
    }
    let d = x as f64;
    // Initial guess: halve the exponent (relative error < 6%).
    let mut y = f64::from_bits((d.to_bits() >> 1) + (1023u64 << 51));
    y = 0.5 * (y + d / y);
    y = 0.5 * (y + d / y);
    y = 0.5 * (y + d / y);
    y = 0.5 * (y + d / y);
    y as f32
}

/// Hyperbolic tangent in f32 (Cephes `tanhf`): odd minimax polynomial for |x| < 0.625, else
/// `1 − 2/(e^{2|x|} + 1)` with the sign of x; ±1 for |x| > 44 (e^{88} overflows to inf → 1).
#[inline]
pub fn tanhf(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let z = absf(x);
    if z < 0.625 {
        let s = x * x;
        return ((((-5.704_988_7e-3 * s + 2.063_908_9e-2) * s - 5.373_971_6e-2) * s
            + 1.333_144_2e-1)
            * s
            - 3.333_328_2e-1)
            * s
            * x
            + x;
    }
    let e = expf(z + z);
    let t = 1.0 - 2.0 / (e + 1.0);
    if x < 0.0 {
        -t
    } else {
        t
    }
}

/// ln(1 + u) without cancellation for small u (Kahan's trick: `ln(w)·u/(w − 1)` with
/// `w = fl(1 + u)`, exact to a few ulp; returns u when `1 + u` rounds to 1).
#[inline]
pub fn log1pf(u: f32) -> f32 {
    let w = 1.0 + u;
    if w == 1.0 {
        return u;
    }
    if w == f32::INFINITY {
        return w;
    }
    logf(w) * (u / (w - 1.0))
}

/// `(sin 2πu, cos 2πu)` for `u ∈ [0, 1)` in f64 (`core` on Rust 1.63 has no `sin`): quarter-turn
/// reduction (exact: `4u` and its rounding are exact in f64), then Taylor polynomials on
/// `|x| ≤ π/4` (truncation below 2e-9, far below f32 resolution).
#[inline(never)]
pub fn sincos_2pi(u: f64) -> (f64, f64) {
    let q = 4.0 * u;
    let k = (q + 0.5) as i64; // nearest quarter turn, 0..=4
    let x = (q - k as f64) * core::f64::consts::FRAC_PI_2;
    let x2 = x * x;
    let s = x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0)))));
    let c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0 * (1.0 - x2 / 132.0)))));
    match k & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn expf_matches_f64() {
        // Subnormal results: absolute error within two subnormal ulps.
        let mut x = -103.0f32;
        while x < -87.5 {
            let e = (x as f64).exp();
            assert!((expf(x) as f64 - e).abs() <= 2.0 * 1.4e-45 + 3e-7 * e, "x={}", x);
            x += 0.0137;
        }
        let mut x = -87.3f32;
        while x < 88.0 {
            let e = (x as f64).exp();
            assert!(rel(expf(x) as f64, e) < 3e-7, "x={} got {} want {}", x, expf(x), e);
            x += 0.0137;
        }
        assert_eq!(expf(0.0), 1.0);
        assert_eq!(expf(100.0), f32::INFINITY);
        assert_eq!(expf(-200.0), 0.0);
        assert!(expf(f32::NAN).is_nan());
    }

    #[test]
    fn logf_matches_f64() {
        let mut x = 1e-30f32;
        while x < 1e30 {
            let l = (x as f64).ln();
            assert!((logf(x) as f64 - l).abs() <= 3e-7 * l.abs().max(1.0), "x={}", x);
            x *= 1.0173;
        }
        assert_eq!(logf(1.0), 0.0);
        assert_eq!(logf(0.0), f32::NEG_INFINITY);
        assert!(logf(-1.0).is_nan());
        let sub = 1e-40f32;
        assert!(rel(logf(sub) as f64, (sub as f64).ln()) < 1e-6);
    }

    #[test]
    fn sqrt_is_correctly_rounded() {
        let mut x = 1e-38f32;
        while x < 1e38 {
            let want = (x as f64).sqrt() as f32;
            assert_eq!(sqrtf(x), want, "x={}", x);
            x *= 1.00731;
        }
        assert_eq!(sqrtf(0.0), 0.0);
        assert!(sqrtf(-1.0).is_nan());
    }

    #[test]
    fn tanh_and_log1p_match_f64() {
        let mut x = -12.0f32;
        while x < 12.0 {
            let t = (x as f64).tanh();
            assert!((tanhf(x) as f64 - t).abs() <= 3e-7 * t.abs().max(1e-30) + 1e-30, "x={} {} {}", x, tanhf(x), t);
            x += 0.00731;
        }
        assert_eq!(tanhf(100.0), 1.0);
        assert_eq!(tanhf(-100.0), -1.0);
        assert!(tanhf(f32::NAN).is_nan());
        let mut u = 1e-30f32;
        while u < 1e30 {
            let l = (u as f64).ln_1p();
            assert!(rel(log1pf(u) as f64, l) < 4e-7, "u={}", u);
            u *= 1.0173;
        }
    }

    #[test]
    fn sincos_matches_std_to_f64_rounding_of_the_polynomial() {
        for i in 0..100_000 {
            let u = i as f64 / 100_000.0;
            let (s, c) = sincos_2pi(u);
            let t = 2.0 * core::f64::consts::PI * u;
            assert!((s - t.sin()).abs() < 1e-8 && (c - t.cos()).abs() < 1e-8, "u = {}", u);
        }
    }
}
