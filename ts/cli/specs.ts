/**
 * Parsing of the CLI's compact option strings: `--schedule cosine:tMax=20`,
 * `--early-stopping patience=5,minDelta=0.001`, `--layers 64,32`.
 * @internal
 */
import { adagrad, adam, adamw, amsgrad, rmsprop, sgd, type OptimizerConfig } from '../optimizers/index.js';
import { scheduleFromJSON } from '../schedules/json.js';
import type { Schedule } from '../schedules/index.js';
import type { EarlyStoppingOptions } from '../callbacks/index.js';
import { CliError } from './errors.js';

/** `k=v,k=v` → object; numbers and true/false are converted, `a/b/c` becomes a list of numbers. */
export function parsePairs(text: string, flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (text.trim() === '') return out;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError(`${flag}: '${part}' is not key=value (e.g. ${flag === '--schedule' ? 'cosine:tMax=20' : 'patience=5'}).`);
    const k = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    out[k] = value(raw);
  }
  return out;
}

function value(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw.includes('/')) {
    const list = raw.split('/').map(Number);
    if (list.every(Number.isFinite)) return list;
  }
  const n = Number(raw);
  return raw !== '' && Number.isFinite(n) ? n : raw;
}

/** Hidden layer sizes: `64,32` (empty string: no hidden layer). */
export function parseLayers(text: string): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new CliError(`--layers: '${s}' is not a positive integer; give hidden layer sizes like 64,32.`);
    return n;
  });
}

const OPTIMIZERS: Record<string, (lr: number | undefined) => OptimizerConfig> = {
  sgd: (lr) => sgd(lr === undefined ? { lr: 0.01 } : { lr }),
  momentum: (lr) => sgd({ lr: lr ?? 0.01, momentum: 0.9, nesterov: true }),
  adam: (lr) => adam(lr === undefined ? {} : { lr }),
  adamw: (lr) => adamw(lr === undefined ? {} : { lr }),
  amsgrad: (lr) => amsgrad(lr === undefined ? {} : { lr }),
  rmsprop: (lr) => rmsprop(lr === undefined ? { lr: 1e-3 } : { lr }),
  adagrad: (lr) => adagrad(lr === undefined ? {} : { lr }),
};

/** The optimizer named by `--optimizer` with `--lr` (defaults: PyTorch's, except sgd 0.01 and rmsprop 1e-3). */
export function parseOptimizer(name: string, lr: number | undefined): OptimizerConfig {
  const f = OPTIMIZERS[name];
  if (!f) throw new CliError(`--optimizer: '${name}' is unknown; use one of ${Object.keys(OPTIMIZERS).join(', ')}.`);
  return f(lr);
}

const ALIASES: Record<string, string> = {
  cosine: 'cosineAnnealingLR',
  'cosine-restarts': 'cosineAnnealingWarmRestarts',
  step: 'stepLR',
  multistep: 'multiStepLR',
  exponential: 'exponentialLR',
  exp: 'exponentialLR',
  onecycle: 'oneCycleLR',
  'one-cycle': 'oneCycleLR',
  cyclic: 'cyclicLR',
  linear: 'linearLR',
  poly: 'polynomialLR',
  polynomial: 'polynomialLR',
  constant: 'constant',
  'inverse-time': 'inverseTimeEpochDecay',
};
const TAKES_LR = new Set(['stepLR', 'multiStepLR', 'exponentialLR', 'cosineAnnealingLR', 'cosineAnnealingWarmRestarts', 'linearLR', 'polynomialLR', 'constantLR', 'constant', 'inverseTimeEpochDecay', 'exponentialEpochDecay', 'inverseSqrtDecay', 'stepDecay']);
const TAKES_INITIAL = new Set(['exponentialDecay', 'inverseTimeDecay', 'polynomialDecay', 'cosineDecay', 'cosineDecayRestarts']);

/**
 * `name[:k=v,...]`: a schedule factory (or an alias: cosine, step, multistep, exponential,
 * onecycle, cyclic, linear, poly, constant, cosine-restarts, inverse-time) with its options; the
 * base rate defaults to the optimizer's `lr`, one-cycle's `totalSteps` to the whole run.
 */
export function parseSchedule(text: string, lr: number, epochs: number, stepsPerEpoch: number): Schedule {
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  const kind = ALIASES[name] ?? name;
  const o = parsePairs(colon < 0 ? '' : text.slice(colon + 1), '--schedule');
  if (TAKES_LR.has(kind)) o.lr ??= lr;
  else if (TAKES_INITIAL.has(kind)) o.initialLearningRate ??= lr;
  else if (kind === 'oneCycleLR') {
    o.maxLr ??= lr;
    if (o.totalSteps === undefined && o.epochs === undefined) o.totalSteps = epochs * stepsPerEpoch;
  } else if (kind === 'cyclicLR') {
    o.maxLr ??= lr;
    o.baseLr ??= (o.maxLr as number) / 10;
  }
  try {
    return scheduleFromJSON({ kind, ...o });
  } catch (e) {
    const msg = (e as Error).message;
    if (/is not a schedule this version knows/.test(msg)) {
      throw new CliError(`--schedule: '${name}' is unknown; use one of ${Object.keys(ALIASES).join(', ')} or a schedule factory name such as cosineAnnealingLR.`);
    }
    throw new CliError(`--schedule ${text}: ${msg}`);
  }
}

/** `patience=5,minDelta=0.001,...`; restoreBestWeights defaults to true in the CLI. */
export function parseEarlyStopping(text: string, hasValidation: boolean): EarlyStoppingOptions {
  const o = parsePairs(text, '--early-stopping') as EarlyStoppingOptions;
  return { monitor: hasValidation ? 'valLoss' : 'loss', restoreBestWeights: true, ...o };
}
