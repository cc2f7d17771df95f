//! A whole training step in one call.
//!
//! TypeScript compiles a model into a [`Plan`] (`plan.rs`): a header plus one [`Layer`] record
//! per layer, all `#[repr(C)]` in linear memory, with pointers to weights, gradients and
//! activation buffers that the TypeScript arena allocated. [`train_step`] runs forward, loss,
//! backward and the optimizer update for every layer without returning to JavaScript. What a
//! layer does is its kind's (`layers/`); what the update does is the optimizer's (`optim.rs`,
//! the same path `optimizer_apply` takes); this module only sequences them and owns the
//! backup and rollback.
//!
//! A loss computed in JavaScript (a user function) splits the step in two calls with JS in
//! between: [`train_forward`] (the training forward pass, outputs left in memory), then JS writes
//! `dL/dout` into `gbuf0`, then [`train_backward`] (backward, clipping, the finiteness proof or
//! backup, the update with rollback, constraints). [`train_step`] runs the same three phases in
//! one call; the phases are shared functions, so both paths compute the same bits.

use crate::act::{self, Act};
use crate::layers::{self, Pass};
use crate::optim::{self, OptHyper, OptTensor, OPT_LAST};
pub use crate::plan::*;
pub use crate::status::{STATUS_BAD_ARGUMENT, STATUS_NEEDS_BACKUP, STATUS_NON_FINITE_LOSS, STATUS_NON_FINITE_RESULT, STATUS_NON_FINITE_UPDATE, STATUS_OK};
use crate::mem::{floats, floats_mut};
use crate::par;
use crate::{dropout, loss};

/// The plan is malformed (n > batch_cap, unknown layer kind, loss or optimizer, record lengths
/// that disagree with the shapes, a missing buffer): [`STATUS_BAD_ARGUMENT`], nothing changed.
pub const STATUS_BAD_PLAN: u32 = STATUS_BAD_ARGUMENT;

fn slot_count(need: [bool; 3]) -> usize {
    need.iter().filter(|&&b| b).count()
}

/// Every trainable tensor of the plan, in layer order.
fn all_tensors(ls: &[Layer]) -> impl Iterator<Item = OptTensor> + '_ {
    ls.iter().flat_map(|l| tensors(l).into_iter().flatten())
}

/// The plan's trainable tensors, up to [`par::GROUP`] at a time (a parallel region's worth), in
/// layer order, with the layer and slot (0 weights, 1 bias) each came from.
struct Group {
    /// Index (over all tensors) of `t[0]`.
    first: usize,
    n: usize,
    t: [OptTensor; par::GROUP],
    owner: [(usize, u32); par::GROUP],
    /// Where the next group starts: layer and slot.
    at: (usize, usize),
}

impl Group {
    fn new() -> Self {
        Group { first: 0, n: 0, t: [OptTensor::default(); par::GROUP], owner: [(0, 0); par::GROUP], at: (0, 0) }
    }

    /// Loads the next group; false when no tensor is left.
    fn next(&mut self, ls: &[Layer]) -> bool {
        self.first += self.n;
        self.n = 0;
        while self.at.0 < ls.len() && self.n < par::GROUP {
            let (li, w) = self.at;
            if let Some(t) = tensors(&ls[li])[w] {
                self.t[self.n] = t;
                self.owner[self.n] = (li, w as u32);
                self.n += 1;
            }
            self.at = if w == 1 { (li + 1, 0) } else { (li, 1) };
        }
        self.n > 0
    }
}

/// The running buffers of a layer (its kind's `running`), [`running_len`] floats each.
fn running(l: &Layer) -> [usize; 2] {
    match layers::kind(l.kind) {
        Some(k) => (k.running)(l),
        None => [0, 0],
    }
}

/// Floats in each of a layer's running buffers.
fn running_len(l: &Layer) -> usize {
    match layers::kind(l.kind) {
        Some(k) => (k.running_len)(l),
        None => 0,
    }
}

/// Floats of backup a plan needs for `train_step` with these slots: `n_out` per running buffer
/// (batch norm: mean and variance), then per tensor in [`tensors`] order `len` for the
/// parameter and `len` per needed state slot (mirrored by `ts/model/plan.ts`).
pub fn backup_floats(ls: &[Layer], need: [bool; 3]) -> usize {
    let mut total = 0;
    for l in ls {
        total += running(l).iter().filter(|&&p| p != 0).count() * running_len(l);
        for t in tensors(l).iter().flatten() {
            total += t.len as usize * (1 + slot_count(need));
        }
    }
    total
}

/// What the next layer reads: the dropped output when the layer has dropout.
#[inline]
fn out_of(l: &Layer) -> usize {
    if l.dropout > 0.0 {
        l.yd
    } else {
        l.y
    }
}

unsafe fn layers_of<'a>(plan: &Plan) -> &'a [Layer] {
    core::slice::from_raw_parts(plan.layers as *const Layer, plan.n_layers as usize)
}

unsafe fn hyper(plan: &Plan) -> OptHyper {
    *(plan.opt as *const OptHyper)
}

#[inline(never)]
unsafe fn validate(plan: &Plan, n: usize) -> bool {
    if n > plan.batch_cap as usize || plan.n_layers == 0 || plan.loss < LOSS_SOFTMAX_CE || plan.loss > LOSS_CUSTOM || plan.opt == 0 {
        return false;
    }
    if hyper(plan).kind > OPT_LAST {
        return false;
    }
    let mut width = 0u32;
    for (i, l) in layers_of(plan).iter().enumerate() {
        let kind = match layers::kind(l.kind) {
            Some(k) => k,
            None => return false,
        };
        if Act::from_code(l.act).is_none() || !(kind.check)(l) {
            return false;
        }
        if !(l.dropout >= 0.0 && l.dropout < 1.0) || (l.dropout > 0.0 && (l.mask == 0 || l.yd == 0)) || !(l.max_norm >= 0.0) || !(l.max_norm_eps >= 0.0) || l.frozen > 1 {
            return false;
        }
        if i > 0 && l.n_in != width {
            return false;
        }
        width = l.n_out;
    }
    true
}

/// Forward pass for `n` rows of `x`; returns the pointer to the last layer's output. `train`:
/// batch statistics are used (and the running statistics updated). `stochastic`: dropout (and
/// any stochastic layer) is on, masks kept for backward.
#[inline(never)]
unsafe fn forward(plan: &Plan, x: usize, n: usize, train: bool, stochastic: bool) -> Result<usize, u32> {
    let mut input = x;
    for (li, l) in layers_of(plan).iter().enumerate() {
        let no = l.n_out as usize;
        let a = Act::from_code(l.act).unwrap_or(Act::Linear);
        let kind = layers::kind(l.kind).ok_or(STATUS_BAD_PLAN)?;
        let pass = Pass { n, ws: plan.ws, seed: plan.seed, counter: plan.counter, index: li as u32, train, stochastic };
        let fused = (kind.forward)(l, &pass, input)?;
        if !fused && a != Act::Linear {
            act::forward(a, floats_mut(l.y, n * no), l.alpha);
        }
        if l.dropout > 0.0 {
            let yd = floats_mut(l.yd, n * no);
            yd.copy_from_slice(floats(l.y, n * no));
            if stochastic {
                dropout::forward(yd, floats_mut(l.mask, n * no), l.dropout, plan.seed, li as u32, plan.counter);
            }
        }
        input = out_of(l);
    }
    Ok(input)
}

/// The batch loss Σ_r w_r·loss_r and, with `grad`, its gradient `(1/n)·w_r·∂loss_r/∂out`
/// (mean over the batch of the weighted per-sample losses, as Keras's `sample_weight`).
/// `targets` holds class ids (i32) for softmax cross-entropy, else `[n, k]` floats.
unsafe fn batch_loss(plan: &Plan, out: usize, targets: usize, n: usize, k: usize, grad: Option<&mut [f32]>) -> (f64, u32) {
    let z = floats(out, n * k);
    let w = if plan.weights == 0 { None } else { Some(floats(plan.weights, n)) };
    let scale = 1.0 / n as f32;
    match plan.loss {
        LOSS_SOFTMAX_CE => {
            let labels = core::slice::from_raw_parts(targets as *const i32, n);
            loss::softmax_ce_any(z, labels, n, k, w, plan.label_smoothing, grad, scale)
        }
        LOSS_BCE_LOGITS => (loss::bce_logits(z, floats(targets, n * k), n, k, w, grad, scale), 0),
        kind => {
            let r = match kind {
                LOSS_MSE => loss::Regression::Mse,
                LOSS_MAE => loss::Regression::Mae,
                _ => loss::Regression::Huber(plan.huber_delta),
            };
            (loss::regression(r, z, floats(targets, n * k), n, k, w, grad, scale), 0)
        }
    }
}

/// Common start of the loss-computing steps: a malformed plan is refused and an empty batch
/// reports zero loss; `None` means "go on".
unsafe fn begin(plan: &mut Plan, n: usize) -> Option<u32> {
    if !validate(plan, n) || plan.loss == LOSS_CUSTOM {
        return Some(STATUS_BAD_PLAN);
    }
    if n == 0 {
        plan.out_loss = 0.0;
        plan.out_correct = 0;
        return Some(STATUS_OK);
    }
    None
}

/// Forward, loss, backward and update on `n` rows. Returns a status:
/// - [`STATUS_OK`];
/// - [`STATUS_NON_FINITE_LOSS`]: no parameter or optimizer state changed, and the running
///   statistics the forward pass updated are restored from the backup;
/// - [`STATUS_NON_FINITE_UPDATE`]: the loss was finite but a running statistic or an updated
///   parameter / optimizer-state element is NaN or ±Inf; every parameter, optimizer state and
///   running statistic is restored bit for bit from the backup, and `out_bad_*` say where the
///   first non-finite value was found;
/// - [`STATUS_BAD_ARGUMENT`]: malformed plan (including a missing or short backup), nothing changed.
///
/// # Safety
/// `plan` and every pointer it holds are valid; `x` holds `n × n_in` floats and `labels` n ints.
pub unsafe fn train_step(plan: &mut Plan, x: usize, labels: usize, n: usize) -> u32 {
    clear_bad(plan);
    if let Some(st) = begin(plan, n) {
        return st;
    }
    if !training_ready(plan) {
        return STATUS_BAD_ARGUMENT;
    }
    let ls = layers_of(plan);
    backup_running(plan.backup, ls);
    let st = grad_inner(plan, x, labels, n);
    if st == STATUS_NON_FINITE_LOSS {
        restore_running(plan.backup, ls);
        return st;
    }
    if st != STATUS_OK {
        return st;
    }
    update(plan)
}

/// The first half of the split step (a loss computed in JavaScript): the training forward pass
/// on `n` rows (dropout masks, batch statistics with the running statistics updated, noise),
/// exactly as [`train_step`]'s, leaving the last layer's output (after its activation and
/// dropout) where the next half's backward pass reads it. The running statistics are backed up
/// first. Any valid plan loss is accepted (the plan's loss kind is not used). Statuses:
/// [`STATUS_OK`], or [`STATUS_BAD_ARGUMENT`] (malformed plan or fewer rows than a batch
/// statistic needs; nothing changed). Writes `out_loss = 0`, `out_correct = 0`.
///
/// # Safety
/// As [`train_step`] (`labels` unused).
pub unsafe fn train_forward(plan: &mut Plan, x: usize, n: usize) -> u32 {
    clear_bad(plan);
    if !validate(plan, n) || !training_ready(plan) {
        return STATUS_BAD_PLAN;
    }
    plan.out_loss = 0.0;
    plan.out_correct = 0;
    if n == 0 {
        return STATUS_OK;
    }
    let ls = layers_of(plan);
    if ls.iter().any(|l| layers::kind(l.kind).map_or(false, |k| n < k.min_rows)) {
        return STATUS_BAD_PLAN;
    }
    backup_running(plan.backup, ls);
    match forward(plan, x, n, true, true) {
        Ok(_) => STATUS_OK,
        Err(e) => e,
    }
}

/// The second half of the split step: must follow [`train_forward`] on the same plan and rows,
/// with `dL/dout` (`n × outputs` floats, the gradient of the batch loss with respect to the last
/// layer's output as `train_forward` left it) written into `gbuf0` and the batch loss into
/// `out_loss`. A non-finite `out_loss` or gradient element: [`STATUS_NON_FINITE_LOSS`], the
/// running statistics restored and nothing else changed (JavaScript passes NaN to abandon a
/// step). Otherwise backward, clipping, penalties, the update with its finiteness proof or
/// backup and rollback, and the constraints, with [`train_step`]'s statuses.
///
/// # Safety
/// As [`train_step`]; `train_forward` ran last on this plan with the same `x` and `n`.
pub unsafe fn train_backward(plan: &mut Plan, x: usize, n: usize) -> u32 {
    clear_bad(plan);
    if !validate(plan, n) || !training_ready(plan) {
        return STATUS_BAD_PLAN;
    }
    if n == 0 {
        return STATUS_OK;
    }
    let ls = layers_of(plan);
    let k = ls[ls.len() - 1].n_out as usize;
    if !plan.out_loss.is_finite() || first_non_finite(floats(plan.gbuf0, n * k)).is_some() {
        restore_running(plan.backup, ls);
        return STATUS_NON_FINITE_LOSS;
    }
    let st = backward(plan, x, n);
    if st != STATUS_OK {
        restore_running(plan.backup, ls);
        return st;
    }
    update(plan)
}

fn clear_bad(plan: &mut Plan) {
    plan.out_bad_layer = NO_LAYER;
    plan.out_bad_tensor = 0;
    plan.out_bad_slot = 0;
    plan.out_bad_index = 0;
    plan.out_bad_value = 0.0;
}

/// Every state slot the optimizer needs exists, and the backup holds at least the running
/// statistics (the tensors' part is needed only by a step whose update is not proven finite:
/// without it such a step returns [`STATUS_NEEDS_BACKUP`]).
#[inline(never)]
unsafe fn training_ready(plan: &Plan) -> bool {
    let ls = layers_of(plan);
    let need = optim::needed_slots(&hyper(plan));
    for tn in all_tensors(ls) {
        let s = tn.slots();
        if (0..3).any(|i| need[i] && s[i] == 0) {
            return false;
        }
    }
    plan.backup != 0 && (plan.backup_len as usize) >= running_floats(ls)
}

/// Floats at the start of the backup that hold the running statistics.
fn running_floats(ls: &[Layer]) -> usize {
    ls.iter().map(|l| running(l).iter().filter(|&&p| p != 0).count() * running_len(l)).sum()
}

/// Copies the running buffers (the forward pass overwrites them before the loss is known) to the
/// start of the backup.
#[inline(never)]
unsafe fn backup_running(bk: usize, ls: &[Layer]) {
    let mut off = 0usize;
    for l in ls {
        for p in running(l).iter().filter(|&&p| p != 0) {
            let no = running_len(l);
            floats_mut(bk + off * 4, no).copy_from_slice(floats(*p, no));
            off += no;
        }
    }
}

/// The update phase of a training step, after a finite loss and the gradients in every layer's
/// `gw`/`gb`: the running-statistics check, clipping, the finiteness proof (or the backup), the
/// optimizer update with rollback, and the constraints. Not inlined: train_step and
/// train_backward share one copy (one call per step; the module stays small).
#[inline(never)]
unsafe fn update(plan: &mut Plan) -> u32 {
    let ls = layers_of(plan);
    let h = hyper(plan);
    let need = optim::needed_slots(&h);
    let bk = plan.backup;
    let off = running_floats(ls);
    // a finite loss with overflowing batch statistics (e.g. 1e30 inputs): caught here
    for (li, l) in ls.iter().enumerate() {
        let no = running_len(l);
        for (which, p) in [(TENSOR_RUNNING_MEAN, running(l)[0]), (TENSOR_RUNNING_VAR, running(l)[1])] {
            if p == 0 {
                continue;
            }
            if let Some(i) = first_non_finite(floats(p, no)) {
                record_bad(plan, li, which, 0, i, floats(p, no)[i]);
                restore_running(bk, ls);
                return STATUS_NON_FINITE_UPDATE;
            }
        }
    }
    optim::clip_gradients(&h, || all_tensors(ls));
    // Fast path: when bounds on |g|, |w| and |state| (one read-only pass) prove that no update can
    // overflow, nothing needs backing up (the backup copy costs ~6% of a step on a 235k-parameter
    // Adam model). Otherwise every tensor backs up what it overwrites.
    let cache_ok = plan.bounds != 0 && plan.bounds_valid == 1;
    let mut proven = true;
    // the gradients' largest |g|, a group of tensors per parallel region, then each tensor's proof
    let mut grp = Group::new();
    'proof: while grp.next(ls) {
        let mut gmax = [0.0f64; par::GROUP];
        par::scan_all(grp.n, &|i| (grp.t[i].g, grp.t[i].len as usize), &mut gmax);
        for i in 0..grp.n {
            let cached = if cache_ok { plan.bounds + (grp.first + i) * 16 } else { 0 };
            if !optim::provably_finite(&h, &grp.t[i], cached, gmax[i]) {
                proven = false;
                break 'proof;
            }
        }
    }
    #[cfg(test)]
    {
        if tests::FORCE_BACKUP.with(|f| f.get()) {
            proven = false;
        }
    }
    // an unproven step needs the tensors' backup: a plan that has only the running statistics'
    // part (the usual case: proofs hold in sane training, and the part is 3× the parameters for
    // Adam) gets it from the caller, which then runs the same step again
    if !proven && (plan.backup_len as usize) < backup_floats(ls, need) {
        restore_running(bk, ls);
        return STATUS_NEEDS_BACKUP;
    }
    // the update pass, a group of tensors per parallel region: each tensor reports whether what
    // it wrote is finite (checked per block while in L1); the first non-finite one stops the step
    let tensors_base = bk + off * 4;
    // the pass rewrites the bounds: valid again only once every tensor is done
    plan.bounds_valid = 0;
    let region = 4 * (1 + slot_count(need));
    let bounds = plan.bounds;
    let mut cur = tensors_base;
    let mut grp = Group::new();
    while grp.next(ls) {
        // tensor i's backup region follows those of the tensors before it
        let mut starts = [0usize; par::GROUP];
        for i in 0..grp.n {
            starts[i] = cur;
            cur += grp.t[i].len as usize * region;
        }
        let at = |i: usize| {
            let t = grp.t[i];
            let io = optim::Io {
                backup: if proven { [0; 4] } else { backup_addrs(starts[i], t.len as usize, need) },
                maxima: if bounds != 0 { bounds + (grp.first + i) * 16 } else { 0 },
            };
            (t, io)
        };
        if let Err(f) = par::update_all(&h, grp.n, &at) {
            let (li, which) = grp.owner[f.tensor];
            locate_bad(plan, li, which, &grp.t[f.tensor], need);
            if proven {
                // unreachable if the bounds are sound; reported, never hidden
                restore_running(bk, ls);
                return STATUS_NON_FINITE_RESULT;
            }
            // every tensor written so far, up to the end of the last one's backup region
            let end = starts[f.written - 1] + grp.t[f.written - 1].len as usize * region;
            restore_tensors(tensors_base, ls, need, end);
            restore_running(bk, ls);
            return STATUS_NON_FINITE_UPDATE;
        }
    }
    // only a proven pass keeps the cache valid: the proof's sign facts (v, vmax ≥ 0) then carry
    // over by induction (β2, 1 − β2 ≥ 0 checked there); an unproven pass makes the next step scan
    plan.bounds_valid = (plan.bounds != 0 && proven) as u32;
    // constraints on finite weights (each layer's tensors are final here; max-norm only shrinks
    // columns, so the bounds stay upper bounds)
    for l in ls {
        if let Some(k) = layers::kind(l.kind) {
            (k.constrain)(l);
        }
    }
    STATUS_OK
}

/// Backup addresses of one tensor's region at `cur`: the parameter, then each needed slot.
fn backup_addrs(cur: usize, len: usize, need: [bool; 3]) -> [usize; 4] {
    let mut b = [cur, 0, 0, 0];
    let mut o = cur + len * 4;
    for i in 0..3 {
        if need[i] {
            b[i + 1] = o;
            o += len * 4;
        }
    }
    b
}

fn first_non_finite(x: &[f32]) -> Option<usize> {
    x.iter().position(|v| !v.is_finite())
}

fn record_bad(plan: &mut Plan, layer: usize, tensor: u32, slot: u32, index: usize, value: f32) {
    plan.out_bad_layer = layer as u32;
    plan.out_bad_tensor = tensor;
    plan.out_bad_slot = slot;
    plan.out_bad_index = index as u32;
    plan.out_bad_value = value;
}

/// Finds the first non-finite element the update wrote into `t` (parameter first, then s1..s3).
unsafe fn locate_bad(plan: &mut Plan, layer: usize, which: u32, t: &OptTensor, need: [bool; 3]) {
    let s = t.slots();
    let mut where_ = [(t.w, 0u32), (0, 1), (0, 2), (0, 3)];
    for i in 0..3 {
        if need[i] {
            where_[i + 1].0 = s[i];
        }
    }
    for (p, slot) in where_ {
        if p != 0 {
            let v = floats(p, t.len as usize);
            if let Some(i) = first_non_finite(v) {
                record_bad(plan, layer, which, slot, i, v[i]);
                return;
            }
        }
    }
}

/// Copies the backup regions from `base` up to `end` (exclusive) back into their tensors, in the
/// order [`train_step`] wrote them.
unsafe fn restore_tensors(base: usize, ls: &[Layer], need: [bool; 3], end: usize) {
    let mut cur = base;
    for t in all_tensors(ls) {
        if cur >= end {
            return;
        }
        let len = t.len as usize;
        let b = backup_addrs(cur, len, need);
        floats_mut(t.w, len).copy_from_slice(floats(b[0], len));
        let s = t.slots();
        for i in 0..3 {
            if need[i] {
                floats_mut(s[i], len).copy_from_slice(floats(b[i + 1], len));
            }
        }
        cur += len * (1 + slot_count(need)) * 4;
    }
}

/// Copies the running buffers back from the start of the backup.
#[inline(never)]
unsafe fn restore_running(bk: usize, ls: &[Layer]) {
    let mut off = 0usize;
    for l in ls {
        for p in running(l).iter().filter(|&&p| p != 0) {
            let no = running_len(l);
            floats_mut(*p, no).copy_from_slice(floats(bk + off * 4, no));
            off += no;
        }
    }
}

/// Forward, loss and backward on `n` rows, without clipping, penalties or an optimizer update:
/// leaves `(1/n)·Σ_r w_r·∂loss_r/∂θ` of the data loss in every layer's `gw`/`gb` and writes
/// `out_loss`/`out_correct` (full-batch optimizers such as L-BFGS add the L1/L2 penalties and
/// take their own steps). With [`STATUS_NON_FINITE_LOSS`] the gradient buffers are stale.
///
/// # Safety
/// As [`train_step`].
pub unsafe fn grad_step(plan: &mut Plan, x: usize, labels: usize, n: usize) -> u32 {
    if let Some(st) = begin(plan, n) {
        return st;
    }
    grad_inner(plan, x, labels, n)
}

/// [`grad_step`] after [`begin`] accepted the plan and `n > 0`.
unsafe fn grad_inner(plan: &mut Plan, x: usize, labels: usize, n: usize) -> u32 {
    let ls = layers_of(plan);
    let last = &ls[ls.len() - 1];
    // Batch statistics need at least 2 rows; checked before anything changes.
    if ls.iter().any(|l| layers::kind(l.kind).map_or(false, |k| n < k.min_rows)) {
        return STATUS_BAD_PLAN;
    }
    let out = match forward(plan, x, n, true, true) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let k = last.n_out as usize;
    let (lsum, correct) = batch_loss(plan, out, labels, n, k, Some(floats_mut(plan.gbuf0, n * k)));
    plan.out_loss = lsum as f32;
    plan.out_correct = correct;
    if !lsum.is_finite() {
        return STATUS_NON_FINITE_LOSS;
    }
    backward(plan, x, n)
}

/// The backward pass from `dL/dout` in `gbuf0` (the last forward pass's activations and masks):
/// leaves every trainable layer's gradient in its `gw`/`gb`. Layers before the first one with
/// trainable tensors are skipped, and that one computes no input gradient (nothing before it
/// needs one; augmentation layers, which have no backward, may only stand there). Not inlined
/// (shared by grad_inner and train_backward; one call per step).
#[inline(never)]
unsafe fn backward(plan: &Plan, x: usize, n: usize) -> u32 {
    let ls = layers_of(plan);
    let first = ls.iter().position(|l| l.frozen == 0 && (l.w != 0 || l.b != 0)).unwrap_or(ls.len());
    // g holds dL/dy of the current layer.
    let (mut g, mut g_other) = (plan.gbuf0, plan.gbuf1);
    for li in (first..ls.len()).rev() {
        let l = &ls[li];
        let no = l.n_out as usize;
        let a = Act::from_code(l.act).unwrap_or(Act::Linear);
        if l.dropout > 0.0 {
            dropout::backward(floats_mut(g, n * no), floats(l.mask, n * no));
        }
        act::backward(a, floats(l.y, n * no), floats_mut(g, n * no), l.alpha);
        let input = if li == 0 { x } else { out_of(&ls[li - 1]) };
        let kind = match layers::kind(l.kind) {
            Some(k) => k,
            None => return STATUS_BAD_PLAN,
        };
        let pass = Pass { n, ws: plan.ws, seed: plan.seed, counter: plan.counter, index: li as u32, train: true, stochastic: true };
        if (kind.backward)(l, &pass, input, g, g_other, li > first) {
            core::mem::swap(&mut g, &mut g_other);
        }
    }
    STATUS_OK
}

/// Forward and loss only: writes `out_loss` and `out_correct`.
///
/// # Safety
/// As [`train_step`].
pub unsafe fn eval_step(plan: &mut Plan, x: usize, labels: usize, n: usize) -> u32 {
    if let Some(st) = begin(plan, n) {
        return st;
    }
    let ls = layers_of(plan);
    let k = ls[ls.len() - 1].n_out as usize;
    let out = match forward(plan, x, n, false, false) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (lsum, correct) = batch_loss(plan, out, labels, n, k, None);
    plan.out_loss = lsum as f32;
    plan.out_correct = correct;
    if lsum.is_finite() {
        STATUS_OK
    } else {
        STATUS_NON_FINITE_LOSS
    }
}

/// Forward only; writes class probabilities (softmax of the last layer) to `out` `[n, k]`.
///
/// # Safety
/// As [`train_step`]; `out` holds `n × k` floats.
pub unsafe fn predict_step(plan: &mut Plan, x: usize, n: usize, out: usize) -> u32 {
    if !validate(plan, n) {
        return STATUS_BAD_PLAN;
    }
    if n == 0 {
        return STATUS_OK;
    }
    let ls = layers_of(plan);
    let k = ls[ls.len() - 1].n_out as usize;
    // Monte Carlo sampling keeps batch norm at its running statistics: stochastic layers only.
    let y = match forward(plan, x, n, false, plan.mc_dropout != 0) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let o = floats_mut(out, n * k);
    o.copy_from_slice(floats(y, n * k));
    match plan.loss {
        LOSS_SOFTMAX_CE => act::softmax_rows_inplace(o, n, k),
        LOSS_BCE_LOGITS => act::forward(Act::Sigmoid, o, 0.0),
        _ => {}
    }
    STATUS_OK
}

#[cfg(test)]
mod tests {
    //! Small plans built from one `Vec<f32>` (a stand-in for linear memory) in which every buffer
    //! sits between guard bands of NaN and huge finite values: a write past any buffer changes a
    //! guard (clipping leaves NaN alone but clamps ±3e38; scaling changes ±3e38), and every test
    //! checks that no guard changed.
    use super::*;
    use crate::layers::{batch_norm, dense as dense_kind};
    use crate::optim::{OPT_ADAGRAD, OPT_ADAM, OPT_ADAMW, OPT_AMSGRAD, OPT_CENTERED, OPT_FIRST_STEP, OPT_NESTEROV, OPT_RMSPROP, OPT_SGD, OPT_KERAS_ADAGRAD, OPT_KERAS_ADAM, OPT_KERAS_RMSPROP, OPT_KERAS_SGD};

    thread_local! {
        /// Test-only: makes `train_step` on this thread take the backup path.
        pub(super) static FORCE_BACKUP: core::cell::Cell<bool> = core::cell::Cell::new(false);
    }

    const G: usize = 32;
    const GUARD: [u32; 4] = [0x7fc0_dead, 0x7f7f_0000, 0xff7f_0000, 0x7fa0_beef];

    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Spec {
        Dense { n_out: usize, act: u32, bias: bool, dropout: f32 },
        Bn,
    }

    /// Buffers of one layer (offsets into `Mem::v`, in floats; `usize::MAX` = none).
    #[derive(Clone, Copy)]
    struct Bufs {
        w: usize,
        b: usize,
        gw: usize,
        gb: usize,
        y: usize,
        ws: [usize; 3],
        bs: [usize; 3],
        mask: usize,
        yd: usize,
        rm: usize,
        rv: usize,
        sm: usize,
        si: usize,
        wl: usize,
        bl: usize,
    }

    struct Mem {
        v: Vec<f32>,
        regions: Vec<(usize, usize)>,
    }

    impl Mem {
        fn new() -> Mem {
            Mem { v: Vec::new(), regions: Vec::new() }
        }
        fn guard(&mut self) {
            for i in 0..G {
                self.v.push(f32::from_bits(GUARD[i % 4]));
            }
        }
        fn alloc(&mut self, n: usize) -> usize {
            if self.v.is_empty() {
                self.guard();
            }
            let off = self.v.len();
            self.v.extend(core::iter::repeat(0.0f32).take(n.max(1)));
            self.regions.push((off, n.max(1)));
            self.guard();
            off
        }
        fn addr(&self, off: usize) -> usize {
            if off == usize::MAX {
                0
            } else {
                self.v.as_ptr() as usize + off * 4
            }
        }
        /// Every float outside the allocated regions still holds its guard bits.
        fn guards_intact(&self) -> bool {
            let mut inside = vec![false; self.v.len()];
            for &(o, n) in &self.regions {
                for f in inside.iter_mut().skip(o).take(n) {
                    *f = true;
                }
            }
            let mut k = 0usize;
            for (i, x) in self.v.iter().enumerate() {
                if inside[i] {
                    k = 0;
                    continue;
                }
                if x.to_bits() != GUARD[k % 4] {
                    return false;
                }
                k += 1;
            }
            true
        }
    }

    struct Fix {
        mem: Mem,
        bufs: Vec<Bufs>,
        recs: Vec<Layer>,
        plan: Plan,
        opt: Box<OptHyper>,
        x: usize,
        labels: usize,
        backup: usize,
        bounds: usize,
        n: usize,
        d: usize,
        force_backup: bool,
    }

    fn lcg(s: &mut u64) -> f32 {
        *s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn need_of(kind: u32, flags: u32, momentum: f32) -> [bool; 3] {
        optim::needed_slots(&OptHyper { kind, flags, momentum, ..OptHyper::default() })
    }

    /// Builds a plan: `d` inputs, `specs` layers, `n` rows, `loss`, optimizer `kind`/`flags`.
    fn build(d: usize, specs: &[Spec], n: usize, loss: u32, kind: u32, flags: u32, seed: u64) -> Fix {
        let momentum = if kind == OPT_SGD || kind == OPT_RMSPROP || kind == OPT_KERAS_SGD || kind == OPT_KERAS_RMSPROP { 0.9 } else { 0.0 };
        let need = need_of(kind, flags, momentum);
        let mut mem = Mem::new();
        let mut bufs = Vec::new();
        let mut width = d;
        let none = usize::MAX;
        for s in specs {
            let (ni, no) = match *s {
                Spec::Dense { n_out, .. } => (width, n_out),
                Spec::Bn => (width, width),
            };
            let bn = *s == Spec::Bn;
            let bias = match *s {
                Spec::Dense { bias, .. } => bias,
                Spec::Bn => true,
            };
            let drop = match *s {
                Spec::Dense { dropout, .. } => dropout,
                Spec::Bn => 0.0,
            };
            let wl = if bn { no } else { ni * no };
            let bl = if bias { no } else { 0 };
            let mut b = Bufs { w: mem.alloc(wl), b: none, gw: mem.alloc(wl), gb: none, y: mem.alloc(n * no), ws: [none; 3], bs: [none; 3], mask: none, yd: none, rm: none, rv: none, sm: none, si: none, wl, bl };
            if bias {
                b.b = mem.alloc(no);
                b.gb = mem.alloc(no);
            }
            for i in 0..3 {
                if need[i] {
                    b.ws[i] = mem.alloc(wl);
                    if bias {
                        b.bs[i] = mem.alloc(no);
                    }
                }
            }
            if drop > 0.0 {
                b.mask = mem.alloc(n * no);
                b.yd = mem.alloc(n * no);
            }
            if bn {
                b.rm = mem.alloc(no);
                b.rv = mem.alloc(no);
                b.sm = mem.alloc(no);
                b.si = mem.alloc(no);
            }
            bufs.push(b);
            width = no;
        }
        let k = width;
        let x = mem.alloc(n * d);
        let labels = mem.alloc(n * k);
        let g0 = mem.alloc(n * 64);
        let g1 = mem.alloc(n * 64);
        let ws = mem.alloc(crate::gemm::WORKSPACE_FLOATS);
        // contents
        let mut s = seed;
        for b in &bufs {
            for i in 0..b.wl {
                mem.v[b.w + i] = lcg(&mut s) * 0.7;
            }
            if b.b != none {
                for i in 0..b.bl {
                    mem.v[b.b + i] = lcg(&mut s) * 0.1;
                }
            }
            if b.rm != none {
                for i in 0..b.wl {
                    mem.v[b.w + i] = 1.0 + 0.1 * lcg(&mut s);
                    mem.v[b.rm + i] = 0.0;
                    mem.v[b.rv + i] = 1.0;
                }
            }
            if kind == OPT_ADAGRAD {
                for (i, &p) in b.ws.iter().enumerate().chain(b.bs.iter().enumerate()) {
                    if p != none && i == 0 {
                        let len = if b.ws.contains(&p) { b.wl } else { b.bl };
                        for j in 0..len {
                            mem.v[p + j] = 0.1;
                        }
                    }
                }
            }
        }
        for i in 0..n * d {
            mem.v[x + i] = lcg(&mut s) * 2.0 + (i % d) as f32 * 0.5;
        }
        for r in 0..n {
            if loss == LOSS_SOFTMAX_CE {
                mem.v[labels + r] = f32::from_bits((r % k) as u32);
            } else {
                for j in 0..k {
                    let t = lcg(&mut s);
                    mem.v[labels + r * k + j] = if loss == LOSS_BCE_LOGITS { (t > 0.0) as u32 as f32 } else { t * 3.0 };
                }
            }
        }
        let mut lay: Vec<Layer> = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let b = bufs[i];
            let mut l: Layer = unsafe { core::mem::zeroed() };
            let ni = if i == 0 { d } else { lay[i - 1].n_out as usize };
            match *spec {
                Spec::Dense { n_out, act, dropout, .. } => {
                    l.kind = dense_kind::CODE;
                    l.n_in = ni as u32;
                    l.n_out = n_out as u32;
                    l.act = act;
                    l.alpha = 0.1;
                    l.dropout = dropout;
                    l.l2 = 1e-3;
                    l.bl1 = 1e-4;
                }
                Spec::Bn => {
                    l.kind = batch_norm::CODE;
                    l.n_in = ni as u32;
                    l.n_out = ni as u32;
                    l.bn_eps = 1e-5;
                    l.bn_momentum = 0.1;
                }
            }
            link(&mut l, &b, &mem);
            l.w_len = b.wl as u32;
            l.b_len = b.bl as u32;
            lay.push(l);
        }
        let bk_len = backup_floats(&lay, need);
        let backup = mem.alloc(bk_len);
        let n_tensors: usize = lay.iter().map(|l| tensors(l).iter().flatten().count()).sum();
        let bounds = mem.alloc(4 * n_tensors);
        let mut fix = Fix { mem, bufs, recs: lay, plan: unsafe { core::mem::zeroed() }, opt: Box::new(unsafe { core::mem::zeroed() }), x, labels, backup, bounds, n, d, force_backup: false };
        // the backup allocation may have moved the Vec: derive every address again
        fix.relink();
        let o = &mut *fix.opt;
        o.kind = kind;
        o.flags = flags;
        o.momentum = momentum;
        o.beta1 = if kind == OPT_RMSPROP { 0.99 } else { 0.9 };
        o.beta2 = 0.999;
        o.one_minus_beta1 = if kind == OPT_RMSPROP { 0.01 } else { 0.1 };
        o.one_minus_beta2 = 0.001;
        o.eps = 1e-8;
        o.weight_decay = if kind == OPT_ADAMW { 0.01 } else { 0.0 };
        o.lr = 0.01;
        let p = &mut fix.plan;
        p.n_layers = specs.len() as u32;
        p.loss = loss;
        p.batch_cap = n as u32;
        p.seed = 7;
        p.huber_delta = 1.0;
        p.backup_len = bk_len as u32;
        fix.relink_plan(g0, g1, ws);
        fix
    }

    /// Writes a layer record's addresses from its buffer offsets.
    fn link(l: &mut Layer, b: &Bufs, m: &Mem) {
        let a = |o: usize| m.addr(o);
        l.w = a(b.w);
        l.b = a(b.b);
        l.gw = a(b.gw);
        l.gb = a(b.gb);
        l.y = a(b.y);
        l.ws1 = a(b.ws[0]);
        l.ws2 = a(b.ws[1]);
        l.ws3 = a(b.ws[2]);
        l.bs1 = a(b.bs[0]);
        l.bs2 = a(b.bs[1]);
        l.bs3 = a(b.bs[2]);
        l.mask = a(b.mask);
        l.yd = a(b.yd);
        l.running_mean = a(b.rm);
        l.running_var = a(b.rv);
        l.save_mean = a(b.sm);
        l.save_inv_std = a(b.si);
    }

    impl Fix {
        /// Rewrites every address from the offsets (the Vec does not move after `build`).
        fn relink(&mut self) {
            for (l, b) in self.recs.iter_mut().zip(self.bufs.iter()) {
                link(l, b, &self.mem);
            }
        }
        fn relink_plan(&mut self, g0: usize, g1: usize, ws: usize) {
            let m = &self.mem;
            self.plan.layers = self.recs.as_ptr() as usize;
            self.plan.gbuf0 = m.addr(g0);
            self.plan.gbuf1 = m.addr(g1);
            self.plan.ws = m.addr(ws);
            self.plan.opt = &*self.opt as *const OptHyper as usize;
            self.plan.backup = m.addr(self.backup);
            self.plan.bounds = m.addr(self.bounds);
        }
        /// Step-dependent optimizer fields for step `t` (as ts/optimizers/record.ts writeStep, with f32 step_size here).
        fn set_step(&mut self, t: i32) {
            let o = &mut *self.opt;
            o.flags &= !OPT_FIRST_STEP;
            if o.kind == OPT_SGD && t == 1 {
                o.flags |= OPT_FIRST_STEP;
            }
            o.bias_correction1 = (1.0 - 0.9f64.powi(t)) as f32;
            o.bias_correction2_sqrt = (1.0 - 0.999f64.powi(t)).sqrt() as f32;
            o.step_size = o.lr / o.bias_correction1;
            o.decay_keep = 1.0 - o.lr * o.weight_decay;
        }
        fn step(&mut self, t: i32) -> u32 {
            self.set_step(t);
            self.plan.counter = t as u32;
            let (x, l, n) = (self.mem.addr(self.x), self.mem.addr(self.labels), self.n);
            FORCE_BACKUP.with(|f| f.set(self.force_backup));
            let st = unsafe { train_step(&mut self.plan, x, l, n) };
            FORCE_BACKUP.with(|f| f.set(false));
            st
        }
        /// The split step with the plan's own loss computed between the halves, as JavaScript
        /// would compute a custom one: `dL/dout` into `gbuf0`, the loss into `out_loss`. `poison`
        /// replaces one gradient element (a user function returning NaN).
        fn split_step(&mut self, t: i32, poison: Option<f32>) -> u32 {
            self.set_step(t);
            self.plan.counter = t as u32;
            let (x, l, n) = (self.mem.addr(self.x), self.mem.addr(self.labels), self.n);
            let st = unsafe { train_forward(&mut self.plan, x, n) };
            if st != STATUS_OK {
                return st;
            }
            let last = &self.recs[self.recs.len() - 1];
            let (k, out) = (last.n_out as usize, out_of(last));
            let (lsum, _) = unsafe { batch_loss(&self.plan, out, l, n, k, Some(floats_mut(self.plan.gbuf0, n * k))) };
            self.plan.out_loss = lsum as f32;
            if let Some(v) = poison {
                unsafe { floats_mut(self.plan.gbuf0, n * k)[k] = v };
            }
            FORCE_BACKUP.with(|f| f.set(self.force_backup));
            let st = unsafe { train_backward(&mut self.plan, x, n) };
            FORCE_BACKUP.with(|f| f.set(false));
            st
        }
        fn grads(&mut self) -> u32 {
            let (x, l, n) = (self.mem.addr(self.x), self.mem.addr(self.labels), self.n);
            unsafe { grad_step(&mut self.plan, x, l, n) }
        }
        fn get(&self, off: usize, n: usize) -> Vec<f32> {
            self.mem.v[off..off + n].to_vec()
        }
        /// Bits of every parameter, optimizer state and running statistic.
        fn state_bits(&self) -> Vec<u32> {
            let mut out = Vec::new();
            for b in &self.bufs {
                let mut parts = vec![(b.w, b.wl), (b.b, b.bl), (b.rm, b.wl), (b.rv, b.wl)];
                for i in 0..3 {
                    parts.push((b.ws[i], b.wl));
                    parts.push((b.bs[i], b.bl));
                }
                for (o, n) in parts {
                    if o != usize::MAX {
                        out.extend(self.mem.v[o..o + n].iter().map(|v| v.to_bits()));
                    }
                }
            }
            out
        }
    }

    fn dense(n_out: usize, act: u32) -> Spec {
        Spec::Dense { n_out, act, bias: true, dropout: 0.0 }
    }

    const LOSSES: [u32; 5] = [LOSS_SOFTMAX_CE, LOSS_MSE, LOSS_MAE, LOSS_HUBER, LOSS_BCE_LOGITS];
    /// (kind, flags) of every optimizer and variant the plan supports.
    const OPTS: [(u32, u32); 11] = [
        (OPT_SGD, 0),
        (OPT_SGD, OPT_NESTEROV),
        (OPT_ADAGRAD, 0),
        (OPT_RMSPROP, OPT_CENTERED),
        (OPT_ADAM, 0),
        (OPT_ADAM, OPT_AMSGRAD),
        (OPT_ADAMW, 0),
        (OPT_KERAS_SGD, OPT_NESTEROV),
        (OPT_KERAS_RMSPROP, OPT_CENTERED),
        (OPT_KERAS_ADAGRAD, 0),
        (OPT_KERAS_ADAM, OPT_AMSGRAD),
    ];

    fn archs() -> Vec<Vec<Spec>> {
        vec![
            // dense + batch norm (+ a dense after it: γ/β sit between two kernels)
            vec![dense(6, 1), Spec::Bn, dense(3, 0)],
            // batch norm first: its γ-gradient is the first tensor clipping visits
            vec![Spec::Bn, dense(7, 4), dense(3, 0)],
            // dense + dropout, no bias on one layer
            vec![Spec::Dense { n_out: 9, act: 5, bias: false, dropout: 0.3 }, Spec::Dense { n_out: 5, act: 2, bias: true, dropout: 0.5 }, dense(3, 3)],
        ]
    }

    #[test]
    fn tensors_yield_every_trainable_tensor_with_record_lengths() {
        let f = build(5, &[dense(4, 0), Spec::Bn, Spec::Dense { n_out: 3, act: 0, bias: false, dropout: 0.0 }], 4, LOSS_MSE, OPT_ADAM, OPT_AMSGRAD, 1);
        let t: Vec<Vec<(u32, usize, usize)>> = f.recs.iter().map(|l| tensors(l).iter().enumerate().filter_map(|(i, t)| t.map(|t| (i as u32, t.len as usize, t.slots().iter().filter(|&&p| p != 0).count()))).collect()).collect();
        assert_eq!(t[0], vec![(TENSOR_WEIGHT, 20, 3), (TENSOR_BIAS, 4, 3)]);
        assert_eq!(t[1], vec![(TENSOR_WEIGHT, 4, 3), (TENSOR_BIAS, 4, 3)]);
        assert_eq!(t[2], vec![(TENSOR_WEIGHT, 12, 3)]);
        // backup: 2·4 running stats + (20 + 4 + 4 + 4 + 12)·(1 + 3)
        assert_eq!(backup_floats(&f.recs, [true, true, true]), 8 + 44 * 4);
    }

    /// Every loss × optimizer × clip option × architecture: the step succeeds, changes the
    /// weights, keeps them finite, and writes nothing outside a buffer.
    #[test]
    fn train_step_every_loss_optimizer_clip_and_architecture_stays_in_bounds() {
        let clips: [(f32, f32, f32); 4] = [(0.0, 0.0, 0.0), (1e-3, 0.0, 0.0), (0.0, 0.05, 0.0), (0.0, 0.0, 0.05)];
        let mut runs = 0;
        for arch in archs() {
            for &loss in LOSSES.iter() {
                for &(kind, flags) in OPTS.iter() {
                    for &(cv, cn, gn) in clips.iter() {
                        let mut f = build(4, &arch, 6, loss, kind, flags, 11 + runs as u64);
                        f.opt.clip_value = cv;
                        f.opt.clip_norm = cn;
                        f.opt.global_clip_norm = gn;
                        let before = f.state_bits();
                        for t in 1..=3 {
                            assert_eq!(f.step(t), STATUS_OK, "arch {:?} loss {} opt {} {} clip {:?}", arch, loss, kind, flags, (cv, cn, gn));
                        }
                        assert!(f.mem.guards_intact(), "guard changed: arch {:?} loss {} opt {} clip {:?}", arch, loss, kind, (cv, cn, gn));
                        let after = f.state_bits();
                        assert_ne!(before, after);
                        assert!(after.iter().all(|&b| f32::from_bits(b).is_finite()));
                        assert_eq!(f.plan.out_bad_layer, NO_LAYER);
                        runs += 1;
                    }
                }
            }
        }
        assert_eq!(runs, 3 * 5 * OPTS.len() * 4);
    }

    /// The reported regression: `[batchNorm, dense(2)]`, SGD clipValue 1e-3. The running variance
    /// after one step is PyTorch's `(1 − 0.1)·1 + 0.1·unbiased var(x)` (float64 reference).
    #[test]
    fn clip_value_with_batch_norm_keeps_running_variance_pytorch_exact() {
        for &(cv, cn) in [(1e-3f32, 0.0f32), (0.0, 1e-3)].iter() {
            let mut f = build(4, &[Spec::Bn, dense(2, 0)], 8, LOSS_SOFTMAX_CE, OPT_SGD, 0, 3);
            f.opt.momentum = 0.0;
            f.opt.clip_value = cv;
            f.opt.clip_norm = cn;
            let (n, d) = (f.n, f.d);
            let x = f.get(f.x, n * d);
            assert_eq!(f.step(1), STATUS_OK);
            assert!(f.mem.guards_intact());
            let rv = f.get(f.bufs[0].rv, d);
            let rm = f.get(f.bufs[0].rm, d);
            for j in 0..d {
                let col: Vec<f64> = (0..n).map(|r| x[r * d + j] as f64).collect();
                let mean = col.iter().sum::<f64>() / n as f64;
                let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n as f64 - 1.0);
                let want_v = 0.9 * 1.0 + 0.1 * var;
                let want_m = 0.1 * mean;
                assert!(((rv[j] as f64) - want_v).abs() <= 1e-6 * want_v, "running_var[{}] = {} want {}", j, rv[j], want_v);
                assert!(((rm[j] as f64) - want_m).abs() <= 1e-6 * want_m.abs().max(1e-3), "running_mean[{}] = {} want {}", j, rm[j], want_m);
            }
        }
    }

    /// Clipping against a float64 reference: the clipped gradient buffers after `train_step`
    /// equal Keras's clipnorm / global_clipnorm / clipvalue of the unclipped gradients (computed by
    /// `grad_step` on an identical plan) evaluated in f64.
    #[test]
    fn clipping_matches_f64_reference() {
        for arch in archs() {
            for &(cv, cn, gn) in [(2e-3f32, 0.0f32, 0.0f32), (0.0, 0.02, 0.0), (0.0, 0.0, 0.03), (1e-3, 0.02, 0.03)].iter() {
                let mut a = build(4, &arch, 6, LOSS_MSE, OPT_SGD, 0, 5);
                let mut b = build(4, &arch, 6, LOSS_MSE, OPT_SGD, 0, 5);
                a.plan.counter = 1;
                assert_eq!(a.grads(), STATUS_OK);
                b.opt.clip_value = cv;
                b.opt.clip_norm = cn;
                b.opt.global_clip_norm = gn;
                assert_eq!(b.step(1), STATUS_OK);
                assert!(b.mem.guards_intact());
                // unclipped gradients by shape (not through tensors()): kernel/γ, then bias/β
                let mut gs: Vec<Vec<f64>> = Vec::new();
                let mut offs = Vec::new();
                for bf in &a.bufs {
                    gs.push(a.get(bf.gw, bf.wl).iter().map(|&v| v as f64).collect());
                    offs.push((bf.gw, bf.wl));
                    if bf.gb != usize::MAX {
                        gs.push(a.get(bf.gb, bf.bl).iter().map(|&v| v as f64).collect());
                        offs.push((bf.gb, bf.bl));
                    }
                }
                let norm = |g: &Vec<f64>| g.iter().map(|v| v * v).sum::<f64>().sqrt();
                if cn > 0.0 {
                    for g in gs.iter_mut() {
                        let nr = norm(g);
                        if nr > cn as f64 {
                            let s = cn as f64 / nr;
                            g.iter_mut().for_each(|v| *v *= s);
                        }
                    }
                }
                if gn > 0.0 {
                    let nr = gs.iter().map(|g| norm(g).powi(2)).sum::<f64>().sqrt();
                    if nr > gn as f64 {
                        let s = gn as f64 / nr;
                        gs.iter_mut().for_each(|g| g.iter_mut().for_each(|v| *v *= s));
                    }
                }
                if cv > 0.0 {
                    gs.iter_mut().for_each(|g| g.iter_mut().for_each(|v| *v = v.max(-(cv as f64)).min(cv as f64)));
                }
                for (g, &(o, len)) in gs.iter().zip(offs.iter()) {
                    let got = b.get(o, len);
                    for i in 0..len {
                        let tol = 4e-7 * g[i].abs() + 1e-30;
                        assert!(((got[i] as f64) - g[i]).abs() <= tol, "clip {:?}: {} vs f64 {}", (cv, cn, gn), got[i], g[i]);
                    }
                }
            }
        }
    }

    /// A finite loss with an overflowing update: status 3, every parameter, optimizer state and
    /// running statistic bit-identical to before the step, and the culprit reported.
    #[test]
    fn non_finite_update_rolls_back_bit_exact() {
        for arch in archs() {
            for &(kind, flags) in OPTS.iter() {
                let mut f = build(4, &arch, 6, LOSS_MSE, kind, flags, 21);
                for t in 1..=2 {
                    assert_eq!(f.step(t), STATUS_OK);
                }
                let before = f.state_bits();
                assert_eq!(f.plan.out_bad_layer, NO_LAYER);
                // an infinite rate: lr·d is ±Inf (or NaN where d = 0) in the first tensor
                f.opt.lr = f32::INFINITY;
                let st = f.step(3);
                let after = f.state_bits();
                assert_eq!(st, STATUS_NON_FINITE_UPDATE, "opt {} {}", kind, flags);
                assert_eq!(before, after, "rollback not bit-exact: opt {} {}", kind, flags);
                assert!(f.mem.guards_intact());
                assert!((f.plan.out_bad_layer as usize) < f.recs.len());
                assert!(!f.plan.out_bad_value.is_finite());
            }
        }
    }

    /// Adam with eps 0 and a dead input feature: its kernel row has zero gradient, so m = v = 0 and
    /// the update divides 0 by 0. The step is rolled back and the tensor, slot and element named.
    #[test]
    fn adam_eps_zero_dead_feature_is_reported_and_rolled_back() {
        let mut f = build(3, &[dense(2, 0)], 5, LOSS_MSE, OPT_ADAM, 0, 9);
        f.opt.eps = 0.0;
        f.recs[0].l2 = 0.0;
        f.recs[0].bl1 = 0.0;
        let (x, n, d) = (f.x, f.n, f.d);
        for r in 0..n {
            f.mem.v[x + r * d + 1] = 0.0; // feature 1 is always 0
        }
        let before = f.state_bits();
        assert_eq!(f.step(1), STATUS_NON_FINITE_UPDATE);
        assert_eq!(f.state_bits(), before);
        assert!(f.mem.guards_intact());
        assert_eq!((f.plan.out_bad_layer, f.plan.out_bad_tensor, f.plan.out_bad_slot), (0, TENSOR_WEIGHT, 0));
        // kernel [3, 2] row-major: feature 1's weights are elements 2 and 3
        assert_eq!(f.plan.out_bad_index, 2);
        assert!(f.plan.out_bad_value.is_nan());
    }

    /// A non-finite loss: status 1 and the running statistics the forward pass changed are back.
    #[test]
    fn non_finite_loss_restores_running_statistics() {
        let mut f = build(4, &[Spec::Bn, dense(3, 0)], 6, LOSS_MSE, OPT_ADAM, 0, 4);
        assert_eq!(f.step(1), STATUS_OK);
        let before = f.state_bits();
        let t = f.labels;
        f.mem.v[t] = f32::INFINITY;
        assert_eq!(f.step(2), STATUS_NON_FINITE_LOSS);
        assert_eq!(f.state_bits(), before);
        assert!(f.mem.guards_intact());
        // 1e30 inputs: batch statistics overflow (running variance is +Inf) with a NaN/Inf loss or
        // a non-finite statistic: either way nothing is kept
        let mut g = build(4, &[Spec::Bn, dense(3, 0)], 6, LOSS_MSE, OPT_SGD, 0, 4);
        let before = g.state_bits();
        let (x, nd) = (g.x, g.n * g.d);
        for i in 0..nd {
            g.mem.v[x + i] *= 1e30;
        }
        let st = g.step(1);
        assert!(st == STATUS_NON_FINITE_UPDATE || st == STATUS_NON_FINITE_LOSS, "status {}", st);
        assert_eq!(g.state_bits(), before);
        assert!(g.mem.guards_intact());
    }

    /// The fast path (bounds prove the update finite: no backup written) and the backup path
    /// compute the same bits; rates / eps that defeat the proof take the backup path.
    #[test]
    fn proven_fast_path_skips_backup_and_matches_backup_path() {
        let arch = [dense(6, 1), Spec::Bn, dense(3, 0)];
        for &(kind, flags) in [
            (OPT_SGD, 0),
            (OPT_SGD, OPT_NESTEROV),
            (OPT_ADAM, 0),
            (OPT_ADAM, OPT_AMSGRAD),
            (OPT_ADAMW, 0),
            (OPT_RMSPROP, 0),
            (OPT_ADAGRAD, 0),
            (OPT_KERAS_SGD, 0),
            (OPT_KERAS_SGD, OPT_NESTEROV),
            (OPT_KERAS_ADAM, 0),
            (OPT_KERAS_ADAM, OPT_AMSGRAD),
            (OPT_KERAS_RMSPROP, 0),
            (OPT_KERAS_ADAGRAD, 0),
        ]
        .iter()
        {
            let mut a = build(4, &arch, 6, LOSS_SOFTMAX_CE, kind, flags, 8);
            let mut b = build(4, &arch, 6, LOSS_SOFTMAX_CE, kind, flags, 8);
            // b takes the backup path whatever the bounds say
            b.force_backup = true;
            let sentinel = f32::from_bits(0x7fc0_1234);
            let (bo, bl) = (a.backup, a.plan.backup_len as usize);
            for i in 0..bl {
                a.mem.v[bo + i] = sentinel;
            }
            for t in 1..=3 {
                assert_eq!(a.step(t), STATUS_OK);
                assert_eq!(b.step(t), STATUS_OK);
            }
            assert_eq!(a.state_bits(), b.state_bits());
            // running statistics (2·6 floats at the start) are always backed up; the tensor part
            // of the backup is untouched exactly when the proof held (SGD, Adam family)
            let untouched = a.mem.v[bo + 12..bo + bl].iter().all(|v| v.to_bits() == sentinel.to_bits());
            let proven = kind == OPT_SGD || kind == OPT_ADAM || kind == OPT_ADAMW || kind == OPT_KERAS_SGD || kind == OPT_KERAS_ADAM;
            assert_eq!(untouched, proven, "opt {} {}", kind, flags);
            assert!(a.mem.guards_intact());
        }
        // eps = 0 defeats Adam's proof: the backup is written (and a 0/0 is rolled back: see
        // adam_eps_zero_dead_feature_is_reported_and_rolled_back)
        let mut c = build(4, &arch, 6, LOSS_MSE, OPT_ADAM, 0, 8);
        c.opt.eps = 0.0;
        let (bo, bl) = (c.backup, c.plan.backup_len as usize);
        for i in 0..bl {
            c.mem.v[bo + i] = f32::from_bits(0x7fc0_1234);
        }
        let st = c.step(1);
        assert!(st == STATUS_OK || st == STATUS_NON_FINITE_UPDATE);
        assert!(c.mem.v[bo + 12..bo + bl].iter().any(|v| v.to_bits() != 0x7fc0_1234));
    }

    /// A plan whose backup holds only the running statistics (what TypeScript gives a plan first):
    /// proven steps run without the rest; an unproven step returns STATUS_NEEDS_BACKUP with every
    /// parameter, optimizer state and running statistic unchanged, and once the plan has the whole
    /// backup the same step gives the bits of a plan that had it from the start.
    #[test]
    fn short_backup_serves_proven_steps_and_asks_for_the_rest() {
        let arch = [dense(6, 1), Spec::Bn, dense(3, 0)];
        for &(kind, eps) in [(OPT_ADAM, 1e-8f32), (OPT_ADAM, 0.0), (OPT_RMSPROP, 1e-8), (OPT_SGD, 0.0)].iter() {
            let mut a = build(4, &arch, 6, LOSS_SOFTMAX_CE, kind, 0, 8);
            let mut b = build(4, &arch, 6, LOSS_SOFTMAX_CE, kind, 0, 8);
            a.opt.eps = eps;
            b.opt.eps = eps;
            let full = a.plan.backup_len;
            let running = 12u32; // batch norm's mean and variance over 6 features
            a.plan.backup_len = running;
            // a backup shorter than the running statistics is malformed
            a.plan.backup_len = running - 1;
            let before = a.state_bits();
            assert_eq!(a.step(1), STATUS_BAD_ARGUMENT);
            assert_eq!(a.state_bits(), before);
            a.plan.backup_len = running;
            // the proof holds for SGD and for Adam with eps > 0; RMSProp has none, eps = 0 defeats Adam's
            let proven = kind == OPT_SGD || (kind == OPT_ADAM && eps > 0.0);
            for t in 1..=3 {
                let before = a.state_bits();
                let mut st = a.step(t);
                if !proven {
                    assert_eq!(st, STATUS_NEEDS_BACKUP, "opt {} eps {} step {}", kind, eps, t);
                    assert_eq!(a.state_bits(), before, "a refused step changed the state");
                    a.plan.backup_len = full;
                    st = a.step(t);
                    a.plan.backup_len = running;
                }
                assert_eq!(st, b.step(t));
                assert_eq!(a.state_bits(), b.state_bits(), "opt {} eps {} step {}", kind, eps, t);
                assert!(a.mem.guards_intact());
            }
        }
    }

    /// The cached bounds: valid after a proven step, then only the gradient is scanned. A write
    /// behind the step's back (TypeScript's setWeights) must clear `bounds_valid` (plan.ts does on
    /// every arena.writeF32); then the huge weight defeats the proof and the overflow is rolled
    /// back. Left valid, the stale bounds let the proof pass: the non-finite result is still
    /// detected and reported as status 4, never hidden.
    #[test]
    fn cached_bounds_invalidated_after_external_write() {
        for &keep_valid in [false, true].iter() {
            // ReLU unit 0 is dead once w[0][0] is hugely negative (x0 = 1 > 0): its gradient is 0
            // and the loss stays finite; only the L2 term 2·l2·w overflows
            let mut f = build(3, &[dense(2, 1)], 4, LOSS_MSE, OPT_SGD, 0, 12);
            f.recs[0].l2 = 1e3;
            let (x, n, d) = (f.x, f.n, f.d);
            for r in 0..n {
                f.mem.v[x + r * d] = 1.0;
            }
            for t in 1..=2 {
                assert_eq!(f.step(t), STATUS_OK);
                assert_eq!(f.plan.bounds_valid, 1);
            }
            let w0 = f.bufs[0].w;
            f.mem.v[w0] = -1e37; // 2·l2·w = −2e40: the update overflows
            if !keep_valid {
                f.plan.bounds_valid = 0;
            }
            let before = f.state_bits();
            let st = f.step(3);
            assert!(f.mem.guards_intact());
            if keep_valid {
                assert_eq!(st, STATUS_NON_FINITE_RESULT);
            } else {
                assert_eq!(st, STATUS_NON_FINITE_UPDATE);
                assert_eq!(f.state_bits(), before);
                assert_eq!((f.plan.out_bad_layer, f.plan.out_bad_tensor, f.plan.out_bad_index), (0, TENSOR_WEIGHT, 0));
            }
            assert_eq!(f.plan.bounds_valid, 0);
        }
    }

    /// A frozen layer (Keras `trainable = False`, no gradient buffers) keeps its tensors bit for
    /// bit and passes gradients on; the layers around it train; nothing outside a buffer changes.
    #[test]
    fn frozen_layer_is_not_updated_and_passes_gradients() {
        for &(kind, flags) in OPTS.iter() {
            let mut f = build(4, &[dense(6, 1), dense(5, 5), dense(3, 0)], 6, LOSS_MSE, kind, flags, 17);
            f.recs[1].frozen = 1;
            f.recs[1].gw = 0;
            f.recs[1].gb = 0;
            let b = f.bufs.clone();
            let before: Vec<Vec<f32>> = b.iter().map(|x| f.get(x.w, x.wl)).collect();
            let bias_before = f.get(b[1].b, b[1].bl);
            for t in 1..=3 {
                assert_eq!(f.step(t), STATUS_OK, "opt {} {}", kind, flags);
            }
            let after: Vec<Vec<f32>> = b.iter().map(|x| f.get(x.w, x.wl)).collect();
            assert_eq!(before[1].iter().map(|v| v.to_bits()).collect::<Vec<_>>(), after[1].iter().map(|v| v.to_bits()).collect::<Vec<_>>());
            assert_eq!(bias_before.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), f.get(b[1].b, b[1].bl).iter().map(|v| v.to_bits()).collect::<Vec<_>>());
            // the layer before the frozen one still learns: gradients passed through it
            assert_ne!(before[0], after[0]);
            assert_ne!(before[2], after[2]);
            assert!(f.mem.guards_intact());
        }
    }

    /// Malformed records are refused before anything changes.
    #[test]
    fn bad_records_are_refused_unchanged() {
        type Breaker = fn(&mut Fix);
        let cases: [Breaker; 5] = [
            |f| f.recs[1].w_len = 6 * 6, // batch norm γ claimed n_in·n_out long
            |f| f.recs[0].b_len = 0,
            |f| f.plan.backup = 0,
            |f| f.plan.backup_len = 11, // shorter than batch norm's running statistics (2·6)
            |f| f.recs[2].ws2 = 0, // Adam's second moment missing
        ];
        for brk in cases.iter() {
            let mut f = build(4, &[dense(6, 1), Spec::Bn, dense(3, 0)], 6, LOSS_SOFTMAX_CE, OPT_ADAM, 0, 2);
            f.opt.clip_value = 1e-3;
            brk(&mut f);
            let before = f.state_bits();
            let grads: Vec<u32> = f.mem.v.iter().map(|v| v.to_bits()).collect();
            assert_eq!(f.step(1), STATUS_BAD_ARGUMENT);
            assert_eq!(f.state_bits(), before);
            assert_eq!(f.mem.v.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), grads);
        }
    }

    /// The split step (train_forward, the loss gradient written between the halves, then
    /// train_backward) computes the same bits as the one-call train_step: parameters, optimizer
    /// state, running statistics, over several steps, for every architecture (dropout, batch
    /// norm), loss and optimizer, on the proven and the backup path.
    #[test]
    fn split_step_matches_one_call_step_bit_for_bit() {
        for arch in archs() {
            for &loss in LOSSES.iter() {
                for &(kind, flags) in OPTS.iter() {
                    for &force in [false, true].iter() {
                        let mut a = build(4, &arch, 6, loss, kind, flags, 31);
                        let mut b = build(4, &arch, 6, loss, kind, flags, 31);
                        a.force_backup = force;
                        b.force_backup = force;
                        for t in 1..=3 {
                            assert_eq!(a.step(t), STATUS_OK);
                            assert_eq!(b.split_step(t, None), STATUS_OK, "arch {:?} loss {} opt {} {}", arch, loss, kind, flags);
                            assert_eq!(a.state_bits(), b.state_bits(), "arch {:?} loss {} opt {} {} step {}", arch, loss, kind, flags, t);
                        }
                        assert!(b.mem.guards_intact());
                    }
                }
            }
        }
    }

    /// A non-finite gradient element or loss from JavaScript: status 1, every parameter, optimizer
    /// state and running statistic as before the step (train_forward updated the running
    /// statistics; train_backward restores them), nothing outside a buffer written.
    #[test]
    fn split_step_non_finite_gradient_or_loss_changes_nothing() {
        for arch in archs() {
            for &poison in [f32::NAN, f32::INFINITY].iter() {
                let mut f = build(4, &arch, 6, LOSS_MSE, OPT_ADAM, 0, 5);
                assert_eq!(f.split_step(1, None), STATUS_OK);
                let before = f.state_bits();
                assert_eq!(f.split_step(2, Some(poison)), STATUS_NON_FINITE_LOSS);
                assert_eq!(f.state_bits(), before);
                assert!(f.mem.guards_intact());
            }
            // a NaN loss with a finite gradient (how JavaScript abandons a step)
            let mut f = build(4, &arch, 6, LOSS_MSE, OPT_SGD, 0, 5);
            let before = f.state_bits();
            let (x, n) = (f.mem.addr(f.x), f.n);
            assert_eq!(unsafe { train_forward(&mut f.plan, x, n) }, STATUS_OK);
            f.plan.out_loss = f32::NAN;
            assert_eq!(unsafe { train_backward(&mut f.plan, x, n) }, STATUS_NON_FINITE_LOSS);
            assert_eq!(f.state_bits(), before);
            assert!(f.mem.guards_intact());
        }
    }

    /// A custom-loss plan: the steps that compute a loss here refuse it without changing
    /// anything; the split step and predict_step run it (predict_step returns the raw output).
    #[test]
    fn custom_loss_plan_only_runs_split_step_and_predict() {
        let mut f = build(4, &[dense(5, 1), Spec::Bn, dense(2, 0)], 6, LOSS_MSE, OPT_ADAM, 0, 6);
        f.plan.loss = LOSS_CUSTOM;
        let before = f.state_bits();
        let (x, l, n) = (f.mem.addr(f.x), f.mem.addr(f.labels), f.n);
        assert_eq!(f.step(1), STATUS_BAD_ARGUMENT);
        assert_eq!(unsafe { eval_step(&mut f.plan, x, l, n) }, STATUS_BAD_ARGUMENT);
        assert_eq!(unsafe { grad_step(&mut f.plan, x, l, n) }, STATUS_BAD_ARGUMENT);
        assert_eq!(f.state_bits(), before);
        let out = f.labels; // n × 2 floats
        assert_eq!(unsafe { predict_step(&mut f.plan, x, n, f.mem.addr(out)) }, STATUS_OK);
        let y = f.get(f.bufs[2].y, n * 2);
        assert_eq!(f.get(out, n * 2), y);
        assert_eq!(unsafe { train_forward(&mut f.plan, x, n) }, STATUS_OK);
        assert_eq!(unsafe { train_backward(&mut f.plan, x, n) }, STATUS_OK);
        assert_ne!(f.state_bits(), before);
        assert!(f.mem.guards_intact());
    }
}
