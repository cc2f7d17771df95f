/**
 * The batch-level loops of tfjs-layers and Keras: {@link trainOnBatch} (one optimizer step on
 * exactly the given rows), {@link predictOnBatch} (one forward pass, no chunking) and
 * {@link fitDatasetLoop} (`fitDataset`: `fit` over an iterable or async iterable of batches, for
 * data that is generated, streamed or larger than memory). They drive the same {@link Stepper} as
 * `fit`, with the same options resolver, callbacks, schedules and logs.
 */
import { DisposedError, OptionError, ShapeError } from '../errors/index.js';
import { checkOptions } from '../errors/validate.js';
import type { Features, Labels, Matrix } from '../data/tensor.js';
import type { RawFeatures } from '../preprocess/state.js';
import { type InputModel, modelInputs } from './inputs.js';
import { STATUS } from '../runtime/abi.js';
import type { Schedule } from '../schedules/index.js';
import type { Plateau } from '../schedules/plateau.js';
import type { Callback, History, Logs } from './callbacks.js';
import { CallbackList } from './callback-list.js';
import { checkMomentumCycling, type FitModel, type FitOptions, logKeysOf, resolveFitOptions, sampleWeightsOf, scheduledRate, yieldNow } from './fit.js';
import type { Stepper } from './stepper.js';

/** One batch of a dataset: features, targets (as `fit` takes them) and optional per-row loss weights. */
export interface DatasetBatch {
  x: RawFeatures;
  y: Labels | Features;
  /** Weight of each row in the loss (finite, >= 0), as `fit`'s `sampleWeight`. */
  sampleWeight?: Float32Array | readonly number[];
}

/** Something that yields batches: an array, a generator, an async generator, a stream's async iterator… */
export type BatchSource = Iterable<DatasetBatch> | AsyncIterable<DatasetBatch>;

/**
 * What `fitDataset` trains on: a {@link BatchSource}, or a function returning a fresh one (called
 * once per epoch, or once per fit with `batchesPerEpoch`).
 */
export type Dataset = BatchSource | (() => BatchSource);

/** Options of {@link trainOnBatch} (Keras `train_on_batch`). */
export interface TrainOnBatchOptions {
  /** Weight of each row in the loss (finite, >= 0), Keras `sample_weight`. */
  sampleWeight?: Float32Array | readonly number[];
  /** Softmax cross-entropy only: weight per class id, Keras `class_weight`; multiplies sampleWeight. */
  classWeight?: Record<number, number> | readonly number[];
}

/**
 * Options of `fitDataset`. Epochs: without `batchesPerEpoch`, every epoch iterates the dataset
 * from its start (a function is called again; an iterable is iterated again) until it ends; with
 * `batchesPerEpoch`, one iteration runs through the whole fit and each epoch takes the next
 * `batchesPerEpoch` batches (tfjs-layers' semantics). A generator object (an iterator) can be
 * iterated only once: pass `() => gen()` to train it for more than one epoch.
 */
export interface FitDatasetOptions {
  /** Index of the last epoch + 1, as Keras (default 1). */
  epochs?: number;
  /** Epoch to start from (default 0). Epoch schedules see the absolute epoch. */
  initialEpoch?: number;
  /** Batches per epoch from one continuing iteration (default: each epoch runs a full iteration). */
  batchesPerEpoch?: number;
  /**
   * Validation after every epoch: a pair `[xVal, yVal]` (evaluated in chunks of
   * `validationBatchSize`), or a {@link Dataset} of batches (each evaluated as one chunk; iterated
   * anew every epoch, so a generator object is accepted only for one epoch).
   */
  validationData?: readonly [RawFeatures, Labels | Features] | Dataset;
  /** Chunk size for `[xVal, yVal]` (default: the epoch's largest training batch, as `fit` uses its `batchSize`). */
  validationBatchSize?: number;
  /** As `fit`'s: weight per class id (softmax cross-entropy only); multiplies each batch's sampleWeight. */
  classWeight?: Record<number, number> | readonly number[];
  /** Seed of the dropout stream (default: derived from the model's seed and the fit count, as `fit`). */
  seed?: number;
  /** As `fit`'s `verbose` (the progress bar knows the batch count only with `batchesPerEpoch`). */
  verbose?: 0 | 1 | 2;
  /** As `fit`'s callbacks. Checkpoint writers are refused: a dataset's position cannot be saved. */
  callbacks?: readonly (Callback | Plateau)[];
  /** Yield to the event loop when a step ends this many ms after the last yield (default 125). */
  yieldEveryMs?: number;
  /** As `fit`'s: an `'epoch'` schedule sets the rate before each epoch, a `'step'` one before each batch (steps counted from 0 in this call). */
  schedule?: Schedule;
}

const DATASET_KEYS = ['epochs', 'initialEpoch', 'batchesPerEpoch', 'validationData', 'validationBatchSize', 'classWeight', 'seed', 'verbose', 'callbacks', 'yieldEveryMs', 'schedule'];

/** A batch validated against the model: features, targets, per-row weights. */
interface Rows {
  x: Float32Array;
  y: Int32Array | Float32Array;
  rows: number;
  weights: Float32Array | null;
}

function rowsOf(st: Stepper, inputs: InputModel, x: RawFeatures, y: Labels | Features, sw: TrainOnBatchOptions['sampleWeight'], cw: TrainOnBatchOptions['classWeight'], where: string, training: boolean): Rows {
  const fx = modelInputs(inputs, x, where);
  const ids = st.targets(y, fx.rows, where);
  if (fx.rows === 0) throw new ShapeError(`${where}: the batch has no rows; pass at least one sample.`);
  if (training && fx.rows === 1 && st.usesBatchStatistics) {
    throw new OptionError('x', `${where}: a batch of 1 row; batch normalization needs at least 2 rows per training batch. Pass larger batches.`);
  }
  return { x: fx.data, y: ids, rows: fx.rows, weights: sampleWeightsOf(st, fx.rows, ids, sw, cw, where) };
}

/** Checks that the model can take an optimizer step (compiled); throws a typed error otherwise. */
function assertTrainable(m: FitModel, where: string): void {
  m.assertUsable(where);
  m.assertIdle(where);
  if (!m.steps.trainable) throw new OptionError('optimizer', `${where}: the model is not compiled; call model.compile({ optimizer: sgd({ lr }), loss: "softmaxCrossEntropy" }) first.`);
}

/** The logs of the step just taken: `loss` (mean over the batch), `accuracy` for classifiers, the compiled metrics. */
function stepLogs(st: Stepper, n: number): Logs {
  const r = st.results();
  const logs: Logs = st.classification ? { loss: r.lossSum / n, accuracy: r.correct / n } : { loss: r.lossSum / n };
  const acc = st.metricAccumulator();
  if (acc) {
    st.addTrainMetrics(acc, n);
    Object.assign(logs, acc.result());
  }
  return logs;
}

/**
 * One optimizer step on exactly the rows of (x, y) at the model's current `learningRate` (Keras
 * `train_on_batch`, tfjs `trainOnBatch`): counts as a step of the optimizer state
 * (`optimizerStep` + 1, Adam's bias correction, …); dropout draws from the model's dropout stream.
 * Returns the step's logs: `loss` (mean over the rows, weights applied, penalties excluded, as
 * `fit`'s batch logs), `accuracy` for softmax cross-entropy, and each compiled metric.
 * Refused with BusyError while a fit runs; a non-finite loss throws NonFiniteError with the
 * weights as they were. @internal
 */
export function trainOnBatch(m: FitModel, x: RawFeatures, y: Labels | Features, options: TrainOnBatchOptions = {}): Logs {
  const W = 'trainOnBatch';
  assertTrainable(m, W);
  checkOptions(W, options, ['sampleWeight', 'classWeight']);
  const b = rowsOf(m.steps, m, x, y, options.sampleWeight, options.classWeight, W, true);
  const st = m.beginTraining(b.rows, W);
  try {
    st.load(b.x, b.y, null, 0, b.rows, b.weights);
    const status = st.train(b.rows, m.learningRate);
    if (status !== STATUS.ok) throw st.error(status, W);
    return stepLogs(st, b.rows);
  } finally {
    m.endTraining();
  }
}

/** `predict` on one batch in a single forward pass, without chunking (Keras `predict_on_batch`). @internal */
export function predictOnBatch(m: FitModel, x: RawFeatures): Matrix {
  const W = 'predictOnBatch';
  m.assertUsable(W);
  const fx = modelInputs(m, x, W);
  const k = m.steps.outputs;
  return { data: m.steps.predict(fx.data, fx.rows, Math.max(1, fx.rows), null), shape: [fx.rows, k] };
}

type AnyIterator = Iterator<DatasetBatch> | AsyncIterator<DatasetBatch>;

/** Whether `v` is a one-shot iterator (a generator object, a stream's iterator) rather than a re-iterable source. */
const oneShot = (v: unknown): boolean => typeof (v as { next?: unknown }).next === 'function';

function isSource(v: unknown): v is BatchSource {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
  const o = v as Record<symbol, unknown>;
  return typeof o[Symbol.asyncIterator] === 'function' || typeof o[Symbol.iterator] === 'function';
}

/** Checks a dataset option: a source or a function (called later, per epoch); refuses a one-shot iterator used for several passes. */
function checkDataset(d: unknown, option: string, passes: number): void {
  const what = `fitDataset: ${option}`;
  if (typeof d === 'function') return;
  if (!isSource(d)) {
    throw new OptionError(option, `${what} is ${d === null ? 'null' : typeof d}; expected an iterable or async iterable of { x, y } batches (an array, a generator, an async generator) or a function returning one.`);
  }
  if (passes > 1 && oneShot(d)) {
    throw new OptionError(option, `${what} is an iterator (e.g. a generator object), which can be iterated only once, and this fit needs ${passes} passes; pass a function returning a fresh one (() => batches()), or batchesPerEpoch.`);
  }
}

/** Starts an iteration of `d` (calling it first when it is a function). */
function iterate(d: Dataset, option: string): AnyIterator {
  const src = typeof d === 'function' ? d() : d;
  if (!isSource(src)) throw new OptionError(option, `fitDataset: the ${option} function returned ${src === null ? 'null' : typeof src}; it must return an iterable or async iterable of { x, y } batches.`);
  const o = src as unknown as Record<symbol, () => AnyIterator>;
  return typeof o[Symbol.asyncIterator] === 'function' ? o[Symbol.asyncIterator]!() : o[Symbol.iterator]!();
}

/** The next batch of `it` (null at its end), checked to be a `{ x, y }` object. */
async function nextBatch(it: AnyIterator, where: string): Promise<DatasetBatch | null> {
  const r = await it.next();
  if (r.done) return null;
  const b = r.value as unknown;
  if (b === null || typeof b !== 'object' || !('x' in b) || !('y' in b)) {
    throw new OptionError('dataset', `${where}: the dataset yielded ${b === null ? 'null' : Array.isArray(b) ? 'an array' : typeof b}; every batch must be an object { x, y } (optionally with sampleWeight).`);
  }
  return b as DatasetBatch;
}

/** Ends an iteration early (closes a generator or stream); its errors are not the fit's. */
async function close(it: AnyIterator | null): Promise<void> {
  try {
    await it?.return?.();
  } catch {
    // the fit's own outcome is what the caller sees
  }
}

/** Whether `validationData` is the pair `[xVal, yVal]` rather than an array of batches. */
function isPair(v: unknown): v is readonly [RawFeatures, Labels | Features] {
  if (!Array.isArray(v) || v.length !== 2) return false;
  const first = v[0] as unknown;
  return !(first !== null && typeof first === 'object' && 'x' in first && 'y' in first);
}

/**
 * `fitDataset`: the training loop of `fit` over batches from a {@link Dataset}. Options are
 * validated (and a one-shot iterator refused for several passes) before anything changes; each
 * batch is validated when it arrives, before its step, so a bad batch throws with the weights of
 * the batches before it. An epoch whose iteration yields no batch, or a dataset that ends before
 * `batchesPerEpoch`, throws OptionError. Same batches ⇒ bit-identical weights and logs to `fit`
 * with `shuffle: false`. `resumeFrom` and checkpoint writers are refused. @internal
 */
export async function fitDatasetLoop(m: FitModel, dataset: Dataset, options: FitDatasetOptions = {}): Promise<History> {
  const W = 'fitDataset';
  assertTrainable(m, W);
  if (options !== null && typeof options === 'object' && 'resumeFrom' in options) {
    throw new OptionError('resumeFrom', `${W}: resumeFrom is not supported, since a dataset's position cannot be saved in a checkpoint; resume with fit on in-memory data, or restart fitDataset from the restored weights with initialEpoch.`);
  }
  const s = resolveFitOptions(options as FitOptions, W, DATASET_KEYS);
  const { epochs, initialEpoch, callbacks, schedule } = s;
  const per = options.batchesPerEpoch;
  if (per !== undefined && (typeof per !== 'number' || !Number.isInteger(per) || per < 1)) throw new OptionError('batchesPerEpoch', `${W}: batchesPerEpoch = ${String(per)}; expected a positive integer.`);
  const vbs = options.validationBatchSize;
  if (vbs !== undefined && (typeof vbs !== 'number' || !Number.isInteger(vbs) || vbs < 1)) throw new OptionError('validationBatchSize', `${W}: validationBatchSize = ${String(vbs)}; expected a positive integer.`);
  const writer = callbacks.findIndex((cb) => cb.runsLast === true);
  if (writer >= 0) throw new OptionError('callbacks', `${W}: a checkpoint writer is among the callbacks; fitDataset cannot be resumed from a checkpoint (a dataset's position cannot be saved). Save the model from onEpochEnd with serializeModel, or use fit on in-memory data.`);
  const passes = epochs - initialEpoch;
  checkDataset(dataset, 'dataset', per === undefined ? passes : 1);
  const st0 = m.steps;
  checkMomentumCycling(schedule, st0, W);
  const v = options.validationData;
  let valPair: { x: Float32Array; y: Int32Array | Float32Array; rows: number } | null = null;
  let valSet: Dataset | null = null;
  if (v !== undefined && v !== null) {
    if (isPair(v)) {
      const f = modelInputs(m, v[0], `${W} (validationData)`);
      valPair = { x: f.data, y: st0.targets(v[1], f.rows, `${W} (validationData)`), rows: f.rows };
    } else {
      checkDataset(v, 'validationData', passes);
      valSet = v as Dataset;
    }
  }
  if (options.classWeight !== undefined) sampleWeightsOf(st0, 0, st0.classification ? new Int32Array(0) : new Float32Array(0), undefined, options.classWeight, W);
  const list = new CallbackList(callbacks);
  list.checkConfig({ logKeys: logKeysOf(st0, valPair !== null || valSet !== null) });
  // --- validated; from here on the model changes (the training plan belongs to this fit, as in fit)
  const seed = s.seed ?? m.nextFitSeed();
  const st = m.beginTraining(1, 'a fitDataset');
  const alive = (where: string): void => {
    if (m.disposed) throw new DisposedError(`${W}: the model was disposed during training (${where}); the fit stopped there, before touching the freed memory. Await fitDataset before dispose().`);
  };
  st.keyDropout(seed);
  const history: History = { epoch: [], history: {} };
  m.stopTraining = false;
  let it: AnyIterator | null = null;
  try {
    list.setModel(m);
    await list.trainBegin({ epochs, steps: per ?? 0, validation: valPair || valSet ? 1 : 0 });
    let globalStep = 0;
    let lastYield = Date.now();
    let lr = m.learningRate;
    if (per !== undefined) it = iterate(dataset, 'dataset');
    let terminated = false;
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      alive(`before epoch ${epoch}`);
      if (schedule?.unit === 'epoch') m.learningRate = scheduledRate(schedule, epoch, W);
      await list.epochBegin(epoch);
      const trainMetrics = st.metricAccumulator();
      let lossSum = 0;
      let correct = 0;
      let rows = 0;
      let maxRows = 0;
      if (per === undefined) it = iterate(dataset, 'dataset');
      let b = 0;
      for (; per === undefined || b < per; b++) {
        const where = `${W}: epoch ${epoch}, batch ${b}`;
        const raw = await nextBatch(it!, where);
        if (raw === null) {
          if (per !== undefined) throw new OptionError('batchesPerEpoch', `${W}: the dataset ended after ${b} of the ${per} batches of epoch ${epoch} (batchesPerEpoch); pass a smaller batchesPerEpoch or a longer dataset.`);
          it = null;
          break;
        }
        alive(`epoch ${epoch}, batch ${b}`);
        const batch = rowsOf(st, m, raw.x, raw.y, raw.sampleWeight, options.classWeight, where, true);
        const momentum = schedule?.momentum?.(globalStep);
        if (schedule?.unit === 'step') {
          m.learningRate = scheduledRate(schedule, globalStep, W);
          alive(`epoch ${epoch}, batch ${b}`);
        }
        globalStep++;
        lr = m.learningRate;
        const n = batch.rows;
        st.reserve(n);
        st.load(batch.x, batch.y, null, 0, n, batch.weights);
        const status = st.train(n, lr, momentum);
        if (status !== STATUS.ok) {
          const err = st.error(status, where);
          if (list.terminateOnNonFinite && err.code === 'E_NON_FINITE') {
            terminated = true;
            break;
          }
          throw err;
        }
        const r = st.results();
        lossSum += r.lossSum;
        correct += r.correct;
        rows += n;
        maxRows = Math.max(maxRows, n);
        if (trainMetrics) st.addTrainMetrics(trainMetrics, n);
        await list.batchEnd(b, st.classification ? { loss: r.lossSum / n, accuracy: r.correct / n } : { loss: r.lossSum / n });
        if (Date.now() - lastYield >= s.yieldEveryMs) {
          await yieldNow();
          lastYield = Date.now();
        }
      }
      if (terminated) break;
      if (rows === 0) throw new OptionError('dataset', `${W}: epoch ${epoch} got no batches (the dataset was empty or already consumed); a generator object runs once — pass a function returning a fresh one, e.g. () => batches().`);
      const logs: Logs = st.classification ? { loss: lossSum / rows, accuracy: correct / rows } : { loss: lossSum / rows };
      if (trainMetrics) Object.assign(logs, trainMetrics.result());
      logs.lr = lr;
      if (valPair || valSet) {
        alive(`end of epoch ${epoch}`);
        Object.assign(logs, await validate(st, m, valPair, valSet, vbs ?? maxRows, epoch));
      }
      history.epoch.push(epoch);
      for (const [k, val] of Object.entries(logs)) (history.history[k] ??= []).push(val);
      await list.epochEnd(epoch, logs);
      if (m.stopTraining) break;
    }
    alive('at the end of training');
    await list.trainEnd();
  } finally {
    await close(it);
    m.endTraining();
  }
  return history;
}

/** The validation logs of one epoch (`valLoss`, `valAccuracy`, `val…` metrics) over a pair or a dataset of batches. */
async function validate(st: Stepper, inputs: InputModel, pair: { x: Float32Array; y: Int32Array | Float32Array; rows: number } | null, set: Dataset | null, chunk: number, epoch: number): Promise<Logs> {
  const acc = st.metricAccumulator();
  const logs: Logs = {};
  let loss: number;
  let accuracy: number;
  if (pair) {
    ({ loss, accuracy } = st.evaluate(pair.x, pair.y, pair.rows, chunk, acc));
  } else {
    const it = iterate(set!, 'validationData');
    let lossSum = 0;
    let correct = 0;
    let rows = 0;
    try {
      for (let b = 0; ; b++) {
        const where = `fitDataset: validationData, epoch ${epoch}, batch ${b}`;
        const raw = await nextBatch(it, where);
        if (raw === null) break;
        if (raw.sampleWeight !== undefined) throw new OptionError('validationData', `${where}: validation batches take no sampleWeight (the validation loss is unweighted, as fit's); drop it.`);
        const v = rowsOf(st, inputs, raw.x, raw.y, undefined, undefined, where, false);
        const e = st.evaluate(v.x, v.y, v.rows, v.rows, acc);
        lossSum += e.loss * v.rows;
        correct += e.accuracy * v.rows;
        rows += v.rows;
      }
    } finally {
      await close(it);
    }
    if (rows === 0) throw new OptionError('validationData', `fitDataset: validationData yielded no batches in epoch ${epoch}; a generator object runs once — pass a function returning a fresh one.`);
    loss = lossSum / rows;
    accuracy = correct / rows;
  }
  logs.valLoss = loss;
  if (st.classification) logs.valAccuracy = accuracy;
  if (acc) Object.assign(logs, acc.result('val'));
  return logs;
}
