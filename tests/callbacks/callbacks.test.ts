// earlyStopping against Keras 3's rules (keras/src/callbacks/early_stopping.py) on synthetic
// metric sequences, driven through the callback hooks exactly as fit calls them; then in a real fit.
import { describe, expect, it } from 'vitest';
import { NonFiniteError, OptionError, cosineAnnealingLR, earlyStopping, init, learningRateScheduler, oneCycleLR, plateauCallback, reduceLROnPlateau, sgd, terminateOnNaN } from '../../ts/index.js';
import type { CallbackModel, EarlyStopping } from '../../ts/index.js';
import { tinyData, tinyModel } from '../helpers.js';

/** Runs the hooks over `values` as fit would; the fake model's only weight holds the epoch number. */
function drive(cb: EarlyStopping, values: number[], monitor = 'loss') {
  let current = -1;
  const model: CallbackModel = {
    stopTraining: false,
    learningRate: 0.1,
    getWeights: () => [{ name: 'w', shape: [1], data: Float32Array.of(current) }],
    setWeights: (w) => {
      current = w[0]!.data[0]!;
    },
  };
  cb.setModel!(model);
  cb.onTrainBegin!({});
  let epochs = 0;
  for (let e = 0; e < values.length; e++) {
    current = e;
    epochs++;
    cb.onEpochEnd!(e, { [monitor]: values[e]! });
    if (model.stopTraining) break;
  }
  cb.onTrainEnd!({});
  return { epochs, weightsEpoch: current };
}

describe('earlyStopping (Keras 3 semantics)', () => {
  it("Keras's docstring example: loss never improves after epoch 0, patience 3 → only 4 epochs run", () => {
    const cb = earlyStopping({ monitor: 'loss', patience: 3 });
    expect(drive(cb, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).epochs).toBe(4);
    expect(cb.stoppedEpoch).toBe(3);
    expect(cb.bestEpoch).toBe(0);
  });

  it('minDelta is absolute: an improvement smaller than minDelta counts as none', () => {
    const cb = earlyStopping({ monitor: 'loss', patience: 1, minDelta: -0.05 }); // sign ignored
    // epoch 1: 0.95 + 0.05 < 1.0 is false → wait 1 ≥ patience → stop at epoch 1
    expect(drive(cb, [1.0, 0.95, 0.5]).epochs).toBe(2);
    const cb2 = earlyStopping({ monitor: 'loss', patience: 1, minDelta: 0.05 });
    // 0.94 + 0.05 < 1.0 → improvement; 0.90 + 0.05 < 0.94 false → stop at 2
    expect(drive(cb2, [1.0, 0.94, 0.9, 0.1]).epochs).toBe(3);
  });

  it('max mode is chosen automatically for accuracy names', () => {
    const cb = earlyStopping({ monitor: 'valAccuracy', patience: 1 });
    expect(drive(cb, [0.5, 0.6, 0.55, 0.9], 'valAccuracy').epochs).toBe(3);
    expect(cb.best).toBe(0.6);
  });

  it('baseline: wait resets only when the baseline is beaten too; baseline does not seed best', () => {
    const cb = earlyStopping({ monitor: 'accuracy', patience: 2, baseline: 0.75 });
    // e0: wait 1, improves (best 0.5) but not over baseline → wait stays 1, no stop check on improvement
    // e1: wait 2, improves → return; e2: wait 3, improves → return; e3: wait 4, no improvement, 4 ≥ 2 → stop
    const r = drive(cb, [0.5, 0.6, 0.7, 0.65, 0.99], 'accuracy');
    expect(r.epochs).toBe(4);
    expect(cb.stoppedEpoch).toBe(3);
    expect(cb.best).toBe(0.7);
    // beating the baseline resets wait
    const cb2 = earlyStopping({ monitor: 'accuracy', patience: 2, baseline: 0.75 });
    expect(drive(cb2, [0.8, 0.7, 0.7, 0.7, 0.7], 'accuracy').epochs).toBe(3);
  });

  it('never stops at epoch 0, even with patience 0 and a non-improving first value', () => {
    const cb = earlyStopping({ monitor: 'loss', patience: 0 });
    // NaN is never an improvement: wait becomes 1 ≥ 0 at epoch 0, but Keras requires epoch > 0
    const r = drive(cb, [NaN, 1, 2]);
    expect(r.epochs).toBe(3); // e1 improves (1 < inf), e2 stops
    expect(cb.stoppedEpoch).toBe(2);
  });

  it('startFromEpoch ignores the first epochs', () => {
    const cb = earlyStopping({ monitor: 'loss', patience: 1, startFromEpoch: 3 });
    // e0–e2 ignored; e3 best 5; e4 worse → wait 1 → stop at 4
    expect(drive(cb, [1, 1, 1, 5, 6, 0]).epochs).toBe(5);
    expect(cb.bestEpoch).toBe(3);
  });

  it('restoreBestWeights restores the best epoch at the end, also when not stopped early', () => {
    const cb = earlyStopping({ monitor: 'loss', patience: 10, restoreBestWeights: true });
    const r = drive(cb, [3, 1, 2, 2.5]);
    expect(r.epochs).toBe(4);
    expect(cb.stoppedEpoch).toBe(0);
    expect(r.weightsEpoch).toBe(1);
    const cb2 = earlyStopping({ monitor: 'loss', patience: 1, restoreBestWeights: true });
    expect(drive(cb2, [3, 2, 4, 1]).weightsEpoch).toBe(1);
  });

  it('invalid options and a missing monitor raise OptionError naming the option', () => {
    expect(() => earlyStopping({ patience: -1 })).toThrow(/patience/);
    expect(() => earlyStopping({ mode: 'up' as never })).toThrow(OptionError);
    expect(() => earlyStopping({ patince: 3 } as never)).toThrow(/unknown option 'patince'/);
    const cb = earlyStopping({ monitor: 'valLoss' });
    expect(() => drive(cb, [1], 'loss')).toThrow(/no 'valLoss'; available: loss/);
  });
});

describe('callbacks in a real fit', () => {
  // labels unrelated to x: validation loss soon rises
  const { x, y } = tinyData({ inputSize: 6, rows: 120, dataSeed: 8, label: (r) => (r * 7) % 3 });

  it('early stopping stops, and the restored weights give the best recorded validation loss', async () => {
    await init();
    const m = tinyModel({ inputSize: 6, hidden: 64, seed: 1, optimizer: sgd({ lr: 0.2 }) }).model;
    const es = earlyStopping({ monitor: 'valLoss', patience: 3, restoreBestWeights: true });
    const h = await m.fit(x, y, { epochs: 200, batchSize: 8, validationSplit: 0.25, callbacks: [es] });
    expect(h.epoch.length).toBeLessThan(200);
    expect(es.stoppedEpoch).toBe(h.epoch.length - 1);
    const best = Math.min(...h.history.valLoss!);
    expect(h.history.valLoss![es.bestEpoch]).toBe(best);
    const after = m.evaluate(x.subarray(90 * 6), y.subarray(90)).loss;
    expect(after).toBeCloseTo(best, 6);
    m.dispose();
  });

  it('terminateOnNaN ends fit cleanly where fit would otherwise throw', async () => {
    await init();
    const m = tinyModel({ inputSize: 6, seed: 1, optimizer: sgd({ lr: 0.1 }) }).model;
    const w = m.getWeights();
    w[0]!.data.fill(3e38);
    m.setWeights(w);
    await expect(m.fit(x, y, { epochs: 2 })).rejects.toThrow(NonFiniteError);
    const h = await m.fit(x, y, { epochs: 2, callbacks: [terminateOnNaN()] });
    expect(h.epoch.length).toBe(0);
    expect(m.getWeights()[0]!.data[0]).toBe(3e38 === Math.fround(3e38) ? 3e38 : Math.fround(3e38));
    m.dispose();
  });
});

describe('plateauCallback', () => {
  it('follows PyTorch ReduceLROnPlateau rules (bad epochs > patience, relative threshold)', () => {
    const cb = plateauCallback(reduceLROnPlateau({ patience: 1, factor: 0.5, threshold: 0 }), { monitor: 'loss' });
    const model: CallbackModel = { stopTraining: false, learningRate: 0.1, getWeights: () => [], setWeights: () => {} };
    cb.setModel!(model);
    cb.onTrainBegin!({});
    const lrs: number[] = [];
    // e0 best 1; e1 bad 1; e2 bad 2 > 1 → ×0.5, bad 0; e3 improves; e4 bad 1
    for (const [e, v] of [1, 1, 1, 0.5, 0.6].entries()) {
      cb.onEpochEnd!(e, { loss: v });
      lrs.push(model.learningRate);
    }
    expect(lrs.map((v) => Number(v.toPrecision(12)))).toEqual([0.1, 0.1, 0.05, 0.05, 0.05]);
  });

  it('the reduced rate reaches the kernel in a real fit, and a schedule beside it is refused', async () => {
    await init();
    const { model: m, x, y } = tinyModel({ inputSize: 6, seed: 1, optimizer: sgd({ lr: 0.1 }), rows: 40, dataSeed: 2 });
    // threshold 1 (rel): nothing is ever "better" after epoch 0; patience 0, factor 0 → lr 0 after epoch 1
    const cb = plateauCallback(reduceLROnPlateau({ patience: 0, factor: 0, threshold: 1 }), { monitor: 'loss' });
    const seen: number[][] = [];
    const h = await m.fit(x, y, { epochs: 4, batchSize: 8, callbacks: [cb, { onEpochEnd: () => void seen.push(m.getWeights().flatMap((t) => Array.from(t.data))) }] });
    expect(h.history.lr).toEqual([0.1, 0.1, 0, 0]);
    expect(seen[1]).not.toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[1]);
    expect(seen[3]).toEqual(seen[1]);
    await expect(m.fit(x, y, { schedule: cosineAnnealingLR({ lr: 0.1, tMax: 3 }), callbacks: [cb] })).rejects.toThrow(/withPlateau/);
    m.dispose();
  });
});

describe('progressBar', () => {
  it("draws a live bar with ETA on a TTY, is quiet elsewhere, and writes one line per epoch in mode 'epoch'", async () => {
    const { progressBar } = await import('../../ts/index.js');
    await init();
    const { model: m, x, y } = tinyModel({ inputSize: 3, classes: 2, rows: 64, dataSeed: 5 });
    let tty = '';
    await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: [progressBar({ stream: { isTTY: true, columns: 100, write: (s: string) => (tty += s) }, intervalMs: 0 })] });
    expect(tty).toMatch(/\r\x1b\[2Kepoch 1\/2 \[=+>?\.*\] \d+\/8 - ETA/);
    expect(tty).toMatch(/epoch 2\/2 - [\d.]+s - loss: \d\.\d{4} - accuracy: \d\.\d{4}/);
    let quiet = '';
    await m.fit(x, y, { epochs: 3, batchSize: 8, callbacks: [progressBar({ stream: { write: (s: string) => (quiet += s) } })] });
    expect(quiet).toBe('');
    let plain = '';
    await m.fit(x, y, { epochs: 3, batchSize: 8, callbacks: [progressBar({ mode: 'epoch', stream: { isTTY: true, write: (s: string) => (plain += s) } })] });
    expect(plain.trim().split('\n')).toHaveLength(3);
    expect(plain).not.toMatch(/ETA|\r/);
    expect(plain).toMatch(/^epoch 1\/3 - [\d.]+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - lr: /);
    expect(() => progressBar({ mode: 'lines' as never })).toThrow(OptionError);
    m.dispose();
  });
});

describe('learningRateScheduler (Keras LearningRateScheduler)', () => {
  const { x, y } = tinyData({ classes: 2, rows: 64, dataSeed: 11 });

  it("Keras's docstring schedule: lr kept for the first epochs, then × e^-0.1 per epoch; epoch counts initialEpoch", async () => {
    await init();
    const m = tinyModel({ classes: 2, seed: 1, optimizer: sgd({ lr: 0.01 }) }).model;
    const seen: number[] = [];
    const fn = (epoch: number, lr: number) => {
      seen.push(epoch);
      return epoch < 3 ? lr : lr * Math.exp(-0.1);
    };
    const h = await m.fit(x, y, { epochs: 6, initialEpoch: 1, batchSize: 16, callbacks: [learningRateScheduler(fn)] });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const expected = [0.01, 0.01, 0.01 * Math.exp(-0.1), 0.01 * Math.exp(-0.2), 0.01 * Math.exp(-0.3)];
    h.history.lr!.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-15));
    m.dispose();
  });

  it('with an epoch schedule it trains exactly like fit({ schedule }); bad values and step schedules are refused', async () => {
    await init();
    const make = () => tinyModel({ hidden: 3, activation: 'tanh', classes: 2, seed: 2, optimizer: sgd({ lr: 0.1, momentum: 0.9 }) }).model;
    const a = make();
    const b = make();
    await a.fit(x, y, { epochs: 4, batchSize: 16, seed: 3, schedule: cosineAnnealingLR({ lr: 0.1, tMax: 4 }) });
    await b.fit(x, y, { epochs: 4, batchSize: 16, seed: 3, callbacks: [learningRateScheduler(cosineAnnealingLR({ lr: 0.1, tMax: 4 }))] });
    expect(b.getWeights().map((t) => Array.from(t.data))).toEqual(a.getWeights().map((t) => Array.from(t.data)));
    const before = b.getWeights().map((t) => Array.from(t.data));
    await expect(b.fit(x, y, { epochs: 2, callbacks: [learningRateScheduler(() => NaN)] })).rejects.toThrow(OptionError);
    expect(b.getWeights().map((t) => Array.from(t.data))).toEqual(before); // refused before the first step
    expect(() => learningRateScheduler(oneCycleLR({ maxLr: 0.1, totalSteps: 10 }))).toThrow(/per batch/);
    expect(() => learningRateScheduler(3 as never)).toThrow(OptionError);
    a.dispose();
    b.dispose();
  });
});

describe('reduceLROnPlateau listed directly in callbacks', () => {
  it('drives the rate from valLoss with PyTorch rules, re-derived here from the logged history', async () => {
    await init();
    // unrelated labels: valLoss stalls
    const { model: m, x, y } = tinyModel({ hidden: 16, seed: 4, optimizer: sgd({ lr: 0.5 }), rows: 80, dataSeed: 12, label: (r) => (r * 5) % 3 });
    const h = await m.fit(x, y, { epochs: 12, batchSize: 8, validationSplit: 0.25, callbacks: [reduceLROnPlateau({ patience: 1, factor: 0.5 })] });
    // PyTorch ReduceLROnPlateau (mode min, threshold 1e-4 rel, cooldown 0, eps 1e-8)
    let lr = 0.5;
    let best = Infinity;
    let bad = 0;
    const expected: number[] = [];
    for (const v of h.history.valLoss!) {
      expected.push(lr); // the rate used during this epoch
      if (v < best * (1 - 1e-4)) {
        best = v;
        bad = 0;
      } else bad++;
      if (bad > 1) {
        const next = lr * 0.5;
        if (lr - next > 1e-8) lr = next;
        bad = 0;
      }
    }
    expect(h.history.lr).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1); // it did reduce
    // without validation data the valLoss monitor is refused before training starts
    const before = m.getWeights().map((t) => Array.from(t.data));
    await expect(m.fit(x, y, { epochs: 2, callbacks: [reduceLROnPlateau()] })).rejects.toThrow(/validation/);
    expect(m.getWeights().map((t) => Array.from(t.data))).toEqual(before);
    m.dispose();
  });
});
