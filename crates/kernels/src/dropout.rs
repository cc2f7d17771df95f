//! Inverted dropout (PyTorch `nn.Dropout(p)`, Keras `Dropout(rate)`): each element is kept with
//! probability `1 − rate` and survivors are scaled by `1/(1 − rate)`, so `E[y] = x` and inference
//! is the identity.
//!
//! The mask comes from Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as
//! 1, 2, 3", SC'11; the Random123 generator that PyTorch's CUDA and JAX's RNGs build on), a
//! counter-based generator with no state: element `i` uses word `i mod 4` of
//! `philox4x32_10(ctr = [i / 4, counter, 0, 0], key = [seed, stream])`. So a mask is a pure
//! function of `(seed, stream, counter, i)`: reproducible, independent of the batch split, no
//! global state. Use `stream` for the layer and `counter` for the step.
//!
//! Element `i` is dropped iff `u_i < round(rate·2^32)` (u32 word `u_i`), so the drop probability
//! is `rate` to within 2^−33. The mask stores the multiplier itself (0 or `1/(1 − rate)`,
//! computed in f64 and rounded once), like PyTorch's CPU `noise = bernoulli(1−p)/(1−p)`; forward is
//! `y = x·mask`, backward `dx = dy·mask`. `rate = 0` gives mask 1 (identity); `rate = 1` gives
//! mask 0 (PyTorch returns zeros for `p = 1`).

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = (a as u64) * (b as u64);
    ((p >> 32) as u32, p as u32)
}

/// Philox-4x32 with 10 rounds (Random123 `philox4x32_10`).
#[inline]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = ctr;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// Dropout status: `rate` is NaN or outside [0, 1].
pub const BAD_RATE: u32 = crate::status::STATUS_BAD_ARGUMENT;

/// Forward in place: fills `mask[i]` with 0 or `1/(1 − rate)` from `(seed, stream, counter, i)`
/// and sets `x[i] *= mask[i]`. Returns 0, or [`BAD_RATE`] (nothing written).
pub fn forward(x: &mut [f32], mask: &mut [f32], rate: f32, seed: u32, stream: u32, counter: u32) -> u32 {
    if !(rate >= 0.0 && rate <= 1.0) {
        return BAD_RATE;
    }
    let n = x.len().min(mask.len());
    let keep_scale = if rate >= 1.0 { 0.0 } else { (1.0 / (1.0 - rate as f64)) as f32 };
    // Drop iff u < threshold; threshold ≤ 2^32 so it lives in a u64.
    let threshold = (rate as f64 * 4_294_967_296.0 + 0.5) as u64;
    let key = [seed, stream];
    let mut i = 0usize;
    while i < n {
        let words = philox4x32_10([(i / 4) as u32, counter, 0, 0], key);
        let end = (i + 4).min(n);
        for (l, j) in (i..end).enumerate() {
            let m = if (words[l] as u64) < threshold { 0.0 } else { keep_scale };
            mask[j] = m;
            x[j] *= m;
        }
        i = end;
    }
    0
}

/// Backward in place: `dy[i] *= mask[i]` with the mask the forward pass wrote.
pub fn backward(dy: &mut [f32], mask: &[f32]) {
    for (d, &m) in dy.iter_mut().zip(mask) {
        *d *= m;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// Known-answer vectors from Random123's `kat_vectors` (philox4x32_10).
    #[test]
    fn philox_known_answers() {
        assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn fraction_reproducibility_and_backward() {
        let n = 10_007usize;
        for &rate in &[0.0f32, 0.1, 0.5, 0.9, 1.0] {
            let mut x = std::vec![1.0f32; n];
            let mut m = std::vec![7.0f32; n];
            assert_eq!(forward(&mut x, &mut m, rate, 42, 3, 9), 0);
            let dropped = m.iter().filter(|&&v| v == 0.0).count() as f64;
            let p = rate as f64;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!((dropped - n as f64 * p).abs() <= 4.0 * sd + 1e-9, "rate {} dropped {}", rate, dropped);
            let s = if rate < 1.0 { (1.0 / (1.0 - p)) as f32 } else { 0.0 };
            assert!(m.iter().all(|&v| v == 0.0 || v == s));
            assert_eq!(x, m);
            let mut x2 = std::vec![1.0f32; n];
            let mut m2 = std::vec![0.0f32; n];
            forward(&mut x2, &mut m2, rate, 42, 3, 9);
            assert_eq!(m, m2);
            let mut d = std::vec![2.0f32; n];
            backward(&mut d, &m);
            for i in 0..n {
                assert_eq!(d[i], 2.0 * m[i]);
            }
        }
        let mut a = std::vec![1.0f32; 64];
        let mut b = a.clone();
        let (mut ma, mut mb) = (std::vec![0.0f32; 64], std::vec![0.0f32; 64]);
        forward(&mut a, &mut ma, 0.5, 1, 0, 0);
        forward(&mut b, &mut mb, 0.5, 1, 0, 1);
        assert_ne!(ma, mb);
        assert_eq!(forward(&mut a, &mut ma, 1.5, 1, 0, 0), BAD_RATE);
        assert_eq!(forward(&mut a, &mut ma, f32::NAN, 1, 0, 0), BAD_RATE);
    }
}
