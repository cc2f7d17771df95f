//! Fused optimizer updates, one pass per tensor.

/// Plain SGD, PyTorch `torch.optim.SGD` with momentum = 0 and weight_decay = 0:
/// `w ← w − lr·g`.
pub fn sgd(w: &mut [f32], g: &[f32], lr: f32) {
    let n = w.len().min(g.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let n4 = n / 4 * 4;
        let lv = f32x4_splat(lr);
        let (pw, pg) = (w.as_mut_ptr(), g.as_ptr());
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 <= n for both slices.
            unsafe {
                let wv = v128_load(pw.add(i) as *const v128);
                let gv = v128_load(pg.add(i) as *const v128);
                v128_store(pw.add(i) as *mut v128, f32x4_sub(wv, f32x4_mul(lv, gv)));
            }
            i += 4;
        }
        for i in n4..n {
            w[i] -= lr * g[i];
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for i in 0..n {
        w[i] -= lr * g[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_step() {
        let mut w = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        sgd(&mut w, &[1.0, -1.0, 0.5, 0.0, 2.0], 0.1);
        let want = [0.9f32, 2.1, 2.95, 4.0, 4.8];
        for i in 0..5 {
            assert_eq!(w[i], want[i] as f32);
        }
    }
}
