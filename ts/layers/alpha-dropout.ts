/**
 * Alpha dropout (Keras `AlphaDropout`, PyTorch `nn.AlphaDropout`): the dropout of self-normalizing
 * (SELU) networks. Kernel: crates/kernels/src/layers/alpha_dropout.rs.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { LayerKind } from './kind.js';

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

/** @internal */
export const alphaDropoutKind: LayerKind<AlphaDropoutConfig> = {
  type: 'alphaDropout',
  code: 8,
  prefix: 'alpha_dropout',
  keys: ['rate'],
  positional: ['rate'],
  build: (f) => alphaDropout(f.rate as number),
  stochastic: true,
  outputSize: (_c, nIn) => nIn,
  shapePreserving: true,
  params: () => [],
  folded: () => ({ act: 'linear', alpha: 0, dropout: 0 }),
  // the identity at inference
  onnx: () => ({ op: 'Identity', params: [] }),
  note: (c) => `rate ${c.rate}`,
  record: (c, e) => ({
    wLen: 0, bLen: 0, names: [],
    kind: alphaDropoutKind.code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
    w: null, gw: null, b: null, gb: null,
    ws: [null, null, null], bs: [null, null, null], l1: 0, l2: 0, bl1: 0, bl2: 0, maxNorm: 0, bn: null,
    // the multipliers a·keep, one per element of the batch, for backward
    param: c.rate, auxPerRow: e.nOut,
  }),
};
