//! Reductions.

/// Column sums of a row-major `[rows, cols]` matrix: `out[j] = Σ_r x[r, j]` (f32, row order).
pub fn colsum(x: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    for v in out[..cols].iter_mut() {
        *v = 0.0;
    }
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        for (o, &v) in out[..cols].iter_mut().zip(row) {
            *o += v;
        }
    }
}

/// Number of NaN or ±Inf values in `x`.
pub fn count_nonfinite(x: &[f32]) -> u32 {
    let mut c = 0u32;
    for &v in x {
        if !v.is_finite() {
            c += 1;
        }
    }
    c
}

/// `Σ x_i²` accumulated in f64 (each square exact in f64), for the global gradient norm
/// `√(Σ_tensors sum_squares)` of PyTorch `clip_grad_norm_` / Keras `global_clipnorm`. The SIMD
/// path keeps two f64x2 accumulators (lanes promoted from f32x4), so its summation order differs
/// from the scalar loop's: the results agree to f64 rounding, not bit for bit.
pub fn sum_squares(x: &[f32]) -> f64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let n4 = x.len() / 4 * 4;
        let p = x.as_ptr();
        let (mut a0, mut a1) = (f64x2_splat(0.0), f64x2_splat(0.0));
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 <= len.
            let v = unsafe { v128_load(p.add(i) as *const v128) };
            let lo = f64x2_promote_low_f32x4(v);
            let hi = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 0, 1>(v, v));
            a0 = f64x2_add(a0, f64x2_mul(lo, lo));
            a1 = f64x2_add(a1, f64x2_mul(hi, hi));
            i += 4;
        }
        let a = f64x2_add(a0, a1);
        let mut s = f64x2_extract_lane::<0>(a) + f64x2_extract_lane::<1>(a);
        for &v in &x[n4..] {
            s += (v as f64) * (v as f64);
        }
        s
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut s = 0.0f64;
        for &v in x {
            s += (v as f64) * (v as f64);
        }
        s
    }
}

/// `x ← s·x` in place (gradient clipping by norm: `s = max_norm/(‖g‖ + 1e-6)` in PyTorch
/// `clip_grad_norm_`, `s = clipnorm/‖g‖` in Keras; the caller computes s). LLVM vectorises it.
pub fn scale_inplace(x: &mut [f32], s: f32) {
    for v in x.iter_mut() {
        *v *= s;
    }
}

/// `x ← min(max(x, lo), hi)` in place (PyTorch `clip_grad_value_` = `clamp_(−c, c)`, Keras
/// `clipvalue`); NaN stays NaN, as `torch.clamp`. Requires `lo ≤ hi`.
pub fn clip_inplace(x: &mut [f32], lo: f32, hi: f32) {
    for v in x.iter_mut() {
        if *v < lo {
            *v = lo;
        } else if *v > hi {
            *v = hi;
        }
    }
}

/// Row-wise argmax of `[rows, cols]`: first index of the maximum (ties → lowest index, as
/// `torch.argmax` / `np.argmax`). NaN never wins (unlike NumPy, which returns the first NaN), so
/// it agrees with the accuracy count of [`crate::loss::softmax_ce`]; an all-NaN or all-−inf row
/// gives 0.
pub fn argmax_rows(x: &[f32], rows: usize, cols: usize, out: &mut [i32]) {
    for r in 0..rows {
        out[r] = argmax(&x[r * cols..(r + 1) * cols]) as i32;
    }
}

fn argmax(row: &[f32]) -> usize {
    let mut m = f32::NEG_INFINITY;
    let mut arg = 0usize;
    for (j, &v) in row.iter().enumerate() {
        if v > m {
            m = v;
            arg = j;
        }
    }
    arg
}

/// Number of rows whose [`argmax_rows`] equals the label (categorical accuracy numerator).
pub fn count_correct(x: &[f32], labels: &[i32], rows: usize, cols: usize) -> u32 {
    let mut c = 0u32;
    for r in 0..rows {
        if argmax(&x[r * cols..(r + 1) * cols]) as i64 == labels[r] as i64 {
            c += 1;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colsum_and_nonfinite() {
        let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut o = [9.0f32; 3];
        colsum(&x, 2, 3, &mut o);
        assert_eq!(o, [5.0, 7.0, 9.0]);
        assert_eq!(count_nonfinite(&[1.0, f32::NAN, f32::INFINITY, -f32::INFINITY, 0.0]), 3);
    }

    #[test]
    fn sum_squares_scale_clip_argmax() {
        extern crate std;
        for &n in &[1usize, 3, 5, 17, 64, 1023] {
            let x: std::vec::Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.031).collect();
            let want: f64 = x.iter().map(|&v| (v as f64) * (v as f64)).sum();
            assert!((sum_squares(&x) - want).abs() <= 1e-12 * want.max(1.0));
            let mut y = x.clone();
            scale_inplace(&mut y, 0.75);
            for i in 0..n {
                assert_eq!(y[i], x[i] * 0.75);
            }
            clip_inplace(&mut y, -0.5, 0.25);
            for i in 0..n {
                assert_eq!(y[i], (x[i] * 0.75).max(-0.5).min(0.25));
            }
        }
        let mut z = [f32::NAN, 2.0];
        clip_inplace(&mut z, 0.0, 1.0);
        assert!(z[0].is_nan() && z[1] == 1.0);
        let x = [1.0f32, 3.0, 3.0, f32::NAN, 0.0, -1.0, f32::NAN, f32::NAN, f32::NAN];
        let mut o = [9i32; 3];
        argmax_rows(&x, 3, 3, &mut o);
        assert_eq!(o, [1, 1, 0]);
        assert_eq!(count_correct(&x, &[1, 0, 0], 3, 3), 2);
    }
}
