// depthwiseConv2d in workers: a model spec with depthwise (multiplier 1 and 2), pointwise and
// pooling layers crosses to fitInWorker as data and trains there to the same bits as in process
// (through the built bundle).
import { beforeAll, describe, expect, it } from 'vitest';
import { bits, loadBuilt, type Lib, type WorkerLib } from './built.js';

let wf: Lib;
let W: WorkerLib;

beforeAll(async () => {
  ({ wf, W } = await loadBuilt());
});

describe('depthwise convolutions in fitInWorker', () => {
  it('a depthwise-separable spec trains in a worker to the in-process bits', async () => {
    const rng = new wf.Rng(9);
    const n = 30;
    const x = new Float32Array(n * 8 * 7 * 3).map(() => rng.normal());
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const layers = [
      wf.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu', depthwiseConstraint: wf.maxNorm({ maxValue: 2 }) }),
      wf.conv2d(5, { kernelSize: 1, activation: 'relu' }),
      wf.depthwiseConv2d({ kernelSize: [3, 2], strides: 2, padding: 'same', depthwiseRegularizer: wf.l2(1e-3) }), wf.globalAveragePool2d(), wf.dense(3),
    ];
    const spec = { inputShape: [8, 7, 3] as [number, number, number], layers, seed: 4, optimizer: wf.adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' as const };
    const m = new wf.Sequential({ inputShape: spec.inputShape, layers, seed: 4 });
    m.compile({ optimizer: spec.optimizer, loss: spec.loss });
    const hist = await m.fit(x, y, { epochs: 3, batchSize: 8, seed: 5 });
    const r = await W.fitInWorker(spec, x, y, { epochs: 3, batchSize: 8, seed: 5 }).result;
    expect(r.status).toBe('completed');
    expect(r.history.history.loss).toEqual(hist.history.loss);
    expect(bits(r.weights)).toEqual(bits(m.getWeights()));
    expect(r.weights.map((w) => w.shape)).toEqual([[3, 3, 3, 2], [6], [1, 1, 6, 5], [5], [3, 2, 5, 1], [5], [5, 3], [3]]);
    m.dispose();
  });
});
