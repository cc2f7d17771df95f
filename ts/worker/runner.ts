/**
 * `workerRunner`: runs {@link randomSearch} trials in workers, several at a time. Exported from
 * `wasmfit/worker` (it starts workers through {@link fitInWorker}).
 */
import { OptionError, RuntimeSupportError } from '../errors/index.js';
import { type FitJob, fitInWorker, type WorkerOptions } from './job.js';
import { checkStartTimeout } from './spec.js';
import type { TrialOutcome, TrialRunner, TrialTask } from '../tuning/index.js';
import type { Trainer } from '../tuning/trainer.js';
import { checkOptions } from '../errors/validate.js';

/** Options of {@link workerRunner}. */
export interface WorkerRunnerOptions {
  /**
   * Trials training at the same time, each in its own worker. Default: `navigator.hardwareConcurrency`
   * when the host reports it (browsers, Node >= 21), else 2.
   */
  concurrency?: number;
  /** Options of every trial's worker (`init`, `url`, `startTimeoutMs`; see `fitInWorker`). `transfer` is not allowed: the data is shared by every trial. */
  worker?: Omit<WorkerOptions, 'transfer'>;
}

function defaultConcurrency(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : 2;
}

/**
 * A {@link TrialRunner} that trains each trial of a `spec`-described {@link randomSearch} in a
 * worker with {@link fitInWorker}, up to `concurrency` trials at a time; everything else (sampling,
 * scoring, `inspect`, refinement) stays in this thread. A trial trains exactly as it would in
 * process (same code, same seeds), so the search's results do not depend on the runner; outcomes
 * keep the task order whatever order trials finish in.
 *
 * A trial whose loss diverges ({@link NonFiniteError}) or whose worker dies after it started (the
 * thread exits or throws outside `fit`) is recorded as failed, with the reason in `error`; any other
 * error (an invalid spec, a worker script that cannot load) cancels the trials in flight and
 * rejects the search with it.
 *
 * @throws OptionError for a bad `concurrency` or unknown options (at once); the search throws an
 * OptionError naming `runner` when it is given `build` or `objective` instead of `spec`.
 * @example
 * ```ts
 * import { randomSearch, logUniform, intUniform, dense, adam } from 'wasmfit';
 * import { workerRunner } from 'wasmfit/worker';
 * const result = await randomSearch({
 *   space: { lr: logUniform(1e-4, 1e-1), hidden: intUniform(16, 128) },
 *   spec: (c) => ({
 *     model: { inputShape: [784], layers: [dense(c.hidden, { activation: 'relu' }), dense(10)], optimizer: adam({ lr: c.lr }), loss: 'softmaxCrossEntropy' },
 *     fit: { batchSize: 32 },
 *   }),
 *   data: { x, y, validationData: [xVal, yVal] },
 *   trials: 16, budget: { epochs: 5 }, runner: workerRunner({ concurrency: 4 }),
 * });
 * ```
 */
export function workerRunner(options: WorkerRunnerOptions = {}): TrialRunner {
  const W = 'workerRunner';
  checkOptions(W, options, ['concurrency', 'worker']);
  const concurrency = options.concurrency ?? defaultConcurrency();
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1) throw new OptionError('concurrency', `${W}: concurrency = ${String(options.concurrency)}; expected a positive integer (trials training at once).`);
  const wo = options.worker;
  if (wo !== undefined) {
    // no `transfer`: the data is shared by every trial, so it is never transferred
    checkOptions(W, wo, ['init', 'url', 'startTimeoutMs'], { prefix: 'worker.' });
    checkStartTimeout(wo.startTimeoutMs, W);
  }

  const runner = async (tasks: readonly TrialTask[], run: (task: TrialTask, trainer?: Trainer) => Promise<TrialOutcome>): Promise<TrialOutcome[]> => {
    const results = new Array<TrialOutcome>(tasks.length);
    const active = new Set<FitJob>();
    let failure: { error: unknown } | null = null;
    let next = 0;
    const trainer: Trainer = async (job, x, y) => {
      if (failure) throw failure.error;
      const j = fitInWorker(job.model, x, y, { ...job.fit, ...(wo ? { worker: wo } : {}) });
      let started = false;
      j.on('ready', () => {
        started = true;
      });
      active.add(j);
      try {
        const r = await j.result;
        if (r.status === 'cancelled') throw new RuntimeSupportError(`${W}: the trial was cancelled because another trial failed.`);
        return { history: r.history, weights: r.weights };
      } catch (e) {
        // the worker died after loading (crash, exit): this trial failed, the search goes on
        if (started && !failure && e instanceof RuntimeSupportError) return { failed: e.message };
        throw e;
      } finally {
        active.delete(j);
      }
    };
    const lane = async (): Promise<void> => {
      while (!failure && next < tasks.length) {
        const i = next++;
        try {
          results[i] = await run(tasks[i]!, trainer);
        } catch (e) {
          if (!failure) {
            failure = { error: e };
            for (const j of active) j.cancel();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, lane));
    if (failure) throw (failure as { error: unknown }).error;
    return results;
  };
  return Object.assign(runner, { requiresSpec: true as const });
}
