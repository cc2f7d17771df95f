/**
 * Keras-named schedules against values from keras-team/keras
 * keras/src/optimizers/schedules/learning_rate_schedule_test.py and against the formulas of
 * learning_rate_schedule.py transcribed here.
 */
import { describe, expect, it } from 'vitest';
import {
  cosineDecay,
  cosineDecayRestarts,
  exponentialDecay,
  inverseTimeDecay,
  piecewiseConstantDecay,
  polynomialDecay,
} from '../../ts/schedules/index.js';
import { expectClose, range } from './helpers.js';

describe('exponentialDecay', () => {
  it('test_continuous: 0.05 · 0.96^(5/10) at step 5', () => {
    const s = exponentialDecay({ initialLearningRate: 0.05, decaySteps: 10, decayRate: 0.96 });
    expect(s.unit).toBe('step');
    expectClose(s(5), 0.05 * 0.96 ** (5 / 10), 'continuous');
  });
  it('test_staircase: no change at steps 1, 2; 0.1 · 0.96^(100 // 3) at 100', () => {
    const s = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.96, staircase: true });
    expectClose(s(1), 0.1, 'step 1');
    expectClose(s(2), 0.1, 'step 2');
    expectClose(s(100), 0.1 * 0.96 ** Math.floor(100 / 3), 'step 100');
  });
  it('staircase on vs off over many steps', () => {
    const on = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 7, decayRate: 0.5, staircase: true });
    const off = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 7, decayRate: 0.5 });
    for (const t of range(50)) {
      expectClose(on(t), 0.1 * 0.5 ** Math.floor(t / 7), `on t=${t}`);
      expectClose(off(t), 0.1 * 0.5 ** (t / 7), `off t=${t}`);
    }
  });
});

describe('inverseTimeDecay', () => {
  it('test_decay and test_staircase (0.1, k = 10, 0.96)', () => {
    const cont = inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.96 });
    const stair = inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.96, staircase: true });
    for (let i = 0; i <= 10; i++) {
      expectClose(cont(i), 0.1 / (1 + (i / 10) * 0.96), `continuous ${i}`);
      expectClose(stair(i), 0.1 / (1 + 0.96 * Math.floor(i / 10)), `staircase ${i}`);
    }
    expectClose(stair(25), 0.1 / (1 + 0.96 * 2), 'staircase 25');
  });
});

describe('piecewiseConstantDecay', () => {
  it('test_piecewise_values: keeps the old value AT the boundary', () => {
    const s = piecewiseConstantDecay({ boundaries: [100, 110, 120], values: [1.0, 0.1, 0.01, 0.001] });
    expectClose(s(0), 1.0, '0');
    expectClose(s(100), 1.0, '100');
    expectClose(s(105), 0.1, '105');
    expectClose(s(110), 0.1, '110');
    expectClose(s(120), 0.01, '120');
    expectClose(s(999), 0.001, '999');
  });
  it('test_boundary_values: [1, 2, 3] → [0.4, 0.5, 0.6, 0.7]', () => {
    const s = piecewiseConstantDecay({ boundaries: [1, 2, 3], values: [0.4, 0.5, 0.6, 0.7] });
    [0.4, 0.4, 0.5, 0.6, 0.7].forEach((v, t) => expectClose(s(t), v, `t=${t}`));
  });
});

describe('polynomialDecay', () => {
  const lr = 0.05;
  const endLr = 0.001;
  it('LinearDecayTest: halfway, end, halfway with end, beyond end, beyond end with cycle', () => {
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: 0 })(5), lr * 0.5, 'halfway');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr })(10), endLr, 'end');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr })(5), (lr + endLr) * 0.5, 'halfway with end');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr })(15), endLr, 'beyond end');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr, cycle: true })(15), (lr - endLr) * 0.25 + endLr, 'cycle');
  });
  it('SqrtDecayTest (power 0.5), including begin with cycle', () => {
    const p = 0.5;
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: 0, power: p })(5), lr * 0.5 ** p, 'halfway');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr, power: p })(10), endLr, 'end');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr, power: p })(5), (lr - endLr) * 0.5 ** p + endLr, 'halfway with end');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr, power: p })(15), endLr, 'beyond end');
    expectClose(polynomialDecay({ initialLearningRate: lr, decaySteps: 10, endLearningRate: endLr, power: p, cycle: true })(15), (lr - endLr) * 0.25 ** p + endLr, 'cycle');
    expectClose(polynomialDecay({ initialLearningRate: 0.001, decaySteps: 10, cycle: true })(0), 0.001, 'begin with cycle');
  });
  it('matches the Keras formula with and without cycle over several periods (default endLearningRate 1e-4)', () => {
    const keras = (t: number, cycle: boolean) => {
      let step = t;
      let d = 7;
      if (cycle) d = 7 * (t === 0 ? 1 : Math.ceil(t / 7));
      else step = Math.min(t, 7);
      return (0.1 - 1e-4) * (1 - step / d) ** 2 + 1e-4;
    };
    for (const t of range(30)) {
      expectClose(polynomialDecay({ initialLearningRate: 0.1, decaySteps: 7, power: 2 })(t), keras(t, false), `t=${t}`);
      expectClose(polynomialDecay({ initialLearningRate: 0.1, decaySteps: 7, power: 2, cycle: true })(t), keras(t, true), `cycle t=${t}`);
    }
  });
});

describe('cosineDecay', () => {
  const npCosineDecay = (step: number, decaySteps: number, alpha = 0) => {
    const s = Math.min(step, decaySteps);
    const decay = 0.5 * (1 + Math.cos((Math.PI * s) / decaySteps));
    return (1 - alpha) * decay + alpha;
  };
  const linearWarmup = (step: number, warmupSteps: number, initialLr: number, targetLr: number) => (step / warmupSteps) * (targetLr - initialLr);
  it('test_decay and test_alpha (clamps after decaySteps)', () => {
    for (let step = 0; step < 1500; step += 250) {
      expectClose(cosineDecay({ initialLearningRate: 1, decaySteps: 1000 })(step), npCosineDecay(step, 1000), `step ${step}`);
      expectClose(cosineDecay({ initialLearningRate: 1, decaySteps: 1000, alpha: 0.1 })(step), npCosineDecay(step, 1000, 0.1), `alpha step ${step}`);
    }
    expectClose(cosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 })(37), 0.1, 'stays at the floor');
  });
  it('test_warmup (initial 0, target 10, 1500 warm-up steps)', () => {
    const s = cosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 10, warmupSteps: 1500 });
    for (let step = 0; step < 1500; step += 250) expectClose(s(step), linearWarmup(step, 1500, 0, 10), `step ${step}`);
  });
  it('test_warmup_decay (2000 warm-up, 1000 decay)', () => {
    const s = cosineDecay({ initialLearningRate: 0, decaySteps: 1000, warmupTarget: 10, warmupSteps: 2000 });
    for (let step = 0; step < 3000; step += 250) {
      const expected = step < 2000 + 1 ? linearWarmup(step, 2000, 0, 10) : 10 * npCosineDecay(step - 2000, 1000);
      expectClose(s(step), expected, `step ${step}`);
    }
  });
  it('warm-up from a non-zero initial rate, then clamps at alpha·target (Keras __call__ transcribed)', () => {
    const keras = (t: number) => {
      const s = Math.min(t, 100 + 20);
      if (s < 20) return (0.5 - 0.1) * (s / 20) + 0.1;
      return 0.5 * ((1 - 0.2) * 0.5 * (1 + Math.cos(Math.PI * ((s - 20) / 100))) + 0.2);
    };
    const s = cosineDecay({ initialLearningRate: 0.1, decaySteps: 100, alpha: 0.2, warmupTarget: 0.5, warmupSteps: 20 });
    for (const t of range(200)) expectClose(s(t), keras(t), `t=${t}`);
  });
});

describe('cosineDecayRestarts', () => {
  /** Keras's own test reference (loop over periods). */
  const npCosineDecayRestarts = (step: number, decaySteps: number, tMul = 2, mMul = 1, alpha = 0) => {
    let fac = 1;
    while (step >= decaySteps) {
      step -= decaySteps;
      decaySteps *= tMul;
      fac *= mMul;
    }
    const completed = step / decaySteps;
    const decay = fac * 0.5 * (1 + Math.cos(Math.PI * completed));
    return (1 - alpha) * decay + alpha;
  };
  /** Keras __call__ transcribed (log-based period index). */
  const kerasCall = (step: number, first: number, tMul: number, mMul: number, alpha: number, lr0: number) => {
    let cf = step / first;
    let i: number;
    if (tMul === 1) {
      i = Math.floor(cf);
      cf -= i;
    } else {
      i = Math.floor(Math.log(1 - cf * (1 - tMul)) / Math.log(tMul));
      const sumR = (1 - tMul ** i) / (1 - tMul);
      cf = (cf - sumR) / tMul ** i;
    }
    const cos = 0.5 * mMul ** i * (1 + Math.cos(Math.PI * cf));
    return lr0 * ((1 - alpha) * cos + alpha);
  };
  it('test_decay, test_alpha, test_mmul (0.9), test_tmul (1.0)', () => {
    for (let step = 0; step < 1500; step += 250) {
      expectClose(cosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1000 })(step), npCosineDecayRestarts(step, 1000), `decay ${step}`);
      expectClose(cosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1000, alpha: 0.1 })(step), npCosineDecayRestarts(step, 1000, 2, 1, 0.1), `alpha ${step}`);
      expectClose(cosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1000, mMul: 0.9 })(step), npCosineDecayRestarts(step, 1000, 2, 0.9), `mmul ${step}`);
      expectClose(cosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1000, tMul: 1 })(step), npCosineDecayRestarts(step, 1000, 1), `tmul ${step}`);
    }
  });
  it('mMul < 1 and non-integer tMul over many periods, against both Keras references', () => {
    for (const [tMul, mMul, alpha] of [[1.5, 0.8, 0.05], [2.5, 0.5, 0], [1, 0.7, 0.1], [3, 1, 0.2]] as const) {
      const s = cosineDecayRestarts({ initialLearningRate: 0.3, firstDecaySteps: 10, tMul, mMul, alpha });
      for (let t = 0; t < 400; t += 1.7) {
        const loop = 0.3 * npCosineDecayRestarts(t, 10, tMul, mMul, alpha);
        expectClose(s(t), loop, `tMul=${tMul} mMul=${mMul} t=${t}`);
        expectClose(s(t), kerasCall(t, 10, tMul, mMul, alpha, 0.3), `keras call tMul=${tMul} t=${t}`);
      }
    }
  });
  it('restarts at the peak (times mMul^i) exactly at period boundaries', () => {
    // tMul 1.5, first 10: periods 10, 15, 22.5, 33.75 → restarts at 10, 25, 47.5, 81.25
    const s = cosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 10, tMul: 1.5, mMul: 0.5 });
    [10, 25, 47.5, 81.25].forEach((b, i) => expectClose(s(b), 0.5 ** (i + 1), `restart ${i + 1}`));
  });
});
