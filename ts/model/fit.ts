/**
 * The training loop (Keras `fit`): {@link resolveFitOptions} validates the options (pure),
 * `resolveFitData` the data against the model, and {@link fitLoop} drives the model's
 * {@link Stepper} batch by batch, with callbacks, schedules, validation and resume.
 */
import { DisposedError, OptionError, ShapeError } from '../errors/index.js';
import { Rng } from '../data/rng.js';
import { checkValidationData, type Features, type Labels } from '../data/tensor.js';
import type { RawFeatures } from '../preprocess/state.js';
import { type InputModel, modelInputs } from './inputs.js';
import { STATUS } from '../runtime/abi.js';
import type { Callback, CallbackModel, History, Logs } from './callbacks.js';
import { CallbackList } from './callback-list.js';
import type { Schedule, ScheduleConfig } from '../schedules/index.js';
import { scheduleFromJSON } from '../schedules/json.js';
import { progressBar } from '../callbacks/progress.js';
import { isPlateau, plateauCallback } from '../callbacks/index.js';
import type { Plateau } from '../schedules/plateau.js';
import { checkResumeState, type FitResumeState, fitResumeState, trackFit, untrackFit } from './resume.js';
import type { Stepper } from './stepper.js';
import { cycledMomentum } from '../optimizers/record.js';
import { checkOptions } from '../errors/validate.js';
import { preview } from '../errors/preview.js';
import { fitClassNames } from './classes.js';

export type { FitResumeState };

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
  validationData?: readonly [RawFeatures, Labels | Features];
  /** Weight of each training sample in the loss (finite, >= 0), Keras `sample_weight`. */
  sampleWeight?: Float32Array | readonly number[];
  /**
   * Softmax cross-entropy only: weight per class id (`{ 0: 1, 1: 5 }` or an array), Keras `class_weight`;
   * keyed by class name (`{ cat: 2 }`) when the model has `model.classes`. Multiplies sampleWeight.
   */
  classWeight?: Record<number | string, number> | readonly number[];
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
   * weights end bit-identical to an uninterrupted run. `null` (the `resume` of a checkpoint saved
   * outside `fit`, which has no loop position) trains from the restored weights as a new run.
   */
  resumeFrom?: FitResumeState | null;
}

/** What the training loop needs from a model. @internal */
export interface FitModel extends CallbackModel, InputModel {
  readonly disposed: boolean;
  assertUsable(where: string): void;
  /** Refuses (BusyError) when a fit is running. */
  assertIdle(where: string): void;
  /** The Stepper a fit would run on (for validation before it starts). */
  readonly steps: Stepper;
  /** Marks a fit as running (`what` names it in BusyError messages) and returns its Stepper with room for `rows` rows, owned by that fit until {@link endTraining}. */
  beginTraining(rows: number, what?: string): Stepper;
  endTraining(): void;
  /** The seed of a fit called without one (counts fits). */
  nextFitSeed(): number;
  /** Class names by id (a fit on string labels sets them when null). */
  classes: readonly string[] | null;
}

/** `fit`'s options, validated and with defaults filled in. @internal */
export interface FitSettings {
  epochs: number;
  initialEpoch: number;
  batchSize: number;
  shuffle: boolean;
  validationSplit: number;
  verbose: 0 | 1 | 2;
  yieldEveryMs: number;
  /** The given seed; null: derive one from the model (`nextFitSeed`) once the fit starts. */
  seed: number | null;
  /** The callbacks in call order: the user's, then the progress bar, then the checkpoint writers. */
  callbacks: Callback[];
  schedule: Schedule | null;
  resume: FitResumeState | null;
}

const FIT_KEYS = ['sampleWeight', 'classWeight', 'initialEpoch', 'epochs', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'verbose', 'callbacks', 'yieldEveryMs', 'schedule', 'resumeFrom'];

function posInt(v: unknown, name: string, def: number, where = 'fit'): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new OptionError(name, `${where}: ${name} = ${String(v)}; expected a positive integer.`);
  return v;
}

/**
 * Validates `fit`'s options (everything that does not depend on the data or the model) and fills
 * in the defaults. Pure: changes nothing, so a refused fit leaves the model as it was. @internal
 */
export function resolveFitOptions(options: FitOptions, where = 'fit', keys: readonly string[] = FIT_KEYS): FitSettings {
  if (typeof options !== 'object' || options === null) throw new OptionError('options', `${where}: options must be an object.`);
  checkOptions(where, options, keys);
  const epochs = posInt(options.epochs, 'epochs', 1, where);
  const batchSize = posInt(options.batchSize, 'batchSize', 32, where);
  // null (a checkpoint taken outside fit has no loop state) starts a fresh run, as undefined does
  const resume = options.resumeFrom === undefined || options.resumeFrom === null ? null : checkResumeState(options.resumeFrom);
  if (resume && options.initialEpoch !== undefined && options.initialEpoch !== resume.epoch) {
    throw new OptionError('initialEpoch', `${where}: initialEpoch = ${String(options.initialEpoch)} but resumeFrom continues epoch ${resume.epoch}; leave initialEpoch out when resuming.`);
  }
  if (resume && options.seed !== undefined) throw new OptionError('seed', `${where}: seed and resumeFrom together; the checkpoint holds the shuffling state, so leave seed out when resuming.`);
  const initialEpoch = options.initialEpoch ?? resume?.epoch ?? 0;
  if (resume && (epochs < resume.epoch || (epochs === resume.epoch && resume.batch > 0))) {
    throw new OptionError('epochs', `${where}: epochs = ${epochs} but the checkpoint is in epoch ${resume.epoch}; pass the epochs of the original run (the index of the last epoch + 1).`);
  }
  // a resumed, finished position (epoch === epochs) runs no epochs: onTrainBegin, then onTrainEnd
  if (!resume && (typeof initialEpoch !== 'number' || !Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs)) {
    throw new OptionError('initialEpoch', `${where}: initialEpoch = ${String(initialEpoch)}; expected an integer in [0, epochs) (epochs = ${epochs} is the index of the last epoch + 1, as in Keras).`);
  }
  const shuffle = options.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new OptionError('shuffle', `${where}: shuffle = ${String(shuffle)}; expected a boolean.`);
  const split = options.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) {
    throw new OptionError('validationSplit', `${where}: validationSplit = ${String(split)}; expected a fraction in [0, 1), e.g. 0.1.`);
  }
  const verbose = options.verbose ?? 0;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new OptionError('verbose', `${where}: verbose = ${String(verbose)}; expected 0, 1 or 2.`);
  const yieldEveryMs = options.yieldEveryMs ?? 125;
  if (typeof yieldEveryMs !== 'number' || !(yieldEveryMs >= 0)) throw new OptionError('yieldEveryMs', `${where}: yieldEveryMs = ${String(yieldEveryMs)}; expected a number >= 0.`);
  const seed = options.seed ?? (resume ? 0 : null);
  if (seed !== null && (typeof seed !== 'number' || !Number.isFinite(seed))) throw new OptionError('seed', `${where}: seed = ${String(seed)}; expected a finite number.`);
  const given: readonly unknown[] = options.callbacks ?? [];
  if (!Array.isArray(given)) throw new OptionError('callbacks', `${where}: callbacks must be an array of callback objects.`);
  const userCallbacks: Callback[] = given.map((cb, i) => {
    if (isPlateau(cb)) return plateauCallback(cb);
    if (!cb || typeof cb !== 'object') throw new OptionError('callbacks', `${where}: callbacks[${i}] = ${String(cb)}; expected a callback object (e.g. earlyStopping({...})).`);
    return cb as Callback;
  });
  // checkpoint writers (runsLast) see the state after every other callback's hook
  const callbacks = [...userCallbacks.filter((cb) => !cb.runsLast), ...(verbose === 1 ? [progressBar()] : verbose === 2 ? [progressBar({ mode: 'epoch' })] : []), ...userCallbacks.filter((cb) => cb.runsLast)];
  const schedule = resolveSchedule(options.schedule, resume, callbacks, where);
  // the schedule's first value is checked before anything changes
  if (schedule) scheduledRate(schedule, schedule.unit === 'epoch' ? initialEpoch : 0, where);
  return { epochs, initialEpoch, batchSize, shuffle, validationSplit: split, verbose, yieldEveryMs, seed, callbacks, schedule, resume };
}

/** The schedule of the fit (revived from the checkpoint when resuming without one), checked against the checkpoint and the callbacks. */
function resolveSchedule(given: Schedule | undefined, resume: FitResumeState | null, callbacks: readonly Callback[], where: string): Schedule | null {
  let schedule = given;
  if (resume) {
    if (schedule === undefined && resume.schedule !== null) {
      try {
        schedule = scheduleFromJSON(resume.schedule);
      } catch (e) {
        throw new OptionError('schedule', `${where}: the checkpoint's schedule cannot be revived (${(e as Error).message}); pass the run's schedule as options.schedule.`);
      }
    }
    const cfg = schedule === undefined ? null : JSON.stringify(schedule.toJSON?.());
    if (cfg !== (resume.schedule === null ? null : JSON.stringify(resume.schedule))) {
      throw new OptionError('schedule', `${where}: the schedule ${cfg ?? 'none'} differs from the checkpointed run's ${resume.schedule === null ? 'none' : JSON.stringify(resume.schedule)}; resume with the same schedule.`);
    }
    const kinds = callbacks.filter((cb) => typeof cb.getState === 'function').map((cb) => cb.stateKind ?? 'callback');
    const saved = resume.callbacks.map((c) => c.kind);
    if (kinds.join(',') !== saved.join(',')) {
      throw new OptionError('callbacks', `${where}: the stateful callbacks [${kinds.join(', ')}] differ from the checkpointed run's [${saved.join(', ')}]; pass the same callbacks in the same order.`);
    }
  }
  if (schedule === undefined) return null;
  if (typeof schedule !== 'function' || (schedule.unit !== 'epoch' && schedule.unit !== 'step')) {
    throw new OptionError('schedule', `${where}: schedule must be a schedule built by a factory such as cosineAnnealingLR({ lr, tMax }) (a function with unit "epoch" or "step").`);
  }
  if (callbacks.some((cb) => cb.setsLearningRate === true)) {
    throw new OptionError('schedule', `${where}: a schedule and a callback that sets the learning rate (plateauCallback) would overwrite each other. Compose them with withPlateau(schedule, plateau) or drop one.`);
  }
  return schedule;
}

/**
 * Momentum cycling (`schedule.momentum`, cyclicLR/oneCycleLR `cycleMomentum`) needs an optimizer
 * whose momentum or β1 it can drive: SGD or RMSProp compiled with a non-zero momentum (their
 * momentum buffer exists), Adam or AdamW. PyTorch refuses optimizers without `momentum` or `betas`
 * in their defaults (AdaGrad); it accepts SGD/RMSProp with momentum 0 and silently turns momentum
 * on, which wasmfit refuses too, saying how to get either behaviour. @internal
 */
export function checkMomentumCycling(schedule: Schedule | null, st: Stepper, where: string): void {
  const c = st.optimizer;
  if (!schedule?.momentum || (c && cycledMomentum(c))) return;
  throw new OptionError(
    'schedule',
    `${where}: ${schedule.name} cycles momentum, but ${c?.type ?? st.fullBatchConfig?.type} has none. Pass cycleMomentum: false, or use adam, or sgd/rmsprop with momentum > 0.`,
  );
}

/** The schedule's rate at `t` (an epoch or a step, per its unit), checked. @internal */
export function scheduledRate(schedule: Schedule, t: number, where = 'fit'): number {
  const v = schedule(t);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new OptionError('schedule', `${where}: the schedule returned ${v} at ${schedule.unit} ${t}; a learning rate must be a finite number >= 0.`);
  }
  return v;
}

/** The data of a fit, validated against the model: features, targets, sample weights, the validation set. */
interface FitData {
  x: Float32Array;
  y: Int32Array | Float32Array;
  weights: Float32Array | null;
  nTrain: number;
  val: { x: Float32Array; y: Int32Array | Float32Array; rows: number } | null;
  /** The model's class names after this fit (adopted from string labels once the fit is validated). */
  classes: readonly string[] | null;
}

/**
 * Per-row loss weights from Keras's `sample_weight` and `class_weight` (their product), or null
 * when neither is given; validated (one finite weight >= 0 per row, class ids of the model). @internal
 */
export function sampleWeightsOf(st: Stepper, rows: number, ids: Int32Array | Float32Array, sampleWeight: FitOptions['sampleWeight'], classWeight: FitOptions['classWeight'], where: string, classes: readonly string[] | null = null): Float32Array | null {
  let weights: Float32Array | null = null;
  if (st.loss.custom && (sampleWeight !== undefined || classWeight !== undefined)) {
    throw new OptionError(sampleWeight !== undefined ? 'sampleWeight' : 'classWeight', `${where}: the custom loss '${st.loss.custom.name}' receives no sample weights; weight the samples inside your loss function instead.`);
  }
  if (sampleWeight !== undefined) {
    const sw = sampleWeight;
    if (!(sw instanceof Float32Array) && !Array.isArray(sw)) throw new OptionError('sampleWeight', `${where}: sampleWeight must be a Float32Array or number[] with one weight per sample.`);
    if (sw.length !== rows) throw new ShapeError(`${where}: ${sw.length} sample weights for ${rows} samples; pass one weight per row of x.`);
    weights = Float32Array.from(sw as ArrayLike<number>);
    weights.forEach((v, i) => {
      if (!Number.isFinite(v) || v < 0) throw new OptionError('sampleWeight', `${where}: sampleWeight[${i}] = ${v}; weights must be finite and >= 0.`);
    });
  }
  if (classWeight !== undefined) {
    if (!(ids instanceof Int32Array)) throw new OptionError('classWeight', `${where}: classWeight applies to softmaxCrossEntropy only; use sampleWeight for other losses.`);
    const k = st.outputs;
    const cw = classWeight as Record<number, number>;
    if (!cw || typeof cw !== 'object') throw new OptionError('classWeight', `${where}: classWeight must be an object { classId: weight } or an array.`);
    const perClass = new Float32Array(k).fill(1);
    for (const [key, v] of Object.entries(cw)) {
      // keyed by class name when the model has names (as scikit-learn's class_weight with string labels)
      const c = classes && !Array.isArray(cw) ? classes.indexOf(key) : Number(key);
      if (!Number.isInteger(c) || c < 0 || c >= k) throw new OptionError('classWeight', `${where}: classWeight has class ${key}; the model has classes ${classes ? preview(classes) : `0..${k - 1}`}.`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new OptionError('classWeight', `${where}: classWeight[${key}] = ${String(v)}; weights must be finite and >= 0.`);
      perClass[c] = v;
    }
    weights ??= new Float32Array(rows).fill(1);
    for (let r = 0; r < rows; r++) weights[r] = weights[r]! * perClass[ids[r]!]!;
  }
  return weights;
}

function resolveFitData(m: FitModel, x: RawFeatures, y: Labels | Features, options: FitOptions, s: FitSettings): FitData {
  const st = m.steps;
  const fx = modelInputs(m, x, 'fit');
  const classes = fitClassNames(y, m.classes, st, 'fit');
  const ids = st.targets(y, fx.rows, 'fit', classes);
  const weights = sampleWeightsOf(st, fx.rows, ids, options.sampleWeight, options.classWeight, 'fit', classes);
  let nTrain = fx.rows;
  let val: FitData['val'] = null;
  const validationData = checkValidationData(options.validationData, 'fit');
  if (validationData) {
    const [vx, vy] = validationData;
    const f = modelInputs(m, vx, 'fit (validationData)');
    val = { x: f.data, y: st.targets(vy, f.rows, 'fit (validationData)', classes), rows: f.rows };
  } else if (s.validationSplit > 0) {
    nTrain = Math.floor(fx.rows * (1 - s.validationSplit));
    const d = m.inputSize;
    const k = st.outputs;
    val = { x: fx.data.subarray(nTrain * d), y: ids instanceof Int32Array ? ids.subarray(nTrain) : ids.subarray(nTrain * k), rows: fx.rows - nTrain };
    if (val.rows === 0) val = null;
  }
  if (nTrain === 0) throw new OptionError('x', 'fit: no training rows (x is empty or validationSplit leaves none). Pass more data or a smaller validationSplit.');
  const r = s.resume;
  if (r && (r.nTrain !== nTrain || r.batchSize !== s.batchSize || r.shuffle !== s.shuffle)) {
    throw new OptionError('resumeFrom', `fit: the checkpointed run had ${r.nTrain} training rows, batchSize ${r.batchSize}, shuffle ${r.shuffle}; this call has ${nTrain}, ${s.batchSize}, ${s.shuffle}. Resume with the same data and options.`);
  }
  if (st.usesBatchStatistics && (nTrain % s.batchSize === 1 || nTrain === 1)) {
    throw new OptionError('batchSize', `fit: with ${nTrain} training rows and batchSize ${s.batchSize} the last batch has 1 row; batch normalization needs at least 2 rows per training batch. Change batchSize or drop a sample.`);
  }
  return { x: fx.data, y: ids, weights, nTrain, val, classes };
}

/** The keys a fit logs per epoch (callbacks check their monitors against them before the first step). @internal */
export function logKeysOf(st: Stepper, validation: boolean): string[] {
  const keys = ['loss', ...(st.classification ? ['accuracy'] : []), ...st.metricKeys(), 'lr'];
  if (validation) keys.push(...keys.filter((k) => k !== 'lr').map((k) => `val${k[0]!.toUpperCase()}${k.slice(1)}`));
  return keys;
}

/** Lets the event loop run (timers, I/O, UI) between steps. @internal */
export const yieldNow = (): Promise<void> =>
  new Promise((resolve) => {
    const si = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate;
    if (si) si(resolve);
    else setTimeout(resolve, 0);
  });

/** The training loop. Validates everything before touching the model. @internal */
export async function fitLoop(m: FitModel, x: RawFeatures, y: Labels | Features, options: FitOptions = {}): Promise<History> {
  m.assertUsable('fit');
  m.assertIdle('fit');
  const s = resolveFitOptions(options);
  const { epochs, initialEpoch, batchSize, shuffle, callbacks, schedule, resume } = s;
  const data = resolveFitData(m, x, y, options, s);
  checkMomentumCycling(schedule, m.steps, 'fit');
  const { nTrain, val } = data;
  // callbacks check their own configuration (monitored keys, paths) against what this fit logs
  const logKeys = logKeysOf(m.steps, val !== null);
  const list = new CallbackList(callbacks);
  list.checkConfig({ logKeys });
  if (data.classes !== m.classes) m.classes = data.classes;
  // --- validated; from here on the model changes. The Stepper's training plan belongs to this
  // fit: compile, a second fit and state imports are refused (BusyError) until it ends;
  // predict/evaluate from callbacks run on the inference plan; dispose() frees everything and this
  // fit rejects with DisposedError at its next batch boundary, never touching freed memory.
  const seed = s.seed ?? m.nextFitSeed();
  const st = m.beginTraining(Math.min(batchSize, nTrain));
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
    st.keyDropout(seed);
    for (let i = 0; i < nTrain; i++) idx[i] = i;
  }
  const history: History = { epoch: [], history: {} };
  const record = (logs: Logs): void => {
    for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
  };
  m.stopTraining = false;
  const terminateOnNonFinite = list.terminateOnNonFinite;
  const steps = Math.ceil(nTrain / batchSize);
  const classification = st.classification;
  // the loop position, read by fitResumeState (checkpoints) from inside callbacks
  const pos = { epoch: initialEpoch, batch: resume?.batch ?? 0, epochDone: false, lossSum: resume?.lossSum ?? 0, correct: resume?.correct ?? 0 };
  let globalStep = resume?.globalStep ?? 0;
  trackFit(m, () => {
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
      callbacks: list.states(),
      stopTraining: m.stopTraining,
    };
  });
  try {
    list.setModel(m);
    await list.trainBegin({ epochs, steps, samples: nTrain, validation: val ? 1 : 0 });
    if (resume) {
      list.restoreStates(resume.callbacks);
      m.stopTraining = resume.stopTraining;
    }
    let terminated = false;
    let lastYield = Date.now();
    let lr = m.learningRate;
    // metrics over this epoch's training batches (after a mid-epoch resume: the batches since it)
    let trainMetrics = st.metricAccumulator();
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
        // an epoch schedule sets the model's rate (callbacks and the logs see it)
        if (schedule?.unit === 'epoch') m.learningRate = scheduledRate(schedule, epoch);
        await list.epochBegin(epoch);
        if (shuffle) rng.shuffle(idx);
        trainMetrics = st.metricAccumulator();
      }
      for (let b = pos.batch; b < steps; b++) {
        const start = b * batchSize;
        const n = Math.min(batchSize, nTrain - start);
        alive(`epoch ${epoch}, batch ${b}`);
        // momentum cycling (only step-unit schedules have it)
        const momentum = schedule?.momentum?.(globalStep);
        if (schedule?.unit === 'step') {
          m.learningRate = scheduledRate(schedule, globalStep);
          // the schedule is user code: it may have disposed the model
          alive(`epoch ${epoch}, batch ${b}`);
        }
        globalStep++;
        lr = m.learningRate;
        st.load(data.x, data.y, idx, start, n, data.weights);
        const status = st.train(n, lr, momentum);
        if (status !== STATUS.ok) {
          const err = st.error(status, `fit: epoch ${epoch}, batch ${b}`);
          // terminateOnNaN ends training (with the weights from before the step) instead of throwing
          if (terminateOnNonFinite && err.code === 'E_NON_FINITE') {
            terminated = true;
            break;
          }
          throw err;
        }
        const r = st.results();
        pos.lossSum += r.lossSum;
        pos.correct += r.correct;
        pos.batch = b + 1;
        if (trainMetrics) st.addTrainMetrics(trainMetrics, n);
        await list.batchEnd(b, classification ? { loss: r.lossSum / n, accuracy: r.correct / n } : { loss: r.lossSum / n });
        if (Date.now() - lastYield >= s.yieldEveryMs) {
          await yieldNow();
          lastYield = Date.now();
        }
      }
      if (terminated) break;
      const logs: Logs = classification ? { loss: pos.lossSum / nTrain, accuracy: pos.correct / nTrain } : { loss: pos.lossSum / nTrain };
      if (trainMetrics) Object.assign(logs, trainMetrics.result());
      logs.lr = lr;
      if (val) {
        alive(`end of epoch ${epoch}`);
        const valMetrics = st.metricAccumulator();
        const e = st.evaluate(val.x, val.y, val.rows, Math.min(batchSize, nTrain), valMetrics);
        logs.valLoss = e.loss;
        if (classification) logs.valAccuracy = e.accuracy;
        if (valMetrics) Object.assign(logs, valMetrics.result('val'));
      }
      history.epoch.push(epoch);
      record(logs);
      pos.epochDone = true;
      await list.epochEnd(epoch, logs);
      if (m.stopTraining) break;
    }
    alive('at the end of training');
    await list.trainEnd();
  } finally {
    untrackFit(m);
    m.endTraining();
  }
  return history;
}
