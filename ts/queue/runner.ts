/**
 * `queueRunner`: the trials of a `spec`-described search as jobs of a BullMQ queue on Redis,
 * trained by `wasmfit worker` processes on any number of machines.
 */
import { createHash, randomUUID } from 'node:crypto';
import { OptionError } from '../errors/index.js';
import { checkOptions } from '../errors/validate.js';
import type { Features, Labels } from '../data/tensor.js';
import type { TrialOutcome, TrialRunner, TrialTask } from '../tuning/index.js';
import type { Trainer, TrainResult, TrialJob } from '../tuning/trainer.js';
import { pack, packText, unpackText } from './codec.js';
import { type BullQueue, cancelKey, checkConnection, checkQueueName, dataKey, loadBullmq, type QueueConnection, redisClient } from './connect.js';
import { FAILED_RE, PAYLOAD_VERSION, type TrialPayload, type TrialProgress, type TrialReturn } from './worker.js';

/** Default of `maxDataBytes`: 256 MiB (Redis itself caps one value at 512 MiB, `proto-max-bulk-len`). */
export const DEFAULT_MAX_DATA_BYTES = 256 * 1024 * 1024;

/** Options of {@link queueRunner}. */
export interface QueueRunnerOptions {
  /** The Redis server: a `redis://host:6379` (or `rediss://`) URL, or ioredis options `{ host, port, password, db, tls }`. */
  connection: QueueConnection;
  /** The BullMQ queue (default `'wasmfit'`); start the workers with the same `--queue`. */
  queueName?: string;
  /** Cancels the search: its queued trials are removed, running ones stop at their next epoch, and the search rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Tries per trial when a worker fails it with an error that is not wasmfit's (lost connection,
   * out of memory; BullMQ `attempts`, default 3). A typed wasmfit error (e.g. a diverged loss) fails
   * the trial at once; a worker that dies does not use up a try (BullMQ stalled-job handling, up to
   * the worker's `maxStalledCount`).
   */
  attempts?: number;
  /** Largest packed search data (x, y, validation data) sent to Redis, in bytes (default 256 MiB). */
  maxDataBytes?: number;
  /** How long (s) the search data stays in Redis after it was last used (default 86400: one day). */
  dataTtlSeconds?: number;
  /** How often (ms) the search polls its trials' states (default 100). */
  pollMs?: number;
  /** Progress of the trials: queued, every epoch a worker reports, retries, results. */
  onProgress?: (event: QueueProgressEvent) => void;
}

/** What {@link QueueRunnerOptions.onProgress} receives. */
export type QueueProgressEvent =
  | { type: 'data'; sha256: string; bytes: number; uploaded: boolean; ms: number }
  | { type: 'queued'; trial: number }
  | { type: 'epoch'; trial: number; worker: string; epoch: number; logs: Record<string, number | null> }
  | { type: 'retry'; trial: number; worker: string }
  | { type: 'trialEnd'; trial: number; worker: string; ms: number; error?: string }
  | { type: 'connection'; ok: boolean; error?: string };

/** One worker's share of the trials (see {@link QueueRunner.stats}). */
export interface QueueWorkerStats {
  /** The worker's name (`host:pid` unless started with `--name`). */
  worker: string;
  /** Trials it finished (including failed ones). */
  trials: number;
  /** Of those, trials that failed. */
  failed: number;
  /** Time it spent on them, ms (its own clock). */
  busyMs: number;
  /** Finished trials per minute of wall time, from the search's start to its last result. */
  trialsPerMinute: number;
}

/** A {@link TrialRunner} on a queue, with per-worker statistics. */
export type QueueRunner = TrialRunner & {
  readonly requiresSpec: true;
  /** Per-worker throughput of the searches run so far, and how many trials were retried. */
  stats(): { workers: QueueWorkerStats[]; retried: number; trials: number };
};

function posInt(where: string, name: string, v: unknown, def: number, max = Number.MAX_SAFE_INTEGER): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max) throw new OptionError(name, `${where}: ${name} = ${String(v)}; expected an integer from 1 to ${max} (default ${def}).`);
  return x;
}

/** `schedule` and `reduceLROnPlateau.reducer` as their configs (the forms a worker rebuilds them from). */
function plainFit(fit: Record<string, unknown>): Record<string, unknown> {
  const out = { ...fit };
  const s = out.schedule as ((t: number) => number) & { toJSON?: () => unknown };
  if (typeof s === 'function' && typeof s.toJSON === 'function') out.schedule = s.toJSON();
  const rp = out.reduceLROnPlateau as { reducer?: { toJSON?: () => unknown } } | undefined;
  if (rp && typeof rp === 'object' && rp.reducer && typeof rp.reducer.toJSON === 'function') out.reduceLROnPlateau = { ...rp, reducer: rp.reducer.toJSON() };
  return out;
}

const size = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A {@link TrialRunner} that queues each trial of a `spec`-described `randomSearch` or
 * `gridSearch` on a BullMQ queue in Redis, to be trained by `wasmfit worker` processes on any
 * number of machines. Everything else (sampling, scoring, early-stopping settings, `inspect`,
 * refinement, the table) stays in this process, so results are the same bits as in process and
 * with `workerRunner` — whatever the number of workers and the order they finish in.
 *
 * What travels: the search data (`x`, `y`, validation data) once per search, packed (typed arrays
 * as raw bytes) under the key `wasmfit:<queue>:data:<sha256 of the bytes>` — identical data is
 * stored once, and each worker fetches it once; then per trial its model and fit spec (a few kB)
 * out and its history and final weights back.
 *
 * Faults: a trial whose worker dies is retried by another worker once its lock lapses (BullMQ
 * stalled jobs); while Redis is unreachable the search waits and resumes when it is back (with
 * Redis persistence on, finished trials are kept); a trial that throws a typed error (a diverged
 * loss, a bad layer) is recorded as failed with its message at once; other errors are retried up
 * to `attempts` times, then recorded as failed.
 *
 * @throws OptionError at once for a bad URL, queue name or option; the search rejects with an
 * OptionError naming `maxDataBytes` when the data is larger, and with a RuntimeSupportError naming
 * the packages to install when `bullmq` or `ioredis` is missing.
 * @example
 * ```ts
 * import { dense, adam } from 'wasmfit';
 * import { randomSearch, logUniform } from 'wasmfit/tuning';
 * import { queueRunner } from 'wasmfit/queue';
 * // on each machine: npx wasmfit worker --redis redis://10.0.0.5:6379 --concurrency 2
 * const runner = queueRunner({ connection: 'redis://10.0.0.5:6379' });
 * const result = await randomSearch({
 *   space: { lr: logUniform(1e-4, 1e-1) }, data: { x, y, validationData: [xv, yv] },
 *   spec: (c) => ({ model: { inputShape: [784], layers: [dense(64, { activation: 'relu' }), dense(10)], optimizer: adam({ lr: c.lr }), loss: 'softmaxCrossEntropy' }, fit: { batchSize: 32 } }),
 *   trials: 100, budget: { epochs: 5 }, runner,
 * });
 * console.log(result.table(), runner.stats().workers);
 * ```
 */
export function queueRunner(options: QueueRunnerOptions): QueueRunner {
  const W = 'queueRunner';
  if (!options || typeof options !== 'object') throw new OptionError('options', `${W}: pass { connection: 'redis://host:6379', queueName, ... }.`);
  checkOptions(W, options, ['connection', 'queueName', 'signal', 'attempts', 'maxDataBytes', 'dataTtlSeconds', 'pollMs', 'onProgress']);
  const { bull, conn } = checkConnection(options.connection, W);
  const queueName = checkQueueName(options.queueName, W);
  const attempts = posInt(W, 'attempts', options.attempts, 3, 100);
  const maxDataBytes = posInt(W, 'maxDataBytes', options.maxDataBytes, DEFAULT_MAX_DATA_BYTES, 512 * 1024 * 1024);
  const ttl = posInt(W, 'dataTtlSeconds', options.dataTtlSeconds, 86_400);
  const pollMs = posInt(W, 'pollMs', options.pollMs, 100, 60_000);
  const signal = options.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean')) throw new OptionError('signal', `${W}: signal must be an AbortSignal (new AbortController().signal).`);
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new OptionError('onProgress', `${W}: onProgress must be a function (event) => void.`);
  const emit = (e: QueueProgressEvent) => onProgress?.(e);

  const perWorker = new Map<string, { trials: number; failed: number; busyMs: number }>();
  let retried = 0;
  let finished = 0;
  let firstStart = 0;
  let lastEnd = 0;

  const runner = async (tasks: readonly TrialTask[], run: (task: TrialTask, trainer?: Trainer) => Promise<TrialOutcome>): Promise<TrialOutcome[]> => {
    if (signal?.aborted) throw signal.reason;
    const bullmq = await loadBullmq(W);
    const redis = await redisClient(conn, W);
    const queue: BullQueue = new bullmq.Queue(queueName, { connection: { ...bull } });
    queue.on('error', () => {});
    const search = randomUUID();
    if (firstStart === 0) firstStart = Date.now();
    type Waiter = { trial: number; payload: TrialPayload; seen: number; worker: string; resolve: (r: TrainResult) => void; reject: (e: unknown) => void };
    const waiting = new Map<string, Waiter>();
    let stop: { reason: unknown } | null = null;
    let blob: { x: unknown; y: unknown; v: unknown; sha: Promise<string> } | null = null;

    const jobOpts = (id: string) => ({ jobId: id, attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: false, removeOnFail: false });
    /** Queues a trial (its id makes a repeat a no-op); while Redis is unreachable, tries again for up to 2 minutes. */
    const add = async (id: string, payload: TrialPayload): Promise<void> => {
      for (let i = 0; ; i++) {
        try {
          await queue.add('trial', payload, jobOpts(id));
          return;
        } catch (e) {
          if (stop || i >= 240) throw e;
          await sleep(500);
        }
      }
    };
    const upload = async (x: Features, y: Labels | Features, v: unknown): Promise<string> => {
      const t0 = Date.now();
      const bytes = pack({ x, y, ...(v !== undefined ? { validationData: v } : {}) }, W);
      if (bytes.byteLength > maxDataBytes) {
        throw new OptionError('maxDataBytes', `${W}: the search data (x, y, validation data) packs to ${size(bytes.byteLength)}, over maxDataBytes = ${size(maxDataBytes)}. Raise maxDataBytes (Redis holds at most 512 MiB per value) or train on fewer rows (or a float32 copy of float64 data).`);
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      const key = dataKey(queueName, sha);
      const set = await redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'EX', ttl, 'NX');
      if (set === null) await redis.expire(key, ttl);
      emit({ type: 'data', sha256: sha, bytes: bytes.byteLength, uploaded: set !== null, ms: Date.now() - t0 });
      return sha;
    };
    const dataFor = (x: Features, y: Labels | Features, v: unknown): Promise<string> => {
      // the same objects as the last trial's: the data went up already
      if (!blob || blob.x !== x || blob.y !== y || blob.v !== v) blob = { x, y, v, sha: upload(x, y, v) };
      return blob.sha;
    };
    const trainerFor = (task: TrialTask): Trainer => async (job: TrialJob, x, y) => {
      if (stop) throw stop.reason;
      const { validationData, ...fit } = job.fit as TrialJob['fit'] & { validationData?: unknown };
      const sha = await dataFor(x, y, validationData);
      const payload: TrialPayload = { v: PAYLOAD_VERSION, search, trial: task.index, data: sha, val: validationData !== undefined, job: packText({ model: job.model, fit: plainFit(fit) }, W) };
      const id = `${search}-${task.index}`;
      return await new Promise<TrainResult>((resolve, reject) => {
        if (stop) return reject(stop.reason);
        waiting.set(id, { trial: task.index, payload, seen: 0, worker: '', resolve, reject });
        add(id, payload).then(
          () => emit({ type: 'queued', trial: task.index }),
          (e: unknown) => {
            waiting.delete(id);
            reject(e);
          },
        );
      });
    };

    /** Emits the epochs a trial's worker reported since the last poll (from the start again when another worker retries it). */
    const progress = (w: Waiter, prog: unknown): void => {
      const p = prog as TrialProgress | undefined;
      if (!p || typeof p !== 'object' || !Array.isArray(p.epochs)) return;
      if (w.worker !== '' && (p.worker !== w.worker || p.epochs.length < w.seen)) {
        w.seen = 0;
        emit({ type: 'retry', trial: w.trial, worker: p.worker });
      }
      w.worker = p.worker;
      for (; w.seen < p.epochs.length; w.seen++) {
        const e = p.epochs[w.seen]!;
        emit({ type: 'epoch', trial: w.trial, worker: p.worker, epoch: e.epoch, logs: e.logs });
      }
    };
    const settle = async (id: string, w: Waiter): Promise<void> => {
      const job = await queue.getJob(id);
      // cancelled meanwhile: its job was removed on purpose
      if (stop || !waiting.has(id)) return;
      if (!job) {
        // gone (Redis lost its data): queue it again under the same id
        await add(id, w.payload);
        return;
      }
      progress(w, job.progress);
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed') return;
      // read again: it may have finished between the read above and getState
      const fin = await queue.getJob(id);
      if (!fin || stop || !waiting.has(id)) return;
      progress(w, fin.progress);
      let r: TrainResult;
      let worker = w.worker || 'unknown';
      let ms = 0;
      try {
        if (state === 'completed') {
          const rv = (typeof fin.returnvalue === 'string' ? JSON.parse(fin.returnvalue) : fin.returnvalue) as TrialReturn;
          if (!rv || typeof rv !== 'object') return; // not written yet: next poll
          r = unpackText(rv.result, W) as TrainResult;
          worker = rv.worker;
          ms = rv.ms;
        } else {
          const m = FAILED_RE.exec(fin.failedReason ?? '');
          if (m && m[2]) worker = m[2];
          r = { failed: m ? m[3]! : `${W}: the trial failed after ${fin.attemptsMade} attempt(s): ${fin.failedReason}` };
        }
      } catch (e) {
        // a result this version cannot read (another wasmfit version's worker): the search stops with it
        waiting.delete(id);
        w.reject(e);
        return;
      }
      waiting.delete(id);
      // started more than once: its worker died (stalled) or it failed and was tried again
      if ((fin.attemptsStarted ?? 0) > 1 || fin.attemptsMade > 1) retried++;
      const s = perWorker.get(worker) ?? { trials: 0, failed: 0, busyMs: 0 };
      s.trials++;
      s.busyMs += ms;
      if ('failed' in r) s.failed++;
      perWorker.set(worker, s);
      finished++;
      lastEnd = Date.now();
      emit({ type: 'trialEnd', trial: w.trial, worker, ms, ...('failed' in r ? { error: r.failed } : {}) });
      await fin.remove().catch(() => {});
      w.resolve(r);
    };

    let polling = true;
    let down = false;
    const poll = (async () => {
      while (polling) {
        await sleep(pollMs);
        if (stop) continue;
        try {
          for (const [id, w] of [...waiting]) if (!stop && waiting.has(id)) await settle(id, w);
          if (down) emit({ type: 'connection', ok: true });
          down = false;
        } catch (e) {
          // Redis unreachable (restarting): keep polling; ioredis reconnects
          if (!down) emit({ type: 'connection', ok: false, error: (e as Error).message });
          down = true;
        }
      }
    })();

    let cancelling: Promise<void> = Promise.resolve();
    const cancel = (reason: unknown): Promise<void> => {
      if (!stop) cancelling = cancelNow(reason);
      return cancelling;
    };
    const cancelNow = async (reason: unknown): Promise<void> => {
      stop = { reason };
      const ids = [...waiting.keys()];
      for (const w of waiting.values()) w.reject(reason);
      waiting.clear();
      try {
        // first the queued trials (before a worker takes them), then the mark that stops running ones
        await Promise.all(
          ids.map(async (id) => {
            const job = await queue.getJob(id);
            // queued trials go; running ones (locked: remove fails) stop at their next epoch (the cancel key)
            await job?.remove().catch(() => {});
          }),
        );
        await redis.set(cancelKey(queueName, search), '1', 'EX', ttl);
      } catch {
        /* Redis down: the queued trials stay until their workers see the cancel key */
      }
    };
    const onAbort = () => void cancel(signal!.reason);
    signal?.addEventListener('abort', onAbort);
    try {
      const out = await Promise.all(
        tasks.map((t) =>
          run(t, trainerFor(t)).catch(async (e) => {
            await cancel(e);
            throw stop!.reason;
          }),
        ),
      );
      if (stop) throw (stop as { reason: unknown }).reason;
      return out;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (stop) await cancel((stop as { reason: unknown }).reason);
      polling = false;
      await poll;
      await queue.close().catch(() => {});
      await Promise.race([redis.quit().catch(() => {}), sleep(1000)]);
      redis.disconnect();
    }
  };

  const stats = () => {
    const wall = Math.max(1, lastEnd - firstStart) / 60_000;
    return {
      workers: [...perWorker].map(([worker, s]) => ({ worker, trials: s.trials, failed: s.failed, busyMs: s.busyMs, trialsPerMinute: s.trials / wall })).sort((a, b) => a.worker.localeCompare(b.worker)),
      retried,
      trials: finished,
    };
  };
  return Object.assign(runner, { requiresSpec: true as const, stats });
}
