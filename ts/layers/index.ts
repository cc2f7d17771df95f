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

/** A batch-normalization layer config. */
export interface BatchNormConfig {
  readonly type: 'batchNorm';
  readonly momentum: number;
  readonly epsilon: number;
}

/** An activation layer config (folded into the preceding dense or batch-norm layer). */
export interface ActivationConfig {
  readonly type: 'activation';
  readonly activation: ActivationName;
  readonly alpha: number;
}

export type LayerConfig = DenseConfig | DropoutConfig | BatchNormConfig | ActivationConfig;

/**
 * Batch normalization over features (Keras `BatchNormalization` names and defaults):
 * training uses the batch mean and biased variance, `y = γ·(x − μ_B)/√(σ²_B + ε) + β`, and updates
 * `running ← momentum·running + (1 − momentum)·batch` (Keras's meaning of `momentum`, default 0.99;
 * PyTorch's `momentum = 0.1` is `1 − 0.99`). As in PyTorch, the running variance takes the
 * unbiased batch variance (Keras takes the biased one). Inference (and Monte Carlo dropout) uses the
 * running statistics. γ starts at 1, β at 0, running mean at 0 and running variance at 1.
 * Training batches need at least 2 rows.
 * @param options.momentum in [0, 1) (default 0.99); options.epsilon > 0 (default 1e-3, Keras's).
 */
export function batchNorm(options: { momentum?: number; epsilon?: number } = {}): BatchNormConfig {
  for (const k of Object.keys(options)) {
    if (k !== 'momentum' && k !== 'epsilon') throw new OptionError(k, `batchNorm: unknown option '${k}'; known options: momentum, epsilon.`);
  }
  const momentum = options.momentum ?? 0.99;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) throw new OptionError('momentum', `batchNorm: momentum = ${String(momentum)}; expected a number in [0, 1) (Keras meaning, e.g. 0.99).`);
  const epsilon = options.epsilon ?? 1e-3;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) throw new OptionError('epsilon', `batchNorm: epsilon = ${String(epsilon)}; expected a finite number > 0.`);
  return { type: 'batchNorm', momentum, epsilon };
}

/**
 * An activation applied to the previous layer's output (e.g. `dense(64), batchNorm(), activation('relu')`).
 * It is folded into that layer, which must have no activation of its own.
 */
export function activation(name: ActivationName, options: { alpha?: number } = {}): ActivationConfig {
  if (!(name in ACT_CODE)) throw new OptionError('activation', `activation: name = ${JSON.stringify(name)}; expected one of ${Object.keys(ACT_CODE).join(', ')}.`);
  const alpha = options.alpha ?? (name === 'elu' ? 1 : 0.01);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0 || (name === 'elu' && alpha === 0)) throw new OptionError('alpha', `activation: alpha = ${String(alpha)}; expected a finite number >= 0 (> 0 for elu).`);
  return { type: 'activation', activation: name, alpha };
}

/**
 * Inverted dropout on the previous dense layer's output: while training each unit is zeroed with
 * probability `rate` and survivors are scaled by `1/(1 − rate)`; at inference it is the identity
 * (unless `predict(x, { mcSamples })` asks for Monte Carlo dropout). Masks come from a
 * counter-based generator (Philox-4x32-10) keyed by the fit seed, so runs are reproducible.
 * Must follow a dense or batch-norm layer.
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
