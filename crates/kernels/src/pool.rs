//! 2-D max and average pooling, channels-last (NHWC): input `[n, h, w, c]`, output
//! `[n, oh, ow, c]`, over windows of `kh × kw` with strides `sh, sw` and leading padding
//! `pt, pl` (the geometry is a [`ConvGeom`] with `f = c` and dilation 1). Global average pooling
//! is average pooling with the window the size of the image.
//!
//! Semantics (Keras / TensorFlow, which PyTorch matches with the options named):
//! - max: padding never wins (PyTorch pads with −∞); ties go to the first tap in row-major window
//!   order (PyTorch's CPU kernel keeps the first maximum, `>` not `>=`); a NaN tap wins (NaN
//!   propagates, as in PyTorch). Backward finds each window's winner again from the input (no
//!   index buffer) and routes the output gradient to it.
//! - average: the mean over the taps inside the input (padding excluded from the count: Keras'
//!   `padding='same'`, PyTorch's `count_include_pad=False`).

use crate::conv::ConvGeom;
use crate::par;
use crate::status::{STATUS_BAD_ARGUMENT, STATUS_OK};

/// A pooling geometry: valid as a convolution's, `f = c`, no dilation.
pub fn valid(g: &ConvGeom) -> bool {
    g.valid() && g.f == g.c && g.dh == 1 && g.dw == 1
}

/// The in-image tap ranges of one output position: rows `[y0, y1)`, columns `[x0, x1)`.
#[inline(always)]
fn window(g: &ConvGeom, oy: usize, ox: usize) -> (usize, usize, usize, usize) {
    let span = |o: usize, s: u32, p: u32, k: u32, len: u32| {
        let start = o as isize * s as isize - p as isize;
        let lo = start.max(0) as usize;
        let hi = ((start + k as isize).min(len as isize)).max(0) as usize;
        (lo, hi.max(lo))
    };
    let (y0, y1) = span(oy, g.sh, g.pt, g.kh, g.h);
    let (x0, x1) = span(ox, g.sw, g.pl, g.kw, g.w);
    (y0, y1, x0, x1)
}

/// Calls `f(out index, input element offsets of the window's taps: base, rows, columns)` for
/// every output element; a tap's input offset is `base + (y·w + x)·c`.
#[inline(always)]
unsafe fn each_output(g: &ConvGeom, (s0, s1): (usize, usize), mut f: impl FnMut(usize, usize, (usize, usize, usize, usize))) {
    let (h, w, c) = (g.h as usize, g.w as usize, g.c as usize);
    for s in s0..s1 {
        for oy in 0..g.oh as usize {
            for ox in 0..g.ow as usize {
                let win = window(g, oy, ox);
                let o = ((s * g.oh as usize + oy) * g.ow as usize + ox) * c;
                for ch in 0..c {
                    f(o + ch, s * h * w * c + ch, win);
                }
            }
        }
    }
}

/// Channels handled together (NHWC: contiguous), a stack block of running maxima and winners.
const CB: usize = 64;

/// For every output element, the window's maximum and the input offset of its winning tap (first
/// maximum in row-major window order; a NaN tap wins and stays): `f(out index, max, offset)`.
/// Taps are visited outer and channels inner, so the compare-and-select over a block of channels
/// is contiguous and vectorizes (the earlier per-channel walk over the window read one float per
/// tap with stride `c`).
#[inline(always)]
unsafe fn each_max(g: &ConvGeom, x: *const f32, (s0, s1): (usize, usize), mut f: impl FnMut(usize, f32, usize)) {
    let (h, w, c) = (g.h as usize, g.w as usize, g.c as usize);
    let mut bv = [0.0f32; CB];
    let mut bi = [0usize; CB];
    for s in s0..s1 {
        let base = s * h * w * c;
        for oy in 0..g.oh as usize {
            for ox in 0..g.ow as usize {
                let win = window(g, oy, ox);
                let o = ((s * g.oh as usize + oy) * g.ow as usize + ox) * c;
                let mut c0 = 0;
                while c0 < c {
                    let cb = (c - c0).min(CB);
                    block_max(x, base + c0, (w, c), win, cb, &mut bv, &mut bi);
                    for j in 0..cb {
                        f(o + c0 + j, bv[j], bi[j]);
                    }
                    c0 += cb;
                }
            }
        }
    }
}

/// The maxima and winning offsets of `cb` channels (from offset `base` = sample start + first
/// channel) over the window `(y0, y1, x0, x1)`.
#[inline(always)]
unsafe fn block_max(x: *const f32, base: usize, (w, c): (usize, usize), (y0, y1, x0, x1): (usize, usize, usize, usize), cb: usize, bv: &mut [f32; CB], bi: &mut [usize; CB]) {
    let first = base + (y0 * w + x0) * c;
    for j in 0..cb {
        bv[j] = *x.add(first + j);
        bi[j] = first + j;
    }
    for yy in y0..y1 {
        for xx in x0..x1 {
            let t = base + (yy * w + xx) * c;
            for j in 0..cb {
                let (v, b) = (*x.add(t + j), bv[j]);
                // v > b, or v NaN while b is not (a NaN already held stays)
                let take = (v > b) | ((v != v) & (b == b));
                bv[j] = if take { v } else { b };
                bi[j] = if take { t + j } else { bi[j] };
            }
        }
    }
}

/// Window taps a pooling part must visit before a region pays for its wake-up (bench/conv-ops.mjs:
/// W5's second pooling, 2^17 taps, takes ~0.1 ms on one thread).
pub const MIN_POOL_TAPS: usize = 1 << 16;

/// Runs `f((s0, s1))` over ranges of whole images, split over threads when the batch is large
/// enough. A window reads and writes only its own image, and within an image the order is the
/// serial one, so the result does not depend on the split.
#[inline(always)]
unsafe fn by_images(g: &ConvGeom, n: usize, f: &dyn Fn((usize, usize))) {
    let taps = n * g.oh as usize * g.ow as usize * g.c as usize * (g.kh as usize * g.kw as usize);
    let parts = par::max_parts(par::threads()).min(n).min(taps / MIN_POOL_TAPS).max(1);
    par::run(parts, &|t, parts, _thread| f(par::range(t, parts, n, 1, n)));
}

/// Max pooling forward into `y` (`n·oh·ow·c`). Returns `STATUS_BAD_ARGUMENT` (nothing written)
/// for an invalid geometry.
///
/// # Safety
/// `x`: `n·h·w·c` floats; `y`: `n·oh·ow·c`.
pub unsafe fn max_forward(g: &ConvGeom, x: *const f32, n: usize, y: *mut f32) -> u32 {
    if !valid(g) {
        return STATUS_BAD_ARGUMENT;
    }
    // every window holds at least one in-image tap (padding < kernel reach, see ConvGeom::valid)
    by_images(g, n, &|r| each_max(g, x, r, |o, v, _| *y.add(o) = v));
    STATUS_OK
}

/// Max pooling backward: `dx` (`n·h·w·c`, overwritten) gets each `dy` at its window's winning
/// tap in `x` (the forward input).
///
/// # Safety
/// As [`max_forward`]; `dy`: `n·oh·ow·c`; `dx` writable, overlapping nothing else.
pub unsafe fn max_backward(g: &ConvGeom, x: *const f32, n: usize, dy: *const f32, dx: *mut f32) -> u32 {
    if !valid(g) {
        return STATUS_BAD_ARGUMENT;
    }
    let img = g.h as usize * g.w as usize * g.c as usize;
    by_images(g, n, &|(s0, s1)| {
        core::ptr::write_bytes(dx.add(s0 * img), 0, (s1 - s0) * img);
        each_max(g, x, (s0, s1), |o, _, t| *dx.add(t) += *dy.add(o));
    });
    STATUS_OK
}

/// Average pooling forward (padding excluded from the count).
///
/// # Safety
/// `x`: `n·h·w·c` floats; `y`: `n·oh·ow·c`.
pub unsafe fn avg_forward(g: &ConvGeom, x: *const f32, n: usize, y: *mut f32) -> u32 {
    if !valid(g) {
        return STATUS_BAD_ARGUMENT;
    }
    let (w, c) = (g.w as usize, g.c as usize);
    by_images(g, n, &|r| each_output(g, r, |o, base, (y0, y1, x0, x1)| {
        let mut s = 0.0f32;
        for yy in y0..y1 {
            for xx in x0..x1 {
                s += *x.add(base + (yy * w + xx) * c);
            }
        }
        *y.add(o) = s / ((y1 - y0) * (x1 - x0)) as f32;
    }));
    STATUS_OK
}

/// Average pooling backward: `dx` (overwritten) gets `dy / count` at every tap of each window.
///
/// # Safety
/// As [`avg_forward`], `dx` writable.
pub unsafe fn avg_backward(g: &ConvGeom, n: usize, dy: *const f32, dx: *mut f32) -> u32 {
    if !valid(g) {
        return STATUS_BAD_ARGUMENT;
    }
    let (w, c) = (g.w as usize, g.c as usize);
    let img = g.h as usize * w * c;
    by_images(g, n, &|(s0, s1)| {
        core::ptr::write_bytes(dx.add(s0 * img), 0, (s1 - s0) * img);
        each_output(g, (s0, s1), |o, base, (y0, y1, x0, x1)| {
            let d = *dy.add(o) / ((y1 - y0) * (x1 - x0)) as f32;
            for yy in y0..y1 {
                for xx in x0..x1 {
                    *dx.add(base + (yy * w + xx) * c) += d;
                }
            }
        });
    });
    STATUS_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(h: u32, w: u32, c: u32, k: u32, s: u32, p: u32, oh: u32, ow: u32) -> ConvGeom {
        ConvGeom { h, w, c, kh: k, kw: k, sh: s, sw: s, dh: 1, dw: 1, pt: p, pl: p, oh, ow, f: c }
    }

    #[test]
    fn max_picks_the_first_maximum_and_routes_gradients() {
        // one channel, 4×4, 2×2 windows stride 2
        let x = [1., 3., 2., 2., 3., 0., 2., 1., -1., -2., 5., 5., -3., -1., 5., 4.];
        let geo = g(4, 4, 1, 2, 2, 0, 2, 2);
        let mut y = [0f32; 4];
        assert_eq!(unsafe { max_forward(&geo, x.as_ptr(), 1, y.as_mut_ptr()) }, STATUS_OK);
        assert_eq!(y, [3., 2., -1., 5.]);
        let dy = [1., 2., 3., 4.];
        let mut dx = [f32::NAN; 16];
        assert_eq!(unsafe { max_backward(&geo, x.as_ptr(), 1, dy.as_ptr(), dx.as_mut_ptr()) }, STATUS_OK);
        // ties (-1 at 8 and 13; 5 at 10, 11, 14): the first in row-major window order wins
        let mut want = [0f32; 16];
        want[1] = 1.;
        want[2] = 2.;
        want[8] = 3.;
        want[10] = 4.;
        assert_eq!(dx, want);
    }

    #[test]
    fn avg_excludes_padding_from_the_count() {
        // 3×3, 2×2 windows, stride 2, one row/column of leading padding → 2×2 outputs
        let x = [1., 2., 3., 4., 5., 6., 7., 8., 9.];
        let geo = g(3, 3, 1, 2, 2, 1, 2, 2);
        let mut y = [0f32; 4];
        assert_eq!(unsafe { avg_forward(&geo, x.as_ptr(), 1, y.as_mut_ptr()) }, STATUS_OK);
        assert_eq!(y, [1., 2.5, 5.5, 7.]);
        let dy = [4., 4., 4., 4.];
        let mut dx = [f32::NAN; 9];
        assert_eq!(unsafe { avg_backward(&geo, 1, dy.as_ptr(), dx.as_mut_ptr()) }, STATUS_OK);
        assert_eq!(dx, [4., 2., 2., 2., 1., 1., 2., 1., 1.]);
    }

    /// The channel-blocked walk against the definition, one channel at a time: 70 channels (a
    /// full block of 64 and a partial one), padding, stride 2, 3×3 windows, ties and NaNs.
    #[test]
    fn blocked_max_matches_the_per_channel_definition() {
        extern crate std;
        use std::vec;
        let (h, w, c, n) = (7u32, 6u32, 70u32, 2usize);
        let geo = ConvGeom { h, w, c, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pt: 1, pl: 0, oh: 4, ow: 2, f: c };
        let len = n * (h * w * c) as usize;
        let mut seed = 5u64;
        let x: std::vec::Vec<f32> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let r = (seed >> 33) % 13;
                if r == 0 { f32::NAN } else { (r % 5) as f32 } // few values: many ties
            })
            .collect();
        let out = n * (4 * 2 * c) as usize;
        let mut y = vec![f32::NAN; out + 2];
        let dy: std::vec::Vec<f32> = (0..out).map(|i| (i % 7) as f32 + 0.5).collect();
        let mut dx = vec![f32::NAN; len + 2];
        unsafe {
            assert_eq!(max_forward(&geo, x.as_ptr(), n, y.as_mut_ptr().add(1)), STATUS_OK);
            assert_eq!(max_backward(&geo, x.as_ptr(), n, dy.as_ptr(), dx.as_mut_ptr().add(1)), STATUS_OK);
        }
        assert!(y[0].is_nan() && y[out + 1].is_nan() && dx[0].is_nan() && dx[len + 1].is_nan(), "guard bands");
        let mut want_dx = vec![0.0f32; len];
        let (hh, ww, cc) = (h as isize, w as isize, c as usize);
        for s in 0..n {
            for oy in 0..4isize {
                for ox in 0..2isize {
                    for ch in 0..cc {
                        let mut best: Option<usize> = None;
                        for ky in 0..3isize {
                            for kx in 0..3isize {
                                let (yy, xx) = (oy * 2 - 1 + ky, ox * 2 + kx);
                                if yy < 0 || yy >= hh || xx < 0 || xx >= ww {
                                    continue;
                                }
                                let t = s * (h * w * c) as usize + ((yy * ww + xx) as usize) * cc + ch;
                                best = match best {
                                    None => Some(t),
                                    Some(b) if !x[b].is_nan() && (x[t] > x[b] || x[t].is_nan()) => Some(t),
                                    keep => keep,
                                };
                            }
                        }
                        let o = ((s * 4 + oy as usize) * 2 + ox as usize) * cc + ch;
                        let b = best.unwrap();
                        assert!(y[o + 1] == x[b] || (y[o + 1].is_nan() && x[b].is_nan()), "y at {}", o);
                        want_dx[b] += dy[o];
                    }
                }
            }
        }
        assert_eq!(&dx[1..len + 1], &want_dx[..]);
    }

    /// Split over 2, 3 and 5 threads (parts run in turn natively), max and average pooling give
    /// one thread's bits forward and backward, with ties and padding, and write nothing outside
    /// their outputs (NaN guard bands); every output element is written.
    #[test]
    fn split_over_threads_is_bit_identical() {
        extern crate std;
        use std::vec;
        use std::vec::Vec;
        const G: usize = 3;
        let geos = [ConvGeom { h: 24, w: 24, c: 32, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pl: 0, oh: 12, ow: 12, f: 32 }, ConvGeom { h: 13, w: 11, c: 70, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pt: 1, pl: 1, oh: 7, ow: 6, f: 70 }];
        for geo in geos.iter() {
            let n = 11;
            let (ni, no) = ((geo.h * geo.w * geo.c) as usize, (geo.oh * geo.ow * geo.c) as usize);
            assert!(n * no * (geo.kh * geo.kw) as usize >= 3 * MIN_POOL_TAPS, "too small to split");
            let mut seed = 9u64;
            let x: Vec<f32> = (0..n * ni)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 33) % 7) as f32 * 0.25 // ties
                })
                .collect();
            let dy: Vec<f32> = (0..n * no).map(|i| (i % 11) as f32 * 0.1 + 0.05).collect();
            for kind in 0..2 {
                let run = |threads: usize| -> (Vec<f32>, Vec<f32>) {
                    let (mut y, mut dx) = (vec![f32::NAN; n * no + 2 * G], vec![f32::NAN; n * ni + 2 * G]);
                    crate::par::TEST_THREADS.with(|t| t.set(threads));
                    unsafe {
                        if kind == 0 {
                            assert_eq!(max_forward(geo, x.as_ptr(), n, y.as_mut_ptr().add(G)), STATUS_OK);
                            assert_eq!(max_backward(geo, x.as_ptr(), n, dy.as_ptr(), dx.as_mut_ptr().add(G)), STATUS_OK);
                        } else {
                            assert_eq!(avg_forward(geo, x.as_ptr(), n, y.as_mut_ptr().add(G)), STATUS_OK);
                            assert_eq!(avg_backward(geo, n, dy.as_ptr(), dx.as_mut_ptr().add(G)), STATUS_OK);
                        }
                    }
                    crate::par::TEST_THREADS.with(|t| t.set(1));
                    for v in [&y, &dx] {
                        let len = v.len() - 2 * G;
                        assert!(v[..G].iter().chain(v[G + len..].iter()).all(|e| e.is_nan()), "guard band written ({} threads)", threads);
                        assert!(v[G..G + len].iter().all(|e| e.is_finite()), "an element not written ({} threads)", threads);
                    }
                    (y, dx)
                };
                let (wy, wdx) = run(1);
                for threads in [2usize, 3, 5] {
                    let (y, dx) = run(threads);
                    assert!(y.iter().zip(wy.iter()).all(|(a, b)| a.to_bits() == b.to_bits()), "kind {} threads {}: y", kind, threads);
                    assert!(dx.iter().zip(wdx.iter()).all(|(a, b)| a.to_bits() == b.to_bits()), "kind {} threads {}: dx", kind, threads);
                }
            }
        }
    }

    #[test]
    fn nan_propagates_through_max() {
        let x = [1., f32::NAN, 2., 0.];
        let geo = g(2, 2, 1, 2, 2, 0, 1, 1);
        let mut y = [0f32; 1];
        unsafe { max_forward(&geo, x.as_ptr(), 1, y.as_mut_ptr()) };
        assert!(y[0].is_nan());
        let mut dx = [f32::NAN; 4];
        unsafe { max_backward(&geo, x.as_ptr(), 1, [1f32].as_ptr(), dx.as_mut_ptr()) };
        assert_eq!(dx, [0., 1., 0., 0.]);
    }
}
