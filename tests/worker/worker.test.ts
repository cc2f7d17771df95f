// wasmfit/worker in Node (worker_threads), through the built bundle: the model, optimizer,
// schedule and serializable callbacks cross as plain data and train bit-identically to an
// in-process fit; events, the async iterator, cancel, transfers and typed errors.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

type Lib = typeof import('../../ts/index.js');
type WorkerLib = typeof import('../../ts/worker/index.js');

let wf: Lib;
let W: WorkerLib;

beforeAll(async () => {
  wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as Lib;
  W = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as WorkerLib;
  await wf.init();
});

/** Three Gaussian blobs in 5-D (seeded): class c centred at 1.5·e_c. */
function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new wf.Rng(seed);
  const x = new Float32Array(n * 5);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < 5; j++) x[i * 5 + j] = rng.normal() * 0.8 + (j === c ? 1.5 : 0);
  }
  return { x, y };
}

const same = (a: { data: Float32Array }[], b: { data: Float32Array }[]): boolean =>
  a.length === b.length && a.every((t, i) => t.data.length === b[i]!.data.length && t.data.every((v, j) => Object.is(v, b[i]!.data[j])));

function inProcess(spec: import('../../ts/worker/index.js').WorkerModelSpec, x: Float32Array, y: Int32Array, fit: import('../../ts/index.js').FitOptions) {
  const m = new wf.Sequential({ inputShape: spec.inputShape, layers: spec.layers, ...(spec.seed !== undefined ? { seed: spec.seed } : {}) });
  m.compile({ optimizer: spec.optimizer, loss: spec.loss });
  return { m, history: m.fit(x, y, fit) };
}

describe('fitInWorker (Node worker_threads)', () => {
  it('trains bit-identically to an in-process fit: dropout, batch norm, L1/L2, max-norm, nesterov SGD, step schedule, weights', async () => {
    const { x, y } = blobs(300, 1);
    const val = blobs(60, 2);
    const spec = {
      inputShape: [5] as [number],
      layers: [
        wf.dense(16, { kernelRegularizer: wf.l1l2({ l1: 1e-4, l2: 1e-3 }), kernelConstraint: wf.maxNorm({ maxValue: 2 }) }),
        wf.batchNorm(),
        wf.activation('elu'),
        wf.dropout(0.25),
        wf.dense(3),
      ],
      seed: 3,
      optimizer: wf.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, clipNorm: 1 }),
      loss: 'softmaxCrossEntropy' as const,
    };
    const fit = { epochs: 6, batchSize: 16, seed: 9, validationData: [val.x, val.y] as const, schedule: wf.stepLR({ lr: 0.05, stepSize: 2, gamma: 0.5 }), sampleWeight: Float32Array.from({ length: 300 }, (_, i) => 1 + (i % 2)) };
    const job = W.fitInWorker(spec, x, y, fit);
    const r = await job.result;
    const ref = inProcess(spec, x, y, fit);
    const h = await ref.history;
    expect(r.status).toBe('completed');
    expect(r.history).toEqual(h);
    expect(r.history.history.lr).toEqual([0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125]);
    expect(same(r.weights, ref.m.getWeights())).toBe(true);
    expect(r.weights.map((w) => w.name)).toEqual(ref.m.getWeights().map((w) => w.name));
    ref.m.dispose();
  });

  it('early stopping with restoreBestWeights and plateau reduction cross as configs and match the callbacks', async () => {
    const { x, y } = blobs(240, 4);
    const spec = { inputShape: 5, layers: [wf.dense(12, { activation: 'relu' }), wf.dense(3)], seed: 5, optimizer: wf.adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' as const };
    const es = { monitor: 'valLoss', patience: 2, restoreBestWeights: true };
    const r1 = await W.fitInWorker(spec, x, y, { epochs: 40, batchSize: 8, validationSplit: 0.25, earlyStopping: es }).result;
    const a = inProcess(spec, x, y, { epochs: 40, batchSize: 8, validationSplit: 0.25, callbacks: [wf.earlyStopping(es)] });
    expect(r1.history).toEqual(await a.history);
    expect(r1.status).toBe('stopped');
    expect(r1.history.epoch.length).toBeLessThan(40);
    expect(same(r1.weights, a.m.getWeights())).toBe(true);
    a.m.dispose();

    const plateau = wf.reduceLROnPlateau({ factor: 0.5, patience: 0 });
    const r2 = await W.fitInWorker(spec, x, y, { epochs: 8, batchSize: 8, validationSplit: 0.25, reduceLROnPlateau: { reducer: plateau, monitor: 'loss' } }).result;
    const b = inProcess(spec, x, y, { epochs: 8, batchSize: 8, validationSplit: 0.25, callbacks: [wf.plateauCallback(plateau, { monitor: 'loss' })] });
    expect(r2.history).toEqual(await b.history);
    expect(same(r2.weights, b.m.getWeights())).toBe(true);
    b.m.dispose();
  });

  it('streams trainBegin, batch and epoch events (with weights and predictions) and an async iterator in order', async () => {
    const { x, y } = blobs(90, 6);
    const probe = blobs(7, 7).x;
    const spec = { inputShape: [5] as [number], layers: [wf.dense(8, { activation: 'tanh' }), wf.dense(3)], seed: 1, optimizer: wf.adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' as const };
    const job = W.fitInWorker(spec, x, y, { epochs: 3, batchSize: 30, batchEventMs: 0, epochWeights: true, epochPredict: probe });
    const seen: string[] = [];
    const epochs: import('../../ts/worker/index.js').FitJobEvents['epoch'][] = [];
    job.on('epoch', (e) => epochs.push(e));
    for await (const e of job) seen.push(e.type === 'batch' ? `b${e.epoch}.${e.batch}` : e.type === 'epoch' ? `e${e.epoch}` : e.type);
    const r = await job.result;
    expect(seen).toEqual(['ready', 'trainBegin', 'b0.0', 'b0.1', 'b0.2', 'e0', 'b1.0', 'b1.1', 'b1.2', 'e1', 'b2.0', 'b2.1', 'b2.2', 'e2']);
    expect(epochs.map((e) => e.logs)).toEqual(r.history.epoch.map((_, i) => Object.fromEntries(Object.entries(r.history.history).map(([k, v]) => [k, v[i]]))));
    // the last epoch's weights are the final weights; its predictions are predict() with them
    expect(same(epochs[2]!.weights!, r.weights)).toBe(true);
    const m = new wf.Sequential({ inputShape: [5], layers: spec.layers, seed: 1 });
    m.setWeights(r.weights);
    const p = m.predict(probe);
    expect(epochs[2]!.predictions!.shape).toEqual([7, 3]);
    expect(Array.from(epochs[2]!.predictions!.data)).toEqual(Array.from(p.data));
    m.dispose();
  });

  it('cancel stops at a batch boundary and resolves with the weights so far', async () => {
    const { x, y } = blobs(3000, 8);
    const spec = { inputShape: [5] as [number], layers: [wf.dense(64, { activation: 'relu' }), wf.dense(3)], seed: 2, optimizer: wf.sgd({ lr: 0.01 }), loss: 'softmaxCrossEntropy' as const };
    const job = W.fitInWorker(spec, x, y, { epochs: 500, batchSize: 4 });
    job.on('epoch', () => job.cancel());
    const r = await job.result;
    expect(r.status).toBe('cancelled');
    expect(r.history.epoch.length).toBeGreaterThanOrEqual(1);
    expect(r.history.epoch.length).toBeLessThan(500);
    expect(r.weights).toHaveLength(4);
    expect(r.weights.every((w) => w.data.every(Number.isFinite))).toBe(true);
    // cancelling before the worker starts ends the job before any step
    const early = W.fitInWorker(spec, x, y, { epochs: 5 });
    early.cancel();
    const r2 = await early.result;
    expect(r2.status).toBe('cancelled');
    expect(r2.history.epoch).toEqual([]);
  });

  it('copies by default and hands over the caller\'s buffers with worker.transfer', async () => {
    const { x, y } = blobs(30, 9);
    const spec = { inputShape: [5] as [number], layers: [wf.dense(3)], optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' as const };
    await W.fitInWorker(spec, x, y).result;
    expect(x.length).toBe(150);
    expect(y.length).toBe(30);
    const r = await W.fitInWorker(spec, x, y, { worker: { transfer: true } }).result;
    expect(r.status).toBe('completed');
    expect(x.length).toBe(0); // detached: transferred, not copied
    expect(y.length).toBe(0);
  });

  it('takes number[][] features, one-hot rows and regression targets', async () => {
    const rows = [[0, 0], [0, 1], [1, 0], [1, 1]];
    const spec = { inputShape: [2] as [number], layers: [wf.dense(2)], seed: 1, optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' as const };
    const r = await W.fitInWorker(spec, rows, [[1, 0], [0, 1], [0, 1], [0, 1]], { epochs: 2, batchSize: 4 }).result;
    const ref = inProcess(spec, Float32Array.from(rows.flat()), Int32Array.from([0, 1, 1, 1]), { epochs: 2, batchSize: 4 });
    await ref.history;
    expect(same(r.weights, ref.m.getWeights())).toBe(true);
    ref.m.dispose();
    const reg = await W.fitInWorker({ ...spec, loss: 'mse' }, rows, { data: Float32Array.from([0, 1, 1, 2, 0, 1, 1, 2]), shape: [4, 2] }, { epochs: 30, batchSize: 4 }).result;
    const loss = reg.history.history.loss!;
    expect(loss.at(-1)!).toBeLessThan(loss[0]!);
  });

  it('takes Float64Array and flat number[] features, Float32Array / Float64Array class ids and 1-D targets as fit does (issue 15)', async () => {
    const { x, y } = blobs(30, 4);
    const x64 = Float64Array.from(x, (v) => v + 1e-12);
    const spec = { inputShape: [5] as [number], layers: [wf.dense(3)], seed: 2, optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' as const };
    const fit = { epochs: 2, batchSize: 8, seed: 3 };
    const ref = inProcess(spec, x, y, fit);
    await ref.history;
    for (const [xs, ys] of [[x64, Float32Array.from(y)], [Array.from(x64), Float64Array.from(y)]] as const) {
      const r = await W.fitInWorker(spec, xs, ys, fit).result;
      expect(same(r.weights, ref.m.getWeights())).toBe(true);
    }
    ref.m.dispose();
    const t = Array.from({ length: 30 }, (_, i) => x[i * 5]! - x[i * 5 + 1]!);
    const reg = { ...spec, layers: [wf.dense(1)], loss: 'mse' as const };
    const a = await W.fitInWorker(reg, x, t, fit).result;
    const b = await W.fitInWorker(reg, x, { data: Float32Array.from(t), shape: [30, 1] }, fit).result;
    expect(same(a.weights, b.weights)).toBe(true);
    let err: unknown;
    try {
      W.fitInWorker(spec, x, Array.from(y, (c) => ['a', 'b', 'c'][c]!) as never, fit);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'OptionError', option: 'y' });
    expect((err as Error).message).toMatch(/^fitInWorker: y\[0\] is "a" \(string\); string class labels do not cross to a worker/);
    try {
      W.fitInWorker(spec, Int32Array.from(x) as never, y, fit);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/received Int32Array\(150\)/);
  });

  it('rejects bad input with typed errors: synchronously what it can check, through result what the worker finds', async () => {
    const { x, y } = blobs(30, 10);
    const spec = { inputShape: [5] as [number], layers: [wf.dense(3)], optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' as const };
    const sync = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as { name: string; option?: string; message: string };
      }
      throw new Error('expected a throw');
    };
    expect(sync(() => W.fitInWorker(spec, x, y, { epochz: 3 } as never))).toMatchObject({ name: 'OptionError', option: 'epochz' });
    expect(sync(() => W.fitInWorker(spec, x, y, { callbacks: [] } as never))).toMatchObject({ name: 'OptionError', option: 'callbacks' });
    const lambda = wf.lambdaLR({ lr: 0.1, lrLambda: (t: number) => 1 / (t + 1) });
    expect(sync(() => W.fitInWorker(spec, x, y, { schedule: lambda })).message).toMatch(/user function/);
    expect(sync(() => W.fitInWorker({ ...spec, inputShape: [0] as [number] }, x, y))).toMatchObject({ name: 'OptionError', option: 'inputShape' });
    expect(sync(() => W.fitInWorker({ ...spec, inputShape: [2] as [number] }, [[1, 2], [3]], [0, 1]))).toMatchObject({ name: 'ShapeError' });
    expect(sync(() => W.fitInWorker({ ...spec, optimizer: {} as never }, x, y))).toMatchObject({ name: 'OptionError', option: 'optimizer' });

    const rejects = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as { name: string; code: string; option?: string; message: string });
    const e1 = await rejects(W.fitInWorker(spec, x, y.subarray(0, 20)).result);
    expect(e1).toBeInstanceOf(wf.ShapeError);
    expect(e1.message).toMatch(/20 labels for 30 samples/);
    const bad = x.slice();
    bad[7] = NaN;
    expect(await rejects(W.fitInWorker(spec, bad, y).result)).toBeInstanceOf(wf.NonFiniteError);
    const e3 = await rejects(W.fitInWorker({ ...spec, layers: [wf.dropout(0.5), wf.dense(3)] }, x, y).result);
    expect(e3).toMatchObject({ name: 'OptionError', option: 'layers', code: 'E_OPTION' });
    const e4 = await rejects(W.fitInWorker(spec, x, y, { earlyStopping: { monitor: 'valLoss' }, epochs: 2 }).result);
    expect(e4).toMatchObject({ name: 'OptionError', option: 'monitor' });
    // a diverging loss: NonFiniteError, or status 'nonFinite' with terminateOnNaN
    const hot = { ...spec, optimizer: wf.sgd({ lr: 1e30 }) };
    const big = x.map((v) => v * 1e10);
    expect(await rejects(W.fitInWorker(hot, big, y, { epochs: 3 }).result)).toBeInstanceOf(wf.NonFiniteError);
    const t = await W.fitInWorker(hot, big, y, { epochs: 3, terminateOnNaN: true }).result;
    expect(t.status).toBe('nonFinite');
    const e5 = await rejects(W.fitInWorker(spec, x, y, { worker: { url: pathToFileURL(join(process.cwd(), 'dist', 'missing.mjs')) } }).result);
    expect(e5).toMatchObject({ name: 'RuntimeSupportError' });
  });

  it('works from CommonJS (require("wasmfit/worker"))', () => {
    const code = `
      const { dense, sgd } = require('wasmfit');
      const { fitInWorker } = require('wasmfit/worker');
      fitInWorker({ inputShape: [1], layers: [dense(2)], optimizer: sgd({ lr: 0.5 }), loss: 'softmaxCrossEntropy' },
        [[-1], [1], [-2], [2]], [0, 1, 0, 1], { epochs: 20, batchSize: 4 })
        .result.then((r) => console.log(r.status, r.history.history.accuracy.at(-1)));`;
    const out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    expect(out.trim()).toBe('completed 1');
  });
});
