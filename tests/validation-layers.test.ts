// Issue 13 point 7: hand-written layer configs run through their factories (R12), and names are
// looked up as own keys, so Object.prototype members are not activations, schedules or log keys (R17).
import { beforeAll, describe, expect, it } from 'vitest';
import { editHeaderText } from './io/container-util.js';
import { thrown, tinyData, tinyModel } from './helpers.js';
import {
  FormatError, OptionError, Sequential, activation, adam, batchNorm, dense, deserializeModel, dropout, earlyStopping, init, l2,
  maxNorm, normalizeLayer, normalizeLayers, scheduleFromJSON, serializeModel, isActivationName, sgd,
} from '../ts/index.js';
import { formatCheckpointPath } from '../ts/io/node.js';

beforeAll(async () => {
  await init();
});

const { x, y } = tinyData({ rows: 10, features: (i) => Math.sin(i) });


describe('R12: hand-written layer configs run through their factories', () => {
  it('{ type: "dense", units: 3 } gets the factory defaults (bias, glorotUniform), trains, saves and reloads', async () => {
    const m = new Sequential({ inputShape: [4], layers: [{ type: 'dense', units: 3 } as never], seed: 3 });
    expect(m.layers[0]).toEqual(dense(3));
    expect(m.getWeights().map((w) => w.name)).toEqual(['dense_0/kernel', 'dense_0/bias']);
    expect(m.getWeights()[0]!.data.some((v) => v !== 0)).toBe(true);
    m.compile({ optimizer: adam(), loss: 'softmaxCrossEntropy' });
    await m.fit(x, y, { epochs: 1 });
    const back = deserializeModel(serializeModel(m));
    expect(back.getWeights()).toEqual(m.getWeights());
    back.dispose();
    m.dispose();
  });

  it('a maxNorm with maxValue Infinity (JSON would write null) is refused when built, by dense and by Sequential', () => {
    expect(() => dense(3, { kernelConstraint: { type: 'maxNorm', maxValue: Infinity, axis: 0 } })).toThrow(OptionError);
    const e = thrown(() => new Sequential({ inputShape: [4], layers: [{ type: 'dense', units: 3, kernelConstraint: { type: 'maxNorm', maxValue: Infinity } } as never] }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/^Sequential: layers\[0\]\.kernelConstraint is invalid: .*maxValue = Infinity; expected a finite number > 0/);
  });

  it('refuses invalid values with OptionError, never an internal Arena error (R16)', () => {
    const e = thrown(() => new Sequential({ inputShape: [4], layers: [{ type: 'dense', units: -1 } as never] }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/^Sequential: layers\[0\]\.units is invalid: dense: units = -1; expected a positive integer/);
    expect(e.message).not.toMatch(/Arena/);
    for (const bad of [
      { type: 'dense', units: 2.5 },
      { type: 'dense', units: '3' },
      { type: 'dense', units: 3, activation: 'toString' },
      { type: 'dense', units: 3, useBias: 1 },
      { type: 'dense', units: 3, kernelInitializer: 'glorot' },
      { type: 'dense', units: 3, kernelInitializer: { constant: 1, extra: 2 } },
      { type: 'dense', units: 3, kernelRegularizer: { type: 'regularizer', l1: -1, l2: 0 } },
      { type: 'dense', units: 3, kernelRegularizer: { type: 'regularizer', l1: 0, l2: 0, l3: 1 } },
      { type: 'dropout', rate: 1 },
      { type: 'batchNorm', momentum: 1 },
      { type: 'batchNorm', momentum: null },
      { type: 'dense', units: 3, alpha: null },
      { type: 'activation', activation: 'constructor' },
    ]) {
      expect(() => new Sequential({ inputShape: [4], layers: [dense(3), bad as never] }), JSON.stringify(bad)).toThrow(OptionError);
    }
  });

  it('refuses unknown types, unknown keys, inherited types and non-objects with OptionError naming the layer', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'lstm', units: 3 }, /layers\[1\]\.type = "lstm"; expected one of 'dense', 'batchNorm'(, '\w+')*, 'dropout', 'activation', 'flatten', 'reshape'\. Build layers with their factories/],
      [{ type: 'dense', units: 3, unit: 4 }, /layers\[1\] \(dense\) has unknown key 'unit'/],
      [{ type: 'dropout', rate: 0.1, seed: 1 }, /layers\[1\] \(dropout\) has unknown key 'seed'/],
      [Object.create({ type: 'dense', units: 3 }), /layers\[1\]\.type = undefined/],
      [{ type: 'toString' }, /layers\[1\]\.type = "toString"/],
      [{ type: '__proto__' }, /layers\[1\]\.type = "__proto__"/],
      [null, /layers\[1\] = null; expected a layer config/],
      [[dense(3)], /layers\[1\] = \[\{.*; expected a layer config/],
      ['dense', /layers\[1\] = "dense"; expected a layer config/],
    ];
    for (const [bad, msg] of cases) {
      const e = thrown(() => new Sequential({ inputShape: [4], layers: [dense(3), bad as never] }));
      expect(e, String(msg)).toBeInstanceOf(OptionError);
      expect(e.message).toMatch(/^Sequential: /);
      expect(e.message).toMatch(msg);
    }
    expect(() => new Sequential({ inputShape: [4], layers: 'dense' as never })).toThrow(OptionError);
  });

  it('normalizeLayer returns factory results unchanged and fills hand-written ones', () => {
    const made = [dense(8, { activation: 'relu', kernelRegularizer: l2(1e-4), kernelConstraint: maxNorm({ maxValue: 3 }), kernelInitializer: { constant: 0.5 } }), batchNorm({ momentum: 0.9 }), activation('elu', { alpha: 2 }), dropout(0.25)];
    expect(normalizeLayers(made, 'test')).toEqual(made);
    expect(normalizeLayers(JSON.parse(JSON.stringify(made)), 'test')).toEqual(made);
    expect(normalizeLayer({ type: 'dense', units: 2, kernelConstraint: null, kernelRegularizer: null, biasRegularizer: undefined }, 'test')).toEqual(dense(2));
    expect(normalizeLayer({ type: 'activation', activation: 'leakyRelu' }, 'test')).toEqual(activation('leakyRelu'));
    expect(normalizeLayer({ type: 'batchNorm' }, 'test')).toEqual(batchNorm());
  });

  it('serializeModel refuses layers that are not factory-shaped (a layer mutated after construction)', () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(3)] });
    (m.layers[0] as { kernelConstraint: unknown }).kernelConstraint = { type: 'maxNorm', maxValue: Infinity, axis: 0 };
    const e = thrown(() => serializeModel(m));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/^serializeModel: model\.layers\[0\] = .* was not built by its factory/);
    m.dispose();
  });

  it('deserializeModel runs file layer configs through the factories (FormatError naming the field)', () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(3), dropout(0.5)] });
    const bytes = serializeModel(m);
    const edit = (from: string, to: string): Uint8Array =>
      editHeaderText(bytes, (t) => {
        const text = t.trimEnd();
        expect(text).toContain(from);
        return text.replace(from, to);
      });
    const cases: [Uint8Array, RegExp][] = [
      [edit('"activation":"linear"', '"activation":"toString"'), /header\.model\.layers\[0\]\.activation is invalid/],
      [edit('"rate":0.5', '"rate":0.5,"extra":1'), /header\.model\.layers\[1\] \(dropout\) has unknown key 'extra'/],
      [edit('"kernelConstraint":null', '"kernelConstraint":{"type":"maxNorm","maxValue":null,"axis":0}'), /header\.model\.layers\[0\]\.kernelConstraint is invalid/],
      [edit('"type":"dropout"', '"type":"constructor"'), /header\.model\.layers\[1\]\.type = "constructor"/],
    ];
    for (const [b, msg] of cases) {
      const e = thrown(() => deserializeModel(b));
      expect(e).toBeInstanceOf(FormatError);
      expect(e.message).toMatch(/^deserializeModel: /);
      expect(e.message).toMatch(msg);
    }
    m.dispose();
  });
});

describe('R17: prototype names are not names', () => {
  const protoNames = ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'];

  it('dense and activation refuse them as activation names', () => {
    for (const a of protoNames) {
      expect(isActivationName(a)).toBe(false);
      const e = thrown(() => dense(3, { activation: a as never }));
      expect(e).toBeInstanceOf(OptionError);
      expect(e.message).toMatch(/^dense: activation = ".*"; expected one of linear, relu, leakyRelu, elu, sigmoid, tanh, selu, softmax\.$/);
      expect(() => activation(a as never)).toThrow(OptionError);
    }
    expect(isActivationName('relu')).toBe(true);
  });

  it('optimizer options are read as own keys only (inherited values are not options)', () => {
    expect(sgd(Object.create({ lr: 5 })).lr).toBe(sgd().lr);
    expect(adam(Object.create({ weightDecay: 0.5 })).weightDecay).toBe(adam().weightDecay);
  });

  it('scheduleFromJSON refuses them as schedule kinds', () => {
    for (const k of protoNames) {
      expect(() => scheduleFromJSON({ kind: k, lr: 0.1 }), k).toThrow(OptionError);
    }
  });

  it('callbacks refuse them as monitor keys before training, and path templates do not read the prototype', async () => {
    const m = tinyModel({ optimizer: adam() }).model;
    const before = m.getWeights();
    for (const k of protoNames) {
      await expect(m.fit(x, y, { epochs: 1, callbacks: [earlyStopping({ monitor: k })] }), k).rejects.toThrow(OptionError);
    }
    expect(m.getWeights()).toEqual(before);
    expect(() => formatCheckpointPath('m-{toString}.ckpt', { loss: 1 })).toThrow(/names \{toString\}, which is not in the logs/);
    m.dispose();
  });
});
