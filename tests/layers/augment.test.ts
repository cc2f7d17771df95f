// Augmentation layers (Keras 2 RandomFlip / RandomTranslation / RandomRotation / RandomZoom /
// RandomContrast): options validated as Keras validates them; placement at the input; the identity
// at inference, in evaluate and under Monte Carlo sampling; in training, each row of step t is the
// kernel's warp with the parameters the documented stream draws for (fit seed, layer, t, row)
// (checked through the harness exports, with the argument block written out here from the
// documented layout); reproducible across builds, thread counts, checkpoint resume, model files and
// workers; a model with augmentation learns.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OptionError, Rng, Sequential, adam, conv2d, dense, deserializeCheckpoint, deserializeModel, flatten, globalMaxPool2d, init, lbfgs, maxPool2d,
  normalizeLayers, randomContrast, randomFlip, randomRotation, randomTranslation, randomZoom, reshape, serializeCheckpoint, serializeModel, checkpointCallback,
  type LayerConfig,
} from '../../ts/index.js';
import { CONV_GEOM } from '../../ts/runtime/abi.js';
import { createRuntime, type Runtime } from '../../ts/runtime/loader.js';
import { get, harnessFor, put, thrown } from '../helpers.js';

beforeAll(async () => {
  await init();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
const weightBits = (m: Sequential) => m.getWeights().map((w) => bits(w.data));

describe('augmentation layers: options and placement', () => {
  it('refuses every invalid option with an OptionError naming it, with Keras 2 rules', () => {
    const cases: [() => unknown, string, RegExp][] = [
      [() => randomFlip('diagonal' as never), 'mode', /randomFlip: mode = "diagonal"; expected one of 'horizontal', 'vertical', 'horizontal_and_vertical'/],
      [() => randomTranslation(1.5, 0), 'heightFactor', /\[-1.5, 1.5\]; both bounds must lie in \[-1, 1\]/],
      [() => randomTranslation(-0.1, 0.1), 'heightFactor', /upper bound must be >= the lower bound \(a single number f means \[-f, f\], so f must be >= 0\)/],
      [() => randomTranslation([0.3, 0.1], 0), 'heightFactor', /upper bound must be >= the lower bound/],
      [() => randomTranslation(0.1, [0, 2]), 'widthFactor', /lie in \[-1, 1\]/],
      [() => randomTranslation(0.1, undefined as never), 'widthFactor', /expected a finite number or a \[lower, upper\] pair/],
      [() => randomTranslation(NaN, 0.1), 'heightFactor', /expected a finite number/],
      [() => randomTranslation([0.1] as never, 0.1), 'heightFactor', /pair/],
      [() => randomTranslation(0.1, 0.1, { fillMode: 'mirror' as never }), 'fillMode', /expected one of 'reflect', 'wrap', 'constant', 'nearest'/],
      [() => randomRotation(0.1, { interpolation: 'bicubic' as never }), 'interpolation', /expected one of 'nearest', 'bilinear'/],
      [() => randomZoom(0.1, null, { fillValue: Infinity }), 'fillValue', /expected a finite number/],
      [() => randomRotation(0.1, { fill_mode: 'wrap' } as never), 'fill_mode', /fill_mode/],
      [() => randomRotation(-0.1), 'factor', /upper bound must be >= the lower bound/],
      [() => randomRotation('0.1' as never), 'factor', /expected a finite number/],
      [() => randomZoom(1.2), 'heightFactor', /both bounds must lie in \[-1, 1\]/],
      [() => randomZoom(0.1, -1.5), 'widthFactor', /both bounds must be >= -1/],
      [() => randomZoom(0.1, [-2, 0]), 'widthFactor', />= -1/],
      [() => randomContrast(-0.1), 'factor', /lower must lie in \[0, 1\] and upper be >= 0/],
      [() => randomContrast([1.2, 0.1]), 'factor', /lower must lie in \[0, 1\]/],
      [() => randomContrast([0.1, -0.1]), 'factor', /upper be >= 0/],
    ];
    for (const [f, option, msg] of cases) {
      const e = thrown(f);
      expect(e, String(msg)).toBeInstanceOf(OptionError);
      expect((e as OptionError).option, String(msg)).toBe(option);
      expect(e.message).toMatch(msg);
    }
    // what Keras accepts: rotations beyond a turn, a negative zoom factor (range [1.2, 0.8]),
    // width zoom above 1, contrast upper above 1
    expect(randomRotation(3).factor).toBe(3);
    expect(randomZoom(-0.2).heightFactor).toBe(-0.2);
    expect(randomZoom(0.1, [0, 3]).widthFactor).toEqual([0, 3]);
    expect(randomContrast([0.5, 2]).factor).toEqual([0.5, 2]);
  });

  it('rebuilds hand-written configs with defaults, and refuses bad ones with the layer named', () => {
    expect(normalizeLayers([{ type: 'randomZoom', heightFactor: 0.1 }, { type: 'randomFlip' }, { type: 'randomRotation', factor: [0, 0.1], fillMode: 'wrap' }], 'test')).toEqual([
      randomZoom(0.1), randomFlip(), randomRotation([0, 0.1], { fillMode: 'wrap' }),
    ]);
    expect(randomZoom(0.1)).toEqual({ type: 'randomZoom', heightFactor: 0.1, widthFactor: null, fillMode: 'reflect', interpolation: 'bilinear', fillValue: 0 });
    expect(() => normalizeLayers([{ type: 'randomContrast', factor: 0.1, seed: 3 }], 'test')).toThrow(/layers\[0\] \(randomContrast\) has unknown key 'seed'/);
    expect(() => normalizeLayers([{ type: 'randomTranslation', heightFactor: 0.1 }], 'test')).toThrow(/layers\[0\]\.widthFactor is invalid/);
  });

  it('belongs at the input: refused after a layer with parameters, and on flat inputs, with the fix named', async () => {
    const rt = await init();
    const before = rt.memoryStats().inUseBytes;
    const e = thrown(() => new Sequential({ inputShape: [6, 5, 1], layers: [conv2d(2, { kernelSize: 3 }), randomFlip(), flatten(), dense(2)] }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/layers\[1\] \(randomFlip\) follows layers\[0\] \(conv2d\), which has parameters; .* move it before layers\[0\]/);
    expect(() => new Sequential({ inputShape: [30], layers: [dense(30), reshape([6, 5, 1]), randomRotation(0.1), flatten(), dense(2)] })).toThrow(/layers\[2\] \(randomRotation\) follows layers\[0\] \(dense\)/);
    expect(() => new Sequential({ inputShape: [30], layers: [randomZoom(0.1), dense(2)] })).toThrow(/takes \[height, width, channels\] images but receives \[30\]; .*reshape/);
    expect(rt.memoryStats().inUseBytes).toBe(before);
    // after layers without parameters, and after reshape, it is fine
    for (const layers of [[reshape([6, 5, 1]), randomRotation(0.1), randomFlip(), flatten(), dense(2)], [maxPool2d(), randomFlip(), flatten(), dense(2)]]) {
      const m = new Sequential({ inputShape: layers[0]!.type === 'reshape' ? [30] : [6, 5, 1], layers: layers as LayerConfig[] });
      m.dispose();
    }
  });

  it('is refused by full-batch optimizers (a random objective), naming the layer', () => {
    const m = new Sequential({ inputShape: [4, 4, 1], layers: [randomFlip(), flatten(), dense(2)] });
    expect(() => m.compile({ optimizer: lbfgs(), loss: 'softmaxCrossEntropy' })).toThrow(/layers\[0\] \(randomFlip\) is not/);
    m.dispose();
  });
});

const ALL = (): LayerConfig[] => [
  randomFlip(), randomTranslation(0.2, [-0.1, 0.3], { fillMode: 'constant', fillValue: 0.5 }), randomRotation(0.1, { fillMode: 'wrap', interpolation: 'nearest' }),
  randomZoom([-0.2, 0.3], 0.2, { fillMode: 'nearest' }), randomContrast([0.3, 0.5]),
];
const head = (): LayerConfig[] => [conv2d(3, { kernelSize: 3, activation: 'relu' }), maxPool2d(), flatten(), dense(3)];

describe('augmentation layers at inference', () => {
  it('are the identity in predict, Monte Carlo predict and evaluate: bit for bit the model without them', () => {
    const rng = new Rng(3);
    const x = new Float32Array(6 * 9 * 7 * 1).map(() => rng.next());
    const y = Int32Array.from({ length: 6 }, (_, i) => i % 3);
    const aug = new Sequential({ inputShape: [9, 7, 1], layers: [...ALL(), ...head()], seed: 4 });
    const plain = new Sequential({ inputShape: [9, 7, 1], layers: head(), seed: 4 });
    plain.setWeights(aug.getWeights());
    for (const m of [aug, plain]) m.compile({ optimizer: adam(), loss: 'softmaxCrossEntropy' });
    const p = aug.predict(x).data;
    expect(bits(p)).toEqual(bits(plain.predict(x).data));
    const mc = aug.predict(x, { mcSamples: 5, seed: 2 });
    expect(bits(mc.mean.data)).toEqual(bits(p));
    expect(mc.std.data.every((v) => v === 0)).toBe(true);
    expect(aug.evaluate(x, y)).toEqual(plain.evaluate(x, y));
    expect(aug.summary()).toMatch(/random_translation_0 .*0\.2 \[-0\.1, 0\.3\] constant bilinear 0\.5/);
    aug.dispose();
    plain.dispose();
  });
});

/** The documented argument block of each layer (crates/kernels/src/augment.rs), written out by hand. */
const KINDS: { layer: () => LayerConfig; code: number; args: number[] }[] = [
  { layer: () => randomFlip('horizontal_and_vertical'), code: 10, args: [0, 0, 0, 0, 0, 0, 0, 3] },
  { layer: () => randomTranslation(0.2, [-0.1, 0.3], { fillMode: 'constant', fillValue: 0.5 }), code: 11, args: [-0.2, 0.2, -0.1, 0.3, 2, 1, 0.5, 0] },
  { layer: () => randomRotation(0.1, { fillMode: 'wrap', interpolation: 'nearest' }), code: 12, args: [-0.1, 0.1, 0, 0, 1, 0, 0, 0] },
  { layer: () => randomZoom([-0.2, 0.3], 0.2, { fillMode: 'nearest' }), code: 13, args: [0.8, 1.3, 0.8, 1.2, 3, 1, 0, 1] },
  { layer: () => randomZoom(0.25), code: 13, args: [0.75, 1.25, 0, 0, 0, 1, 0, 0] },
  { layer: () => randomContrast([0.3, 0.5]), code: 14, args: [0.7, 1.5, 0, 0, 0, 0, 0, 0] },
];

describe('augmentation layers in training', () => {
  it.each(KINDS.map((k) => [k.layer().type, k] as const))('%s: row r of step t is the kernel warp with the parameters drawn for (seed, layer 0, t, r)', async (_t, k) => {
    const [n, h, w, c] = [8, 5, 7, 2];
    const len = h * w * c;
    const rng = new Rng(9);
    const x = new Float32Array(n * len).map(() => rng.next() * 2);
    const seen: Float32Array[] = [];
    const m = new Sequential({ inputShape: [h, w, c], layers: [k.layer(), flatten(), dense(len, { useBias: false })], seed: 1 });
    const eye = new Float32Array(len * len);
    for (let i = 0; i < len; i++) eye[i * len + i] = 1;
    m.setWeights([{ shape: [len, len], data: eye }]);
    // the identity dense layer shows the loss exactly the augmented batch; zero gradient: no update
    m.compile({ optimizer: adam(), loss: { name: 'capture', fn: (_y, p) => (seen.push(Float32Array.from(p)), { loss: 0, grad: new Float32Array(p.length) }) } });
    await m.fit(x, { data: new Float32Array(n * len), shape: [n, len] }, { epochs: 1, batchSize: 4, shuffle: false, seed: 11 });
    m.dispose();
    expect(seen.length).toBe(2);
    // the same rows through the harness: draws for (seed 11, stream 0, counter t), then the warp
    const rt = await harnessFor('simd');
    const geo = rt.arena.alloc(CONV_GEOM.size);
    const g: Record<string, number> = { h, w, c, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: h, ow: w, f: c };
    for (const f of CONV_GEOM.fields) rt.arena.view.setUint32(geo + CONV_GEOM[f], g[f]!, true);
    const A = put(rt, k.args);
    for (let t = 0; t < 2; t++) {
      const P = put(rt, new Float32Array(8));
      expect(rt.kernels.testExport('augment_draw')(k.code, A.ptr, 11, 0, t, 4, P.ptr)).toBe(0);
      const X = put(rt, x.subarray(4 * t * len, 4 * (t + 1) * len));
      const Y = put(rt, new Float32Array(4 * len));
      expect(rt.kernels.testExport('augment_apply')(k.code, geo, A.ptr, P.ptr, X.ptr, 4, Y.ptr)).toBe(0);
      expect(bits(seen[t]!), `step ${t}`).toEqual(bits(get(rt, Y.ptr, 4 * len)));
      // and it did change the images
      expect(bits(seen[t]!)).not.toEqual(bits(x.subarray(4 * t * len, 4 * (t + 1) * len)));
    }
  });

  async function train(layers: () => LayerConfig[], opts: { seed?: number; runtime?: Runtime; epochs?: number } = {}): Promise<number[][]> {
    const rng = new Rng(5);
    const n = 36;
    const x = new Float32Array(n * 9 * 7 * 1).map(() => rng.next());
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const m = new Sequential({ inputShape: [9, 7, 1], layers: layers(), seed: 2, ...(opts.runtime ? { runtime: opts.runtime } : {}) });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    await m.fit(x, y, { epochs: opts.epochs ?? 3, batchSize: 8, seed: opts.seed ?? 7 });
    const w = weightBits(m);
    m.dispose();
    return w;
  }

  it('same seed: bit-identical weights on the SIMD and scalar builds and on 1 and 2 threads; another seed differs', async () => {
    const layers = () => [...ALL(), ...head()];
    // the bit-identical builds (where relaxed SIMD validates, init() would pick FMA, which rounds differently)
    const runtime = await createRuntime({ threads: 1, reproducible: true });
    const ref = await train(layers, { runtime });
    expect(await train(layers, { runtime })).toEqual(ref);
    expect(await train(layers, { runtime, seed: 8 })).not.toEqual(ref);
    // the augmentation matters: without it the weights differ
    expect(await train(head, { runtime })).not.toEqual(ref);
    runtime.dispose();
    const scalar = await createRuntime({ simd: false });
    expect(await train(layers, { runtime: scalar })).toEqual(ref);
    scalar.dispose();
    const two = await createRuntime({ threads: 2, reproducible: true });
    two.pool!.backOff = false;
    expect(await train(layers, { runtime: two })).toEqual(ref);
    two.dispose();
  }, 60_000);

  it('resumes exactly: a checkpoint at epoch 2 continued to epoch 4 equals 4 straight epochs, bit for bit', async () => {
    const rng = new Rng(6);
    const n = 30;
    const x = new Float32Array(n * 9 * 7 * 1).map(() => rng.next());
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const build = () => {
      const m = new Sequential({ inputShape: [9, 7, 1], layers: [...ALL(), ...head()], seed: 2 });
      m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
      return m;
    };
    const opts = { epochs: 4, batchSize: 8, seed: 3 };
    const straight = build();
    await straight.fit(x, y, opts);
    const first = build();
    let saved: Uint8Array | null = null;
    await first.fit(x, y, { ...opts, callbacks: [checkpointCallback({ save: (b, p) => { if (p.epoch === 2) saved = b; } }), { onEpochEnd: (e) => { if (e === 2) first.stopTraining = true; } }] });
    const { model, resume } = deserializeCheckpoint(saved!);
    await model.fit(x, y, { epochs: 4, batchSize: 8, resumeFrom: resume! });
    expect(weightBits(model)).toEqual(weightBits(straight));
    // and outside fit: the step counter (the augmentation stream) carries over
    const copy = deserializeCheckpoint(serializeCheckpoint(straight)).model;
    await straight.fit(x, y, { epochs: 1, batchSize: 8, seed: 4 });
    await copy.fit(x, y, { epochs: 1, batchSize: 8, seed: 4 });
    expect(weightBits(copy)).toEqual(weightBits(straight));
    for (const m of [straight, first, model, copy]) m.dispose();
  }, 60_000);

  it('round-trips through a model file: the layers, and training from the loaded model, are the same', async () => {
    const m = new Sequential({ inputShape: [9, 7, 1], layers: [...ALL(), ...head()], seed: 2 });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    const copy = deserializeModel(serializeModel(m));
    expect(copy.layers).toEqual(m.layers);
    const rng = new Rng(8);
    const x = new Float32Array(16 * 63).map(() => rng.next());
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 3);
    for (const s of [m, copy]) await s.fit(x, y, { epochs: 2, batchSize: 8, seed: 1 });
    expect(weightBits(copy)).toEqual(weightBits(m));
    m.dispose();
    copy.dispose();
  });

  it('a model with augmentation learns: bars told apart by orientation under random shifts and flips', async () => {
    // a horizontal or vertical bar of 5 pixels at a random place in a 9×9 image; flips and shifts
    // keep the orientation, so augmentation must not stop the model from learning it
    const rng = new Rng(12);
    const make = (n: number) => {
      const x = new Float32Array(n * 81);
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = (y[i] = i % 2);
        const [a, b] = [2 + Math.floor(rng.next() * 5), Math.floor(rng.next() * 5)];
        for (let j = 0; j < 5; j++) x[i * 81 + (v ? (b + j) * 9 + a : a * 9 + b + j)] = 1;
      }
      return { x, y };
    };
    const train = make(200);
    const test = make(100);
    const m = new Sequential({ inputShape: [9, 9, 1], layers: [randomTranslation(0.15, 0.15, { fillMode: 'constant' }), randomFlip(), conv2d(4, { kernelSize: 3, activation: 'relu' }), globalMaxPool2d(), dense(2)], seed: 1 });
    m.compile({ optimizer: adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
    await m.fit(train.x, train.y, { epochs: 15, batchSize: 20, seed: 2 });
    expect(m.evaluate(test.x, test.y).accuracy).toBeGreaterThanOrEqual(0.95);
    m.dispose();
  }, 60_000);

  it('trains in fitInWorker to the in-process bits (the built bundle)', async () => {
    const wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as typeof import('../../ts/index.js');
    const W = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as typeof import('../../ts/worker/index.js');
    await wf.init();
    const rng = new wf.Rng(7);
    const n = 24;
    const x = new Float32Array(n * 8 * 7 * 2).map(() => rng.next());
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const layers = [wf.randomFlip('horizontal'), wf.randomRotation(0.05), wf.randomZoom(0.1), wf.randomTranslation(0.1, 0.1), wf.randomContrast(0.2), wf.conv2d(3, { kernelSize: 3 }), wf.flatten(), wf.dense(3)];
    const spec = { inputShape: [8, 7, 2] as [number, number, number], layers, seed: 3, optimizer: wf.adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' as const };
    const m = new wf.Sequential({ inputShape: spec.inputShape, layers, seed: 3 });
    m.compile({ optimizer: spec.optimizer, loss: spec.loss });
    const hist = await m.fit(x, y, { epochs: 2, batchSize: 8, seed: 5 });
    const r = await W.fitInWorker(spec, x, y, { epochs: 2, batchSize: 8, seed: 5 }).result;
    expect(r.status).toBe('completed');
    expect(r.history.history.loss).toEqual(hist.history.loss);
    expect(r.weights.map((w) => bits(w.data))).toEqual(m.getWeights().map((w) => bits(w.data)));
    m.dispose();
  }, 60_000);
});
