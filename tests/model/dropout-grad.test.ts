// Dropout inside train_step: with the mask the step drew (read back from the plan), the gradients
// match central differences of the f64 loss of the same thinned network.
import { describe, expect, it } from 'vitest';
import { Sequential, dense, dropout, sgd } from '../../ts/index.js';
import { LAYER, PLAN } from '../../ts/runtime/abi.js';
import { BUILDS, runtimeFor, layerRecords } from '../helpers.js';
import { softmaxCe64, testData } from '../reference/f64.js';

describe.each(BUILDS)('dropout gradients (%s build)', (build) => {
  it('match f64 finite differences with the drawn mask; the mask keeps the rate', async () => {
    const rt = await runtimeFor(build);
    const [n, d, h, k] = [8, 5, 12, 3];
    const m = new Sequential({ inputShape: [d], layers: [dense(h, { activation: 'tanh' }), dropout(0.4), dense(k)], seed: 3, runtime: rt });
    m.compile({ optimizer: sgd({ lr: 0 }), loss: 'softmaxCrossEntropy' });
    const x = testData(n * d, 8, 2);
    const y = Int32Array.from({ length: n }, (_, i) => i % k);
    await m.fit(x, y, { epochs: 1, batchSize: n, shuffle: false, seed: 4 });
    const internals = { stepper: (m as unknown as { stepper: { trainPlan: { plan: number } } }).stepper, params: layerRecords(m) };
    const v = rt.arena.view;
    const recs = v.getUint32(internals.stepper.trainPlan.plan + PLAN.layers, true);
    const maskPtr = v.getUint32(recs + LAYER.mask, true);
    const mask = Float64Array.from(rt.arena.readF32(maskPtr as never, n * h));
    const keep = 1 / (1 - 0.4);
    mask.forEach((v2) => expect(v2 === 0 || Math.abs(v2 - keep) < 1e-6).toBe(true));
    const dropped = mask.filter((v2) => v2 === 0).length;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(n * h);
    const [p0, p1] = internals.params;
    const W1 = Float64Array.from(rt.arena.readF32(p0!.w as never, d * h));
    const b1 = Float64Array.from(rt.arena.readF32(p0!.b as never, h));
    const W2 = Float64Array.from(rt.arena.readF32(p1!.w as never, h * k));
    const b2 = Float64Array.from(rt.arena.readF32(p1!.b as never, k));
    const loss = () => {
      const z = new Float64Array(n * k);
      for (let r = 0; r < n; r++) {
        const hid = new Float64Array(h);
        for (let j = 0; j < h; j++) {
          let s = b1[j]!;
          for (let i = 0; i < d; i++) s += x[r * d + i]! * W1[i * h + j]!;
          hid[j] = Math.tanh(s) * mask[r * h + j]!;
        }
        for (let o = 0; o < k; o++) {
          let s = b2[o]!;
          for (let j = 0; j < h; j++) s += hid[j]! * W2[j * k + o]!;
          z[r * k + o] = s;
        }
      }
      return softmaxCe64(z, y, n, k);
    };
    const eps = 1e-6;
    const pairs: [Float64Array, Float32Array][] = [
      [W1, rt.arena.readF32(p0!.gw as never, d * h)],
      [b1, rt.arena.readF32(p0!.gb as never, h)],
      [W2, rt.arena.readF32(p1!.gw as never, h * k)],
      [b2, rt.arena.readF32(p1!.gb as never, k)],
    ];
    for (const [w, g] of pairs)
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
});
