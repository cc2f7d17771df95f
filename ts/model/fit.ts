import { DisposedError, OptionError, ShapeError, type WasmfitError } from '../errors/index.js';
import { Rng } from '../data/rng.js';
import { checkValidationData, type Features, type Labels, toFeatures } from '../data/tensor.js';
import { STATUS } from '../runtime/abi.js';
import type { Callback, CallbackModel, History, Logs } from './callbacks.js';
import type { CompiledPlan } from './plan.js';
import type { MetricAccumulator } from './metrics.js';
import type { Schedule, ScheduleConfig } from '../schedules/index.js';
import { scheduleFromJSON } from '../schedules/json.js';
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
  /**
   * 0 = silent (default); 1 = a live progress bar on a TTY (ETA, running loss/accuracy, then the
   * epoch's logs), quiet where stdout is not a TTY or in browsers; 2 = one line of logs per epoch
   * on stdout (Keras `verbose=2`).
   */
  verbose?: 0 | 1 | 2;
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
  /**
   * Continue a checkpointed run exactly where it was taken: pass `deserializeCheckpoint(bytes).resume`
   * (or `loadCheckpoint(path)`'s). Restores the shuffling generator and row order, the epoch and
   * batch position, the epoch's running loss sums, the step counter of step-unit schedules and the
   * state of stateful callbacks (earlyStopping, plateauCallback: pass the same callbacks, in the
   * same order, as the checkpointed run). `x`, `y`, `batchSize`, `shuffle`, `validationSplit`
   * and the schedule must be the ones of that run (checked: row count, batch size, shuffle,
   * schedule config); the schedule is revived from the checkpoint when omitted. Do not pass
   * `seed`; `initialEpoch`, when given, must equal the checkpoint's epoch. Same build ⇒ the
   * weights end bit-identical to an uninterrupted run.
   */
  resumeFrom?: FitResumeState;
}

/**
 * Where a running `fit` was when a checkpoint was taken: everything the loop needs to continue
 * exactly. Built by `serializeCheckpoint` from inside `fit`; restored by `fit(..., { resumeFrom })`.
 */
export interface FitResumeState {
  /** The epoch in progress (or the next to start when `batch` is 0). */
  readonly epoch: number;
  /** Batches of `epoch` already done (0: the epoch has not begun). */
  readonly batch: number;
  /** Training rows, batch size and shuffle flag of the run (checked on resume). */
  readonly nTrain: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  /** Shuffling generator state (xoshiro128** words). */
  readonly rng: { readonly s: readonly number[]; readonly spare: number | null };
  /** The current row order (a permutation of 0 … nTrain − 1). */
  readonly idx: Int32Array;
  /** Σ loss and correct count of the batches of `epoch` done so far. */
  readonly lossSum: number;
  readonly correct: number;
  /** Optimizer steps taken in the checkpointed `fit` call (the counter of step-unit schedules). */
  readonly globalStep: number;
  /** The schedule's config (`schedule.toJSON()`), or null. */
  readonly schedule: ScheduleConfig | null;
  /** States of the stateful callbacks, in order. */
  readonly callbacks: readonly { readonly kind: string; readonly state: unknown }[];
  /** Whether a callback had asked training to stop (resuming then runs no more epochs, only `onTrainEnd`, as the uninterrupted run did). */
  readonly stopTraining: boolean;
}

const activeFits = new WeakMap<object, () => FitResumeState>();

/**
 * The resume state of the `fit` running on `model` at this moment (from inside a callback), or
 * null when no fit is running. Called from `onEpochEnd` it points at the start of the next epoch;
 * from `onBatchEnd` at the next batch. @internal
 */
export function fitResumeState(model: object): FitResumeState | null {
  return activeFits.get(model)?.() ?? null;
}

/** What the training loop needs from a model. @internal */
export interface Trainable extends CallbackModel {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly lr: number;
  readonly disposed: boolean;
  assertUsable(where: string): void;
  /** Refuses (BusyError) when a fit is running. */
  assertIdle(where: string): void;
  /** Marks a fit as running and returns the training plan, owned by that fit until {@link endTraining}. */
  beginTraining(rows: number): CompiledPlan;
  endTraining(): void;
  /** The typed error of a step's non-OK status. */
  stepError(status: number, plan: CompiledPlan, where: string): WasmfitError;
  readonly classification: boolean;
  readonly hasBatchNorm: boolean;
  toTargets(y: Labels | Features, rows: number, where: string): Int32Array | Float32Array;
  evaluateIds(x: Float32Array, y: Int32Array | Float32Array, rows: number, batchSize: number, acc?: MetricAccumulator | null): { loss: number; accuracy: number };
  metricAccumulator(): MetricAccumulator | null;
  addMetrics(acc: MetricAccumulator, plan: CompiledPlan, n: number, training: boolean): void;
  /** Keys of the compiled metrics in the logs (without the `val` prefix). */
  metricKeys(): string[];
  writeRows(plan: CompiledPlan, x: Float32Array, y: Int32Array | Float32Array | null, idx: Int32Array | null, start: number, count: number, w?: Float32Array | null): void;
  run(plan: CompiledPlan, kind: 'train' | 'eval', n: number): number;
  nextFitSeed(): number;
  /** Keys the dropout masks of this fit. */
  beginFit(seed: number): void;
}

const FIT_KEYS = new Set(['sampleWeight', 'classWeight', 'initialEpoch', 'epochs', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'verbose', 'callbacks', 'yieldEveryMs', 'schedule', 'resumeFrom']);

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
  m.assertIdle('fit');
  if (typeof options !== 'object' || options === null) throw new OptionError('options', 'fit: options must be an object.');
  for (const k of Object.keys(options)) {
    if (!FIT_KEYS.has(k)) throw new OptionError(k, `fit: unknown option '${k}'; known options are ${[...FIT_KEYS].join(', ')}.`);
  }
  const epochs = posInt(options.epochs, 'epochs', 1);
  const batchSize = posInt(options.batchSize, 'batchSize', 32);
  const resume = options.resumeFrom === undefined ? null : checkResumeState(options.resumeFrom);
  if (resume && options.initialEpoch !== undefined && options.initialEpoch !== resume.epoch) {
    throw new OptionError('initialEpoch', `fit: initialEpoch = ${String(options.initialEpoch)} but resumeFrom continues epoch ${resume.epoch}; leave initialEpoch out when resuming.`);
  }
  if (resume && options.seed !== undefined) throw new OptionError('seed', 'fit: seed and resumeFrom together; the checkpoint holds the shuffling state, so leave seed out when resuming.');
  const initialEpoch = options.initialEpoch ?? resume?.epoch ?? 0;
  if (resume && (epochs < resume.epoch || (epochs === resume.epoch && resume.batch > 0))) {
    throw new OptionError('epochs', `fit: epochs = ${epochs} but the checkpoint is in epoch ${resume.epoch}; pass the epochs of the original run (the index of the last epoch + 1).`);
  }
  if (resume) {
    // a finished position (epoch === epochs) runs no epochs: onTrainBegin, then onTrainEnd
  } else if (typeof initialEpoch !== 'number' || !Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new OptionError('initialEpoch', `fit: initialEpoch = ${String(initialEpoch)}; expected an integer in [0, epochs) (epochs = ${epochs} is the index of the last epoch + 1, as in Keras).`);
  }
  const shuffle = options.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new OptionError('shuffle', `fit: shuffle = ${String(shuffle)}; expected a boolean.`);
  const split = options.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) {
    throw new OptionError('validationSplit', `fit: validationSplit = ${String(split)}; expected a fraction in [0, 1), e.g. 0.1.`);
  }
  const verbose = options.verbose ?? 0;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new OptionError('verbose', `fit: verbose = ${String(verbose)}; expected 0, 1 or 2.`);
  const yieldEveryMs = options.yieldEveryMs ?? 125;
  if (typeof yieldEveryMs !== 'number' || !(yieldEveryMs >= 0)) throw new OptionError('yieldEveryMs', `fit: yieldEveryMs = ${String(yieldEveryMs)}; expected a number >= 0.`);
  const seed = options.seed ?? (resume ? 0 : m.nextFitSeed());
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `fit: seed = ${String(seed)}; expected a finite number.`);
  const given: readonly unknown[] = options.callbacks ?? [];
  if (!Array.isArray(given)) throw new OptionError('callbacks', 'fit: callbacks must be an array of callback objects.');
  const userCallbacks: Callback[] = given.map((cb, i) => {
    if (isPlateau(cb)) return plateauCallback(cb);
    if (!cb || typeof cb !== 'object') throw new OptionError('callbacks', `fit: callbacks[${i}] = ${String(cb)}; expected a callback object (e.g. earlyStopping({...})).`);
    return cb as Callback;
  });
  // checkpoint writers (runsLast) see the state after every other callback's hook
  const callbacks = [...userCallbacks.filter((cb) => !cb?.runsLast), ...(verbose === 1 ? [progressBar()] : verbose === 2 ? [progressBar({ mode: 'epoch' })] : []), ...userCallbacks.filter((cb) => cb?.runsLast)];
  let schedule = options.schedule;
  if (resume) {
    if (schedule === undefined && resume.schedule !== null) {
      try {
        schedule = scheduleFromJSON(resume.schedule);
      } catch (e) {
        throw new OptionError('schedule', `fit: the checkpoint's schedule cannot be revived (${(e as Error).message}); pass the run's schedule as options.schedule.`);
      }
    }
    const cfg = schedule === undefined ? null : JSON.stringify(schedule.toJSON?.());
    if (cfg !== (resume.schedule === null ? null : JSON.stringify(resume.schedule))) {
      throw new OptionError('schedule', `fit: the schedule ${cfg ?? 'none'} differs from the checkpointed run's ${resume.schedule === null ? 'none' : JSON.stringify(resume.schedule)}; resume with the same schedule.`);
    }
    const stateful = callbacks.filter((cb) => typeof cb.getState === 'function');
    const kinds = stateful.map((cb) => cb.stateKind ?? 'callback');
    const saved = resume.callbacks.map((c) => c.kind);
    if (kinds.join(',') !== saved.join(',')) {
      throw new OptionError('callbacks', `fit: the stateful callbacks [${kinds.join(', ')}] differ from the checkpointed run's [${saved.join(', ')}]; pass the same callbacks in the same order.`);
    }
  }
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
  const validationData = checkValidationData(options.validationData, 'fit');
  if (validationData) {
    const [vx, vy] = validationData;
    const f = toFeatures(vx, m.inputSize, 'fit (validationData)');
    val = { x: f.data, y: m.toTargets(vy, f.rows, 'fit (validationData)'), rows: f.rows };
  } else if (split > 0) {
    nTrain = Math.floor(fx.rows * (1 - split));
    const d = m.inputSize;
    val = { x: fx.data.subarray(nTrain * d), y: ids instanceof Int32Array ? ids.subarray(nTrain) : ids.subarray(nTrain * k), rows: fx.rows - nTrain };
    if (val.rows === 0) val = null;
  }
  if (nTrain === 0) throw new OptionError('x', 'fit: no training rows (x is empty or validationSplit leaves none). Pass more data or a smaller validationSplit.');

  if (resume && (resume.nTrain !== nTrain || resume.batchSize !== batchSize || resume.shuffle !== shuffle)) {
    throw new OptionError('resumeFrom', `fit: the checkpointed run had ${resume.nTrain} training rows, batchSize ${resume.batchSize}, shuffle ${resume.shuffle}; this call has ${nTrain}, ${batchSize}, ${shuffle}. Resume with the same data and options.`);
  }
  if (m.hasBatchNorm && (nTrain % batchSize === 1 || nTrain === 1)) {
    throw new OptionError('batchSize', `fit: with ${nTrain} training rows and batchSize ${batchSize} the last batch has 1 row; batch normalization needs at least 2 rows per training batch. Change batchSize or drop a sample.`);
  }
  // callbacks check their own configuration (monitored keys, paths) against what this fit logs
  const logKeys = ['loss', ...(m.classification ? ['accuracy'] : []), ...m.metricKeys(), 'lr'];
  if (val) logKeys.push(...logKeys.filter((k) => k !== 'lr').map((k) => `val${k[0]!.toUpperCase()}${k.slice(1)}`));
  for (const cb of callbacks) (cb as { checkConfig?: (c: { logKeys: readonly string[] }) => void }).checkConfig?.({ logKeys });
  // --- validated; from here on the model changes. The training plan belongs to this fit: compile,
  // a second fit and state imports are refused (BusyError) until it ends; predict/evaluate from
  // callbacks run on the inference plan; dispose() frees everything and this fit rejects with
  // DisposedError at its next batch boundary, never touching freed memory.
  const plan = m.beginTraining(Math.min(batchSize, nTrain));
  const alive = (where: string): void => {
    if (m.disposed) {
      throw new DisposedError(`fit: the model was disposed during training (${where}); the fit stopped there, before touching the freed memory. Await fit before dispose(), or set model.stopTraining = true in a callback to end training early.`);
    }
  };
  const rng = new Rng(seed);
  const idx = new Int32Array(nTrain);
  if (resume) {
    rng.setState({ s: [...resume.rng.s], spare: resume.rng.spare });
    idx.set(resume.idx);
  } else {
    m.beginFit(seed);
    for (let i = 0; i < nTrain; i++) idx[i] = i;
  }
  const history: History = { epoch: [], history: {} };
  const record = (logs: Logs): void => {
    for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
  };
  m.stopTraining = false;
  const terminateOnNonFinite = callbacks.some((cb) => cb.terminateOnNonFinite === true);
  const steps = Math.ceil(nTrain / batchSize);
  // the loop position, read by fitResumeState (checkpoints) from inside callbacks
  const pos = { epoch: initialEpoch, batch: resume?.batch ?? 0, epochDone: false, lossSum: resume?.lossSum ?? 0, correct: resume?.correct ?? 0 };
  let globalStep = resume?.globalStep ?? 0;
  activeFits.set(m, () => {
    const done = pos.epochDone;
    return {
      epoch: done ? pos.epoch + 1 : pos.epoch,
      batch: done ? 0 : pos.batch,
      nTrain,
      batchSize,
      shuffle,
      rng: rng.getState(),
      idx: idx.slice(),
      lossSum: done ? 0 : pos.lossSum,
      correct: done ? 0 : pos.correct,
      globalStep,
      schedule: schedule ? (JSON.parse(JSON.stringify(schedule.toJSON())) as ScheduleConfig) : null,
      callbacks: callbacks.filter((cb) => typeof cb.getState === 'function').map((cb) => ({ kind: cb.stateKind ?? 'callback', state: cb.getState!() })),
      stopTraining: m.stopTraining,
    };
  });
  try {
    for (const cb of callbacks) cb.setModel?.(m);
    for (const cb of callbacks) await cb.onTrainBegin?.({ epochs, steps, samples: nTrain, validation: val ? 1 : 0 });
    if (resume) {
      const stateful = callbacks.filter((cb) => typeof cb.getState === 'function');
      stateful.forEach((cb, i) => cb.setState?.(resume.callbacks[i]!.state));
      m.stopTraining = resume.stopTraining;
    }
    let terminated = false;
    let lastYield = Date.now();
    let lr = m.lr;
    // metrics over this epoch's training batches (after a mid-epoch resume: the batches since it)
    let trainMetrics = m.metricAccumulator();
    // a checkpoint taken after a callback asked to stop resumes into the end of training
    for (let epoch = resume?.stopTraining ? epochs : initialEpoch; epoch < epochs; epoch++) {
      // a checkpoint taken mid-epoch resumes after its last finished batch: no epoch start, no shuffle
      const midEpoch = resume !== null && epoch === initialEpoch && resume.batch > 0;
      pos.epoch = epoch;
      pos.epochDone = false;
      if (!midEpoch) {
        pos.batch = 0;
        pos.lossSum = 0;
        pos.correct = 0;
        alive(`before epoch ${epoch}`);
        if (schedule?.unit === 'epoch') {
          lr = lrAt(epoch, `epoch ${epoch}`);
          m.learningRate = lr;
        }
        for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
        if (shuffle) rng.shuffle(idx);
        trainMetrics = m.metricAccumulator();
      }
      for (let s = pos.batch; s < steps; s++) {
        const start = s * batchSize;
        const n = Math.min(batchSize, nTrain - start);
        alive(`epoch ${epoch}, batch ${s}`);
        if (schedule?.unit === 'step') {
          lr = lrAt(globalStep, `step ${globalStep}`);
          m.learningRate = lr;
        }
        // the schedule is user code: it may have disposed the model
        alive(`epoch ${epoch}, batch ${s}`);
        globalStep++;
        lr = m.learningRate;
        m.writeRows(plan, fx.data, ids, idx, start, n, weights);
        const status = m.run(plan, 'train', n);
        const r = plan.results();
        if (status !== STATUS.ok) {
          const err = m.stepError(status, plan, `fit: epoch ${epoch}, batch ${s}`);
          // terminateOnNaN ends training (with the weights from before the step) instead of throwing
          if (terminateOnNonFinite && err.code === 'E_NON_FINITE') {
            terminated = true;
            break;
          }
          throw err;
        }
        pos.lossSum += r.lossSum;
        pos.correct += r.correct;
        pos.batch = s + 1;
        if (trainMetrics) m.addMetrics(trainMetrics, plan, n, true);
        for (const cb of callbacks) await cb.onBatchEnd?.(s, m.classification ? { loss: r.lossSum / n, accuracy: r.correct / n } : { loss: r.lossSum / n });
        if (Date.now() - lastYield >= yieldEveryMs) {
          await yieldNow();
          lastYield = Date.now();
        }
      }
      if (terminated) break;
      const { lossSum, correct } = pos;
      const logs: Logs = m.classification ? { loss: lossSum / nTrain, accuracy: correct / nTrain } : { loss: lossSum / nTrain };
      if (trainMetrics) Object.assign(logs, trainMetrics.result());
      logs.lr = lr;
      if (val) {
        alive(`end of epoch ${epoch}`);
        const valMetrics = m.metricAccumulator();
        const e = m.evaluateIds(val.x, val.y, val.rows, Math.min(batchSize, nTrain), valMetrics);
        logs.valLoss = e.loss;
        if (m.classification) logs.valAccuracy = e.accuracy;
        if (valMetrics) Object.assign(logs, valMetrics.result('val'));
      }
      history.epoch.push(epoch);
      record(logs);
      pos.epochDone = true;
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
      if (m.stopTraining) break;
    }
    alive('at the end of training');
    for (const cb of callbacks) await cb.onTrainEnd?.({});
  } finally {
    activeFits.delete(m);
    m.endTraining();
  }
  return history;
}

/** Validates a resume state (it may come from user code). @internal */
export function checkResumeState(r: unknown): FitResumeState {
  const bad = (what: string): never => {
    throw new OptionError('resumeFrom', `fit: resumeFrom${what}; pass the \`resume\` of deserializeCheckpoint(bytes) or loadCheckpoint(path).`);
  };
  if (r === null || typeof r !== 'object') return bad(` = ${String(r)}`);
  const s = r as Record<string, unknown>;
  const count = (k: string, min = 0) => {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`.${k} = ${String(v)}`);
    return v as number;
  };
  const nTrain = count('nTrain', 1);
  const batchSize = count('batchSize', 1);
  count('epoch');
  const batch = count('batch');
  count('globalStep');
  count('correct');
  if (batch > Math.ceil(nTrain / batchSize)) bad(`.batch = ${batch} is past the epoch's ${Math.ceil(nTrain / batchSize)} batches`);
  if (typeof s.lossSum !== 'number' || !Number.isFinite(s.lossSum)) bad(`.lossSum = ${String(s.lossSum)}`);
  if (typeof s.shuffle !== 'boolean' || typeof s.stopTraining !== 'boolean') bad(' has no shuffle/stopTraining flags');
  const rng = s.rng as { s?: unknown; spare?: unknown } | null;
  if (!rng || !Array.isArray(rng.s) || rng.s.length !== 4 || !rng.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) || rng.s.every((w) => w === 0)) bad('.rng is not a generator state');
  if (rng!.spare !== null && (typeof rng!.spare !== 'number' || !Number.isFinite(rng!.spare))) bad('.rng.spare is not a finite number or null');
  const idx = s.idx;
  if (!(idx instanceof Int32Array) || idx.length !== nTrain) bad(`.idx is not an Int32Array of ${nTrain} row indices`);
  const seen = new Uint8Array(nTrain);
  for (const i of idx as Int32Array) {
    if (i < 0 || i >= nTrain || seen[i]) bad('.idx is not a permutation of the training rows');
    seen[i] = 1;
  }
  if (s.schedule !== null && (typeof s.schedule !== 'object' || Array.isArray(s.schedule))) bad('.schedule is not a schedule config or null');
  if (!Array.isArray(s.callbacks) || !s.callbacks.every((c) => c && typeof c === 'object' && typeof (c as { kind?: unknown }).kind === 'string')) bad('.callbacks is not a list of { kind, state }');
  return s as unknown as FitResumeState;
}
