/**
 * Alpha dropout (Keras `AlphaDropout`, PyTorch `nn.AlphaDropout`): the dropout of self-normalizing
 * (SELU) networks. Kernel: crates/kernels/src/layers/alpha_dropout.rs.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { LayerKind } from './kind.js';
import { noiseKind } from './gaussian-noise.js';

/** An alpha-dropout layer config. */
export interface AlphaDropoutConfig {
  readonly type: 'alphaDropout';
  readonly rate: number;
}

/**
 * Dropout that keeps a self-normalizing network's activations at mean 0 and variance 1 (Keras
 * `AlphaDropout(rate)`, PyTorch `nn.AlphaDropout(p)`, Klambauer et al. 2017): while training each
 * input is kept with probability `1 − rate` or set to SELU's negative saturation
 * `α' = −1.7580993408473766`, then `y = a·(x·keep + α'·(1 − keep)) + b` with
 * `a = ((1 − rate)(1 + rate·α'²))^(−1/2)`, `b = −a·α'·rate`, so inputs with mean 0 and variance 1
 * keep them; the gradient is `a·keep·g`. At inference it is the identity, unless
 * `predict(x, { mcSamples })` asks for Monte Carlo sampling. Seeded like dropout. Use it in SELU
 * networks — `dense(n, { activation: 'selu', kernelInitializer: 'lecunNormal' })`, Keras's
 * self-normalizing recipe — where plain dropout would shift the activations' statistics.
 * @param rate drop probability, a number in [0, 1) (0: the identity; PyTorch returns zeros at 1)
 * @example
 * ```ts
 * layers: [dense(64, { activation: 'selu', kernelInitializer: 'lecunNormal' }), alphaDropout(0.1), dense(10)]
 * ```
 */
export function alphaDropout(rate: number): AlphaDropoutConfig {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new OptionError('rate', `alphaDropout: rate = ${preview(rate)}; expected a number in [0, 1) (the drop probability, e.g. 0.1).`);
  }
  return { type: 'alphaDropout', rate };
}

/** @internal (its multipliers, one per element of the batch, are kept for backward) */
export const alphaDropoutKind: LayerKind<AlphaDropoutConfig> = noiseKind('alphaDropout', 8, 'alpha_dropout', 'rate', alphaDropout, true);
