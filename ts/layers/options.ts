/** Shared checks of the layer factories: activation names and options objects. */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkOptions, nearMiss } from '../errors/validate.js';
import { ACT_CODE, type ActivationName } from '../runtime/abi.js';

/** The activation names, in ABI order. */
export const ACTIVATION_NAMES: readonly ActivationName[] = Object.keys(ACT_CODE) as ActivationName[];

/**
 * An activation a layer config may name: the kernel activations, and `'softmax'`, which is allowed
 * on the last layer only and is not a kernel activation: it is fused into the softmax
 * cross-entropy loss (the layer computes logits; `predict` returns the softmax probabilities).
 */
export type LayerActivation = ActivationName | 'softmax';

/** The names a layer's `activation` option accepts. */
export const LAYER_ACTIVATION_NAMES: readonly LayerActivation[] = [...ACTIVATION_NAMES, 'softmax'];

/** True for the names a layer's `activation` option accepts (the kernel activations and `'softmax'`). @internal */
export function isLayerActivation(name: unknown): name is LayerActivation {
  return name === 'softmax' || isActivationName(name);
}

/** The message of an unknown activation name, with the likely intended one (`'leaky_relu'` → `'leakyRelu'`). @internal */
export function unknownActivation(where: string, option: string, name: unknown): OptionError {
  const near = typeof name === 'string' ? nearMiss(name, LAYER_ACTIVATION_NAMES) : undefined;
  return new OptionError('activation', `${where}: ${option} = ${preview(name)}; expected one of ${LAYER_ACTIVATION_NAMES.join(', ')}.${near ? ` Did you mean '${near}'?` : ''}`);
}

/**
 * True when `name` is an activation wasmfit knows. An own-key lookup: `'toString'`, `'__proto__'`
 * and `'constructor'` are not activations (`name in ACT_CODE` would say they are).
 */
export function isActivationName(name: unknown): name is ActivationName {
  return typeof name === 'string' && Object.hasOwn(ACT_CODE, name);
}

/** Refuses a non-object options argument and unknown (or inherited-looking) keys. @internal */
export function checkOptionsObject(options: unknown, where: string, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionError('options', `${where}: options = ${preview(options)}; expected an object such as { ${known[0]}: … }.`);
  }
  checkOptions(where, options, known);
}

/** An activation and its parameter (leakyRelu slope, default 0.01 as PyTorch; elu alpha, default 1), checked. @internal */
export function checkActivation(where: string, activation: unknown, alpha: unknown): { activation: LayerActivation; alpha: number } {
  if (!isLayerActivation(activation)) throw unknownActivation(where, 'activation', activation);
  const a = alpha ?? (activation === 'elu' ? 1 : 0.01);
  if (typeof a !== 'number' || !Number.isFinite(a) || a < 0 || (activation === 'elu' && a === 0)) {
    throw new OptionError('alpha', `${where}: alpha = ${preview(a)}; expected a finite number >= 0 (> 0 for elu).`);
  }
  return { activation, alpha: a };
}
