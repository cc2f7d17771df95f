/**
 * The Sequential model: a facade over the layer stack (described once by the layer kinds, bound
 * to WASM blocks in `weights.ts`) and the {@link Stepper} that runs every step. It validates the
 * public calls and keeps the lifecycle: compile replaces the Stepper, a running fit owns it, and
 * dispose frees everything.
 */
import { BusyError, DisposedError, OptionError } from '../errors/index.js';
import type { Features, Labels, Matrix } from '../data/tensor.js';
import type { LayerConfig } from '../layers/index.js';
import type { BoundLayer } from '../layers/kind.js';
import { checkLr } from '../optimizers/index.js';
import type { Ptr } from '../runtime/arena.js';
import { forget, onCollect } from '../runtime/collect.js';
import { getRuntime, type Runtime } from '../runtime/loader.js';
import type { History, Logs } from './callbacks.js';
import { type CompileOptions, compileOptionsOf, DEFAULT_LOSS, resolveCompile, type StoredCompileOptions } from './compile.js';
import { type FitOptions, fitLoop } from './fit.js';
import { type Dataset, type FitDatasetOptions, fitDatasetLoop, predictOnBatch, trainOnBatch, type TrainOnBatchOptions } from './dataset.js';
import type { FullBatchStepper } from './fullbatch.js';
import { type ModelTrainingState, Stepper } from './stepper.js';
import { bindLayers, modelTensors, resolveStack, type SequentialOptions, summaryTable, type WeightTensor, writeWeights } from './weights.js';
import { checkClassesOf, predictClassIds, predictClassNames } from './classes.js';
import { evaluateModel, predictModel } from './predict.js';
import { type PreprocessingInput, type PreprocessingState, preprocessingOption, type RawFeatures } from '../preprocess/hook.js';

export type { SequentialOptions, WeightTensor } from './weights.js';

/** `Symbol.dispose` (explicit resource management), or the key TypeScript's `using` falls back to on older hosts. */
const DISPOSE = ((Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose')) as typeof Symbol.dispose;

/**
 * A stack of layers trained with one WASM call per batch.
 *
 * @example
 * ```ts
 * await init();
 * const model = new Sequential({ inputShape: [784], layers: [dense(128, { activation: 'relu' }), dense(10)] });
 * model.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
 * const history = await model.fit(x, y, { epochs: 5, batchSize: 32, validationSplit: 0.1 });
 * const probs = model.predict(xTest); // { data, shape: [n, 10] }; model.evaluate(xTest, yTest) → { loss, accuracy }
 * model.dispose();
 * ```
 */
export class Sequential {
  /** `[features]` or `[height, width, channels]` (rows flat, channels-last); `inputSize` is their product. */ readonly inputShape: readonly number[];
  readonly inputSize: number;
  readonly outputSize: number;
  readonly layers: readonly LayerConfig[];
  readonly seed: number;
  /** Set to `true` from a callback to stop after the current epoch. */
  stopTraining = false;
  private readonly rt: Runtime;
  private readonly bound: BoundLayer[];
  private readonly blocks: Ptr[] = [];
  /** What every step runs through (optimizer state, plans, loss, counters); replaced by compile. */
  private stepper: Stepper;
  /** The live Stepper and the parameter blocks, as the FinalizationRegistry's cleanup sees them. */
  private readonly holder: { stepper: Stepper | null } = { stepper: null };
  /** What the running `fit` is (null when none): compile, a second fit and state imports are refused meanwhile. */
  private training: string | null = null;
  private disposed_ = false;
  private fitCount = 0;
  private lr_ = 0;
  private classes_: readonly string[] | null = null;
  private prep_: PreprocessingState | null = null;
  private readonly token = {};

  constructor(options: SequentialOptions) {
    const { entries, seed, ...shape } = resolveStack(options);
    ({ inputShape: this.inputShape, inputSize: this.inputSize, layers: this.layers } = shape);
    this.rt = options.runtime ?? getRuntime();
    this.seed = seed;
    this.outputSize = entries[entries.length - 1]!.nOut;
    const a = this.rt.arena;
    // all or nothing: a failed allocation (MemoryError) frees what was taken; the runtime stays usable
    [this.bound, this.stepper] = a.atomic(() => {
      const bound = bindLayers(this.rt, entries, seed, this.blocks);
      return [bound, new Stepper(this.rt, bound, this.inputSize, this.outputSize, { optimizer: null, fullBatch: null, loss: DEFAULT_LOSS, metrics: [] })] as const;
    });
    this.holder.stepper = this.stepper;
    const { blocks, holder } = this;
    onCollect(this, () => {
      holder.stepper?.dispose();
      for (const p of blocks) a.free(p);
    }, this.token);
  }

  /** Whether `dispose()` has run. */
  get disposed(): boolean {
    return this.disposed_;
  }

  /** Whether a `fit` is running on this model (from its callbacks, or while its promise is pending). */
  get isTraining(): boolean {
    return this.training !== null;
  }

  /**
   * The learning rate of the next optimizer step. `compile` sets it to the optimizer's `lr`; `fit`
   * schedules and callbacks (e.g. {@link plateauCallback}) change it. Never resets optimizer state.
   */
  get learningRate(): number {
    return this.lr_;
  }
  set learningRate(v: number) {
    this.assertUsable('learningRate');
    this.lr_ = checkLr(v, 'learningRate');
  }

  /** Optimizer steps taken since `compile` (PyTorch's `state['step']`). */
  get optimizerStep(): number {
    return this.stepper.step;
  }

  /**
   * Sets the optimizer and loss; a new compile starts a fresh optimizer state (step 0).
   * @example model.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' })
   */
  compile(options: CompileOptions): void {
    this.assertUsable('compile');
    this.assertIdle('compile');
    const cfg = resolveCompile(options, this.bound, this.outputSize);
    // built before the old Stepper is freed: a failed allocation leaves the model as it was; dropout streams continue
    const next = new Stepper(this.rt, this.bound, this.inputSize, this.outputSize, cfg, this.stepper);
    this.stepper.dispose();
    this.stepper = this.holder.stepper = next;
    this.lr_ = cfg.lr;
  }

  /** Trains the model; resolves to the per-epoch History. See {@link FitOptions}. */
  fit(x: RawFeatures, y: Labels | Features, options: FitOptions = {}): Promise<History> {
    return fitLoop(this, x, y, options);
  }

  /** Trains over batches `{ x, y }` from an (async) iterable or a function returning one; see {@link FitDatasetOptions}. */
  fitDataset(dataset: Dataset, options: FitDatasetOptions = {}): Promise<History> {
    return fitDatasetLoop(this, dataset, options);
  }

  /** One optimizer step on exactly these rows at `learningRate` (Keras `train_on_batch`); returns `loss`, `accuracy` (classifiers) and the compiled metrics. */
  trainOnBatch(x: RawFeatures, y: Labels | Features, options?: TrainOnBatchOptions): Logs {
    return trainOnBatch(this, x, y, options);
  }

  /** Model outputs for one batch in a single pass, without chunking (Keras `predict_on_batch`). */
  predictOnBatch(x: RawFeatures): Matrix {
    return predictOnBatch(this, x);
  }

  /**
   * Mean loss over (x, y) (without regularization penalties), the accuracy for softmax
   * cross-entropy (NaN for other losses), and each metric given to `compile`, by its key.
   */
  evaluate(x: RawFeatures, y: Labels | Features, options: { batchSize?: number } = {}): { loss: number; accuracy: number; [metric: string]: number } {
    return evaluateModel(this, x, y, options);
  }

  /**
   * Class probabilities (softmax of the last layer), shape `[n, classes]`. With `mcSamples: T`, Monte Carlo
   * dropout (and noise): T stochastic passes seeded by `seed` (default the model's seed), returning the
   * per-output `mean` and population standard deviation `std` (divide by T) as an uncertainty estimate.
   */
  predict(x: RawFeatures, options?: { batchSize?: number }): Matrix;
  predict(x: RawFeatures, options: { batchSize?: number; mcSamples: number; seed?: number }): { mean: Matrix; std: Matrix };
  predict(x: RawFeatures, options: { batchSize?: number; mcSamples?: number; seed?: number } = {}): Matrix | { mean: Matrix; std: Matrix } {
    return predictModel(this, x, options);
  }

  /** Class names by id, or null; a fit on string labels sets them when null (sorted by code point, as scikit-learn); kept in model files. */
  get classes(): readonly string[] | null {
    return this.classes_;
  }
  set classes(v: readonly string[] | null) {
    this.classes_ = checkClassesOf(this, v);
  }
  /** The fitted preprocessing (frozen JSON) that every `x` of predict, evaluate, fit and fitDataset goes through, or null; kept in model files. */
  get preprocessing(): PreprocessingState | null {
    return this.prep_;
  }
  /** Attaches a fitted preprocessing of `wasmfit/preprocess` (a ColumnTransformer, a scaler, … or its `toJSON()`; null detaches): raw rows in, `inputSize` columns out. */
  setPreprocessing(p: PreprocessingInput | null): void {
    this.prep_ = preprocessingOption(this, p, 'setPreprocessing');
  }

  /** Predicted class ids: argmax of `predict(x)` (binary cross-entropy with one output: `p >= 0.5`). */
  predictClasses(x: RawFeatures, options: { batchSize?: number } = {}): Int32Array {
    return predictClassIds(this, x, options);
  }

  /** Predicted class names, `classes[id]` for each id of {@link predictClasses}. */
  predictLabels(x: RawFeatures, options: { batchSize?: number } = {}): string[] {
    return predictClassNames(this, x, options);
  }

  /** Copies of every weight tensor: `dense_i/kernel` `[in, out]`, `dense_i/bias` `[out]`, and for batch norm `gamma`, `beta`, `moving_mean`, `moving_variance` (Keras's order). */
  getWeights(): WeightTensor[] {
    this.assertUsable('getWeights');
    return modelTensors(this.bound).map((t) => ({ name: t.name, shape: t.shape, data: this.rt.arena.readF32(t.ptr, t.n) }));
  }

  /** Replaces every weight tensor (same order and shapes as {@link getWeights}); validates all first. */
  setWeights(weights: readonly { shape?: readonly number[]; data: Float32Array }[]): void {
    this.assertUsable('setWeights');
    writeWeights(this.rt, this.bound, weights);
  }

  /** A text table of layers, output shapes and parameter counts. */
  summary(): string {
    return summaryTable(this.bound.map((l) => l.entry));
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
    forget(this.token);
    this.stepper.dispose();
    this.holder.stepper = null;
    for (const p of this.blocks) this.rt.arena.free(p);
    this.blocks.length = 0;
  }

  /** Same as {@link dispose}: `using model = new Sequential(...)` disposes at the end of the scope. */
  [DISPOSE](): void {
    this.dispose();
  }

  // ---- internals (ts/model/fit.ts, ts/io, ts/ensemble) ----
  /** @internal Refuses calls that would change what a running fit reads (BusyError, nothing changed). */
  assertIdle(where: string): void {
    if (this.training !== null) {
      throw new BusyError(`${where}: this model is training (${this.training} has not finished); ${where === 'fit' ? 'await the running fit before starting another' : `await the fit before calling ${where}`}, or set model.stopTraining = true from a callback to end it after the current epoch.`);
    }
  }

  /** @internal */
  assertUsable(where: string): void {
    if (this.disposed_) throw new DisposedError(`${where}: this model was disposed; build a new Sequential.`);
    if (where === 'fit' && !this.stepper.trainable) throw new OptionError('optimizer', 'fit: the model is not compiled; call model.compile({ optimizer: sgd({ lr }), loss: "softmaxCrossEntropy" }) first.');
  }

  /** @internal Marks a fit as running (compile, a second fit and state imports are refused until {@link endTraining}) and returns its Stepper with room for `rows` rows. */
  beginTraining(rows: number, what = 'a fit'): Stepper {
    this.assertUsable('fit');
    this.assertIdle('fit');
    this.stepper.reserve(rows);
    this.training = what;
    return this.stepper;
  }

  /** @internal The running fit ended (normally or not). */
  endTraining(): void {
    this.training = null;
  }
  /** @internal The Stepper the next fit, evaluate or predict runs on. */
  get steps(): Stepper {
    return this.stepper;
  }
  /** @internal The seed of a fit called without one: derived from the model's seed and the fit count. */
  nextFitSeed(): number {
    return this.seed * 1000003 + 1 + this.fitCount++;
  }
  /** @internal the L-BFGS / CG state when compiled with one */
  get secondOrder(): FullBatchStepper | null {
    return this.stepper.fullBatch;
  }
  /** @internal The options of the last `compile` (defaults filled in), or null before it; for the file writers. */
  get compileOptions(): StoredCompileOptions | null {
    return compileOptionsOf(this.stepper.optimizer ?? this.stepper.fullBatchConfig, this.stepper.loss);
  }

  /** @internal The training state for checkpoints: step, rate, dropout counters, fit count and every optimizer slot (`<weight>/s<k>`). */
  exportTrainingState(): ModelTrainingState {
    this.assertUsable('exportTrainingState');
    return { ...this.stepper.state(), lr: this.lr_, fitCount: this.fitCount };
  }

  /** @internal Restores {@link exportTrainingState} output into a model compiled with the same optimizer; validates everything first. */
  importTrainingState(s: ModelTrainingState): void {
    const W = 'importTrainingState';
    this.assertUsable(W);
    this.assertIdle(W);
    if (!this.stepper.trainable) throw new OptionError('optimizer', `${W}: the model is not compiled; compile it with the checkpoint's optimizer first.`);
    if (!(Number.isInteger(s.fitCount) && s.fitCount >= 0)) throw new OptionError('state', `${W}: fitCount = ${String(s.fitCount)}; expected an integer >= 0.`);
    const lr = checkLr(s.lr, W);
    this.stepper.restore(s, W);
    this.lr_ = lr;
    this.fitCount = s.fitCount;
  }
}
