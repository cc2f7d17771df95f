/**
 * Gaussian noise (Keras `GaussianNoise`): zero-mean normal noise added to the input while training.
 * Kernel: crates/kernels/src/layers/gaussian_noise.rs.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { LayerKind } from './kind.js';

/** A Gaussian-noise layer config. */
export interface GaussianNoiseConfig {
  readonly type: 'gaussianNoise';
  readonly stddev: number;
}

/**
 * Adds zero-mean Gaussian noise of standard deviation `stddev` to every input while training
 * (Keras `GaussianNoise(stddev)`, a regularizer); at inference it is the identity, unless
 * `predict(x, { mcSamples })` asks for Monte Carlo sampling, which keeps it on as it keeps dropout
 * on. The noise comes from the model's counter-based generator (Philox-4x32-10 keyed by the fit
 * seed and the layer's position, Box–Muller), so seeded runs are reproducible. No parameters;
 * the gradient passes through unchanged.
 * @param stddev standard deviation, a finite number >= 0 (0: the identity)
 * @example
 * ```ts
 * layers: [gaussianNoise(0.1), dense(64, { activation: 'relu' }), dense(10)]
 * ```
 */
export function gaussianNoise(stddev: number): GaussianNoiseConfig {
  if (typeof stddev !== 'number' || !Number.isFinite(stddev) || stddev < 0) {
    throw new OptionError('stddev', `gaussianNoise: stddev = ${preview(stddev)}; expected a finite number >= 0 (the noise's standard deviation, e.g. 0.1).`);
  }
  return { type: 'gaussianNoise', stddev };
}

/**
 * The descriptor of an elementwise noise kind (gaussianNoise, gaussianDropout, alphaDropout): no
 * parameters, shape-preserving, stochastic, the identity at inference (ONNX `Identity`), its one
 * number in the record's `param`; `perRow`: the plan keeps one multiplier per element of the batch
 * for backward (`auxPerRow`). @internal
 */
export function noiseKind<C extends { readonly type: string }>(type: C['type'], code: number, prefix: string, key: keyof C & string, build: (v: number) => C, perRow: boolean): LayerKind<C> {
  const kind: LayerKind<C> = {
    type,
    code,
    prefix,
    keys: [key],
    positional: [key],
    build: (f) => build(f[key] as number),
    stochastic: true,
    outputSize: (_c, nIn) => nIn,
    shapePreserving: true,
    params: () => [],
    folded: () => ({ act: 'linear', alpha: 0, dropout: 0 }),
    onnx: () => ({ op: 'Identity', params: [] }),
    note: (c) => `${key} ${c[key] as number}`,
    record: (c, e) => ({
      wLen: 0, bLen: 0, names: [],
      kind: code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
      w: null, gw: null, b: null, gb: null,
      ws: [null, null, null], bs: [null, null, null], l1: 0, l2: 0, bl1: 0, bl2: 0, maxNorm: 0, bn: null,
      param: c[key] as number,
      ...(perRow ? { auxPerRow: e.nOut } : {}),
    }),
  };
  return kind;
}

/** @internal */
export const gaussianNoiseKind: LayerKind<GaussianNoiseConfig> = noiseKind('gaussianNoise', 3, 'gaussian_noise', 'stddev', gaussianNoise, false);
