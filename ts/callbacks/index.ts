import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkMonitor, monitorKey } from './monitor.js';
import type { Callback, CallbackConfigContext, CallbackModel, Logs } from '../model/callbacks.js';
import type { Plateau, PlateauState } from '../schedules/index.js';
import { isSchedule, type Schedule } from '../schedules/schedule.js';
import { checkOptions } from '../errors/validate.js';

export type { Callback, CallbackConfigContext, CallbackModel, History, Logs } from '../model/callbacks.js';

/** Options of {@link earlyStopping} (Keras 3 `EarlyStopping`, names in camelCase). */
export interface EarlyStoppingOptions {
  /**
   * Metric to watch, a key of the epoch logs: `'valLoss'` (default), `'valAccuracy'`, `'loss'`,
   * `'accuracy'`. Keras / tfjs names are read as these: `'val_loss'`, `'acc'`, `'val_acc'`, `'val_accuracy'`.
   */
  monitor?: string;
  /** Minimum change that counts as an improvement (absolute; sign ignored). Default 0. */
  minDelta?: number;
  /** Epochs without improvement after which training stops. Default 0. */
  patience?: number;
  /** `'min'`, `'max'` or `'auto'` (default: max for names containing "accuracy", else min). */
  mode?: 'auto' | 'min' | 'max';
  /** Value the metric must beat for the wait counter to reset. Does not seed `best`. Default none. */
  baseline?: number | null;
  /** Restore the weights of the best epoch when training ends (stopped early or not). Default false. */
  restoreBestWeights?: boolean;
  /** Epochs to ignore before monitoring starts. Default 0. */
  startFromEpoch?: number;
}

/** An early-stopping callback with its readable state. */
export interface EarlyStopping extends Callback {
  /** The epoch at which training was stopped, or 0 when it ran to the end (as Keras). */
  readonly stoppedEpoch: number;
  /** The epoch whose metric was best. */
  readonly bestEpoch: number;
  /** The best metric value seen (±Infinity before any). */
  readonly best: number;
  /** Epochs since the last improvement. */
  readonly wait: number;
}

const ES_KEYS = new Set(['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch']);

/**
 * Stops training when a monitored metric stops improving — Keras 3 `EarlyStopping` semantics
 * (keras/src/callbacks/early_stopping.py):
 *
 * - improvement: `current − minDelta > best` (max mode) or `current + minDelta < best` (min mode);
 * - each monitored epoch increments `wait`; an improvement sets `best` and resets `wait` to 0 only
 *   when `current` also improves on `baseline` (if one is given) — `baseline` never seeds `best`;
 * - training stops when `wait >= patience` and `epoch > 0` (it never stops at epoch 0);
 * - epochs before `startFromEpoch` are ignored;
 * - with `restoreBestWeights`, the best epoch's weights are restored at the end of training even
 *   when it was not stopped early (the first monitored epoch's weights stand in until an
 *   improvement).
 *
 * Divergences: a `monitor` missing from the logs is refused with an {@link OptionError} naming the
 * available metrics before the first step (Keras warns and skips at each epoch end); `best` resets at the start of each `fit` (Keras keeps
 * it across reuse of the same callback object).
 *
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 100, validationSplit: 0.1,
 *   callbacks: [earlyStopping({ monitor: 'valLoss', patience: 5, restoreBestWeights: true })] });
 * ```
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStopping {
  if (options === null || typeof options !== 'object') throw new OptionError('options', `earlyStopping: options = ${preview(options)}; expected an object such as { monitor: 'valLoss', patience: 5 }.`);
  checkOptions('earlyStopping', options, [...ES_KEYS]);
  const monitorIn = options.monitor ?? 'valLoss';
  if (typeof monitorIn !== 'string' || monitorIn.length === 0) throw new OptionError('monitor', `earlyStopping: monitor = ${preview(monitorIn)}; expected a metric name such as 'valLoss'.`);
  // Keras / tfjs log names ('val_loss', 'acc', 'val_acc') read as wasmfit's camelCase keys
  const monitor = monitorKey(monitorIn);
  const minDelta = typeof options.minDelta === 'number' || options.minDelta === undefined ? Math.abs(options.minDelta ?? 0) : NaN;
  if (!Number.isFinite(minDelta)) throw new OptionError('minDelta', `earlyStopping: minDelta = ${preview(options.minDelta)}; expected a finite number.`);
  const patience = options.patience ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw new OptionError('patience', `earlyStopping: patience = ${preview(patience)}; expected an integer >= 0.`);
  const modeOpt = options.mode ?? 'auto';
  if (modeOpt !== 'auto' && modeOpt !== 'min' && modeOpt !== 'max') throw new OptionError('mode', `earlyStopping: mode = ${preview(modeOpt)}; expected 'auto', 'min' or 'max'.`);
  const baseline = options.baseline ?? null;
  if (baseline !== null && (typeof baseline !== 'number' || !Number.isFinite(baseline))) throw new OptionError('baseline', `earlyStopping: baseline = ${preview(baseline)}; expected a finite number or null.`);
  const restore = options.restoreBestWeights ?? false;
  if (typeof restore !== 'boolean') throw new OptionError('restoreBestWeights', `earlyStopping: restoreBestWeights = ${preview(restore)}; expected a boolean.`);
  const startFromEpoch = options.startFromEpoch ?? 0;
  if (!Number.isInteger(startFromEpoch) || startFromEpoch < 0) throw new OptionError('startFromEpoch', `earlyStopping: startFromEpoch = ${preview(startFromEpoch)}; expected an integer >= 0.`);
  const maximize = modeOpt === 'max' || (modeOpt === 'auto' && /acc/i.test(monitor));
  const better = (current: number, reference: number): boolean => (maximize ? current - minDelta > reference : current + minDelta < reference);

  let model: CallbackModel | null = null;
  let wait = 0;
  let stoppedEpoch = 0;
  let best = maximize ? -Infinity : Infinity;
  let bestEpoch = 0;
  let bestWeights: ReturnType<CallbackModel['getWeights']> | null = null;

  return {
    get stoppedEpoch() {
      return stoppedEpoch;
    },
    get bestEpoch() {
      return bestEpoch;
    },
    get best() {
      return best;
    },
    get wait() {
      return wait;
    },
    setModel(m: CallbackModel) {
      model = m;
    },
    checkConfig(context: CallbackConfigContext) {
      checkMonitor('earlyStopping', monitor, context, monitorIn);
    },
    stateKind: 'earlyStopping',
    getState() {
      return { wait, stoppedEpoch, best, bestEpoch, bestWeights: bestWeights && bestWeights.map((w) => ({ name: w.name, shape: [...w.shape], data: w.data.slice() })) };
    },
    setState(s: unknown) {
      const st = s as { wait?: unknown; stoppedEpoch?: unknown; best?: unknown; bestEpoch?: unknown; bestWeights?: unknown };
      const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
      const bw = st?.bestWeights;
      const okWeights = bw === null || (Array.isArray(bw) && bw.every((w) => w && typeof w.name === 'string' && Array.isArray(w.shape) && w.data instanceof Float32Array));
      if (!st || !count(st.wait) || !count(st.stoppedEpoch) || !count(st.bestEpoch) || typeof st.best !== 'number' || Number.isNaN(st.best) || !okWeights) {
        throw new OptionError('state', 'earlyStopping.setState: expected { wait, stoppedEpoch, best, bestEpoch, bestWeights } from getState() (a checkpoint of the same callback).');
      }
      wait = st.wait as number;
      stoppedEpoch = st.stoppedEpoch as number;
      best = st.best;
      bestEpoch = st.bestEpoch as number;
      bestWeights = bw as typeof bestWeights;
    },
    onTrainBegin() {
      wait = 0;
      stoppedEpoch = 0;
      best = maximize ? -Infinity : Infinity;
      bestEpoch = 0;
      bestWeights = null;
    },
    onEpochEnd(epoch: number, logs: Logs) {
      const current = Object.hasOwn(logs, monitor) ? logs[monitor] : undefined;
      if (typeof current !== 'number') {
        throw new OptionError('monitor', `earlyStopping: the logs have no '${monitor}'; available: ${Object.keys(logs).join(', ')}. Monitor one of those (validation metrics need validationSplit or validationData).`);
      }
      if (epoch < startFromEpoch) return;
      if (restore && bestWeights === null) {
        bestWeights = model!.getWeights();
        bestEpoch = epoch;
      }
      wait += 1;
      if (better(current, best)) {
        best = current;
        bestEpoch = epoch;
        if (restore) bestWeights = model!.getWeights();
        if (baseline === null || better(current, baseline)) wait = 0;
        return;
      }
      if (wait >= patience && epoch > 0) {
        stoppedEpoch = epoch;
        model!.stopTraining = true;
      }
    },
    onTrainEnd() {
      if (restore && bestWeights !== null) model!.setWeights(bestWeights);
    },
  };
}

/**
 * Ends training cleanly when the loss becomes NaN or ±Infinity (Keras `TerminateOnNaN`): instead
 * of `fit` throwing a `NonFiniteError`, it returns the History so far; the weights from before the
 * failing step are kept.
 */
export function terminateOnNaN(): Callback {
  return { terminateOnNonFinite: true };
}

/** Options of {@link plateauCallback}. */
export interface PlateauCallbackOptions {
  /** Metric of the epoch logs to watch (default `'valLoss'`; Keras / tfjs names such as `'val_loss'` are read as wasmfit's). */
  monitor?: string;
}

/**
 * Drives the model's learning rate from a plateau reducer after every epoch — PyTorch
 * `ReduceLROnPlateau` (`reduceLROnPlateau({...})`) or Keras `ReduceLROnPlateau`
 * (`kerasReduceLROnPlateau({...})`), whose semantics are documented on those factories. The
 * reducer starts from the model's learning rate at the start of `fit`; only the rate changes,
 * never the optimizer state. Its JSON-able state is readable as `callback.state`.
 *
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 50, validationSplit: 0.1,
 *   callbacks: [plateauCallback(reduceLROnPlateau({ factor: 0.5, patience: 3 }))] });
 * ```
 */
export function plateauCallback(plateau: Plateau, options: PlateauCallbackOptions = {}): Callback & { readonly state: PlateauState | null } {
  if (!plateau || typeof plateau.init !== 'function' || typeof plateau.update !== 'function' || typeof plateau.lr !== 'function') {
    throw new OptionError('plateau', 'plateauCallback: pass a reducer built by reduceLROnPlateau({...}) or kerasReduceLROnPlateau({...}).');
  }
  if (options === null || typeof options !== 'object') throw new OptionError('options', `plateauCallback: options = ${preview(options)}; expected an object { monitor }.`);
  checkOptions('plateauCallback', options, ['monitor']);
  const monitorIn = options.monitor ?? 'valLoss';
  if (typeof monitorIn !== 'string' || monitorIn.length === 0) throw new OptionError('monitor', `plateauCallback: monitor = ${preview(monitorIn)}; expected a metric name such as 'valLoss'.`);
  // Keras / tfjs log names ('val_loss', 'acc', 'val_acc') read as wasmfit's camelCase keys
  const monitor = monitorKey(monitorIn);
  let model: CallbackModel | null = null;
  let state: PlateauState | null = null;
  return {
    setsLearningRate: true,
    get state() {
      return state;
    },
    setModel(m: CallbackModel) {
      model = m;
    },
    checkConfig(context: CallbackConfigContext) {
      checkMonitor('plateauCallback', monitor, context, monitorIn);
    },
    stateKind: 'plateau',
    getState() {
      return { state };
    },
    setState(s: unknown) {
      const st = (s as { state?: unknown } | null)?.state;
      if (st === undefined || (st !== null && typeof st !== 'object')) throw new OptionError('state', 'plateauCallback.setState: expected { state } from getState() (a checkpoint of the same callback).');
      // validated by the reducer: lr() refuses a malformed state
      if (st !== null) plateau.lr(st as PlateauState);
      state = st as PlateauState | null;
      if (state !== null) model!.learningRate = plateau.lr(state);
    },
    onTrainBegin(logs: Logs) {
      if (monitor.startsWith('val') && logs.validation === 0) {
        throw new OptionError('monitor', `plateauCallback: monitor '${monitor}' needs validation data; pass fit({ validationSplit }) or fit({ validationData }), or monitor 'loss'.`);
      }
      state = plateau.init(model!.learningRate);
    },
    onEpochEnd(_epoch: number, logs: Logs) {
      const v = Object.hasOwn(logs, monitor) ? logs[monitor] : undefined;
      if (typeof v !== 'number') {
        throw new OptionError('monitor', `plateauCallback: the logs have no '${monitor}'; available: ${Object.keys(logs).join(', ')}.`);
      }
      state = plateau.update(state!, v);
      model!.learningRate = plateau.lr(state);
    },
  };
}
/** Is `x` a plateau reducer built by reduceLROnPlateau / kerasReduceLROnPlateau? @internal */
export function isPlateau(x: unknown): x is Plateau {
  const p = x as Plateau;
  return !!p && typeof p === 'object' && (p.name === 'reduceLROnPlateau' || p.name === 'kerasReduceLROnPlateau') && typeof p.init === 'function' && typeof p.update === 'function' && typeof p.lr === 'function';
}

/**
 * Keras `LearningRateScheduler`: before each epoch, sets the model's learning rate to
 * `schedule(epoch, lr)` — `epoch` is the absolute epoch index (counting `initialEpoch`), `lr` the
 * current rate — or, given a wasmfit epoch schedule such as `cosineAnnealingLR({...})`, to
 * `schedule(epoch)`. Only the rate changes, never the optimizer state; the rate used is logged as
 * `lr`. A returned value that is not a finite number >= 0 stops `fit` with an OptionError before
 * that epoch's first step. Prefer `fit({ schedule })` for wasmfit schedules (it also steps per
 * batch); this callback is for functions of the current rate.
 *
 * @example
 * ```ts
 * // Keras's docstring example: keep the rate for 10 epochs, then decay it by e^-0.1 per epoch
 * learningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * Math.exp(-0.1)))
 * ```
 */
export function learningRateScheduler(schedule: ((epoch: number, lr: number) => number) | Schedule): Callback {
  if (typeof schedule !== 'function') throw new OptionError('schedule', 'learningRateScheduler: pass a function (epoch, lr) => newLr or an epoch schedule such as cosineAnnealingLR({ lr, tMax }).');
  const wasmfitSchedule = isSchedule(schedule);
  if (wasmfitSchedule && schedule.unit !== 'epoch') {
    throw new OptionError('schedule', `learningRateScheduler: the schedule '${schedule.name}' is stepped per batch (unit 'step'); pass it as fit({ schedule }) instead.`);
  }
  let model: CallbackModel | null = null;
  return {
    setsLearningRate: true,
    setModel(m: CallbackModel) {
      model = m;
    },
    onEpochBegin(epoch: number) {
      const lr = model!.learningRate;
      const next = wasmfitSchedule ? (schedule as Schedule)(epoch) : (schedule as (e: number, lr: number) => number)(epoch, lr);
      if (typeof next !== 'number' || !Number.isFinite(next) || next < 0) {
        throw new OptionError('schedule', `learningRateScheduler: the schedule returned ${preview(next)} at epoch ${epoch}; a learning rate must be a finite number >= 0.`);
      }
      model!.learningRate = next;
    },
  };
}

export { progressBar } from './progress.js';
export type { ProgressBarOptions } from './progress.js';
