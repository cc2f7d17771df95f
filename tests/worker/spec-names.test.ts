// Issue 15, items 1 and 5 in worker and tuning specs (through the built bundle): optimizers by name
// ('adam', …, as compile takes them) in fitInWorker, workerRunner and in-process random search; and
// custom losses / metrics (functions, which cannot be cloned to a worker) refused with a typed error
// that names the fix, before any worker starts.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

type Lib = typeof import('../../ts/index.js') & typeof import('../../ts/tuning/index.js');
type WorkerLib = typeof import('../../ts/worker/index.js');

let wf: Lib;
let W: WorkerLib;

beforeAll(async () => {
  const dist = (f: string) => import(pathToFileURL(join(process.cwd(), 'dist', f)).href);
  wf = { ...(await dist('wasmfit.mjs')), ...(await dist('tuning.mjs')) } as Lib;
  W = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as WorkerLib;
  await wf.init();
});

function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new wf.Rng(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = rng.normal() * 0.8 + (j === y[i] ? 1.5 : 0);
  }
  return { x, y };
}

const bits = (ws: { data: Float32Array }[]) => ws.map((w) => Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)));
const NAMES = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adamax', 'nadam', 'radam', 'adadelta', 'lion'] as const;

/** The error a call throws (synchronously), or null. */
function thrown(f: () => unknown): Error & { code?: string; option?: string } {
  try {
    f();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('did not throw');
}

describe('optimizers by name in specs', () => {
  it.each(NAMES)("fitInWorker with optimizer '%s' trains bit-identically to compile({ optimizer: '%s' }) in process", async (name) => {
    const { x, y } = blobs(90, 1);
    const spec = { inputShape: [4] as [number], layers: [wf.dense(8, { activation: 'relu' }), wf.dense(3)], seed: 3, optimizer: name, loss: 'softmaxCrossEntropy' as const };
    const m = new wf.Sequential({ inputShape: [4], layers: spec.layers, seed: 3 });
    m.compile({ optimizer: name, loss: spec.loss });
    const hist = await m.fit(x, y, { epochs: 3, batchSize: 16, seed: 5 });
    const r = await W.fitInWorker(spec, x, y, { epochs: 3, batchSize: 16, seed: 5 }).result;
    expect(r.status).toBe('completed');
    expect(r.history.history.loss).toEqual(hist.history.loss);
    expect(bits(r.weights)).toEqual(bits(m.getWeights()));
    m.dispose();
  });

  it("an unknown name is refused before the worker starts, with the name to use", () => {
    const { x, y } = blobs(9, 1);
    const e = thrown(() => W.fitInWorker({ inputShape: [4], layers: [wf.dense(3)], optimizer: 'Adam' as never, loss: 'softmaxCrossEntropy' }, x, y));
    expect(e.code).toBe('E_OPTION');
    expect(e.message).toMatch(/fitInWorker: spec.optimizer: optimizer = "Adam"; expected one of 'sgd', 'adam'.*Did you mean 'adam'\?/);
  });

  it('random search: optimizer names in trial specs, in process and in workers, give the same trials', async () => {
    const { x, y } = blobs(120, 2);
    const v = blobs(45, 4);
    const common = {
      space: { optimizer: wf.choice(['adam', 'rmsprop', 'sgd']), hidden: wf.intUniform(4, 12) },
      data: { x, y, validationData: [v.x, v.y] as const },
      trials: 4,
      budget: { epochs: 2 },
      metric: 'valLoss',
      seed: 7,
      spec: (c: { optimizer: string; hidden: number }) => ({
        model: { inputShape: [4] as [number], layers: [wf.dense(c.hidden, { activation: 'relu' }), wf.dense(3)], optimizer: c.optimizer as 'adam', loss: 'softmaxCrossEntropy' as const },
        fit: { batchSize: 16 },
      }),
    };
    const inProc = await wf.randomSearch(common);
    const inWorkers = await wf.randomSearch({ ...common, runner: W.workerRunner({ concurrency: 2 }) });
    expect(new Set(inProc.trials.map((t) => (t.config as { optimizer: string }).optimizer)).size).toBeGreaterThan(1);
    expect(inWorkers.trials.map((t) => t.metric)).toEqual(inProc.trials.map((t) => t.metric));
    inProc.trials.forEach((t) => expect(Number.isFinite(t.metric)).toBe(true));
  });
});

describe('custom losses and metrics cannot cross to a worker', () => {
  const logCosh = (t: Float32Array, p: Float32Array) => ({ loss: 0, grad: new Float32Array(p.length).map((_, i) => Math.tanh(p[i]! - t[i]!)) });
  const metric = function r2() {
    return 0;
  };

  it('fitInWorker refuses a custom loss or metric synchronously (no job, no worker), naming the fix', () => {
    const { x } = blobs(9, 1);
    const y = new Float32Array(27);
    for (const loss of [logCosh, { name: 'logCosh', fn: logCosh }]) {
      const e = thrown(() => W.fitInWorker({ inputShape: [4], layers: [wf.dense(3)], optimizer: 'adam', loss: loss as never }, x, y));
      expect(e.code).toBe('E_OPTION');
      expect(e.message).toBe('fitInWorker: spec.loss is a custom loss function, which cannot be sent to a worker; use a built-in loss, or train on this thread with model.compile(...) and model.fit(...) instead.');
    }
    const e = thrown(() => W.fitInWorker({ inputShape: [4], layers: [wf.dense(3)], optimizer: 'adam', loss: 'mse', metrics: [metric] } as never, x, y));
    expect(e.message).toMatch(/^fitInWorker: spec.metrics holds a custom metric function, which cannot be sent to a worker; train on this thread/);
  });

  it('random search refuses a trial spec with a custom loss, in process and with workerRunner', async () => {
    const { x, y } = blobs(30, 2);
    const common = {
      space: { lr: wf.logUniform(1e-3, 1e-1) },
      data: { x, y: new Float32Array(90) },
      trials: 2,
      budget: { epochs: 1 },
      metric: 'loss',
      spec: () => ({ model: { inputShape: [4] as [number], layers: [wf.dense(3)], optimizer: 'sgd' as const, loss: { name: 'logCosh', fn: logCosh } as never } }),
    };
    void y;
    await expect(wf.randomSearch(common)).rejects.toThrow(/spec model.loss is a custom loss function, which cannot be sent to a worker/);
    await expect(wf.randomSearch({ ...common, runner: W.workerRunner({ concurrency: 1 }) })).rejects.toThrow(/spec model.loss is a custom loss function/);
  });
});
