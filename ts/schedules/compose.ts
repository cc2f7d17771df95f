/**
 * Composition: warm-up, sequences and products of schedules. All units must agree.
 */
import { OptionError } from '../errors/index.js';
import { checkOptions, fmt, num, numArray } from '../errors/validate.js';
import { isSchedule, makeSchedule, type Schedule } from './schedule.js';

function requireSchedules(where: string, option: string, list: unknown, min: number): Schedule[] {
  if (!Array.isArray(list) || list.length < min) {
    throw new OptionError(
      option,
      `${where}: option ${option} = ${fmt(list)}; expected an array of at least ${min} schedule(s). Pass schedules built by this module, e.g. [linearLR({...}), cosineAnnealingLR({...})].`,
    );
  }
  list.forEach((s, i) => {
    if (!isSchedule(s)) {
      throw new OptionError(
        option,
        `${where}: option ${option}[${i}] = ${fmt(s)}; expected a schedule (a function with unit, sample and toJSON). Wrap plain functions with manual(fn) or lambdaLR({ lr, lrLambda }).`,
      );
    }
  });
  const schedules = list as Schedule[];
  const unit = (schedules[0] as Schedule).unit;
  schedules.forEach((s, i) => {
    if (s.unit !== unit) {
      throw new OptionError(
        option,
        `${where}: option ${option}[${i}] (${s.name}) counts ${s.unit}s but ${option}[0] (${(schedules[0] as Schedule).name}) counts ${unit}s; expected one unit for all. Convert one of them (e.g. use a step-based schedule and multiply epoch lengths by steps per epoch).`,
      );
    }
  });
  return schedules;
}

/** Options of {@link warmup}. */
export interface WarmupOptions {
  /** Length of the warm-up, in the unit of `then`. Required, >= 0. */
  readonly steps: number;
  /** Fraction of `then(0)` at t = 0. Default 0; in [0, 1]. */
  readonly startFactor?: number;
}

/**
 * Linear warm-up, then `then` with its counter restarted:
 * `lr_t = then(0) · (startFactor + (1 − startFactor) · t/steps)` for `t < steps`, else
 * `then(t − steps)`. Same unit as `then` (`steps` counts that unit). Equivalent to
 * `sequentialLR([ramp, then], [steps])`. The default `startFactor = 0` starts from 0, as the
 * linear warm-ups of Goyal et al. and Hugging Face do; PyTorch's {@link linearLR} defaults to 1/3.
 *
 * @example
 * const s = warmup({ steps: 500 }, cosineDecay({ initialLearningRate: 1e-3, decaySteps: 10000 }));
 */
export function warmup(options: WarmupOptions, then: Schedule): Schedule {
  const W = 'warmup';
  const o = checkOptions(W, options, ['steps', 'startFactor']);
  const steps = num(W, 'steps', o.steps, { ge: 0, fix: 'Pass steps >= 0, the length of the warm-up in the unit of the schedule that follows.' });
  const startFactor = num(W, 'startFactor', o.startFactor, { default: 0, ge: 0, le: 1 });
  const [next] = requireSchedules(W, 'then', [then], 1) as [Schedule];
  const peak = next(0);
  return makeSchedule(W, next.unit, next.base, { steps, startFactor, then: next.toJSON() }, (t) =>
    t < steps ? peak * (startFactor + ((1 - startFactor) * t) / steps) : next(t - steps),
  );
}

/**
 * PyTorch `SequentialLR` / optax `join_schedules`: schedule `i` runs from `milestones[i−1]`
 * (or 0) with its own counter restarted at 0:
 * `lr_t = schedules[i](t − milestones[i−1])` where `i` = number of milestones `<= t`.
 * `milestones` must be strictly increasing, > 0, and one fewer than `schedules`. `base` is
 * `schedules[0].base`.
 *
 * @example
 * const s = sequentialLR(
 *   [linearLR({ lr: 0.1, startFactor: 0.1, totalIters: 5 }), cosineAnnealingLR({ lr: 0.1, tMax: 95 })],
 *   [5],
 * );
 */
export function sequentialLR(schedules: readonly Schedule[], milestones: readonly number[]): Schedule {
  const W = 'sequentialLR';
  const list = requireSchedules(W, 'schedules', schedules, 1);
  const ms = numArray(W, 'milestones', milestones, {
    gt: 0,
    order: 'increasing',
    fix: 'Pass milestones as strictly increasing counts > 0, one fewer than schedules, e.g. [5].',
  });
  if (ms.length !== list.length - 1) {
    throw new OptionError(
      'milestones',
      `${W}: option milestones has ${ms.length} entries for ${list.length} schedules; expected milestones.length = schedules.length − 1 = ${list.length - 1}. Pass one milestone between each pair of schedules.`,
    );
  }
  const first = list[0] as Schedule;
  return makeSchedule(W, first.unit, first.base, { schedules: list.map((s) => s.toJSON()), milestones: [...ms] }, (t) => {
    let i = 0;
    while (i < ms.length && (ms[i] as number) <= t) i++;
    const offset = i === 0 ? 0 : (ms[i - 1] as number);
    return (list[i] as Schedule)(t - offset);
  });
}

/**
 * Product of schedules, like PyTorch `ChainedScheduler` over chainable schedulers:
 * `lr_t = first(t) · Π_k (others_k(t) / others_k.base)` — the first schedule gives the rate, every
 * other one contributes only its multiplicative factor relative to its own `base` (its `lr`,
 * `initialLearningRate`, …), so their own base rates do not matter. Each other schedule needs
 * `base > 0`. Units must agree.
 *
 * @example
 * // 0.05 · 0.9^t, times 0.2 for t < 4, times 0.1^⌊t/3⌋ (PyTorch test_chained_lr4)
 * const s = chained(exponentialLR({ lr: 0.05, gamma: 0.9 }), constantLR({ lr: 1, factor: 0.2, totalIters: 4 }),
 *   stepLR({ lr: 1, stepSize: 3 }));
 */
export function chained(first: Schedule, ...others: Schedule[]): Schedule {
  const W = 'chained';
  const list = requireSchedules(W, 'schedules', [first, ...others], 1);
  list.slice(1).forEach((s, i) => {
    if (!(s.base > 0)) {
      throw new OptionError(
        'schedules',
        `${W}: option schedules[${i + 1}] (${s.name}) has base ${s.base}; expected base > 0 (its factor is s(t) / base). Build it with a positive base rate, e.g. lr: 1.`,
      );
    }
  });
  const head = list[0] as Schedule;
  const rest = list.slice(1);
  return makeSchedule(W, head.unit, head.base, { schedules: list.map((s) => s.toJSON()) }, (t) => {
    let lr = head(t);
    for (const s of rest) lr *= s(t) / s.base;
    return lr;
  });
}
