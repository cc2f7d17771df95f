// gaussianDropout (Keras GaussianDropout: y = x·m, m ~ N(1, rate/(1 − rate))) and alphaDropout
// (Keras AlphaDropout / PyTorch alpha_dropout: y = a·(x·keep + α'(1 − keep)) + b) in models, on both
// builds: the identity at inference, on while training and under Monte Carlo sampling, gradients
// against central finite differences of a float64 forward pass with the multipliers the step drew
// (read back from the plan), moments against the definitions with sampling bounds, seeding, model
// files, ONNX, refusals that leave the model as it was. Expected values come from the Keras /
// PyTorch definitions, never from runs of the implementation.
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Sequential, adam, alphaDropout, conv2d, dense, deserializeCheckpoint, flatten, gaussianDropout, init, lbfgs, normalizeLayers, serializeCheckpoint, sgd } from '../../ts/index.js';
import { deserializeModel, serializeModel } from '../../ts/io/model.js';
import { toOnnx } from '../../ts/io/onnx.js';
import { LAYER, PLAN } from '../../ts/runtime/abi.js';
import { BUILDS, layerRecords, runtimeFor, thrown } from '../helpers.js';
import { softmaxCe64, testData } from '../reference/f64.js';

beforeAll(async () => {
  await init();
});

const ALPHA_P = -1.7580993408473766; // −λα of SELU (Keras −alpha·scale; PyTorch's alpha)
const SELU = { lambda: 1.0507009873554805, alpha: 1.6732632423543772 };
const selu = (v: number) => (v > 0 ? SELU.lambda * v : SELU.lambda * SELU.alpha * (Math.exp(v) - 1));
/** Keras's affine map of alpha dropout, in float64 from the f32 rate the record holds. */
function affine(rate: number): { a: number; b: number } {
  const r = Math.fround(rate);
  const a = ((1 - r) * (1 + r * ALPHA_P ** 2)) ** -0.5;
  return { a, b: -a * ALPHA_P * r };
}
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
const weightBits = (m: Sequential) => m.getWeights().map((w) => [w.name, bits(w.data)]);
/** Standard normals from a small seeded generator of the test's own (Box–Muller over an LCG). */
function normals(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}
/** Sample mean, variance (n − 1) and fourth central moment. */
function moments(v: ArrayLike<number>): { mean: number; vari: number; m4: number } {
  const n = v.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i]!;
  const mean = s / n;
  let s2 = 0;
  let s4 = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i]! - mean;
    s2 += d * d;
    s4 += d ** 4;
  }
  return { mean, vari: s2 / (n - 1), m4: s4 / n };
}

const FACTORIES = { gaussianDropout, alphaDropout } as const;
type Name = keyof typeof FACTORIES;

describe.each(['gaussianDropout', 'alphaDropout'] as const)('%s', (name: Name) => {
  const layer = FACTORIES[name];

  it('refuses a rate that is not a number in [0, 1), and hand-written configs with bad fields, with OptionError', () => {
    for (const bad of [-0.1, 1, 1.5, NaN, Infinity, '0.1', undefined, null]) {
      const e = thrown(() => layer(bad as number));
      expect(e).toBeInstanceOf(OptionError);
      expect((e as OptionError).option).toBe('rate');
      expect((e as Error).message).toMatch(new RegExp(`${name}: rate = .*; expected a number in \\[0, 1\\)`));
    }
    expect(normalizeLayers([{ type: name, rate: 0.25 }], 'test')).toEqual([layer(0.25)]);
    expect(() => normalizeLayers([{ type: name, rate: 0.1, stddev: 0.5 }], 'test')).toThrow(new RegExp(`layers\\[0\\] \\(${name}\\) has unknown key 'stddev'`));
    expect(() => normalizeLayers([{ type: name }], 'test')).toThrow(/layers\[0\]\.rate is invalid/);
    expect(() => new Sequential({ inputShape: [2], layers: [{ type: name, rate: 1 } as never, dense(1)] })).toThrow(OptionError);
  });

  it('is the identity at inference: predict and evaluate equal those of the model without the layer, bit for bit', () => {
    const x = testData(5 * 3, 7);
    const y = testData(5 * 2, 8);
    const noisy = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'selu' }), layer(0.4), dense(2)], seed: 3 });
    const plain = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'selu' }), dense(2)], seed: 3 });
    plain.setWeights(noisy.getWeights());
    for (const m of [noisy, plain]) m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse' });
    expect(bits(noisy.predict(x).data)).toEqual(bits(plain.predict(x).data));
    const target = { data: y, shape: [5, 2] as [number, number] };
    expect(noisy.evaluate(x, target).loss).toBe(plain.evaluate(x, target).loss);
    expect(noisy.summary()).toMatch(new RegExp(`${name === 'alphaDropout' ? 'alpha_dropout_0' : 'gaussian_dropout_0'} \\(linear, rate 0\\.4\\)`));
    noisy.dispose();
    plain.dispose();
  });

  it('with rate 0 trains bit-identically to the model without it', async () => {
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
    expect(await run([dense(5, { activation: 'relu' }), layer(0), dense(2)])).toEqual(await run([dense(5, { activation: 'relu' }), dense(2)]));
  });

  it('is seeded like dropout: the same fit seed reproduces the weights, another seed changes them', async () => {
    const x = testData(48 * 3, 31);
    const y = testData(48, 32);
    const run = async (seed: number) => {
      const m = new Sequential({ inputShape: [3], layers: [dense(6, { activation: 'selu', kernelInitializer: 'lecunNormal' }), layer(0.3), dense(1)], seed: 2 });
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
    const m = new Sequential({ inputShape: [2], layers: [layer(0.1), dense(1)] });
    expect(() => m.compile({ optimizer: lbfgs(), loss: 'mse' })).toThrow(new RegExp(`layers\\[0\\] \\(${name}\\) is not`));
    m.dispose();
  });

  it('round-trips through a model file and exports to ONNX as Identity, matching predict in onnxruntime', async () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'selu' }), layer(0.2), dense(2)], seed: 6 });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse' });
    await m.fit(testData(16 * 3, 40), { data: testData(32, 39), shape: [16, 2] }, { epochs: 1, batchSize: 8, seed: 1 });
    const copy = deserializeModel(serializeModel(m));
    expect(copy.summary()).toBe(m.summary());
    const x = testData(6 * 3, 41);
    expect(bits(copy.predict(x).data)).toEqual(bits(m.predict(x).data));
    // the copy keeps the layer on under Monte Carlo sampling, with the same draws
    expect(bits(copy.predict(x, { mcSamples: 3, seed: 2 }).std.data)).toEqual(bits(m.predict(x, { mcSamples: 3, seed: 2 }).std.data));
    const session = await ort.InferenceSession.create(toOnnx(m));
    const r = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [6, 3]) });
    const got = r[session.outputNames[0]!]!.data as Float32Array;
    m.predict(x).data.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-6 * (1 + Math.abs(v))));
    copy.dispose();
    m.dispose();
  });

  it('continues exactly from a checkpoint: the noise counter and optimizer state carry over', async () => {
    const x = testData(40 * 4, 71);
    const y = testData(40 * 2, 72);
    const a = new Sequential({ inputShape: [4], layers: [dense(8, { activation: 'selu', kernelInitializer: 'lecunNormal' }), layer(0.3), dense(2)], seed: 8 });
    a.compile({ optimizer: adam({ lr: 0.01 }), loss: 'mse' });
    const target = { data: y, shape: [40, 2] as [number, number] };
    await a.fit(x, target, { epochs: 2, batchSize: 8 });
    const { model: b } = deserializeCheckpoint(serializeCheckpoint(a));
    await a.fit(x, target, { epochs: 2, batchSize: 8, seed: 9 });
    await b.fit(x, target, { epochs: 2, batchSize: 8, seed: 9 });
    expect(weightBits(b)).toEqual(weightBits(a));
    a.dispose();
    b.dispose();
  });

  it('applies elementwise to feature maps: conv2d → noise → flatten → dense trains, is the identity at inference and samples under mcSamples', async () => {
    const conv = (noise: boolean) => new Sequential({ inputShape: [6, 5, 2], layers: [conv2d(3, { kernelSize: 3, activation: 'selu' }), ...(noise ? [layer(0.25)] : []), flatten(), dense(2)], seed: 4 });
    const [noisy, plain] = [conv(true), conv(false)];
    plain.setWeights(noisy.getWeights());
    for (const m of [noisy, plain]) m.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'mse' });
    const x = testData(4 * 60, 61);
    expect(bits(noisy.predict(x).data)).toEqual(bits(plain.predict(x).data));
    const { std } = noisy.predict(x, { mcSamples: 4, seed: 1 });
    expect(Array.from(std.data).every((v) => v > 0)).toBe(true);
    const h = await noisy.fit(x, { data: testData(8, 62), shape: [4, 2] }, { epochs: 2, batchSize: 2, seed: 2 });
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    noisy.dispose();
    plain.dispose();
  });

  it('rejects NaN training data with a typed error and leaves the weights and a later fit as they were', async () => {
    const x = testData(8 * 3, 51);
    const y = testData(8, 52);
    const make = () => {
      const m = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'selu' }), layer(0.3), dense(1)], seed: 9 });
      m.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'mse' });
      return m;
    };
    const m = make();
    const before = weightBits(m);
    const bad = x.slice();
    bad[4] = NaN;
    const e = await m.fit(bad, { data: y, shape: [8, 1] }, { epochs: 1, batchSize: 4, seed: 3 }).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(Error);
    expect((e as { code?: string }).code).toMatch(/^E_/);
    expect(weightBits(m)).toEqual(before);
    await m.fit(x, { data: y, shape: [8, 1] }, { epochs: 1, batchSize: 4, seed: 3 });
    const fresh = make();
    await fresh.fit(x, { data: y, shape: [8, 1] }, { epochs: 1, batchSize: 4, seed: 3 });
    expect(weightBits(m)).toEqual(weightBits(fresh));
    m.dispose();
    fresh.dispose();
  });
});

describe.each(BUILDS)('noise layers in the training step (%s build)', (build) => {
  /**
   * One training forward/backward (sgd lr 0) of dense(h) → noise → dense(k) on softmax cross
   * entropy; returns what the step drew (the plan's multiplier buffer of the noise layer) and the
   * gradients, beside an f64 loss of the same network with those draws.
   */
  async function drawnStep(name: Name, rate: number, act: 'tanh' | 'selu') {
    const rt = await runtimeFor(build);
    const [n, d, h, k] = [7, 5, 11, 3];
    const m = new Sequential({ inputShape: [d], layers: [dense(h, { activation: act }), FACTORIES[name](rate), dense(k)], seed: 3, runtime: rt });
    m.compile({ optimizer: sgd({ lr: 0 }), loss: 'softmaxCrossEntropy' });
    const x = testData(n * d, 8, 2);
    const y = Int32Array.from({ length: n }, (_, i) => i % k);
    await m.fit(x, y, { epochs: 1, batchSize: n, shuffle: false, seed: 4 });
    const stepper = (m as unknown as { stepper: { trainPlan: { plan: number } } }).stepper;
    const v = rt.arena.view;
    const recs = v.getUint32(stepper.trainPlan.plan + PLAN.layers, true);
    const aux = v.getUint32(recs + LAYER.size + LAYER.aux, true);
    const mult = Float64Array.from(rt.arena.readF32(aux as never, n * h));
    const [p0, , p2] = layerRecords(m);
    const W1 = Float64Array.from(rt.arena.readF32(p0!.w as never, d * h));
    const b1 = Float64Array.from(rt.arena.readF32(p0!.b as never, h));
    const W2 = Float64Array.from(rt.arena.readF32(p2!.w as never, h * k));
    const b2 = Float64Array.from(rt.arena.readF32(p2!.b as never, k));
    const { a, b } = affine(rate);
    // the layer's map given its draw: Gaussian dropout h·m; alpha dropout a·h + b kept (m = a), a·α' + b dropped (m = 0)
    const noise = (hv: number, mv: number) => (name === 'gaussianDropout' ? hv * mv : mv !== 0 ? a * hv + b : a * ALPHA_P + b);
    const loss = () => {
      const z = new Float64Array(n * k);
      for (let r = 0; r < n; r++) {
        const hid = new Float64Array(h);
        for (let j = 0; j < h; j++) {
          let s = b1[j]!;
          for (let i = 0; i < d; i++) s += x[r * d + i]! * W1[i * h + j]!;
          hid[j] = noise(act === 'tanh' ? Math.tanh(s) : selu(s), mult[r * h + j]!);
        }
        for (let o = 0; o < k; o++) {
          let s = b2[o]!;
          for (let j = 0; j < h; j++) s += hid[j]! * W2[j * k + o]!;
          z[r * k + o] = s;
        }
      }
      return softmaxCe64(z, y, n, k);
    };
    const grads: [Float64Array, Float32Array][] = [
      [W1, rt.arena.readF32(p0!.gw as never, d * h)],
      [b1, rt.arena.readF32(p0!.gb as never, h)],
      [W2, rt.arena.readF32(p2!.gw as never, h * k)],
      [b2, rt.arena.readF32(p2!.gb as never, k)],
    ];
    return { m, mult, loss, grads, a };
  }

  for (const [name, rate, act] of [['gaussianDropout', 0.4, 'tanh'], ['alphaDropout', 0.3, 'selu']] as const) {
    it(`${name}: gradients match central differences of the f64 loss with the drawn multipliers`, async () => {
      const { m, mult, loss, grads, a } = await drawnStep(name, rate, act);
      if (name === 'alphaDropout') {
        // a·keep: 0 or a (rounded to f32), some of each
        mult.forEach((v) => expect(v === 0 || v === Math.fround(a)).toBe(true));
        const dropped = mult.filter((v) => v === 0).length;
        expect(dropped).toBeGreaterThan(0);
        expect(dropped).toBeLessThan(mult.length);
      } else {
        mult.forEach((v) => expect(Number.isFinite(v)).toBe(true));
        expect(new Set(mult).size).toBe(mult.length); // continuous draws
      }
      const eps = 1e-6;
      for (const [w, g] of grads)
        for (let i = 0; i < w.length; i++) {
          const o = w[i]!;
          w[i] = o + eps;
          const lp = loss();
          w[i] = o - eps;
          const lm = loss();
          w[i] = o;
          const fd = (lp - lm) / (2 * eps);
          expect(Math.abs(g[i]! - fd)).toBeLessThan(2e-5 + 2e-3 * Math.abs(fd));
        }
      m.dispose();
    });
  }

  it('gaussianDropout: one stochastic pass of constant inputs gives multipliers with mean 1 and variance rate/(1 − rate)', async () => {
    const rt = await runtimeFor(build);
    const [N, rate] = [20000, 0.3];
    const m = new Sequential({ inputShape: [1], layers: [gaussianDropout(rate), dense(1, { useBias: false, kernelInitializer: { constant: 1 } })], seed: 1, runtime: rt });
    m.compile({ optimizer: sgd({ lr: 0.01 }), loss: 'mse' });
    // mcSamples 1: one stochastic forward pass, every row its own draw; y = 1·(1·m) = m
    const { mean } = m.predict(new Float32Array(N).fill(1), { mcSamples: 1, seed: 5 });
    const s = moments(mean.data);
    const v = rate / (1 - rate);
    expect(Math.abs(s.mean - 1)).toBeLessThan(5 * Math.sqrt(v / N));
    expect(Math.abs(s.vari - v)).toBeLessThan(5 * Math.sqrt((s.m4 - s.vari ** 2) / N));
    m.dispose();
  });

  it('alphaDropout keeps SELU-normalized inputs (selu of standard normals: mean 0, variance 1) at mean 0 and variance 1, as Keras claims', async () => {
    const rt = await runtimeFor(build);
    const N = 40000;
    const xs = Float32Array.from(normals(N, 17), selu);
    const sx = moments(xs);
    // the inputs are self-normalized to sampling error
    expect(Math.abs(sx.mean)).toBeLessThan(5 * Math.sqrt(1 / N));
    expect(Math.abs(sx.vari - 1)).toBeLessThan(5 * Math.sqrt((sx.m4 - 1) / N));
    for (const rate of [0.05, 0.1, 0.2, 0.5]) {
      const m = new Sequential({ inputShape: [1], layers: [alphaDropout(rate), dense(1, { useBias: false, kernelInitializer: { constant: 1 } })], seed: 1, runtime: rt });
      m.compile({ optimizer: sgd({ lr: 0.01 }), loss: 'mse' });
      const { mean } = m.predict(xs, { mcSamples: 1, seed: 6 });
      const s = moments(mean.data);
      // the output's own sampling error plus the inputs' (the map is affine in x given the mask)
      const { a } = affine(rate);
      const seMean = Math.sqrt(s.vari / N) + a * Math.abs(sx.mean);
      const seVar = Math.sqrt((s.m4 - s.vari ** 2) / N) + a * a * Math.abs(sx.vari - 1);
      expect(Math.abs(s.mean), `rate ${rate} mean`).toBeLessThan(5 * seMean);
      expect(Math.abs(s.vari - 1), `rate ${rate} variance`).toBeLessThan(5 * seVar);
      // and the dropped share is the rate: dropped rows sit at a·α' + b
      const dv = Math.fround(a * ALPHA_P + affine(rate).b);
      const dropped = mean.data.filter((v) => v === dv).length / N;
      expect(Math.abs(dropped - rate)).toBeLessThan(5 * Math.sqrt((rate * (1 - rate)) / N));
      m.dispose();
    }
  });

  it('stays on under Monte Carlo sampling: per-row means and standard deviations of both layers match their definitions', () => {
    return (async () => {
      const rt = await runtimeFor(build);
      const T = 3000;
      const w = 2;
      const x = Float32Array.from([-1.5, -0.25, 0.5, 3]);
      for (const [name, rate] of [['gaussianDropout', 0.2], ['alphaDropout', 0.2]] as const) {
        const m = new Sequential({ inputShape: [1], layers: [FACTORIES[name](rate), dense(1, { useBias: false, kernelInitializer: { constant: w } })], seed: 1, runtime: rt });
        m.compile({ optimizer: sgd({ lr: 0.01 }), loss: 'mse' });
        const { mean, std } = m.predict(x, { mcSamples: T, seed: 8 });
        const r = Math.fround(rate);
        const { a } = affine(rate);
        x.forEach((v, i) => {
          // Gaussian: w·x·m, mean w·x, sd |w·x|·√(r/(1−r)); alpha: mean w·a(1−r)x, sd |w|·a·√(r(1−r))·|x − α'|
          const mu = name === 'gaussianDropout' ? w * v : w * a * (1 - r) * v;
          const sd = name === 'gaussianDropout' ? Math.abs(w * v) * Math.sqrt(r / (1 - r)) : Math.abs(w) * a * Math.sqrt(r * (1 - r)) * Math.abs(v - ALPHA_P);
          expect(Math.abs(mean.data[i]! - mu), `${name} row ${i} mean`).toBeLessThan((5 * sd) / Math.sqrt(T));
          // a Bernoulli's sample sd has a larger relative error than a normal's: bound by its kurtosis
          const kurt = name === 'gaussianDropout' ? 3 : (1 - 6 * r * (1 - r)) / (r * (1 - r)) + 3;
          expect(Math.abs(std.data[i]! / sd - 1), `${name} row ${i} sd`).toBeLessThan(5 * Math.sqrt((kurt - 1) / (4 * T)));
        });
        m.dispose();
      }
    })();
  });
});

describe('lecunNormal (Keras LecunNormal: truncated normal, stddev √(1/fan_in)/0.87962566103423978)', () => {
  it('draws weights within two raw standard deviations, with variance 1/fan_in and the truncated normal shape', () => {
    const [fanIn, units] = [400, 250];
    const m = new Sequential({ inputShape: [fanIn], layers: [dense(units, { activation: 'selu', kernelInitializer: 'lecunNormal' })], seed: 4 });
    const w = m.getWeights()[0]!.data;
    const N = w.length;
    const raw = Math.sqrt(1 / fanIn) / 0.87962566103423978;
    const s = moments(w);
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(Math.fround(2 * raw) * (1 + 1e-6));
    expect(Math.abs(s.mean)).toBeLessThan(5 * Math.sqrt(1 / fanIn / N));
    // Keras's correction makes the truncated normal's variance exactly 1/fan_in
    expect(Math.abs(s.vari * fanIn - 1)).toBeLessThan(5 * Math.sqrt(s.m4 - s.vari ** 2) * fanIn / Math.sqrt(N));
    // P(|z| > 1 | |z| ≤ 2) for a standard normal z = (0.954500 − 0.682689)/0.954500
    const p = (0.9544997361036416 - 0.6826894921370859) / 0.9544997361036416;
    const beyond = Array.from(w).filter((v) => Math.abs(v) > raw).length / N;
    expect(Math.abs(beyond - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    m.dispose();
  });
});
