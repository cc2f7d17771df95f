/**
 * Fitted preprocessing as plain JSON, and the one function that applies it. The estimators of
 * `wasmfit/preprocess` (./index.ts) fit these states; a model keeps one
 * (`model.setPreprocessing`) and applies it to the raw `x` of `predict`, `evaluate` and `fit`; the
 * model file stores it in its header. Only this file is in the main entry: the fitting code is not
 * loaded by a program that only predicts.
 *
 * Every transform is computed in float64 (as scikit-learn does) and rounded to float32 once, at
 * the end.
 */
import { NonFiniteError, ShapeError, UnknownCategoryError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { Features, Matrix } from '../data/tensor.js';

/** A cell of a raw table: a number, a string (a category), or a missing value (see {@link isBlank}). */
export type Cell = number | string | null | undefined;
/** Raw rows: arrays of cells (columns by position) or records (columns by name, `featureNames`). */
export type Table = readonly (readonly Cell[])[] | readonly Readonly<Record<string, Cell>>[];
/** What a model with preprocessing takes as `x`: numeric {@link Features} or a raw {@link Table}. */
export type RawFeatures = Features | Table;

/** StandardScaler: `(x − mean) / scale`, `scale = sqrt(var)` (population, ddof = 0), 1 where var is 0. */
export interface StandardScalerState {
  type: 'standardScaler';
  withMean: boolean;
  withStd: boolean;
  mean: number[];
  var: number[];
  scale: number[];
  nSamplesSeen: number;
}
/** MinMaxScaler: `x · scale + min`, `scale = (hi − lo) / (dataMax − dataMin)` (1 / 1 for a constant column). */
export interface MinMaxScalerState {
  type: 'minMaxScaler';
  featureRange: [number, number];
  clip: boolean;
  dataMin: number[];
  dataMax: number[];
  scale: number[];
  min: number[];
}
/** SimpleImputer: a missing cell of column j becomes `statistics[j]`. */
export interface SimpleImputerState {
  type: 'simpleImputer';
  strategy: 'mean' | 'median' | 'mostFrequent' | 'constant';
  fillValue: number | string | null;
  statistics: (number | string)[];
}
/** OneHotEncoder: column j becomes `categories[j].length` 0/1 columns, in the (sorted) order of the list. */
export interface OneHotEncoderState {
  type: 'oneHotEncoder';
  handleUnknown: 'error' | 'ignore';
  categories: (number[] | string[])[];
}
export type TransformerState = StandardScalerState | MinMaxScalerState | SimpleImputerState | OneHotEncoderState;

/**
 * A fitted column transformer (scikit-learn's `ColumnTransformer`): each step sends some raw
 * columns through its transformers in turn; the outputs are the steps' outputs side by side, in
 * step order, then (with `remainder: 'passthrough'`) the unselected columns in their order.
 */
export interface PreprocessingState {
  format: 'wasmfit.preprocessing';
  version: 1;
  /** Raw columns the input has. */
  nFeaturesIn: number;
  /** Their names (records are read by these keys), or null. */
  featureNames: string[] | null;
  steps: { name: string; columns: number[]; transformers: TransformerState[] }[];
  remainder: 'drop' | 'passthrough';
  /** Columns of the output: the model's input size. */
  nFeaturesOut: number;
}

/** What `model.setPreprocessing` takes: a fitted transformer of `wasmfit/preprocess` (anything with `toJSON()`) or its JSON. */
export type PreprocessingInput = PreprocessingState | TransformerState | { toJSON(): PreprocessingState | TransformerState };

/** A missing value: `null`, `undefined`, `NaN` or the empty string. */
export function isBlank(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && v !== v);
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Raw input as columns of cells. `width` is the column count (null at fit: from the data);
 * `names` read records and name columns in messages. @internal
 */
export function tableColumns(x: unknown, width: number | null, names: readonly string[] | null, where: string): { cols: Cell[][]; rows: number; names: string[] | null } {
  let rows: number;
  let w: number;
  let get: (r: number, c: number) => Cell;
  const need = (n: number, what: string) => {
    if (width !== null && n !== width) throw new ShapeError(`${where}: x has ${what} ${n} columns; the preprocessing was fitted on ${width}${names ? ` (${names.join(', ')})` : ''}. Pass rows of ${width} cells.`);
    return n;
  };
  if (x instanceof Float32Array || x instanceof Float64Array || (Array.isArray(x) && (x.length === 0 || typeof x[0] === 'number'))) {
    if (width === null) throw new ShapeError(`${where}: x is a flat ${Array.isArray(x) ? 'number[]' : x.constructor.name}; fit needs rows (number[][], arrays of cells or records) or { data, shape }.`);
    const a = x as ArrayLike<unknown>;
    if (a.length % width !== 0) throw new ShapeError(`${where}: x is a flat array of ${a.length} values, not a multiple of the ${width} columns the preprocessing was fitted on.`);
    rows = a.length / width;
    w = width;
    get = (r, c) => a[r * width + c] as Cell;
  } else if (isObj(x) && 'data' in x && 'shape' in x) {
    const m = x as unknown as Matrix;
    const s = m.shape as unknown;
    if (!(m.data instanceof Float32Array) || !Array.isArray(s) || s.length !== 2 || m.data.length !== s[0] * s[1]) throw new ShapeError(`${where}: x = ${preview(x)}; a matrix is { data: Float32Array, shape: [rows, cols] } with data.length = rows × cols.`);
    rows = s[0] as number;
    w = need(s[1] as number, 'shape [n, k] with k =');
    get = (r, c) => m.data[r * w + c];
  } else if (Array.isArray(x)) {
    rows = x.length;
    const first: unknown = x[0];
    if (isObj(first)) {
      if (width !== null && !names) throw new ShapeError(`${where}: x holds records, but the preprocessing was fitted on arrays (it has no column names); pass arrays of ${width} cells.`);
      const keys = names ?? Object.keys(first);
      names = keys;
      w = need(keys.length, 'records with');
      x.forEach((row: unknown, r) => {
        if (!isObj(row)) throw new ShapeError(`${where}: x[${r}] is ${preview(row)}; x[0] is a record, so every row must be one.`);
      });
      get = (r, c) => (x[r] as Record<string, Cell>)[keys[c]!];
    } else {
      w = width ?? (Array.isArray(first) ? first.length : 0);
      if (width === null && names && names.length !== w) throw new ShapeError(`${where}: featureNames has ${names.length} names but row 0 has ${w} columns; give one name per column.`);
      x.forEach((row: unknown, r) => {
        if (!Array.isArray(row)) throw new ShapeError(`${where}: x[${r}] is ${preview(row)}; rows must all be arrays of cells (or all records).`);
        if (row.length !== w) throw new ShapeError(`${where}: row ${r} has ${row.length} columns; ${width === null ? 'row 0 has' : 'the preprocessing was fitted on'} ${w}${names ? ` (${names.join(', ')})` : ''}. Give every row the same columns.`);
      });
      get = (r, c) => (x[r] as Cell[])[c];
    }
  } else {
    throw new ShapeError(`${where}: x = ${preview(x)}; expected rows (arrays of cells or records), a Float32Array, or { data, shape }.`);
  }
  const cols: Cell[][] = [];
  for (let c = 0; c < w; c++) {
    const col: Cell[] = new Array<Cell>(rows);
    for (let r = 0; r < rows; r++) {
      const v = get(r, c);
      if (v !== null && v !== undefined && typeof v !== 'number' && typeof v !== 'string') throw new ShapeError(`${where}: row ${r}, ${colName(c, names)} is ${preview(v)}; cells are numbers, strings or missing (null, undefined, NaN, '').`);
      col[r] = v;
    }
    cols.push(col);
  }
  return { cols, rows, names: names ? [...names] : null };
}

/** `column 2 ('city')`. @internal */
export function colName(c: number, names: readonly string[] | null): string {
  return `column ${c}${names?.[c] !== undefined ? ` ('${names[c]}')` : ''}`;
}

/** The number of output columns of a transformer given `width` input columns. @internal */
export function widthOut(t: TransformerState, width: number): number {
  return t.type === 'oneHotEncoder' ? t.categories.reduce((s, c) => s + c.length, 0) : width;
}

/** A numeric cell of a scaler's or the network's input, or a typed error naming row and column. @internal */
export function numeric(v: Cell, r: number, label: string, where: string): number {
  if (typeof v === 'number' && v === v) {
    if (v - v !== 0) throw new NonFiniteError(`${where}: row ${r}, ${label} is ${v}; remove or clip infinite values.`);
    return v;
  }
  if (isBlank(v)) throw new NonFiniteError(`${where}: row ${r}, ${label} is missing (${preview(v)}) and no imputer fills it; fill it in, or add a SimpleImputer for that column to the preprocessing.`);
  throw new ShapeError(`${where}: row ${r}, ${label} is ${preview(v)}, not a number; encode text columns with a OneHotEncoder.`);
}

/** Applies one fitted transformer to columns (labels name them in messages). @internal */
export function applyTransformer(t: TransformerState, cols: readonly Cell[][], labels: readonly string[], where: string): { cols: Cell[][]; labels: string[] } {
  if (t.type === 'simpleImputer') return { cols: cols.map((col, j) => col.map((v) => (isBlank(v) ? t.statistics[j] : v))), labels: [...labels] };
  if (t.type === 'oneHotEncoder') {
    const out: Cell[][] = [];
    const outLabels: string[] = [];
    cols.forEach((col, j) => {
      const cats = t.categories[j]! as (number | string)[];
      const index = new Map(cats.map((c, i) => [c, i]));
      const block = cats.map(() => new Array<Cell>(col.length).fill(0));
      col.forEach((v, r) => {
        const i = index.get(v as number | string);
        if (i !== undefined) block[i]![r] = 1;
        else if (isBlank(v)) numeric(v, r, labels[j]!, where);
        else if (t.handleUnknown === 'error') {
          throw new UnknownCategoryError(`${where}: row ${r}, ${labels[j]} is ${preview(v)}, a category the encoder did not see when fitted (it knows ${preview(cats)}); refit on data that has it, or use OneHotEncoder({ handleUnknown: 'ignore' }) to encode it as all zeros.`, labels[j]!, v as number | string);
        }
      });
      out.push(...block);
      outLabels.push(...cats.map((c) => `${labels[j]}=${String(c)}`));
    });
    return { cols: out, labels: outLabels };
  }
  const s = t.type === 'standardScaler' ? t : null;
  const m = t.type === 'minMaxScaler' ? t : null;
  const cols2 = cols.map((col, j) =>
    col.map((v, r) => {
      const x = numeric(v, r, labels[j]!, where);
      if (s) return (s.withMean ? x - s.mean[j]! : x) / (s.withStd ? s.scale[j]! : 1);
      const y = x * m!.scale[j]! + m!.min[j]!;
      return m!.clip ? Math.min(Math.max(y, m!.featureRange[0]), m!.featureRange[1]) : y;
    }),
  );
  return { cols: cols2, labels: [...labels] };
}

/** Applies a fitted preprocessing to raw `x`: row-major float32 rows of `nFeaturesOut` values. @internal */
export function applyPreprocessing(p: PreprocessingState, x: unknown, where: string): { data: Float32Array; rows: number } {
  const { cols, rows } = tableColumns(x, p.nFeaturesIn, p.featureNames, where);
  const blocks: { cols: Cell[][]; labels: string[] }[] = [];
  const used = new Set<number>();
  for (const step of p.steps) {
    let b = { cols: step.columns.map((c) => cols[c]!), labels: step.columns.map((c) => colName(c, p.featureNames)) };
    step.columns.forEach((c) => used.add(c));
    for (const t of step.transformers) b = applyTransformer(t, b.cols, b.labels, where);
    blocks.push(b);
  }
  if (p.remainder === 'passthrough') {
    const rest = cols.map((_, c) => c).filter((c) => !used.has(c));
    blocks.push({ cols: rest.map((c) => cols[c]!), labels: rest.map((c) => colName(c, p.featureNames)) });
  }
  const k = p.nFeaturesOut;
  const data = new Float32Array(rows * k);
  let j = 0;
  for (const b of blocks) {
    b.cols.forEach((col, i) => {
      for (let r = 0; r < rows; r++) data[r * k + j] = numeric(col[r], r, b.labels[i]!, where);
      j++;
    });
  }
  return { data, rows };
}

// ---- validation of states from files and callers ----

/**
 * Validates a preprocessing state (from a file or a caller) and returns a copy; a single
 * transformer's state is wrapped as one step over all of its columns. `fail(path, msg)` throws the
 * caller's error type. @internal
 */
export function checkPreprocessing(v: unknown, fail: (path: string, msg: string) => never, root: string): PreprocessingState {
  if (!isObj(v)) fail(root, `is ${preview(v)}; expected a fitted preprocessing (ColumnTransformer, StandardScaler, … or its toJSON()).`);
  if (typeof v.type === 'string') {
    const t = checkTransformer(v, null, fail, root);
    const n = widthIn(t);
    return { format: 'wasmfit.preprocessing', version: 1, nFeaturesIn: n, featureNames: null, steps: [{ name: t.type, columns: Array.from({ length: n }, (_, i) => i), transformers: [t] }], remainder: 'drop', nFeaturesOut: widthOut(t, n) };
  }
  if (v.format !== 'wasmfit.preprocessing' || v.version !== 1) fail(`${root}.format`, `is ${preview(v.format)} version ${preview(v.version)}; expected 'wasmfit.preprocessing' version 1 (written by a newer wasmfit?).`);
  const n = v.nFeaturesIn;
  if (!Number.isInteger(n) || (n as number) < 1) fail(`${root}.nFeaturesIn`, `is ${preview(n)}; expected an integer >= 1.`);
  const names = v.featureNames ?? null;
  if (names !== null && (!Array.isArray(names) || names.length !== n || !names.every((s) => typeof s === 'string') || new Set(names).size !== names.length)) fail(`${root}.featureNames`, `is ${preview(names)}; expected null or ${String(n)} distinct strings.`);
  if (v.remainder !== 'drop' && v.remainder !== 'passthrough') fail(`${root}.remainder`, `is ${preview(v.remainder)}; expected 'drop' or 'passthrough'.`);
  if (!Array.isArray(v.steps)) fail(`${root}.steps`, 'is not an array.');
  const used = new Set<number>();
  let out = 0;
  const steps = v.steps.map((s: unknown, i: number) => {
    const path = `${root}.steps[${i}]`;
    if (!isObj(s) || typeof s.name !== 'string' || !Array.isArray(s.columns) || !Array.isArray(s.transformers)) fail(path, 'is not { name, columns, transformers }.');
    const columns = s.columns as unknown[];
    if (columns.length === 0 || new Set(columns).size !== columns.length || !columns.every((c) => Number.isInteger(c) && (c as number) >= 0 && (c as number) < (n as number))) {
      fail(`${path}.columns`, `is ${preview(columns)}; expected distinct column indices in [0, ${String(n)}).`);
    }
    columns.forEach((c) => used.add(c as number));
    let w = columns.length;
    const transformers = (s.transformers as unknown[]).map((t, k) => {
      const st = checkTransformer(t, w, fail, `${path}.transformers[${k}]`);
      w = widthOut(st, w);
      return st;
    });
    out += w;
    return { name: s.name, columns: columns as number[], transformers };
  });
  if (v.remainder === 'passthrough') out += (n as number) - used.size;
  if (v.nFeaturesOut !== out) fail(`${root}.nFeaturesOut`, `is ${preview(v.nFeaturesOut)}; the steps produce ${out} columns.`);
  if (out < 1) fail(`${root}.steps`, 'produce no column.');
  return { format: 'wasmfit.preprocessing', version: 1, nFeaturesIn: n as number, featureNames: names === null ? null : [...(names as string[])], steps, remainder: v.remainder, nFeaturesOut: out };
}

/** The input width a standalone transformer's state implies. @internal */
export function widthIn(t: TransformerState): number {
  return t.type === 'standardScaler' ? t.mean.length : t.type === 'minMaxScaler' ? t.scale.length : t.type === 'simpleImputer' ? t.statistics.length : t.categories.length;
}

const finites = (a: unknown, n: number | null): a is number[] => Array.isArray(a) && (n === null ? a.length > 0 : a.length === n) && a.every((x) => typeof x === 'number' && Number.isFinite(x));

function checkTransformer(v: unknown, width: number | null, fail: (path: string, msg: string) => never, path: string): TransformerState {
  if (!isObj(v)) fail(path, `is ${preview(v)}; expected a transformer state { type, … }.`);
  const bad = (key: string, want: string): never => fail(`${path}.${key}`, `is ${preview(v[key])}; expected ${want}.`);
  const arr = (key: string, n: number | null, pos = false): number[] => {
    const a = v[key];
    if (!finites(a, n) || (pos && a.some((x) => x <= 0))) bad(key, `${n ?? 'one or more'} finite${pos ? ' positive' : ''} numbers`);
    return [...(a as number[])];
  };
  const flag = (key: string): boolean => (typeof v[key] === 'boolean' ? (v[key] as boolean) : bad(key, 'true or false'));
  switch (v.type) {
    case 'standardScaler': {
      const mean = arr('mean', width);
      const n = mean.length;
      const nSeen = v.nSamplesSeen;
      if (!Number.isInteger(nSeen) || (nSeen as number) < 1) bad('nSamplesSeen', 'an integer >= 1');
      const variance = arr('var', n);
      if (variance.some((x) => x < 0)) bad('var', 'variances >= 0');
      return { type: 'standardScaler', withMean: flag('withMean'), withStd: flag('withStd'), mean, var: variance, scale: arr('scale', n, true), nSamplesSeen: nSeen as number };
    }
    case 'minMaxScaler': {
      const scale = arr('scale', width);
      const n = scale.length;
      const r = v.featureRange as number[];
      if (!finites(r, 2) || !(r[0]! < r[1]!)) bad('featureRange', '[min, max] with min < max');
      return { type: 'minMaxScaler', featureRange: [r[0]!, r[1]!], clip: flag('clip'), dataMin: arr('dataMin', n), dataMax: arr('dataMax', n), scale, min: arr('min', n) };
    }
    case 'simpleImputer': {
      const stats = v.statistics;
      if (!Array.isArray(stats) || (width !== null && stats.length !== width) || stats.length === 0 || !stats.every((s) => (typeof s === 'number' && Number.isFinite(s)) || (typeof s === 'string' && s !== ''))) bad('statistics', `${width ?? 'one or more'} finite numbers or non-empty strings`);
      if (!['mean', 'median', 'mostFrequent', 'constant'].includes(v.strategy as string)) bad('strategy', "'mean', 'median', 'mostFrequent' or 'constant'");
      const fill = v.fillValue ?? null;
      if (fill !== null && typeof fill !== 'number' && typeof fill !== 'string') bad('fillValue', 'a number, a string or null');
      return { type: 'simpleImputer', strategy: v.strategy as SimpleImputerState['strategy'], fillValue: fill as number | string | null, statistics: [...(stats as (number | string)[])] };
    }
    case 'oneHotEncoder': {
      const cats = v.categories;
      const sorted = (c: unknown): boolean =>
        Array.isArray(c) && c.length > 0 && (c.every((x) => typeof x === 'number' && Number.isFinite(x)) || c.every((x) => typeof x === 'string' && x !== '')) && c.every((x, i) => i === 0 || compareCategories(c[i - 1], x) < 0);
      if (!Array.isArray(cats) || (width !== null && cats.length !== width) || cats.length === 0 || !cats.every(sorted)) bad('categories', `${width ?? 'one or more'} lists of distinct categories, each sorted and all numbers or all non-empty strings`);
      if (v.handleUnknown !== 'error' && v.handleUnknown !== 'ignore') bad('handleUnknown', "'error' or 'ignore'");
      return { type: 'oneHotEncoder', handleUnknown: v.handleUnknown as 'error' | 'ignore', categories: (cats as (number[] | string[])[]).map((c) => [...c] as number[] | string[]) };
    }
    default:
      return bad('type', "'standardScaler', 'minMaxScaler', 'simpleImputer' or 'oneHotEncoder'");
  }
}

/** Category order: numbers ascending, strings by Unicode code point (numpy's `np.unique`). @internal */
export function compareCategories(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = Array.from(String(a), (c) => c.codePointAt(0)!);
  const y = Array.from(String(b), (c) => c.codePointAt(0)!);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Freezes a JSON tree (a model's preprocessing cannot be changed behind its back). */
export function frozen<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) frozen(x);
    Object.freeze(v);
  }
  return v;
}

/** What the main entry calls through its hook (./hook.ts). @internal */
export interface PreprocessingReader {
  /** Validates JSON (or a fitted transformer's `toJSON()`); `fail(path, msg)` throws. */
  check(v: unknown, fail: (path: string, msg: string) => never, root: string): PreprocessingState;
  /** Applies a validated state to raw x. */
  apply(p: PreprocessingState, x: unknown, where: string): { data: Float32Array; rows: number };
}

/** The reader `wasmfit/preprocess` registers with the main entry (./hook.ts). @internal */
export const READER: PreprocessingReader = {
  check: (v, fail, root) => frozen(checkPreprocessing(v, fail, root)),
  apply: applyPreprocessing,
};
