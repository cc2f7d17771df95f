/**
 * Invalid options and counters: every factory throws an OptionError naming the option, with a
 * message in the project shape (where: what was received; what is expected. how to fix).
 */
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../ts/errors/index.js';
import * as S from '../../ts/schedules/index.js';
import { expectOptionError } from './helpers.js';

// Untyped access so the tests can pass values TypeScript would reject.
const call = (f: unknown, ...args: unknown[]) => (f as (...a: unknown[]) => unknown)(...args);

describe('invalid options', () => {
  const cases: [string, () => unknown, string, string | RegExp][] = [
    ['negative lr', () => call(S.stepLR, { lr: -0.1, stepSize: 3 }), 'lr', 'option lr = -0.1; expected a finite number >= 0'],
    ['NaN lr', () => call(S.exponentialLR, { lr: NaN, gamma: 0.9 }), 'lr', 'option lr = NaN'],
    ['missing lr', () => call(S.cosineAnnealingLR, { tMax: 10 }), 'lr', 'option lr = undefined'],
    ['tMax 0', () => call(S.cosineAnnealingLR, { lr: 0.1, tMax: 0 }), 'tMax', 'cosineAnnealingLR: option tMax = 0; expected an integer >= 1. Pass tMax >= 1'],
    ['tMax fractional', () => call(S.cosineAnnealingLR, { lr: 0.1, tMax: 2.5 }), 'tMax', 'expected an integer >= 1'],
    ['tMax Infinity', () => call(S.cosineAnnealingLR, { lr: 0.1, tMax: Infinity }), 'tMax', 'tMax = Infinity'],
    ['etaMin NaN', () => call(S.cosineAnnealingLR, { lr: 0.1, tMax: 3, etaMin: NaN }), 'etaMin', 'etaMin = NaN'],
    ['stepSize 0', () => call(S.stepLR, { lr: 0.1, stepSize: 0 }), 'stepSize', 'Pass stepSize >= 1'],
    ['gamma 0', () => call(S.stepLR, { lr: 0.1, stepSize: 1, gamma: 0 }), 'gamma', '> 0'],
    ['milestones not increasing', () => call(S.multiStepLR, { lr: 0.1, milestones: [30, 10] }), 'milestones', 'non-decreasing'],
    ['milestones NaN', () => call(S.multiStepLR, { lr: 0.1, milestones: [3, NaN] }), 'milestones[1]', 'NaN'],
    ['milestones not an array', () => call(S.multiStepLR, { lr: 0.1, milestones: 30 }), 'milestones', 'an array of numbers'],
    ['t0 0', () => call(S.cosineAnnealingWarmRestarts, { lr: 0.1, t0: 0 }), 't0', 'integer >= 1'],
    ['tMult 1.5', () => call(S.cosineAnnealingWarmRestarts, { lr: 0.1, t0: 10, tMult: 1.5 }), 'tMult', 'integer tMult >= 1 as PyTorch requires'],
    ['stepSizeUp 0', () => call(S.cyclicLR, { baseLr: 0.1, maxLr: 1, stepSizeUp: 0 }), 'stepSizeUp', 'Pass stepSizeUp > 0'],
    ['stepSizeUp negative', () => call(S.cyclicLR, { baseLr: 0.1, maxLr: 1, stepSizeUp: -5 }), 'stepSizeUp', 'stepSizeUp = -5'],
    ['stepSizeDown 0', () => call(S.cyclicLR, { baseLr: 0.1, maxLr: 1, stepSizeDown: 0 }), 'stepSizeDown', '> 0'],
    ['unknown cyclic mode', () => call(S.cyclicLR, { baseLr: 0.1, maxLr: 1, mode: 'CATS' }), 'mode', "one of 'triangular', 'triangular2', 'exp_range'"],
    ['negative maxLr', () => call(S.cyclicLR, { baseLr: 0.1, maxLr: -1 }), 'maxLr', 'maxLr = -1'],
    ['scaleFn not a function', () => call(S.cyclicLR, { baseLr: 0.1, maxLr: 1, scaleFn: 3 }), 'scaleFn', 'a function'],
    ['oneCycle without totalSteps', () => call(S.oneCycleLR, { maxLr: 1e-3 }), 'totalSteps', 'or both epochs and stepsPerEpoch'],
    ['oneCycle pctStart 1.1', () => call(S.oneCycleLR, { maxLr: 1e-3, totalSteps: 10, pctStart: 1.1 }), 'pctStart', '<= 1'],
    ['oneCycle anneal CATS', () => call(S.oneCycleLR, { maxLr: 1e-3, totalSteps: 10, annealStrategy: 'CATS' }), 'annealStrategy', "one of 'cos', 'linear'"],
    ['oneCycle zero-length phase', () => call(S.oneCycleLR, { maxLr: 1e-3, totalSteps: 10, pctStart: 0.1 }), 'pctStart', 'non-zero length'],
    ['oneCycle epochs 0', () => call(S.oneCycleLR, { maxLr: 1e-3, epochs: 0, stepsPerEpoch: 10 }), 'epochs', 'integer >= 1'],
    ['linearLR startFactor 0', () => call(S.linearLR, { lr: 0.1, startFactor: 0 }), 'startFactor', '> 0'],
    ['linearLR startFactor 1.1', () => call(S.linearLR, { lr: 0.1, startFactor: 1.1 }), 'startFactor', '<= 1'],
    ['constantLR factor 2', () => call(S.constantLR, { lr: 0.1, factor: 2 }), 'factor', '<= 1'],
    ['lambdaLR without function', () => call(S.lambdaLR, { lr: 0.1, lrLambda: 0.95 }), 'lrLambda', 'a function'],
    ['decaySteps 0', () => call(S.exponentialDecay, { initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.9 }), 'decaySteps', 'decay_steps > 0'],
    ['staircase not boolean', () => call(S.exponentialDecay, { initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.9, staircase: 'yes' }), 'staircase', 'true or false'],
    ['negative initialLearningRate', () => call(S.inverseTimeDecay, { initialLearningRate: -1, decaySteps: 1, decayRate: 0.5 }), 'initialLearningRate', '>= 0'],
    ['values.length ≠ boundaries.length + 1', () => call(S.piecewiseConstantDecay, { boundaries: [1, 2], values: [1, 2] }), 'values', 'values.length = boundaries.length + 1 = 3'],
    ['boundaries not increasing', () => call(S.piecewiseConstantDecay, { boundaries: [2, 2], values: [1, 2, 3] }), 'boundaries', 'strictly increasing'],
    ['piecewise value NaN', () => call(S.piecewiseConstantDecay, { boundaries: [2], values: [1, NaN] }), 'values[1]', 'NaN'],
    ['polynomialDecay power negative', () => call(S.polynomialDecay, { initialLearningRate: 0.1, decaySteps: 10, power: -1 }), 'power', '>= 0'],
    ['cosineDecay alpha 2', () => call(S.cosineDecay, { initialLearningRate: 0.1, decaySteps: 10, alpha: 2 }), 'alpha', '<= 1'],
    ['cosineDecay warmupTarget NaN', () => call(S.cosineDecay, { initialLearningRate: 0.1, decaySteps: 10, warmupTarget: NaN }), 'warmupTarget', 'NaN'],
    ['firstDecaySteps 0', () => call(S.cosineDecayRestarts, { initialLearningRate: 0.1, firstDecaySteps: 0 }), 'firstDecaySteps', 'Pass firstDecaySteps > 0'],
    ['tMul 0', () => call(S.cosineDecayRestarts, { initialLearningRate: 0.1, firstDecaySteps: 10, tMul: 0 }), 'tMul', '> 0'],
    ['inverseSqrtDecay unit', () => call(S.inverseSqrtDecay, { lr: 0.1, unit: 'batch' }), 'unit', "one of 'epoch', 'step'"],
    ['stepDecay dropEvery 0', () => call(S.stepDecay, { lr: 0.1, dropEvery: 0 }), 'dropEvery', 'Pass dropEvery > 0'],
    ['manual empty table', () => call(S.manual, []), 'values', 'at least 1'],
    ['manual negative entry', () => call(S.manual, [0.1, -0.1]), 'values[1]', '>= 0'],
    ['warmup steps negative', () => call(S.warmup, { steps: -1 }, S.constant({ lr: 1 })), 'steps', '>= 0'],
    ['warmup without schedule', () => call(S.warmup, { steps: 1 }, 0.1), 'then', 'expected a schedule'],
    ['unknown option (PyTorch spelling)', () => call(S.cosineAnnealingLR, { lr: 0.1, T_max: 10 }), 'T_max', "unknown option 'T_max'"],
    ['options not an object', () => call(S.stepLR, 0.1), 'options', 'expected an object with the options'],
  ];
  for (const [label, fn, option, fragment] of cases) {
    it(`${label} → OptionError(${option})`, () => expectOptionError(fn, option, fragment));
  }

  it('messages follow "<where>: <received>; <expected>. <fix>"', () => {
    try {
      S.cosineAnnealingLR({ lr: 0.1, tMax: 0 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OptionError);
      expect((e as Error).message).toMatch(/^cosineAnnealingLR: option tMax = 0; expected [^.]+\. Pass .+\.$/);
    }
  });
});

describe('invalid counters', () => {
  const s = S.cosineAnnealingLR({ lr: 0.1, tMax: 10 });
  for (const t of [-1, NaN, Infinity, -Infinity, '3' as unknown as number, undefined as unknown as number]) {
    it(`t = ${String(t)} → OptionError(t)`, () => expectOptionError(() => s(t), 't', 'expected a non-negative finite number'));
  }
  it('fractional t is accepted', () => {
    expect(Number.isFinite(s(2.5))).toBe(true);
  });
  it('a user function returning a non-number is reported', () => {
    const l = S.lambdaLR({ lr: 1, lrLambda: () => undefined as unknown as number });
    expectOptionError(() => l(0), 'lrLambda', 'lrLambda(0) returned undefined');
    const c = S.cyclicLR({ baseLr: 0.1, maxLr: 1, stepSizeUp: 2, scaleFn: () => NaN });
    expectOptionError(() => c(1), 'scaleFn', 'returned NaN');
  });
  it('cosineDecayRestarts with tMul < 1 refuses t past the finite horizon', () => {
    const r = S.cosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 10, tMul: 0.5 });
    expect(Number.isFinite(r(19.9))).toBe(true);
    expectOptionError(() => r(20), 't', 'firstDecaySteps / (1 − tMul) = 20');
  });
});
