/** The dense (fully connected) layer kind: `y = act(x·W + b)`, W `[inputs, units]` (Keras layout). */
import type { DenseConfig } from './index.js';
import type { LayerKind } from './kind.js';

export const denseKind: LayerKind<DenseConfig> = {
  type: 'dense',
  prefix: 'dense',
  outputSize: (c) => c.units,
  params: (c, nIn) => [
    {
      name: 'kernel',
      shape: [nIn, c.units],
      trainable: true,
      init: { initializer: c.kernelInitializer, fanIn: nIn, fanOut: c.units },
      penalty: { l1: c.kernelRegularizer?.l1 ?? 0, l2: c.kernelRegularizer?.l2 ?? 0 },
      // nn.Linear stores weight as [out, in]
      torch: { name: 'weight', transpose: true },
    },
    ...(c.useBias
      ? [{
          name: 'bias',
          shape: [c.units],
          trainable: true,
          init: { initializer: c.biasInitializer, fanIn: nIn, fanOut: c.units },
          penalty: { l1: c.biasRegularizer?.l1 ?? 0, l2: c.biasRegularizer?.l2 ?? 0 },
          torch: { name: 'bias', transpose: false },
        }]
      : []),
  ],
  // ONNX Gemm computes x·B + C with B [in, out]: the Keras layout as is
  onnx: (c) => (c.useBias ? { op: 'Gemm', params: ['kernel', 'bias'] } : { op: 'MatMul', params: ['kernel'] }),
  folded: (c) => ({ act: c.activation, alpha: c.alpha, dropout: 0 }),
  note: (c) => (c.kernelConstraint ? `maxNorm ${c.kernelConstraint.maxValue}` : ''),
  record: (c, e, values, grads) => ({
    wLen: e.nIn * e.nOut, bLen: c.useBias ? e.nOut : 0, names: [...e.params.map((p) => p.fullName), '', '', ''].slice(0, 4),
    kind: 'dense', nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
    w: values[0]!, gw: grads[0]!, b: values[1] ?? null, gb: grads[1] ?? null,
    ws: [null, null, null], bs: [null, null, null],
    l1: e.params[0]!.penalty.l1, l2: e.params[0]!.penalty.l2, bl1: e.params[1]?.penalty.l1 ?? 0, bl2: e.params[1]?.penalty.l2 ?? 0,
    maxNorm: c.kernelConstraint?.maxValue ?? 0, bn: null,
  }),
};
