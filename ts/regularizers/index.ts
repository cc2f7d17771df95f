import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkOptions } from '../errors/validate.js';

/**
 * A weight penalty `l1·Σ|w| + l2·Σw²` added to the loss (Keras meaning). Its gradient,
 * `l1·sign(w) + 2·l2·w`, is folded into the fused optimizer update. Note the factor 2: Keras/tfjs
 * `l2(λ)` adds λ·Σw² (gradient 2λw), while PyTorch's `weight_decay = λ` adds λw to the gradient —
 * `l2(λ / 2)` reproduces PyTorch's `weight_decay = λ` on the tensors it is put on. PyTorch decays
 * every parameter: each dense/conv kernel and bias and batch norm's γ and β (`batchNorm({
 * gammaRegularizer, betaRegularizer })`), never the running statistics; so the same `l2(λ / 2)` as
 * `kernelRegularizer` and `biasRegularizer` of every layer and as `gammaRegularizer` and
 * `betaRegularizer` of every batch norm reproduces it — or pass the optimizer's `weightDecay: λ`
 * (sgd, adam, rmsprop, adagrad), which is PyTorch's and decays every trainable tensor. Checked
 * against PyTorch 1.13 with batch norm (`scripts/fixtures/torch_batchnorm.py`). The reported
 * training loss is the data loss only (penalties are not added to it).
 */
export interface Regularizer {
  readonly type: 'regularizer';
  readonly l1: number;
  readonly l2: number;
}

function coef(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new OptionError(name, `${where}: ${name} = ${preview(v)}; expected a finite number >= 0 (e.g. 1e-4).`);
  }
  return v;
}

/** L1 penalty `λ·Σ|w|`, gradient `λ·sign(w)` (sign(0) = 0). Drives weights to exactly-small values. */
export function l1(lambda: number): Regularizer {
  return { type: 'regularizer', l1: coef('l1', 'lambda', lambda), l2: 0 };
}

/** L2 penalty `λ·Σw²` (Keras `l2`), gradient `2λ·w`. */
export function l2(lambda: number): Regularizer {
  return { type: 'regularizer', l1: 0, l2: coef('l2', 'lambda', lambda) };
}

/** Keras `L1L2`: `l1·Σ|w| + l2·Σw²`. */
export function l1l2(options: { l1?: number; l2?: number } = {}): Regularizer {
  if (options === null || typeof options !== 'object') throw new OptionError('options', `l1l2: options = ${preview(options)}; expected an object { l1, l2 }.`);
  return { type: 'regularizer', l1: coef('l1l2', 'l1', options.l1 ?? 0), l2: coef('l1l2', 'l2', options.l2 ?? 0) };
}

/**
 * Elastic net (scikit-learn's parametrization): `l1Ratio·alpha·Σ|w| + (1 − l1Ratio)/2·alpha·Σw²`,
 * gradient `l1Ratio·alpha·sign(w) + (1 − l1Ratio)·alpha·w`.
 */
export function elasticNet(options: { alpha: number; l1Ratio?: number }): Regularizer {
  const alpha = coef('elasticNet', 'alpha', options?.alpha);
  const r = options.l1Ratio ?? 0.5;
  if (typeof r !== 'number' || !(r >= 0 && r <= 1)) throw new OptionError('l1Ratio', `elasticNet: l1Ratio = ${preview(r)}; expected a number in [0, 1].`);
  return { type: 'regularizer', l1: r * alpha, l2: ((1 - r) / 2) * alpha };
}

/** Validates an optional regularizer option. @internal */
export function checkRegularizer(v: unknown, option: string, where: string): Regularizer | null {
  if (v === undefined || v === null) return null;
  const r = v as Partial<Regularizer>;
  if (typeof r !== 'object' || Array.isArray(r) || !Object.hasOwn(r, 'type') || r.type !== 'regularizer') {
    throw new OptionError(option, `${where}: ${option} = ${preview(v)}; expected a regularizer built by l1(), l2(), l1l2() or elasticNet().`);
  }
  for (const k of Object.keys(r)) {
    if (k !== 'type' && k !== 'l1' && k !== 'l2') throw new OptionError(option, `${where}: ${option} has unknown key '${k}'; a regularizer is { type: 'regularizer', l1, l2 } (build it with l1(), l2(), l1l2() or elasticNet()).`);
  }
  return { type: 'regularizer', l1: coef(where, `${option}.l1`, r.l1), l2: coef(where, `${option}.l2`, r.l2) };
}

/** A max-norm constraint (Keras `MaxNorm`), applied after every optimizer update. */
export interface MaxNormConstraint {
  readonly type: 'maxNorm';
  readonly maxValue: number;
  readonly axis: 0;
  /** Keras's ε (present only when given): every column becomes `w·min(‖w‖, r)/(ε + ‖w‖)`. */
  readonly epsilon?: number;
}

/**
 * Max-norm: after every update, each unit's incoming weight vector w (a column of the
 * `[inputs, units]` kernel, Keras `axis: 0`) is rescaled to `w·r/‖w‖₂` when `‖w‖₂ > r`; columns
 * inside the ball are left exactly as they are. Keras's `MaxNorm` computes
 * `w·clip(‖w‖, 0, r)/(ε + ‖w‖)` with `ε = backend.epsilon() = 1e-7` on every column, which also
 * shrinks the columns inside the ball by `‖w‖/(ε + ‖w‖)`: pass `epsilon: 1e-7` for Keras's
 * numbers (norm and factor in f64, the factor rounded to float32 once; Keras: float32).
 * @param options.maxValue r > 0 (default 2, Keras's default); axis must be 0.
 * @param options.epsilon Keras's ε, > 0 (default: none, the exact form above).
 * @example dense(64, { kernelConstraint: maxNorm({ maxValue: 3, epsilon: 1e-7 }) }) // Keras MaxNorm(3)
 */
export function maxNorm(options: { maxValue?: number; axis?: number; epsilon?: number } = {}): MaxNormConstraint {
  if (options === null || typeof options !== 'object') throw new OptionError('options', `maxNorm: options = ${preview(options)}; expected { maxValue, axis }.`);
  checkOptions('maxNorm', options, ['maxValue', 'axis', 'epsilon']);
  const eps = options.epsilon;
  if (eps !== undefined && (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0)) {
    throw new OptionError('epsilon', `maxNorm: epsilon = ${preview(eps)}; expected a finite number > 0 (Keras's is 1e-7), or no epsilon for the exact form.`);
  }
  const r = options.maxValue ?? 2;
  if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0) throw new OptionError('maxValue', `maxNorm: maxValue = ${preview(r)}; expected a finite number > 0 (e.g. 3).`);
  const axis = options.axis ?? 0;
  if (axis !== 0) throw new OptionError('axis', `maxNorm: axis = ${preview(axis)}; dense kernels are [inputs, units] and each unit's incoming weights are along axis 0, the only axis supported.`);
  return eps === undefined ? { type: 'maxNorm', maxValue: r, axis: 0 } : { type: 'maxNorm', maxValue: r, axis: 0, epsilon: eps };
}

/**
 * Validates an optional kernel constraint (a {@link maxNorm} result, or the same fields from
 * JSON) and rebuilds it with `maxNorm`, so `maxValue: Infinity` or a missing axis is refused as
 * `maxNorm` refuses it. `undefined`/`null` mean none. @internal
 */
export function checkConstraint(v: unknown, option: string, where: string): MaxNormConstraint | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, 'type') || (v as { type: unknown }).type !== 'maxNorm') {
    throw new OptionError(option, `${where}: ${option} = ${preview(v)}; expected a constraint built by maxNorm({ maxValue }).`);
  }
  const { type: _type, ...rest } = v as Record<string, unknown>;
  // null is not "absent": JSON writes Infinity and NaN as null
  for (const [k, x] of Object.entries(rest)) if (x === null) throw new OptionError(option, `${where}: ${option}.${k} = null; expected a number (a file holding null here was written from Infinity or NaN).`);
  try {
    return maxNorm(rest as { maxValue?: number; axis?: number; epsilon?: number });
  } catch (e) {
    if (e instanceof OptionError) throw new OptionError(option, `${where}: ${option} is invalid: ${e.message}`);
    throw e;
  }
}
