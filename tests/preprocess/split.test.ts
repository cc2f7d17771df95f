// trainTestSplit: determinism, the kinds it returns, and bad input (typed errors, inputs untouched).
// Class counts against scikit-learn are in sklearn.test.ts.
import { describe, expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../ts/index.js';
import { trainTestSplit } from '../../ts/preprocess/index.js';

const x = Array.from({ length: 20 }, (_, i) => [i, `c${i % 3}`]);
const y = x.map((r) => (r[0] as number) % 4);

describe('trainTestSplit', () => {
  it('same seed, same split; another seed, another split; every row once', () => {
    const a = trainTestSplit(x, y, { testSize: 0.3, seed: 4 });
    const b = trainTestSplit(x, y, { testSize: 0.3, seed: 4 });
    const c = trainTestSplit(x, y, { testSize: 0.3, seed: 5 });
    expect(b).toEqual(a);
    expect(c.xTest).not.toEqual(a.xTest);
    expect([a.xTrain.length, a.xTest.length]).toEqual([14, 6]);
    expect([...a.xTrain, ...a.xTest].map((r) => r[0]).sort((p, q) => (p as number) - (q as number))).toEqual(x.map((r) => r[0]));
    a.xTrain.forEach((r, i) => expect(a.yTrain[i]).toBe(y[r[0] as number]));
  });

  it('returns the kinds it was given: typed arrays (flat rows), matrices, arrays; shuffle: false keeps order', () => {
    const flat = Float32Array.from({ length: 20 }, (_, i) => i); // 10 rows of 2
    const yi = Int32Array.from({ length: 10 }, (_, i) => i % 2);
    const s = trainTestSplit(flat, yi, { testSize: 0.2, shuffle: false });
    expect(s.xTrain).toBeInstanceOf(Float32Array);
    expect(s.yTest).toBeInstanceOf(Int32Array);
    expect(Array.from(s.xTest)).toEqual([16, 17, 18, 19]);
    expect(Array.from(s.yTrain)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    const m = trainTestSplit({ data: flat, shape: [10, 2] as const }, yi, { testSize: 2, seed: 1 });
    expect(m.xTest.shape).toEqual([2, 2]);
    expect(m.xTrain.data.length).toBe(16);
  });

  it('refuses bad sizes, options and stratification with typed errors, leaving the inputs as they were', () => {
    const copy = JSON.stringify([x, y]);
    for (const testSize of [0, 1.5, -0.1, 20, 25, NaN]) {
      expect(() => trainTestSplit(x, y, { testSize })).toThrow(OptionError);
    }
    expect(() => trainTestSplit(x, y, { testSize: 20 })).toThrow(/testSize = 20; expected a fraction in \(0, 1\) or a row count in \[1, 19\]/);
    expect(trainTestSplit(x, y, { testSize: 1 }).xTest).toHaveLength(1); // an integer is a row count (scikit-learn's int test_size)
    expect(() => trainTestSplit(x, y.slice(1))).toThrow(ShapeError);
    expect(() => trainTestSplit(x, y, { test_size: 0.2 } as never)).toThrow(/unknown option 'test_size'.*testSize/);
    expect(() => trainTestSplit(x, y, { seed: 'a' as never })).toThrow(OptionError);
    const lonely = y.map((v, i) => (i === 0 ? 9 : v));
    expect(() => trainTestSplit(x, lonely, { stratify: true })).toThrow(/class 9 has only 1 member; stratifying needs at least 2 per class/);
    expect(() => trainTestSplit(x, y, { stratify: true, testSize: 2 })).toThrow(/test set has 2 rows, fewer than the 4 classes/);
    expect(() => trainTestSplit(x, y, { stratify: true, shuffle: false })).toThrow(/stratify needs shuffle: true/);
    expect(() => trainTestSplit(x, y, { stratify: [1, 2] })).toThrow(/expected true \(stratify by y\) or 20 labels/);
    expect(JSON.stringify([x, y])).toBe(copy);
  });

  it('stratify by an explicit label list, or by one-hot rows', () => {
    const groups = x.map((r) => r[1] as string);
    const s = trainTestSplit(x, y, { testSize: 0.5, seed: 2, stratify: groups });
    const count = (rows: (string | number)[][], g: string) => rows.filter((r) => r[1] === g).length;
    for (const g of ['c0', 'c1', 'c2']) expect(Math.abs(count(s.xTrain, g) - count(s.xTest, g))).toBeLessThanOrEqual(1);
    const oneHot = y.map((v) => [0, 1, 2, 3].map((k) => Number(k === v)));
    const t = trainTestSplit(x, oneHot, { testSize: 0.2, seed: 2, stratify: true });
    expect(t.yTest.map((r) => r.indexOf(1)).sort()).toEqual([0, 1, 2, 3]);
  });
});
