//! Fused optimizer updates, one pass per tensor.

use crate::math::sqrtf;
use crate::mem::{floats, floats_mut};


// ---------------------------------------------------------------------------------------------
// Fused optimizer updates (SGD with momentum, AdaGrad, RMSProp, Adam, AdamW).
//
// Each update reads `w`, `g` and up to three state buffers once and writes `w` and the state
// once. The arithmetic of one element is written twice, as a scalar closure and as a SIMD128
// closure, with the same operations in the same order. No FMA on either side and `sqrt`/`/` are
// correctly rounded in both, so the SIMD and scalar builds agree bit for bit.
// ---------------------------------------------------------------------------------------------

pub const OPT_SGD: u32 = 0;
pub const OPT_ADAGRAD: u32 = 1;
pub const OPT_RMSPROP: u32 = 2;
pub const OPT_ADAM: u32 = 3;
pub const OPT_ADAMW: u32 = 4;
/// Adamax, NAdam, RAdam, Adadelta, Lion: one fused pass ([`more_step`]).
pub const OPT_ADAMAX: u32 = 5;
pub const OPT_NADAM: u32 = 6;
pub const OPT_RADAM: u32 = 7;
pub const OPT_ADADELTA: u32 = 8;
pub const OPT_LION: u32 = 9;
/// Keras's arithmetic (Keras 3 `keras/src/optimizers/*.py`, the same as tf.keras 2.11–2.15's
/// default optimizers): SGD, RMSprop, Adagrad, Adam in one fused pass ([`keras_step`]).
pub const OPT_KERAS_SGD: u32 = 10;
pub const OPT_KERAS_RMSPROP: u32 = 11;
pub const OPT_KERAS_ADAGRAD: u32 = 12;
pub const OPT_KERAS_ADAM: u32 = 13;
/// The largest kind code.
pub const OPT_LAST: u32 = OPT_KERAS_ADAM;
/// SGD: first step, the momentum buffer is set to the gradient (PyTorch `buf = clone(grad)`).
pub const OPT_FIRST_STEP: u32 = 1;
/// SGD: Nesterov momentum.
pub const OPT_NESTEROV: u32 = 2;
/// RMSProp: centered variant (keeps the gradient average).
pub const OPT_CENTERED: u32 = 4;
/// Adam/AdamW: AMSGrad (keeps the running max of the uncorrected second moment).
pub const OPT_AMSGRAD: u32 = 8;
/// Negate the gradient first (PyTorch `maximize`); penalties and weight decay still shrink.
pub const OPT_MAXIMIZE: u32 = 16;
/// RAdam: this step is rectified (PyTorch's `rho_t > 5`).
pub const OPT_RECTIFY: u32 = 32;

record! {
    /// The one hyper-parameter record of an optimizer step, written by TypeScript
    /// (ts/optimizers/record.ts) and read by both paths: `train_step` (through `Plan.opt`) and the
    /// standalone `optimizer_apply`. Every field is 4 bytes. Scalars that depend on the step count
    /// or mix two hyper-parameters are computed by TypeScript in f64, as PyTorch's Python floats,
    /// and rounded once.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct OptHyper {
        /// [`OPT_SGD`] 0, [`OPT_ADAGRAD`] 1, [`OPT_RMSPROP`] 2, [`OPT_ADAM`] 3, [`OPT_ADAMW`] 4,
        /// [`OPT_ADAMAX`] 5, [`OPT_NADAM`] 6, [`OPT_RADAM`] 7, [`OPT_ADADELTA`] 8, [`OPT_LION`] 9,
        /// [`OPT_KERAS_SGD`] 10, [`OPT_KERAS_RMSPROP`] 11, [`OPT_KERAS_ADAGRAD`] 12, [`OPT_KERAS_ADAM`] 13.
        pub kind: u32,
        /// [`OPT_FIRST_STEP`] | [`OPT_NESTEROV`] | [`OPT_CENTERED`] | [`OPT_AMSGRAD`] | [`OPT_MAXIMIZE`]
        /// | [`OPT_RECTIFY`].
        pub flags: u32,
        /// Learning rate of this step; AdaGrad: the decayed `clr = lr / (1 + (step − 1)·lr_decay)`.
        pub lr: f32,
        /// SGD and RMSProp momentum factor (0 = no momentum buffer; Keras SGD and RMSprop too).
        pub momentum: f32,
        /// SGD dampening.
        pub dampening: f32,
        /// Adam/AdamW/Adamax/NAdam/RAdam/Lion/Keras Adam β1; RMSProp smoothing constant α; Adadelta
        /// and Keras RMSprop ρ.
        pub beta1: f32,
        /// Adam/AdamW/Adamax/NAdam/RAdam/Lion β2.
        pub beta2: f32,
        /// Term added to the denominator (AdaGrad, RMSProp, Adam, AdamW).
        pub eps: f32,
        /// PyTorch `weight_decay`: adds `wd·w` to the gradient (SGD, AdaGrad, RMSProp, Adam);
        /// AdamW: decoupled decay `w ← w·decay_keep` before the update; the Keras kinds: Keras's
        /// decoupled `w ← w − (w·wd)·lr` before the update.
        pub weight_decay: f32,
        /// Adam/AdamW/RAdam `1 − β1^t`.
        pub bias_correction1: f32,
        /// Adam/AdamW/RAdam `sqrt(1 − β2^t)`.
        pub bias_correction2_sqrt: f32,
        /// `1 − β1` (RMSProp `1 − α`, Adadelta `1 − ρ`), as PyTorch's `value=1 - beta`: `1 − 0.999f32` in f32 would
        /// be off by 2e-5 relative.
        pub one_minus_beta1: f32,
        /// `1 − β2`.
        pub one_minus_beta2: f32,
        /// Adam/AdamW step size `lr / (1 − β1^t)`; Adamax `clr`, the same; Keras Adam
        /// `α = lr·√(1 − β2^t)/(1 − β1^t)`.
        pub step_size: f32,
        /// AdamW and Lion `1 − lr·weight_decay`.
        pub decay_keep: f32,
        /// Clip each gradient element to [−v, v] (0 = off), Keras `clipvalue`.
        pub clip_value: f32,
        /// Rescale each tensor's gradient to L2 norm ≤ c (0 = off), Keras `clipnorm`.
        pub clip_norm: f32,
        /// Rescale all gradients together to global L2 norm ≤ c (0 = off), Keras `global_clipnorm`.
        pub global_clip_norm: f32,
        /// NAdam `1 − β2^t`.
        pub bias_correction2: f32,
        /// NAdam `lr·(1 − μ_t)/(1 − Π_{i≤t} μ_i)`; RAdam the rectification term `r_t`.
        pub c1: f32,
        /// NAdam `lr·μ_{t+1}/(1 − Π_{i≤t+1} μ_i)`.
        pub c2: f32,
    }
}

record! {
    /// One tensor an optimizer updates: the parameter, its gradient, its state slots and
    /// penalties. The model path builds these from its layer records (`plan::tensors`); the
    /// standalone `optimizer_apply` reads an array of them.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct OptTensor {
        /// Element count of `w`, `g` and every state slot used.
        pub len: u32,
        /// Parameter, updated in place.
        pub w: usize,
        /// Gradient (clipping rescales it in place; penalties are folded in registers).
        pub g: usize,
        /// State 1: SGD momentum buffer (needed iff momentum ≠ 0); AdaGrad sum (the caller fills
        /// it with `initial_accumulator_value`); RMSProp square average; Adam/AdamW first moment.
        pub s1: usize,
        /// State 2: RMSProp momentum buffer (needed iff momentum > 0); Adam/AdamW second moment.
        pub s2: usize,
        /// State 3: RMSProp gradient average (needed iff centered); Adam/AdamW max second moment
        /// (needed iff amsgrad). 0 when unused.
        pub s3: usize,
        /// L1 penalty `l1·Σ|w|`: adds `l1·sign(w)` to the gradient (sign(0) = 0).
        pub l1: f32,
        /// L2 penalty `l2·Σw²` (Keras convention): adds `2·l2·w` to the gradient. Note the factor
        /// 2: `l2 = wd/2` reproduces PyTorch's `weight_decay = wd`.
        pub l2: f32,
    }
}

impl OptTensor {
    /// The state slot addresses s1..s3.
    pub fn slots(&self) -> [usize; 3] {
        [self.s1, self.s2, self.s3]
    }
}

/// Per-pass outputs of one update besides the tensor itself.
#[derive(Clone, Copy, Default)]
pub struct Io {
    /// Backup addresses (0 = none) for the old values of `w`, `s1`, `s2`, `s3`: the update pass
    /// stores each element's pre-step value there as it reads it (valid for `len` floats each),
    /// so a caller can restore the tensor bit for bit when the update turns out non-finite.
    pub backup: [usize; 4],
    /// Address of 4 floats (0 = none) that receive the largest |value| written to `w`, `s1`,
    /// `s2`, `s3` (+Inf when non-finite; 0 for absent slots): upper bounds the next step's
    /// finiteness proof may reuse (see [`provably_finite`]).
    pub maxima: usize,
}

impl Io {
    fn arr(&self) -> [usize; 5] {
        [self.backup[0], self.backup[1], self.backup[2], self.backup[3], self.maxima]
    }
}

/// What the effective gradient folds in: maximize, coupled weight decay, penalties.
#[derive(Clone, Copy)]
pub(crate) struct Fold {
    maximize: bool,
    weight_decay: f32,
    l1: f32,
    l2: f32,
}

impl Fold {
    fn new(h: &OptHyper, l1: f32, l2: f32) -> Fold {
        Fold { maximize: h.flags & OPT_MAXIMIZE != 0, weight_decay: h.weight_decay, l1, l2 }
    }
}

/// Which state slots (s1..s3) the update of this kind and these settings reads and writes (the
/// rule `ts/optimizers/record.ts` `slotNames` names).
pub fn needed_slots(h: &OptHyper) -> [bool; 3] {
    match h.kind {
        OPT_SGD => [h.momentum != 0.0, false, false],
        OPT_ADAGRAD => [true, false, false],
        OPT_RMSPROP => [true, h.momentum > 0.0, h.flags & OPT_CENTERED != 0],
        OPT_LION => [true, false, false],
        OPT_ADAMAX..=OPT_ADADELTA => [true, true, false],
        OPT_KERAS_SGD => [h.momentum != 0.0, false, false],
        OPT_KERAS_RMSPROP => [true, h.momentum > 0.0, h.flags & OPT_CENTERED != 0],
        OPT_KERAS_ADAGRAD => [true, false, false],
        _ => [true, true, h.flags & OPT_AMSGRAD != 0],
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
fn fold(h: &Fold, coupled: bool, w: f32, g: f32) -> f32 {
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
    pub(crate) fn fold(h: &super::Fold, coupled: bool, w: v128, g: v128) -> v128 {
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
        mx = mx.max(u32x4_extract_lane::<0>(a)).max(u32x4_extract_lane::<1>(a)).max(u32x4_extract_lane::<2>(a)).max(u32x4_extract_lane::<3>(a));
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
            // SAFETY: a nonzero maxima address is valid for 4 floats (see Io::maxima).
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
        mx = mx.max(u32x4_extract_lane::<0>(am)).max(u32x4_extract_lane::<1>(am)).max(u32x4_extract_lane::<2>(am)).max(u32x4_extract_lane::<3>(am));
        or |= u32x4_extract_lane::<0>(ao) | u32x4_extract_lane::<1>(ao) | u32x4_extract_lane::<2>(ao) | u32x4_extract_lane::<3>(ao);
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
pub fn sgd_step(w: &mut [f32], g: &[f32], buf: Option<&mut [f32]>, h: &OptHyper, pen: [f32; 2], io: &Io) -> bool {
    let h = *h;
    let fo = Fold::new(&h, pen[0], pen[1]);
    let io = io.arr();
    let mom = h.momentum != 0.0 && buf.is_some();
    let (first, nesterov) = (h.flags & OPT_FIRST_STEP != 0, h.flags & OPT_NESTEROV != 0);
    let damp1 = 1.0 - h.dampening;
    let f = move |w: &mut f32, g: f32, b: &mut f32, _: &mut f32, _: &mut f32| {
        let mut d = fold(&fo, true, *w, g);
        if mom {
            *b = if first {
                d
            } else {
                h.momentum * *b + damp1 * d
            };
            d = if nesterov { d + h.momentum * *b } else { *b };
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
            let mut d = vx::fold(&fo, true, *w, g);
            if mom {
                *b = if first {
                    d
                } else {
                    f32x4_add(f32x4_mul(mv, *b), f32x4_mul(dv, d))
                };
                d = if nesterov {
                    f32x4_add(d, f32x4_mul(mv, *b))
                } else {
                    *b
                };
            }
            *w = f32x4_sub(*w, f32x4_mul(lv, d));
        };
        drive(w, g, buf, None, None, io, f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, buf, None, None, io, f)
}

/// AdaGrad, PyTorch `_single_tensor_adagrad` (torch/optim/adagrad.py), plus L1/L2 penalties.
/// `h.lr` is the decayed `clr = lr / (1 + (step − 1)·lr_decay)`; the caller fills `sum` with
/// `initial_accumulator_value` before the first step.
/// ```text
/// d ← fold(g);  sum ← sum + d·d;  w ← w − clr·(d / (sqrt(sum) + eps))
/// ```
pub fn adagrad_step(w: &mut [f32], g: &[f32], sum: &mut [f32], h: &OptHyper, pen: [f32; 2], io: &Io) -> bool {
    let h = *h;
    let fo = Fold::new(&h, pen[0], pen[1]);
    let io = io.arr();
    let f = move |w: &mut f32, g: f32, s: &mut f32, _: &mut f32, _: &mut f32| {
        let d = fold(&fo, true, *w, g);
        *s = *s + d * d;
        let std = sqrtf(*s) + h.eps;
        *w = *w - h.lr * (d / std);
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use vx::*;
        let (lv, ev) = (f32x4_splat(h.lr), f32x4_splat(h.eps));
        let fv = move |w: &mut v128, g: v128, s: &mut v128, _: &mut v128, _: &mut v128| {
            let d = vx::fold(&fo, true, *w, g);
            *s = f32x4_add(*s, f32x4_mul(d, d));
            let std = f32x4_add(f32x4_sqrt(*s), ev);
            *w = f32x4_sub(*w, f32x4_mul(lv, f32x4_div(d, std)));
        };
        drive(w, g, Some(sum), None, None, io, f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, Some(sum), None, None, io, f)
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
    h: &OptHyper,
    pen: [f32; 2],
    io: &Io,
) -> bool {
    let h = *h;
    let fo = Fold::new(&h, pen[0], pen[1]);
    let io = io.arr();
    let mom = h.momentum > 0.0 && buf.is_some();
    let cen = h.flags & OPT_CENTERED != 0 && grad_avg.is_some();
    let a1 = h.one_minus_beta1;
    let f = move |w: &mut f32, g: f32, sq: &mut f32, b: &mut f32, ga: &mut f32| {
        let d = fold(&fo, true, *w, g);
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
            let d = vx::fold(&fo, true, *w, g);
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
        drive(w, g, Some(square_avg), buf, grad_avg, io, f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, Some(square_avg), buf, grad_avg, io, f)
}

/// Adam (`decoupled = false`, PyTorch `_single_tensor_adam`, torch/optim/adam.py) and AdamW
/// (`decoupled = true`, torch/optim/adamw.py), plus L1/L2 penalties:
/// ```text
/// d ← fold(g)                       (Adam adds wd·w here; AdamW does not)
/// AdamW: w ← w·decay_keep           (decay_keep = 1 − lr·wd; after the penalties read w)
/// m ← m + (1 − β1)·(d − m)           (lerp)
/// v ← β2·v + (1 − β2)·(d·d)
/// amsgrad: vmax ← max(vmax, v); v̂ = vmax   else v̂ = v    (uncorrected, as PyTorch)
/// w ← w − step_size·(m / (sqrt(v̂)/bc2_sqrt + eps))      (step_size = lr / bc1)
/// ```
/// with `bc1 = 1 − β1^t`, `bc2_sqrt = sqrt(1 − β2^t)`, `step_size` and `decay_keep` from the
/// caller ([`OptHyper`]). Without `vmax` the update
/// is plain Adam whatever the AMSGrad flag says.
pub fn adam_step(
    w: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    vmax: Option<&mut [f32]>,
    h: &OptHyper,
    pen: [f32; 2],
    io: &Io,
    decoupled: bool,
) -> bool {
    let h = *h;
    let fo = Fold::new(&h, pen[0], pen[1]);
    let io = io.arr();
    let ams = h.flags & OPT_AMSGRAD != 0 && vmax.is_some();
    let decay = decoupled && h.weight_decay != 0.0;
    let keep = h.decay_keep;
    let b1 = h.one_minus_beta1;
    let b2 = h.one_minus_beta2;
    let step_size = h.step_size;
    let f = move |w: &mut f32, g: f32, m: &mut f32, v: &mut f32, vm: &mut f32| {
        let d = fold(&fo, !decoupled, *w, g);
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
            let d = vx::fold(&fo, !decoupled, *w, g);
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
        drive(w, g, Some(m), Some(v), vmax, io, f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, Some(m), Some(v), vmax, io, f)
}

/// Adamax, NAdam, RAdam, Adadelta and Lion in one fused pass: one element closure per build whose
/// `match` on the kind is loop-invariant (one [`drive`] instantiation for all five keeps the
/// module small). Slots: `s1` = `m` (Adadelta `square_avg`), `s2` = Adamax `exp_inf`, NAdam/RAdam
/// `exp_avg_sq`, Adadelta `acc_delta` (Lion has none). The order of operations is PyTorch 1.13's
/// CPU kernels: `a.mul_(β).add_(b, alpha=c)` is `a·β + c·b`, `addcmul(a, b, value=c)` is
/// `(c·a)·b`, `addcdiv(a, b, value=c)` is `(c·a)/b`. `d ← fold(g)` as for Adam (coupled weight
/// decay, L1/L2 penalties; Lion's weight decay is decoupled).
/// ```text
/// Adamax  (torch/optim/adamax.py `_single_tensor_adamax`):
///     m ← m·β1 + (1 − β1)·d;  u ← max(u·β2, |d| + eps);  w ← w − (clr·m)/u     (clr = lr/(1 − β1^t))
/// NAdam   (torch/optim/nadam.py; μ_t = β1·(1 − ½·0.96^(t·ψ)), ψ = momentum_decay):
///     m ← m·β1 + (1 − β1)·d;  v ← v·β2 + ((1 − β2)·d)·d;  den ← sqrt(v/(1 − β2^t)) + eps
///     w ← w − (c1·d)/den;  w ← w − (c2·m)/den
///     (c1 = lr·(1 − μ_t)/(1 − Π_{i≤t} μ_i), c2 = lr·μ_{t+1}/(1 − Π_{i≤t+1} μ_i): PyTorch ≥ 2.0 and
///     1.13's foreach path; 1.13's single-tensor path multiplies μ_t in twice in c2's product)
/// RAdam   (torch/optim/radam.py `_single_tensor_radam`):
///     m ← m·β1 + (1 − β1)·d;  v ← v·β2 + ((1 − β2)·d)·d;  m̂ ← m/(1 − β1^t)
///     rectified (ρ_t > 5, flag OPT_RECTIFY): w ← w − ((m̂·lr)·(sqrt(1 − β2^t)/(sqrt(v) + eps)))·r_t
///     else:                                  w ← w − m̂·lr
/// Adadelta (torch/optim/adadelta.py `_single_tensor_adadelta`, ρ = beta1):
///     sq ← sq·ρ + ((1 − ρ)·d)·d;  δ ← (sqrt(acc + eps)/sqrt(sq + eps))·d;  acc ← acc·ρ + ((1 − ρ)·δ)·δ
///     w ← w − lr·δ
/// Lion    (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2, as
///          lucidrains/lion-pytorch `update_fn`):
///     w ← w·(1 − lr·wd);  w ← w − lr·sign(m·β1 + (1 − β1)·d);  m ← m·β2 + (1 − β2)·d
/// ```
/// Without `s2` the kinds that need it read it as 0 and do not write it (no panic).
pub fn more_step(w: &mut [f32], g: &[f32], s1: &mut [f32], s2: Option<&mut [f32]>, h: &OptHyper, pen: [f32; 2], io: &Io) -> bool {
    let h = *h;
    let fo = Fold::new(&h, pen[0], pen[1]);
    let io = io.arr();
    let kind = h.kind;
    let rect = h.flags & OPT_RECTIFY != 0;
    let (b1, b2, c1, c2) = (h.beta1, h.beta2, h.one_minus_beta1, h.one_minus_beta2);
    let keep = h.decay_keep;
    let f = move |w: &mut f32, g: f32, m: &mut f32, v: &mut f32, _: &mut f32| {
        let d = fold(&fo, kind != OPT_LION, *w, g);
        if kind == OPT_LION {
            if h.weight_decay != 0.0 {
                *w = *w * keep;
            }
            *w = *w - h.lr * sign(*m * b1 + c1 * d);
            *m = *m * b2 + c2 * d;
        } else if kind == OPT_ADADELTA {
            *m = *m * b1 + (c1 * d) * d;
            let delta = (sqrtf(*v + h.eps) / sqrtf(*m + h.eps)) * d;
            *v = *v * b1 + (c1 * delta) * delta;
            *w = *w - h.lr * delta;
        } else {
            *m = *m * b1 + c1 * d;
            if kind == OPT_ADAMAX {
                let (a, b) = (*v * b2, fabs32(d) + h.eps);
                *v = if b < a { a } else { b };
                *w = *w - (h.step_size * *m) / *v;
            } else {
                *v = *v * b2 + (c2 * d) * d;
                if kind == OPT_NADAM {
                    let den = sqrtf(*v / h.bias_correction2) + h.eps;
                    *w = *w - (h.c1 * d) / den;
                    *w = *w - (h.c2 * *m) / den;
                } else {
                    let mh = *m / h.bias_correction1;
                    *w = if rect {
                        *w - ((mh * h.lr) * (h.bias_correction2_sqrt / (sqrtf(*v) + h.eps))) * h.c1
                    } else {
                        *w - mh * h.lr
                    };
                }
            }
        }
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use vx::*;
        let s = f32x4_splat;
        let (b1v, b2v, c1v, c2v, ev, lv) = (s(b1), s(b2), s(c1), s(c2), s(h.eps), s(h.lr));
        let (k1, k2, bc1, bc2) = (s(h.c1), s(h.c2), s(h.bias_correction1), s(h.bias_correction2));
        let (ssv, bcs, kv, z) = (s(h.step_size), s(h.bias_correction2_sqrt), s(keep), s(0.0));
        let fv = move |w: &mut v128, g: v128, m: &mut v128, v: &mut v128, _: &mut v128| {
            let d = vx::fold(&fo, kind != OPT_LION, *w, g);
            let (add, sub, mul, div) = (f32x4_add, f32x4_sub, f32x4_mul, f32x4_div);
            if kind == OPT_LION {
                if h.weight_decay != 0.0 {
                    *w = mul(*w, kv);
                }
                let c = add(mul(*m, b1v), mul(c1v, d));
                // lr·sign(c) with sign(0) = sign(NaN) = 0, as the scalar `sign`
                *w = sub(*w, v128_or(v128_and(f32x4_gt(c, z), lv), v128_and(f32x4_lt(c, z), f32x4_neg(lv))));
                *m = add(mul(*m, b2v), mul(c2v, d));
            } else if kind == OPT_ADADELTA {
                *m = add(mul(*m, b1v), mul(mul(c1v, d), d));
                let delta = mul(div(f32x4_sqrt(add(*v, ev)), f32x4_sqrt(add(*m, ev))), d);
                *v = add(mul(*v, b1v), mul(mul(c1v, delta), delta));
                *w = sub(*w, mul(lv, delta));
            } else {
                *m = add(mul(*m, b1v), mul(c1v, d));
                if kind == OPT_ADAMAX {
                    // pmax(b, a) = b < a ? a : b, the scalar expression
                    *v = f32x4_pmax(add(f32x4_abs(d), ev), mul(*v, b2v));
                    *w = sub(*w, div(mul(ssv, *m), *v));
                } else {
                    *v = add(mul(*v, b2v), mul(mul(c2v, d), d));
                    if kind == OPT_NADAM {
                        let den = add(f32x4_sqrt(div(*v, bc2)), ev);
                        *w = sub(*w, div(mul(k1, d), den));
                        *w = sub(*w, div(mul(k2, *m), den));
                    } else {
                        let mh = div(*m, bc1);
                        *w = if rect {
                            sub(*w, mul(mul(mul(mh, lv), div(bcs, add(f32x4_sqrt(*v), ev))), k1))
                        } else {
                            sub(*w, mul(mh, lv))
                        };
                    }
                }
            }
        };
        drive(w, g, Some(s1), s2, None, io, f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    drive(w, g, Some(s1), s2, None, io, f)
}

/// Keras's SGD, RMSprop, Adagrad and Adam in one fused pass (one [`drive`] instantiation; the
/// `match` on the kind is loop-invariant, as in [`more_step`]). The arithmetic, operation for
/// operation, is Keras 3's `update_step` (keras/src/optimizers/{sgd,rmsprop,adagrad,adam}.py at
/// keras-team/keras 13de96ae / 1937d487 / 40c74973), which tf.keras 2.11–2.15's default
/// optimizers (keras/optimizers/*.py) share; the legacy tf.keras ≤ 2.10 `optimizer_v2` ones differ
/// (ε outside the root in Adagrad and in momentum-free RMSprop). Keras's `weight_decay` is
/// decoupled (base_optimizer.py `_apply_weight_decay`, applied before `update_step`):
/// `w ← w − (w·wd)·lr`. `d ← fold(g)` adds the L1/L2 penalty gradients (Keras's regularizer
/// losses) read at the pre-decay `w`; there is no coupled decay and no maximize.
/// ```text
/// SGD      (s1 = momentum):  m ← m·μ − d·lr;  w ← w + (m·μ − d·lr) if nesterov, else w + m
///                            (without momentum: w ← w − d·lr; nesterov alone changes nothing)
/// RMSprop  (s1 = velocity, s2 = momentum, s3 = average_gradient; ρ = beta1):
///          v ← ρ·v + (1 − ρ)·(d·d);  centered: a ← ρ·a + (1 − ρ)·d, den = (v − a·a) + ε;
///          else den = v + ε;  inc = (lr·d)/√den;  momentum: p ← μ·p + inc, w ← w − p;  else w ← w − inc
/// Adagrad  (s1 = accumulator, filled with initial_accumulator_value by the caller):
///          acc ← acc + d·d;  w ← w − (lr·d)/√(acc + ε)
/// Adam     (s1 = momentum m, s2 = velocity v, s3 = velocity_hat):
///          m ← m + (d − m)·(1 − β1);  v ← v + (d·d − v)·(1 − β2);  amsgrad: v̂ ← max(v̂, v), v ← v̂
///          w ← w − (m·α)/(√v + ε)        (α = lr·√(1 − β2^t)/(1 − β1^t) = `step_size`, f64 in TS)
/// ```
/// Missing optional slots degrade as in the other kinds (no momentum, not centered, no AMSGrad);
/// a missing required slot reads as empty (nothing updated).
pub fn keras_step(
    w: &mut [f32],
    g: &[f32],
    s1: Option<&mut [f32]>,
    s2: Option<&mut [f32]>,
    s3: Option<&mut [f32]>,
    h: &OptHyper,
    pen: [f32; 2],
    io: &Io,
) -> bool {
    let h = *h;
    let fo = Fold::new(&OptHyper { flags: 0, weight_decay: 0.0, ..h }, pen[0], pen[1]);
    let io = io.arr();
    let kind = h.kind;
    let (lr, mu, wd, eps) = (h.lr, h.momentum, h.weight_decay, h.eps);
    let (b1, c1, c2, alpha) = (h.beta1, h.one_minus_beta1, h.one_minus_beta2, h.step_size);
    let decay = wd != 0.0;
    let (mom, opt3) = match kind {
        OPT_KERAS_SGD => (mu != 0.0 && s1.is_some(), false),
        OPT_KERAS_RMSPROP => (mu > 0.0 && s2.is_some(), h.flags & OPT_CENTERED != 0 && s3.is_some()),
        _ => (false, h.flags & OPT_AMSGRAD != 0 && s3.is_some()),
    };
    let nesterov = h.flags & OPT_NESTEROV != 0;
    // Required slots: RMSprop/Adagrad/Adam s1, Adam s2. Absent ones make the pass empty.
    let required_missing = match kind {
        OPT_KERAS_SGD => false,
        OPT_KERAS_ADAM => s1.is_none() || s2.is_none(),
        _ => s1.is_none(),
    };
    if required_missing {
        return true;
    }
    let f = move |w: &mut f32, g: f32, a: &mut f32, b: &mut f32, c: &mut f32| {
        let d = fold(&fo, false, *w, g);
        if decay {
            *w = *w - (*w * wd) * lr;
        }
        if kind == OPT_KERAS_SGD {
            if mom {
                *a = *a * mu - d * lr;
                *w = if nesterov { *w + (*a * mu - d * lr) } else { *w + *a };
            } else {
                *w = *w - d * lr;
            }
        } else if kind == OPT_KERAS_RMSPROP {
            *a = b1 * *a + c1 * (d * d);
            let den = if opt3 {
                *c = b1 * *c + c1 * d;
                (*a - *c * *c) + eps
            } else {
                *a + eps
            };
            let inc = (lr * d) / sqrtf(den);
            if mom {
                *b = mu * *b + inc;
                *w = *w - *b;
            } else {
                *w = *w - inc;
            }
        } else if kind == OPT_KERAS_ADAGRAD {
            *a = *a + d * d;
            *w = *w - (lr * d) / sqrtf(*a + eps);
        } else {
            *a = *a + (d - *a) * c1;
            *b = *b + (d * d - *b) * c2;
            let v = if opt3 {
                *c = if *c < *b { *b } else { *c };
                *c
            } else {
                *b
            };
            *w = *w - (*a * alpha) / (sqrtf(v) + eps);
        }
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use vx::*;
        let s = f32x4_splat;
        let (lv, mv, wdv, ev) = (s(lr), s(mu), s(wd), s(eps));
        let (b1v, c1v, c2v, av) = (s(b1), s(c1), s(c2), s(alpha));
        let fv = move |w: &mut v128, g: v128, a: &mut v128, b: &mut v128, c: &mut v128| {
            let (add, sub, mul, div) = (f32x4_add, f32x4_sub, f32x4_mul, f32x4_div);
            let d = vx::fold(&fo, false, *w, g);
            if decay {
                *w = sub(*w, mul(mul(*w, wdv), lv));
            }
            if kind == OPT_KERAS_SGD {
                if mom {
                    *a = sub(mul(*a, mv), mul(d, lv));
                    *w = if nesterov { add(*w, sub(mul(*a, mv), mul(d, lv))) } else { add(*w, *a) };
                } else {
                    *w = sub(*w, mul(d, lv));
                }
            } else if kind == OPT_KERAS_RMSPROP {
                *a = add(mul(b1v, *a), mul(c1v, mul(d, d)));
                let den = if opt3 {
                    *c = add(mul(b1v, *c), mul(c1v, d));
                    add(sub(*a, mul(*c, *c)), ev)
                } else {
                    add(*a, ev)
                };
                let inc = div(mul(lv, d), f32x4_sqrt(den));
                if mom {
                    *b = add(mul(mv, *b), inc);
                    *w = sub(*w, *b);
                } else {
                    *w = sub(*w, inc);
                }
            } else if kind == OPT_KERAS_ADAGRAD {
                *a = add(*a, mul(d, d));
                *w = sub(*w, div(mul(lv, d), f32x4_sqrt(add(*a, ev))));
            } else {
                *a = add(*a, mul(sub(d, *a), c1v));
                *b = add(*b, mul(sub(mul(d, d), *b), c2v));
                let v = if opt3 {
                    // pmax(c, b) = c < b ? b : c, the scalar expression
                    *c = f32x4_pmax(*c, *b);
                    *c
                } else {
                    *b
                };
                *w = sub(*w, div(mul(*a, av), add(f32x4_sqrt(v), ev)));
            }
        };
        let s3 = if opt3 { s3 } else { None };
        let s2 = if kind == OPT_KERAS_ADAM || mom && kind == OPT_KERAS_RMSPROP { s2 } else { None };
        drive(w, g, s1, s2, s3, io, f, fv)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let s3 = if opt3 { s3 } else { None };
        let s2 = if kind == OPT_KERAS_ADAM || mom && kind == OPT_KERAS_RMSPROP { s2 } else { None };
        drive(w, g, s1, s2, s3, io, f)
    }
}

/// |x| for f32 (clears the sign bit, as `f32x4_abs`).
#[inline(always)]
fn fabs32(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7fff_ffff)
}

// ---------------------------------------------------------------------------------------------
// One optimizer path over tensor records: clipping, the update, the finiteness proof. Both the
// model's `train_step` (tensors from its layer records) and `optimizer_apply` (an array of
// tensor records) call these.
// ---------------------------------------------------------------------------------------------

/// One fused update of one tensor (its needed state slots are nonzero: the caller checked).
/// Returns whether every value written is finite.
///
/// # Safety
/// Every nonzero address in `t` valid for `t.len` floats, not overlapping.
pub unsafe fn update(h: &OptHyper, t: &OptTensor, io: &Io) -> bool {
    let need = needed_slots(h);
    let n = t.len as usize;
    let w = floats_mut(t.w, n);
    let g = floats(t.g, n);
    let s = t.slots();
    let st = |i: usize| -> Option<&mut [f32]> {
        if need[i] {
            Some(floats_mut(s[i], n))
        } else {
            None
        }
    };
    let pen = [t.l1, t.l2];
    match h.kind {
        OPT_SGD => sgd_step(w, g, st(0), h, pen, io),
        OPT_ADAGRAD => adagrad_step(w, g, st(0).unwrap_or(&mut []), h, pen, io),
        OPT_RMSPROP => rmsprop_step(w, g, st(0).unwrap_or(&mut []), st(1), st(2), h, pen, io),
        OPT_ADAM | OPT_ADAMW => {
            adam_step(w, g, st(0).unwrap_or(&mut []), st(1).unwrap_or(&mut []), st(2), h, pen, io, h.kind == OPT_ADAMW)
        }
        OPT_ADAMAX..=OPT_LION => more_step(w, g, st(0).unwrap_or(&mut []), st(1), h, pen, io),
        OPT_KERAS_SGD..=OPT_KERAS_ADAM => keras_step(w, g, st(0), st(1), st(2), h, pen, io),
        _ => false,
    }
}

#[inline(never)]
fn sum_squares(g: &[f32]) -> f64 {
    let mut s = 0.0f64;
    for &v in g {
        s += (v as f64) * (v as f64);
    }
    s
}

#[inline(never)]
fn scale(g: &mut [f32], f: f32) {
    for v in g.iter_mut() {
        *v *= f;
    }
}

/// Gradient clipping in Keras 3's order (`_clip_gradients`): per-tensor norm, then global norm,
/// then value. Norms accumulate in f64; a tensor is rescaled by `c / norm` only when `norm > c`.
/// `tensors()` yields every tensor of the step (called once per pass).
///
/// # Safety
/// Every tensor's `g` valid for `len` floats.
pub unsafe fn clip_gradients<I, F>(h: &OptHyper, tensors: F)
where
    F: Fn() -> I,
    I: Iterator<Item = OptTensor>,
{
    if h.clip_norm > 0.0 {
        let c = h.clip_norm as f64;
        for t in tensors() {
            let n = t.len as usize;
            let norm = crate::math::sqrt64(sum_squares(floats(t.g, n)));
            if norm > c {
                scale(floats_mut(t.g, n), (c / norm) as f32);
            }
        }
    }
    if h.global_clip_norm > 0.0 {
        let c = h.global_clip_norm as f64;
        let mut total = 0.0f64;
        for t in tensors() {
            total += sum_squares(floats(t.g, t.len as usize));
        }
        let norm = crate::math::sqrt64(total);
        if norm > c {
            let f = (c / norm) as f32;
            for t in tensors() {
                scale(floats_mut(t.g, t.len as usize), f);
            }
        }
    }
    if h.clip_value > 0.0 {
        let v = h.clip_value;
        for t in tensors() {
            for x in floats_mut(t.g, t.len as usize).iter_mut() {
                if *x > v {
                    *x = v;
                } else if *x < -v {
                    *x = -v;
                }
            }
        }
    }
}

/// |x| (`f64::abs` is not in `core` on Rust 1.63).
fn fabs(x: f64) -> f64 {
    if x < 0.0 {
        -x
    } else {
        x
    }
}

/// Whether the update of `t` provably writes only finite values, from f64 bounds on the largest
/// |g|, |w| and |state| (one read-only pass over each) and the hyper-parameters. Every
/// intermediate bound must stay below 1e30 (f32 overflows at 3.4e38: the margin covers the f32
/// rounding of each operation). Proven for SGD (with or without momentum) and Adam/AdamW/AMSGrad
/// with `eps > 0` and non-negative second moments, and for Keras's SGD and Adam likewise; every
/// other case takes the backup path.
/// `cached` (address of 4 floats, 0 = none): upper bounds of |w|, |s1..3| from the previous
/// update pass, which was itself proven (then only g is scanned; v and vmax are known
/// non-negative: they were when that pass was proven, and β2·v + (1 − β2)·d² and max(vmax, v)
/// keep them so).
///
/// `g`: the largest |g| of the tensor's gradient ([`scan`] of `t.g`; the step scans all gradients
/// in one parallel region, `par::scan_all`).
///
/// # Safety
/// As [`update`]; `cached` valid for 4 floats when nonzero.
pub unsafe fn provably_finite(h: &OptHyper, t: &OptTensor, cached: usize, g: f64) -> bool {
    const L: f64 = 1e30;
    let need = needed_slots(h);
    let kind = h.kind;
    let cached = if cached != 0 {
        let c = floats(cached, 4);
        Some([c[0], c[1], c[2], c[3]])
    } else {
        None
    };
    let n = t.len as usize;
    let s = t.slots();
    let scan_or = |p: usize, k: usize| -> (f64, bool) {
        match cached {
            Some(c) => (c[k] as f64, false),
            None => scan(floats(p, n)),
        }
    };
    let (w, _) = scan_or(t.w, 0);
    let lr = fabs(h.lr as f64);
    if !(g < L && w < L && lr < L) {
        return false;
    }
    let wd = fabs(h.weight_decay as f64);
    let keras = kind >= OPT_KERAS_SGD;
    let coupled = kind != OPT_ADAMW && !keras;
    // |fold(g)|: ±g (+ wd·w) (+ l1·sign w) (+ 2·l2·w)
    let d = g + if coupled { wd * w } else { 0.0 } + fabs(t.l1 as f64) + 2.0 * fabs(t.l2 as f64) * w;
    if !(d < L) {
        return false;
    }
    match kind {
        OPT_SGD => {
            let mu = fabs(h.momentum as f64);
            let step = if need[0] {
                let (b, _) = scan_or(s[0], 1);
                let b2 = if h.flags & OPT_FIRST_STEP != 0 { d } else { mu * b + fabs(1.0 - h.dampening as f64) * d };
                if !(b < L && b2 < L) {
                    return false;
                }
                if h.flags & OPT_NESTEROV != 0 {
                    d + mu * b2
                } else {
                    b2
                }
            } else {
                d
            };
            w + lr * step < L
        }
        OPT_ADAM | OPT_ADAMW => {
            let bc1 = fabs(h.bias_correction1 as f64);
            if !(h.eps > 0.0 && h.bias_correction2_sqrt > 0.0 && bc1 > 0.0 && h.beta2 >= 0.0 && h.one_minus_beta2 >= 0.0) {
                return false;
            }
            let (m, _) = scan_or(s[0], 1);
            let (v, v_neg) = scan_or(s[1], 2);
            let vmax_ok = if need[2] {
                let (vm, vm_neg) = scan_or(s[2], 3);
                vm < L && !vm_neg
            } else {
                true
            };
            let m2 = m + fabs(h.one_minus_beta1 as f64) * (d + m);
            let v2 = fabs(h.beta2 as f64) * v + fabs(h.one_minus_beta2 as f64) * d * d;
            if !(vmax_ok && !v_neg && m < L && v < L && d * d < L && m2 < L && v2 < L) {
                return false;
            }
            // |m̂ / (√v̂/bc2 + eps)| ≤ |m'| / eps (√v̂ ≥ 0); AdamW's decay scales w by |decay_keep|
            let keep = if kind == OPT_ADAMW { fabs(h.decay_keep as f64) } else { 1.0 };
            let step = fabs(h.step_size as f64) * (m2 / h.eps as f64);
            w * keep + step < L
        }
        OPT_KERAS_SGD | OPT_KERAS_ADAM => {
            // Keras's decoupled decay w − (w·wd)·lr first: |w'| ≤ |w|·(1 + wd·lr)
            let (wwd, dlr) = (w * wd, d * lr);
            let w1 = w + wwd * lr;
            if !(wwd < L && w1 < L && dlr < L) {
                return false;
            }
            let step = if kind == OPT_KERAS_SGD {
                if need[0] {
                    // m ← m·μ − d·lr; w += m, or Nesterov w += m·μ − d·lr
                    let mu = fabs(h.momentum as f64);
                    let (m, _) = scan_or(s[0], 1);
                    let m2 = mu * m + dlr;
                    if !(m < L && m2 < L) {
                        return false;
                    }
                    if h.flags & OPT_NESTEROV != 0 {
                        mu * m2 + dlr
                    } else {
                        m2
                    }
                } else {
                    dlr
                }
            } else {
                // m ← m + (d − m)·c1; v ← v + (d² − v)·c2 stays ≥ 0 for v ≥ 0 and c2 in [0, 1]
                // (fl(v·c2) ≤ v); w −= (m·α)/(√v̂ + ε) ≤ |m'|·|α|/ε
                let c2 = h.one_minus_beta2;
                if !(h.eps > 0.0 && c2 >= 0.0 && c2 <= 1.0) {
                    return false;
                }
                let (m, _) = scan_or(s[0], 1);
                let (v, v_neg) = scan_or(s[1], 2);
                let vmax_ok = if need[2] {
                    let (vm, vm_neg) = scan_or(s[2], 3);
                    vm < L && !vm_neg
                } else {
                    true
                };
                let m2 = m + fabs(h.one_minus_beta1 as f64) * (d + m);
                let v2 = v + c2 as f64 * (d * d + v);
                if !(vmax_ok && !v_neg && m < L && v < L && d * d < L && m2 < L && v2 < L) {
                    return false;
                }
                fabs(h.step_size as f64) * m2 / h.eps as f64
            };
            w1 + step < L
        }
        _ => false,
    }
}

/// The standalone optimizer step (`opt.update`): clips the gradients of all tensors together
/// (Keras order, see [`clip_gradients`]), then updates each tensor. Returns `STATUS_OK`;
/// `STATUS_BAD_ARGUMENT` for an unknown kind or when a parameter, gradient or a state slot the
/// kind and flags need is address 0 (nothing written); `STATUS_NON_FINITE_RESULT` when a written
/// parameter or state value is NaN or ±Inf (the buffers hold that result: the caller keeps the
/// originals and finds the tensor).
///
/// # Safety
/// Every nonzero address in `ts` valid for its `len` floats, no overlap.
pub unsafe fn apply(h: &OptHyper, ts: &[OptTensor]) -> u32 {
    use crate::status::{STATUS_BAD_ARGUMENT, STATUS_NON_FINITE_RESULT, STATUS_OK};
    if h.kind > OPT_LAST {
        return STATUS_BAD_ARGUMENT;
    }
    let need = needed_slots(h);
    for t in ts {
        let s = t.slots();
        if t.w == 0 || t.g == 0 || (0..3).any(|i| need[i] && s[i] == 0) {
            return STATUS_BAD_ARGUMENT;
        }
    }
    clip_gradients(h, || ts.iter().copied());
    let mut finite = true;
    for t in ts {
        finite &= update(h, t, &Io::default());
    }
    if finite {
        STATUS_OK
    } else {
        STATUS_NON_FINITE_RESULT
    }
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
    fn check(kind: Kind, h0: OptHyper) {
        check_pen(kind, h0, [0.0, 0.0]);
    }

    fn check_pen(kind: Kind, h0: OptHyper, pen: [f32; 2]) {
        let maximize = h0.flags & OPT_MAXIMIZE != 0;
        let (nesterov, centered, amsgrad) = (h0.flags & OPT_NESTEROV != 0, h0.flags & OPT_CENTERED != 0, h0.flags & OPT_AMSGRAD != 0);
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
                h.flags = if t == 1 { h0.flags | OPT_FIRST_STEP } else { h0.flags };
                let clr = match kind {
                    Kind::Adagrad { lr_decay, .. } => lr / (1.0 + (t as f64 - 1.0) * lr_decay),
                    _ => lr,
                };
                h.lr = clr as f32;
                h.one_minus_beta1 = (1.0 - b1) as f32;
                h.one_minus_beta2 = (1.0 - b2) as f32;
                h.bias_correction1 = (1.0 - b1.powi(t)) as f32;
                h.bias_correction2_sqrt = (1.0 - b2.powi(t)).sqrt() as f32;
                h.step_size = (lr / (1.0 - b1.powi(t))) as f32;
                h.decay_keep = (1.0 - lr * wd) as f32;
                h.kind = match kind {
                    Kind::Sgd => OPT_SGD,
                    Kind::Adagrad { .. } => OPT_ADAGRAD,
                    Kind::Rms => OPT_RMSPROP,
                    Kind::Adam => OPT_ADAM,
                    Kind::AdamW => OPT_ADAMW,
                };
                let io = Io::default();
                let [s0, s1, s2] = &mut s;
                let _finite = match kind {
                    Kind::Sgd => sgd_step(&mut w, &g, Some(s0), &h, pen, &io),
                    Kind::Adagrad { .. } => adagrad_step(&mut w, &g, s0, &h, pen, &io),
                    Kind::Rms => rmsprop_step(&mut w, &g, s0, Some(s1), Some(s2), &h, pen, &io),
                    Kind::Adam => adam_step(&mut w, &g, s0, s1, Some(s2), &h, pen, &io, false),
                    Kind::AdamW => adam_step(&mut w, &g, s0, s1, Some(s2), &h, pen, &io, true),
                };
                for i in 0..n {
                    let x = rw[i];
                    let mut d = g[i] as f64;
                    if maximize {
                        d = -d;
                    }
                    if !matches!(kind, Kind::AdamW) {
                        d += wd * x;
                    }
                    d += pen[0] as f64
                        * if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            0.0
                        };
                    d += 2.0 * pen[1] as f64 * x;
                    let [r0, r1, r2] = &mut r;
                    match kind {
                        Kind::Sgd => {
                            if mo != 0.0 {
                                r0[i] = if t == 1 {
                                    d
                                } else {
                                    mo * r0[i] + (1.0 - da) * d
                                };
                                d = if nesterov { d + mo * r0[i] } else { r0[i] };
                            }
                            rw[i] = x - lr * d;
                        }
                        Kind::Adagrad { .. } => {
                            r0[i] += d * d;
                            rw[i] = x - clr * d / (r0[i].sqrt() + eps);
                        }
                        Kind::Rms => {
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d * d;
                            let avg = if centered {
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
                            let vh = if amsgrad {
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

    fn hp() -> OptHyper {
        OptHyper {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            ..OptHyper::default()
        }
    }

    #[test]
    fn sgd_variants_match_f64() {
        check(Kind::Sgd, hp());
        check(Kind::Sgd, OptHyper { momentum: 0.9, ..hp() });
        check(Kind::Sgd, OptHyper { momentum: 0.9, dampening: 0.3, weight_decay: 0.01, ..hp() });
        check(Kind::Sgd, OptHyper { momentum: 0.9, flags: OPT_NESTEROV | OPT_MAXIMIZE, ..hp() });
        check_pen(Kind::Sgd, hp(), [0.01, 0.02]);
    }

    #[test]
    fn adagrad_matches_f64() {
        check(Kind::Adagrad { lr_decay: 0.01, init: 0.1 }, OptHyper { eps: 1e-10, ..hp() });
        check_pen(Kind::Adagrad { lr_decay: 0.0, init: 0.0 }, OptHyper { weight_decay: 0.01, ..hp() }, [1e-3, 0.0]);
    }

    #[test]
    fn rmsprop_variants_match_f64() {
        let r = OptHyper { beta1: 0.99, ..hp() };
        check(Kind::Rms, r);
        check(Kind::Rms, OptHyper { flags: OPT_CENTERED, ..r });
        check(Kind::Rms, OptHyper { momentum: 0.9, weight_decay: 0.01, ..r });
        check_pen(Kind::Rms, OptHyper { flags: OPT_CENTERED, momentum: 0.5, ..r }, [0.0, 0.01]);
    }

    #[test]
    fn adam_variants_match_f64() {
        check(Kind::Adam, hp());
        check(Kind::Adam, OptHyper { weight_decay: 0.01, ..hp() });
        check(Kind::Adam, OptHyper { flags: OPT_AMSGRAD, ..hp() });
        check(Kind::AdamW, OptHyper { weight_decay: 0.01, ..hp() });
        check_pen(Kind::AdamW, OptHyper { weight_decay: 0.1, flags: OPT_AMSGRAD, ..hp() }, [1e-3, 1e-3]);
    }

    /// 30 steps of Adamax/NAdam/RAdam/Adadelta/Lion with f32 kernels vs the formulas of
    /// [`more_step`] in f64 (PyTorch's per-step scalars from the step count, as record.ts writes
    /// them), with NaN guard bands around every buffer.
    fn check_more(kind: u32, h0: OptHyper, psi: f64, pen: [f32; 2]) {
        let (lr, b1, b2, eps, wd) = (h0.lr as f64, h0.beta1 as f64, h0.beta2 as f64, h0.eps as f64, h0.weight_decay as f64);
        const G: usize = 4;
        for &n in &[1usize, 3, 5, 17, 1023] {
            let w0 = data(n, n as u64 + 7);
            let guarded = |x: &[f32]| -> Vec<f32> {
                let mut v = vec![f32::NAN; n + 2 * G];
                v[G..G + n].copy_from_slice(x);
                v
            };
            let mut w = guarded(&w0);
            let mut s = [guarded(&vec![0f32; n]), guarded(&vec![0f32; n])];
            let mut rw: Vec<f64> = w0.iter().map(|&x| x as f64).collect();
            let mut r = [vec![0f64; n], vec![0f64; n]];
            let mut prod = 1.0f64;
            for t in 1..=30 {
                let tf = t as f64;
                let g = data(n, 977 * t as u64 + n as u64).iter().map(|x| x * (0.2 + 0.1 * (t % 5) as f32)).collect::<Vec<_>>();
                let mu = |k: f64| b1 * (1.0 - 0.5 * 0.96f64.powf(k * psi));
                prod *= mu(tf);
                let bc2 = 1.0 - b2.powi(t);
                let rho_inf = 2.0 / (1.0 - b2) - 1.0;
                let rho_t = rho_inf - 2.0 * tf * b2.powi(t) / bc2;
                let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).sqrt();
                let mut h = h0;
                h.kind = kind;
                h.one_minus_beta1 = (1.0 - b1) as f32;
                h.one_minus_beta2 = (1.0 - b2) as f32;
                h.bias_correction1 = (1.0 - b1.powi(t)) as f32;
                h.bias_correction2 = bc2 as f32;
                h.bias_correction2_sqrt = bc2.sqrt() as f32;
                h.step_size = (lr / (1.0 - b1.powi(t))) as f32;
                h.decay_keep = (1.0 - lr * wd) as f32;
                h.c1 = if kind == OPT_NADAM { (lr * (1.0 - mu(tf)) / (1.0 - prod)) as f32 } else { rect as f32 };
                h.c2 = (lr * mu(tf + 1.0) / (1.0 - prod * mu(tf + 1.0))) as f32;
                if kind == OPT_RADAM && rho_t > 5.0 {
                    h.flags |= OPT_RECTIFY;
                } else {
                    h.flags &= !OPT_RECTIFY;
                }
                let [s0, s1] = &mut s;
                let two = kind != OPT_LION;
                let ok = more_step(&mut w[G..G + n], &g, &mut s0[G..G + n], if two { Some(&mut s1[G..G + n]) } else { None }, &h, pen, &Io::default());
                assert!(ok);
                for b in [&w, &s[0], &s[1]] {
                    assert!(b[..G].iter().chain(b[G + n..].iter()).all(|x| x.is_nan()), "guard band written");
                }
                let [r0, r1] = &mut r;
                for i in 0..n {
                    let x = rw[i];
                    let mut d = g[i] as f64;
                    if h0.flags & OPT_MAXIMIZE != 0 {
                        d = -d;
                    }
                    if kind != OPT_LION {
                        d += wd * x;
                    }
                    d += pen[0] as f64 * if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 } + 2.0 * pen[1] as f64 * x;
                    rw[i] = match kind {
                        OPT_ADAMAX => {
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d;
                            r1[i] = (b2 * r1[i]).max(d.abs() + eps);
                            x - lr / (1.0 - b1.powi(t)) * r0[i] / r1[i]
                        }
                        OPT_NADAM => {
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d;
                            r1[i] = b2 * r1[i] + (1.0 - b2) * d * d;
                            let den = (r1[i] / bc2).sqrt() + eps;
                            let mn = mu(tf + 1.0);
                            x - lr * (1.0 - mu(tf)) / (1.0 - prod) * d / den - lr * mn / (1.0 - prod * mn) * r0[i] / den
                        }
                        OPT_RADAM => {
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d;
                            r1[i] = b2 * r1[i] + (1.0 - b2) * d * d;
                            let mh = r0[i] / (1.0 - b1.powi(t));
                            if rho_t > 5.0 {
                                x - mh * lr * bc2.sqrt() / (r1[i].sqrt() + eps) * rect
                            } else {
                                x - mh * lr
                            }
                        }
                        OPT_ADADELTA => {
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d * d;
                            let delta = (r1[i] + eps).sqrt() / (r0[i] + eps).sqrt() * d;
                            r1[i] = b1 * r1[i] + (1.0 - b1) * delta * delta;
                            x - lr * delta
                        }
                        _ => {
                            let c = b1 * r0[i] + (1.0 - b1) * d;
                            r0[i] = b2 * r0[i] + (1.0 - b2) * d;
                            x * (1.0 - lr * wd) - lr * if c > 0.0 { 1.0 } else if c < 0.0 { -1.0 } else { 0.0 }
                        }
                    };
                    let (got, want) = (w[G + i] as f64, rw[i]);
                    assert!((got - want).abs() <= 1e-5 * want.abs().max(0.1), "kind {} n={} t={} i={}: got {} want {}", kind, n, t, i, got, want);
                }
            }
        }
    }

    #[test]
    fn adamax_nadam_radam_adadelta_lion_match_f64() {
        let a = OptHyper { lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, ..OptHyper::default() };
        check_more(OPT_ADAMAX, a, 0.0, [0.0, 0.0]);
        check_more(OPT_ADAMAX, OptHyper { weight_decay: 0.05, flags: OPT_MAXIMIZE, ..a }, 0.0, [1e-3, 2e-3]);
        check_more(OPT_NADAM, a, 4e-3, [0.0, 0.0]);
        check_more(OPT_NADAM, OptHyper { weight_decay: 0.05, beta1: 0.8, ..a }, 0.1, [0.0, 1e-2]);
        // β2 = 0.9: ρ_t > 5 from step 6 on, so both branches run
        check_more(OPT_RADAM, OptHyper { beta2: 0.9, ..a }, 0.0, [0.0, 0.0]);
        check_more(OPT_RADAM, OptHyper { weight_decay: 0.05, beta2: 0.95, ..a }, 0.0, [1e-3, 0.0]);
        let d = OptHyper { lr: 1.0, beta1: 0.9, eps: 1e-6, ..OptHyper::default() };
        check_more(OPT_ADADELTA, d, 0.0, [0.0, 0.0]);
        check_more(OPT_ADADELTA, OptHyper { weight_decay: 0.05, beta1: 0.5, flags: OPT_MAXIMIZE, ..d }, 0.0, [1e-3, 1e-3]);
        let l = OptHyper { lr: 1e-3, beta1: 0.9, beta2: 0.99, ..OptHyper::default() };
        check_more(OPT_LION, l, 0.0, [0.0, 0.0]);
        check_more(OPT_LION, OptHyper { weight_decay: 0.5, ..l }, 0.0, [1e-2, 1e-2]);
    }


    /// 30 steps of the Keras kinds with f32 kernels vs Keras 3's `update_step` formulas in f64
    /// (decoupled weight decay first, α from the step count as record.ts writes it), NaN guard
    /// bands around every buffer. `init`: Adagrad's initial accumulator value.
    fn check_keras(kind: u32, h0: OptHyper, init: f64, pen: [f32; 2]) {
        let (lr, b1, b2, eps, wd, mu) = (h0.lr as f64, h0.beta1 as f64, h0.beta2 as f64, h0.eps as f64, h0.weight_decay as f64, h0.momentum as f64);
        let (nesterov, centered, ams) = (h0.flags & OPT_NESTEROV != 0, h0.flags & OPT_CENTERED != 0, h0.flags & OPT_AMSGRAD != 0);
        const G: usize = 4;
        for &n in &[1usize, 3, 5, 17, 1023] {
            let w0 = data(n, n as u64 + 11);
            let guarded = |x: &[f32]| -> Vec<f32> {
                let mut v = vec![f32::NAN; n + 2 * G];
                v[G..G + n].copy_from_slice(x);
                v
            };
            let s0 = if kind == OPT_KERAS_ADAGRAD { init } else { 0.0 };
            let mut w = guarded(&w0);
            let mut s = [guarded(&vec![s0 as f32; n]), guarded(&vec![0f32; n]), guarded(&vec![0f32; n])];
            let mut rw: Vec<f64> = w0.iter().map(|&x| x as f64).collect();
            let mut r = [vec![s0; n], vec![0f64; n], vec![0f64; n]];
            let need = needed_slots(&OptHyper { kind, ..h0 });
            for t in 1..=30 {
                let g = data(n, 613 * t as u64 + n as u64).iter().map(|x| x * (0.2 + 0.1 * (t % 5) as f32)).collect::<Vec<_>>();
                let alpha = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
                let mut h = h0;
                h.kind = kind;
                h.one_minus_beta1 = (1.0 - b1) as f32;
                h.one_minus_beta2 = (1.0 - b2) as f32;
                h.step_size = alpha as f32;
                let [a, b, c] = &mut s;
                let sl = |x: &mut Vec<f32>, k: usize| -> Option<&mut [f32]> {
                    if need[k] {
                        Some(unsafe { core::slice::from_raw_parts_mut(x.as_mut_ptr().add(G), n) })
                    } else {
                        None
                    }
                };
                let ok = keras_step(&mut w[G..G + n], &g, sl(a, 0), sl(b, 1), sl(c, 2), &h, pen, &Io::default());
                assert!(ok);
                for buf in [&w, &s[0], &s[1], &s[2]] {
                    assert!(buf[..G].iter().chain(buf[G + n..].iter()).all(|x| x.is_nan()), "guard band written");
                }
                let [r0, r1, r2] = &mut r;
                for i in 0..n {
                    let x = rw[i];
                    let d = g[i] as f64 + pen[0] as f64 * if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 } + 2.0 * pen[1] as f64 * x;
                    let x = x - x * wd * lr;
                    rw[i] = match kind {
                        OPT_KERAS_SGD => {
                            if mu != 0.0 {
                                r0[i] = mu * r0[i] - lr * d;
                                if nesterov {
                                    x + mu * r0[i] - lr * d
                                } else {
                                    x + r0[i]
                                }
                            } else {
                                x - lr * d
                            }
                        }
                        OPT_KERAS_RMSPROP => {
                            r0[i] = b1 * r0[i] + (1.0 - b1) * d * d;
                            let den = if centered {
                                r2[i] = b1 * r2[i] + (1.0 - b1) * d;
                                r0[i] - r2[i] * r2[i] + eps
                            } else {
                                r0[i] + eps
                            };
                            let inc = lr * d / den.sqrt();
                            if mu > 0.0 {
                                r1[i] = mu * r1[i] + inc;
                                x - r1[i]
                            } else {
                                x - inc
                            }
                        }
                        OPT_KERAS_ADAGRAD => {
                            r0[i] += d * d;
                            x - lr * d / (r0[i] + eps).sqrt()
                        }
                        _ => {
                            r0[i] += (d - r0[i]) * (1.0 - b1);
                            r1[i] += (d * d - r1[i]) * (1.0 - b2);
                            let v = if ams {
                                r2[i] = r2[i].max(r1[i]);
                                r2[i]
                            } else {
                                r1[i]
                            };
                            x - r0[i] * alpha / (v.sqrt() + eps)
                        }
                    };
                    let (got, want) = (w[G + i] as f64, rw[i]);
                    assert!((got - want).abs() <= 1e-5 * want.abs().max(0.1), "kind {} n={} t={} i={}: got {} want {}", kind, n, t, i, got, want);
                }
            }
        }
    }

    #[test]
    fn keras_sgd_rmsprop_adagrad_adam_match_f64() {
        let k = OptHyper { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7, ..OptHyper::default() };
        check_keras(OPT_KERAS_SGD, k, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_SGD, OptHyper { momentum: 0.9, ..k }, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_SGD, OptHyper { momentum: 0.8, flags: OPT_NESTEROV, weight_decay: 0.05, ..k }, 0.0, [1e-3, 2e-3]);
        // nesterov without momentum is plain SGD in Keras
        check_keras(OPT_KERAS_SGD, OptHyper { flags: OPT_NESTEROV, ..k }, 0.0, [0.0, 0.0]);
        let r = OptHyper { beta1: 0.9, ..k };
        check_keras(OPT_KERAS_RMSPROP, r, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_RMSPROP, OptHyper { flags: OPT_CENTERED, ..r }, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_RMSPROP, OptHyper { momentum: 0.5, weight_decay: 0.05, ..r }, 0.0, [0.0, 1e-2]);
        check_keras(OPT_KERAS_RMSPROP, OptHyper { flags: OPT_CENTERED, momentum: 0.9, ..r }, 0.0, [1e-3, 0.0]);
        // a large ε tells ε inside the root from ε outside it (at 1e-7 both agree to 1e-6)
        check_keras(OPT_KERAS_RMSPROP, OptHyper { eps: 0.05, ..r }, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_RMSPROP, OptHyper { eps: 0.05, flags: OPT_CENTERED, ..r }, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_ADAGRAD, k, 0.1, [0.0, 0.0]);
        check_keras(OPT_KERAS_ADAGRAD, OptHyper { eps: 1e-6, weight_decay: 0.05, ..k }, 0.3, [1e-3, 1e-3]);
        check_keras(OPT_KERAS_ADAGRAD, OptHyper { eps: 0.05, ..k }, 0.01, [0.0, 0.0]);
        check_keras(OPT_KERAS_ADAM, k, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_ADAM, OptHyper { flags: OPT_AMSGRAD, ..k }, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_ADAM, OptHyper { eps: 0.05, ..k }, 0.0, [0.0, 0.0]);
        check_keras(OPT_KERAS_ADAM, OptHyper { beta1: 0.8, beta2: 0.99, weight_decay: 0.05, flags: OPT_AMSGRAD, ..k }, 0.0, [1e-3, 1e-3]);
    }

    /// Keras 3's own single-step test values (keras/src/optimizers/*_test.py `test_single_step`,
    /// keras-team/keras 0a54048b / 3324ca6d / 51d7e770): lr 0.5, g = [1, 6, 7, 2], w = [1, 2, 3, 4],
    /// checked there to 1e-4.
    #[test]
    fn keras_upstream_single_steps() {
        let run = |kind: u32, h: OptHyper, init: f32| -> [f32; 4] {
            let mut w = [1.0f32, 2.0, 3.0, 4.0];
            let g = [1.0f32, 6.0, 7.0, 2.0];
            let mut s = [[init; 4], [0.0; 4], [0.0; 4]];
            let [a, b, c] = &mut s;
            let h = OptHyper { kind, lr: 0.5, ..h };
            assert!(keras_step(&mut w, &g, Some(a), Some(b), Some(c), &h, [0.0, 0.0], &Io::default()));
            w
        };
        let close = |got: [f32; 4], want: [f32; 4]| {
            for i in 0..4 {
                assert!((got[i] - want[i]).abs() <= 1e-4 + 1e-4 * want[i].abs(), "{:?} vs {:?}", got, want);
            }
        };
        let a = (0.5f64 * (1.0f64 - 0.999).sqrt() / (1.0 - 0.9)) as f32;
        close(run(OPT_KERAS_ADAM, OptHyper { beta1: 0.9, beta2: 0.999, one_minus_beta1: 0.1, one_minus_beta2: 0.001, eps: 1e-7, step_size: a, ..OptHyper::default() }, 0.0), [0.5, 1.5, 2.5, 3.5]);
        close(run(OPT_KERAS_RMSPROP, OptHyper { beta1: 0.9, one_minus_beta1: 0.1, eps: 1e-7, ..OptHyper::default() }, 0.0), [-0.5811, 0.4189, 1.4189, 2.4189]);
        close(run(OPT_KERAS_ADAGRAD, OptHyper { eps: 1e-7, ..OptHyper::default() }, 0.1), [0.5233, 1.5007, 2.5005, 3.5061]);
        close(run(OPT_KERAS_SGD, OptHyper::default(), 0.0), [0.5, -1.0, -0.5, 3.0]);
    }

    #[test]
    fn missing_state_degrades_without_panic() {
        let mut w = vec![1.0f32; 5];
        let g = vec![1.0f32; 5];
        let io = Io::default();
        sgd_step(&mut w, &g, None, &OptHyper { lr: 0.5, momentum: 0.9, ..OptHyper::default() }, [0.0, 0.0], &io);
        assert_eq!(w, vec![0.5f32; 5]);
        let mut short = vec![0f32; 2];
        adagrad_step(&mut w, &g, &mut short, &OptHyper { lr: 0.5, eps: 0.0, ..OptHyper::default() }, [0.0, 0.0], &io);
        assert_eq!(w[..2], [0.0f32, 0.0]);
        assert_eq!(w[2..], [0.5f32, 0.5, 0.5]);
    }

    /// The standalone path clips all tensors together (global norm) and updates each; a missing
    /// state slot is refused before anything is written.
    #[test]
    fn apply_clips_globally_then_updates_and_refuses_missing_slots() {
        let mut w1 = vec![1.0f32; 3];
        let mut w2 = vec![2.0f32; 4];
        let mut g1 = vec![3.0f32; 3];
        let mut g2 = vec![4.0f32; 4];
        let h = OptHyper { kind: OPT_SGD, lr: 0.5, global_clip_norm: 1.0, ..OptHyper::default() };
        let ts = [
            OptTensor { len: 3, w: w1.as_mut_ptr() as usize, g: g1.as_mut_ptr() as usize, ..OptTensor::default() },
            OptTensor { len: 4, w: w2.as_mut_ptr() as usize, g: g2.as_mut_ptr() as usize, ..OptTensor::default() },
        ];
        assert_eq!(unsafe { apply(&h, &ts) }, crate::status::STATUS_OK);
        // global norm sqrt(3·9 + 4·16) = sqrt(91), f64 like Keras, factor rounded to f32 once
        let f = (1.0f64 / 91f64.sqrt()) as f32;
        assert_eq!(w1, vec![1.0 - 0.5 * (3.0 * f); 3]);
        assert_eq!(w2, vec![2.0 - 0.5 * (4.0 * f); 4]);
        let before = w1.clone();
        let hm = OptHyper { kind: OPT_SGD, lr: 0.5, momentum: 0.9, ..OptHyper::default() };
        assert_eq!(unsafe { apply(&hm, &ts[..1]) }, crate::status::STATUS_BAD_ARGUMENT);
        assert_eq!(w1, before);
    }
}
