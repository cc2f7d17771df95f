// dense(..., { trainable: false }) freezes a layer (Keras `layer.trainable = False`): its tensors
// keep their values bit for bit, get no optimizer state, and gradients flow through it. The check
// of "flows through" is an equivalence: the layer after a frozen first layer trains exactly as a
// one-layer model trained on the frozen layer's outputs (same GEMM, same init, same batches).
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Sequential, adam, dense, init, lbfgs, normalizeLayers, sgd } from '../../ts/index.js';
import { deserializeModel, serializeModel } from '../../ts/io/model.js';
import { testData } from '../reference/f64.js';
import { thrown } from '../helpers.js';

beforeAll(async () => {
  await init();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));

describe('trainable: false', () => {
  it('keeps a frozen layer bit for bit and gives it no optimizer state; the other layers train', async () => {
    const x = testData(48 * 5, 3);
    const y = Int32Array.from({ length: 48 }, (_, i) => i % 3);
    const m = new Sequential({ inputShape: [5], layers: [dense(8, { activation: 'relu' }), dense(6, { activation: 'tanh', trainable: false }), dense(3)], seed: 4 });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    const before = m.getWeights();
    await m.fit(x, y, { epochs: 3, batchSize: 12, seed: 2 });
    const after = m.getWeights();
    before.forEach((w, i) => {
      if (w.name.startsWith('dense_1/')) expect(bits(after[i]!.data), w.name).toEqual(bits(w.data));
      else expect(bits(after[i]!.data), w.name).not.toEqual(bits(w.data));
    });
    const slots = m.exportTrainingState().slots.map((s) => s.name);
    expect(slots.some((n) => n.startsWith('dense_1/'))).toBe(false);
    expect(slots).toContain('dense_0/kernel/m');
    expect(m.summary()).toMatch(/dense_1 \(tanh, frozen\)/);
    m.dispose();
  });

  it('the layer after a frozen first layer trains exactly as a model trained on the frozen outputs', async () => {
    const n = 40;
    const x = testData(n * 4, 9);
    const y = testData(n * 2, 10);
    const a = new Sequential({ inputShape: [4], layers: [dense(6, { activation: 'relu', trainable: false }), dense(2)], seed: 7 });
    a.compile({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }), loss: 'mse' });
    // the frozen layer's outputs, through the same forward GEMM
    const front = new Sequential({ inputShape: [4], layers: [dense(6, { activation: 'relu' })] });
    front.setWeights(a.getWeights().slice(0, 2));
    front.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse' });
    const h = front.predict(x).data;
    const b = new Sequential({ inputShape: [6], layers: [dense(2)] });
    b.setWeights(a.getWeights().slice(2));
    b.compile({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }), loss: 'mse' });
    const Y = { data: y, shape: [n, 2] as [number, number] };
    await a.fit(x, Y, { epochs: 4, batchSize: 8, shuffle: false });
    await b.fit(h, Y, { epochs: 4, batchSize: 8, shuffle: false });
    const wa = a.getWeights().slice(2).map((w) => bits(w.data));
    const wb = b.getWeights().map((w) => bits(w.data));
    expect(wa).toEqual(wb);
    for (const m of [a, front, b]) m.dispose();
  });

  it('round-trips through model files and hand-written configs; refuses a non-boolean; full-batch optimizers skip frozen tensors', async () => {
    expect(normalizeLayers([{ type: 'dense', units: 2, trainable: false }], 'test')).toEqual([dense(2, { trainable: false })]);
    const e = thrown(() => dense(2, { trainable: 'no' as never }));
    expect(e).toBeInstanceOf(OptionError);
    expect((e as Error).message).toMatch(/dense: trainable = "no"; expected a boolean/);
    const m = new Sequential({ inputShape: [3], layers: [dense(4, { activation: 'tanh', trainable: false }), dense(1)], seed: 1 });
    m.compile({ optimizer: lbfgs({ maxIter: 5 }), loss: 'mse' });
    const frozen = m.getWeights().slice(0, 2).map((w) => bits(w.data));
    await m.fit(testData(30 * 3, 5), { data: testData(30, 6), shape: [30, 1] }, { epochs: 1, batchSize: 30 });
    expect(m.getWeights().slice(0, 2).map((w) => bits(w.data))).toEqual(frozen);
    const copy = deserializeModel(serializeModel(m));
    expect(copy.summary()).toMatch(/frozen/);
    copy.dispose();
    m.dispose();
  });
});
