// Issue 15, item 5: custom metrics, `(yTrue, yPred) => number` (or per-sample values), logged per
// epoch under their name (training) and `val` + Name (validation), monitorable by early stopping.
// Values are checked against float64 computations in this file from the model's weights, and the
// epoch aggregation (mean of batch values weighted by batch size) against the batch values the
// function itself returned.
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Sequential, ShapeError, adam, dense, earlyStopping, init, sgd, type CustomMetricFn } from '../../ts/index.js';

beforeAll(async () => {
  await init();
});

let s = 5;
const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;

/** Batch RMSE: not additive over batches, so the aggregation rule decides the epoch value. */
const rmse: CustomMetricFn = function rmse(t, p) {
  let acc = 0;
  for (let i = 0; i < p.length; i++) acc += (p[i]! - t[i]!) ** 2;
  return Math.sqrt(acc / p.length);
};

/** Float64 `x·W + b` (then softmax) of a one-dense-layer model. */
function out64(m: Sequential, x: Float32Array, rows: number, softmax: boolean): number[][] {
  const [W, b] = m.getWeights();
  const [d, k] = W!.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => {
    const z = Array.from({ length: k }, (_, j) => Array.from({ length: d }, (_, i) => x[r * d + i]! * W!.data[i * k + j]!).reduce((a, v) => a + v, b!.data[j]!));
    if (!softmax) return z;
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const sum = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / sum);
  });
}

describe('custom metrics', () => {
  it('training: the epoch value is the mean of the batch values weighted by batch size (batches of 4, 4, 2)', async () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(2)], seed: 1 });
    const seen: { v: number; rows: number }[] = [];
    const spy: CustomMetricFn = (t, p, shape) => {
      const v = rmse(t, p, shape) as number;
      seen.push({ v, rows: shape.rows });
      return v;
    };
    m.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'mse', metrics: [{ name: 'rmse', fn: spy }] });
    const x = Float32Array.from({ length: 30 }, u);
    const y = Float32Array.from({ length: 20 }, u);
    const h = await m.fit({ data: x, shape: [10, 3] }, { data: y, shape: [10, 2] }, { epochs: 2, batchSize: 4, shuffle: false });
    expect(seen.map((b) => b.rows)).toEqual([4, 4, 2, 4, 4, 2]);
    for (let e = 0; e < 2; e++) {
      const b = seen.slice(3 * e, 3 * e + 3);
      const want = b.reduce((a, x) => a + x.v * x.rows, 0) / 10;
      expect(h.history.rmse![e]).toBeCloseTo(want, 12);
      // not the plain mean of the batch values (the batches differ in size)
      expect(Math.abs(want - b.reduce((a, x) => a + x.v, 0) / 3)).toBeGreaterThan(1e-6);
    }
  });

  it('validation and evaluate: val + Name, from a float64 forward pass of the final weights; per-sample values average over samples', async () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(2)], seed: 2 });
    const absPerSample: CustomMetricFn = function absErr(t, p, { rows, outputs }) {
      return Array.from({ length: rows }, (_, r) => Math.abs(p[r * outputs]! - t[r * outputs]!));
    };
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'mse', metrics: [rmse, absPerSample, 'mae'] });
    const x = Float32Array.from({ length: 24 }, u);
    const y = Float32Array.from({ length: 16 }, u);
    const vx = Float32Array.from({ length: 30 }, u);
    const vy = Float32Array.from({ length: 20 }, u);
    const h = await m.fit({ data: x, shape: [8, 3] }, { data: y, shape: [8, 2] }, { epochs: 3, batchSize: 4, validationData: [{ data: vx, shape: [10, 3] }, { data: vy, shape: [10, 2] }] });
    expect(Object.keys(h.history)).toEqual(expect.arrayContaining(['rmse', 'absErr', 'mae', 'valRmse', 'valAbsErr', 'valMae']));
    const p = out64(m, vx, 10, false);
    // validation runs in chunks of min(batchSize, training rows) = 4: 4, 4, 2 rows
    const chunk = (r0: number, r1: number) => Math.sqrt(p.slice(r0, r1).reduce((a, row, r) => a + row.reduce((b, v, j) => b + (v - vy[(r0 + r) * 2 + j]!) ** 2, 0), 0) / ((r1 - r0) * 2));
    const want = (4 * chunk(0, 4) + 4 * chunk(4, 8) + 2 * chunk(8, 10)) / 10;
    expect(h.history.valRmse![2]).toBeCloseTo(want, 5);
    const wantAbs = p.reduce((a, row, r) => a + Math.abs(row[0]! - vy[r * 2]!), 0) / 10;
    expect(h.history.valAbsErr![2]).toBeCloseTo(wantAbs, 5);
    const e = m.evaluate({ data: vx, shape: [10, 3] }, { data: vy, shape: [10, 2] }, { batchSize: 10 });
    expect(e.rmse).toBeCloseTo(chunk(0, 10), 5);
    expect(e.absErr).toBeCloseTo(wantAbs, 5);
  });

  it('classification: yPred holds the softmax probabilities and yTrue one-hot rows of the class ids', () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(4)], seed: 3 });
    let got: { t: Float32Array; p: Float32Array } | null = null;
    const capture: CustomMetricFn = function capture(t, p) {
      got = { t: t.slice(), p: p.slice() };
      return 0;
    };
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: [capture] });
    const x = Float32Array.from({ length: 15 }, u);
    const ids = Int32Array.from([0, 3, 1, 2, 3]);
    m.evaluate({ data: x, shape: [5, 3] }, ids);
    const p = out64(m, x, 5, true);
    const g = got as unknown as { t: Float32Array; p: Float32Array };
    p.flat().forEach((v, i) => expect(g.p[i]).toBeCloseTo(v, 6));
    expect(Array.from(g.t)).toEqual(Array.from(ids).flatMap((c) => [0, 1, 2, 3].map((j) => (j === c ? 1 : 0))));
  });

  it('a custom validation metric drives early stopping (monitor by key or Keras val_ name)', async () => {
    for (const monitor of ['valWorse', 'val_worse']) {
      let calls = 0;
      // grows every validation pass: no improvement after the first epoch
      const worse: CustomMetricFn = function worse() {
        return ++calls;
      };
      const m = new Sequential({ inputShape: [3], layers: [dense(2)], seed: 4 });
      m.compile({ optimizer: sgd({ lr: 0.01 }), loss: 'mse', metrics: [worse] });
      const x = Float32Array.from({ length: 30 }, u);
      const y = Float32Array.from({ length: 20 }, u);
      const h = await m.fit({ data: x, shape: [10, 3] }, { data: y, shape: [10, 2] }, { epochs: 20, batchSize: 10, validationSplit: 0.2, callbacks: [earlyStopping({ monitor, patience: 2, mode: 'min' })] });
      expect(h.epoch).toEqual([0, 1, 2]);
    }
  });

  it('refusals: an anonymous function without a name, a duplicate or reserved key, a bad return value', () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(2)], seed: 5 });
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [(t, p) => p[0]! - t[0]!] })).toThrow(/anonymous function needs a name.*\{ name: 'myMetric', fn \}/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [rmse, { name: 'rmse', fn: rmse }] })).toThrow(/'rmse' is listed twice/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [{ name: 'loss', fn: rmse }] })).toThrow(OptionError);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [{ name: 'mae', fn: rmse }, 'mae'] })).toThrow(/listed twice/);
    m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [{ name: 'bad', fn: () => 'x' as unknown as number }, { name: 'short', fn: () => [1, 2] }] });
    const x = { data: Float32Array.from({ length: 9 }, u), shape: [3, 3] as [number, number] };
    const y = { data: Float32Array.from({ length: 6 }, u), shape: [3, 2] as [number, number] };
    expect(() => m.evaluate(x, y)).toThrow(/custom metric 'bad' returned "x"/);
    m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [{ name: 'short', fn: () => [1, 2] }] });
    expect(() => m.evaluate(x, y)).toThrow(ShapeError);
  });
});
