//! Exports only the kernel tests call (tests/kernels), to check single kernels against float64
//! references and finite differences. Built only with the `harness` feature (the test modules
//! `build/wasmfit-*-harness.wasm`, see scripts/build-wasm.mjs); the shipped modules do not carry
//! them. Shims as in `abi.rs`.

use crate::abi::{opt_slice, opt_slice_mut};
use crate::{act, reduce};

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
pub unsafe extern "C" fn max_norm(w: *mut f32, n_in: u32, n_out: u32, r: f32, eps: f32) -> u32 {
    let (a, b) = (n_in as usize, n_out as usize);
    crate::constraints::max_norm(core::slice::from_raw_parts_mut(w, a * b), a, b, r, eps)
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

/// Convolution forward (see [`crate::conv::forward`]); `act` 0 linear or 1 ReLU.
///
/// # Safety
/// As [`crate::conv::forward`], `geom` a valid [`crate::conv::ConvGeom`] record.
#[no_mangle]
pub unsafe extern "C" fn conv2d_forward(
    geom: *const crate::conv::ConvGeom,
    x: *const f32,
    n: u32,
    w: *const f32,
    bias: *const f32,
    act: u32,
    y: *mut f32,
    scratch: *mut f32,
    scratch_len: u32,
    ws: *mut f32,
) -> u32 {
    let a = match act::Act::fused_from_code(act) {
        Some(a) => a,
        None => return crate::status::STATUS_BAD_ARGUMENT,
    };
    crate::conv::forward(&*geom, x, n as usize, w, bias, a, y, scratch, scratch_len as usize, ws)
}

/// Convolution backward (see [`crate::conv::backward`]); `dx`, `dw`, `db` may be 0.
///
/// # Safety
/// As [`crate::conv::backward`].
#[no_mangle]
pub unsafe extern "C" fn conv2d_backward(
    geom: *const crate::conv::ConvGeom,
    x: *const f32,
    n: u32,
    dy: *const f32,
    w: *const f32,
    dx: *mut f32,
    dw: *mut f32,
    db: *mut f32,
    scratch: *mut f32,
    scratch_len: u32,
    ws: *mut f32,
) -> u32 {
    crate::conv::backward(&*geom, x, n as usize, dy, w, dx, dw, db, scratch, scratch_len as usize, ws)
}

/// Depthwise convolution forward (see [`crate::depthwise::forward`]); `act` any activation code
/// (0 linear … 6 SELU) with `alpha`.
///
/// # Safety
/// As [`crate::depthwise::forward`], `geom` a valid [`crate::conv::ConvGeom`] record.
#[no_mangle]
pub unsafe extern "C" fn depthwise_forward(geom: *const crate::conv::ConvGeom, x: *const f32, n: u32, w: *const f32, bias: *const f32, act: u32, alpha: f32, y: *mut f32) -> u32 {
    match act::Act::from_code(act) {
        Some(a) => crate::depthwise::forward(&*geom, x, n as usize, w, bias, a, alpha, y),
        None => crate::status::STATUS_BAD_ARGUMENT,
    }
}

/// Depthwise convolution backward (see [`crate::depthwise::backward`]); `dx`, `dw`, `db` may be 0.
///
/// # Safety
/// As [`crate::depthwise::backward`].
#[no_mangle]
pub unsafe extern "C" fn depthwise_backward(geom: *const crate::conv::ConvGeom, x: *const f32, n: u32, dy: *const f32, w: *const f32, dx: *mut f32, dw: *mut f32, db: *mut f32) -> u32 {
    crate::depthwise::backward(&*geom, x, n as usize, dy, w, dx, dw, db)
}

/// Pooling forward (see [`crate::pool`]): `kind` 0 max, 1 average.
///
/// # Safety
/// As [`crate::pool::max_forward`] / [`crate::pool::avg_forward`].
#[no_mangle]
pub unsafe extern "C" fn pool2d_forward(geom: *const crate::conv::ConvGeom, kind: u32, x: *const f32, n: u32, y: *mut f32) -> u32 {
    match kind {
        0 => crate::pool::max_forward(&*geom, x, n as usize, y),
        1 => crate::pool::avg_forward(&*geom, x, n as usize, y),
        _ => crate::status::STATUS_BAD_ARGUMENT,
    }
}

/// Pooling backward (see [`crate::pool`]): `kind` 0 max (reads the forward input `x`), 1 average.
///
/// # Safety
/// As [`crate::pool::max_backward`] / [`crate::pool::avg_backward`].
#[no_mangle]
pub unsafe extern "C" fn pool2d_backward(geom: *const crate::conv::ConvGeom, kind: u32, x: *const f32, n: u32, dy: *const f32, dx: *mut f32) -> u32 {
    match kind {
        0 => crate::pool::max_backward(&*geom, x, n as usize, dy, dx),
        1 => crate::pool::avg_backward(&*geom, n as usize, dy, dx),
        _ => crate::status::STATUS_BAD_ARGUMENT,
    }
}

/// Gaussian dropout forward (`layers::gaussian_dropout::multiply`): `m[i] = 1 + √(rate/(1−rate))·z_i`,
/// `y[i] = x[i]·m[i]`, from the stream of `(seed, stream, counter)`. Returns 0, or 2 when `rate`
/// is not in [0, 1) (nothing written). Backward is [`dropout_backward`] with `m`.
///
/// # Safety
/// `x`, `y`, `m` valid for `n` floats; `y` and `m` do not overlap `x` or each other.
#[no_mangle]
pub unsafe extern "C" fn gaussian_dropout_forward(x: *const f32, y: *mut f32, m: *mut f32, n: u32, rate: f32, seed: u32, stream: u32, counter: u32) -> u32 {
    noise_forward(crate::layers::gaussian_dropout::multiply, x, y, m, n, rate, seed, stream, counter)
}

/// A multiplicative noise kind's draw on raw buffers, refusing a rate outside [0, 1).
#[allow(clippy::too_many_arguments)]
unsafe fn noise_forward(draw: fn(&[f32], &mut [f32], &mut [f32], f32, u32, u32, u32), x: *const f32, y: *mut f32, m: *mut f32, n: u32, rate: f32, seed: u32, stream: u32, counter: u32) -> u32 {
    if !(rate >= 0.0 && rate < 1.0) {
        return crate::status::STATUS_BAD_ARGUMENT;
    }
    let n = n as usize;
    draw(core::slice::from_raw_parts(x, n), core::slice::from_raw_parts_mut(y, n), core::slice::from_raw_parts_mut(m, n), rate, seed, stream, counter);
    0
}

/// Alpha dropout forward (`layers::alpha_dropout::apply`): `m[i] = a·keep_i`,
/// `y[i] = a·(x·keep + α'(1 − keep)) + b`. Returns 0, or 2 when `rate` is not in [0, 1) (nothing
/// written). Backward is [`dropout_backward`] with `m`.
///
/// # Safety
/// As [`gaussian_dropout_forward`].
#[no_mangle]
pub unsafe extern "C" fn alpha_dropout_forward(x: *const f32, y: *mut f32, m: *mut f32, n: u32, rate: f32, seed: u32, stream: u32, counter: u32) -> u32 {
    noise_forward(crate::layers::alpha_dropout::apply, x, y, m, n, rate, seed, stream, counter)
}

/// Augmentation kind `code` (10 flip, 11 translation, 12 rotation, 13 zoom, 14 contrast; see
/// [`crate::augment`]) applied to `n` images of the geometry at `geom` (`h, w, c`) with explicit
/// per-image parameters `params` (2 floats per image, as [`crate::augment::draw`] returns them)
/// and the argument block `args` (`augment::ARGS` floats). Returns 0, or 2 for an unknown code or
/// an invalid argument block (nothing written).
///
/// # Safety
/// `geom` a ConvGeom record; `x`, `y` valid for `n·h·w·c` floats, not overlapping; `params` for
/// `2n`, `args` for `ARGS` floats.
#[no_mangle]
pub unsafe extern "C" fn augment_apply(code: u32, geom: *const crate::conv::ConvGeom, args: *const f32, params: *const f32, x: *const f32, n: u32, y: *mut f32) -> u32 {
    use crate::augment;
    let (g, a) = (&*geom, core::slice::from_raw_parts(args, augment::ARGS));
    if !augment::valid_args(code, a) {
        return crate::status::STATUS_BAD_ARGUMENT;
    }
    let len = g.h as usize * g.w as usize * g.c as usize;
    for r in 0..n as usize {
        let p = [*params.add(2 * r), *params.add(2 * r + 1)];
        augment::apply(code, a, g, p, core::slice::from_raw_parts(x.add(r * len), len), core::slice::from_raw_parts_mut(y.add(r * len), len));
    }
    0
}

/// The parameters augmentation kind `code` draws for rows `0..n` of a batch (2 floats per row
/// into `out`) with key `(seed, stream)` and step `counter` (see [`crate::augment::draw`]).
/// Returns 0, or 2 for an unknown code or an invalid argument block.
///
/// # Safety
/// `args` valid for `ARGS` floats, `out` for `2n`.
#[no_mangle]
pub unsafe extern "C" fn augment_draw(code: u32, args: *const f32, seed: u32, stream: u32, counter: u32, n: u32, out: *mut f32) -> u32 {
    use crate::augment;
    let a = core::slice::from_raw_parts(args, augment::ARGS);
    if !augment::valid_args(code, a) {
        return crate::status::STATUS_BAD_ARGUMENT;
    }
    for r in 0..n {
        let p = augment::draw(code, a, seed, stream, counter, r);
        *out.add(2 * r as usize) = p[0];
        *out.add(2 * r as usize + 1) = p[1];
    }
    0
}
