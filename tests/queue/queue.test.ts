// Searches on a BullMQ queue in Redis (wasmfit/queue, through the built bundle): a private
// redis-server and `wasmfit worker` processes (dist/cli.mjs). The same spec-described search run in
// process and on 3 worker processes gives the same trials bit for bit — also when one worker is
// SIGKILLed mid-trial (another retries its trial) and Redis is restarted mid-search. Typed errors,
// failed-trial recording and cancellation are checked against the queue's own state.
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
  Q = (await dist('queue.mjs')) as QueueLib;
  await wf.init();
  redis = await startRedis();
});
afterAll(async () => {
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
/** The search table without its 'time ms' column (wall time differs between any two runs). */
const tableNoTime = (t: string) =>
  t
    .split('\n')
    .map((line, i) => (i === 1 ? line : line.replace(/^(\s*\S+\s+\S+\s+\S+\s+\S+\s+)\S+/, '$1')))
    .join('\n');

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
