//! Layer kinds. Each kind is one module exporting a [`Kind`]: how it checks its record, runs
//! forward and backward, which buffers its training forward pass updates and which constraint
//! it applies after the update. `step.rs` runs any kind through this table and never branches on
//! a kind itself; a new kind is a module plus one line in [`KINDS`] (and its TypeScript
//! descriptor, ts/layers/).

pub(crate) use crate::mem::{floats, floats_mut};
use crate::plan::Layer;

pub mod alpha_dropout;
pub mod augment;
pub mod avg_pool2d;
pub mod batch_norm;
pub mod conv2d;
pub mod depthwise_conv2d;
pub mod dense;
pub mod gaussian_dropout;
pub mod gaussian_noise;
pub mod max_pool2d;
pub mod random_contrast;
pub mod random_flip;
pub mod random_rotation;
pub mod random_translation;
pub mod random_zoom;

/// What a forward or backward pass of one layer needs besides the record.
pub struct Pass {
    /// Rows in the batch.
    pub n: usize,
    /// GEMM packing workspace.
    pub ws: usize,
    /// RNG key and counter (Philox; see `dropout.rs`) and this layer's index (its stream).
    pub seed: u32,
    pub counter: u32,
    pub index: u32,
    /// Training: batch statistics are used and the running statistics updated.
    pub train: bool,
    /// Stochastic layers (dropout, noise) are on: training, or Monte Carlo sampling.
    pub stochastic: bool,
}

/// A layer kind.
pub struct Kind {
    /// `Layer::kind` code (mirrored in ts/runtime/abi.ts `LAYER_KIND`).
    pub code: u32,
    /// The kind's own record checks: shapes, lengths (`w_len`/`b_len`) and required buffers.
    pub check: fn(&Layer) -> bool,
    /// Writes `y` (`[n, n_out]`) from `input` (`[n, n_in]`); returns whether it applied the
    /// layer's activation itself (fused), or a status.
    pub forward: unsafe fn(&Layer, &Pass, input: usize) -> Result<bool, u32>,
    /// With `g` = dL/d(pre-activation output) (`[n, n_out]`), writes the trainable tensors'
    /// gradients and, when `need_dx`, dL/d`input` into `dx`; returns whether it wrote `dx` (else
    /// `g` itself is dL/d`input`, as for an identity).
    pub backward: unsafe fn(&Layer, &Pass, input: usize, g: usize, dx: usize, need_dx: bool) -> bool,
    /// Buffers the training forward pass updates (0 = none), `running_len` floats each: backed
    /// up before each step, checked for finiteness, restored on a rollback.
    pub running: fn(&Layer) -> [usize; 2],
    pub running_len: fn(&Layer) -> usize,
    /// Fewest rows a training batch may have (batch statistics need 2).
    pub min_rows: usize,
    /// Constraint applied to the updated tensors (max-norm), after a finite update.
    pub constrain: unsafe fn(&Layer),
}

/// Every layer kind: one line each.
pub static KINDS: &[&Kind] = &[
    &dense::KIND,
    &batch_norm::KIND,
    &gaussian_noise::KIND,
    &conv2d::KIND,
    &max_pool2d::KIND,
    &avg_pool2d::KIND,
    &gaussian_dropout::KIND,
    &alpha_dropout::KIND,
    &random_flip::KIND,
    &random_translation::KIND,
    &random_rotation::KIND,
    &random_zoom::KIND,
    &random_contrast::KIND,
    &depthwise_conv2d::KIND,
];

/// The kind of a record's code, or `None` for an unknown code.
#[inline]
pub fn kind(code: u32) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.code == code)
}

/// No running buffers.
pub fn no_running(_: &Layer) -> [usize; 2] {
    [0, 0]
}

/// Length of no running buffers.
pub fn no_running_len(_: &Layer) -> usize {
    0
}

/// No constraint.
pub unsafe fn no_constraint(_: &Layer) {}

