// Random search with trials in workers (workerRunner of wasmfit/worker, through the built bundle):
// the same spec-described search run in process and in workers (2 at a time) produces the same
// trials bit for bit — configs, every epoch's logs, scores, inspect results, refinement — because a
// trial trains with the same code and seeds wherever it runs; a spec search also matches the same
// search written with `build`. Diverging trials and workers that die mid-training are recorded as
// failed trials; setup errors reject the search.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Lib = typeof import('../../ts/index.js') & typeof import('../../ts/tuning/index.js');
type WorkerLib = typeof import('../../ts/worker/index.js');

let wf: Lib;
let W: WorkerLib;
const tmp = mkdtempSync(join(tmpdir(), 'wasmfit-tuning-worker-'));

beforeAll(async () => {
  const dist = (f: string) => import(pathToFileURL(join(process.cwd(), 'dist', f)).href);
  wf = { ...(await dist('wasmfit.mjs')), ...(await dist('tuning.mjs')) } as Lib;
  W = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as WorkerLib;
  await wf.init();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Three Gaussian blobs in 6-D (seeded): class c centred at 1.2·e_c. */
function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new wf.Rng(seed);
  const x = new Float32Array(n * 6);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = rng.normal() + (j === c ? 1.2 : 0);
  }
  return { x, y };
}

type Trial = { index: number; round: number; config: unknown; seed: number; metric: number; epochs: number; history?: unknown; extra?: unknown; error?: string };
/** Everything about a trial except its wall time. */
const strip = (ts: readonly Trial[]) => ts.map(({ index, round, config, seed, metric, epochs, history, extra, error }) => ({ index, round, config, seed, metric, epochs, history, extra, error }));

describe('randomSearch with workerRunner', () => {
  const train = () => blobs(240, 1);
  const val = () => blobs(90, 2);
  const test = () => blobs(90, 3);
  // hidden width, rate, batch size, schedule and optimizer all vary; dropout makes every trial
  // depend on its seed-derived dropout stream; early stopping ends some trials early
  const space = () => ({
    lr: wf.logUniform(1e-3, 0.3),
    hidden: wf.intUniform(4, 24),
    batchSize: wf.choice([16, 32]),
    optimizer: wf.choice(['adam', 'sgd']),
    schedule: wf.choice([null, wf.cosineAnnealingLR({ lr: 1, tMax: 6 })]),
  });
  type C = { lr: number; hidden: number; batchSize: number; optimizer: string; schedule: unknown };
  const modelOf = (c: C, seed: number) => ({
    inputShape: [6] as [number],
    layers: [wf.dense(c.hidden, { activation: 'relu' }), wf.dropout(0.2), wf.dense(3)],
    seed,
    optimizer: c.optimizer === 'adam' ? wf.adam({ lr: c.lr }) : wf.sgd({ lr: c.lr, momentum: 0.9 }),
    loss: 'softmaxCrossEntropy' as const,
  });
  const scheduleOf = (c: C) => (c.schedule ? wf.cosineAnnealingLR({ lr: c.lr, tMax: 6 }) : undefined);

  it('gives bit-identical trials in process and in 2 workers (refinement, early stopping, inspect), and matches the build form', async () => {
    const { x, y } = train();
    const v = val();
    const t = test();
    const common = {
      space: space(),
      data: { x, y, validationData: [v.x, v.y] as const },
      inspect: (m: import('../../ts/index.js').Sequential) => ({ testAccuracy: m.evaluate(t.x, t.y).accuracy }),
      trials: 6,
      budget: { epochs: 6, earlyStopping: { patience: 1 } },
      metric: 'valLoss',
      seed: 11,
      refine: { rounds: 1, trials: 4, top: 2 },
    };
    const spec = (c: C, { seed }: { seed: number }) => {
      const s = scheduleOf(c);
      return { model: modelOf(c, seed), fit: { batchSize: c.batchSize, ...(s ? { schedule: s } : {}) } };
    };
    const t0 = Date.now();
    const inProc = await wf.randomSearch({ ...common, spec });
    const t1 = Date.now();
    const inWorkers = await wf.randomSearch({ ...common, spec, runner: W.workerRunner({ concurrency: 2 }) });
    const t2 = Date.now();
    // the same search written with build (models built and fitted here, by the caller's code)
    const built = await wf.randomSearch({
      ...common,
      build: (c: C, { seed }) => {
        const m = modelOf(c, seed);
        const model = new wf.Sequential({ inputShape: m.inputShape, layers: m.layers, seed });
        model.compile({ optimizer: m.optimizer, loss: m.loss });
        const s = scheduleOf(c);
        return { model, fit: { batchSize: c.batchSize, ...(s ? { schedule: s } : {}) } };
      },
    });
    console.log(`6 + 4 trials: in process ${t1 - t0} ms, workerRunner(2) ${t2 - t1} ms`);

    expect(inProc.trials.length).toBe(10);
    expect(inProc.trials.every((tr) => Number.isFinite(tr.metric) && tr.history !== undefined && tr.extra !== undefined)).toBe(true);
    // the search really varied: different epoch counts (early stopping) and both optimizers
    expect(new Set(inProc.trials.map((tr) => tr.epochs)).size).toBeGreaterThan(1);
    expect(new Set(inProc.trials.map((tr) => tr.config.optimizer)).size).toBe(2);
    // toEqual compares numbers with Object.is: every logged value, score and test accuracy is identical
    expect(strip(inWorkers.trials)).toEqual(strip(inProc.trials));
    expect(inWorkers.spaces).toEqual(inProc.spaces);
    expect(inWorkers.best.config).toEqual(inProc.best.config);
    expect(strip(built.trials)).toEqual(strip(inProc.trials));
  }, 30000);

  it('records diverging trials and workers that die mid-training as failed; the other trials still match', async () => {
    // regression y = 3x + 1; lr 1e9 diverges (NonFiniteError inside the worker)
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
      trials: 8,
      budget: { epochs: 4 },
      seed: 3,
    };
    const inProc = await wf.randomSearch(common);
    const inWorkers = await wf.randomSearch({ ...common, runner: W.workerRunner({ concurrency: 2 }) });
    const diverged = inWorkers.trials.filter((tr) => Number.isNaN(tr.metric));
    expect(diverged.length).toBeGreaterThan(0);
    expect(diverged.every((tr) => tr.config.lr === 1e9 && /loss became|the update made .* non-finite/.test(tr.error ?? ''))).toBe(true);
    expect(strip(inWorkers.trials)).toEqual(strip(inProc.trials));

    // a worker script that exits (code 7) after the first epoch of every trial with an odd width:
    // it wraps the real worker script and watches its messages
    const wrapper = join(tmp, 'crashing-worker.mjs');
    const real = pathToFileURL(join(process.cwd(), 'dist', 'worker-thread.mjs')).href;
    writeFileSync(
      wrapper,
      `import { parentPort } from 'node:worker_threads';
let crash = false;
const on = parentPort.on.bind(parentPort);
parentPort.on = (ev, fn) => on(ev, ev === 'message' ? (m) => { if (m.type === 'start') crash = m.model.layers[0].units % 2 === 1; fn(m); } : fn);
const post = parentPort.postMessage.bind(parentPort);
parentPort.postMessage = (m, t) => { if (crash && m.type === 'epoch') process.exit(7); return post(m, t); };
await import(${JSON.stringify(real)});
`,
    );
    const crashed = await wf.randomSearch({ ...common, space: { lr: wf.choice([1e-2]), hidden: wf.intUniform(2, 7) }, runner: W.workerRunner({ concurrency: 2, worker: { url: pathToFileURL(wrapper) } }) });
    const ref = await wf.randomSearch({ ...common, space: { lr: wf.choice([1e-2]), hidden: wf.intUniform(2, 7) } });
    const odd = crashed.trials.filter((tr) => tr.config.hidden % 2 === 1);
    const even = crashed.trials.filter((tr) => tr.config.hidden % 2 === 0);
    expect(odd.length).toBeGreaterThan(0);
    expect(even.length).toBeGreaterThan(0);
    for (const tr of odd) {
      expect(tr.metric).toBeNaN();
      expect(tr.error).toMatch(/exited \(code 7\)/);
    }
    const refByIndex = new Map(strip(ref.trials).map((tr) => [tr.index, tr]));
    for (const tr of strip(even)) expect(tr).toEqual(refByIndex.get(tr.index));
    expect(crashed.trials.slice(0, even.length).map((tr) => tr.config.hidden % 2)).toEqual(even.map(() => 0));
  }, 30000);

  it('refuses what it cannot run: build/objective searches, bad options, spec fit options the search sets; setup errors reject', async () => {
    const { x, y } = blobs(30, 4);
    const space = { lr: wf.logUniform(1e-3, 1e-1) };
    const build = () => {
      const m = new wf.Sequential({ inputShape: [6], layers: [wf.dense(3)] });
      m.compile({ optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
      return m;
    };
    let calls = 0;
    const counted = () => {
      calls++;
      return build();
    };
    const err = await wf.randomSearch({ space, build: counted, data: { x, y }, trials: 2, metric: 'loss', runner: W.workerRunner({ concurrency: 2 }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(wf.OptionError);
    expect((err as InstanceType<Lib['OptionError']>).option).toBe('runner');
    expect((err as Error).message).toMatch(/spec/);
    expect(calls).toBe(0);
    await expect(wf.randomSearch({ space, objective: () => 1, trials: 2, runner: W.workerRunner() })).rejects.toThrow(/give spec/);
    expect(() => W.workerRunner({ concurrency: 0 })).toThrow(/concurrency = 0/);
    expect(() => W.workerRunner({ concurrency: 1.5 })).toThrow(wf.OptionError);
    expect(() => W.workerRunner({ threads: 2 } as never)).toThrow(/unknown option 'threads'/);
    expect(() => W.workerRunner({ worker: { transfer: true } as never })).toThrow(/worker.transfer/);

    const spec = (c: { lr: number }) => ({ model: { inputShape: [6] as [number], layers: [wf.dense(3)], optimizer: wf.sgd({ lr: c.lr }), loss: 'softmaxCrossEntropy' as const }, fit: { epochs: 3 } as never });
    await expect(wf.randomSearch({ space, spec, data: { x, y }, trials: 2, metric: 'loss', runner: W.workerRunner() })).rejects.toThrow(/fit.epochs is set by the search/);
    await expect(wf.randomSearch({ space, spec, build, data: { x, y }, trials: 2 } as never)).rejects.toThrow(/not build and spec/);
    // a spec the worker rejects (7 features for a 6-feature dataset): the typed error, not a failed trial
    const wrong = (c: { lr: number }) => ({ model: { inputShape: [7] as [number], layers: [wf.dense(3)], optimizer: wf.sgd({ lr: c.lr }), loss: 'softmaxCrossEntropy' as const } });
    const e2 = await wf.randomSearch({ space, spec: wrong, data: { x, y }, trials: 3, metric: 'loss', runner: W.workerRunner({ concurrency: 2 }) }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(wf.ShapeError);
    // a worker script that cannot load is a setup error, not a failed trial
    const e3 = await wf
      .randomSearch({ space, spec: (c) => ({ model: { ...wrong(c).model, inputShape: [6] as [number] } }), data: { x, y }, trials: 2, metric: 'loss', runner: W.workerRunner({ worker: { url: pathToFileURL(join(tmp, 'missing.mjs')) } }) })
      .catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(wf.RuntimeSupportError);
  }, 20000);
});
