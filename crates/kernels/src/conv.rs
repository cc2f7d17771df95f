//! 2-D convolution, channels-last (NHWC, as Keras and tfjs): input `[n, h, w, c]`, filters
//! `[kh, kw, c, f]` (Keras' kernel layout, which read row-major is the `[kh·kw·c, f]` matrix of
//! the GEMM), output `[n, oh, ow, f]`.
//!
//! Lowered to the packed GEMM (`m = n·oh·ow` output positions are its rows, `k = kh·kw·c` taps
//! its depth):
//! - forward `y = act(cols·W + b)` and the weight gradient `dW = colsᵀ·dY` are **implicit GEMMs**:
//!   the GEMM's A panels are packed straight from the NHWC image ([`PatchRows`], [`PatchCols`],
//!   through [`gemm::gemm_with`]), so the column matrix is never stored, not even in chunks. The
//!   forward pass fuses bias and activation into the GEMM epilogue like dense.
//! - `dX` is col2im of `dY·Wᵀ` (a scatter-add), through an im2col-shaped scratch in row chunks
//!   (`rows = scratch / k`).
//! - `db` is the column sum of `dY`.
//!
//! Implicit GEMM against im2col (W5's shapes, `node bench/conv-ops.mjs --wasm <im2col build>
//! --wasm <this>`, CPU-time ratios, medians of 9 alternated rounds): the implicit forward is ~2.1×
//! faster for conv(32, 5×5) on one channel (k = 25: the separate im2col pass and its re-packing
//! cost more than the tiny GEMM) and ~1.1× for conv(64, 5×5) on 32 channels (k = 800); the
//! implicit dW ~1.14× and ~1.04×. So it is used for every shape (dX keeps the im2col-shaped
//! scratch: its col2im is a scatter-add).
//!
//! Threads (crate::par) split only independent outputs: forward and dW by output tiles, `db` by
//! filter ranges, `dX` by whole images; see [`backward`]. So results depend on nothing but the
//! inputs: not on the thread count, nor on the scratch size. Out-of-image taps (padding) read as 0.

use crate::act::Act;
use crate::gemm::{self, Epilogue, MatRef, MR};
use crate::par;
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

/// Whether the packers take their fast paths (windows wholly inside the image, adjacent values):
/// on the SIMD128 build (and in native tests); the scalar build, a fallback for engines without
/// SIMD128 that the browser entry embeds too, keeps only the general bounds-checked loops, which
/// copy the same values (packing is a copy: the results are the same bits either way).
const FAST: bool = cfg!(any(test, target_feature = "simd128"));

/// The im2col matrix of `x` (`[n·oh·ow, k]`) as the A operand of an implicit GEMM: its panels
/// are packed straight from the image, one output position (row) at a time, so the column matrix
/// is never stored (the forward product `cols·W`).
pub struct PatchRows<'a> {
    pub g: &'a ConvGeom,
    pub x: *const f32,
}

impl<'a> gemm::PackA for PatchRows<'a> {
    unsafe fn pack(&self, i0: usize, p0: usize, mc: usize, kc: usize, out: *mut f32) {
        let (g, x) = (self.g, self.x);
        let (h, w, c) = (g.h as isize, g.w as isize, g.c as usize);
        let (oh, ow) = (g.oh as usize, g.ow as usize);
        // per tap of the block: its offset from a window's first float, and its (dilated) kernel
        // row and column offsets for the bounds checks of windows that cross the image's border
        let kc = kc.min(gemm::KC);
        let mut off = [0isize; gemm::KC];
        let mut ty = [0isize; gemm::KC];
        let mut tx = [0isize; gemm::KC];
        let t = p0;
        let (mut ky, mut kx, mut ch) = (t / (g.kw as usize * c), (t % (g.kw as usize * c)) / c, t % c);
        for j in 0..kc {
            ty[j] = (ky * g.dh as usize) as isize;
            tx[j] = (kx * g.dw as usize) as isize;
            off[j] = (ty[j] * w + tx[j]) * c as isize + ch as isize;
            ch += 1;
            if ch == c {
                ch = 0;
                kx += 1;
                if kx == g.kw as usize {
                    kx = 0;
                    ky += 1;
                }
            }
        }
        let (reach_y, reach_x) = ((g.kh as isize - 1) * g.dh as isize, (g.kw as isize - 1) * g.dw as isize);
        let mut ir = 0;
        while ir < mc {
            let panel = out.add(ir * kc);
            let rows = (mc - ir).min(MR);
            // the panel's windows: first float (may lie outside the image), top-left tap, and
            // whether all four lie wholly inside the image
            let mut base = [0isize; MR];
            let mut org = [(0isize, 0isize); MR];
            let mut inner = rows == MR;
            let pos = i0 + ir;
            let (mut s, mut oy, mut ox) = (pos / (oh * ow), (pos % (oh * ow)) / ow, pos % ow);
            for i in 0..rows {
                let iy = (oy * g.sh as usize) as isize - g.pt as isize;
                let ix = (ox * g.sw as usize) as isize - g.pl as isize;
                inner &= iy >= 0 && ix >= 0 && iy + reach_y < h && ix + reach_x < w;
                base[i] = ((s as isize * h + iy) * w + ix) * c as isize;
                org[i] = (iy, ix);
                ox += 1;
                if ox == ow {
                    ox = 0;
                    oy += 1;
                    if oy == oh {
                        oy = 0;
                        s += 1;
                    }
                }
            }
            let mut d = panel;
            if FAST && inner {
                let (x0, x1, x2, x3) = (x.offset(base[0]), x.offset(base[1]), x.offset(base[2]), x.offset(base[3]));
                for &o in off.iter().take(kc) {
                    *d = *x0.offset(o);
                    *d.add(1) = *x1.offset(o);
                    *d.add(2) = *x2.offset(o);
                    *d.add(3) = *x3.offset(o);
                    d = d.add(MR);
                }
            } else {
                // a window crosses the border (padding taps read 0), or a partial panel
                for j in 0..kc {
                    for i in 0..MR {
                        let (iy, ix) = (org[i].0 + ty[j], org[i].1 + tx[j]);
                        *d.add(i) = if i < rows && iy >= 0 && iy < h && ix >= 0 && ix < w { *x.offset(base[i] + off[j]) } else { 0.0 };
                    }
                    d = d.add(MR);
                }
            }
            ir += MR;
        }
    }
}

/// The transposed im2col matrix (`[k, n·oh·ow]`: row = tap, depth = output position) as the A
/// operand of an implicit GEMM, for the weight gradient `colsᵀ·dY`. A panel is `MR` taps; for
/// each position the four values are one aligned run of 4 channels when the taps share a kernel
/// offset (`c` a multiple of 4), else four separate reads.
pub struct PatchCols<'a> {
    pub g: &'a ConvGeom,
    pub x: *const f32,
}

impl<'a> gemm::PackA for PatchCols<'a> {
    unsafe fn pack(&self, i0: usize, p0: usize, mc: usize, kc: usize, out: *mut f32) {
        let g = self.g;
        let (h, w, c) = (g.h as isize, g.w as isize, g.c as usize);
        let (oh, ow) = (g.oh as usize, g.ow as usize);
        let k = g.k();
        // no tap of any window falls outside the image: no bounds checks
        let inside = g.pt == 0
            && g.pl == 0
            && (g.oh as isize - 1) * g.sh as isize + (g.kh as isize - 1) * (g.dh as isize) < h
            && (g.ow as isize - 1) * g.sw as isize + (g.kw as isize - 1) * (g.dw as isize) < w;
        let mut ir = 0;
        while ir < mc {
            let panel = out.add(ir * kc);
            // the panel's taps: kernel row and column offsets (dilated) and channel
            let mut dy_ = [0isize; MR];
            let mut dx_ = [0isize; MR];
            let mut ch = [0usize; MR];
            let mut live = [false; MR];
            for i in 0..MR {
                let t = i0 + ir + i;
                if ir + i < mc && t < k {
                    let (ky, rem) = (t / (g.kw as usize * c), t % (g.kw as usize * c));
                    dy_[i] = ky as isize * g.dh as isize;
                    dx_[i] = (rem / c) as isize * g.dw as isize;
                    ch[i] = rem % c;
                    live[i] = true;
                }
            }
            let run4 = live[MR - 1] && ch[0] + MR - 1 == ch[MR - 1] && dy_[0] == dy_[MR - 1] && dx_[0] == dx_[MR - 1];
            let mut d = panel;
            let (mut s, mut oy, mut ox) = (p0 / (oh * ow), (p0 % (oh * ow)) / ow, p0 % ow);
            if FAST && inside && run4 {
                // every tap in the image, the four taps one run of 4 channels: one 4-float copy
                // per position, walked along ox
                let tap0 = ((dy_[0] * w + dx_[0]) as usize) * c + ch[0];
                let step = g.sw as usize * c;
                let mut left = kc;
                while left > 0 {
                    let run = (ow - ox).min(left);
                    let mut o = ((s * h as usize + oy * g.sh as usize) * w as usize + ox * g.sw as usize) * c + tap0;
                    for _ in 0..run {
                        core::ptr::copy_nonoverlapping(self.x.add(o), d, MR);
                        d = d.add(MR);
                        o += step;
                    }
                    left -= run;
                    ox = 0;
                    oy += 1;
                    if oy == oh {
                        oy = 0;
                        s += 1;
                    }
                }
                ir += MR;
                continue;
            }
            for _ in 0..kc {
                let iy0 = (oy * g.sh as usize) as isize - g.pt as isize;
                let ix0 = (ox * g.sw as usize) as isize - g.pl as isize;
                let img = x_at(self.x, s, h, w, c);
                for i in 0..MR {
                    let (iy, ix) = (iy0 + dy_[i], ix0 + dx_[i]);
                    *d.add(i) = if live[i] && iy >= 0 && iy < h && ix >= 0 && ix < w { *img.offset((iy * w + ix) * c as isize).add(ch[i]) } else { 0.0 };
                }
                d = d.add(MR);
                ox += 1;
                if ox == ow {
                    ox = 0;
                    oy += 1;
                    if oy == oh {
                        oy = 0;
                        s += 1;
                    }
                }
            }
            ir += MR;
        }
    }
}

/// The first float of sample `s`.
#[inline(always)]
unsafe fn x_at(x: *const f32, s: usize, h: isize, w: isize, c: usize) -> *const f32 {
    x.add(s * (h * w) as usize * c)
}

/// `y = act(conv(x, w) + bias)` for `n` samples. `bias` may be null. Returns `STATUS_OK`, or
/// `STATUS_BAD_ARGUMENT` (nothing written) for an invalid geometry or a scratch smaller than one
/// im2col row.
///
/// An implicit GEMM: `y = cols·W` with the panels of `cols` packed straight from `x`
/// ([`PatchRows`]), split over threads by output rows or filter columns like a dense layer's GEMM
/// ([`par::gemm_with`]); every output element is one dot product over the `k` taps in the GEMM's
/// fixed k-blocking, so the result depends neither on the split nor on the thread count. (The
/// scratch is not used here: backward's dX needs it.)
///
/// # Safety
/// `x`: `n·h·w·c` floats; `w`: `k·f`; `bias`: `f` or null; `y`: `n·oh·ow·f`; `scratch`:
/// `scratch_len`; `ws`: `gemm::WORKSPACE_FLOATS` per thread. `y` and `scratch` overlap nothing else.
pub unsafe fn forward(
    g: &ConvGeom,
    x: *const f32,
    n: usize,
    w: *const f32,
    bias: *const f32,
    act: Act,
    y: *mut f32,
    _scratch: *mut f32,
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
    let b = MatRef { ptr: w, rs: f as isize, cs: 1 };
    par::gemm_with(m, f, k, &PatchRows { g, x }, b, 0.0, y, f as isize, epi, ws);
    STATUS_OK
}

/// Gradients of the convolution from `dy` (`n·oh·ow·f`, with respect to the pre-activation
/// output): `dw = colsᵀ·dy` (`k·f`, overwritten), `db = Σ_rows dy` (`f`, overwritten; null to
/// skip) and, when `dx` is not null, `dx` (`n·h·w·c`, overwritten). `dw` may be null (a frozen
/// layer still passes `dx`). Returns as [`forward`].
///
/// Threads split only independent outputs, so the result does not depend on their number:
/// - `dw` is one implicit GEMM over all `n·oh·ow` positions ([`PatchCols`]: each element sums the
///   positions in order, in the GEMM's fixed k-blocks), split by rows (taps) or columns
///   (filters) of `dw`; `db` (a column sum, rows in order) stays serial.
/// - `dx` is split by whole images: a part computes `dy·Wᵀ` for its images' rows in chunks of its
///   share of the scratch and scatter-adds them (col2im) into its images' `dx`, rows in order, so
///   every `dx` element receives its terms in the serial order.
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
    let ohw = g.oh as usize * g.ow as usize;
    let m = n * ohw;
    if !db.is_null() {
        crate::reduce::colsum(core::slice::from_raw_parts(dy, m * f), m, f, core::slice::from_raw_parts_mut(db, f));
    }
    if !dw.is_null() {
        let b = MatRef { ptr: dy, rs: f as isize, cs: 1 };
        par::gemm_with(k, f, m, &PatchCols { g, x }, b, 0.0, dw, f as isize, Epilogue::NONE, ws);
    }
    if !dx.is_null() {
        let img = g.h as usize * g.w as usize * g.c as usize;
        // parts of whole images, each with its own slice of the scratch (at least one row)
        let by_work = m.saturating_mul(k).saturating_mul(f) / par::MIN_GEMM_WORK;
        let parts = par::max_parts(par::threads()).min(n).min(by_work).min(scratch_len / k).max(1);
        let slice = scratch_len / parts;
        par::run(parts, &|t, parts, thread| {
            let (i0, i1) = par::range(t, parts, n, 1, n);
            let sc = scratch.add(t * slice);
            let cr = chunk_rows(g, slice);
            let wst = ws.add(thread * gemm::WORKSPACE_FLOATS);
            core::ptr::write_bytes(dx.add(i0 * img), 0, (i1 - i0) * img);
            let (mut r0, r1) = (i0 * ohw, i1 * ohw);
            while r0 < r1 {
                let rows = cr.min(r1 - r0);
                // dcols = dy·wᵀ: B = wᵀ is [f, k] (rs 1, cs f)
                gemm::gemm(
                    rows,
                    k,
                    f,
                    MatRef { ptr: dy.add(r0 * f), rs: f as isize, cs: 1 },
                    MatRef { ptr: w, rs: 1, cs: f as isize },
                    0.0,
                    sc,
                    k as isize,
                    Epilogue::NONE,
                    wst,
                );
                col2im_add(g, sc, r0, rows, dx);
                r0 += rows;
            }
        });
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

    /// f64 gradients by the definition: dx[s, iy, ix, ci] and dw[ky, kx, ci, o] from dy.
    fn grads_ref(g: &ConvGeom, x: &[f32], n: usize, w: &[f32], dy: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (oh, ow, f, c) = (g.oh as i64, g.ow as i64, g.f as usize, g.c as usize);
        let mut dx = vec![0f64; x.len()];
        let mut dw = vec![0f64; w.len()];
        let mut db = vec![0f64; f];
        for s in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..f {
                        let d = dy[((s * oh as usize + oy as usize) * ow as usize + ox as usize) * f + o] as f64;
                        db[o] += d;
                        for ky in 0..g.kh as i64 {
                            for kx in 0..g.kw as i64 {
                                let iy = oy * g.sh as i64 + ky * g.dh as i64 - g.pt as i64;
                                let ix = ox * g.sw as i64 + kx * g.dw as i64 - g.pl as i64;
                                if iy < 0 || ix < 0 || iy >= g.h as i64 || ix >= g.w as i64 {
                                    continue;
                                }
                                for ci in 0..c {
                                    let xi = ((s * g.h as usize + iy as usize) * g.w as usize + ix as usize) * c + ci;
                                    let wi = ((ky as usize * g.kw as usize + kx as usize) * c + ci) * f + o;
                                    dx[xi] += d * w[wi] as f64;
                                    dw[wi] += d * x[xi] as f64;
                                }
                            }
                        }
                    }
                }
            }
        }
        (dx, dw, db)
    }

    /// Geometries of the implicit-GEMM packers' paths: valid (no bounds checks) and padded,
    /// channels a multiple of 4 (one 4-float run per position) and not, stride 2, dilation 2,
    /// 1×1 (the input read as the column matrix). (h, w, c, kh, kw, stride, dilation, pt, pl, f)
    const CASES: [(u32, u32, u32, u32, u32, u32, u32, u32, u32, u32); 9] = [
        (9, 8, 8, 3, 3, 1, 1, 0, 0, 12),
        (9, 8, 8, 3, 3, 1, 1, 1, 1, 12),
        (11, 10, 1, 5, 5, 1, 1, 0, 0, 32),
        (10, 9, 3, 3, 3, 2, 1, 1, 1, 5),
        (12, 11, 4, 3, 3, 2, 2, 2, 2, 9),
        (11, 9, 6, 5, 3, 1, 2, 0, 1, 4),
        (6, 6, 5, 1, 1, 1, 1, 0, 0, 7),
        (8, 7, 12, 2, 2, 2, 1, 0, 0, 20),
        (16, 16, 16, 3, 3, 1, 1, 1, 1, 16),
    ];

    fn case_geom(cs: (u32, u32, u32, u32, u32, u32, u32, u32, u32, u32)) -> ConvGeom {
        let (h, w, c, kh, kw, s, d, pt, pl, f) = cs;
        // 'same'-like trailing padding equal to the leading one
        let out = |i: u32, k: u32, p: u32| (i + 2 * p - d * (k - 1) - 1) / s + 1;
        let g = geom(h, w, c, kh, kw, s, d, pt, pl, f, out(h, kh, pt), out(w, kw, pl));
        assert!(g.valid(), "{:?}", cs);
        g
    }

    /// Forward and all three gradients against the f64 definition, for every packer path, with
    /// NaN guard bands around every output and NaN-filled outputs beforehand.
    #[test]
    fn implicit_gemm_paths_match_the_definition() {
        const G: usize = 11;
        for (ci, &cs) in CASES.iter().enumerate() {
            let g = case_geom(cs);
            let n = 3;
            let (ni, no, k, f) = ((g.h * g.w * g.c) as usize, (g.oh * g.ow * g.f) as usize, g.k(), g.f as usize);
            let x = data(n * ni, 100 + ci as u32);
            let wt = data(k * f, 200 + ci as u32);
            let b = data(f, 300 + ci as u32);
            let dy = data(n * no, 400 + ci as u32);
            let mut scratch = vec![f32::NAN; k * 7];
            let mut ws = vec![0f32; gemm::WORKSPACE_FLOATS];
            let guarded = |len: usize| vec![f32::NAN; len + 2 * G];
            let (mut y, mut dx, mut dw, mut db) = (guarded(n * no), guarded(n * ni), guarded(k * f), guarded(f));
            unsafe {
                assert_eq!(forward(&g, x.as_ptr(), n, wt.as_ptr(), b.as_ptr(), Act::Linear, y.as_mut_ptr().add(G), scratch.as_mut_ptr(), scratch.len(), ws.as_mut_ptr()), STATUS_OK);
                assert_eq!(backward(&g, x.as_ptr(), n, dy.as_ptr(), wt.as_ptr(), dx.as_mut_ptr().add(G), dw.as_mut_ptr().add(G), db.as_mut_ptr().add(G), scratch.as_mut_ptr(), scratch.len(), ws.as_mut_ptr()), STATUS_OK);
            }
            let want_y = conv_ref(&g, &x, n, &wt, &b);
            let (want_dx, want_dw, want_db) = grads_ref(&g, &x, n, &wt, &dy);
            for (what, got, want) in [("y", &y, &want_y), ("dx", &dx, &want_dx), ("dw", &dw, &want_dw), ("db", &db, &want_db)] {
                let len = want.len();
                assert!(got[..G].iter().chain(got[G + len..].iter()).all(|v| v.is_nan()), "case {} {}: guard band written", ci, what);
                for i in 0..len {
                    let (a, e) = (got[G + i] as f64, want[i]);
                    assert!((a - e).abs() <= 2e-5 * (1.0 + e.abs()), "case {} {:?} {}[{}] = {} vs {}", ci, cs, what, i, a, e);
                }
            }
        }
    }

    /// Split over 2, 3 and 5 threads (parts run one after another natively, the same arithmetic
    /// as on the threads build), the forward output and every gradient are bit-identical to one
    /// thread's, and no part writes outside its buffers (NaN guard bands). Shapes large enough
    /// that every region splits (above `par::MIN_GEMM_WORK` per part).
    #[test]
    fn split_over_threads_is_bit_identical() {
        const G: usize = 5;
        let shapes = [case_geom((16, 16, 16, 3, 3, 1, 1, 1, 1, 16)), case_geom((28, 28, 1, 5, 5, 1, 1, 0, 0, 32)), case_geom((12, 12, 32, 5, 5, 1, 1, 0, 0, 64)), case_geom((23, 22, 6, 3, 3, 2, 2, 2, 2, 72))];
        for (si, g) in shapes.iter().enumerate() {
            let n = 7;
            let (ni, no, k, f) = ((g.h * g.w * g.c) as usize, (g.oh * g.ow * g.f) as usize, g.k(), g.f as usize);
            assert!(n * (g.oh * g.ow) as usize * k * f >= 6 * par::MIN_GEMM_WORK, "shape {} too small to split", si);
            let x = data(n * ni, 1 + si as u32);
            let wt = data(k * f, 2 + si as u32);
            let b = data(f, 3 + si as u32);
            let dy = data(n * no, 4 + si as u32);
            let run = |threads: usize| -> [Vec<f32>; 4] {
                let mut scratch = vec![f32::NAN; (262_144 / k).max(1) * k];
                let mut ws = vec![0f32; 5 * gemm::WORKSPACE_FLOATS + par::SHARED_PACK_FLOATS];
                let guarded = |len: usize| vec![f32::NAN; len + 2 * G];
                let (mut y, mut dx, mut dw, mut db) = (guarded(n * no), guarded(n * ni), guarded(k * f), guarded(f));
                par::TEST_THREADS.with(|t| t.set(threads));
                unsafe {
                    assert_eq!(forward(g, x.as_ptr(), n, wt.as_ptr(), b.as_ptr(), Act::Relu, y.as_mut_ptr().add(G), scratch.as_mut_ptr(), scratch.len(), ws.as_mut_ptr()), STATUS_OK);
                    assert_eq!(backward(g, x.as_ptr(), n, dy.as_ptr(), wt.as_ptr(), dx.as_mut_ptr().add(G), dw.as_mut_ptr().add(G), db.as_mut_ptr().add(G), scratch.as_mut_ptr(), scratch.len(), ws.as_mut_ptr()), STATUS_OK);
                }
                par::TEST_THREADS.with(|t| t.set(1));
                for v in [&y, &dx, &dw, &db] {
                    let len = v.len() - 2 * G;
                    assert!(v[..G].iter().chain(v[G + len..].iter()).all(|e| e.is_nan()), "shape {} threads {}: guard band written", si, threads);
                    assert!(v[G..G + len].iter().all(|e| e.is_finite()), "shape {} threads {}: an element not written", si, threads);
                }
                [y, dx, dw, db]
            };
            let want = run(1);
            for threads in [2usize, 3, 5] {
                let got = run(threads);
                for (j, what) in ["y", "dx", "dw", "db"].iter().enumerate() {
                    let same = got[j].iter().zip(want[j].iter()).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "shape {} threads {}: {} differs from one thread's", si, threads, what);
                }
            }
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
