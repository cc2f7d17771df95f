/**
 * Schedules named after `keras.optimizers.schedules`. Options are Keras's names in camelCase with
 * Keras's defaults; the counter `t` is the optimizer's step count (`optimizer.iterations`), so the
 * unit is `'step'`. Formulas follow `keras/src/optimizers/schedules/learning_rate_schedule.py`,
 * evaluated in float64 (Keras computes in the dtype of `initial_learning_rate`, usually float32).
 */
import { OptionError } from '../errors/index.js';
import { bool, checkOptions, num, numArray } from '../errors/validate.js';
import { makeSchedule, type Schedule } from './schedule.js';

const ILR = {
  ge: 0,
  fix: 'Pass initialLearningRate as a finite number >= 0 (e.g. 0.01).',
} as const;

/** Options of {@link exponentialDecay} and {@link inverseTimeDecay}. */
export interface KerasDecayOptions {
  /** Rate at step 0. Required, >= 0. */
  readonly initialLearningRate: number;
  /** Steps per decay period. Required, > 0. */
  readonly decaySteps: number;
  /** Decay rate. Required; > 0 for exponentialDecay, >= 0 for inverseTimeDecay. */
  readonly decayRate: number;
  /** Decay in whole periods only (`⌊t/decaySteps⌋`). Default false. */
  readonly staircase?: boolean;
}

/**
 * Keras `ExponentialDecay`: `lr_t = initialLearningRate · decayRate^(t/decaySteps)`, with
 * `⌊t/decaySteps⌋` in place of `t/decaySteps` when `staircase`. Unit: `'step'`.
 *
 * @example
 * const s = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100000, decayRate: 0.96, staircase: true });
 */
export function exponentialDecay(options: KerasDecayOptions): Schedule {
  const W = 'exponentialDecay';
  const o = checkOptions(W, options, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
  const lr0 = num(W, 'initialLearningRate', o.initialLearningRate, ILR);
  const decaySteps = num(W, 'decaySteps', o.decaySteps, { gt: 0, fix: 'Pass decaySteps > 0 (Keras requires decay_steps > 0).' });
  const decayRate = num(W, 'decayRate', o.decayRate, { gt: 0, fix: 'Pass decayRate > 0, e.g. 0.96.' });
  const staircase = bool(W, 'staircase', o.staircase, false);
  return makeSchedule(W, 'step', lr0, { initialLearningRate: lr0, decaySteps, decayRate, staircase }, (t) => {
    const p = staircase ? Math.floor(t / decaySteps) : t / decaySteps;
    return lr0 * decayRate ** p;
  });
}

/**
 * Keras `InverseTimeDecay`: `lr_t = initialLearningRate / (1 + decayRate · t/decaySteps)`, with
 * `⌊t/decaySteps⌋` when `staircase`. Unit: `'step'`. For the per-epoch form of the project's
 * source documents see {@link inverseTimeEpochDecay}.
 *
 * @example
 * const s = inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 });
 */
export function inverseTimeDecay(options: KerasDecayOptions): Schedule {
  const W = 'inverseTimeDecay';
  const o = checkOptions(W, options, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
  const lr0 = num(W, 'initialLearningRate', o.initialLearningRate, ILR);
  const decaySteps = num(W, 'decaySteps', o.decaySteps, { gt: 0, fix: 'Pass decaySteps > 0 (Keras requires decay_steps > 0).' });
  const decayRate = num(W, 'decayRate', o.decayRate, { ge: 0, fix: 'Pass decayRate >= 0, e.g. 0.5.' });
  const staircase = bool(W, 'staircase', o.staircase, false);
  return makeSchedule(W, 'step', lr0, { initialLearningRate: lr0, decaySteps, decayRate, staircase }, (t) => {
    const p = staircase ? Math.floor(t / decaySteps) : t / decaySteps;
    return lr0 / (1 + decayRate * p);
  });
}

/** Options of {@link piecewiseConstantDecay}. */
export interface PiecewiseConstantDecayOptions {
  /** Strictly increasing step boundaries. */
  readonly boundaries: readonly number[];
  /** One more value than boundaries; each >= 0. */
  readonly values: readonly number[];
}

/**
 * Keras `PiecewiseConstantDecay`: `values[0]` while `t <= boundaries[0]`, `values[i]` while
 * `boundaries[i−1] < t <= boundaries[i]`, and the last value once `t > boundaries[last]`.
 * Unit: `'step'`. Note the convention: Keras keeps the OLD value AT the boundary step, while
 * PyTorch's {@link multiStepLR} switches AT the milestone. `base` is `values[0]`.
 *
 * @example
 * const s = piecewiseConstantDecay({ boundaries: [100000, 110000], values: [1.0, 0.5, 0.1] });
 */
export function piecewiseConstantDecay(options: PiecewiseConstantDecayOptions): Schedule {
  const W = 'piecewiseConstantDecay';
  const o = checkOptions(W, options, ['boundaries', 'values']);
  const boundaries = numArray(W, 'boundaries', o.boundaries, {
    minLength: 1,
    order: 'increasing',
    fix: 'Pass boundaries as strictly increasing step counts, e.g. [1000, 2000].',
  });
  const values = numArray(W, 'values', o.values, { ge: 0, fix: 'Pass values as learning rates >= 0.' });
  if (values.length !== boundaries.length + 1) {
    throw new OptionError(
      'values',
      `${W}: option values has length ${values.length} with ${boundaries.length} boundaries; expected values.length = boundaries.length + 1 = ${boundaries.length + 1}. Pass one value per interval (one more than boundaries).`,
    );
  }
  return makeSchedule(W, 'step', values[0] as number, { boundaries: [...boundaries], values: [...values] }, (t) => {
    let i = 0;
    while (i < boundaries.length && t > (boundaries[i] as number)) i++;
    return values[i] as number;
  });
}

/** Options of {@link polynomialDecay}. */
export interface PolynomialDecayOptions {
  /** Rate at step 0. Required, >= 0. */
  readonly initialLearningRate: number;
  /** Steps to reach `endLearningRate`. Required, > 0. */
  readonly decaySteps: number;
  /** Final rate. Default 1e-4; >= 0. */
  readonly endLearningRate?: number;
  /** Power of the polynomial. Default 1; >= 0. */
  readonly power?: number;
  /** Restart with a longer period instead of staying at the end. Default false. */
  readonly cycle?: boolean;
}

/**
 * Keras `PolynomialDecay`:
 * `lr_t = (initialLearningRate − endLearningRate) · (1 − t'/D)^power + endLearningRate` where,
 * without `cycle`, `t' = min(t, decaySteps)` and `D = decaySteps`; with `cycle`, `t' = t` and
 * `D = decaySteps · max(1, ⌈t/decaySteps⌉)` (Keras: multiplier 1 at t = 0). Unit: `'step'`.
 *
 * @example
 * const s = polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10000, endLearningRate: 0.01, power: 0.5 });
 */
export function polynomialDecay(options: PolynomialDecayOptions): Schedule {
  const W = 'polynomialDecay';
  const o = checkOptions(W, options, ['initialLearningRate', 'decaySteps', 'endLearningRate', 'power', 'cycle']);
  const lr0 = num(W, 'initialLearningRate', o.initialLearningRate, ILR);
  const decaySteps = num(W, 'decaySteps', o.decaySteps, { gt: 0, fix: 'Pass decaySteps > 0 (Keras requires decay_steps > 0).' });
  const end = num(W, 'endLearningRate', o.endLearningRate, { default: 1e-4, ge: 0 });
  const power = num(W, 'power', o.power, { default: 1, ge: 0 });
  const cycle = bool(W, 'cycle', o.cycle, false);
  return makeSchedule(W, 'step', lr0, { initialLearningRate: lr0, decaySteps, endLearningRate: end, power, cycle }, (t) => {
    let step = t;
    let d = decaySteps;
    if (cycle) {
      d = decaySteps * (t === 0 ? 1 : Math.ceil(t / decaySteps));
    } else {
      step = Math.min(t, decaySteps);
    }
    return (lr0 - end) * (1 - step / d) ** power + end;
  });
}

/** Options of {@link cosineDecay}. */
export interface CosineDecayOptions {
  /** Rate at step 0 (the warm-up start when `warmupTarget` is given). Required, >= 0. */
  readonly initialLearningRate: number;
  /** Steps of the cosine decay (after warm-up). Required, > 0. */
  readonly decaySteps: number;
  /** Floor as a fraction of the decay's starting rate. Default 0; in [0, 1]. */
  readonly alpha?: number;
  /** Rate reached at the end of warm-up; omit to skip warm-up (Keras `None`). >= 0. */
  readonly warmupTarget?: number;
  /** Steps of linear warm-up. Default 0; >= 0. */
  readonly warmupSteps?: number;
}

/**
 * Keras `CosineDecay` with optional linear warm-up. Unit: `'step'`.
 *
 * Without `warmupTarget`: `lr_t = initialLearningRate · ((1 − alpha)·(1 + cos(π·min(t, D)/D))/2 + alpha)`
 * with `D = decaySteps`. With `warmupTarget = W` and `warmupSteps = w`, after clamping
 * `t ← min(t, w + D)`: for `t < w`, `lr_t = initialLearningRate + (W − initialLearningRate)·t/w`;
 * otherwise the cosine above from `W` with `t − w` in place of `t`.
 *
 * It clamps at the floor after the decay (PyTorch's {@link cosineAnnealingLR} instead rises again).
 *
 * @example
 * const s = cosineDecay({ initialLearningRate: 0, decaySteps: 1000, warmupTarget: 0.1, warmupSteps: 1000 });
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const W = 'cosineDecay';
  const o = checkOptions(W, options, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps']);
  const lr0 = num(W, 'initialLearningRate', o.initialLearningRate, ILR);
  const decaySteps = num(W, 'decaySteps', o.decaySteps, { gt: 0, fix: 'Pass decaySteps > 0 (Keras requires decay_steps > 0).' });
  const alpha = num(W, 'alpha', o.alpha, { default: 0, ge: 0, le: 1 });
  const warmupTarget = o.warmupTarget === undefined ? undefined : num(W, 'warmupTarget', o.warmupTarget, { ge: 0 });
  const warmupSteps = num(W, 'warmupSteps', o.warmupSteps, { default: 0, ge: 0 });
  const decay = (step: number, from: number) => {
    const cosineDecayed = 0.5 * (1 + Math.cos(Math.PI * (step / decaySteps)));
    return from * ((1 - alpha) * cosineDecayed + alpha);
  };
  const config = { initialLearningRate: lr0, decaySteps, alpha, warmupTarget: warmupTarget ?? null, warmupSteps };
  return makeSchedule(W, 'step', lr0, config, (t) => {
    if (warmupTarget === undefined) return decay(Math.min(t, decaySteps), lr0);
    const s = Math.min(t, decaySteps + warmupSteps);
    if (s < warmupSteps) return (warmupTarget - lr0) * (s / warmupSteps) + lr0;
    return decay(s - warmupSteps, warmupTarget);
  });
}

/** Options of {@link cosineDecayRestarts}. */
export interface CosineDecayRestartsOptions {
  /** Peak of the first period. Required, >= 0. */
  readonly initialLearningRate: number;
  /** Steps of the first period. Required, > 0. */
  readonly firstDecaySteps: number;
  /** Each period is `tMul` times longer than the previous. Default 2; > 0, need not be an integer. */
  readonly tMul?: number;
  /** Each period's peak is `mMul` times the previous. Default 1; >= 0. */
  readonly mMul?: number;
  /** Floor as a fraction of `initialLearningRate`. Default 0; in [0, 1]. */
  readonly alpha?: number;
}

/**
 * Keras `CosineDecayRestarts` (SGDR). Unit: `'step'`.
 *
 * With `f = t / firstDecaySteps`: if `tMul = 1`, `i = ⌊f⌋` and `x = f − i`; otherwise
 * `i = ⌊log(1 − f(1 − tMul)) / log(tMul)⌋`, `x = (f − (1 − tMul^i)/(1 − tMul)) / tMul^i`. Then
 * `lr_t = initialLearningRate · ((1 − alpha) · mMul^i · (1 + cos(π·x))/2 + alpha)`.
 *
 * Divergences from PyTorch {@link cosineAnnealingWarmRestarts}: `tMul` may be fractional, peaks
 * shrink by `mMul` per restart, and the floor `alpha` is relative to `initialLearningRate` (and
 * does not shrink with `mMul`). Exactly at a restart, where `log` can round `i` one period short,
 * `i` is corrected so the new period starts at its peak. With `tMul < 1` the periods sum to
 * `firstDecaySteps / (1 − tMul)`; Keras returns NaN from there on, this throws an OptionError
 * naming `t`.
 *
 * @example
 * const s = cosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 1000, mMul: 0.9 });
 */
export function cosineDecayRestarts(options: CosineDecayRestartsOptions): Schedule {
  const W = 'cosineDecayRestarts';
  const o = checkOptions(W, options, ['initialLearningRate', 'firstDecaySteps', 'tMul', 'mMul', 'alpha']);
  const lr0 = num(W, 'initialLearningRate', o.initialLearningRate, ILR);
  const first = num(W, 'firstDecaySteps', o.firstDecaySteps, {
    gt: 0,
    fix: 'Pass firstDecaySteps > 0 (the number of steps of the first cosine period).',
  });
  const tMul = num(W, 'tMul', o.tMul, { default: 2, gt: 0 });
  const mMul = num(W, 'mMul', o.mMul, { default: 1, ge: 0 });
  const alpha = num(W, 'alpha', o.alpha, { default: 0, ge: 0, le: 1 });
  const sumR = (i: number) => (1 - tMul ** i) / (1 - tMul);
  return makeSchedule(W, 'step', lr0, { initialLearningRate: lr0, firstDecaySteps: first, tMul, mMul, alpha }, (t) => {
    const f = t / first;
    let i: number;
    let x: number;
    if (tMul === 1) {
      i = Math.floor(f);
      x = f - i;
    } else {
      const arg = 1 - f * (1 - tMul);
      if (!(arg > 0)) {
        throw new OptionError(
          't',
          `${W}: t = ${t}; expected t < firstDecaySteps / (1 − tMul) = ${first / (1 - tMul)} (with tMul = ${tMul} < 1 the periods shrink and end there). Use tMul >= 1 to keep restarting.`,
        );
      }
      i = Math.floor(Math.log(arg) / Math.log(tMul));
      // log() may land one period off exactly at a restart: correct against the exact partial sums.
      while (i > 0 && sumR(i) > f) i--;
      while (sumR(i + 1) <= f) i++;
      x = (f - sumR(i)) / tMul ** i;
    }
    const cosineDecayed = 0.5 * mMul ** i * (1 + Math.cos(Math.PI * x));
    return lr0 * ((1 - alpha) * cosineDecayed + alpha);
  });
}
