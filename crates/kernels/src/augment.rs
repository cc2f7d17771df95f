//! Image augmentation in the training step (Keras 2 `RandomFlip`, `RandomTranslation`,
//! `RandomRotation`, `RandomZoom`, `RandomContrast`, as tf.keras 2.10–2.15 define them), on
//! channels-last images `[n, h, w, c]`. The five layer kinds (`layers/random_*.rs`) share
//! [`BASE`]: a record with the image's [`ConvGeom`] at `geom` (`h, w, c`; `n_in = n_out = h·w·c`),
//! the [`ARGS`]-float argument block at `aux` and no tensors. They are active only while training
//! (`Pass::train`); at inference, in evaluation and under Monte Carlo sampling they copy their
//! input. They have no backward: TypeScript places them before every layer with trainable
//! parameters, so no gradient is ever needed at their input.
//!
//! Argument block `a`: `[lo₀, hi₀, lo₁, hi₁, fill mode, interpolation, fill value, mode]`; each
//! image draws parameter `k` uniformly as `lo_k + (hi_k − lo_k)·u_k` (f32, TensorFlow's
//! `random_uniform` arithmetic; `lo > hi` is allowed, as Keras allows it for zoom):
//! - flip: `mode` bit 0 horizontal, bit 1 vertical; each enabled flip happens with probability ½;
//! - translation: fractions of the height (`k = 0`) and width (`k = 1`), shifting by `−f·h`, `−f·w`
//!   in input coordinates (Keras `get_translation_matrix`);
//! - rotation: turns (`k = 0`; Keras's factor is a fraction of 2π), counter-clockwise for positive
//!   angles (Keras `get_rotation_matrix`);
//! - zoom: factors `1 + u` (TypeScript stores `1 + lower`, `1 + upper`) for the height and, when
//!   `mode` is 1, the width (else the width takes the height's: Keras `width_factor=None`);
//!   `> 1` zooms out (Keras `get_zoom_matrix`);
//! - contrast: the factor (`1 − lower`, `1 + upper`).
//!
//! Random stream: image `r` of the batch takes `philox4x32_10(ctr = [r, counter, 0x4155_4700 |
//! code, 0], key = [seed, layer index])` (dropout's generator and key; the third counter word is a
//! domain per kind, so a dropout folded into the same record never shares words with it) and uses
//! words `w₀` (parameter 0, horizontal flip) and `w₁` (parameter 1, vertical flip):
//! `u_k = (w_k >> 8)·2⁻²⁴ ∈ [0, 1)`, and a flip happens iff `w_k < 2³¹`. So an image's parameters
//! depend only on the seed, the layer, the step counter and its row in the batch.
//!
//! Translation, rotation, zoom and flip are one projective warp with TensorFlow's
//! `ImageProjectiveTransformV3` semantics (tensorflow/core/kernels/image/image_ops.h): output pixel
//! `(x, y)` (integer indices, pixel centers) reads input coordinates `(a₀x + a₁y + a₂, b₀x + b₁y +
//! b₂)` (f32), mapped by the fill mode ([`map`]) and interpolated (nearest: round half away from
//! zero; bilinear: the four neighbours `floor`, `floor + 1`), taps outside the image reading the
//! fill value. Flip is the warp `x → w − 1 − x` with nearest interpolation (exact). Contrast is
//! `(x − mean)·factor + mean` per image and channel (mean over the image, accumulated in f64),
//! clipped to [0, 255] as tf.keras 2.x `RandomContrast` clips.

use crate::conv::ConvGeom;
use crate::dropout::philox4x32_10;
use crate::math::floorf;

/// Floats of the argument block.
pub const ARGS: usize = 8;
pub const FLIP: u32 = 10;
pub const TRANSLATION: u32 = 11;
pub const ROTATION: u32 = 12;
pub const ZOOM: u32 = 13;
pub const CONTRAST: u32 = 14;
/// Fill modes (`a[4]`), Keras's `fill_mode` in this order.
pub const REFLECT: u32 = 0;
pub const WRAP: u32 = 1;
pub const CONSTANT: u32 = 2;
pub const NEAREST: u32 = 3;

/// A sane argument block for kind `code`: finite values, known fill mode, interpolation and mode.
pub fn valid_args(code: u32, a: &[f32]) -> bool {
    (FLIP..=CONTRAST).contains(&code)
        && a.len() == ARGS
        && a.iter().map(|v| v * 0.0).sum::<f32>() == 0.0 // all finite
        && a[4] >= 0.0
        && a[4] <= 3.0
        && (a[5] == 0.0 || a[5] == 1.0)
        && a[7] >= 0.0
        && a[7] <= 3.0
}

/// The per-image parameters image `row` draws (see the module doc).
pub fn draw(code: u32, a: &[f32], seed: u32, stream: u32, counter: u32, row: u32) -> [f32; 2] {
    let w = philox4x32_10([row, counter, 0x4155_4700 | code, 0], [seed, stream]);
    let v = |k: usize| a[2 * k] + (a[2 * k + 1] - a[2 * k]) * ((w[k] >> 8) as f32 * (1.0 / 16_777_216.0));
    let mode = a[7] as u32;
    match code {
        FLIP => [(mode & 1 != 0 && w[0] < 1 << 31) as u32 as f32, (mode & 2 != 0 && w[1] < 1 << 31) as u32 as f32],
        ZOOM if mode == 0 => [v(0); 2],
        _ => [v(0), v(1)],
    }
}

/// Augments one image `x` (`h·w·c` floats) into `y` with parameters `p` (as [`draw`] returns them).
/// The geometric kinds warp with the linear part `[[a, b], [d, e]]` about the image center
/// `(cx, cy) = ((w − 1)/2, (h − 1)/2)` plus a shift: `x_in = a·x + b·y + (cx − (a·cx + b·cy) + tx)`
/// (likewise `y_in`). That is Keras's `get_rotation_matrix` bit for bit (its offsets are twice
/// these, halved), its translation (`tx = −dx`, `ty = −dy`) and flips exactly, and
/// `get_zoom_matrix`'s `cx·(1 − z)` up to the rounding of one f32 operation.
#[inline(never)]
pub fn apply(code: u32, a: &[f32], g: &ConvGeom, p: [f32; 2], x: &[f32], y: &mut [f32]) {
    let (cx, cy) = ((g.w as f32 - 1.0) / 2.0, (g.h as f32 - 1.0) / 2.0);
    let (m, tx, ty) = match code {
        CONTRAST => return contrast(g, p[0], x, y),
        FLIP => ([1.0 - 2.0 * p[0], 0.0, 0.0, 1.0 - 2.0 * p[1]], 0.0, 0.0),
        TRANSLATION => ([1.0, 0.0, 0.0, 1.0], -(p[1] * g.w as f32), -(p[0] * g.h as f32)),
        ROTATION => {
            let (s, c) = crate::math::sincos_2pi((p[0] - floorf(p[0])) as f64); // exact fraction
            ([c as f32, -s as f32, s as f32, c as f32], 0.0, 0.0)
        }
        _ => ([p[1], 0.0, 0.0, p[0]], 0.0, 0.0),
    };
    let t = [m[0], m[1], cx - (m[0] * cx + m[1] * cy) + tx, m[2], m[3], cy - (m[2] * cx + m[3] * cy) + ty];
    let flip = code == FLIP;
    warp(&t, if flip { NEAREST } else { a[4] as u32 }, !flip && a[5] != 0.0, a[6], g, x, y)
}

/// TensorFlow's `MapCoordinate` of fill mode `mode`: an input coordinate on an axis of `len`
/// pixels mapped into the image, in f32 with its integer casts (C++ truncation). REFLECT:
/// half-sample symmetric (`d c b a | a b c d | d c b a`), WRAP: TensorFlow's wrap, which adds or
/// subtracts `len` per `len − 1` (so it is the periodic wrap only within one period beyond each
/// edge; Keras inherits this), NEAREST: clamp; all three then clamp to `[0, len − 1]`.
/// CONSTANT: unchanged (taps outside read the fill value).
#[inline(never)]
pub fn map(v: f32, len: u32, mode: u32) -> f32 {
    let l = len as f32;
    let tr = trunc;
    let v = match mode {
        CONSTANT => return v,
        _ if len <= 1 => 0.0, // every mode but CONSTANT ends at the only pixel
        REFLECT if v < 0.0 => {
            let z = v + 2.0 * l * tr(-v / (2.0 * l));
            if z < -l {
                z + 2.0 * l
            } else {
                -z - 1.0
            }
        }
        REFLECT if v > l - 1.0 => {
            let z = v - 2.0 * l * tr(v / (2.0 * l));
            if z >= l {
                2.0 * l - z - 1.0
            } else {
                z
            }
        }
        WRAP if v < 0.0 => v + l * (tr(-v / (l - 1.0)) + 1.0),
        WRAP if v > l - 1.0 => v - l * tr(v / (l - 1.0)),
        _ => v,
    };
    if v < 0.0 {
        0.0
    } else if v > l - 1.0 {
        l - 1.0
    } else {
        v
    }
}

/// `v` truncated toward zero (C++'s integer cast; |v| < 2³¹ here).
#[inline(never)]
fn trunc(v: f32) -> f32 {
    v as i32 as f32
}

/// The tap coordinate of `v`: `⌊v⌋` (bilinear), or `v` rounded half away from zero (nearest,
/// C++ `std::round`).
#[inline(never)]
fn snap(v: f32, bilinear: bool) -> f32 {
    let t = floorf(v);
    let f = v - t; // exact
    if !bilinear && (f > 0.5 || (f == 0.5 && v > 0.0)) {
        t + 1.0
    } else {
        t
    }
}

/// The projective warp (`c₀ = c₁ = 0`) of one image with TensorFlow's arithmetic (see the
/// module doc). Nearest interpolation is the bilinear formula with weights 1 and 0 on the rounded
/// tap (exact: the other taps add zeros), so both share one loop. Channel by channel (the
/// coordinates are recomputed per channel: one compact loop that is not vectorized).
#[inline(never)]
fn warp(t: &[f32; 6], mode: u32, bilinear: bool, fill: f32, g: &ConvGeom, x: &[f32], y: &mut [f32]) {
    let (w, c) = (g.w as usize, g.c as usize);
    for ch in 0..c {
        for o in 0..y.len() / c {
            let (fx, fy) = ((o % w) as f32, (o / w) as f32);
            let ix = map(t[0] * fx + t[1] * fy + t[2], g.w, mode);
            let iy = map(t[3] * fx + t[4] * fy + t[5], g.h, mode);
            let (x0, y0) = (snap(ix, bilinear), snap(iy, bilinear));
            let (ax, ay, bx, by) = if bilinear { (x0 + 1.0 - ix, y0 + 1.0 - iy, ix - x0, iy - y0) } else { (1.0, 1.0, 0.0, 0.0) };
            let (q, r) = (x0 as i32, y0 as i32);
            // tap (row, col), or the fill value outside the image
            let f = |r: i32, q: i32| if (r as u32) < g.h && (q as u32) < g.w { x[(r as usize * w + q as usize) * c + ch] } else { fill };
            let (r1, q1) = (r.wrapping_add(1), q.wrapping_add(1));
            y[o * c + ch] = ay * (ax * f(r, q) + bx * f(r, q1)) + by * (ax * f(r1, q) + bx * f(r1, q1));
        }
    }
}

/// `y = clip((x − mean)·factor + mean, 0, 255)` per channel of one image.
#[inline(never)]
fn contrast(g: &ConvGeom, factor: f32, x: &[f32], y: &mut [f32]) {
    let (hw, c) = (g.h as usize * g.w as usize, g.c as usize);
    for ch in 0..c {
        let s: f64 = (0..hw).map(|p| x[p * c + ch] as f64).sum();
        let m = (s / hw as f64) as f32;
        for p in 0..hw {
            let v = (x[p * c + ch] - m) * factor + m;
            y[p * c + ch] = if v < 0.0 {
                0.0
            } else if v > 255.0 {
                255.0
            } else {
                v
            };
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn args(lo: [f32; 2], hi: [f32; 2], mode: f32) -> [f32; ARGS] {
        [lo[0], hi[0], lo[1], hi[1], 0.0, 1.0, 0.0, mode]
    }

    /// The largest distance between the empirical CDF of `v` and the uniform CDF on [lo, hi].
    fn ks(v: &mut Vec<f64>, lo: f64, hi: f64) -> f64 {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let n = v.len() as f64;
        v.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
            let f = (x - lo) / (hi - lo);
            d.max((f - i as f64 / n).abs()).max(((i + 1) as f64 / n - f).abs())
        })
    }

    /// Draws of every continuous parameter are uniform on their documented range: each stays in
    /// [lo, hi], the mean and variance lie within 5 standard errors of (lo+hi)/2 and (hi−lo)²/12,
    /// and the Kolmogorov–Smirnov distance is below the 0.1% critical value 1.95/√n; the two
    /// parameters of an image are uncorrelated (|r| < 5/√n).
    #[test]
    fn continuous_draws_are_uniform_on_their_range() {
        let n = 50_000u32;
        for &(code, lo, hi) in &[(TRANSLATION, [-0.2f32, -0.5], [0.3f32, 0.5]), (ROTATION, [-0.25, 0.0], [0.125, 0.0]), (ZOOM, [0.7, 1.5], [1.2, 0.9]), (CONTRAST, [0.4, 0.0], [1.9, 0.0])] {
            let a = args(lo, hi, 1.0);
            let d: Vec<[f32; 2]> = (0..n).map(|r| draw(code, &a, 0xC0FFEE, 3, 17, r)).collect();
            let params = if code == TRANSLATION || code == ZOOM { 2 } else { 1 };
            for k in 0..params {
                let (l, h) = ((lo[k].min(hi[k])) as f64, (lo[k].max(hi[k])) as f64);
                let mut v: Vec<f64> = d.iter().map(|p| p[k] as f64).collect();
                // f32 arithmetic may land one ulp outside
                let ulp = 1e-6 * (1.0 + l.abs().max(h.abs()));
                assert!(v.iter().all(|&x| x >= l - ulp && x <= h + ulp), "code {} param {} out of range", code, k);
                let nf = n as f64;
                let mean = v.iter().sum::<f64>() / nf;
                let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (nf - 1.0);
                let w = h - l;
                // sd of the mean: w/√(12n); of the sample variance: √((μ₄ − σ⁴)/n) = w²/√(180n)
                assert!((mean - (l + h) / 2.0).abs() < 5.0 * w / (12.0 * nf).sqrt(), "code {} mean {}", code, mean);
                assert!((var - w * w / 12.0).abs() < 5.0 * w * w / (180.0 * nf).sqrt(), "code {} var {}", code, var);
                let dist = ks(&mut v, l, h);
                assert!(dist < 1.95 / nf.sqrt(), "code {} param {} KS {}", code, k, dist);
            }
            if params == 2 {
                let m = |k: usize| d.iter().map(|p| p[k] as f64).sum::<f64>() / n as f64;
                let (m0, m1) = (m(0), m(1));
                let cov: f64 = d.iter().map(|p| (p[0] as f64 - m0) * (p[1] as f64 - m1)).sum();
                let s = |k: usize, mk: f64| d.iter().map(|p| (p[k] as f64 - mk).powi(2)).sum::<f64>().sqrt();
                let r = cov / (s(0, m0) * s(1, m1));
                assert!(r.abs() < 5.0 / (n as f64).sqrt(), "code {} correlation {}", code, r);
            }
        }
    }

    /// Flips happen with probability ½ each, independently, only on the enabled axes; zoom without
    /// a width factor zooms both axes alike.
    #[test]
    fn flips_are_fair_coins_and_zoom_keeps_the_aspect_ratio() {
        let n = 40_000u32;
        for &mode in &[1.0f32, 2.0, 3.0] {
            let a = args([0.0; 2], [0.0; 2], mode);
            let d: Vec<[f32; 2]> = (0..n).map(|r| draw(FLIP, &a, 9, 0, 4, r)).collect();
            let share = |k: usize| d.iter().filter(|p| p[k] == 1.0).count() as f64 / n as f64;
            let both = d.iter().filter(|p| p[0] == 1.0 && p[1] == 1.0).count() as f64 / n as f64;
            let band = 5.0 * (0.25 / n as f64).sqrt();
            let m = mode as u32;
            for k in 0..2 {
                if m & (1 << k) != 0 {
                    assert!((share(k) - 0.5).abs() < band, "mode {} axis {} share {}", mode, k, share(k));
                } else {
                    assert_eq!(share(k), 0.0);
                }
            }
            if m == 3 {
                assert!((both - 0.25).abs() < band, "both {}", both);
            }
        }
        let z = args([0.5, 0.0], [1.5, 0.0], 0.0);
        assert!((0..100).all(|r| {
            let p = draw(ZOOM, &z, 1, 2, 3, r);
            p[0] == p[1]
        }));
    }

    /// Parameters are a pure function of (seed, layer, counter, row): the same row draws the same
    /// parameters in any batch, and each of seed, layer, counter and row changes them.
    #[test]
    fn draws_depend_only_on_seed_layer_counter_and_row() {
        let a = args([-1.0, -1.0], [1.0, 1.0], 1.0);
        let base = draw(TRANSLATION, &a, 5, 1, 7, 3);
        assert_eq!(base, draw(TRANSLATION, &a, 5, 1, 7, 3));
        for other in [draw(TRANSLATION, &a, 6, 1, 7, 3), draw(TRANSLATION, &a, 5, 2, 7, 3), draw(TRANSLATION, &a, 5, 1, 8, 3), draw(TRANSLATION, &a, 5, 1, 7, 4)] {
            assert_ne!(base, other);
        }
        // another kind on the same stream draws other words
        assert_ne!(draw(ROTATION, &a, 5, 1, 7, 3)[0], base[0]);
    }

    /// TensorFlow's fill-mode mapping on a 4-pixel axis, values worked out by hand from
    /// image_ops.h (including wrap's `len − 1` period quirk).
    #[test]
    fn fill_modes_map_coordinates_as_tensorflow() {
        let cases: &[(u32, f32, f32)] = &[
            (REFLECT, -0.5, 0.0),
            (REFLECT, -1.5, 0.5),
            (REFLECT, -5.0, 3.0),
            (REFLECT, -9.0, 0.0),
            (REFLECT, 4.5, 2.5),
            (REFLECT, 3.5, 3.0),
            (REFLECT, 9.25, 1.25),
            (WRAP, -0.5, 3.0),
            (WRAP, -1.25, 2.75),
            (WRAP, 4.5, 0.5),
            (WRAP, 6.5, 0.0), // TensorFlow: 6.5 − 4·⌊6.5/3⌋ = −1.5, clamped (a true wrap gives 2.5)
            (NEAREST, -7.0, 0.0),
            (NEAREST, 3.75, 3.0),
            (NEAREST, 1.25, 1.25),
            (CONSTANT, -7.0, -7.0),
        ];
        for &(mode, v, want) in cases {
            assert_eq!(map(v, 4, mode), want, "mode {} v {}", mode, v);
        }
        for &mode in &[REFLECT, WRAP, NEAREST] {
            assert_eq!(map(-3.5, 1, mode), 0.0);
            assert_eq!(map(2.5, 1, mode), 0.0);
        }
        assert_eq!([snap(2.5, false), snap(-2.5, false), snap(0.49999997, false), snap(-0.5, false), snap(-0.5, true)], [3.0, -3.0, 0.0, -1.0, -1.0]);
    }
}
