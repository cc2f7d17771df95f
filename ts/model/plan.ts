import type { ResolvedCustomLoss } from './custom.js';
import { ACT_CODE, CONV_GEOM, LAYER, LOSS_CUSTOM, LOSS_KIND, type LossName, NO_LAYER, PLAN, TENSOR_CODE } from '../runtime/abi.js';
import type { StatusDetail } from '../runtime/status.js';
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';

/** The fields of one layer record, as its layer kind fills them in. @internal */
export interface DenseParams {
  /** The layer kind's code (`LayerKind.code`, the kernel module's `CODE`). */
  kind: number;
  nIn: number;
  nOut: number;
  act: keyof typeof ACT_CODE;
  /** The first and second trainable tensors and their gradients (null when the kind has none). */
  w: Ptr | null;
  b: Ptr | null;
  gw: Ptr | null;
  gb: Ptr | null;
  /** Optimizer state slots of the kernel and the bias (null = unused). */
  ws: [Ptr | null, Ptr | null, Ptr | null];
  bs: [Ptr | null, Ptr | null, Ptr | null];
  /** Penalties: kernel l1, l2; bias l1, l2 (Keras convention `l1·Σ|w| + l2·Σw²`). */
  l1: number;
  l2: number;
  bl1: number;
  bl2: number;
  /** Activation parameter (leakyRelu slope, elu alpha). */
  alpha: number;
  /** Dropout rate on this layer's output while training (0 = none). */
  dropout: number;
  /** Max-norm of each unit's incoming weights (0 = none). */
  maxNorm: number;
  /** Keras's max-norm ε (0 or absent: wasmfit's exact form; see `maxNorm({ epsilon })`). */
  maxNormEps?: number;
  /** Batch norm: running statistics, saved batch statistics, ε and (PyTorch-convention) momentum. */
  bn: { runningMean: Ptr; runningVar: Ptr; saveMean: Ptr; saveInvStd: Ptr; eps: number; momentum: number } | null;
  /** Element counts of the two trainable tensors (the record's `w_len`, `b_len`; 0 for no bias), from the layer kind. */
  wLen: number;
  bLen: number;
  /** Weight names of the record's tensors for error messages: [w, b, running mean, running variance] ('' when absent). */
  names: readonly string[];
  /** A scalar of the kind's own (the record's `param`; see its Rust module), 0 when unused. */
  param?: number;
  /** The layer's tensors are frozen (`trainable: false`): no gradients, optimizer state or update. */
  frozen?: boolean;
  /** The kind's geometry record (convolution, pooling: a `CONV_GEOM` block and its values), when it has one. */
  geom?: { ptr: Ptr; fields: Readonly<Record<(typeof CONV_GEOM.fields)[number], number>> };
  /** A scratch block of the kind's own (convolution: its im2col chunk) and its length in floats; `init`: values written into it with the plan (augmentation: its argument block). */
  aux?: { ptr: Ptr; floats: number; init?: readonly number[] };
  /**
   * Floats per batch row of a scratch block the plan allocates (`batchCap × auxPerRow`) and passes
   * as the record's `aux` instead of `aux` (noise layers: the multipliers backward reads).
   */
  auxPerRow?: number;
}

/**
 * Floats of the first part of the pre-step backup, the running statistics (batch norm's mean and
 * variance), which every training step needs; the rest (the tensors') only a step whose update the
 * kernel cannot prove finite needs (step.rs returns STATUS.needsBackup, then {@link CompiledPlan.giveWholeBackup}).
 * @internal
 */
/**
 * Floats of the pre-step backup `train_step` needs (crates/kernels/src/step.rs `backup_floats`):
 * `wLen` (features or channels) per buffer the training forward pass updates (batch norm's running mean and variance),
 * then per trainable tensor of a layer that is not frozen its length times (1 + optimizer-state
 * slots). @internal
 */
export function runningBackupFloats(layers: readonly DenseParams[]): number {
  return layers.reduce((t, l) => t + (l.bn ? 2 * l.wLen : 0), 0);
}

/** @internal See {@link runningBackupFloats}: the whole backup, running statistics first. */
export function backupFloats(layers: readonly DenseParams[]): number {
  let total = 0;
  for (const l of layers) {
    if (l.bn) total += 2 * l.wLen; // running mean and variance: one per feature or channel
    if (!l.frozen) total += l.wLen * (1 + l.ws.filter((p) => p !== null).length) + l.bLen * (1 + l.bs.filter((p) => p !== null).length);
  }
  return total;
}

/** The loss of a plan. @internal */
export interface PlanLoss {
  /** A built-in loss, or `'custom'`: a JavaScript function (`custom`) between the split step's halves. */
  kind: LossName | 'custom';
  custom?: ResolvedCustomLoss;
  labelSmoothing: number;
  huberDelta: number;
}

/** Plan-wide optimizer settings. @internal */
export interface PlanOptimizer {
  /** The optimizer's OptHyper record (rate and clipping included). */
  hyper: Ptr;
  /** Names of the optimizer's state slots s1..s3, for error messages (null: unused). */
  slotNames: readonly (string | null)[];
}

/**
 * A compiled training plan: the `#[repr(C)]` Plan header and Layer records in WASM memory plus
 * the per-batch buffers (input rows, labels, activations, gradient ping-pong, output), all sized
 * for `batchCap` rows. The kernel's `train_step` reads it and runs a whole step in one call.
 * @internal
 */
export class CompiledPlan {
  readonly batchCap: number;
  readonly plan: Ptr;
  readonly x: Ptr;
  /** Class ids (i32, softmax cross-entropy) or `[batchCap, outputs]` float targets. */
  readonly labels: Ptr;
  /** Per-sample weights of the current batch. */
  readonly weights: Ptr;
  readonly out: Ptr;
  /** The last layer's raw output of the latest inference forward pass (`[n, outputs]`). */
  readonly output: Ptr;
  /** The last layer's raw output as the loss saw it in the latest training step (after dropout). */
  readonly trainOutput: Ptr;
  /** The first gradient buffer: `dL/dout` of the last layer for the split step (`batchCap × max width` floats). */
  readonly gbuf0: Ptr;
  private readonly blocks: Ptr[] = [];
  private readonly rt: Runtime;
  private readonly names: (readonly string[])[];
  private readonly slotNames: readonly (string | null)[];
  private readonly backupSize: number;
  private readonly runningSize: number;
  private backup: Ptr | null = null;
  private backupLen = 0;
  /** `arena.writes` when the plan last ran a training step (bounds cache; see {@link beforeTrain}). */
  private seenWrites = -1;

  constructor(rt: Runtime, layers: readonly DenseParams[], batchCap: number, opt: PlanOptimizer, loss: PlanLoss) {
    this.rt = rt;
    this.batchCap = batchCap;
    this.names = layers.map((l) => l.names);
    this.slotNames = opt.slotNames;
    this.backupSize = backupFloats(layers);
    this.runningSize = runningBackupFloats(layers);
    const a = rt.arena;
    const own = (p: Ptr): Ptr => {
      this.blocks.push(p);
      return p;
    };
    const nIn = layers[0]!.nIn;
    const nOut = layers[layers.length - 1]!.nOut;
    const maxWidth = Math.max(nIn, ...layers.map((l) => l.nOut));
    this.plan = own(a.alloc(PLAN.size));
    const recs = own(a.alloc(LAYER.size * layers.length));
    const nTensors = layers.reduce((k, l) => k + (l.frozen ? 0 : (l.w !== null ? 1 : 0) + (l.b !== null ? 1 : 0)), 0);
    const bounds = own(a.allocF32(4 * nTensors));
    this.x = own(a.allocF32(batchCap * nIn));
    this.labels = own(a.alloc(batchCap * Math.max(1, nOut) * 4));
    this.weights = own(a.allocF32(batchCap));
    this.out = own(a.allocF32(batchCap * nOut));
    const g0 = own(a.allocF32(batchCap * maxWidth));
    this.gbuf0 = g0;
    const g1 = own(a.allocF32(batchCap * maxWidth));
    const ys = layers.map((l) => own(a.allocF32(batchCap * l.nOut)));
    const masks = layers.map((l) => (l.dropout > 0 ? own(a.allocF32(batchCap * l.nOut)) : 0));
    const yds = layers.map((l) => (l.dropout > 0 ? own(a.allocF32(batchCap * l.nOut)) : 0));
    const rowAux = layers.map((l) => (l.auxPerRow ? { ptr: own(a.allocF32(batchCap * l.auxPerRow)), floats: batchCap * l.auxPerRow } : l.aux));
    const last = layers.length - 1;
    this.output = ys[last]!;
    this.trainOutput = (yds[last] || ys[last]) as Ptr;
    const v = a.view;
    layers.forEach((l, i) => {
      const r = recs + i * LAYER.size;
      v.setUint32(r + LAYER.kind, l.kind, true);
      if (l.bn) {
        v.setUint32(r + LAYER.runningMean, l.bn.runningMean, true);
        v.setUint32(r + LAYER.runningVar, l.bn.runningVar, true);
        v.setUint32(r + LAYER.saveMean, l.bn.saveMean, true);
        v.setUint32(r + LAYER.saveInvStd, l.bn.saveInvStd, true);
        v.setFloat32(r + LAYER.bnEps, l.bn.eps, true);
        v.setFloat32(r + LAYER.bnMomentum, l.bn.momentum, true);
      }
      v.setUint32(r + LAYER.act, ACT_CODE[l.act], true);
      v.setUint32(r + LAYER.nIn, l.nIn, true);
      v.setUint32(r + LAYER.nOut, l.nOut, true);
      v.setUint32(r + LAYER.w, l.w ?? 0, true);
      v.setUint32(r + LAYER.b, l.b ?? 0, true);
      v.setUint32(r + LAYER.gw, l.gw ?? 0, true);
      v.setUint32(r + LAYER.gb, l.gb ?? 0, true);
      v.setUint32(r + LAYER.y, ys[i]!, true);
      v.setUint32(r + LAYER.ws1, l.ws[0] ?? 0, true);
      v.setUint32(r + LAYER.ws2, l.ws[1] ?? 0, true);
      v.setUint32(r + LAYER.ws3, l.ws[2] ?? 0, true);
      v.setUint32(r + LAYER.bs1, l.bs[0] ?? 0, true);
      v.setUint32(r + LAYER.bs2, l.bs[1] ?? 0, true);
      v.setUint32(r + LAYER.bs3, l.bs[2] ?? 0, true);
      v.setFloat32(r + LAYER.l1, l.l1, true);
      v.setFloat32(r + LAYER.l2, l.l2, true);
      v.setFloat32(r + LAYER.bl1, l.bl1, true);
      v.setFloat32(r + LAYER.bl2, l.bl2, true);
      v.setFloat32(r + LAYER.alpha, l.alpha, true);
      v.setFloat32(r + LAYER.dropout, l.dropout, true);
      v.setUint32(r + LAYER.mask, masks[i]!, true);
      v.setUint32(r + LAYER.yd, yds[i]!, true);
      v.setFloat32(r + LAYER.maxNorm, l.maxNorm, true);
      v.setFloat32(r + LAYER.maxNormEps, l.maxNormEps ?? 0, true);
      v.setUint32(r + LAYER.wLen, l.wLen, true);
      v.setUint32(r + LAYER.bLen, l.bLen, true);
      v.setFloat32(r + LAYER.param, l.param ?? 0, true);
      v.setUint32(r + LAYER.frozen, l.frozen ? 1 : 0, true);
      if (l.geom) for (const f of CONV_GEOM.fields) v.setUint32(l.geom.ptr + CONV_GEOM[f], l.geom.fields[f], true);
      v.setUint32(r + LAYER.geom, l.geom?.ptr ?? 0, true);
      v.setUint32(r + LAYER.aux, rowAux[i]?.ptr ?? 0, true);
      l.aux?.init?.forEach((x, j) => v.setFloat32(l.aux!.ptr + 4 * j, x, true));
      v.setUint32(r + LAYER.auxLen, rowAux[i]?.floats ?? 0, true);
    });
    const p = this.plan;
    v.setUint32(p + PLAN.nLayers, layers.length, true);
    v.setUint32(p + PLAN.loss, loss.kind === 'custom' ? LOSS_CUSTOM : LOSS_KIND[loss.kind], true);
    v.setFloat32(p + PLAN.labelSmoothing, loss.labelSmoothing, true);
    v.setFloat32(p + PLAN.huberDelta, loss.huberDelta, true);
    v.setUint32(p + PLAN.weights, 0, true);
    v.setUint32(p + PLAN.batchCap, batchCap, true);
    v.setUint32(p + PLAN.layers, recs, true);
    v.setUint32(p + PLAN.gbuf0, g0, true);
    v.setUint32(p + PLAN.gbuf1, g1, true);
    v.setUint32(p + PLAN.ws, rt.ws, true);
    v.setUint32(p + PLAN.opt, opt.hyper, true);
    v.setUint32(p + PLAN.backup, 0, true);
    v.setUint32(p + PLAN.backupLen, 0, true);
    v.setUint32(p + PLAN.outBadLayer, NO_LAYER, true);
    v.setUint32(p + PLAN.bounds, bounds, true);
    v.setUint32(p + PLAN.boundsValid, 0, true);
  }

  /**
   * Allocates the part of the pre-step backup every training step requires: the running statistics
   * (see {@link runningBackupFloats}); `whole` takes the tensors' part too (parameters and optimizer
   * state: 3× the parameters for Adam), which only steps the kernel cannot prove finite use, and the
   * split step of a custom loss needs up front (it cannot be run again). Plans used only for
   * inference never take either; {@link beforeTrain} (called before every training step) makes sure
   * the backup exists.
   */
  prepareTraining(whole = false): void {
    const want = whole ? this.backupSize : this.runningSize;
    if (this.backup !== null && this.backupLen >= want) return;
    const p = this.rt.arena.allocF32(Math.max(1, want));
    if (this.backup !== null) {
      this.rt.arena.free(this.backup);
      this.blocks.splice(this.blocks.indexOf(this.backup), 1);
    }
    this.blocks.push(p);
    this.backup = p;
    this.backupLen = want;
    const v = this.rt.arena.view;
    v.setUint32(this.plan + PLAN.backup, p, true);
    v.setUint32(this.plan + PLAN.backupLen, want, true);
  }

  /** After STATUS.needsBackup (nothing changed): the whole backup, for running the step again. */
  giveWholeBackup(): void {
    this.prepareTraining(true);
  }

  /**
   * What the last step reported for a failed status: the loss, and for a non-finite update the
   * tensor (`dense_1/kernel`, `batch_norm_0/moving_variance`, with the optimizer-state slot when
   * it was the state), the element and its value.
   */
  statusDetail(): StatusDetail {
    const v = this.rt.arena.view;
    const p = this.plan;
    const d: StatusDetail = {
      loss: v.getFloat32(p + PLAN.outLoss, true),
      unrestored: 'the step was proven finite and not backed up, so it could not be rolled back: the model holds non-finite values (a wasmfit bug, or parameters written other than through arena.writeF32: please report it)',
    };
    const layer = v.getUint32(p + PLAN.outBadLayer, true);
    if (layer !== NO_LAYER && layer < this.names.length) {
      const t = v.getUint32(p + PLAN.outBadTensor, true);
      const slot = v.getUint32(p + PLAN.outBadSlot, true);
      const name = this.names[layer]![t] || `layer ${layer} tensor ${t}`;
      d.tensor = slot === 0 ? name : `the optimizer state ${this.slotNames[slot - 1] ?? `s${slot}`} of ${name}`;
      if (t === TENSOR_CODE.runningMean || t === TENSOR_CODE.runningVar) d.tensor = `${name} (updated from this batch's statistics)`;
      d.index = v.getUint32(p + PLAN.outBadIndex, true);
      d.value = v.getFloat32(p + PLAN.outBadValue, true);
    }
    return d;
  }

  /** Dropout RNG key and counter for the next call; `mc` keeps dropout on in predict_step. */
  setDropout(seed: number, counter: number, mc: boolean): void {
    const v = this.rt.arena.view;
    v.setUint32(this.plan + PLAN.seed, seed >>> 0, true);
    v.setUint32(this.plan + PLAN.counter, counter >>> 0, true);
    v.setUint32(this.plan + PLAN.mcDropout, mc ? 1 : 0, true);
  }

  /** Whether the next step reads the per-sample weights buffer. */
  useWeights(on: boolean): void {
    this.rt.arena.view.setUint32(this.plan + PLAN.weights, on ? this.weights : 0, true);
  }

  /**
   * Called before every training step: makes sure the training backup exists
   * ({@link prepareTraining}), and invalidates the step's cached bounds of the parameters and
   * optimizer state when anything was written through `arena.writeF32` since the previous step
   * (setWeights, a training-state import, another model's writes: conservative).
   */
  beforeTrain(whole = false): void {
    this.prepareTraining(whole);
    const a = this.rt.arena;
    if (a.writes !== this.seenWrites) {
      a.view.setUint32(this.plan + PLAN.boundsValid, 0, true);
      this.seenWrites = a.writes;
    }
  }

  /** Σ per-sample loss and correct count written by the last step. */
  results(): { lossSum: number; correct: number } {
    const v = this.rt.arena.view;
    return { lossSum: v.getFloat32(this.plan + PLAN.outLoss, true), correct: v.getUint32(this.plan + PLAN.outCorrect, true) };
  }

  dispose(): void {
    for (const b of this.blocks) this.rt.arena.free(b);
    this.blocks.length = 0;
    this.backup = null;
  }
}
