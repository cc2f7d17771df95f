// Issue 15 item 2: the data of a tfjs-layers / Keras user. Each accepted form trains, evaluates
// and predicts with exactly the numbers of its canonical form (Float32Array features, Int32Array
// class ids, [n, k] float targets); string labels are class names sorted by code point (the order
// of scikit-learn's LabelEncoder), kept as model.classes; refusals name the received type and
// leave the model as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { BusyError, DisposedError, OptionError, Sequential, ShapeError, type WasmfitError, adam, dense, init, sgd } from '../../ts/index.js';
import { testData } from '../reference/f64.js';

beforeAll(async () => {
  await init();
});

const D = 3;
const N = 24;

function net(outputs: number, loss: 'softmaxCrossEntropy' | 'mse' | 'binaryCrossentropy' = 'softmaxCrossEntropy'): Sequential {
  const m = new Sequential({ inputShape: [D], layers: [dense(5, { activation: 'tanh' }), dense(outputs)], seed: 7 });
  m.compile({ optimizer: adam({ lr: 0.05 }), loss });
  return m;
}

/** Features in double precision, most of them not representable in float32. */
const x64 = Float64Array.from(testData(N * D, 3), (v, i) => v / 3 + i * 1e-9);
const x32 = Float32Array.from(x64);
const FIT = { epochs: 3, batchSize: 5, seed: 11 } as const;

async function refused(m: Sequential, f: () => unknown, cls: typeof WasmfitError, msg: RegExp): Promise<void> {
  const before = m.getWeights();
  const classes = m.classes;
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(err, String(msg)).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(msg);
  expect(m.getWeights()).toEqual(before);
  expect(m.classes).toEqual(classes);
}

/** Trains a fresh model on (x, y) and returns its weights, logs, evaluation and predictions. */
async function run(outputs: number, loss: Parameters<typeof net>[1], x: unknown, y: unknown, extra: object = {}, evalY: unknown = y) {
  const m = net(outputs, loss);
  const h = await m.fit(x as never, y as never, { ...FIT, ...extra });
  const out = { weights: m.getWeights(), history: h.history, evaluation: m.evaluate(x as never, evalY as never), probs: m.predict(x as never), classes: m.classes };
  m.dispose();
  return out;
}

describe('1-D regression targets', () => {
  const t = Float32Array.from({ length: N }, (_, i) => Math.sin(i) * 2);
  it('number[] and Float32Array of length n give the results of [n, 1] targets', async () => {
    const canonical = await run(1, 'mse', x32, { data: t, shape: [N, 1] });
    expect(canonical.history.loss!.every(Number.isFinite)).toBe(true);
    expect(await run(1, 'mse', x32, Array.from(t))).toEqual(canonical);
    expect(await run(1, 'mse', x32, t)).toEqual(canonical);
    expect(await run(1, 'mse', x32, Array.from(t, (v) => [v]))).toEqual(canonical);
    // a Float64Array target rounds as Float32Array.from
    expect(await run(1, 'mse', x32, Float64Array.from(t, (v) => v + 1e-12))).toEqual(canonical);
  });

  it('in validationData too', async () => {
    const a = await run(1, 'mse', x32, t, { validationData: [x32.subarray(0, 4 * D), t.subarray(0, 4)] });
    const b = await run(1, 'mse', x32, t, { validationData: [Array.from(x32.subarray(0, 4 * D)), Array.from(t.subarray(0, 4))] });
    expect(b).toEqual(a);
    expect(a.history.valLoss).toHaveLength(3);
  });

  it('a target count that does not match x is refused naming y, not x', async () => {
    const m = net(1, 'mse');
    await refused(m, () => m.fit(x32, Array.from(t).slice(1)), ShapeError, /^fit: 23 target rows for 24 samples\. Pass one row of 1 targets per sample\./);
    await refused(m, () => m.evaluate(x32, {} as never), ShapeError, /^evaluate: y must be a Float32Array, Float64Array, number\[\] \(flat, row-major\), number\[\]\[\] or \{ data, shape \}; received \{\} \(an object\)/);
    await refused(m, () => m.evaluate(x32, [1, 'a'] as never), ShapeError, /^evaluate: y\[1\] is "a" \(string\); every value must be a number/);
    await refused(m, () => m.fit(x32, ['a', 'b'] as never), OptionError, /^fit: y\[0\] is "a" \(string\); class names need a classifier, not loss 'mse'/);
    const m2 = net(2, 'mse');
    await refused(m2, () => m2.fit(x32, Array.from(t)), ShapeError, /^fit: 12 target rows for 24 samples/);
    await refused(m2, () => m2.fit(x32, Array.from(t).slice(1)), ShapeError, /^fit: y is a flat number\[\] of 23 values, not a multiple of the model's 2 outputs/);
    m.dispose();
    m2.dispose();
  });
});

describe('1-D single-sample predict', () => {
  it('a flat number[], Float32Array or Float64Array of inputSize features is one row', () => {
    const m = net(4);
    const row = Array.from(x64.subarray(0, D));
    const want = m.predict([Array.from(x32.subarray(0, D))]);
    expect(want.shape).toEqual([1, 4]);
    expect(m.predict(row)).toEqual(want);
    expect(m.predict(x32.subarray(0, D))).toEqual(want);
    expect(m.predict(Float64Array.from(row))).toEqual(want);
    expect(m.predictClasses(row)).toEqual(m.predictClasses([Array.from(x32.subarray(0, D))]));
    m.dispose();
  });

  it('a flat array of the wrong length names its length and the input size', async () => {
    const m = net(4);
    await refused(m, () => m.predict([1, 2]), ShapeError, /^predict: x is a flat number\[\] of 2 values, not a multiple of the model's 3 input features/);
    await refused(m, () => m.predict(new Float64Array(4)), ShapeError, /^predict: x is a flat Float64Array of 4 values/);
    m.dispose();
  });
});

describe('Float64Array features and float class ids', () => {
  const ids = Int32Array.from({ length: N }, (_, i) => (i * 7) % 3);
  it('Float64Array x gives exactly the results of its Float32Array rounding', async () => {
    const canonical = await run(3, 'softmaxCrossEntropy', x32, ids);
    expect(await run(3, 'softmaxCrossEntropy', x64, ids)).toEqual(canonical);
    expect(await run(3, 'softmaxCrossEntropy', Array.from(x64), ids)).toEqual(canonical);
  });

  it('Float32Array and Float64Array labels of integral values are class ids', async () => {
    const canonical = await run(3, 'softmaxCrossEntropy', x32, ids);
    expect(await run(3, 'softmaxCrossEntropy', x32, Float32Array.from(ids))).toEqual(canonical);
    expect(await run(3, 'softmaxCrossEntropy', x32, Float64Array.from(ids))).toEqual(canonical);
  });

  it('other typed arrays and non-integral labels are refused by type', async () => {
    const m = net(3);
    await refused(m, () => m.fit(Int32Array.from(x32) as never, ids), ShapeError, /^fit: x must be .*; received Int32Array\(72\)\.$/);
    await refused(m, () => m.fit(x32, Float32Array.from(ids, (v) => v + 0.25)), OptionError, /^fit: y\[0\] = 0\.25 in a Float32Array; class ids must be integers in \[0, 3\)/);
    await refused(m, () => m.fit(x32, Float64Array.from(ids).subarray(1)), ShapeError, /^fit: 23 labels for 24 samples/);
    await refused(m, () => m.fit(x32, 'cat' as never), ShapeError, /^fit: y must be class ids .*; received "cat" \(string\)/);
    m.dispose();
  });
});

describe('string class labels', () => {
  const names = ['dog', 'cat', 'bird'];
  // first-seen order is dog, cat, bird; sorted (scikit-learn's LabelEncoder) is bird, cat, dog
  const labels = Array.from({ length: N }, (_, i) => names[(i * 7) % 3]!);
  const sorted = ['bird', 'cat', 'dog'];
  const sortedIds = Int32Array.from(labels, (s) => sorted.indexOf(s));

  it('fit on strings trains as fit on the sorted class ids, and sets model.classes', async () => {
    const canonical = await run(3, 'softmaxCrossEntropy', x32, sortedIds);
    const named = await run(3, 'softmaxCrossEntropy', x32, labels);
    expect(named.classes).toEqual(sorted);
    expect({ ...named, classes: null }).toEqual(canonical);
    // and not as the first-seen order would
    const firstSeen = await run(3, 'softmaxCrossEntropy', x32, Int32Array.from(labels, (s) => names.indexOf(s)));
    expect(firstSeen.weights).not.toEqual(canonical.weights);
  });

  it('validationSplit, validationData and evaluate take strings; classWeight is keyed by name', async () => {
    const vy = labels.slice(0, 6);
    const canonical = await run(3, 'softmaxCrossEntropy', x32, sortedIds, { validationSplit: 0.25, classWeight: { 0: 2, 2: 0.5 } });
    const named = await run(3, 'softmaxCrossEntropy', x32, labels, { validationSplit: 0.25, classWeight: { bird: 2, dog: 0.5 } });
    expect({ ...named, classes: null }).toEqual(canonical);
    const a = await run(3, 'softmaxCrossEntropy', x32, sortedIds, { validationData: [x32.subarray(0, 6 * D), sortedIds.subarray(0, 6)] });
    const b = await run(3, 'softmaxCrossEntropy', x32, labels, { validationData: [x32.subarray(0, 6 * D), vy] });
    expect({ ...b, classes: null }).toEqual(a);
  });

  it('predictClasses is the argmax of predict, predictLabels its names', async () => {
    const m = net(3);
    await m.fit(x32, labels, FIT);
    const p = m.predict(x32);
    const want = Array.from({ length: N }, (_, r) => {
      const row = Array.from(p.data.subarray(r * 3, r * 3 + 3));
      return row.indexOf(Math.max(...row));
    });
    expect(Array.from(m.predictClasses(x32))).toEqual(want);
    expect(m.predictLabels(x32)).toEqual(want.map((id) => sorted[id]));
    expect(m.predictLabels(Array.from(x32.subarray(0, D)))).toEqual([sorted[want[0]!]]);
    expect(m.predictClasses(x32, { batchSize: 5 })).toEqual(m.predictClasses(x32));
    // a second fit keeps the list and maps through it
    const before = m.classes;
    await m.fit(x32, labels.slice().reverse(), { epochs: 1 });
    expect(m.classes).toBe(before);
    m.dispose();
  });

  it('model.classes set first fixes another order', async () => {
    const custom = ['dog', 'cat', 'bird'];
    const canonical = await run(3, 'softmaxCrossEntropy', x32, Int32Array.from(labels, (s) => custom.indexOf(s)));
    const m = net(3);
    m.classes = custom;
    await m.fit(x32, labels, FIT);
    expect(m.getWeights()).toEqual(canonical.weights);
    expect(m.classes).toEqual(custom);
    // classes missing from the data: set the full list, then fit on a subset of labels
    m.classes = ['bird', 'cat', 'dog'];
    await m.fit(x32.subarray(0, 2 * D), ['cat', 'cat'], { epochs: 1 });
    m.dispose();
  });

  it('binary cross-entropy with one output: two sorted names are 0 and 1', async () => {
    const yn = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 'yes' : 'no'));
    const canonical = await run(1, 'binaryCrossentropy', x32, Float32Array.from(yn, (s) => (s === 'yes' ? 1 : 0)));
    const named = await run(1, 'binaryCrossentropy', x32, yn);
    expect(named.classes).toEqual(['no', 'yes']);
    expect({ ...named, classes: null }).toEqual(canonical);
    const m = net(1, 'binaryCrossentropy');
    await m.fit(x32, yn, FIT);
    const p = m.predict(x32).data;
    expect(m.predictLabels(x32)).toEqual(Array.from(p, (v) => (v >= 0.5 ? 'yes' : 'no')));
    m.dispose();
  });

  it('refusals leave weights and classes unchanged', async () => {
    const m = net(4);
    await refused(m, () => m.fit(x32, labels), OptionError, /^fit: y holds 3 distinct labels \["bird","cat","dog"\] but the model has 4 classes\. Give the last layer one unit per class, or set model\.classes to the full list first/);
    await refused(m, () => m.fit(x32, ['a', 2, ...labels.slice(2)] as never), OptionError, /^fit: y\[1\] is 2 \(number\) but y\[0\] is a string/);
    await refused(m, () => m.evaluate(x32, labels), OptionError, /^evaluate: y\[0\] is "dog" \(string\) but this model has no class names/);
    await refused(m, () => m.predictLabels(x32), OptionError, /^predictLabels: this model has no class names/);
    await refused(m, () => m.predictClasses(x32, { mcSamples: 3 } as never), OptionError, /mcSamples/);
    await refused(m, () => { m.classes = ['a', 'b', 'c']; }, OptionError, /^classes: classes has 3 names; expected 4/);
    await refused(m, () => { m.classes = ['a', 'b', 'c', 'a']; }, OptionError, /classes\[3\] = "a" appears twice/);
    await refused(m, () => { m.classes = 'abcd' as never; }, OptionError, /classes is "abcd" \(string\)/);
    m.classes = ['a', 'b', 'c', 'd'];
    await refused(m, () => m.fit(x32, labels), OptionError, /^fit: y\[0\] = "dog" is not one of the model's classes \["a","b","c","d"\]/);
    await refused(m, () => m.fit(x32, sortedIds, { classWeight: { cat: 2 } }), OptionError, /^fit: classWeight has class cat; the model has classes \["a","b","c","d"\]/);
    m.classes = null;
    expect(m.classes).toBeNull();
    const r = net(1, 'mse');
    await refused(r, () => r.predictClasses(x32), OptionError, /^predictClasses: the model is compiled with loss 'mse' and 1 outputs, not a classifier; use predict\(x\)/);
    r.dispose();
    m.dispose();
  });

  it('classes cannot change during a fit or after dispose', async () => {
    const m = net(3);
    let err: unknown;
    await m.fit(x32, labels, {
      epochs: 1,
      callbacks: [{ onEpochEnd: () => { try { m.classes = null; } catch (e) { err = e; } } }],
    });
    expect(err).toBeInstanceOf(BusyError);
    expect(m.classes).toEqual(sorted);
    m.dispose();
    expect(() => (m.classes = null)).toThrow(DisposedError);
    expect(() => m.predictLabels(x32)).toThrow(DisposedError);
  });
});
