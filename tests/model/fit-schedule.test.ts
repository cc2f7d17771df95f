// fit drives the learning rate from a schedule: per epoch or per step, as the schedule declares.
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, type Sequential, cosineAnnealingLR, init, manual, sgd, stepLR } from '../../ts/index.js';
import { type TinyOptions, tinyData, tinyModel } from '../helpers.js';

// 6 → 8 relu → 3, sgd lr 0.1; 40 rows, labels i % 3
const TINY: TinyOptions = { inputSize: 6, hidden: 8, seed: 4, optimizer: sgd({ lr: 0.1 }), rows: 40, dataSeed: 3 };
const { x, y } = tinyData(TINY);
const model = (): Sequential => tinyModel(TINY).model;
const flat = (m: Sequential) => m.getWeights().flatMap((t) => Array.from(t.data));

describe('fit with a schedule', () => {
  beforeAll(async () => {
    await init();
  });

  it('an epoch schedule sets lr = schedule(epoch) each epoch (PyTorch StepLR: 0.1·0.5^⌊e/2⌋) and logs it', async () => {
    const m = model();
    const h = await m.fit(x, y, { epochs: 5, batchSize: 8, schedule: stepLR({ lr: 0.1, stepSize: 2, gamma: 0.5 }) });
    const want = [0, 1, 2, 3, 4].map((e) => 0.1 * 0.5 ** Math.floor(e / 2));
    h.history.lr!.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    m.dispose();
  });

  it('the rate reaches the kernel: a zero rate from epoch 1 on freezes the weights', async () => {
    const m = model();
    const seen: number[][] = [];
    await m.fit(x, y, {
      epochs: 3,
      batchSize: 8,
      schedule: manual([0.1, 0, 0], { unit: 'epoch' }),
      callbacks: [{ onEpochEnd: () => void seen.push(flat(m)) }],
    });
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    const fresh = model();
    expect(seen[0]).not.toEqual(flat(fresh)); // epoch 0 did train
    m.dispose();
    fresh.dispose();
  });

  it('a step schedule advances once per optimizer step', async () => {
    const m = model();
    const h = await m.fit(x, y, { epochs: 2, batchSize: 8, schedule: manual((t) => 0.01 * (t + 1), { unit: 'step' }) });
    // 40 rows / 8 = 5 steps per epoch: the last step of epoch e is step 5e + 4
    expect(h.history.lr![0]).toBeCloseTo(0.05, 12);
    expect(h.history.lr![1]).toBeCloseTo(0.1, 12);
    m.dispose();
  });

  it('rejects a non-schedule and a schedule yielding an invalid rate, leaving the model unchanged', async () => {
    const m = model();
    const before = flat(m);
    await expect(m.fit(x, y, { schedule: (() => 0.1) as never })).rejects.toThrow(OptionError);
    await expect(m.fit(x, y, { schedule: Object.assign(() => -1, { unit: 'epoch' }) as never })).rejects.toThrow(/returned -1 at epoch 0/);
    expect(flat(m)).toEqual(before);
    const h = await m.fit(x, y, { epochs: 2, schedule: cosineAnnealingLR({ lr: 0.1, tMax: 2 }) });
    expect(h.history.lr![1]).toBeCloseTo(0.05, 12); // eta_min + (lr − eta_min)(1 + cos(π·1/2))/2
    m.dispose();
  });
});

describe('initialEpoch', () => {
  it('runs epochs initialEpoch … epochs − 1 and epoch schedules see the absolute epoch (Keras)', async () => {
    await init();
    const m = model();
    const h = await m.fit(x, y, { epochs: 5, initialEpoch: 3, schedule: stepLR({ lr: 0.1, stepSize: 2, gamma: 0.5 }) });
    expect(h.epoch).toEqual([3, 4]);
    expect(h.history.lr).toEqual([0.1 * 0.5 ** 1, 0.1 * 0.5 ** 2]);
    await expect(m.fit(x, y, { epochs: 2, initialEpoch: 2 })).rejects.toThrow(/initialEpoch = 2/);
    m.dispose();
  });
});
