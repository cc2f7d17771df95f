// Bad input to every public entry point: the typed error, a message that says what to fix, and
// the model left exactly as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, NonFiniteError, OptionError, Sequential, ShapeError, WasmfitError, dense, dropout, elasticNet, init, l2, maxNorm, sgd } from '../../ts/index.js';
import { tinyData, tinyModel } from '../helpers.js';
import { testData } from '../reference/f64.js';

function snapshot(m: Sequential): number[][] {
  return m.getWeights().map((t) => Array.from(t.data));
}

/** 4 → 5 relu → 3, sgd lr 0.1. */
const build = (): Sequential => tinyModel({ hidden: 5, seed: 2 }).model;

async function expectRejects(p: () => Promise<unknown> | unknown, cls: new (...a: never[]) => WasmfitError, code: string, fragment: RegExp): Promise<WasmfitError> {
  let err: unknown;
  try {
    await p();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  expect(err).toBeInstanceOf(WasmfitError);
  expect((err as WasmfitError).code).toBe(code);
  expect((err as Error).message).toMatch(fragment);
  return err as WasmfitError;
}

describe('bad input', () => {
  beforeAll(async () => {
    await init();
  });
  const { x, y } = tinyData({ rows: 20, dataSeed: 9 });

  it('fit with a wrong feature count: ShapeError, model unchanged', async () => {
    const m = build();
    const before = snapshot(m);
    await expectRejects(() => m.fit(testData(20 * 5, 1).subarray(0, 99), y), ShapeError, 'E_SHAPE', /not a multiple of the model's 4 input features/);
    await expectRejects(() => m.fit({ data: testData(20 * 5, 1), shape: [20, 5] }, y), ShapeError, 'E_SHAPE', /expects \[n, 4\]/);
    await expectRejects(() => m.fit([[1, 2, 3, 4], [1, 2, 3]], [0, 1]), ShapeError, 'E_SHAPE', /x\[1\] has 3 features; the model expects 4/);
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });

  it('fit with NaN or Infinity in x: NonFiniteError naming row and feature, model unchanged', async () => {
    const m = build();
    const before = snapshot(m);
    const bad = Float32Array.from(x);
    bad[4 * 7 + 2] = NaN;
    await expectRejects(() => m.fit(bad, y), NonFiniteError, 'E_NON_FINITE', /row 7, feature 2/);
    bad[4 * 7 + 2] = Infinity;
    await expectRejects(() => m.fit(bad, y), NonFiniteError, 'E_NON_FINITE', /Infinity/);
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });

  it('a negative or non-finite learning rate: OptionError naming lr', async () => {
    for (const lr of [-0.1, NaN, Infinity]) {
      const e = await expectRejects(() => sgd({ lr }), OptionError, 'E_OPTION', /lr = .*expected a finite number >= 0/);
      expect((e as OptionError).option).toBe('lr');
    }
    const m = build();
    const before = snapshot(m);
    await expectRejects(() => m.compile({ optimizer: { type: 'sgd', lr: -1 } as never, loss: 'softmaxCrossEntropy' }), OptionError, 'E_OPTION', /lr = -1/);
    // the previous (valid) optimizer is kept: training still works
    await m.fit(x, y, { epochs: 1 });
    expect(snapshot(m)).not.toEqual(before);
    m.dispose();
  });

  it('a disposed model: DisposedError from every entry point', async () => {
    const m = build();
    m.dispose();
    m.dispose(); // idempotent
    expect(m.disposed).toBe(true);
    await expectRejects(() => m.fit(x, y), DisposedError, 'E_DISPOSED', /disposed; build a new Sequential/);
    await expectRejects(() => m.evaluate(x, y), DisposedError, 'E_DISPOSED', /evaluate/);
    await expectRejects(() => m.predict(x), DisposedError, 'E_DISPOSED', /predict/);
    await expectRejects(() => m.getWeights(), DisposedError, 'E_DISPOSED', /getWeights/);
  });

  it('labels: wrong count, out of range, non-integer, bad one-hot', async () => {
    const m = build();
    const before = snapshot(m);
    await expectRejects(() => m.fit(x, y.subarray(0, 19)), ShapeError, 'E_SHAPE', /19 labels for 20 samples/);
    await expectRejects(() => m.fit(x, Int32Array.from(y).fill(3, 5, 6)), OptionError, 'E_OPTION', /label 3 at index 5 is outside \[0, 3\)/);
    await expectRejects(() => m.fit(x, Array.from(y, (v) => v + 0.5)), OptionError, 'E_OPTION', /must be integers/);
    await expectRejects(() => m.fit([[1, 2, 3, 4]], [[0.5, 0.2, 0.2]]), ShapeError, 'E_SHAPE', /label row 0 is not one-hot/);
    await expectRejects(() => m.fit([[1, 2, 3, 4]], [[0, 0, 0]]), ShapeError, 'E_SHAPE', /has no 1/);
    await expectRejects(() => m.fit([[1, 2, 3, 4]], [[0, 1]]), ShapeError, 'E_SHAPE', /2 columns; the model has 3 outputs/);
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });

  it('invalid fit options: OptionError naming the option, model unchanged', async () => {
    const m = build();
    const before = snapshot(m);
    const cases: [object, string][] = [
      [{ epochs: 0 }, 'epochs'],
      [{ epochs: 1.5 }, 'epochs'],
      [{ batchSize: -3 }, 'batchSize'],
      [{ validationSplit: 1 }, 'validationSplit'],
      [{ validationSplit: -0.1 }, 'validationSplit'],
      [{ shuffle: 'yes' }, 'shuffle'],
      [{ verbose: 3 }, 'verbose'],
      [{ seed: NaN }, 'seed'],
      [{ epoch: 3 }, 'epoch'],
    ];
    for (const [opts, name] of cases) {
      const e = await expectRejects(() => m.fit(x, y, opts as never), OptionError, 'E_OPTION', new RegExp(name));
      expect((e as OptionError).option).toBe(name);
    }
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });

  it('invalid layer and model options', async () => {
    await expectRejects(() => dense(0), OptionError, 'E_OPTION', /units = 0/);
    await expectRejects(() => dense(3, { activation: 'swish' as never }), OptionError, 'E_OPTION', /activation = "swish"; expected one of linear, relu, leakyRelu, elu, sigmoid, tanh/);
    await expectRejects(() => dense(3, { kernelInitializer: 'xavier' as never }), OptionError, 'E_OPTION', /kernelInitializer/);
    await expectRejects(() => dense(3, { units: 4 } as never), OptionError, 'E_OPTION', /unknown option 'units'/);
    await expectRejects(() => new Sequential({ inputShape: [0], layers: [dense(2)] }), OptionError, 'E_OPTION', /inputShape/);
    await expectRejects(() => new Sequential({ inputShape: [3], layers: [] }), OptionError, 'E_OPTION', /layers must be a non-empty array/);
    await expectRejects(() => dropout(1), OptionError, 'E_OPTION', /rate = 1; expected a drop probability in \[0, 1\)/);
    await expectRejects(() => dropout(-0.1), OptionError, 'E_OPTION', /rate/);
    await expectRejects(() => new Sequential({ inputShape: [3], layers: [dropout(0.2), dense(2)] }), OptionError, 'E_OPTION', /does not follow a layer it can fold into \(dense, batchNorm[,)]/);
    await expectRejects(() => maxNorm({ maxValue: 0 }), OptionError, 'E_OPTION', /maxValue = 0/);
    await expectRejects(() => maxNorm({ axis: 1 }), OptionError, 'E_OPTION', /axis = 1/);
    await expectRejects(() => l2(-1), OptionError, 'E_OPTION', /lambda = -1/);
    await expectRejects(() => elasticNet({ alpha: 0.1, l1Ratio: 2 }), OptionError, 'E_OPTION', /l1Ratio = 2/);
    await expectRejects(() => dense(3, { activation: 'elu', alpha: 0 }), OptionError, 'E_OPTION', /alpha = 0/);
    const m = tinyModel({ compile: false }).model;
    await expectRejects(() => m.fit(x, y), OptionError, 'E_OPTION', /not compiled/);
    m.dispose();
  });

  it('a loss that overflows stops fit with NonFiniteError naming epoch and batch; weights from before that step are kept', async () => {
    const m = build();
    const w = m.getWeights();
    w[2]!.data.fill(3e38); // last kernel: logits overflow to ±Infinity
    m.setWeights(w);
    const before = snapshot(m);
    await expectRejects(() => m.fit(x, y, { epochs: 2, batchSize: 8 }), NonFiniteError, 'E_NON_FINITE', /epoch 0, batch 0\b.*weights.*from before/);
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });

  it('setWeights validates every tensor before writing any', async () => {
    const m = build();
    const before = snapshot(m);
    const w = m.getWeights();
    w[0]!.data.fill(1);
    w[3]!.data = new Float32Array(2);
    await expectRejects(() => m.setWeights(w), ShapeError, 'E_SHAPE', /tensor 3 \(dense_1\/bias\) has 2 values; expected 3/);
    const w2 = m.getWeights();
    w2[1]!.data[0] = NaN;
    await expectRejects(() => m.setWeights(w2), ShapeError, 'E_SHAPE', /must be finite/);
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });
});
