/**
 * The schedule contract: a pure function of a 0-based counter that declares its unit.
 */
import { OptionError } from '../errors/index.js';
import { checkT, fmt } from '../errors/validate.js';

/** What the counter `t` counts: completed epochs, or completed optimizer steps (mini-batches). */
export type ScheduleUnit = 'epoch' | 'step';

/**
 * A schedule's configuration as plain JSON: `kind` (the factory name), `unit`, and the resolved
 * options (defaults filled in). Nested schedules appear as nested configs. Options that are
 * functions are recorded as the string `'<function>'` and cannot be revived by
 * {@link scheduleFromJSON}.
 */
export interface ScheduleConfig {
  readonly kind: string;
  readonly unit: ScheduleUnit;
  readonly [option: string]: unknown;
}

/**
 * A learning-rate schedule: `schedule(t)` is the learning rate after `t` completed units
 * (`t = 0` is the first epoch or step). Pure: the same `t` always gives the same rate, so a
 * training loop can save just `t` and resume exactly.
 */
export interface Schedule {
  (t: number): number;
  /** What `t` counts. */
  readonly unit: ScheduleUnit;
  /** The factory that built it, e.g. `'cosineAnnealingLR'`; also the legend label in plots. */
  readonly name: string;
  /**
   * The reference rate the schedule's multiplicative factor is relative to: PyTorch's initial
   * `lr` (`baseLr` for cyclicLR, `maxLr / divFactor` for oneCycleLR), Keras's
   * `initialLearningRate`. {@link chained} divides by it.
   */
  readonly base: number;
  /** `schedule(0), schedule(1), …, schedule(n - 1)` in a new Float64Array. */
  sample(n: number): Float64Array;
  /** The resolved configuration (see {@link ScheduleConfig}). */
  toJSON(): ScheduleConfig;
  /**
   * Momentum cycling (`cyclicLR` and `oneCycleLR` with `cycleMomentum`, PyTorch's
   * `cycle_momentum`): the momentum (SGD, RMSProp) or β1 (Adam family) for step `t`, which `fit`
   * writes into the optimizer before that step. Absent on schedules that leave momentum alone.
   */
  readonly momentum?: (t: number) => number;
}

/** @internal Builds a {@link Schedule} from a closed form `f`; `t` is validated before `f` sees it. */
export function makeSchedule(
  name: string,
  unit: ScheduleUnit,
  base: number,
  config: Record<string, unknown>,
  f: (t: number) => number,
  momentum?: (t: number) => number,
): Schedule {
  const schedule = (t: number): number => f(checkT(name, t));
  const frozen = Object.freeze({ kind: name, unit, ...config }) as ScheduleConfig;
  Object.defineProperty(schedule, 'name', { value: name });
  Object.defineProperties(schedule, {
    unit: { value: unit, enumerable: true },
    base: { value: base, enumerable: true },
    sample: {
      value: (n: number): Float64Array => {
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
          throw new OptionError(
            'n',
            `${name}.sample: n = ${fmt(n)}; expected a non-negative integer (how many values, t = 0 … n-1). Pass e.g. sample(100).`,
          );
        }
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = f(i);
        return out;
      },
    },
    toJSON: { value: (): ScheduleConfig => frozen },
    momentum: { value: momentum && ((t: number): number => momentum(checkT(name, t))) },
  });
  return schedule as unknown as Schedule;
}

/** @internal True when `x` looks like a {@link Schedule} built by this module. */
export function isSchedule(x: unknown): x is Schedule {
  return (
    typeof x === 'function' &&
    ((x as unknown as Schedule).unit === 'epoch' || (x as unknown as Schedule).unit === 'step') &&
    typeof (x as unknown as Schedule).sample === 'function' &&
    typeof (x as unknown as Schedule).toJSON === 'function'
  );
}

/** @internal Validates a user function's return value at `t`. */
export function checkUserValue(where: string, option: string, t: number, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new OptionError(
      option,
      `${where}: ${option}(${t}) returned ${fmt(v)}; expected a finite number. Make ${option} return a finite number for every t >= 0.`,
    );
  }
  return v;
}
