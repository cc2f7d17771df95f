// depthwiseConv2d through the public API (issue 16: "everything that exists for conv2d works"):
// shapes, parameter counts and the summary; Keras' fans; L1/L2 penalties (gradient checked against
// the penalty's formula); max-norm per output channel (Keras MaxNorm(axis=[0, 1])); freezing;
// Monte Carlo dropout; model files; checkpoints with exact resume; the scalar build within float
// tolerance of the SIMD one and 2 threads bit for bit; bad configurations refused with typed
// errors that leave state unchanged.
// Values against PyTorch are in tests/kernels/depthwise.test.ts and tests/io/depthwise-interop.test.ts.
import { describe, expect, it } from 'vitest';
import {
  OptionError, Rng, Sequential, adam, checkpointCallback, conv2d, dense, depthwiseConv2d, deserializeCheckpoint, dropout, flatten, globalAveragePool2d, init, l1l2, maxNorm, normalizeLayer, serializeCheckpoint, sgd, type LayerConfig,
} from '../../ts/index.js';
import { deserializeModel, serializeModel } from '../../ts/io/model.js';
import { createRuntime } from '../../ts/runtime/loader.js';
import { thrown } from '../helpers.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const weightBits = (m: Sequential) => m.getWeights().map((w) => bits(w.data));

function data(n: number, shape: number[], k: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * shape.reduce((a, b) => a * b, 1)).map(() => rng.normal());
  const y = Int32Array.from({ length: n }, (_, i) => i % k);
  return { x, y };
}

const separable = (): LayerConfig[] => [
  depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }),
  conv2d(6, { kernelSize: 1, activation: 'relu' }),
  depthwiseConv2d({ kernelSize: [3, 2], strides: 2, padding: 'same', depthMultiplier: 2, dilationRate: 1 }),
  globalAveragePool2d(),
  dense(3),
];

describe('depthwiseConv2d layers', () => {
  it('shapes, parameter counts and the summary; Keras fans for the initializer', async () => {
    await init();
    const m = new Sequential({ inputShape: [9, 7, 5], layers: separable(), seed: 1 });
    expect(m.getWeights().map((w) => `${w.name} ${w.shape.join('×')}`)).toEqual([
      'depthwise_conv2d_0/depthwise_kernel 3×3×5×1', 'depthwise_conv2d_0/bias 5',
      'conv2d_0/kernel 1×1×5×6', 'conv2d_0/bias 6',
      'depthwise_conv2d_1/depthwise_kernel 3×2×6×2', 'depthwise_conv2d_1/bias 12',
      'dense_0/kernel 12×3', 'dense_0/bias 3',
    ]);
    const s = m.summary();
    // 3·3·5 + 5 = 50; 'same' 3×2 stride 2 on 9×7: 5×4, 6·2 = 12 channels, 3·2·6·2 + 12 = 84
    expect(s).toMatch(/depthwise_conv2d_0 \(relu, 3×3 same\)\s+\[null, 9, 7, 5\]\s+50/);
    expect(s).toMatch(/depthwise_conv2d_1 \(linear, 3×2 \/2×2 same, ×2\)\s+\[null, 5, 4, 12\]\s+84/);
    // glorotUniform with Keras' fans of a [kh, kw, c, m] kernel: limit √(6 / (kh·kw·c + kh·kw·m))
    const k0 = m.getWeights()[0]!.data;
    const limit = Math.sqrt(6 / (9 * 5 + 9 * 1));
    expect(Math.max(...k0.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...k0.map(Math.abs))).toBeGreaterThan(0.8 * limit);
    m.dispose();
  });

  it('L1/L2 on the depthwise kernel and bias: one SGD step differs by lr·(l1·sign(w) + 2·l2·w)', async () => {
    await init();
    const { x, y } = data(7, [6, 5, 3], 3, 1);
    const make = (reg: boolean) => {
      const r = reg ? { depthwiseRegularizer: l1l2({ l1: 0.01, l2: 0.02 }), biasRegularizer: l1l2({ l2: 0.05 }) } : {};
      const m = new Sequential({ inputShape: [6, 5, 3], layers: [depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, biasInitializer: 'glorotUniform', ...r }), flatten(), dense(3)], seed: 4 });
      m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
      return m;
    };
    const [a, b] = [make(false), make(true)];
    const w0 = a.getWeights();
    expect(weightBits(b)).toEqual(w0.map((w) => bits(w.data)));
    a.trainOnBatch(x, y);
    b.trainOnBatch(x, y);
    const [wa, wb] = [a.getWeights(), b.getWeights()];
    for (const [i, l1, l2] of [[0, 0.01, 0.02], [1, 0, 0.05]] as const) {
      wa[i]!.data.forEach((v, j) => {
        const w = w0[i]!.data[j]!;
        const want = v - 0.1 * (l1 * Math.sign(w) + 2 * l2 * w);
        expect(Math.abs(wb[i]!.data[j]! - want)).toBeLessThan(1e-6);
      });
    }
    a.dispose();
    b.dispose();
  });

  it("max-norm rescales each output channel's kh·kw taps (Keras MaxNorm(axis=[0, 1])), not whole filters", async () => {
    await init();
    const [kh, kw, c, mult] = [3, 2, 3, 2];
    const f = c * mult;
    const m = new Sequential({ inputShape: [5, 4, c], layers: [depthwiseConv2d({ kernelSize: [kh, kw], depthMultiplier: mult, depthwiseConstraint: maxNorm({ maxValue: 1 }) }), flatten(), dense(2)], seed: 2 });
    m.compile({ optimizer: sgd({ lr: 1e-6 }), loss: 'softmaxCrossEntropy' });
    // output channel o has taps w[tap·f + o]; channels 0 and 3 get norm 4, the others 0.3
    const w = m.getWeights();
    const big = new Set([0, 3]);
    const kernel = Float32Array.from({ length: kh * kw * f }, (_, i) => (big.has(i % f) ? 4 : 0.3) / Math.sqrt(kh * kw) * (i % 2 ? -1 : 1));
    m.setWeights([{ data: kernel }, ...w.slice(1)]);
    const { x, y } = data(4, [5, 4, c], 2, 3);
    m.trainOnBatch(x, y);
    const after = m.getWeights()[0]!.data;
    for (let o = 0; o < f; o++) {
      const norm = Math.hypot(...Array.from({ length: kh * kw }, (_, t) => after[t * f + o]!));
      if (big.has(o)) expect(norm).toBeCloseTo(1, 5);
      else expect(norm).toBeCloseTo(0.3, 4);
    }
    m.dispose();
  });

  it('trainable: false freezes the depthwise layer while the layer before it still trains (dx flows)', async () => {
    await init();
    const { x, y } = data(8, [6, 6, 2], 3, 5);
    const m = new Sequential({ inputShape: [6, 6, 2], layers: [conv2d(4, { kernelSize: 3, padding: 'same' }), depthwiseConv2d({ kernelSize: 3, trainable: false }), globalAveragePool2d(), dense(3)], seed: 6 });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    const before = weightBits(m);
    await m.fit(x, y, { epochs: 2, batchSize: 4, seed: 1 });
    const after = weightBits(m);
    expect(after[2]).toEqual(before[2]); // depthwise kernel
    expect(after[3]).toEqual(before[3]); // its bias
    expect(after[0]).not.toEqual(before[0]); // conv2d before it trained through it
    expect(m.summary()).toMatch(/depthwise_conv2d_0 \(linear, 3×3 valid, frozen\)/);
    m.dispose();
  });

  it('Monte Carlo dropout after a depthwise layer: a spread under mcSamples, deterministic otherwise', async () => {
    await init();
    const { x } = data(5, [7, 6, 3], 3, 7);
    const m = new Sequential({ inputShape: [7, 6, 3], layers: [depthwiseConv2d({ kernelSize: 3, activation: 'relu' }), dropout(0.3), flatten(), dense(3)], seed: 8 });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    expect(bits(m.predict(x).data)).toEqual(bits(m.predict(x).data));
    const { mean, std } = m.predict(x, { mcSamples: 6, seed: 1 });
    expect(Math.max(...std.data)).toBeGreaterThan(1e-3);
    expect(bits(m.predict(x, { mcSamples: 6, seed: 1 }).mean.data)).toEqual(bits(mean.data));
    m.dispose();
  });

  it('model files: a round trip predicts the same bits and trains on to the same bits', async () => {
    await init();
    const { x, y } = data(10, [9, 7, 5], 3, 9);
    const m = new Sequential({ inputShape: [9, 7, 5], layers: separable(), seed: 3 });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    await m.fit(x, y, { epochs: 1, batchSize: 5, seed: 2 });
    const back = deserializeModel(serializeModel(m));
    expect(back.layers).toEqual(m.layers);
    expect(bits(back.predict(x).data)).toEqual(bits(m.predict(x).data));
    // (model files hold weights, not optimizer state: both go on with a fresh SGD)
    for (const k of [m, back]) {
      k.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
      await k.fit(x, y, { epochs: 1, batchSize: 5, seed: 4 });
    }
    expect(weightBits(back)).toEqual(weightBits(m));
    m.dispose();
    back.dispose();
  });

  it('checkpoints resume exactly: epoch 2 continued to epoch 4 equals 4 straight epochs, bit for bit', async () => {
    await init();
    const { x, y } = data(18, [9, 7, 5], 3, 10);
    const build = () => {
      const m = new Sequential({ inputShape: [9, 7, 5], layers: [...separable().slice(0, 3), dropout(0.2), globalAveragePool2d(), dense(3)], seed: 2 });
      m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
      return m;
    };
    const opts = { epochs: 4, batchSize: 6, seed: 3 };
    const straight = build();
    await straight.fit(x, y, opts);
    const first = build();
    let saved: Uint8Array | null = null;
    await first.fit(x, y, { ...opts, callbacks: [checkpointCallback({ save: (b, p) => { if (p.epoch === 2) saved = b; } }), { onEpochEnd: (e) => { if (e === 2) first.stopTraining = true; } }] });
    expect(saved).not.toBeNull();
    const { model, resume } = deserializeCheckpoint(saved!);
    await model.fit(x, y, { epochs: 4, batchSize: 6, resumeFrom: resume! });
    expect(weightBits(model)).toEqual(weightBits(straight));
    const copy = deserializeCheckpoint(serializeCheckpoint(straight)).model;
    await straight.fit(x, y, { epochs: 1, batchSize: 6, seed: 4 });
    await copy.fit(x, y, { epochs: 1, batchSize: 6, seed: 4 });
    expect(weightBits(copy)).toEqual(weightBits(straight));
    for (const m of [straight, first, model, copy]) m.dispose();
  }, 60_000);

  it('the scalar build trains to the SIMD weights within float tolerance; 2 threads give the 1-thread bits', async () => {
    const { x, y } = data(48, [16, 14, 32], 3, 11);
    const train = async (runtime: Awaited<ReturnType<typeof createRuntime>>) => {
      const m = new Sequential({ inputShape: [16, 14, 32], layers: [depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }), conv2d(8, { kernelSize: 1 }), depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2 }), globalAveragePool2d(), dense(3)], seed: 5, runtime });
      m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
      await m.fit(x, y, { epochs: 2, batchSize: 24, seed: 1 });
      const w = m.getWeights();
      m.dispose();
      return w;
    };
    const simd = await createRuntime({ threads: 1 });
    const ref = await train(simd);
    simd.dispose();
    const scalar = await createRuntime({ simd: false });
    const s = await train(scalar);
    scalar.dispose();
    s.forEach((w, i) => w.data.forEach((v, j) => expect(Math.abs(v - ref[i]!.data[j]!)).toBeLessThan(1e-4)));
    const two = await createRuntime({ threads: 2 });
    two.pool!.backOff = false;
    const t = await train(two);
    expect(two.pool!.regions).toBeGreaterThan(0);
    two.dispose();
    expect(t.map((w) => bits(w.data))).toEqual(ref.map((w) => bits(w.data)));
  }, 60_000);

  it('refuses bad configurations with typed errors naming the fix, and leaves a model as it was', async () => {
    await init();
    expect(thrown(() => depthwiseConv2d({} as never))).toMatchObject({ name: 'OptionError', message: expect.stringMatching(/options need kernelSize, e\.g\. depthwiseConv2d\(\{ kernelSize: 3 \}\)/) });
    for (const bad of [1.5, 0, -1, NaN, '2', Infinity]) {
      const e = thrown(() => depthwiseConv2d({ kernelSize: 3, depthMultiplier: bad as number }));
      expect(e, String(bad)).toBeInstanceOf(OptionError);
      expect((e as OptionError).option).toBe('depthMultiplier');
      expect(e.message).toMatch(/depthMultiplier = .*; expected a positive integer/);
    }
    expect(thrown(() => depthwiseConv2d({ kernelSize: 3, filters: 4 } as never))).toMatchObject({ name: 'OptionError', message: expect.stringMatching(/filters/) });
    expect(thrown(() => depthwiseConv2d({ kernelSize: 3, activation: 'softmax' }))).toMatchObject({ message: expect.stringMatching(/softmax' is for the last dense layer/) });
    expect(thrown(() => depthwiseConv2d({ kernelSize: [3, 0] }))).toMatchObject({ message: expect.stringMatching(/kernelSize = \[3,0\]; expected a positive integer/) });
    expect(thrown(() => depthwiseConv2d({ kernelSize: 3, padding: 'full' as never }))).toMatchObject({ message: expect.stringMatching(/padding = "full"; expected 'valid' or 'same'/) });
    expect(thrown(() => depthwiseConv2d({ kernelSize: 3, depthwiseConstraint: { type: 'maxNorm', maxValue: -1 } as never }))).toBeInstanceOf(OptionError);
    // a kernel larger than the (padded) input; flat input; hand-written configs checked like the factory's
    const make = (inputShape: number[], ls: LayerConfig[]) => () => new Sequential({ inputShape: inputShape as [number], layers: ls });
    expect(thrown(make([4, 3, 2], [depthwiseConv2d({ kernelSize: 5 }), flatten(), dense(2)]))).toMatchObject({ name: 'OptionError', message: expect.stringMatching(/a 5×5 window does not fit a 4×3 input with padding 'valid'; use a smaller kernel or padding 'same'/) });
    expect(thrown(make([4, 4, 2], [depthwiseConv2d({ kernelSize: 3, dilationRate: 2 }), flatten(), dense(2)]))).toMatchObject({ message: expect.stringMatching(/a 3×3 window with dilation 2×2 does not fit a 4×4 input/) });
    expect(thrown(make([32], [depthwiseConv2d({ kernelSize: 3 }), flatten(), dense(2)]))).toMatchObject({ message: expect.stringMatching(/\(depthwiseConv2d\) takes \[height, width, channels\] images but receives \[32\]/) });
    expect(thrown(() => normalizeLayer({ type: 'depthwiseConv2d', kernelSize: 3, depthMultiplier: 0.5 }, 'Sequential', 'layers[0]'))).toMatchObject({ name: 'OptionError', message: expect.stringMatching(/depthMultiplier = 0\.5/) });
    expect(normalizeLayer({ type: 'depthwiseConv2d', kernelSize: 3, depthwiseConstraint: null }, 'Sequential')).toEqual(depthwiseConv2d({ kernelSize: 3 }));
    // a model with a depthwise layer refuses weights of the wrong shape and keeps its own
    const m = new Sequential({ inputShape: [5, 5, 3], layers: [depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }), flatten(), dense(2)], seed: 1 });
    const before = weightBits(m);
    const w = m.getWeights();
    expect(thrown(() => m.setWeights([{ data: new Float32Array(3 * 3 * 3) }, ...w.slice(1)]))).toMatchObject({ message: expect.stringMatching(/54/) });
    expect(weightBits(m)).toEqual(before);
    m.dispose();
  });
});
