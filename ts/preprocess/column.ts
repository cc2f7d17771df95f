/**
 * `ColumnTransformer`, after scikit-learn's: each step sends some columns (by index or name)
 * through a transformer or a pipeline of them (`[imputer, scaler]`), so mixed numeric and text
 * tables become one numeric matrix. Its fitted state is the JSON a model keeps
 * (`model.setPreprocessing(ct)`) and its model file stores.
 */
import { NotFittedError, OptionError, ShapeError } from '../errors/index.js';
import { checkOptions, oneOf } from '../errors/validate.js';
import { preview } from '../errors/preview.js';
import type { Matrix } from '../data/tensor.js';
import { applyPreprocessing, applyTransformer, checkPreprocessing, colName, type PreprocessingState, type RawFeatures, tableColumns, type TransformerState, widthOut } from './state.js';
import { Transformer, transformerFromState } from './transformers.js';

/** One step: `[name, transformer or pipeline, columns]` (columns by 0-based index or by name). */
export type ColumnStep = readonly [name: string, transformer: Transformer | readonly Transformer[], columns: readonly (number | string)[]];

/** Options of {@link ColumnTransformer}. */
export interface ColumnTransformerOptions {
  /** Columns no step selects: `'drop'` (default, as scikit-learn) or `'passthrough'` (kept as they are, after the steps' outputs; they must be numeric). */
  remainder?: 'drop' | 'passthrough';
  /**
   * Names of the raw columns, so steps can select by name and messages name them. Default: the keys
   * of the first row when `fit` gets records (`{ age: 31, city: 'Paris' }`), else none.
   */
  featureNames?: readonly string[];
}

/**
 * Applies transformers to columns of a raw table, as scikit-learn's `ColumnTransformer`: the
 * output is each step's output side by side, in step order, then the remainder.
 * @example
 * ```ts
 * const prep = new ColumnTransformer([
 *   ['num', [new SimpleImputer({ strategy: 'median' }), new StandardScaler()], ['age', 'income']],
 *   ['cat', new OneHotEncoder({ handleUnknown: 'ignore' }), ['city']],
 * ]).fit(rows);            // rows: [{ age: 31, income: 52000, city: 'Paris' }, …]
 * prep.nFeaturesOut;       // 2 + the number of cities
 * prep.transform(rows);    // Matrix
 * ```
 */
export class ColumnTransformer {
  readonly remainder: 'drop' | 'passthrough';
  readonly steps: readonly ColumnStep[];
  private readonly names0: string[] | null;
  private state_: PreprocessingState | null = null;

  constructor(steps: readonly ColumnStep[], options: ColumnTransformerOptions = {}) {
    const W = 'ColumnTransformer';
    const o = checkOptions(W, options, ['remainder', 'featureNames']);
    this.remainder = oneOf(W, 'remainder', o.remainder ?? 'drop', ['drop', 'passthrough'] as const);
    const names = o.featureNames;
    if (names !== undefined && (!Array.isArray(names) || !names.every((s) => typeof s === 'string') || new Set(names).size !== names.length)) {
      throw new OptionError('featureNames', `${W}: option featureNames = ${preview(names)}; expected distinct column names (strings).`);
    }
    this.names0 = names ? [...(names as string[])] : null;
    if (!Array.isArray(steps) || steps.length === 0) throw new OptionError('steps', `${W}: steps = ${preview(steps)}; expected a non-empty array of [name, transformer, columns].`);
    const seen = new Set<string>();
    this.steps = steps.map((s: unknown, i) => {
      if (!Array.isArray(s) || s.length !== 3) throw new OptionError('steps', `${W}: steps[${i}] = ${preview(s)}; expected [name, transformer, columns].`);
      const [name, t, cols] = s as [unknown, unknown, unknown];
      if (typeof name !== 'string' || name === '' || seen.has(name)) throw new OptionError('steps', `${W}: steps[${i}][0] = ${preview(name)}; step names are distinct non-empty strings.`);
      seen.add(name);
      const list = Array.isArray(t) ? t : [t];
      if (list.length === 0 || !list.every((x) => x instanceof Transformer)) throw new OptionError('steps', `${W}: steps[${i}][1] (step '${name}') = ${preview(t)}; expected a transformer (new StandardScaler(), …) or an array of them applied in turn.`);
      if (!Array.isArray(cols) || cols.length === 0 || !cols.every((c) => (Number.isInteger(c) && c >= 0) || typeof c === 'string') || new Set(cols).size !== cols.length) {
        throw new OptionError('steps', `${W}: steps[${i}][2] (step '${name}') = ${preview(cols)}; expected distinct column indices (integers >= 0) or names.`);
      }
      return [name, Array.isArray(t) ? [...(t as Transformer[])] : (t as Transformer), [...(cols as (number | string)[])]] as const;
    });
  }

  /** Fits every step on its columns of `x` (rows of cells, records, number[][] or a Matrix); returns `this`. On error nothing changes. */
  fit(x: RawFeatures): this {
    const W = 'ColumnTransformer.fit';
    const t = tableColumns(x, null, this.names0, W);
    if (t.rows === 0) throw new ShapeError(`${W}: x has no rows; fit needs at least one.`);
    const names = t.names;
    const steps = this.steps.map(([name, tr, cols]) => {
      const columns = cols.map((c) => {
        const i = typeof c === 'number' ? c : names ? names.indexOf(c) : -1;
        if (typeof c === 'string' && !names) throw new OptionError('steps', `${W}: step '${name}' selects column '${c}' by name, but x has no column names; pass records, or the featureNames option.`);
        if (i < 0 || i >= t.cols.length) throw new ShapeError(`${W}: step '${name}' selects column ${preview(c)}, which x does not have; its columns are ${names ? names.join(', ') : `0..${t.cols.length - 1}`}.`);
        return i;
      });
      let cur = { cols: columns.map((c) => t.cols[c]!), labels: columns.map((c) => colName(c, names)) };
      const transformers: TransformerState[] = [];
      for (const step of Array.isArray(tr) ? (tr as Transformer[]) : [tr as Transformer]) {
        const s = step.fitColumns(cur.cols, cur.labels, `${W} (step '${name}')`);
        transformers.push(s);
        cur = applyTransformer(s, cur.cols, cur.labels, `${W} (step '${name}')`);
      }
      return { name, columns, transformers };
    });
    const used = new Set(steps.flatMap((s) => s.columns));
    let out = steps.reduce((n, s) => n + s.transformers.reduce((w, tr) => widthOut(tr, w), s.columns.length), 0);
    if (this.remainder === 'passthrough') out += t.cols.length - used.size;
    this.state_ = { format: 'wasmfit.preprocessing', version: 1, nFeaturesIn: t.cols.length, featureNames: names, steps, remainder: this.remainder, nFeaturesOut: out };
    return this;
  }

  /** The network-ready rows of `x`: a `[rows, nFeaturesOut]` float32 Matrix. */
  transform(x: RawFeatures): Matrix {
    const s = this.need('transform');
    const r = applyPreprocessing(s, x, 'ColumnTransformer.transform');
    return { data: r.data, shape: [r.rows, s.nFeaturesOut] };
  }

  /** `fit(x)` then `transform(x)`. */
  fitTransform(x: RawFeatures): Matrix {
    return this.fit(x).transform(x);
  }

  /** Whether `fit` has run (or it came from `fromJSON`). */
  get fitted(): boolean {
    return this.state_ !== null;
  }

  /** Raw columns seen by `fit`. */
  get nFeaturesIn(): number {
    return this.need('nFeaturesIn').nFeaturesIn;
  }

  /** Output columns: the `inputShape` of a model that takes them. */
  get nFeaturesOut(): number {
    return this.need('nFeaturesOut').nFeaturesOut;
  }

  /** Output column names, scikit-learn style: `num__age`, `cat__city_Paris`, `remainder__x3`. */
  getFeatureNamesOut(): string[] {
    const s = this.need('getFeatureNamesOut');
    const raw = (c: number) => s.featureNames?.[c] ?? `x${c}`;
    const out: string[] = [];
    for (const step of s.steps) {
      let names = step.columns.map(raw);
      for (const t of step.transformers) if (t.type === 'oneHotEncoder') names = names.flatMap((n, j) => t.categories[j]!.map((c) => `${n}_${String(c)}`));
      out.push(...names.map((n) => `${step.name}__${n}`));
    }
    if (s.remainder === 'passthrough') {
      const used = new Set(s.steps.flatMap((st) => st.columns));
      for (let c = 0; c < s.nFeaturesIn; c++) if (!used.has(c)) out.push(`remainder__${raw(c)}`);
    }
    return out;
  }

  /** The fitted state as plain JSON (a copy), for `ColumnTransformer.fromJSON` or `model.setPreprocessing`. */
  toJSON(): PreprocessingState {
    return JSON.parse(JSON.stringify(this.need('toJSON'))) as PreprocessingState;
  }

  /** A fitted ColumnTransformer from {@link toJSON} output (or a model's `preprocessing`). */
  static fromJSON(state: unknown): ColumnTransformer {
    const s = checkPreprocessing(state, (path, msg) => {
      throw new OptionError('state', `ColumnTransformer.fromJSON: ${path} ${msg}`);
    }, 'state');
    const ct = new ColumnTransformer(
      s.steps.map((st) => [st.name, st.transformers.map(transformerFromState), st.columns] as const),
      { remainder: s.remainder, ...(s.featureNames ? { featureNames: s.featureNames } : {}) },
    );
    ct.state_ = s;
    return ct;
  }

  private need(what: string): PreprocessingState {
    if (!this.state_) throw new NotFittedError(`ColumnTransformer.${what}: this ColumnTransformer is not fitted yet; call fit(x) first (or build it with ColumnTransformer.fromJSON(state)).`);
    return this.state_;
  }
}
