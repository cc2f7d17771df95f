/**
 * The batch-normalization layer kind (Keras `BatchNormalization`; PyTorch `nn.BatchNorm1d`):
 * γ and β are trained, the running mean and variance are statistics the step updates.
 */
import type { BatchNormConfig } from './index.js';
import type { LayerKind, ParamSpec } from './kind.js';

const vector = (name: string, f: number, trainable: boolean, value: number, torch: string, nonNegative = false): ParamSpec => ({
  name,
  shape: [f],
  trainable,
  init: { initializer: { constant: value }, fanIn: f, fanOut: f },
  penalty: { l1: 0, l2: 0 },
  torch: { name: torch, transpose: false },
  ...(nonNegative ? { nonNegative } : {}),
});

export const batchNormKind: LayerKind<BatchNormConfig> = {
  type: 'batchNorm',
  prefix: 'batch_norm',
  outputSize: (_c, nIn) => nIn,
  params: (_c, f) => [
    vector('gamma', f, true, 1, 'weight'),
    vector('beta', f, true, 0, 'bias'),
    vector('moving_mean', f, false, 0, 'running_mean'),
    vector('moving_variance', f, false, 1, 'running_var', true),
  ],
  onnx: (c) => ({ op: 'BatchNormalization', params: ['gamma', 'beta', 'moving_mean', 'moving_variance'], floats: { epsilon: c.epsilon } }),
  folded: () => ({ act: 'linear', alpha: 0, dropout: 0 }),
  usesBatchStatistics: true,
  torchExtras: ['num_batches_tracked'],
  // the kernel's momentum is PyTorch's (weight of the batch statistic): 1 − Keras momentum
  record: (c, e, values, grads, scratch) => ({
    wLen: e.nOut, bLen: e.nOut, names: e.params.map((p) => p.fullName),
    kind: 'batchNorm', nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
    w: values[0]!, gw: grads[0]!, b: values[1]!, gb: grads[1]!,
    ws: [null, null, null], bs: [null, null, null], l1: 0, l2: 0, bl1: 0, bl2: 0, maxNorm: 0,
    bn: { runningMean: values[2]!, runningVar: values[3]!, saveMean: scratch(e.nOut), saveInvStd: scratch(e.nOut), eps: c.epsilon, momentum: 1 - c.momentum },
  }),
};
