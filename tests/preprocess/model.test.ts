// A model with preprocessing: raw rows in predict / evaluate / fit (and its validationData) /
// trainOnBatch / predictOnBatch / fitDataset give exactly what preprocessing-then-the-network gives;
// the preprocessing travels in the model file and comes back frozen; files without it load as before.
import { beforeAll, describe, expect, it } from 'vitest';
import { BusyError, DisposedError, NonFiniteError, NotFittedError, OptionError, Sequential, ShapeError, UnknownCategoryError, adam, dense, deserializeCheckpoint, deserializeModel, init, serializeCheckpoint, serializeModel } from '../../ts/index.js';
import { ColumnTransformer, MinMaxScaler, OneHotEncoder, SimpleImputer, StandardScaler, type Cell } from '../../ts/preprocess/index.js';
import { editHeaderText } from '../io/container-util.js';

// a small mixed table: age (with blanks), city (text), income, and a 0/1 flag; the label depends on all
const CITIES = ['lyon', 'nice', 'paris'];
function table(n: number, seed: number): { rows: Cell[][]; y: number[] } {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const rows: Cell[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const age = 20 + Math.floor(r() * 50);
    const city = CITIES[Math.floor(r() * 3)]!;
    const income = 20000 + Math.round(r() * 60000);
    rows.push([i % 7 === 3 ? null : age, city, income, i % 2]);
    y.push(Number(age > 45 !== (city === 'nice') !== income > 50000));
  }
  return { rows, y };
}
const prepOf = () =>
  new ColumnTransformer([
    ['num', [new SimpleImputer({ strategy: 'median' }), new StandardScaler()], [0, 2]],
    ['cat', new OneHotEncoder(), [1]],
  ], { remainder: 'passthrough' });

let rows: Cell[][];
let y: number[];
let prep: ColumnTransformer;
beforeAll(async () => {
  await init();
  ({ rows, y } = table(120, 1));
  prep = prepOf().fit(rows);
});

function pair(seed = 3): { raw: Sequential; plain: Sequential } {
  const build = () => new Sequential({ inputShape: [prep.nFeaturesOut], layers: [dense(8, { activation: 'relu' }), dense(2)], seed });
  const raw = build();
  const plain = build();
  for (const m of [raw, plain]) m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
  raw.setPreprocessing(prep);
  return { raw, plain };
}
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('a model with preprocessing takes raw rows', () => {
  it('fit (with raw validationData), predict, evaluate, predictClasses equal preprocessing then the plain network, bit for bit', async () => {
    const { raw, plain } = pair();
    const { rows: vRows, y: vy } = table(30, 2);
    const x = prep.transform(rows);
    const hr = await raw.fit(rows, y, { epochs: 3, batchSize: 16, seed: 5, validationData: [vRows, vy] });
    const hp = await plain.fit(x, y, { epochs: 3, batchSize: 16, seed: 5, validationData: [prep.transform(vRows), vy] });
    expect(hr.history).toEqual(hp.history);
    expect(bits(raw.predict(vRows).data)).toEqual(bits(plain.predict(prep.transform(vRows)).data));
    expect(raw.evaluate(vRows, vy)).toEqual(plain.evaluate(prep.transform(vRows), vy));
    expect(Array.from(raw.predictClasses(vRows))).toEqual(Array.from(plain.predictClasses(prep.transform(vRows))));
    expect(bits(raw.predictOnBatch(vRows).data)).toEqual(bits(plain.predictOnBatch(prep.transform(vRows)).data));
    expect(raw.trainOnBatch(rows.slice(0, 16), y.slice(0, 16))).toEqual(plain.trainOnBatch(x.data.subarray(0, 16 * prep.nFeaturesOut), y.slice(0, 16)));
    const batches = () => [{ x: rows.slice(0, 40), y: y.slice(0, 40) }, { x: rows.slice(40, 80), y: y.slice(40, 80) }];
    const plainBatches = () => batches().map((b) => ({ x: prep.transform(b.x), y: b.y }));
    expect((await raw.fitDataset(batches, { epochs: 2 })).history).toEqual((await plain.fitDataset(plainBatches, { epochs: 2 })).history);
    raw.dispose();
    plain.dispose();
  });

  it('survives serializeModel → deserializeModel (and checkpoints): raw predict equals preprocessing then predict', async () => {
    const { raw } = pair(7);
    await raw.fit(rows, y, { epochs: 2, seed: 1 });
    const { rows: fresh } = table(25, 9);
    const before = raw.predict(fresh).data;
    const back = deserializeModel(serializeModel(raw));
    expect(back.preprocessing).toEqual(prep.toJSON());
    expect(Object.isFrozen(back.preprocessing) && Object.isFrozen(back.preprocessing!.steps[0]!.transformers[0])).toBe(true);
    expect(bits(back.predict(fresh).data)).toEqual(bits(before));
    // the stored preprocessing is the same function as the live one
    const net = new Sequential({ inputShape: [prep.nFeaturesOut], layers: [dense(8, { activation: 'relu' }), dense(2)] });
    net.setWeights(back.getWeights());
    expect(bits(net.predict(ColumnTransformer.fromJSON(back.preprocessing).transform(fresh)).data)).toEqual(bits(before));
    const ck = deserializeCheckpoint(serializeCheckpoint(raw));
    expect(bits(ck.model.predict(fresh).data)).toEqual(bits(before));
    for (const m of [raw, back, net, ck.model]) m.dispose();
  });

  it('a file without preprocessing (as older versions wrote) loads with preprocessing null and takes numeric x', () => {
    const { raw, plain } = pair();
    expect(new TextDecoder().decode(serializeModel(plain))).not.toMatch(/preprocessing/);
    const old = editHeaderText(serializeModel(raw), (t) => {
      const h = JSON.parse(t) as { model: Record<string, unknown> };
      delete h.model.preprocessing;
      return JSON.stringify(h);
    });
    const m = deserializeModel(old);
    expect(m.preprocessing).toBeNull();
    expect(m.predict(prep.transform(rows)).shape).toEqual([120, 2]);
    for (const x of [raw, plain, m]) x.dispose();
  });

  it('a corrupt stored preprocessing is a FormatError naming the field', () => {
    const { raw } = pair();
    const bytes = serializeModel(raw);
    const edit = (f: (p: Record<string, any>) => void) =>
      editHeaderText(bytes, (t) => {
        const h = JSON.parse(t) as { model: { preprocessing: Record<string, any> } };
        f(h.model.preprocessing);
        return JSON.stringify(h);
      });
    const refuse = (b: Uint8Array, re: RegExp) => expect(() => deserializeModel(b)).toThrow(expect.objectContaining({ name: 'FormatError', message: expect.stringMatching(re) }));
    refuse(edit((p) => (p.steps[0].transformers[1].scale[0] = -1)), /header\.model\.preprocessing\.steps\[0\]\.transformers\[1\]\.scale/);
    refuse(edit((p) => (p.steps[1].transformers[0].categories[0] = ['b', 'a'])), /transformers\[0\]\.categories .*sorted/);
    refuse(edit((p) => (p.nFeaturesOut = 99)), /nFeaturesOut is 99; the steps produce 6/);
    refuse(edit((p) => (p.steps[0].columns = [0, 9])), /steps\[0\]\.columns/);
    refuse(edit((p) => (p.version = 2)), /format .*version 2/);
    refuse(edit((p) => (p.steps[0].transformers[0].type = 'robustScaler')), /transformers\[0\]\.type/);
    // still a FormatError (not a crash) for a preprocessing that outputs another width than the network takes
    const other = new ColumnTransformer([['n', new MinMaxScaler(), [2, 3]]]).fit(rows).toJSON();
    refuse(edit((p) => Object.assign(p, other)), /nFeaturesOut is 2; the network takes 6/);
    raw.dispose();
  });
});

describe('bad input: typed errors, nothing changed', () => {
  it('a blank without an imputer names its row and column', () => {
    const m = new Sequential({ inputShape: [3], layers: [dense(2)] });
    const ct = new ColumnTransformer([['s', new StandardScaler(), ['a', 'b']], ['c', new OneHotEncoder(), ['c']]]);
    expect(() => ct.fit([{ a: 1, b: 2, c: 'x' }, { a: 3, b: NaN, c: 'x' }])).toThrow(NonFiniteError);
    expect(() => ct.fit([{ a: 1, b: 2, c: 'x' }, { a: 3, b: null, c: 'x' }])).toThrow(/row 1, column 1 \('b'\) is missing \(null\) and no imputer fills it/);
    expect(ct.fitted).toBe(false);
    ct.fit([{ a: 1, b: 2, c: 'x' }, { a: 3, b: 5, c: 'y' }]);
    expect(ct.nFeaturesOut).toBe(4);
    const m4 = new Sequential({ inputShape: [4], layers: [dense(2)] });
    m4.setPreprocessing(ct);
    expect(() => m4.predict([{ a: 1, b: 2, c: '' }])).toThrow(/predict: row 0, column 2 \('c'\) is missing/);
    expect(() => m4.predict([{ a: 1, b: undefined, c: 'x' }])).toThrow(NonFiniteError);
    expect(() => m4.predict([{ a: 1, b: 'two', c: 'x' }])).toThrow(ShapeError);
    // without preprocessing, a table is refused as before
    expect(() => m.predict([[1, 'x', 3]] as never)).toThrow(ShapeError);
    m.dispose();
    m4.dispose();
  });

  it('an unknown category is an UnknownCategoryError naming the column and value; handleUnknown ignore encodes zeros', () => {
    const e = new OneHotEncoder().fit([['red', 1], ['blue', 2]]);
    let err: unknown;
    try {
      e.transform([['green', 1]]);
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(UnknownCategoryError);
    expect(err).toMatchObject({ code: 'E_UNKNOWN_CATEGORY', column: 'column 0', value: 'green' });
    expect((err as Error).message).toMatch(/row 0, column 0 is "green", a category the encoder did not see .*\["blue","red"\].*handleUnknown: 'ignore'/);
    expect(Array.from(new OneHotEncoder({ handleUnknown: 'ignore' }).fit([['red'], ['blue']]).transform([['green'], ['red']]).data)).toEqual([0, 0, 0, 1]);
    expect(e.categories).toEqual([['blue', 'red'], [1, 2]]);
  });

  it('the wrong column count, transform before fit, a failed refit', () => {
    const s = new StandardScaler();
    expect(() => s.transform([[1, 2]])).toThrow(NotFittedError);
    expect(() => s.toJSON()).toThrow(/StandardScaler\.toJSON: this StandardScaler is not fitted yet; call fit\(x\) first/);
    expect(() => prepOf().transform(rows)).toThrow(NotFittedError);
    s.fit([[1, 2], [3, 4]]);
    expect(() => s.transform([[1, 2, 3]])).toThrow(/row 0 has 3 columns; the preprocessing was fitted on 2/);
    expect(() => s.transform({ data: new Float32Array(3), shape: [1, 3] })).toThrow(ShapeError);
    expect(() => s.fit([[1, 2], [3, 'x']])).toThrow(ShapeError); // a failed refit keeps the fitted statistics
    expect(s.mean).toEqual([2, 3]);
    expect(() => new SimpleImputer().fit([[null], [null]])).toThrow(/every cell is missing/);
    expect(() => new SimpleImputer({ strategy: 'median' }).fit([['a'], ['b']])).toThrow(/strategy 'median' needs numbers/);
    expect(() => new OneHotEncoder().fit([['a'], [1]])).toThrow(/mixes numbers and strings/);
    expect(() => new StandardScaler().fit(new Float32Array(4))).toThrow(/fit needs rows/);
    expect(() => s.transform([{ a: 1, b: 2 }])).toThrow(/x holds records, but the preprocessing was fitted on arrays/);
    expect(() => new ColumnTransformer([['s', new StandardScaler(), ['a']]], { featureNames: ['a', 'b'] }).fit([[1, 2, 3]])).toThrow(/featureNames has 2 names but row 0 has 3 columns/);
    // records fitted by name are read by name, in any key order
    const byName = new StandardScaler().fit([{ a: 1, b: 10 }, { a: 3, b: 30 }]);
    expect(Array.from(byName.transform([{ b: 20, a: 3 }]).data)).toEqual([1, 0]);
  });

  it('options are checked when built', () => {
    expect(() => new StandardScaler({ withMean: 1 } as never)).toThrow(OptionError);
    expect(() => new StandardScaler({ with_mean: false } as never)).toThrow(/unknown option 'with_mean'.*withMean/);
    expect(() => new MinMaxScaler({ featureRange: [1, 0] })).toThrow(/featureRange = \[1,0\]/);
    expect(() => new SimpleImputer({ strategy: 'most_frequent' } as never)).toThrow(OptionError);
    expect(() => new SimpleImputer({ fillValue: 3 })).toThrow(/fillValue is used only with strategy 'constant'/);
    expect(() => new OneHotEncoder({ handleUnknown: 'infrequent' } as never)).toThrow(OptionError);
    expect(() => new ColumnTransformer([])).toThrow(OptionError);
    expect(() => new ColumnTransformer([['a', {} as never, [0]]])).toThrow(/expected a transformer/);
    expect(() => new ColumnTransformer([['a', new StandardScaler(), []]])).toThrow(/distinct column indices/);
    expect(() => new ColumnTransformer([['a', new StandardScaler(), ['x']]]).fit([[1]])).toThrow(/selects column 'x' by name, but x has no column names/);
    expect(() => new ColumnTransformer([['a', new StandardScaler(), [3]]]).fit([[1]])).toThrow(/selects column 3, which x does not have/);
  });

  it('setPreprocessing: wrong width, unfitted, while training, after dispose — refused, preprocessing unchanged', async () => {
    const { raw } = pair();
    const before = raw.preprocessing;
    expect(() => raw.setPreprocessing(new MinMaxScaler().fit([[1], [2]]))).toThrow(/outputs 1 columns; the model takes 6/);
    expect(() => raw.setPreprocessing(prepOf())).toThrow(NotFittedError);
    expect(() => raw.setPreprocessing({ type: 'standardScaler' } as never)).toThrow(OptionError);
    expect(raw.preprocessing).toBe(before);
    const running = raw.fit(rows, y, { epochs: 1, callbacks: [{ onEpochBegin: () => expect(() => raw.setPreprocessing(null)).toThrow(BusyError) }] });
    await running;
    expect(raw.preprocessing).toBe(before);
    raw.setPreprocessing(null);
    expect(raw.preprocessing).toBeNull();
    raw.dispose();
    expect(() => raw.setPreprocessing(prep)).toThrow(DisposedError);
  });

  it('a model preprocessing is a frozen copy: refitting the transformer later changes nothing', () => {
    const ct = prepOf().fit(rows);
    const { raw } = pair();
    raw.setPreprocessing(ct);
    const p1 = raw.predict(rows.slice(0, 5)).data;
    ct.fit(table(50, 77).rows);
    expect(bits(raw.predict(rows.slice(0, 5)).data)).toEqual(bits(p1));
    expect(() => ((raw.preprocessing as { nFeaturesIn: number }).nFeaturesIn = 1)).toThrow(TypeError);
    raw.dispose();
  });
});
