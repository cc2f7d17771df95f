//! Activations, forward and backward.
//!
//! Backward kernels take the layer's *output* `y` (not its input): for ReLU `y > 0` is exactly
//! the set where the input was positive, so the pre-activation never has to be stored. The same
//! holds for LeakyReLU (alpha ≥ 0), ELU (alpha > 0: `f' = y + alpha` on the negative side),
//! sigmoid (`y(1 − y)`) and tanh (`1 − y²`).

use crate::math::{expf, tanhf};

/// Activation codes shared with TypeScript (`ts/runtime/abi.ts`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum Act {
    Linear = 0,
    Relu = 1,
    /// PyTorch `LeakyReLU(negative_slope)` / Keras `LeakyReLU(negative_slope)`: `x` for `x > 0`,
    /// else `alpha·x`. Defaults differ upstream: PyTorch 0.01, Keras 0.3 (the caller passes alpha).
    LeakyRelu = 2,
    /// PyTorch `ELU(alpha)` / Keras `elu`: `x` for `x > 0`, else `alpha·(e^x − 1)` (default alpha 1).
    Elu = 3,
    /// `1/(1 + e^{−x})` (PyTorch `Sigmoid`, Keras `sigmoid`).
    Sigmoid = 4,
    /// `tanh x` (PyTorch `Tanh`, Keras `tanh`).
    Tanh = 5,
    /// PyTorch `SELU` / Keras `selu`: `λ·x` for `x > 0`, else `λ·α·(e^x − 1)`, with the
    /// self-normalizing constants [`SELU_ALPHA`], [`SELU_SCALE`] (the layer's alpha is ignored).
    Selu = 6,
}

/// SELU's α and λ (Klambauer et al. 2017; the values of PyTorch and Keras).
pub const SELU_ALPHA: f32 = 1.673_263_2;
pub const SELU_SCALE: f32 = 1.050_701;

impl Act {
    /// The codes the GEMM epilogue and the training plan (`step.rs`) implement: Linear and ReLU.
    /// Kept narrow on purpose so a plan cannot ask the fused epilogue for an activation it would
    /// silently skip; use [`Act::from_code`] for the standalone activation kernels.
    pub fn fused_from_code(v: u32) -> Option<Act> {
        match v {
            0 => Some(Act::Linear),
            1 => Some(Act::Relu),
            _ => None,
        }
    }

    /// Every activation code (0..=5), for [`forward`] / [`backward`].
    pub fn from_code(v: u32) -> Option<Act> {
        match v {
            0 => Some(Act::Linear),
            1 => Some(Act::Relu),
            2 => Some(Act::LeakyRelu),
            3 => Some(Act::Elu),
            4 => Some(Act::Sigmoid),
            5 => Some(Act::Tanh),
            6 => Some(Act::Selu),
            _ => None,
        }
    }

    /// The parameter [`forward_default`] uses: PyTorch's defaults (LeakyReLU 0.01, ELU 1).
    pub fn default_alpha(self) -> f32 {
        match self {
            Act::LeakyRelu => 0.01,
            Act::Elu => 1.0,
            _ => 0.0,
        }
    }
}

/// ReLU: `max(0, x)`; NaN propagates (the SIMD path selects the same lanes, bit for bit).
#[inline]
pub fn relu(x: f32) -> f32 {
    if 0.0 < x || x.is_nan() {
        x
    } else {
        0.0
    }
}

/// In-place forward over a slice (parameterised activations use [`Act::default_alpha`]).
pub fn forward_default(act: Act, x: &mut [f32]) {
    forward(act, x, act.default_alpha());
}

/// In-place forward with parameter `alpha` (LeakyReLU slope, ELU alpha; ignored otherwise).
///
/// - LeakyReLU: `y = x` if `x > 0` else `alpha·x` (PyTorch `leaky_relu`).
/// - ELU: `y = x` if `x > 0` else `alpha·(e^x − 1)` (PyTorch `elu`; `e^x − 1` is computed as
///   `expf(x) − 1`, absolute error ≤ 1 ulp of 1 near 0, where PyTorch uses `expm1`).
/// - Sigmoid: `1/(1 + e^{−x})` for `x ≥ 0`, `e^x/(1 + e^x)` for `x < 0` (no overflow, full
///   relative precision in the left tail).
/// - Tanh: Cephes `tanhf` ([`crate::math::tanhf`]).
///
/// NaN inputs give NaN outputs for every activation.
pub fn forward(act: Act, x: &mut [f32], alpha: f32) {
    match act {
        Act::Linear => {}
        Act::Relu => relu_inplace(x),
        Act::LeakyRelu => leaky_inplace(x, alpha),
        Act::Elu => {
            for v in x.iter_mut() {
                if !(*v > 0.0) {
                    *v = alpha * (expf(*v) - 1.0);
                }
            }
        }
        Act::Sigmoid => {
            for v in x.iter_mut() {
                *v = sigmoid(*v);
            }
        }
        Act::Tanh => {
            for v in x.iter_mut() {
                *v = tanhf(*v);
            }
        }
        Act::Selu => {
            for v in x.iter_mut() {
                *v = if *v > 0.0 { SELU_SCALE * *v } else { SELU_SCALE * (SELU_ALPHA * (expf(*v) - 1.0)) };
            }
        }
    }
}

/// Logistic sigmoid, overflow-free: `1/(1 + e^{−x})` for `x ≥ 0`, else `e^x/(1 + e^x)`.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + expf(-x))
    } else {
        let e = expf(x);
        e / (1.0 + e)
    }
}

/// LeakyReLU in place. The SIMD path selects `x > 0 ? x : alpha·x` lane-wise (NaN fails the
/// compare, so `alpha·NaN = NaN` is kept), bit-identical to the scalar loop.
fn leaky_inplace(x: &mut [f32], alpha: f32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let start = {
        use core::arch::wasm32::*;
        let n4 = x.len() / 4 * 4;
        let (z, a) = (f32x4_splat(0.0), f32x4_splat(alpha));
        let p = x.as_mut_ptr();
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 <= len.
            unsafe {
                let v = v128_load(p.add(i) as *const v128);
                let r = v128_bitselect(v, f32x4_mul(a, v), f32x4_gt(v, z));
                v128_store(p.add(i) as *mut v128, r);
            }
            i += 4;
        }
        n4
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let start = 0;
    for v in &mut x[start..] {
        if !(*v > 0.0) {
            *v *= alpha;
        }
    }
}

fn relu_inplace(x: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let n4 = x.len() / 4 * 4;
        let z = f32x4_splat(0.0);
        let p = x.as_mut_ptr();
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 <= len.
            unsafe {
                let v = v128_load(p.add(i) as *const v128);
                // Keep v where v > 0 or v is NaN, else +0: exactly the scalar `relu` (pmax(0, v)
                // would turn NaN into 0, since pmax(a, b) = a < b ? b : a).
                let keep = v128_or(f32x4_gt(v, z), f32x4_ne(v, v));
                v128_store(p.add(i) as *mut v128, v128_and(v, keep));
            }
            i += 4;
        }
        for v in &mut x[n4..] {
            *v = relu(*v);
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for v in x.iter_mut() {
        *v = relu(*v);
    }
}

/// Backward in place: `dy[i] *= act'(·)` expressed through the output `y`.
/// ReLU: derivative 1 where `y > 0`, else 0 (the subgradient at 0 is taken as 0, as PyTorch does).
pub fn backward_default(act: Act, y: &[f32], dy: &mut [f32]) {
    backward(act, y, dy, act.default_alpha());
}

/// Backward in place through the output `y`: `dy[i] *= f'(x_i)` written as a function of `y_i`.
///
/// - LeakyReLU (`alpha ≥ 0`): 1 where `y > 0`, else `alpha` (at `x = 0` PyTorch's
///   `leaky_relu_backward` also gives `alpha`).
/// - ELU (`alpha > 0`): 1 where `y > 0`, else `y + alpha` (= `alpha·e^x`), as PyTorch's
///   `elu_backward(..., is_result=True)`.
/// - Sigmoid: `dy·(1 − y)·y` (PyTorch `sigmoid_backward` order of operations).
/// - Tanh: `dy·(1 − y·y)` (PyTorch `tanh_backward`).
///
/// These plain loops have no NaN-sensitive selects, so LLVM vectorises them in the SIMD128 build
/// with the same per-lane operations (bit-identical to scalar).
pub fn backward(act: Act, y: &[f32], dy: &mut [f32], alpha: f32) {
    debug_assert_eq!(y.len(), dy.len());
    match act {
        Act::Linear => {}
        Act::Relu => relu_backward(y, dy),
        Act::LeakyRelu => {
            for (d, &v) in dy.iter_mut().zip(y) {
                *d *= if v > 0.0 { 1.0 } else { alpha };
            }
        }
        Act::Elu => {
            for (d, &v) in dy.iter_mut().zip(y) {
                if !(v > 0.0) {
                    *d *= v + alpha;
                }
            }
        }
        Act::Sigmoid => {
            for (d, &v) in dy.iter_mut().zip(y) {
                *d = *d * (1.0 - v) * v;
            }
        }
        Act::Tanh => {
            for (d, &v) in dy.iter_mut().zip(y) {
                *d *= 1.0 - v * v;
            }
        }
        // λ where y > 0, else y + λα (= λα·e^x)
        Act::Selu => {
            for (d, &v) in dy.iter_mut().zip(y) {
                *d *= if v > 0.0 { SELU_SCALE } else { v + SELU_SCALE * SELU_ALPHA };
            }
        }
    }
}

fn relu_backward(y: &[f32], dy: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let n = y.len().min(dy.len());
        let n4 = n / 4 * 4;
        let z = f32x4_splat(0.0);
        let (py, pd) = (y.as_ptr(), dy.as_mut_ptr());
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 <= n for both slices.
            unsafe {
                let yv = v128_load(py.add(i) as *const v128);
                let dv = v128_load(pd.add(i) as *const v128);
                v128_store(pd.add(i) as *mut v128, v128_and(dv, f32x4_gt(yv, z)));
            }
            i += 4;
        }
        for i in n4..n {
            if !(y[i] > 0.0) {
                dy[i] = 0.0;
            }
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for (d, &v) in dy.iter_mut().zip(y) {
        if !(v > 0.0) {
            *d = 0.0;
        }
    }
}

/// Row-wise softmax in place over a `[rows, cols]` row-major matrix (max-subtracted).
pub fn softmax_rows_inplace(x: &mut [f32], rows: usize, cols: usize) {
    for r in 0..rows {
        let row = &mut x[r * cols..(r + 1) * cols];
        let mut m = f32::NEG_INFINITY;
        for &v in row.iter() {
            if v > m {
                m = v;
            }
        }
        let mut s = 0.0f32;
        for v in row.iter_mut() {
            *v = crate::math::expf(*v - m);
            s += *v;
        }
        let inv = 1.0 / s;
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
}

/// Softmax backward in place over `[rows, cols]`, through the output `y = softmax(x)`:
/// `dx_j = y_j·(dy_j − Σ_k dy_k·y_k)` (PyTorch `_softmax_backward_data`; the row dot product is
/// accumulated in f32 in column order, as PyTorch's CPU kernel does for float).
pub fn softmax_backward_rows(y: &[f32], dy: &mut [f32], rows: usize, cols: usize) {
    for r in 0..rows {
        let yr = &y[r * cols..(r + 1) * cols];
        let dr = &mut dy[r * cols..(r + 1) * cols];
        let mut dot = 0.0f32;
        for (a, b) in dr.iter().zip(yr) {
            dot += a * b;
        }
        for (d, &v) in dr.iter_mut().zip(yr) {
            *d = v * (*d - dot);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn f64_act(a: Act, x: f64, alpha: f64) -> f64 {
        match a {
            Act::Linear => x,
            Act::Relu => x.max(0.0),
            Act::LeakyRelu => if x > 0.0 { x } else { alpha * x },
            Act::Elu => if x > 0.0 { x } else { alpha * x.exp_m1() },
            Act::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Act::Tanh => x.tanh(),
            Act::Selu => 1.0507009873554804934193349852946 * if x > 0.0 { x } else { 1.6732632423543772848170429916717 * x.exp_m1() },
        }
    }

    #[test]
    fn activations_forward_and_backward_vs_f64() {
        for code in 0..7 {
            let a = Act::from_code(code).unwrap();
            let alpha = if a == Act::Elu { 1.3 } else { 0.07 };
            for &n in &[1usize, 3, 5, 17, 64, 1023] {
                let x: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.09 + 0.013).collect();
                let mut y = x.clone();
                forward(a, &mut y, alpha);
                let mut d: Vec<f32> = (0..n).map(|i| 0.5 + (i % 7) as f32 * 0.1).collect();
                let d0 = d.clone();
                backward(a, &y, &mut d, alpha);
                for i in 0..n {
                    let xd = x[i] as f64;
                    let want = f64_act(a, xd, alpha as f64);
                    assert!((y[i] as f64 - want).abs() <= 4e-7 * want.abs().max(1.0), "{:?} x={}", a, xd);
                    let h = 1e-6;
                    let fd = (f64_act(a, xd + h, alpha as f64) - f64_act(a, xd - h, alpha as f64)) / (2.0 * h);
                    assert!((d[i] as f64 - d0[i] as f64 * fd).abs() <= 2e-6, "{:?} x={} {} {}", a, xd, d[i], fd);
                }
            }
        }
        let mut n = [f32::NAN; 7];
        for code in 0..7 {
            forward(Act::from_code(code).unwrap(), &mut n[code as usize..code as usize + 1], 0.5);
        }
        assert!(n.iter().all(|v| v.is_nan()));
        assert_eq!(Act::fused_from_code(2), None);
        assert_eq!(Act::from_code(7), None);
    }

    #[test]
    fn softmax_backward_vs_jacobian() {
        let (rows, cols) = (3usize, 7usize);
        let mut y: Vec<f32> = (0..rows * cols).map(|i| ((i * 5 % 13) as f32 - 6.0) * 0.4).collect();
        softmax_rows_inplace(&mut y, rows, cols);
        let dy0: Vec<f32> = (0..rows * cols).map(|i| ((i * 3 % 7) as f32 - 3.0) * 0.3).collect();
        let mut dx = dy0.clone();
        softmax_backward_rows(&y, &mut dx, rows, cols);
        for r in 0..rows {
            for j in 0..cols {
                let mut want = 0.0f64;
                for k in 0..cols {
                    let (yj, yk) = (y[r * cols + j] as f64, y[r * cols + k] as f64);
                    let jac = if j == k { yj * (1.0 - yj) } else { -yj * yk };
                    want += jac * dy0[r * cols + k] as f64;
                }
                assert!((dx[r * cols + j] as f64 - want).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn relu_forward_backward() {
        let mut x = [-2.0, -0.0, 0.0, 0.5, 3.0];
        forward_default(Act::Relu, &mut x);
        assert_eq!(x, [0.0, 0.0, 0.0, 0.5, 3.0]);
        let mut d = [1.0; 5];
        backward_default(Act::Relu, &x, &mut d);
        assert_eq!(d, [0.0, 0.0, 0.0, 1.0, 1.0]);
        let mut n = [f32::NAN];
        forward_default(Act::Relu, &mut n);
        assert!(n[0].is_nan());
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let mut x = [1.0, 2.0, 3.0, 1000.0, 1000.0, -1000.0];
        softmax_rows_inplace(&mut x, 2, 3);
        let e = [1f64.exp(), 2f64.exp(), 3f64.exp()];
        let s: f64 = e.iter().sum();
        for i in 0..3 {
            assert!(((x[i] as f64) - e[i] / s).abs() < 1e-7);
        }
        assert!((x[3] - 0.5).abs() < 1e-7 && (x[4] - 0.5).abs() < 1e-7 && x[5] == 0.0);
    }
}
