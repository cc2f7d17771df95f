//! The plan records: what TypeScript compiles a model into (ts/model/plan.ts writes them, in the
//! arena). A [`Plan`] header points to one [`Layer`] record per layer; pointer fields are byte
//! addresses in linear memory (`usize`: 4 bytes on wasm32). `step.rs` runs them; `abi.rs`
//! reports their layout. Layer kinds (what `Layer::kind` selects) live in `layers/`.

use crate::optim::OptTensor;

/// `Plan::out_bad_layer` when no tensor went non-finite.
pub const NO_LAYER: u32 = u32::MAX;
/// `Plan::out_bad_tensor`: a layer's first trainable tensor (dense kernel, batch-norm γ).
pub const TENSOR_WEIGHT: u32 = 0;
/// `Plan::out_bad_tensor`: a layer's second trainable tensor (dense bias, batch-norm β).
pub const TENSOR_BIAS: u32 = 1;
/// `Plan::out_bad_tensor`: the first buffer the training forward pass updates (batch norm's
/// running mean; see `layers::Kind::running`).
pub const TENSOR_RUNNING_MEAN: u32 = 2;
/// `Plan::out_bad_tensor`: the second such buffer (batch norm's running variance).
pub const TENSOR_RUNNING_VAR: u32 = 3;

pub const LOSS_SOFTMAX_CE: u32 = 1;
pub const LOSS_MSE: u32 = 2;
pub const LOSS_MAE: u32 = 3;
pub const LOSS_HUBER: u32 = 4;
pub const LOSS_BCE_LOGITS: u32 = 5;
/// A loss computed outside the module (a user function in TypeScript): only the split step
/// (`step::train_forward`, then `step::train_backward` with `dL/dout` in `gbuf0`) and
/// `predict_step` (raw last-layer output) run such a plan; the steps that compute a loss here
/// refuse it.
pub const LOSS_CUSTOM: u32 = 6;

record! {
    /// Plan header.
    pub struct Plan {
        pub n_layers: u32,
        pub loss: u32,
        pub batch_cap: u32,
        /// 1: `predict_step` keeps dropout and noise on (Monte Carlo sampling); 0: only
        /// `train_step` does.
        pub mc_dropout: u32,
        /// `*const Layer`, `n_layers` records.
        pub layers: usize,
        /// Two gradient ping-pong buffers of `batch_cap × max layer width` floats.
        pub gbuf0: usize,
        pub gbuf1: usize,
        /// GEMM packing workspace of `gemm::WORKSPACE_FLOATS` floats.
        pub ws: usize,
        /// `*const OptHyper`: the optimizer's hyper-parameters for this step, learning rate and
        /// clipping included (TypeScript writes the step-dependent fields before each step).
        pub opt: usize,
        /// RNG key of dropout and noise (Philox-4x32-10: key = (seed, layer index), counter =
        /// (element/4, counter)).
        pub seed: u32,
        /// RNG counter: TypeScript advances it once per step (and per Monte Carlo sample).
        pub counter: u32,
        /// Per-sample weights of this batch (`n` floats), or 0 for none.
        pub weights: usize,
        /// Softmax cross-entropy label smoothing ε (PyTorch `label_smoothing`).
        pub label_smoothing: f32,
        /// Huber δ.
        pub huber_delta: f32,
        /// Written by the step: Σ per-sample loss of this batch (f32 of an f64 sum).
        pub out_loss: f32,
        /// Written by the step: rows whose argmax equals the label.
        pub out_correct: u32,
        /// Backup of the pre-step state (`backup_len` floats, see `step::backup_floats`):
        /// `train_step` stores the buffers the forward pass updates (running statistics) and,
        /// during the update pass, every parameter and optimizer-state element it overwrites,
        /// and restores them bit for bit when the loss or the update is non-finite. Required by
        /// `train_step` (0 → `STATUS_BAD_ARGUMENT`).
        pub backup: usize,
        pub backup_len: u32,
        /// Written by `train_step` on `STATUS_NON_FINITE_UPDATE`: the layer index ([`NO_LAYER`]
        /// when none), the tensor ([`TENSOR_WEIGHT`], [`TENSOR_BIAS`], [`TENSOR_RUNNING_MEAN`],
        /// [`TENSOR_RUNNING_VAR`]), the slot (0 the parameter, 1..=3 optimizer state s1..s3), the
        /// element index and the non-finite value found there (before the rollback).
        pub out_bad_layer: u32,
        pub out_bad_tensor: u32,
        pub out_bad_slot: u32,
        pub out_bad_index: u32,
        pub out_bad_value: f32,
        /// Upper bounds of |w|, |s1|, |s2|, |s3| per trainable tensor ([`tensors`] order, 4
        /// floats each; 0 = none), written by every `train_step` update pass. When `bounds_valid`
        /// is 1 the finiteness proof of the next step reads them instead of scanning the
        /// parameters and the optimizer state. TypeScript clears `bounds_valid` whenever it may
        /// have written parameters or optimizer state (ts/model/plan.ts); `train_step` sets it
        /// after a proven update pass and clears it after a rollback.
        pub bounds: usize,
        pub bounds_valid: u32,
    }
}

record! {
    /// One layer. The fields a kind uses are documented in its module (`layers/<kind>.rs`);
    /// unused fields are 0.
    pub struct Layer {
        /// The layer kind (`layers::KINDS`).
        pub kind: u32,
        /// Activation applied to the kind's output (`act::Act` code).
        pub act: u32,
        pub n_in: u32,
        pub n_out: u32,
        /// First trainable tensor (dense kernel `[n_in, n_out]` row-major, batch-norm γ), 0 for none.
        pub w: usize,
        /// Second trainable tensor (dense bias, batch-norm β), 0 for none.
        pub b: usize,
        /// Their gradients.
        pub gw: usize,
        pub gb: usize,
        /// Output buffer `[batch_cap, n_out]`.
        pub y: usize,
        /// Optimizer state of `w` (0 when the optimizer does not use that slot).
        pub ws1: usize,
        pub ws2: usize,
        pub ws3: usize,
        /// Optimizer state of `b`.
        pub bs1: usize,
        pub bs2: usize,
        pub bs3: usize,
        /// Penalties of `w`: `l1·Σ|w| + l2·Σw²` (gradients `l1·sign(w)` and `2·l2·w`).
        pub l1: f32,
        pub l2: f32,
        /// Penalties of `b`.
        pub bl1: f32,
        pub bl2: f32,
        /// Activation parameter (leakyRelu slope, elu alpha).
        pub alpha: f32,
        /// Inverted-dropout rate applied to this layer's output while training (0 = none).
        pub dropout: f32,
        /// Dropout mask `[batch_cap, n_out]` (0 or 1/(1−rate)), and the dropped output that the
        /// next layer reads; both 0 when `dropout` is 0.
        pub mask: usize,
        pub yd: usize,
        /// Max-norm constraint on `w`'s columns (0 = none; the kind decides whether it applies).
        pub max_norm: f32,
        /// Buffers the training forward pass updates (batch norm's running mean and variance,
        /// `n_out` floats each) and scratch it saves for backward.
        pub running_mean: usize,
        pub running_var: usize,
        pub save_mean: usize,
        pub save_inv_std: usize,
        pub bn_eps: f32,
        pub bn_momentum: f32,
        /// Element counts of `w` (and `gw`, `ws1..3`) and of `b` (and `gb`, `bs1..3`) as
        /// TypeScript allocated them (0 when absent). Each kind's `check` validates them against
        /// the shapes; every pass over a tensor uses these (see [`tensors`]).
        pub w_len: u32,
        pub b_len: u32,
        /// A scalar of the kind's own (see its module), 0 when unused.
        pub param: f32,
        /// 1: the layer's tensors are frozen (Keras `trainable = False`): no gradient buffers
        /// (`gw`/`gb` may be 0), no optimizer state, no update, no constraint; the layer still
        /// passes gradients to the layers before it. 0: trained. Kinds that cannot freeze refuse 1.
        pub frozen: u32,
        /// The kind's geometry record (convolution and pooling: a `conv::ConvGeom`), 0 when unused.
        pub geom: usize,
        /// A scratch buffer of the kind's own (convolution: the im2col chunk; Gaussian and alpha
        /// dropout: the multipliers of the batch, `batch_cap × n_out`) of `aux_len` floats; 0 when
        /// unused.
        pub aux: usize,
        pub aux_len: u32,
        /// Keras's max-norm ε (> 0: every column becomes `w·min(‖w‖, r)/(ε + ‖w‖)`, Keras
        /// `MaxNorm`); 0: only columns above `max_norm` are rescaled, to exactly r. See
        /// [`crate::constraints::max_norm`].
        pub max_norm_eps: f32,
    }
}

/// Every trainable tensor of a layer, as the optimizer sees it: `[w, b]` when present (index =
/// [`TENSOR_WEIGHT`] / [`TENSOR_BIAS`]), with the record's lengths, state slots and penalties;
/// none for a frozen layer.
#[inline(never)]
pub fn tensors(l: &Layer) -> [Option<OptTensor>; 2] {
    if l.frozen != 0 {
        return [None, None];
    }
    let t = |w: usize, g: usize, s: [usize; 3], l1: f32, l2: f32, len: u32| {
        if w != 0 {
            Some(OptTensor { len, w, g, s1: s[0], s2: s[1], s3: s[2], l1, l2 })
        } else {
            None
        }
    };
    [
        t(l.w, l.gw, [l.ws1, l.ws2, l.ws3], l.l1, l.l2, l.w_len),
        t(l.b, l.gb, [l.bs1, l.bs2, l.bs3], l.bl1, l.bl2, l.b_len),
    ]
}
