//! Batch normalization over features (PyTorch `BatchNorm1d`) or over the channels of
//! channels-last feature maps (PyTorch `BatchNorm2d`, Keras `BatchNormalization` on images):
//! `w` = γ, `b` = β (`w_len = b_len = c` floats each, the channel count: the last axis), `gw`/`gb`
//! their gradients; `n_in == n_out`, a multiple of `c` (each row holds `n_out / c` positions, and
//! the statistics of a channel run over every position of every row). Training uses the batch statistics
//! (unbiased variance in the running update) and updates `running_mean`/`running_var` with
//! PyTorch's momentum convention (`running ← (1 − bn_momentum)·running + bn_momentum·batch`);
//! inference and Monte Carlo sampling use the running statistics. `save_mean`/`save_inv_std`
//! keep the batch statistics for backward; `bn_eps` is ε.

use super::{Kind, Pass};
use crate::{norm, par};
use crate::plan::Layer;
use crate::status::STATUS_BAD_ARGUMENT;

pub const CODE: u32 = 2;

pub static KIND: Kind = Kind {
    code: CODE,
    check,
    forward,
    backward,
    running,
    running_len: |l| l.w_len as usize,
    min_rows: 2,
    constrain: super::no_constraint,
};

fn check(l: &Layer) -> bool {
    l.frozen == 0
        && l.n_in == l.n_out
        && l.running_mean != 0
        && l.running_var != 0
        && l.save_mean != 0
        && l.save_inv_std != 0
        && l.w != 0
        && l.b != 0
        && l.gw != 0
        && l.gb != 0
        && l.w_len != 0
        && l.b_len == l.w_len
        && l.n_out % l.w_len == 0
}

/// Rows and features of the normalization: `n · positions` rows of `c` channels.
fn shape(l: &Layer, n: usize) -> (usize, usize) {
    let c = l.w_len as usize;
    (n * (l.n_out as usize / c), c)
}

fn running(l: &Layer) -> [usize; 2] {
    [l.running_mean, l.running_var]
}

/// Elements (rows × features) a part of a split pass must have before a region pays.
const MIN_PART_ELEMS: usize = 1 << 15;

/// Runs `f(lo, hi)` over feature ranges (multiples of [`norm::CHUNK`]) split over the threads
/// when the pass is large enough: features are independent, so the bits do not depend on it. Not
/// inlined: each pass's closure stays one function (inlined, `par::run` would copy it per branch).
#[inline(never)]
fn over_features(rows: usize, features: usize, f: &dyn Fn(usize, usize)) {
    let chunks = (features + norm::CHUNK - 1) / norm::CHUNK;
    let parts = par::max_parts(par::threads()).min(chunks).min(rows * features / MIN_PART_ELEMS).max(1);
    par::run(parts, &|t, parts, _thread| {
        let (lo, hi) = par::range(t, parts, chunks, norm::CHUNK, features);
        f(lo, hi)
    });
}

/// The pass's buffers: `x` → `out`, per-channel `mean`/`inv_std` (or the running mean/variance).
fn bn(l: &Layer, x: usize, rows: usize, out: usize, mean: usize, inv_std: usize) -> norm::Bn {
    norm::Bn { x, rows, features: l.w_len as usize, gamma: l.w, beta: l.b, out, mean, inv_std }
}

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    let (n, no) = shape(l, p.n);
    if p.train {
        if n < 2 {
            return Err(STATUS_BAD_ARGUMENT);
        }
        let b = bn(l, input, n, l.y, l.save_mean, l.save_inv_std);
        over_features(n, no, &|lo, hi| norm::train_forward_cols(&b, l.bn_eps, l.bn_momentum, l.running_mean, l.running_var, lo, hi));
    } else {
        let b = bn(l, input, n, l.y, l.running_mean, l.running_var);
        over_features(n, no, &|lo, hi| norm::infer_forward_cols(&b, l.bn_eps, lo, hi));
    }
    Ok(false)
}

unsafe fn backward(l: &Layer, p: &Pass, input: usize, g: usize, dx: usize, _need_dx: bool) -> bool {
    let (n, no) = shape(l, p.n);
    // dx is always computed: cheap, and dx of layer 0 is simply unused
    let b = bn(l, input, n, dx, l.save_mean, l.save_inv_std);
    over_features(n, no, &|lo, hi| norm::backward_cols(&b, g, l.gw, l.gb, lo, hi));
    true
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// The feature ranges a pass splits into: 16-channel blocks, only above the size threshold
    /// (the thread test's CNN batch norm: 32 × 20·18 positions of 32 channels, 2 parts).
    #[test]
    fn splits_by_channel_blocks_above_the_threshold() {
        let ranges = |threads: usize, rows: usize, features: usize| -> Vec<(usize, usize)> {
            let seen = core::cell::RefCell::new(Vec::new());
            par::TEST_THREADS.with(|t| t.set(threads));
            over_features(rows, features, &|lo, hi| seen.borrow_mut().push((lo, hi)));
            par::TEST_THREADS.with(|t| t.set(1));
            seen.into_inner()
        };
        assert_eq!(ranges(3, 32 * 360, 32), [(0, 16), (16, 32)]);
        assert_eq!(ranges(3, 4096, 53), [(0, 16), (16, 32), (32, 53)]);
        assert_eq!(ranges(2, 4096, 53), [(0, 32), (32, 53)]);
        assert_eq!(ranges(1, 4096, 53), [(0, 53)]);
        assert_eq!(ranges(3, 96, 256), [(0, 256)], "below 2^15 elements a part: serial");
        assert_eq!(ranges(3, 32 * 360, 16), [(0, 16)], "one block: serial");
    }
}
