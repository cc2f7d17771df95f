import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';
import { Rng } from '../data/rng.js';
import { type Features, type Labels, toFeatures } from '../data/tensor.js';
import { STATUS } from '../runtime/abi.js';
import type { Callback, CallbackModel, History, Logs } from './callbacks.js';
import type { CompiledPlan } from './plan.js';
import type { MetricAccumulator } from './metrics.js';
import type { Schedule } from '../schedules/index.js';
import { progressBar } from '../callbacks/progress.js';
import { isPlateau, plateauCallback } from '../callbacks/index.js';
import type { Plateau } from '../schedules/plateau.js';

/** Options of `fit`. */
export interface FitOptions {
  /** Index of the last epoch + 1, as Keras: training runs epochs `initialEpoch … epochs − 1` (default 1). */
  epochs?: number;
  /** Epoch to start from, e.g. to resume (default 0). Epoch schedules see the absolute epoch. */
  initialEpoch?: number;
  /** Rows per optimizer step (default 32). */
  batchSize?: number;
  /** Reshuffle the training rows every epoch (default `true`). */
  shuffle?: boolean;
  /** Seed of the shuffling generator (default: derived from the model's seed and the fit count). */
  seed?: number;
  /**
   * Fraction in [0, 1) of the rows held out for validation, taken from the **end** of x and y
   * before any shuffling, as Keras does (default 0).
   */
  validationSplit?: number;
  /** Explicit validation data `[x, y]`; overrides validationSplit. */
  validationData?: readonly [Features, Labels | Features];
  /** Weight of each training sample in the loss (finite, >= 0), Keras `sample_weight`. */
  sampleWeight?: Float32Array | readonly number[];
  /** Softmax cross-entropy only: weight per class id (`{ 0: 1, 1: 5 }` or an array), Keras `class_weight`; multiplies sampleWeight. */
  classWeight?: Record<number, number> | readonly number[];
  /** 0 = silent (default), 1 = a progress bar on a TTY (ETA, running loss/accuracy), one line per epoch otherwise. */
  verbose?: 0 | 1;
  /**
   * Hooks called in order. A plateau reducer (`reduceLROnPlateau({...})`,
   * `kerasReduceLROnPlateau({...})`) may be listed directly: it is driven by `'valLoss'` as
   * `plateauCallback(reducer)` would (use that to monitor another metric).
   */
  callbacks?: readonly (Callback | Plateau)[];
  /** Yield to the event loop when a step ends this many ms after the last yield (default 125). */
  yieldEveryMs?: number;
  /**
   * Learning-rate schedule (see `ts/schedules`). A schedule with unit `'epoch'` sets the rate to
   * `schedule(epoch)` before each epoch (epoch counted from 0 in this call); one with unit `'step'`
   * sets `schedule(step)` before each optimizer step (steps counted from 0 in this call). Only the
   * rate in the compiled plan changes: optimizer state is never reset. The rate used is logged
   * per epoch as `lr` (the last one used in that epoch). Default: the optimizer's constant `lr`.
   */
  schedule?: Schedule;
}

/** What the training loop needs from a model. @internal */
export interface Trainable extends CallbackModel {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly lr: number;
  assertUsable(where: string): void;
  planFor(rows: number): CompiledPlan;
  readonly classification: boolean;
  readonly hasBatchNorm: boolean;
  toTargets(y: Labels | Features, rows: number, where: string): Int32Array | Float32Array;
  evaluateIds(x: Float32Array, y: Int32Array | Float32Array, rows: number, batchSize: number, acc?: MetricAccumulator | null): { loss: number; accuracy: number };
  metricAccumulator(): MetricAccumulator | null;
  addMetrics(acc: MetricAccumulator, plan: CompiledPlan, n: number, training: boolean): void;
  writeRows(plan: CompiledPlan, x: Float32Array, y: Int32Array | Float32Array | null, idx: Int32Array | null, start: number, count: number, w?: Float32Array | null): void;
  run(plan: CompiledPlan, kind: 'train' | 'eval', n: number): number;
  nextFitSeed(): number;
  /** Keys the dropout masks of this fit. */
  beginFit(seed: number): void;
}

const FIT_KEYS = new Set(['sampleWeight', 'classWeight', 'initialEpoch', 'epochs', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'verbose', 'callbacks', 'yieldEveryMs', 'schedule']);

function posInt(v: unknown, name: string, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new OptionError(name, `fit: ${name} = ${String(v)}; expected a positive integer.`);
  return v;
}

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => {
    const si = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate;
    if (si) si(resolve);
    else setTimeout(resolve, 0);
  });

/** The training loop. Validates everything before touching the model. @internal */
export async function fitLoop(m: Trainable, x: Features, y: Labels | Features, options: FitOptions = {}): Promise<History> {
  m.assertUsable('fit');
  if (typeof options !== 'object' || options === null) throw new OptionError('options', 'fit: options must be an object.');
  for (const k of Object.keys(options)) {
    if (!FIT_KEYS.has(k)) throw new OptionError(k, `fit: unknown option '${k}'; known options are ${[...FIT_KEYS].join(', ')}.`);
  }
  const epochs = posInt(options.epochs, 'epochs', 1);
  const batchSize = posInt(options.batchSize, 'batchSize', 32);
  const initialEpoch = options.initialEpoch ?? 0;
  if (typeof initialEpoch !== 'number' || !Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new OptionError('initialEpoch', `fit: initialEpoch = ${String(initialEpoch)}; expected an integer in [0, epochs) (epochs = ${epochs} is the index of the last epoch + 1, as in Keras).`);
  }
  const shuffle = options.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new OptionError('shuffle', `fit: shuffle = ${String(shuffle)}; expected a boolean.`);
  const split = options.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) {
    throw new OptionError('validationSplit', `fit: validationSplit = ${String(split)}; expected a fraction in [0, 1), e.g. 0.1.`);
  }
  const verbose = options.verbose ?? 0;
  if (verbose !== 0 && verbose !== 1) throw new OptionError('verbose', `fit: verbose = ${String(verbose)}; expected 0 or 1.`);
  const yieldEveryMs = options.yieldEveryMs ?? 125;
  if (typeof yieldEveryMs !== 'number' || !(yieldEveryMs >= 0)) throw new OptionError('yieldEveryMs', `fit: yieldEveryMs = ${String(yieldEveryMs)}; expected a number >= 0.`);
  const seed = options.seed ?? m.nextFitSeed();
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `fit: seed = ${String(seed)}; expected a finite number.`);
  if (options.callbacks !== undefined && !Array.isArray(options.callbacks)) throw new OptionError('callbacks', 'fit: callbacks must be an array of callback objects.');
  const callbacks: Callback[] = [...(options.callbacks ?? []), ...(verbose === 1 ? [progressBar()] : [])].map((cb, i) => {
    if (isPlateau(cb)) return plateauCallback(cb);
    if (!cb || typeof cb !== 'object') throw new OptionError('callbacks', `fit: callbacks[${i}] = ${String(cb)}; expected a callback object (e.g. earlyStopping({...})).`);
    return cb as Callback;
  });
  const schedule = options.schedule;
  if (schedule !== undefined && (typeof schedule !== 'function' || (schedule.unit !== 'epoch' && schedule.unit !== 'step'))) {
    throw new OptionError('schedule', 'fit: schedule must be a schedule built by a factory such as cosineAnnealingLR({ lr, tMax }) (a function with unit "epoch" or "step").');
  }
  const lrAt = (t: number, where: string): number => {
    const v = schedule!(t);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new OptionError('schedule', `fit: the schedule returned ${v} at ${where}; a learning rate must be a finite number >= 0.`);
    }
    return v;
  };
  if (schedule && callbacks.some((cb) => cb.setsLearningRate === true)) {
    throw new OptionError('schedule', 'fit: a schedule and a callback that sets the learning rate (plateauCallback) would overwrite each other. Compose them with withPlateau(schedule, plateau) or drop one.');
  }
  // validate the schedule's first value before changing anything
  if (schedule) lrAt(schedule.unit === 'epoch' ? initialEpoch : 0, schedule.unit === 'epoch' ? `epoch ${initialEpoch}` : 'step 0');

  const fx = toFeatures(x, m.inputSize, 'fit');
  const ids = m.toTargets(y, fx.rows, 'fit');
  const k = m.outputSize;
  let weights: Float32Array | null = null;
  if (options.sampleWeight !== undefined) {
    const sw = options.sampleWeight;
    if (!(sw instanceof Float32Array) && !Array.isArray(sw)) throw new OptionError('sampleWeight', 'fit: sampleWeight must be a Float32Array or number[] with one weight per sample.');
    if (sw.length !== fx.rows) throw new ShapeError(`fit: ${sw.length} sample weights for ${fx.rows} samples; pass one weight per row of x.`);
    weights = Float32Array.from(sw as ArrayLike<number>);
    weights.forEach((v, i) => {
      if (!Number.isFinite(v) || v < 0) throw new OptionError('sampleWeight', `fit: sampleWeight[${i}] = ${v}; weights must be finite and >= 0.`);
    });
  }
  if (options.classWeight !== undefined) {
    if (!(ids instanceof Int32Array)) throw new OptionError('classWeight', 'fit: classWeight applies to softmaxCrossEntropy only; use sampleWeight for other losses.');
    const cw = options.classWeight as Record<number, number>;
    if (!cw || typeof cw !== 'object') throw new OptionError('classWeight', 'fit: classWeight must be an object { classId: weight } or an array.');
    const perClass = new Float32Array(k).fill(1);
    for (const [key, v] of Object.entries(cw)) {
      const c = Number(key);
      if (!Number.isInteger(c) || c < 0 || c >= k) throw new OptionError('classWeight', `fit: classWeight has class ${key}; the model has classes 0..${k - 1}.`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new OptionError('classWeight', `fit: classWeight[${key}] = ${String(v)}; weights must be finite and >= 0.`);
      perClass[c] = v;
    }
    weights ??= new Float32Array(fx.rows).fill(1);
    for (let r = 0; r < fx.rows; r++) weights[r] = weights[r]! * perClass[ids[r]!]!;
  }
  let nTrain = fx.rows;
  let val: { x: Float32Array; y: Int32Array | Float32Array; rows: number } | null = null;
  if (options.validationData) {
    const [vx, vy] = options.validationData;
    const f = toFeatures(vx, m.inputSize, 'fit (validationData)');
    val = { x: f.data, y: m.toTargets(vy, f.rows, 'fit (validationData)'), rows: f.rows };
  } else if (split > 0) {
    nTrain = Math.floor(fx.rows * (1 - split));
    const d = m.inputSize;
    val = { x: fx.data.subarray(nTrain * d), y: ids instanceof Int32Array ? ids.subarray(nTrain) : ids.subarray(nTrain * k), rows: fx.rows - nTrain };
    if (val.rows === 0) val = null;
  }
  if (nTrain === 0) throw new OptionError('x', 'fit: no training rows (x is empty or validationSplit leaves none). Pass more data or a smaller validationSplit.');

  if (m.hasBatchNorm && (nTrain % batchSize === 1 || nTrain === 1)) {
    throw new OptionError('batchSize', `fit: with ${nTrain} training rows and batchSize ${batchSize} the last batch has 1 row; batch normalization needs at least 2 rows per training batch. Change batchSize or drop a sample.`);
  }
  // --- validated; from here on the model changes ---
  const plan = m.planFor(Math.min(batchSize, nTrain));
  plan.setLr(m.lr);
  const rng = new Rng(seed);
  m.beginFit(seed);
  const idx = new Int32Array(nTrain);
  for (let i = 0; i < nTrain; i++) idx[i] = i;
  const history: History = { epoch: [], history: {} };
  const record = (logs: Logs): void => {
    for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
  };
  m.stopTraining = false;
  const terminateOnNonFinite = callbacks.some((cb) => cb.terminateOnNonFinite === true);
  for (const cb of callbacks) cb.setModel?.(m);
  const steps = Math.ceil(nTrain / batchSize);
  for (const cb of callbacks) await cb.onTrainBegin?.({ epochs, steps, samples: nTrain, validation: val ? 1 : 0 });
  let terminated = false;
  let lastYield = Date.now();
  let globalStep = 0;
  let lr = m.lr;
  for (let epoch = initialEpoch; epoch < epochs; epoch++) {
    if (schedule?.unit === 'epoch') {
      lr = lrAt(epoch, `epoch ${epoch}`);
      m.learningRate = lr;
    }
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
    if (shuffle) rng.shuffle(idx);
    let lossSum = 0;
    let correct = 0;
    const trainMetrics = m.metricAccumulator();
    for (let s = 0; s < steps; s++) {
      const start = s * batchSize;
      const n = Math.min(batchSize, nTrain - start);
      if (schedule?.unit === 'step') {
        lr = lrAt(globalStep, `step ${globalStep}`);
        m.learningRate = lr;
      }
      globalStep++;
      lr = m.learningRate;
      m.writeRows(plan, fx.data, ids, idx, start, n, weights);
      const status = m.run(plan, 'train', n);
      const r = plan.results();
      if (status === STATUS.nonFiniteLoss) {
        if (terminateOnNonFinite) {
          terminated = true;
          break;
        }
        throw new NonFiniteError(`fit: the loss became ${r.lossSum} at epoch ${epoch}, batch ${s}; training stopped and the weights from before that step are kept. Lower the learning rate or check the data scale.`);
      }
      lossSum += r.lossSum;
      correct += r.correct;
      if (trainMetrics) m.addMetrics(trainMetrics, plan, n, true);
      for (const cb of callbacks) await cb.onBatchEnd?.(s, m.classification ? { loss: r.lossSum / n, accuracy: r.correct / n } : { loss: r.lossSum / n });
      if (Date.now() - lastYield >= yieldEveryMs) {
        await yieldNow();
        lastYield = Date.now();
      }
    }
    if (terminated) break;
    const logs: Logs = m.classification ? { loss: lossSum / nTrain, accuracy: correct / nTrain } : { loss: lossSum / nTrain };
    if (trainMetrics) Object.assign(logs, trainMetrics.result());
    logs.lr = lr;
    if (val) {
      const valMetrics = m.metricAccumulator();
      const e = m.evaluateIds(val.x, val.y, val.rows, plan.batchCap, valMetrics);
      logs.valLoss = e.loss;
      if (m.classification) logs.valAccuracy = e.accuracy;
      if (valMetrics) Object.assign(logs, valMetrics.result('val'));
    }
    history.epoch.push(epoch);
    record(logs);
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    if (m.stopTraining) break;
  }
  for (const cb of callbacks) await cb.onTrainEnd?.({});
  return history;
}
