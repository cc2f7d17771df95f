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
/// column `j`). For each column with `‖w‖₂ > r` (norm accumulated in f64):
/// `w ← w·fl32(r/‖w‖₂)`; columns with `‖w‖₂ ≤ r` (and NaN norms) are left bit-identical.
/// Returns the number of columns rescaled. Requires `r ≥ 0`.
///
/// Upstream: Keras `MaxNorm(max_value=r, axis=0)` computes `w·clip(‖w‖, 0, r)/(ε + ‖w‖)` with
/// `ε = 1e-7` on EVERY column (inside columns shrink by a factor `‖w‖/(ε+‖w‖)`); PyTorch
/// `torch.renorm(p=2, maxnorm=r)` uses `r/(‖w‖ + 1e-7)` for columns above r. We drop the ε, so an
/// inside column is untouched and a rescaled column has norm r to within f32 rounding
/// (each element rounds once: `‖w'‖ ≤ r·(1 + 2^−23)`).
pub fn max_norm(w: &mut [f32], n_in: usize, n_out: usize, r: f32) -> u32 {
    let mut count = 0u32;
    for j in 0..n_out {
        let mut s = 0.0f64;
        for i in 0..n_in {
            let v = w[i * n_out + j] as f64;
            s += v * v;
        }
        let norm = sqrt64(s);
        if norm > r as f64 {
            let f = (r as f64 / norm) as f32;
            for i in 0..n_in {
                w[i * n_out + j] *= f;
            }
            count += 1;
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
            let c = max_norm(&mut w, n_in, n_out, r);
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
        assert_eq!(max_norm(&mut big, 2, 1, 1.0), 1);
        assert!((big[0] - 0.6).abs() < 1e-6 && (big[1] - 0.8).abs() < 1e-6);
    }
}
