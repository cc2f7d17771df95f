// Documented effects on the real MNIST digits (seeded, held-out split).
import { describe, expect, it } from 'vitest';
import { Sequential, adam, dense, dropout, earlyStopping, init, l1, sgd } from '../../ts/index.js';
import { loadDigits } from '../../ts/node.js';

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

  it('dropout narrows the train/validation gap of an over-fitting network', async () => {
    await init();
    // 400 training digits and a 256-256 ReLU network: without dropout it memorizes them
    // (train loss -> 0) while the held-out loss stays high. The gap is the held-out loss minus the
    // training-set loss, both in inference mode (dropout off, no penalties), averaged over epochs
    // 25-49 to smooth epoch-to-epoch noise; two model seeds each.
    const { train, test } = await loadDigits({ seed: 2, trainSize: 400, testSize: 600 });
    const meanGap = async (rate: number, seed: number) => {
      const drop = rate > 0 ? [dropout(rate)] : [];
      const m = new Sequential({ inputShape: [784], layers: [dense(256, { activation: 'relu' }), ...drop, dense(256, { activation: 'relu' }), ...drop, dense(10)], seed });
      m.compile({ optimizer: adam({ lr: 3e-4 }), loss: 'softmaxCrossEntropy' });
      const gaps: number[] = [];
      let trainLoss = Infinity;
      const probe = {
        onEpochEnd: (epoch: number) => {
          if (epoch < 25) return;
          trainLoss = m.evaluate(train.x, train.y).loss;
          gaps.push(m.evaluate(test.x, test.y).loss - trainLoss);
        },
      };
      await m.fit(train.x, train.y, { epochs: 50, batchSize: 32, seed: seed + 10, callbacks: [probe] });
      m.dispose();
      return { gap: gaps.reduce((a, b) => a + b, 0) / gaps.length, trainLoss };
    };
    const plain = [await meanGap(0, 1), await meanGap(0, 2)];
    const dropped = [await meanGap(0.5, 1), await meanGap(0.5, 2)];
    for (const p of plain) expect(p.trainLoss).toBeLessThan(0.02); // it does over-fit
    for (let i = 0; i < 2; i++) expect(dropped[i]!.gap).toBeLessThan(plain[i]!.gap);
    const mean = (r: { gap: number }[]) => (r[0]!.gap + r[1]!.gap) / 2;
    expect(mean(dropped)).toBeLessThan(0.92 * mean(plain)); // measured: ~0.40 vs ~0.48
  });

  it('early stopping stops on the digits and restores the best epoch (validation loss after restore = best recorded)', async () => {
    await init();
    const { train } = await loadDigits({ seed: 5, trainSize: 600, testSize: 0 });
    const m = new Sequential({ inputShape: [784], layers: [dense(128, { activation: 'relu' }), dense(10)], seed: 6 });
    m.compile({ optimizer: adam({ lr: 3e-3 }), loss: 'softmaxCrossEntropy' });
    const es = earlyStopping({ monitor: 'valLoss', patience: 3, restoreBestWeights: true });
    const h = await m.fit(train.x, train.y, { epochs: 100, batchSize: 32, seed: 7, validationSplit: 0.3, callbacks: [es] });
    const valLoss = h.history.valLoss!;
    expect(h.epoch.length).toBeLessThan(100); // it stopped
    expect(es.stoppedEpoch).toBe(h.epoch[h.epoch.length - 1]);
    const best = Math.min(...valLoss);
    expect(es.bestEpoch).toBe(valLoss.indexOf(best));
    expect(es.bestEpoch).toBeLessThan(h.epoch.length - 1); // the last epoch was not the best: restoring matters
    // validationSplit takes the last 30% of the rows (Keras): evaluate exactly those
    const nVal = 600 - Math.floor(600 * 0.7);
    const after = m.evaluate(train.x.subarray((600 - nVal) * 784), train.y.subarray(600 - nVal)).loss;
    expect(Math.abs(after - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, best));
    m.dispose();
  });
});
