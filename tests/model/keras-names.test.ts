// Issue 15, item 1: the names a tfjs-layers or Keras user writes in the first hour. Each test runs
// that user's code as verbatim as wasmfit's API shape allows (`tf.sequential` → `new Sequential`,
// `tf.layers.dense({ units })` → `dense(units, …)`), and checks that it trains with the upstream
// meaning, or is refused with an error naming the exact replacement, leaving the model unchanged.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OptionError, Sequential, ShapeError, activation, adagrad, adam, adamw, dense, deserializeModel, dropout, earlyStopping, init, rmsprop,
  serializeModel, sgd,
} from '../../ts/index.js';

beforeAll(async () => {
  await init();
});

/** Three Gaussian-ish blobs in 4-D from a fixed LCG: separable, so a small net reaches high accuracy. */
function blobs(n: number, seed = 7): { x: number[][]; ids: Int32Array; oneHot: number[][] } {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const centers = [[2, 0, 0, 1], [-2, 1, 0, -1], [0, -2, 2, 0]];
  const x: number[][] = [];
  const ids = new Int32Array(n);
  const oneHot: number[][] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    ids[i] = c;
    oneHot.push([0, 1, 2].map((j) => (j === c ? 1 : 0)));
    x.push(centers[c]!.map((m) => m + (u() + u() + u() - 1.5)));
  }
  return { x, ids, oneHot };
}

/** softmax of `x·W + b` in float64 from getWeights (a one-dense-layer model). */
function softmaxF64(model: Sequential, x: number[][]): number[][] {
  const [W, b] = model.getWeights();
  const [nIn, k] = W!.shape as [number, number];
  return x.map((row) => {
    const z = Array.from({ length: k }, (_, j) => row.reduce((acc, v, i) => acc + v * W!.data[i * k + j]!, b!.data[j]!));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    expect(row.length).toBe(nIn);
    return e.map((v) => v / s);
  });
}

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('a softmax last layer with categorical cross-entropy (fused into softmax cross-entropy)', () => {
  const { x, ids, oneHot } = blobs(96);

  it("trains the Keras model verbatim: softmax output, 'adam', 'categoricalCrossentropy', metrics ['accuracy']", async () => {
    const model = new Sequential({ inputShape: [4], layers: [dense(16, { activation: 'relu' }), dense(3, { activation: 'softmax' })], seed: 3 });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const before = model.evaluate(x, oneHot).loss;
    const h = await model.fit(x, oneHot, { epochs: 60, batchSize: 16 });
    expect(h.history.accuracy).toBeDefined();
    const { loss, accuracy } = model.evaluate(x, oneHot);
    expect(loss).toBeLessThan(before / 4);
    expect(accuracy).toBeGreaterThan(0.95);
    // predict returns probabilities, as Keras's softmax layer does
    const p = model.predict(x);
    expect(p.shape).toEqual([96, 3]);
    for (let r = 0; r < 96; r++) expect(p.data[r * 3]! + p.data[r * 3 + 1]! + p.data[r * 3 + 2]!).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('the loss is Keras categorical cross-entropy −Σ y·log softmax(z), and predict the softmax, computed in float64', () => {
    const model = new Sequential({ inputShape: [4], layers: [dense(3, { activation: 'softmax' })], seed: 11 });
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const p = softmaxF64(model, x);
    const expected = p.reduce((acc, row, r) => acc - oneHot[r]!.reduce((s, y, j) => s + y * Math.log(row[j]!), 0), 0) / x.length;
    expect(model.evaluate(x, oneHot).loss).toBeCloseTo(expected, 5);
    const got = model.predict(x).data;
    p.forEach((row, r) => row.forEach((v, j) => expect(got[r * 3 + j]!).toBeCloseTo(v, 6)));
    model.dispose();
  });

  it('trains exactly as a linear last layer with softmaxCrossEntropy (the softmax is the loss’s own), bit for bit', async () => {
    const run = async (last: ReturnType<typeof dense>[], loss: 'softmaxCrossEntropy' | 'categoricalCrossentropy') => {
      const m = new Sequential({ inputShape: [4], layers: [dense(8, { activation: 'tanh' }), ...last], seed: 5 });
      m.compile({ optimizer: adam({ lr: 0.01 }), loss });
      await m.fit(x, oneHot, { epochs: 3, batchSize: 16, seed: 1 });
      const w = m.getWeights();
      m.dispose();
      return w;
    };
    const fused = await run([dense(3, { activation: 'softmax' })], 'categoricalCrossentropy');
    const logits = await run([dense(3)], 'softmaxCrossEntropy');
    expect(fused).toEqual(logits);
  });

  it("activation('softmax') as the last layer (tf.layers.activation) is the same model", async () => {
    const a = new Sequential({ inputShape: [4], layers: [dense(3), activation('softmax')], seed: 2 });
    const b = new Sequential({ inputShape: [4], layers: [dense(3, { activation: 'softmax' })], seed: 2 });
    for (const m of [a, b]) m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    await a.fit(x, ids, { epochs: 2, batchSize: 32, seed: 4 });
    await b.fit(x, ids, { epochs: 2, batchSize: 32, seed: 4 });
    expect(a.getWeights()).toEqual(b.getWeights());
    expect(a.summary()).toContain('dense_0 (softmax)');
    expect(a.summary()).toEqual(b.summary());
    a.dispose();
    b.dispose();
  });

  it('sparseCategoricalCrossentropy takes class ids; both names train to the same weights from ids or one-hot rows', async () => {
    const fitWith = async (loss: 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy', y: Int32Array | number[][]) => {
      const m = new Sequential({ inputShape: [4], layers: [dense(3, { activation: 'softmax' })], seed: 9 });
      m.compile({ optimizer: 'adam', loss });
      await m.fit(x, y, { epochs: 2, batchSize: 16, seed: 2 });
      const w = m.getWeights();
      m.dispose();
      return w;
    };
    const sparse = await fitWith('sparseCategoricalCrossentropy', ids);
    expect(await fitWith('categoricalCrossentropy', oneHot)).toEqual(sparse);
    expect(await fitWith('sparseCategoricalCrossentropy', oneHot)).toEqual(sparse);
  });

  it('one-hot targets that are not one-hot (soft labels, two 1s) are refused, never argmax-ed; the weights are unchanged', async () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(3, { activation: 'softmax' })], seed: 9 });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const before = m.getWeights();
    const soft = oneHot.map((r, i) => (i === 5 ? [0.1, 0.8, 0.1] : r));
    await expect(m.fit(x, soft, { epochs: 1 })).rejects.toThrow(/label row 5 is not one-hot/);
    const two = oneHot.map((r, i) => (i === 2 ? [1, 1, 0] : r));
    await expect(m.fit(x, two, { epochs: 1 })).rejects.toBeInstanceOf(ShapeError);
    expect(m.getWeights()).toEqual(before);
    m.dispose();
  });

  it('softmax elsewhere is refused: on a hidden layer, before dropout, with a regression loss, with binaryCrossentropy', () => {
    let e = thrown(() => new Sequential({ inputShape: [4], layers: [dense(8, { activation: 'softmax' }), dense(3)] }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/^Sequential: layers\[0\] has a softmax activation but is not the last layer; .*Use 'relu'/);
    e = thrown(() => new Sequential({ inputShape: [4], layers: [dense(3), activation('softmax'), dense(3)] }));
    expect(e.message).toMatch(/layers\[0\] has a softmax activation but is not the last layer/);
    e = thrown(() => new Sequential({ inputShape: [4], layers: [dense(3, { activation: 'softmax' }), dropout(0.2)] }));
    expect(e.message).toMatch(/^Sequential: layers\[1\] \(dropout\) follows a softmax; softmax must end the model/);

    const m = new Sequential({ inputShape: [4], layers: [dense(3, { activation: 'softmax' })], seed: 1 });
    m.compile({ optimizer: adam({ lr: 0.05 }), loss: 'categoricalCrossentropy' });
    const opts = m.compileOptions;
    for (const loss of ['mse', 'meanSquaredError', 'binaryCrossentropy', 'huber'] as const) {
      e = thrown(() => m.compile({ optimizer: 'adam', loss }));
      expect(e).toBeInstanceOf(OptionError);
      expect(e.message).toMatch(/^compile: a softmax last layer \(layers\[0\]\) needs loss 'categoricalCrossentropy' \(softmax is fused into it\), not '(mse|binaryCrossentropy|huber)'/);
    }
    // the refused compiles left the first one in place
    expect(m.compileOptions).toEqual(opts);
    expect(m.learningRate).toBe(0.05);
    m.dispose();
  });

  it('a sigmoid last layer with binaryCrossentropy (Keras from_logits=False) is refused: wasmfit’s loss takes logits', () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(1, { activation: 'sigmoid' })] });
    const e = thrown(() => m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/^compile: 'binaryCrossentropy' takes logits and applies the sigmoid itself .*remove activation 'sigmoid' from the last layer \(layers\[0\]\)\.$/);
    // a sigmoid output is still fine for regression
    m.compile({ optimizer: 'adam', loss: 'mse' });
    m.dispose();
  });

  it('a saved softmax model loads with its softmax layer and the same predictions', async () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(6, { activation: 'relu' }), dense(3, { activation: 'softmax' })], seed: 8 });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    await m.fit(x, oneHot, { epochs: 2, batchSize: 32 });
    const copy = deserializeModel(serializeModel(m));
    expect((copy.layers[1] as { activation: string }).activation).toBe('softmax');
    expect(copy.predict(x).data).toEqual(m.predict(x).data);
    m.dispose();
    copy.dispose();
  });
});

describe('other Keras / tfjs loss names', () => {
  // y = 2·x0 − x1 + 0.5
  const x = Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7)]);
  const y = x.map(([a, b]) => [2 * a! - b! + 0.5]);

  it("'meanSquaredError' and 'meanAbsoluteError' are 'mse' and 'mae' (Keras mean over outputs)", async () => {
    const m = new Sequential({ inputShape: [2], layers: [dense(1)], seed: 1 });
    m.compile({ optimizer: 'adam', loss: 'meanSquaredError', metrics: ['meanAbsoluteError'] });
    expect(m.compileOptions!.loss).toBe('mse');
    const [W, b] = m.getWeights();
    const out = x.map(([a, c]) => a! * W!.data[0]! + c! * W!.data[1]! + b!.data[0]!);
    const mse = out.reduce((s, o, i) => s + (o - y[i]![0]!) ** 2, 0) / 64;
    const mae = out.reduce((s, o, i) => s + Math.abs(o - y[i]![0]!), 0) / 64;
    const r = m.evaluate(x, y);
    expect(r.loss).toBeCloseTo(mse, 5);
    expect(r.mae).toBeCloseTo(mae, 5);
    const h = await m.fit(x, y, { epochs: 30, batchSize: 8 });
    expect(h.history.loss!.at(-1)!).toBeLessThan(h.history.loss![0]!);
    m.compile({ optimizer: 'sgd', loss: 'meanAbsoluteError' });
    expect(m.compileOptions!.loss).toBe('mae');
    m.dispose();
  });

  it("Keras's snake_case names are accepted too; unknown names get the likely one", () => {
    const m = new Sequential({ inputShape: [2], layers: [dense(3)] });
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' as never });
    expect(m.compileOptions!.loss).toEqual({ type: 'softmaxCrossEntropy', labelSmoothing: 0 });
    m.compile({ optimizer: 'adam', loss: { type: 'categoricalCrossentropy', labelSmoothing: 0.1 } });
    expect(m.compileOptions!.loss).toEqual({ type: 'softmaxCrossEntropy', labelSmoothing: 0.1 });
    const e = thrown(() => m.compile({ optimizer: 'adam', loss: 'categoricalCrossEntropy' as never }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/Did you mean 'categoricalCrossentropy'\?$/);
    expect(thrown(() => m.compile({ optimizer: 'adam', loss: 'meanSquaredErrors' as never })).message).toMatch(/Did you mean 'meanSquaredError'\?$/);
    m.dispose();
  });
});

describe("optimizers by name ('adam') and learningRate", () => {
  // wasmfit's factories take PyTorch's defaults (torch.optim.*): written here from the PyTorch docs
  const PYTORCH_DEFAULTS = {
    adam: { type: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false },
    adamw: { type: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false },
    sgd: { type: 'sgd', lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
    rmsprop: { type: 'rmsprop', lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
    adagrad: { type: 'adagrad', lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
    adamax: { type: 'adamax', lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
    nadam: { type: 'nadam', lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, maximize: false },
    radam: { type: 'radam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
    adadelta: { type: 'adadelta', lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
    // not in PyTorch: lucidrains/lion-pytorch's defaults
    lion: { type: 'lion', lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false },
  } as const;
  const noClip = { clipValue: 0, clipNorm: 0, globalClipNorm: 0 };

  it.each(Object.keys(PYTORCH_DEFAULTS))("compile({ optimizer: '%s' }) is the factory with PyTorch's defaults", (name) => {
    const m = new Sequential({ inputShape: [2], layers: [dense(3)] });
    m.compile({ optimizer: name as keyof typeof PYTORCH_DEFAULTS, loss: 'sparseCategoricalCrossentropy' });
    expect({ ...m.compileOptions!.optimizer }).toEqual({ ...PYTORCH_DEFAULTS[name as keyof typeof PYTORCH_DEFAULTS], ...noClip });
    expect(m.learningRate).toBe(PYTORCH_DEFAULTS[name as keyof typeof PYTORCH_DEFAULTS].lr);
    m.dispose();
  });

  it('unknown names are refused with the replacement, and the model keeps its compile', () => {
    const m = new Sequential({ inputShape: [2], layers: [dense(3)] });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    const cases: [string, RegExp][] = [
      ['Adam', /^compile: optimizer = "Adam"; expected one of 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adamax', 'nadam', 'radam', 'adadelta', 'lion', 'kerasSGD', 'kerasRMSprop', 'kerasAdagrad', 'kerasAdam' or a config such as adam\(\{ lr: 0\.01 \}\)\. Did you mean 'adam'\?$/],
      ['momentum', /Use sgd\(\{ momentum: 0\.9 \}\)/],
      ['ftrl', /Use adam\(\)\.$/],
      ['yogi', /or a config such as adam\(\{ lr: 0\.01 \}\)\.$/],
    ];
    for (const [name, msg] of cases) {
      const e = thrown(() => m.compile({ optimizer: name as never, loss: 'mse' }));
      expect(e).toBeInstanceOf(OptionError);
      expect(e.message).toMatch(msg);
    }
    expect(m.learningRate).toBe(0.1);
    expect(m.compileOptions!.loss).toEqual({ type: 'softmaxCrossEntropy', labelSmoothing: 0 });
    m.dispose();
  });

  it('learningRate is an alias of lr in every factory (tf.train.adam(learningRate), Keras learning_rate)', () => {
    expect(adam({ learningRate: 0.01 })).toEqual(adam({ lr: 0.01 }));
    expect(adamw({ learningRate: 0.02 }).lr).toBe(0.02);
    expect(sgd({ learningRate: 0.1, momentum: 0.9 })).toEqual(sgd({ lr: 0.1, momentum: 0.9 }));
    expect(rmsprop({ learningRate: 1e-3 }).lr).toBe(1e-3);
    expect(adagrad({ learningRate: 0.05 }).lr).toBe(0.05);
    let e = thrown(() => adam({ lr: 0.01, learningRate: 0.01 }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/^adam: pass lr or learningRate \(its alias\), not both\.$/);
    e = thrown(() => sgd({ learningRate: -1 }));
    expect(e.message).toMatch(/^sgd: learningRate: lr = -1; expected a finite number >= 0/);
  });

  it('other Keras / tfjs option spellings name the replacement', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => adam({ learning_rate: 0.01 } as never), /Did you mean 'learningRate'\?$/],
      [() => adam({ epsilon: 1e-7 } as never), /^adam: unknown option 'epsilon'; use eps\. For Keras's option names and arithmetic use kerasSGD\(\), kerasRMSprop\(\), kerasAdagrad\(\) or kerasAdam\(\)\.$/],
      [() => adam({ beta_1: 0.9 } as never), /use betas: \[β1, β2\]\. For Keras's option names/],
      [() => rmsprop({ rho: 0.9 } as never), /use alpha\. For Keras's option names/],
      [() => adam(0.01 as never), /^adam: options = 0\.01; expected an object such as \{ lr: 0\.01 \}/],
    ];
    for (const [f, msg] of cases) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(OptionError);
      expect(e.message).toMatch(msg);
    }
  });
});

describe("metric and monitor names: 'acc', 'val_loss', 'val_acc'", () => {
  const { x, ids } = blobs(60, 3);

  it("metrics: ['acc'] logs accuracy (argmax), and earlyStopping({ monitor: 'val_acc' }) watches valAccuracy", async () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(3, { activation: 'softmax' })], seed: 4 });
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['acc'] });
    const es = earlyStopping({ monitor: 'val_acc', patience: 100 });
    const h = await m.fit(x, ids, { epochs: 4, batchSize: 10, validationSplit: 0.2, callbacks: [es] });
    expect(Object.keys(h.history)).toEqual(expect.arrayContaining(['loss', 'accuracy', 'valLoss', 'valAccuracy']));
    // 'acc' contains "acc": maximized, as Keras's auto mode does
    expect(es.best).toBe(Math.max(...h.history.valAccuracy!));
    m.dispose();
  });

  it("metrics: ['meanSquaredError'] is logged as mse; snake_case metric names get the replacement", () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(3)] });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['meanSquaredError'] });
    expect(Object.keys(m.evaluate(x, ids))).toContain('mse');
    const e = thrown(() => m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['categorical_accuracy' as never] }));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/^compile: unknown metric "categorical_accuracy"; .*Did you mean 'accuracy'\?$/);
    m.dispose();
  });
});

describe('dropout({ rate }) (tf.layers.dropout)', () => {
  it('is dropout(rate)', () => {
    expect(dropout({ rate: 0.25 })).toEqual(dropout(0.25));
    const m = new Sequential({ inputShape: [4], layers: [dense(8, { activation: 'relu' }), dropout({ rate: 0.5 }), dense(3, { activation: 'softmax' })] });
    expect(m.layers[1]).toEqual({ type: 'dropout', rate: 0.5 });
    m.dispose();
  });
  it('refuses tfjs options wasmfit has not, a missing rate and a bad rate', () => {
    expect(thrown(() => dropout({ rate: 0.5, noiseShape: [1] } as never)).message).toMatch(/^dropout: unknown option 'noiseShape'; known options are rate\./);
    expect(thrown(() => dropout({} as never)).message).toMatch(/^dropout: options = \{\} has no rate; pass dropout\(\{ rate: 0\.2 \}\)/);
    expect(thrown(() => dropout({ rate: 1 })).message).toMatch(/^dropout: rate = 1; expected a drop probability in \[0, 1\)/);
  });
});
