/**
 * Dropout and activation layers. They are not layer kinds: each folds into the layer before it
 * (that layer's record carries the dropout rate and the activation).
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { ActivationName } from '../runtime/abi.js';
import { ACTIVATION_NAMES, checkOptionsObject, isActivationName } from './options.js';

/** A dropout layer config. */
export interface DropoutConfig {
  readonly type: 'dropout';
  readonly rate: number;
}

/** An activation layer config (folded into the preceding dense or batch-norm layer). */
export interface ActivationConfig {
  readonly type: 'activation';
  readonly activation: ActivationName;
  readonly alpha: number;
}

/**
 * An activation applied to the previous layer's output (e.g. `dense(64), batchNorm(), activation('relu')`).
 * It is folded into that layer, which must have no activation of its own.
 */
export function activation(name: ActivationName, options: { alpha?: number } = {}): ActivationConfig {
  if (!isActivationName(name)) throw new OptionError('activation', `activation: name = ${preview(name)}; expected one of ${ACTIVATION_NAMES.join(', ')}.`);
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
 * @param rate drop probability in [0, 1)
 */
export function dropout(rate: number): DropoutConfig {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new OptionError('rate', `dropout: rate = ${preview(rate)}; expected a drop probability in [0, 1), e.g. 0.2.`);
  }
  return { type: 'dropout', rate };
}

