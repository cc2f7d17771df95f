//! Losses fused with their gradients.

use crate::math::{expf, logf};

/// Softmax cross-entropy over integer class labels, fused with its gradient.
///
/// For row r with logits z and label y: `loss_r = log Σ_j exp(z_j − m) + m − z_y` (m = max z),
/// the same value as PyTorch's `F.cross_entropy(z, y, reduction='none')`. When `grad` is given it
/// receives `scale · (softmax(z) − onehot(y))`; with `scale = 1/n` that is the gradient of the
/// mean loss over the batch. Returns `(Σ_r loss_r in f64, #rows whose argmax equals y)`.
/// A label outside `0..cols` makes that row's loss NaN (callers validate labels first).
pub fn softmax_ce(
    logits: &[f32],
    labels: &[i32],
    rows: usize,
    cols: usize,
    mut grad: Option<&mut [f32]>,
    scale: f32,
) -> (f64, u32) {
    let mut total = 0.0f64;
    let mut correct = 0u32;
    for r in 0..rows {
        let z = &logits[r * cols..(r + 1) * cols];
        let y = labels[r];
        let mut m = f32::NEG_INFINITY;
        let mut arg = 0usize;
        for (j, &v) in z.iter().enumerate() {
            if v > m {
                m = v;
                arg = j;
            }
        }
        let valid = y >= 0 && (y as usize) < cols;
        if valid && arg == y as usize {
            correct += 1;
        }
        let mut s = 0.0f32;
        for &v in z {
            s += expf(v - m);
        }
        let lse = logf(s) + m;
        total += if valid { (lse - z[y as usize]) as f64 } else { f64::NAN };
        if let Some(g) = grad.as_deref_mut() {
            let g = &mut g[r * cols..(r + 1) * cols];
            let inv = scale / s;
            for j in 0..cols {
                let p = expf(z[j] - m) * inv;
                g[j] = if valid && j == y as usize { p - scale } else { p };
            }
        }
    }
    (total, correct)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn ref_loss(z: &[f64], y: usize) -> f64 {
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
        s.ln() + m - z[y]
    }

    #[test]
    fn gradient_matches_central_differences_of_f64_reference() {
        let (rows, cols) = (3usize, 5usize);
        let z: Vec<f32> = (0..rows * cols).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3).collect();
        let y = [1i32, 4, 0];
        let mut g = std::vec![0.0f32; rows * cols];
        let (loss, _) = softmax_ce(&z, &y, rows, cols, Some(&mut g), 1.0 / rows as f32);
        let zd: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        let mean = |zz: &[f64]| -> f64 {
            (0..rows).map(|r| ref_loss(&zz[r * cols..(r + 1) * cols], y[r] as usize)).sum::<f64>() / rows as f64
        };
        assert!((loss / rows as f64 - mean(&zd)).abs() < 1e-6);
        let h = 1e-6;
        for i in 0..rows * cols {
            let mut zp = zd.clone();
            zp[i] += h;
            let mut zm = zd.clone();
            zm[i] -= h;
            let fd = (mean(&zp) - mean(&zm)) / (2.0 * h);
            assert!((g[i] as f64 - fd).abs() < 1e-6, "i={} got {} fd {}", i, g[i], fd);
        }
    }

    #[test]
    fn bad_label_gives_nan_not_panic() {
        let z = [0.0f32, 1.0];
        let (l, c) = softmax_ce(&z, &[7], 1, 2, None, 1.0);
        assert!(l.is_nan());
        assert_eq!(c, 0);
    }
}
