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

/// Bumped whenever an export's signature or a record's layout changes.
pub const ABI_VERSION: u32 = 1;

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
/// `[sizeof Plan, 11 Plan offsets, sizeof Layer, 9 Layer offsets, sizeof GemmArgs,
///   15 GemmArgs offsets, gemm workspace floats]`.
///
/// # Safety
/// `out` valid for `cap` u32 writes.
#[no_mangle]
pub unsafe extern "C" fn abi_layout(out: *mut u32, cap: u32) -> u32 {
    let v: [u32; 39] = [
        core::mem::size_of::<Plan>() as u32,
        offset_of!(Plan, n_layers),
        offset_of!(Plan, loss),
        offset_of!(Plan, optimizer),
        offset_of!(Plan, batch_cap),
        offset_of!(Plan, layers),
        offset_of!(Plan, gbuf0),
        offset_of!(Plan, gbuf1),
        offset_of!(Plan, ws),
        offset_of!(Plan, lr),
        offset_of!(Plan, out_loss),
        offset_of!(Plan, out_correct),
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

/// Blocked GEMM (see [`gemm::gemm`]). Returns 0, or 2 when `act` is unknown.
///
/// # Safety
/// `args` and every pointer in it valid for the described shapes.
#[no_mangle]
pub unsafe extern "C" fn gemm(args: *const GemmArgs) -> u32 {
    let g = &*args;
    let act = match Act::from_u32(g.act) {
        Some(a) => a,
        None => return 2,
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
        Epilogue { bias: if g.bias == 0 { core::ptr::null() } else { g.bias as *const f32 }, act },
        g.ws as *mut f32,
    );
    0
}

/// Naive reference GEMM with the same arguments (for tests and benchmarks).
///
/// # Safety
/// As [`gemm`].
#[no_mangle]
pub unsafe extern "C" fn gemm_ref(args: *const GemmArgs) -> u32 {
    let g = &*args;
    let act = match Act::from_u32(g.act) {
        Some(a) => a,
        None => return 2,
    };
    gemm::gemm_ref(
        g.m as usize,
        g.n as usize,
        g.k as usize,
        MatRef { ptr: g.a as *const f32, rs: g.rsa as isize, cs: g.csa as isize },
        MatRef { ptr: g.b as *const f32, rs: g.rsb as isize, cs: g.csb as isize },
        g.beta,
        g.c as *mut f32,
        g.rsc as isize,
        Epilogue { bias: if g.bias == 0 { core::ptr::null() } else { g.bias as *const f32 }, act },
    );
    0
}

/// In-place activation forward over `n` floats. Returns 2 for an unknown activation.
///
/// # Safety
/// `x` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn act_forward(act: u32, x: *mut f32, n: u32) -> u32 {
    match Act::from_u32(act) {
        Some(a) => {
            act::forward_inplace(a, core::slice::from_raw_parts_mut(x, n as usize));
            0
        }
        None => 2,
    }
}

/// In-place activation backward: `dy *= act'` expressed through the output `y`.
///
/// # Safety
/// `y`, `dy` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn act_backward(act: u32, y: *const f32, dy: *mut f32, n: u32) -> u32 {
    match Act::from_u32(act) {
        Some(a) => {
            act::backward_inplace(
                a,
                core::slice::from_raw_parts(y, n as usize),
                core::slice::from_raw_parts_mut(dy, n as usize),
            );
            0
        }
        None => 2,
    }
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

/// SGD update `w -= lr·g` over `n` floats.
///
/// # Safety
/// `w`, `g` valid for `n` floats.
#[no_mangle]
pub unsafe extern "C" fn sgd_update(w: *mut f32, g: *const f32, n: u32, lr: f32) {
    optim::sgd(
        core::slice::from_raw_parts_mut(w, n as usize),
        core::slice::from_raw_parts(g, n as usize),
        lr,
    );
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
/// Returns 0 on success, 2 for an unknown `kind`, 3 when `w`, `g` or a state buffer that the
/// kind and flags require is address 0 (nothing is written then).
///
/// # Safety
/// `args` points to a valid [`OptArgs`]; every nonzero address in it is valid for `n` floats
/// and the buffers do not overlap.
#[no_mangle]
pub unsafe extern "C" fn optimizer_update(args: *const OptArgs) -> u32 {
    let a = &*args;
    let n = a.n as usize;
    let h = optim::Hyper {
        lr: a.lr,
        momentum: a.momentum,
        dampening: a.dampening,
        beta1: a.beta1,
        beta2: a.beta2,
        eps: a.eps,
        weight_decay: a.weight_decay,
        l1: a.l1,
        l2: a.l2,
        bias_correction1: a.bias_correction1,
        bias_correction2_sqrt: a.bias_correction2_sqrt,
        one_minus_beta1: a.one_minus_beta1,
        one_minus_beta2: a.one_minus_beta2,
        first_step: a.flags & OPT_FIRST_STEP != 0,
        nesterov: a.flags & OPT_NESTEROV != 0,
        centered: a.flags & OPT_CENTERED != 0,
        amsgrad: a.flags & OPT_AMSGRAD != 0,
        maximize: a.flags & OPT_MAXIMIZE != 0,
    };
    // Which state buffers this kind and these flags need.
    let need = match a.kind {
        OPT_SGD => [h.momentum != 0.0, false, false],
        OPT_ADAGRAD => [true, false, false],
        OPT_RMSPROP => [true, h.momentum > 0.0, h.centered],
        OPT_ADAM | OPT_ADAMW => [true, true, h.amsgrad],
        _ => return 2,
    };
    let addrs = [a.s1, a.s2, a.s3];
    if a.w == 0 || a.g == 0 || (0..3).any(|i| need[i] && addrs[i] == 0) {
        return 3;
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
    match a.kind {
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
    }
    0
}
