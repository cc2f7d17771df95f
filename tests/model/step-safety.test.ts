// Memory safety of a training step (issue 13, defects 2, 3, 5): clipping with batch norm stays
// inside its buffers and leaves PyTorch's running statistics, matMul writes every activation,
// and a finite loss with an overflowing update is rolled back to the pre-step weights bit for bit.
// References are float64 computations written from the definitions, never our own output.
import { describe, expect, it } from 'vitest';
import { NonFiniteError, Sequential, adam, batchNorm, dense, dropout, gaussianNoise, init, l1l2, rmsprop, sgd, terminateOnNaN } from '../../ts/index.js';
import { matMul } from '../../ts/kernels/index.js';
import { CompiledPlan } from '../../ts/model/plan.js';
import type { Runtime } from '../../ts/runtime/index.js';
import { BUILDS, guardedRuntime, runtimeFor } from '../helpers.js';

/** Deterministic data in [-1, 1) scaled per feature (so each column has its own mean/variance). */
function data(rows: number, cols: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: rows * cols }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1 + (i % cols) * 0.25 * ((i % cols) % 2 ? 1 : -1);
  });
}

/** PyTorch BatchNorm1d running statistics after one training batch (momentum = 1 − Keras's). */
function runningStats64(x: Float32Array, rows: number, cols: number, kerasMomentum: number): { mean: number[]; variance: number[] } {
  const m = 1 - kerasMomentum; // PyTorch momentum, in f64
  const mean: number[] = [];
  const variance: number[] = [];
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * cols + j]!;
    const mu = s / rows;
    let q = 0;
    for (let r = 0; r < rows; r++) q += (x[r * cols + j]! - mu) ** 2;
    mean.push((1 - m) * 0 + m * mu);
    variance.push((1 - m) * 1 + m * (q / (rows - 1))); // unbiased variance, as PyTorch
  }
  return { mean, variance };
}

const weightsOf = (m: Sequential) => m.getWeights().map((w) => ({ name: w.name, bits: Array.from(new Uint32Array(w.data.buffer.slice(w.data.byteOffset, w.data.byteOffset + w.data.byteLength))) }));

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs = 0): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.abs(want[i]!) + abs;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (tolerance ${tol})`);
  }
}

describe.each(BUILDS)('gradient clipping with batch norm (%s build)', (build) => {
  for (const features of [4, 9]) {
    for (const clip of [{ clipValue: 1e-3 }, { clipNorm: 1e-3 }, { globalClipNorm: 1e-3 }] as const) {
      it(`[batchNorm(), dense(2)] with sgd(${JSON.stringify(clip)}), ${features} features: running statistics equal PyTorch's (float64)`, async () => {
        const rt = await runtimeFor(build);
        const rows = 12;
        const x = data(rows, features, 5 + features);
        const y = Int32Array.from({ length: rows }, (_, i) => i % 2);
        const m = new Sequential({ inputShape: [features], layers: [batchNorm(), dense(2)], seed: 1, runtime: rt });
        m.compile({ optimizer: sgd({ lr: 0.1, ...clip }), loss: 'softmaxCrossEntropy' });
        await m.fit(x, y, { epochs: 1, batchSize: rows, shuffle: false });
        const w = Object.fromEntries(m.getWeights().map((t) => [t.name, t.data]));
        const ref = runningStats64(x, rows, features, 0.99);
        expectClose(w['batch_norm_0/moving_variance']!, ref.variance, 2e-6);
        expectClose(w['batch_norm_0/moving_mean']!, ref.mean, 2e-6, 1e-7);
        // γ, β moved by at most lr·clip per element (clipValue) and stay finite
        for (const k of ['batch_norm_0/gamma', 'batch_norm_0/beta', 'dense_0/kernel', 'dense_0/bias']) expect(w[k]!.every(Number.isFinite)).toBe(true);
        if ('clipValue' in clip) for (const v of w['batch_norm_0/gamma']!) expect(Math.abs(v - 1)).toBeLessThanOrEqual(0.1 * 1e-3 + 2 ** -23); // one f32 rounding near 1
        m.dispose();
      });
    }
  }
});

describe('guard bands around every arena block (guarded runtime)', () => {
  it('batch norm + every clip option + momentum SGD and Adam: no write outside a block', async () => {
    const rt = await guardedRuntime();
    for (const features of [3, 7, 12]) {
      for (const opt of [sgd({ lr: 0.05, momentum: 0.9, clipValue: 1e-3 }), sgd({ lr: 0.05, clipNorm: 0.01 }), adam({ lr: 0.01, globalClipNorm: 0.01 }), adam({ lr: 0.01, clipValue: 1e-3, amsgrad: true })]) {
        const rows = 10;
        const m = new Sequential({ inputShape: [features], layers: [batchNorm(), dense(5, { activation: 'tanh' }), batchNorm(), dense(3)], seed: 2, runtime: rt as Runtime });
        m.compile({ optimizer: opt, loss: 'softmaxCrossEntropy' });
        await m.fit(data(rows * 3, features, features), Int32Array.from({ length: rows * 3 }, (_, i) => i % 3), { epochs: 2, batchSize: rows });
        expect(rt.arena.checkGuards()).toEqual([]);
        expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).toBe(true);
        m.dispose();
      }
    }
  });

  it('gaussian noise, frozen layers, dropout and Monte Carlo predict: no write outside a block', async () => {
    const rt = await guardedRuntime();
    for (const opt of [sgd({ lr: 0.05, momentum: 0.9, clipNorm: 0.5 }), adam({ lr: 0.01, globalClipNorm: 0.1 })]) {
      const rows = 12;
      const m = new Sequential({
        inputShape: [6],
        layers: [gaussianNoise(0.3), dense(7, { activation: 'relu', trainable: false }), dropout(0.25), gaussianNoise(0.1), dense(5, { activation: 'tanh' }), dense(3)],
        seed: 3,
        runtime: rt as Runtime,
      });
      m.compile({ optimizer: opt, loss: 'softmaxCrossEntropy' });
      await m.fit(data(rows * 3, 6, 5), Int32Array.from({ length: rows * 3 }, (_, i) => i % 3), { epochs: 2, batchSize: rows });
      m.predict(data(5, 6, 6), { mcSamples: 3 });
      expect(rt.arena.checkGuards()).toEqual([]);
      expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).toBe(true);
      m.dispose();
    }
  });

  it('a rolled-back step writes nothing outside a block either', async () => {
    const rt = await guardedRuntime();
    const x = Float32Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i * 12.9898) * 2);
    const y = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 10);
    const m = new Sequential({ inputShape: [8], layers: [dense(16, { activation: 'relu' }), batchNorm(), dense(1)], seed: 1, runtime: rt as Runtime });
    m.compile({ optimizer: sgd({ lr: 1e3, momentum: 0.9 }), loss: 'mse' });
    await expect(m.fit(x, y, { epochs: 3, batchSize: 16 })).rejects.toThrow(NonFiniteError);
    expect(rt.arena.checkGuards()).toEqual([]);
    expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).toBe(true);
    m.dispose();
  });
});

describe.each(BUILDS)('matMul with every activation (%s build)', (build) => {
  const act64: Record<string, (v: number) => number> = {
    linear: (v) => v,
    relu: (v) => Math.max(0, v),
    leakyRelu: (v) => (v > 0 ? v : 0.01 * v), // PyTorch default slope
    elu: (v) => (v > 0 ? v : Math.expm1(v)), // PyTorch default alpha 1
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    tanh: (v) => Math.tanh(v),
  };
  // one test over all six: linear and ReLU (fused in the tile stores) worked before; the four
  // others returned unwritten memory
  it('linear, relu, leakyRelu, elu, sigmoid, tanh: every output written and equal to act(A·B + bias) in float64', async () => {
    await runtimeFor(build);
    for (const name of Object.keys(act64)) {
      for (const [m, k, n, ta, tb] of [[5, 7, 3, false, false], [17, 9, 6, true, false], [4, 33, 5, false, true]] as const) {
        const a = data(m, k, m + 1);
        const b = data(k, n, n + 2);
        const bias = data(1, n, 3);
        const A = { data: a, shape: (ta ? [k, m] : [m, k]) as [number, number] };
        const B = { data: b, shape: (tb ? [n, k] : [k, n]) as [number, number] };
        const c = matMul(A, B, { bias, activation: name as 'relu', transposeA: ta, transposeB: tb });
        expect(c.shape).toEqual([m, n]);
        const want: number[] = [];
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = bias[j]!;
            for (let p = 0; p < k; p++) s += (ta ? a[p * m + i]! : a[i * k + p]!) * (tb ? b[j * k + p]! : b[p * n + j]!);
            want.push(act64[name]!(s));
          }
        try {
          expectClose(c.data, want, 2e-5, 2e-6);
        } catch (e) {
          throw new Error(`${name} [${m}, ${k}]·[${k}, ${n}]: ${(e as Error).message}`);
        }
      }
    }
  });
});

/** R09 data: MSE targets of scale 10, inputs of scale 2. */
function r09() {
  const x = Float32Array.from({ length: 256 * 8 }, (_, i) => Math.sin(i * 12.9898) * 2);
  const y = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i) * 10);
  return { x, y };
}

/** Fits until the step fails; returns the weights after the last good step and the error. */
async function fitUntilFailure(m: Sequential, x: Float32Array, y: Float32Array, options: { epochs: number; batchSize: number; terminate?: boolean }) {
  let last = weightsOf(m);
  let lastState = m.exportTrainingState().slots.map((s) => Array.from(new Uint32Array(s.data.buffer.slice(0))));
  let steps = 0;
  const snap = {
    onBatchEnd: () => {
      last = weightsOf(m);
      lastState = m.exportTrainingState().slots.map((s) => Array.from(new Uint32Array(s.data.buffer.slice(0))));
      steps++;
    },
  };
  let error: unknown = null;
  try {
    await m.fit(x, { data: y, shape: [y.length, 1] }, { epochs: options.epochs, batchSize: options.batchSize, shuffle: false, callbacks: options.terminate ? [snap, terminateOnNaN()] : [snap] });
  } catch (e) {
    error = e;
  }
  return { last, lastState, error, steps };
}

describe.each(BUILDS)('a finite loss with an overflowing update (R09, R10) (%s build)', (build) => {
  const cases = [
    { name: 'SGD lr 1e3 on MSE', layers: () => [dense(16, { activation: 'relu' }), dense(1)], opt: () => sgd({ lr: 1e3 }), scale: 1, dead: false },
    { name: 'SGD lr 1e3 with momentum and batch norm', layers: () => [dense(16, { activation: 'relu' }), batchNorm(), dense(1)], opt: () => sgd({ lr: 1e3, momentum: 0.9 }), scale: 1, dead: false },
    { name: 'Adam eps 0 with a dead feature', layers: () => [dense(4), dense(1)], opt: () => adam({ lr: 0.01, eps: 0 }), scale: 1, dead: true },
    { name: 'clipNorm with 1e30 inputs', layers: () => [dense(16, { activation: 'relu' }), dense(1)], opt: () => sgd({ lr: 0.1, clipNorm: 1 }), scale: 1e30, dead: false },
  ];
  for (const c of cases) {
    it(`${c.name}: NonFiniteError naming the tensor; weights and optimizer state are the pre-step ones bit for bit`, async () => {
      const rt = await runtimeFor(build);
      const { x, y } = r09();
      const xs = x.map((v, i) => (c.dead && i % 8 === 3 ? 0 : v * c.scale));
      const m = new Sequential({ inputShape: [8], layers: c.layers(), seed: 1, runtime: rt });
      m.compile({ optimizer: c.opt(), loss: 'mse' });
      const r = await fitUntilFailure(m, xs, y, { epochs: 5, batchSize: 32 });
      expect(r.error).toBeInstanceOf(NonFiniteError);
      const msg = (r.error as Error).message;
      expect(msg).toMatch(/(dense|batch_norm)_\d+\/(kernel|bias|gamma|beta|moving_mean|moving_variance)/);
      expect(msg).toMatch(/pre-step weights were kept|step was not taken/);
      expect(weightsOf(m)).toEqual(r.last);
      expect(m.exportTrainingState().slots.map((s) => Array.from(new Uint32Array(s.data.buffer.slice(0))))).toEqual(r.lastState);
      expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).toBe(true);
      m.dispose();
    });
  }

  it('terminateOnNaN ends with the finite pre-step weights (bit for bit)', async () => {
    const rt = await runtimeFor(build);
    const { x, y } = r09();
    const m = new Sequential({ inputShape: [8], layers: [dense(16, { activation: 'relu' }), dense(1)], seed: 1, runtime: rt });
    m.compile({ optimizer: sgd({ lr: 1e3 }), loss: 'mse' });
    const r = await fitUntilFailure(m, x, y, { epochs: 5, batchSize: 32, terminate: true });
    expect(r.error).toBe(null);
    expect(r.steps).toBeLessThan(5 * 8);
    expect(weightsOf(m)).toEqual(r.last);
    expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).toBe(true);
    m.dispose();
  });
});

describe('weights written between steps (setWeights from a callback)', () => {
  it('a finite but huge weight set mid-fit: the next overflowing update is rolled back to exactly the weights that were set', async () => {
    // ReLU unit 0 is dead once kernel[0][0] is −1e37 (feature 0 is 1 on every row): its gradient is
    // 0 and the loss stays finite; only the L2 term 2·l2·w = −2e40 overflows. The step's cached
    // bounds of the weights are stale after setWeights: the write must invalidate them.
    await init();
    const x = Float32Array.from({ length: 32 * 3 }, (_, i) => (i % 3 === 0 ? 1 : Math.sin(i)));
    const y = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i));
    const m = new Sequential({ inputShape: [3], layers: [dense(2, { activation: 'relu', kernelRegularizer: l1l2({ l2: 1e3 }) }), dense(1)], seed: 4 });
    m.compile({ optimizer: sgd({ lr: 1e-6 }), loss: 'mse' });
    let set: ReturnType<typeof weightsOf> | null = null;
    const cb = {
      onBatchEnd: (b: number) => {
        if (b !== 1) return;
        const w = m.getWeights();
        w[0]!.data[0] = -1e37;
        m.setWeights(w);
        set = weightsOf(m);
      },
    };
    await expect(m.fit(x, { data: y, shape: [32, 1] }, { epochs: 1, batchSize: 8, shuffle: false, callbacks: [cb] })).rejects.toThrow(/dense_0\/kernel non-finite .*pre-step weights were kept/);
    expect(set).not.toBe(null);
    expect(weightsOf(m)).toEqual(set);
    m.dispose();
  });
});

// The tensors' part of the pre-step backup (parameters and optimizer state: 3× the parameters for
// Adam) is allocated only when a step's update cannot be proven finite: the kernel then returns
// STATUS.needsBackup with nothing changed, and the stepper runs the same step again with it.
describe.each(BUILDS)('the tensors\' backup is taken only when a step needs it (%s build)', (build) => {
  /** Runs `fn` with every plan taking its whole backup up front (the behaviour before the lazy backup). */
  async function eager<T>(fn: () => Promise<T>): Promise<T> {
    const orig = CompiledPlan.prototype.prepareTraining;
    CompiledPlan.prototype.prepareTraining = function (this: CompiledPlan) {
      orig.call(this, true);
    };
    try {
      return await fn();
    } finally {
      CompiledPlan.prototype.prepareTraining = orig;
    }
  }
  /** Counts calls of giveWholeBackup (the re-run after STATUS.needsBackup) while `fn` runs. */
  async function counted<T>(fn: () => Promise<T>): Promise<{ value: T; reruns: number }> {
    const orig = CompiledPlan.prototype.giveWholeBackup;
    let reruns = 0;
    CompiledPlan.prototype.giveWholeBackup = function (this: CompiledPlan) {
      reruns++;
      orig.call(this);
    };
    try {
      return { value: await fn(), reruns };
    } finally {
      CompiledPlan.prototype.giveWholeBackup = orig;
    }
  }
  const rows = 64;
  const x = data(rows, 24, 3);
  const y = Int32Array.from({ length: rows }, (_, i) => (i * 7) % 3);
  const train = async (rt: Runtime, opt: () => ReturnType<typeof adam> | ReturnType<typeof rmsprop>) => {
    const m = new Sequential({ inputShape: [24], layers: [dense(256, { activation: 'relu' }), dropout(0.25), batchNorm(), dense(3)], seed: 4, runtime: rt });
    m.compile({ optimizer: opt(), loss: 'softmaxCrossEntropy' });
    const before = rt.memoryStats().inUseBytes;
    await m.fit(x, y, { epochs: 2, batchSize: 16, seed: 9 });
    const grown = rt.memoryStats().inUseBytes - before;
    return { m, grown, weights: weightsOf(m), state: m.exportTrainingState().slots.map((s) => Array.from(new Uint32Array(s.data.buffer.slice(0)))) };
  };
  const params = 24 * 256 + 256 + 2 * 256 + 256 * 3 + 3;

  it('Adam in ordinary training never takes it: no step is run again, and the model holds 3 × 4 bytes per parameter less than with the whole backup', async () => {
    const rt = await runtimeFor(build);
    const lazy = await counted(() => train(rt, () => adam({ lr: 1e-3 })));
    expect(lazy.reruns).toBe(0);
    const whole = await eager(() => train(rt, () => adam({ lr: 1e-3 })));
    expect(lazy.value.weights).toEqual(whole.weights);
    // the whole backup: each trainable tensor and its two Adam slots (batch norm's running statistics are in both)
    expect(whole.grown - lazy.value.grown).toBeGreaterThanOrEqual(3 * 4 * params);
    lazy.value.m.dispose();
    whole.m.dispose();
  });

  it('RMSProp (no finiteness proof): the first step asks for the backup and runs again, with the same dropout masks and batch statistics, so the weights, state and running statistics equal a model that had it from the start, bit for bit', async () => {
    const rt = await runtimeFor(build);
    const lazy = await counted(() => train(rt, () => rmsprop({ lr: 1e-3, momentum: 0.9 })));
    expect(lazy.reruns).toBe(1);
    const whole = await eager(() => train(rt, () => rmsprop({ lr: 1e-3, momentum: 0.9 })));
    expect(lazy.value.weights).toEqual(whole.weights);
    expect(lazy.value.state).toEqual(whole.state);
    // the weights include batch norm's running statistics (updated by every training forward pass)
    expect(lazy.value.weights.some((w) => /moving_mean$/.test(w.name))).toBe(true);
    lazy.value.m.dispose();
    whole.m.dispose();
  });
});
