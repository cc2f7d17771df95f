/**
 * The batch-normalization layer (Keras `BatchNormalization`; PyTorch `nn.BatchNorm1d`, `nn.BatchNorm2d` on images): γ and β
 * are trained, the running mean and variance are statistics the step updates.
 * Kernel: crates/kernels/src/layers/batch_norm.rs.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkRegularizer, type Regularizer } from '../regularizers/index.js';
import type { LayerKind, ParamSpec } from './kind.js';
import { checkOptionsObject } from './options.js';

/** A batch-normalization layer config. */
export interface BatchNormConfig {
  readonly type: 'batchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  /** Penalty on γ (Keras `gamma_regularizer`); present only when given. */
  readonly gammaRegularizer?: Regularizer;
  /** Penalty on β (Keras `beta_regularizer`); present only when given. */
  readonly betaRegularizer?: Regularizer;
}

/** Options of {@link batchNorm} (Keras `BatchNormalization` names). */
export interface BatchNormOptions {
  /** Keras meaning: weight of the old running value. Default 0.99; in [0, 1). */
  momentum?: number;
  /** Added to the variance. Default 1e-3 (Keras's); > 0. */
  epsilon?: number;
  /**
   * Penalty on γ, e.g. `l2(λ / 2)`: with the same on every kernel and bias, that is PyTorch's
   * `weight_decay = λ`, which decays every parameter, batch norm's weight (γ) and bias (β) included.
   */
  gammaRegularizer?: Regularizer;
  /** Penalty on β (see `gammaRegularizer`). */
  betaRegularizer?: Regularizer;
}

/**
 * Batch normalization over features (Keras `BatchNormalization` names and defaults):
 * training uses the batch mean and biased variance, `y = γ·(x − μ_B)/√(σ²_B + ε) + β`, and updates
 * `running ← momentum·running + (1 − momentum)·batch` (Keras's meaning of `momentum`, default 0.99;
 * PyTorch's `momentum = 0.1` is `1 − 0.99`). As in PyTorch, the running variance takes the
 * unbiased batch variance (Keras takes the biased one). Inference (and Monte Carlo dropout) uses the
 * running statistics. γ starts at 1, β at 0, running mean at 0 and running variance at 1.
 * Training batches need at least 2 rows. `gammaRegularizer` / `betaRegularizer` (Keras names)
 * penalize γ and β like a dense layer's kernel and bias regularizers; the running statistics are
 * not parameters and are never penalized.
 * @param options.momentum in [0, 1) (default 0.99); options.epsilon > 0 (default 1e-3, Keras's).
 * @example
 * batchNorm({ gammaRegularizer: l2(5e-4), betaRegularizer: l2(5e-4) }) // PyTorch weight_decay = 1e-3 on γ and β
 */
export function batchNorm(options: BatchNormOptions = {}): BatchNormConfig {
  checkOptionsObject(options, 'batchNorm', ['momentum', 'epsilon', 'gammaRegularizer', 'betaRegularizer']);
  const momentum = options.momentum ?? 0.99;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) throw new OptionError('momentum', `batchNorm: momentum = ${preview(momentum)}; expected a number in [0, 1) (Keras meaning, e.g. 0.99).`);
  const epsilon = options.epsilon ?? 1e-3;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) throw new OptionError('epsilon', `batchNorm: epsilon = ${preview(epsilon)}; expected a finite number > 0.`);
  const gammaRegularizer = checkRegularizer(options.gammaRegularizer, 'gammaRegularizer', 'batchNorm');
  const betaRegularizer = checkRegularizer(options.betaRegularizer, 'betaRegularizer', 'batchNorm');
  // written only when given, so configs (and files) without them stay as they were
  return { type: 'batchNorm', momentum, epsilon, ...(gammaRegularizer && { gammaRegularizer }), ...(betaRegularizer && { betaRegularizer }) };
}

const vector = (name: string, f: number, trainable: boolean, value: number, torch: string, nonNegative = false, reg?: Regularizer): ParamSpec => ({
  name,
  shape: [f],
  trainable,
  init: { initializer: { constant: value }, fanIn: f, fanOut: f },
  penalty: { l1: reg?.l1 ?? 0, l2: reg?.l2 ?? 0 },
  torch: { name: torch, transpose: false },
  ...(nonNegative ? { nonNegative } : {}),
});

/** @internal */
export const batchNormKind: LayerKind<BatchNormConfig> = {
  type: 'batchNorm',
  code: 2,
  prefix: 'batch_norm',
  keys: ['momentum', 'epsilon', 'gammaRegularizer', 'betaRegularizer'],
  nullable: ['gammaRegularizer', 'betaRegularizer'],
  build: (f) => batchNorm(f),
  outputSize: (_c, nIn) => nIn,
  // on images ([h, w, c]) the statistics are per channel, over the batch and every position
  shapePreserving: true,
  params: (c, nIn, inShape) => channels(c, nIn, inShape),
  onnx: (c) => ({ op: 'BatchNormalization', params: ['gamma', 'beta', 'moving_mean', 'moving_variance'], floats: { epsilon: c.epsilon } }),
  folded: () => ({ act: 'linear', alpha: 0, dropout: 0 }),
  usesBatchStatistics: true,
  torchExtras: ['num_batches_tracked'],
  // the kernel's momentum is PyTorch's (weight of the batch statistic): 1 − Keras momentum
  record: (c, e, values, grads, scratch) => {
    const f = e.params[0]!.shape[0]!;
    return {
      wLen: f, bLen: f, names: e.params.map((p) => p.fullName),
      kind: batchNormKind.code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
      w: values[0]!, gw: grads[0]!, b: values[1]!, gb: grads[1]!,
      ws: [null, null, null], bs: [null, null, null],
      l1: e.params[0]!.penalty.l1, l2: e.params[0]!.penalty.l2, bl1: e.params[1]!.penalty.l1, bl2: e.params[1]!.penalty.l2, maxNorm: 0,
      bn: { runningMean: values[2]!, runningVar: values[3]!, saveMean: scratch(f), saveInvStd: scratch(f), eps: c.epsilon, momentum: 1 - c.momentum },
    };
  },
};

/** γ, β and the running statistics: one value per feature, or per channel (the last axis) on images. */
function channels(c: BatchNormConfig, nIn: number, inShape: readonly number[]) {
  const f = inShape.length === 3 ? inShape[2]! : nIn;
  return [
    vector('gamma', f, true, 1, 'weight', false, c.gammaRegularizer),
    vector('beta', f, true, 0, 'bias', false, c.betaRegularizer),
    vector('moving_mean', f, false, 0, 'running_mean'),
    vector('moving_variance', f, false, 1, 'running_var', true),
  ];
}
