//! The C ABI: every `#[no_mangle] extern "C"` export, as thin shims that turn pointers and
//! lengths into slices once and call the kernels. Addresses are byte offsets into the one linear
//! memory that TypeScript owns (imported, never allocated here). Records live beside their
//! kernels (`plan.rs`, `gemm.rs`, `optim.rs`); statuses in `status.rs`.
//!
//! The ABI describes itself: [`abi_version`] and [`abi_layout`] let the loader refuse a module
//! whose record layout drifted from `ts/runtime/abi.ts`. The exports the library calls are
//! listed in `ts/runtime/abi.ts` `KERNEL_FUNCTIONS`; the exports only the kernel tests call are in
//! `harness.rs`, built only with the `harness` feature.

use crate::act::{self, Act};
use crate::conv::ConvGeom;
use crate::gemm::{self, GemmArgs};
use crate::optim::{self, OptHyper, OptTensor};
use crate::plan::{Layer, Plan};
use crate::status::{STATUS_BAD_ARGUMENT, STATUS_OK};
use crate::{loss, reduce, step};

/// Bumped whenever an export is added or its signature changes, or a record's layout changes
/// (6: grad_step and the vec_* BLAS-1 exports; 7: Layer `w_len`/`b_len`, Plan backup,
/// `out_bad_*` and bounds, one status enum, gemm with every activation; 8: one optimizer record
/// `OptHyper` (learning rate and clipping move there from the plan, `step_size`/`decay_keep`)
/// and `OptTensor`, `optimizer_apply` over a tensor list replaces `optimizer_update`, one
/// `softmax_ce`, `act_forward`/`act_backward` with α, `Layer::param` and `Layer::frozen`, layer
/// kinds by table; 9: `Layer::geom`/`aux`/`aux_len` and the `ConvGeom` record of the convolution
/// and pooling kinds; the split step `train_forward` / `train_backward` and `LOSS_CUSTOM` for
/// losses computed in JavaScript; 10: optimizer kinds 5..9 (Adamax, NAdam, RAdam, Adadelta, Lion),
/// `OptHyper::bias_correction2`/`c1`/`c2` and `OPT_RECTIFY`; 11: optimizer kinds 10..13 (Keras's
/// SGD, RMSprop, Adagrad, Adam) and `Layer::max_norm_eps`; 13: `STATUS_NEEDS_BACKUP`, a plan's
/// backup may hold only the running statistics).
pub const ABI_VERSION: u32 = 14;

#[no_mangle]
pub extern "C" fn abi_version() -> u32 {
    ABI_VERSION
}

/// Writes the record layouts to `out` (at most `cap` u32s) and returns how many there are: for
/// each of `Plan`, `Layer`, `GemmArgs`, `OptHyper`, `OptTensor`, `ConvGeom` its size then its field offsets
/// in declaration order (each record's `FIELDS`), then the GEMM workspace in floats, then the
/// threaded build's shared packing area in floats (`par::SHARED_PACK_FLOATS`).
///
/// # Safety
/// `out` valid for `cap` u32 writes.
#[no_mangle]
pub unsafe extern "C" fn abi_layout(out: *mut u32, cap: u32) -> u32 {
    let mut v = [0u32; 160];
    let mut at = Plan::layout(&mut v, 0);
    at = Layer::layout(&mut v, at);
    at = GemmArgs::layout(&mut v, at);
    at = OptHyper::layout(&mut v, at);
    at = OptTensor::layout(&mut v, at);
    at = ConvGeom::layout(&mut v, at);
    if let Some(x) = v.get_mut(at) {
        *x = gemm::WORKSPACE_FLOATS as u32;
    }
    at += 1;
    if let Some(x) = v.get_mut(at) {
        *x = crate::par::SHARED_PACK_FLOATS as u32;
    }
    at += 1;
    let n = (cap as usize).min(at).min(v.len());
    core::ptr::copy_nonoverlapping(v.as_ptr(), out, n);
    at as u32
}

/// Returns 1 when this module was built with SIMD128, else 0.
#[no_mangle]
pub extern "C" fn simd_enabled() -> u32 {
    cfg!(target_feature = "simd128") as u32
}

/// Blocked GEMM with every activation code 0..=5; see [`gemm::run`].
///
/// # Safety
/// `args` and every pointer in it valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn gemm(args: *const GemmArgs) -> u32 {
    gemm::run(&*args)
}

/// Row-wise softmax in place.
///
/// # Safety
/// `x` valid for `rows × cols` floats.
#[no_mangle]
pub unsafe extern "C" fn softmax_rows(x: *mut f32, rows: u32, cols: u32) {
    act::softmax_rows_inplace(core::slice::from_raw_parts_mut(x, (rows * cols) as usize), rows as usize, cols as usize);
}

/// Softmax cross-entropy over class ids with optional per-sample `weights` (0 = all ones) and
/// label smoothing `eps` (see [`loss::softmax_ce_any`]). `grad` and `correct` may be 0. Returns
/// `Σ_r w_r·loss_r` (f64; NaN if a label is out of range).
///
/// # Safety
/// Pointers valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn softmax_ce(
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
    let (l, k) = loss::softmax_ce_any(
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

/// The split step's first half (losses computed in JavaScript); see [`step::train_forward`].
///
/// # Safety
/// As [`train_step`].
#[no_mangle]
pub unsafe extern "C" fn train_forward(plan: *mut Plan, x: usize, n: u32) -> u32 {
    step::train_forward(&mut *plan, x, n as usize)
}

/// The split step's second half, after `dL/dout` was written to the plan's `gbuf0`; see
/// [`step::train_backward`].
///
/// # Safety
/// As [`train_step`]; [`train_forward`] ran last on this plan with the same `x` and `n`.
#[no_mangle]
pub unsafe extern "C" fn train_backward(plan: *mut Plan, x: usize, n: u32) -> u32 {
    step::train_backward(&mut *plan, x, n as usize)
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

/// Forward, loss and gradients without an update; see [`step::grad_step`].
///
/// # Safety
/// As [`train_step`].
#[no_mangle]
pub unsafe extern "C" fn grad_step(plan: *mut Plan, x: usize, labels: usize, n: u32) -> u32 {
    step::grad_step(&mut *plan, x, labels, n as usize)
}

/// The standalone optimizer step over `n` tensor records; see [`optim::apply`].
///
/// # Safety
/// `hyper` valid; `tensors` valid for `n` records whose nonzero addresses are valid for `len`
/// floats each and do not overlap.
#[no_mangle]
pub unsafe extern "C" fn optimizer_apply(hyper: *const OptHyper, tensors: *const OptTensor, n: u32) -> u32 {
    if hyper.is_null() || (tensors.is_null() && n != 0) {
        return STATUS_BAD_ARGUMENT;
    }
    let ts = if n == 0 { &[][..] } else { core::slice::from_raw_parts(tensors, n as usize) };
    optim::apply(&*hyper, ts)
}

// ---- Activations, losses, dropout, batch norm, constraints, reductions (issue 3) ----
// Nullable pointers below (per-sample weights, gamma/beta, outputs) use address 0 for "none".

pub(crate) unsafe fn opt_slice<'a>(p: *const f32, n: usize) -> Option<&'a [f32]> {
    if p.is_null() {
        None
    } else {
        Some(core::slice::from_raw_parts(p, n))
    }
}

pub(crate) unsafe fn opt_slice_mut<'a>(p: *mut f32, n: usize) -> Option<&'a mut [f32]> {
    if p.is_null() {
        None
    } else {
        Some(core::slice::from_raw_parts_mut(p, n))
    }
}

/// In-place activation forward over `n` floats with parameter `alpha` (LeakyReLU slope, ELU
/// alpha); codes 0 linear, 1 ReLU, 2 LeakyReLU, 3 ELU, 4 sigmoid, 5 tanh (see
/// [`act::forward`]). Returns 0, or 2 for an unknown code.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn act_forward(act: u32, x: *mut f32, n: u32, alpha: f32) -> u32 {
    match Act::from_code(act) {
        Some(a) => {
            act::forward(a, core::slice::from_raw_parts_mut(x, n as usize), alpha);
            STATUS_OK
        }
        None => STATUS_BAD_ARGUMENT,
    }
}

/// In-place activation backward through the output: `dy *= f'(x)` written in `y`
/// (see [`act::backward`]). Returns 0, or 2 for an unknown code.
///
/// # Safety
/// `y`, `dy` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn act_backward(act: u32, y: *const f32, dy: *mut f32, n: u32, alpha: f32) -> u32 {
    match Act::from_code(act) {
        Some(a) => {
            act::backward(
                a,
                core::slice::from_raw_parts(y, n as usize),
                core::slice::from_raw_parts_mut(dy, n as usize),
                alpha,
            );
            STATUS_OK
        }
        None => STATUS_BAD_ARGUMENT,
    }
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

// ---- full-batch optimizers: loss + gradient without an update, and BLAS-1 vector ops ----

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

/// Runs part `part` of the parallel region at `job` on this thread's instance (thread `thread`) (the `threads` build:
/// the host's workers call it; see `par.rs`).
///
/// # Safety
/// `job` is the address `env.wasmfit_parallel` received, and that region is still running.
#[cfg(feature = "threads")]
#[no_mangle]
pub unsafe extern "C" fn par_run(job: usize, part: u32, thread: u32) {
    crate::par::run_part(job, part as usize, thread as usize);
}
