/**
 * The dense (fully connected) layer: `y = act(x·W + b)`, W `[inputs, units]` (Keras layout).
 * Kernel: crates/kernels/src/layers/dense.rs.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkConstraint, checkRegularizer, type MaxNormConstraint, type Regularizer } from '../regularizers/index.js';
import { checkInitializer, type Initializer } from './initializers.js';
import type { LayerKind } from './kind.js';
import { checkActivation, checkOptionsObject, type LayerActivation } from './options.js';

/** Options of {@link dense}. */
export interface DenseOptions {
  /**
   * `'linear'` (default), `'relu'`, `'leakyRelu'`, `'elu'`, `'sigmoid'`, `'tanh'`, or `'softmax'`
   * on the last layer only: fused into the softmax cross-entropy loss (see `compile`).
   */
  activation?: LayerActivation;
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
  /**
   * `false` freezes the layer (Keras `layer.trainable = False`, e.g. for fine-tuning): its kernel
   * and bias keep their values bit for bit, have no optimizer state and no gradient buffers, and
   * gradients still flow through the layer to the layers before it. Default `true`.
   */
  trainable?: boolean;
}

/** A resolved dense layer config. */
export interface DenseConfig {
  readonly type: 'dense';
  readonly units: number;
  readonly activation: LayerActivation;
  readonly alpha: number;
  readonly kernelConstraint: MaxNormConstraint | null;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly trainable: boolean;
}

const DENSE_KEYS = ['activation', 'alpha', 'kernelConstraint', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer', 'trainable'] as const;

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
  checkOptionsObject(options, 'dense', DENSE_KEYS);
  const { activation, alpha } = checkActivation('dense', options.activation ?? 'linear', options.alpha);
  const kc = checkConstraint(options.kernelConstraint, 'kernelConstraint', 'dense');
  const useBias = options.useBias ?? true;
  if (typeof useBias !== 'boolean') throw new OptionError('useBias', `dense: useBias = ${preview(useBias)}; expected a boolean.`);
  const trainable = options.trainable ?? true;
  if (typeof trainable !== 'boolean') throw new OptionError('trainable', `dense: trainable = ${preview(trainable)}; expected a boolean (false freezes the layer).`);
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
    trainable,
  };
}

/** @internal */
export const denseKind: LayerKind<DenseConfig> = {
  type: 'dense',
  code: 1,
  prefix: 'dense',
  keys: ['units', ...DENSE_KEYS],
  positional: ['units'],
  nullable: ['kernelConstraint', 'kernelRegularizer', 'biasRegularizer'],
  build: ({ units, ...options }) => dense(units as number, options as DenseOptions),
  outputSize: (c) => c.units,
  params: (c, nIn) => [
    {
      name: 'kernel',
      shape: [nIn, c.units],
      trainable: c.trainable,
      init: { initializer: c.kernelInitializer, fanIn: nIn, fanOut: c.units },
      penalty: { l1: c.kernelRegularizer?.l1 ?? 0, l2: c.kernelRegularizer?.l2 ?? 0 },
      // nn.Linear stores weight as [out, in]
      torch: { name: 'weight', transpose: true },
    },
    ...(c.useBias
      ? [{
          name: 'bias',
          shape: [c.units],
          trainable: c.trainable,
          init: { initializer: c.biasInitializer, fanIn: nIn, fanOut: c.units },
          penalty: { l1: c.biasRegularizer?.l1 ?? 0, l2: c.biasRegularizer?.l2 ?? 0 },
          torch: { name: 'bias', transpose: false },
        }]
      : []),
  ],
  // ONNX Gemm computes x·B + C with B [in, out]: the Keras layout as is
  onnx: (c) => (c.useBias ? { op: 'Gemm', params: ['kernel', 'bias'] } : { op: 'MatMul', params: ['kernel'] }),
  // softmax is not a kernel activation: the layer computes logits and the loss applies the softmax
  folded: (c) => (c.activation === 'softmax' ? { act: 'linear', alpha: c.alpha, dropout: 0, softmax: true } : { act: c.activation, alpha: c.alpha, dropout: 0 }),
  note: (c) => [c.kernelConstraint ? `maxNorm ${c.kernelConstraint.maxValue}` : '', c.trainable ? '' : 'frozen'].filter(Boolean).join(', '),
  record: (c, e, values, grads) => ({
    wLen: e.nIn * e.nOut, bLen: c.useBias ? e.nOut : 0, names: [...e.params.map((p) => p.fullName), '', '', ''].slice(0, 4),
    kind: denseKind.code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
    w: values[0]!, gw: grads[0] ?? null, b: values[1] ?? null, gb: grads[1] ?? null,
    ws: [null, null, null], bs: [null, null, null],
    l1: e.params[0]!.penalty.l1, l2: e.params[0]!.penalty.l2, bl1: e.params[1]?.penalty.l1 ?? 0, bl2: e.params[1]?.penalty.l2 ?? 0,
    maxNorm: c.kernelConstraint?.maxValue ?? 0, maxNormEps: c.kernelConstraint?.epsilon ?? 0, bn: null, frozen: !c.trainable,
  }),
};
