/**
 * Validation of the plain-data model spec shared by `fitInWorker` and `randomSearch`'s `spec`
 * trials (in process and in workers), so both paths accept and refuse exactly the same keys.
 * Depends on nothing but the error classes: the main bundle imports it without the worker code.
 * @internal
 */
import { OptionError } from '../errors/index.js';
import type { TrialFitOptions } from '../tuning/trainer.js';
import type { WorkerModelSpec } from './index.js';

/** Keys of a model spec (`WorkerModelSpec`): the `Sequential` constructor options plus `compile`'s. */
export const MODEL_SPEC_KEYS = ['inputShape', 'layers', 'seed', 'optimizer', 'loss', 'weights'] as const;

/** Keys of a trial spec returned by `randomSearch`'s `spec(config, ctx)`. */
export const TRIAL_SPEC_KEYS = ['model', 'fit'] as const;

/**
 * Fit options a trial spec may set (`TrialFitOptions`): `fitInWorker`'s serializable options minus
 * what the search or the runner controls ({@link TRIAL_RESERVED_FIT_KEYS}).
 */
export const TRIAL_FIT_KEYS = [
  'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'sampleWeight', 'classWeight',
  'schedule', 'terminateOnNaN', 'reduceLROnPlateau',
] as const;

/** Fit options that the search (`budget`) or the runner sets; a trial spec that sets them is refused. */
export const TRIAL_RESERVED_FIT_KEYS = ['epochs', 'initialEpoch', 'earlyStopping', 'callbacks', 'worker'] as const;

// compile-time: the key lists above are exactly the keys of the public types
type Same<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { onlyLeft: Exclude<A, B>; onlyRight: Exclude<B, A> };
const modelKeysMatch: Same<(typeof MODEL_SPEC_KEYS)[number], keyof WorkerModelSpec> = true;
const fitKeysMatch: Same<(typeof TRIAL_FIT_KEYS)[number], keyof TrialFitOptions> = true;
void modelKeysMatch;
void fitKeysMatch;

/**
 * Refuses keys of `obj` that are not in `valid` with an {@link OptionError} whose `option` is the
 * key and whose message lists the valid keys. Own enumerable string keys only (what a spread copies).
 */
export function checkKeys(obj: object, valid: readonly string[], where: string, what: string): void {
  for (const k of Object.keys(obj)) {
    if (!valid.includes(k)) throw new OptionError(k, `${where}: unknown ${what} key '${k}'; valid keys are ${valid.join(', ')}.`);
  }
}

/**
 * Checks a model spec as data, before anything is built or any worker starts: an object with only
 * {@link MODEL_SPEC_KEYS}, `layers` an array, `optimizer` an optimizer config, `weights` (when
 * given) `getWeights()`-shaped. The rest (layer options, the loss, shapes) is checked where the
 * model is built, by the same code as `new Sequential` / `compile`.
 * @throws OptionError naming the offending key.
 */
export function checkModelSpec(spec: unknown, where: string, what = 'spec'): void {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new OptionError('spec', `${where}: ${what} = ${describe(spec)}; pass a model spec { inputShape, layers, optimizer, loss }.`);
  }
  checkKeys(spec, MODEL_SPEC_KEYS, where, what);
  const s = spec as Record<string, unknown>;
  if (!Array.isArray(s.layers)) throw new OptionError('layers', `${where}: ${what}.layers must be an array of layer configs (dense(...), dropout(rate), ...).`);
  const opt = s.optimizer as { type?: unknown } | undefined;
  if (!opt || typeof opt !== 'object' || typeof opt.type !== 'string') {
    throw new OptionError('optimizer', `${where}: ${what}.optimizer = ${describe(s.optimizer)}; build one with sgd(), adam(), adamw(), rmsprop() or adagrad().`);
  }
  const w = s.weights;
  if (w !== undefined && (!Array.isArray(w) || !w.every((t) => t && (t as { data?: unknown }).data instanceof Float32Array))) {
    throw new OptionError('weights', `${where}: ${what}.weights must be the array getWeights() returns ({ data: Float32Array } per tensor).`);
  }
}

/**
 * Checks a trial spec (`{ model, fit? }`) returned by `randomSearch`'s `spec`: only `model` and
 * `fit`, the model as {@link checkModelSpec}, fit keys from {@link TRIAL_FIT_KEYS}; the keys the
 * search or runner sets ({@link TRIAL_RESERVED_FIT_KEYS}) are refused with a message saying so.
 */
export function checkTrialSpec(s: unknown, where: string): void {
  if (!s || typeof s !== 'object' || Array.isArray(s) || !(s as { model?: unknown }).model || typeof (s as { model?: unknown }).model !== 'object') {
    throw new OptionError('spec', `${where}: spec returned ${describe(s)}; return { model: { inputShape, layers, optimizer, loss }, fit? }.`);
  }
  checkKeys(s, TRIAL_SPEC_KEYS, where, 'spec result');
  const { model, fit } = s as { model: unknown; fit?: unknown };
  checkModelSpec(model, where, 'spec model');
  if (fit === undefined) return;
  if (typeof fit !== 'object' || fit === null || Array.isArray(fit)) throw new OptionError('spec', `${where}: spec returned fit = ${describe(fit)}; expected an object of fit options.`);
  for (const k of Object.keys(fit)) {
    if ((TRIAL_RESERVED_FIT_KEYS as readonly string[]).includes(k) && (fit as Record<string, unknown>)[k] !== undefined) {
      throw new OptionError(k, `${where}: spec fit.${k} is set by the search (budget.epochs, budget.earlyStopping) or the runner; remove it.`);
    }
  }
  checkKeys(fit, [...TRIAL_FIT_KEYS, ...TRIAL_RESERVED_FIT_KEYS], where, 'spec fit');
}

function describe(v: unknown): string {
  if (v === null || v === undefined || typeof v !== 'object') return typeof v === 'string' ? JSON.stringify(v) : String(v);
  return Array.isArray(v) ? `an array of ${v.length}` : `{ ${Object.keys(v).slice(0, 8).join(', ')} }`;
}

/** Default of `worker.startTimeoutMs` (fitInWorker, workerRunner): 30 s. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** Validates `worker.startTimeoutMs` (a number of ms > 0; `Infinity` disables it). @internal */
export function checkStartTimeout(v: unknown, where: string): number {
  if (v === undefined) return DEFAULT_START_TIMEOUT_MS;
  if (typeof v !== 'number' || !(v > 0)) {
    throw new OptionError('worker.startTimeoutMs', `${where}: worker.startTimeoutMs = ${String(v)}; expected a number of ms > 0 (default ${DEFAULT_START_TIMEOUT_MS}; Infinity waits forever).`);
  }
  return v;
}
