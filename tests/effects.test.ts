// Documented effects on the real MNIST digits (seeded, held-out split).
import { describe, expect, it } from 'vitest';
import { Sequential, dense, init, l1, sgd } from '../ts/index.js';
import { loadDigits } from '../ts/node.js';

describe('effects on real data', () => {
  it('L1 drives a measurable fraction of weights to |w| < 1e-3 while the model still learns', async () => {
    await init();
    const { train, test } = await loadDigits({ seed: 0, trainSize: 1000, testSize: 1000 });
    const run = async (lambda: number) => {
      const m = new Sequential({ inputShape: [784], layers: [dense(64, { activation: 'relu', kernelRegularizer: lambda ? l1(lambda) : undefined }), dense(10)], seed: 1 });
      m.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
      await m.fit(train.x, train.y, { epochs: 8, batchSize: 32, seed: 1 });
      const w = m.getWeights()[0]!.data;
      const small = w.filter((v) => Math.abs(v) < 1e-3).length / w.length;
      const { accuracy } = m.evaluate(test.x, test.y);
      m.dispose();
      return { small, accuracy };
    };
    const none = await run(0);
    const sparse = await run(3e-3);
    expect(sparse.small).toBeGreaterThan(0.25);
    expect(sparse.small).toBeGreaterThan(10 * none.small);
    expect(sparse.accuracy).toBeGreaterThan(0.8);
  });
});
