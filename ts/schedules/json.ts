/**
 * Reviving schedules and plateau reducers from their `toJSON()` configuration.
 */
import { OptionError } from '../errors/index.js';
import { fmt } from '../errors/validate.js';
import { constant, exponentialEpochDecay, inverseSqrtDecay, inverseTimeEpochDecay, manual, stepDecay } from './basic.js';
import { chained, sequentialLR, warmup } from './compose.js';
import {
  cosineDecay,
  cosineDecayRestarts,
  exponentialDecay,
  inverseTimeDecay,
  piecewiseConstantDecay,
  polynomialDecay,
} from './keras.js';
import { kerasReduceLROnPlateau, reduceLROnPlateau, type Plateau } from './plateau.js';
import {
  constantLR,
  cosineAnnealingLR,
  cosineAnnealingWarmRestarts,
  cyclicLR,
  exponentialLR,
  linearLR,
  multiStepLR,
  oneCycleLR,
  polynomialLR,
  stepLR,
} from './pytorch.js';
import type { Schedule } from './schedule.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFactory = (options: any) => Schedule;

const SIMPLE: Record<string, AnyFactory> = {
  stepLR,
  multiStepLR,
  exponentialLR,
  cosineAnnealingLR,
  cosineAnnealingWarmRestarts,
  cyclicLR,
  oneCycleLR,
  linearLR,
  polynomialLR,
  constantLR,
  exponentialDecay,
  inverseTimeDecay,
  piecewiseConstantDecay,
  polynomialDecay,
  cosineDecay,
  cosineDecayRestarts,
  inverseTimeEpochDecay,
  exponentialEpochDecay,
};
const WITH_UNIT: Record<string, AnyFactory> = { constant, inverseSqrtDecay, stepDecay };

function configError(what: string): never {
  throw new OptionError(
    'config',
    `scheduleFromJSON: config ${what}; expected the object returned by schedule.toJSON() (kind, unit and options). Pass schedule.toJSON() or its JSON round trip.`,
  );
}

/**
 * Rebuilds a schedule from `schedule.toJSON()` (or its `JSON.parse(JSON.stringify(...))` copy):
 * `scheduleFromJSON(s.toJSON())(t) === s(t)` for every `t`. Options are validated again. Schedules
 * holding user functions (`lambdaLR`, `manual(fn)`, `cyclicLR` with `scaleFn`) cannot be revived:
 * that throws an OptionError naming `config`.
 *
 * @example
 * const saved = JSON.stringify(cosineAnnealingLR({ lr: 0.1, tMax: 50 }));
 * const s = scheduleFromJSON(JSON.parse(saved));
 */
export function scheduleFromJSON(config: unknown): Schedule {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) configError(`= ${fmt(config)}`);
  const { kind, unit, ...rest } = config as Record<string, unknown>;
  if (typeof kind !== 'string') configError(`.kind = ${fmt(kind)}`);
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (v === '<function>') configError(`.${k} is a user function (kind ${kind}), which JSON cannot hold; rebuild it with ${kind}({...}) in code instead`);
    if (v !== null) options[k] = v;
  }
  // configs written before momentum cycling existed did not cycle it
  if (kind === 'cyclicLR' || kind === 'oneCycleLR') options.cycleMomentum ??= false;
  const simple = Object.hasOwn(SIMPLE, kind) ? SIMPLE[kind] : undefined;
  if (simple) return simple(options);
  const withUnit = Object.hasOwn(WITH_UNIT, kind) ? WITH_UNIT[kind] : undefined;
  if (withUnit) return withUnit({ ...options, unit });
  switch (kind) {
    case 'manual':
      return manual(options.values as number[], { unit: unit as 'epoch' | 'step' });
    case 'warmup':
      return warmup({ steps: options.steps as number, startFactor: options.startFactor as number }, scheduleFromJSON(options.then));
    case 'sequentialLR':
      if (!Array.isArray(options.schedules)) configError('.schedules is not an array');
      return sequentialLR((options.schedules as unknown[]).map(scheduleFromJSON), options.milestones as number[]);
    case 'chained': {
      if (!Array.isArray(options.schedules) || options.schedules.length < 1) configError('.schedules is not a non-empty array');
      const [head, ...tail] = (options.schedules as unknown[]).map(scheduleFromJSON) as [Schedule, ...Schedule[]];
      return chained(head, ...tail);
    }
    default:
      return configError(`.kind = ${fmt(kind)} is not a schedule this version knows`);
  }
}

/**
 * Rebuilds a plateau reducer from `plateau.toJSON()`. (Its state is plain JSON already.)
 *
 * @example
 * const p = plateauFromJSON(JSON.parse(JSON.stringify(reduceLROnPlateau({ patience: 3 }))));
 */
export function plateauFromJSON(config: unknown): Plateau {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) configError(`= ${fmt(config)}`);
  const { kind, ...options } = config as Record<string, unknown>;
  if (kind === 'reduceLROnPlateau') return reduceLROnPlateau(options);
  if (kind === 'kerasReduceLROnPlateau') return kerasReduceLROnPlateau(options);
  return configError(`.kind = ${fmt(kind)} is not a plateau reducer`);
}
