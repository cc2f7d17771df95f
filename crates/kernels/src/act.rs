//! Activations, forward and backward.
//!
//! Backward kernels take the layer's *output* `y` (not its input): for ReLU `y > 0` is exactly
//! the set where the input was positive, so the pre-activation never has to be stored.

/// Activation codes shared with TypeScript (`ts/runtime/abi.ts`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum Act {
    Linear = 0,
    Relu = 1,
}

impl Act {
    pub fn from_u32(v: u32) -> Option<Act> {
        match v {
            0 => Some(Act::Linear),
            1 => Some(Act::Relu),
            _ => None,
        }
    }
}

/// ReLU: `max(0, x)`; NaN propagates (`0 < NaN` is false, so NaN stays NaN — same in SIMD via pmax).
#[inline]
pub fn relu(x: f32) -> f32 {
    if 0.0 < x || x.is_nan() {
        x
    } else {
        0.0
    }
}

/// In-place forward over a slice.
pub fn forward_inplace(act: Act, x: &mut [f32]) {
    match act {
        Act::Linear => {}
        Act::Relu => relu_inplace(x),
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
                v128_store(p.add(i) as *mut v128, f32x4_pmax(z, v));
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
pub fn backward_inplace(act: Act, y: &[f32], dy: &mut [f32]) {
    debug_assert_eq!(y.len(), dy.len());
    match act {
        Act::Linear => {}
        Act::Relu => relu_backward(y, dy),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_forward_backward() {
        let mut x = [-2.0, -0.0, 0.0, 0.5, 3.0];
        forward_inplace(Act::Relu, &mut x);
        assert_eq!(x, [0.0, 0.0, 0.0, 0.5, 3.0]);
        let mut d = [1.0; 5];
        backward_inplace(Act::Relu, &x, &mut d);
        assert_eq!(d, [0.0, 0.0, 0.0, 1.0, 1.0]);
        let mut n = [f32::NAN];
        forward_inplace(Act::Relu, &mut n);
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
