/**
 * `predict` and `evaluate` of a model: options validated before anything runs. @internal
 */
import { OptionError } from '../errors/index.js';
import type { Features, Labels, Matrix } from '../data/tensor.js';
import type { RawFeatures } from '../preprocess/state.js';
import { type InputModel, modelInputs } from './inputs.js';
import { batchSizeOf, checkKeys } from './compile.js';
import type { Stepper } from './stepper.js';

/** What predict and evaluate read of the model. @internal */
export interface PredictModel extends InputModel {
  readonly steps: Stepper;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly seed: number;
  readonly classes: readonly string[] | null;
  assertUsable(where: string): void;
}

/** `model.evaluate`: mean loss, accuracy (NaN unless softmax cross-entropy) and the compiled metrics. @internal */
export function evaluateModel(m: PredictModel, x: RawFeatures, y: Labels | Features, options: { batchSize?: number }): { loss: number; accuracy: number; [metric: string]: number } {
  m.assertUsable('evaluate');
  checkKeys(options, ['batchSize'], 'evaluate');
  const fx = modelInputs(m, x, 'evaluate');
  const ids = m.steps.targets(y, fx.rows, 'evaluate', m.classes);
  const bs = batchSizeOf(options.batchSize, 'evaluate');
  const acc = m.steps.metricAccumulator();
  const r = m.steps.evaluate(fx.data, ids, fx.rows, bs, acc);
  return acc ? { ...r, ...acc.result() } : r;
}

/** `model.predict`: outputs, or with `mcSamples` the Monte Carlo mean and standard deviation. @internal */
export function predictModel(m: PredictModel, x: RawFeatures, options: { batchSize?: number; mcSamples?: number; seed?: number }): Matrix | { mean: Matrix; std: Matrix } {
  m.assertUsable('predict');
  const { bs, T, seed } = predictOptions(options, m.seed);
  const fx = modelInputs(m, x, 'predict');
  const k = m.outputSize;
  if (T === undefined) return { data: m.steps.predict(fx.data, fx.rows, bs, null), shape: [fx.rows, k] };
  const { mean, std } = m.steps.predictMc(fx.data, fx.rows, bs, T, seed);
  return { mean: { data: mean, shape: [fx.rows, k] }, std: { data: std, shape: [fx.rows, k] } };
}

/** `predict(x, options)`: rows per chunk, Monte Carlo samples (undefined: one deterministic pass) and their seed. @internal */
export function predictOptions(options: { batchSize?: number; mcSamples?: number; seed?: number }, modelSeed: number): { bs: number; T: number | undefined; seed: number } {
  checkKeys(options, ['batchSize', 'mcSamples', 'seed'], 'predict');
  const bs = batchSizeOf(options.batchSize, 'predict');
  const T = options.mcSamples;
  if (T !== undefined && (!Number.isInteger(T) || T < 1)) throw new OptionError('mcSamples', `predict: mcSamples = ${String(T)}; expected a positive integer (e.g. 50).`);
  const seed = options.seed ?? modelSeed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `predict: seed = ${String(seed)}; expected a finite number.`);
  return { bs, T, seed };
}
