//! BLAS-1 vector operations for the full-batch optimizers (L-BFGS two-loop recursion, nonlinear
//! conjugate gradient, strong-Wolfe line search): `dot`, `nrm2`, `asum`, `amax`, `axpy`, `scal`,
//! `copy`, `lincomb` and `add_sign` over f32 vectors.
//!
//! Reductions (`dot`, `nrm2`, `asum`) accumulate in f64: every product of two f32 values is exact
//! in f64, so the only rounding is in the summation. The SIMD path keeps two f64x2 accumulators
//! (lanes promoted from f32x4), so its summation order differs from the scalar loop's: the
//! results agree to f64 rounding, not bit for bit. The element-wise updates (`axpy`, `scal`,
//! `lincomb`, `add_sign`) do the same f32 operations in the same order on both paths (SIMD128 has
//! no FMA and Rust never contracts `a * x + y`), so the SIMD and scalar builds agree bit for bit.

use crate::math::{absf, sqrt64};

/// `|v|` in f64 (`f64::abs` is not in `core` on Rust 1.63).
#[inline(always)]
fn abs64(v: f64) -> f64 {
    if v < 0.0 {
        -v
    } else {
        v
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

/// Runs `f(i)` on each 4-aligned chunk start below `n4 = n / 4 * 4`, then `tail(i)` for the rest.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn chunks<F: FnMut(usize), T: FnMut(usize)>(n: usize, mut f: F, mut tail: T) {
    let n4 = n / 4 * 4;
    let mut i = 0;
    while i < n4 {
        f(i);
        i += 4;
    }
    for j in n4..n {
        tail(j);
    }
}

/// Promotes the four f32 lanes of `v` to two f64x2 (low pair, high pair).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn promote(v: v128) -> (v128, v128) {
    (f64x2_promote_low_f32x4(v), f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 0, 1>(v, v)))
}

/// `Σ x_i·y_i` over the common length, accumulated in f64 (BLAS `dsdot`).
pub fn dot(x: &[f32], y: &[f32]) -> f64 {
    let n = x.len().min(y.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let (px, py) = (x.as_ptr(), y.as_ptr());
        let (mut a0, mut a1) = (f64x2_splat(0.0), f64x2_splat(0.0));
        let mut s = 0.0f64;
        chunks(
            n,
            |i| {
                // SAFETY: i + 4 <= n <= len of both slices.
                let (xv, yv) = unsafe { (v128_load(px.add(i) as *const v128), v128_load(py.add(i) as *const v128)) };
                let (xl, xh) = promote(xv);
                let (yl, yh) = promote(yv);
                a0 = f64x2_add(a0, f64x2_mul(xl, yl));
                a1 = f64x2_add(a1, f64x2_mul(xh, yh));
            },
            |j| s += (x[j] as f64) * (y[j] as f64),
        );
        let a = f64x2_add(a0, a1);
        f64x2_extract_lane::<0>(a) + f64x2_extract_lane::<1>(a) + s
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut s = 0.0f64;
        for i in 0..n {
            s += (x[i] as f64) * (y[i] as f64);
        }
        s
    }
}

/// Euclidean norm `√(Σ x_i²)`, accumulated in f64 (no overflow for any finite f32 input).
pub fn nrm2(x: &[f32]) -> f64 {
    sqrt64(dot(x, x))
}

/// `Σ |x_i|` accumulated in f64 (BLAS `asum`; PyTorch's `flat_grad.abs().sum()`).
pub fn asum(x: &[f32]) -> f64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let p = x.as_ptr();
        let (mut a0, mut a1) = (f64x2_splat(0.0), f64x2_splat(0.0));
        let mut s = 0.0f64;
        chunks(
            x.len(),
            |i| {
                // SAFETY: i + 4 <= len.
                let v = f32x4_abs(unsafe { v128_load(p.add(i) as *const v128) });
                let (l, h) = promote(v);
                a0 = f64x2_add(a0, l);
                a1 = f64x2_add(a1, h);
            },
            |j| s += abs64(x[j] as f64),
        );
        let a = f64x2_add(a0, a1);
        f64x2_extract_lane::<0>(a) + f64x2_extract_lane::<1>(a) + s
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut s = 0.0f64;
        for &v in x {
            s += abs64(v as f64);
        }
        s
    }
}

/// `max_i |x_i|` (PyTorch's `x.abs().max()`): NaN when any element is NaN, 0 for an empty vector.
pub fn amax(x: &[f32]) -> f32 {
    let mut m = 0.0f32;
    let mut nan = false;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let p = x.as_ptr();
        let mut mv = f32x4_splat(0.0);
        let mut bad = i32x4_splat(0);
        chunks(
            x.len(),
            |i| {
                // SAFETY: i + 4 <= len.
                let v = f32x4_abs(unsafe { v128_load(p.add(i) as *const v128) });
                bad = v128_or(bad, f32x4_ne(v, v));
                mv = f32x4_pmax(mv, v);
            },
            |j| {
                let v = x[j];
                if v != v {
                    nan = true;
                } else if absf(v) > m {
                    m = absf(v);
                }
            },
        );
        if v128_any_true(bad) {
            nan = true;
        }
        let lanes = [f32x4_extract_lane::<0>(mv), f32x4_extract_lane::<1>(mv), f32x4_extract_lane::<2>(mv), f32x4_extract_lane::<3>(mv)];
        for l in lanes {
            if l > m {
                m = l;
            }
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for &v in x {
        if v != v {
            nan = true;
        } else if absf(v) > m {
            m = absf(v);
        }
    }
    if nan {
        f32::NAN
    } else {
        m
    }
}

/// `y ← a·x + y` (BLAS `axpy`), f32, over the common length.
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let av = f32x4_splat(a);
        let n4 = n / 4 * 4;
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 <= n for both slices.
            unsafe {
                let xv = v128_load(px.add(i) as *const v128);
                let yv = v128_load(py.add(i) as *const v128);
                v128_store(py.add(i) as *mut v128, f32x4_add(f32x4_mul(av, xv), yv));
            }
            i += 4;
        }
        for j in n4..n {
            y[j] = a * x[j] + y[j];
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for i in 0..n {
        y[i] = a * x[i] + y[i];
    }
}

/// `x ← a·x` (BLAS `scal`).
pub fn scal(a: f32, x: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let n = x.len();
        let p = x.as_mut_ptr();
        let av = f32x4_splat(a);
        let n4 = n / 4 * 4;
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 <= n.
            unsafe { v128_store(p.add(i) as *mut v128, f32x4_mul(av, v128_load(p.add(i) as *const v128))) };
            i += 4;
        }
        for j in n4..n {
            x[j] *= a;
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for v in x.iter_mut() {
        *v *= a;
    }
}

/// `y ← x` (BLAS `copy`), over the common length.
pub fn copy(x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    y[..n].copy_from_slice(&x[..n]);
}

/// `out[i] ← a·x[i] + b·y[i]` for `i < n`. Element-wise (each element read before it is written),
/// so `out` may be `x` or `y`.
///
/// # Safety
/// `x`, `y` valid for `n` reads and `out` for `n` writes; `out` equal to `x` or `y` or disjoint from both.
pub(crate) unsafe fn lincomb_raw(a: f32, x: *const f32, b: f32, y: *const f32, out: *mut f32, n: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let start = {
        let (av, bv) = (f32x4_splat(a), f32x4_splat(b));
        let n4 = n / 4 * 4;
        let mut i = 0;
        while i < n4 {
            let xv = v128_load(x.add(i) as *const v128);
            let yv = v128_load(y.add(i) as *const v128);
            v128_store(out.add(i) as *mut v128, f32x4_add(f32x4_mul(av, xv), f32x4_mul(bv, yv)));
            i += 4;
        }
        n4
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let start = 0;
    for i in start..n {
        *out.add(i) = a * *x.add(i) + b * *y.add(i);
    }
}

/// `out ← a·x + b·y` over the common length (e.g. the conjugate-gradient direction
/// `d ← −g + β·d`, or a trial point `x + t·d`). `out` may not alias `x` or `y` (use [`axpy`] or
/// [`axpby`] in place).
pub fn lincomb(a: f32, x: &[f32], b: f32, y: &[f32], out: &mut [f32]) {
    let n = x.len().min(y.len()).min(out.len());
    // SAFETY: n is within all three slices.
    unsafe { lincomb_raw(a, x.as_ptr(), b, y.as_ptr(), out.as_mut_ptr(), n) }
}

/// `y ← a·x + b·y` in place (same arithmetic as [`lincomb`] with `out = y`).
pub fn axpby(a: f32, x: &[f32], b: f32, y: &mut [f32]) {
    let n = x.len().min(y.len());
    let py = y.as_mut_ptr();
    // SAFETY: n is within both slices; lincomb_raw reads y[i] before writing it.
    unsafe { lincomb_raw(a, x.as_ptr(), b, py, py, n) }
}

/// `y ← a·sign(x) + y` with sign(0) = 0 — the gradient of an L1 penalty `a·Σ|x|` (the same
/// sign convention as the fused optimizers' `l1`).
pub fn add_sign(a: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    for i in 0..n {
        let v = x[i];
        if v > 0.0 {
            y[i] += a;
        } else if v < 0.0 {
            y[i] -= a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 37 + seed * 11) % 101) as f32 - 50.0) * 0.0173 + (i % 7) as f32 * 1e-3).collect()
    }

    const SIZES: [usize; 7] = [0, 1, 3, 5, 17, 64, 1023];

    #[test]
    fn reductions_match_f64() {
        for &n in &SIZES {
            let x = data(n, 1);
            let y = data(n, 2);
            let d: f64 = x.iter().zip(&y).map(|(&a, &b)| a as f64 * b as f64).sum();
            let ss: f64 = x.iter().map(|&a| a as f64 * a as f64).sum();
            let sa: f64 = x.iter().map(|&a| (a as f64).abs()).sum();
            let am = x.iter().fold(0.0f32, |m, &a| m.max(a.abs()));
            assert!((dot(&x, &y) - d).abs() <= 1e-12 * (1.0 + d.abs()), "dot n={}", n);
            assert!((nrm2(&x) - ss.sqrt()).abs() <= 1e-12 * (1.0 + ss.sqrt()), "nrm2 n={}", n);
            assert!((asum(&x) - sa).abs() <= 1e-12 * (1.0 + sa), "asum n={}", n);
            assert_eq!(amax(&x), am, "amax n={}", n);
        }
        assert!(amax(&[1.0, f32::NAN, 3.0]).is_nan());
        assert_eq!(amax(&[-7.5, 2.0]), 7.5);
    }

    #[test]
    fn updates_match_f32_formula() {
        for &n in &SIZES {
            let x = data(n, 3);
            let y0 = data(n, 4);
            let mut y = y0.clone();
            axpy(-0.37, &x, &mut y);
            for i in 0..n {
                assert_eq!(y[i], -0.37 * x[i] + y0[i]);
            }
            let mut s = x.clone();
            scal(1.5, &mut s);
            for i in 0..n {
                assert_eq!(s[i], 1.5 * x[i]);
            }
            let mut o = std::vec![f32::NAN; n + 2];
            lincomb(0.25, &x, -2.0, &y0, &mut o[..n]);
            for i in 0..n {
                assert_eq!(o[i], 0.25 * x[i] + -2.0 * y0[i]);
            }
            assert!(o[n].is_nan() && o[n + 1].is_nan(), "lincomb wrote past n");
            let mut z = y0.clone();
            axpby(0.25, &x, -2.0, &mut z);
            assert_eq!(&z[..], &o[..n]);
            let mut c = std::vec![0.0f32; n];
            copy(&x, &mut c);
            assert_eq!(c, x);
            let mut g = y0.clone();
            add_sign(0.5, &x, &mut g);
            for i in 0..n {
                let sg = if x[i] > 0.0 { 1.0 } else if x[i] < 0.0 { -1.0 } else { 0.0 };
                assert_eq!(g[i], y0[i] + 0.5 * sg);
            }
        }
    }
}
