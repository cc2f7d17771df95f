//! Losses fused with their gradients.
//!
//! Conventions of the weighted losses below: `w` holds one weight per sample (row), `None` means
//! all ones. Each returns `Σ_r w_r·loss_r` in f64 and, when `grad` is given, writes
//! `grad = scale·w_r·∂loss_r/∂z`; with `scale = 1/rows` the gradient is that of
//! `(1/rows)·Σ_r w_r·loss_r`, Keras's `sample_weight` mean ("sum over batch size"). PyTorch's
//! per-class `weight` (mean divided by Σ weights) is the caller's choice of `scale`.
//! For the element-wise losses (BCE, MSE, MAE, Huber) over `[rows, cols]`, the per-sample loss is
//! the MEAN over the `cols` outputs (Keras's reduction over the last axis), so with `scale = 1/rows`
//! and unit weights the result is PyTorch's `reduction='mean'` over all `rows·cols` elements.
//! These kernels are scalar in both builds (exp/log dominate; the plain loops of MSE/MAE/Huber are
//! left to LLVM's vectoriser).

use crate::math::{absf, expf, log1pf, logf};

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

/// Softmax cross-entropy with label smoothing ε (PyTorch `cross_entropy(label_smoothing=ε)`):
/// target `t = (1−ε)·onehot(y) + ε/K`, `loss_r = lse(z) − Σ_j t_j·z_j`
/// `= lse(z) − (1−ε)·z_y − (ε/K)·Σ_j z_j`, gradient `w_r·scale·(softmax(z) − t)`.
/// Returns `(Σ_r w_r·loss_r, #rows whose argmax equals y)`. A label outside `0..cols` makes that
/// row's loss and gradient NaN (callers validate labels first). ε = 0 is [`softmax_ce`].
#[allow(clippy::too_many_arguments)]
pub fn softmax_ce_smooth(
    logits: &[f32],
    labels: &[i32],
    rows: usize,
    cols: usize,
    weights: Option<&[f32]>,
    eps: f32,
    mut grad: Option<&mut [f32]>,
    scale: f32,
) -> (f64, u32) {
    let mut total = 0.0f64;
    let mut correct = 0u32;
    let off = eps / cols as f32;
    let on = 1.0 - eps + off;
    for r in 0..rows {
        let z = &logits[r * cols..(r + 1) * cols];
        let y = labels[r];
        let w = weights.map_or(1.0, |w| w[r]);
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
        let mut zsum = 0.0f64;
        for &v in z {
            s += expf(v - m);
            zsum += v as f64;
        }
        let lse = (logf(s) + m) as f64;
        let l = if valid {
            lse - (1.0 - eps as f64) * z[y as usize] as f64 - (eps as f64 / cols as f64) * zsum
        } else {
            f64::NAN
        };
        total += w as f64 * l;
        if let Some(g) = grad.as_deref_mut() {
            let g = &mut g[r * cols..(r + 1) * cols];
            let ws = w * scale;
            let inv = 1.0 / s;
            for j in 0..cols {
                let p = expf(z[j] - m) * inv;
                let t = if !valid {
                    f32::NAN
                } else if j == y as usize {
                    on
                } else {
                    off
                };
                g[j] = ws * (p - t);
            }
        }
    }
    (total, correct)
}

/// Softmax cross-entropy with optional per-sample weights and label smoothing: the plain
/// [`softmax_ce`] when there are neither (its faster loop), else [`softmax_ce_smooth`].
#[allow(clippy::too_many_arguments)]
pub fn softmax_ce_any(
    logits: &[f32],
    labels: &[i32],
    rows: usize,
    cols: usize,
    weights: Option<&[f32]>,
    eps: f32,
    grad: Option<&mut [f32]>,
    scale: f32,
) -> (f64, u32) {
    if weights.is_none() && eps == 0.0 {
        softmax_ce(logits, labels, rows, cols, grad, scale)
    } else {
        softmax_ce_smooth(logits, labels, rows, cols, weights, eps, grad, scale)
    }
}

/// Binary cross-entropy on logits (PyTorch `BCEWithLogitsLoss`, Keras
/// `binary_crossentropy(from_logits=True)`), numerically stable form per element:
/// `l = max(z, 0) − z·t + ln(1 + e^{−|z|})`, `∂l/∂z = σ(z) − t`. Per-sample loss is the mean over
/// the `cols` outputs (see the module doc). Targets may be soft (any `t` in [0, 1]).
pub fn bce_logits(
    z: &[f32],
    t: &[f32],
    rows: usize,
    cols: usize,
    weights: Option<&[f32]>,
    mut grad: Option<&mut [f32]>,
    scale: f32,
) -> f64 {
    let mut total = 0.0f64;
    let invc = 1.0 / cols as f32;
    for r in 0..rows {
        let w = weights.map_or(1.0, |w| w[r]);
        let mut acc = 0.0f64;
        for j in r * cols..(r + 1) * cols {
            let (zz, tt) = (z[j], t[j]);
            let e = expf(-absf(zz));
            let relu = if zz > 0.0 { zz } else { 0.0 };
            acc += (relu - zz * tt + log1pf(e)) as f64;
            if let Some(g) = grad.as_deref_mut() {
                // σ(z) from the same e^{−|z|}: 1/(1+e) for z ≥ 0, e/(1+e) for z < 0.
                let sig = if zz >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                g[j] = (w * scale * invc) * (sig - tt);
            }
        }
        total += w as f64 * acc / cols as f64;
    }
    total
}

/// Element-wise regression losses on `d = pred − target`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Regression {
    /// PyTorch `MSELoss` / Keras `mean_squared_error`: `l = d²`, `∂l/∂pred = 2d`.
    Mse,
    /// PyTorch `L1Loss` / Keras `mean_absolute_error`: `l = |d|`, `∂l/∂pred = sign(d)` (0 at 0).
    Mae,
    /// PyTorch `HuberLoss(delta)`: `l = ½d²` for `|d| ≤ δ`, else `δ·(|d| − ½δ)`;
    /// `∂l/∂pred = clamp(d, −δ, δ)`. Keras `Huber(delta)` is the same formula. (PyTorch's
    /// `SmoothL1Loss(beta)` is Huber divided by β.)
    Huber(f32),
}

/// Weighted regression loss over `[rows, cols]` with per-sample loss = mean over the `cols`
/// outputs (see the module doc): returns `Σ_r w_r·(1/cols)·Σ_j l(d_rj)` in f64 and writes
/// `grad_rj = scale·w_r·(1/cols)·∂l/∂pred_rj`.
#[allow(clippy::too_many_arguments)]
pub fn regression(
    kind: Regression,
    pred: &[f32],
    target: &[f32],
    rows: usize,
    cols: usize,
    weights: Option<&[f32]>,
    mut grad: Option<&mut [f32]>,
    scale: f32,
) -> f64 {
    let mut total = 0.0f64;
    let invc = 1.0 / cols as f32;
    for r in 0..rows {
        let w = weights.map_or(1.0, |w| w[r]);
        let gs = w * scale * invc;
        let mut acc = 0.0f64;
        for j in r * cols..(r + 1) * cols {
            let d = pred[j] - target[j];
            let (l, dl) = match kind {
                Regression::Mse => ((d as f64) * (d as f64), 2.0 * d),
                Regression::Mae => {
                    let s = if d > 0.0 {
                        1.0
                    } else if d < 0.0 {
                        -1.0
                    } else {
                        d * 0.0 // 0 at 0, NaN stays NaN
                    };
                    (absf(d) as f64, s)
                }
                Regression::Huber(delta) => {
                    let a = absf(d) as f64;
                    let dd = delta as f64;
                    if a <= dd {
                        (0.5 * a * a, d)
                    } else if a > dd {
                        (dd * (a - 0.5 * dd), if d > 0.0 { delta } else { -delta })
                    } else {
                        (f64::NAN, f32::NAN)
                    }
                }
            };
            acc += l;
            if let Some(g) = grad.as_deref_mut() {
                g[j] = gs * dl;
            }
        }
        total += w as f64 * acc / cols as f64;
    }
    total
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

    fn fd_check(f: &dyn Fn(&[f64]) -> f64, z: &[f32], g: &[f32], tol: f64) {
        let zd: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        let h = 1e-6;
        for i in 0..z.len() {
            let mut zp = zd.clone();
            zp[i] += h;
            let mut zm = zd.clone();
            zm[i] -= h;
            let fd = (f(&zp) - f(&zm)) / (2.0 * h);
            assert!((g[i] as f64 - fd).abs() < tol, "i={} got {} fd {}", i, g[i], fd);
        }
    }

    #[test]
    fn smoothed_ce_weighted_vs_f64() {
        let (rows, cols) = (5usize, 3usize);
        let z: Vec<f32> = (0..rows * cols).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3).collect();
        let y = [1i32, 2, 0, 0, 2];
        let w = [0.5f32, 1.0, 2.0, 0.0, 1.5];
        let eps = 0.1f32;
        let mut g = std::vec![0.0f32; rows * cols];
        let (loss, _) = softmax_ce_smooth(&z, &y, rows, cols, Some(&w), eps, Some(&mut g), 1.0 / rows as f32);
        let f = |zz: &[f64]| -> f64 {
            let mut t = 0.0;
            for r in 0..rows {
                let row = &zz[r * cols..(r + 1) * cols];
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = row.iter().map(|v| (v - m).exp()).sum::<f64>().ln() + m;
                let mut l = 0.0;
                for j in 0..cols {
                    let tj = (1.0 - eps as f64) * if j == y[r] as usize { 1.0 } else { 0.0 } + eps as f64 / cols as f64;
                    l += tj * (lse - row[j]);
                }
                t += w[r] as f64 * l;
            }
            t / rows as f64
        };
        let zd: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        assert!((loss / rows as f64 - f(&zd)).abs() < 1e-6);
        fd_check(&f, &z, &g, 1e-6);
        let (l0, _) = softmax_ce_smooth(&z, &y, rows, cols, None, 0.0, None, 1.0);
        let (l1, _) = softmax_ce(&z, &y, rows, cols, None, 1.0);
        assert!((l0 - l1).abs() < 1e-5);
    }

    #[test]
    fn bce_and_regression_vs_f64() {
        let (rows, cols) = (3usize, 5usize);
        let z: Vec<f32> = (0..rows * cols).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.7 + 0.05).collect();
        let t: Vec<f32> = (0..rows * cols).map(|i| ((i * 3 % 5) as f32) * 0.25).collect();
        let w = [0.5f32, 1.0, 2.0];
        let mean = |per: &dyn Fn(f64, f64) -> f64, zz: &[f64]| -> f64 {
            let mut s = 0.0;
            for r in 0..rows {
                let mut a = 0.0;
                for j in 0..cols {
                    a += per(zz[r * cols + j], t[r * cols + j] as f64);
                }
                s += w[r] as f64 * a / cols as f64;
            }
            s / rows as f64
        };
        let zd: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        let bce = |z: f64, t: f64| -> f64 { let p = 1.0 / (1.0 + (-z).exp()); -(t * p.ln() + (1.0 - t) * (1.0 - p).ln()) };
        let mut g = std::vec![0.0f32; rows * cols];
        let l = bce_logits(&z, &t, rows, cols, Some(&w), Some(&mut g), 1.0 / rows as f32);
        assert!((l / rows as f64 - mean(&bce, &zd)).abs() < 1e-6);
        fd_check(&|zz| mean(&bce, zz), &z, &g, 1e-6);
        let delta = 1.1f32;
        let kinds: [(Regression, &dyn Fn(f64, f64) -> f64); 3] = [
            (Regression::Mse, &|p, t| (p - t) * (p - t)),
            (Regression::Mae, &|p, t| (p - t).abs()),
            (Regression::Huber(delta), &|p, t| {
                let a = (p - t).abs();
                let d = delta as f64;
                if a <= d { 0.5 * a * a } else { d * (a - 0.5 * d) }
            }),
        ];
        for (k, per) in kinds.iter() {
            let l = regression(*k, &z, &t, rows, cols, Some(&w), Some(&mut g), 1.0 / rows as f32);
            assert!((l / rows as f64 - mean(*per, &zd)).abs() < 1e-6, "{:?}", k);
            fd_check(&|zz| mean(*per, zz), &z, &g, 1e-5);
        }
        // MAE subgradient 0 at 0
        let mut g1 = [9.0f32];
        regression(Regression::Mae, &[2.0], &[2.0], 1, 1, None, Some(&mut g1), 1.0);
        assert_eq!(g1[0], 0.0);
    }
}
