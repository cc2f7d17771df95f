/**
 * The transformers of `wasmfit/preprocess`, after scikit-learn's (`sklearn.preprocessing`,
 * `sklearn.impute`): `StandardScaler`, `MinMaxScaler`, `SimpleImputer`, `OneHotEncoder`. Each is
 * options → `fit(x)` → a fitted state (plain JSON, ./state.ts) → `transform(x)`. A failed `fit`
 * leaves the previous state (or none) in place. Statistics are computed in float64 as
 * scikit-learn computes them.
 */
import { NotFittedError, OptionError, ShapeError } from '../errors/index.js';
import { bool, checkOptions, oneOf } from '../errors/validate.js';
import { preview } from '../errors/preview.js';
import type { Matrix } from '../data/tensor.js';
import { setPreprocessingReader } from './hook.js';
import {
  applyPreprocessing,
  applyTransformer,
  type Cell,
  checkPreprocessing,
  colName,
  compareCategories,
  isBlank,
  type MinMaxScalerState,
  numeric,
  READER,
  type OneHotEncoderState,
  type PreprocessingState,
  type RawFeatures,
  type SimpleImputerState,
  type StandardScalerState,
  tableColumns,
  type TransformerState,
  widthIn,
  widthOut,
} from './state.js';

const EPS = 2 ** -52;

/** Base of the transformers: fit on columns, keep a JSON state, transform through ./state.ts. */
export abstract class Transformer<S extends TransformerState = TransformerState> {
  /** @internal */
  protected state_: S | null = null;
  /** @internal */
  protected names_: string[] | null = null;
  /** The class name, for messages. @internal */
  protected abstract readonly kind: string;

  constructor() {
    // a program that builds a transformer can also read model files holding one
    setPreprocessingReader(READER);
  }

  /** Learns the statistics of every column of `x` (rows of cells, records, number[][] or a Matrix); returns `this`. */
  fit(x: RawFeatures): this {
    const where = `${this.kind}.fit`;
    const t = tableColumns(x, null, null, where);
    if (t.rows === 0 || t.cols.length === 0) throw new ShapeError(`${where}: x has ${t.rows} rows and ${t.cols.length} columns; fit needs at least one of each.`);
    const state = this.fitColumns(t.cols, t.cols.map((_, c) => colName(c, t.names)), where);
    this.state_ = state;
    this.names_ = t.names;
    return this;
  }

  /** The transformed rows of `x`, which must have the columns `fit` saw. */
  transform(x: RawFeatures): Matrix {
    const s = this.pipeline(`${this.kind}.transform`);
    const r = applyPreprocessing(s, x, `${this.kind}.transform`);
    return { data: r.data, shape: [r.rows, s.nFeaturesOut] };
  }

  /** `fit(x)` then `transform(x)`. */
  fitTransform(x: RawFeatures): Matrix {
    return this.fit(x).transform(x);
  }

  /** Whether `fit` has run (or the transformer came from `fromJSON`). */
  get fitted(): boolean {
    return this.state_ !== null;
  }

  /** Columns seen by `fit` (scikit-learn's `n_features_in_`). */
  get nFeaturesIn(): number {
    return widthIn(this.fittedState('nFeaturesIn'));
  }

  /** The fitted state as plain JSON (a copy): store it, or pass it to `fromJSON` or `model.setPreprocessing`. */
  toJSON(): S {
    return JSON.parse(JSON.stringify(this.fittedState('toJSON'))) as S;
  }

  /** @internal the state, or NotFittedError */
  fittedState(what: string): S {
    if (!this.state_) throw new NotFittedError(`${this.kind}.${what}: this ${this.kind} is not fitted yet; call fit(x) first (or build it with ${this.kind}.fromJSON(state)).`);
    return this.state_;
  }

  /** @internal the state wrapped as a one-step preprocessing over every column */
  pipeline(what: string): PreprocessingState {
    const t = this.fittedState(what.replace(/^\w+\./, ''));
    const n = widthIn(t);
    return { format: 'wasmfit.preprocessing', version: 1, nFeaturesIn: n, featureNames: this.names_, steps: [{ name: this.kind, columns: Array.from({ length: n }, (_, i) => i), transformers: [t] }], remainder: 'drop', nFeaturesOut: widthOut(t, n) };
  }

  /** @internal Fits on columns without touching `this`; returns the state. */
  abstract fitColumns(cols: readonly Cell[][], labels: readonly string[], where: string): S;

  /** @internal sets a validated state */
  load(s: S): this {
    this.state_ = s;
    return this;
  }
}

function numbers(col: readonly Cell[], label: string, where: string): number[] {
  return col.map((v, r) => numeric(v, r, label, where));
}

/** Options of {@link StandardScaler} (scikit-learn's names in camelCase). */
export interface StandardScalerOptions {
  /** Subtract the mean (default true). */
  withMean?: boolean;
  /** Divide by the standard deviation (default true). */
  withStd?: boolean;
}

/**
 * Standardization, as scikit-learn's `StandardScaler`: `z = (x − mean) / scale` per column, with
 * the population variance (ddof = 0) and `scale = sqrt(var)`; a constant column (variance within
 * float64 rounding of 0, scikit-learn's `_is_constant_feature`) gets `scale = 1`. Missing cells are
 * refused (put a {@link SimpleImputer} before it).
 * @example
 * ```ts
 * const s = new StandardScaler().fit([[1, 10], [3, 10]]);
 * s.mean;                      // [2, 10]
 * s.transform([[5, 10]]).data; // Float32Array [3, 0]
 * ```
 */
export class StandardScaler extends Transformer<StandardScalerState> {
  protected readonly kind = 'StandardScaler';
  readonly withMean: boolean;
  readonly withStd: boolean;

  constructor(options: StandardScalerOptions = {}) {
    super();
    const o = checkOptions('StandardScaler', options, ['withMean', 'withStd']);
    this.withMean = bool('StandardScaler', 'withMean', o.withMean, true);
    this.withStd = bool('StandardScaler', 'withStd', o.withStd, true);
  }

  /** Per-column means (`mean_`). */
  get mean(): number[] {
    return [...this.fittedState('mean').mean];
  }
  /** Per-column population variances (`var_`). */
  get var(): number[] {
    return [...this.fittedState('var').var];
  }
  /** Per-column divisors (`scale_`): `sqrt(var)`, 1 for constant columns. */
  get scale(): number[] {
    return [...this.fittedState('scale').scale];
  }

  /** @internal */
  fitColumns(cols: readonly Cell[][], labels: readonly string[], where: string): StandardScalerState {
    const n = cols[0]!.length;
    const mean: number[] = [];
    const variance: number[] = [];
    const scale: number[] = [];
    cols.forEach((col, j) => {
      const v = numbers(col, labels[j]!, where);
      let m = 0;
      for (const x of v) m += x;
      m /= n;
      let s = 0;
      for (const x of v) s += (x - m) ** 2;
      s /= n;
      mean.push(m);
      variance.push(s);
      // scikit-learn's _is_constant_feature: variance within the 2-pass algorithm's error bound of 0
      scale.push(s <= n * EPS * s + (n * m * EPS) ** 2 ? 1 : Math.sqrt(s));
    });
    return { type: 'standardScaler', withMean: this.withMean, withStd: this.withStd, mean, var: variance, scale, nSamplesSeen: n };
  }

  /** A fitted StandardScaler from {@link toJSON} output. */
  static fromJSON(state: unknown): StandardScaler {
    const s = stateOf(state, 'standardScaler', 'StandardScaler.fromJSON');
    return new StandardScaler({ withMean: s.withMean, withStd: s.withStd }).load(s);
  }
}

/** Options of {@link MinMaxScaler}. */
export interface MinMaxScalerOptions {
  /** `[min, max]` of the output (scikit-learn's `feature_range`; default `[0, 1]`). */
  featureRange?: readonly [number, number];
  /** Clip transformed values of new data to `featureRange` (default false). */
  clip?: boolean;
}

/**
 * Min-max scaling, as scikit-learn's `MinMaxScaler`: `x · scale + min` with
 * `scale = (hi − lo) / (dataMax − dataMin)` and `min = lo − dataMin · scale`, so the training data
 * spans `featureRange = [lo, hi]`; a constant column gets `scale = hi − lo` (range taken as 1).
 * @example new MinMaxScaler({ featureRange: [-1, 1] }).fitTransform([[0], [5], [10]]).data // [-1, 0, 1]
 */
export class MinMaxScaler extends Transformer<MinMaxScalerState> {
  protected readonly kind = 'MinMaxScaler';
  readonly featureRange: readonly [number, number];
  readonly clip: boolean;

  constructor(options: MinMaxScalerOptions = {}) {
    super();
    const o = checkOptions('MinMaxScaler', options, ['featureRange', 'clip']);
    const r = o.featureRange ?? [0, 1];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(r[0] < r[1])) {
      throw new OptionError('featureRange', `MinMaxScaler: option featureRange = ${preview(r)}; expected [min, max] with finite min < max, e.g. [0, 1].`);
    }
    this.featureRange = [r[0] as number, r[1] as number];
    this.clip = bool('MinMaxScaler', 'clip', o.clip, false);
  }

  /** Per-column minimum of the training data (`data_min_`). */
  get dataMin(): number[] {
    return [...this.fittedState('dataMin').dataMin];
  }
  /** Per-column maximum (`data_max_`). */
  get dataMax(): number[] {
    return [...this.fittedState('dataMax').dataMax];
  }
  /** Per-column factor (`scale_`). */
  get scale(): number[] {
    return [...this.fittedState('scale').scale];
  }
  /** Per-column offset (`min_`). */
  get min(): number[] {
    return [...this.fittedState('min').min];
  }

  /** @internal */
  fitColumns(cols: readonly Cell[][], labels: readonly string[], where: string): MinMaxScalerState {
    const [lo, hi] = this.featureRange;
    const st: MinMaxScalerState = { type: 'minMaxScaler', featureRange: [lo, hi], clip: this.clip, dataMin: [], dataMax: [], scale: [], min: [] };
    cols.forEach((col, j) => {
      const v = numbers(col, labels[j]!, where);
      let a = Infinity;
      let b = -Infinity;
      for (const x of v) {
        a = Math.min(a, x);
        b = Math.max(b, x);
      }
      const range = b - a;
      const scale = (hi - lo) / (range < 10 * EPS ? 1 : range);
      st.dataMin.push(a);
      st.dataMax.push(b);
      st.scale.push(scale);
      st.min.push(lo - a * scale);
    });
    return st;
  }

  /** A fitted MinMaxScaler from {@link toJSON} output. */
  static fromJSON(state: unknown): MinMaxScaler {
    const s = stateOf(state, 'minMaxScaler', 'MinMaxScaler.fromJSON');
    return new MinMaxScaler({ featureRange: s.featureRange, clip: s.clip }).load(s);
  }
}

/** Options of {@link SimpleImputer}. */
export interface SimpleImputerOptions {
  /**
   * What fills a missing cell (null, undefined, NaN or ''): the column's `'mean'` (default) or
   * `'median'` (numeric columns), its `'mostFrequent'` value (ties: the smallest, as scikit-learn),
   * or `'constant'` {@link fillValue}.
   */
  strategy?: 'mean' | 'median' | 'mostFrequent' | 'constant';
  /** The value of `strategy: 'constant'` (default 0 for numeric columns, `'missing_value'` for text ones, as scikit-learn). */
  fillValue?: number | string;
}

/**
 * Imputation of missing cells, as scikit-learn's `SimpleImputer` (`missing_values=np.nan`; here
 * null, undefined, NaN and '' are missing). Divergence: a column with no value at fit is refused
 * instead of being dropped.
 * @example new SimpleImputer({ strategy: 'median' }).fit([[1], [null], [7], [3]]).statistics // [3]
 */
export class SimpleImputer extends Transformer<SimpleImputerState> {
  protected readonly kind = 'SimpleImputer';
  readonly strategy: SimpleImputerState['strategy'];
  readonly fillValue: number | string | null;

  constructor(options: SimpleImputerOptions = {}) {
    super();
    const o = checkOptions('SimpleImputer', options, ['strategy', 'fillValue']);
    this.strategy = oneOf('SimpleImputer', 'strategy', o.strategy ?? 'mean', ['mean', 'median', 'mostFrequent', 'constant'] as const);
    const f = o.fillValue ?? null;
    if (f !== null && !(typeof f === 'number' && Number.isFinite(f)) && !(typeof f === 'string' && f !== '')) {
      throw new OptionError('fillValue', `SimpleImputer: option fillValue = ${preview(f)}; expected a finite number or a non-empty string.`);
    }
    if (f !== null && this.strategy !== 'constant') throw new OptionError('fillValue', `SimpleImputer: fillValue is used only with strategy 'constant' (strategy is '${this.strategy}'); drop it or set strategy: 'constant'.`);
    this.fillValue = f as number | string | null;
  }

  /** Per-column fill values (`statistics_`). */
  get statistics(): (number | string)[] {
    return [...this.fittedState('statistics').statistics];
  }

  /** Rows of cells with the missing ones filled; unlike {@link transform}, text columns may stay text. */
  transformRows(x: RawFeatures): (number | string)[][] {
    const where = 'SimpleImputer.transformRows';
    const s = this.fittedState('transformRows');
    const t = tableColumns(x, widthIn(s), this.names_, where);
    const { cols } = applyTransformer(s, t.cols, t.cols.map((_, c) => colName(c, this.names_)), where);
    return Array.from({ length: t.rows }, (_, r) => cols.map((c) => c[r] as number | string));
  }

  /** @internal */
  fitColumns(cols: readonly Cell[][], labels: readonly string[], where: string): SimpleImputerState {
    const statistics = cols.map((col, j) => {
      const present = col.filter((v) => !isBlank(v)) as (number | string)[];
      const text = present.some((v) => typeof v === 'string');
      if (text && present.some((v) => typeof v === 'number')) throw new ShapeError(`${where}: ${labels[j]} mixes numbers and strings (e.g. ${preview(present.find((v) => typeof v === 'number'))} and ${preview(present.find((v) => typeof v === 'string'))}); a column holds one kind.`);
      if (this.strategy === 'constant') {
        const f = this.fillValue ?? (text ? 'missing_value' : 0);
        if (text !== (typeof f === 'string') && present.length > 0) throw new OptionError('fillValue', `${where}: fillValue ${preview(f)} is a ${typeof f} but ${labels[j]} holds ${text ? 'strings' : 'numbers'}; use a fillValue of the column's kind.`);
        return f;
      }
      if (present.length === 0) throw new ShapeError(`${where}: ${labels[j]} has no value (every cell is missing), so its ${this.strategy} is undefined; drop the column or use strategy 'constant'.`);
      if (this.strategy === 'mostFrequent') return mostFrequent(present);
      if (text) throw new OptionError('strategy', `${where}: strategy '${this.strategy}' needs numbers, but ${labels[j]} holds strings (e.g. ${preview(present.find((v) => typeof v === 'string'))}); use 'mostFrequent' or 'constant' for text columns.`);
      const v = present.map((x, i) => numeric(x, i, labels[j]!, where));
      if (this.strategy === 'mean') return v.reduce((s, x) => s + x, 0) / v.length;
      v.sort((a, b) => a - b);
      const h = v.length >> 1;
      return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
    });
    return { type: 'simpleImputer', strategy: this.strategy, fillValue: this.fillValue, statistics };
  }

  /** A fitted SimpleImputer from {@link toJSON} output. */
  static fromJSON(state: unknown): SimpleImputer {
    const s = stateOf(state, 'simpleImputer', 'SimpleImputer.fromJSON');
    return new SimpleImputer({ strategy: s.strategy, ...(s.fillValue !== null ? { fillValue: s.fillValue } : {}) }).load(s);
  }
}

/** The most frequent value; ties go to the smallest (scikit-learn's `_most_frequent`). */
function mostFrequent(v: readonly (number | string)[]): number | string {
  const counts = new Map<number | string, number>();
  for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best: number | string = v[0]!;
  let n = 0;
  for (const [x, c] of counts) if (c > n || (c === n && compareCategories(x, best) < 0)) [best, n] = [x, c];
  return best;
}

/** Options of {@link OneHotEncoder}. */
export interface OneHotEncoderOptions {
  /** A category not seen by `fit`: `'error'` (default; {@link UnknownCategoryError} naming the column and value) or `'ignore'` (all zeros). */
  handleUnknown?: 'error' | 'ignore';
}

/**
 * One-hot encoding, as scikit-learn's `OneHotEncoder(sparse_output=False)`: each column becomes one
 * 0/1 column per category, categories sorted (numbers ascending, strings by code point). A column
 * holds numbers or strings, not both; missing cells are refused (impute them first with
 * `SimpleImputer({ strategy: 'mostFrequent' })` or `'constant'`).
 * @example new OneHotEncoder().fit([['b'], ['a'], ['b']]).categories // [['a', 'b']]
 */
export class OneHotEncoder extends Transformer<OneHotEncoderState> {
  protected readonly kind = 'OneHotEncoder';
  readonly handleUnknown: 'error' | 'ignore';

  constructor(options: OneHotEncoderOptions = {}) {
    super();
    const o = checkOptions('OneHotEncoder', options, ['handleUnknown']);
    this.handleUnknown = oneOf('OneHotEncoder', 'handleUnknown', o.handleUnknown ?? 'error', ['error', 'ignore'] as const);
  }

  /** The sorted categories of each column (`categories_`). */
  get categories(): (number[] | string[])[] {
    return this.fittedState('categories').categories.map((c) => [...c] as number[] | string[]);
  }

  /** @internal */
  fitColumns(cols: readonly Cell[][], labels: readonly string[], where: string): OneHotEncoderState {
    const categories = cols.map((col, j) => {
      const seen = new Set<number | string>();
      col.forEach((v, r) => {
        if (isBlank(v)) numeric(v, r, labels[j]!, where);
        if (typeof v === 'number' && v - v !== 0) numeric(v, r, labels[j]!, where);
        seen.add(v as number | string);
      });
      const all = [...seen];
      if (all.some((v) => typeof v === 'string') && all.some((v) => typeof v === 'number')) {
        throw new ShapeError(`${where}: ${labels[j]} mixes numbers and strings (e.g. ${preview(all.find((v) => typeof v === 'number'))} and ${preview(all.find((v) => typeof v === 'string'))}); convert the column to one kind (e.g. String(cell)).`);
      }
      return all.sort(compareCategories) as number[] | string[];
    });
    return { type: 'oneHotEncoder', handleUnknown: this.handleUnknown, categories };
  }

  /** A fitted OneHotEncoder from {@link toJSON} output. */
  static fromJSON(state: unknown): OneHotEncoder {
    const s = stateOf(state, 'oneHotEncoder', 'OneHotEncoder.fromJSON');
    return new OneHotEncoder({ handleUnknown: s.handleUnknown }).load(s);
  }
}

/** A transformer state of the given type from JSON (OptionError naming the field otherwise). */
function stateOf<K extends TransformerState['type']>(v: unknown, type: K, where: string): Extract<TransformerState, { type: K }> {
  const fail = (path: string, msg: string): never => {
    throw new OptionError('state', `${where}: ${path} ${msg}`);
  };
  if (!v || typeof v !== 'object' || (v as { type?: unknown }).type !== type) fail('state', `is ${preview(v)}; expected the toJSON() of a fitted ${where.split('.')[0]} (type '${type}').`);
  return checkPreprocessing(v, fail, 'state').steps[0]!.transformers[0] as Extract<TransformerState, { type: K }>;
}

/** A fitted transformer from any transformer state (the `type` field picks the class). @internal */
export function transformerFromState(s: TransformerState): Transformer {
  switch (s.type) {
    case 'standardScaler':
      return new StandardScaler({ withMean: s.withMean, withStd: s.withStd }).load(s);
    case 'minMaxScaler':
      return new MinMaxScaler({ featureRange: s.featureRange, clip: s.clip }).load(s);
    case 'simpleImputer':
      return new SimpleImputer({ strategy: s.strategy, ...(s.fillValue !== null ? { fillValue: s.fillValue } : {}) }).load(s);
    default:
      return new OneHotEncoder({ handleUnknown: s.handleUnknown }).load(s);
  }
}
