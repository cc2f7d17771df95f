/**
 * The learning-rate forms of the project's source documents, in their own terms (`lr` is the
 * initial rate `lr0`).
 */
import { OptionError } from '../errors/index.js';
import { checkOptions, fmt, num, numArray, oneOf } from '../errors/validate.js';
import { checkUserValue, makeSchedule, type Schedule, type ScheduleUnit } from './schedule.js';

const LR = { ge: 0, fix: 'Pass lr as the initial learning rate, a finite number >= 0 (e.g. 0.1).' } as const;
const UNITS = ['epoch', 'step'] as const;

/** Options of {@link constant}. */
export interface ConstantOptions {
  /** The learning rate. Required, >= 0. */
  readonly lr: number;
  /** What `t` counts. Default `'epoch'`. */
  readonly unit?: ScheduleUnit;
}

/**
 * Constant learning rate: `lr_t = lr`.
 *
 * @example
 * const s = constant({ lr: 0.01 });
 */
export function constant(options: ConstantOptions): Schedule {
  const W = 'constant';
  const o = checkOptions(W, options, ['lr', 'unit']);
  const lr = num(W, 'lr', o.lr, LR);
  const unit = oneOf(W, 'unit', o.unit, UNITS, 'epoch');
  return makeSchedule(W, unit, lr, { lr }, () => lr);
}

/** Options of {@link inverseTimeEpochDecay}. */
export interface InverseTimeEpochDecayOptions {
  /** Initial learning rate `lr0`. Required, >= 0. */
  readonly lr: number;
  /** Decay rate per epoch. Required, >= 0. */
  readonly decayRate: number;
}

/**
 * Inverse-time decay per epoch: `lr_t = lr0 / (1 + decayRate · epoch)`. Unit: `'epoch'`.
 * (Keras's step-based form with `decaySteps` and `staircase` is {@link inverseTimeDecay}.)
 *
 * @example
 * const s = inverseTimeEpochDecay({ lr: 0.1, decayRate: 1 }); // 0.1, 0.05, 0.0333…, 0.025
 */
export function inverseTimeEpochDecay(options: InverseTimeEpochDecayOptions): Schedule {
  const W = 'inverseTimeEpochDecay';
  const o = checkOptions(W, options, ['lr', 'decayRate']);
  const lr = num(W, 'lr', o.lr, LR);
  const decayRate = num(W, 'decayRate', o.decayRate, { ge: 0, fix: 'Pass decayRate >= 0, e.g. 1 (halves the rate after one epoch).' });
  return makeSchedule(W, 'epoch', lr, { lr, decayRate }, (t) => lr / (1 + decayRate * t));
}

/** Options of {@link exponentialEpochDecay}. */
export interface ExponentialEpochDecayOptions {
  /** Initial learning rate `lr0`. Required, >= 0. */
  readonly lr: number;
  /** Factor per epoch. Default 0.95; > 0. */
  readonly base?: number;
}

/**
 * Exponential decay per epoch: `lr_t = base^epoch · lr0` (default `0.95^epoch · lr0`). Unit: `'epoch'`.
 * Same curve as PyTorch {@link exponentialLR} with `gamma = base`.
 *
 * @example
 * const s = exponentialEpochDecay({ lr: 0.1 }); // 0.1, 0.095, 0.09025, …
 */
export function exponentialEpochDecay(options: ExponentialEpochDecayOptions): Schedule {
  const W = 'exponentialEpochDecay';
  const o = checkOptions(W, options, ['lr', 'base']);
  const lr = num(W, 'lr', o.lr, LR);
  const base = num(W, 'base', o.base, { default: 0.95, gt: 0 });
  return makeSchedule(W, 'epoch', lr, { lr, base }, (t) => base ** t * lr);
}

/** Options of {@link inverseSqrtDecay}. */
export interface InverseSqrtDecayOptions {
  /** Initial learning rate `lr0`. Required, >= 0. */
  readonly lr: number;
  /** Constant `k`. Default 1; > 0. */
  readonly k?: number;
  /** `'epoch'` for `k/√epoch · lr0`, `'step'` for `k/√t · lr0` per mini-batch. Default `'epoch'`. */
  readonly unit?: ScheduleUnit;
}

/**
 * Inverse square-root decay: `lr_t = k / √(t + 1) · lr0`.
 *
 * The source form `k/√epoch · lr0` (or `k/√t · lr0` per mini-batch) counts from 1; our counter is
 * 0-based, so the formula uses `t + 1`: the first epoch/step (t = 0) gets `k · lr0`, and there is no
 * division by zero.
 *
 * @example
 * const perBatch = inverseSqrtDecay({ lr: 0.1, unit: 'step' }); // 0.1, 0.0707…, 0.0577…, 0.05
 */
export function inverseSqrtDecay(options: InverseSqrtDecayOptions): Schedule {
  const W = 'inverseSqrtDecay';
  const o = checkOptions(W, options, ['lr', 'k', 'unit']);
  const lr = num(W, 'lr', o.lr, LR);
  const k = num(W, 'k', o.k, { default: 1, gt: 0 });
  const unit = oneOf(W, 'unit', o.unit, UNITS, 'epoch');
  return makeSchedule(W, unit, lr, { lr, k }, (t) => (k / Math.sqrt(t + 1)) * lr);
}

/** Options of {@link stepDecay}. */
export interface StepDecayOptions {
  /** Initial learning rate `lr0`. Required, >= 0. */
  readonly lr: number;
  /** Units between drops. Required, > 0. */
  readonly dropEvery: number;
  /** Factor per drop. Default 0.5 (halving); in (0, 1]. */
  readonly factor?: number;
  /** What `t` counts. Default `'epoch'`. */
  readonly unit?: ScheduleUnit;
}

/**
 * Discrete staircase decay (halving by default): `lr_t = lr0 · factor^⌊t / dropEvery⌋`.
 *
 * @example
 * const s = stepDecay({ lr: 0.1, dropEvery: 10 }); // 0.1 for epochs 0–9, 0.05 for 10–19, 0.025, …
 */
export function stepDecay(options: StepDecayOptions): Schedule {
  const W = 'stepDecay';
  const o = checkOptions(W, options, ['lr', 'dropEvery', 'factor', 'unit']);
  const lr = num(W, 'lr', o.lr, LR);
  const dropEvery = num(W, 'dropEvery', o.dropEvery, { gt: 0, fix: 'Pass dropEvery > 0 (the number of epochs between drops, e.g. 10).' });
  const factor = num(W, 'factor', o.factor, { default: 0.5, gt: 0, le: 1 });
  const unit = oneOf(W, 'unit', o.unit, UNITS, 'epoch');
  return makeSchedule(W, unit, lr, { lr, dropEvery, factor }, (t) => lr * factor ** Math.floor(t / dropEvery));
}

/** Options of {@link manual}. */
export interface ManualOptions {
  /** What `t` counts. Default `'epoch'`. */
  readonly unit?: ScheduleUnit;
}

/**
 * A manual schedule: either a table or your own function.
 *
 * - Table `values` (each >= 0, at least one): `lr_t = values[min(⌊t⌋, values.length − 1)]` — one
 *   entry per epoch (or step), the last one held forever.
 * - Function `fn`: `lr_t = fn(t)`; it must return a finite number >= 0 (checked on every call).
 *   `toJSON()` records it as `'<function>'`.
 *
 * `base` is the value at t = 0.
 *
 * @example
 * const table = manual([0.1, 0.1, 0.05, 0.01]);
 * const custom = manual((epoch) => (epoch < 5 ? 0.1 : 0.01), { unit: 'epoch' });
 */
export function manual(values: readonly number[] | ((t: number) => number), options?: ManualOptions): Schedule {
  const W = 'manual';
  const o = checkOptions(W, options, ['unit']);
  const unit = oneOf(W, 'unit', o.unit, UNITS, 'epoch');
  if (typeof values === 'function') {
    const f = values;
    const call = (t: number): number => {
      const v = checkUserValue(W, 'fn', t, f(t));
      if (v < 0) {
        throw new OptionError('fn', `${W}: fn(${t}) returned ${fmt(v)}; expected a learning rate >= 0. Make fn return non-negative rates.`);
      }
      return v;
    };
    return makeSchedule(W, unit, call(0), { fn: '<function>' }, call);
  }
  const table = numArray(W, 'values', values, {
    minLength: 1,
    ge: 0,
    fix: 'Pass a non-empty array of learning rates >= 0 (one per epoch), or a function of t.',
  });
  return makeSchedule(W, unit, table[0] as number, { values: [...table] }, (t) => table[Math.min(Math.floor(t), table.length - 1)] as number);
}
