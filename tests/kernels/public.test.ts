// The public low-level layer on plain matrices, against float64 references.
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, init, matrix } from '../../ts/index.js';
import { matMul, softmaxCrossEntropy } from '../../ts/kernels/index.js';
import { matmul64, testData } from '../reference/f64.js';

describe('low-level kernels', () => {
  beforeAll(async () => {
    await init();
  });

  it('matMul with transposes, bias and relu matches f64', () => {
    const [m, k, n] = [5, 17, 3];
    const a = testData(m * k, 1);
    const b = testData(k * n, 2);
    const bias = testData(n, 3);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const A = ta ? matrix(a, [k, m]) : matrix(a, [m, k]);
      const B = tb ? matrix(b, [n, k]) : matrix(b, [k, n]);
      const c = matMul(A, B, { transposeA: ta, transposeB: tb, bias, activation: 'relu' });
      expect(c.shape).toEqual([m, n]);
      const ref = matmul64(m, n, k, (i, p) => a[ta ? p * m + i : i * k + p]!, (p, j) => b[tb ? j * k + p : p * n + j]!);
      c.data.forEach((v, i) => expect(Math.abs(v - Math.max(0, ref[i]! + bias[i % n]!))).toBeLessThan(1e-5));
    }
    expect(() => matMul(matrix(a, [m, k]), matrix(b, [n, k]))).toThrow(ShapeError);
  });

  it('softmaxCrossEntropy returns the mean loss and (softmax − onehot)/n', () => {
    const z = testData(4 * 3, 9, 2);
    const y = Int32Array.from([0, 2, 1, 2]);
    const { loss, grad } = softmaxCrossEntropy(matrix(z, [4, 3]), y);
    let want = 0;
    for (let r = 0; r < 4; r++) {
      const row = Array.from(z.subarray(r * 3, r * 3 + 3));
      const mx = Math.max(...row);
      const se = row.reduce((s, v) => s + Math.exp(v - mx), 0);
      want += Math.log(se) + mx - row[y[r]!]!;
      row.forEach((v, j) => expect(Math.abs(grad.data[r * 3 + j]! - (Math.exp(v - mx) / se - (j === y[r] ? 1 : 0)) / 4)).toBeLessThan(1e-7));
    }
    expect(loss).toBeCloseTo(want / 4, 6);
  });
});

describe('low-level activations and losses', () => {
  beforeAll(async () => {
    await init();
  });
  it('activationForward/Backward follow their definitions', async () => {
    const { activationForward, activationBackward } = await import('../../ts/kernels/index.js');
    const x = testData(17, 4, 3);
    const defs: Record<string, [(v: number) => number, (y: number) => number]> = {
      sigmoid: [(v) => 1 / (1 + Math.exp(-v)), (y) => y * (1 - y)],
      tanh: [Math.tanh, (y) => 1 - y * y],
      leakyRelu: [(v) => (v > 0 ? v : 0.2 * v), (y) => (y > 0 ? 1 : 0.2)],
      elu: [(v) => (v > 0 ? v : Math.exp(v) - 1), (y) => (y > 0 ? 1 : y + 1)],
    };
    for (const [name, [f, df]] of Object.entries(defs)) {
      const y = activationForward(name as never, x, name === 'leakyRelu' ? 0.2 : undefined);
      y.forEach((v, i) => expect(Math.abs(v - f(x[i]!))).toBeLessThan(2e-7 * Math.max(1, Math.abs(f(x[i]!)))));
      const dy = testData(17, 5);
      const dx = activationBackward(name as never, y, dy, name === 'leakyRelu' ? 0.2 : undefined);
      dx.forEach((v, i) => expect(Math.abs(v - dy[i]! * df(y[i]!))).toBeLessThan(1e-6));
    }
  });
  it('regressionLoss and binaryCrossEntropy: loss and gradient from the PyTorch definitions', async () => {
    const { regressionLoss, binaryCrossEntropy } = await import('../../ts/kernels/index.js');
    const p = testData(6, 1, 2);
    const t = testData(6, 2, 2);
    const r = regressionLoss('mse', matrix(p, [3, 2]), matrix(t, [3, 2]));
    let want = 0;
    p.forEach((v, i) => (want += (v - t[i]!) ** 2 / 6));
    expect(r.loss).toBeCloseTo(want, 6);
    r.grad.data.forEach((g, i) => expect(g).toBeCloseTo((2 * (p[i]! - t[i]!)) / 6, 6));
    const probs = Float32Array.from(t, (v) => (v + 2) / 4);
    const b = binaryCrossEntropy(matrix(p, [3, 2]), matrix(probs, [3, 2]));
    let wb = 0;
    p.forEach((z, i) => (wb += (Math.max(z, 0) - z * probs[i]! + Math.log1p(Math.exp(-Math.abs(z)))) / 6));
    expect(b.loss).toBeCloseTo(wb, 6);
    b.grad.data.forEach((g, i) => expect(g).toBeCloseTo((1 / (1 + Math.exp(-p[i]!)) - probs[i]!) / 6, 6));
  });
});
