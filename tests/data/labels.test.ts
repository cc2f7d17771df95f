// Issue 15 item 2, the data layer: the forms of x and y a tfjs-layers / Keras / scikit-learn user
// passes (flat arrays, Float64Array, float class ids, string labels) normalized to the canonical
// Float32Array / Int32Array, and the refusals naming the received type.
import { describe, expect, it } from 'vitest';
import { NonFiniteError, OptionError, ShapeError } from '../../ts/index.js';
import { checkClassNames, compareCodePoints, idsOfNames, sortedClassNames } from '../../ts/data/labels.js';
import { toClassIds, toFeatures } from '../../ts/data/tensor.js';

describe('toFeatures', () => {
  it('a Float64Array is rounded to float32 as Math.fround / Float32Array.from do', () => {
    const x = Float64Array.from([0.1, 1 / 3, -2.7, 1e-40, 16777217, 3]);
    const { data, rows } = toFeatures(x, 3, 'fit');
    expect(rows).toBe(2);
    expect(data).toBeInstanceOf(Float32Array);
    expect(Array.from(data)).toEqual(Array.from(x, Math.fround));
    expect(data[4]).toBe(16777216); // 2^24 + 1 rounds to even
  });

  it('a flat number[] is row-major like a Float32Array: inputSize values are one sample', () => {
    expect(toFeatures([1, 2, 3], 3, 'predict')).toEqual({ data: Float32Array.from([1, 2, 3]), rows: 1 });
    expect(toFeatures([1, 2, 3, 4, 5, 6], 3, 'predict')).toEqual(toFeatures([[1, 2, 3], [4, 5, 6]], 3, 'predict'));
    expect(toFeatures([0.1], 1, 'fit', true, 'y').data[0]).toBe(Math.fround(0.1));
  });

  it('a Float32Array is used as is (no copy)', () => {
    const x = new Float32Array(6);
    expect(toFeatures(x, 2, 'fit').data).toBe(x);
  });

  it('refusals name the argument (x or y) and the received type', () => {
    expect(() => toFeatures(Int32Array.from([1, 2]) as never, 2, 'predict')).toThrow(/^predict: x must be a Float32Array, Float64Array, .*; received Int32Array\(2\)\.$/);
    expect(() => toFeatures('abc' as never, 2, 'predict')).toThrow(/received "abc" \(string\)/);
    expect(() => toFeatures({} as never, 1, 'evaluate', true, 'y')).toThrow(/^evaluate: y must be a Float32Array, .*; received \{\} \(an object\)/);
    expect(() => toFeatures([1, 2, 3], 2, 'predict')).toThrow(/^predict: x is a flat number\[\] of 3 values, not a multiple of the model's 2 input features/);
    expect(() => toFeatures(new Float64Array(5), 2, 'fit')).toThrow(/x is a flat Float64Array of 5 values/);
    expect(() => toFeatures([1, 2, 3], 2, 'fit', true, 'y')).toThrow(/^fit: y is a flat number\[\] of 3 values, not a multiple of the model's 2 outputs/);
    expect(() => toFeatures([1, [2]] as never, 2, 'fit')).toThrow(/^fit: x\[1\] is \[2\] \(an array\) but x\[0\] is a number; not a mix of rows and numbers/);
    expect(() => toFeatures([1, '2'] as never, 1, 'fit', true, 'y')).toThrow(/^fit: y\[1\] is "2" \(string\); every value must be a number/);
    expect(() => toFeatures([1, null] as never, 1, 'fit', true, 'y')).toThrow(ShapeError);
  });

  it('non-finite values are reported with their original value and position', () => {
    expect(() => toFeatures(Float64Array.from([1, 2, 1e300, 4]), 2, 'fit')).toThrow(NonFiniteError);
    expect(() => toFeatures(Float64Array.from([1, 2, 1e300, 4]), 2, 'fit')).toThrow(/x contains 1e\+300 at row 1, feature 0/);
    expect(() => toFeatures([1, NaN], 1, 'fit', true, 'y')).toThrow(/y contains NaN at row 1, output 0/);
  });
});

describe('toClassIds', () => {
  it('Float32Array / Float64Array labels of integral values are class ids', () => {
    const ids = Int32Array.from([0, 2, 1, 2]);
    expect(toClassIds(Float32Array.from(ids), 4, 3, 'fit')).toEqual(ids);
    expect(toClassIds(Float64Array.from(ids), 4, 3, 'fit')).toEqual(ids);
    expect(toClassIds(Int8Array.from(ids) as never, 4, 3, 'fit')).toEqual(ids);
  });

  it('non-integral or out-of-range float labels are refused naming the array type', () => {
    expect(() => toClassIds(Float32Array.from([0, 0.5]), 2, 3, 'fit')).toThrow(OptionError);
    expect(() => toClassIds(Float32Array.from([0, 0.5]), 2, 3, 'fit')).toThrow(/^fit: y\[1\] = 0\.5 in a Float32Array; class ids must be integers in \[0, 3\)/);
    expect(() => toClassIds(Float64Array.from([0, NaN]), 2, 3, 'fit')).toThrow(/y\[1\] = NaN in a Float64Array/);
    expect(() => toClassIds(Float32Array.from([0, 3]), 2, 3, 'fit')).toThrow(/label 3 at index 1 is outside \[0, 3\)/);
  });

  it('a flat one-hot Float32Array gets a hint to pass { data, shape }', () => {
    expect(() => toClassIds(Float32Array.from([1, 0, 0, 0, 1, 0]), 2, 3, 'fit')).toThrow(/6 labels for 2 samples\. Pass exactly one label per row of x \(one-hot rows as \{ data, shape \}\)/);
  });

  it('string labels map through the class list, and are refused without one', () => {
    expect(toClassIds(['dog', 'cat', 'dog'], 3, 2, 'fit', ['cat', 'dog'])).toEqual(Int32Array.from([1, 0, 1]));
    expect(() => toClassIds(['dog'], 1, 2, 'evaluate')).toThrow(/^evaluate: y\[0\] is "dog" \(string\) but this model has no class names/);
    expect(() => toClassIds(['dog', 'cow'], 2, 2, 'evaluate', ['cat', 'dog'])).toThrow(/^evaluate: y\[1\] = "cow" is not one of the model's classes \["cat","dog"\]/);
    expect(() => toClassIds(['dog', 1] as never, 2, 2, 'fit', ['cat', 'dog'])).toThrow(/^fit: y\[1\] is 1 \(number\) but y\[0\] is a string/);
  });

  it('other inputs name the received type', () => {
    expect(() => toClassIds(new BigInt64Array(2) as never, 2, 3, 'fit')).toThrow(/^fit: y must be class ids .*; received BigInt64Array\(2\)\.$/);
    expect(() => toClassIds(new Map() as never, 2, 3, 'fit')).toThrow(/received .* \(Map\)/);
  });
});

describe('class names', () => {
  it('are sorted by Unicode code point, as numpy.unique / scikit-learn LabelEncoder sort str', () => {
    // np.unique(['dog', 'cat', 'Dog', 'bird', 'cat']) -> ['Dog', 'bird', 'cat', 'dog'] (upper case first)
    expect(sortedClassNames(['dog', 'cat', 'Dog', 'bird', 'cat'], 'fit')).toEqual(['Dog', 'bird', 'cat', 'dog']);
    // digits as text sort as text: np.unique(['10', '2', '1']) -> ['1', '10', '2']
    expect(sortedClassNames(['10', '2', '1'], 'fit')).toEqual(['1', '10', '2']);
    // U+FF5A (fullwidth z) < U+1F600 (an astral emoji) by code point; UTF-16 code units
    // (JavaScript's default sort) put the emoji's surrogate 0xD83D first
    expect(sortedClassNames(['\u{1F600}', '\uFF5A'], 'fit')).toEqual(['\uFF5A', '\u{1F600}']);
    expect(['\u{1F600}', '\uFF5A'].sort()).toEqual(['\u{1F600}', '\uFF5A']);
    expect(compareCodePoints('ab', 'abc')).toBeLessThan(0);
    expect(compareCodePoints('abc', 'abc')).toBe(0);
  });

  it('a mix of strings and numbers is refused naming the element', () => {
    expect(() => sortedClassNames(['a', 2, 'b'], 'fit')).toThrow(/^fit: y\[1\] is 2 \(number\) but y\[0\] is a string; labels are all strings or all class ids/);
  });

  it('a class list is one distinct string per output (two for one output)', () => {
    expect(checkClassNames(['a', 'b', 'c'], 3, 'classes')).toEqual(['a', 'b', 'c']);
    expect(checkClassNames(['no', 'yes'], 1, 'classes')).toEqual(['no', 'yes']);
    expect(checkClassNames(null, 3, 'classes')).toBeNull();
    expect(() => checkClassNames(['a', 'b'], 3, 'classes')).toThrow(/^classes: classes has 2 names; expected 3, one per class/);
    expect(() => checkClassNames(['a', 'a', 'c'], 3, 'classes')).toThrow(/classes\[1\] = "a" appears twice/);
    expect(() => checkClassNames(['a', 1, 'c'], 3, 'classes')).toThrow(/classes\[1\] is 1 \(number\)/);
    expect(() => checkClassNames('abc', 3, 'classes')).toThrow(/classes is "abc" \(string\); expected an array of 3 distinct strings/);
    expect(() => checkClassNames(['a'], 1, 'classes')).toThrow(/expected 2, one per class \(\[negative, positive\] for one output\)/);
    expect(idsOfNames(['c', 'a'], ['a', 'b', 'c'], 'fit')).toEqual(Int32Array.from([2, 0]));
  });
});
