// Every loss inside train_step, with per-sample weights: the gradients the step computes match
// central differences of the weighted mean loss written here in float64 from PyTorch's definitions.
import { describe, expect, it } from 'vitest';
import { Sequential, dense, sgd } from '../../ts/index.js';
import type { CompileOptions } from '../../ts/index.js';
import { BUILDS, runtimeFor, layerRecords } from '../helpers.js';
import { type RefLayer, forward64, testData } from '../reference/f64.js';

const N = 6;
const D = 3;
const K = 2;
const x = testData(N * D, 21, 1.5);
const labels = Int32Array.from([0, 1, 1, 0, 1, 0]);
const targets = testData(N * K, 22, 2);
const probs = Float32Array.from(testData(N * K, 23), (v) => (v + 1) / 2);
const sw = Float32Array.from([1, 0.5, 2, 0, 1.5, 1]);

type Loss = CompileOptions['loss'];
/** Per-sample losses (PyTorch definitions; mean over outputs for elementwise losses). */
function perSample(loss: Loss, z: Float64Array, r: number): number {
  const row = Array.from(z.subarray(r * K, r * K + K));
  const t = (j: number, src: Float32Array) => src[r * K + j]!;
  const mean = (f: (j: number) => number) => row.reduce((a, _, j) => a + f(j), 0) / K;
  if (loss === 'mse') return mean((j) => (row[j]! - t(j, targets)) ** 2);
  if (loss === 'mae') return mean((j) => Math.abs(row[j]! - t(j, targets)));
  if (typeof loss === 'object' && loss.type === 'huber') {
    const dl = loss.delta ?? 1;
    return mean((j) => { const a = Math.abs(row[j]! - t(j, targets)); return a <= dl ? 0.5 * a * a : dl * (a - 0.5 * dl); });
  }
  if (loss === 'binaryCrossentropy') return mean((j) => { const zz = row[j]!; const tt = t(j, probs); return Math.max(zz, 0) - zz * tt + Math.log1p(Math.exp(-Math.abs(zz))); });
  const eps = typeof loss === 'object' && loss.type === 'softmaxCrossEntropy' ? (loss.labelSmoothing ?? 0) : 0;
  const m = Math.max(...row);
  const lse = Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) + m;
  return row.reduce((a, v, j) => a - ((j === labels[r] ? 1 - eps : 0) + eps / K) * (v - lse), 0);
}

const CASES: [string, Loss, boolean][] = [
  ['mse', 'mse', true],
  ['mae', 'mae', false],
  ['huber δ=0.5', { type: 'huber', delta: 0.5 }, true],
  ['binary cross-entropy on logits', 'binaryCrossentropy', true],
  ['softmax CE with label smoothing 0.1', { type: 'softmaxCrossEntropy', labelSmoothing: 0.1 }, true],
];

describe.each(BUILDS)('losses in train_step (%s build)', (build) => {
  for (const [name, loss, weighted] of CASES) {
    it(`${name}${weighted ? ', sample-weighted' : ''}: gradients match f64 central differences`, async () => {
      const rt = await runtimeFor(build);
      const m = new Sequential({ inputShape: [D], layers: [dense(4, { activation: 'tanh' }), dense(K)], seed: 5, runtime: rt });
      m.compile({ optimizer: sgd({ lr: 0 }), loss });
      const y = loss === 'mse' || loss === 'mae' || (typeof loss === 'object' && loss.type === 'huber') ? { data: targets, shape: [N, K] as [number, number] } : loss === 'binaryCrossentropy' ? { data: probs, shape: [N, K] as [number, number] } : labels;
      const h = await m.fit(x, y, { epochs: 1, batchSize: N, shuffle: false, ...(weighted ? { sampleWeight: sw } : {}) });
      const ps = layerRecords(m);
      const ref: RefLayer[] = ps.map((p) => ({ nIn: p.nIn, nOut: p.nOut, relu: false, act: p.act === 'tanh' ? 'tanh' : undefined, w: Float64Array.from(rt.arena.readF32(p.w as never, p.nIn * p.nOut)), b: Float64Array.from(rt.arena.readF32(p.b as never, p.nOut)) }));
      const total = () => {
        const z = forward64(ref, Float64Array.from(x), N);
        let s = 0;
        for (let r = 0; r < N; r++) s += (weighted ? sw[r]! : 1) * perSample(loss, z, r);
        return s / N;
      };
      expect(h.history.loss![0]).toBeCloseTo(total(), 5);
      const hh = 1e-6;
      ps.forEach((p, li) => {
        for (const [w, g] of [[ref[li]!.w, rt.arena.readF32(p.gw as never, p.nIn * p.nOut)], [ref[li]!.b!, rt.arena.readF32(p.gb as never, p.nOut)]] as const) {
          for (let i = 0; i < w.length; i++) {
            const o = w[i]!;
            w[i] = o + hh;
            const lp = total();
            w[i] = o - hh;
            const lm = total();
            w[i] = o;
            const fd = (lp - lm) / (2 * hh);
            expect(Math.abs(g[i]! - fd)).toBeLessThan(2e-5 + 2e-3 * Math.abs(fd));
          }
        }
      });
      m.dispose();
    });
  }

  it('classWeight multiplies the per-sample weights (softmax CE)', async () => {
    const rt = await runtimeFor(build);
    const a = new Sequential({ inputShape: [D], layers: [dense(K)], seed: 5, runtime: rt });
    const b = new Sequential({ inputShape: [D], layers: [dense(K)], seed: 5, runtime: rt });
    for (const mm of [a, b]) mm.compile({ optimizer: sgd({ lr: 0.5 }), loss: 'softmaxCrossEntropy' });
    await a.fit(x, labels, { epochs: 3, batchSize: N, shuffle: false, classWeight: { 1: 3 } });
    await b.fit(x, labels, { epochs: 3, batchSize: N, shuffle: false, sampleWeight: Array.from(labels, (c) => (c === 1 ? 3 : 1)) });
    expect(a.getWeights().map((t) => Array.from(t.data))).toEqual(b.getWeights().map((t) => Array.from(t.data)));
    await expect(a.fit(x, labels, { classWeight: { 5: 1 } })).rejects.toThrow(/classWeight has class 5/);
    await expect(a.fit(x, labels, { sampleWeight: [1, 2] })).rejects.toThrow(/2 sample weights for 6 samples/);
    a.dispose();
    b.dispose();
  });
});
