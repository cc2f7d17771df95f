/**
 * A model and its training run described as plain data — what `fitInWorker`, `randomSearch`
 * trials (in process or in workers) and the CLI train from. One place builds a model from a
 * {@link ModelSpec} and the callbacks a {@link FitSpec} describes, and checks their keys, so every
 * path accepts, refuses and trains exactly alike.
 */
import { earlyStopping, type EarlyStopping, type EarlyStoppingOptions, plateauCallback, terminateOnNaN } from '../callbacks/index.js';
import { OptionError } from '../errors/index.js';
import type { LayerConfig } from '../layers/index.js';
import { type OptimizerConfig, type OptimizerName, optimizerFromName } from '../optimizers/index.js';
import { isCustomLoss } from './custom.js';
import type { Runtime } from '../runtime/index.js';
import type { Plateau, PlateauConfig, Schedule, ScheduleConfig } from '../schedules/index.js';
import { plateauFromJSON, scheduleFromJSON } from '../schedules/json.js';
import type { Callback } from './callbacks.js';
import type { FitOptions } from './fit.js';
import { Sequential } from './sequential.js';
import type { CompileOptions } from './compile.js';
import type { CustomLoss, CustomLossFn } from './custom.js';
import { checkOptions } from '../errors/validate.js';

/** A model as plain data: the `Sequential` constructor options plus `compile`'s (what `fitInWorker` and `randomSearch` trials take). */
export interface ModelSpec {
  /** Input features per sample: `[d]` or `d`. */
  inputShape: number | readonly [number] | readonly [number, number, number];
  /** Layer configs (plain objects from `dense`, `dropout`, `batchNorm`, `activation`). */
  layers: readonly LayerConfig[];
  /** Seed of weight initialization (default 0, as `Sequential`). */
  seed?: number;
  /**
   * An optimizer config (`sgd`, `adam`, …; rebuilt in the worker from its type and options) or its
   * name as `compile` takes it (`'adam'`: the defaults; see `optimizerFromName`).
   */
  optimizer: OptimizerConfig | OptimizerName;
  /** The loss, as `compile({ loss })`, built-in only: a custom loss function cannot be sent to a worker. */
  loss: Exclude<CompileOptions['loss'], CustomLossFn | CustomLoss>;
  /** Start from these weights (e.g. `model.getWeights()`) instead of the seeded initialization. */
  weights?: readonly { data: Float32Array }[];
}

/** `FitOptions` as plain data: callbacks replaced by serializable configs (no `resumeFrom`: start from `ModelSpec.weights` instead). */
export interface FitSpec extends Omit<FitOptions, 'callbacks' | 'verbose' | 'schedule' | 'yieldEveryMs' | 'resumeFrom'> {
  /** A schedule (or its `toJSON()`); sent as JSON, so schedules holding user functions are refused. */
  schedule?: Schedule | ScheduleConfig;
  /** Early stopping, as `earlyStopping(options)` (Keras 3 semantics). Default none. */
  earlyStopping?: EarlyStoppingOptions;
  /** End cleanly on a non-finite loss (`terminateOnNaN()`); status `'nonFinite'`. Default false. */
  terminateOnNaN?: boolean;
  /** Reduce the rate on a plateau, as `plateauCallback(reducer, { monitor })`. Default none. */
  reduceLROnPlateau?: { reducer: Plateau | PlateauConfig; monitor?: string };
}

/** Fit options a `randomSearch` trial spec may set: a {@link FitSpec} minus what the search controls (epochs, early stopping). */
export type TrialFitOptions = Omit<FitSpec, 'epochs' | 'initialEpoch' | 'earlyStopping'>;

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
const modelKeysMatch: Same<(typeof MODEL_SPEC_KEYS)[number], keyof ModelSpec> = true;
const fitKeysMatch: Same<(typeof TRIAL_FIT_KEYS)[number], keyof TrialFitOptions> = true;
void modelKeysMatch;
void fitKeysMatch;

/**
 * Refuses keys of `obj` that are not in `valid` with an {@link OptionError} whose `option` is the
 * key and whose message lists the valid keys. Own enumerable string keys only (what a spread copies).
 */
export function checkKeys(obj: object, valid: readonly string[], where: string, what: string): void {
  checkOptions(where, obj, valid, { noun: `${what} key` });
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
  const s = spec as Record<string, unknown>;
  // functions cannot be cloned to a worker (nor described as data): named before anything starts
  const fix = 'train on this thread with model.compile(...) and model.fit(...) instead';
  if (isCustomLoss(s.loss)) throw new OptionError('loss', `${where}: ${what}.loss is a custom loss function, which cannot be sent to a worker; use a built-in loss, or ${fix}.`);
  if (Array.isArray(s.metrics) && s.metrics.some((m) => typeof m === 'function' || (m && typeof (m as { fn?: unknown }).fn === 'function'))) {
    throw new OptionError('metrics', `${where}: ${what}.metrics holds a custom metric function, which cannot be sent to a worker; ${fix}.`);
  }
  checkKeys(spec, MODEL_SPEC_KEYS, where, what);
  if (!Array.isArray(s.layers)) throw new OptionError('layers', `${where}: ${what}.layers must be an array of layer configs (dense(...), dropout(rate), ...).`);
  const opt = s.optimizer as { type?: unknown } | undefined;
  if (typeof opt === 'string') optimizerFromName(opt, `${where}: ${what}.optimizer`);
  else if (!opt || typeof opt !== 'object' || typeof opt.type !== 'string') {
    throw new OptionError('optimizer', `${where}: ${what}.optimizer = ${describe(s.optimizer)}; build one with sgd(), adam(), adamw(), rmsprop(), adagrad(), adamax(), nadam(), radam(), adadelta() or lion(), or name one: 'adam'.`);
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


/**
 * Builds and compiles the model of a spec (weights from `spec.weights`, or `weights` when given),
 * on `runtime` when given (else the current one, as `new Sequential`). @internal
 */
export function modelFromSpec(spec: ModelSpec, weights?: readonly { data: Float32Array }[], runtime?: Runtime): Sequential {
  const model = new Sequential({ inputShape: spec.inputShape, layers: spec.layers, ...(spec.seed !== undefined ? { seed: spec.seed } : {}), ...(runtime ? { runtime } : {}) });
  try {
    model.compile({ optimizer: spec.optimizer, loss: spec.loss });
    const w = weights ?? spec.weights;
    if (w) model.setWeights(w.map((t) => ({ data: t.data })));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * The `fit` options a {@link FitSpec} describes: the schedule revived from its config and the
 * callbacks built from theirs, after `extra`, in the order early stopping, plateau reduction,
 * terminate-on-NaN. @internal
 */
export function fitOptionsOf(spec: FitSpec, extra: readonly Callback[] = []): FitOptions {
  return fitRunOf(spec, extra).options;
}

/**
 * {@link fitOptionsOf}, with the early-stopping callback it built (null when the spec has none),
 * for a caller that reports where training stopped (the CLI's `stoppedEpoch` / `bestEpoch`). @internal
 */
export function fitRunOf(spec: FitSpec, extra: readonly Callback[] = []): { options: FitOptions; earlyStopping: EarlyStopping | null } {
  const { schedule, earlyStopping: es, reduceLROnPlateau: rp, terminateOnNaN: tn, ...plain } = spec;
  const callbacks: Callback[] = [...extra];
  const stopper = es ? earlyStopping(es) : null;
  if (stopper) callbacks.push(stopper);
  if (rp) {
    if (typeof rp !== 'object' || !rp.reducer) throw new OptionError('reduceLROnPlateau', 'fit spec: reduceLROnPlateau must be { reducer: reduceLROnPlateau({...}), monitor? }.');
    const reducer = typeof (rp.reducer as Plateau).update === 'function' ? (rp.reducer as Plateau) : plateauFromJSON(rp.reducer as PlateauConfig);
    callbacks.push(plateauCallback(reducer, rp.monitor !== undefined ? { monitor: rp.monitor } : {}));
  }
  if (tn) callbacks.push(terminateOnNaN());
  const options = { ...(plain as FitOptions), ...(schedule !== undefined ? { schedule: typeof schedule === 'function' ? schedule : scheduleFromJSON(schedule) } : {}), callbacks };
  return { options, earlyStopping: stopper };
}
