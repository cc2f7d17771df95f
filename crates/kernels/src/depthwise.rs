//! Depthwise 2-D convolution, channels-last (Keras `DepthwiseConv2D`, MobileNet's per-channel
//! filter): input `[n, h, w, c]`, kernel `[kh, kw, c, m]` (Keras' layout; `m` the depth
//! multiplier), output `[n, oh, ow, c·m]` where output channel `o = ci·m + j` is input channel
//! `ci` filtered by its `j`-th kernel:
//!
//! `y[s, oy, ox, ci·m + j] = b[ci·m + j] + Σ_{ky, kx} x[s, oy·sh + ky·dh − pt, ox·sw + kx·dw − pl, ci] · W[ky, kx, ci, j]`
//!
//! (PyTorch: `conv2d(groups = c)` with weight `[c·m, 1, kh, kw]`, output channels in the same
//! `ci·m + j` order; TensorFlow's `depthwise_conv2d`.) The geometry is a [`ConvGeom`] with
//! `f = c·m`; the kernel read row-major is the `[kh·kw, c·m]` matrix `W[tap, o]`.
//!
//! Not lowered to the packed GEMM: per channel it is a GEMM with `k = kh·kw` and `n = m` (1 for
//! MobileNet), whose 4×8 micro-tiles would be ⅞ padding, after an im2col that copies every input
//! `kh·kw` times. Direct loops instead (bench/depthwise.mjs measures both): NHWC keeps channels
//! contiguous, so the SIMD128 path runs 4 output channels per f32x4 lane group (16 at a time in
//! four accumulators), keeps the accumulators in registers over the window's taps and skips the
//! padding taps (their tap ranges are computed once per output row / column).
//!
//! Arithmetic, the same on both builds (SIMD128 has no FMA and Rust never contracts `a*b + c`, so
//! the SIMD lanes and the scalar loop round identically: the builds agree bit for bit):
//! - forward: `acc = b[o]` (0 without bias), then `acc += x·w` over the in-image taps in
//!   row-major window order; the activation is applied to each finished output row.
//! - dW[tap, o]: `acc = 0`, `acc += x·dy` over samples, output rows, output columns in order.
//! - db[o]: the column sum of dy ([`crate::reduce::colsum`], as conv2d).
//! - dX: zeroed, then for each output position (sample, row, column) and each of its in-image
//!   taps in window order, `dx[.., ci] += dy[.., ci·m + j]·w[tap, ci·m + j]` for `j = 0..m`.
//!
//! Work is split over threads only along independent outputs — forward by output rows, dX by
//! samples, dW by output channels — so each element is computed by the same operations in the
//! same order whatever the thread count (see [`crate::par`]).

use crate::act::{self, Act};
use crate::conv::ConvGeom;
use crate::par;
use crate::status::{STATUS_BAD_ARGUMENT, STATUS_OK};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

/// A depthwise geometry: valid as a convolution's, with `f` a multiple of `c` (`m = f / c`).
pub fn valid(g: &ConvGeom) -> bool {
    g.valid() && g.f % g.c == 0
}

/// Multiply-adds a part must have before a parallel region pays (as [`par::MIN_GEMM_WORK`]).
const MIN_WORK: usize = par::MIN_GEMM_WORK;

/// Parts to split `units` independent units of `work` multiply-adds in total into (1: serial).
fn parts_for(units: usize, work: usize) -> usize {
    let t = par::threads();
    if t <= 1 {
        return 1;
    }
    t.min(units).min(work / MIN_WORK).max(1)
}

/// Kernel taps `[lo, hi)` along one axis whose input coordinate `o·s + t·d − p` lies in `[0, len)`.
#[inline(always)]
fn taps(o: usize, s: u32, d: u32, p: u32, k: u32, len: u32) -> (usize, usize) {
    let start = o as isize * s as isize - p as isize;
    let d = d as isize;
    let lo = if start >= 0 { 0 } else { (-start + d - 1) / d };
    let last = len as isize - 1 - start; // t·d ≤ last
    let hi = if last < 0 { 0 } else { (last / d + 1).min(k as isize) };
    (lo as usize, (hi.max(lo)) as usize)
}

/// Output positions `[lo, hi)` along one axis whose input coordinate `o·s + t·d − p` (tap `t`)
/// lies in `[0, len)`.
#[inline(always)]
fn outputs(t: usize, s: u32, d: u32, p: u32, out: u32, len: u32) -> (usize, usize) {
    let off = t as isize * d as isize - p as isize; // input = o·s + off
    let s = s as isize;
    let lo = if off >= 0 { 0 } else { (-off + s - 1) / s };
    let last = len as isize - 1 - off; // o·s ≤ last
    let hi = if last < 0 { 0 } else { (last / s + 1).min(out as isize) };
    (lo as usize, (hi.max(lo)) as usize)
}

/// The x lanes of output channels `o..o+4` at the tap whose input pixel starts at `xp`:
/// `x[o/m], x[(o+1)/m], …` (one load when `m = 1`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn xlanes(xp: *const f32, o: usize, m: usize) -> v128 {
    if m == 1 {
        v128_load(xp.add(o) as *const v128)
    } else {
        f32x4(*xp.add(o / m), *xp.add((o + 1) / m), *xp.add((o + 2) / m), *xp.add((o + 3) / m))
    }
}

/// One output pixel: `yp[o] = b[o] + Σ_taps x·w` for `o` in `0..f`, taps `ky0..ky1 × kx0..kx1`.
/// `xs` is the sample's image, `wp` the kernel, `bias` null or `f` floats.
#[inline(always)]
unsafe fn pixel(g: &ConvGeom, xs: *const f32, wp: *const f32, bias: *const f32, yp: *mut f32, iy0: isize, ix0: isize, ky: (usize, usize), kx: (usize, usize)) {
    let (c, f, w, kw) = (g.c as usize, g.f as usize, g.w as isize, g.kw as usize);
    let m = f / c;
    let (dh, dw) = (g.dh as isize, g.dw as isize);
    // the input pixel of tap (ty, tx) and the kernel row of the tap
    let xat = |ty: usize, tx: usize| xs.offset(((iy0 + ty as isize * dh) * w + ix0 + tx as isize * dw) * c as isize);
    let wat = |ty: usize, tx: usize| wp.add((ty * kw + tx) * f);
    #[allow(unused_mut)]
    let mut o = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let b4 = |o: usize| if bias.is_null() { f32x4_splat(0.0) } else { v128_load(bias.add(o) as *const v128) };
        while o + 16 <= f {
            let (mut a0, mut a1, mut a2, mut a3) = (b4(o), b4(o + 4), b4(o + 8), b4(o + 12));
            for ty in ky.0..ky.1 {
                for tx in kx.0..kx.1 {
                    let (xp, wr) = (xat(ty, tx), wat(ty, tx));
                    a0 = f32x4_add(a0, f32x4_mul(xlanes(xp, o, m), v128_load(wr.add(o) as *const v128)));
                    a1 = f32x4_add(a1, f32x4_mul(xlanes(xp, o + 4, m), v128_load(wr.add(o + 4) as *const v128)));
                    a2 = f32x4_add(a2, f32x4_mul(xlanes(xp, o + 8, m), v128_load(wr.add(o + 8) as *const v128)));
                    a3 = f32x4_add(a3, f32x4_mul(xlanes(xp, o + 12, m), v128_load(wr.add(o + 12) as *const v128)));
                }
            }
            v128_store(yp.add(o) as *mut v128, a0);
            v128_store(yp.add(o + 4) as *mut v128, a1);
            v128_store(yp.add(o + 8) as *mut v128, a2);
            v128_store(yp.add(o + 12) as *mut v128, a3);
            o += 16;
        }
        while o + 4 <= f {
            let mut a0 = b4(o);
            for ty in ky.0..ky.1 {
                for tx in kx.0..kx.1 {
                    a0 = f32x4_add(a0, f32x4_mul(xlanes(xat(ty, tx), o, m), v128_load(wat(ty, tx).add(o) as *const v128)));
                }
            }
            v128_store(yp.add(o) as *mut v128, a0);
            o += 4;
        }
    }
    while o < f {
        let mut acc = if bias.is_null() { 0.0 } else { *bias.add(o) };
        for ty in ky.0..ky.1 {
            for tx in kx.0..kx.1 {
                acc += *xat(ty, tx).add(o / m) * *wat(ty, tx).add(o);
            }
        }
        *yp.add(o) = acc;
        o += 1;
    }
}

/// `y = act(depthwise(x, w) + bias)` for `n` samples (any activation, applied to each finished
/// output row with `alpha`). `bias` may be null. Returns `STATUS_OK`, or `STATUS_BAD_ARGUMENT`
/// (nothing written) for an invalid geometry.
///
/// # Safety
/// `x`: `n·h·w·c` floats; `w`: `kh·kw·f`; `bias`: `f` or null; `y`: `n·oh·ow·f`, overlapping
/// nothing else.
pub unsafe fn forward(g: &ConvGeom, x: *const f32, n: usize, w: *const f32, bias: *const f32, act: Act, alpha: f32, y: *mut f32) -> u32 {
    if !valid(g) {
        return STATUS_BAD_ARGUMENT;
    }
    let (h, wd, c, f) = (g.h as usize, g.w as usize, g.c as usize, g.f as usize);
    let (oh, ow) = (g.oh as usize, g.ow as usize);
    let rows = n * oh; // output rows: independent
    let work = rows * ow * f * g.kh as usize * g.kw as usize;
    let parts = parts_for(rows, work);
    let (x_, w_, b_, y_) = (x as usize, w as usize, bias as usize, y as usize);
    par::run(parts, &move |t, parts, _thread| {
        let (r0, r1) = par::range(t, parts, rows, 1, rows);
        for r in r0..r1 {
            let (s, oy) = (r / oh, r % oh);
            let ky = taps(oy, g.sh, g.dh, g.pt, g.kh, g.h);
            let iy0 = oy as isize * g.sh as isize - g.pt as isize;
            let xs = (x_ as *const f32).add(s * h * wd * c);
            let yr = (y_ as *mut f32).add(r * ow * f);
            for ox in 0..ow {
                let kx = taps(ox, g.sw, g.dw, g.pl, g.kw, g.w);
                let ix0 = ox as isize * g.sw as isize - g.pl as isize;
                pixel(g, xs, w_ as *const f32, b_ as *const f32, yr.add(ox * f), iy0, ix0, ky, kx);
            }
            act::forward(act, core::slice::from_raw_parts_mut(yr, ow * f), alpha);
        }
    });
    STATUS_OK
}

/// `dw[tap, o] = Σ_{s, oy, ox} x[s, iy, ix, o/m]·dy[s, oy, ox, o]` for output channels `lo..hi`.
unsafe fn weight_grad(g: &ConvGeom, x: *const f32, n: usize, dy: *const f32, dw: *mut f32, lo: usize, hi: usize) {
    let (h, wd, c, f) = (g.h as usize, g.w as usize, g.c as usize, g.f as usize);
    let (oh, ow, kw) = (g.oh as usize, g.ow as usize, g.kw as usize);
    let m = f / c;
    for ty in 0..g.kh as usize {
        let (oy0, oy1) = outputs(ty, g.sh, g.dh, g.pt, g.oh, g.h);
        for tx in 0..kw {
            let (ox0, ox1) = outputs(tx, g.sw, g.dw, g.pl, g.ow, g.w);
            let dwr = dw.add((ty * kw + tx) * f);
            // the input pixel and the output gradient row of output position (s, oy, ox)
            let xat = |s: usize, oy: usize, ox: usize| {
                let iy = oy * g.sh as usize + ty * g.dh as usize - g.pt as usize;
                let ix = ox * g.sw as usize + tx * g.dw as usize - g.pl as usize;
                x.add(((s * h + iy) * wd + ix) * c)
            };
            let dyat = |s: usize, oy: usize, ox: usize| dy.add(((s * oh + oy) * ow + ox) * f);
            #[allow(unused_mut)]
            let mut o = lo;
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            {
                while o + 16 <= hi {
                    let z = f32x4_splat(0.0);
                    let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
                    for s in 0..n {
                        for oy in oy0..oy1 {
                            for ox in ox0..ox1 {
                                let (xp, dp) = (xat(s, oy, ox), dyat(s, oy, ox));
                                a0 = f32x4_add(a0, f32x4_mul(xlanes(xp, o, m), v128_load(dp.add(o) as *const v128)));
                                a1 = f32x4_add(a1, f32x4_mul(xlanes(xp, o + 4, m), v128_load(dp.add(o + 4) as *const v128)));
                                a2 = f32x4_add(a2, f32x4_mul(xlanes(xp, o + 8, m), v128_load(dp.add(o + 8) as *const v128)));
                                a3 = f32x4_add(a3, f32x4_mul(xlanes(xp, o + 12, m), v128_load(dp.add(o + 12) as *const v128)));
                            }
                        }
                    }
                    v128_store(dwr.add(o) as *mut v128, a0);
                    v128_store(dwr.add(o + 4) as *mut v128, a1);
                    v128_store(dwr.add(o + 8) as *mut v128, a2);
                    v128_store(dwr.add(o + 12) as *mut v128, a3);
                    o += 16;
                }
                while o + 4 <= hi {
                    let mut a0 = f32x4_splat(0.0);
                    for s in 0..n {
                        for oy in oy0..oy1 {
                            for ox in ox0..ox1 {
                                a0 = f32x4_add(a0, f32x4_mul(xlanes(xat(s, oy, ox), o, m), v128_load(dyat(s, oy, ox).add(o) as *const v128)));
                            }
                        }
                    }
                    v128_store(dwr.add(o) as *mut v128, a0);
                    o += 4;
                }
            }
            while o < hi {
                let mut acc = 0.0f32;
                for s in 0..n {
                    for oy in oy0..oy1 {
                        for ox in ox0..ox1 {
                            acc += *xat(s, oy, ox).add(o / m) * *dyat(s, oy, ox).add(o);
                        }
                    }
                }
                *dwr.add(o) = acc;
                o += 1;
            }
        }
    }
}

/// `dx` of samples `s0..s1` (zeroed first): the scatter of every output position's taps.
unsafe fn input_grad(g: &ConvGeom, dy: *const f32, w: *const f32, dx: *mut f32, s0: usize, s1: usize) {
    let (h, wd, c, f) = (g.h as usize, g.w as usize, g.c as usize, g.f as usize);
    let (oh, ow, kw) = (g.oh as usize, g.ow as usize, g.kw as usize);
    let m = f / c;
    let (dh, dwl) = (g.dh as isize, g.dw as isize);
    core::ptr::write_bytes(dx.add(s0 * h * wd * c), 0, (s1 - s0) * h * wd * c);
    for s in s0..s1 {
        let dxs = dx.add(s * h * wd * c);
        for oy in 0..oh {
            let ky = taps(oy, g.sh, g.dh, g.pt, g.kh, g.h);
            let iy0 = oy as isize * g.sh as isize - g.pt as isize;
            for ox in 0..ow {
                let kx = taps(ox, g.sw, g.dw, g.pl, g.kw, g.w);
                let ix0 = ox as isize * g.sw as isize - g.pl as isize;
                let dp = dy.add(((s * oh + oy) * ow + ox) * f);
                for ty in ky.0..ky.1 {
                    for tx in kx.0..kx.1 {
                        let xp = dxs.offset(((iy0 + ty as isize * dh) * wd as isize + ix0 + tx as isize * dwl) * c as isize);
                        let wr = w.add((ty * kw + tx) * f);
                        if m == 1 {
                            #[allow(unused_mut)]
                            let mut o = 0usize;
                            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                            while o + 4 <= c {
                                let v = f32x4_add(v128_load(xp.add(o) as *const v128), f32x4_mul(v128_load(dp.add(o) as *const v128), v128_load(wr.add(o) as *const v128)));
                                v128_store(xp.add(o) as *mut v128, v);
                                o += 4;
                            }
                            while o < c {
                                *xp.add(o) += *dp.add(o) * *wr.add(o);
                                o += 1;
                            }
                        } else {
                            for ci in 0..c {
                                let mut v = *xp.add(ci);
                                for j in 0..m {
                                    v += *dp.add(ci * m + j) * *wr.add(ci * m + j);
                                }
                                *xp.add(ci) = v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Gradients of the depthwise convolution from `dy` (`n·oh·ow·f`, with respect to the
/// pre-activation output): `dw` (`kh·kw·f`, overwritten; null to skip), `db` (`f`, overwritten;
/// null to skip) and `dx` (`n·h·w·c`, overwritten; null to skip). Returns `STATUS_OK`, or
/// `STATUS_BAD_ARGUMENT` (nothing written) for an invalid geometry.
///
/// # Safety
/// As [`forward`]; `dw`, `db`, `dx` writable and overlapping nothing else.
pub unsafe fn backward(g: &ConvGeom, x: *const f32, n: usize, dy: *const f32, w: *const f32, dx: *mut f32, dw: *mut f32, db: *mut f32) -> u32 {
    if !valid(g) {
        return STATUS_BAD_ARGUMENT;
    }
    let f = g.f as usize;
    let positions = n * g.oh as usize * g.ow as usize;
    let taps = g.kh as usize * g.kw as usize;
    if !db.is_null() {
        crate::reduce::colsum(core::slice::from_raw_parts(dy, positions * f), positions, f, core::slice::from_raw_parts_mut(db, f));
    }
    let (x_, dy_, w_) = (x as usize, dy as usize, w as usize);
    if !dw.is_null() {
        // output channels in blocks of 4 (a part's range starts on a lane group)
        let blocks = (f + 3) / 4;
        let parts = parts_for(blocks, positions * taps * f);
        let dw_ = dw as usize;
        par::run(parts, &move |t, parts, _thread| {
            let (lo, hi) = par::range(t, parts, blocks, 4, f);
            weight_grad(g, x_ as *const f32, n, dy_ as *const f32, dw_ as *mut f32, lo, hi);
        });
    }
    if !dx.is_null() {
        let parts = parts_for(n, positions * taps * f);
        let dx_ = dx as usize;
        par::run(parts, &move |t, parts, _thread| {
            let (s0, s1) = par::range(t, parts, n, 1, n);
            input_grad(g, dy_ as *const f32, w_ as *const f32, dx_ as *mut f32, s0, s1);
        });
    }
    STATUS_OK
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// (h, w, c, m, kh, kw, stride, dilation) with 'same'-like (TensorFlow) or 'valid' padding.
    fn geom(h: u32, w: u32, c: u32, m: u32, kh: u32, kw: u32, s: u32, d: u32, same: bool) -> ConvGeom {
        let axis = |i: u32, k: u32| -> (u32, u32) {
            if same {
                let o = (i + s - 1) / s;
                let total = ((o - 1) * s + d * (k - 1) + 1).saturating_sub(i);
                (o, total / 2)
            } else {
                ((i - d * (k - 1) - 1) / s + 1, 0)
            }
        };
        let (oh, pt) = axis(h, kh);
        let (ow, pl) = axis(w, kw);
        ConvGeom { h, w, c, kh, kw, sh: s, sw: s, dh: d, dw: d, pt, pl, oh, ow, f: c * m }
    }

    /// The definition in f64 (NHWC, kernel [kh, kw, c, m]).
    fn reference(g: &ConvGeom, x: &[f32], n: usize, w: &[f32], b: &[f32]) -> Vec<f64> {
        let (c, f) = (g.c as usize, g.f as usize);
        let m = f / c;
        let mut y = vec![0f64; n * (g.oh * g.ow) as usize * f];
        for s in 0..n {
            for oy in 0..g.oh as i64 {
                for ox in 0..g.ow as i64 {
                    for o in 0..f {
                        let mut acc = b[o] as f64;
                        for ky in 0..g.kh as i64 {
                            for kx in 0..g.kw as i64 {
                                let iy = oy * g.sh as i64 + ky * g.dh as i64 - g.pt as i64;
                                let ix = ox * g.sw as i64 + kx * g.dw as i64 - g.pl as i64;
                                if iy < 0 || ix < 0 || iy >= g.h as i64 || ix >= g.w as i64 {
                                    continue;
                                }
                                let xv = x[((s * g.h as usize + iy as usize) * g.w as usize + ix as usize) * c + o / m] as f64;
                                acc += xv * w[(ky as usize * g.kw as usize + kx as usize) * f + o] as f64;
                            }
                        }
                        y[((s * g.oh as usize + oy as usize) * g.ow as usize + ox as usize) * f + o] = acc;
                    }
                }
            }
        }
        y
    }

    fn data(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) - 0.5
            })
            .collect()
    }

    const G: usize = 11;
    fn guarded(len: usize) -> Vec<f32> {
        vec![f32::NAN; len + 2 * G]
    }
    fn guards_intact(v: &[f32]) -> bool {
        v[..G].iter().chain(v[v.len() - G..].iter()).all(|x| x.is_nan())
    }

    fn cases() -> Vec<ConvGeom> {
        vec![
            geom(5, 7, 3, 1, 3, 3, 1, 1, true),
            geom(6, 5, 5, 2, 3, 3, 2, 1, true),
            geom(9, 8, 6, 1, 5, 5, 1, 1, false),
            geom(8, 7, 2, 3, 5, 3, 2, 1, true),
            geom(9, 9, 7, 1, 3, 3, 1, 2, false),
            geom(7, 6, 17, 2, 3, 3, 1, 2, true),
            geom(4, 5, 20, 1, 1, 1, 1, 1, false),
            geom(5, 6, 9, 2, 1, 1, 2, 1, true),
            geom(3, 2, 4, 1, 5, 3, 2, 1, true), // kernel wider than the image: 'same' only
        ]
    }

    #[test]
    fn forward_matches_the_definition_and_writes_only_its_output() {
        for g in cases() {
            assert!(valid(&g), "{:?}", (g.h, g.w, g.c, g.kh));
            let n = 3;
            let x = data(n * (g.h * g.w * g.c) as usize, g.h * 31 + g.kh);
            let wt = data((g.kh * g.kw * g.f) as usize, 7 + g.f);
            let b = data(g.f as usize, 3);
            let want = reference(&g, &x, n, &wt, &b);
            let mut y = guarded(want.len());
            let st = unsafe { forward(&g, x.as_ptr(), n, wt.as_ptr(), b.as_ptr(), Act::Linear, 0.0, y.as_mut_ptr().add(G)) };
            assert_eq!(st, STATUS_OK);
            assert!(guards_intact(&y));
            for (i, (&a, &e)) in y[G..G + want.len()].iter().zip(want.iter()).enumerate() {
                assert!((a as f64 - e).abs() <= 1e-5 * (1.0 + e.abs()), "y[{}] = {} vs {}", i, a, e);
            }
        }
    }

    #[test]
    fn backward_is_the_adjoint_of_forward_in_f64() {
        // <conv(x, w), dy> = <x, dx> = <w, dw>, and db the column sums of dy
        for g in cases() {
            let n = 2;
            let x = data(n * (g.h * g.w * g.c) as usize, 1 + g.c);
            let wt = data((g.kh * g.kw * g.f) as usize, 2 + g.kh);
            let zero = vec![0f32; g.f as usize];
            let y = reference(&g, &x, n, &wt, &zero);
            let dy = data(y.len(), 3);
            let (mut dx, mut dw, mut db) = (guarded(x.len()), guarded(wt.len()), guarded(g.f as usize));
            let st = unsafe { backward(&g, x.as_ptr(), n, dy.as_ptr(), wt.as_ptr(), dx.as_mut_ptr().add(G), dw.as_mut_ptr().add(G), db.as_mut_ptr().add(G)) };
            assert_eq!(st, STATUS_OK);
            assert!(guards_intact(&dx) && guards_intact(&dw) && guards_intact(&db));
            let lhs: f64 = y.iter().zip(dy.iter()).map(|(a, &b)| a * b as f64).sum();
            let via_dx: f64 = x.iter().zip(dx[G..].iter()).map(|(&a, &b)| a as f64 * b as f64).sum();
            let via_dw: f64 = wt.iter().zip(dw[G..].iter()).map(|(&a, &b)| a as f64 * b as f64).sum();
            assert!((lhs - via_dx).abs() < 1e-4, "{} vs {}", lhs, via_dx);
            assert!((lhs - via_dw).abs() < 1e-4, "{} vs {}", lhs, via_dw);
            let f = g.f as usize;
            for o in 0..f {
                let s: f64 = (0..y.len() / f).map(|r| dy[r * f + o] as f64).sum();
                assert!((db[G + o] as f64 - s).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn split_over_threads_is_bit_identical() {
        use crate::par::TEST_THREADS;
        let g = geom(32, 30, 36, 1, 3, 3, 1, 1, true);
        let g2 = geom(40, 41, 10, 2, 5, 5, 2, 1, true);
        for g in [g, g2] {
            let n = 9;
            let x = data(n * (g.h * g.w * g.c) as usize, 5);
            let wt = data((g.kh * g.kw * g.f) as usize, 6);
            let b = data(g.f as usize, 7);
            let len = n * (g.oh * g.ow * g.f) as usize;
            let dy = data(len, 8);
            let run = |threads: usize| {
                TEST_THREADS.with(|t| t.set(threads));
                if threads > 1 {
                    // every region splits: forward by rows, dx by samples, dw by channel blocks
                    let work = len * (g.kh * g.kw) as usize;
                    assert!(parts_for(n * g.oh as usize, work) > 1 && parts_for(n, work) > 1 && parts_for((g.f as usize + 3) / 4, work) > 1);
                }
                let (mut y, mut dx, mut dw) = (vec![f32::NAN; len], vec![f32::NAN; x.len()], vec![f32::NAN; wt.len()]);
                unsafe {
                    forward(&g, x.as_ptr(), n, wt.as_ptr(), b.as_ptr(), Act::Relu, 0.0, y.as_mut_ptr());
                    backward(&g, x.as_ptr(), n, dy.as_ptr(), wt.as_ptr(), dx.as_mut_ptr(), dw.as_mut_ptr(), core::ptr::null_mut());
                }
                TEST_THREADS.with(|t| t.set(1));
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                (bits(&y), bits(&dx), bits(&dw))
            };
            let want = run(1);
            for threads in [2, 3, 5] {
                assert_eq!(run(threads), want, "threads {}", threads);
            }
        }
    }

    #[test]
    fn refuses_bad_geometry_writing_nothing() {
        let mut bad = geom(4, 4, 3, 1, 3, 3, 1, 1, false);
        bad.f = 4; // not a multiple of c
        let x = [0f32; 48];
        let w = [0f32; 36];
        let mut y = [7f32; 16];
        assert_eq!(unsafe { forward(&bad, x.as_ptr(), 1, w.as_ptr(), core::ptr::null(), Act::Linear, 0.0, y.as_mut_ptr()) }, STATUS_BAD_ARGUMENT);
        assert_eq!(unsafe { backward(&bad, x.as_ptr(), 1, y.as_ptr(), w.as_ptr(), y.as_mut_ptr(), core::ptr::null_mut(), core::ptr::null_mut()) }, STATUS_BAD_ARGUMENT);
        assert!(y.iter().all(|&v| v == 7.0));
        let mut tall = geom(4, 4, 3, 1, 3, 3, 1, 1, false);
        tall.oh = 5;
        assert!(!valid(&tall));
    }
}
