// Convolutional models in workers (issue 16: "everything that exists for dense layers works for
// these"): a model spec with image input, conv2d, batch norm over feature maps, pooling and flatten
// crosses to fitInWorker as data and trains there to the same bits as in process (through the
// built bundle).
import { beforeAll, describe, expect, it } from 'vitest';
import { bits, loadBuilt, type Lib, type WorkerLib } from './built.js';

let wf: Lib;
let W: WorkerLib;

beforeAll(async () => {
  ({ wf, W } = await loadBuilt());
});

describe('convolutional models in fitInWorker', () => {
  it('a conv2d / batchNorm / maxPool2d / flatten spec trains in a worker to the in-process bits', async () => {
    const rng = new wf.Rng(7);
    const n = 40;
    const x = new Float32Array(n * 8 * 7 * 2).map(() => rng.normal());
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const layers = [
      wf.conv2d(4, { kernelSize: 3, padding: 'same' }), wf.batchNorm(), wf.activation('relu'), wf.maxPool2d(),
      wf.conv2d(3, { kernelSize: [2, 3], activation: 'relu' }), wf.globalAveragePool2d(), wf.dense(3),
    ];
    const spec = { inputShape: [8, 7, 2] as [number, number, number], layers, seed: 3, optimizer: wf.adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' as const };
    const m = new wf.Sequential({ inputShape: spec.inputShape, layers, seed: 3 });
    m.compile({ optimizer: spec.optimizer, loss: spec.loss });
    const hist = await m.fit(x, y, { epochs: 3, batchSize: 8, seed: 5 });
    const r = await W.fitInWorker(spec, x, y, { epochs: 3, batchSize: 8, seed: 5 }).result;
    expect(r.status).toBe('completed');
    expect(r.history.history.loss).toEqual(hist.history.loss);
    expect(bits(r.weights)).toEqual(bits(m.getWeights()));
    expect(r.weights.map((w) => w.shape)).toEqual([[3, 3, 2, 4], [4], [4], [4], [4], [4], [2, 3, 4, 3], [3], [3, 3], [3]]);
    m.dispose();
  });

  it('an inputShape that does not suit the layers rejects the job with the fix named', async () => {
    const spec = { inputShape: [784] as [number], layers: [wf.conv2d(2, { kernelSize: 3 }), wf.flatten(), wf.dense(2)], seed: 1, optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' as const };
    const job = W.fitInWorker(spec, new Float32Array(784 * 2), new Int32Array(2), { epochs: 1 });
    await expect(job.result).rejects.toThrow(/takes \[height, width, channels\] images but receives \[784\]/);
  });
});
