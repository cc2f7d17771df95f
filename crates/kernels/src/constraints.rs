//! Weight constraints applied after an optimizer step.

/// √s in f64 without libm: exponent-halving guess (relative error < 6%), five Newton steps.
fn sqrt64(s: f64) -> f64 {
    if !(s > 0.0) || s == f64::INFINITY {
        return if s == 0.0 { 0.0 } else { s }; // 0, NaN, +inf (s is a sum of squares: never < 0)
    }
    let mut y = f64::from_bits((s.to_bits() >> 1) + (1023u64 << 51));
    for _ in 0..5 {
        y = 0.5 * (y + s / y);
    }
    y
}

/// Max-norm on `W` `[n_in, n_out]` row-major (Keras layout: unit `j`'s incoming weights are
/// column `j`), norms accumulated in f64. Returns the number of columns with `‖w‖₂ > r`.
/// Requires `r ≥ 0`, `eps ≥ 0`.
///
/// - `eps = 0` (wasmfit's default): each column with `‖w‖₂ > r` becomes `w·fl32(r/‖w‖₂)`;
///   columns with `‖w‖₂ ≤ r` (and NaN norms) are left bit-identical, and a rescaled column has
///   norm r to within f32 rounding (each element rounds once: `‖w'‖ ≤ r·(1 + 2^−23)`).
/// - `eps > 0`: Keras's `MaxNorm(max_value=r, axis=0)` (keras/src/constraints/constraints.py,
///   `w·(clip(‖w‖, 0, r)/(ε + ‖w‖))`, ε = `backend.epsilon()` = 1e-7 by default) on EVERY
///   column: `w·fl32(min(‖w‖, r)/(ε + ‖w‖))`, so an inside column shrinks by `‖w‖/(ε + ‖w‖)` and a
///   zero column stays zero. Keras evaluates the norm and the factor in float32; here they are f64,
///   rounded once.
///
/// PyTorch `torch.renorm(p=2, maxnorm=r)` uses `r/(‖w‖ + 1e-7)` for the columns above r only.
pub fn max_norm(w: &mut [f32], n_in: usize, n_out: usize, r: f32, eps: f32) -> u32 {
    let mut count = 0u32;
    for j in 0..n_out {
        let mut s = 0.0f64;
        for i in 0..n_in {
            let v = w[i * n_out + j] as f64;
            s += v * v;
        }
        let norm = sqrt64(s);
        let above = norm > r as f64;
        if above {
            count += 1;
        }
        let f = if eps > 0.0 {
            let desired = if above { r as f64 } else { norm };
            (desired / (eps as f64 + norm)) as f32
        } else if above {
            (r as f64 / norm) as f32
        } else {
            continue;
        };
        for i in 0..n_in {
            w[i * n_out + j] *= f;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn columns_above_r_rescaled_inside_untouched() {
        for &(n_in, n_out) in &[(1usize, 1usize), (3, 5), (17, 3), (64, 17), (5, 1023)] {
            let w0: Vec<f32> = (0..n_in * n_out).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.03).collect();
            let mut w = w0.clone();
            let r = 0.8f32;
            let c = max_norm(&mut w, n_in, n_out, r, 0.0);
            let mut expect_count = 0;
            for j in 0..n_out {
                let n0: f64 = (0..n_in).map(|i| (w0[i * n_out + j] as f64).powi(2)).sum::<f64>().sqrt();
                let n1: f64 = (0..n_in).map(|i| (w[i * n_out + j] as f64).powi(2)).sum::<f64>().sqrt();
                if n0 > r as f64 {
                    expect_count += 1;
                    assert!((n1 - r as f64).abs() <= r as f64 * 1e-6, "{} {}", n1, r);
                } else {
                    for i in 0..n_in {
                        assert_eq!(w[i * n_out + j].to_bits(), w0[i * n_out + j].to_bits());
                    }
                }
            }
            assert_eq!(c, expect_count);
        }
        let mut big = [3e30f32, 4e30];
        assert_eq!(max_norm(&mut big, 2, 1, 1.0, 0.0), 1);
        assert!((big[0] - 0.6).abs() < 1e-6 && (big[1] - 0.8).abs() < 1e-6);
    }

    /// Keras's form: keras/src/constraints/constraints_test.py `test_max_norm` (keras-team/keras
    /// 18f430e0): MaxNorm(2.0) on columns [0,0,0], [1,0,0], [3,0,0], [3,3,3] gives [0,0,0],
    /// [1,0,0], [2,0,0], [2/√3]·3 (assertAllClose: 1e-6); and the f64 formula on odd sizes.
    #[test]
    fn keras_form_matches_upstream_and_f64() {
        // [n_in = 3, n_out = 4] row-major: column j is unit j
        let cols = [[0.0f32, 0.0, 0.0], [1.0, 0.0, 0.0], [3.0, 0.0, 0.0], [3.0, 3.0, 3.0]];
        let mut w = [0f32; 12];
        for j in 0..4 {
            for i in 0..3 {
                w[i * 4 + j] = cols[j][i];
            }
        }
        assert_eq!(max_norm(&mut w, 3, 4, 2.0, 1e-7), 2);
        let s = 2.0 / 3f32.sqrt();
        let want = [[0.0f32, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [s, s, s]];
        for j in 0..4 {
            for i in 0..3 {
                assert!((w[i * 4 + j] - want[j][i]).abs() <= 1e-6 + 1e-6 * want[j][i].abs(), "{} {}", j, i);
            }
        }
        // an inside column shrinks by ‖w‖/(ε + ‖w‖)
        let mut one = [1.0f32];
        max_norm(&mut one, 1, 1, 2.0, 1e-3);
        assert_eq!(one[0], (1.0f64 / 1.001) as f32);
        for &(n_in, n_out) in &[(1usize, 1usize), (3, 5), (17, 3), (5, 1023)] {
            let w0: Vec<f32> = (0..n_in * n_out).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.03).collect();
            let mut w = w0.clone();
            let (r, eps) = (0.8f32, 1e-2f32);
            max_norm(&mut w, n_in, n_out, r, eps);
            for j in 0..n_out {
                let n0: f64 = (0..n_in).map(|i| (w0[i * n_out + j] as f64).powi(2)).sum::<f64>().sqrt();
                let f = n0.min(r as f64) / (eps as f64 + n0);
                for i in 0..n_in {
                    let want = w0[i * n_out + j] as f64 * f;
                    assert!((w[i * n_out + j] as f64 - want).abs() <= 1e-6 * want.abs().max(1e-3));
                }
            }
        }
    }
}
