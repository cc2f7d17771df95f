/**
 * Plateau reducers: PyTorch ReduceLROnPlateau against test_reduce_lr_on_plateau1–8
 * (pytorch/pytorch test/optim/test_lrscheduler.py; lr checked after each step(metric)) and against
 * the class transcribed here; Keras ReduceLROnPlateau against its callback tests
 * (keras/src/callbacks/reduce_lr_on_plateau_test.py) and its on_epoch_end transcribed here.
 */
import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../../ts/errors/index.js';
import {
  cosineAnnealingLR,
  kerasReduceLROnPlateau,
  multiStepLR,
  plateauFromJSON,
  reduceLROnPlateau,
  withPlateau,
  type Plateau,
  type PlateauState,
  type ReduceLROnPlateauOptions,
} from '../../ts/schedules/index.js';
import { expectClose, expectOptionError, range } from './helpers.js';

function run(p: Plateau, lr: number, metrics: readonly number[]): number[] {
  let s = p.init(lr);
  return metrics.map((m) => {
    s = p.update(s, m);
    return p.lr(s);
  });
}

function expectLrs(actual: number[], expected: number[], label: string) {
  expected.forEach((e, i) => expectClose(actual[i] as number, e, `${label} epoch ${i}`));
}

const fill = (n: number, v: number) => Array(n).fill(v) as number[];

describe('reduceLROnPlateau: PyTorch test values', () => {
  it('plateau1: abs, min, threshold 0.01, patience 5, cooldown 5 — never reduces', () => {
    const p = reduceLROnPlateau({ thresholdMode: 'abs', mode: 'min', threshold: 0.01, patience: 5, cooldown: 5 });
    expectLrs(run(p, 0.5, range(10).map((i) => 10 - i * 0.0167)), fill(10, 0.5), 'p1');
  });
  it('plateau2: abs, min, threshold 0.1, patience 5, no cooldown', () => {
    const p = reduceLROnPlateau({ patience: 5, cooldown: 0, thresholdMode: 'abs', mode: 'min', threshold: 0.1 });
    expectLrs(run(p, 0.5, range(22).map((i) => 10 - i * 0.0165)), [...fill(6, 0.5), ...fill(7, 0.05), ...fill(7, 0.005), ...fill(2, 0.0005)], 'p2');
  });
  it('plateau3: max, abs, patience 5, cooldown 5', () => {
    const p = reduceLROnPlateau({ mode: 'max', patience: 5, cooldown: 5, thresholdMode: 'abs' });
    expectLrs(run(p, 0.5, [...fill(2, -0.8), ...fill(20, -0.234)]), [...fill(8, 0.5), ...fill(11, 0.05), ...fill(4, 0.005)].slice(0, 22), 'p3');
  });
  it('plateau4: max, rel 0.1, patience 3 — 2.5% gains compound past 10% within patience, so never reduce', () => {
    const p = reduceLROnPlateau({ mode: 'max', patience: 3, thresholdMode: 'rel', threshold: 0.1 });
    expectLrs(run(p, 0.5, range(20).map((i) => 1.5 * 1.025 ** i)), fill(20, 0.5), 'p4');
  });
  it('plateau5: max, rel 0.1, patience 5, cooldown 5', () => {
    const p = reduceLROnPlateau({ mode: 'max', thresholdMode: 'rel', threshold: 0.1, patience: 5, cooldown: 5 });
    expectLrs(run(p, 0.5, range(20).map((i) => 1.5 * 1.005 ** i)), [...fill(6, 0.5), ...fill(11, 0.05), ...fill(4, 0.005)].slice(0, 20), 'p5');
  });
  it('plateau6: min, rel 0.1 — improving by 15% each epoch never reduces', () => {
    const p = reduceLROnPlateau({ mode: 'min', thresholdMode: 'rel', threshold: 0.1 });
    expectLrs(run(p, 0.5, range(20).map((i) => 1.5 * 0.85 ** i)), fill(20, 0.5), 'p6');
  });
  it('plateau7: min, rel 0.1, patience 5, cooldown 5 with a late improvement', () => {
    const p = reduceLROnPlateau({ mode: 'min', thresholdMode: 'rel', threshold: 0.1, patience: 5, cooldown: 5 });
    expectLrs(run(p, 0.5, [...fill(7, 1), 0.6, ...fill(12, 0.5)]), [...fill(6, 0.5), ...fill(11, 0.05), ...fill(4, 0.005)].slice(0, 20), 'p7');
  });
  it('plateau8: minLr 0.4 floors the reduction', () => {
    const p = reduceLROnPlateau({ mode: 'max', thresholdMode: 'rel', minLr: 0.4, threshold: 0.1, patience: 5, cooldown: 5 });
    expectLrs(run(p, 0.5, range(20).map((i) => 1.5 * 1.005 ** i)), [...fill(6, 0.5), ...fill(14, 0.4)], 'p8');
  });
});

/** PyTorch ReduceLROnPlateau.step / _reduce_lr / _is_better transcribed (single param group). */
function torchPlateau(o: Required<ReduceLROnPlateauOptions>, lr0: number, metrics: number[]): number[] {
  let lr = lr0;
  let best = o.mode === 'min' ? Infinity : -Infinity;
  let bad = 0;
  let cooldownCounter = 0;
  const isBetter = (a: number) => {
    if (o.mode === 'min' && o.thresholdMode === 'rel') return a < best * (1 - o.threshold);
    if (o.mode === 'min') return a < best - o.threshold;
    if (o.thresholdMode === 'rel') return a > best * (o.threshold + 1);
    return a > best + o.threshold;
  };
  return metrics.map((current) => {
    if (isBetter(current)) {
      best = current;
      bad = 0;
    } else bad += 1;
    if (cooldownCounter > 0) {
      cooldownCounter -= 1;
      bad = 0;
    }
    if (bad > o.patience) {
      const newLr = Math.max(lr * o.factor, o.minLr);
      if (lr - newLr > o.eps) lr = newLr;
      cooldownCounter = o.cooldown;
      bad = 0;
    }
    return lr;
  });
}

/** A deterministic noisy loss curve with plateaus. */
function noisyMetrics(n: number, seed: number): number[] {
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  return range(n).map((i) => 1 / (1 + 0.05 * i) + 0.03 * (rnd() - 0.5) + (i % 17 < 8 ? 0 : 0.02));
}

describe('reduceLROnPlateau: transcribed PyTorch class, both modes and threshold modes', () => {
  it('agrees over 200 epochs for every mode × thresholdMode × cooldown', () => {
    for (const mode of ['min', 'max'] as const) {
      for (const thresholdMode of ['rel', 'abs'] as const) {
        for (const cooldown of [0, 3]) {
          const o = { mode, factor: 0.5, patience: 2, threshold: 0.01, thresholdMode, cooldown, minLr: 1e-4, eps: 1e-8 };
          const metrics = noisyMetrics(200, 7).map((m) => (mode === 'max' ? -m : m));
          const ours = run(reduceLROnPlateau(o), 0.1, metrics);
          expectLrs(ours, torchPlateau(o, 0.1, metrics), `${mode}/${thresholdMode}/cooldown ${cooldown}`);
          expect(new Set(ours).size).toBeGreaterThan(2);
        }
      }
    }
  });
  it('eps skips reductions smaller than eps, but still enters cooldown', () => {
    const o = { mode: 'min' as const, factor: 0.5, patience: 0, threshold: 0, thresholdMode: 'abs' as const, cooldown: 1, minLr: 0, eps: 0.3 };
    const metrics = [1, 1, 1, 1, 1, 1];
    expectLrs(run(reduceLROnPlateau(o), 1, metrics), torchPlateau(o, 1, metrics), 'eps');
    expectLrs(run(reduceLROnPlateau(o), 1, metrics), [1, 0.5, 0.5, 0.5, 0.5, 0.5], 'eps explicit');
  });
});

/** Keras ReduceLROnPlateau.on_epoch_end transcribed. */
function kerasPlateau(o: { mode: 'min' | 'max'; factor: number; patience: number; minDelta: number; cooldown: number; minLr: number }, lr0: number, metrics: number[]): number[] {
  let lr = lr0;
  let best = o.mode === 'min' ? Infinity : -Infinity;
  let wait = 0;
  let cooldownCounter = 0;
  const monitorOp = (a: number, b: number) => (o.mode === 'min' ? a < b - o.minDelta : a > b + o.minDelta);
  return metrics.map((current) => {
    if (cooldownCounter > 0) {
      cooldownCounter -= 1;
      wait = 0;
    }
    if (monitorOp(current, best)) {
      best = current;
      wait = 0;
    } else if (!(cooldownCounter > 0)) {
      wait += 1;
      if (wait >= o.patience) {
        if (lr > o.minLr) {
          lr = Math.max(lr * o.factor, o.minLr);
          cooldownCounter = o.cooldown;
          wait = 0;
        }
      }
    }
    return lr;
  });
}

describe('kerasReduceLROnPlateau', () => {
  const losses = [1.0, 0.9, 0.8, 0.7];
  it('test_reduces_lr_with_model_fit: patience 1, minDelta 100, 2 epochs → 0.01', () => {
    const lrs = run(kerasReduceLROnPlateau({ patience: 1, factor: 0.1, minDelta: 100 }), 0.1, losses.slice(0, 2));
    expectClose(lrs[1] as number, 0.01, 'after 2 epochs');
  });
  it('test_honors_min_lr: minDelta 10, minLr 0.005, 4 epochs → 0.005', () => {
    const lrs = run(kerasReduceLROnPlateau({ patience: 1, factor: 0.1, minDelta: 10, minLr: 0.005 }), 0.1, losses);
    expectClose(lrs[3] as number, 0.005, 'after 4 epochs');
  });
  it('test_cooldown: cooldown 2 → reduced twice in 4 epochs → 0.001', () => {
    const lrs = run(kerasReduceLROnPlateau({ patience: 1, factor: 0.1, minDelta: 100, cooldown: 2 }), 0.1, losses);
    expectClose(lrs[3] as number, 0.001, 'after 4 epochs');
  });
  it('reduces one epoch earlier than PyTorch (wait >= patience vs > patience)', () => {
    const flat = fill(6, 1);
    expectLrs(run(kerasReduceLROnPlateau({ patience: 2, factor: 0.5, minDelta: 0 }), 1, flat), [1, 1, 0.5, 0.5, 0.25, 0.25], 'keras');
    expectLrs(run(reduceLROnPlateau({ patience: 2, factor: 0.5, threshold: 0 }), 1, flat), [1, 1, 1, 0.5, 0.5, 0.5], 'pytorch');
  });
  it('agrees with the transcribed callback for both modes, with cooldown and minLr', () => {
    for (const mode of ['min', 'max'] as const) {
      for (const cooldown of [0, 2]) {
        const o = { mode, factor: 0.3, patience: 3, minDelta: 0.005, cooldown, minLr: 2e-4 };
        const metrics = noisyMetrics(200, 11).map((m) => (mode === 'max' ? -m : m));
        const ours = run(kerasReduceLROnPlateau(o), 0.1, metrics);
        expectLrs(ours, kerasPlateau(o, 0.1, metrics), `keras ${mode} cooldown ${cooldown}`);
        expect(new Set(ours).size).toBeGreaterThan(2);
      }
    }
  });
});

describe('plateau state: pure, JSON-able, validated', () => {
  for (const make of [() => reduceLROnPlateau({ patience: 2, cooldown: 1, factor: 0.5 }), () => kerasReduceLROnPlateau({ patience: 2, cooldown: 1, factor: 0.5 })]) {
    const p = make();
    it(`${p.name}: save → JSON → restore → continue is identical; update does not mutate`, () => {
      const metrics = noisyMetrics(120, 3);
      let a: PlateauState = p.init(0.1);
      const lrsA: number[] = [];
      for (const m of metrics) {
        const before = JSON.stringify(a);
        const next = p.update(a, m);
        expect(JSON.stringify(a)).toBe(before);
        a = next;
        lrsA.push(p.lr(a));
      }
      let b: PlateauState = p.init(0.1);
      const lrsB: number[] = [];
      metrics.forEach((m, i) => {
        b = JSON.parse(JSON.stringify(p.update(b, m))) as PlateauState;
        if (i === 0) expect(b.best).toBe(m);
        lrsB.push(p.lr(b));
      });
      expect(lrsB).toEqual(lrsA);
      expect(JSON.parse(JSON.stringify(p.init(0.1)))).toEqual({ lr: 0.1, best: null, badEpochs: 0, cooldownCounter: 0, epoch: 0 });
      const revived = plateauFromJSON(JSON.parse(JSON.stringify(p)));
      expect(run(revived, 0.1, metrics)).toEqual(lrsA);
    });
  }
  it('refuses a non-finite metric, a corrupt state and bad options', () => {
    const p = reduceLROnPlateau();
    const s = p.init(0.1);
    expect(() => p.update(s, NaN)).toThrow(NonFiniteError);
    expectOptionError(() => p.update(s, '1' as unknown as number), 'metric', 'expected a number');
    expectOptionError(() => p.update({ ...s, best: 'x' } as unknown as PlateauState, 1), 'state', '.best = "x"');
    expectOptionError(() => p.update({ ...s, badEpochs: -1 }, 1), 'state', '.badEpochs = -1');
    expectOptionError(() => p.init(-1), 'lr', '>= 0');
    expectOptionError(() => reduceLROnPlateau({ factor: 1 }), 'factor', 'factor >= 1');
    expectOptionError(() => reduceLROnPlateau({ mode: 'auto' as 'min' }), 'mode', "one of 'min', 'max'");
    expectOptionError(() => reduceLROnPlateau({ thresholdMode: 'relative' as 'rel' }), 'thresholdMode', "one of 'rel', 'abs'");
    expectOptionError(() => reduceLROnPlateau({ patience: 1.5 }), 'patience', 'an integer >= 0');
    expectOptionError(() => kerasReduceLROnPlateau({ minDelta: -1 }), 'minDelta', '>= 0');
    expectOptionError(() => reduceLROnPlateau({ min_lr: 0 } as unknown as ReduceLROnPlateauOptions), 'min_lr', 'unknown option');
  });
});

describe('withPlateau', () => {
  it('lr = schedule(t) × scale, the scale following the plateau from 1', () => {
    const schedule = cosineAnnealingLR({ lr: 0.1, tMax: 30 });
    const c = withPlateau(schedule, reduceLROnPlateau({ patience: 2, factor: 0.5 }));
    expect(c.unit).toBe('epoch');
    const metrics = [1, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8];
    const expectedScale = torchPlateau({ mode: 'min', factor: 0.5, patience: 2, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8 }, 1, metrics);
    let st = c.init();
    expect(c.scale(st)).toBe(1);
    metrics.forEach((m, epoch) => {
      st = c.update(st, m);
      expectClose(c.scale(st), expectedScale[epoch] as number, `scale ${epoch}`);
      expectClose(c.lr(st, epoch + 1), schedule(epoch + 1) * (expectedScale[epoch] as number), `lr ${epoch}`);
    });
    expect(expectedScale).toContain(0.25);
    const again = JSON.parse(JSON.stringify(st)) as PlateauState;
    expectClose(c.lr(again, 12), c.lr(st, 12), 'restored');
    expect(JSON.parse(JSON.stringify(c))).toMatchObject({ kind: 'withPlateau', schedule: { kind: 'cosineAnnealingLR' }, plateau: { kind: 'reduceLROnPlateau' } });
  });
  it('equals PyTorch chaining ReduceLROnPlateau with a chainable MultiStepLR (minLr 0)', () => {
    // Chained on one optimizer, both multiply the current lr: lr = base · gamma^k(t) · factor^j.
    const schedule = multiStepLR({ lr: 0.5, milestones: [3, 8, 12], gamma: 0.1 });
    const c = withPlateau(schedule, reduceLROnPlateau({ patience: 5, threshold: 0.1, thresholdMode: 'abs' }));
    const metrics = range(22).map((i) => 10 - i * 0.0165);
    const plateauOnly = [...fill(6, 0.5), ...fill(7, 0.05), ...fill(7, 0.005), ...fill(2, 0.0005)]; // test_reduce_lr_on_plateau2
    let st = c.init();
    metrics.forEach((m, epoch) => {
      st = c.update(st, m);
      const t = epoch + 1;
      expectClose(c.lr(st, t), (plateauOnly[epoch] as number) * (schedule(t) / 0.5), `epoch ${epoch}`);
    });
  });
  it('refuses non-schedules', () => {
    expectOptionError(() => withPlateau((() => 1) as never, reduceLROnPlateau()), 'schedule', 'expected a schedule');
    expectOptionError(() => withPlateau(cosineAnnealingLR({ lr: 1, tMax: 2 }), {} as Plateau), 'plateau', 'expected a plateau reducer');
  });
});
