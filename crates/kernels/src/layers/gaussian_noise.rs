//! Gaussian noise (Keras `GaussianNoise(stddev)`): `y = x + stddev·z` with `z ~ N(0, 1)` per
//! element while training (and under Monte Carlo sampling), the identity otherwise; the gradient
//! passes through unchanged. Record: `n_in == n_out`, `y`, `param` = stddev (finite, ≥ 0); no
//! trainable tensors.
//!
//! `z` is a pure function of `(seed, layer index, counter, element)`, like dropout's mask: element
//! `i` takes Philox-4x32-10 of `ctr = [i/4, counter, 1, 0]`, `key = [seed, layer index]` (dropout's
//! generator with domain word 1) and turns words `(2p, 2p+1)`, `p = (i mod 4)/2`, into two normals
//! by Box–Muller, `√(−2 ln u₁)·(cos 2πu₂, sin 2πu₂)`, element `i` taking the cosine when `i` is even.

use super::{floats, floats_mut, Kind, Pass};
use crate::dropout::philox4x32_10;
use crate::math::{logf, sincos_2pi, sqrtf};
use crate::plan::Layer;

pub const CODE: u32 = 3;

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

fn check(l: &Layer) -> bool {
    l.n_in == l.n_out && l.y != 0 && l.w == 0 && l.b == 0 && l.w_len == 0 && l.b_len == 0 && l.param >= 0.0 && l.param.is_finite()
}

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    let len = p.n * l.n_out as usize;
    let y = floats_mut(l.y, len);
    y.copy_from_slice(floats(input, len));
    if p.stochastic && l.param > 0.0 {
        add_noise(y, l.param, p.seed, p.index, p.counter);
    }
    Ok(false)
}

/// The identity: `g` is already dL/d(input).
unsafe fn backward(_: &Layer, _: &Pass, _input: usize, _g: usize, _dx: usize, _need_dx: bool) -> bool {
    false
}

/// `y[i] += stddev·z_i` (see the module doc).
#[inline(never)]
pub fn add_noise(y: &mut [f32], stddev: f32, seed: u32, stream: u32, counter: u32) {
    normals(y.len(), seed, stream, counter, DOMAIN, |j, z| y[j] += stddev * z);
}

/// This kind's domain word (the third counter word): dropout's masks use 0, Gaussian dropout 2,
/// alpha dropout 3, so a layer's noise and the dropout folded into it are independent.
pub const DOMAIN: u32 = 1;

/// Calls `f(i, z_i)` for `i` in `0..len`, `z_i ~ N(0, 1)` from Philox-4x32-10 of
/// `ctr = [i/4, counter, domain, 0]`, `key = [seed, stream]`, words `(2p, 2p+1)`, `p = (i mod 4)/2`,
/// through Box–Muller (element `i` takes the cosine when `i` is even): the stream the module doc
/// describes with `domain` in place of 1. Shared by the Gaussian kinds (noise, Gaussian dropout).
#[inline(always)]
pub fn normals(len: usize, seed: u32, stream: u32, counter: u32, domain: u32, mut f: impl FnMut(usize, f32)) {
    let mut z = [0.0f32; 4];
    for j in 0..len {
        if j % 4 == 0 {
            z = normal_block((j / 4) as u32, counter, domain, [seed, stream]);
        }
        f(j, z[j % 4]);
    }
}

/// The four normals of block `b` (elements `4b..4b+4`) of [`normals`]' stream. Out of line: one
/// copy of Philox and Box–Muller for every Gaussian kind.
#[inline(never)]
pub fn normal_block(b: u32, counter: u32, domain: u32, key: [u32; 2]) -> [f32; 4] {
    let w = philox4x32_10([b, counter, domain, 0], key);
    let (c0, s0) = box_muller(w[0], w[1]);
    let (c1, s1) = box_muller(w[2], w[3]);
    [c0, s0, c1, s1]
}

/// Two independent standard normals from two u32 words: `u₁ ∈ (0, 1]` (so ln u₁ is finite) and
/// `u₂ ∈ [0, 1)`, 24 bits each. Out of line: one copy of `ln` and the polynomials.
#[inline(never)]
fn box_muller(a: u32, b: u32) -> (f32, f32) {
    const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;
    let u1 = ((a >> 8) + 1) as f32 * TWO_POW_M24;
    let u2 = (b >> 8) as f64 * (1.0 / 16_777_216.0);
    let r = sqrtf(-2.0 * logf(u1));
    let (s, c) = sincos_2pi(u2);
    (r * c as f32, r * s as f32)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// 400k draws: mean 0 and variance 1 within 5 standard errors, the share within one σ
    /// (0.6827) and beyond three σ (0.0027) within 5 binomial standard errors, no non-finite value.
    #[test]
    fn draws_are_standard_normal() {
        let n = 400_000usize;
        let mut y = std::vec![0.0f32; n];
        add_noise(&mut y, 1.0, 12345, 2, 7);
        assert!(y.iter().all(|v| v.is_finite()));
        let nf = n as f64;
        let mean = y.iter().map(|&v| v as f64).sum::<f64>() / nf;
        let var = y.iter().map(|&v| (v as f64 - mean) * (v as f64 - mean)).sum::<f64>() / (nf - 1.0);
        assert!(mean.abs() < 5.0 / nf.sqrt(), "mean {}", mean);
        // Var of the sample variance of a normal: 2σ⁴/(n − 1)
        assert!((var - 1.0).abs() < 5.0 * (2.0 / (nf - 1.0)).sqrt(), "var {}", var);
        for &(k, p) in &[(1.0f32, 0.682_689_492), (3.0, 0.997_300_204)] {
            let inside = y.iter().filter(|v| v.abs() < k).count() as f64 / nf;
            assert!((inside - p).abs() < 5.0 * (p * (1.0 - p) / nf).sqrt(), "P(|z| < {}) = {}", k, inside);
        }
    }

    #[test]
    fn reproducible_per_seed_stream_counter_and_scaled_by_stddev() {
        let base: std::vec::Vec<f32> = (0..37).map(|i| i as f32 * 0.25).collect();
        let draw = |sd: f32, seed: u32, stream: u32, counter: u32| {
            let mut y = base.clone();
            add_noise(&mut y, sd, seed, stream, counter);
            y
        };
        assert_eq!(draw(0.5, 1, 2, 3), draw(0.5, 1, 2, 3));
        assert_ne!(draw(0.5, 1, 2, 3), draw(0.5, 1, 2, 4));
        assert_ne!(draw(0.5, 1, 2, 3), draw(0.5, 1, 3, 3));
        assert_ne!(draw(0.5, 1, 2, 3), draw(0.5, 2, 2, 3));
        let (a, b) = (draw(0.5, 9, 0, 0), draw(2.0, 9, 0, 0));
        for i in 0..base.len() {
            // the same z scaled: (b − x) = 4·(a − x) up to f32 rounding of each sum
            let (za, zb) = ((a[i] - base[i]) as f64, (b[i] - base[i]) as f64);
            assert!((zb - 4.0 * za).abs() <= 1e-5 * (1.0 + zb.abs()), "i = {}", i);
        }
    }
}
