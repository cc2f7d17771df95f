// Batch normalization inside train_step: gradients, running statistics and inference, against
// float64 written from the definitions (PyTorch BatchNorm1d arithmetic, Keras momentum meaning).
import { describe, expect, it } from 'vitest';
import { OptionError, Sequential, activation, batchNorm, dense, sgd } from '../../ts/index.js';
import { BUILDS, runtimeFor, layerRecords } from '../helpers.js';
import { softmaxCe64, testData } from '../reference/f64.js';

const [N, D, H, K] = [7, 4, 5, 3];
const EPS = 1e-3;
const x = testData(N * D, 31, 2);
const y = Int32Array.from([0, 1, 2, 2, 1, 0, 1]);

/** dense(H) → batchNorm (batch statistics) → tanh → dense(K); returns logits and the BN input. */
function forward(W1: Float64Array, b1: Float64Array, g: Float64Array, be: Float64Array, W2: Float64Array, b2: Float64Array) {
  const h = new Float64Array(N * H);
  for (let r = 0; r < N; r++)
    for (let j = 0; j < H; j++) {
      let s = b1[j]!;
      for (let i = 0; i < D; i++) s += x[r * D + i]! * W1[i * H + j]!;
      h[r * H + j] = s;
    }
  const mean = new Float64Array(H);
  const varB = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    for (let r = 0; r < N; r++) mean[j]! += h[r * H + j]! / N;
    for (let r = 0; r < N; r++) varB[j]! += (h[r * H + j]! - mean[j]!) ** 2 / N;
  }
  const z = new Float64Array(N * K);
  for (let r = 0; r < N; r++) {
    const a = new Float64Array(H);
    for (let j = 0; j < H; j++) a[j] = Math.tanh((g[j]! * (h[r * H + j]! - mean[j]!)) / Math.sqrt(varB[j]! + EPS) + be[j]!);
    for (let o = 0; o < K; o++) {
      let s = b2[o]!;
      for (let j = 0; j < H; j++) s += a[j]! * W2[j * K + o]!;
      z[r * K + o] = s;
    }
  }
  return { z, mean, varB };
}

describe.each(BUILDS)('batchNorm in train_step (%s build)', (build) => {
  it('gradients match f64 central differences; running statistics follow momentum 0.99 with the unbiased variance', async () => {
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [D], layers: [dense(H), batchNorm({ epsilon: EPS }), activation('tanh'), dense(K)], seed: 6, runtime: rt });
    m.compile({ optimizer: sgd({ lr: 0 }), loss: 'softmaxCrossEntropy' });
    // non-trivial γ, β so their gradients matter
    const w = m.getWeights();
    w[2]!.data.set([1.5, 0.5, 1, 2, 0.7]);
    w[3]!.data.set([0.1, -0.2, 0.3, 0, 0.05]);
    m.setWeights(w);
    const [W1, b1, g, be, , , W2, b2] = m.getWeights().map((t) => Float64Array.from(t.data));
    await m.fit(x, y, { epochs: 1, batchSize: N, shuffle: false });
    const ps = layerRecords(m);
    const grads = ps.flatMap((p, i) => [rt.arena.readF32(p.gw as never, i === 1 ? p.nOut : p.nIn * p.nOut), rt.arena.readF32(p.gb as never, p.nOut)]);
    const vars = [W1!, b1!, g!, be!, W2!, b2!];
    const loss = () => softmaxCe64(forward(W1!, b1!, g!, be!, W2!, b2!).z, y, N, K);
    const h = 1e-6;
    vars.forEach((v, vi) => {
      for (let i = 0; i < v.length; i++) {
        const o = v[i]!;
        v[i] = o + h;
        const lp = loss();
        v[i] = o - h;
        const lm = loss();
        v[i] = o;
        const fd = (lp - lm) / (2 * h);
        expect(Math.abs(grads[vi]![i]! - fd)).toBeLessThan(3e-5 + 3e-3 * Math.abs(fd));
      }
    });
    const { mean, varB } = forward(W1!, b1!, g!, be!, W2!, b2!);
    const after = m.getWeights();
    for (let j = 0; j < H; j++) {
      expect(after[4]!.data[j]!).toBeCloseTo(0.01 * mean[j]!, 5); // running_mean: 0.99·0 + 0.01·μ_B
      expect(after[5]!.data[j]!).toBeCloseTo(0.99 + 0.01 * (varB[j]! * N) / (N - 1), 5); // unbiased
    }
    m.dispose();
  });

  it('predict uses the running statistics; a 1-row training batch is refused before any change', async () => {
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [D], layers: [dense(H), batchNorm({ epsilon: EPS }), dense(K)], seed: 6, runtime: rt });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    const w = m.getWeights();
    w[4]!.data.set([0.5, -1, 0, 2, 0.1]); // moving mean
    w[5]!.data.set([2, 0.5, 1, 4, 0.25]); // moving variance
    m.setWeights(w);
    const [W1, b1, g, be, rm, rv, W2, b2] = m.getWeights().map((t) => Float64Array.from(t.data));
    const p = m.predict(x);
    for (let r = 0; r < N; r++) {
      const z = new Float64Array(K);
      for (let o = 0; o < K; o++) {
        let s = b2![o]!;
        for (let j = 0; j < H; j++) {
          let hv = b1![j]!;
          for (let i = 0; i < D; i++) hv += x[r * D + i]! * W1![i * H + j]!;
          s += (g![j]! * (hv - rm![j]!)) / Math.sqrt(rv![j]! + EPS) * W2![j * K + o]! + be![j]! * W2![j * K + o]!;
        }
        z[o] = s;
      }
      const mx = Math.max(...z);
      const se = z.reduce((a, v) => a + Math.exp(v - mx), 0);
      for (let o = 0; o < K; o++) expect(p.data[r * K + o]!).toBeCloseTo(Math.exp(z[o]! - mx) / se, 5);
    }
    const before = m.getWeights().map((t) => Array.from(t.data));
    await expect(m.fit(x, y, { batchSize: 3 })).rejects.toThrow(OptionError); // 7 = 3 + 3 + 1
    expect(m.getWeights().map((t) => Array.from(t.data))).toEqual(before);
    m.dispose();
  });
});
