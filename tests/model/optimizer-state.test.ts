// Optimizer state slots carry PyTorch's state names (camelCase; Adam's exp_avg / exp_avg_sq /
// max_exp_avg_sq are m / v / vMax): in the training state, in checkpoints and in errors. The
// expected names per optimizer come from torch.optim's `state[p]` keys (SGD momentum_buffer,
// Adagrad sum, RMSprop square_avg / momentum_buffer / grad_avg, Adam exp_avg / exp_avg_sq /
// max_exp_avg_sq), listed in the order of the kernel's slots.
import { describe, expect, it } from 'vitest';
import { Sequential, adagrad, adam, amsgrad, dense, deserializeCheckpoint, init, rmsprop, serializeCheckpoint, sgd, type OptimizerConfig } from '../../ts/index.js';
import { readContainer } from '../../ts/io/container.js';
import { type TinyOptions, tinyModel } from '../helpers.js';

const cases: [string, () => OptimizerConfig, string[]][] = [
  ['sgd without momentum', () => sgd({ lr: 0.1 }), []],
  ['sgd with momentum', () => sgd({ lr: 0.1, momentum: 0.9 }), ['momentumBuffer']],
  ['adagrad', () => adagrad({ lr: 0.1 }), ['sum']],
  ['rmsprop', () => rmsprop({ lr: 0.01 }), ['squareAvg']],
  ['rmsprop centered with momentum', () => rmsprop({ lr: 0.01, centered: true, momentum: 0.5 }), ['squareAvg', 'momentumBuffer', 'gradAvg']],
  ['adam', () => adam({ lr: 0.01 }), ['m', 'v']],
  ['amsgrad', () => amsgrad({ lr: 0.01 }), ['m', 'v', 'vMax']],
];

describe('optimizer state names', () => {
  it.each(cases)('%s: one slot per trainable tensor and state, named <weight>/<state>', async (_, opt, names) => {
    await init();
    const m = new Sequential({ inputShape: [3], layers: [dense(2, { activation: 'relu' }), dense(2, { useBias: false })], seed: 1 });
    m.compile({ optimizer: opt(), loss: 'softmaxCrossEntropy' });
    const want = ['dense_0/kernel', 'dense_0/bias', 'dense_1/kernel'].flatMap((w) => names.map((n) => `${w}/${n}`));
    expect(m.exportTrainingState().slots.map((s) => s.name)).toEqual(want);
    // checkpoints store them under optimizer/<weight>/<state>
    await m.fit(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), Int32Array.from([0, 1, 0, 1]), { batchSize: 2, epochs: 1 });
    const c = readContainer(serializeCheckpoint(m), 'test', ['checkpoint']);
    expect(c.order.filter((n) => n.startsWith('optimizer/'))).toEqual(want.map((n) => `optimizer/${n}`));
    const back = deserializeCheckpoint(serializeCheckpoint(m)).model;
    expect(back.exportTrainingState().slots).toEqual(m.exportTrainingState().slots);
    back.dispose();
    m.dispose();
  });

  it('restores the state of a checkpoint written before slots had names (<weight>/s<k>)', async () => {
    await init();
    // 3 → 2, adam; 4 rows, labels 0, 1, 0, 1
    const tiny: TinyOptions = { inputSize: 3, classes: 2, seed: 1, optimizer: adam({ lr: 0.01 }), rows: 4, features: (i) => Math.cos(i) };
    const { model: m, x, y } = tinyModel(tiny);
    await m.fit(x, y, { batchSize: 2, epochs: 1 });
    const st = m.exportTrainingState();
    const legacy = { ...st, slots: st.slots.map((s) => ({ name: s.name.replace(/\/m$/, '/s1').replace(/\/v$/, '/s2'), data: s.data })) };
    expect(legacy.slots.map((s) => s.name)).toEqual(['dense_0/kernel/s1', 'dense_0/kernel/s2', 'dense_0/bias/s1', 'dense_0/bias/s2']);
    const n = tinyModel(tiny).model;
    n.importTrainingState(legacy);
    expect(n.exportTrainingState()).toEqual(st);
    // a wrong name is still refused
    expect(() => n.importTrainingState({ ...st, slots: st.slots.map((s, i) => (i === 0 ? { ...s, name: 'dense_0/kernel/s2' } : s)) })).toThrow(/expected dense_0\/kernel\/m/);
    m.dispose();
    n.dispose();
  });
});
