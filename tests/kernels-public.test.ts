// The public low-level layer on plain matrices, against float64 references.
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, init, matMul, matrix, softmaxCrossEntropy } from '../ts/index.js';
import { matmul64, testData } from './reference/f64.js';

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
