//! Fused optimizer updates, one pass per tensor.

use crate::math::sqrtf;


// ---------------------------------------------------------------------------------------------
// Fused optimizer updates (SGD with momentum, AdaGrad, RMSProp, Adam, AdamW).
//
// Each update reads `w`, `g` and up to three state buffers once and writes `w` and the state
// once. The arithmetic of one element is written twice, as a scalar closure and as a SIMD128
// closure, with the same operations in the same order. No FMA on either side and `sqrt`/`/` are
// correctly rounded in both, so the SIMD and scalar builds agree bit for bit.
// ---------------------------------------------------------------------------------------------

/// Hyperparameters of one fused update. Scalars that depend on the step count (AdaGrad's decayed
/// learning rate, Adam's bias corrections) are computed in f64 by the caller and rounded once.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hyper {
    /// Learning rate. AdaGrad: the decayed `clr = lr / (1 + (step − 1)·lr_decay)`.
    pub lr: f32,
    /// SGD and RMSProp momentum factor (0 = no momentum buffer).
    pub momentum: f32,
    /// SGD dampening.
    pub dampening: f32,
    /// Adam/AdamW β1; RMSProp smoothing constant α.
    pub beta1: f32,
    /// Adam/AdamW β2.
    pub beta2: f32,
    /// `1 − β1` (RMSProp `1 − α`), computed by the caller in f64 as PyTorch's `value=1 - beta`:
    /// `1 − 0.999f32` in f32 would be off by 2e-5 relative.
    pub one_minus_beta1: f32,
    /// `1 − β2`, computed by the caller in f64.
    pub one_minus_beta2: f32,
    /// Term added to the denominator (AdaGrad, RMSProp, Adam, AdamW).
    pub eps: f32,
    /// PyTorch `weight_decay`: adds `wd·w` to the gradient (SGD, AdaGrad, RMSProp, Adam);
    /// AdamW: decoupled decay `w ← w·(1 − lr·wd)` before the update.
    pub weight_decay: f32,
    /// L1 penalty `l1·Σ|w|`: adds `l1·sign(w)` to the gradient (sign(0) = 0).
    pub l1: f32,
    /// L2 penalty `l2·Σw²` (Keras convention): adds `2·l2·w` to the gradient. Note the factor 2:
    /// `l2 = wd/2` reproduces PyTorch's `weight_decay = wd`.
    pub l2: f32,
    /// Adam/AdamW `1 − β1^t`.
    pub bias_correction1: f32,
    /// Adam/AdamW `sqrt(1 − β2^t)`.
    pub bias_correction2_sqrt: f32,
    /// SGD: Nesterov momentum.
    pub nesterov: bool,
    /// RMSProp: centered variant (keeps the gradient average).
    pub centered: bool,
    /// Adam/AdamW: AMSGrad (keeps the running max of the uncorrected second moment).
    pub amsgrad: bool,
    /// Negate the gradient first (PyTorch `maximize`); penalties and weight decay still shrink.
    pub maximize: bool,
    /// SGD: first step, the momentum buffer is set to the gradient (PyTorch `buf = clone(grad)`).
    pub first_step: bool,
    /// Backup addresses (0 = none) for the old values of `w`, `s1`, `s2`, `s3`: the update pass
    /// stores each element's pre-step value there as it reads it (valid for `n` floats each), so
    /// a caller can restore the tensor bit for bit when the update turns out non-finite.
    pub backup: [usize; 4],
    /// Address of 4 floats (0 = none) that receive the largest |value| written to `w`, `s1`, `s2`,
    /// `s3` (+Inf when non-finite; 0 for absent slots): upper bounds the next step's finiteness
    /// proof may reuse (see `step::provably_finite`).
    pub maxima: usize,
}

impl Hyper {
    /// Backup addresses and the maxima address, as `drive` takes them.
    fn io(&self) -> [usize; 5] {
        [self.backup[0], self.backup[1], self.backup[2], self.backup[3], self.maxima]
    }
}

/// sign(w) with sign(0) = sign(NaN) = 0.
#[inline(always)]
fn sign(w: f32) -> f32 {
    if w > 0.0 {
        1.0
    } else if w < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The effective gradient: `±g (+ wd·w if coupled) (+ l1·sign(w)) (+ 2·l2·w)`, in that order.
/// Terms whose coefficient is 0 are skipped, as PyTorch skips `weight_decay == 0`.
#[inline(always)]
fn fold(h: &Hyper, coupled: bool, w: f32, g: f32) -> f32 {
    let mut d = if h.maximize { -g } else { g };
    if coupled && h.weight_decay != 0.0 {
        d = d + h.weight_decay * w;
    }
    if h.l1 != 0.0 {
        d = d + h.l1 * sign(w);
    }
    if h.l2 != 0.0 {
        d = d + (2.0 * h.l2) * w;
    }
    d
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod vx {
    pub use core::arch::wasm32::*;

    /// SIMD twin of [`super::fold`].
    #[inline(always)]
    pub fn fold(h: &super::Hyper, coupled: bool, w: v128, g: v128) -> v128 {
        let mut d = if h.maximize { f32x4_neg(g) } else { g };
        if coupled && h.weight_decay != 0.0 {
            d = f32x4_add(d, f32x4_mul(f32x4_splat(h.weight_decay), w));
        }
        if h.l1 != 0.0 {
            let z = f32x4_splat(0.0);
            let s = v128_or(
                v128_and(f32x4_gt(w, z), f32x4_splat(1.0)),
                v128_and(f32x4_lt(w, z), f32x4_splat(-1.0)),
            );
            d = f32x4_add(d, f32x4_mul(f32x4_splat(h.l1), s));
        }
        if h.l2 != 0.0 {
            d = f32x4_add(d, f32x4_mul(f32x4_splat(2.0 * h.l2), w));
        }
        d
    }
}

/// Shortest length among `w`, `g` and the present state slices.
fn common_len(w: &[f32], g: &[f32], s: [&Option<&mut [f32]>; 3]) -> usize {
    let mut n = w.len().min(g.len());
    for o in s.iter() {
        if let Some(x) = o {
            n = n.min(x.len());
        }
    }
    n
}

/// Elements per block of the update pass. Each block is (1) copied to the backup when there is
/// one, (2) updated by the unchanged element loop, (3) checked for non-finite values while it is
/// still in L1 (4 streams × 4 KiB). Keeping the check and the backup out of the element loop keeps
/// that loop's register use as it was (an in-loop check made V8 spill and the Adam pass 1.8×
/// slower); the extra work per block is L1-resident loads.
const BLOCK: usize = 1024;

/// Raw views of the state slots that are present.
fn slot_ptrs(s1: &mut Option<&mut [f32]>, s2: &mut Option<&mut [f32]>, s3: &mut Option<&mut [f32]>) -> [*mut f32; 3] {
    let p = |s: &mut Option<&mut [f32]>| match s {
        Some(x) => x.as_mut_ptr(),
        None => core::ptr::null_mut(),
    };
    [p(s1), p(s2), p(s3)]
}

/// Copies `lo..hi` of `src` to `dst` (SIMD128: v128 loads and stores; without bulk memory,
/// `copy_nonoverlapping` would call compiler-builtins' word-by-word `memcpy`).
///
/// # Safety
/// Both valid for `hi` floats, not overlapping.
#[inline(never)]
unsafe fn copy_range(src: *const f32, dst: *mut f32, lo: usize, hi: usize) {
    let mut i = lo;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        while i + 4 <= hi {
            v128_store(dst.add(i) as *mut v128, v128_load(src.add(i) as *const v128));
            i += 4;
        }
    }
    while i < hi {
        *dst.add(i) = *src.add(i);
        i += 1;
    }
}

/// Copies elements `lo..hi` of `w` and of the present slots to their nonzero backup addresses.
///
/// # Safety
/// `w` and every non-null slot pointer are valid for `hi` floats; nonzero `bk` addresses too.
#[inline(never)]
unsafe fn backup_range(w: *const f32, sp: [*mut f32; 3], bk: [usize; 4], lo: usize, hi: usize) {
    if hi <= lo {
        return;
    }
    if bk[0] != 0 {
        copy_range(w, bk[0] as *mut f32, lo, hi);
    }
    for i in 0..3 {
        if !sp[i].is_null() && bk[i + 1] != 0 {
            copy_range(sp[i] as *const f32, bk[i + 1] as *mut f32, lo, hi);
        }
    }
}

const EXP: u32 = 0x7f80_0000;

/// Largest magnitude bits (`bits & 0x7fff_ffff`, monotonic in |x|; ≥ `EXP` means NaN/±Inf) of
/// elements `lo..hi` of `w` and of each present slot (0 for absent ones). The loop is `and` +
/// integer `max` per vector: no float compare, a one-cycle dependency chain.
///
/// # Safety
/// `w` and every non-null slot pointer are valid for `hi` floats.
#[inline(never)]
unsafe fn maxima(w: *const f32, sp: [*mut f32; 3], lo: usize, hi: usize) -> [u32; 4] {
    let q = [w, sp[0] as *const f32, sp[1] as *const f32, sp[2] as *const f32];
    let mut out = [0u32; 4];
    for k in 0..4 {
        if !q[k].is_null() {
            out[k] = max_bits(q[k], lo, hi);
        }
    }
    out
}

/// Largest magnitude bits of elements `lo..hi` of `p` (see [`maxima`]).
///
/// # Safety
/// `p` is valid for `hi` floats.
#[inline(never)]
unsafe fn max_bits(p: *const f32, lo: usize, hi: usize) -> u32 {
    let mut i = lo;
    let mut mx = 0u32;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let m = u32x4_splat(0x7fff_ffff);
        let (mut a0, mut a1) = (u32x4_splat(0), u32x4_splat(0));
        while i + 8 <= hi {
            a0 = u32x4_max(a0, v128_and(v128_load(p.add(i) as *const v128), m));
            a1 = u32x4_max(a1, v128_and(v128_load(p.add(i + 4) as *const v128), m));
            i += 8;
        }
        let a = u32x4_max(a0, a1);
        mx = u32x4_extract_lane::<0>(a).max(u32x4_extract_lane::<1>(a)).max(u32x4_extract_lane::<2>(a)).max(u32x4_extract_lane::<3>(a));
    }
    while i < hi {
        mx = mx.max((*p.add(i)).to_bits() & 0x7fff_ffff);
        i += 1;
    }
    mx
}

/// Folds block maxima into running ones.
#[inline(always)]
fn fold_max(acc: &mut [u32; 4], m: [u32; 4]) {
    for k in 0..4 {
        if m[k] > acc[k] {
            acc[k] = m[k];
        }
    }
}

/// Writes the maxima (as floats; +Inf when non-finite) to `addr` when nonzero; returns whether
/// every value was finite.
#[inline(never)]
fn finish(acc: [u32; 4], addr: usize) -> bool {
    if addr != 0 {
        for k in 0..4 {
            let v = if acc[k] >= EXP { f32::INFINITY } else { f32::from_bits(acc[k]) };
            // SAFETY: a nonzero maxima address is valid for 4 floats (see Hyper::maxima).
            unsafe { *(addr as *mut f32).add(k) = v };
        }
    }
    acc.iter().all(|&m| m < EXP)
}

/// Largest `|x|` (as f64; +Inf when any element is NaN or ±Inf) and whether any element has its
/// sign bit set, in one read-only pass (integer max of the magnitude bits: monotonic in `|x|`,
/// and NaN/Inf have the largest exponent).
#[inline(never)]
pub fn scan(x: &[f32]) -> (f64, bool) {
    let n = x.len();
    let mut i = 0;
    let mut mx = 0u32;
    let mut or = 0u32;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let p = x.as_ptr();
        let m = u32x4_splat(0x7fff_ffff);
        let (mut am, mut ao) = (u32x4_splat(0), u32x4_splat(0));
        while i + 4 <= n {
            // SAFETY: i + 4 <= n.
            let v = unsafe { v128_load(p.add(i) as *const v128) };
            am = u32x4_max(am, v128_and(v, m));
            ao = v128_or(ao, v);
            i += 4;
        }
        mx = u32x4_extract_lane::<0>(am).max(u32x4_extract_lane::<1>(am)).max(u32x4_extract_lane::<2>(am)).max(u32x4_extract_lane::<3>(am));
        or = u32x4_extract_lane::<0>(ao) | u32x4_extract_lane::<1>(ao) | u32x4_extract_lane::<2>(ao) | u32x4_extract_lane::<3>(ao);
    }
    while i < n {
        let b = x[i].to_bits();
        mx = mx.max(b & 0x7fff_ffff);
        or |= b;
        i += 1;
    }
    let m = if mx >= EXP { f64::INFINITY } else { f32::from_bits(mx) as f64 };
    (m, or & 0x8000_0000 != 0)
}

/// `f` on elements `lo..hi` (`s*` read as 0 and not written when absent): the SIMD build's tail.
///
/// # Safety
/// `pw`, `pg` and every non-null slot pointer are valid for `hi` floats; `hi − lo < 4`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn tail<F>(pw: *mut f32, pg: *const f32, sp: [*mut f32; 3], lo: usize, hi: usize, f: F)
where
    F: Fn(&mut f32, f32, &mut f32, &mut f32, &mut f32),
{
    for i in lo..hi {
        let mut t = [0.0f32; 3];
        for k in 0..3 {
            if !sp[k].is_null() {
                t[k] = *sp[k].add(i);
            }
        }
        let [mut t1, mut t2, mut t3] = t;
        f(&mut *pw.add(i), *pg.add(i), &mut t1, &mut t2, &mut t3);
        let t = [t1, t2, t3];
        for k in 0..3 {
            if !sp[k].is_null() {
                *sp[k].add(i) = t[k];
            }
        }
    }
}

/// Scalar build: `f` over every element, block by block (backup, update, finiteness check; see
/// [`BLOCK`]). Old values go to the nonzero `bk` addresses (w, s1, s2, s3). Returns whether
/// every value written (w and the present state) is finite.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn drive<F>(
    w: &mut [f32],
    g: &[f32],
    mut s1: Option<&mut [f32]>,
    mut s2: Option<&mut [f32]>,
    mut s3: Option<&mut [f32]>,
    io: [usize; 5],
    f: F,
) -> bool
where
    F: Fn(&mut f32, f32, &mut f32, &mut f32, &mut f32),
{
    let bk = [io[0], io[1], io[2], io[3]];
    let n = common_len(w, g, [&s1, &s2, &s3]);
    let sp = slot_ptrs(&mut s1, &mut s2, &mut s3);
    let pw = w.as_mut_ptr();
    let mut acc = [0u32; 4];
    let mut lo = 0;
    while lo < n {
        let hi = if n - lo > BLOCK { lo + BLOCK } else { n };
        // SAFETY: hi <= n, the shortest slice; backup addresses are valid for n floats.
        unsafe { backup_range(pw, sp, bk, lo, hi) };
        for i in lo..hi {
            // SAFETY: i < n for every pointer.
            unsafe {
                let mut t = [0.0f32; 3];
                for k in 0..3 {
                    if !sp[k].is_null() {
                        t[k] = *sp[k].add(i);
                    }
                }
                let [mut t1, mut t2, mut t3] = t;
                f(&mut *pw.add(i), g[i], &mut t1, &mut t2, &mut t3);
                let t = [t1, t2, t3];
                for k in 0..3 {
                    if !sp[k].is_null() {
                        *sp[k].add(i) = t[k];
                    }
                }
            }
        }
        fold_max(&mut acc, unsafe { maxima(pw, sp, lo, hi) });
        lo = hi;
    }
    finish(acc, io[4])
}

/// SIMD128: `fv` on groups of four, then `f` on the tail, block by block (backup, update,
/// finiteness check; see [`BLOCK`]). Returns whether every value written is finite.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn drive<F, FV>(
    w: &mut [f32],
    g: &[f32],
    mut s1: Option<&mut [f32]>,
    mut s2: Option<&mut [f32]>,
    mut s3: Option<&mut [f32]>,
    io: [usize; 5],
    f: F,
    fv: FV,
) -> bool
where
    F: Fn(&mut f32, f32, &mut f32, &mut f32, &mut f32),
    FV: Fn(&mut vx::v128, vx::v128, &mut vx::v128, &mut vx::v128, &mut vx::v128),
{
    use vx::*;
    let bk = [io[0], io[1], io[2], io[3]];
    let n = common_len(w, g, [&s1, &s2, &s3]);
    let n4 = n / 4 * 4;
    let sp = slot_ptrs(&mut s1, &mut s2, &mut s3);
    let (pw, pg) = (w.as_mut_ptr(), g.as_ptr());
    let p1 = s1.as_deref_mut().map(|s| s.as_mut_ptr());
    let p2 = s2.as_deref_mut().map(|s| s.as_mut_ptr());
    let p3 = s3.as_deref_mut().map(|s| s.as_mut_ptr());
    let z = f32x4_splat(0.0);
    let mut acc = [0u32; 4];
    let mut lo = 0;
    while lo < n4 {
        let hi = if n4 - lo > BLOCK { lo + BLOCK } else { n4 };
        // SAFETY: hi <= n4 <= n; backup addresses are valid for n floats.
        unsafe { backup_range(pw, sp, bk, lo, hi) };
        let mut i = lo;
        while i < hi {
            // SAFETY: i + 4 <= n, and n is at most the length of every slice behind these pointers.
            unsafe {
                let mut wv = v128_load(pw.add(i) as *const v128);
                let gv = v128_load(pg.add(i) as *const v128);
                let mut t1 = match p1 {
                    Some(p) => v128_load(p.add(i) as *const v128),
                    None => z,
                };
                let mut t2 = match p2 {
                    Some(p) => v128_load(p.add(i) as *const v128),
                    None => z,
                };
                let mut t3 = match p3 {
                    Some(p) => v128_load(p.add(i) as *const v128),
                    None => z,
                };
                fv(&mut wv, gv, &mut t1, &mut t2, &mut t3);
                v128_store(pw.add(i) as *mut v128, wv);
                if let Some(p) = p1 {
                    v128_store(p.add(i) as *mut v128, t1);
                }
                if let Some(p) = p2 {
                    v128_store(p.add(i) as *mut v128, t2);
                }
                if let Some(p) = p3 {
                    v128_store(p.add(i) as *mut v128, t3);
                }
            }
            i += 4;
        }
        fold_max(&mut acc, unsafe { maxima(pw, sp, lo, hi) });
        lo = hi;
    }
    // SAFETY: as above, for the tail n4..n.
    unsafe {
        backup_range(pw, sp, bk, n4, n);
        tail(pw, pg, sp, n4, n, f);
    }
    fold_max(&mut acc, unsafe { maxima(pw, sp, n4, n) });
    finish(acc, io[4])
}

/// SGD, PyTorch `_single_tensor_sgd` (torch/optim/sgd.py), plus L1/L2 penalties:
/// ```text
/// d ← fold(g)                      (−g if maximize; + wd·w; + l1·sign(w); + 2·l2·w)
/// if momentum ≠ 0:
///     buf ← d                          on the first step
///     buf ← momentum·buf + (1 − dampening)·d   afterwards
///     d ← d + momentum·buf if nesterov, else buf
/// w ← w − lr·d
/// ```
/// Without `buf` the update is momentum-free whatever `h.momentum` says.
pub fn sgd_step(w: &mut [f32], g: &[f32], buf: Option<&mut [f32]>, h: &Hyper) -> bool {
    let h = *h;
    let mom = h.momentum != 0.0 && buf.is_some();
    let damp1 = 1.0 - h.dampening;
    let f = move |w: &mut f32, g: f32, b: &mut f32, _: &mut f32, _: &mut f32| {
        let mut d = fold(&h, true, *w, g);
        if mom {
            *b = if h.first_step {
                d
            } else {
                h.momentum * *b + damp1 * d
            };
            d = if h.nesterov { d + h.momentum * *b } else { *b };
        }
        *w = *w - h.lr * d;
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use vx::*;
        let (mv, dv, lv) = (
            f32x4_splat(h.momentum),
            f32x4_splat(damp1),
            f32x4_splat(h.lr),
        );
        let fv = move |w: &mut v128, g: v128, b: &mut v128, _: &mut v128, _: &mut v128| {
            let mut d = vx::fold(&h, true, *w, g);
            if mom {
                *b = if h.first_step {
                    d
                } else {
                    f32x4_add(f32x4_mul(mv, *b), f32x4_mul(dv, d))
                };
                d = if h.nesterov {
                    f32x4_add(d, f32x4_mul(mv, *b))
                } else {
                    *b
                };
            }
            *w = f32x4_sub(*w, f32x4_mul(lv, d));
        };
        drive(w, g, buf, None, None, h.io(), f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, buf, None, None, h.io(), f)
}

/// AdaGrad, PyTorch `_single_tensor_adagrad` (torch/optim/adagrad.py), plus L1/L2 penalties.
/// `h.lr` is the decayed `clr = lr / (1 + (step − 1)·lr_decay)`; the caller fills `sum` with
/// `initial_accumulator_value` before the first step.
/// ```text
/// d ← fold(g);  sum ← sum + d·d;  w ← w − clr·(d / (sqrt(sum) + eps))
/// ```
pub fn adagrad_step(w: &mut [f32], g: &[f32], sum: &mut [f32], h: &Hyper) -> bool {
    let h = *h;
    let f = move |w: &mut f32, g: f32, s: &mut f32, _: &mut f32, _: &mut f32| {
        let d = fold(&h, true, *w, g);
        *s = *s + d * d;
        let std = sqrtf(*s) + h.eps;
        *w = *w - h.lr * (d / std);
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use vx::*;
        let (lv, ev) = (f32x4_splat(h.lr), f32x4_splat(h.eps));
        let fv = move |w: &mut v128, g: v128, s: &mut v128, _: &mut v128, _: &mut v128| {
            let d = vx::fold(&h, true, *w, g);
            *s = f32x4_add(*s, f32x4_mul(d, d));
            let std = f32x4_add(f32x4_sqrt(*s), ev);
            *w = f32x4_sub(*w, f32x4_mul(lv, f32x4_div(d, std)));
        };
        drive(w, g, Some(sum), None, None, h.io(), f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, Some(sum), None, None, h.io(), f)
}

/// RMSProp, PyTorch `_single_tensor_rmsprop` (torch/optim/rmsprop.py), plus L1/L2 penalties;
/// α is `h.beta1`.
/// ```text
/// d ← fold(g)
/// sq ← α·sq + (1 − α)·(d·d)
/// centered: ga ← ga + (1 − α)·(d − ga);  avg ← sqrt(sq − ga·ga) + eps
/// else:     avg ← sqrt(sq) + eps
/// momentum > 0: buf ← momentum·buf + d/avg;  w ← w − lr·buf
/// else:         w ← w − lr·(d/avg)
/// ```
/// As in PyTorch, the centered variance `sq − ga·ga` is not clamped at 0. Without `buf`
/// (resp. `grad_avg`) the update is momentum-free (resp. not centered).
pub fn rmsprop_step(
    w: &mut [f32],
    g: &[f32],
    square_avg: &mut [f32],
    buf: Option<&mut [f32]>,
    grad_avg: Option<&mut [f32]>,
    h: &Hyper,
) -> bool {
    let h = *h;
    let mom = h.momentum > 0.0 && buf.is_some();
    let cen = h.centered && grad_avg.is_some();
    let a1 = h.one_minus_beta1;
    let f = move |w: &mut f32, g: f32, sq: &mut f32, b: &mut f32, ga: &mut f32| {
        let d = fold(&h, true, *w, g);
        *sq = h.beta1 * *sq + a1 * (d * d);
        let avg = if cen {
            *ga = *ga + a1 * (d - *ga);
            sqrtf(*sq - *ga * *ga) + h.eps
        } else {
            sqrtf(*sq) + h.eps
        };
        if mom {
            *b = h.momentum * *b + d / avg;
            *w = *w - h.lr * *b;
        } else {
            *w = *w - h.lr * (d / avg);
        }
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use vx::*;
        let (alv, a1v, ev) = (f32x4_splat(h.beta1), f32x4_splat(a1), f32x4_splat(h.eps));
        let (mv, lv) = (f32x4_splat(h.momentum), f32x4_splat(h.lr));
        let fv = move |w: &mut v128, g: v128, sq: &mut v128, b: &mut v128, ga: &mut v128| {
            let d = vx::fold(&h, true, *w, g);
            *sq = f32x4_add(f32x4_mul(alv, *sq), f32x4_mul(a1v, f32x4_mul(d, d)));
            let avg = if cen {
                *ga = f32x4_add(*ga, f32x4_mul(a1v, f32x4_sub(d, *ga)));
                f32x4_add(f32x4_sqrt(f32x4_sub(*sq, f32x4_mul(*ga, *ga))), ev)
            } else {
                f32x4_add(f32x4_sqrt(*sq), ev)
            };
            if mom {
                *b = f32x4_add(f32x4_mul(mv, *b), f32x4_div(d, avg));
                *w = f32x4_sub(*w, f32x4_mul(lv, *b));
            } else {
                *w = f32x4_sub(*w, f32x4_mul(lv, f32x4_div(d, avg)));
            }
        };
        drive(w, g, Some(square_avg), buf, grad_avg, h.io(), f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, Some(square_avg), buf, grad_avg, h.io(), f)
}

/// Adam (`decoupled = false`, PyTorch `_single_tensor_adam`, torch/optim/adam.py) and AdamW
/// (`decoupled = true`, torch/optim/adamw.py), plus L1/L2 penalties:
/// ```text
/// d ← fold(g)                       (Adam adds wd·w here; AdamW does not)
/// AdamW: w ← w·(1 − lr·wd)          (after the penalties read w)
/// m ← m + (1 − β1)·(d − m)           (lerp)
/// v ← β2·v + (1 − β2)·(d·d)
/// amsgrad: vmax ← max(vmax, v); v̂ = vmax   else v̂ = v    (uncorrected, as PyTorch)
/// w ← w − (lr / bc1)·(m / (sqrt(v̂)/bc2_sqrt + eps))
/// ```
/// with `bc1 = 1 − β1^t`, `bc2_sqrt = sqrt(1 − β2^t)` from the caller. Without `vmax` the update
/// is plain Adam whatever `h.amsgrad` says.
pub fn adam_step(
    w: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    vmax: Option<&mut [f32]>,
    h: &Hyper,
    decoupled: bool,
) -> bool {
    let h = *h;
    let ams = h.amsgrad && vmax.is_some();
    let decay = decoupled && h.weight_decay != 0.0;
    let keep = 1.0 - h.lr * h.weight_decay;
    let b1 = h.one_minus_beta1;
    let b2 = h.one_minus_beta2;
    let step_size = h.lr / h.bias_correction1;
    let f = move |w: &mut f32, g: f32, m: &mut f32, v: &mut f32, vm: &mut f32| {
        let d = fold(&h, !decoupled, *w, g);
        if decay {
            *w = *w * keep;
        }
        *m = *m + b1 * (d - *m);
        *v = h.beta2 * *v + b2 * (d * d);
        let vh = if ams {
            *vm = if *vm < *v { *v } else { *vm };
            *vm
        } else {
            *v
        };
        let denom = sqrtf(vh) / h.bias_correction2_sqrt + h.eps;
        *w = *w - step_size * (*m / denom);
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use vx::*;
        let (kv, b1v, b2v, be2) = (
            f32x4_splat(keep),
            f32x4_splat(b1),
            f32x4_splat(b2),
            f32x4_splat(h.beta2),
        );
        let (bcv, ev, sv) = (
            f32x4_splat(h.bias_correction2_sqrt),
            f32x4_splat(h.eps),
            f32x4_splat(step_size),
        );
        let fv = move |w: &mut v128, g: v128, m: &mut v128, v: &mut v128, vm: &mut v128| {
            let d = vx::fold(&h, !decoupled, *w, g);
            if decay {
                *w = f32x4_mul(*w, kv);
            }
            *m = f32x4_add(*m, f32x4_mul(b1v, f32x4_sub(d, *m)));
            *v = f32x4_add(f32x4_mul(be2, *v), f32x4_mul(b2v, f32x4_mul(d, d)));
            let vh = if ams {
                // pmax(a, b) = a < b ? b : a, the scalar expression above.
                *vm = f32x4_pmax(*vm, *v);
                *vm
            } else {
                *v
            };
            let denom = f32x4_add(f32x4_div(f32x4_sqrt(vh), bcv), ev);
            *w = f32x4_sub(*w, f32x4_mul(sv, f32x4_div(*m, denom)));
        };
        drive(w, g, Some(m), Some(v), vmax, h.io(), f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, Some(m), Some(v), vmax, h.io(), f)
}

#[cfg(test)]
mod tests {
    use super::*;


    /// Deterministic values in [-1, 1).
    fn data(n: usize, seed: u64) -> Vec<f32> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[derive(Clone, Copy)]
    enum Kind {
        Sgd,
        Adagrad { lr_decay: f64, init: f64 },
        Rms,
        Adam,
        AdamW,
    }

    /// 20 steps of `kind` with f32 kernels vs the PyTorch formula in f64.
    fn check(kind: Kind, h0: Hyper) {
        for &n in &[1usize, 3, 5, 17, 1023] {
            let w0 = data(n, n as u64);
            let mut w = w0.clone();
            let mut s = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
            let mut rw: Vec<f64> = w0.iter().map(|&x| x as f64).collect();
            let mut r = [vec![0f64; n], vec![0f64; n], vec![0f64; n]];
            if let Kind::Adagrad { init, .. } = kind {
                s[0] = vec![init as f32; n];
                r[0] = vec![init; n];
            }
            let (lr, b1, b2) = (h0.lr as f64, h0.beta1 as f64, h0.beta2 as f64);
            let (mo, da, eps, wd) = (
                h0.momentum as f64,
                h0.dampening as f64,
                h0.eps as f64,
                h0.weight_decay as f64,
            );
            for t in 1..=20 {
                let g = data(n, 1000 * t as u64 + n as u64);
                let mut h = h0;
                h.first_step = t == 1;
                let clr = match kind {
                    Kind::Adagrad { lr_decay, .. } => lr / (1.0 + (t as f64 - 1.0) * lr_decay),
                    _ => lr,
                };
                h.lr = clr as f32;
                h.one_minus_beta1 = (1.0 - b1) as f32;
                h.one_minus_beta2 = (1.0 - b2) as f32;
                h.bias_correction1 = (1.0 - b1.powi(t)) as f32;
                h.bias_correction2_sqrt = (1.0 - b2.powi(t)).sqrt() as f32;
                let [s0, s1, s2] = &mut s;
                let _finite = match kind {
                    Kind::Sgd => sgd_step(&mut w, &g, Some(s0), &h),
                    Kind::Adagrad { .. } => adagrad_step(&mut w, &g, s0, &h),
                    Kind::Rms => rmsprop_step(&mut w, &g, s0, Some(s1), Some(s2), &h),
                    Kind::Adam => adam_step(&mut w, &g, s0, s1, Some(s2), &h, false),
                    Kind::AdamW => adam_step(&mut w, &g, s0, s1, Some(s2), &h, true),
                };
                for i in 0..n {
                    let x = rw[i];
                    let mut d = g[i] as f64;
                    if h0.maximize {
                        d = -d;
                    }
                    if !matches!(kind, Kind::AdamW) {
                        d += wd * x;
                    }
                    d += h0.l1 as f64
                        * if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            0.0
                        };
                    d += 2.0 * h0.l2 as f64 * x;
                    let [r0, r1, r2] = &mut r;
                    match kind {
                        Kind::Sgd => {
                            if mo != 0.0 {
                                r0[i] = if t == 1 {
                                    d
                                } else {
                                    mo * r0[i] + (1.0 - da) * d
                                };
                                d = if h0.nesterov { d + mo * r0[i] } else { r0[i] };
                            }
                            rw[i] = x - lr * d;
                        }
                        Kind::Adagrad { .. } => {
                            r0[i] += d * d;
                            rw[i] = x - clr * d / (r0[i].sqrt() + eps);
                        }
                        Kind::Rms => {
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d * d;
                            let avg = if h0.centered {
                                r2[i] = b1 * r2[i] + (1.0 - b1) * d;
                                (r0[i] - r2[i] * r2[i]).sqrt() + eps
                            } else {
                                r0[i].sqrt() + eps
                            };
                            if mo > 0.0 {
                                r1[i] = mo * r1[i] + d / avg;
                                rw[i] = x - lr * r1[i];
                            } else {
                                rw[i] = x - lr * d / avg;
                            }
                        }
                        Kind::Adam | Kind::AdamW => {
                            let x = if matches!(kind, Kind::AdamW) {
                                x * (1.0 - lr * wd)
                            } else {
                                x
                            };
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d;
                            r1[i] = b2 * r1[i] + (1.0 - b2) * d * d;
                            let vh = if h0.amsgrad {
                                r2[i] = r2[i].max(r1[i]);
                                r2[i]
                            } else {
                                r1[i]
                            };
                            let denom = vh.sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
                            rw[i] = x - lr / (1.0 - b1.powi(t)) * r0[i] / denom;
                        }
                    }
                }
                for i in 0..n {
                    let (got, want) = (w[i] as f64, rw[i]);
                    // Weights of order 1 are rounded to f32 at every step (≤ 6e-8 absolute each), so
                    // one that crosses zero carries ~1e-7·t absolute error: 1e-5 relative down to
                    // |w| = 0.1, 1e-6 absolute below.
                    assert!(
                        (got - want).abs() <= 1e-5 * want.abs().max(0.1),
                        "n={} t={} i={}: got {} want {}",
                        n,
                        t,
                        i,
                        got,
                        want
                    );
                }
            }
        }
    }

    fn hp() -> Hyper {
        Hyper {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            ..Hyper::default()
        }
    }

    #[test]
    fn sgd_variants_match_f64() {
        check(Kind::Sgd, hp());
        check(
            Kind::Sgd,
            Hyper {
                momentum: 0.9,
                ..hp()
            },
        );
        check(
            Kind::Sgd,
            Hyper {
                momentum: 0.9,
                dampening: 0.3,
                weight_decay: 0.01,
                ..hp()
            },
        );
        check(
            Kind::Sgd,
            Hyper {
                momentum: 0.9,
                nesterov: true,
                maximize: true,
                ..hp()
            },
        );
        check(
            Kind::Sgd,
            Hyper {
                l1: 0.01,
                l2: 0.02,
                ..hp()
            },
        );
    }

    #[test]
    fn adagrad_matches_f64() {
        check(
            Kind::Adagrad {
                lr_decay: 0.01,
                init: 0.1,
            },
            Hyper { eps: 1e-10, ..hp() },
        );
        check(
            Kind::Adagrad {
                lr_decay: 0.0,
                init: 0.0,
            },
            Hyper {
                weight_decay: 0.01,
                l1: 1e-3,
                ..hp()
            },
        );
    }

    #[test]
    fn rmsprop_variants_match_f64() {
        let r = Hyper {
            beta1: 0.99,
            ..hp()
        };
        check(Kind::Rms, r);
        check(
            Kind::Rms,
            Hyper {
                centered: true,
                ..r
            },
        );
        check(
            Kind::Rms,
            Hyper {
                momentum: 0.9,
                weight_decay: 0.01,
                ..r
            },
        );
        check(
            Kind::Rms,
            Hyper {
                centered: true,
                momentum: 0.5,
                l2: 0.01,
                ..r
            },
        );
    }

    #[test]
    fn adam_variants_match_f64() {
        check(Kind::Adam, hp());
        check(
            Kind::Adam,
            Hyper {
                weight_decay: 0.01,
                ..hp()
            },
        );
        check(
            Kind::Adam,
            Hyper {
                amsgrad: true,
                ..hp()
            },
        );
        check(
            Kind::AdamW,
            Hyper {
                weight_decay: 0.01,
                ..hp()
            },
        );
        check(
            Kind::AdamW,
            Hyper {
                weight_decay: 0.1,
                amsgrad: true,
                l1: 1e-3,
                l2: 1e-3,
                ..hp()
            },
        );
    }

    #[test]
    fn missing_state_degrades_without_panic() {
        let mut w = vec![1.0f32; 5];
        let g = vec![1.0f32; 5];
        sgd_step(
            &mut w,
            &g,
            None,
            &Hyper {
                lr: 0.5,
                momentum: 0.9,
                ..Hyper::default()
            },
        );
        assert_eq!(w, vec![0.5f32; 5]);
        let mut short = vec![0f32; 2];
        adagrad_step(
            &mut w,
            &g,
            &mut short,
            &Hyper {
                lr: 0.5,
                eps: 0.0,
                ..Hyper::default()
            },
        );
        assert_eq!(w[..2], [0.0f32, 0.0]);
        assert_eq!(w[2..], [0.5f32, 0.5, 0.5]);
    }
}
