//! GEMM family: `C ← act(A·B + β·C + bias)` for any strides of A and B, so `A·B`, `Aᵀ·B` and
//! `A·Bᵀ` are the same call with different strides (packing makes the transposes free).
//!
//! One BLIS loop nest (LOOP 5…1 below, after matrixmultiply's `gemm.rs`): B is packed into
//! `KC×NR` column panels and A into `MR×KC` row panels, zero-padded so the micro-kernel only
//! ever sees full `MR×NR` tiles; edge tiles are computed whole and stored through a mask.
//! Contract of the micro-kernel: `C ← α·A·B + β·C` with α = 1; **β = 0 means C is never read**
//! (NaN in C's old contents cannot leak). The epilogue (bias per column, activation) runs when the
//! last `KC` block of a tile has been accumulated, while the tile is still in registers.
//!
//! Register budget: V8 gives wasm SIMD 15 vector registers. The 4×8 tile uses 8 accumulators +
//! 2 B vectors + 1 splatted A value = 11, leaving room; 6×8 or 4×16 spill.
//!
//! SIMD128 has no FMA: the SIMD micro-kernel does `mul` then `add`, rounding twice, and so does
//! the scalar micro-kernel, so both builds agree bit for bit; [`gemm_ref`] (a plain triple loop,
//! the reference) sums in one pass and may differ by ~1 ulp per k-step.

use crate::act::{self, Act};

/// Rows of the register tile.
pub const MR: usize = 4;
/// Columns of the register tile.
pub const NR: usize = 8;
/// Depth of one packed block (A panel `MR×KC` = 4 KiB, B panel `KC×NR` = 8 KiB: both in L1).
pub const KC: usize = 256;
/// Rows of A packed at once (`MC×KC` = 64 KiB).
pub const MC: usize = 64;
/// Columns of B packed at once (`KC×NC` = 1 MiB).
pub const NC: usize = 1024;

/// f32 elements of workspace [`gemm`] needs (TypeScript allocates it once per runtime).
pub const WORKSPACE_FLOATS: usize = MC * KC + KC * NC;

/// What happens to a tile after its last k-block: `C = act(C + bias[col])`.
#[derive(Clone, Copy)]
pub struct Epilogue {
    /// Per-column bias (length n), or null for none.
    pub bias: *const f32,
    pub act: Act,
}

impl Epilogue {
    pub const NONE: Epilogue = Epilogue { bias: core::ptr::null(), act: Act::Linear };
}

/// A strided read-only matrix view: element (i, j) is at `ptr + i*rs + j*cs`.
#[derive(Clone, Copy)]
pub struct MatRef {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}

record! {
    /// Arguments of the `gemm` export: `C = act(op(A)·op(B) + beta·C + bias)`, strides in floats.
    pub struct GemmArgs {
        pub m: u32,
        pub n: u32,
        pub k: u32,
        pub a: usize,
        pub rsa: i32,
        pub csa: i32,
        pub b: usize,
        pub rsb: i32,
        pub csb: i32,
        pub c: usize,
        pub rsc: i32,
        pub beta: f32,
        /// 0 for none.
        pub bias: usize,
        pub act: u32,
        /// Workspace of [`WORKSPACE_FLOATS`] floats.
        pub ws: usize,
    }
}

/// [`gemm`] over a [`GemmArgs`] record with every activation code 0..=5: ReLU and linear are
/// fused into the tile stores; the other activations (PyTorch default α: LeakyReLU 0.01, ELU 1)
/// run over the stored rows. Returns `STATUS_OK`, or `STATUS_BAD_ARGUMENT` when `act` is unknown
/// (nothing written).
///
/// # Safety
/// Every pointer in `g` valid for the described shapes.
pub unsafe fn run(g: &GemmArgs) -> u32 {
    let act = match Act::from_code(g.act) {
        Some(a) => a,
        None => return crate::status::STATUS_BAD_ARGUMENT,
    };
    let fused = if act == Act::Relu { Act::Relu } else { Act::Linear };
    let epi = Epilogue { bias: if g.bias == 0 { core::ptr::null() } else { g.bias as *const f32 }, act: fused };
    gemm(
        g.m as usize,
        g.n as usize,
        g.k as usize,
        MatRef { ptr: g.a as *const f32, rs: g.rsa as isize, cs: g.csa as isize },
        MatRef { ptr: g.b as *const f32, rs: g.rsb as isize, cs: g.csb as isize },
        g.beta,
        g.c as *mut f32,
        g.rsc as isize,
        epi,
        g.ws as *mut f32,
    );
    if act != Act::Linear && act != Act::Relu && g.n != 0 {
        let c = g.c as *mut f32;
        for i in 0..g.m as usize {
            act::forward_default(act, core::slice::from_raw_parts_mut(c.offset(i as isize * g.rsc as isize), g.n as usize));
        }
    }
    crate::status::STATUS_OK
}

#[cfg(test)]
/// Naive reference: `C = act(A·B + β·C + bias)`, accumulated in f32 in plain k order.
/// `C` is row-major with row stride `rsc`. β = 0 never reads C.
///
/// # Safety
/// All pointers valid for the described shapes.
pub unsafe fn gemm_ref(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    epi: Epilogue,
) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f32;
            for p in 0..k {
                s += *a.ptr.offset(i as isize * a.rs + p as isize * a.cs)
                    * *b.ptr.offset(p as isize * b.rs + j as isize * b.cs);
            }
            let cp = c.offset(i as isize * rsc + j as isize);
            if beta != 0.0 {
                s += beta * *cp;
            }
            if !epi.bias.is_null() {
                s += *epi.bias.add(j);
            }
            *cp = s;
        }
        act::forward_default(epi.act, core::slice::from_raw_parts_mut(c.offset(i as isize * rsc), n));
    }
}

/// Blocked, packed GEMM: `C = act(A·B + β·C + bias)`, A is m×k, B is k×n, C is m×n row-major
/// with row stride `rsc`. `ws` must hold [`WORKSPACE_FLOATS`] floats.
///
/// # Safety
/// All pointers valid for the described shapes; `ws` does not alias A, B or C.
pub unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    epi: Epilogue,
    ws: *mut f32,
) {
    gemm_with(m, n, k, &a, b, beta, c, rsc, epi, ws);
}

/// Where the A panels of [`gemm_with`] come from: a strided matrix ([`MatRef`]), or an operand
/// never stored as a matrix (the implicit-GEMM convolution packs them straight from the image,
/// see `conv.rs`).
pub trait PackA {
    /// Writes rows `[i0, i0 + mc)` × depth `[p0, p0 + kc)` of A to `out` as [`pack_a`] does:
    /// `MR`-row panels, for each p the MR values of its column contiguous, rows past the end 0.
    ///
    /// # Safety
    /// The rows and depths exist; `out` holds `⌈mc/MR⌉·MR·kc` floats.
    unsafe fn pack(&self, i0: usize, p0: usize, mc: usize, kc: usize, out: *mut f32);
}

impl PackA for MatRef {
    #[inline(always)]
    unsafe fn pack(&self, i0: usize, p0: usize, mc: usize, kc: usize, out: *mut f32) {
        pack_a(mc, kc, self.ptr.offset(i0 as isize * self.rs + p0 as isize * self.cs), self.rs, self.cs, out);
    }
}

/// [`gemm`] with A given by its packer: the same loop nest and micro-kernel, so each element of
/// C is the same arithmetic whichever packer produced the same values. The packer is called
/// through a vtable (once per `MC×KC` block): one copy of the loop nest for every packer keeps
/// the module small (the browser entry embeds it).
///
/// # Safety
/// As [`gemm`]; `a` packs an m×k matrix.
pub unsafe fn gemm_with(
    m: usize,
    n: usize,
    k: usize,
    a: &dyn PackA,
    b: MatRef,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    epi: Epilogue,
    ws: *mut f32,
) {
    gemm_pre(m, n, k, a, core::ptr::null(), b, core::ptr::null(), beta, c, rsc, epi, ws);
}

/// Rounds `x` up to a multiple of `to`.
#[inline]
pub fn round_up(x: usize, to: usize) -> usize {
    (x + to - 1) / to * to
}

/// Packs the `MC`-row blocks of A that start in rows `[lo, hi)` (`lo` a multiple of `MC`), every
/// depth block, into the whole-matrix layout [`gemm_pre`] reads as `apre`: block (pc, ic) at
/// `pc·⌈m/MR⌉·MR + ic·kc`, laid out as one [`PackA::pack`] call writes it. `out` holds
/// `⌈m/MR⌉·MR·k` floats.
///
/// # Safety
/// `a` packs an m×k matrix; `out` as described.
pub unsafe fn prepack_a(m: usize, k: usize, a: &dyn PackA, out: *mut f32, lo: usize, hi: usize) {
    let mp = round_up(m, MR);
    let mut ic = lo;
    while ic < hi {
        let mc = (m - ic).min(MC);
        let mut pc = 0;
        while pc < k {
            let kc = (k - pc).min(KC);
            a.pack(ic, pc, mc, kc, out.add(pc * mp + ic * kc));
            pc += KC;
        }
        ic += MC;
    }
}

/// Packs the depth blocks of B that start in `[lo, hi)` (`lo` a multiple of `KC`), every column
/// block, into the whole-matrix layout [`gemm_pre`] reads as `bpre`: block (pc, jc) at
/// `pc·⌈n/NR⌉·NR + jc·kc`, laid out as the loop nest's own packing. `out` holds `k·⌈n/NR⌉·NR` floats.
///
/// # Safety
/// `b` is k×n; `out` as described.
pub unsafe fn prepack_b(n: usize, k: usize, b: MatRef, out: *mut f32, lo: usize, hi: usize) {
    let np = round_up(n, NR);
    let mut pc = lo;
    while pc < hi {
        let kc = (k - pc).min(KC);
        let mut jc = 0;
        while jc < n {
            pack_b(kc, (n - jc).min(NC), b.ptr.offset(pc as isize * b.rs + jc as isize * b.cs), b.rs, b.cs, out.add(pc * np + jc * kc));
            jc += NC;
        }
        pc += KC;
    }
}

/// [`gemm_with`] whose A or B may come packed already ([`prepack_a`]/[`prepack_b`] of the whole
/// matrix; null: packed here, block by block): the same loop nest, blocks and micro-kernel calls,
/// so every element of C is the same arithmetic. The threaded build packs an operand that every
/// part of a split product reads once, and the parts share it (see `par::gemm_with`).
///
/// # Safety
/// As [`gemm_with`]; a non-null `apre`/`bpre` holds this m×k A / k×n B in the prepacked layout.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_pre(
    m: usize,
    n: usize,
    k: usize,
    a: &dyn PackA,
    apre: *const f32,
    b: MatRef,
    bpre: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    epi: Epilogue,
    ws: *mut f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // A·B is the zero matrix: C = act(β·C + bias).
        for i in 0..m {
            let row = core::slice::from_raw_parts_mut(c.offset(i as isize * rsc), n);
            for (j, v) in row.iter_mut().enumerate() {
                let mut s = if beta != 0.0 { beta * *v } else { 0.0 };
                if !epi.bias.is_null() {
                    s += *epi.bias.add(j);
                }
                *v = s;
            }
            act::forward_default(epi.act, row);
        }
        return;
    }
    let apack = ws;
    let bpack = ws.add(MC * KC);
    // LOOP 5: column blocks of B and C.
    let mut jc = 0;
    while jc < n {
        let nc = (n - jc).min(NC);
        // LOOP 4: depth blocks.
        let mut pc = 0;
        while pc < k {
            let kc = (k - pc).min(KC);
            let first = pc == 0;
            let last = pc + kc == k;
            let bp = if bpre.is_null() {
                pack_b(kc, nc, b.ptr.offset(pc as isize * b.rs + jc as isize * b.cs), b.rs, b.cs, bpack);
                bpack as *const f32
            } else {
                bpre.add(pc * round_up(n, NR) + jc * kc)
            };
            // LOOP 3: row blocks of A and C.
            let mut ic = 0;
            while ic < m {
                let mc = (m - ic).min(MC);
                let ap = if apre.is_null() {
                    a.pack(ic, pc, mc, kc, apack);
                    apack as *const f32
                } else {
                    apre.add(pc * round_up(m, MR) + ic * kc)
                };
                macro_kernel(mc, nc, kc, ap, bp, c.offset(ic as isize * rsc + jc as isize), rsc, if first { beta } else { 1.0 }, last, epi, jc);
                ic += MC;
            }
            pc += KC;
        }
        jc += NC;
    }
}

/// LOOP 2 and LOOP 1 over one packed `mc×kc` block of A and `kc×nc` block of B into the C block
/// at `c` (columns from `jc` of the whole C: the bias offset). Out of line (smaller module) and
/// called only by [`gemm_with`], which takes its packer through a vtable, so the module holds one
/// copy of the micro-kernel loop (scripts/fuse-madd.mjs rewrites exactly one).
#[inline(never)]
unsafe fn macro_kernel(mc: usize, nc: usize, kc: usize, apack: *const f32, bpack: *const f32, c: *mut f32, rsc: isize, tile_beta: f32, last: bool, epi: Epilogue, jc: usize) {
    // LOOP 2: NR-wide column panels.
    let mut jr = 0;
    while jr < nc {
        let cols = (nc - jr).min(NR);
        let bp = bpack.add(jr * kc);
        let bias = if last && !epi.bias.is_null() { epi.bias.add(jc + jr) } else { core::ptr::null() };
        let tile_act = if last { epi.act } else { Act::Linear };
        // LOOP 1: MR-tall row panels.
        let mut ir = 0;
        while ir < mc {
            let rows = (mc - ir).min(MR);
            let ap = apack.add(ir * kc);
            let cp = c.offset(ir as isize * rsc + jr as isize);
            kernel(kc, ap, bp, cp, rsc, tile_beta, rows, cols, bias, tile_act);
            ir += MR;
        }
        jr += NR;
    }
}

/// Packs an `mc×kc` block of A into `MR`-row panels: panel r holds, for each p, the MR values
/// A[r·MR + 0..MR, p] contiguously; rows past `mc` are zero.
unsafe fn pack_a(mc: usize, kc: usize, a: *const f32, rs: isize, cs: isize, out: *mut f32) {
    let mut o = out;
    let mut ir = 0;
    while ir < mc {
        let rows = (mc - ir).min(MR);
        if rows == MR && cs == 1 {
            let r0 = a.offset(ir as isize * rs);
            let r1 = r0.offset(rs);
            let r2 = r1.offset(rs);
            let r3 = r2.offset(rs);
            for p in 0..kc {
                *o = *r0.add(p);
                *o.add(1) = *r1.add(p);
                *o.add(2) = *r2.add(p);
                *o.add(3) = *r3.add(p);
                o = o.add(MR);
            }
        } else if rows == MR && rs == 1 {
            // Transposed A (the Aᵀ·B case): the MR values of column p are contiguous.
            let src = a.offset(ir as isize);
            for p in 0..kc {
                core::ptr::copy_nonoverlapping(src.offset(p as isize * cs), o, MR);
                o = o.add(MR);
            }
        } else {
            for p in 0..kc {
                for i in 0..MR {
                    *o.add(i) = if i < rows {
                        *a.offset((ir + i) as isize * rs + p as isize * cs)
                    } else {
                        0.0
                    };
                }
                o = o.add(MR);
            }
        }
        ir += MR;
    }
}

/// Packs a `kc×nc` block of B into `NR`-column panels: panel c holds, for each p, the NR values
/// B[p, c·NR + 0..NR] contiguously; columns past `nc` are zero.
unsafe fn pack_b(kc: usize, nc: usize, b: *const f32, rs: isize, cs: isize, out: *mut f32) {
    let mut o = out;
    let mut jr = 0;
    while jr < nc {
        let cols = (nc - jr).min(NR);
        if cols == NR && cs == 1 {
            for p in 0..kc {
                let src = b.offset(p as isize * rs + jr as isize);
                core::ptr::copy_nonoverlapping(src, o, NR);
                o = o.add(NR);
            }
        } else if cols == NR && rs == 1 {
            // Transposed B: column j is contiguous in p.
            let src = b.offset(jr as isize * cs);
            for p in 0..kc {
                let s = src.add(p);
                for j in 0..NR {
                    *o.add(j) = *s.offset(j as isize * cs);
                }
                o = o.add(NR);
            }
        } else {
            for p in 0..kc {
                for j in 0..NR {
                    *o.add(j) = if j < cols {
                        *b.offset(p as isize * rs + (jr + j) as isize * cs)
                    } else {
                        0.0
                    };
                }
                o = o.add(NR);
            }
        }
        jr += NR;
    }
}

/// Stores an `MR×NR` accumulator tile into C (masked to `rows×cols`), applying β, bias, act.
#[inline(always)]
unsafe fn store_tile(
    acc: &[[f32; NR]; MR],
    c: *mut f32,
    rsc: isize,
    beta: f32,
    rows: usize,
    cols: usize,
    bias: *const f32,
    act: Act,
) {
    for i in 0..rows {
        let crow = c.offset(i as isize * rsc);
        for j in 0..cols {
            let mut v = acc[i][j];
            if beta != 0.0 {
                v += beta * *crow.add(j);
            }
            if !bias.is_null() {
                v += *bias.add(j);
            }
            if act == Act::Relu {
                v = act::relu(v);
            }
            *crow.add(j) = v;
        }
    }
}

/// Scalar micro-kernel (the non-SIMD build). Same arithmetic order as the SIMD one.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
unsafe fn kernel(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rsc: isize,
    beta: f32,
    rows: usize,
    cols: usize,
    bias: *const f32,
    act: Act,
) {
    let mut acc = [[0.0f32; NR]; MR];
    for p in 0..kc {
        let ap = a.add(p * MR);
        let bp = b.add(p * NR);
        for i in 0..MR {
            let av = *ap.add(i);
            for j in 0..NR {
                acc[i][j] += av * *bp.add(j);
            }
        }
    }
    store_tile(&acc, c, rsc, beta, rows, cols, bias, act);
}

/// SIMD128 micro-kernel: 4×8 tile in 8 accumulators.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn kernel(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rsc: isize,
    beta: f32,
    rows: usize,
    cols: usize,
    bias: *const f32,
    act: Act,
) {
    use core::arch::wasm32::*;
    let z = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
    let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
    let mut ap = a;
    let mut bp = b;
    for _ in 0..kc {
        let b0 = v128_load(bp as *const v128);
        let b1 = v128_load(bp.add(4) as *const v128);
        let a0 = v128_load32_splat(ap as *const u32);
        c00 = f32x4_add(c00, f32x4_mul(a0, b0));
        c01 = f32x4_add(c01, f32x4_mul(a0, b1));
        let a1 = v128_load32_splat(ap.add(1) as *const u32);
        c10 = f32x4_add(c10, f32x4_mul(a1, b0));
        c11 = f32x4_add(c11, f32x4_mul(a1, b1));
        let a2 = v128_load32_splat(ap.add(2) as *const u32);
        c20 = f32x4_add(c20, f32x4_mul(a2, b0));
        c21 = f32x4_add(c21, f32x4_mul(a2, b1));
        let a3 = v128_load32_splat(ap.add(3) as *const u32);
        c30 = f32x4_add(c30, f32x4_mul(a3, b0));
        c31 = f32x4_add(c31, f32x4_mul(a3, b1));
        ap = ap.add(MR);
        bp = bp.add(NR);
    }
    if rows == MR && cols == NR {
        let accs = [(c00, c01), (c10, c11), (c20, c21), (c30, c31)];
        let (bias0, bias1) = if bias.is_null() {
            (z, z)
        } else {
            (v128_load(bias as *const v128), v128_load(bias.add(4) as *const v128))
        };
        let bv = f32x4_splat(beta);
        for (i, &(mut v0, mut v1)) in accs.iter().enumerate() {
            let crow = c.offset(i as isize * rsc);
            if beta != 0.0 {
                v0 = f32x4_add(v0, f32x4_mul(bv, v128_load(crow as *const v128)));
                v1 = f32x4_add(v1, f32x4_mul(bv, v128_load(crow.add(4) as *const v128)));
            }
            if !bias.is_null() {
                v0 = f32x4_add(v0, bias0);
                v1 = f32x4_add(v1, bias1);
            }
            if act == Act::Relu {
                // pmax(0, v) = (0 < v) ? v : 0 — NaN propagates like the scalar relu.
                v0 = relu4(v0);
                v1 = relu4(v1);
            }
            v128_store(crow as *mut v128, v0);
            v128_store(crow.add(4) as *mut v128, v1);
        }
    } else {
        let mut acc = [[0.0f32; NR]; MR];
        let accs = [(c00, c01), (c10, c11), (c20, c21), (c30, c31)];
        for (i, &(v0, v1)) in accs.iter().enumerate() {
            v128_store(acc[i].as_mut_ptr() as *mut v128, v0);
            v128_store(acc[i].as_mut_ptr().add(4) as *mut v128, v1);
        }
        store_tile(&acc, c, rsc, beta, rows, cols, bias, act);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn relu4(v: core::arch::wasm32::v128) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    // Keep NaN: lanes where v != v are taken from v.
    let r = f32x4_pmax(f32x4_splat(0.0), v);
    v128_bitselect(v, r, f32x4_ne(v, v))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // small integers in [-4, 4]: products and sums are exact in f32
        (((*seed >> 33) % 9) as i32 - 4) as f32
    }

    /// Exact integer data: blocked and naive must agree exactly, for every transpose and size.
    #[test]
    fn blocked_matches_reference_exactly_on_integers() {
        let sizes = [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 20, 21, 64, 65, 259];
        let mut ws = vec![0.0f32; WORKSPACE_FLOATS];
        let mut seed = 7u64;
        for &m in &sizes {
            for &n in &[1usize, 3, 8, 9, 17, 33] {
                for &k in &[0usize, 1, 5, 17, 300] {
                    for ta in [false, true] {
                        for tb in [false, true] {
                            let av: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
                            let bv: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed)).collect();
                            let bias: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
                            let a = if ta {
                                MatRef { ptr: av.as_ptr(), rs: 1, cs: m as isize }
                            } else {
                                MatRef { ptr: av.as_ptr(), rs: k as isize, cs: 1 }
                            };
                            let b = if tb {
                                MatRef { ptr: bv.as_ptr(), rs: 1, cs: k as isize }
                            } else {
                                MatRef { ptr: bv.as_ptr(), rs: n as isize, cs: 1 }
                            };
                            for (beta, act) in [(0.0, Act::Linear), (1.0, Act::Relu)] {
                                // guard bands: C embedded with NaN around and (beta=0) inside
                                let rsc = n + 3;
                                let init: Vec<f32> = (0..(m + 2) * rsc)
                                    .map(|i| if beta == 0.0 { f32::NAN } else { (i % 5) as f32 })
                                    .collect();
                                let mut c1 = init.clone();
                                let mut c2 = init.clone();
                                let epi = Epilogue { bias: bias.as_ptr(), act };
                                unsafe {
                                    gemm(m, n, k, a, b, beta, c1.as_mut_ptr().add(rsc), rsc as isize, epi, ws.as_mut_ptr());
                                    gemm_ref(m, n, k, a, b, beta, c2.as_mut_ptr().add(rsc), rsc as isize, epi);
                                }
                                for i in 0..c1.len() {
                                    let inside = i >= rsc && i < (m + 1) * rsc && (i % rsc) < n;
                                    if inside {
                                        assert_eq!(c1[i], c2[i], "m={} n={} k={} ta={} tb={} i={}", m, n, k, ta, tb, i);
                                    } else if beta == 0.0 {
                                        assert!(c1[i].is_nan(), "guard band written at {}", i);
                                    } else {
                                        assert_eq!(c1[i], init[i], "guard band written at {}", i);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Random floats against an f64 reference.
    #[test]
    fn blocked_close_to_f64() {
        let (m, n, k) = (37usize, 41usize, 531usize);
        let mut seed = 3u64;
        let av: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed) * 0.37).collect();
        let bv: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed) * 0.11).collect();
        let mut c = vec![0.0f32; m * n];
        let mut ws = vec![0.0f32; WORKSPACE_FLOATS];
        unsafe {
            gemm(m, n, k, MatRef { ptr: av.as_ptr(), rs: k as isize, cs: 1 }, MatRef { ptr: bv.as_ptr(), rs: n as isize, cs: 1 }, 0.0, c.as_mut_ptr(), n as isize, Epilogue::NONE, ws.as_mut_ptr());
        }
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                let mut sa = 0.0f64;
                for p in 0..k {
                    let t = av[i * k + p] as f64 * bv[p * n + j] as f64;
                    s += t;
                    sa += t.abs();
                }
                assert!((c[i * n + j] as f64 - s).abs() <= 1e-6 * sa + 1e-12);
            }
        }
    }
}
