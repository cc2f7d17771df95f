//! Gaussian dropout (Keras `GaussianDropout(rate)`): multiplicative 1-centred noise
//! `y = x·m`, `m = 1 + s·z`, `s = √(rate / (1 − rate))`, `z ~ N(0, 1)` per element, while training
//! (and under Monte Carlo sampling); the identity otherwise. Backward `dx = g·m`. Record:
//! `n_in == n_out`, `y`, `param` = rate (`0 ≤ rate < 1`), `aux` = the multiplier buffer
//! (`aux_len ≥ batch rows × n_out` floats: TypeScript sizes it per row of the plan's batch cap); no
//! trainable tensors.
//!
//! `z` is the Gaussian-noise stream ([`super::gaussian_noise::normals`]) with domain word
//! [`DOMAIN`] = 2: element `i` takes Box–Muller of Philox-4x32-10 of `ctr = [i/4, counter, 2, 0]`,
//! `key = [seed, layer index]`. `s` is computed in f64 and rounded to f32; `m = 1 + s·z` and
//! `y = x·m` are f32 arithmetic (as Keras's float32 `mean + stddev·normal`), so the SIMD and scalar
//! builds agree bit for bit.
//!
//! The forward pass stores `m` for backward rather than drawing it again: drawing costs a
//! Philox block per 4 elements plus a logarithm, a square root and a sine/cosine per pair
//! (bench/noise.mjs measures it against the stored multiply), while the stored multiplier costs
//! one float per element of the plan's batch, like dropout's mask.
//!
//! Keras: `inputs * normal(shape, mean=1.0, stddev=sqrt(rate / (1 - rate)))` when training and
//! `rate > 0`; Keras accepts `rate = 1` (an infinite standard deviation: NaN outputs), wasmfit
//! requires `rate < 1`.

use super::{floats, floats_mut, Kind, Pass};
use super::gaussian_noise::normal_block;
use crate::math::sqrt64;
use crate::plan::Layer;
use crate::status::STATUS_BAD_ARGUMENT;

pub const CODE: u32 = 7;

/// The third Philox counter word of this kind's stream.
pub const DOMAIN: u32 = 2;

pub static KIND: Kind = Kind {
    code: CODE,
    check,
    forward,
    backward,
    running: super::no_running,
    running_len: super::no_running_len,
    min_rows: 1,
    constrain: super::no_constraint,
};

/// The record check of a multiplicative noise kind (this one and alpha dropout): no tensors, a rate
/// in [0, 1), a multiplier block of at least one row.
pub(super) fn check(l: &Layer) -> bool {
    l.n_in == l.n_out
        && l.y != 0
        && l.w == 0
        && l.b == 0
        && l.w_len == 0
        && l.b_len == 0
        && l.param >= 0.0
        && l.param < 1.0
        && l.aux != 0
        && l.aux_len >= l.n_out
}

/// The draw of a multiplicative noise kind: `(x, y, m, rate, seed, stream, counter)`.
pub(super) type Draw = fn(&[f32], &mut [f32], &mut [f32], f32, u32, u32, u32);

/// Forward of a multiplicative noise kind: `draw` writes `y` and the multipliers into the layer's
/// block while training (or Monte Carlo sampling) at a positive rate; the identity otherwise.
pub(super) unsafe fn forward_with(l: &Layer, p: &Pass, input: usize, draw: Draw) -> Result<bool, u32> {
    let len = p.n * l.n_out as usize;
    let y = floats_mut(l.y, len);
    let x = floats(input, len);
    if p.stochastic && l.param > 0.0 {
        if (l.aux_len as usize) < len {
            return Err(STATUS_BAD_ARGUMENT);
        }
        draw(x, y, floats_mut(l.aux, len), l.param, p.seed, p.index, p.counter);
    } else {
        y.copy_from_slice(x);
    }
    Ok(false)
}

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    forward_with(l, p, input, multiply)
}

/// `dx = g·m` in place (`g` becomes dL/d`input`), with the multipliers the forward pass stored
/// (shared with alpha dropout, whose `m` is `a·keep`).
pub(super) unsafe fn backward(l: &Layer, p: &Pass, _input: usize, g: usize, _dx: usize, need_dx: bool) -> bool {
    if need_dx && l.param > 0.0 {
        let len = p.n * l.n_out as usize;
        crate::dropout::backward(floats_mut(g, len), floats(l.aux, len));
    }
    false
}

/// The multiplier's standard deviation `√(rate / (1 − rate))` (f64).
pub fn stddev(rate: f32) -> f64 {
    let r = rate as f64;
    sqrt64(r / (1.0 - r))
}

/// Forward: `m[i] = 1 + s·z_i` and `y[i] = x[i]·m[i]` in f32 (see the module doc).
#[inline(never)]
pub fn multiply(x: &[f32], y: &mut [f32], m: &mut [f32], rate: f32, seed: u32, stream: u32, counter: u32) {
    let s = stddev(rate) as f32;
    let mut z = [0.0f32; 4];
    for (j, (yj, mj)) in y.iter_mut().zip(m.iter_mut()).enumerate() {
        if j % 4 == 0 {
            z = normal_block((j / 4) as u32, counter, DOMAIN, [seed, stream]);
        }
        *mj = 1.0 + s * z[j % 4];
        *yj = x[j] * *mj;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn stddev_is_the_f64_root() {
        for &r in &[0.0f32, 0.1, 0.25, 0.5, 0.9, 0.999] {
            let want = ((r as f64) / (1.0 - r as f64)).sqrt();
            assert!((stddev(r) - want).abs() <= 1e-14 * want.max(1.0), "rate {}", r);
        }
    }

    /// 400k multipliers: mean 1 and variance rate/(1 − rate) within 5 standard errors (the
    /// variance of a sample variance of a normal is 2σ⁴/(n − 1)); `y = x·m` exactly; no
    /// non-finite value.
    #[test]
    fn multipliers_are_normal_around_one() {
        let n = 400_000usize;
        for &rate in &[0.1f32, 0.5, 0.8] {
            let x: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
            let mut y = std::vec![f32::NAN; n];
            let mut m = std::vec![f32::NAN; n];
            multiply(&x, &mut y, &mut m, rate, 77, 4, 12);
            assert!(m.iter().all(|v| v.is_finite()));
            for i in 0..n {
                assert_eq!(y[i], x[i] * m[i]);
            }
            let nf = n as f64;
            let var_want = rate as f64 / (1.0 - rate as f64);
            let mean = m.iter().map(|&v| v as f64).sum::<f64>() / nf;
            let var = m.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (nf - 1.0);
            assert!((mean - 1.0).abs() < 5.0 * (var_want / nf).sqrt(), "rate {} mean {}", rate, mean);
            assert!((var - var_want).abs() < 5.0 * var_want * (2.0 / (nf - 1.0)).sqrt(), "rate {} var {}", rate, var);
        }
    }

    /// The same `z` as Gaussian noise would draw on domain 2 (one stream, documented once), and a
    /// different stream from Gaussian noise's (domain 1) and dropout's (domain 0).
    #[test]
    fn stream_is_the_gaussian_stream_on_domain_2() {
        let n = 37usize;
        let x = std::vec![1.0f32; n];
        let (mut y, mut m) = (std::vec![0.0f32; n], std::vec![0.0f32; n]);
        multiply(&x, &mut y, &mut m, 0.5, 3, 1, 9);
        let mut z2 = std::vec![0.0f32; n];
        super::super::gaussian_noise::normals(n, 3, 1, 9, 2, |j, z| z2[j] = z);
        for i in 0..n {
            assert_eq!(m[i], (1.0 + z2[i] as f64) as f32);
        }
        let mut z1 = std::vec![0.0f32; n];
        super::super::gaussian_noise::add_noise(&mut z1, 1.0, 3, 1, 9);
        assert!(z1.iter().zip(&z2).all(|(a, b)| a != b));
    }
}
