/**
 * Serializable trial descriptions for {@link randomSearch}: a `spec(config, { seed })` function
 * returns the model as plain data (the same spec `fitInWorker` takes) plus fit options, so a trial
 * can be trained in this process ({@link inProcessTrainer}) or in a worker (`workerRunner` of
 * `wasmfit/worker`) with identical results.
 */
import { earlyStopping, type EarlyStoppingOptions, plateauCallback, terminateOnNaN } from '../callbacks/index.js';
import type { Features, Labels } from '../data/tensor.js';
import { OptionError } from '../errors/index.js';
import type { Callback, History } from '../model/callbacks.js';
import type { FitOptions } from '../model/fit.js';
import { Sequential, type WeightTensor } from '../model/sequential.js';
import type { Plateau, PlateauConfig, Schedule, ScheduleConfig } from '../schedules/index.js';
import { plateauFromJSON, scheduleFromJSON } from '../schedules/json.js';
import type { WorkerFitOptions, WorkerModelSpec } from '../worker/index.js';
import { checkKeys, checkModelSpec, TRIAL_FIT_KEYS } from '../worker/spec.js';

/** Fit options a {@link TrialSpec} may set: `fitInWorker`'s serializable options minus what the search controls (epochs, early stopping) and the worker's own settings. */
export type TrialFitOptions = Omit<WorkerFitOptions, 'epochs' | 'initialEpoch' | 'earlyStopping' | 'batchEventMs' | 'epochWeights' | 'epochPredict' | 'yieldEveryMs' | 'worker'>;

/**
 * What `spec(config, { seed, trial })` returns: one trial as plain data. `model` is the spec
 * `fitInWorker` takes (`inputShape`, `layers`, `optimizer`, `loss`, optional `seed` — default the
 * trial's seed — and start `weights`); `fit` the fit options (default `seed`: the trial's seed).
 * Schedules and plateau reducers must be built from options only (no user functions).
 */
export interface TrialSpec {
  // keys checked by checkTrialSpec (ts/worker/spec.ts): keep TRIAL_SPEC_KEYS / TRIAL_FIT_KEYS in step
  model: WorkerModelSpec;
  fit?: TrialFitOptions;
}

/** A resolved trial as a {@link Trainer} receives it: the spec with seeds, budget and early stopping filled in. */
export interface TrialJob {
  model: WorkerModelSpec;
  fit: TrialFitOptions & { epochs: number; earlyStopping?: EarlyStoppingOptions };
}

/** What a {@link Trainer} resolves to: the history and final weights, or `{ failed }` when the trial failed (e.g. its worker died). */
export type TrainResult = { history: History; weights: WeightTensor[] } | { failed: string };

/**
 * Trains one {@link TrialJob} on `(x, y)` somewhere. A {@link NonFiniteError} rejection marks the
 * trial as failed (as does `{ failed }`); any other rejection stops the search.
 */
export type Trainer = (job: TrialJob, x: Features, y: Labels | Features) => Promise<TrainResult>;

/** Builds and compiles the model of a spec (weights from `spec.weights` or `weights`). @internal */
export function modelFromSpec(spec: WorkerModelSpec, weights?: readonly { data: Float32Array }[]): Sequential {
  const model = new Sequential({ inputShape: spec.inputShape, layers: spec.layers, ...(spec.seed !== undefined ? { seed: spec.seed } : {}) });
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

function scheduleOf(s: Schedule | ScheduleConfig): Schedule {
  return typeof s === 'function' ? s : scheduleFromJSON(s);
}

function plateauOf(p: Plateau | PlateauConfig): Plateau {
  return typeof (p as Plateau).update === 'function' ? (p as Plateau) : plateauFromJSON(p);
}

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
    const { schedule, earlyStopping: es, reduceLROnPlateau: rp, terminateOnNaN: tn, ...plain } = job.fit;
    const callbacks: Callback[] = [];
    if (es) callbacks.push(earlyStopping(es));
    if (rp) {
      if (!rp || typeof rp !== 'object' || !rp.reducer) throw new OptionError('reduceLROnPlateau', 'randomSearch: spec fit.reduceLROnPlateau must be { reducer: reduceLROnPlateau({...}), monitor? }.');
      callbacks.push(plateauCallback(plateauOf(rp.reducer), rp.monitor !== undefined ? { monitor: rp.monitor } : {}));
    }
    if (tn) callbacks.push(terminateOnNaN());
    const fit: FitOptions = { ...(plain as FitOptions), ...(schedule !== undefined ? { schedule: scheduleOf(schedule) } : {}), callbacks };
    const history = await model.fit(x, y as Labels, fit);
    return { history, weights: model.getWeights() };
  } finally {
    model.dispose();
  }
};
