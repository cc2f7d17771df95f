/**
 * The batch-normalization layer (Keras `BatchNormalization`; PyTorch `nn.BatchNorm1d`, `nn.BatchNorm2d` on images): γ and β
 * are trained, the running mean and variance are statistics the step updates.
 * Kernel: crates/kernels/src/layers/batch_norm.rs.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { LayerKind, ParamSpec } from './kind.js';
import { checkOptionsObject } from './options.js';

/** A batch-normalization layer config. */
export interface BatchNormConfig {
  readonly type: 'batchNorm';
  readonly momentum: number;
  readonly epsilon: number;
}

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

const vector = (name: string, f: number, trainable: boolean, value: number, torch: string, nonNegative = false): ParamSpec => ({
  name,
  shape: [f],
  trainable,
  init: { initializer: { constant: value }, fanIn: f, fanOut: f },
  penalty: { l1: 0, l2: 0 },
  torch: { name: torch, transpose: false },
  ...(nonNegative ? { nonNegative } : {}),
});

/** @internal */
export const batchNormKind: LayerKind<BatchNormConfig> = {
  type: 'batchNorm',
  code: 2,
  prefix: 'batch_norm',
  keys: ['momentum', 'epsilon'],
  build: (f) => batchNorm(f),
  outputSize: (_c, nIn) => nIn,
  // on images ([h, w, c]) the statistics are per channel, over the batch and every position
  shapePreserving: true,
  params: (_c, nIn, inShape) => channels(nIn, inShape),
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
      ws: [null, null, null], bs: [null, null, null], l1: 0, l2: 0, bl1: 0, bl2: 0, maxNorm: 0,
      bn: { runningMean: values[2]!, runningVar: values[3]!, saveMean: scratch(f), saveInvStd: scratch(f), eps: c.epsilon, momentum: 1 - c.momentum },
    };
  },
};

/** γ, β and the running statistics: one value per feature, or per channel (the last axis) on images. */
function channels(nIn: number, inShape: readonly number[]) {
  const f = inShape.length === 3 ? inShape[2]! : nIn;
  return [
    vector('gamma', f, true, 1, 'weight'),
    vector('beta', f, true, 0, 'bias'),
    vector('moving_mean', f, false, 0, 'running_mean'),
    vector('moving_variance', f, false, 1, 'running_var', true),
  ];
}
