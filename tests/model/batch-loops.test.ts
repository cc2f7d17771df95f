// trainOnBatch, predictOnBatch and fitDataset (issue 15, item 4: "their loops"). Expected values
// are equivalences to the existing, golden-tested fit: Keras's fit(shuffle=False) is exactly
// train_on_batch over the consecutive batch_size slices, and tfjs fitDataset over those batches is
// the same loop; so weights must match fit's bit for bit and logs must be equal.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BusyError, DisposedError, NonFiniteError, OptionError, Sequential, ShapeError, adam, batchNorm, checkpointCallback, cosineDecay, dense, init, sgd, stepLR,
  type Callback, type DatasetBatch, type Logs,
} from '../../ts/index.js';
import { rejection, thrown, tinyData } from '../helpers.js';

const bits = (m: Sequential): number[] => m.getWeights().flatMap((t) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)));

const D = 5;
const ROWS = 100;
const BS = 32; // 100 rows: batches of 32, 32, 32 and 4
const { x, y } = tinyData({ inputSize: D, rows: ROWS, classes: 3, dataSeed: 7, label: (r, xs) => (xs[r * D]! + xs[r * D + 1]! > 0 ? (xs[r * D + 2]! > 0 ? 2 : 1) : 0) });
const { x: vx, y: vy } = tinyData({ inputSize: D, rows: 23, classes: 3, dataSeed: 9 });
// regression targets [rows, 2]
const yr = Float32Array.from({ length: ROWS * 2 }, (_, i) => Math.sin(i * 0.37) + x[(i >> 1) * D]!);

function build(kind: 'class' | 'reg' = 'class', seed = 3): Sequential {
  const m = new Sequential({ inputShape: [D], layers: [dense(8, { activation: 'tanh' }), dense(kind === 'class' ? 3 : 2)], seed });
  if (kind === 'class') m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy', metrics: ['crossentropy'] });
  else m.compile({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }), loss: 'mse', metrics: ['mae'] });
  return m;
}

/** The consecutive batches fit(shuffle: false) takes. */
function batchesOf(xs: Float32Array, ys: Int32Array | Float32Array, width: number, bs = BS): DatasetBatch[] {
  const out: DatasetBatch[] = [];
  const rows = xs.length / D;
  for (let s = 0; s < rows; s += bs) {
    const n = Math.min(bs, rows - s);
    out.push({ x: { data: xs.slice(s * D, (s + n) * D), shape: [n, D] }, y: ys instanceof Int32Array ? ys.slice(s, s + n) : { data: ys.slice(s * width, (s + n) * width), shape: [n, width] } });
  }
  return out;
}

/** A callback recording every batch's and epoch's logs. */
function recorder(): Callback & { batches: Logs[]; epochs: Logs[] } {
  const batches: Logs[] = [];
  const epochs: Logs[] = [];
  return { batches, epochs, onBatchEnd: (_b, l) => void batches.push({ ...l }), onEpochEnd: (_e, l) => void epochs.push({ ...l }) };
}

beforeAll(async () => {
  await init();
});

describe('trainOnBatch', () => {
  it.each(['class', 'reg'] as const)('over fit\'s batches in order gives bit-identical weights, optimizer steps and batch logs (%s)', async (kind) => {
    const ys = kind === 'class' ? y : yr;
    const a = build(kind);
    const b = build(kind);
    const rec = recorder();
    await a.fit(x, ys, { epochs: 3, batchSize: BS, shuffle: false, callbacks: [rec] });
    const logs: Logs[] = [];
    for (let e = 0; e < 3; e++) for (const batch of batchesOf(x, ys, 2)) logs.push(b.trainOnBatch(batch.x, batch.y));
    expect(bits(b)).toEqual(bits(a));
    expect(b.optimizerStep).toBe(12);
    expect(a.optimizerStep).toBe(12);
    // fit's batch logs hold loss (and accuracy); trainOnBatch adds the compiled metric
    expect(logs.map((l) => ({ loss: l.loss, ...(l.accuracy !== undefined ? { accuracy: l.accuracy } : {}) }))).toEqual(rec.batches);
    expect(Object.keys(logs[0]!).sort()).toEqual(kind === 'class' ? ['accuracy', 'crossentropy', 'loss'] : ['loss', 'mae']);
    a.dispose();
    b.dispose();
  });

  it('logs the loss and the compiled metric (mae = mean |y − ŷ|) of the outputs the step\'s loss saw, before its update', () => {
    // trainOnBatch reports the metric on the outputs the step's loss saw (before its update, as Keras
    // train_on_batch): predict first, compute mae by hand, then step
    const m = build('reg');
    const [batch] = batchesOf(x, yr, 2);
    const p = m.predict(batch!.x).data;
    const t = (batch!.y as { data: Float32Array }).data;
    let mae = 0;
    let mse = 0;
    for (let i = 0; i < p.length; i++) {
      mae += Math.abs(t[i]! - p[i]!);
      mse += (t[i]! - p[i]!) ** 2;
    }
    const logs = m.trainOnBatch(batch!.x, batch!.y);
    expect(logs.mae).toBeCloseTo(mae / p.length, 5);
    // mse loss: mean over rows of the per-row mean squared error (Keras's reduction) = mean over cells
    expect(logs.loss).toBeCloseTo(mse / p.length, 5);
    m.dispose();
  });

  it('uses the model\'s current learningRate: setting it per step as a step schedule reproduces fit with that schedule', async () => {
    const sched = cosineDecay({ initialLearningRate: 0.02, decaySteps: 6 });
    const a = build();
    const b = build();
    await a.fit(x, y, { epochs: 2, batchSize: BS, shuffle: false, schedule: sched });
    let t = 0;
    for (let e = 0; e < 2; e++) {
      for (const batch of batchesOf(x, y, 3)) {
        b.learningRate = sched(t++);
        b.trainOnBatch(batch.x, batch.y);
      }
    }
    expect(bits(b)).toEqual(bits(a));
    a.dispose();
    b.dispose();
  });

  it('sampleWeight and classWeight weight the loss as fit\'s do', async () => {
    const sw = Float32Array.from({ length: ROWS }, (_, i) => 0.5 + (i % 3));
    const cw = [1, 2, 0.5];
    const a = build();
    const b = build();
    await a.fit(x, y, { epochs: 1, batchSize: BS, shuffle: false, sampleWeight: sw, classWeight: cw });
    batchesOf(x, y, 3).forEach((batch, i) => b.trainOnBatch(batch.x, batch.y, { sampleWeight: sw.slice(i * BS, i * BS + (batch.y as Int32Array).length), classWeight: cw }));
    expect(bits(b)).toEqual(bits(a));
    a.dispose();
    b.dispose();
  });

  it('refuses bad input with a typed error and changes nothing', () => {
    const m = build();
    m.trainOnBatch(x.subarray(0, 4 * D), y.subarray(0, 4));
    const before = bits(m);
    const step = m.optimizerStep;
    const cases: [() => unknown, Function, RegExp][] = [
      [() => m.trainOnBatch(x.subarray(0, 6), y.subarray(0, 1)), ShapeError, /^trainOnBatch: /],
      [() => m.trainOnBatch(x.subarray(0, 4 * D), y.subarray(0, 3)), ShapeError, /^trainOnBatch/],
      [() => m.trainOnBatch(x.subarray(0, 4 * D), Int32Array.from([0, 1, 2, 3])), OptionError, /^trainOnBatch: label 3/],
      [() => m.trainOnBatch(x.subarray(0, 4 * D), y.subarray(0, 4), { batchSize: 4 } as never), OptionError, /trainOnBatch: unknown option 'batchSize'/],
      [() => m.trainOnBatch(x.subarray(0, 4 * D), y.subarray(0, 4), { sampleWeight: [1, 1, -1, 1] }), OptionError, /trainOnBatch: sampleWeight\[2\] = -1/],
      [() => m.trainOnBatch(x.subarray(0, 4 * D), y.subarray(0, 4), { classWeight: { 5: 1 } }), OptionError, /trainOnBatch: classWeight has class 5/],
      [() => m.trainOnBatch(Float32Array.from({ length: 4 * D }, (_, i) => (i === 3 ? NaN : 0)), y.subarray(0, 4)), NonFiniteError, /^trainOnBatch: x contains NaN at row 0, feature 3/],
    ];
    for (const [f, cls, msg] of cases) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toMatch(msg);
      expect(bits(m)).toEqual(before);
      expect(m.optimizerStep).toBe(step);
    }
    m.dispose();
  });

  it('a step whose loss is not finite throws NonFiniteError with the weights and step count as they were', () => {
    const m = new Sequential({ inputShape: [D], layers: [dense(3)], seed: 1 });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'mse' });
    const before = bits(m);
    const e = thrown(() => m.trainOnBatch(x.subarray(0, 2 * D), Float32Array.from([1, 2, 3, 4, 5, 3e38])));
    // (3e38)² overflows float32: the kernel reports a non-finite loss and rolls the step back
    expect(e).toBeInstanceOf(NonFiniteError);
    expect(e.message).toMatch(/^trainOnBatch/);
    expect(bits(m)).toEqual(before);
    expect(m.optimizerStep).toBe(0);
    m.dispose();
  });

  it('refuses an uncompiled or disposed model, and a 1-row batch under batch normalization', () => {
    const u = new Sequential({ inputShape: [D], layers: [dense(3)] });
    const e = thrown(() => u.trainOnBatch(x.subarray(0, D), y.subarray(0, 1)));
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/trainOnBatch: the model is not compiled/);
    u.dispose();
    expect(thrown(() => u.trainOnBatch(x.subarray(0, D), y.subarray(0, 1)))).toBeInstanceOf(DisposedError);
    const bn = new Sequential({ inputShape: [D], layers: [dense(4), batchNorm(), dense(3)] });
    bn.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    const before = bits(bn);
    expect(thrown(() => bn.trainOnBatch(x.subarray(0, D), y.subarray(0, 1))).message).toMatch(/batch normalization needs at least 2 rows/);
    expect(bits(bn)).toEqual(before);
    bn.dispose();
  });

  it('is refused with BusyError while a fit or a fitDataset runs (from its callbacks), and works after', async () => {
    const m = build();
    const seen: unknown[] = [];
    const probe: Callback = {
      onBatchEnd: () => {
        seen.push(thrown(() => m.trainOnBatch(x.subarray(0, 2 * D), y.subarray(0, 2))));
      },
    };
    await m.fit(x, y, { epochs: 1, batchSize: 50, callbacks: [probe] });
    await m.fitDataset(batchesOf(x, y, 3), { callbacks: [probe] });
    expect(seen).toHaveLength(2 + 4);
    for (const e of seen) {
      expect(e).toBeInstanceOf(BusyError);
      expect((e as Error).message).toMatch(/^trainOnBatch: this model is training/);
    }
    expect(() => m.trainOnBatch(x.subarray(0, 2 * D), y.subarray(0, 2))).not.toThrow();
    m.dispose();
  });
});

describe('predictOnBatch', () => {
  it('equals predict over the same rows in one chunk, and predict with its default chunks', () => {
    const m = build();
    const one = m.predictOnBatch(x);
    expect(one.shape).toEqual([ROWS, 3]);
    expect(one.data).toEqual(m.predict(x, { batchSize: ROWS }).data);
    const chunked = m.predict(x).data;
    one.data.forEach((v, i) => expect(v).toBeCloseTo(chunked[i]!, 6));
    // probabilities
    for (let r = 0; r < ROWS; r++) expect(one.data[r * 3]! + one.data[r * 3 + 1]! + one.data[r * 3 + 2]!).toBeCloseTo(1, 5);
    m.dispose();
  });

  it('refuses a wrong width (ShapeError) and a disposed model', () => {
    const m = build();
    expect(thrown(() => m.predictOnBatch(new Float32Array(7)))).toBeInstanceOf(ShapeError);
    expect(thrown(() => m.predictOnBatch(new Float32Array(7))).message).toMatch(/^predictOnBatch/);
    m.dispose();
    expect(thrown(() => m.predictOnBatch(x))).toBeInstanceOf(DisposedError);
  });
});

describe('fitDataset', () => {
  const sources: [string, (bs: DatasetBatch[]) => unknown][] = [
    ['an array of batches', (bs) => bs],
    ['a function returning a generator', (bs) => function* () {
      yield* bs;
    }],
    ['a function returning an async generator', (bs) => async function* () {
      for (const b of bs) {
        await Promise.resolve();
        yield b;
      }
    }],
    ['a custom async iterable', (bs) => ({ [Symbol.asyncIterator]: () => (async function* () {
      yield* bs;
    })() })],
  ];

  it.each(sources)('over %s: bit-identical weights, equal History and batch logs to fit(shuffle: false) with validationData', async (_name, make) => {
    const a = build();
    const b = build();
    const ra = recorder();
    const rb = recorder();
    const sched = stepLR({ lr: 0.01, stepSize: 1, gamma: 0.5 });
    const ha = await a.fit(x, y, { epochs: 3, batchSize: BS, shuffle: false, validationData: [vx, vy], schedule: sched, callbacks: [ra], seed: 5 });
    const hb = await b.fitDataset(make(batchesOf(x, y, 3)) as never, { epochs: 3, validationData: [vx, vy], schedule: sched, callbacks: [rb], seed: 5 });
    expect(bits(b)).toEqual(bits(a));
    expect(hb).toEqual(ha);
    expect(Object.keys(hb.history).sort()).toEqual(['accuracy', 'crossentropy', 'loss', 'lr', 'valAccuracy', 'valCrossentropy', 'valLoss']);
    expect(rb.batches).toEqual(ra.batches);
    expect(rb.epochs).toEqual(ra.epochs);
    expect(b.optimizerStep).toBe(12);
    a.dispose();
    b.dispose();
  });

  it('regression with a step schedule, initialEpoch and sampleWeight per batch equals fit', async () => {
    const sw = Float32Array.from({ length: ROWS }, (_, i) => 1 + (i % 5) / 4);
    const sched = cosineDecay({ initialLearningRate: 0.05, decaySteps: 8 });
    const a = build('reg');
    const b = build('reg');
    const ha = await a.fit(x, yr, { epochs: 3, initialEpoch: 1, batchSize: BS, shuffle: false, sampleWeight: sw, schedule: sched });
    const batches = batchesOf(x, yr, 2).map((bt, i) => ({ ...bt, sampleWeight: sw.slice(i * BS, Math.min(ROWS, (i + 1) * BS)) }));
    const hb = await b.fitDataset(batches, { epochs: 3, initialEpoch: 1, schedule: sched });
    expect(bits(b)).toEqual(bits(a));
    expect(hb).toEqual(ha);
    a.dispose();
    b.dispose();
  });

  it('batchesPerEpoch: one continuing iteration of an endless generator object, split into epochs, equals fit', async () => {
    const bs = batchesOf(x, y, 3);
    let closed = false;
    function* forever(): Generator<DatasetBatch> {
      try {
        for (;;) yield* bs;
      } finally {
        closed = true;
      }
    }
    const a = build();
    const b = build();
    const ha = await a.fit(x, y, { epochs: 2, batchSize: BS, shuffle: false, seed: 1 });
    const hb = await b.fitDataset(forever(), { epochs: 2, batchesPerEpoch: bs.length, seed: 1 });
    expect(bits(b)).toEqual(bits(a));
    expect(hb).toEqual(ha);
    // the endless generator was closed when the fit ended
    expect(closed).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('validationData as a dataset of batches gives fit\'s validation logs (one batch: exactly; several: the row-weighted mean)', async () => {
    const a = build();
    const b = build();
    const ha = await a.fit(x, y, { epochs: 2, batchSize: BS, shuffle: false, validationData: [vx, vy] });
    const hb = await b.fitDataset(batchesOf(x, y, 3), { epochs: 2, validationData: () => batchesOf(vx, vy, 3, 10) });
    expect(bits(b)).toEqual(bits(a));
    for (const k of ['valLoss', 'valAccuracy', 'valCrossentropy']) hb.history[k]!.forEach((v, i) => expect(v).toBeCloseTo(ha.history[k]![i]!, 6));
    a.dispose();
    b.dispose();
  });

  it('model.stopTraining from a callback ends training after that epoch, as in fit', async () => {
    const a = build();
    const b = build();
    const stopAt1: Callback = { onEpochEnd(e) {
      if (e === 1) (this as unknown as { m: Sequential }).m.stopTraining = true;
    } };
    (stopAt1 as unknown as { m: Sequential }).m = a;
    const ha = await a.fit(x, y, { epochs: 5, batchSize: BS, shuffle: false, callbacks: [stopAt1] });
    (stopAt1 as unknown as { m: Sequential }).m = b;
    const hb = await b.fitDataset(batchesOf(x, y, 3), { epochs: 5, callbacks: [stopAt1] });
    expect(ha.epoch).toEqual([0, 1]);
    expect(hb).toEqual(ha);
    expect(bits(b)).toEqual(bits(a));
    a.dispose();
    b.dispose();
  });

  it('refuses bad options before anything changes, with typed errors naming the option', async () => {
    const m = build();
    const before = bits(m);
    const gen = (function* () {
      yield* batchesOf(x, y, 3);
    })();
    const cases: [unknown, unknown, Function, RegExp][] = [
      [42, {}, OptionError, /^fitDataset: dataset is number; expected an iterable/],
      [null, {}, OptionError, /fitDataset: dataset is null/],
      [gen, { epochs: 2 }, OptionError, /iterated only once.*\(\) => batches\(\)/],
      [[], { epochs: 0 }, OptionError, /^fitDataset: epochs = 0/],
      [[], { batchSize: 32 }, OptionError, /^fitDataset: unknown option 'batchSize'/],
      [[], { batchesPerEpoch: 1.5 }, OptionError, /batchesPerEpoch = 1.5/],
      [[], { validationBatchSize: 0 }, OptionError, /validationBatchSize = 0/],
      [[], { resumeFrom: null }, OptionError, /resumeFrom is not supported/],
      [[], { callbacks: [checkpointCallback({ everyEpochs: 1, save: () => undefined })] }, OptionError, /checkpoint writer/],
      [[], { validationData: [vx, Int32Array.from([1])] }, ShapeError, /fitDataset \(validationData\)/],
      [[], { validationData: 7, epochs: 2 }, OptionError, /validationData is number/],
      [[], { classWeight: { 9: 1 } }, OptionError, /classWeight has class 9/],
    ];
    for (const [ds, opts, cls, msg] of cases) {
      const e = await rejection(m.fitDataset(ds as never, opts as never));
      expect(e, msg.source).toBeInstanceOf(cls);
      expect(e.message).toMatch(msg);
      expect(bits(m)).toEqual(before);
      expect(m.optimizerStep).toBe(0);
      expect(m.isTraining).toBe(false);
    }
    // the generator object was not consumed by the refusal, and trains a single epoch
    await m.fitDataset(gen);
    expect(m.optimizerStep).toBe(4);
    m.dispose();
  });

  it('a bad batch mid-stream throws a typed error naming the epoch and batch, before its step', async () => {
    const m = build();
    const bs = batchesOf(x, y, 3);
    const cases: [unknown, Function, RegExp][] = [
      [{ x: new Float32Array(7), y: [0] }, ShapeError, /^fitDataset: epoch 0, batch 1/],
      [[bs[0]!.x, bs[0]!.y], OptionError, /epoch 0, batch 1: the dataset yielded an array; every batch must be an object \{ x, y \}/],
      [{ ...bs[0]!, sampleWeight: [1] }, ShapeError, /1 sample weights for 32 samples/],
    ];
    for (const [bad, cls, msg] of cases) {
      const step = m.optimizerStep;
      const e = await rejection(m.fitDataset([bs[0]!, bad as DatasetBatch, bs[1]!]));
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toMatch(msg);
      // the first batch's step was taken, the bad one's was not
      expect(m.optimizerStep).toBe(step + 1);
      expect(m.isTraining).toBe(false);
    }
    m.dispose();
  });

  it('an epoch with no batches, and a dataset ending before batchesPerEpoch, are typed errors', async () => {
    const m = build();
    const e1 = await rejection(m.fitDataset([]));
    expect(e1).toBeInstanceOf(OptionError);
    expect(e1.message).toMatch(/epoch 0 got no batches/);
    const e2 = await rejection(m.fitDataset(batchesOf(x, y, 3), { batchesPerEpoch: 3, epochs: 2 }));
    expect(e2).toBeInstanceOf(OptionError);
    expect(e2.message).toMatch(/ended after 1 of the 3 batches of epoch 1/);
    const e3 = await rejection(m.fitDataset(() => 5 as never));
    expect(e3).toBeInstanceOf(OptionError);
    expect(e3.message).toMatch(/the dataset function returned number/);
    expect(m.isTraining).toBe(false);
    m.dispose();
  });

  it('refuses while a fit runs (BusyError), refuses fit while it runs, and an uncompiled or disposed model', async () => {
    const m = build();
    const seen: Error[] = [];
    const probe: Callback = {
      onBatchEnd: async () => {
        seen.push(await rejection(m.fitDataset(batchesOf(x, y, 3))));
      },
    };
    await m.fit(x, y, { epochs: 1, batchSize: 50, callbacks: [probe] });
    const inner: Callback = {
      onEpochEnd: async () => {
        seen.push(await rejection(m.fit(x, y)));
      },
    };
    await m.fitDataset(batchesOf(x, y, 3), { callbacks: [inner] });
    expect(seen.map((e) => e.constructor)).toEqual([BusyError, BusyError, BusyError]);
    expect(seen[0]!.message).toMatch(/^fitDataset: this model is training/);
    expect(seen[2]!.message).toMatch(/a fitDataset has not finished/);
    const u = new Sequential({ inputShape: [D], layers: [dense(3)] });
    expect(await rejection(u.fitDataset(batchesOf(x, y, 3)))).toBeInstanceOf(OptionError);
    u.dispose();
    expect(await rejection(u.fitDataset(batchesOf(x, y, 3)))).toBeInstanceOf(DisposedError);
    m.dispose();
  });

  it('dispose() during fitDataset rejects it with DisposedError at the next batch', async () => {
    const m = build();
    const killer: Callback = { onBatchEnd: (b) => {
      if (b === 1) m.dispose();
    } };
    const e = await rejection(m.fitDataset(batchesOf(x, y, 3), { callbacks: [killer] }));
    expect(e).toBeInstanceOf(DisposedError);
    expect(e.message).toMatch(/^fitDataset: the model was disposed during training/);
  });
});
