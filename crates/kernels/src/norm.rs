//! Batch normalization over features: `x` is `[rows, features]` row-major and statistics are taken
//! per feature (column) over the rows, as PyTorch `BatchNorm1d` on `(N, C)` input and Keras
//! `BatchNormalization(axis=-1)` on 2-D input.
//!
//! Sums run in f64, one column at a time (strided; no scratch buffer needed).

use crate::math::sqrtf;

/// Status: training needs at least 2 rows (the unbiased variance divides by `rows − 1`; PyTorch
/// raises "Expected more than 1 value per channel when training").
pub const TOO_FEW_ROWS: u32 = crate::status::STATUS_BAD_ARGUMENT;

/// Features a part of a split pass takes at least (a multiple of): 16 floats, one 64-byte line, so
/// no two parts write the same line of the output.
pub const CHUNK: usize = 16;

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
    let f = features;
    assert!(running_mean.len() >= f && running_var.len() >= f && save_mean.len() >= f && save_inv_std.len() >= f);
    let io = Bn::of(x, rows, features, gamma, beta, y, save_mean.as_mut_ptr() as usize, save_inv_std.as_mut_ptr() as usize);
    // SAFETY: lengths checked above; one call writes every feature.
    unsafe { train_forward_cols(&io, eps, momentum, running_mean.as_mut_ptr() as usize, running_var.as_mut_ptr() as usize, 0, features) };
    0
}

/// The buffers of one batch-norm pass, as addresses (`gamma`/`beta` 0 = none), so the parts of a
/// split can each write their own features. Forward: `x` → `out`, `mean`/`inv_std` the batch
/// statistics (written in training, the running ones in inference). Backward: `x` the forward
/// input, `out` = dx, `mean`/`inv_std` the saved statistics.
#[derive(Clone, Copy)]
pub struct Bn {
    pub x: usize,
    pub rows: usize,
    pub features: usize,
    pub gamma: usize,
    pub beta: usize,
    pub out: usize,
    pub mean: usize,
    pub inv_std: usize,
}

impl Bn {
    /// A pass over slices (the safe entry points), their lengths checked: `x`/`out` `rows·features`
    /// floats, `gamma`/`beta` `features`.
    #[allow(clippy::too_many_arguments)]
    fn of(x: &[f32], rows: usize, features: usize, gamma: Option<&[f32]>, beta: Option<&[f32]>, out: &mut [f32], mean: usize, inv_std: usize) -> Bn {
        let (n, f) = (rows * features, features);
        assert!(x.len() >= n && out.len() >= n && gamma.map_or(true, |g| g.len() >= f) && beta.map_or(true, |b| b.len() >= f));
        let addr = |s: Option<&[f32]>| s.map_or(0, |s| s.as_ptr() as usize);
        Bn { x: x.as_ptr() as usize, rows, features, gamma: addr(gamma), beta: addr(beta), out: out.as_mut_ptr() as usize, mean, inv_std }
    }
}

#[inline(always)]
unsafe fn at(p: usize, i: usize) -> f32 {
    *(p as *const f32).add(i)
}

#[inline(always)]
unsafe fn put(p: usize, i: usize, v: f32) {
    *(p as *mut f32).add(i) = v;
}

/// [`train_forward`] of the features `lo..hi` (`rows ≥ 2`): writes only those features of `out`,
/// `mean`, `inv_std` and the running statistics at `rm`/`rv`.
///
/// # Safety
/// `x`/`out` valid for `rows·features` floats, the per-feature addresses for `features`; `out`
/// does not overlap `x`; `lo ≤ hi ≤ features`.
pub unsafe fn train_forward_cols(b: &Bn, eps: f32, momentum: f32, rm: usize, rv: usize, lo: usize, hi: usize) {
    let (rows, f) = (b.rows, b.features);
    let nf = rows as f64;
    // reads through a slice (its bounds checks also keep LLVM from unrolling and vectorizing these
    // strided loops into much larger code), writes through addresses: parts write interleaved
    // features of one buffer
    let x = crate::mem::floats(b.x, rows * f);
    for j in lo..hi {
        let mut s = 0.0f64;
        for r in 0..rows {
            s += x[r * f + j] as f64;
        }
        let mean = s / nf;
        let mut q = 0.0f64;
        for r in 0..rows {
            let d = x[r * f + j] as f64 - mean;
            q += d * d;
        }
        let var = q / nf;
        let inv_std = 1.0 / sqrtf((var + eps as f64) as f32);
        let m32 = mean as f32;
        put(b.mean, j, m32);
        put(b.inv_std, j, inv_std);
        let m = momentum as f64;
        put(rm, j, ((1.0 - m) * at(rm, j) as f64 + m * mean) as f32);
        put(rv, j, ((1.0 - m) * at(rv, j) as f64 + m * (q / (nf - 1.0))) as f32);
        normalize(b, j, m32, inv_std);
    }
}

/// `out = (x − m)·(γ·inv_std) + β` on feature `j` of every row.
#[inline(always)]
unsafe fn normalize(b: &Bn, j: usize, m: f32, inv_std: f32) {
    let g = if b.gamma == 0 { 1.0 } else { at(b.gamma, j) };
    let bb = if b.beta == 0 { 0.0 } else { at(b.beta, j) };
    let gi = g * inv_std;
    let x = crate::mem::floats(b.x, b.rows * b.features);
    for r in 0..b.rows {
        let i = r * b.features + j;
        put(b.out, i, (x[i] - m) * gi + bb);
    }
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
    assert!(running_mean.len() >= features && running_var.len() >= features);
    let io = Bn::of(x, rows, features, gamma, beta, y, running_mean.as_ptr() as usize, running_var.as_ptr() as usize);
    // SAFETY: lengths checked above.
    unsafe { infer_forward_cols(&io, eps, 0, features) };
}

/// [`infer_forward`] of the features `lo..hi`, with `b.mean`/`b.inv_std` holding the running mean
/// and the running VARIANCE.
///
/// # Safety
/// As [`train_forward_cols`].
pub unsafe fn infer_forward_cols(b: &Bn, eps: f32, lo: usize, hi: usize) {
    for j in lo..hi {
        normalize(b, j, at(b.mean, j), 1.0 / sqrtf(at(b.inv_std, j) + eps));
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
    dgamma: Option<&mut [f32]>,
    dbeta: Option<&mut [f32]>,
) {
    let f = features;
    assert!(dy.len() >= rows * f && save_mean.len() >= f && save_inv_std.len() >= f);
    assert!(dgamma.as_ref().map_or(true, |d| d.len() >= f) && dbeta.as_ref().map_or(true, |d| d.len() >= f));
    let io = Bn::of(x, rows, features, gamma, None, dx, save_mean.as_ptr() as usize, save_inv_std.as_ptr() as usize);
    let dg = dgamma.map_or(0, |d| d.as_mut_ptr() as usize);
    let db = dbeta.map_or(0, |d| d.as_mut_ptr() as usize);
    // SAFETY: lengths checked above.
    unsafe { backward_cols(&io, dy.as_ptr() as usize, dg, db, 0, features) };
}

/// [`backward`] of the features `lo..hi`: writes only those features of dx (`b.out`) and of
/// `dgamma`/`dbeta` (addresses, 0 = skip).
///
/// # Safety
/// As [`train_forward_cols`]; `dy` valid for `rows·features` floats and not overlapping dx.
pub unsafe fn backward_cols(b: &Bn, dy: usize, dgamma: usize, dbeta: usize, lo: usize, hi: usize) {
    let (rows, f) = (b.rows, b.features);
    let nf = rows as f64;
    // reads through slices, writes through addresses (as train_forward_cols)
    let (x, dy) = (crate::mem::floats(b.x, rows * f), crate::mem::floats(dy, rows * f));
    for j in lo..hi {
        let (m, is) = (at(b.mean, j) as f64, at(b.inv_std, j) as f64);
        let (mut sdy, mut sdyx) = (0.0f64, 0.0f64);
        for r in 0..rows {
            let i = r * f + j;
            let d = dy[i] as f64;
            sdy += d;
            sdyx += d * (x[i] as f64 - m) * is;
        }
        let g = if b.gamma == 0 { 1.0 } else { at(b.gamma, j) } as f64;
        let k = g * is / nf;
        for r in 0..rows {
            let i = r * f + j;
            let xh = (x[i] as f64 - m) * is;
            put(b.out, i, (k * (nf * dy[i] as f64 - sdy - xh * sdyx)) as f32);
        }
        if dgamma != 0 {
            put(dgamma, j, sdyx as f32);
        }
        if dbeta != 0 {
            put(dbeta, j, sdy as f32);
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

    /// Feature ranges (as the layer splits them over threads, at and off CHUNK) give the bits of
    /// the whole pass, and each writes only its features: every buffer sits between NaN guard
    /// bands and starts as NaN where a pass writes, so a feature written twice or never shows.
    #[test]
    fn feature_ranges_give_the_whole_pass_bits() {
        const G: usize = 19;
        let (rows, f) = (37usize, 53usize);
        let pad = |v: Vec<f32>| -> Vec<f32> {
            let mut p = std::vec![f32::NAN; G];
            p.extend(v);
            p.extend(std::vec![f32::NAN; G]);
            p
        };
        let x = pad((0..rows * f).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.03 + (i % 7) as f32).collect());
        let dy = pad((0..rows * f).map(|i| ((i * 13 % 7) as f32 - 3.0) * 0.2).collect());
        let g = pad((0..f).map(|j| 0.5 + j as f32 * 0.25).collect());
        let b = pad((0..f).map(|j| j as f32 * 0.1 - 0.3).collect());
        let ad = |v: &Vec<f32>| v.as_ptr() as usize + 4 * G;
        // outputs: y, mean, inv_std, rm, rv, dx, dg, db, infer y
        let run = |ranges: &[(usize, usize)]| -> Vec<Vec<f32>> {
            let mut o: Vec<Vec<f32>> = [rows * f, f, f, f, f, rows * f, f, f, rows * f].iter().map(|&n| pad(std::vec![f32::NAN; n])).collect();
            for (k, v) in [(3usize, 0.2f32), (4, 1.5)] {
                for e in &mut o[k][G..G + f] {
                    *e = v;
                }
            }
            let a: Vec<usize> = o.iter().map(|v| v.as_ptr() as usize + 4 * G).collect();
            let fwd = Bn { x: ad(&x), rows, features: f, gamma: ad(&g), beta: ad(&b), out: a[0], mean: a[1], inv_std: a[2] };
            let bwd = Bn { out: a[5], ..fwd };
            let inf = Bn { out: a[8], mean: a[3], inv_std: a[4], ..fwd };
            for &(lo, hi) in ranges {
                unsafe { train_forward_cols(&fwd, 1e-5, 0.1, a[3], a[4], lo, hi) };
            }
            for &(lo, hi) in ranges {
                unsafe { backward_cols(&bwd, ad(&dy), a[6], a[7], lo, hi) };
                unsafe { infer_forward_cols(&inf, 1e-5, lo, hi) };
            }
            for v in &o {
                assert!(v[..G].iter().chain(v[v.len() - G..].iter()).all(|e| e.is_nan()), "guard band written");
                assert!(v[G..v.len() - G].iter().all(|e| !e.is_nan()), "a feature left unwritten");
            }
            o
        };
        let want = run(&[(0, f)]);
        for ranges in [&[(0usize, 16usize), (16, 32), (32, 53)][..], &[(0, 5), (5, 40), (40, 53)], &[(0, 48), (48, 53)]] {
            let got = run(ranges);
            for (k, (a, b)) in got.iter().zip(want.iter()).enumerate() {
                assert!(a.iter().zip(b.iter()).all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan())), "buffer {} ranges {:?}", k, ranges);
            }
        }
    }
}
