/**
 * The Stepper: what Keras calls the train, test and predict functions. It owns everything a step
 * touches besides the model's parameters — the optimizer bound to the tensors (its OptHyper record and state slots) (or the
 * L-BFGS / CG engine), the compiled plans, the loss and metrics, the step and dropout counters —
 * and it is the only code that calls the step exports. `Sequential.compile` builds a new one
 * (before freeing the old, so a failed allocation changes nothing); `fit` drives it directly.
 *
 * Two plans with separate buffers: the training plan, owned by the running `fit`, and the
 * inference plan (predict, evaluate, validation). A `predict` from a fit callback therefore never
 * touches the memory a training step reads or writes.
 * @internal
 */
import { NonFiniteError, OptionError, RuntimeSupportError, ShapeError, type WasmfitError } from '../errors/index.js';
import { statusError } from '../runtime/status.js';
import { type Features, type Labels, firstNonFinite, toClassIds, toFeatures } from '../data/tensor.js';
import { isStringLabels } from '../data/labels.js';
import type { OptimizerConfig } from '../optimizers/index.js';
import { BoundOptimizer, type Slots } from '../optimizers/record.js';
import type { FullBatchConfig } from '../optimizers/dense-registry.js';
import { PLAN, STATUS } from '../runtime/abi.js';
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';
import { FullBatchStepper, type ModelObjective } from './fullbatch.js';
import { MetricAccumulator, type ResolvedMetric } from './metrics.js';
import { runCustomLoss, softmaxRows } from './custom.js';
import { CompiledPlan, type DenseParams, type PlanLoss } from './plan.js';
import type { BoundLayer } from '../layers/kind.js';
import type { EngineSettings } from '../optimizers/second-order.js';

/** What `compile` resolved: the optimizer (first-order, full-batch or none), loss and metrics. @internal */
/** Floats per chunk of {@link Stepper.firstNonFinite} (64 KiB of WASM memory while it runs). */
const SCAN_CHUNK = 1 << 14;

export interface StepperConfig {
  /** A first-order optimizer, or null (inference only, or full-batch). */
  optimizer: OptimizerConfig | null;
  /** L-BFGS / CG: the config and its engine settings. */
  /** L-BFGS / CG: their settings; newton / newtonCG / bfgs: null (the config makes its engine). */
  fullBatch: { config: FullBatchConfig; settings: EngineSettings | null } | null;
  loss: PlanLoss;
  metrics: ResolvedMetric[];
}

/** The counters a step consumes; carried over from the previous Stepper when a model is re-compiled. @internal */
export interface StepCounters {
  /** 32-bit dropout key of the current fit. */
  dropSeed: number;
  /** Dropout counter: one per training step, never reused, so no two steps share masks. */
  dropCounter: number;
  /**
   * Per batch-norm layer (in layer order), PyTorch's `num_batches_tracked`: training batches whose
   * statistics updated the layer's running mean and variance. Absent: all 0.
   */
  tracked?: readonly number[];
}

/** The optimizer state a checkpoint holds: the step count, the dropout counters and every state slot. @internal */
export interface StepperState extends StepCounters {
  step: number;
  /** Optimizer state slots, per trainable tensor in getWeights order, slot order s1..s3, named `<weight>/<slot>` (`dense_0/kernel/m`). */
  slots: { name: string; data: Float32Array }[];
}


/** The model-side training state a checkpoint holds. @internal */
export interface ModelTrainingState extends StepperState {
  lr: number;
  fitCount: number;
}

/** @internal */
export class Stepper {
  readonly optimizer: OptimizerConfig | null;
  readonly fullBatch: FullBatchStepper | null;
  readonly fullBatchConfig: FullBatchConfig | null;
  readonly loss: PlanLoss;
  /** Optimizer steps taken since compile (PyTorch's `state['step']`). */
  step = 0;
  dropSeed: number;
  dropCounter: number;
  /** Per batch-norm layer, PyTorch's `num_batches_tracked` (see {@link StepCounters.tracked}); survives re-compiles. */
  readonly tracked: number[];
  private readonly metrics: ResolvedMetric[];
  /** Per parameter layer: the layer's blocks with this optimizer's state slots filled in. */
  private readonly layers: DenseParams[];
  private readonly batchStatistics: boolean;
  /** The last layer is a softmax (folded; fused into softmax cross-entropy, applied in JS for a custom loss). */
  private readonly softmaxOut: boolean;
  /** A custom loss's non-finite result, reported by {@link error} for the status the step returned. */
  private customFailure: NonFiniteError | null = null;
  /** The optimizer state slots in checkpoint order. */
  private readonly slots: { name: string; legacy: string; ptr: Ptr; n: number }[] = [];
  /** The optimizer's state slot names s1..s3 (null: unused). */
  private readonly slotNames: readonly (string | null)[];
  /** The optimizer bound to the trainable tensors: its hyper-parameter record and state slots. */
  private readonly bound: BoundOptimizer;
  private readonly blocks: Ptr[] = [];
  private trainPlan: CompiledPlan | null = null;
  private inferPlan: CompiledPlan | null = null;
  private disposed = false;

  /**
   * Allocates the optimizer state (zero; AdaGrad: `initialAccumulatorValue`) and the OptHyper
   * record, or the full-batch engine. All or nothing: a failed allocation frees what was taken.
   */
  constructor(
    private readonly rt: Runtime,
    layers: readonly BoundLayer[],
    readonly inputs: number,
    readonly outputs: number,
    cfg: StepperConfig,
    counters: StepCounters = { dropSeed: 0, dropCounter: 0 },
  ) {
    this.optimizer = cfg.optimizer;
    this.fullBatchConfig = cfg.fullBatch?.config ?? null;
    this.loss = cfg.loss;
    this.metrics = cfg.metrics;
    this.dropSeed = counters.dropSeed;
    this.dropCounter = counters.dropCounter;
    // a re-compile keeps the counts (the layers are the same)
    this.tracked = counters.tracked ? [...counters.tracked] : layers.filter((l) => l.entry.kind.usesBatchStatistics).map(() => 0);
    const a = rt.arena;
    const opt = cfg.optimizer;
    // all or nothing: a failed allocation frees every block this constructor took (the engine's too)
    const built = a.atomic(() => {
      // the optimizer bound to every trainable tensor, in layer order (the record's w and b are
      // the layer's first and second trainable tensors)
      const trainable = layers.map((l) => l.entry.params.filter((p) => p.trainable));
      const bound = new BoundOptimizer(a, opt, trainable.flat().map((p) => p.shape.reduce((x, y) => x * y, 1)));
      this.blocks.push(...bound.blocks);
      const none: Slots = [null, null, null];
      let ti = 0;
      const records = layers.map((l, li): DenseParams => {
        const [w, b] = trainable[li]!.map((p) => {
          const slots = bound.slots[ti++]!;
          slots.forEach((ptr, k) => {
            const on = bound.slotNames[k];
            if (ptr !== null && on) this.slots.push({ name: `${p.fullName}/${on}`, legacy: `${p.fullName}/s${k + 1}`, ptr, n: p.shape.reduce((x, y) => x * y, 1) });
          });
          return slots;
        });
        return { ...l.record, ws: w ?? none, bs: b ?? none };
      });
      if (cfg.fullBatch) {
        const tensors = layers.flatMap((l) =>
          l.entry.params.flatMap((p, i) => (p.trainable ? [{ w: l.values[i]!, g: l.grads[i]!, n: p.shape.reduce((x, y) => x * y, 1), l1: p.penalty.l1, l2: p.penalty.l2 }] : [])),
        );
        return { records, bound, fullBatch: new FullBatchStepper(rt, tensors, outputs, cfg.fullBatch.settings, cfg.fullBatch.config) };
      }
      return { records, bound, fullBatch: null };
    });
    this.layers = built.records;
    this.bound = built.bound;
    this.slotNames = built.bound.slotNames;
    this.fullBatch = built.fullBatch;
    this.batchStatistics = layers.some((l) => l.entry.kind.usesBatchStatistics === true);
    this.softmaxOut = layers[layers.length - 1]?.entry.folded.softmax === true;
  }

  /** Whether a training step can run (a first-order or full-batch optimizer was compiled). */
  get trainable(): boolean {
    return this.optimizer !== null || this.fullBatch !== null;
  }

  get classification(): boolean {
    return this.loss.kind === 'softmaxCrossEntropy';
  }

  /** Whether a layer normalizes with batch statistics (training batches need at least 2 rows). */
  get usesBatchStatistics(): boolean {
    return this.batchStatistics;
  }

  /** Keys of the compiled metrics in the logs (without the `val` prefix). */
  metricKeys(): string[] {
    return this.metrics.map((m) => m.key);
  }

  /** A fresh accumulator for the compiled metrics, or null when there are none. */
  metricAccumulator(): MetricAccumulator | null {
    return this.metrics.length ? new MetricAccumulator(this.metrics, this.loss.kind, this.outputs, this.loss.kind === 'custom' && this.softmaxOut) : null;
  }

  /**
   * How many classes the loss distinguishes: the outputs for softmax cross-entropy, 2 for binary
   * cross-entropy with one output, else null (no class labels).
   */
  get classCount(): number | null {
    if (this.classification) return this.outputs;
    return this.loss.kind === 'binaryCrossentropy' && this.outputs === 1 ? 2 : null;
  }

  /**
   * Class ids for softmax cross-entropy, else validated float targets `[rows, outputs]` (a flat
   * array of `rows × outputs` values included). String labels map through `names` (the model's
   * class list): to ids, or to 0/1 targets for binary cross-entropy with one output.
   */
  targets(y: Labels | Features, rows: number, where: string, names: readonly string[] | null = null): Int32Array | Float32Array {
    if (this.classification) return toClassIds(y as Labels, rows, this.outputs, where, names);
    if (isStringLabels(y)) {
      if (this.classCount === 2) return Float32Array.from(toClassIds(y, rows, 2, where, names));
      throw new OptionError('y', `${where}: y[0] is ${JSON.stringify(y[0])} (string); class names need a classifier, not loss '${this.loss.kind}'.`);
    }
    const t = toFeatures(y as Features, this.outputs, where, this.firstNonFinite, 'y');
    if (t.rows !== rows) throw new ShapeError(`${where}: ${t.rows} target rows for ${rows} samples. Pass one row of ${this.outputs} targets per sample.`);
    if (this.loss.kind === 'binaryCrossentropy') {
      t.data.forEach((v, i) => {
        if (v < 0 || v > 1) throw new OptionError('y', `${where}: binary cross-entropy target ${v} at row ${Math.floor(i / this.outputs)} is outside [0, 1].`);
      });
    }
    return t.data;
  }

  /**
   * Index of the first NaN/±Inf in `data` (−1: none), for validating a call's x and y before it
   * changes anything: large arrays go through WASM in chunks (a copy and the kernel's count, ~3×
   * faster than a JavaScript loop on 6 M floats); the chunk that has one is searched in JavaScript.
   */
  readonly firstNonFinite = (data: Float32Array): number => {
    const n = data.length;
    if (n < SCAN_CHUNK || this.disposed) return firstNonFinite(data, 0, n);
    const a = this.rt.arena;
    const p = a.allocF32(SCAN_CHUNK);
    try {
      for (let s = 0; s < n; s += SCAN_CHUNK) {
        const e = Math.min(n, s + SCAN_CHUNK);
        a.f32.set(data.subarray(s, e), p >>> 2);
        if (this.rt.kernels.countNonfinite(p, e - s) !== 0) return firstNonFinite(data, s, e);
      }
      return -1;
    } finally {
      a.free(p);
    }
  };

  // ---- training (driven by fit) ----

  /** Makes room for training batches of up to `rows` rows (a larger plan is built before the old one is freed). */
  reserve(rows: number): void {
    this.planOf('train', rows);
  }

  /** Starts a fit's dropout stream: a 32-bit key from the fit seed; the counter keeps running. */
  keyDropout(seed: number): void {
    this.dropSeed = (Math.floor(seed) ^ Math.floor(seed / 4294967296)) >>> 0;
  }

  /** Copies `count` rows (through `idx` when given) of x, targets and weights into the training plan. */
  load(x: Float32Array, y: Int32Array | Float32Array, idx: Int32Array | null, start: number, count: number, w: Float32Array | null): void {
    this.writeRows(this.trained(), x, y, idx, start, count, w);
  }

  /**
   * Loads `rows` rows into the training plan and returns the full-batch objective on them (models
   * compiled with a full-batch optimizer; null otherwise). @internal
   */
  fullBatchObjective(x: Float32Array, y: Int32Array | Float32Array, rows: number): ModelObjective | null {
    if (!this.fullBatch) return null;
    this.reserve(rows);
    this.load(x, y, null, 0, rows, null);
    return this.fullBatch.objectiveOn(this.trained(), rows);
  }

  /**
   * One optimizer step on the loaded rows at learning rate `lr`; returns the kernel status. The
   * step counts only when the kernel updated the weights.
   */
  train(n: number, lr: number, momentum?: number): number {
    const plan = this.trained();
    if (this.fullBatch) {
      const st = this.fullBatch.step(plan, n, lr);
      if (st === STATUS.ok) this.step++;
      return st;
    }
    // step-dependent scalars for step t + 1 (f64), the rate included
    this.bound.prepare(this.step + 1, lr, momentum);
    // a custom loss's split step cannot be run again: it takes the whole backup up front
    plan.beforeTrain(!!this.loss.custom);
    plan.setDropout(this.dropSeed, this.dropCounter++, false);
    let status = this.loss.custom ? this.trainCustom(plan, n) : this.rt.kernels.trainStep(plan.plan, plan.x, plan.labels, n);
    if (status === STATUS.needsBackup) {
      // the update was not proven finite and the plan had only the running statistics' backup:
      // nothing changed; the same step again (same rows, dropout key and counter) with the whole backup
      plan.giveWholeBackup();
      status = this.rt.kernels.trainStep(plan.plan, plan.x, plan.labels, n);
    }
    if (status === STATUS.ok) {
      this.step++;
      // one training forward updated every batch-norm layer's running statistics (PyTorch:
      // num_batches_tracked += 1 per forward in train mode); a refused step restored them
      for (let i = 0; i < this.tracked.length; i++) this.tracked[i] = this.tracked[i]! + 1;
    }
    return status;
  }

  /**
   * The split step of a custom loss: the training forward pass (train_forward), the user's
   * function on copies of the outputs and targets, its gradient written to the plan's gbuf0 (chained
   * through a softmax last layer) and `rows × loss` to out_loss, then train_backward (backward,
   * clipping, the update with its proof or rollback, constraints). A function that throws or
   * returns a bad gradient abandons the step: train_backward with a NaN loss restores the running
   * statistics, and nothing else changed.
   */
  private trainCustom(plan: CompiledPlan, n: number): number {
    const k = this.outputs;
    const kn = this.rt.kernels;
    let status = kn.trainForward(plan.plan, plan.x, n);
    if (status !== STATUS.ok) return status;
    const a = this.rt.arena;
    const z = a.f32.slice(plan.trainOutput >>> 2, (plan.trainOutput >>> 2) + n * k);
    const yPred = this.softmaxOut ? softmaxRows(z, n, k) : z;
    const yTrue = a.f32.slice(plan.labels >>> 2, (plan.labels >>> 2) + n * k);
    const abandon = (): void => {
      a.view.setFloat32(plan.plan + PLAN.outLoss, NaN, true);
      kn.trainBackward(plan.plan, plan.x, n);
    };
    let r: { loss: number; grad: Float32Array };
    try {
      r = runCustomLoss(this.loss.custom!, yTrue, yPred, { rows: n, outputs: k }, this.softmaxOut);
    } catch (e) {
      if (!this.disposed) abandon();
      if (e instanceof NonFiniteError) {
        this.customFailure = e;
        return STATUS.nonFiniteLoss;
      }
      throw e;
    }
    if (this.disposed) throw new RuntimeSupportError(`custom loss '${this.loss.custom!.name}': the model was disposed or re-compiled inside the loss function; the step was abandoned.`);
    // the function may have written weights (setWeights): the bounds cache is then stale
    plan.beforeTrain();
    a.f32.set(r.grad, plan.gbuf0 >>> 2);
    a.view.setFloat32(plan.plan + PLAN.outLoss, r.loss * n, true);
    status = kn.trainBackward(plan.plan, plan.x, n);
    return status;
  }

  /** Σ loss and correct count of the last training step. */
  results(): { lossSum: number; correct: number } {
    return this.trained().results();
  }

  /** Adds the last training step's `n` rows (its outputs as the loss saw them, and its targets). */
  addTrainMetrics(acc: MetricAccumulator, n: number): void {
    this.addMetrics(acc, this.trained(), n, true);
  }

  /** The typed error of a training step's non-OK status; `where` names the position (`fit: epoch 3, batch 17`). */
  error(status: number, where: string): WasmfitError {
    const custom = this.customFailure;
    this.customFailure = null;
    if (custom && status === STATUS.nonFiniteLoss) return new NonFiniteError(`${where}: ${custom.message}`);
    return this.stepError(status, this.trained(), where);
  }

  // ---- inference ----

  /**
   * Mean loss over `rows` rows in chunks of `batchSize`, the accuracy for softmax cross-entropy
   * (NaN otherwise), and the metrics into `acc`. A non-finite loss is reported as such, as Keras does.
   */
  evaluate(x: Float32Array, y: Int32Array | Float32Array, rows: number, batchSize: number, acc: MetricAccumulator | null = null): { loss: number; accuracy: number } {
    if (rows === 0) return { loss: NaN, accuracy: NaN };
    const chunkRows = Math.min(batchSize, rows);
    const plan = this.planOf('infer', chunkRows);
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < rows; s += chunkRows) {
      const n = Math.min(chunkRows, rows - s);
      this.writeRows(plan, x, y, null, s, n, null);
      if (this.loss.custom) {
        lossSum += this.evalCustom(plan, y as Float32Array, s, n);
        if (acc) this.addMetrics(acc, plan, n, false);
        continue;
      }
      const status = this.rt.kernels.evalStep(plan.plan, plan.x, plan.labels, n);
      if (status !== STATUS.ok && status !== STATUS.nonFiniteLoss) throw this.stepError(status, plan, 'evaluate');
      if (acc) this.addMetrics(acc, plan, n, false);
      const r = plan.results();
      lossSum += r.lossSum;
      correct += r.correct;
    }
    return { loss: lossSum / rows, accuracy: this.classification ? correct / rows : NaN };
  }

  /** A custom loss on `n` rows at `s`: the inference forward pass, then the function; returns `n × loss`. */
  private evalCustom(plan: CompiledPlan, y: Float32Array, s: number, n: number): number {
    const k = this.outputs;
    plan.setDropout(0, 0, false);
    const status = this.rt.kernels.predictStep(plan.plan, plan.x, n, plan.out);
    if (status !== STATUS.ok) throw this.stepError(status, plan, 'evaluate');
    const z = this.rt.arena.f32.slice(plan.out >>> 2, (plan.out >>> 2) + n * k);
    // the loss as reported (a non-finite value is logged as such, as for the built-in losses)
    const r = this.loss.custom!.fn(y.slice(s * k, (s + n) * k), this.softmaxOut ? softmaxRows(z, n, k) : z, { rows: n, outputs: k });
    return Number(r?.loss) * n;
  }

  /**
   * One forward pass over `rows` rows in chunks of `batchSize`: the model's outputs (softmax /
   * sigmoid applied as the loss defines). `mc` keeps dropout on, keyed by (`seed`, `sample`, chunk),
   * independent of training's counters.
   */
  predict(x: Float32Array, rows: number, batchSize: number, mc: { seed: number; sample: number } | null): Float32Array {
    const k = this.outputs;
    const out = new Float32Array(rows * k);
    if (rows === 0) return out;
    const chunkRows = Math.min(batchSize, rows);
    const plan = this.planOf('infer', chunkRows);
    let chunk = 0;
    for (let s = 0; s < rows; s += chunkRows) {
      const n = Math.min(chunkRows, rows - s);
      this.writeRows(plan, x, null, null, s, n, null);
      plan.setDropout((Math.floor(mc?.seed ?? 0) ^ 0x5bd1e995) >>> 0, (mc?.sample ?? 0) * 65536 + chunk++, mc !== null);
      const status = this.rt.kernels.predictStep(plan.plan, plan.x, n, plan.out);
      if (status !== STATUS.ok) throw this.stepError(status, plan, 'predict');
      const o = this.rt.arena.f32.subarray(plan.out >>> 2, (plan.out >>> 2) + n * k);
      // a custom loss's softmax last layer: the kernel returns logits
      out.set(this.loss.custom && this.softmaxOut ? softmaxRows(o, n, k) : o, s * k);
    }
    return out;
  }

  /**
   * Monte Carlo dropout: `T` stochastic passes (sample `t` keyed by (`seed`, t)), returning the
   * per-output mean and population standard deviation (Welford's update in f64).
   */
  predictMc(x: Float32Array, rows: number, batchSize: number, T: number, seed: number): { mean: Float32Array; std: Float32Array } {
    const total = rows * this.outputs;
    const mean = new Float64Array(total);
    const m2 = new Float64Array(total);
    for (let t = 0; t < T; t++) {
      const p = this.predict(x, rows, batchSize, { seed, sample: t });
      for (let i = 0; i < total; i++) {
        const d = p[i]! - mean[i]!;
        mean[i]! += d / (t + 1);
        m2[i]! += d * (p[i]! - mean[i]!);
      }
    }
    return { mean: Float32Array.from(mean), std: Float32Array.from(m2, (v) => Math.sqrt(v / T)) };
  }

  // ---- checkpoints ----

  /** The step count, dropout counters and a copy of every optimizer state slot (`<weight>/<slot>`). */
  state(): StepperState {
    return { step: this.step, dropSeed: this.dropSeed, dropCounter: this.dropCounter, tracked: [...this.tracked], slots: this.slots.map((s) => ({ name: s.name, data: this.rt.arena.readF32(s.ptr, s.n) })) };
  }

  /** Restores {@link state} output of a Stepper with the same layers and optimizer; checks every slot's name and length first. */
  restore(s: StepperState, where: string): void {
    const u32 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
    if (!u32(s.dropSeed) || !(typeof s.dropCounter === 'number' && Number.isInteger(s.dropCounter) && s.dropCounter >= 0)) throw new OptionError('state', `${where}: dropSeed/dropCounter are not unsigned integers.`);
    if (!(Number.isInteger(s.step) && s.step >= 0)) throw new OptionError('state', `${where}: step = ${String(s.step)}; expected an integer >= 0.`);
    // num_batches_tracked per batch-norm layer (absent in checkpoints written before it was kept)
    const t = s.tracked;
    if (t && !(Array.isArray(t) && t.length === this.tracked.length && t.every((n) => Number.isSafeInteger(n) && n >= 0))) throw new OptionError('state', `${where}: tracked is not one count per batch-norm layer.`);
    if (!Array.isArray(s.slots) || s.slots.length !== this.slots.length) throw new ShapeError(`${where}: ${Array.isArray(s.slots) ? s.slots.length : 'no'} optimizer state tensors; this optimizer has ${this.slots.length}.`);
    this.slots.forEach((w, i) => {
      const g = s.slots[i]!;
      // `<weight>/s<k>`: the slot names of checkpoints written before slots had names
      if ((g?.name !== w.name && g?.name !== w.legacy) || !(g.data instanceof Float32Array) || g.data.length !== w.n) {
        throw new ShapeError(`${where}: optimizer state ${i} is ${g?.name} with ${g?.data?.length} values; expected ${w.name} with ${w.n}.`);
      }
    });
    this.slots.forEach((w, i) => this.rt.arena.writeF32(w.ptr, s.slots[i]!.data));
    this.step = s.step;
    this.dropSeed = s.dropSeed;
    this.dropCounter = s.dropCounter;
    if (t) this.tracked.splice(0, t.length, ...t);
  }

  /** Frees the optimizer state, the engine and both plans. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.trainPlan?.dispose();
    this.inferPlan?.dispose();
    this.trainPlan = null;
    this.inferPlan = null;
    this.fullBatch?.dispose();
    for (const p of this.blocks) this.rt.arena.free(p);
    this.blocks.length = 0;
  }

  // ---- internals ----

  private trained(): CompiledPlan {
    if (this.trainPlan === null) throw new RuntimeSupportError('train step: no training plan (reserve() was not called, or the model was disposed); this is a wasmfit bug.');
    return this.trainPlan;
  }

  /** A plan with room for `rows` rows, replaced by a larger one when needed (built before the old one is freed). */
  private planOf(which: 'train' | 'infer', rows: number): CompiledPlan {
    const need = Math.max(1, rows);
    const old = which === 'train' ? this.trainPlan : this.inferPlan;
    if (old && old.batchCap >= need) return old;
    const o = this.optimizer;
    // all or nothing: a plan that does not fit frees its partial blocks (MemoryError)
    const plan = this.rt.arena.atomic(() => new CompiledPlan(this.rt, this.layers, need, { hyper: this.bound.hyper, slotNames: this.slotNames }, this.loss));
    old?.dispose();
    if (which === 'train') this.trainPlan = plan;
    else this.inferPlan = plan;
    return plan;
  }

  private writeRows(plan: CompiledPlan, x: Float32Array, y: Int32Array | Float32Array | null, idx: Int32Array | null, start: number, count: number, w: Float32Array | null): void {
    const d = this.inputs;
    const f32 = this.rt.arena.f32;
    const xo = plan.x >>> 2;
    const row = (i: number) => (idx === null ? start + i : idx[start + i]!);
    // gathered rows: narrow rows by element loops (a subarray view per row, an allocation each,
    // was a tenth of a small model's step), wide rows by typed-array copies (memcpy)
    const gather = (src: Float32Array, width: number, to: number): void => {
      if (idx === null) {
        f32.set(src.subarray(start * width, (start + count) * width), to);
        return;
      }
      for (let i = 0; i < count; i++) {
        const from = idx[start + i]! * width;
        const o = to + i * width;
        if (width > 64) f32.set(src.subarray(from, from + width), o);
        else for (let j = 0; j < width; j++) f32[o + j] = src[from + j]!;
      }
    };
    gather(x, d, xo);
    if (y instanceof Int32Array) {
      const i32 = this.rt.arena.i32;
      const lo = plan.labels >>> 2;
      for (let i = 0; i < count; i++) i32[lo + i] = y[row(i)]!;
    } else if (y instanceof Float32Array) {
      gather(y, this.outputs, plan.labels >>> 2);
    }
    plan.useWeights(w !== null);
    if (w !== null) {
      const wo = plan.weights >>> 2;
      for (let i = 0; i < count; i++) f32[wo + i] = w[row(i)]!;
    }
  }

  private addMetrics(acc: MetricAccumulator, plan: CompiledPlan, n: number, training: boolean): void {
    const k = this.outputs;
    const a = this.rt.arena;
    const outPtr = training ? plan.trainOutput : plan.output;
    const out = a.f32.subarray(outPtr >>> 2, (outPtr >>> 2) + n * k);
    const y = this.classification ? a.i32.subarray(plan.labels >>> 2, (plan.labels >>> 2) + n) : a.f32.subarray(plan.labels >>> 2, (plan.labels >>> 2) + n * k);
    acc.add(out, y, n);
  }

  private stepError(status: number, plan: CompiledPlan, where: string): WasmfitError {
    return statusError(status, where, plan.statusDetail());
  }

}
