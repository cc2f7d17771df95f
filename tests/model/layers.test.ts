// Activations, dropout, max-norm and Monte Carlo dropout inside the one-call training step.
import { describe, expect, it } from 'vitest';
import { Sequential, adam, dense, dropout, maxNorm, sgd } from '../../ts/index.js';
import { OptionError } from '../../ts/index.js';
import { loadDigits } from '../../ts/node.js';
import { BUILDS, runtimeFor, layerRecords } from '../helpers.js';
import { type RefLayer, forward64, softmaxCe64, testData } from '../reference/f64.js';


describe.each(BUILDS)('layers in train_step (%s build)', (build) => {
  it('leakyRelu, elu, sigmoid and tanh gradients match central differences of the f64 loss', async () => {
    const rt = await runtimeFor(build);
    const n = 5;
    const d = 4;
    const model = new Sequential({
      inputShape: [d],
      layers: [dense(5, { activation: 'leakyRelu', alpha: 0.1 }), dense(4, { activation: 'elu', alpha: 0.7 }), dense(4, { activation: 'sigmoid' }), dense(3, { activation: 'tanh' }), dense(3)],
      seed: 11,
      runtime: rt,
    });
    model.compile({ optimizer: sgd({ lr: 0 }), loss: 'softmaxCrossEntropy' });
    const x = testData(n * d, 5, 2);
    const y = Int32Array.from([2, 0, 1, 1, 0]);
    await model.fit(x, y, { epochs: 1, batchSize: n, shuffle: false });
    const ps = layerRecords(model);
    const ref: RefLayer[] = ps.map((p) => ({
      nIn: p.nIn, nOut: p.nOut, relu: false, act: p.act === 'linear' ? undefined : (p.act as RefLayer['act']), alpha: p.alpha,
      w: Float64Array.from(rt.arena.readF32(p.w as never, p.nIn * p.nOut)),
      b: p.b === null ? null : Float64Array.from(rt.arena.readF32(p.b as never, p.nOut)),
    }));
    const loss = () => softmaxCe64(forward64(ref, Float64Array.from(x), n), y, n, 3);
    const h = 1e-6;
    ps.forEach((p, li) => {
      const pairs: [Float64Array, Float32Array][] = [[ref[li]!.w, rt.arena.readF32(p.gw as never, p.nIn * p.nOut)]];
      if (p.b !== null) pairs.push([ref[li]!.b!, rt.arena.readF32(p.gb as never, p.nOut)]);
      for (const [w, g] of pairs)
        for (let i = 0; i < w.length; i++) {
          const o = w[i]!;
          w[i] = o + h;
          const lp = loss();
          w[i] = o - h;
          const lm = loss();
          w[i] = o;
          const fd = (lp - lm) / (2 * h);
          expect(Math.abs(g[i]! - fd)).toBeLessThan(2e-5 + 2e-3 * Math.abs(fd));
        }
    });
    model.dispose();
  });

  it('max-norm holds after every step of a real fit; dropout is reproducible from the seed', async () => {
    const rt = await runtimeFor(build);
    const x = testData(96 * 10, 3, 3);
    const y = Int32Array.from({ length: 96 }, (_, i) => i % 4);
    const r = 0.5;
    const run = async (seed: number) => {
      const m = new Sequential({ inputShape: [10], layers: [dense(32, { activation: 'relu', kernelConstraint: maxNorm({ maxValue: r }) }), dropout(0.3), dense(4)], seed: 1, runtime: rt });
      m.compile({ optimizer: adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
      let checked = 0;
      await m.fit(x, y, {
        epochs: 3, batchSize: 16, seed,
        callbacks: [{
          onBatchEnd: () => {
            const w = m.getWeights()[0]!.data;
            for (let j = 0; j < 32; j++) {
              let s = 0;
              for (let i = 0; i < 10; i++) s += w[i * 32 + j]! ** 2;
              expect(Math.sqrt(s)).toBeLessThanOrEqual(r * (1 + 1e-6));
            }
            checked++;
          },
        }],
      });
      expect(checked).toBe(18);
      const w = m.getWeights().map((t) => Array.from(t.data));
      m.dispose();
      return w;
    };
    expect(await run(7)).toEqual(await run(7));
    expect(await run(7)).not.toEqual(await run(8));
  });

  it('predict is deterministic without mcSamples; with it, mean/std over seeded dropout samples', async () => {
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [6], layers: [dense(16, { activation: 'relu' }), dropout(0.5), dense(3)], seed: 2, runtime: rt });
    const x = testData(7 * 6, 4);
    const p1 = m.predict(x);
    const p2 = m.predict(x);
    expect(Array.from(p1.data)).toEqual(Array.from(p2.data));
    const mc = m.predict(x, { mcSamples: 200, seed: 3 });
    const mc2 = m.predict(x, { mcSamples: 200, seed: 3 });
    expect(Array.from(mc.mean.data)).toEqual(Array.from(mc2.mean.data));
    expect(mc.std.data.some((v) => v > 1e-3)).toBe(true);
    // inverted dropout keeps pre-softmax expectations; the mean probability stays near the deterministic one
    mc.mean.data.forEach((v, i) => expect(Math.abs(v - p1.data[i]!)).toBeLessThan(0.15));
    expect(() => m.predict(x, { mcSamples: 0 })).toThrow(OptionError);
    m.dispose();
  });
});

describe('Monte Carlo dropout on real digits', () => {
  it('std is higher on noise images than on real held-out digits', async () => {
    const rt = await runtimeFor('simd');
    const { train, test } = await loadDigits({ seed: 0, trainSize: 3000, testSize: 300 });
    const m = new Sequential({ inputShape: [784], layers: [dense(128, { activation: 'relu' }), dropout(0.3), dense(10)], seed: 1, runtime: rt });
    m.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
    await m.fit(train.x, train.y, { epochs: 4, batchSize: 32, seed: 1 });
    const noise = new Float32Array(300 * 784);
    let s = 12345;
    for (let i = 0; i < noise.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      noise[i] = s / 4294967296;
    }
    const meanStd = (x: Float32Array) => {
      const { std } = m.predict(x, { mcSamples: 30, seed: 5 });
      return std.data.reduce((a, v) => a + v, 0) / std.data.length;
    };
    const real = meanStd(test.x);
    const fake = meanStd(noise);
    expect(fake).toBeGreaterThan(real);
    m.dispose();
  });
});
