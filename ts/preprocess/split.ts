/**
 * `trainTestSplit`, after scikit-learn's `train_test_split` (ShuffleSplit, StratifiedShuffleSplit).
 */
import { OptionError, ShapeError } from '../errors/index.js';
import { checkOptions } from '../errors/validate.js';
import { preview } from '../errors/preview.js';
import { Rng } from '../data/rng.js';
import type { Features, Labels, Matrix } from '../data/tensor.js';
import { compareCategories, type RawFeatures } from './state.js';

/** Options of {@link trainTestSplit}. */
export interface TrainTestSplitOptions {
  /** Test rows: a fraction in (0, 1) (rounded up, as scikit-learn) or a row count in [1, n − 1] (default 0.25). `1` is one row: an integer is a count, as scikit-learn's int `test_size`. */
  testSize?: number;
  /** Seed of the shuffle (default 0): the same seed and data give the same split. */
  seed?: number;
  /** Shuffle before splitting (default true); false takes the last rows as the test set. */
  shuffle?: boolean;
  /** Keep class proportions in both parts: `true` stratifies by `y`, or pass one label per row. */
  stratify?: boolean | readonly (string | number)[];
}

/** The two parts of each input, of the input's own kind (rows are not copied). */
export interface TrainTestSplit<X, Y> {
  xTrain: X;
  xTest: X;
  yTrain: Y;
  yTest: Y;
}

type Rows = { n: number; take: (idx: readonly number[]) => unknown };

/** Row access of x or y: typed arrays (flat, `width` values a row), matrices and arrays of rows. */
function rowsOf(v: unknown, n: number | null, name: string): Rows {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const a = v as unknown as Float32Array;
    const rows = n ?? a.length;
    if (rows === 0 || a.length % rows !== 0) throw new ShapeError(`trainTestSplit: ${name} is a flat ${a.constructor.name} of ${a.length} values, not a whole number of rows for ${rows} labels.`);
    const w = a.length / rows;
    const Ctor = a.constructor as Float32ArrayConstructor;
    return { n: rows, take: (idx) => {
      const out = new Ctor(idx.length * w);
      idx.forEach((r, i) => out.set(a.subarray(r * w, r * w + w), i * w));
      return out;
    } };
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'data' in v && 'shape' in v) {
    const m = v as Matrix;
    if (!(m.data instanceof Float32Array) || !Array.isArray(m.shape) || m.data.length !== m.shape[0] * m.shape[1]) throw new ShapeError(`trainTestSplit: ${name} = ${preview(v)}; a matrix is { data: Float32Array, shape: [rows, cols] }.`);
    const w = m.shape[1];
    return { n: m.shape[0], take: (idx) => {
      const out = new Float32Array(idx.length * w);
      idx.forEach((r, i) => out.set(m.data.subarray(r * w, r * w + w), i * w));
      return { data: out, shape: [idx.length, w] };
    } };
  }
  if (Array.isArray(v)) return { n: v.length, take: (idx) => idx.map((r) => v[r]) };
  throw new ShapeError(`trainTestSplit: ${name} = ${preview(v)}; expected an array (of rows, labels or records), a typed array or { data, shape }.`);
}

/**
 * Splits `x` and `y` into train and test rows after a seeded shuffle, as scikit-learn's
 * `train_test_split`: `testSize` as a fraction is rounded up (`ceil(testSize · n)`), the rest is the
 * train set. With `stratify`, each class is split in proportion, with scikit-learn's allocation
 * (`_approximate_mode`: floors, then the largest remainders, ties broken at random), so the class
 * counts of both parts match scikit-learn's; a class needs at least 2 members, and each part at
 * least one row per class. The shuffle is this library's seeded generator, not numpy's: the same
 * `seed` gives the same split here, but not the rows `random_state` picks in scikit-learn.
 * @example
 * ```ts
 * const { xTrain, xTest, yTrain, yTest } = trainTestSplit(rows, labels, { testSize: 0.2, seed: 1, stratify: true });
 * ```
 */
export function trainTestSplit<X extends RawFeatures, Y extends Labels | Features>(x: X, y: Y, options: TrainTestSplitOptions = {}): TrainTestSplit<X, Y> {
  const W = 'trainTestSplit';
  const o = checkOptions(W, options, ['testSize', 'seed', 'shuffle', 'stratify']);
  const ys = rowsOf(y, null, 'y');
  const n = ys.n;
  const xs = rowsOf(x, n, 'x');
  if (xs.n !== n) throw new ShapeError(`${W}: x has ${xs.n} rows and y has ${n}; pass one label per row.`);
  const size = o.testSize ?? 0.25;
  if (typeof size !== 'number' || !Number.isFinite(size) || size <= 0 || (size >= 1 && !Number.isInteger(size)) || (Number.isInteger(size) && size >= 1 && size >= n)) {
    throw new OptionError('testSize', `${W}: option testSize = ${preview(size)}; expected a fraction in (0, 1) or a row count in [1, ${n - 1}] (${n} rows).`);
  }
  const nTest = size < 1 ? Math.ceil(size * n) : size;
  const nTrain = n - nTest;
  if (nTrain < 1) throw new OptionError('testSize', `${W}: testSize = ${size} of ${n} rows leaves no training row; lower testSize.`);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `${W}: option seed = ${preview(seed)}; expected a finite number.`);
  const shuffle = o.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new OptionError('shuffle', `${W}: option shuffle = ${preview(shuffle)}; expected true or false.`);
  const strat = o.stratify ?? false;
  const rng = new Rng(seed);
  let train: number[];
  let test: number[];
  if (strat !== false) {
    if (!shuffle) throw new OptionError('stratify', `${W}: stratify needs shuffle: true (as scikit-learn); drop one of them.`);
    const labels = strat === true ? labelKeys(y, n) : strat;
    if (!Array.isArray(labels) || labels.length !== n || !labels.every((v) => typeof v === 'string' || typeof v === 'number')) {
      throw new OptionError('stratify', `${W}: option stratify = ${preview(strat)}; expected true (stratify by y) or ${n} labels (strings or numbers).`);
    }
    [train, test] = stratified(labels as (string | number)[], nTrain, nTest, rng);
  } else {
    const perm = Array.from({ length: n }, (_, i) => i);
    if (shuffle) rng.shuffle(perm);
    // ShuffleSplit's layout: the first nTest of the permutation are the test rows
    [test, train] = shuffle ? [perm.slice(0, nTest), perm.slice(nTest)] : [perm.slice(nTrain), perm.slice(0, nTrain)];
  }
  return { xTrain: xs.take(train) as X, xTest: xs.take(test) as X, yTrain: ys.take(train) as Y, yTest: ys.take(test) as Y };
}

/** One label per row of y, for `stratify: true`: the value, or for one-hot rows the index of the 1. */
function labelKeys(y: unknown, n: number): (string | number)[] {
  if (Array.isArray(y) || (ArrayBuffer.isView(y) && (y as unknown as ArrayLike<number>).length === n)) {
    return Array.from(y as ArrayLike<unknown>, (v) => (Array.isArray(v) ? v.indexOf(1) : v) as string | number);
  }
  const m = y as Matrix | Float32Array;
  const data = m instanceof Float32Array ? m : m.data;
  const w = data.length / n;
  return Array.from({ length: n }, (_, r) => data.subarray(r * w, r * w + w).indexOf(1));
}

/**
 * scikit-learn's `_approximate_mode(class_counts, n_draws, rng)`: floor of the proportional
 * allocation, then one more for the largest remainders (ties in random order) until `draws` are given.
 */
export function approximateMode(counts: readonly number[], draws: number, rng: Rng): number[] {
  const total = counts.reduce((s, c) => s + c, 0);
  const cont = counts.map((c) => (c / total) * draws);
  const out = cont.map(Math.floor);
  let need = draws - out.reduce((s, c) => s + c, 0);
  const rem = cont.map((c, i) => c - out[i]!);
  const values = [...new Set(rem)].sort((a, b) => b - a);
  for (const v of values) {
    if (need <= 0) break;
    const inds = rem.flatMap((r, i) => (r === v ? [i] : []));
    rng.shuffle(inds);
    for (const i of inds.slice(0, need)) out[i]!++;
    need -= Math.min(inds.length, need);
  }
  return out;
}

function stratified(labels: readonly (string | number)[], nTrain: number, nTest: number, rng: Rng): [number[], number[]] {
  const W = 'trainTestSplit';
  const classes = [...new Set(labels)].sort(compareCategories);
  const members = classes.map(() => [] as number[]);
  const id = new Map(classes.map((c, i) => [c, i]));
  labels.forEach((l, r) => members[id.get(l)!]!.push(r));
  const counts = members.map((m) => m.length);
  const least = counts.indexOf(Math.min(...counts));
  if (counts[least]! < 2) throw new OptionError('stratify', `${W}: class ${preview(classes[least])} has only 1 member; stratifying needs at least 2 per class. Remove the class, merge it with another, or split without stratify.`);
  if (nTrain < classes.length) throw new OptionError('testSize', `${W}: the train set has ${nTrain} rows, fewer than the ${classes.length} classes; lower testSize.`);
  if (nTest < classes.length) throw new OptionError('testSize', `${W}: the test set has ${nTest} rows, fewer than the ${classes.length} classes; raise testSize.`);
  const nI = approximateMode(counts, nTrain, rng);
  const tI = approximateMode(counts.map((c, i) => c - nI[i]!), nTest, rng);
  const train: number[] = [];
  const test: number[] = [];
  members.forEach((m, i) => {
    const p = rng.shuffle([...m]);
    train.push(...p.slice(0, nI[i]));
    test.push(...p.slice(nI[i], nI[i]! + tI[i]!));
  });
  return [rng.shuffle(train), rng.shuffle(test)];
}
