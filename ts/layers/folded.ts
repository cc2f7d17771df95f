/**
 * Dropout and activation layers. They are not layer kinds: each folds into the layer before it
 * (that layer's record carries the dropout rate and the activation).
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkOptionsObject, isLayerActivation, type LayerActivation, unknownActivation } from './options.js';

/** A dropout layer config. */
export interface DropoutConfig {
  readonly type: 'dropout';
  readonly rate: number;
}

/** An activation layer config (folded into the preceding dense or batch-norm layer). */
export interface ActivationConfig {
  readonly type: 'activation';
  readonly activation: LayerActivation;
  readonly alpha: number;
}

/**
 * An activation applied to the previous layer's output (e.g. `dense(64), batchNorm(), activation('relu')`).
 * It is folded into that layer, which must have no activation of its own. `'softmax'` is allowed
 * as the model's last layer only, fused into the softmax cross-entropy loss.
 */
export function activation(name: LayerActivation, options: { alpha?: number } = {}): ActivationConfig {
  if (!isLayerActivation(name)) throw unknownActivation('activation', 'name', name);
  checkOptionsObject(options, 'activation', ['alpha']);
  const alpha = options.alpha ?? (name === 'elu' ? 1 : 0.01);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0 || (name === 'elu' && alpha === 0)) throw new OptionError('alpha', `activation: alpha = ${preview(alpha)}; expected a finite number >= 0 (> 0 for elu).`);
  return { type: 'activation', activation: name, alpha };
}

/**
 * Inverted dropout on the previous dense layer's output: while training each unit is zeroed with
 * probability `rate` and survivors are scaled by `1/(1 − rate)`; at inference it is the identity
 * (unless `predict(x, { mcSamples })` asks for Monte Carlo dropout). Masks come from a
 * counter-based generator (Philox-4x32-10) keyed by the fit seed, so runs are reproducible.
 * Must follow a layer (dense, batch norm, …).
 * @param rate drop probability in [0, 1); or tfjs's form `{ rate }` (`tf.layers.dropout({ rate: 0.2 })`)
 * @example dropout(0.2) // same as dropout({ rate: 0.2 })
 */
export function dropout(rate: number | { rate: number }): DropoutConfig {
  if (typeof rate === 'object' && rate !== null && !Array.isArray(rate)) {
    // tfjs's options object; its noiseShape and seed have no wasmfit counterpart (masks are seeded by fit)
    checkOptionsObject(rate, 'dropout', ['rate']);
    if (!Object.hasOwn(rate, 'rate')) throw new OptionError('rate', 'dropout: options = {} has no rate; pass dropout({ rate: 0.2 }) or dropout(0.2).');
    rate = (rate as { rate: number }).rate;
  }
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new OptionError('rate', `dropout: rate = ${preview(rate)}; expected a drop probability in [0, 1), e.g. 0.2.`);
  }
  return { type: 'dropout', rate };
}

