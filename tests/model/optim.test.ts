// The fused optimizers inside train_step, end to end: a softmax-regression model trained full-batch
// must follow PyTorch's update formulas applied to float64 gradients of the same loss, with
// Keras-style L1/L2 penalties and Keras-ordered gradient clipping, on both builds.
import { describe, expect, it } from 'vitest';
import { Sequential, adagrad, adam, adamw, dense, elasticNet, l1, l2, rmsprop, sgd, stepLR } from '../../ts/index.js';
import type { OptimizerConfig, Regularizer } from '../../ts/index.js';
import { BUILDS, runtimeFor } from '../helpers.js';
import { testData } from '../reference/f64.js';
import { type Cfg, Ref } from '../reference/optim64.js';

const N = 6;
const D = 4;
const K = 3;
const x = testData(N * D, 77, 1.5);
const y = Int32Array.from([0, 2, 1, 1, 0, 2]);

/** f64 gradients of the mean softmax cross-entropy of logits x·W + b. */
function grads(W: Float64Array, b: Float64Array): { gW: Float64Array; gb: Float64Array } {
  const gW = new Float64Array(D * K);
  const gb = new Float64Array(K);
  for (let r = 0; r < N; r++) {
    const z = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let s = b[k]!;
      for (let i = 0; i < D; i++) s += x[r * D + i]! * W[i * K + k]!;
      z[k] = s;
    }
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const se = e.reduce((a, v) => a + v, 0);
    for (let k = 0; k < K; k++) {
      const dz = (e[k]! / se - (k === y[r] ? 1 : 0)) / N;
      gb[k]! += dz;
      for (let i = 0; i < D; i++) gW[i * K + k]! += x[r * D + i]! * dz;
    }
  }
  return { gW, gb };
}

/** Keras 3 `_clip_gradients` order: per-tensor norm, global norm, then value. */
function clip(gs: Float64Array[], o: { clipNorm?: number; globalClipNorm?: number; clipValue?: number }): void {
  const norm = (g: Float64Array) => Math.sqrt(g.reduce((a, v) => a + v * v, 0));
  if (o.clipNorm) for (const g of gs) { const n = norm(g); if (n > o.clipNorm) g.forEach((v, i) => (g[i] = (v * o.clipNorm!) / n)); }
  if (o.globalClipNorm) {
    const n = Math.sqrt(gs.reduce((a, g) => a + norm(g) ** 2, 0));
    if (n > o.globalClipNorm) for (const g of gs) g.forEach((v, i) => (g[i] = (v * o.globalClipNorm!) / n));
  }
  if (o.clipValue) for (const g of gs) g.forEach((v, i) => (g[i] = Math.max(-o.clipValue!, Math.min(o.clipValue!, v))));
}

interface Case {
  name: string;
  opt: OptimizerConfig;
  ref: Omit<Cfg, 'l1' | 'l2'>;
  kernelReg?: Regularizer;
  biasReg?: Regularizer;
  clip?: { clipNorm?: number; globalClipNorm?: number; clipValue?: number };
}

const CASES: Case[] = [
  { name: 'sgd nesterov + L2', opt: sgd({ lr: 0.3, momentum: 0.9, nesterov: true }), ref: { kind: 'sgd', lr: 0.3, momentum: 0.9, nesterov: true }, kernelReg: l2(0.01) },
  { name: 'sgd momentum, dampening, weightDecay, clipNorm', opt: sgd({ lr: 0.2, momentum: 0.8, dampening: 0.1, weightDecay: 0.01, clipNorm: 0.1 }), ref: { kind: 'sgd', lr: 0.2, momentum: 0.8, dampening: 0.1, weightDecay: 0.01 }, clip: { clipNorm: 0.1 } },
  { name: 'adagrad lrDecay + L1', opt: adagrad({ lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 }), ref: { kind: 'adagrad', lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, eps: 1e-10 }, kernelReg: l1(0.001) },
  { name: 'rmsprop centered + momentum, globalClipNorm', opt: rmsprop({ lr: 0.01, centered: true, momentum: 0.5, globalClipNorm: 0.2 }), ref: { kind: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8, centered: true, momentum: 0.5 }, clip: { globalClipNorm: 0.2 } },
  { name: 'adam + elastic net on kernel and bias', opt: adam({ lr: 0.05 }), ref: { kind: 'adam', lr: 0.05, betas: [0.9, 0.999], eps: 1e-8 }, kernelReg: elasticNet({ alpha: 0.01, l1Ratio: 0.3 }), biasReg: l2(0.002) },
  { name: 'adam weightDecay + amsgrad, clipValue', opt: adam({ lr: 0.05, weightDecay: 0.01, amsgrad: true, clipValue: 0.05 }), ref: { kind: 'adam', lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: true }, clip: { clipValue: 0.05 } },
  { name: 'adamw', opt: adamw({ lr: 0.05, betas: [0.8, 0.99] }), ref: { kind: 'adamw', lr: 0.05, betas: [0.8, 0.99], eps: 1e-8, weightDecay: 0.01 } },
];

describe.each(BUILDS)('optimizers inside train_step (%s build)', (build) => {
  for (const c of CASES) {
    it(`${c.name}: 25 full-batch steps follow the PyTorch formula on f64 gradients`, async () => {
      const rt = await runtimeFor(build);
      const m = new Sequential({ inputShape: [D], layers: [dense(K, { kernelRegularizer: c.kernelReg, biasRegularizer: c.biasReg })], seed: 9, runtime: rt });
      m.compile({ optimizer: c.opt, loss: 'softmaxCrossEntropy' });
      const [w0, b0] = m.getWeights();
      const rw = new Ref(w0!.data, { ...c.ref, l1: c.kernelReg?.l1 ?? 0, l2: c.kernelReg?.l2 ?? 0 });
      const rb = new Ref(b0!.data, { ...c.ref, l1: c.biasReg?.l1 ?? 0, l2: c.biasReg?.l2 ?? 0 });
      const steps = 25;
      await m.fit(x, y, { epochs: steps, batchSize: N, shuffle: false });
      for (let t = 1; t <= steps; t++) {
        const { gW, gb } = grads(rw.w, rb.w);
        if (c.clip) clip([gW, gb], c.clip);
        rw.step(t, Float32Array.from(gW));
        rb.step(t, Float32Array.from(gb));
      }
      expect(m.optimizerStep).toBe(steps);
      const [w, b] = m.getWeights();
      const check = (got: Float32Array, want: Float64Array) =>
        got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(2e-5 * Math.max(Math.abs(want[i]!), 0.1)));
      check(w!.data, rw.w);
      check(b!.data, rb.w);
      m.dispose();
    });
  }

  it("changing the learning rate mid-training keeps Adam's moments", async () => {
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [D], layers: [dense(K)], seed: 9, runtime: rt });
    m.compile({ optimizer: adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
    const [w0, b0] = m.getWeights();
    const cfg: Cfg = { kind: 'adam', lr: 0.05, betas: [0.9, 0.999], eps: 1e-8 };
    const rw = new Ref(w0!.data, cfg);
    const rb = new Ref(b0!.data, cfg);
    // epochs 0–2 at 0.05, then 0.005: the moments and the step count carry across the change
    await m.fit(x, y, { epochs: 6, batchSize: N, shuffle: false, schedule: stepLR({ lr: 0.05, stepSize: 3, gamma: 0.1 }) });
    for (let t = 1; t <= 6; t++) {
      const lr = t <= 3 ? 0.05 : 0.005;
      const { gW, gb } = grads(rw.w, rb.w);
      // same state, new rate
      for (const r of [rw, rb]) (r as unknown as { c: Cfg }).c = { ...cfg, lr };
      rw.step(t, Float32Array.from(gW));
      rb.step(t, Float32Array.from(gb));
    }
    const [w] = m.getWeights();
    w!.data.forEach((v, i) => expect(Math.abs(v - rw.w[i]!)).toBeLessThanOrEqual(2e-5 * Math.max(Math.abs(rw.w[i]!), 0.1)));
    // two fits of 3 epochs equal one of 6 (state persists between fit calls)
    const m2 = new Sequential({ inputShape: [D], layers: [dense(K)], seed: 9, runtime: rt });
    const m3 = new Sequential({ inputShape: [D], layers: [dense(K)], seed: 9, runtime: rt });
    for (const mm of [m2, m3]) mm.compile({ optimizer: adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
    await m2.fit(x, y, { epochs: 3, batchSize: N, shuffle: false });
    await m2.fit(x, y, { epochs: 3, batchSize: N, shuffle: false });
    await m3.fit(x, y, { epochs: 6, batchSize: N, shuffle: false });
    expect(m2.getWeights().map((t) => Array.from(t.data))).toEqual(m3.getWeights().map((t) => Array.from(t.data)));
    for (const mm of [m, m2, m3]) mm.dispose();
  });
});
