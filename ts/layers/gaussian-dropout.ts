/**
 * Gaussian dropout (Keras `GaussianDropout`): the input multiplied by 1-centred normal noise while
 * training. Kernel: crates/kernels/src/layers/gaussian_dropout.rs.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { LayerKind } from './kind.js';
import { noiseKind } from './gaussian-noise.js';

/** A Gaussian-dropout layer config. */
export interface GaussianDropoutConfig {
  readonly type: 'gaussianDropout';
  readonly rate: number;
}

/**
 * Multiplies every input by `m ~ N(1, rate / (1 − rate))` while training (Keras
 * `GaussianDropout(rate)`: `y = x·m`, `m = 1 + √(rate / (1 − rate))·z`, `z ~ N(0, 1)`; the
 * multiplicative noise of dropout at `rate`, with the same mean and variance, but Gaussian); the
 * gradient is `g·m`. At inference it is the identity, unless `predict(x, { mcSamples })` asks for
 * Monte Carlo sampling, which keeps it on as it keeps dropout on. The noise comes from the model's
 * counter-based generator (Philox-4x32-10 keyed by the fit seed and the layer's position,
 * Box–Muller), so seeded runs are reproducible. No parameters.
 * @param rate drop probability as with `dropout`, a number in [0, 1) (0: the identity; Keras also
 *   accepts 1, whose noise is infinite)
 * @example
 * ```ts
 * layers: [dense(64, { activation: 'relu' }), gaussianDropout(0.2), dense(10)]
 * ```
 */
export function gaussianDropout(rate: number): GaussianDropoutConfig {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new OptionError('rate', `gaussianDropout: rate = ${preview(rate)}; expected a number in [0, 1) (the drop probability whose noise it imitates, e.g. 0.2).`);
  }
  return { type: 'gaussianDropout', rate };
}

/** @internal (its multipliers, one per element of the batch, are kept for backward) */
export const gaussianDropoutKind: LayerKind<GaussianDropoutConfig> = noiseKind('gaussianDropout', 7, 'gaussian_dropout', 'rate', gaussianDropout, true);
