// Issue 15, item 5: custom losses, `(yTrue, yPred) => ({ loss, grad })`, trained by the split step
// (train_forward, the function, train_backward). Checked against PyTorch 1.13 autograd + optimizers
// (tests/fixtures/torch-custom-loss.json, written by scripts/fixtures/torch_custom_loss.py), against
// central finite differences of a float64 forward pass, and for refusals that leave the model as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  NonFiniteError, OptionError, Sequential, ShapeError, adam, batchNorm, dense, deserializeModel, dropout, init, lbfgs, serializeCheckpoint, serializeModel, sgd,
  terminateOnNaN, type CustomLossFn,
} from '../../ts/index.js';
import { BUILDS, runtimeFor } from '../helpers.js';

beforeAll(async () => {
  await init();
});

interface Case {
  loss: 'logcosh' | 'huber' | 'probCe';
  optimizer: 'sgd' | 'adam';
  options: { lr: number; momentum?: number; betas?: [number, number]; eps?: number };
  softmax: boolean;
  x: number[];
  y: number[];
  init: number[][];
  after: number[][][];
  losses: number[];
}
const fx = JSON.parse(readFileSync(join(__dirname, '../fixtures/torch-custom-loss.json'), 'utf8')) as { torch: string; inputs: number; hidden: number; outputs: number; batch: number; cases: Case[] };

// the losses as a user writes them (float64 arithmetic, the mean over the batch inside)
const logCosh: CustomLossFn = (t, p) => {
  const m = p.length;
  const grad = new Float32Array(m);
  let loss = 0;
  for (let i = 0; i < m; i++) {
    const d = p[i]! - t[i]!;
    loss += Math.log(Math.cosh(d));
    grad[i] = Math.tanh(d) / m;
  }
  return { loss: loss / m, grad };
};
const huber = (delta: number): CustomLossFn => function huberLoss(t, p) {
  const m = p.length;
  const grad = new Float32Array(m);
  let loss = 0;
  for (let i = 0; i < m; i++) {
    const d = p[i]! - t[i]!;
    const a = Math.abs(d);
    loss += a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
    grad[i] = Math.max(-delta, Math.min(delta, d)) / m;
  }
  return { loss: loss / m, grad };
};
/** Cross-entropy of probabilities (a softmax last layer), −mean_r Σ_j t·log p. */
const probCe: CustomLossFn = (t, p, { rows }) => {
  const grad = new Float32Array(p.length);
  let loss = 0;
  for (let i = 0; i < p.length; i++) {
    if (t[i]! === 0) continue;
    loss -= t[i]! * Math.log(p[i]!);
    grad[i] = -t[i]! / (p[i]! * rows);
  }
  return { loss: loss / rows, grad };
};
const FNS = { logcosh: logCosh, huber: huber(0.5), probCe };

describe.each(BUILDS)('custom loss against PyTorch 1.13 (%s)', (build) => {
  it.each(fx.cases.map((c, i) => [`${c.loss} + ${c.optimizer}${c.softmax ? ' (softmax last layer)' : ''}`, i] as const))('%s: weights after every step', async (_name, ci) => {
    const c = fx.cases[ci]!;
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [fx.inputs], layers: [dense(fx.hidden, { activation: 'tanh' }), dense(fx.outputs, c.softmax ? { activation: 'softmax' } : {})], runtime: rt });
    const opt = c.optimizer === 'sgd' ? sgd({ lr: c.options.lr, momentum: c.options.momentum! }) : adam({ lr: c.options.lr, betas: c.options.betas!, eps: c.options.eps! });
    m.compile({ optimizer: opt, loss: { name: c.loss, fn: FNS[c.loss] } });
    m.setWeights(c.init.map((d) => ({ data: Float32Array.from(d) })));
    const { inputs: d, outputs: k, batch: n } = fx;
    c.after.forEach((want, b) => {
      const xb = Float32Array.from(c.x.slice(b * n * d, (b + 1) * n * d));
      const yb = Float32Array.from(c.y.slice(b * n * k, (b + 1) * n * k));
      const logs = m.trainOnBatch({ data: xb, shape: [n, d] }, { data: yb, shape: [n, k] });
      expect(logs.loss).toBeCloseTo(c.losses[b]!, 5);
      m.getWeights().forEach((w, i) => {
        want[i]!.forEach((v, j) => expect(Math.abs(w.data[j]! - v), `step ${b + 1} tensor ${i}[${j}]`).toBeLessThanOrEqual(2e-6 + 2e-5 * Math.abs(v)));
      });
    });
    m.dispose();
  });
});

/** Float64 forward of dense(h, tanh) → dense(k, act) from flat getWeights-layout weights. */
function forward64(w: Float64Array[], x: Float32Array, rows: number, d: number, h: number, k: number, out: 'sigmoid' | 'softmax'): number[][] {
  const [W1, b1, W2, b2] = w as [Float64Array, Float64Array, Float64Array, Float64Array];
  const res: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const hid = Array.from({ length: h }, (_, j) => Math.tanh(Array.from({ length: d }, (_, i) => x[r * d + i]! * W1[i * h + j]!).reduce((a, v) => a + v, b1[j]!)));
    const z = Array.from({ length: k }, (_, j) => hid.reduce((a, v, i) => a + v * W2[i * k + j]!, b2[j]!));
    if (out === 'sigmoid') res.push(z.map((v) => 1 / (1 + Math.exp(-v))));
    else {
      const mx = Math.max(...z);
      const e = z.map((v) => Math.exp(v - mx));
      const s = e.reduce((a, v) => a + v, 0);
      res.push(e.map((v) => v / s));
    }
  }
  return res;
}

describe('custom loss: the gradient through the split step', () => {
  // one SGD step (no momentum, no penalty) moves every weight by −lr·∂L/∂w: the gradient the split
  // step used, recovered from the weights, against central differences of the float64 loss
  it.each(['sigmoid', 'softmax'] as const)('matches central finite differences of a float64 forward pass (%s last layer)', (act) => {
    const [d, h, k, rows, lr] = [3, 4, 3, 5, 1e-3];
    const m = new Sequential({ inputShape: [d], layers: [dense(h, { activation: 'tanh' }), dense(k, { activation: act })], seed: 4 });
    const fn = act === 'softmax' ? probCe : logCosh;
    m.compile({ optimizer: sgd({ lr }), loss: { name: 'l', fn } });
    let s = 11;
    const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const x = Float32Array.from({ length: rows * d }, u);
    const y = act === 'softmax' ? Float32Array.from({ length: rows * k }, (_, i) => (i % k === Math.floor(i / k) % k ? 1 : 0)) : Float32Array.from({ length: rows * k }, () => 0.5 + 0.4 * u());
    const w0 = m.getWeights().map((t) => Float64Array.from(t.data));
    const loss64 = (w: Float64Array[]): number => {
      const p = forward64(w, x, rows, d, h, k, act);
      const t = (r: number, j: number) => y[r * k + j]!;
      if (act === 'softmax') return -p.reduce((a, row, r) => a + row.reduce((b, v, j) => b + t(r, j) * Math.log(v), 0), 0) / rows;
      return p.reduce((a, row, r) => a + row.reduce((b, v, j) => b + Math.log(Math.cosh(v - t(r, j))), 0), 0) / (rows * k);
    };
    m.trainOnBatch({ data: x, shape: [rows, d] }, { data: y, shape: [rows, k] });
    const w1 = m.getWeights();
    let checked = 0;
    w0.forEach((t, ti) => {
      for (let j = 0; j < t.length; j++) {
        const g = (t[j]! - w1[ti]!.data[j]!) / lr;
        const eps = 1e-6;
        const plus = w0.map((a) => a.slice());
        const minus = w0.map((a) => a.slice());
        plus[ti]![j]! += eps;
        minus[ti]![j]! -= eps;
        const fd = (loss64(plus) - loss64(minus)) / (2 * eps);
        // float32 weights: w − lr·g rounds to ~6e-8·|w|, i.e. ~6e-5·|w| of g at lr 1e-3
        expect(Math.abs(g - fd), `tensor ${ti}[${j}]: step ${g} vs fd ${fd}`).toBeLessThanOrEqual(3e-4 * (1 + Math.abs(t[j]!)) + 1e-3 * Math.abs(fd));
        checked++;
      }
    });
    expect(checked).toBe(d * h + h + h * k + k);
    m.dispose();
  });
});

/** Every weight and the batch-norm running statistics, as bits. */
function snapshot(m: Sequential): string {
  return JSON.stringify(m.getWeights().map((w) => Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length))));
}

describe('custom loss: refusals leave the model as it was', () => {
  const layers = () => [dense(6, { activation: 'relu' }), batchNorm(), dropout(0.2), dense(2)];
  const x = { data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), shape: [4, 4] as [number, number] };
  const y = { data: Float32Array.from({ length: 8 }, (_, i) => Math.cos(i)), shape: [4, 2] as [number, number] };

  function model(fn: CustomLossFn): Sequential {
    const m = new Sequential({ inputShape: [4], layers: layers(), seed: 2 });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: fn });
    // one good step so the optimizer state and running statistics are non-trivial
    return m;
  }

  it('a non-finite loss or gradient element: NonFiniteError naming it; weights, running statistics unchanged', () => {
    let mode: 'ok' | 'nanLoss' | 'infGrad' = 'ok';
    const fn: CustomLossFn = function flaky(t, p) {
      const r = logCosh(t, p, { rows: 4, outputs: 2 });
      if (mode === 'nanLoss') return { loss: NaN, grad: r.grad };
      if (mode === 'infGrad') {
        const g = Float32Array.from(r.grad);
        g[3] = Infinity;
        return { loss: r.loss, grad: g };
      }
      return r;
    };
    const m = model(fn);
    m.trainOnBatch(x, y);
    const before = snapshot(m);
    const steps = m.optimizerStep;
    for (const bad of ['nanLoss', 'infGrad'] as const) {
      mode = bad;
      let e: unknown;
      try {
        m.trainOnBatch(x, y);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(NonFiniteError);
      expect((e as Error).message).toMatch(bad === 'nanLoss' ? /custom loss 'flaky' returned loss = NaN/ : /custom loss 'flaky' returned grad\[3\] = Infinity \(row 1\)/);
      expect(snapshot(m)).toBe(before);
      expect(m.optimizerStep).toBe(steps);
    }
    // and the model still trains afterwards
    mode = 'ok';
    m.trainOnBatch(x, y);
    expect(snapshot(m)).not.toBe(before);
    m.dispose();
  });

  it('a gradient of the wrong length or type: ShapeError; a throwing function: its error; model unchanged', () => {
    let mode = 0;
    const m = model(function shaky(t, p) {
      const r = logCosh(t, p, { rows: 4, outputs: 2 });
      if (mode === 1) return { loss: r.loss, grad: (r.grad as Float32Array).subarray(0, 7) };
      if (mode === 2) return { loss: r.loss, grad: 'x' as unknown as Float32Array };
      if (mode === 3) throw new RangeError('user bug');
      return r;
    });
    m.trainOnBatch(x, y);
    const before = snapshot(m);
    mode = 1;
    expect(() => m.trainOnBatch(x, y)).toThrow(ShapeError);
    expect(() => m.trainOnBatch(x, y)).toThrow(/returned grad = .*; expected rows × outputs = 4 × 2 = 8 numbers/);
    mode = 2;
    expect(() => m.trainOnBatch(x, y)).toThrow(ShapeError);
    mode = 3;
    expect(() => m.trainOnBatch(x, y)).toThrow(RangeError);
    expect(snapshot(m)).toBe(before);
    mode = 0;
    m.trainOnBatch(x, y);
    m.dispose();
  });

  it('compile refuses full-batch optimizers; fit refuses sample and class weights', () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(2)], seed: 2 });
    expect(() => m.compile({ optimizer: lbfgs(), loss: logCosh })).toThrow(/custom loss 'logCosh' needs a first-order optimizer/);
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: { name: 'lc', fn: logCosh } });
    const before = snapshot(m);
    expect(() => m.trainOnBatch(x, y, { sampleWeight: [1, 1, 1, 2] })).toThrow(OptionError);
    expect(() => m.trainOnBatch(x, y, { sampleWeight: [1, 1, 1, 2] })).toThrow(/weight the samples inside your loss function/);
    expect(snapshot(m)).toBe(before);
    expect(() => m.compile({ optimizer: 'sgd', loss: { name: 'x', fn: logCosh, extra: 1 } as never })).toThrow(/key 'extra' is unknown/);
    m.dispose();
  });
});

describe('custom loss: evaluate, predict and fit', () => {
  it('evaluate reports the function on the inference outputs; predict of a softmax last layer returns probabilities', async () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'tanh' }), dense(3, { activation: 'softmax' })], seed: 9 });
    m.compile({ optimizer: adam({ lr: 0.05 }), loss: { name: 'ce', fn: probCe } });
    const rows = 10;
    const x = Float32Array.from({ length: rows * 3 }, (_, i) => Math.sin(1.3 * i));
    const y = Float32Array.from({ length: rows * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const h = await m.fit({ data: x, shape: [rows, 3] }, { data: y, shape: [rows, 3] }, { epochs: 30, batchSize: 4, shuffle: false });
    expect(h.history.loss![29]!).toBeLessThan(h.history.loss![0]!);
    const w = m.getWeights().map((t) => Float64Array.from(t.data));
    const p64 = forward64(w, x, rows, 3, 4, 3, 'softmax');
    const p = m.predict({ data: x, shape: [rows, 3] });
    p64.flat().forEach((v, i) => expect(p.data[i]).toBeCloseTo(v, 6));
    // evaluate: batch losses of 4, 4, 2 rows, weighted by rows (each is a batch mean)
    const ce = (r0: number, r1: number) => -p64.slice(r0, r1).reduce((a, row, r) => a + row.reduce((b, v, j) => b + y[(r0 + r) * 3 + j]! * Math.log(v), 0), 0);
    const e = m.evaluate({ data: x, shape: [rows, 3] }, { data: y, shape: [rows, 3] }, { batchSize: 4 });
    expect(e.loss).toBeCloseTo(ce(0, rows) / rows, 5);
    m.dispose();
  });

  it('terminateOnNaN ends fit cleanly on a non-finite custom loss, keeping the weights from before that step', async () => {
    let calls = 0;
    const m = new Sequential({ inputShape: [3], layers: [dense(2)], seed: 1 });
    m.compile({ optimizer: sgd({ lr: 0.01 }), loss: function late(t, p, sh) {
      return ++calls === 5 ? { loss: Infinity, grad: new Float32Array(p.length) } : logCosh(t, p, sh);
    } });
    const x = Float32Array.from({ length: 24 }, (_, i) => Math.cos(i));
    const y = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i));
    let before = '';
    const h = await m.fit({ data: x, shape: [8, 3] }, { data: y, shape: [8, 2] }, { epochs: 5, batchSize: 2, shuffle: false, callbacks: [terminateOnNaN(), { onBatchEnd: () => void (before = snapshot(m)) }] });
    expect(calls).toBe(5);
    expect(h.epoch).toEqual([0]); // 4 batches per epoch: the 5th call is epoch 1's first
    expect(snapshot(m)).toBe(before);
    m.dispose();
  });

  it('a model file keeps the weights and layers, not the function: it loads uncompiled', () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(2)], seed: 1 });
    m.compile({ optimizer: 'adam', loss: { name: 'lc', fn: logCosh } });
    expect(m.compileOptions!.loss).toEqual({ type: 'custom', name: 'lc', fn: logCosh });
    const back = deserializeModel(serializeModel(m));
    expect(back.compileOptions).toBeNull();
    expect(snapshot(back)).toBe(snapshot(m));
    back.compile({ optimizer: 'adam', loss: { name: 'lc', fn: logCosh } });
    expect(() => serializeCheckpoint(m)).toThrow(/custom function 'lc', which a file cannot hold/);
    m.dispose();
    back.dispose();
  });
});

