import { BusyError, DisposedError, OptionError, ShapeError, type WasmfitError } from '../errors/index.js';
import { Rng } from '../data/rng.js';
import { type Features, type Labels, type Matrix, toClassIds, toFeatures } from '../data/tensor.js';
import { fillInitializer } from '../layers/initializers.js';
import type { LayerConfig } from '../layers/index.js';
import { checkLr, checkOptimizer, type OptimizerConfig } from '../optimizers/index.js';
import { slotInit, stateSlots, writeStep, writeTemplate } from '../optimizers/runtime.js';
import { LOSS_KIND, type LossName, OPT_ARGS, STATUS } from '../runtime/abi.js';
import type { Ptr } from '../runtime/arena.js';
import { getRuntime, type Runtime } from '../runtime/loader.js';
import { statusError } from '../runtime/status.js';
import type { History } from './callbacks.js';
import { type FitOptions, fitLoop, type Trainable } from './fit.js';
import { CompiledPlan, type DenseParams, type PlanLoss } from './plan.js';
import { FullBatchStepper } from './fullbatch.js';
import { isSecondOrder, secondOrderSettings, type SecondOrderConfig } from '../optimizers/lbfgs.js';
import { MetricAccumulator, type MetricConfig, type MetricName, type ResolvedMetric, resolveMetrics } from './metrics.js';

/** Options of the {@link Sequential} constructor. */
export interface SequentialOptions {
  /** Input features per sample: `[d]` or `d`. */
  inputShape: number | readonly [number];
  /** The layers, in order. The last layer's units are the number of classes. */
  layers: readonly LayerConfig[];
  /** Seed of weight initialization and (by default) shuffling (default 0: runs are reproducible). */
  seed?: number;
  /** Runtime to allocate in (default: the one `init()` made current). */
  runtime?: Runtime;
}

const SEQUENTIAL_KEYS = ['inputShape', 'layers', 'seed', 'runtime'];

/** Options of `compile`. */
export interface CompileOptions {
  /**
   * A first-order optimizer (`sgd`, `adam`, …) or a full-batch one (`lbfgs`, `cg`: each `fit`
   * batch is one PyTorch `optimizer.step(closure)`; use `batchSize: rows` for full batches).
   */
  optimizer: OptimizerConfig | SecondOrderConfig;
  /**
   * - `'softmaxCrossEntropy'` (labels: class ids or one-hot; `{ type, labelSmoothing }` for
   *   PyTorch's `label_smoothing` ε: target `(1 − ε)·onehot + ε/K`);
   * - `'binaryCrossentropy'` on logits (targets in [0, 1], one column per output; PyTorch
   *   `BCEWithLogitsLoss`; `predict` returns sigmoid probabilities);
   * - `'mse'`, `'mae'`, `'huber'` (`{ type: 'huber', delta = 1 }`) on float targets `[n, outputs]`.
   * Per-sample loss is the mean over outputs; the batch loss is the mean over samples (PyTorch
   * `reduction='mean'`), weighted by `sampleWeight`/`classWeight` when given.
   */
  loss: LossName | { type: 'softmaxCrossEntropy'; labelSmoothing?: number } | { type: 'huber'; delta?: number };
  /**
   * Metrics logged beside the loss each epoch (and with the `val` prefix on validation data), and
   * returned by `evaluate`: `'accuracy'` (argmax for softmax cross-entropy — always logged there —,
   * Keras `binary_accuracy` at 0.5 for binary cross-entropy), `'topKAccuracy'` or
   * `topKAccuracy(k)`, `'mse'` and `'mae'` (of the predicted probabilities against the one-hot /
   * binary targets for classification, of the outputs for regression), `'crossentropy'`
   * (categorical or binary, without label smoothing). Unweighted means over samples (Keras
   * `metrics`): sample and class weights change the loss only. See `ts/model/metrics.ts`.
   */
  metrics?: readonly (MetricName | MetricConfig)[];
}

/** The model-side training state a checkpoint holds. @internal */
export interface ModelTrainingState {
  step: number;
  lr: number;
  dropSeed: number;
  dropCounter: number;
  fitCount: number;
  slots: { name: string; data: Float32Array }[];
}

/** A copy of one weight tensor. */
export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** `Symbol.dispose` (explicit resource management), or the key TypeScript's `using` falls back to on older hosts. */
const DISPOSE = ((Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose')) as typeof Symbol.dispose;

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<() => void>((free) => {
        try {
          free();
        } catch {
          /* runtime gone */
        }
      })
    : null;

/**
 * A stack of layers trained with one WASM call per batch.
 *
 * @example
 * ```ts
 * await init();
 * const model = new Sequential({ inputShape: [784], layers: [dense(128, { activation: 'relu' }), dense(10)] });
 * model.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
 * const history = await model.fit(x, y, { epochs: 5, batchSize: 32, validationSplit: 0.1 });
 * const { loss, accuracy } = model.evaluate(xTest, yTest);
 * const probs = model.predict(xTest); // { data, shape: [n, 10] }
 * model.dispose();
 * ```
 */
export class Sequential implements Trainable {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly layers: readonly LayerConfig[];
  readonly seed: number;
  /** Set to `true` from a callback to stop after the current epoch. */
  stopTraining = false;
  private readonly rt: Runtime;
  private params: DenseParams[] = [];
  /**
   * The plan of training steps (owned by the running `fit`, kept for the next one) and the plan of
   * inference (predict, evaluate, validation). Separate buffers: a `predict` from a fit callback
   * never touches the memory a training step reads or writes.
   */
  private trainPlan: CompiledPlan | null = null;
  private inferPlan: CompiledPlan | null = null;
  /** What the running `fit` is (null when none): compile, a second fit and state imports are refused meanwhile. */
  private training: string | null = null;
  private optimizer: OptimizerConfig | null = null;
  private disposed_ = false;
  private fitCount = 0;
  private readonly token = {};
  private readonly blocks: Ptr[] = [];

  constructor(options: SequentialOptions) {
    if (typeof options !== 'object' || options === null) throw new OptionError('options', 'Sequential: pass { inputShape, layers }.');
    for (const k of Object.keys(options)) {
      if (!SEQUENTIAL_KEYS.includes(k)) throw new OptionError(k, `Sequential: unknown option '${k}'; known options are ${SEQUENTIAL_KEYS.join(', ')}.`);
    }
    const shape = typeof options.inputShape === 'number' ? [options.inputShape] : options.inputShape;
    if (!Array.isArray(shape) || shape.length !== 1 || !Number.isInteger(shape[0]) || shape[0]! < 1) {
      throw new OptionError('inputShape', `Sequential: inputShape = ${JSON.stringify(options.inputShape)}; expected [features] with a positive integer, e.g. [784].`);
    }
    if (!Array.isArray(options.layers) || options.layers.length === 0) {
      throw new OptionError('layers', 'Sequential: layers must be a non-empty array, e.g. [dense(64, { activation: "relu" }), dense(10)].');
    }
    // Validate the stack: dropout and activation attach to the preceding dense / batch-norm layer.
    let prev: 'none' | 'param' = 'none';
    let prevAct = 'linear';
    let prevHasDropout = false;
    options.layers.forEach((l, i) => {
      const t = l?.type;
      if (t !== 'dense' && t !== 'dropout' && t !== 'batchNorm' && t !== 'activation') {
        throw new OptionError('layers', `Sequential: layers[${i}] is not a layer config; build layers with dense(...), batchNorm(), activation(name) or dropout(rate).`);
      }
      if (t === 'dense' || t === 'batchNorm') {
        prev = 'param';
        prevAct = t === 'dense' ? l.activation : 'linear';
        prevHasDropout = false;
      } else if (prev === 'none') {
        throw new OptionError('layers', `Sequential: layers[${i}] (${t}) does not follow a dense or batch-norm layer; put it after a dense(...) or batchNorm().`);
      } else if (t === 'dropout') {
        if (prevHasDropout) throw new OptionError('layers', `Sequential: layers[${i}] is a second dropout on the same layer; use one dropout with the combined rate.`);
        prevHasDropout = true;
      } else {
        if (prevAct !== 'linear' || prevHasDropout) {
          throw new OptionError('layers', `Sequential: layers[${i}] (activation) follows a layer that already has an activation or dropout; give the preceding dense/batch-norm layer no activation, and put dropout after the activation.`);
        }
        prevAct = l.activation;
      }
    });
    if (!options.layers.some((l) => l.type === 'dense')) throw new OptionError('layers', 'Sequential: the model needs at least one dense layer.');
    const seed = options.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `Sequential: seed = ${String(seed)}; expected a finite number.`);
    this.rt = options.runtime ?? getRuntime();
    this.seed = seed;
    this.layers = [...options.layers];
    this.inputSize = shape[0]!;
    let width = this.inputSize;
    for (const l of this.layers) if (l.type === 'dense') width = l.units;
    this.outputSize = width;

    try {
      this.allocateLayers(seed);
    } catch (e) {
      // a failed allocation (memory full) frees what was taken: the runtime stays usable
      for (const p of this.blocks) this.rt.arena.free(p);
      this.blocks.length = 0;
      throw e;
    }
    const blocks = this.blocks;
    const arena = this.rt.arena;
    const holder = this.planHolder;
    const state = this.stateBlocks;
    const stateHolder = this.stateHolder;
    registry?.register(this, () => {
      stateHolder.stepper?.dispose();
      holder.train?.dispose();
      holder.infer?.dispose();
      for (const p of blocks) arena.free(p);
      for (const p of state) arena.free(p);
    }, this.token);
  }

  /** Allocates and initializes every layer's blocks (recorded in `blocks` as they are taken). */
  private allocateLayers(seed: number): void {
    const a = this.rt.arena;
    const own = (n: number): Ptr => {
      const p = a.allocF32(n);
      this.blocks.push(p);
      return p;
    };
    const rng = new Rng(seed);
    let nIn = this.inputSize;
    for (const l of this.layers) {
      const last = this.params[this.params.length - 1];
      if (l.type === 'dropout') {
        last!.dropout = l.rate;
        continue;
      }
      if (l.type === 'activation') {
        last!.act = l.activation;
        last!.alpha = l.alpha;
        continue;
      }
      if (l.type === 'batchNorm') {
        const f = nIn;
        const [g, bt, dg, db, rm, rv, sm, si] = Array.from({ length: 8 }, () => own(f));
        a.writeF32(g!, new Float32Array(f).fill(1));
        a.writeF32(bt!, new Float32Array(f));
        a.writeF32(rm!, new Float32Array(f));
        a.writeF32(rv!, new Float32Array(f).fill(1));
        this.params.push({
          kind: 'batchNorm', nIn: f, nOut: f, act: 'linear', w: g!, b: bt!, gw: dg!, gb: db!,
          ws: [null, null, null], bs: [null, null, null], l1: 0, l2: 0, bl1: 0, bl2: 0, alpha: 0, dropout: 0, maxNorm: 0,
          bn: { runningMean: rm!, runningVar: rv!, saveMean: sm!, saveInvStd: si!, eps: l.epsilon, momentum: 1 - l.momentum },
        });
        continue;
      }
      const nOut = l.units;
      const w = own(nIn * nOut);
      const gw = own(nIn * nOut);
      const b = l.useBias ? own(nOut) : null;
      const gb = l.useBias ? own(nOut) : null;
      const wInit = new Float32Array(nIn * nOut);
      fillInitializer(l.kernelInitializer, wInit, nIn, nOut, rng);
      a.writeF32(w, wInit);
      if (b !== null) {
        const bInit = new Float32Array(nOut);
        fillInitializer(l.biasInitializer, bInit, nIn, nOut, rng);
        a.writeF32(b, bInit);
      }
      this.params.push({
        kind: 'dense', nIn, nOut, act: l.activation, w, b, gw, gb,
        ws: [null, null, null], bs: [null, null, null],
        l1: l.kernelRegularizer?.l1 ?? 0, l2: l.kernelRegularizer?.l2 ?? 0,
        bl1: l.biasRegularizer?.l1 ?? 0, bl2: l.biasRegularizer?.l2 ?? 0,
        alpha: l.alpha, dropout: 0, maxNorm: l.kernelConstraint?.maxValue ?? 0, bn: null,
      });
      nIn = nOut;
    }
  }

  /** The plans, as the FinalizationRegistry's cleanup sees them. */
  private readonly planHolder: { train: CompiledPlan | null; infer: CompiledPlan | null } = { train: null, infer: null };
  private readonly stateHolder: { stepper: FullBatchStepper | null } = { stepper: null };
  private readonly stateBlocks: Ptr[] = [];
  private optArgs: Ptr | null = null;
  private step = 0;
  private loss: PlanLoss = { kind: 'softmaxCrossEntropy', labelSmoothing: 0, huberDelta: 1 };
  private metrics: ResolvedMetric[] = [];
  private dropSeed = 0;
  private dropCounter = 0;

  /** Whether `dispose()` has run. */
  get disposed(): boolean {
    return this.disposed_;
  }

  private lr_ = 0;

  /** @internal the rate the next training step uses */
  get lr(): number {
    return this.lr_;
  }

  /**
   * The learning rate the next optimizer step uses. `compile` sets it to the optimizer's `lr`;
   * `fit` schedules and callbacks (e.g. {@link plateauCallback}) change it. Setting it only rewrites
   * the rate in the compiled plan: optimizer state is never reset.
   */
  get learningRate(): number {
    return this.lr_;
  }

  set learningRate(v: number) {
    this.assertUsable('learningRate');
    this.lr_ = checkLr(v, 'learningRate');
  }

  /** Whether a `fit` is running on this model (from its callbacks, or while its promise is pending). */
  get isTraining(): boolean {
    return this.training !== null;
  }

  /** @internal Refuses calls that would change what a running fit reads (BusyError, nothing changed). */
  assertIdle(where: string): void {
    if (this.training !== null) {
      throw new BusyError(`${where}: this model is training (${this.training} has not finished); ${where === 'fit' ? 'await the running fit before starting another' : `await the fit before calling ${where}`}, or set model.stopTraining = true from a callback to end it after the current epoch.`);
    }
  }

  /** @internal */
  assertUsable(where: string): void {
    if (this.disposed_) throw new DisposedError(`${where}: this model was disposed; build a new Sequential.`);
    if (where === 'fit' && !this.optimizer && !this.secondOrder) throw new OptionError('optimizer', 'fit: the model is not compiled; call model.compile({ optimizer: sgd({ lr }), loss: "softmaxCrossEntropy" }) first.');
  }

  /**
   * Sets the optimizer and loss.
   * @example model.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' })
   */
  compile(options: CompileOptions): void {
    this.assertUsable('compile');
    this.assertIdle('compile');
    if (!options || typeof options !== 'object') throw new OptionError('options', 'compile: pass { optimizer, loss }.');
    if (isSecondOrder(options.optimizer)) return this.compileSecondOrder(options as CompileOptions & { optimizer: SecondOrderConfig });
    const opt = checkOptimizer(options.optimizer, 'compile');
    const loss = resolveLoss(options.loss);
    for (const k of Object.keys(options)) {
      if (k !== 'optimizer' && k !== 'loss' && k !== 'metrics') throw new OptionError(k, `compile: unknown option '${k}'; known options are optimizer, loss, metrics.`);
    }
    // argmax accuracy for softmax cross-entropy comes from the kernel and is always logged
    const metrics = resolveMetrics(options.metrics, loss.kind, this.outputSize).filter((m) => !(loss.kind === 'softmaxCrossEntropy' && m.name === 'accuracy' && m.key === 'accuracy'));
    // validated: allocate the new optimizer state (zero, AdaGrad: initialAccumulatorValue) before
    // freeing the old one, so a failed allocation leaves the model as it was
    const a = this.rt.arena;
    const slots = stateSlots(opt);
    const taken: Ptr[] = [];
    let ws: [Ptr | null, Ptr | null, Ptr | null][];
    let bs: [Ptr | null, Ptr | null, Ptr | null][];
    let optArgs: Ptr;
    try {
      const alloc = (n: number): [Ptr | null, Ptr | null, Ptr | null] =>
        slots.map((need, i) => {
          if (!need) return null;
          const p = a.allocF32(n);
          taken.push(p);
          a.f32.fill(slotInit(opt, i), p >>> 2, (p >>> 2) + n);
          return p;
        }) as [Ptr | null, Ptr | null, Ptr | null];
      ws = this.params.map((p) => alloc(p.kind === 'batchNorm' ? p.nOut : p.nIn * p.nOut));
      bs = this.params.map((p) => (p.b !== null ? alloc(p.nOut) : [null, null, null]));
      optArgs = a.alloc(OPT_ARGS.size);
      taken.push(optArgs);
    } catch (e) {
      for (const p of taken) a.free(p);
      throw e;
    }
    this.freeOptimizerState();
    this.disposePlans();
    this.params.forEach((p, i) => {
      p.ws = ws[i]!;
      p.bs = bs[i]!;
    });
    this.stateBlocks.push(...taken);
    this.optArgs = optArgs;
    writeTemplate(a.view, this.optArgs, opt);
    this.optimizer = opt;
    this.loss = loss;
    this.metrics = metrics;
    this.step = 0;
    this.lr_ = opt.lr;
  }

  /** compile() with L-BFGS / CG: validates, then replaces the optimizer with a full-batch stepper. */
  private compileSecondOrder(options: CompileOptions & { optimizer: SecondOrderConfig }): void {
    const optimizer = options.optimizer;
    const settings = secondOrderSettings(optimizer);
    const loss = resolveLoss(options.loss);
    for (const k of Object.keys(options)) {
      if (k !== 'optimizer' && k !== 'loss' && k !== 'metrics') throw new OptionError(k, `compile: unknown option '${k}'; known options are optimizer, loss, metrics.`);
    }
    const metrics = resolveMetrics(options.metrics, loss.kind, this.outputSize).filter((m) => !(loss.kind === 'softmaxCrossEntropy' && m.name === 'accuracy' && m.key === 'accuracy'));
    if (this.params.some((p) => p.dropout > 0 || p.kind === 'batchNorm')) {
      throw new OptionError('optimizer', `compile: ${optimizer.type} needs a deterministic full-batch objective; remove dropout and batch-norm layers, or use a first-order optimizer such as adam().`);
    }
    const tensors = this.params.flatMap((p) => [
      { w: p.w, g: p.gw, n: p.nIn * p.nOut, l1: p.l1, l2: p.l2 },
      ...(p.b !== null ? [{ w: p.b, g: p.gb!, n: p.nOut, l1: p.bl1, l2: p.bl2 }] : []),
    ]);
    // built before the old state is freed: a failed allocation leaves the model as it was
    const stepper = new FullBatchStepper(this.rt, tensors, this.outputSize, settings);
    this.freeOptimizerState();
    this.disposePlans();
    for (const p of this.params) {
      p.ws = [null, null, null];
      p.bs = [null, null, null];
    }
    this.secondOrder = stepper;
    this.stateHolder.stepper = stepper;
    this.secondOrderConfig = optimizer;
    this.optimizer = null;
    this.loss = loss;
    this.metrics = metrics;
    this.step = 0;
    this.lr_ = settings.lr;
  }

  /** @internal the L-BFGS / CG state when compiled with one */
  secondOrder: FullBatchStepper | null = null;
  /** The L-BFGS / CG config of the last compile (for compileOptions). */
  private secondOrderConfig: SecondOrderConfig | null = null;

  /** Frees both plans (they point at the optimizer state and the loss of the last compile). */
  private disposePlans(): void {
    this.trainPlan?.dispose();
    this.inferPlan?.dispose();
    this.trainPlan = null;
    this.inferPlan = null;
    this.planHolder.train = null;
    this.planHolder.infer = null;
  }

  private freeOptimizerState(): void {
    this.secondOrder?.dispose();
    this.secondOrder = null;
    this.stateHolder.stepper = null;
    for (const p of this.stateBlocks) this.rt.arena.free(p);
    this.stateBlocks.length = 0;
    this.optArgs = null;
  }

  /**
   * @internal The options of the last `compile` (optimizer config and loss, with defaults filled
   * in), or null before `compile`. Used by the file writers in ts/io.
   */
  get compileOptions(): CompileOptions | null {
    const optimizer = this.optimizer ?? (this.secondOrder ? this.secondOrderConfig : null);
    if (!optimizer) return null;
    const l = this.loss;
    const loss: CompileOptions['loss'] =
      l.kind === 'softmaxCrossEntropy' ? { type: 'softmaxCrossEntropy', labelSmoothing: l.labelSmoothing } : l.kind === 'huber' ? { type: 'huber', delta: l.huberDelta } : l.kind;
    return { optimizer, loss };
  }

  /**
   * @internal The model's training state for checkpoints: optimizer step, learning rate, dropout
   * key and counter, fit count, and a copy of every optimizer state slot (`<weight name>/s<k>`).
   */
  exportTrainingState(): ModelTrainingState {
    this.assertUsable('exportTrainingState');
    const names = this.tensors().map((t) => t.name);
    const slots: { name: string; data: Float32Array }[] = [];
    let ti = 0;
    for (const p of this.params) {
      const wName = names[ti++]!;
      const bName = p.b !== null ? names[ti++]! : '';
      if (p.kind === 'batchNorm') ti += 2; // running statistics have no optimizer state
      const n = p.kind === 'batchNorm' ? p.nOut : p.nIn * p.nOut;
      p.ws.forEach((ptr, k) => ptr !== null && slots.push({ name: `${wName}/s${k + 1}`, data: this.rt.arena.readF32(ptr, n) }));
      p.bs.forEach((ptr, k) => ptr !== null && slots.push({ name: `${bName}/s${k + 1}`, data: this.rt.arena.readF32(ptr, p.nOut) }));
    }
    return { step: this.step, lr: this.lr_, dropSeed: this.dropSeed, dropCounter: this.dropCounter, fitCount: this.fitCount, slots };
  }

  /**
   * @internal Restores {@link exportTrainingState} output into a compiled model with the same
   * architecture and optimizer. Validates everything before changing anything.
   */
  importTrainingState(s: ModelTrainingState): void {
    this.assertUsable('importTrainingState');
    this.assertIdle('importTrainingState');
    if (!this.optimizer && !this.secondOrder) throw new OptionError('optimizer', 'importTrainingState: the model is not compiled; compile it with the checkpoint\'s optimizer first.');
    const want = this.exportTrainingState().slots;
    const u32 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
    if (!u32(s.dropSeed) || !(typeof s.dropCounter === 'number' && Number.isInteger(s.dropCounter) && s.dropCounter >= 0)) throw new OptionError('state', 'importTrainingState: dropSeed/dropCounter are not unsigned integers.');
    if (!(Number.isInteger(s.step) && s.step >= 0) || !(Number.isInteger(s.fitCount) && s.fitCount >= 0)) throw new OptionError('state', 'importTrainingState: step/fitCount are not integers >= 0.');
    checkLr(s.lr, 'importTrainingState');
    if (!Array.isArray(s.slots) || s.slots.length !== want.length) throw new ShapeError(`importTrainingState: ${Array.isArray(s.slots) ? s.slots.length : 'no'} optimizer state tensors; this optimizer has ${want.length}.`);
    want.forEach((w, i) => {
      const g = s.slots[i]!;
      if (g.name !== w.name || !(g.data instanceof Float32Array) || g.data.length !== w.data.length) {
        throw new ShapeError(`importTrainingState: optimizer state ${i} is ${g.name} with ${g.data?.length} values; expected ${w.name} with ${w.data.length}.`);
      }
    });
    let si = 0;
    for (const p of this.params) {
      for (const ptr of [...p.ws, ...p.bs]) if (ptr !== null) this.rt.arena.writeF32(ptr, s.slots[si++]!.data);
    }
    this.step = s.step;
    this.lr_ = s.lr;
    this.dropSeed = s.dropSeed;
    this.dropCounter = s.dropCounter;
    this.fitCount = s.fitCount;
  }

  /** Optimizer steps taken since `compile` (PyTorch's `state['step']`). */
  get optimizerStep(): number {
    return this.step;
  }

  /** Trains the model; resolves to the per-epoch History. See {@link FitOptions}. */
  fit(x: Features, y: Labels | Features, options: FitOptions = {}): Promise<History> {
    return fitLoop(this, x, y, options);
  }

  /**
   * Mean loss over (x, y) (without regularization penalties), the accuracy for softmax
   * cross-entropy (NaN for other losses), and each metric given to `compile`, by its key.
   */
  evaluate(x: Features, y: Labels | Features, options: { batchSize?: number } = {}): { loss: number; accuracy: number; [metric: string]: number } {
    this.assertUsable('evaluate');
    checkKeys(options, ['batchSize'], 'evaluate');
    const fx = toFeatures(x, this.inputSize, 'evaluate');
    const ids = this.toTargets(y, fx.rows, 'evaluate');
    const bs = options.batchSize ?? 256;
    if (!Number.isInteger(bs) || bs < 1) throw new OptionError('batchSize', `evaluate: batchSize = ${bs}; expected a positive integer.`);
    const acc = this.metricAccumulator();
    const r = this.evaluateIds(fx.data, ids, fx.rows, bs, acc);
    return acc ? { ...r, ...acc.result() } : r;
  }

  /**
   * Class probabilities (softmax of the last layer), shape `[n, classes]`. With `mcSamples: T`,
   * Monte Carlo dropout: T stochastic forward passes with dropout on (seeded by `seed`, default the
   * model's seed), returning the per-output `mean` and population standard deviation `std` over
   * the T samples (divide by T) as an uncertainty estimate.
   */
  predict(x: Features, options?: { batchSize?: number }): Matrix;
  predict(x: Features, options: { batchSize?: number; mcSamples: number; seed?: number }): { mean: Matrix; std: Matrix };
  predict(x: Features, options: { batchSize?: number; mcSamples?: number; seed?: number } = {}): Matrix | { mean: Matrix; std: Matrix } {
    this.assertUsable('predict');
    checkKeys(options, ['batchSize', 'mcSamples', 'seed'], 'predict');
    const fx = toFeatures(x, this.inputSize, 'predict');
    const bs = options.batchSize ?? 256;
    if (!Number.isInteger(bs) || bs < 1) throw new OptionError('batchSize', `predict: batchSize = ${bs}; expected a positive integer.`);
    const T = options.mcSamples;
    if (T !== undefined && (!Number.isInteger(T) || T < 1)) throw new OptionError('mcSamples', `predict: mcSamples = ${String(T)}; expected a positive integer (e.g. 50).`);
    const seed = options.seed ?? this.seed;
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `predict: seed = ${String(seed)}; expected a finite number.`);
    const k = this.outputSize;
    const total = fx.rows * k;
    const pass = (mc: boolean, sample: number): Float32Array => {
      const out = new Float32Array(total);
      if (fx.rows === 0) return out;
      const chunkRows = Math.min(bs, fx.rows);
      const plan = this.planOf('infer', chunkRows);
      let chunk = 0;
      for (let s = 0; s < fx.rows; s += chunkRows) {
        const n = Math.min(chunkRows, fx.rows - s);
        this.writeRows(plan, fx.data, null, null, s, n);
        // MC masks: key (seed), counter (sample, chunk) — independent of training's counters
        plan.setDropout((Math.floor(seed) ^ 0x5bd1e995) >>> 0, sample * 65536 + chunk++, mc);
        const status = this.rt.k.predict_step(plan.plan, plan.x, n, plan.out);
        if (status !== STATUS.ok) throw this.stepError(status, plan, 'predict');
        out.set(this.rt.arena.f32.subarray(plan.out >>> 2, (plan.out >>> 2) + n * k), s * k);
      }
      return out;
    };
    if (T === undefined) return { data: pass(false, 0), shape: [fx.rows, k] };
    const mean = new Float64Array(total);
    const m2 = new Float64Array(total);
    for (let t = 0; t < T; t++) {
      const p = pass(true, t);
      for (let i = 0; i < total; i++) {
        const d = p[i]! - mean[i]!;
        mean[i]! += d / (t + 1);
        m2[i]! += d * (p[i]! - mean[i]!);
      }
    }
    return {
      mean: { data: Float32Array.from(mean), shape: [fx.rows, k] },
      std: { data: Float32Array.from(m2, (v) => Math.sqrt(v / T)), shape: [fx.rows, k] },
    };
  }

  /** Every weight tensor in order, with names, shapes, sizes and addresses. */
  private tensors(): { name: string; shape: number[]; ptr: Ptr; n: number }[] {
    const out: { name: string; shape: number[]; ptr: Ptr; n: number }[] = [];
    let d = 0;
    let bnI = 0;
    for (const p of this.params) {
      if (p.kind === 'batchNorm') {
        const i = bnI++;
        const f = p.nOut;
        out.push({ name: `batch_norm_${i}/gamma`, shape: [f], ptr: p.w, n: f }, { name: `batch_norm_${i}/beta`, shape: [f], ptr: p.b!, n: f });
        out.push({ name: `batch_norm_${i}/moving_mean`, shape: [f], ptr: p.bn!.runningMean, n: f }, { name: `batch_norm_${i}/moving_variance`, shape: [f], ptr: p.bn!.runningVar, n: f });
        continue;
      }
      const i = d++;
      out.push({ name: `dense_${i}/kernel`, shape: [p.nIn, p.nOut], ptr: p.w, n: p.nIn * p.nOut });
      if (p.b !== null) out.push({ name: `dense_${i}/bias`, shape: [p.nOut], ptr: p.b, n: p.nOut });
    }
    return out;
  }

  /** Copies of every weight tensor: `dense_i/kernel` `[in, out]`, `dense_i/bias` `[out]`, and for batch norm `gamma`, `beta`, `moving_mean`, `moving_variance` (Keras's order). */
  getWeights(): WeightTensor[] {
    this.assertUsable('getWeights');
    return this.tensors().map((t) => ({ name: t.name, shape: t.shape, data: this.rt.arena.readF32(t.ptr, t.n) }));
  }

  /** Replaces every weight tensor (same order and shapes as {@link getWeights}); validates all first. */
  setWeights(weights: readonly { shape?: readonly number[]; data: Float32Array }[]): void {
    this.assertUsable('setWeights');
    const targets = this.tensors();
    if (!Array.isArray(weights) || weights.length !== targets.length) {
      throw new ShapeError(`setWeights: received ${Array.isArray(weights) ? weights.length : typeof weights} tensors; the model has ${targets.length}. Pass the array getWeights() returns.`);
    }
    targets.forEach((t, i) => {
      const w = weights[i] as { shape?: unknown; data?: unknown } | null | undefined;
      if (typeof w !== 'object' || w === null) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) is ${String(w)}; expected { shape: [${t.shape.join(', ')}], data: Float32Array } as getWeights() returns.`);
      if (!(w.data instanceof Float32Array)) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has data of type ${describe(w.data)}; expected a Float32Array of ${t.n} values.`);
      if (w.data.length !== t.n) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has ${w.data.length} values; expected ${t.n}.`);
      if (w.shape !== undefined) {
        const sh = w.shape;
        if (!Array.isArray(sh) || sh.length !== t.shape.length || sh.some((d, j) => d !== t.shape[j])) {
          throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has shape ${Array.isArray(sh) ? `[${sh.map(String).join(', ')}]` : describe(sh)}; expected [${t.shape.join(', ')}]${t.shape.length === 2 ? ' (kernels are [inputs, units], Keras layout; transpose a PyTorch [out, in] weight)' : ''}.`);
        }
      }
      for (let j = 0; j < w.data.length; j++) {
        const v = w.data[j]!;
        if (v - v !== 0) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) holds ${v} at ${j}; weights must be finite.`);
      }
      if (t.name.endsWith('/moving_variance') && w.data.some((v: number) => v < 0)) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has a negative variance.`);
    });
    targets.forEach((t, i) => this.rt.arena.writeF32(t.ptr, weights[i]!.data));
    // the plans hold no copy of the weights; nothing else to refresh
  }

  /** A text table of layers, output shapes and parameter counts. */
  summary(): string {
    const rows: [string, string, string][] = [['Layer', 'Output shape', 'Params']];
    let total = 0;
    let di = 0;
    let bi = 0;
    this.params.forEach((p) => {
      const isBn = p.kind === 'batchNorm';
      const n = isBn ? 4 * p.nOut : p.nIn * p.nOut + (p.b !== null ? p.nOut : 0);
      total += n;
      const i = isBn ? bi++ : di++;
      rows.push([`${isBn ? 'batch_norm' : 'dense'}_${i} (${p.act}${p.dropout > 0 ? `, dropout ${p.dropout}` : ''}${p.maxNorm > 0 ? `, maxNorm ${p.maxNorm}` : ''})`, `[null, ${p.nOut}]`, String(n)]);
    });
    const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: [string, string, string]) => `${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2].padStart(w[2]!)}`;
    const sep = '-'.repeat(w[0]! + w[1]! + w[2]! + 4);
    return [line(rows[0]!), sep, ...rows.slice(1).map(line), sep, `Total params: ${total}`].join('\n');
  }

  /**
   * Frees the model's WASM memory. Any later use throws {@link DisposedError}. Idempotent.
   * Required: the FinalizationRegistry safety net runs only when V8 collects the object, and V8
   * does not count WASM memory as pressure. `using model = new Sequential(...)` (TypeScript 5.2+)
   * calls it at the end of the scope. Called while a `fit` runs (from a callback, a timer or a UI
   * handler), the memory is freed at once and that fit rejects with {@link DisposedError} at its
   * next batch boundary, without touching the freed memory.
   */
  dispose(): void {
    if (this.disposed_) return;
    this.disposed_ = true;
    registry?.unregister(this.token);
    this.disposePlans();
    for (const p of this.blocks) this.rt.arena.free(p);
    this.blocks.length = 0;
    this.freeOptimizerState();
  }

  /** Same as {@link dispose}: `using model = new Sequential(...)` disposes at the end of the scope. */
  [DISPOSE](): void {
    this.dispose();
  }

  // ---- internals used by the training loop ----

  /**
   * @internal Marks a fit as running (compile, a second fit and state imports are refused until
   * {@link endTraining}) and returns the training plan for batches of up to `rows` rows.
   */
  beginTraining(rows: number, what = 'a fit'): CompiledPlan {
    this.assertUsable('fit');
    this.assertIdle('fit');
    const plan = this.planOf('train', rows);
    this.training = what;
    return plan;
  }

  /** @internal The running fit ended (normally or not). */
  endTraining(): void {
    this.training = null;
  }

  /**
   * A plan with room for `rows` rows: the training plan (only the running fit steps it) or the
   * inference plan (predict, evaluate, validation). Replaced by a larger one when needed; a new
   * plan is built before the old one is freed.
   */
  private planOf(which: 'train' | 'infer', rows: number): CompiledPlan {
    const need = Math.max(1, rows);
    const old = which === 'train' ? this.trainPlan : this.inferPlan;
    if (old && old.batchCap >= need) return old;
    const o = this.optimizer;
    const plan = new CompiledPlan(this.rt, this.params, need, {
      args: this.optArgs ?? this.ensureInferenceArgs(),
      clipValue: o?.clipValue ?? 0,
      clipNorm: o?.clipNorm ?? 0,
      globalClipNorm: o?.globalClipNorm ?? 0,
    }, this.loss);
    old?.dispose();
    if (which === 'train') this.trainPlan = this.planHolder.train = plan;
    else this.inferPlan = this.planHolder.infer = plan;
    return plan;
  }

  /** An OptArgs record for plans built before compile (evaluate/predict only; never used to train). */
  private ensureInferenceArgs(): Ptr {
    const p = this.rt.arena.alloc(OPT_ARGS.size);
    this.rt.arena.u8.fill(0, p, p + OPT_ARGS.size);
    this.stateBlocks.push(p);
    this.optArgs = p;
    return p;
  }

  /** @internal Class ids for softmax cross-entropy, else validated float targets `[rows, outputs]`. */
  toTargets(y: Labels | Features, rows: number, where: string): Int32Array | Float32Array {
    if (this.loss.kind === 'softmaxCrossEntropy') return toClassIds(y as Labels, rows, this.outputSize, where);
    const t = toFeatures(y as Features, this.outputSize, `${where} (targets)`);
    if (t.rows !== rows) throw new ShapeError(`${where}: ${t.rows} target rows for ${rows} samples. Pass one row of ${this.outputSize} targets per sample.`);
    if (this.loss.kind === 'binaryCrossentropy') {
      t.data.forEach((v, i) => {
        if (v < 0 || v > 1) throw new OptionError('y', `${where}: binary cross-entropy target ${v} at row ${Math.floor(i / this.outputSize)} is outside [0, 1].`);
      });
    }
    return t.data;
  }

  /** @internal A fresh accumulator for the compiled metrics, or null when there are none. */
  metricAccumulator(): MetricAccumulator | null {
    return this.metrics.length ? new MetricAccumulator(this.metrics, this.loss.kind, this.outputSize) : null;
  }

  /** @internal */
  metricKeys(): string[] {
    return this.metrics.map((m) => m.key);
  }

  /** @internal Adds the latest step's `n` rows (outputs and targets from the plan's buffers). */
  addMetrics(acc: MetricAccumulator, plan: CompiledPlan, n: number, training: boolean): void {
    const k = this.outputSize;
    const a = this.rt.arena;
    const outPtr = training ? plan.trainOutput : plan.output;
    const out = a.f32.subarray(outPtr >>> 2, (outPtr >>> 2) + n * k);
    const y = this.loss.kind === 'softmaxCrossEntropy' ? a.i32.subarray(plan.labels >>> 2, (plan.labels >>> 2) + n) : a.f32.subarray(plan.labels >>> 2, (plan.labels >>> 2) + n * k);
    acc.add(out, y, n);
  }

  /** @internal */
  get hasBatchNorm(): boolean {
    return this.params.some((p) => p.kind === 'batchNorm');
  }

  /** @internal */
  get classification(): boolean {
    return this.loss.kind === 'softmaxCrossEntropy';
  }

  /** @internal */
  beginFit(seed: number): void {
    // 32-bit key from the fit seed; the counter keeps running so no two steps share masks
    this.dropSeed = (Math.floor(seed) ^ Math.floor(seed / 4294967296)) >>> 0;
  }

  /** @internal */
  nextFitSeed(): number {
    return this.seed * 1000003 + 1 + this.fitCount++;
  }

  /** @internal Copies `count` rows (through `idx` when given) of x, targets and weights into the plan's buffers. */
  writeRows(plan: CompiledPlan, x: Float32Array, y: Int32Array | Float32Array | null, idx: Int32Array | null, start: number, count: number, w: Float32Array | null = null): void {
    const d = this.inputSize;
    const f32 = this.rt.arena.f32;
    const xo = plan.x >>> 2;
    const row = (i: number) => (idx === null ? start + i : idx[start + i]!);
    if (idx === null) f32.set(x.subarray(start * d, (start + count) * d), xo);
    else for (let i = 0; i < count; i++) f32.set(x.subarray(row(i) * d, row(i) * d + d), xo + i * d);
    if (y instanceof Int32Array) {
      const i32 = this.rt.arena.i32;
      const lo = plan.labels >>> 2;
      for (let i = 0; i < count; i++) i32[lo + i] = y[row(i)]!;
    } else if (y instanceof Float32Array) {
      const k = this.outputSize;
      const lo = plan.labels >>> 2;
      for (let i = 0; i < count; i++) f32.set(y.subarray(row(i) * k, row(i) * k + k), lo + i * k);
    }
    plan.useWeights(w !== null);
    if (w !== null) {
      const wo = plan.weights >>> 2;
      for (let i = 0; i < count; i++) f32[wo + i] = w[row(i)]!;
    }
  }

  /** @internal */
  run(plan: CompiledPlan, kind: 'train' | 'eval', n: number): number {
    if (kind === 'eval') return this.rt.k.eval_step(plan.plan, plan.x, plan.labels, n);
    if (plan !== this.trainPlan) throw new DisposedError('train step: the plan is not this model\'s training plan (it was freed or replaced); this is a wasmfit bug.');
    if (this.secondOrder) {
      const st = this.secondOrder.step(plan, n, this.lr_);
      if (st === STATUS.ok) this.step++;
      return st;
    }
    // step-dependent scalars for step t + 1 (f64); the step counts only if the kernel updated
    const eff = writeStep(this.rt.arena.view, this.optArgs!, this.optimizer!, this.step + 1, this.lr_);
    plan.setLr(eff);
    plan.setDropout(this.dropSeed, this.dropCounter++, false);
    const status = this.rt.k.train_step(plan.plan, plan.x, plan.labels, n);
    if (status === STATUS.ok) this.step++;
    return status;
  }

  /**
   * @internal The typed error of a step's non-OK status (crates/kernels/src/step.rs). `where`
   * names the caller and the position (e.g. `fit: epoch 3, batch 17`).
   */
  stepError(status: number, plan: CompiledPlan, where: string): WasmfitError {
    return statusError(status, where, plan.statusDetail());
  }

  /** @internal */
  evaluateIds(x: Float32Array, y: Int32Array | Float32Array, rows: number, batchSize: number, acc: MetricAccumulator | null = null): { loss: number; accuracy: number } {
    if (rows === 0) return { loss: NaN, accuracy: NaN };
    const chunkRows = Math.min(batchSize, rows);
    const plan = this.planOf('infer', chunkRows);
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < rows; s += chunkRows) {
      const n = Math.min(chunkRows, rows - s);
      this.writeRows(plan, x, y, null, s, n);
      const status = this.run(plan, 'eval', n);
      // a non-finite loss is reported as such (NaN/Inf in the result), as Keras does
      if (status !== STATUS.ok && status !== STATUS.nonFiniteLoss) throw this.stepError(status, plan, 'evaluate');
      if (acc) this.addMetrics(acc, plan, n, false);
      const r = plan.results();
      lossSum += r.lossSum;
      correct += r.correct;
    }
    return { loss: lossSum / rows, accuracy: this.classification ? correct / rows : NaN };
  }
}

/** A short description of a value's type for messages. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Refuses option keys outside `known` (typos such as `batch_size` are not silently ignored). */
function checkKeys(options: unknown, known: readonly string[], where: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new OptionError('options', `${where}: options = ${String(options)}; expected an object such as { ${known[0]}: ... }.`);
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new OptionError(k, `${where}: unknown option '${k}'; known options are ${known.join(', ')}.`);
  }
}

function resolveLoss(loss: unknown): PlanLoss {
  const names = Object.keys(LOSS_KIND);
  if (typeof loss === 'string') {
    if (!names.includes(loss)) throw new OptionError('loss', `compile: loss = ${JSON.stringify(loss)}; expected one of ${names.join(', ')}.`);
    return { kind: loss as LossName, labelSmoothing: 0, huberDelta: 1 };
  }
  if (loss && typeof loss === 'object') {
    const l = loss as { type?: unknown; labelSmoothing?: unknown; delta?: unknown };
    if (l.type === 'softmaxCrossEntropy') {
      const e = l.labelSmoothing ?? 0;
      if (typeof e !== 'number' || !(e >= 0 && e <= 1)) throw new OptionError('labelSmoothing', `compile: labelSmoothing = ${String(e)}; expected a number in [0, 1], e.g. 0.1.`);
      return { kind: 'softmaxCrossEntropy', labelSmoothing: e, huberDelta: 1 };
    }
    if (l.type === 'huber') {
      const dlt = l.delta ?? 1;
      if (typeof dlt !== 'number' || !Number.isFinite(dlt) || dlt <= 0) throw new OptionError('delta', `compile: huber delta = ${String(dlt)}; expected a finite number > 0.`);
      return { kind: 'huber', labelSmoothing: 0, huberDelta: dlt };
    }
  }
  throw new OptionError('loss', `compile: loss = ${JSON.stringify(loss)}; expected one of ${names.join(', ')}, { type: 'softmaxCrossEntropy', labelSmoothing } or { type: 'huber', delta }.`);
}
