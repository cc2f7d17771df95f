//! 2-D max and average pooling, channels-last (NHWC): input `[n, h, w, c]`, output
//! `[n, oh, ow, c]`, over windows of `kh × kw` with strides `sh, sw` and leading padding
//! `pt, pl` (the geometry is a [`ConvGeom`] with `f = c` and dilation 1).
//!
//! Semantics (Keras / TensorFlow, which PyTorch matches with the options named):
//! - max: padding never wins (PyTorch pads with −∞); ties go to the first tap in row-major window
//!   order (PyTorch's CPU kernel keeps the first maximum, `>` not `>=`); a NaN tap wins (NaN
//!   propagates, as in PyTorch). Backward routes each output gradient to its winning input tap.
//! - average: the mean over the taps inside the input (padding excluded from the count: Keras'
//!   `padding='same'`, PyTorch's `count_include_pad=False`).

use crate::conv::ConvGeom;
use crate::status::{STATUS_BAD_ARGUMENT, STATUS_OK};

fn valid(g: &ConvGeom) -> bool {
    g.valid() && g.f == g.c && g.dh == 1 && g.dw == 1
}

/// Calls `f(out index, in-image taps as input element offsets)` for every output element.
/// Callers refuse windows of more than 64 taps.
#[inline(always)]
unsafe fn each_window(g: &ConvGeom, n: usize, mut f: impl FnMut(usize, &[usize])) {
    let (h, w, c) = (g.h as isize, g.w as isize, g.c as usize);
    let mut taps = [0usize; 64];
    for s in 0..n {
        for oy in 0..g.oh as isize {
            for ox in 0..g.ow as isize {
                let o = ((s * g.oh as usize + oy as usize) * g.ow as usize + ox as usize) * c;
                for ch in 0..c {
                    let mut t = 0;
                    for ky in 0..g.kh as isize {
                        let iy = oy * g.sh as isize + ky - g.pt as isize;
                        if iy < 0 || iy >= h {
                            continue;
                        }
                        for kx in 0..g.kw as isize {
                            let ix = ox * g.sw as isize + kx - g.pl as isize;
                            if ix >= 0 && ix < w {
                                taps[t] = ((s as isize * h + iy) * w + ix) as usize * c + ch;
                                t += 1;
                            }
                        }
                    }
                    f(o + ch, &taps[..t]);
                }
            }
        }
    }
}

/// Max pooling forward: `y` (`n·oh·ow·c`) and `arg` (same length: the input element index of
/// each output's winning tap, for [`max_backward`]). Returns `STATUS_BAD_ARGUMENT` (nothing
/// written) for an invalid geometry or a window wider than 64 taps.
///
/// # Safety
/// `x`: `n·h·w·c` floats; `y`, `arg`: `n·oh·ow·c` elements.
pub unsafe fn max_forward(g: &ConvGeom, x: *const f32, n: usize, y: *mut f32, arg: *mut u32) -> u32 {
    if !valid(g) || g.kh as usize * g.kw as usize > 64 {
        return STATUS_BAD_ARGUMENT;
    }
    each_window(g, n, |o, taps| {
        // every window holds at least one in-image tap (padding < kernel, see ConvGeom::valid)
        let mut best = taps[0];
        let mut bv = *x.add(best);
        for &t in &taps[1..] {
            let v = *x.add(t);
            if bv.is_nan() {
                break;
            }
            if v > bv || v.is_nan() {
                best = t;
                bv = v;
            }
        }
        *y.add(o) = bv;
        *arg.add(o) = best as u32;
    });
    STATUS_OK
}

/// Max pooling backward: `dx` (`n·h·w·c`, overwritten) gets each `dy` at its winning tap.
///
/// # Safety
/// As [`max_forward`]; `arg` as it wrote it.
pub unsafe fn max_backward(g: &ConvGeom, n: usize, dy: *const f32, arg: *const u32, dx: *mut f32) -> u32 {
    if !valid(g) || g.kh as usize * g.kw as usize > 64 {
        return STATUS_BAD_ARGUMENT;
    }
    let len_in = n * g.h as usize * g.w as usize * g.c as usize;
    let len_out = n * g.oh as usize * g.ow as usize * g.c as usize;
    core::ptr::write_bytes(dx, 0, len_in);
    for o in 0..len_out {
        let i = *arg.add(o) as usize;
        if i < len_in {
            *dx.add(i) += *dy.add(o);
        }
    }
    STATUS_OK
}

/// Average pooling forward (padding excluded from the count).
///
/// # Safety
/// `x`: `n·h·w·c` floats; `y`: `n·oh·ow·c`.
pub unsafe fn avg_forward(g: &ConvGeom, x: *const f32, n: usize, y: *mut f32) -> u32 {
    if !valid(g) || g.kh as usize * g.kw as usize > 64 {
        return STATUS_BAD_ARGUMENT;
    }
    each_window(g, n, |o, taps| {
        let mut s = 0.0f32;
        for &t in taps {
            s += *x.add(t);
        }
        *y.add(o) = s / taps.len() as f32;
    });
    STATUS_OK
}

/// Average pooling backward: `dx` (overwritten) gets `dy / count` at every tap of each window.
///
/// # Safety
/// As [`avg_forward`], `dx` writable.
pub unsafe fn avg_backward(g: &ConvGeom, n: usize, dy: *const f32, dx: *mut f32) -> u32 {
    if !valid(g) || g.kh as usize * g.kw as usize > 64 {
        return STATUS_BAD_ARGUMENT;
    }
    core::ptr::write_bytes(dx, 0, n * g.h as usize * g.w as usize * g.c as usize);
    each_window(g, n, |o, taps| {
        let d = *dy.add(o) / taps.len() as f32;
        for &t in taps {
            *dx.add(t) += d;
        }
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
        let (mut y, mut arg) = ([0f32; 4], [0u32; 4]);
        assert_eq!(unsafe { max_forward(&geo, x.as_ptr(), 1, y.as_mut_ptr(), arg.as_mut_ptr()) }, STATUS_OK);
        assert_eq!(y, [3., 2., -1., 5.]);
        assert_eq!(arg, [1, 2, 8, 10]); // ties (-1 at 8 and 13; 5 at 10, 11, 14): the first in row-major window order
        let dy = [1., 2., 3., 4.];
        let mut dx = [f32::NAN; 16];
        assert_eq!(unsafe { max_backward(&geo, 1, dy.as_ptr(), arg.as_ptr(), dx.as_mut_ptr()) }, STATUS_OK);
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

    #[test]
    fn nan_propagates_through_max() {
        let x = [1., f32::NAN, 2., 0.];
        let geo = g(2, 2, 1, 2, 2, 0, 1, 1);
        let (mut y, mut arg) = ([0f32; 1], [0u32; 1]);
        unsafe { max_forward(&geo, x.as_ptr(), 1, y.as_mut_ptr(), arg.as_mut_ptr()) };
        assert!(y[0].is_nan());
        assert_eq!(arg[0], 1);
    }
}
