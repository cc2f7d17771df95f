/**
 * Worker-only settings checked before a worker starts. The model/fit spec checks live in
 * `ts/model/spec.ts` (shared with the in-process paths).
 * @internal
 */
import { OptionError } from '../errors/index.js';

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
