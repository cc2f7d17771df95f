//! Batch normalization over features (PyTorch `BatchNorm1d`) or over the channels of
//! channels-last feature maps (PyTorch `BatchNorm2d`, Keras `BatchNormalization` on images):
//! `w` = γ, `b` = β (`w_len = b_len = c` floats each, the channel count: the last axis), `gw`/`gb`
//! their gradients; `n_in == n_out`, a multiple of `c` (each row holds `n_out / c` positions, and
//! the statistics of a channel run over every position of every row). Training uses the batch statistics
//! (unbiased variance in the running update) and updates `running_mean`/`running_var` with
//! PyTorch's momentum convention (`running ← (1 − bn_momentum)·running + bn_momentum·batch`);
//! inference and Monte Carlo sampling use the running statistics. `save_mean`/`save_inv_std`
//! keep the batch statistics for backward; `bn_eps` is ε.

use super::{floats, floats_mut, Kind, Pass};
use crate::norm;
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

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    let (n, no) = shape(l, p.n);
    let (g, b) = (Some(floats(l.w, no)), Some(floats(l.b, no)));
    if p.train {
        let st = norm::train_forward(
            floats(input, n * no), n, no, g, b, l.bn_eps, l.bn_momentum,
            floats_mut(l.running_mean, no), floats_mut(l.running_var, no), floats_mut(l.y, n * no),
            floats_mut(l.save_mean, no), floats_mut(l.save_inv_std, no),
        );
        if st != 0 {
            return Err(STATUS_BAD_ARGUMENT);
        }
    } else {
        norm::infer_forward(floats(input, n * no), n, no, g, b, l.bn_eps, floats(l.running_mean, no), floats(l.running_var, no), floats_mut(l.y, n * no));
    }
    Ok(false)
}

unsafe fn backward(l: &Layer, p: &Pass, input: usize, g: usize, dx: usize, _need_dx: bool) -> bool {
    let (n, no) = shape(l, p.n);
    // dx is always computed: cheap, and dx of layer 0 is simply unused
    norm::backward(
        floats(input, n * no), floats(g, n * no), n, no, Some(floats(l.w, no)), floats(l.save_mean, no), floats(l.save_inv_std, no),
        floats_mut(dx, n * no), Some(floats_mut(l.gw, no)), Some(floats_mut(l.gb, no)),
    );
    true
}
