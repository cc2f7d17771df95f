// Momentum cycling (cyclicLR / oneCycleLR `cycleMomentum`, PyTorch's `cycle_momentum`) against
// PyTorch 1.13 (tests/fixtures/torch-momentum-cycling.json, written by
// scripts/fixtures/torch_momentum_cycling.py): the per-step lr and momentum / β1 of the
// schedulers, what they refuse, and the weights of a small MLP trained by fit with each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OptionError, Sequential, adagrad, adam, adamw, checkpointCallback, cyclicLR, dense, deserializeCheckpoint, init, oneCycleLR, rmsprop, scheduleFromJSON, sgd,
  type OptimizerConfig, type Schedule,
} from '../../ts/index.js';

beforeAll(async () => {
  await init();
});

type Py = Record<string, unknown>;
interface SchedCase { name: string; scheduler: 'cyclic' | 'onecycle'; options: Py; optimizer: string; lr: number[]; momentum: number[] }
interface Refusal { scheduler: 'cyclic' | 'onecycle'; optimizer: string; refused: boolean; error?: string; momentumAfter?: number }
interface TrainCase {
  name: string; optimizer: string; optimizerOptions: Py; scheduler: 'cyclic' | 'onecycle'; options: Py;
  inputs: number; hidden: number; outputs: number; batch: number; x: number[]; y: number[]; init: number[][]; after: number[][][]; momentum: number[];
}
const fx = JSON.parse(readFileSync(join(__dirname, '../fixtures/torch-momentum-cycling.json'), 'utf8')) as { torch: string; schedules: SchedCase[]; refusals: Refusal[]; training: TrainCase[] };

/** PyTorch's option names → wasmfit's (snake_case → camelCase, same values). */
const camel = (o: Py): Py => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
const schedule = (kind: 'cyclic' | 'onecycle', o: Py): Schedule => (kind === 'cyclic' ? cyclicLR(camel(o) as never) : oneCycleLR(camel(o) as never));
const optimizer = (kind: string, o: Py): OptimizerConfig => {
  const c = camel(o) as never;
  return kind === 'sgd' ? sgd(c) : kind === 'rmsprop' ? rmsprop(c) : kind === 'adam' ? adam(c) : kind === 'adamw' ? adamw(c) : adagrad(c);
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('schedule.momentum(t) against PyTorch 1.13 (lr and momentum / betas[0] per step)', () => {
  it('the fixture comes from PyTorch 1.13', () => {
    expect(fx.torch).toMatch(/^1\.13/);
  });
  it.each(fx.schedules.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const s = schedule(c.scheduler, c.options);
    expect(s.momentum).toBeTypeOf('function');
    c.lr.forEach((v, t) => expect(rel(s(t), v), `lr at t = ${t}`).toBeLessThanOrEqual(1e-12));
    c.momentum.forEach((v, t) => expect(rel(s.momentum!(t), v), `momentum at t = ${t}`).toBeLessThanOrEqual(1e-12));
  });

  it("PyTorch's defaults: cycle on, CyclicLR 0.8/0.9, OneCycleLR 0.85/0.95; cycleMomentum: false removes momentum(t)", () => {
    const c = cyclicLR({ baseLr: 0.1, maxLr: 1, stepSizeUp: 2 });
    expect([c.momentum!(0), c.momentum!(2), c.momentum!(4)]).toEqual([0.9, 0.8, 0.9]);
    expect(c.toJSON()).toMatchObject({ cycleMomentum: true, baseMomentum: 0.8, maxMomentum: 0.9 });
    const o = oneCycleLR({ maxLr: 1, totalSteps: 10 });
    expect(o.momentum!(0)).toBe(0.95);
    expect(o.toJSON()).toMatchObject({ cycleMomentum: true, baseMomentum: 0.85, maxMomentum: 0.95 });
    expect(cyclicLR({ baseLr: 0.1, maxLr: 1, cycleMomentum: false }).momentum).toBeUndefined();
    expect(oneCycleLR({ maxLr: 1, totalSteps: 10, cycleMomentum: false }).momentum).toBeUndefined();
  });

  it('toJSON → scheduleFromJSON keeps the momentum; a config from before momentum cycling revives without it', () => {
    const s = oneCycleLR({ maxLr: 0.1, totalSteps: 30, threePhase: true, baseMomentum: 0.7 });
    const r = scheduleFromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    for (let t = 0; t <= 30; t++) expect(r.momentum!(t)).toBe(s.momentum!(t));
    const { cycleMomentum: _c, baseMomentum: _b, maxMomentum: _m, ...old } = cyclicLR({ baseLr: 0.1, maxLr: 1 }).toJSON();
    expect(scheduleFromJSON(old).momentum).toBeUndefined();
  });

  it('refuses bad momentum options and t with OptionError naming the option', () => {
    expect(() => cyclicLR({ baseLr: 0.1, maxLr: 1, baseMomentum: 1 })).toThrow(OptionError);
    expect(() => cyclicLR({ baseLr: 0.1, maxLr: 1, maxMomentum: -0.1 })).toThrow(/maxMomentum/);
    expect(() => oneCycleLR({ maxLr: 1, totalSteps: 10, baseMomentum: Number.NaN })).toThrow(/baseMomentum/);
    expect(() => oneCycleLR({ maxLr: 1, totalSteps: 10, cycleMomentum: 1 as never })).toThrow(/cycleMomentum/);
    expect(() => oneCycleLR({ maxLr: 1, totalSteps: 10 }).momentum!(-1)).toThrow(/t = -1/);
    expect(() => oneCycleLR({ maxLr: 1, totalSteps: 10 }).momentum!(11)).toThrow(/totalSteps = 10/);
  });
});

const D = 3;
const rowsOf = (c: TrainCase) => c.x.length / c.inputs;
function model(c: TrainCase, opt: OptimizerConfig): Sequential {
  const m = new Sequential({ inputShape: [c.inputs], layers: [dense(c.hidden, { activation: 'tanh' }), dense(c.outputs)] });
  m.compile({ optimizer: opt, loss: 'mse' });
  m.setWeights(c.init.map((d) => ({ data: Float32Array.from(d) })));
  return m;
}
const data = (c: TrainCase) => ({ x: { data: Float32Array.from(c.x), shape: [rowsOf(c), c.inputs] as [number, number] }, y: { data: Float32Array.from(c.y), shape: [rowsOf(c), c.outputs] as [number, number] } });
const bytesOf = (m: Sequential) => Buffer.concat(m.getWeights().map((t) => Buffer.from(t.data.buffer)));

describe('fit applies the momentum / β1 each step: weights against PyTorch 1.13', () => {
  it.each(fx.training.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    expect(D).toBe(c.inputs);
    const m = model(c, optimizer(c.optimizer, c.optimizerOptions));
    const s = schedule(c.scheduler, c.options);
    c.momentum.forEach((v, t) => expect(rel(s.momentum!(t), v)).toBeLessThanOrEqual(1e-12));
    const { x, y } = data(c);
    let worst = 0;
    await m.fit(x, y, {
      epochs: 1, batchSize: c.batch, shuffle: false, schedule: s,
      callbacks: [{ onBatchEnd: (b) => {
        m.getWeights().forEach((w, i) => c.after[b]![i]!.forEach((v, j) => {
          worst = Math.max(worst, Math.abs(w.data[j]! - v) / (2e-6 + 2e-5 * Math.abs(v)));
        }));
      } }],
    });
    expect(worst, 'max |Δ| / (2e-6 + 2e-5·|w|) over every step').toBeLessThanOrEqual(1);
    // without the cycling the same run ends elsewhere (the momentum mattered)
    const plain = model(c, optimizer(c.optimizer, c.optimizerOptions));
    await plain.fit(x, y, { epochs: 1, batchSize: c.batch, shuffle: false, schedule: schedule(c.scheduler, { ...c.options, cycle_momentum: false }) });
    const last = c.after[c.after.length - 1]!;
    const off = Math.max(...plain.getWeights().flatMap((w, i) => last[i]!.map((v, j) => Math.abs(w.data[j]! - v))));
    expect(off).toBeGreaterThan(1e-4);
    m.dispose();
    plain.dispose();
  });
});

describe('refusals: an optimizer without momentum or β1', () => {
  const c = fx.training[0]!;
  it("matches PyTorch 1.13's: AdaGrad refused by both schedulers; Adam accepted by OneCycleLR", () => {
    const r = (s: string, o: string) => fx.refusals.find((f) => f.scheduler === s && f.optimizer === o)!;
    expect(r('cyclic', 'adagrad').refused).toBe(true);
    expect(r('onecycle', 'adagrad').refused).toBe(true);
    expect(r('onecycle', 'adam')).toMatchObject({ refused: false, momentumAfter: 0.95 });
    // PyTorch accepts SGD / RMSprop with momentum 0 and turns momentum on: wasmfit refuses that
    // (below) and says how to get it
    expect(r('onecycle', 'sgd')).toMatchObject({ refused: false, momentumAfter: 0.95 });
    expect(r('cyclic', 'rmsprop')).toMatchObject({ refused: false, momentumAfter: 0.9 });
    // PyTorch 1.13's CyclicLR refuses Adam; later PyTorch and wasmfit cycle β1
    expect(r('cyclic', 'adam').refused).toBe(true);
  });

  it.each([
    ['adagrad', () => adagrad({ lr: 0.1 }), /cycles momentum, but adagrad has none.*cycleMomentum: false/],
    ['sgd with momentum 0', () => sgd({ lr: 0.1 }), /but sgd has none.*cycleMomentum: false.*momentum > 0/],
    ['rmsprop with momentum 0', () => rmsprop({ lr: 0.01 }), /but rmsprop has none.*cycleMomentum: false/],
  ])('fit refuses %s with OptionError naming schedule, the model unchanged', async (_n, opt, msg) => {
    const m = model(c, opt());
    const before = bytesOf(m);
    const { x, y } = data(c);
    for (const s of [cyclicLR({ baseLr: 0.01, maxLr: 0.1 }), oneCycleLR({ maxLr: 0.1, totalSteps: 20 })]) {
      const err = await m.fit(x, y, { batchSize: c.batch, schedule: s }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OptionError);
      expect((err as OptionError).option).toBe('schedule');
      expect((err as Error).message).toMatch(msg);
      const err2 = await m.fitDataset([{ x, y }], { schedule: s }).catch((e: unknown) => e);
      expect(err2).toBeInstanceOf(OptionError);
    }
    expect(bytesOf(m).equals(before)).toBe(true);
    expect(m.optimizerStep).toBe(0);
    // the fix the message gives works
    await m.fit(x, y, { batchSize: c.batch, schedule: oneCycleLR({ maxLr: 0.1, totalSteps: 20, cycleMomentum: false }) });
    expect(m.optimizerStep).toBe(rowsOf(c) / c.batch);
    m.dispose();
  });
});

describe('checkpoints: momentum cycling resumes bit-identically', () => {
  it.each([
    ['adam (β1 cycled, bias correction with the current β1)', () => adam({ lr: 0.01 })],
    ['sgd nesterov (momentum cycled)', () => sgd({ lr: 0.1, momentum: 0.9, nesterov: true })],
  ])('%s: resume mid-epoch equals the uninterrupted run', async (_n, opt) => {
    const c = fx.training[0]!;
    const { x, y } = data(c);
    const sched = () => oneCycleLR({ maxLr: 0.05, totalSteps: 3 * (rowsOf(c) / c.batch), threePhase: true });
    const opts = { batchSize: c.batch, epochs: 3, seed: 5 };
    const straight = model(c, opt());
    await straight.fit(x, y, { ...opts, schedule: sched() });
    const first = model(c, opt());
    let saved: Uint8Array | null = null;
    await first.fit(x, y, { ...opts, schedule: sched(), callbacks: [checkpointCallback({ everyEpochs: 0, everyBatches: 1, save: (b, p) => { if (p.epoch === 1 && p.batch === 5) saved = b; } })] });
    const { model: resumed, resume } = deserializeCheckpoint(saved!);
    expect(resume!.globalStep).toBe(rowsOf(c) / c.batch + 5);
    await resumed.fit(x, y, { ...opts, seed: undefined, resumeFrom: resume! });
    expect(bytesOf(resumed).equals(bytesOf(straight))).toBe(true);
    expect(bytesOf(first).equals(bytesOf(straight))).toBe(true);
    for (const k of [straight, first, resumed]) k.dispose();
  });
});
