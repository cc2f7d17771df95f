// Metrics (Keras compile(metrics=[...]) semantics): expected values are computed here in float64
// from the model's own predictions (probabilities / outputs) with the textbook formulas.
import { describe, expect, it } from 'vitest';
import { OptionError, Sequential, dense, init, sgd, topKAccuracy } from '../../ts/index.js';
import { type TinyOptions, tinyData, tinyModel } from '../helpers.js';

const N = 150;
const D = 6;
const K = 5;

function reference(probs: Float32Array, y: Int32Array, k: number) {
  let acc = 0, top = 0, mse = 0, mae = 0, ce = 0;
  for (let r = 0; r < y.length; r++) {
    const p = Array.from(probs.subarray(r * K, r * K + K));
    const label = y[r]!;
    const order = p.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0]);
    if (order[0]![1] === label) acc++;
    if (p.filter((v) => v > p[label]!).length < k) top++;
    for (let j = 0; j < K; j++) {
      const t = j === label ? 1 : 0;
      mse += (p[j]! - t) ** 2 / K;
      mae += Math.abs(p[j]! - t) / K;
    }
    ce += -Math.log(p[label]!);
  }
  const n = y.length;
  return { accuracy: acc / n, top: top / n, mse: mse / n, mae: mae / n, ce: ce / n };
}

describe('metrics', () => {
  const TINY: TinyOptions = { inputSize: D, classes: K, rows: N, dataSeed: 3, label: (r, x) => (r * 7 + (x[r * D]! > 0 ? 1 : 0)) % K };
  const { x, y } = tinyData(TINY);

  it('classification: accuracy, topKAccuracy(k), mse, mae, crossentropy match the formulas on predict()', async () => {
    await init();
    const m = tinyModel({ ...TINY, hidden: 16, activation: 'tanh', seed: 4, optimizer: sgd({ lr: 0.1 }), metrics: ['accuracy', topKAccuracy(2), 'mse', 'mae', 'crossentropy'] }).model;
    await m.fit(x, y, { epochs: 3, batchSize: 16 });
    const probs = (m.predict(x) as { data: Float32Array }).data;
    const ref = reference(probs, y, 2);
    const e = m.evaluate(x, y);
    expect(e.accuracy).toBeCloseTo(ref.accuracy, 12);
    expect(e.topKAccuracy).toBeCloseTo(ref.top, 12);
    expect(e.mse).toBeCloseTo(ref.mse, 5);
    expect(e.mae).toBeCloseTo(ref.mae, 5);
    expect(Math.abs(e.crossentropy! - ref.ce)).toBeLessThan(1e-5 * Math.max(1, ref.ce));
    // crossentropy without label smoothing or weights is the loss itself
    expect(Math.abs(e.crossentropy! - e.loss)).toBeLessThan(1e-5 * Math.max(1, e.loss));
    expect(ref.top).toBeGreaterThanOrEqual(ref.accuracy);
    m.dispose();
  });

  it('fit logs the metrics per epoch on the training batches and with the val prefix on validation data', async () => {
    await init();
    // lr 0: the weights never change, so the training-batch metrics equal evaluate() on the same rows
    const m = tinyModel({ ...TINY, hidden: 8, seed: 5, optimizer: sgd({ lr: 0 }), metrics: ['mae', topKAccuracy(3, 'top3')] }).model;
    const xv = x.subarray(0, 40 * D);
    const yv = y.subarray(0, 40);
    const h = await m.fit(x, y, { epochs: 2, batchSize: 32, validationData: [xv, yv] });
    const onTrain = m.evaluate(x, y);
    const onVal = m.evaluate(xv, yv);
    for (let e = 0; e < 2; e++) {
      expect(h.history.mae![e]).toBeCloseTo(onTrain.mae!, 6);
      expect(h.history.top3![e]).toBeCloseTo(onTrain.top3!, 12);
      expect(h.history.valMae![e]).toBeCloseTo(onVal.mae!, 6);
      expect(h.history.valTop3![e]).toBeCloseTo(onVal.top3!, 12);
      expect(h.history.accuracy![e]).toBeCloseTo(onTrain.accuracy, 12);
    }
    m.dispose();
  });

  it('metrics are unweighted (Keras metrics): sample weights change the loss, not mae', async () => {
    await init();
    const m = tinyModel({ ...TINY, seed: 6, optimizer: sgd({ lr: 0 }), metrics: ['mae'] }).model;
    const w = Float32Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 5 : 0.1));
    const a = await m.fit(x, y, { epochs: 1, batchSize: 50, shuffle: false });
    const b = await m.fit(x, y, { epochs: 1, batchSize: 50, shuffle: false, sampleWeight: w });
    expect(b.history.mae![0]).toBeCloseTo(a.history.mae![0]!, 6);
    expect(Math.abs(b.history.loss![0]! - a.history.loss![0]!)).toBeGreaterThan(1e-4);
    m.dispose();
  });

  it('regression: mse equals the mse loss; mae matches predict(); binary: Keras binary_accuracy and crossentropy', async () => {
    await init();
    const t = Float32Array.from({ length: N * 2 }, (_, i) => Math.sin(i));
    const r = new Sequential({ inputShape: [D], layers: [dense(2)], seed: 7 });
    r.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'mse', metrics: ['mse', 'mae'] });
    await r.fit(x, t, { epochs: 2, batchSize: 25 });
    const out = (r.predict(x) as { data: Float32Array }).data;
    let mae = 0;
    for (let i = 0; i < out.length; i++) mae += Math.abs(out[i]! - t[i]!);
    const e = r.evaluate(x, t);
    expect(e.mae).toBeCloseTo(mae / out.length, 5);
    expect(Math.abs(e.mse! - e.loss)).toBeLessThan(1e-5 * Math.max(1, e.loss));
    r.dispose();

    const bt = Float32Array.from({ length: N * 2 }, (_, i) => (Math.sin(i * 1.3) > 0 ? 1 : 0));
    const b = new Sequential({ inputShape: [D], layers: [dense(2)], seed: 8 });
    b.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'binaryCrossentropy', metrics: ['accuracy', 'crossentropy'] });
    await b.fit(x, bt, { epochs: 2, batchSize: 25 });
    const p = (b.predict(x) as { data: Float32Array }).data;
    let acc = 0, ce = 0;
    for (let i = 0; i < p.length; i++) {
      acc += bt[i] === (p[i]! > 0.5 ? 1 : 0) ? 1 : 0;
      ce += -(bt[i]! * Math.log(p[i]!) + (1 - bt[i]!) * Math.log(1 - p[i]!));
    }
    const eb = b.evaluate(x, bt);
    expect(eb.accuracy).toBeCloseTo(acc / p.length, 12);
    expect(Math.abs(eb.crossentropy! - ce / p.length)).toBeLessThan(1e-5);
    b.dispose();
  });

  it('bad metrics are refused with OptionError and the previous compile stays in force', async () => {
    await init();
    const m = tinyModel({ ...TINY, seed: 9, optimizer: sgd({ lr: 0.1 }), metrics: ['mae'] }).model;
    const bad: unknown[] = [['f1'], 'mae', [topKAccuracy(2), topKAccuracy(3)], [{ name: 'mae', key: 'loss' }]];
    for (const metrics of bad) {
      expect(() => m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy', metrics: metrics as never })).toThrow(OptionError);
    }
    expect(() => m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse', metrics: ['accuracy'] })).toThrow(/classification/);
    expect(() => m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse', metrics: [topKAccuracy(2)] })).toThrow(OptionError);
    expect(() => topKAccuracy(0)).toThrow(OptionError);
    expect(() => m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse', metric: ['mae'] } as never)).toThrow(/unknown option 'metric'/);
    // still the first compile: classification with the mae metric
    expect(Object.keys(m.evaluate(x, y))).toContain('mae');
    m.dispose();
  });
});
