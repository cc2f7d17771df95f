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
