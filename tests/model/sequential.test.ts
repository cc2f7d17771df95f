// The thin vertical slice: gradients of a whole train_step against finite differences of a
// float64 reference network, learning on the real MNIST digits, determinism across seeds and builds.
import { describe, expect, it } from 'vitest';
import { Sequential, dense, init, sgd } from '../../ts/index.js';
import { loadDigits } from '../../ts/node.js';
import { BUILDS, runtimeFor, layerRecords } from '../helpers.js';
import { type RefLayer, forward64, softmaxCe64, testData } from '../reference/f64.js';


describe.each(BUILDS)('Sequential (%s build)', (build) => {
  it('train_step gradients match central differences of the f64 loss', async () => {
    const rt = await runtimeFor(build);
    const n = 7;
    const d = 5;
    const model = new Sequential({
      inputShape: [d],
      layers: [dense(6, { activation: 'relu' }), dense(4, { activation: 'relu', useBias: false }), dense(3)],
      seed: 3,
      runtime: rt,
    });
    // lr = 0: the step computes gradients into the plan's buffers and leaves the weights as they were
    model.compile({ optimizer: sgd({ lr: 0 }), loss: 'softmaxCrossEntropy' });
    const x = testData(n * d, 42, 2);
    const y = Int32Array.from([0, 1, 2, 2, 1, 0, 1]);
    await model.fit(x, y, { epochs: 1, batchSize: n, shuffle: false });
    const params = layerRecords(model);
    const ref: RefLayer[] = params.map((p) => ({
      nIn: p.nIn,
      nOut: p.nOut,
      relu: p.act === 'relu',
      w: Float64Array.from(rt.arena.readF32(p.w as never, p.nIn * p.nOut)),
      b: p.b === null ? null : Float64Array.from(rt.arena.readF32(p.b as never, p.nOut)),
    }));
    const x64 = Float64Array.from(x);
    const loss = () => softmaxCe64(forward64(ref, x64, n), y, n, 3);
    const h = 1e-6;
    let checked = 0;
    params.forEach((p, li) => {
      const gw = rt.arena.readF32(p.gw as never, p.nIn * p.nOut);
      const tensors: [Float64Array, Float32Array][] = [[ref[li]!.w, gw]];
      if (p.b !== null) tensors.push([ref[li]!.b!, rt.arena.readF32(p.gb as never, p.nOut)]);
      for (const [w64, g] of tensors) {
        for (let i = 0; i < w64.length; i++) {
          const old = w64[i]!;
          w64[i] = old + h;
          const lp = loss();
          w64[i] = old - h;
          const lm = loss();
          w64[i] = old;
          const fd = (lp - lm) / (2 * h);
          expect(Math.abs(g[i]! - fd)).toBeLessThan(1e-5 + 1e-3 * Math.abs(fd));
          checked++;
        }
      }
    });
    expect(checked).toBe(5 * 6 + 6 + 6 * 4 + 4 * 3 + 3);
    model.dispose();
  });

  it('same seed gives bit-identical weights; a different seed differs', async () => {
    const rt = await runtimeFor(build);
    const x = testData(64 * 8, 1);
    const y = Int32Array.from({ length: 64 }, (_, i) => i % 4);
    const run = async (seed: number) => {
      const m = new Sequential({ inputShape: [8], layers: [dense(16, { activation: 'relu' }), dense(4)], seed, runtime: rt });
      m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
      await m.fit(x, y, { epochs: 3, batchSize: 10, seed });
      const w = m.getWeights();
      m.dispose();
      return w;
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(a.map((t) => Array.from(t.data))).toEqual(b.map((t) => Array.from(t.data)));
    expect(a.map((t) => Array.from(t.data))).not.toEqual(c.map((t) => Array.from(t.data)));
  });
});

describe('learning on real data', () => {
  it('reaches >= 0.95 test accuracy on the 2,000 held-out MNIST digits within 10 epochs, and both builds train to identical weights', async () => {
    const { train, test } = await loadDigits({ seed: 0 });
    expect(train.rows).toBe(8000);
    expect(test.rows).toBe(2000);
    const weights: Float32Array[][] = [];
    for (const build of BUILDS) {
      const rt = await runtimeFor(build);
      const model = new Sequential({
        inputShape: [784],
        layers: [dense(256, { activation: 'relu', kernelInitializer: 'heNormal' }), dense(128, { activation: 'relu', kernelInitializer: 'heNormal' }), dense(10)],
        seed: 1,
        runtime: rt,
      });
      model.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
      const history = await model.fit(train.x, train.y, { epochs: 10, batchSize: 16, seed: 1 });
      expect(history.history.loss!.length).toBe(10);
      expect(history.history.loss![9]!).toBeLessThan(history.history.loss![0]!);
      const { accuracy } = model.evaluate(test.x, test.y);
      expect(accuracy).toBeGreaterThanOrEqual(0.95);
      // predict agrees with evaluate
      const p = model.predict(test.x);
      let correct = 0;
      for (let r = 0; r < test.rows; r++) {
        let best = 0;
        for (let j = 1; j < 10; j++) if (p.data[r * 10 + j]! > p.data[r * 10 + best]!) best = j;
        if (best === test.y[r]) correct++;
      }
      expect(correct / test.rows).toBeCloseTo(accuracy, 10);
      weights.push(model.getWeights().map((t) => t.data));
      model.dispose();
    }
    // SIMD and scalar kernels use the same blocking and the same operation order (no FMA in either)
    expect(weights[0]!.map((w) => Array.from(w))).toEqual(weights[1]!.map((w) => Array.from(w)));
    await init(); // leave the default runtime current for other suites
  });
});
