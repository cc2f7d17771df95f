//! Batch normalization over features: `x` is `[rows, features]` row-major and statistics are taken
//! per feature (column) over the rows, as PyTorch `BatchNorm1d` on `(N, C)` input and Keras
//! `BatchNormalization(axis=-1)` on 2-D input.
//!
//! Sums run in f64, one column at a time (strided; no scratch buffer needed).

use crate::math::sqrtf;

/// Status: training needs at least 2 rows (the unbiased variance divides by `rows − 1`; PyTorch
/// raises "Expected more than 1 value per channel when training").
pub const TOO_FEW_ROWS: u32 = crate::status::STATUS_BAD_ARGUMENT;

/// Training forward. Per feature `j` over the batch: `μ = mean x`, `σ² = mean (x − μ)²` (biased,
/// used to normalise), `inv_std = 1/√(σ² + eps)`, `y = γ·(x − μ)·inv_std + β` (`γ`/`β` None = 1/0).
/// Writes `save_mean = μ`, `save_inv_std = inv_std` for [`backward`], and updates the running
/// statistics as PyTorch `BatchNorm1d` (default `momentum = 0.1`, `eps = 1e-5`):
/// `running_mean ← (1 − m)·running_mean + m·μ`,
/// `running_var ← (1 − m)·running_var + m·σ²·rows/(rows − 1)` (UNBIASED variance).
/// Keras `BatchNormalization(momentum=0.99, epsilon=1e-3)` writes the same update as
/// `moving = moving·momentum_k + stat·(1 − momentum_k)`, i.e. `m = 1 − momentum_k`, and uses the
/// biased variance for `moving_variance`. Returns 0, or [`TOO_FEW_ROWS`] with nothing written.
#[allow(clippy::too_many_arguments)]
pub fn train_forward(
    x: &[f32],
    rows: usize,
    features: usize,
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    eps: f32,
    momentum: f32,
    running_mean: &mut [f32],
    running_var: &mut [f32],
    y: &mut [f32],
    save_mean: &mut [f32],
    save_inv_std: &mut [f32],
) -> u32 {
    if rows < 2 {
        return TOO_FEW_ROWS;
    }
    let nf = rows as f64;
    for j in 0..features {
        let mut s = 0.0f64;
        for r in 0..rows {
            s += x[r * features + j] as f64;
        }
        let mean = s / nf;
        let mut q = 0.0f64;
        for r in 0..rows {
            let d = x[r * features + j] as f64 - mean;
            q += d * d;
        }
        let var = q / nf;
        let inv_std = 1.0 / sqrtf((var + eps as f64) as f32);
        let (g, b) = (gamma.map_or(1.0, |g| g[j]), beta.map_or(0.0, |b| b[j]));
        let (m32, gi) = (mean as f32, g * inv_std);
        for r in 0..rows {
            let i = r * features + j;
            y[i] = (x[i] - m32) * gi + b;
        }
        save_mean[j] = m32;
        save_inv_std[j] = inv_std;
        let m = momentum as f64;
        running_mean[j] = ((1.0 - m) * running_mean[j] as f64 + m * mean) as f32;
        running_var[j] = ((1.0 - m) * running_var[j] as f64 + m * (q / (nf - 1.0))) as f32;
    }
    0
}

/// Inference forward with the running statistics: `y = γ·(x − running_mean)/√(running_var + eps) + β`.
#[allow(clippy::too_many_arguments)]
pub fn infer_forward(
    x: &[f32],
    rows: usize,
    features: usize,
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    eps: f32,
    running_mean: &[f32],
    running_var: &[f32],
    y: &mut [f32],
) {
    for j in 0..features {
        let inv_std = 1.0 / sqrtf(running_var[j] + eps);
        let (g, b) = (gamma.map_or(1.0, |g| g[j]), beta.map_or(0.0, |b| b[j]));
        let (m, gi) = (running_mean[j], g * inv_std);
        for r in 0..rows {
            let i = r * features + j;
            y[i] = (x[i] - m) * gi + b;
        }
    }
}

/// Backward of [`train_forward`] (batch statistics), with `x̂ = (x − μ)·inv_std`:
/// `dβ = Σ_r dy`, `dγ = Σ_r dy·x̂`, `dx = γ·inv_std/N·(N·dy − dβ − x̂·dγ)` (PyTorch
/// `batch_norm_backward`). `dgamma`/`dbeta` are overwritten (None to skip). `dx` must not alias
/// `dy`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    dy: &[f32],
    rows: usize,
    features: usize,
    gamma: Option<&[f32]>,
    save_mean: &[f32],
    save_inv_std: &[f32],
    dx: &mut [f32],
    mut dgamma: Option<&mut [f32]>,
    mut dbeta: Option<&mut [f32]>,
) {
    let nf = rows as f64;
    for j in 0..features {
        let (m, is) = (save_mean[j] as f64, save_inv_std[j] as f64);
        let (mut sdy, mut sdyx) = (0.0f64, 0.0f64);
        for r in 0..rows {
            let i = r * features + j;
            let d = dy[i] as f64;
            sdy += d;
            sdyx += d * (x[i] as f64 - m) * is;
        }
        let g = gamma.map_or(1.0, |g| g[j]) as f64;
        let k = g * is / nf;
        for r in 0..rows {
            let i = r * features + j;
            let xh = (x[i] as f64 - m) * is;
            dx[i] = (k * (nf * dy[i] as f64 - sdy - xh * sdyx)) as f32;
        }
        if let Some(d) = dgamma.as_deref_mut() {
            d[j] = sdyx as f32;
        }
        if let Some(d) = dbeta.as_deref_mut() {
            d[j] = sdy as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn ref_fwd(x: &[f64], rows: usize, f: usize, g: &[f64], b: &[f64], eps: f64) -> Vec<f64> {
        let mut y = std::vec![0.0; rows * f];
        for j in 0..f {
            let mean = (0..rows).map(|r| x[r * f + j]).sum::<f64>() / rows as f64;
            let var = (0..rows).map(|r| (x[r * f + j] - mean).powi(2)).sum::<f64>() / rows as f64;
            for r in 0..rows {
                y[r * f + j] = g[j] * (x[r * f + j] - mean) / (var + eps).sqrt() + b[j];
            }
        }
        y
    }

    #[test]
    fn forward_running_stats_and_backward_vs_f64() {
        for &(rows, f) in &[(2usize, 1usize), (3, 5), (17, 3), (64, 17)] {
            let x: Vec<f32> = (0..rows * f).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.03 + (i % f) as f32).collect();
            let g: Vec<f32> = (0..f).map(|j| 0.5 + j as f32 * 0.25).collect();
            let b: Vec<f32> = (0..f).map(|j| j as f32 * 0.1 - 0.3).collect();
            let (mut rm, mut rv) = (std::vec![0.2f32; f], std::vec![1.5f32; f]);
            let (mut y, mut sm, mut si) = (std::vec![0.0f32; rows * f], std::vec![0.0f32; f], std::vec![0.0f32; f]);
            let eps = 1e-5f32;
            assert_eq!(train_forward(&x, rows, f, Some(&g), Some(&b), eps, 0.1, &mut rm, &mut rv, &mut y, &mut sm, &mut si), 0);
            let xd: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let gd: Vec<f64> = g.iter().map(|&v| v as f64).collect();
            let bd: Vec<f64> = b.iter().map(|&v| v as f64).collect();
            let want = ref_fwd(&xd, rows, f, &gd, &bd, eps as f64);
            for i in 0..rows * f {
                assert!((y[i] as f64 - want[i]).abs() < 2e-5, "{} {}", y[i], want[i]);
            }
            for j in 0..f {
                let mean = (0..rows).map(|r| xd[r * f + j]).sum::<f64>() / rows as f64;
                let uv = (0..rows).map(|r| (xd[r * f + j] - mean).powi(2)).sum::<f64>() / (rows - 1) as f64;
                assert!((rm[j] as f64 - (0.9 * 0.2 + 0.1 * mean)).abs() < 1e-6);
                assert!((rv[j] as f64 - (0.9 * 1.5 + 0.1 * uv)).abs() < 1e-5);
            }
            // gradient of L = Σ y·R
            let rr: Vec<f64> = (0..rows * f).map(|i| ((i * 13 % 7) as f64 - 3.0) * 0.2).collect();
            let dy: Vec<f32> = rr.iter().map(|&v| v as f32).collect();
            let (mut dx, mut dg, mut db) = (std::vec![0.0f32; rows * f], std::vec![0.0f32; f], std::vec![0.0f32; f]);
            backward(&x, &dy, rows, f, Some(&g), &sm, &si, &mut dx, Some(&mut dg), Some(&mut db));
            let lossf = |xx: &[f64], gg: &[f64], bb: &[f64]| -> f64 {
                ref_fwd(xx, rows, f, gg, bb, eps as f64).iter().zip(&rr).map(|(a, b)| a * b).sum()
            };
            let h = 1e-6;
            for i in 0..rows * f {
                let (mut p, mut m) = (xd.clone(), xd.clone());
                p[i] += h;
                m[i] -= h;
                let fd = (lossf(&p, &gd, &bd) - lossf(&m, &gd, &bd)) / (2.0 * h);
                assert!((dx[i] as f64 - fd).abs() < 1e-4 * fd.abs().max(1.0), "dx {} {} {}", i, dx[i], fd);
            }
            for j in 0..f {
                let (mut p, mut m) = (gd.clone(), gd.clone());
                p[j] += h;
                m[j] -= h;
                let fd = (lossf(&xd, &p, &bd) - lossf(&xd, &m, &bd)) / (2.0 * h);
                assert!((dg[j] as f64 - fd).abs() < 1e-4 * fd.abs().max(1.0));
                let (mut p, mut m) = (bd.clone(), bd.clone());
                p[j] += h;
                m[j] -= h;
                let fd = (lossf(&xd, &gd, &p) - lossf(&xd, &gd, &m)) / (2.0 * h);
                assert!((db[j] as f64 - fd).abs() < 1e-4 * fd.abs().max(1.0));
            }
            let mut yi = std::vec![0.0f32; rows * f];
            infer_forward(&x, rows, f, Some(&g), Some(&b), eps, &rm, &rv, &mut yi);
            for i in 0..rows * f {
                let j = i % f;
                let w = gd[j] * (xd[i] - rm[j] as f64) / (rv[j] as f64 + eps as f64).sqrt() + bd[j];
                assert!((yi[i] as f64 - w).abs() < 1e-5 * w.abs().max(1.0));
            }
        }
        let mut z = [0.0f32; 4];
        let (mut a, mut b2, mut c, mut d) = ([0.0f32; 4], [0.0f32; 4], [0.0f32; 4], [0.0f32; 4]);
        assert_eq!(train_forward(&[1.0; 4], 1, 4, None, None, 1e-5, 0.1, &mut a, &mut b2, &mut z, &mut c, &mut d), TOO_FEW_ROWS);
    }
}
