// Issue 13 point 7 (R16): every public factory answers malformed options — null, objects without
// a prototype (no toString), symbols, arrays — with a typed error, never a TypeError from building
// the message or from reading the options.
import { beforeAll, describe, expect, it } from 'vitest';
import * as W from '../ts/index.js';
import * as N from '../ts/node.js';

beforeAll(async () => {
  await W.init();
});

const odd = (): unknown[] => [null, Object.create(null), Symbol('s'), [1], { toString: 1 }, -1, 'x', 1e400, NaN, 2.5];

/** Calls `f` and returns the non-typed error it threw, if any. */
function untyped(f: () => unknown): string | null {
  try {
    f();
  } catch (e) {
    return e instanceof W.WasmfitError ? null : `${(e as Error).name}: ${(e as Error).message}`;
  }
  return null;
}

const factories: [string, (o: unknown) => unknown, string[]][] = [
  ['dense', (o) => W.dense(3, o as never), ['activation', 'alpha', 'kernelConstraint', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer']],
  ['batchNorm', (o) => W.batchNorm(o as never), ['momentum', 'epsilon']],
  ['activation', (o) => W.activation('elu', o as never), ['alpha']],
  ['maxNorm', (o) => W.maxNorm(o as never), ['maxValue', 'axis', 'epsilon']],
  ['l1l2', (o) => W.l1l2(o as never), ['l1', 'l2']],
  ['elasticNet', (o) => W.elasticNet(o as never), ['alpha', 'l1Ratio']],
  ['sgd', (o) => W.sgd(o as never), ['lr', 'momentum', 'nesterov', 'weightDecay', 'clipValue', 'clipNorm']],
  ['adam', (o) => W.adam(o as never), ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad']],
  ['rmsprop', (o) => W.rmsprop(o as never), ['lr', 'alpha', 'eps', 'momentum', 'centered']],
  ['adagrad', (o) => W.adagrad(o as never), ['lr', 'eps', 'lrDecay']],
  ['kerasSGD', (o) => W.kerasSGD(o as never), ['learningRate', 'momentum', 'nesterov', 'weightDecay']],
  ['kerasRMSprop', (o) => W.kerasRMSprop(o as never), ['learningRate', 'rho', 'momentum', 'epsilon', 'centered']],
  ['kerasAdagrad', (o) => W.kerasAdagrad(o as never), ['learningRate', 'initialAccumulatorValue', 'epsilon']],
  ['kerasAdam', (o) => W.kerasAdam(o as never), ['learningRate', 'beta1', 'beta2', 'epsilon', 'amsgrad', 'weightDecay']],
  ['earlyStopping', (o) => W.earlyStopping(o as never), ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch']],
  ['plateauCallback', (o) => W.plateauCallback(W.reduceLROnPlateau(), o as never), ['monitor']],
  ['progressBar', (o) => W.progressBar(o as never), ['mode']],
  ['modelCheckpoint', (o) => N.modelCheckpoint('m.ckpt', o as never), ['format', 'saveBestOnly', 'monitor', 'mode', 'initialValueThreshold', 'everyEpochs', 'everyBatches', 'metadata']],
];

describe('R16: factories refuse odd options with typed errors', () => {
  for (const [name, f, keys] of factories) {
    it(name, () => {
      const bad: string[] = [];
      for (const v of odd()) {
        const u = untyped(() => f(v));
        if (u) bad.push(`options = ${String(typeof v === 'symbol' ? 'symbol' : typeof v)}: ${u}`);
        for (const k of keys) {
          const u2 = untyped(() => f({ [k]: v }));
          if (u2) bad.push(`${k} = ${typeof v}: ${u2}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it('positional arguments: dense units, dropout rate, l1/l2, topKAccuracy, activation names, matrix', () => {
    const bad: string[] = [];
    for (const v of odd()) {
      for (const [n, f] of [
        ['dense', () => W.dense(v as never)],
        ['dropout', () => W.dropout(v as never)],
        ['l1', () => W.l1(v as never)],
        ['l2', () => W.l2(v as never)],
        ['topKAccuracy', () => W.topKAccuracy(v as never)],
        ['topKAccuracy key', () => W.topKAccuracy(3, v as never)],
        ['activation', () => W.activation(v as never)],
        ['matrix data', () => W.matrix(v as never, [1, 1])],
        ['matrix shape', () => W.matrix([1], v as never)],
        ['normalizeLayers', () => W.normalizeLayers(v, 'test')],
        ['normalizeLayer', () => W.normalizeLayer(v, 'test')],
      ] as [string, () => unknown][]) {
        const u = untyped(f);
        if (u) bad.push(`${n}(${typeof v}): ${u}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
