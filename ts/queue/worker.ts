/**
 * The queue worker (`wasmfit worker --redis URL`): takes trials from the BullMQ queue, trains each
 * in a worker thread with `fitInWorker` (exactly as `workerRunner` does on one machine, so the
 * results are the same bits), reports every epoch as job progress and returns the history and
 * weights. Run any number of them, on any number of machines.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { OptionError, WasmfitError } from '../errors/index.js';
import { checkOptions } from '../errors/validate.js';
import type { Features, Labels } from '../data/tensor.js';
// the entry, not ../worker/job.js: the bundle imports wasmfit/worker instead of a copy (rollup.config.mjs)
import { fitInWorker, type FitJob, type WorkerOptions } from '../worker/index.js';
import { unpack, unpackText, packText } from './codec.js';
import { type BullJob, cancelKey, checkConnection, checkQueueName, dataKey, loadBullmq, type QueueConnection, redisClient } from './connect.js';

/** The version of the job payload; a worker refuses other versions with a typed error. @internal */
export const PAYLOAD_VERSION = 1;

/** What a queued trial carries (BullMQ job data). @internal */
export interface TrialPayload {
  v: number;
  /** The search it belongs to (cancellation, job ids). */
  search: string;
  /** The trial's index in the search. */
  trial: number;
  /** SHA-256 (hex) of the data blob: `{ x, y, validationData? }` packed. */
  data: string;
  /** Whether the trial validates on the blob's `validationData` (the search's shared one). */
  val: boolean;
  /** `{ model, fit }` packed (base64). */
  job: string;
}

/** What a worker returns for a trial (BullMQ return value). @internal */
export interface TrialReturn {
  worker: string;
  /** Time the worker spent on it: fetching data (when not cached) and training, ms. */
  ms: number;
  /** `{ history, weights }` packed (base64): numbers bit for bit. */
  result: string;
}

/** Progress a worker reports for a trial (BullMQ job progress). @internal */
export interface TrialProgress {
  worker: string;
  epochs: { epoch: number; logs: Record<string, number | null> }[];
}

/** Prefix of the failure reason of a trial that threw a typed error: `[wasmfit ShapeError on host:pid] message`. @internal */
export const FAILED_RE = /^\[wasmfit (\w+)(?: on ([^\]]+))?\] ([\s\S]*)$/;

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerOptions {
  /** The Redis server: a `redis://host:6379` URL or ioredis options. */
  connection: QueueConnection;
  /** The queue's name (default `'wasmfit'`), the same as the search's `queueRunner`. */
  queueName?: string;
  /** Trials training at the same time in this process, each in its own worker thread (default 1). */
  concurrency?: number;
  /**
   * How long (ms) a trial's lock lasts without renewal (BullMQ `lockDuration`, default 30000): a
   * worker that dies (killed, machine lost) holds its trial this long before another may retry it.
   */
  lockDurationMs?: number;
  /** How often (ms) this worker looks for trials whose worker died (BullMQ `stalledInterval`, default 30000). */
  stalledIntervalMs?: number;
  /** How often a trial may be taken back from a dead worker before it is recorded as failed (BullMQ `maxStalledCount`, default 3). */
  maxStalledCount?: number;
  /** A name for this worker in the search's per-worker statistics (default `host:pid`). */
  name?: string;
  /** The worker threads' options (`init`, `url`, `startTimeoutMs`; see `fitInWorker`). */
  worker?: Omit<WorkerOptions, 'transfer'>;
  /** Called for each trial started, finished or failed here (e.g. for a log line). */
  onEvent?: (event: QueueWorkerEvent) => void;
}

/** What {@link QueueWorkerOptions.onEvent} receives. */
export type QueueWorkerEvent =
  | { type: 'start'; search: string; trial: number; attempt: number }
  | { type: 'done'; search: string; trial: number; ms: number; epochs: number }
  | { type: 'failed'; search: string; trial: number; error: string; retry: boolean };

/** A running queue worker. */
export interface QueueWorker {
  /** This worker's name in the search's statistics. */
  readonly name: string;
  /** Resolves once connected to Redis. */
  readonly ready: Promise<void>;
  /** Stops taking trials, waits for the running ones (or abandons them with `force`) and disconnects. */
  close(force?: boolean): Promise<void>;
}

function posInt(where: string, name: string, v: unknown, def: number): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) throw new OptionError(name, `${where}: ${name} = ${String(v)}; expected a positive integer (default ${def}).`);
  return x;
}

/** The worker-thread script next to this module (dist/ or dist/chunks/ after bundling; dist/ from sources). */
function threadScript(): URL | undefined {
  for (const rel of ['./worker-thread.mjs', '../worker-thread.mjs', '../../dist/worker-thread.mjs']) {
    try {
      const u = new URL(rel, import.meta.url);
      if (u.protocol === 'file:' && existsSync(fileURLToPath(u))) return u;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a queued trial's payload; a typed {@link OptionError} names the missing or malformed
 * field (such a trial is recorded as failed, never retried). @internal
 */
export function checkPayload(d: unknown, where: string): TrialPayload {
  const need = (ok: boolean, field: string, expected: string): void => {
    if (!ok) throw new OptionError(field, `${where}: the queued trial has ${field} = ${isObj(d) ? JSON.stringify(d[field])?.slice(0, 80) : 'no payload'}; expected ${expected}. It was not queued by a compatible queueRunner (same wasmfit version on both sides).`);
  };
  need(isObj(d), 'payload', 'an object { v, search, trial, data, val, job }');
  const p = d as Record<string, unknown>;
  need(p.v === PAYLOAD_VERSION, 'v', `payload version ${PAYLOAD_VERSION}`);
  need(typeof p.search === 'string' && p.search.length > 0, 'search', 'the search id (a string)');
  need(Number.isInteger(p.trial) && (p.trial as number) >= 0, 'trial', 'the trial index (an integer >= 0)');
  need(typeof p.data === 'string' && /^[0-9a-f]{64}$/.test(p.data), 'data', 'the SHA-256 of the search data (64 hex digits)');
  need(typeof p.val === 'boolean', 'val', 'a boolean');
  need(typeof p.job === 'string' && p.job.length > 0, 'job', 'the packed trial { model, fit }');
  return p as unknown as TrialPayload;
}

/**
 * Starts a queue worker in this process: it takes trials queued by {@link queueRunner} searches
 * on `queueName`, trains up to `concurrency` at a time (each in a worker thread, the same code
 * that trains in process), and reports their epochs and results. A trial that throws a typed
 * error (diverged loss, bad spec) is failed at once with its message; one whose worker dies is
 * retried by another worker once its lock lapses (`lockDurationMs`). Search data is fetched from
 * Redis once per search and kept (the last 4 data sets).
 *
 * @example
 * ```ts
 * import { startQueueWorker } from 'wasmfit/queue';
 * const w = startQueueWorker({ connection: 'redis://10.0.0.5:6379', concurrency: 2 });
 * process.on('SIGTERM', () => w.close());
 * ```
 * or from a shell: `npx wasmfit worker --redis redis://10.0.0.5:6379 --concurrency 2`.
 */
export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const W = 'startQueueWorker';
  if (!isObj(options)) throw new OptionError('options', `${W}: pass { connection: 'redis://host:6379', concurrency, ... }.`);
  checkOptions(W, options, ['connection', 'queueName', 'concurrency', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'name', 'worker', 'onEvent']);
  const { bull, conn } = checkConnection(options.connection, W);
  const queueName = checkQueueName(options.queueName, W);
  const concurrency = posInt(W, 'concurrency', options.concurrency, 1);
  const lockDuration = posInt(W, 'lockDurationMs', options.lockDurationMs, 30_000);
  const stalledInterval = posInt(W, 'stalledIntervalMs', options.stalledIntervalMs, 30_000);
  const maxStalledCount = posInt(W, 'maxStalledCount', options.maxStalledCount, 3);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  if (typeof name !== 'string' || name === '') throw new OptionError('name', `${W}: name must be a non-empty string.`);
  const onEvent = options.onEvent;
  const url = options.worker?.url ?? threadScript();
  const wo: Omit<WorkerOptions, 'transfer'> = { ...(options.worker ?? {}), ...(url ? { url } : {}) };

  const cache = new Map<string, { x: Features; y: Labels | Features; validationData?: readonly [Features, Labels | Features] }>();
  const running = new Set<FitJob>();
  let closing = false;
  let worker: { close(force?: boolean): Promise<void> } | null = null;
  let redis: Awaited<ReturnType<typeof redisClient>> | null = null;

  const ready = (async () => {
    const bullmq = await loadBullmq(W);
    redis = await redisClient(conn, W);
    const { UnrecoverableError } = bullmq;
    const data = async (sha: string) => {
      const hit = cache.get(sha);
      if (hit) return hit;
      const bytes = await redis!.getBuffer(dataKey(queueName, sha));
      if (!bytes) throw new OptionError('data', `${W}: the search data ${sha.slice(0, 12)}… is not in Redis (expired or deleted); start the search again.`);
      const v = unpack(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), W) as { x: Features; y: Labels | Features; validationData?: readonly [Features, Labels | Features] };
      cache.set(sha, v);
      while (cache.size > 4) cache.delete(cache.keys().next().value as string);
      return v;
    };
    const processor = async (job: BullJob): Promise<TrialReturn> => {
      const t0 = Date.now();
      let p: TrialPayload | null = null;
      try {
        p = checkPayload(job.data, W);
        onEvent?.({ type: 'start', search: p.search, trial: p.trial, attempt: (job.attemptsStarted ?? job.attemptsMade) || 1 });
        if ((await redis!.exists(cancelKey(queueName, p.search))) > 0) throw new UnrecoverableError(`${W}: the search was cancelled.`);
        const spec = unpackText(p.job, W) as { model?: unknown; fit?: unknown };
        if (!isObj(spec) || !isObj(spec.model)) throw new OptionError('model', `${W}: the queued trial has no model spec; expected { model: { inputShape, layers, optimizer, loss }, fit }.`);
        if (!isObj(spec.fit) || typeof spec.fit.epochs !== 'number') throw new OptionError('fit', `${W}: the queued trial has no fit options with epochs; expected { model, fit: { epochs, ... } }.`);
        const d = await data(p.data);
        const fit = { ...spec.fit, ...(p.val ? { validationData: d.validationData } : {}) };
        const fj = fitInWorker(spec.model as never, d.x, d.y, { ...(fit as object), worker: wo });
        running.add(fj);
        const progress: TrialProgress = { worker: name, epochs: [] };
        const search = p.search;
        let reported: Promise<void> = Promise.resolve();
        fj.on('epoch', (e) => {
          progress.epochs.push({ epoch: e.epoch, logs: e.logs as Record<string, number> });
          const snapshot = { ...progress, epochs: [...progress.epochs] };
          reported = reported.then(() => job.updateProgress(snapshot)).catch(() => {});
          redis!.exists(cancelKey(queueName, search)).then((n) => n > 0 && fj.cancel(), () => {});
        });
        try {
          const r = await fj.result;
          if (r.status === 'cancelled') throw new UnrecoverableError(`${W}: the search was cancelled.`);
          // every epoch's progress is in Redis before the result
          await reported;
          const out: TrialReturn = { worker: name, ms: Date.now() - t0, result: packText({ history: r.history, weights: r.weights }, W) };
          onEvent?.({ type: 'done', search: p.search, trial: p.trial, ms: out.ms, epochs: r.history.epoch.length });
          return out;
        } finally {
          running.delete(fj);
        }
      } catch (e) {
        const typed = e instanceof WasmfitError;
        const final = typed || e instanceof UnrecoverableError;
        const message = e instanceof Error ? e.message : String(e);
        if (p) onEvent?.({ type: 'failed', search: p.search, trial: p.trial, error: message, retry: !final });
        // a typed error fails the trial for good, with its class and message for the search
        if (typed) throw new UnrecoverableError(`[wasmfit ${(e as WasmfitError).name} on ${name.replace(/\]/g, ')')}] ${message}`);
        throw e;
      }
    };
    if (closing) return;
    const w = new bullmq.Worker(queueName, processor, { connection: { ...bull, maxRetriesPerRequest: null }, concurrency, lockDuration, stalledInterval, maxStalledCount, autorun: true });
    // BullMQ reports connection trouble as 'error' events and reconnects by itself
    w.on('error', () => {});
    worker = w;
    await w.waitUntilReady();
  })();
  ready.catch(() => {});

  return {
    name,
    ready,
    async close(force = false) {
      closing = true;
      await ready.catch(() => {});
      if (force) for (const j of running) j.cancel();
      await worker?.close(force);
      if (redis) {
        await Promise.race([(redis as { quit(): Promise<unknown> }).quit().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
        (redis as { disconnect(): void }).disconnect();
      }
    },
  };
}
