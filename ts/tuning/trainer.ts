/**
 * Serializable trial descriptions for {@link randomSearch}: a `spec(config, { seed })` function
 * returns the model as plain data (the same spec `fitInWorker` takes) plus fit options, so a trial
 * can be trained in this process ({@link inProcessTrainer}) or in a worker (`workerRunner` of
 * `wasmfit/worker`) with identical results.
 */
import type { EarlyStoppingOptions } from '../callbacks/index.js';
import type { Features, Labels } from '../data/tensor.js';
import { OptionError } from '../errors/index.js';
import type { History } from '../model/callbacks.js';
import type { WeightTensor } from '../model/sequential.js';
import { checkKeys, checkModelSpec, fitOptionsOf, type ModelSpec, modelFromSpec, TRIAL_FIT_KEYS, type TrialFitOptions } from '../model/spec.js';

export type { TrialFitOptions };

/**
 * What `spec(config, { seed, trial })` returns: one trial as plain data. `model` is the spec
 * `fitInWorker` takes (`inputShape`, `layers`, `optimizer`, `loss`, optional `seed` — default the
 * trial's seed — and start `weights`); `fit` the fit options (default `seed`: the trial's seed).
 * Schedules and plateau reducers must be built from options only (no user functions).
 */
export interface TrialSpec {
  // keys checked by checkTrialSpec (ts/model/spec.ts): keep TRIAL_SPEC_KEYS / TRIAL_FIT_KEYS in step
  model: ModelSpec;
  fit?: TrialFitOptions;
}

/** A resolved trial as a {@link Trainer} receives it: the spec with seeds, budget and early stopping filled in. */
export interface TrialJob {
  model: ModelSpec;
  fit: TrialFitOptions & { epochs: number; earlyStopping?: EarlyStoppingOptions };
}

/** What a {@link Trainer} resolves to: the history and final weights, or `{ failed }` when the trial failed (e.g. its worker died). */
export type TrainResult = { history: History; weights: WeightTensor[] } | { failed: string };

/**
 * Trains one {@link TrialJob} on `(x, y)` somewhere. A {@link NonFiniteError} rejection marks the
 * trial as failed (as does `{ failed }`); any other rejection stops the search.
 */
export type Trainer = (job: TrialJob, x: Features, y: Labels | Features) => Promise<TrainResult>;

/**
 * The in-process trainer (the default): what the worker script does, on this thread —
 * `new Sequential(job.model)`, `compile`, optional start weights, then `fit` with the callbacks the
 * options describe (early stopping, plateau reduction, terminate-on-NaN, in that order).
 */
export const inProcessTrainer: Trainer = async (job, x, y) => {
  const T = 'inProcessTrainer';
  if (!job || typeof job !== 'object' || !job.fit || typeof job.fit !== 'object') throw new OptionError('job', `${T}: pass a trial job { model, fit }.`);
  checkModelSpec(job.model, T, 'job.model');
  checkKeys(job.fit, [...TRIAL_FIT_KEYS, 'epochs', 'earlyStopping'], T, 'job.fit');
  const model = modelFromSpec(job.model);
  try {
    const fit = fitOptionsOf(job.fit);
    const history = await model.fit(x, y as Labels, fit);
    return { history, weights: model.getWeights() };
  } finally {
    model.dispose();
  }
};
