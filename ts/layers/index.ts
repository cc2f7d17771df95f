import { OptionError } from '../errors/index.js';
import { ACT_CODE, type ActivationName } from '../runtime/abi.js';
import { checkInitializer, type Initializer } from './initializers.js';
import { checkRegularizer, type Regularizer } from '../regularizers/index.js';

export type { Initializer, InitializerName } from './initializers.js';
export type { ActivationName } from '../runtime/abi.js';

/** Options of {@link dense}. */
export interface DenseOptions {
  /** `'relu'` or `'linear'` (default `'linear'`). */
  activation?: ActivationName;
  /** Add a bias vector (default `true`). */
  useBias?: boolean;
  /** Kernel initializer (default `'glorotUniform'`, as Keras). */
  kernelInitializer?: Initializer;
  /** Bias initializer (default `'zeros'`). */
  biasInitializer?: Initializer;
  /** Penalty on the kernel, e.g. `l2(1e-4)` (default none). */
  kernelRegularizer?: Regularizer;
  /** Penalty on the bias (default none). */
  biasRegularizer?: Regularizer;
}

/** A resolved dense layer config. */
export interface DenseConfig {
  readonly type: 'dense';
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
}

export type LayerConfig = DenseConfig;

const DENSE_KEYS = new Set(['activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer']);

/**
 * A fully connected layer: `y = act(x·W + b)` with W of shape `[inputs, units]` (Keras layout).
 *
 * @param units output features (positive integer)
 * @example
 * ```ts
 * dense(128, { activation: 'relu' })
 * ```
 */
export function dense(units: number, options: DenseOptions = {}): DenseConfig {
  if (!Number.isInteger(units) || units < 1) {
    throw new OptionError('units', `dense: units = ${units}; expected a positive integer (the number of outputs).`);
  }
  for (const k of Object.keys(options)) {
    if (!DENSE_KEYS.has(k)) throw new OptionError(k, `dense: unknown option '${k}'; known options are ${[...DENSE_KEYS].join(', ')}.`);
  }
  const activation = options.activation ?? 'linear';
  if (!(activation in ACT_CODE)) {
    throw new OptionError('activation', `dense: activation = ${JSON.stringify(activation)}; expected one of ${Object.keys(ACT_CODE).join(', ')}.`);
  }
  const useBias = options.useBias ?? true;
  if (typeof useBias !== 'boolean') throw new OptionError('useBias', `dense: useBias = ${String(useBias)}; expected a boolean.`);
  return {
    type: 'dense',
    units,
    activation,
    useBias,
    kernelInitializer: checkInitializer(options.kernelInitializer ?? 'glorotUniform', 'kernelInitializer', 'dense'),
    biasInitializer: checkInitializer(options.biasInitializer ?? 'zeros', 'biasInitializer', 'dense'),
    kernelRegularizer: checkRegularizer(options.kernelRegularizer, 'kernelRegularizer', 'dense'),
    biasRegularizer: checkRegularizer(options.biasRegularizer, 'biasRegularizer', 'dense'),
  };
}
