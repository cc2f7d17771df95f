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
//! `kh·kw` times (bench/depthwise.mjs measures both). Direct loops instead, all three passes on one
//! primitive, `acc[o] += a[o]·b[o]` over a pixel's channels: NHWC keeps channels contiguous, so
//! with `m = 1` (MobileNet's) the SIMD128 path runs 4 channels per f32x4 lane group; the padding
//! taps are skipped (tap ranges computed once per output row and column). The accumulators are the
//! output pixel (`f` floats, in L1), not registers: independent lanes keep the adds from chaining
//! and the code stays small (the module is embedded in the browser bundle). With `m > 1`, lanes
//! `o..o+4` read inputs `o/m…(o+3)/m`: those run a scalar loop on both builds.
//!
//! Arithmetic, the same on both builds (SIMD128 has no FMA and Rust never contracts `a*b + c`, so
//! the SIMD lanes and the scalar loop round identically: the builds agree bit for bit):
//! - forward: `acc = b[o]` (0 without bias), then `acc += x·w` over the in-image taps in
//!   row-major window order; the activation is applied to each finished output row.
//! - dW[tap, o]: `acc = 0`, `acc += x·dy` over output positions (samples, rows, columns) in order.
//! - db[o]: the column sum of dy ([`crate::reduce::colsum`], as conv2d).
//! - dX: zeroed, then for each output position (sample, row, column) and each of its in-image
//!   taps in window order, `dx[.., ci] += dy[.., ci·m + j]·w[tap, ci·m + j]` for `j = 0..m`.
//!
//! Work is split over threads only along independent outputs — forward by output rows, dX by
//! samples, dW by output channels — so each element is computed by the same operations in the
//! same order whatever the thread count (see [`crate::par`]).

use crate::act::{self, Act};
use crate::conv::ConvGeom;
use core::num::NonZeroUsize;
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
    // d ≥ 1 (checked by `valid`): unsigned division by a nonzero divisor, no panic path
    // SAFETY: d ≠ 0.
    let du = unsafe { NonZeroUsize::new_unchecked(d as usize) };
    let lo = if start >= 0 { 0 } else { ((-start) as usize + d as usize - 1) / du };
    let last = len as isize - 1 - start; // t·d ≤ last
    let hi = if last < 0 { 0 } else { (last as usize / du + 1).min(k as usize) };
    (lo, hi.max(lo))
}

/// `acc[i] += a[i]·b[i]` for `i < len` (f32x4 lanes, then a scalar tail: the same roundings).
/// Out of line: one copy for the three passes.
#[inline(never)]
unsafe fn mac(acc: *mut f32, a: *const f32, b: *const f32, len: usize) {
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    while i + 4 <= len {
        let v = f32x4_add(v128_load(acc.add(i) as *const v128), f32x4_mul(v128_load(a.add(i) as *const v128), v128_load(b.add(i) as *const v128)));
        v128_store(acc.add(i) as *mut v128, v);
        i += 4;
    }
    let one = |i: usize| *acc.add(i) += *a.add(i) * *b.add(i);
    // the SIMD build's tail is at most 3 floats: unrolled by hand, since a loop there gets
    // auto-vectorized again (with alias checks: ~0.5 KB of module for nothing)
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    for j in [i, i + 1, i + 2] {
        if j < len {
            one(j);
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    while i < len {
        one(i);
        i += 1;
    }
}

/// `acc[o] += x[o/m]·b[o]` for output channels `o` in `lo..hi`: [`mac`] when `m = 1`, else a
/// scalar loop (lanes `o..o+4` would read `x[o/m]…x[(o+3)/m]`, no single load; a lane gather
/// compiles to `v128.load32_splat` + lane inserts, which scripts/fuse-madd.mjs would take for the
/// GEMM micro-kernel).
#[inline(never)]
unsafe fn mac_x(acc: *mut f32, x: *const f32, b: *const f32, lo: usize, hi: usize, m: usize) {
    if m == 1 {
        mac(acc.add(lo), x.add(lo), b.add(lo), hi - lo);
    } else {
        for o in lo..hi {
            *acc.add(o) += *x.add(o / m) * *b.add(o);
        }
    }
}

/// The pass [`walk`] runs.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// `y[pos][o] (= bias[o] or 0 first) += x[tap pixel][o/m]·w[tap][o]`, then the activation on each finished row.
    Forward,
    /// `dw[tap][o] += x[tap pixel][o/m]·dy[pos][o]` for `o` in `lo..hi`.
    Weights,
    /// `dx[tap pixel][o/m] += dy[pos][o]·w[tap][o]` (for each input channel, `j = 0..m` in order).
    Input,
}

/// The one loop nest of the three passes: output rows `r0..r1` (row `r` is sample `r / oh`, output
/// row `r % oh`), their columns, and each position's in-image taps in window order. `img` is the
/// image the taps read or write (x, or dx for [`Step::Input`]), `pix` the per-position tensor (y or
/// dy), `ker` the kernel (w, or dw for [`Step::Weights`]). Out of line: one copy for all passes (an
/// indirect call per tap instead of the `match` made it ~0.1 KB gzip smaller and small-channel
/// layers ~25% slower).
#[inline(never)]
unsafe fn walk(g: &ConvGeom, step: Step, img: *mut f32, pix: *mut f32, ker: *mut f32, bias: *const f32, act: Act, alpha: f32, r0: usize, r1: usize, lo: usize, hi: usize) {
    let (h, wd, c, f) = (g.h as usize, g.w as usize, g.c as usize, g.f as usize);
    let (ow, kw) = (g.ow as usize, g.kw as usize);
    // nonzero (checked by `valid`): divisions without a divide-by-zero panic path
    let nz = |v: usize| NonZeroUsize::new_unchecked(v);
    let (oh, m) = (nz(g.oh as usize), f / nz(c));
    for r in r0..r1 {
        let (s, oy) = (r / oh, r % oh);
        let ky = taps(oy, g.sh, g.dh, g.pt, g.kh, g.h);
        let row = pix.add(r * ow * f);
        for ox in 0..ow {
            let kx = taps(ox, g.sw, g.dw, g.pl, g.kw, g.w);
            let pp = row.add(ox * f);
            if step == Step::Forward {
                if bias.is_null() {
                    core::ptr::write_bytes(pp, 0, f);
                } else {
                    core::ptr::copy_nonoverlapping(bias, pp, f);
                }
            }
            for ty in ky.0..ky.1 {
                let iy = oy * g.sh as usize + ty * g.dh as usize - g.pt as usize;
                for tx in kx.0..kx.1 {
                    let ix = ox * g.sw as usize + tx * g.dw as usize - g.pl as usize;
                    let (ip, kp) = (img.add(((s * h + iy) * wd + ix) * c), ker.add((ty * kw + tx) * f));
                    match step {
                        Step::Forward => mac_x(pp, ip, kp, lo, hi, m),
                        Step::Weights => mac_x(kp, ip, pp, lo, hi, m),
                        Step::Input if m == 1 => mac(ip, pp, kp, c),
                        Step::Input => {
                            for o in 0..f {
                                *ip.add(o / m) += *pp.add(o) * *kp.add(o);
                            }
                        }
                    }
                }
            }
        }
        if step == Step::Forward {
            act::forward(act, core::slice::from_raw_parts_mut(row, ow * f), alpha);
        }
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
    let f = g.f as usize;
    let rows = n * g.oh as usize; // output rows: independent
    let parts = parts_for(rows, rows * g.ow as usize * f * g.kh as usize * g.kw as usize);
    let (x_, w_, b_, y_) = (x as usize, w as usize, bias as usize, y as usize);
    par::run(parts, &move |t, parts, _thread| {
        let (r0, r1) = par::range(t, parts, rows, 1, rows);
        walk(g, Step::Forward, x_ as *mut f32, y_ as *mut f32, w_ as *mut f32, b_ as *const f32, act, alpha, r0, r1, 0, f);
    });
    STATUS_OK
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
    let (oh, img) = (g.oh as usize, g.h as usize * g.w as usize * g.c as usize);
    if !dw.is_null() {
        // output channels in blocks of 4 (a part's range starts on a lane group)
        let blocks = (f + 3) / 4;
        let parts = parts_for(blocks, positions * taps * f);
        let dw_ = dw as usize;
        par::run(parts, &move |t, parts, _thread| {
            let (lo, hi) = par::range(t, parts, blocks, 4, f);
            for tap in 0..taps {
                core::ptr::write_bytes((dw_ as *mut f32).add(tap * f + lo), 0, hi - lo);
            }
            walk(g, Step::Weights, x_ as *mut f32, dy_ as *mut f32, dw_ as *mut f32, core::ptr::null(), Act::Linear, 0.0, 0, n * oh, lo, hi);
        });
    }
    if !dx.is_null() {
        let parts = parts_for(n, positions * taps * f);
        let dx_ = dx as usize;
        par::run(parts, &move |t, parts, _thread| {
            let (s0, s1) = par::range(t, parts, n, 1, n);
            core::ptr::write_bytes((dx_ as *mut f32).add(s0 * img), 0, (s1 - s0) * img);
            walk(g, Step::Input, dx_ as *mut f32, dy_ as *mut f32, w_ as *mut f32, core::ptr::null(), Act::Linear, 0.0, s0 * oh, s1 * oh, 0, f);
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
