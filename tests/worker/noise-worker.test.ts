// Noise layers in workers: a spec with gaussianDropout and alphaDropout crosses to fitInWorker as
// data and trains there to the same bits as in process (through the built bundle): the noise
// stream is keyed by the fit seed and layer position only.
import { beforeAll, describe, expect, it } from 'vitest';
import { bits, loadBuilt, type Lib, type WorkerLib } from './built.js';

let wf: Lib;
let W: WorkerLib;

beforeAll(async () => {
  ({ wf, W } = await loadBuilt());
});

describe('noise layers in fitInWorker', () => {
  it('a selu / alphaDropout / gaussianDropout spec trains in a worker to the in-process bits', async () => {
    const rng = new wf.Rng(5);
    const n = 48;
    const x = new Float32Array(n * 6).map(() => rng.normal());
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const layers = [
      wf.dense(10, { activation: 'selu', kernelInitializer: 'lecunNormal' }), wf.alphaDropout(0.2),
      wf.dense(8, { activation: 'tanh' }), wf.gaussianDropout(0.3), wf.dense(3),
    ];
    const spec = { inputShape: [6] as [number], layers, seed: 2, optimizer: wf.adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' as const };
    const m = new wf.Sequential({ inputShape: spec.inputShape, layers, seed: 2 });
    m.compile({ optimizer: spec.optimizer, loss: spec.loss });
    const hist = await m.fit(x, y, { epochs: 3, batchSize: 8, seed: 4 });
    const r = await W.fitInWorker(spec, x, y, { epochs: 3, batchSize: 8, seed: 4 }).result;
    expect(r.status).toBe('completed');
    expect(r.history.history.loss).toEqual(hist.history.loss);
    expect(bits(r.weights)).toEqual(bits(m.getWeights()));
    m.dispose();
  });
});
