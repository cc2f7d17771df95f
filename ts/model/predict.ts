/**
 * `predict`'s options, validated before anything runs. @internal
 */
import { OptionError } from '../errors/index.js';
import { batchSizeOf, checkKeys } from './compile.js';

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
