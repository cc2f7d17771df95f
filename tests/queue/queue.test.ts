// Searches on a BullMQ queue in Redis (wasmfit/queue, through the built bundle): a private
// redis-server and `wasmfit worker` processes (dist/cli.mjs). The same spec-described search run in
// process and on 3 worker processes gives the same trials bit for bit — also when one worker is
// SIGKILLed mid-trial (another retries its trial) and Redis is restarted mid-search. Typed errors,
// failed-trial recording and cancellation are checked against the queue's own state.
// WASMFIT_QUEUE_SRC=1 runs the search side from ts/queue (the workers always run dist/cli.mjs);
// WASMFIT_QUEUE_DEBUG=1 prints every worker's log at the end.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis, startWorker, stopAll, type WorkerProc } from './redis.js';

type Lib = typeof import('../../ts/index.js') & typeof import('../../ts/tuning/index.js');
type QueueLib = typeof import('../../ts/queue/index.js');

let wf: Lib;
let Q: QueueLib;
let redis: RedisServer;
const workers: WorkerProc[] = [];

beforeAll(async () => {
  const dist = (f: string) => import(pathToFileURL(join(process.cwd(), 'dist', f)).href);
  wf = { ...(await dist('wasmfit.mjs')), ...(await dist('tuning.mjs')) } as Lib;
  Q = (await import(process.env.WASMFIT_QUEUE_SRC ? '../../ts/queue/index.js' : pathToFileURL(join(process.cwd(), 'dist', 'queue.mjs')).href)) as QueueLib;
  await wf.init();
  redis = await startRedis();
});
afterAll(async () => {
  if (process.env.WASMFIT_QUEUE_DEBUG) for (const w of workers) console.log(`--- ${w.name}\n${w.out()}`);
  await stopAll();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Three Gaussian blobs in d dimensions (seeded): class c centred at 1.2·e_c. */
function blobs(n: number, d: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new wf.Rng(seed);
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() + (j === c ? 1.2 : 0);
  }
  return { x, y };
}

type Trial = { index: number; round: number; config: unknown; seed: number; metric: number; epochs: number; history?: { epoch: number[]; history: Record<string, number[]> }; error?: string };
/** Every number of a trial as its float64 bits (so -0, NaN payloads and the last ulp count), without its wall time. */
function bits(ts: readonly Trial[]): unknown {
  const b = (v: number) => Buffer.from(new Float64Array([v]).buffer).toString('hex');
  return [...ts]
    .sort((p, q) => p.index - q.index)
    .map((t) => ({
      index: t.index,
      round: t.round,
      seed: t.seed,
      config: JSON.stringify(t.config, (_k, v) => (typeof v === 'number' ? b(v) : v)),
      metric: b(t.metric),
      epochs: t.epochs,
      error: t.error,
      history: t.history ? { epoch: t.history.epoch, history: Object.fromEntries(Object.entries(t.history.history).map(([k, vs]) => [k, vs.map(b)])) } : undefined,
    }));
}
/** The search table without its 'time ms' column (wall time differs between any two runs): the 5th column, located by the rule line. */
function tableNoTime(t: string): string {
  const lines = t.split('\n');
  const widths = lines[1]!.split('  ').map((d) => d.length);
  const start = widths.slice(0, 4).reduce((s, w) => s + w + 2, 0);
  const end = start + widths[4]! + 2;
  expect(lines[0]!.slice(start, end).trim()).toBe('time ms');
  return lines.map((l) => l.slice(0, start) + l.slice(end)).join('\n');
}

describe('queueRunner on 3 worker processes', () => {
  it('gives the in-process trials bit for bit, with a worker SIGKILLed mid-trial and Redis restarted mid-search', async () => {
    const { x, y } = blobs(3000, 16, 1);
    const v = blobs(300, 16, 2);
    const common = {
      space: { lr: wf.logUniform(1e-3, 0.1), hidden: wf.intUniform(32, 96), optimizer: wf.choice(['adam', 'sgd']) },
      spec: (c: { lr: number; hidden: number; optimizer: string }) => ({
        model: {
          inputShape: [16] as [number],
          layers: [wf.dense(c.hidden, { activation: 'relu' }), wf.dropout(0.1), wf.dense(3)],
          optimizer: c.optimizer === 'adam' ? wf.adam({ lr: c.lr }) : wf.sgd({ lr: c.lr, momentum: 0.9 }),
          loss: 'softmaxCrossEntropy' as const,
        },
        fit: { batchSize: 8, schedule: wf.cosineAnnealingLR({ lr: c.lr, tMax: 8 }) },
      }),
      data: { x, y, validationData: [v.x, v.y] as const },
      trials: 6,
      budget: { epochs: 8, earlyStopping: { patience: 3 } },
      metric: 'valLoss',
      seed: 5,
      refine: { rounds: 1, trials: 3, top: 2 },
    };
    const inProc = await wf.randomSearch(common);

    let killed: { worker: string; trial: number } | null = null;
    // w1 dies (SIGKILL) as soon as it starts its first trial: before that trial can end
    const onW1 = (text: string) => {
      const m = /^start \S+ trial (\d+)/m.exec(text);
      if (m && !killed) {
        killed = { worker: 'w1', trial: Number(m[1]) };
        workers[1]!.proc.kill('SIGKILL');
      }
    };
    for (const n of ['w0', 'w1', 'w2']) workers.push(startWorker(redis.url, n, ['--queue', 'main'], n === 'w1' ? onW1 : undefined));
    await until('3 workers ready', () => workers.every((w) => w.out().includes('waiting for trials')));
    const events: import('../../ts/queue/index.js').QueueProgressEvent[] = [];
    let restarted = false;
    let restartDone: Promise<void> = Promise.resolve();
    const ends = () => events.filter((e) => e.type === 'trialEnd').length;
    const runner = Q.queueRunner({
      connection: redis.url,
      queueName: 'main',
      onProgress: (e) => {
        events.push(e);
        // once a few trials have finished: Redis goes down and comes back (with its data)
        if (killed && !restarted && e.type === 'trialEnd' && ends() >= 3) {
          restarted = true;
          restartDone = redis.restart();
        }
      },
    });
    const onQueue = await wf.randomSearch({ ...common, runner });
    await restartDone;

    expect(killed).not.toBeNull();
    expect(restarted).toBe(true);
    const k = killed!;
    // the killed worker never finished its trial: another worker did
    const end = events.find((e) => e.type === 'trialEnd' && e.trial === k.trial) as { worker: string } | undefined;
    expect(end?.worker).toBeDefined();
    expect(end!.worker).not.toBe(k.worker);
    expect(runner.stats().retried).toBeGreaterThanOrEqual(1);
    // the search lost nothing and changed nothing
    expect(onQueue.trials.length).toBe(9);
    expect(bits(onQueue.trials as Trial[])).toEqual(bits(inProc.trials as Trial[]));
    expect(tableNoTime(onQueue.table())).toBe(tableNoTime(inProc.table()));
    expect(onQueue.best.index).toBe(inProc.best.index);
    // progress: every trial's epochs arrived in order, and per-worker throughput covers the 9 trials
    const st = runner.stats();
    expect(st.trials).toBe(9);
    expect(st.workers.reduce((s, w) => s + w.trials, 0)).toBe(9);
    for (const w of st.workers) {
      expect(['w0', 'w1', 'w2']).toContain(w.worker);
      expect(w.trialsPerMinute).toBeGreaterThan(0);
    }
    for (const t of onQueue.trials) {
      const eps = events.filter((e): e is Extract<typeof e, { type: 'epoch' }> => e.type === 'epoch' && e.trial === t.index);
      const lastAttempt = eps.slice(eps.map((e) => e.epoch).lastIndexOf(0));
      expect(lastAttempt.map((e) => e.epoch)).toEqual(t.history!.epoch);
    }
    expect(workers[1]!.proc.signalCode).toBe('SIGKILL');
  }, 240_000);
});

describe('queueRunner: typed errors', () => {
  it('refuses a bad connection URL, queue name or option at once (OptionError naming it)', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ connection: 'http://127.0.0.1:6379' }, 'connection', /not a Redis URL \(the scheme is http:/],
      [{ connection: 'redis://127.0.0.1:99999' }, 'connection', /not a Redis URL/],
      [{ connection: 'redis://127.0.0.1:6379/x' }, 'connection', /not a database number/],
      [{ connection: 42 }, 'connection', /pass the Redis URL/],
      [{ connection: { host: 'h', port: 0 } }, 'connection', /connection.port = 0/],
      [{ connection: 'redis://h', queueName: 'a:b' }, 'queueName', /without ':'/],
      [{ connection: 'redis://h', maxDataBytes: 0 }, 'maxDataBytes', /expected an integer from 1/],
      [{ connection: 'redis://h', signal: {} }, 'signal', /AbortSignal/],
      [{ connection: 'redis://h', concurrency: 2 }, 'concurrency', /unknown option/i],
    ];
    for (const [o, option, msg] of cases) {
      let err: unknown;
      try {
        Q.queueRunner(o as never);
      } catch (e) {
        err = e;
      }
      expect((err as Error).name, JSON.stringify(o)).toBe('OptionError');
      expect((err as { option: string }).option).toBe(option);
      expect((err as Error).message).toMatch(msg);
    }
    expect(() => Q.startQueueWorker({ connection: 'localhost:6379' })).toThrow(/not a Redis URL/);
    expect(() => Q.startQueueWorker({ connection: 'redis://h', concurrency: 0 })).toThrow(/concurrency = 0/);
  });

  it('names the package to install when an optional peer dependency is missing', async () => {
    const { loadPeer } = await import('../../ts/queue/connect.js');
    const e = await loadPeer('wasmfit-no-such-peer', 'queueRunner').catch((x: unknown) => x);
    expect((e as Error).name).toBe('RuntimeSupportError');
    expect((e as Error).message).toMatch(/'wasmfit-no-such-peer' is not installed.*npm install bullmq ioredis/);
  });

  it('wasmfit worker: usage errors are one line and exit code 2', async () => {
    const { spawnSync } = await import('node:child_process');
    const cli = join(process.cwd(), 'dist', 'cli.mjs');
    const a = spawnSync(process.execPath, [cli, 'worker'], { encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/^wasmfit worker: --redis is required/);
    const b = spawnSync(process.execPath, [cli, 'worker', '--redis', 'http://127.0.0.1:1'], { encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.stderr).toMatch(/not a Redis URL/);
  });
});

describe('queueRunner: failed trials, oversized data, cancellation', () => {
  let aux: WorkerProc;
  type BullQueue = { getJobCounts(...t: string[]): Promise<Record<string, number>>; add(n: string, d: unknown, o: object): Promise<{ id: string }>; getJob(id: string): Promise<{ getState(): Promise<string>; failedReason: string; attemptsMade: number } | undefined>; close(): Promise<void>; obliterate(o: object): Promise<void> };
  let queue: BullQueue;
  beforeAll(async () => {
    aux = startWorker(redis.url, 'aux', ['--queue', 'aux']);
    workers.push(aux);
    const { Queue } = (await import('bullmq')) as unknown as { Queue: new (n: string, o: object) => BullQueue };
    queue = new Queue('aux', { connection: { url: redis.url } });
    await until('the aux worker', () => aux.out().includes('waiting for trials'));
  });
  afterAll(async () => {
    await queue?.close();
  });

  it('records diverging trials as failed with the in-process message, and a typed error in the worker as failed at once', async () => {
    // regression y = 3x + 1; lr 1e9 diverges (NonFiniteError)
    const x = Float32Array.from({ length: 64 }, (_, i) => (i % 8) / 4 - 1);
    const y = wf.matrix(Float32Array.from(x, (v) => 3 * v + 1), [64, 1]);
    const common = {
      space: { lr: wf.choice([1e-2, 1e9]), hidden: wf.intUniform(2, 7) },
      spec: (c: { lr: number; hidden: number }) => ({
        model: { inputShape: [1] as [number], layers: [wf.dense(c.hidden, { activation: 'tanh' }), wf.dense(1)], optimizer: wf.sgd({ lr: c.lr }), loss: 'mse' as const },
        fit: { batchSize: 8 },
      }),
      data: { x, y },
      metric: 'loss',
      trials: 5,
      budget: { epochs: 3 },
      seed: 3,
    };
    const inProc = await wf.randomSearch(common);
    const onQueue = await wf.randomSearch({ ...common, runner: Q.queueRunner({ connection: redis.url, queueName: 'aux' }) });
    expect(bits(onQueue.trials as Trial[])).toEqual(bits(inProc.trials as Trial[]));
    const diverged = onQueue.trials.filter((t) => Number.isNaN(t.metric));
    expect(diverged.length).toBeGreaterThan(0);
    for (const t of diverged) expect([t.config.lr, t.error]).toEqual([1e9, expect.stringMatching(/non-finite/)]);

    // 2 input features for 1-feature data: the worker's fitInWorker throws a ShapeError; in process
    // the search would reject, on the queue that trial is recorded as failed, tried once
    const before = (aux.out().match(/^start /gm) ?? []).length;
    const bad = await wf.randomSearch({
      ...common,
      trials: 1,
      spec: (c) => ({ ...common.spec(c), model: { ...common.spec(c).model, inputShape: [2] as [number] } }),
      runner: Q.queueRunner({ connection: redis.url, queueName: 'aux', attempts: 3 }),
    });
    expect(bad.trials[0]!.metric).toBeNaN();
    expect(bad.trials[0]!.error).toBe('fit: 64 target rows for 32 samples. Pass one row of 1 targets per sample.');
    expect((aux.out().match(/^start /gm) ?? []).length - before).toBe(1);
  });

  it('fails a queued trial that lacks its spec fields at once, with an OptionError naming the field', async () => {
    const job = await queue.add('trial', { v: 1, search: 'handmade', trial: 0, data: 'a'.repeat(64), val: false }, { jobId: 'handmade-0', attempts: 3 });
    let state = '';
    await until('the handmade job to fail', async () => (state = (await (await queue.getJob(job.id))!.getState())) === 'failed');
    const j = (await queue.getJob(job.id))!;
    expect(j.failedReason).toMatch(/^\[wasmfit OptionError on aux\] startQueueWorker: the queued trial has job = undefined; expected the packed trial/);
    expect(j.attemptsMade).toBe(1);
    const j2 = await queue.add('trial', { v: 99, search: 'handmade', trial: 1, data: 'a'.repeat(64), val: false, job: 'x' }, { jobId: 'handmade-1', attempts: 3 });
    await until('the v99 job to fail', async () => (await (await queue.getJob(j2.id))!.getState()) === 'failed');
    expect((await queue.getJob(j2.id))!.failedReason).toMatch(/has v = 99; expected payload version 1/);
    await queue.obliterate({ force: true });
  });

  it('refuses data over maxDataBytes before queuing anything (OptionError naming maxDataBytes)', async () => {
    const { x, y } = blobs(600, 16, 4); // 600·16·4 + 600·4 bytes ≈ 40 KB
    const e = await wf
      .randomSearch({
        space: { lr: wf.logUniform(1e-3, 1e-1) },
        spec: (c) => ({ model: { inputShape: [16], layers: [wf.dense(3)], optimizer: wf.adam({ lr: c.lr }), loss: 'softmaxCrossEntropy' } }),
        data: { x, y },
        metric: 'loss',
        trials: 3,
        budget: { epochs: 1 },
        runner: Q.queueRunner({ connection: redis.url, queueName: 'aux', maxDataBytes: 32 * 1024 }),
      })
      .catch((x: unknown) => x);
    expect((e as Error).name).toBe('OptionError');
    expect((e as { option: string }).option).toBe('maxDataBytes');
    expect((e as Error).message).toMatch(/packs to \d\d\.\d KiB, over maxDataBytes = 32\.0 KiB\. Raise maxDataBytes/);
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });

  it('cancels with an AbortSignal: rejects with its reason and removes the queued trials', async () => {
    const { x, y } = blobs(3000, 16, 5);
    const ac = new AbortController();
    const reason = new Error('enough');
    let ends = 0;
    const doneBefore = (aux.out().match(/^done /gm) ?? []).length;
    const startBefore = (aux.out().match(/^start /gm) ?? []).length;
    const e = await wf
      .randomSearch({
        space: { lr: wf.logUniform(1e-3, 1e-1) },
        spec: (c) => ({ model: { inputShape: [16], layers: [wf.dense(64, { activation: 'relu' }), wf.dense(3)], optimizer: wf.adam({ lr: c.lr }), loss: 'softmaxCrossEntropy' }, fit: { batchSize: 8 } }),
        data: { x, y },
        metric: 'loss',
        trials: 12,
        budget: { epochs: 6 },
        runner: Q.queueRunner({ connection: redis.url, queueName: 'aux', signal: ac.signal, onProgress: (ev) => ev.type === 'trialEnd' && ++ends === 1 && ac.abort(reason) }),
      })
      .catch((x: unknown) => x);
    expect(e).toBe(reason);
    // nothing waits any more; the trial that was running stops at its next epoch
    await until('the queue to drain', async () => {
      const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
      return Object.values(c).every((n) => n === 0);
    });
    // one trial or two trained; the rest were removed before a worker took them (a worker may
    // take one more in the meantime: it sees the cancel mark and stops it)
    const done = (aux.out().match(/^done /gm) ?? []).length - doneBefore;
    const started = (aux.out().match(/^start /gm) ?? []).length - startBefore;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(started).toBeLessThan(6);
  });
});
