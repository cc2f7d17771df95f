import { OptionError } from '../errors/index.js';
import { ACT_CODE, type ActivationName } from '../runtime/abi.js';
import { checkInitializer, type Initializer } from './initializers.js';
import { checkRegularizer, type MaxNormConstraint, type Regularizer } from '../regularizers/index.js';

export type { Initializer, InitializerName } from './initializers.js';
export type { ActivationName } from '../runtime/abi.js';

/** Options of {@link dense}. */
export interface DenseOptions {
  /** `'linear'` (default), `'relu'`, `'leakyRelu'`, `'elu'`, `'sigmoid'` or `'tanh'`. */
  activation?: ActivationName;
  /** Parameter of `leakyRelu` (negative slope, default 0.01 as PyTorch; Keras uses 0.3) or `elu` (default 1). */
  alpha?: number;
  /** Constraint applied after every update, e.g. `maxNorm({ maxValue: 3 })`. */
  kernelConstraint?: MaxNormConstraint;
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
  readonly alpha: number;
  readonly kernelConstraint: MaxNormConstraint | null;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
}

/** A dropout layer config. */
export interface DropoutConfig {
  readonly type: 'dropout';
  readonly rate: number;
}

export type LayerConfig = DenseConfig | DropoutConfig;

/**
 * Inverted dropout on the previous dense layer's output: while training each unit is zeroed with
 * probability `rate` and survivors are scaled by `1/(1 − rate)`; at inference it is the identity
 * (unless `predict(x, { mcSamples })` asks for Monte Carlo dropout). Masks come from a
 * counter-based generator (Philox-4x32-10) keyed by the fit seed, so runs are reproducible.
 * Must follow a dense layer.
 * @param rate drop probability in [0, 1)
 */
export function dropout(rate: number): DropoutConfig {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new OptionError('rate', `dropout: rate = ${String(rate)}; expected a drop probability in [0, 1), e.g. 0.2.`);
  }
  return { type: 'dropout', rate };
}

const DENSE_KEYS = new Set(['activation', 'alpha', 'kernelConstraint', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer']);

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
  const alpha = options.alpha ?? (activation === 'elu' ? 1 : 0.01);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0 || (activation === 'elu' && alpha === 0)) {
    throw new OptionError('alpha', `dense: alpha = ${String(alpha)}; expected a finite number >= 0 (> 0 for elu).`);
  }
  const kc = options.kernelConstraint ?? null;
  if (kc !== null && (typeof kc !== 'object' || kc.type !== 'maxNorm' || !(kc.maxValue > 0))) {
    throw new OptionError('kernelConstraint', 'dense: kernelConstraint must be built by maxNorm({ maxValue }).');
  }
  const useBias = options.useBias ?? true;
  if (typeof useBias !== 'boolean') throw new OptionError('useBias', `dense: useBias = ${String(useBias)}; expected a boolean.`);
  return {
    type: 'dense',
    units,
    activation,
    alpha,
    kernelConstraint: kc,
    useBias,
    kernelInitializer: checkInitializer(options.kernelInitializer ?? 'glorotUniform', 'kernelInitializer', 'dense'),
    biasInitializer: checkInitializer(options.biasInitializer ?? 'zeros', 'biasInitializer', 'dense'),
    kernelRegularizer: checkRegularizer(options.kernelRegularizer, 'kernelRegularizer', 'dense'),
    biasRegularizer: checkRegularizer(options.biasRegularizer, 'biasRegularizer', 'dense'),
  };
}
