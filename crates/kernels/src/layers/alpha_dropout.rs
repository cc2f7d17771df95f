//! Alpha dropout (Keras `AlphaDropout(rate)`, PyTorch `nn.AlphaDropout(p)`), the dropout of
//! self-normalizing (SELU) networks: each element is kept with probability `1 − rate`, a dropped
//! one is set to SELU's negative saturation `α' = −λα = −1.7580993408473766`, and an affine map
//! restores mean 0 and variance 1 for inputs with mean 0 and variance 1:
//!
//! `y = a·(x·keep + α'·(1 − keep)) + b`, `a = ((1 − rate)(1 + rate·α'²))^(−1/2)`, `b = −a·α'·rate`;
//! backward `dx = a·keep·g`. While training (and under Monte Carlo sampling); the identity
//! otherwise.
//!
//! Keras 3 (`keras/src/layers/regularization/alpha_dropout.py`) computes exactly this, keeping an
//! element when `uniform() >= rate`. PyTorch (`aten/src/ATen/native/Dropout.cpp`,
//! `_dropout_impl<alpha_dropout>`) writes it as `x·(keep·a) + ((keep − 1)·α·a + α·a·p)` with
//! `α = 1.7580993408473766`, `a = 1/√((α²p + 1)(1 − p))`: the same function. They differ at
//! `rate = 1`: PyTorch returns zeros, Keras divides by zero (NaN); wasmfit requires `rate < 1`.
//!
//! Record: `n_in == n_out`, `y`, `param` = rate (`0 ≤ rate < 1`), `aux` = the multiplier buffer
//! `a·keep` (`aux_len ≥ batch rows × n_out` floats), no trainable tensors. The keep mask is
//! dropout's rule (drop iff the u32 word `< round(rate·2^32)`) on the stream with domain word
//! [`DOMAIN`] = 3: element `i` takes word `i mod 4` of Philox-4x32-10 of
//! `ctr = [i/4, counter, 3, 0]`, `key = [seed, layer index]`. `a`, `b` and the dropped value
//! `a·α' + b` are computed in f64 from the f32 rate and rounded to f32; a kept element is
//! `a·x + b` in f32 arithmetic (PyTorch's `x·(keep·a) + b` in the tensor's dtype). The forward pass
//! stores `a·keep` for backward (one multiply, like dropout's mask). Keras's `noise_shape` (a mask
//! shared along some axes) is not supported.

use super::{Kind, Pass};
use crate::dropout::philox4x32_10;
use crate::math::sqrt64;
use crate::plan::Layer;

pub const CODE: u32 = 8;

/// The third Philox counter word of this kind's stream.
pub const DOMAIN: u32 = 3;

/// `α' = −λα`, SELU's negative saturation (Keras `-alpha * scale`, PyTorch's `-alpha`).
pub const ALPHA_P: f64 = -1.758_099_340_847_376_6;

pub static KIND: Kind = Kind {
    code: CODE,
    // the record check and `dx = g·m` (here `m = a·keep`) of gaussian dropout
    check: super::gaussian_dropout::check,
    forward,
    backward: super::gaussian_dropout::backward,
    running: super::no_running,
    running_len: super::no_running_len,
    min_rows: 1,
    constrain: super::no_constraint,
};

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    super::gaussian_dropout::forward_with(l, p, input, apply)
}

/// `(a, b)` of the module doc, in f64.
pub fn affine(rate: f32) -> (f64, f64) {
    let r = rate as f64;
    let a = 1.0 / sqrt64((1.0 - r) * (1.0 + r * ALPHA_P * ALPHA_P));
    (a, -a * ALPHA_P * r)
}

/// Forward: `m[i] = a·keep_i` and `y[i] = x[i]·m[i] + (keep_i ? b : a·α' + b)` in f32 (see the module doc).
#[inline(never)]
pub fn apply(x: &[f32], y: &mut [f32], m: &mut [f32], rate: f32, seed: u32, stream: u32, counter: u32) {
    let (a, b) = affine(rate);
    let dropped = (a * ALPHA_P + b) as f32;
    let (a, b) = (a as f32, b as f32);
    // drop iff u < threshold (dropout's rule; threshold ≤ 2^32 lives in a u64)
    let threshold = (rate as f64 * 4_294_967_296.0 + 0.5) as u64;
    let mut words = [0u32; 4];
    for (j, (yj, mj)) in y.iter_mut().zip(m.iter_mut()).enumerate() {
        if j % 4 == 0 {
            words = philox4x32_10([(j / 4) as u32, counter, DOMAIN, 0], [seed, stream]);
        }
        // y = x·(a·keep) + (keep ? b : a·α' + b): PyTorch's x·noise + b, so a non-finite input
        // stays non-finite when dropped (x·0), as upstream
        let keep = words[j % 4] as u64 >= threshold;
        *mj = if keep { a } else { 0.0 };
        *yj = x[j] * *mj + if keep { b } else { dropped };
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// SELU's negative saturation is −λα with Keras's constants, and the affine map is PyTorch's
    /// `a = 1/√((α²p + 1)(1 − p))`, `b`-term `α·a·p` for a kept element.
    #[test]
    fn constants_match_keras_and_pytorch() {
        let (alpha, scale) = (1.673_263_242_354_377_3f64, 1.050_700_987_355_480_5f64);
        assert!((ALPHA_P + alpha * scale).abs() < 1e-15);
        for &p in &[0.05f32, 0.2, 0.5, 0.75] {
            let (a, b) = affine(p);
            let pf = p as f64;
            let al = 1.758_099_340_847_376_6f64;
            let a_torch = 1.0 / ((al * al * pf + 1.0) * (1.0 - pf)).sqrt();
            assert!((a - a_torch).abs() < 1e-14, "p {}", p);
            assert!((b - al * a_torch * pf).abs() < 1e-14, "p {}", p);
        }
    }

    /// As PyTorch (`x·noise + b`) and Keras (`x·keep + α'(1 − keep)`): a non-finite input gives a
    /// non-finite output whether kept or dropped; a finite dropped input gives exactly `a·α' + b`.
    #[test]
    fn non_finite_inputs_stay_non_finite() {
        let n = 64usize;
        let x: Vec<f32> = (0..n).map(|i| [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1.5][i % 4]).collect();
        let (mut y, mut m) = (std::vec![0.0f32; n], std::vec![0.0f32; n]);
        apply(&x, &mut y, &mut m, 0.5, 1, 2, 3);
        assert!(m.iter().any(|&v| v == 0.0) && m.iter().any(|&v| v != 0.0));
        let (a, b) = affine(0.5);
        for i in 0..n {
            if x[i].is_finite() {
                let want = if m[i] == 0.0 { (a * ALPHA_P + b) as f32 } else { a as f32 * x[i] + b as f32 };
                assert_eq!(y[i], want, "i = {}", i);
            } else {
                assert!(!y[i].is_finite(), "i = {}", i);
            }
        }
    }

    /// Inputs with mean 0 and variance 1 — SELU of standard normals, the fixed point of a
    /// self-normalizing network — keep mean 0 and variance 1 within 5 standard errors (Keras's and
    /// the paper's claim), and the kept share is 1 − rate within 5 binomial standard errors.
    #[test]
    fn keeps_mean_zero_and_variance_one() {
        let n = 200_000usize;
        // standard normals by the Gaussian stream (its moments are tested in gaussian_noise.rs)
        let mut z = std::vec![0.0f32; n];
        super::super::gaussian_noise::add_noise(&mut z, 1.0, 5, 0, 1);
        let (lam, al) = (1.050_700_987_355_480_5f64, 1.673_263_242_354_377_3f64);
        let x: Vec<f32> = z.iter().map(|&v| { let v = v as f64; (if v > 0.0 { lam * v } else { lam * al * (v.exp() - 1.0) }) as f32 }).collect();
        let moments = |v: &[f32]| {
            let nf = v.len() as f64;
            let mean = v.iter().map(|&t| t as f64).sum::<f64>() / nf;
            let var = v.iter().map(|&t| (t as f64 - mean).powi(2)).sum::<f64>() / (nf - 1.0);
            let m4 = v.iter().map(|&t| (t as f64 - mean).powi(4)).sum::<f64>() / nf;
            (mean, var, m4)
        };
        let nf = n as f64;
        let (mx, vx, _) = moments(&x);
        assert!(mx.abs() < 0.02 && (vx - 1.0).abs() < 0.02, "selu inputs: mean {} var {}", mx, vx);
        for &rate in &[0.05f32, 0.1, 0.3, 0.5] {
            let mut y = std::vec![f32::NAN; n];
            let mut m = std::vec![f32::NAN; n];
            apply(&x, &mut y, &mut m, rate, 11, 2, 3);
            let (my, vy, m4) = moments(&y);
            // the inputs' own sampling error plus the output's: compare with the inputs' moments
            // mapped through the layer's expectation (E[y] = a·(1−r)·mx... for mean 0 and var 1
            // exactly) and bound by the standard errors of the mean and of the variance
            let se_mean = (vy / nf).sqrt();
            let se_var = ((m4 - vy * vy) / nf).sqrt();
            let (a, _) = affine(rate);
            let r = rate as f64;
            let want_mean = a * (1.0 - r) * mx; // E[y | x's sample mean]
            let want_var = a * a * (1.0 - r) * (vx + r * (mx - ALPHA_P).powi(2)); // Var given x's sample moments
            assert!((my - want_mean).abs() < 5.0 * se_mean, "rate {} mean {}", rate, my);
            assert!((vy - want_var).abs() < 5.0 * se_var, "rate {} var {}", rate, vy);
            assert!(my.abs() < 5.0 * se_mean + 5.0 * (1.0 / nf).sqrt(), "rate {} mean {}", rate, my);
            assert!((vy - 1.0).abs() < 5.0 * se_var + 0.02, "rate {} var {}", rate, vy);
            let kept = m.iter().filter(|&&v| v != 0.0).count() as f64;
            assert!((kept - nf * (1.0 - r)).abs() < 5.0 * (nf * r * (1.0 - r)).sqrt(), "rate {} kept {}", rate, kept);
        }
    }
}
