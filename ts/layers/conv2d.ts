/**
 * The 2-D convolution layer (Keras `Conv2D`, channels-last): input `[height, width, channels]`,
 * kernel `[kh, kw, channels, filters]` (Keras layout), output `[outHeight, outWidth, filters]`.
 * Kernel: crates/kernels/src/layers/conv2d.rs (im2col in row chunks on the packed GEMM).
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { CONV_GEOM } from '../runtime/abi.js';
import { checkConstraint, checkRegularizer, type MaxNormConstraint, type Regularizer } from '../regularizers/index.js';
import { checkInitializer, type Initializer } from './initializers.js';
import type { LayerKind } from './kind.js';
import { checkActivation, checkOptionsObject, type LayerActivation } from './options.js';
import { geometry, pair, paddingOf, uneven, type Pair } from './window.js';
import type { ActivationName } from '../runtime/abi.js';

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Window height and width (required), e.g. `3` or `[3, 5]`. */
  kernelSize: Pair;
  /** Step between windows (default 1). */
  strides?: Pair;
  /**
   * `'valid'` (default): windows inside the image only; `'same'`: zero padding so that the output
   * is `ceil(input / stride)` (TensorFlow's rule: an odd extra row/column goes at the bottom/right).
   */
  padding?: 'valid' | 'same';
  /** Spacing between the taps of a window (Keras `dilation_rate`, default 1). */
  dilationRate?: Pair;
  /** As {@link DenseOptions.activation}, except softmax. */
  activation?: LayerActivation;
  /** Parameter of `leakyRelu` / `elu`. */
  alpha?: number;
  /** Add a bias per filter (default `true`). */
  useBias?: boolean;
  /** Kernel initializer (default `'glorotUniform'`, fans as Keras: kh·kw·channels in, kh·kw·filters out). */
  kernelInitializer?: Initializer;
  /** Bias initializer (default `'zeros'`). */
  biasInitializer?: Initializer;
  kernelRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
  /** Max-norm of each filter's weights (`kh·kw·channels` values), e.g. `maxNorm({ maxValue: 3 })`. */
  kernelConstraint?: MaxNormConstraint;
  /** `false` freezes the layer (as {@link DenseOptions.trainable}). */
  trainable?: boolean;
}

/** A resolved conv2d layer config. */
export interface Conv2dConfig {
  readonly type: 'conv2d';
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: readonly [number, number];
  readonly activation: LayerActivation;
  readonly alpha: number;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly kernelConstraint: MaxNormConstraint | null;
  readonly trainable: boolean;
}

const CONV_KEYS = ['kernelSize', 'strides', 'padding', 'dilationRate', 'activation', 'alpha', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer', 'kernelConstraint', 'trainable'] as const;

/**
 * A 2-D convolution over channels-last images (Keras `Conv2D(filters, kernel_size, ...)`):
 * `y = act(conv(x, W) + b)` with W `[kh, kw, channels, filters]`. Its input is
 * `[height, width, channels]` (the model's `inputShape`, or the previous layer's output).
 * PyTorch's `nn.Conv2d` stores the same kernel as `[filters, channels, kh, kw]` and its images
 * as NCHW; safetensors and ONNX exports convert (see `torchKeys` and `toOnnx`).
 * @param filters output channels (positive integer)
 * @example
 * ```ts
 * new Sequential({ inputShape: [28, 28, 1], layers: [conv2d(8, { kernelSize: 3, activation: 'relu' }), maxPool2d(), flatten(), dense(10)] })
 * ```
 */
export function conv2d(filters: number, options: Conv2dOptions): Conv2dConfig {
  const W = 'conv2d';
  if (typeof filters !== 'number' || !Number.isInteger(filters) || filters < 1) {
    throw new OptionError('filters', `${W}: filters = ${preview(filters)}; expected a positive integer (the number of output channels).`);
  }
  if (options === undefined || options === null || typeof options !== 'object' || !Object.hasOwn(options, 'kernelSize')) {
    throw new OptionError('kernelSize', `${W}: options need kernelSize, e.g. conv2d(${filters}, { kernelSize: 3 }).`);
  }
  checkOptionsObject(options, W, CONV_KEYS);
  const { activation, alpha } = checkActivation(W, options.activation ?? 'linear', options.alpha);
  if (activation === 'softmax') throw new OptionError('activation', `${W}: activation 'softmax' is for the last dense layer; use 'relu' (or none) on convolutions.`);
  const useBias = options.useBias ?? true;
  if (typeof useBias !== 'boolean') throw new OptionError('useBias', `${W}: useBias = ${preview(useBias)}; expected a boolean.`);
  const trainable = options.trainable ?? true;
  if (typeof trainable !== 'boolean') throw new OptionError('trainable', `${W}: trainable = ${preview(trainable)}; expected a boolean (false freezes the layer).`);
  return {
    type: 'conv2d',
    filters,
    kernelSize: pair(options.kernelSize, 'kernelSize', W),
    strides: pair(options.strides ?? 1, 'strides', W),
    padding: paddingOf(options.padding, W),
    dilationRate: pair(options.dilationRate ?? 1, 'dilationRate', W),
    activation,
    alpha,
    useBias,
    kernelInitializer: checkInitializer(options.kernelInitializer ?? 'glorotUniform', 'kernelInitializer', W),
    biasInitializer: checkInitializer(options.biasInitializer ?? 'zeros', 'biasInitializer', W),
    kernelRegularizer: checkRegularizer(options.kernelRegularizer, 'kernelRegularizer', W),
    biasRegularizer: checkRegularizer(options.biasRegularizer, 'biasRegularizer', W),
    kernelConstraint: checkConstraint(options.kernelConstraint, 'kernelConstraint', W),
    trainable,
  };
}

/** Floats of the im2col chunk: rows of `k` floats, up to 256 Ki floats (1 MiB), at least one row. */
const chunkFloats = (k: number) => Math.max(1, Math.floor(262_144 / k)) * k;

const geom = (c: Conv2dConfig, inShape: readonly number[]) => geometry(inShape, c.kernelSize, c.strides, c.dilationRate, c.padding, c.filters, 'conv2d');

/** @internal */
export const conv2dKind: LayerKind<Conv2dConfig> = {
  type: 'conv2d',
  code: 4,
  prefix: 'conv2d',
  keys: ['filters', ...CONV_KEYS],
  positional: ['filters'],
  nullable: ['kernelConstraint', 'kernelRegularizer', 'biasRegularizer'],
  build: ({ filters, ...options }) => conv2d(filters as number, options as unknown as Conv2dOptions),
  outputSize: () => {
    throw new OptionError('inputShape', 'conv2d takes [height, width, channels] images; it has no flat output size.');
  },
  outputShape: (c, inShape, where) => {
    const g = geometry(inShape, c.kernelSize, c.strides, c.dilationRate, c.padding, c.filters, where);
    return [g.oh, g.ow, c.filters];
  },
  params: (c, _nIn, inShape) => {
    const [kh, kw] = c.kernelSize;
    const ch = inShape[2] ?? 1;
    return [
      {
        name: 'kernel',
        shape: [kh, kw, ch, c.filters],
        trainable: c.trainable,
        init: { initializer: c.kernelInitializer, fanIn: kh * kw * ch, fanOut: kh * kw * c.filters },
        penalty: { l1: c.kernelRegularizer?.l1 ?? 0, l2: c.kernelRegularizer?.l2 ?? 0 },
        // nn.Conv2d stores weight as [f, c, kh, kw] (ONNX Conv's W too)
        torch: { name: 'weight', transpose: true, shape: [c.filters, ch, kh, kw], nchw: [kh * kw, ch] },
      },
      ...(c.useBias
        ? [{
            name: 'bias',
            shape: [c.filters],
            trainable: c.trainable,
            init: { initializer: c.biasInitializer, fanIn: kh * kw * ch, fanOut: kh * kw * c.filters },
            penalty: { l1: c.biasRegularizer?.l1 ?? 0, l2: c.biasRegularizer?.l2 ?? 0 },
            torch: { name: 'bias', transpose: false },
          }]
        : []),
    ];
  },
  torchSpan: (c, inShape) => [c.padding === 'same' && (c.strides[0] > 1 || c.strides[1] > 1) && uneven(geom(c, inShape)) ? 1 : 0, 0],
  onnx: (c) => ({ op: 'Conv', params: c.useBias ? ['kernel', 'bias'] : ['kernel'], nchw: true }),
  folded: (c) => ({ act: c.activation as ActivationName, alpha: c.alpha, dropout: 0 }), // softmax is refused by conv2d()
  note: (c) => [`${c.kernelSize.join('×')}${c.strides[0] > 1 || c.strides[1] > 1 ? ` /${c.strides.join('×')}` : ''} ${c.padding}`, c.kernelConstraint ? `maxNorm ${c.kernelConstraint.maxValue}` : '', c.trainable ? '' : 'frozen'].filter(Boolean).join(', '),
  record: (c, e, values, grads, scratch) => {
    const g = geom(c, e.inShape);
    const k = g.kh * g.kw * g.c;
    const floats = chunkFloats(k);
    return {
      wLen: k * c.filters, bLen: c.useBias ? c.filters : 0, names: [...e.params.map((p) => p.fullName), '', '', ''].slice(0, 4),
      kind: conv2dKind.code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
      w: values[0]!, gw: grads[0] ?? null, b: values[1] ?? null, gb: grads[1] ?? null,
      ws: [null, null, null], bs: [null, null, null],
      l1: e.params[0]!.penalty.l1, l2: e.params[0]!.penalty.l2, bl1: e.params[1]?.penalty.l1 ?? 0, bl2: e.params[1]?.penalty.l2 ?? 0,
      maxNorm: c.kernelConstraint?.maxValue ?? 0, maxNormEps: c.kernelConstraint?.epsilon ?? 0, bn: null, frozen: !c.trainable,
      geom: { ptr: scratch(CONV_GEOM.fields.length), fields: g }, aux: { ptr: scratch(floats), floats },
    };
  },
};
export type { Pair } from './window.js';
