// Training checkpoints in-process: optimizer state, plateau and step-schedule state resume
// exactly; resume options are checked; corrupt checkpoints are refused with FormatError.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FormatError, OptionError, Sequential, adam, batchNorm, checkpointCallback, dense, deserializeCheckpoint, deserializeModel, dropout, earlyStopping, init,
  oneCycleLR, plateauCallback, reduceLROnPlateau, rmsprop, serializeCheckpoint, serializeModel, sgd, type OptimizerConfig, type Callback,
} from '../../ts/index.js';
import { classData, join, split } from './container-util.js';

const rows = 90;
const d = 5;
const data = (seed: number) => classData(rows, d, seed);
const { x, y } = data(4);
const build = (optimizer: OptimizerConfig) => {
  const m = new Sequential({ inputShape: [d], seed: 3, layers: [dense(12, { activation: 'relu' }), batchNorm(), dropout(0.2), dense(3)] });
  m.compile({ optimizer, loss: 'softmaxCrossEntropy' });
  return m;
};
const bytesOf = (m: Sequential) => Buffer.concat(m.getWeights().map((t) => Buffer.from(t.data.buffer)));

beforeAll(async () => {
  await init();
});

describe('serializeCheckpoint / deserializeCheckpoint', () => {
  it.each([
    ['adam (m, v)', () => adam({ lr: 0.01 })],
    ['amsgrad (3 slots)', () => adam({ lr: 0.01, amsgrad: true })],
    ['rmsprop centered + momentum (3 slots)', () => rmsprop({ lr: 0.01, centered: true, momentum: 0.5 })],
    ['sgd without momentum (no slots)', () => sgd({ lr: 0.1 })],
  ])('outside fit: optimizer state, step, lr and dropout counter continue exactly (%s)', async (_, opt) => {
    const a = build(opt());
    await a.fit(x, y, { epochs: 2, batchSize: 16 });
    a.learningRate = 0.005;
    const { model: b, resume } = deserializeCheckpoint(serializeCheckpoint(a));
    expect(resume).toBeNull();
    expect(b.optimizerStep).toBe(a.optimizerStep);
    expect(b.learningRate).toBe(0.005);
    await a.fit(x, y, { epochs: 2, batchSize: 16, seed: 9 });
    await b.fit(x, y, { epochs: 2, batchSize: 16, seed: 9 });
    expect(bytesOf(b).equals(bytesOf(a))).toBe(true);
    // and the same continuation from a fresh optimizer differs (the state was needed)
    const c = deserializeModel(serializeModel(a));
    expect(c.optimizerStep).toBe(0);
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('plateauCallback state and the learning rate it set resume exactly (epoch-end checkpoint)', async () => {
    const plateau = () => plateauCallback(reduceLROnPlateau({ patience: 0, factor: 0.5, threshold: 0.05 }), { monitor: 'loss' });
    const opts = { batchSize: 16, validationSplit: 0.2 };
    const straight = build(adam({ lr: 0.02 }));
    const h = await straight.fit(x, y, { ...opts, epochs: 8, callbacks: [plateau()] });
    expect(new Set(h.history.lr).size).toBeGreaterThan(1); // the plateau did reduce the rate
    const first = build(adam({ lr: 0.02 }));
    let saved: Uint8Array | null = null;
    const at: unknown[] = [];
    await first.fit(x, y, { ...opts, epochs: 8, callbacks: [checkpointCallback({ save: (b, p) => { if (p.epoch === 4) saved = b; at.push(p); }, everyEpochs: 2 }), plateau(), { onEpochEnd: (e) => { if (e === 4) first.stopTraining = true; } }] });
    expect(at).toEqual([{ epoch: 2, batch: 0 }, { epoch: 4, batch: 0 }]);
    const { model, resume } = deserializeCheckpoint(saved!);
    expect(resume!.epoch).toBe(4);
    const h2 = await model.fit(x, y, { ...opts, epochs: 8, callbacks: [plateau()], resumeFrom: resume! });
    expect(h2.epoch).toEqual([4, 5, 6, 7]);
    expect(h2.history.lr).toEqual(h.history.lr!.slice(4));
    expect(h2.history.valLoss).toEqual(h.history.valLoss!.slice(4));
    expect(bytesOf(model).equals(bytesOf(straight))).toBe(true);
  });

  it('a step-unit schedule (oneCycleLR) resumes mid-epoch; the schedule is revived when omitted', async () => {
    const sched = () => oneCycleLR({ maxLr: 0.05, totalSteps: 6 * 6 });
    const opts = { batchSize: 16, epochs: 6 };
    const straight = build(sgd({ lr: 0.05, momentum: 0.9 }));
    const h = await straight.fit(x, y, { ...opts, schedule: sched() });
    const first = build(sgd({ lr: 0.05, momentum: 0.9 }));
    let saved: Uint8Array | null = null;
    await first.fit(x, y, { ...opts, schedule: sched(), callbacks: [checkpointCallback({ everyEpochs: 0, everyBatches: 1, save: (b, p) => { if (p.epoch === 2 && p.batch === 4) saved = b; } })] });
    const { model, resume } = deserializeCheckpoint(saved!);
    expect([resume!.epoch, resume!.batch, resume!.globalStep]).toEqual([2, 4, 16]);
    const h2 = await model.fit(x, y, { ...opts, resumeFrom: resume! });
    expect(h2.history.lr).toEqual(h.history.lr!.slice(2));
    expect(h2.history.loss).toEqual(h.history.loss!.slice(2));
    expect(bytesOf(model).equals(bytesOf(straight))).toBe(true);
  });

  it('refuses resume options that differ from the checkpointed run, leaving the model as it was', async () => {
    const es = () => earlyStopping({ monitor: 'loss', patience: 5 });
    const a = build(adam({ lr: 0.01 }));
    let saved: Uint8Array | null = null;
    await a.fit(x, y, { epochs: 2, batchSize: 16, callbacks: [es(), checkpointCallback({ save: (b) => { saved = b; } })] });
    const { model, resume } = deserializeCheckpoint(saved!);
    const before = bytesOf(model);
    const step = model.optimizerStep;
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ batchSize: 8 }, 'resumeFrom', /batchSize 16, shuffle true; this call has 90, 8, true/],
      [{ shuffle: false }, 'resumeFrom', /this call has 90, 16, false/],
      [{ schedule: oneCycleLR({ maxLr: 0.1, totalSteps: 10 }) }, 'schedule', /differs from the checkpointed run's none/],
      [{ callbacks: [] }, 'callbacks', /\[\] differ from the checkpointed run's \[earlyStopping\]/],
      [{ seed: 1 }, 'seed', /leave seed out/],
      [{ initialEpoch: 0 }, 'initialEpoch', /continues epoch 2/],
      [{ epochs: 1 }, 'epochs', /checkpoint is in epoch 2/],
      [{ validationSplit: 0.5 }, 'resumeFrom', /90 training rows/],
    ];
    for (const [o, option, msg] of cases) {
      const err = await model.fit(x, y, { epochs: 4, batchSize: 16, callbacks: [es()], resumeFrom: resume!, ...o }).catch((e) => e);
      expect(err, JSON.stringify(o)).toBeInstanceOf(OptionError);
      expect((err as OptionError).option).toBe(option);
      expect((err as Error).message).toMatch(msg);
    }
    const bad = await model.fit(x, y, { epochs: 4, resumeFrom: { ...resume!, idx: new Int32Array(rows) } as never }).catch((e) => e);
    expect(bad).toBeInstanceOf(OptionError);
    expect((bad as Error).message).toMatch(/permutation/);
    expect(bytesOf(model).equals(before)).toBe(true);
    expect(model.optimizerStep).toBe(step);
    // and the right options work
    await model.fit(x, y, { epochs: 4, batchSize: 16, callbacks: [es()], resumeFrom: resume! });
    expect(model.optimizerStep).toBe(step + 2 * 6);
  });

  it('checkpointCallback validates its options; an uncompiled model has no checkpoint', () => {
    expect(() => checkpointCallback({} as never)).toThrow(OptionError);
    expect(() => checkpointCallback({ save: () => {}, everyBatches: -1 })).toThrow(/everyBatches/);
    expect(() => checkpointCallback({ save: () => {}, every: 1 } as never)).toThrow(/unknown option 'every'/);
    const m = new Sequential({ inputShape: 2, layers: [dense(2)] });
    expect(() => serializeCheckpoint(m)).toThrow(/not compiled/);
  });
});

describe('deserializeCheckpoint refuses bad checkpoints with a FormatError', () => {
  let good: Uint8Array;
  beforeAll(async () => {
    const a = build(adam({ lr: 0.01 }));
    const cb: Callback = checkpointCallback({ save: (b) => { good = b; } });
    await a.fit(x, y, { epochs: 1, batchSize: 16, callbacks: [earlyStopping({ monitor: 'loss', restoreBestWeights: true }), cb] });
  });
  const refuse = (bytes: Uint8Array, msg: RegExp) => {
    let err: unknown;
    try {
      deserializeCheckpoint(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(msg);
  };

  it('a model file is not a checkpoint, but a checkpoint loads as a model', () => {
    const m = build(adam());
    refuse(serializeModel(m), /kind is model; expected checkpoint/);
    const fromCkpt = deserializeModel(good);
    expect(fromCkpt.optimizerStep).toBe(0);
  });

  it('the stored state is what the loop had: early-stopping best weights and ±Infinity tags round-trip', () => {
    const p = split(good);
    const fit = p.header.fit as { callbacks: { kind: string; state: { bestWeights: { data: { $tensor: string } }[] } }[]; idx: { $tensor: string } };
    expect(fit.callbacks[0]!.kind).toBe('earlyStopping');
    expect(fit.callbacks[0]!.state.bestWeights[0]!.data.$tensor).toMatch(/^state\//);
    const { resume } = deserializeCheckpoint(good);
    const st = resume!.callbacks[0]!.state as { bestWeights: { data: Float32Array }[] };
    expect(st.bestWeights[0]!.data).toBeInstanceOf(Float32Array);
    expect(resume!.idx).toBeInstanceOf(Int32Array);
  });

  it('tampered training state is named', () => {
    const p = split(good);
    const edit = (f: (h: any) => void) => {
      const h = structuredClone(p.header);
      f(h);
      return join({ ...p, header: h });
    };
    refuse(edit((h) => (h.fit.idx = { $tensor: 'state/999' })), /header\.fit\.idx\.\$tensor names "state\/999"/);
    refuse(edit((h) => (h.fit.batch = 1e6)), /header\.fit is invalid: .*batch = 1000000 is past/);
    refuse(edit((h) => (h.fit.rng.s = [0, 0, 0, 0])), /header\.fit is invalid: .*rng/);
    refuse(edit((h) => (h.fit.lossSum = { $f64: 'Infinity' })), /lossSum = Infinity/);
    refuse(edit((h) => (h.fit.lossSum = { $f64: 'huge' })), /\$f64 is "huge"/);
    refuse(edit((h) => (h.training.step = -1)), /header\.training or the optimizer state is invalid/);
    refuse(edit((h) => (h.compile = null)), /header\.compile is missing/);
    // an optimizer tensor renamed away: the optimizer needs it
    refuse(edit((h) => (h.tensors.find((t: { name: string }) => t.name.startsWith('optimizer/')).name = 'junk/x')), /optimizer state/);
    // a duplicated row index (the data is the same size, so only the permutation check catches it)
    const fit = p.header.fit as { idx: { $tensor: string } };
    const e = (p.header.tensors as { name: string; offset: number }[]).find((t) => t.name === fit.idx.$tensor)!;
    const data = p.data.slice();
    new DataView(data.buffer).setInt32(e.offset, new DataView(data.buffer).getInt32(e.offset + 4, true), true);
    refuse(join({ ...p, data }), /permutation/);
  });
});
