/**
 * Source-document forms, composition (PyTorch SequentialLR / ChainedScheduler explicit test values
 * from test/optim/test_lrscheduler.py) and JSON revival.
 */
import { describe, expect, it } from 'vitest';
import {
  chained,
  constant,
  constantLR,
  cosineAnnealingLR,
  cosineDecay,
  cyclicLR,
  exponentialEpochDecay,
  exponentialLR,
  inverseSqrtDecay,
  inverseTimeEpochDecay,
  lambdaLR,
  linearLR,
  manual,
  multiStepLR,
  oneCycleLR,
  piecewiseConstantDecay,
  polynomialLR,
  scheduleFromJSON,
  sequentialLR,
  stepDecay,
  stepLR,
  warmup,
  cosineAnnealingWarmRestarts,
  cosineDecayRestarts,
  exponentialDecay,
  inverseTimeDecay,
  polynomialDecay,
  type Schedule,
} from '../../ts/schedules/index.js';
import { expectClose, expectOptionError, expectSeries, range } from './helpers.js';

describe('source-document forms', () => {
  it('constant, inverse-time lr0/(1 + decayRate·epoch), exponential 0.95^epoch·lr0', () => {
    expectSeries(constant({ lr: 0.01 }), [0.01, 0.01, 0.01], 'constant');
    expectSeries(inverseTimeEpochDecay({ lr: 0.1, decayRate: 0.5 }), range(10).map((e) => 0.1 / (1 + 0.5 * e)), 'inverse time');
    expectSeries(exponentialEpochDecay({ lr: 0.2 }), range(30).map((e) => 0.95 ** e * 0.2), 'exponential 0.95');
    expectSeries(exponentialEpochDecay({ lr: 0.2, base: 0.8 }), range(10).map((e) => 0.8 ** e * 0.2), 'exponential 0.8');
  });
  it('inverseSqrtDecay: k/√(t+1)·lr0 with the unit it is given', () => {
    const perBatch = inverseSqrtDecay({ lr: 0.1, k: 2, unit: 'step' });
    expect(perBatch.unit).toBe('step');
    expectSeries(perBatch, range(20).map((t) => (2 / Math.sqrt(t + 1)) * 0.1), 'k/sqrt(t)');
    expect(inverseSqrtDecay({ lr: 0.1 }).unit).toBe('epoch');
    expectClose(inverseSqrtDecay({ lr: 0.1 })(3), 0.05, 'k = 1 at epoch index 3 (4th epoch)');
  });
  it('stepDecay halves every dropEvery', () => {
    expectSeries(stepDecay({ lr: 0.1, dropEvery: 3 }), range(12).map((t) => 0.1 * 0.5 ** Math.floor(t / 3)), 'halving');
    expectSeries(stepDecay({ lr: 0.1, dropEvery: 2, factor: 0.1, unit: 'step' }), [0.1, 0.1, 0.01, 0.01, 0.001], 'factor 0.1');
  });
  it('manual: table holds its last value; function is called as is', () => {
    const table = manual([0.1, 0.1, 0.05, 0.01]);
    expectSeries(table, [0.1, 0.1, 0.05, 0.01, 0.01, 0.01], 'table');
    expectClose(table(2.7), 0.05, 'fractional t uses ⌊t⌋');
    const f = manual((t) => (t < 5 ? 0.1 : 0.01), { unit: 'step' });
    expect(f.unit).toBe('step');
    expectSeries(f, [0.1, 0.1, 0.1, 0.1, 0.1, 0.01], 'fn');
    expectOptionError(() => manual((t) => (t > 2 ? NaN : 1))(3), 'fn', 'returned NaN');
    expectOptionError(() => manual((t) => (t > 2 ? -1 : 1))(3), 'fn', 'returned -1');
  });
});

describe('sequentialLR (PyTorch SequentialLR: each schedule restarts its counter)', () => {
  it('test_sequentiallr1: ExponentialLR(0.8) then StepLR(0.1, 4) at 3', () => {
    const s = sequentialLR([exponentialLR({ lr: 0.05, gamma: 0.8 }), stepLR({ lr: 0.05, gamma: 0.1, stepSize: 4 })], [3]);
    expectSeries(s, [0.05, 0.04, 0.032, ...Array(4).fill(0.05), ...Array(4).fill(0.005), ...Array(4).fill(0.0005), ...Array(4).fill(0.00005)], 'seq1');
  });
  it('test_sequentiallr2: ConstantLR(0.1, 3) then ExponentialLR(0.9)', () => {
    const s = sequentialLR([constantLR({ lr: 0.05, factor: 0.1, totalIters: 3 }), exponentialLR({ lr: 0.05, gamma: 0.9 })], [3]);
    expectSeries(s, [0.005, 0.005, 0.005, ...range(10).map((x) => 0.05 * 0.9 ** x)], 'seq2');
  });
  it('test_sequentiallr3: three schedules, milestones [3, 6]', () => {
    const s = sequentialLR(
      [constantLR({ lr: 0.05, factor: 0.1, totalIters: 3 }), exponentialLR({ lr: 0.05, gamma: 0.8 }), stepLR({ lr: 0.05, gamma: 0.1, stepSize: 2 })],
      [3, 6],
    );
    expectSeries(s, [0.005, 0.005, 0.005, 0.05, 0.04, 0.032, 0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005], 'seq3');
  });
  it('test_sequentiallr_does_not_alias_lr_and_initial_lr: LinearLR up then down', () => {
    const s = sequentialLR([linearLR({ lr: 2, startFactor: 0.1, endFactor: 0.8, totalIters: 4 }), linearLR({ lr: 2, startFactor: 0.8, endFactor: 0.1, totalIters: 4 })], [4]);
    expectSeries(s, [0.2, 0.55, 0.9, 1.25, 1.6, 1.25, 0.9, 0.55], 'seq alias');
  });
});

describe('chained (PyTorch ChainedScheduler: product of factors)', () => {
  it('test_chained_lr2 / lr3: LinearLR(0.4, 3) × MultiStepLR([4, 8, 10])', () => {
    expectSeries(chained(linearLR({ lr: 0.05, startFactor: 0.4, totalIters: 3 })), [0.02, 0.03, 0.04, ...Array(9).fill(0.05)], 'chain2');
    const s = chained(linearLR({ lr: 0.05, startFactor: 0.4, totalIters: 3 }), multiStepLR({ lr: 1, milestones: [4, 8, 10] }));
    expectSeries(s, [0.02, 0.03, 0.04, 0.05, 0.005, 0.005, 0.005, 0.005, 0.0005, 0.0005, 0.00005, 0.00005], 'chain3');
  });
  it('test_chained_lr4: ExponentialLR(0.9) × ConstantLR(0.2, 4) × StepLR(0.1, 3)', () => {
    const s = chained(exponentialLR({ lr: 0.05, gamma: 0.9 }), constantLR({ lr: 7, factor: 0.2, totalIters: 4 }), stepLR({ lr: 3, gamma: 0.1, stepSize: 3 }));
    const target = [
      ...range(3).map((x) => 0.05 * 0.2 * 0.9 ** x),
      0.05 * 0.2 * 0.9 ** 3 * 0.1,
      ...[4, 5].map((x) => 0.05 * 0.9 ** x * 0.1),
      ...[6, 7, 8].map((x) => 0.05 * 0.9 ** x * 0.01),
    ];
    expectSeries(s, target, 'chain4');
  });
  it('test_chained_lr5: PolynomialLR(0.9) × ConstantLR(0.1)', () => {
    const s = chained(polynomialLR({ lr: 0.05, power: 0.9, totalIters: 5 }), constantLR({ lr: 1, factor: 0.1 }));
    const poly = [...range(5).map((x) => 0.05 * (1 - x / 5) ** 0.9), ...Array(5).fill(0)];
    expectSeries(s, poly.map((x) => x * 0.1), 'chain5', 1e-6, 1e-15);
  });
});

describe('warmup', () => {
  it('ramps linearly from startFactor·then(0) to then(0), then restarts then’s counter', () => {
    const cos = cosineAnnealingLR({ lr: 0.1, tMax: 20 });
    const s = warmup({ steps: 5, startFactor: 0.2 }, cos);
    expect(s.unit).toBe('epoch');
    for (const t of range(5)) expectClose(s(t), 0.1 * (0.2 + (0.8 * t) / 5), `ramp ${t}`);
    for (const t of range(30)) expectClose(s(t + 5), 0.05 * (1 + Math.cos((Math.PI * t) / 20)), `then ${t}`);
    const zero = warmup({ steps: 4 }, cosineDecay({ initialLearningRate: 1, decaySteps: 10 }));
    expectSeries(zero, [0, 0.25, 0.5, 0.75, 1], 'default startFactor 0');
  });
  it('equals Keras CosineDecay with warm-up when started from 0', () => {
    const keras = cosineDecay({ initialLearningRate: 0, decaySteps: 100, warmupTarget: 0.1, warmupSteps: 10 });
    const ours = warmup({ steps: 10 }, cosineDecay({ initialLearningRate: 0.1, decaySteps: 100 }));
    for (const t of range(150)) expectClose(ours(t), keras(t), `t=${t}`);
  });
});

describe('composition units', () => {
  it('refuses mixed units, naming the option', () => {
    const epochly = stepLR({ lr: 0.1, stepSize: 2 });
    const stepwise = cyclicLR({ baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 });
    expectOptionError(() => sequentialLR([epochly, stepwise], [3]), 'schedules', 'counts steps');
    expectOptionError(() => chained(epochly, stepwise), 'schedules', 'expected one unit');
    expectOptionError(() => sequentialLR([epochly, epochly], [3, 4]), 'milestones', 'schedules.length − 1');
    expectOptionError(() => sequentialLR([epochly, epochly, epochly], [4, 3]), 'milestones', 'strictly increasing');
    expectOptionError(() => sequentialLR([epochly, ((t: number) => t) as unknown as Schedule], [3]), 'schedules', 'expected a schedule');
    expectOptionError(() => chained(epochly, piecewiseConstantDecay({ boundaries: [1], values: [0, 1] }) as Schedule), 'schedules', 'counts steps');
  });
});

describe('JSON', () => {
  const all: Schedule[] = [
    stepLR({ lr: 0.1, stepSize: 3 }),
    multiStepLR({ lr: 0.1, milestones: [2, 5] }),
    exponentialLR({ lr: 0.1, gamma: 0.9 }),
    cosineAnnealingLR({ lr: 0.1, tMax: 10, etaMin: 0.001 }),
    cosineAnnealingWarmRestarts({ lr: 0.1, t0: 5, tMult: 2 }),
    cyclicLR({ baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, mode: 'exp_range', gamma: 0.99 }),
    oneCycleLR({ maxLr: 0.1, totalSteps: 50, threePhase: true }),
    linearLR({ lr: 0.1 }),
    polynomialLR({ lr: 0.1, power: 2 }),
    constantLR({ lr: 0.1 }),
    exponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.5, staircase: true }),
    inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.5 }),
    piecewiseConstantDecay({ boundaries: [3, 6], values: [0.1, 0.05, 0.01] }),
    polynomialDecay({ initialLearningRate: 0.1, decaySteps: 7, cycle: true }),
    cosineDecay({ initialLearningRate: 0.1, decaySteps: 20 }),
    cosineDecay({ initialLearningRate: 0, decaySteps: 20, warmupTarget: 0.1, warmupSteps: 5 }),
    cosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 5, tMul: 1.5, mMul: 0.9 }),
    constant({ lr: 0.1, unit: 'step' }),
    inverseTimeEpochDecay({ lr: 0.1, decayRate: 1 }),
    exponentialEpochDecay({ lr: 0.1 }),
    inverseSqrtDecay({ lr: 0.1, unit: 'step' }),
    stepDecay({ lr: 0.1, dropEvery: 4 }),
    manual([0.1, 0.05]),
    warmup({ steps: 3, startFactor: 0.1 }, cosineAnnealingLR({ lr: 0.1, tMax: 10 })),
    sequentialLR([constantLR({ lr: 0.1, factor: 0.5, totalIters: 2 }), exponentialLR({ lr: 0.1, gamma: 0.9 })], [3]),
    chained(exponentialLR({ lr: 0.1, gamma: 0.9 }), stepLR({ lr: 1, stepSize: 2 })),
  ];
  it('scheduleFromJSON(JSON round trip) reproduces every schedule', () => {
    for (const s of all) {
      const copy = scheduleFromJSON(JSON.parse(JSON.stringify(s)));
      expect(copy.name).toBe(s.name);
      expect(copy.unit).toBe(s.unit);
      expect(Array.from(copy.sample(40))).toEqual(Array.from(s.sample(40)));
    }
  });
  it('refuses schedules holding functions and unknown kinds', () => {
    expectOptionError(() => scheduleFromJSON(JSON.parse(JSON.stringify(lambdaLR({ lr: 1, lrLambda: () => 1 })))), 'config', 'user function');
    expectOptionError(() => scheduleFromJSON({ kind: 'nope', unit: 'epoch' }), 'config', 'not a schedule');
    expectOptionError(() => scheduleFromJSON(null), 'config', 'expected the object returned by schedule.toJSON()');
  });
  it('sample(n) returns t = 0 … n−1 and validates n', () => {
    const s = exponentialLR({ lr: 1, gamma: 0.5 });
    expect(Array.from(s.sample(4))).toEqual([1, 0.5, 0.25, 0.125]);
    expect(s.sample(0).length).toBe(0);
    expectOptionError(() => s.sample(-1), 'n', 'non-negative integer');
    expectOptionError(() => s.sample(2.5), 'n', 'non-negative integer');
  });
});
