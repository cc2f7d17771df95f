import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';

/** A row-major matrix: `data.length === shape[0] * shape[1]`. */
export interface Matrix {
  data: Float32Array;
  shape: readonly [number, number];
}

/** Features: a `Matrix`, a `Float32Array` (rows inferred from the model's input size), or `number[][]`. */
export type Features = Matrix | Float32Array | readonly (readonly number[])[];
/** Labels: class ids (`Int32Array`, `Uint8Array`, `number[]`) or one-hot rows (`Matrix`, `number[][]`). */
export type Labels = Int32Array | Uint8Array | Uint16Array | readonly number[] | Matrix | readonly (readonly number[])[];

/** Builds a {@link Matrix}, checking that the length matches the shape. */
export function matrix(data: Float32Array | readonly number[], shape: readonly [number, number]): Matrix {
  const d = data instanceof Float32Array ? data : Float32Array.from(data);
  const [r, c] = shape;
  if (!Number.isInteger(r) || !Number.isInteger(c) || r < 0 || c < 0 || d.length !== r * c) {
    throw new ShapeError(`matrix: data of length ${d.length} with shape [${shape.join(', ')}]; expected length = rows × cols. Fix the shape or the data.`);
  }
  return { data: d, shape: [r, c] };
}

/** Normalizes features to a row-major Float32Array with `cols` columns. Never copies a Float32Array. @internal */
export function toFeatures(x: Features, cols: number, where: string, checkFinite = true): { data: Float32Array; rows: number } {
  let data: Float32Array;
  let rows: number;
  if (x instanceof Float32Array) {
    if (x.length % cols !== 0) {
      throw new ShapeError(`${where}: x has ${x.length} values, not a multiple of the model's ${cols} input features. Pass a Float32Array of rows × ${cols} values, or { data, shape }.`);
    }
    data = x;
    rows = x.length / cols;
  } else if (Array.isArray(x)) {
    rows = x.length;
    data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row = x[r] as readonly number[];
      if (!row || row.length !== cols) {
        throw new ShapeError(`${where}: x[${r}] has ${row ? row.length : 'no'} features; the model expects ${cols}. Give every row ${cols} numbers.`);
      }
      data.set(row, r * cols);
    }
  } else if (x && typeof x === 'object' && 'data' in x && 'shape' in x) {
    const m = x as Matrix;
    if (!(m.data instanceof Float32Array)) throw new ShapeError(`${where}: x.data must be a Float32Array.`);
    const [r, c] = m.shape;
    if (c !== cols) throw new ShapeError(`${where}: x has shape [${r}, ${c}]; the model expects [n, ${cols}]. Pass rows of ${cols} features.`);
    if (m.data.length !== r * c) throw new ShapeError(`${where}: x.data has ${m.data.length} values but shape [${r}, ${c}] needs ${r * c}.`);
    data = m.data;
    rows = r;
  } else {
    throw new ShapeError(`${where}: x must be a Float32Array, { data, shape } or number[][]; received ${typeof x}.`);
  }
  if (checkFinite) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v - v !== 0) {
        throw new NonFiniteError(`${where}: x contains ${v} at row ${Math.floor(i / cols)}, feature ${i % cols}. Remove or impute non-finite values before training.`);
      }
    }
  }
  return { data, rows };
}

/** Normalizes labels to class ids in [0, classes). @internal */
export function toClassIds(y: Labels, rows: number, classes: number, where: string): Int32Array {
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
  if (y instanceof Int32Array || y instanceof Uint8Array || y instanceof Uint16Array) {
    ids = y instanceof Int32Array ? y : Int32Array.from(y);
  } else if (Array.isArray(y) && (y.length === 0 || typeof y[0] === 'number')) {
    ids = Int32Array.from(y as number[]);
    for (let i = 0; i < y.length; i++) {
      const v = (y as number[])[i]!;
      if (!Number.isInteger(v)) throw new OptionError('y', `${where}: y[${i}] = ${v}; class ids must be integers in [0, ${classes}).`);
    }
  } else if (Array.isArray(y)) {
    const rowsArr = y as readonly (readonly number[])[];
    ids = fromOneHot((r, c) => rowsArr[r]![c]!, rowsArr.length, rowsArr[0]!.length);
  } else if (y && typeof y === 'object' && 'shape' in y) {
    const m = y as Matrix;
    ids = fromOneHot((r, c) => m.data[r * m.shape[1] + c]!, m.shape[0], m.shape[1]);
  } else {
    throw new ShapeError(`${where}: y must be class ids (Int32Array, Uint8Array, number[]) or one-hot rows; received ${typeof y}.`);
  }
  if (ids.length !== rows) {
    throw new ShapeError(`${where}: ${ids.length} labels for ${rows} samples. Pass exactly one label per row of x.`);
  }
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (v < 0 || v >= classes) {
      throw new OptionError('y', `${where}: label ${v} at index ${i} is outside [0, ${classes}). The last layer has ${classes} units; use class ids below that.`);
    }
  }
  return ids;
}
