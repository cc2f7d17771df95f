// wasmfit/preprocess against scikit-learn: fitted attributes and transformed values from
// tests/fixtures/sklearn-preprocess.json (scripts/fixtures/sklearn_preprocess.py, Debian
// python3-sklearn). Statistics are float64 here as there; transforms are rounded to float32 once.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ColumnTransformer, MinMaxScaler, OneHotEncoder, SimpleImputer, StandardScaler, trainTestSplit, type Cell } from '../../ts/preprocess/index.js';

type Rows = Cell[][];
const F = JSON.parse(readFileSync('tests/fixtures/sklearn-preprocess.json', 'utf8')) as {
  standardScaler: { options: { withMean: boolean; withStd: boolean }; x: Rows; xNew: Rows; mean: number[]; var: number[] | null; scale: number[] | null; transformed: number[][]; transformedNew: number[][] }[];
  minMaxScaler: { options: { featureRange: [number, number]; clip: boolean }; x: Rows; xNew: Rows; dataMin: number[]; dataMax: number[]; scale: number[]; min: number[]; transformed: number[][]; transformedNew: number[][] }[];
  simpleImputer: { options: { strategy: 'mean' | 'median' | 'mostFrequent' | 'constant'; fillValue?: number }; x: Rows; xNew: Rows; statistics: (number | string)[]; transformed: Cell[][]; transformedNew: Cell[][] }[];
  oneHotEncoder: { options: { handleUnknown: 'error' | 'ignore' }; x: Rows; xNew?: Rows; categories: (number[] | string[])[]; featureNamesOut: string[]; transformed: number[][]; transformedNew?: number[][] }[];
  columnTransformer: { x: Rows; xNew: Rows; featureNamesOut: string[]; transformed: number[][]; transformedNew: number[][] }[];
  split: ({ n: number; testSize: number; nTrain: number; nTest: number } | { classCounts: number[]; testSize: number; outcomes: { train: number[]; test: number[] }[] })[];
};

/** float64 statistics: equal to ~1 ulp of accumulated rounding. */
function close64(a: readonly number[], b: readonly number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!), `[${i}] ${v} vs ${b[i]}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b[i]!))));
}

/** A float32 transform against scikit-learn's float64 values: within float32 rounding. */
function close32(m: { data: Float32Array; shape: readonly [number, number] }, want: number[][]): void {
  expect(m.shape).toEqual([want.length, want[0]!.length]);
  want.flat().forEach((v, i) => expect(Math.abs(m.data[i]! - v), `[${i}] ${m.data[i]} vs ${v}`).toBeLessThanOrEqual(2 ** -23 * Math.max(1, Math.abs(v))));
}

describe('StandardScaler (scikit-learn StandardScaler)', () => {
  it.each(F.standardScaler.map((c, i) => [i, c] as const))('case %i: mean, var (ddof 0), scale (1 for constant columns) and transforms', (_, c) => {
    const s = new StandardScaler(c.options).fit(c.x);
    close64(s.mean, c.mean);
    // var_ and scale_ are None in scikit-learn when withStd is false
    if (c.var) close64(s.var, c.var);
    if (c.scale) close64(s.scale, c.scale);
    close32(s.transform(c.x), c.transformed);
    close32(s.transform(c.xNew), c.transformedNew);
  });
  it('the fixture has a constant column whose scale is 1 (and var 0)', () => {
    expect(F.standardScaler[0]!.var![2]).toBe(0);
    expect(new StandardScaler().fit(F.standardScaler[0]!.x).scale[2]).toBe(1);
  });
});

describe('MinMaxScaler (scikit-learn MinMaxScaler)', () => {
  it.each(F.minMaxScaler.map((c, i) => [i, c] as const))('case %i: dataMin, dataMax, scale, min, transforms (featureRange, clip)', (_, c) => {
    const s = new MinMaxScaler(c.options).fit(c.x);
    close64(s.dataMin, c.dataMin);
    close64(s.dataMax, c.dataMax);
    close64(s.scale, c.scale);
    close64(s.min, c.min);
    close32(s.transform(c.x), c.transformed);
    close32(s.transform(c.xNew), c.transformedNew);
  });
});

describe('SimpleImputer (scikit-learn SimpleImputer)', () => {
  it.each(F.simpleImputer.map((c, i) => [i, c] as const))('case %i: statistics and filled rows', (_, c) => {
    const s = new SimpleImputer(c.options).fit(c.x);
    const stats = s.statistics;
    if (typeof c.statistics[0] === 'number') close64(stats as number[], c.statistics as number[]);
    else expect(stats).toEqual(c.statistics);
    expect(s.transformRows(c.x)).toEqual(c.transformed);
    expect(s.transformRows(c.xNew)).toEqual(c.transformedNew);
    if (typeof c.statistics[0] === 'number') close32(s.transform(c.xNew), c.transformedNew as number[][]);
  });
});

describe('OneHotEncoder (scikit-learn OneHotEncoder, sparse_output=False)', () => {
  it.each(F.oneHotEncoder.map((c, i) => [i, c] as const))('case %i: sorted categories, column layout, unknowns', (_, c) => {
    const e = new OneHotEncoder(c.options).fit(c.x);
    expect(e.categories).toEqual(c.categories);
    close32(e.transform(c.x), c.transformed);
    if (c.xNew) close32(e.transform(c.xNew), c.transformedNew!);
    // scikit-learn's output names, through a ColumnTransformer over every column
    const ct = new ColumnTransformer([['e', e, [0, 1, 2]]]).fit(c.x);
    expect(ct.getFeatureNamesOut()).toEqual(c.featureNamesOut.map((n) => `e__${n}`));
  });
});

describe('ColumnTransformer (scikit-learn ColumnTransformer + Pipeline)', () => {
  it('imputes and scales numbers, one-hot encodes text (unknown ignored), passes the remainder through', () => {
    const c = F.columnTransformer[0]!;
    const ct = new ColumnTransformer([
      ['num', [new SimpleImputer({ strategy: 'median' }), new StandardScaler()], [0, 2]],
      ['cat', new OneHotEncoder({ handleUnknown: 'ignore' }), [1]],
    ], { remainder: 'passthrough' }).fit(c.x);
    expect(ct.getFeatureNamesOut()).toEqual(c.featureNamesOut);
    expect(ct.nFeaturesOut).toBe(c.featureNamesOut.length);
    close32(ct.transform(c.x), c.transformed);
    close32(ct.transform(c.xNew), c.transformedNew);
    // the same through fromJSON(toJSON()) (what a model file stores)
    const back = ColumnTransformer.fromJSON(JSON.parse(JSON.stringify(ct.toJSON())));
    expect(Array.from(back.transform(c.xNew).data)).toEqual(Array.from(ct.transform(c.xNew).data));
  });
});

describe('trainTestSplit (scikit-learn train_test_split)', () => {
  const sizes = F.split.filter((s): s is { n: number; testSize: number; nTrain: number; nTest: number } => 'n' in s);
  const strat = F.split.filter((s): s is { classCounts: number[]; testSize: number; outcomes: { train: number[]; test: number[] }[] } => 'classCounts' in s);

  it.each(sizes.map((s) => [s.n, s.testSize, s] as const))('n = %i, testSize = %s: train and test sizes (fractions rounded up)', (n, _, s) => {
    const x = Array.from({ length: n }, (_, i) => [i]);
    const { xTrain, xTest } = trainTestSplit(x, x.map((r) => r[0]!), { testSize: s.testSize });
    expect([xTrain.length, xTest.length]).toEqual([s.nTrain, s.nTest]);
    expect([...xTrain, ...xTest].map((r) => r[0]).sort((a, b) => a! - b!)).toEqual(x.map((r) => r[0])); // a partition
  });

  it.each(strat.map((s) => [s.classCounts.join('/'), s.testSize, s] as const))('stratified, classes %s, testSize %s: class counts are among scikit-learn\'s', (_, __, s) => {
    const y = s.classCounts.flatMap((c, k) => Array<number>(c).fill(k));
    const x = y.map((_, i) => [i]);
    const count = (ys: readonly number[]) => s.classCounts.map((_, k) => ys.filter((v) => v === k).length);
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const { xTrain, xTest, yTrain, yTest } = trainTestSplit(x, y, { testSize: s.testSize, seed, stratify: true });
      const got = { train: count(yTrain), test: count(yTest) };
      expect(s.outcomes, JSON.stringify(got)).toContainEqual(got);
      seen.add(JSON.stringify(got));
      // rows and labels stay paired
      xTrain.forEach((r, i) => expect(y[r[0]!]).toBe(yTrain[i]));
      xTest.forEach((r, i) => expect(y[r[0]!]).toBe(yTest[i]));
    }
    // where scikit-learn breaks ties at random, both outcomes occur over seeds here too
    if (s.outcomes.length > 1) expect(seen.size).toBeGreaterThan(1);
  });
});
