/**
 * `wasmfit/worker`: train off the main thread. {@link fitInWorker} runs `Sequential.fit` in a Web
 * Worker (browsers) or a `worker_threads` Worker (Node) and streams progress back; the final
 * weights arrive as transferred buffers.
 *
 * @example
 * ```ts
 * import { dense, adam, cosineAnnealingLR } from 'wasmfit';
 * import { fitInWorker } from 'wasmfit/worker';
 * const job = fitInWorker(
 *   { inputShape: [784], layers: [dense(128, { activation: 'relu' }), dense(10)], seed: 1,
 *     optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' },
 *   x, y,
 *   { epochs: 10, batchSize: 32, validationSplit: 0.1, schedule: cosineAnnealingLR({ lr: 1e-3, tMax: 10 }),
 *     earlyStopping: { patience: 3 } });
 * job.on('epoch', (e) => console.log(e.epoch, e.logs.valAccuracy));
 * const { history, weights } = await job.result;   // job.cancel() stops it early
 * ```
 * @packageDocumentation
 */
export * from './job.js';
export { workerRunner } from './runner.js';
export type { WorkerRunnerOptions } from './runner.js';
export type { FitSpec, ModelSpec } from '../model/spec.js';
