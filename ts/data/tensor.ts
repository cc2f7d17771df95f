import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { idsOfNames, isStringLabels, received, typeName } from './labels.js';

/** A row-major matrix: `data.length === shape[0] * shape[1]`. */
export interface Matrix {
  data: Float32Array;
  shape: readonly [number, number];
}

/**
 * Features: a `Matrix`, `number[][]` (one row per sample), or a flat row-major `Float32Array`,
 * `Float64Array` or `number[]` (rows inferred from the model's input size, so a flat array of
 * `inputSize` values is one sample). Float64 values are rounded to float32 (`Math.fround`).
 */
export type Features = Matrix | Float32Array | Float64Array | readonly number[] | readonly (readonly number[])[];
/**
 * Labels: class ids (`Int32Array`, `Uint8Array`, `Uint16Array`, `number[]`, or a `Float32Array` /
 * `Float64Array` of integral values), class names (`string[]`, see `model.classes`), or one-hot
 * rows (`Matrix`, `number[][]`).
 */
export type Labels = Int32Array | Uint8Array | Uint16Array | Float32Array | Float64Array | readonly number[] | readonly string[] | Matrix | readonly (readonly number[])[];

/** Builds a {@link Matrix}, checking that the length matches the shape. */
export function matrix(data: Float32Array | readonly number[], shape: readonly [number, number]): Matrix {
  if (!(data instanceof Float32Array)) {
    if (!Array.isArray(data)) throw new ShapeError(`matrix: data is ${preview(data)}; expected a Float32Array or an array of numbers.`);
    const bad = data.findIndex((v: unknown) => typeof v !== 'number');
    if (bad >= 0) throw new ShapeError(`matrix: data[${bad}] is ${preview(data[bad])}; every value must be a number (no coercion of null, booleans or strings).`);
  }
  const d = data instanceof Float32Array ? data : Float32Array.from(data);
  const [r, c] = checkMatrixShape(shape, 'matrix: shape');
  if (d.length !== r * c) {
    throw new ShapeError(`matrix: data of length ${d.length} with shape [${shape.join(', ')}]; expected length = rows × cols. Fix the shape or the data.`);
  }
  return { data: d, shape: [r, c] };
}


/**
 * Normalizes features (`name` `'x'`) or regression targets (`'y'`, `cols` = the model's outputs)
 * to a row-major Float32Array with `cols` columns. Never copies a Float32Array; a Float64Array or
 * a flat `number[]` is rounded to float32 as `Float32Array.from` does. @internal
 */
export function toFeatures(x: Features, cols: number, where: string, checkFinite: boolean | FiniteScan = true, name: 'x' | 'y' = 'x'): { data: Float32Array; rows: number } {
  const flat = (len: number, kind: string): number => {
    if (len % cols !== 0) throw new ShapeError(`${where}: ${name} is a flat ${kind} of ${len} values, not a multiple of the model's ${cols} ${name === 'x' ? 'input features' : 'outputs'} (${cols} values = one sample).`);
    return len / cols;
  };
  let data: Float32Array;
  let rows: number;
  if (x instanceof Float32Array) {
    rows = flat(x.length, 'Float32Array');
    data = x;
  } else if (x instanceof Float64Array) {
    rows = flat(x.length, 'Float64Array');
    data = Float32Array.from(x);
  } else if (Array.isArray(x) && typeof x[0] === 'number') {
    // a flat number[]: row-major, as a Float32Array (one sample when it holds `cols` values)
    const a = x as readonly unknown[];
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v !== 'number') {
        throw new ShapeError(`${where}: ${name}[${i}] is ${preview(v)} (${typeName(v)})${Array.isArray(v) ? ` but ${name}[0] is a number; not a mix of rows and numbers` : '; every value must be a number'}.`);
      }
    }
    rows = flat(a.length, 'number[]');
    data = Float32Array.from(a as readonly number[]);
  } else if (Array.isArray(x)) {
    rows = x.length;
    data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row: unknown = x[r];
      if (!Array.isArray(row)) {
        throw new ShapeError(`${where}: ${name}[${r}] is ${preview(row)}; number[][] input needs every row to be an array of ${cols} numbers.`);
      }
      if (row.length !== cols) {
        throw new ShapeError(`${where}: ${name}[${r}] has ${row.length} ${name === 'x' ? 'features' : 'targets'}; the model expects ${cols}. Give every row ${cols} numbers.`);
      }
      for (let c = 0; c < cols; c++) {
        const v: unknown = row[c];
        // no coercion: null, booleans, strings and nested arrays would silently become numbers
        if (typeof v !== 'number') {
          throw new ShapeError(`${where}: ${name}[${r}][${c}] is ${preview(v)} (${typeName(v)}); every cell must be a number. Convert the data first (e.g. Number(cell), and impute missing values).`);
        }
        data[r * cols + c] = v;
      }
    }
  } else if (x && typeof x === 'object' && 'data' in x && 'shape' in x) {
    const m = x as Matrix;
    if (!(m.data instanceof Float32Array)) throw new ShapeError(`${where}: ${name}.data is ${preview(m.data)}; expected a Float32Array.`);
    const [r, c] = checkMatrixShape(m.shape, `${where}: ${name}.shape`);
    if (c !== cols) throw new ShapeError(`${where}: ${name} has shape [${r}, ${c}]; the model expects [n, ${cols}]. Pass rows of ${cols} ${name === 'x' ? 'features' : 'targets'}.`);
    if (m.data.length !== r * c) throw new ShapeError(`${where}: ${name}.data has ${m.data.length} values but shape [${r}, ${c}] needs ${r * c}.`);
    data = m.data;
    rows = r;
  } else {
    throw new ShapeError(`${where}: ${name} must be a Float32Array, Float64Array, number[] (flat, row-major), number[][] or { data, shape }; received ${received(x)}.`);
  }
  if (checkFinite) {
    const i = typeof checkFinite === 'function' ? checkFinite(data) : firstNonFinite(data, 0, data.length);
    if (i >= 0) {
      const src = x instanceof Float64Array ? x[i]! : data[i]!;
      throw new NonFiniteError(`${where}: ${name} contains ${src} at row ${Math.floor(i / cols)}, ${name === 'x' ? 'feature' : 'output'} ${i % cols}. Remove or impute non-finite values before training.`);
    }
  }
  return { data, rows };
}

/** Index of the first NaN/±Inf of `data` (−1: none); a runtime's is faster (Stepper.firstNonFinite). @internal */
export type FiniteScan = (data: Float32Array) => number;

/** Index of the first NaN/±Inf in `data[from, to)`, or −1. @internal */
export function firstNonFinite(data: Float32Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Typed arrays accepted as class ids once every value is checked to be an integer. */
const FLOAT_IDS = [Float32Array, Float64Array, Int8Array, Int16Array, Uint32Array] as const;

/**
 * Normalizes labels to class ids in [0, classes). String labels map through `names` (the
 * model's class list, index = id); without one they are refused. @internal
 */
export function toClassIds(y: Labels, rows: number, classes: number, where: string, names: readonly string[] | null = null): Int32Array {
  let ids: Int32Array;
  const fromOneHot = (get: (r: number, c: number) => number, n: number, c: number): Int32Array => {
    if (c !== classes) throw new ShapeError(`${where}: one-hot labels have ${c} columns; the model has ${classes} outputs.`);
    const out = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      let best = -1;
      for (let j = 0; j < c; j++) {
        const v = get(r, j);
        if (v - v !== 0) throw new NonFiniteError(`${where}: y[${r}][${j}] is ${v}.`);
        if (v === 1 && best < 0) best = j;
        else if (v !== 0) {
          throw new ShapeError(`${where}: label row ${r} is not one-hot (y[${r}][${j}] = ${v}); one-hot rows hold a single 1 and zeros. Pass class ids or one-hot rows.`);
        }
      }
      if (best < 0) throw new ShapeError(`${where}: label row ${r} has no 1; one-hot rows hold a single 1 and zeros.`);
      out[r] = best;
    }
    return out;
  };
  const outside = (v: number, i: number): never => {
    throw new OptionError('y', `${where}: label ${v} at index ${i} is outside [0, ${classes}). The last layer has ${classes} units; use class ids below that.`);
  };
  const typed = FLOAT_IDS.find((T) => y instanceof T);
  if (y instanceof Int32Array || y instanceof Uint8Array || y instanceof Uint16Array) {
    ids = y instanceof Int32Array ? y : Int32Array.from(y);
  } else if (typed) {
    const a = y as unknown as ArrayLike<number>;
    ids = new Int32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (!Number.isInteger(v)) throw new OptionError('y', `${where}: y[${i}] = ${v} in a ${typed.name}; class ids must be integers in [0, ${classes}).`);
      ids[i] = v < 0 || v >= classes ? outside(v, i) : v;
    }
  } else if (isStringLabels(y)) {
    if (names === null) {
      throw new OptionError('y', `${where}: y[0] is ${preview(y[0])} (string) but this model has no class names; fit on string labels or set model.classes first.`);
    }
    ids = idsOfNames(y, names, where);
  } else if (Array.isArray(y) && !y.some((v: unknown) => Array.isArray(v))) {
    ids = new Int32Array(y.length);
    for (let i = 0; i < y.length; i++) {
      const v: unknown = y[i];
      if (typeof v !== 'number') {
        throw new OptionError('y', `${where}: y[${i}] is ${preview(v)} (${typeName(v)}); class ids must be integer numbers in [0, ${classes}).`);
      }
      if (!Number.isInteger(v)) throw new OptionError('y', `${where}: y[${i}] = ${v}; class ids must be integers in [0, ${classes}).`);
      ids[i] = v < 0 || v >= classes ? outside(v, i) : v;
    }
  } else if (Array.isArray(y)) {
    const rowsArr = y as readonly unknown[];
    rowsArr.forEach((row, r) => {
      if (!Array.isArray(row)) throw new ShapeError(`${where}: y[${r}] is ${preview(row)}; one-hot labels are rows (arrays) of ${classes} numbers, class ids are numbers — not a mix.`);
      if (row.length !== classes) throw new ShapeError(`${where}: one-hot label row ${r} has ${row.length} columns; the model has ${classes} outputs.`);
      row.forEach((v: unknown, c) => {
        if (typeof v !== 'number') throw new ShapeError(`${where}: y[${r}][${c}] is ${preview(v)}; one-hot cells must be the numbers 0 or 1.`);
      });
    });
    ids = fromOneHot((r, c) => (rowsArr[r] as number[])[c]!, rowsArr.length, classes);
  } else if (y && typeof y === 'object' && 'shape' in y && 'data' in y) {
    const m = y as Matrix;
    if (!(m.data instanceof Float32Array)) throw new ShapeError(`${where}: y.data is ${preview(m.data)}; expected a Float32Array.`);
    const [r, c] = checkMatrixShape(m.shape, `${where}: y.shape`);
    if (m.data.length !== r * c) throw new ShapeError(`${where}: y.data has ${m.data.length} values but shape [${r}, ${c}] needs ${r * c}.`);
    ids = fromOneHot((i, j) => m.data[i * c + j]!, r, c);
  } else {
    throw new ShapeError(`${where}: y must be class ids (Int32Array, Uint8Array, Float32Array, number[]), class names (string[]) or one-hot rows; received ${received(y)}.`);
  }
  if (ids.length !== rows) {
    throw new ShapeError(`${where}: ${ids.length} labels for ${rows} samples. Pass exactly one label per row of x${ids.length === rows * classes ? ' (one-hot rows as { data, shape })' : ''}.`);
  }
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (v < 0 || v >= classes) outside(v, i);
  }
  return ids;
}

/** Checks a `[rows, cols]` shape of non-negative integers; returns it. @internal */
export function checkMatrixShape(shape: unknown, what: string): [number, number] {
  const ok = Array.isArray(shape) && shape.length === 2 && shape.every((d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 0);
  if (!ok) throw new ShapeError(`${what} is ${preview(shape)}; expected [rows, cols] with integers >= 0. Fix the shape (rows = data.length / cols).`);
  return [shape[0] as number, shape[1] as number];
}

/**
 * Checks `fit({ validationData })` before it is read: a `[x, y]` pair (array of length 2) whose
 * parts are present. Their contents are then checked as `x` and `y` are.
 * @throws OptionError naming `validationData` otherwise.
 * @internal
 */
export function checkValidationData(v: unknown, where: string): readonly [Features, Labels | Features] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || v[0] === undefined || v[0] === null || v[1] === undefined || v[1] === null) {
    throw new OptionError('validationData', `${where}: validationData = ${preview(v)}; expected a pair [xVal, yVal] (features and labels like x and y). Pass [xVal, yVal] or use validationSplit.`);
  }
  return v as unknown as readonly [Features, Labels | Features];
}
