//! Reductions.

/// Column sums of a row-major `[rows, cols]` matrix: `out[j] = Σ_r x[r, j]` (f32, row order).
pub fn colsum(x: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    for v in out[..cols].iter_mut() {
        *v = 0.0;
    }
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        for (o, &v) in out[..cols].iter_mut().zip(row) {
            *o += v;
        }
    }
}

/// Number of NaN or ±Inf values in `x`.
pub fn count_nonfinite(x: &[f32]) -> u32 {
    let mut c = 0u32;
    for &v in x {
        if !v.is_finite() {
            c += 1;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colsum_and_nonfinite() {
        let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut o = [9.0f32; 3];
        colsum(&x, 2, 3, &mut o);
        assert_eq!(o, [5.0, 7.0, 9.0]);
        assert_eq!(count_nonfinite(&[1.0, f32::NAN, f32::INFINITY, -f32::INFINITY, 0.0]), 3);
    }
}
