/**
 * String class labels: the class list a model keeps (`model.classes`, index = class id) and the
 * mapping of labels to ids. A fit on string labels with no class list sorts the distinct labels
 * by Unicode code point, as scikit-learn's `LabelEncoder` / `np.unique` do, so `'cat' < 'dog'`
 * gives `cat = 0`, `dog = 1` whatever order the rows come in.
 * @internal
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';

/** Whether `y` is an array whose first element is a string (string class labels). @internal */
export function isStringLabels(y: unknown): y is readonly string[] {
  return Array.isArray(y) && y.length > 0 && typeof y[0] === 'string';
}

/** Compares by Unicode code point (numpy's order for `str`), not by UTF-16 code unit. @internal */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** A short name of `v`'s type for messages: `string`, `null`, `an array`, `Float64Array`, … @internal */
export function typeName(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === null ? 'null' : typeof v;
  const tag = Object.prototype.toString.call(v).slice(8, -1);
  return Array.isArray(v) ? 'an array' : tag === 'Object' ? 'an object' : tag;
}

/** `preview(v)`, plus its type where the preview does not show it (`42 (number)`, `Int32Array(2)`). @internal */
export function received(v: unknown): string {
  return ArrayBuffer.isView(v) ? preview(v) : `${preview(v)} (${typeName(v)})`;
}

/** The distinct labels of `y` sorted by code point; every element must be a string. @internal */
export function sortedClassNames(y: readonly unknown[], where: string): string[] {
  const seen = new Set<string>();
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'string') {
      throw mixed(v, i, where);
    }
    seen.add(v);
  }
  return [...seen].sort(compareCodePoints);
}

/**
 * Checks a class list for a model with `outputs` outputs: distinct strings, one per output (two
 * for a model with one output: binary cross-entropy's 0 and 1). Returns a frozen copy, or null.
 * @internal
 */
export function checkClassNames(v: unknown, outputs: number, where: string): readonly string[] | null {
  if (v === null || v === undefined) return null;
  const want = outputs === 1 ? 2 : outputs;
  if (!Array.isArray(v)) throw new OptionError('classes', `${where}: classes is ${received(v)}; expected an array of ${want} distinct strings, or null.`);
  if (v.length !== want) throw new OptionError('classes', `${where}: classes has ${v.length} names; expected ${want}, one per class${outputs === 1 ? ' ([negative, positive] for one output)' : ''}.`);
  const seen = new Set<string>();
  v.forEach((s: unknown, i) => {
    if (typeof s !== 'string') throw new OptionError('classes', `${where}: classes[${i}] is ${received(s)}; class names are strings.`);
    if (seen.has(s)) throw new OptionError('classes', `${where}: classes[${i}] = ${JSON.stringify(s)} appears twice; class names must be distinct.`);
    seen.add(s);
  });
  return Object.freeze([...(v as string[])]);
}

/** Maps string labels to ids through `names` (index = id); an unknown label is refused by name. @internal */
export function idsOfNames(y: readonly unknown[], names: readonly string[], where: string): Int32Array {
  const index = new Map(names.map((s, i) => [s, i]));
  const ids = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'string') throw mixed(v, i, where);
    const id = index.get(v);
    if (id === undefined) {
      throw new OptionError('y', `${where}: y[${i}] = ${JSON.stringify(v)} is not one of the model's classes ${preview(names)}.`);
    }
    ids[i] = id;
  }
  return ids;
}

function mixed(v: unknown, i: number, where: string): OptionError {
  return new OptionError('y', `${where}: y[${i}] is ${received(v)} but y[0] is a string; labels are all strings or all class ids.`);
}
