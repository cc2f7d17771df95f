// Issue 15 item 2: a model's class names (model.classes) travel in model files and checkpoints
// (header.model.classes), so predictLabels works after loading; files without them load as before.
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, Sequential, adam, dense, deserializeCheckpoint, deserializeModel, init, readModelMetadata, serializeCheckpoint, serializeModel } from '../../ts/index.js';
import { testData } from '../reference/f64.js';
import { editHeaderText } from './container-util.js';

beforeAll(async () => {
  await init();
});

const x = testData(20 * 2, 5);
const labels = Array.from({ length: 20 }, (_, i) => ['setosa', 'versicolor', 'virginica'][i % 3]!);

async function trained(): Promise<Sequential> {
  const m = new Sequential({ inputShape: [2], layers: [dense(4, { activation: 'relu' }), dense(3)], seed: 3 });
  m.compile({ optimizer: adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
  await m.fit(x, labels, { epochs: 2, batchSize: 4, seed: 1 });
  return m;
}

const headerOf = (bytes: Uint8Array): Record<string, any> => {
  let h: Record<string, any> = {};
  editHeaderText(bytes, (t) => ((h = JSON.parse(t)), t));
  return h;
};

describe('class names in model files', () => {
  it('survive serializeModel / deserializeModel, with the same predicted labels', async () => {
    const m = await trained();
    const bytes = serializeModel(m);
    expect(headerOf(bytes).model.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    const copy = deserializeModel(bytes);
    expect(copy.classes).toEqual(m.classes);
    expect(copy.predictLabels(x)).toEqual(m.predictLabels(x));
    expect(copy.evaluate(x, labels)).toEqual(m.evaluate(x, labels));
    m.dispose();
    copy.dispose();
  });

  it('survive checkpoints, and a resumed fit maps strings through them', async () => {
    const m = await trained();
    const { model, resume } = deserializeCheckpoint(serializeCheckpoint(m));
    expect(resume).toBeNull();
    expect(model.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    await model.fit(x, labels.slice().reverse(), { epochs: 1 });
    expect(model.predictLabels(x).every((l) => labels.includes(l))).toBe(true);
    m.dispose();
    model.dispose();
  });

  it('a model without class names writes no classes field (files are as before)', () => {
    const m = new Sequential({ inputShape: [2], layers: [dense(3)], seed: 3 });
    const bytes = serializeModel(m);
    expect('classes' in headerOf(bytes).model).toBe(false);
    expect(deserializeModel(bytes).classes).toBeNull();
    expect(readModelMetadata(bytes)).toBeNull();
    m.dispose();
  });

  it('invalid class names in a file are a FormatError naming header.model.classes', async () => {
    const m = await trained();
    const bytes = serializeModel(m);
    const edit = (to: string) => editHeaderText(bytes, (t) => t.replace('["setosa","versicolor","virginica"]', to));
    expect(() => deserializeModel(edit('["a","b"]'))).toThrow(FormatError);
    expect(() => deserializeModel(edit('["a","b"]'))).toThrow(/^deserializeModel: header\.model\.classes is invalid: classes: classes has 2 names; expected 3/);
    expect(() => deserializeModel(edit('["a","a","b"]'))).toThrow(/header\.model\.classes is invalid: .*appears twice/);
    expect(() => deserializeModel(edit('["a",1,"b"]'))).toThrow(/^deserializeModel: header\.model\.classes is \["a",1,"b"\]; expected an array of class-name strings/);
    expect(() => deserializeModel(edit('"abc"'))).toThrow(/header\.model\.classes is "abc"/);
    m.dispose();
  });
});
