import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { ACT_CODE, type ActivationName } from '../runtime/abi.js';
import { checkInitializer, type Initializer } from './initializers.js';
import { checkConstraint, checkRegularizer, type MaxNormConstraint, type Regularizer } from '../regularizers/index.js';
import { checkOptions } from '../errors/validate.js';

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
  checkOptionsObject(options, 'batchNorm', ['momentum', 'epsilon']);
  const momentum = options.momentum ?? 0.99;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) throw new OptionError('momentum', `batchNorm: momentum = ${preview(momentum)}; expected a number in [0, 1) (Keras meaning, e.g. 0.99).`);
  const epsilon = options.epsilon ?? 1e-3;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) throw new OptionError('epsilon', `batchNorm: epsilon = ${preview(epsilon)}; expected a finite number > 0.`);
  return { type: 'batchNorm', momentum, epsilon };
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
 * Must follow a dense or batch-norm layer.
 * @param rate drop probability in [0, 1)
 */
export function dropout(rate: number): DropoutConfig {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new OptionError('rate', `dropout: rate = ${preview(rate)}; expected a drop probability in [0, 1), e.g. 0.2.`);
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
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) {
    throw new OptionError('units', `dense: units = ${preview(units)}; expected a positive integer (the number of outputs).`);
  }
  checkOptionsObject(options, 'dense', [...DENSE_KEYS]);
  const activation = options.activation ?? 'linear';
  if (!isActivationName(activation)) {
    throw new OptionError('activation', `dense: activation = ${preview(activation)}; expected one of ${ACTIVATION_NAMES.join(', ')}.`);
  }
  const alpha = options.alpha ?? (activation === 'elu' ? 1 : 0.01);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0 || (activation === 'elu' && alpha === 0)) {
    throw new OptionError('alpha', `dense: alpha = ${preview(alpha)}; expected a finite number >= 0 (> 0 for elu).`);
  }
  const kc = checkConstraint(options.kernelConstraint, 'kernelConstraint', 'dense');
  const useBias = options.useBias ?? true;
  if (typeof useBias !== 'boolean') throw new OptionError('useBias', `dense: useBias = ${preview(useBias)}; expected a boolean.`);
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

/** The activation names, in ABI order. */
export const ACTIVATION_NAMES: readonly ActivationName[] = Object.keys(ACT_CODE) as ActivationName[];

/**
 * True when `name` is an activation wasmfit knows. An own-key lookup: `'toString'`, `'__proto__'`
 * and `'constructor'` are not activations (`name in ACT_CODE` would say they are).
 */
export function isActivationName(name: unknown): name is ActivationName {
  return typeof name === 'string' && Object.hasOwn(ACT_CODE, name);
}

/** Refuses a non-object options argument and unknown (or inherited-looking) keys. */
function checkOptionsObject(options: unknown, where: string, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionError('options', `${where}: options = ${preview(options)}; expected an object such as { ${known[0]}: … }.`);
  }
  checkOptions(where, options, known);
}

/** Fields whose factory value is null when absent. */
const NULLABLE = new Set(['kernelConstraint', 'kernelRegularizer', 'biasRegularizer']);

const LAYER_KEYS: Record<LayerConfig['type'], readonly string[]> = {
  dense: ['type', 'units', ...DENSE_KEYS],
  dropout: ['type', 'rate'],
  batchNorm: ['type', 'momentum', 'epsilon'],
  activation: ['type', 'activation', 'alpha'],
};

/**
 * Validates one layer config — a factory result or a hand-written object such as
 * `{ type: 'dense', units: 3 }` — and rebuilds it with its factory (`dense`, `dropout`,
 * `batchNorm`, `activation`), so defaults are filled in (bias, initializers) and every field is
 * checked exactly as the factory checks it. `null` stands for "none" in the optional fields
 * (kernelConstraint, regularizers), as factory results and JSON hold them. A factory result comes
 * back equal to itself.
 * @param where the caller named in errors (e.g. `'Sequential'`); `path` the config's name there (e.g. `'layers[2]'`).
 * @throws OptionError for a non-object, an unknown `type`, an unknown key or an invalid value
 * (the factory's message, prefixed with `where` and `path`).
 */
export function normalizeLayer(config: unknown, where: string, path = 'layer'): LayerConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new OptionError('layers', `${where}: ${path} = ${preview(config)}; expected a layer config. Build layers with dense(units), batchNorm(), activation(name) or dropout(rate).`);
  }
  const c = config as Record<string, unknown>;
  const type = Object.hasOwn(c, 'type') ? c.type : undefined;
  if (typeof type !== 'string' || !Object.hasOwn(LAYER_KEYS, type)) {
    throw new OptionError('layers', `${where}: ${path}.type = ${preview(type)}; expected 'dense', 'dropout', 'batchNorm' or 'activation'. Build layers with dense(units), batchNorm(), activation(name) or dropout(rate).`);
  }
  const known = LAYER_KEYS[type as LayerConfig['type']];
  for (const k of Object.keys(c)) {
    if (!known.includes(k)) throw new OptionError(k, `${where}: ${path} (${type}) has unknown key '${k}'; a ${type} layer has ${known.join(', ')}.`);
  }
  // only own, defined, non-null fields are passed on, so the factory applies its defaults
  const opts = (keys: readonly string[]): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const k of keys) {
      if (!Object.hasOwn(c, k) || c[k] === undefined) continue;
      if (c[k] === null) {
        if (NULLABLE.has(k)) continue;
        // JSON writes Infinity and NaN as null: never read null as "use the default"
        throw new OptionError(k, `${where}: ${path}.${k} = null; expected ${k === 'activation' ? 'an activation name' : 'a value'} (omit the key for the default).`);
      }
      o[k] = c[k];
    }
    return o;
  };
  try {
    switch (type as LayerConfig['type']) {
      case 'dense':
        return dense(c.units as number, opts([...DENSE_KEYS]) as DenseOptions);
      case 'dropout':
        return dropout(c.rate as number);
      case 'batchNorm':
        return batchNorm(opts(['momentum', 'epsilon']));
      case 'activation':
        return activation(c.activation as ActivationName, opts(['alpha']));
    }
  } catch (e) {
    if (e instanceof OptionError) {
      const field = e.option === 'options' ? path : `${path}.${e.option}`;
      throw new OptionError(e.option, `${where}: ${field} is invalid: ${e.message}`);
    }
    throw e;
  }
}

/**
 * {@link normalizeLayer} over an array: `configs[i]` is named `${path}[i]` in errors.
 * @throws OptionError when `configs` is not an array, or for the first invalid layer.
 * @example
 * ```ts
 * normalizeLayers([{ type: 'dense', units: 3 }], 'Sequential') // [dense(3)]
 * ```
 */
export function normalizeLayers(configs: unknown, where: string, path = 'layers'): LayerConfig[] {
  if (!Array.isArray(configs)) {
    throw new OptionError('layers', `${where}: ${path} = ${preview(configs)}; expected an array of layer configs, e.g. [dense(64, { activation: 'relu' }), dense(10)].`);
  }
  const out: LayerConfig[] = [];
  for (let i = 0; i < configs.length; i++) out.push(normalizeLayer(configs[i], where, `${path}[${i}]`));
  return out;
}
