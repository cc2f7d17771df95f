//! 2-D convolution, channels-last (NHWC, as Keras and tfjs): input `[n, h, w, c]`, filters
//! `[kh, kw, c, f]` (Keras' kernel layout, which read row-major is the `[kh·kw·c, f]` matrix of
//! the GEMM), output `[n, oh, ow, f]`.
//!
//! Lowered to the packed GEMM through im2col in row chunks: the `m = n·oh·ow` output positions
//! are the GEMM's rows, and `rows` of them at a time are expanded into a scratch matrix
//! `[rows, kh·kw·c]` (`rows = scratch / (kh·kw·c)`), so the full column matrix is never
//! materialized. The forward pass fuses bias and activation into the GEMM epilogue like dense.
//! Backward reuses the same chunks: `dW += colsᵀ·dY` (β = 1 after the first chunk), `db` is the
//! column sum of `dY`, and `dX` is col2im of `dY·Wᵀ` (a scatter-add).
//!
//! Out-of-image taps (padding) read as 0. The chunk size depends only on the scratch size, so a
//! given plan sums in a fixed order: results do not depend on anything but the inputs and the
//! scratch size.

use crate::act::Act;
use crate::gemm::{self, Epilogue, MatRef};
use crate::status::{STATUS_BAD_ARGUMENT, STATUS_OK};

record! {
    /// Geometry of one convolution (all counts; strides and dilations ≥ 1).
    pub struct ConvGeom {
        /// Input height, width, channels.
        pub h: u32,
        pub w: u32,
        pub c: u32,
        /// Kernel height and width.
        pub kh: u32,
        pub kw: u32,
        /// Strides.
        pub sh: u32,
        pub sw: u32,
        /// Dilations.
        pub dh: u32,
        pub dw: u32,
        /// Zero padding before the first row / column (after the last is implied by `oh`/`ow`).
        pub pt: u32,
        pub pl: u32,
        /// Output height, width, filters.
        pub oh: u32,
        pub ow: u32,
        pub f: u32,
    }
}

impl ConvGeom {
    /// Columns of the im2col matrix: `kh·kw·c`.
    pub fn k(&self) -> usize {
        self.kh as usize * self.kw as usize * self.c as usize
    }

    /// Every count positive; the output fits the padded input (the last window starts inside
    /// the input or its leading padding).
    pub fn valid(&self) -> bool {
        let pos = [self.h, self.w, self.c, self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.oh, self.ow, self.f];
        if pos.iter().any(|&v| v == 0) {
            return false;
        }
        let fits = |o: u32, s: u32, p: u32, i: u32| (o as u64 - 1) * s as u64 <= p as u64 + i as u64 - 1;
        // padding no wider than a kernel's reach (as Keras' 'same'), so every window touches the input
        let reach = |k: u32, d: u32| (k as u64 - 1) * d as u64;
        fits(self.oh, self.sh, self.pt, self.h)
            && fits(self.ow, self.sw, self.pl, self.w)
            && self.pt as u64 <= reach(self.kh, self.dh)
            && self.pl as u64 <= reach(self.kw, self.dw)
    }
}

/// Rows of the im2col chunk for a scratch of `scratch` floats (0 when not even one row fits).
pub fn chunk_rows(g: &ConvGeom, scratch: usize) -> usize {
    scratch / g.k()
}

/// Walks rows `[r0, r0 + rows)` of the im2col matrix in runs: `f(column-matrix offset,
/// Some(image offset), len)` copies `len` floats between the two, `f(offset, None, len)` is `len`
/// floats of padding. Without column dilation the in-image taps of one kernel row are adjacent in
/// the image as in the column matrix, so a kernel row is one run of up to `kw·c` floats (plus the
/// padding runs beside it); with dilation each tap is a run of `c`. The one traversal [`im2col`]
/// and [`col2im_add`] share (each other's adjoint by construction).
#[inline(always)]
fn each_run(g: &ConvGeom, r0: usize, rows: usize, mut f: impl FnMut(usize, Option<usize>, usize)) {
    let (h, w, c) = (g.h as isize, g.w as isize, g.c as usize);
    let (ohw, ow) = (g.oh as usize * g.ow as usize, g.ow as usize);
    let (kw, dw) = (g.kw as isize, g.dw as isize);
    let k = g.k();
    for r in 0..rows {
        let pos = r0 + r;
        let (n, rem) = (pos / ohw, pos % ohw);
        let (oy, ox) = ((rem / ow) as isize, (rem % ow) as isize);
        let mut col = r * k;
        let ix0 = ox * g.sw as isize - g.pl as isize;
        for ky in 0..g.kh as isize {
            let iy = oy * g.sh as isize + ky * g.dh as isize - g.pt as isize;
            if iy < 0 || iy >= h {
                f(col, None, kw as usize * c);
                col += kw as usize * c;
                continue;
            }
            let row = (n as isize * h + iy) * w;
            if dw == 1 {
                // taps kx in [lo, hi) are inside: ix0 + kx in [0, w)
                let lo = (-ix0).max(0).min(kw);
                let hi = (w - ix0).min(kw).max(lo);
                if lo > 0 {
                    f(col, None, lo as usize * c);
                }
                if hi > lo {
                    f(col + lo as usize * c, Some((row + ix0 + lo) as usize * c), (hi - lo) as usize * c);
                }
                if hi < kw {
                    f(col + hi as usize * c, None, (kw - hi) as usize * c);
                }
                col += kw as usize * c;
            } else {
                for kx in 0..kw {
                    let ix = ix0 + kx * dw;
                    f(col, if ix >= 0 && ix < w { Some((row + ix) as usize * c) } else { None }, c);
                    col += c;
                }
            }
        }
    }
}

/// Writes rows `[r0, r0 + rows)` of the im2col matrix of `x` to `col` (`rows × k`, row-major).
///
/// # Safety
/// `x` valid for the input of every sample the rows touch; `col` for `rows × k` floats.
pub unsafe fn im2col(g: &ConvGeom, x: *const f32, r0: usize, rows: usize, col: *mut f32) {
    each_run(g, r0, rows, |at, src, len| match src {
        Some(i) => copy_run(x.add(i), col.add(at), len),
        None => copy_run(core::ptr::null(), col.add(at), len),
    });
}

/// `d[..len] = s[..len]`, or zeros when `s` is null: a plain loop (runs are short: one channel
/// times a 5-wide kernel row is 5 floats), not a `memcpy` call per run (inlined: out of line, the
/// W5 CNN step ran ~10% slower).
#[inline(always)]
unsafe fn copy_run(s: *const f32, d: *mut f32, len: usize) {
    if s.is_null() {
        for j in 0..len {
            *d.add(j) = 0.0;
        }
    } else {
        for j in 0..len {
            *d.add(j) = *s.add(j);
        }
    }
}

/// Adds rows `[r0, r0 + rows)` of a column-shaped matrix `col` (`rows × k`) into the image
/// gradient `dx` (the adjoint of [`im2col`]); padding taps are dropped.
///
/// # Safety
/// As [`im2col`], with `dx` writable.
pub unsafe fn col2im_add(g: &ConvGeom, col: *const f32, r0: usize, rows: usize, dx: *mut f32) {
    each_run(g, r0, rows, |at, dst, len| {
        if let Some(i) = dst {
            add_run(col.add(at), dx.add(i), len);
        }
    });
}

/// `d[..len] += s[..len]` (see [`copy_run`]).
#[inline(always)]
unsafe fn add_run(s: *const f32, d: *mut f32, len: usize) {
    for j in 0..len {
        *d.add(j) += *s.add(j);
    }
}

/// `y = act(conv(x, w) + bias)` for `n` samples. `bias` may be null. Returns `STATUS_OK`, or
/// `STATUS_BAD_ARGUMENT` (nothing written) for an invalid geometry or a scratch smaller than one
/// im2col row.
///
/// # Safety
/// `x`: `n·h·w·c` floats; `w`: `k·f`; `bias`: `f` or null; `y`: `n·oh·ow·f`; `scratch`:
/// `scratch_len`; `ws`: `gemm::WORKSPACE_FLOATS`. `y` and `scratch` overlap nothing else.
pub unsafe fn forward(
    g: &ConvGeom,
    x: *const f32,
    n: usize,
    w: *const f32,
    bias: *const f32,
    act: Act,
    y: *mut f32,
    scratch: *mut f32,
    scratch_len: usize,
    ws: *mut f32,
) -> u32 {
    let cr = if g.valid() { chunk_rows(g, scratch_len) } else { 0 };
    if cr == 0 || (act != Act::Linear && act != Act::Relu) {
        return STATUS_BAD_ARGUMENT;
    }
    let (k, f) = (g.k(), g.f as usize);
    let m = n * g.oh as usize * g.ow as usize;
    let epi = Epilogue { bias, act };
    let mut r0 = 0;
    while r0 < m {
        let rows = cr.min(m - r0);
        // A 1×1 stride-1 unpadded kernel reads x itself as the column matrix.
        let a = if g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w {
            x.add(r0 * k)
        } else {
            im2col(g, x, r0, rows, scratch);
            scratch as *const f32
        };
        gemm::gemm(
            rows,
            f,
            k,
            MatRef { ptr: a, rs: k as isize, cs: 1 },
            MatRef { ptr: w, rs: f as isize, cs: 1 },
            0.0,
            y.add(r0 * f),
            f as isize,
            epi,
            ws,
        );
        r0 += rows;
    }
    STATUS_OK
}

/// Gradients of the convolution from `dy` (`n·oh·ow·f`, with respect to the pre-activation
/// output): `dw = Σ colsᵀ·dy` (`k·f`, overwritten), `db = Σ_rows dy` (`f`, overwritten; null to
/// skip) and, when `dx` is not null, `dx` (`n·h·w·c`, overwritten). `dw` may be null (a frozen
/// layer still passes `dx`). Returns as [`forward`].
///
/// # Safety
/// As [`forward`]; `dw`, `db`, `dx` writable and overlapping nothing else.
pub unsafe fn backward(
    g: &ConvGeom,
    x: *const f32,
    n: usize,
    dy: *const f32,
    w: *const f32,
    dx: *mut f32,
    dw: *mut f32,
    db: *mut f32,
    scratch: *mut f32,
    scratch_len: usize,
    ws: *mut f32,
) -> u32 {
    let cr = if g.valid() { chunk_rows(g, scratch_len) } else { 0 };
    if cr == 0 {
        return STATUS_BAD_ARGUMENT;
    }
    let (k, f) = (g.k(), g.f as usize);
    let m = n * g.oh as usize * g.ow as usize;
    if !db.is_null() {
        let out = core::slice::from_raw_parts_mut(db, f);
        crate::reduce::colsum(core::slice::from_raw_parts(dy, m * f), m, f, out);
    }
    if !dx.is_null() {
        core::ptr::write_bytes(dx, 0, n * g.h as usize * g.w as usize * g.c as usize);
    }
    if !dw.is_null() && m == 0 {
        core::ptr::write_bytes(dw, 0, k * f);
    }
    let mut r0 = 0;
    while r0 < m {
        let rows = cr.min(m - r0);
        let dyc = dy.add(r0 * f);
        if !dw.is_null() {
            im2col(g, x, r0, rows, scratch);
            // dw (+)= colsᵀ·dy: A = colsᵀ is [k, rows] (rs 1, cs k)
            gemm::gemm(
                k,
                f,
                rows,
                MatRef { ptr: scratch, rs: 1, cs: k as isize },
                MatRef { ptr: dyc, rs: f as isize, cs: 1 },
                if r0 == 0 { 0.0 } else { 1.0 },
                dw,
                f as isize,
                Epilogue::NONE,
                ws,
            );
        }
        if !dx.is_null() {
            // dcols = dy·wᵀ: B = wᵀ is [f, k] (rs 1, cs f)
            gemm::gemm(
                rows,
                k,
                f,
                MatRef { ptr: dyc, rs: f as isize, cs: 1 },
                MatRef { ptr: w, rs: 1, cs: f as isize },
                0.0,
                scratch,
                k as isize,
                Epilogue::NONE,
                ws,
            );
            col2im_add(g, scratch, r0, rows, dx);
        }
        r0 += rows;
    }
    STATUS_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(h: u32, w: u32, c: u32, kh: u32, kw: u32, s: u32, d: u32, pt: u32, pl: u32, f: u32, oh: u32, ow: u32) -> ConvGeom {
        ConvGeom { h, w, c, kh, kw, sh: s, sw: s, dh: d, dw: d, pt, pl, oh, ow, f }
    }

    /// Direct f64 convolution (the definition), NHWC.
    fn conv_ref(g: &ConvGeom, x: &[f32], n: usize, w: &[f32], b: &[f32]) -> Vec<f64> {
        let (oh, ow, f, c) = (g.oh as i64, g.ow as i64, g.f as usize, g.c as usize);
        let mut y = vec![0f64; n * (oh * ow) as usize * f];
        for s in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..f {
                        let mut acc = b[o] as f64;
                        for ky in 0..g.kh as i64 {
                            for kx in 0..g.kw as i64 {
                                let iy = oy * g.sh as i64 + ky * g.dh as i64 - g.pt as i64;
                                let ix = ox * g.sw as i64 + kx * g.dw as i64 - g.pl as i64;
                                if iy < 0 || ix < 0 || iy >= g.h as i64 || ix >= g.w as i64 {
                                    continue;
                                }
                                for ci in 0..c {
                                    let xv = x[((s * g.h as usize + iy as usize) * g.w as usize + ix as usize) * c + ci] as f64;
                                    let wv = w[((ky as usize * g.kw as usize + kx as usize) * c + ci) * f + o] as f64;
                                    acc += xv * wv;
                                }
                            }
                        }
                        y[((s * oh as usize + oy as usize) * ow as usize + ox as usize) * f + o] = acc;
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

    #[test]
    fn forward_matches_the_definition_with_small_chunks() {
        // (h, w, c, kh, kw, stride, dilation, pad top, pad left, f)
        let cases = [(5, 7, 3, 3, 3, 1, 1, 1, 1, 4), (6, 5, 2, 5, 3, 2, 1, 2, 1, 3), (7, 7, 1, 3, 3, 1, 2, 0, 0, 5), (4, 4, 3, 1, 1, 1, 1, 0, 0, 2)];
        for &(h, w, c, kh, kw, s, d, pt, pl, f) in cases.iter() {
            let out = |i: u32, k: u32, p: u32| (i + 2 * p - d * (k - 1) - 1) / s + 1;
            let g = geom(h, w, c, kh, kw, s, d, pt, pl, f, out(h, kh, pt), out(w, kw, pl));
            assert!(g.valid());
            let n = 3;
            let x = data(n * (h * w * c) as usize, h * 31 + kh);
            let wt = data(g.k() * f as usize, 7 + f);
            let b = data(f as usize, 3);
            let want = conv_ref(&g, &x, n, &wt, &b);
            // scratch for 5 rows: several chunks, the last one partial
            let mut scratch = vec![f32::NAN; g.k() * 5];
            let mut ws = vec![0f32; gemm::WORKSPACE_FLOATS];
            let mut y = vec![f32::NAN; want.len()];
            let st = unsafe { forward(&g, x.as_ptr(), n, wt.as_ptr(), b.as_ptr(), Act::Linear, y.as_mut_ptr(), scratch.as_mut_ptr(), scratch.len(), ws.as_mut_ptr()) };
            assert_eq!(st, STATUS_OK);
            for (i, (&a, &e)) in y.iter().zip(want.iter()).enumerate() {
                assert!((a as f64 - e).abs() <= 1e-5 * (1.0 + e.abs()), "case {:?} y[{}] = {} vs {}", (h, w, c, kh, kw, s, d), i, a, e);
            }
        }
    }

    #[test]
    fn backward_is_the_adjoint_of_forward() {
        // <conv(x), dy> = <x, dx> and = <w, dw> + <b, db> - bias part: checks dx and dw together in f64
        let g = geom(6, 5, 2, 3, 3, 2, 1, 1, 1, 3, 3, 3);
        assert!(g.valid());
        let n = 2;
        let x = data(n * 60, 1);
        let wt = data(g.k() * 3, 2);
        let zero = vec![0f32; 3];
        let dy = data(n * 9 * 3, 3);
        let mut scratch = vec![f32::NAN; g.k() * 4];
        let mut ws = vec![0f32; gemm::WORKSPACE_FLOATS];
        let (mut dx, mut dw, mut db) = (vec![f32::NAN; x.len()], vec![f32::NAN; wt.len()], vec![f32::NAN; 3]);
        let st = unsafe { backward(&g, x.as_ptr(), n, dy.as_ptr(), wt.as_ptr(), dx.as_mut_ptr(), dw.as_mut_ptr(), db.as_mut_ptr(), scratch.as_mut_ptr(), scratch.len(), ws.as_mut_ptr()) };
        assert_eq!(st, STATUS_OK);
        let y = conv_ref(&g, &x, n, &wt, &zero);
        let lhs: f64 = y.iter().zip(dy.iter()).map(|(a, &b)| a * b as f64).sum();
        let via_dx: f64 = x.iter().zip(dx.iter()).map(|(&a, &b)| a as f64 * b as f64).sum();
        let via_dw: f64 = wt.iter().zip(dw.iter()).map(|(&a, &b)| a as f64 * b as f64).sum();
        assert!((lhs - via_dx).abs() < 1e-4, "{} vs {}", lhs, via_dx);
        assert!((lhs - via_dw).abs() < 1e-4, "{} vs {}", lhs, via_dw);
        for o in 0..3 {
            let s: f64 = (0..n * 9).map(|r| dy[r * 3 + o] as f64).sum();
            assert!((db[o] as f64 - s).abs() < 1e-5);
        }
    }

    #[test]
    fn refuses_bad_geometry_and_tiny_scratch() {
        let g = geom(4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 2, 2);
        let mut ws = vec![0f32; gemm::WORKSPACE_FLOATS];
        let x = [0f32; 16];
        let w = [0f32; 9];
        let mut y = [7f32; 4];
        let mut scratch = [0f32; 8]; // less than one row (k = 9)
        let st = unsafe { forward(&g, x.as_ptr(), 1, w.as_ptr(), core::ptr::null(), Act::Linear, y.as_mut_ptr(), scratch.as_mut_ptr(), 8, ws.as_mut_ptr()) };
        assert_eq!(st, STATUS_BAD_ARGUMENT);
        assert_eq!(y, [7f32; 4]);
        let too_tall = geom(4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 5, 2); // a fifth output row would start past the input
        assert!(!too_tall.valid());
        let zero_stride = geom(4, 4, 1, 3, 3, 0, 1, 0, 0, 1, 2, 2);
        assert!(!zero_stride.valid());
    }
}
