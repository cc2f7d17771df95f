//! The C ABI: every `#[no_mangle] extern "C"` export, as thin shims that turn pointers and
//! lengths into slices once and call the safe inner functions. Addresses are byte offsets into
//! the one linear memory that TypeScript owns (imported, never allocated here).
//!
//! The ABI describes itself: [`abi_version`] and [`abi_layout`] let the loader refuse a module
//! whose record layout drifted from `ts/runtime/abi.ts`.

use crate::act::{self, Act};
use crate::gemm::{self, Epilogue, MatRef};
use crate::step::{self, Layer, Plan};
use crate::{loss, optim, reduce};

/// Bumped whenever an export is added or its signature changes, or a record's layout changes
/// (6: grad_step and the vec_* BLAS-1 exports; 7: Layer `w_len`/`b_len`, Plan backup,
/// `out_bad_*` and bounds, one status enum, gemm with every activation).
pub const ABI_VERSION: u32 = 7;

// ---- Status: one enum for every export that can fail (mirrored in ts/runtime/abi.ts STATUS) ----

/// Success.
pub const STATUS_OK: u32 = 0;
/// The loss was NaN or ±Inf: no parameter or optimizer state changed; `train_step` restored the
/// batch-norm running statistics.
pub const STATUS_NON_FINITE_LOSS: u32 = 1;
/// A malformed record or argument (unknown code, missing or short buffer, lengths that disagree,
/// too few rows, a rate outside its range): nothing was written.
pub const STATUS_BAD_ARGUMENT: u32 = 2;
/// The loss was finite but the update produced a non-finite parameter, optimizer state or
/// running statistic: everything was restored bit for bit from the plan's backup.
pub const STATUS_NON_FINITE_UPDATE: u32 = 3;
/// `optimizer_update` only: the update produced a non-finite value and there is no backup; the
/// caller's buffers hold the non-finite result (the caller keeps the originals).
pub const STATUS_NON_FINITE_RESULT: u32 = 4;

/// Arguments of [`gemm`]: `C = act(op(A)·op(B) + beta·C + bias)`.
#[repr(C)]
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
    /// Workspace of `gemm_workspace_floats()` floats.
    pub ws: usize,
}

#[no_mangle]
pub extern "C" fn abi_version() -> u32 {
    ABI_VERSION
}

macro_rules! offset_of {
    ($t:ty, $f:ident) => {{
        let u = core::mem::MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! on a field of an uninit value computes an address without reading.
        #[allow(unused_unsafe)]
        let f = unsafe { core::ptr::addr_of!((*base).$f) };
        (f as usize - base as usize) as u32
    }};
}

/// Writes the record layout to `out` (at most `cap` u32s) and returns how many it wrote:
/// `[sizeof Plan, 29 Plan offsets, sizeof Layer, 32 Layer offsets, sizeof GemmArgs,
///   15 GemmArgs offsets, gemm workspace floats]`.
///
/// # Safety
/// `out` valid for `cap` u32 writes.
#[no_mangle]
pub unsafe extern "C" fn abi_layout(out: *mut u32, cap: u32) -> u32 {
    let v: [u32; 80] = [
        core::mem::size_of::<Plan>() as u32,
        offset_of!(Plan, n_layers),
        offset_of!(Plan, loss),
        offset_of!(Plan, batch_cap),
        offset_of!(Plan, mc_dropout),
        offset_of!(Plan, layers),
        offset_of!(Plan, gbuf0),
        offset_of!(Plan, gbuf1),
        offset_of!(Plan, ws),
        offset_of!(Plan, opt),
        offset_of!(Plan, lr),
        offset_of!(Plan, clip_value),
        offset_of!(Plan, clip_norm),
        offset_of!(Plan, global_clip_norm),
        offset_of!(Plan, seed),
        offset_of!(Plan, counter),
        offset_of!(Plan, weights),
        offset_of!(Plan, label_smoothing),
        offset_of!(Plan, huber_delta),
        offset_of!(Plan, out_loss),
        offset_of!(Plan, out_correct),
        offset_of!(Plan, backup),
        offset_of!(Plan, backup_len),
        offset_of!(Plan, out_bad_layer),
        offset_of!(Plan, out_bad_tensor),
        offset_of!(Plan, out_bad_slot),
        offset_of!(Plan, out_bad_index),
        offset_of!(Plan, out_bad_value),
        offset_of!(Plan, bounds),
        offset_of!(Plan, bounds_valid),
        core::mem::size_of::<Layer>() as u32,
        offset_of!(Layer, kind),
        offset_of!(Layer, act),
        offset_of!(Layer, n_in),
        offset_of!(Layer, n_out),
        offset_of!(Layer, w),
        offset_of!(Layer, b),
        offset_of!(Layer, gw),
        offset_of!(Layer, gb),
        offset_of!(Layer, y),
        offset_of!(Layer, ws1),
        offset_of!(Layer, ws2),
        offset_of!(Layer, ws3),
        offset_of!(Layer, bs1),
        offset_of!(Layer, bs2),
        offset_of!(Layer, bs3),
        offset_of!(Layer, l1),
        offset_of!(Layer, l2),
        offset_of!(Layer, bl1),
        offset_of!(Layer, bl2),
        offset_of!(Layer, alpha),
        offset_of!(Layer, dropout),
        offset_of!(Layer, mask),
        offset_of!(Layer, yd),
        offset_of!(Layer, max_norm),
        offset_of!(Layer, running_mean),
        offset_of!(Layer, running_var),
        offset_of!(Layer, save_mean),
        offset_of!(Layer, save_inv_std),
        offset_of!(Layer, bn_eps),
        offset_of!(Layer, bn_momentum),
        offset_of!(Layer, w_len),
        offset_of!(Layer, b_len),
        core::mem::size_of::<GemmArgs>() as u32,
        offset_of!(GemmArgs, m),
        offset_of!(GemmArgs, n),
        offset_of!(GemmArgs, k),
        offset_of!(GemmArgs, a),
        offset_of!(GemmArgs, rsa),
        offset_of!(GemmArgs, csa),
        offset_of!(GemmArgs, b),
        offset_of!(GemmArgs, rsb),
        offset_of!(GemmArgs, csb),
        offset_of!(GemmArgs, c),
        offset_of!(GemmArgs, rsc),
        offset_of!(GemmArgs, beta),
        offset_of!(GemmArgs, bias),
        offset_of!(GemmArgs, act),
        offset_of!(GemmArgs, ws),
        gemm::WORKSPACE_FLOATS as u32,
    ];
    let n = (cap as usize).min(v.len());
    core::ptr::copy_nonoverlapping(v.as_ptr(), out, n);
    v.len() as u32
}

/// Returns 1 when this module was built with SIMD128, else 0.
#[no_mangle]
pub extern "C" fn simd_enabled() -> u32 {
    cfg!(target_feature = "simd128") as u32
}

/// The epilogue of a GEMM export: ReLU and linear are fused into the tile stores; the other
/// activations (codes 2..=5, PyTorch default α: LeakyReLU 0.01, ELU 1) run over the stored rows.
unsafe fn gemm_epilogue(g: &GemmArgs) -> Option<(Epilogue, Act)> {
    let act = Act::from_code(g.act)?;
    let fused = if act == Act::Relu { Act::Relu } else { Act::Linear };
    Some((Epilogue { bias: if g.bias == 0 { core::ptr::null() } else { g.bias as *const f32 }, act: fused }, act))
}

/// Applies a non-fused activation to the `m` rows of `n` floats at stride `rsc` of C.
unsafe fn gemm_post(g: &GemmArgs, act: Act) {
    if act == Act::Linear || act == Act::Relu || g.n == 0 {
        return;
    }
    let c = g.c as *mut f32;
    for i in 0..g.m as usize {
        act::forward_inplace(act, core::slice::from_raw_parts_mut(c.offset(i as isize * g.rsc as isize), g.n as usize));
    }
}

/// Blocked GEMM (see [`gemm::gemm`]) with every activation code 0..=5. Returns [`STATUS_OK`], or
/// [`STATUS_BAD_ARGUMENT`] when `act` is unknown (nothing written).
///
/// # Safety
/// `args` and every pointer in it valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn gemm(args: *const GemmArgs) -> u32 {
    let g = &*args;
    let (epi, act) = match gemm_epilogue(g) {
        Some(e) => e,
        None => return STATUS_BAD_ARGUMENT,
    };
    gemm::gemm(
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
    gemm_post(g, act);
    STATUS_OK
}




/// Row-wise softmax in place.
///
/// # Safety
/// `x` valid for `rows × cols` floats.
#[no_mangle]
pub unsafe extern "C" fn softmax_rows(x: *mut f32, rows: u32, cols: u32) {
    act::softmax_rows_inplace(
        core::slice::from_raw_parts_mut(x, (rows * cols) as usize),
        rows as usize,
        cols as usize,
    );
}

/// Softmax cross-entropy over class ids; see [`loss::softmax_ce`]. `grad` may be 0 (none);
/// `correct` may be 0. Returns the summed loss (f64).
///
/// # Safety
/// Pointers valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn softmax_ce(
    logits: *const f32,
    labels: *const i32,
    rows: u32,
    cols: u32,
    grad: *mut f32,
    scale: f32,
    correct: *mut u32,
) -> f64 {
    let len = (rows * cols) as usize;
    let g = if grad.is_null() { None } else { Some(core::slice::from_raw_parts_mut(grad, len)) };
    let (l, c) = loss::softmax_ce(
        core::slice::from_raw_parts(logits, len),
        core::slice::from_raw_parts(labels, rows as usize),
        rows as usize,
        cols as usize,
        g,
        scale,
    );
    if !correct.is_null() {
        *correct = c;
    }
    l
}


/// Column sums of `[rows, cols]`.
///
/// # Safety
/// Pointers valid.
#[no_mangle]
pub unsafe extern "C" fn colsum(x: *const f32, rows: u32, cols: u32, out: *mut f32) {
    reduce::colsum(
        core::slice::from_raw_parts(x, (rows * cols) as usize),
        rows as usize,
        cols as usize,
        core::slice::from_raw_parts_mut(out, cols as usize),
    );
}

/// Number of NaN/±Inf values among `n` floats.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn count_nonfinite(x: *const f32, n: u32) -> u32 {
    reduce::count_nonfinite(core::slice::from_raw_parts(x, n as usize))
}

/// One training step; see [`step::train_step`].
///
/// # Safety
/// `plan` points to a valid [`Plan`].
#[no_mangle]
pub unsafe extern "C" fn train_step(plan: *mut Plan, x: usize, labels: usize, n: u32) -> u32 {
    step::train_step(&mut *plan, x, labels, n as usize)
}

/// Loss and accuracy counts, no update; see [`step::eval_step`].
///
/// # Safety
/// As [`train_step`].
#[no_mangle]
pub unsafe extern "C" fn eval_step(plan: *mut Plan, x: usize, labels: usize, n: u32) -> u32 {
    step::eval_step(&mut *plan, x, labels, n as usize)
}

/// Class probabilities; see [`step::predict_step`].
///
/// # Safety
/// As [`train_step`].
#[no_mangle]
pub unsafe extern "C" fn predict_step(plan: *mut Plan, x: usize, n: u32, out: usize) -> u32 {
    step::predict_step(&mut *plan, x, n as usize, out)
}

/// Arguments of [`optimizer_update`]: one fused update of one tensor. Every field is 4 bytes
/// (addresses are u32 byte offsets into linear memory), so the record is 88 bytes.
/// Step-dependent scalars are computed by the caller in f64 and rounded once.
#[repr(C)]
pub struct OptArgs {
    /// `OPT_SGD` 0, `OPT_ADAGRAD` 1, `OPT_RMSPROP` 2, `OPT_ADAM` 3, `OPT_ADAMW` 4.
    pub kind: u32,
    /// Element count of `w`, `g` and every state buffer used.
    pub n: u32,
    /// Weights, updated in place.
    pub w: u32,
    /// Gradient (read only; penalties are folded in registers, not written back).
    pub g: u32,
    /// State 1: SGD momentum buffer (needed iff momentum ≠ 0); AdaGrad sum (caller fills it with
    /// `initial_accumulator_value`); RMSProp square average; Adam/AdamW first moment.
    pub s1: u32,
    /// State 2: RMSProp momentum buffer (needed iff momentum > 0); Adam/AdamW second moment.
    pub s2: u32,
    /// State 3: RMSProp gradient average (needed iff centered); Adam/AdamW max second moment
    /// (needed iff amsgrad). 0 when unused.
    pub s3: u32,
    /// `OPT_FIRST_STEP` 1 (SGD: buffer ← gradient), `OPT_NESTEROV` 2, `OPT_CENTERED` 4,
    /// `OPT_AMSGRAD` 8, `OPT_MAXIMIZE` 16.
    pub flags: u32,
    /// Learning rate; AdaGrad: decayed `lr / (1 + (step − 1)·lr_decay)`.
    pub lr: f32,
    /// SGD / RMSProp momentum.
    pub momentum: f32,
    /// SGD dampening.
    pub dampening: f32,
    /// Adam β1; RMSProp α.
    pub beta1: f32,
    /// Adam β2.
    pub beta2: f32,
    /// Denominator epsilon (AdaGrad, RMSProp, Adam).
    pub eps: f32,
    /// PyTorch weight decay: `g += wd·w`; AdamW: `w ← w·(1 − lr·wd)` first.
    pub weight_decay: f32,
    /// L1 penalty: `g += l1·sign(w)`.
    pub l1: f32,
    /// L2 penalty `l2·Σw²` (Keras): `g += 2·l2·w`.
    pub l2: f32,
    /// Adam: `1 − β1^t`.
    pub bias_correction1: f32,
    /// Adam: `sqrt(1 − β2^t)`.
    pub bias_correction2_sqrt: f32,
    /// Adam `1 − β1`, RMSProp `1 − α`, computed in f64 by the caller (as PyTorch's Python-float
    /// `1 - beta`; `1 − 0.999` from an f32 β would be off by 2e-5 relative).
    pub one_minus_beta1: f32,
    /// Adam `1 − β2`, computed in f64 by the caller.
    pub one_minus_beta2: f32,
    /// Reserved, 0.
    pub reserved: u32,
}

pub const OPT_SGD: u32 = 0;
pub const OPT_ADAGRAD: u32 = 1;
pub const OPT_RMSPROP: u32 = 2;
pub const OPT_ADAM: u32 = 3;
pub const OPT_ADAMW: u32 = 4;
pub const OPT_FIRST_STEP: u32 = 1;
pub const OPT_NESTEROV: u32 = 2;
pub const OPT_CENTERED: u32 = 4;
pub const OPT_AMSGRAD: u32 = 8;
pub const OPT_MAXIMIZE: u32 = 16;

/// Writes `[sizeof OptArgs, 22 field offsets in declaration order]` (at most `cap` u32s) and
/// returns 23, so the loader can refuse a drifted layout.
///
/// # Safety
/// `out` valid for `cap` u32 writes.
#[no_mangle]
pub unsafe extern "C" fn opt_args_layout(out: *mut u32, cap: u32) -> u32 {
    let v: [u32; 23] = [
        core::mem::size_of::<OptArgs>() as u32,
        offset_of!(OptArgs, kind),
        offset_of!(OptArgs, n),
        offset_of!(OptArgs, w),
        offset_of!(OptArgs, g),
        offset_of!(OptArgs, s1),
        offset_of!(OptArgs, s2),
        offset_of!(OptArgs, s3),
        offset_of!(OptArgs, flags),
        offset_of!(OptArgs, lr),
        offset_of!(OptArgs, momentum),
        offset_of!(OptArgs, dampening),
        offset_of!(OptArgs, beta1),
        offset_of!(OptArgs, beta2),
        offset_of!(OptArgs, eps),
        offset_of!(OptArgs, weight_decay),
        offset_of!(OptArgs, l1),
        offset_of!(OptArgs, l2),
        offset_of!(OptArgs, bias_correction1),
        offset_of!(OptArgs, bias_correction2_sqrt),
        offset_of!(OptArgs, one_minus_beta1),
        offset_of!(OptArgs, one_minus_beta2),
        offset_of!(OptArgs, reserved),
    ];
    let n = (cap as usize).min(v.len());
    core::ptr::copy_nonoverlapping(v.as_ptr(), out, n);
    v.len() as u32
}

/// One fused optimizer update of one tensor (see [`OptArgs`] and the `optim::*_step` docs).
/// Returns [`STATUS_OK`]; [`STATUS_BAD_ARGUMENT`] for an unknown `kind` or when `w`, `g` or a state
/// buffer that the kind and flags require is address 0 (nothing is written then);
/// [`STATUS_NON_FINITE_RESULT`] when a written parameter or state value is NaN or ±Inf (the check
/// is folded into the update pass; the buffers hold that result: the caller keeps the originals).
///
/// # Safety
/// `args` points to a valid [`OptArgs`]; every nonzero address in it is valid for `n` floats
/// and the buffers do not overlap.
#[no_mangle]
pub unsafe extern "C" fn optimizer_update(args: *const OptArgs) -> u32 {
    let a = &*args;
    let n = a.n as usize;
    let mut h = crate::step::hyper(a, a.lr);
    h.l1 = a.l1;
    h.l2 = a.l2;
    // Which state buffers this kind and these flags need.
    if a.kind > OPT_ADAMW {
        return STATUS_BAD_ARGUMENT;
    }
    let need = step::needed_slots(a.kind, &h);
    let addrs = [a.s1, a.s2, a.s3];
    if a.w == 0 || a.g == 0 || (0..3).any(|i| need[i] && addrs[i] == 0) {
        return STATUS_BAD_ARGUMENT;
    }
    let w = core::slice::from_raw_parts_mut(a.w as usize as *mut f32, n);
    let g = core::slice::from_raw_parts(a.g as usize as *const f32, n);
    let st = |i: usize| -> Option<&mut [f32]> {
        if need[i] {
            let p = addrs[i] as usize as *mut f32;
            Some(core::slice::from_raw_parts_mut(p, n))
        } else {
            None
        }
    };
    let finite = match a.kind {
        OPT_SGD => optim::sgd_step(w, g, st(0), &h),
        OPT_ADAGRAD => optim::adagrad_step(w, g, st(0).unwrap_or(&mut []), &h),
        OPT_RMSPROP => optim::rmsprop_step(w, g, st(0).unwrap_or(&mut []), st(1), st(2), &h),
        _ => optim::adam_step(
            w,
            g,
            st(0).unwrap_or(&mut []),
            st(1).unwrap_or(&mut []),
            st(2),
            &h,
            a.kind == OPT_ADAMW,
        ),
    };
    if finite {
        STATUS_OK
    } else {
        STATUS_NON_FINITE_RESULT
    }
}

// ---- Activations, losses, dropout, batch norm, constraints, reductions (issue 3) ----
// Nullable pointers below (per-sample weights, gamma/beta, outputs) use address 0 for "none".

unsafe fn opt_slice<'a>(p: *const f32, n: usize) -> Option<&'a [f32]> {
    if p.is_null() {
        None
    } else {
        Some(core::slice::from_raw_parts(p, n))
    }
}

unsafe fn opt_slice_mut<'a>(p: *mut f32, n: usize) -> Option<&'a mut [f32]> {
    if p.is_null() {
        None
    } else {
        Some(core::slice::from_raw_parts_mut(p, n))
    }
}

/// In-place activation forward over `n` floats with parameter `alpha` (LeakyReLU slope, ELU
/// alpha); codes 0 linear, 1 ReLU, 2 LeakyReLU, 3 ELU, 4 sigmoid, 5 tanh (see
/// [`act::forward2`]). Returns 0, or 2 for an unknown code.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn act_forward2(act: u32, x: *mut f32, n: u32, alpha: f32) -> u32 {
    match Act::from_code(act) {
        Some(a) => {
            act::forward2(a, core::slice::from_raw_parts_mut(x, n as usize), alpha);
            0
        }
        None => 2,
    }
}

/// In-place activation backward through the output: `dy *= f'(x)` written in `y`
/// (see [`act::backward2`]). Returns 0, or 2 for an unknown code.
///
/// # Safety
/// `y`, `dy` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn act_backward2(act: u32, y: *const f32, dy: *mut f32, n: u32, alpha: f32) -> u32 {
    match Act::from_code(act) {
        Some(a) => {
            act::backward2(
                a,
                core::slice::from_raw_parts(y, n as usize),
                core::slice::from_raw_parts_mut(dy, n as usize),
                alpha,
            );
            0
        }
        None => 2,
    }
}

/// Row-wise softmax backward in place: `dy ← y ⊙ (dy − Σ_row dy⊙y)` (see
/// [`act::softmax_backward_rows`]).
///
/// # Safety
/// `y`, `dy` valid for `rows × cols` floats.
#[no_mangle]
pub unsafe extern "C" fn softmax_backward(y: *const f32, dy: *mut f32, rows: u32, cols: u32) {
    let len = rows as usize * cols as usize;
    act::softmax_backward_rows(
        core::slice::from_raw_parts(y, len),
        core::slice::from_raw_parts_mut(dy, len),
        rows as usize,
        cols as usize,
    );
}

/// Softmax cross-entropy with label smoothing `eps` and optional per-sample `weights` (0 = all
/// ones); see [`loss::softmax_ce_smooth`]. `grad` and `correct` may be 0. Returns
/// `Σ_r w_r·loss_r` (f64; NaN if a label is out of range).
///
/// # Safety
/// Pointers valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn softmax_ce_smooth(
    logits: *const f32,
    labels: *const i32,
    rows: u32,
    cols: u32,
    weights: *const f32,
    eps: f32,
    grad: *mut f32,
    scale: f32,
    correct: *mut u32,
) -> f64 {
    let (r, c) = (rows as usize, cols as usize);
    let (l, k) = loss::softmax_ce_smooth(
        core::slice::from_raw_parts(logits, r * c),
        core::slice::from_raw_parts(labels, r),
        r,
        c,
        opt_slice(weights, r),
        eps,
        opt_slice_mut(grad, r * c),
        scale,
    );
    if !correct.is_null() {
        *correct = k;
    }
    l
}

/// Binary cross-entropy on logits over `[rows, cols]` (see [`loss::bce_logits`]): returns
/// `Σ_r w_r·mean_j l_rj` (f64), writes `grad = scale·w_r/cols·(σ(z) − t)` when `grad ≠ 0`.
///
/// # Safety
/// Pointers valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn bce_logits(
    z: *const f32,
    t: *const f32,
    rows: u32,
    cols: u32,
    weights: *const f32,
    grad: *mut f32,
    scale: f32,
) -> f64 {
    let (r, c) = (rows as usize, cols as usize);
    loss::bce_logits(
        core::slice::from_raw_parts(z, r * c),
        core::slice::from_raw_parts(t, r * c),
        r,
        c,
        opt_slice(weights, r),
        opt_slice_mut(grad, r * c),
        scale,
    )
}

/// Regression loss over `[rows, cols]` (see [`loss::regression`]): `kind` 0 MSE, 1 MAE (L1),
/// 2 Huber with `delta`. Returns `Σ_r w_r·mean_j l_rj` (f64; NaN for an unknown kind, nothing
/// written), writes `grad = scale·w_r/cols·∂l/∂pred` when `grad ≠ 0`.
///
/// # Safety
/// Pointers valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn regression_loss(
    kind: u32,
    pred: *const f32,
    target: *const f32,
    rows: u32,
    cols: u32,
    weights: *const f32,
    delta: f32,
    grad: *mut f32,
    scale: f32,
) -> f64 {
    let k = match kind {
        0 => loss::Regression::Mse,
        1 => loss::Regression::Mae,
        2 => loss::Regression::Huber(delta),
        _ => return f64::NAN,
    };
    let (r, c) = (rows as usize, cols as usize);
    loss::regression(
        k,
        core::slice::from_raw_parts(pred, r * c),
        core::slice::from_raw_parts(target, r * c),
        r,
        c,
        opt_slice(weights, r),
        opt_slice_mut(grad, r * c),
        scale,
    )
}

/// Inverted dropout forward in place: `mask[i] ∈ {0, 1/(1−rate)}` from Philox-4x32-10 of
/// `(seed, stream, counter, i)`, `x *= mask` (see [`crate::dropout`]). Returns 0, or 3 when `rate`
/// is NaN or outside [0, 1] (nothing written).
///
/// # Safety
/// `x`, `mask` valid for `n` floats, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn dropout_forward(
    x: *mut f32,
    mask: *mut f32,
    n: u32,
    rate: f32,
    seed: u32,
    stream: u32,
    counter: u32,
) -> u32 {
    crate::dropout::forward(
        core::slice::from_raw_parts_mut(x, n as usize),
        core::slice::from_raw_parts_mut(mask, n as usize),
        rate,
        seed,
        stream,
        counter,
    )
}

/// Dropout backward in place: `dy *= mask` (the mask [`dropout_forward`] wrote).
///
/// # Safety
/// `dy`, `mask` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn dropout_backward(dy: *mut f32, mask: *const f32, n: u32) {
    crate::dropout::backward(
        core::slice::from_raw_parts_mut(dy, n as usize),
        core::slice::from_raw_parts(mask, n as usize),
    );
}

/// Batch-norm training forward over `[rows, features]` (see [`crate::norm::train_forward`]);
/// `gamma`/`beta` may be 0 (1/0). Updates `running_mean`/`running_var` (PyTorch momentum
/// convention, unbiased variance), writes `y`, `save_mean`, `save_inv_std`. Returns 0, or 3 when
/// `rows < 2` (nothing written).
///
/// # Safety
/// Pointers valid for the described shapes; `y` does not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn batchnorm_train(
    x: *const f32,
    rows: u32,
    features: u32,
    gamma: *const f32,
    beta: *const f32,
    eps: f32,
    momentum: f32,
    running_mean: *mut f32,
    running_var: *mut f32,
    y: *mut f32,
    save_mean: *mut f32,
    save_inv_std: *mut f32,
) -> u32 {
    let (r, f) = (rows as usize, features as usize);
    crate::norm::train_forward(
        core::slice::from_raw_parts(x, r * f),
        r,
        f,
        opt_slice(gamma, f),
        opt_slice(beta, f),
        eps,
        momentum,
        core::slice::from_raw_parts_mut(running_mean, f),
        core::slice::from_raw_parts_mut(running_var, f),
        core::slice::from_raw_parts_mut(y, r * f),
        core::slice::from_raw_parts_mut(save_mean, f),
        core::slice::from_raw_parts_mut(save_inv_std, f),
    )
}

/// Batch-norm inference forward with running statistics (see [`crate::norm::infer_forward`]).
///
/// # Safety
/// Pointers valid for the described shapes; `y` may equal `x`.
#[no_mangle]
pub unsafe extern "C" fn batchnorm_infer(
    x: *const f32,
    rows: u32,
    features: u32,
    gamma: *const f32,
    beta: *const f32,
    eps: f32,
    running_mean: *const f32,
    running_var: *const f32,
    y: *mut f32,
) {
    let (r, f) = (rows as usize, features as usize);
    // Element i is read before it is written, so x == y is fine; go through raw pointers.
    for j in 0..f {
        let inv_std = 1.0 / crate::math::sqrtf(*running_var.add(j) + eps);
        let g = if gamma.is_null() { 1.0 } else { *gamma.add(j) };
        let b = if beta.is_null() { 0.0 } else { *beta.add(j) };
        let (m, gi) = (*running_mean.add(j), g * inv_std);
        for i in 0..r {
            let k = i * f + j;
            *y.add(k) = (*x.add(k) - m) * gi + b;
        }
    }
}

/// Batch-norm backward (see [`crate::norm::backward`]): writes `dx`, and `dgamma`/`dbeta` when
/// nonzero; `gamma` may be 0 (1).
///
/// # Safety
/// Pointers valid for the described shapes; `dx` does not overlap `dy` or `x`.
#[no_mangle]
pub unsafe extern "C" fn batchnorm_backward(
    x: *const f32,
    dy: *const f32,
    rows: u32,
    features: u32,
    gamma: *const f32,
    save_mean: *const f32,
    save_inv_std: *const f32,
    dx: *mut f32,
    dgamma: *mut f32,
    dbeta: *mut f32,
) {
    let (r, f) = (rows as usize, features as usize);
    crate::norm::backward(
        core::slice::from_raw_parts(x, r * f),
        core::slice::from_raw_parts(dy, r * f),
        r,
        f,
        opt_slice(gamma, f),
        core::slice::from_raw_parts(save_mean, f),
        core::slice::from_raw_parts(save_inv_std, f),
        core::slice::from_raw_parts_mut(dx, r * f),
        opt_slice_mut(dgamma, f),
        opt_slice_mut(dbeta, f),
    );
}

/// Max-norm constraint on `W` `[n_in, n_out]` (columns = units), see
/// [`crate::constraints::max_norm`]. Returns the number of columns rescaled.
///
/// # Safety
/// `w` valid for `n_in × n_out` floats.
#[no_mangle]
pub unsafe extern "C" fn max_norm(w: *mut f32, n_in: u32, n_out: u32, r: f32) -> u32 {
    let (a, b) = (n_in as usize, n_out as usize);
    crate::constraints::max_norm(core::slice::from_raw_parts_mut(w, a * b), a, b, r)
}

/// `Σ x²` over `n` floats, accumulated in f64 (see [`reduce::sum_squares`]).
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn sum_squares(x: *const f32, n: u32) -> f64 {
    reduce::sum_squares(core::slice::from_raw_parts(x, n as usize))
}

/// `x *= s` over `n` floats.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn scale_inplace(x: *mut f32, n: u32, s: f32) {
    reduce::scale_inplace(core::slice::from_raw_parts_mut(x, n as usize), s);
}

/// `x ← clamp(x, lo, hi)` over `n` floats (NaN stays NaN).
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn clip_by_value(x: *mut f32, n: u32, lo: f32, hi: f32) {
    reduce::clip_inplace(core::slice::from_raw_parts_mut(x, n as usize), lo, hi);
}

/// Row-wise argmax of `[rows, cols]` into `out` (i32; ties → lowest index, NaN never wins).
///
/// # Safety
/// `x` valid for `rows × cols` floats, `out` for `rows` i32.
#[no_mangle]
pub unsafe extern "C" fn argmax_rows(x: *const f32, rows: u32, cols: u32, out: *mut i32) {
    let (r, c) = (rows as usize, cols as usize);
    reduce::argmax_rows(core::slice::from_raw_parts(x, r * c), r, c, core::slice::from_raw_parts_mut(out, r));
}

/// Number of rows of `[rows, cols]` whose argmax equals `labels[row]`.
///
/// # Safety
/// `x` valid for `rows × cols` floats, `labels` for `rows` i32.
#[no_mangle]
pub unsafe extern "C" fn count_correct(x: *const f32, labels: *const i32, rows: u32, cols: u32) -> u32 {
    let (r, c) = (rows as usize, cols as usize);
    reduce::count_correct(core::slice::from_raw_parts(x, r * c), core::slice::from_raw_parts(labels, r), r, c)
}

// ---- full-batch optimizers: loss + gradient without an update, and BLAS-1 vector ops ----

/// Forward, loss and backward on `n` rows, leaving the data-loss gradient in the plan's
/// gradient buffers with no clipping, penalties or update (see [`step::grad_step`]).
///
/// # Safety
/// As [`train_step`].
#[no_mangle]
pub unsafe extern "C" fn grad_step(plan: *mut Plan, x: usize, labels: usize, n: u32) -> u32 {
    step::grad_step(&mut *plan, x, labels, n as usize)
}

/// `Σ x_i·y_i` over `n` floats, accumulated in f64 (see [`crate::vec::dot`]).
///
/// # Safety
/// `x`, `y` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn vec_dot(x: *const f32, y: *const f32, n: u32) -> f64 {
    let n = n as usize;
    crate::vec::dot(core::slice::from_raw_parts(x, n), core::slice::from_raw_parts(y, n))
}

/// `‖x‖₂` over `n` floats, accumulated in f64.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn vec_nrm2(x: *const f32, n: u32) -> f64 {
    crate::vec::nrm2(core::slice::from_raw_parts(x, n as usize))
}

/// `Σ |x_i|` over `n` floats, accumulated in f64.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn vec_asum(x: *const f32, n: u32) -> f64 {
    crate::vec::asum(core::slice::from_raw_parts(x, n as usize))
}

/// `max |x_i|` over `n` floats (NaN if any is NaN; 0 when n = 0).
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn vec_amax(x: *const f32, n: u32) -> f32 {
    crate::vec::amax(core::slice::from_raw_parts(x, n as usize))
}

/// `y ← a·x + y` over `n` floats.
///
/// # Safety
/// `x`, `y` valid for `n` floats; they may be equal but must not otherwise overlap.
#[no_mangle]
pub unsafe extern "C" fn vec_axpy(a: f32, x: *const f32, y: *mut f32, n: u32) {
    let n = n as usize;
    if x == y as *const f32 {
        // y ← a·y + y, same arithmetic without aliasing slices
        crate::vec::scal(a + 1.0, core::slice::from_raw_parts_mut(y, n));
        return;
    }
    crate::vec::axpy(a, core::slice::from_raw_parts(x, n), core::slice::from_raw_parts_mut(y, n));
}

/// `x ← a·x` over `n` floats.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn vec_scal(a: f32, x: *mut f32, n: u32) {
    crate::vec::scal(a, core::slice::from_raw_parts_mut(x, n as usize));
}

/// `y ← x` over `n` floats (overlapping ranges allowed: memmove).
///
/// # Safety
/// `x`, `y` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn vec_copy(x: *const f32, y: *mut f32, n: u32) {
    core::ptr::copy(x, y, n as usize);
}

/// `out ← a·x + b·y` over `n` floats. `out` may equal `x` or `y` (in place) but must not
/// otherwise overlap them.
///
/// # Safety
/// `x`, `y`, `out` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn vec_lincomb(a: f32, x: *const f32, b: f32, y: *const f32, out: *mut f32, n: u32) {
    // element-wise, so `out` may be `x` or `y` (no overlapping slices are formed)
    crate::vec::lincomb_raw(a, x, b, y, out, n as usize);
}

/// `y ← a·sign(x) + y` over `n` floats (sign(0) = 0): the gradient of an L1 penalty `a·Σ|x|`.
///
/// # Safety
/// `x`, `y` valid for `n` floats, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn vec_add_sign(a: f32, x: *const f32, y: *mut f32, n: u32) {
    let n = n as usize;
    crate::vec::add_sign(a, core::slice::from_raw_parts(x, n), core::slice::from_raw_parts_mut(y, n));
}
