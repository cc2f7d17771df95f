// Optimizers used without a model: opt.init(params) / opt.update(params, grads, state) on
// Float32Arrays run the same fused kernel; checked against PyTorch's formulas in float64.
import { beforeAll, describe, expect, it } from 'vitest';
import { NonFiniteError, OptionError, ShapeError, adam, init, rmsprop, sgd } from '../../ts/index.js';
import { testData } from '../reference/f64.js';
import { type Cfg, Ref } from '../reference/optim64.js';

describe('standalone optimizers', () => {
  beforeAll(async () => {
    await init();
  });

  for (const [name, opt, cfg] of [
    ['adam', adam({ lr: 0.01 }), { kind: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8 }],
    ['rmsprop centered', rmsprop({ lr: 0.01, centered: true }), { kind: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8, centered: true }],
    ['sgd momentum', sgd({ lr: 0.1, momentum: 0.9 }), { kind: 'sgd', lr: 0.1, momentum: 0.9 }],
  ] as const) {
    it(`${name}: 20 updates of two tensors match the PyTorch formula`, () => {
      const params = [testData(17, 1), testData(5, 2)];
      const refs = params.map((p) => new Ref(p, cfg as Cfg));
      const state = opt.init(params);
      for (let t = 1; t <= 20; t++) {
        const grads = [testData(17, 100 + t), testData(5, 200 + t)];
        opt.update(params, grads, state);
        refs.forEach((r, i) => r.step(t, grads[i]!));
      }
      expect(state.step).toBe(20);
      params.forEach((p, i) => p.forEach((v, j) => expect(Math.abs(v - refs[i]!.w[j]!)).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(refs[i]!.w[j]!), 0.1))));
      // the config stays plain data
      expect(JSON.parse(JSON.stringify(opt)).type).toBe(opt.type);
    });
  }

  it('clipNorm rescales the gradient before the update (caller gradient untouched)', () => {
    const opt = sgd({ lr: 1, clipNorm: 1 });
    const w = new Float32Array([0, 0]);
    const g = new Float32Array([3, 4]);
    opt.update(w, g, opt.init(w));
    expect(Array.from(w)).toEqual([Math.fround(-3 * Math.fround(1 / 5)), Math.fround(-4 * Math.fround(1 / 5))]);
    expect(Array.from(g)).toEqual([3, 4]);
  });

  it('rejects mismatched tensors, non-finite gradients and foreign state, changing nothing', () => {
    const opt = adam();
    const w = testData(4, 3);
    const before = Array.from(w);
    const state = opt.init(w);
    expect(() => opt.update(w, new Float32Array(3), state)).toThrow(ShapeError);
    expect(() => opt.update(w, Float32Array.of(1, NaN, 0, 0), state)).toThrow(NonFiniteError);
    expect(() => opt.update(w, new Float32Array(4), opt.init([w, w]))).toThrow(OptionError);
    expect(() => opt.update(w, new Float32Array(4), state, -1)).toThrow(/lr = -1/);
    expect(Array.from(w)).toEqual(before);
    expect(state.step).toBe(0);
  });
});
