/**
 * `wasmfit/queue` (Node only): hyperparameter searches whose trials run on a BullMQ queue in Redis,
 * trained by `wasmfit worker` processes on any number of machines. `bullmq` and `ioredis` are
 * optional peer dependencies, loaded by this entry only (`npm install bullmq ioredis`).
 *
 * @example
 * ```ts
 * // each machine: npx wasmfit worker --redis redis://10.0.0.5:6379 --concurrency 2
 * import { randomSearch } from 'wasmfit/tuning';
 * import { queueRunner } from 'wasmfit/queue';
 * const result = await randomSearch({ space, spec, data, trials: 200, runner: queueRunner({ connection: 'redis://10.0.0.5:6379' }) });
 * ```
 * @packageDocumentation
 */
export { queueRunner, DEFAULT_MAX_DATA_BYTES } from './runner.js';
export type { QueueRunner, QueueRunnerOptions, QueueProgressEvent, QueueWorkerStats } from './runner.js';
export { startQueueWorker } from './worker.js';
export type { QueueWorker, QueueWorkerEvent, QueueWorkerOptions } from './worker.js';
export type { QueueConnection } from './connect.js';
