// gaussianNoise (Keras GaussianNoise): y = x + stddev·z, z ~ N(0, 1), while training and under Monte
// Carlo sampling; the identity at inference; the gradient passes through. Expected values come
// from that definition (moments of the normal distribution with sampling bounds), not from runs
// of the implementation.
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Sequential, adam, dense, gaussianNoise, init, lbfgs, normalizeLayers, sgd } from '../../ts/index.js';
import { deserializeModel, serializeModel } from '../../ts/io/model.js';
import { toOnnx } from '../../ts/io/onnx.js';
import { testData } from '../reference/f64.js';
import { thrown } from '../helpers.js';

beforeAll(async () => {
  await init();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
const weightBits = (m: Sequential) => m.getWeights().map((w) => [w.name, bits(w.data)]);

describe('gaussianNoise', () => {
  it('refuses a stddev that is not a finite number >= 0, and hand-written configs with bad fields, with OptionError', () => {
    for (const bad of [-0.1, NaN, Infinity, '0.1', undefined, null]) {
      const e = thrown(() => gaussianNoise(bad as number));
      expect(e).toBeInstanceOf(OptionError);
      expect((e as OptionError).option).toBe('stddev');
      expect((e as Error).message).toMatch(/gaussianNoise: stddev = .*; expected a finite number >= 0/);
    }
    expect(normalizeLayers([{ type: 'gaussianNoise', stddev: 0.25 }], 'test')).toEqual([gaussianNoise(0.25)]);
    expect(() => normalizeLayers([{ type: 'gaussianNoise', stddev: 0.1, rate: 0.5 }], 'test')).toThrow(/layers\[0\] \(gaussianNoise\) has unknown key 'rate'/);
    expect(() => normalizeLayers([{ type: 'gaussianNoise' }], 'test')).toThrow(/layers\[0\]\.stddev is invalid/);
    expect(() => new Sequential({ inputShape: [2], layers: [{ type: 'gaussianNoise', stddev: -1 } as never, dense(1)] })).toThrow(OptionError);
  });

  it('is the identity at inference: predictions equal those of the same model without the layer, bit for bit', () => {
    const x = testData(5 * 3, 7);
    const noisy = new Sequential({ inputShape: [3], layers: [gaussianNoise(0.7), dense(4, { activation: 'tanh' }), dense(2)], seed: 3 });
    const plain = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'tanh' }), dense(2)], seed: 3 });
    plain.setWeights(noisy.getWeights());
    for (const m of [noisy, plain]) m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse' });
    expect(bits(noisy.predict(x).data)).toEqual(bits(plain.predict(x).data));
    expect(noisy.summary()).toMatch(/gaussian_noise_0 \(linear, stddev 0\.7\)/);
    noisy.dispose();
    plain.dispose();
  });

  it('with stddev 0 trains bit-identically to the model without it (the gradient passes through unchanged)', async () => {
    const x = testData(64 * 3, 11);
    const y = testData(64 * 2, 12);
    const run = async (layers: Parameters<typeof normalizeLayers>[0]) => {
      const m = new Sequential({ inputShape: [3], layers: layers as never, seed: 5 });
      m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'mse' });
      await m.fit(x, { data: y, shape: [64, 2] }, { epochs: 3, batchSize: 16, seed: 9 });
      const w = weightBits(m);
      m.dispose();
      return w;
    };
    expect(await run([gaussianNoise(0), dense(5, { activation: 'relu' }), dense(2)])).toEqual(await run([dense(5, { activation: 'relu' }), dense(2)]));
  });

  it('adds N(0, stddev²) noise while training: the first-step loss of y = w·(x + σz) against w·x is w²σ²·mean(z²)', async () => {
    // one batch of N rows; the loss is computed before the (only) update, so it is mean(z²)·(wσ)²
    const N = 20000;
    const [w, sd] = [2, 0.5];
    const x = testData(N, 21);
    const m = new Sequential({ inputShape: [1], layers: [gaussianNoise(sd), dense(1, { useBias: false, kernelInitializer: { constant: w } })], seed: 1 });
    m.compile({ optimizer: sgd({ lr: 0.01 }), loss: 'mse' });
    const h = await m.fit(x, { data: x.map((v) => Math.fround(w * v)), shape: [N, 1] }, { epochs: 1, batchSize: N, shuffle: false, seed: 4 });
    const loss = h.history.loss![0]!;
    // mean(z²) of N standard normals: mean 1, standard deviation √(2/N); 5σ band
    expect(Math.abs(loss / (w * sd) ** 2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    m.dispose();
  });

  it('stays on under Monte Carlo sampling: per-row mean w·x and standard deviation w·σ within sampling bounds, rows independent', () => {
    const T = 2000;
    const [w, sd] = [2, 0.5];
    const x = Float32Array.from([-1, 0, 0.5, 3]);
    const m = new Sequential({ inputShape: [1], layers: [gaussianNoise(sd), dense(1, { useBias: false, kernelInitializer: { constant: w } })], seed: 1 });
    m.compile({ optimizer: sgd({ lr: 0.01 }), loss: 'mse' });
    const { mean, std } = m.predict(x, { mcSamples: T, seed: 8 });
    const s = w * sd;
    x.forEach((v, i) => {
      expect(Math.abs(mean.data[i]! - w * v)).toBeLessThan((5 * s) / Math.sqrt(T));
      // the sample standard deviation of T normals: relative standard error ≈ 1/√(2T)
      expect(Math.abs(std.data[i]! / s - 1)).toBeLessThan(5 / Math.sqrt(2 * T));
    });
    // each row draws its own noise: the per-row means differ from w·x by different amounts
    const offsets = Array.from(x, (v, i) => mean.data[i]! - w * v);
    expect(new Set(offsets.map((o) => o.toFixed(6))).size).toBe(x.length);
    m.dispose();
  });

  it('is seeded like dropout: the same fit seed reproduces the weights, another seed changes them', async () => {
    const x = testData(48 * 3, 31);
    const y = testData(48, 32);
    const run = async (seed: number) => {
      const m = new Sequential({ inputShape: [3], layers: [gaussianNoise(0.3), dense(4, { activation: 'tanh' }), dense(1)], seed: 2 });
      m.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'mse' });
      await m.fit(x, { data: y, shape: [48, 1] }, { epochs: 2, batchSize: 12, seed });
      const w = weightBits(m);
      m.dispose();
      return w;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });

  it('is refused by full-batch optimizers (a random objective), naming the layer', () => {
    const m = new Sequential({ inputShape: [2], layers: [gaussianNoise(0.1), dense(1)] });
    expect(() => m.compile({ optimizer: lbfgs(), loss: 'mse' })).toThrow(/layers\[0\] \(gaussianNoise\) is not/);
    m.dispose();
  });

  it('round-trips through a model file and exports to ONNX as Identity, matching predict in onnxruntime', async () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'relu' }), gaussianNoise(0.2), dense(2)], seed: 6 });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse' });
    const copy = deserializeModel(serializeModel(m));
    const x = testData(6 * 3, 41);
    expect(bits(copy.predict(x).data)).toEqual(bits(m.predict(x).data));
    const session = await ort.InferenceSession.create(toOnnx(m));
    const r = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [6, 3]) });
    const got = r[session.outputNames[0]!]!.data as Float32Array;
    const want = m.predict(x).data;
    want.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-6 * (1 + Math.abs(v))));
    copy.dispose();
    m.dispose();
  });
});
