/**
 * Reduce-on-plateau as a small object over explicit, JSON-able state (optax style): `init`,
 * `update(state, metric)` (pure; returns a new state), `lr(state)`.
 */
import { NonFiniteError, OptionError } from '../errors/index.js';
import { checkOptions, fmt, num, oneOf } from '../errors/validate.js';
import { isSchedule, type Schedule, type ScheduleUnit } from './schedule.js';

/**
 * State of a plateau reducer. Plain JSON: `JSON.parse(JSON.stringify(state))` continues identically.
 */
export interface PlateauState {
  /** Current learning rate (inside {@link withPlateau}: the scale factor, starting at 1). */
  readonly lr: number;
  /** Best metric so far; `null` before the first update (upstream's ±Infinity, which JSON cannot hold). */
  readonly best: number | null;
  /** Consecutive epochs without improvement (PyTorch `num_bad_epochs`, Keras `wait`). */
  readonly badEpochs: number;
  /** Epochs of cooldown left. */
  readonly cooldownCounter: number;
  /** Number of `update` calls so far. */
  readonly epoch: number;
}

/** The resolved configuration of a plateau reducer (plain JSON). */
export interface PlateauConfig {
  readonly kind: 'reduceLROnPlateau' | 'kerasReduceLROnPlateau';
  readonly [option: string]: unknown;
}

/** A plateau reducer: pure functions over {@link PlateauState}. */
export interface Plateau {
  readonly name: 'reduceLROnPlateau' | 'kerasReduceLROnPlateau';
  /** Initial state for a starting learning rate `lr` (>= 0). */
  init(lr: number): PlateauState;
  /** The state after one epoch whose monitored metric is `metric`; `state` is not modified. */
  update(state: PlateauState, metric: number): PlateauState;
  /** The learning rate held in `state`. */
  lr(state: PlateauState): number;
  toJSON(): PlateauConfig;
}

function checkLr(where: string, lr: unknown): number {
  return num(where, 'lr', lr, { ge: 0, fix: 'Pass the starting learning rate, a finite number >= 0.' });
}

function checkMetric(where: string, metric: unknown): number {
  if (typeof metric !== 'number') {
    throw new OptionError('metric', `${where}: metric = ${fmt(metric)}; expected a number (e.g. the epoch's validation loss). Pass a finite number.`);
  }
  if (!Number.isFinite(metric)) {
    throw new NonFiniteError(
      `${where}: metric = ${fmt(metric)}; expected a finite number. The monitored value diverged: stop or restore the model instead of reducing the learning rate.`,
    );
  }
  return metric;
}

function checkState(where: string, state: unknown): PlateauState {
  const bad = (what: string): never => {
    throw new OptionError(
      'state',
      `${where}: state ${what}; expected a PlateauState { lr, best, badEpochs, cooldownCounter, epoch } from init() or update(). Pass the state returned by init()/update() (or its JSON round trip).`,
    );
  };
  if (state === null || typeof state !== 'object') return bad(`= ${fmt(state)}`);
  const s = state as Record<string, unknown>;
  const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (typeof s.lr !== 'number' || !Number.isFinite(s.lr) || s.lr < 0) bad(`.lr = ${fmt(s.lr)}`);
  if (s.best !== null && (typeof s.best !== 'number' || !Number.isFinite(s.best))) bad(`.best = ${fmt(s.best)}`);
  if (!isCount(s.badEpochs)) bad(`.badEpochs = ${fmt(s.badEpochs)}`);
  if (!isCount(s.cooldownCounter)) bad(`.cooldownCounter = ${fmt(s.cooldownCounter)}`);
  if (!isCount(s.epoch)) bad(`.epoch = ${fmt(s.epoch)}`);
  return s as unknown as PlateauState;
}

/** Options of {@link reduceLROnPlateau} (PyTorch names and defaults). */
export interface ReduceLROnPlateauOptions {
  /** `'min'`: lower metric is better (loss); `'max'`: higher is better (accuracy). Default `'min'`. */
  readonly mode?: 'min' | 'max';
  /** `newLr = lr · factor`. Default 0.1; in [0, 1). */
  readonly factor?: number;
  /** Bad epochs tolerated; the rate drops on the (patience+1)-th. Default 10; integer >= 0. */
  readonly patience?: number;
  /** Improvement needed to count as better. Default 1e-4; >= 0. */
  readonly threshold?: number;
  /** `'rel'`: better than `best·(1 ∓ threshold)`; `'abs'`: better than `best ∓ threshold`. Default `'rel'`. */
  readonly thresholdMode?: 'rel' | 'abs';
  /** Epochs after a reduction during which bad epochs are not counted. Default 0; integer >= 0. */
  readonly cooldown?: number;
  /** Lower bound on the rate. Default 0; >= 0. */
  readonly minLr?: number;
  /** Reductions smaller than `eps` are skipped. Default 1e-8; >= 0. */
  readonly eps?: number;
}

/**
 * PyTorch `ReduceLROnPlateau`, as pure functions over {@link PlateauState}. Per `update(state, m)`:
 * 1. `m` is better when `m < best·(1 − threshold)` (min, rel), `m < best − threshold` (min, abs),
 *    `m > best·(1 + threshold)` (max, rel) or `m > best + threshold` (max, abs); the first metric is
 *    always better. Better: `best = m, badEpochs = 0`; otherwise `badEpochs += 1`.
 * 2. In cooldown (`cooldownCounter > 0`): `cooldownCounter −= 1, badEpochs = 0`.
 * 3. If `badEpochs > patience`: `new = max(lr·factor, minLr)`, applied only if `lr − new > eps`;
 *    then `cooldownCounter = cooldown, badEpochs = 0`.
 *
 * Divergence: a non-finite metric throws a NonFiniteError (PyTorch counts NaN as a bad epoch).
 * Keras's variant (`wait >= patience`, absolute `minDelta`) is {@link kerasReduceLROnPlateau}.
 * To combine with a schedule, see {@link withPlateau}.
 *
 * @example
 * const p = reduceLROnPlateau({ patience: 5 });
 * let s = p.init(0.1);
 * for (const valLoss of losses) { s = p.update(s, valLoss); optimizer.lr = p.lr(s); }
 * localStorage.plateau = JSON.stringify(s); // resume later with JSON.parse
 */
export function reduceLROnPlateau(options?: ReduceLROnPlateauOptions): Plateau {
  const W = 'reduceLROnPlateau';
  const o = checkOptions(W, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
  const mode = oneOf(W, 'mode', o.mode, ['min', 'max'] as const, 'min');
  const factor = num(W, 'factor', o.factor, { default: 0.1, ge: 0, lt: 1, fix: 'Pass factor in [0, 1), e.g. 0.1 (PyTorch refuses factor >= 1).' });
  const patience = num(W, 'patience', o.patience, { default: 10, integer: true, ge: 0 });
  const threshold = num(W, 'threshold', o.threshold, { default: 1e-4, ge: 0 });
  const thresholdMode = oneOf(W, 'thresholdMode', o.thresholdMode, ['rel', 'abs'] as const, 'rel');
  const cooldown = num(W, 'cooldown', o.cooldown, { default: 0, integer: true, ge: 0 });
  const minLr = num(W, 'minLr', o.minLr, { default: 0, ge: 0 });
  const eps = num(W, 'eps', o.eps, { default: 1e-8, ge: 0 });
  const config: PlateauConfig = Object.freeze({ kind: W, mode, factor, patience, threshold, thresholdMode, cooldown, minLr, eps });
  const isBetter = (a: number, best: number | null): boolean => {
    if (best === null) return true;
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  };
  return Object.freeze({
    name: W,
    init: (lr: number): PlateauState => Object.freeze({ lr: checkLr(`${W}.init`, lr), best: null, badEpochs: 0, cooldownCounter: 0, epoch: 0 }),
    update: (state: PlateauState, metric: number): PlateauState => {
      const s = checkState(`${W}.update`, state);
      const m = checkMetric(`${W}.update`, metric);
      let { lr, best, badEpochs, cooldownCounter } = s;
      if (isBetter(m, best)) {
        best = m;
        badEpochs = 0;
      } else {
        badEpochs += 1;
      }
      if (cooldownCounter > 0) {
        cooldownCounter -= 1;
        badEpochs = 0;
      }
      if (badEpochs > patience) {
        const next = Math.max(lr * factor, minLr);
        if (lr - next > eps) lr = next;
        cooldownCounter = cooldown;
        badEpochs = 0;
      }
      return Object.freeze({ lr, best, badEpochs, cooldownCounter, epoch: s.epoch + 1 });
    },
    lr: (state: PlateauState): number => checkState(`${W}.lr`, state).lr,
    toJSON: () => config,
  });
}

/** Options of {@link kerasReduceLROnPlateau} (Keras names and defaults). */
export interface KerasReduceLROnPlateauOptions {
  /** `'min'` or `'max'`. Default `'min'` (Keras's `'auto'` needs a metric name; pass the mode). */
  readonly mode?: 'min' | 'max';
  /** `newLr = lr · factor`. Default 0.1; in [0, 1). */
  readonly factor?: number;
  /** Epochs without improvement before reducing (`wait >= patience`). Default 10; integer >= 0. */
  readonly patience?: number;
  /** Absolute improvement needed (`m < best − minDelta` in min mode). Default 1e-4; >= 0. */
  readonly minDelta?: number;
  /** Epochs after a reduction during which waiting is suspended. Default 0; integer >= 0. */
  readonly cooldown?: number;
  /** Lower bound on the rate. Default 0; >= 0. */
  readonly minLr?: number;
}

/**
 * Keras `ReduceLROnPlateau` (`keras/src/callbacks/reduce_lr_on_plateau.py`) over
 * {@link PlateauState} (`badEpochs` is Keras's `wait`). Per `update(state, m)`:
 * 1. In cooldown: `cooldownCounter −= 1, wait = 0`.
 * 2. If `m < best − minDelta` (min) / `m > best + minDelta` (max), or it is the first metric:
 *    `best = m, wait = 0`.
 * 3. Else, if no longer in cooldown: `wait += 1`; when `wait >= patience` and `lr > minLr`:
 *    `lr = max(lr·factor, minLr), cooldownCounter = cooldown, wait = 0`.
 *
 * Differences from PyTorch's {@link reduceLROnPlateau}: reduces at `wait >= patience` (one epoch
 * earlier than PyTorch's `> patience`), `minDelta` is absolute, there is no `eps`, and the epochs
 * of cooldown do not count toward `wait`. Keras compares `lr > float32(minLr)`; this compares in
 * float64. A non-finite metric throws a NonFiniteError.
 *
 * @example
 * const p = kerasReduceLROnPlateau({ factor: 0.2, patience: 5, minLr: 0.001 });
 */
export function kerasReduceLROnPlateau(options?: KerasReduceLROnPlateauOptions): Plateau {
  const W = 'kerasReduceLROnPlateau';
  const o = checkOptions(W, options, ['mode', 'factor', 'patience', 'minDelta', 'cooldown', 'minLr']);
  const mode = oneOf(W, 'mode', o.mode, ['min', 'max'] as const, 'min');
  const factor = num(W, 'factor', o.factor, { default: 0.1, ge: 0, lt: 1, fix: 'Pass factor in [0, 1), e.g. 0.1 (Keras refuses factor >= 1).' });
  const patience = num(W, 'patience', o.patience, { default: 10, integer: true, ge: 0 });
  const minDelta = num(W, 'minDelta', o.minDelta, { default: 1e-4, ge: 0 });
  const cooldown = num(W, 'cooldown', o.cooldown, { default: 0, integer: true, ge: 0 });
  const minLr = num(W, 'minLr', o.minLr, { default: 0, ge: 0 });
  const config: PlateauConfig = Object.freeze({ kind: W, mode, factor, patience, minDelta, cooldown, minLr });
  const improved = (a: number, best: number | null): boolean =>
    best === null ? true : mode === 'min' ? a < best - minDelta : a > best + minDelta;
  return Object.freeze({
    name: W,
    init: (lr: number): PlateauState => Object.freeze({ lr: checkLr(`${W}.init`, lr), best: null, badEpochs: 0, cooldownCounter: 0, epoch: 0 }),
    update: (state: PlateauState, metric: number): PlateauState => {
      const s = checkState(`${W}.update`, state);
      const m = checkMetric(`${W}.update`, metric);
      let { lr, best, badEpochs: wait, cooldownCounter } = s;
      if (cooldownCounter > 0) {
        cooldownCounter -= 1;
        wait = 0;
      }
      if (improved(m, best)) {
        best = m;
        wait = 0;
      } else if (!(cooldownCounter > 0)) {
        wait += 1;
        if (wait >= patience && lr > minLr) {
          lr = Math.max(lr * factor, minLr);
          cooldownCounter = cooldown;
          wait = 0;
        }
      }
      return Object.freeze({ lr, best, badEpochs: wait, cooldownCounter, epoch: s.epoch + 1 });
    },
    lr: (state: PlateauState): number => checkState(`${W}.lr`, state).lr,
    toJSON: () => config,
  });
}

/** A schedule scaled by a plateau reducer; see {@link withPlateau}. */
export interface ScheduleWithPlateau {
  readonly name: string;
  readonly unit: ScheduleUnit;
  readonly schedule: Schedule;
  readonly plateau: Plateau;
  /** `plateau.init(1)`: the state's `lr` is the scale factor, starting at 1. */
  init(): PlateauState;
  /** `plateau.update(state, metric)` — call once per epoch with the monitored metric. */
  update(state: PlateauState, metric: number): PlateauState;
  /** The current scale factor (`state.lr`). */
  scale(state: PlateauState): number;
  /** `schedule(t) · scale(state)`. */
  lr(state: PlateauState, t: number): number;
  toJSON(): { readonly kind: 'withPlateau'; readonly schedule: unknown; readonly plateau: PlateauConfig };
}

/**
 * Composes a schedule with a plateau reducer — something neither PyTorch nor Keras allows directly.
 *
 * The plateau runs on a scale factor `s` instead of a rate: `init()` is `plateau.init(1)`, each
 * `update(state, metric)` may multiply `s` by `factor`, and
 * `lr(state, t) = schedule(t) · s`. So `minLr` and `eps` of the plateau apply to `s` (a fraction of
 * the schedule's value), not to the absolute rate. With `minLr = 0` this equals chaining PyTorch's
 * `ReduceLROnPlateau` with a chainable scheduler on one optimizer: every reduction multiplies the
 * scheduled rate by `factor` from then on. The schedule's `t` and the plateau's epochs are counted
 * by the caller (they may differ when the schedule counts steps).
 *
 * @example
 * const c = withPlateau(cosineAnnealingLR({ lr: 0.1, tMax: 100 }), reduceLROnPlateau({ patience: 3 }));
 * let st = c.init();
 * for (let epoch = 0; epoch < 100; epoch++) { setLr(c.lr(st, epoch)); st = c.update(st, trainAndValidate()); }
 */
export function withPlateau(schedule: Schedule, plateau: Plateau): ScheduleWithPlateau {
  const W = 'withPlateau';
  if (!isSchedule(schedule)) {
    throw new OptionError('schedule', `${W}: schedule = ${fmt(schedule)}; expected a schedule from this module. Pass e.g. cosineAnnealingLR({ lr, tMax }).`);
  }
  if (plateau === null || typeof plateau !== 'object' || typeof plateau.update !== 'function' || typeof plateau.init !== 'function') {
    throw new OptionError('plateau', `${W}: plateau = ${fmt(plateau)}; expected a plateau reducer. Pass reduceLROnPlateau({...}) or kerasReduceLROnPlateau({...}).`);
  }
  return Object.freeze({
    name: `${W}(${schedule.name})`,
    unit: schedule.unit,
    schedule,
    plateau,
    init: () => plateau.init(1),
    update: (state: PlateauState, metric: number) => plateau.update(state, metric),
    scale: (state: PlateauState) => plateau.lr(state),
    lr: (state: PlateauState, t: number) => schedule(t) * plateau.lr(state),
    toJSON: () => ({ kind: W, schedule: schedule.toJSON(), plateau: plateau.toJSON() }) as const,
  });
}
