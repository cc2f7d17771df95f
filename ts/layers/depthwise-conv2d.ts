/**
 * The depthwise 2-D convolution layer (Keras `DepthwiseConv2D`, MobileNet's per-channel filter,
 * channels-last): input `[height, width, channels]`, kernel `[kh, kw, channels, depthMultiplier]`
 * (Keras layout), output `[outHeight, outWidth, channels·depthMultiplier]` with output channel
 * `c·depthMultiplier + j` the input channel `c` filtered by its `j`-th kernel.
 * Kernel: crates/kernels/src/layers/depthwise_conv2d.rs (direct SIMD loops over channels,
 * crates/kernels/src/depthwise.rs).
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

/** Options of {@link depthwiseConv2d}. */
export interface DepthwiseConv2dOptions {
  /** Window height and width (required), e.g. `3` or `[3, 5]`. */
  kernelSize: Pair;
  /** Step between windows (default 1). */
  strides?: Pair;
  /** `'valid'` (default) or `'same'` (TensorFlow's rule, as {@link Conv2dOptions.padding}). */
  padding?: 'valid' | 'same';
  /** Output channels per input channel (Keras `depth_multiplier`, default 1: MobileNet's). */
  depthMultiplier?: number;
  /** Spacing between the taps of a window (Keras `dilation_rate`, default 1). */
  dilationRate?: Pair;
  /** As {@link DenseOptions.activation}, except softmax. */
  activation?: LayerActivation;
  /** Parameter of `leakyRelu` / `elu`. */
  alpha?: number;
  /** Add a bias per output channel (default `true`). */
  useBias?: boolean;
  /**
   * Kernel initializer (default `'glorotUniform'`; fans as Keras computes them for the
   * `[kh, kw, channels, depthMultiplier]` kernel: kh·kw·channels in, kh·kw·depthMultiplier out).
   */
  depthwiseInitializer?: Initializer;
  /** Bias initializer (default `'zeros'`). */
  biasInitializer?: Initializer;
  depthwiseRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
  /**
   * Max-norm of each output channel's `kh·kw` weights (Keras `MaxNorm(axis=[0, 1])` on the
   * depthwise kernel), e.g. `maxNorm({ maxValue: 3 })`.
   */
  depthwiseConstraint?: MaxNormConstraint;
  /** `false` freezes the layer (as {@link DenseOptions.trainable}). */
  trainable?: boolean;
}

/** A resolved depthwiseConv2d layer config. */
export interface DepthwiseConv2dConfig {
  readonly type: 'depthwiseConv2d';
  readonly kernelSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: 'valid' | 'same';
  readonly depthMultiplier: number;
  readonly dilationRate: readonly [number, number];
  readonly activation: LayerActivation;
  readonly alpha: number;
  readonly useBias: boolean;
  readonly depthwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly depthwiseRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly depthwiseConstraint: MaxNormConstraint | null;
  readonly trainable: boolean;
}

const KEYS = ['kernelSize', 'strides', 'padding', 'depthMultiplier', 'dilationRate', 'activation', 'alpha', 'useBias', 'depthwiseInitializer', 'biasInitializer', 'depthwiseRegularizer', 'biasRegularizer', 'depthwiseConstraint', 'trainable'] as const;

/**
 * A depthwise 2-D convolution over channels-last images (Keras
 * `DepthwiseConv2D(kernel_size, depth_multiplier=…)`): each input channel `c` is convolved with
 * its own `depthMultiplier` kernels,
 * `y[.., c·m + j] = act(Σ_{ky,kx} x[.., c]·W[ky, kx, c, j] + b[c·m + j])`, W
 * `[kh, kw, channels, m]`. Followed by a 1×1 {@link conv2d} it is MobileNet's depthwise-separable
 * block (about `1/filters + 1/9` of a full 3×3 convolution's multiply-adds). PyTorch:
 * `nn.Conv2d(channels, channels·m, kernel, groups=channels)`, weight `[channels·m, 1, kh, kw]`
 * (safetensors and ONNX `Conv` with `group = channels` convert).
 * @example
 * ```ts
 * new Sequential({ inputShape: [28, 28, 8], layers: [depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }), conv2d(16, { kernelSize: 1 }), globalAveragePool2d(), dense(10)] })
 * ```
 */
export function depthwiseConv2d(options: DepthwiseConv2dOptions): DepthwiseConv2dConfig {
  const W = 'depthwiseConv2d';
  if (options === undefined || options === null || typeof options !== 'object' || !Object.hasOwn(options, 'kernelSize')) {
    throw new OptionError('kernelSize', `${W}: options need kernelSize, e.g. depthwiseConv2d({ kernelSize: 3 }).`);
  }
  checkOptionsObject(options, W, KEYS);
  const m = options.depthMultiplier ?? 1;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 65535) {
    throw new OptionError('depthMultiplier', `${W}: depthMultiplier = ${preview(m)}; expected a positive integer (output channels per input channel, e.g. 1).`);
  }
  const { activation, alpha } = checkActivation(W, options.activation ?? 'linear', options.alpha);
  if (activation === 'softmax') throw new OptionError('activation', `${W}: activation 'softmax' is for the last dense layer; use 'relu' (or none) on convolutions.`);
  const useBias = options.useBias ?? true;
  if (typeof useBias !== 'boolean') throw new OptionError('useBias', `${W}: useBias = ${preview(useBias)}; expected a boolean.`);
  const trainable = options.trainable ?? true;
  if (typeof trainable !== 'boolean') throw new OptionError('trainable', `${W}: trainable = ${preview(trainable)}; expected a boolean (false freezes the layer).`);
  return {
    type: 'depthwiseConv2d',
    kernelSize: pair(options.kernelSize, 'kernelSize', W),
    strides: pair(options.strides ?? 1, 'strides', W),
    padding: paddingOf(options.padding, W),
    depthMultiplier: m,
    dilationRate: pair(options.dilationRate ?? 1, 'dilationRate', W),
    activation,
    alpha,
    useBias,
    depthwiseInitializer: checkInitializer(options.depthwiseInitializer ?? 'glorotUniform', 'depthwiseInitializer', W),
    biasInitializer: checkInitializer(options.biasInitializer ?? 'zeros', 'biasInitializer', W),
    depthwiseRegularizer: checkRegularizer(options.depthwiseRegularizer, 'depthwiseRegularizer', W),
    biasRegularizer: checkRegularizer(options.biasRegularizer, 'biasRegularizer', W),
    depthwiseConstraint: checkConstraint(options.depthwiseConstraint, 'depthwiseConstraint', W),
    trainable,
  };
}

const geom = (c: DepthwiseConv2dConfig, inShape: readonly number[], where = 'depthwiseConv2d') =>
  geometry(inShape, c.kernelSize, c.strides, c.dilationRate, c.padding, (inShape[2] ?? 1) * c.depthMultiplier, where);

/** @internal */
export const depthwiseConv2dKind: LayerKind<DepthwiseConv2dConfig> = {
  type: 'depthwiseConv2d',
  code: 15,
  prefix: 'depthwise_conv2d',
  keys: KEYS,
  nullable: ['depthwiseConstraint', 'depthwiseRegularizer', 'biasRegularizer'],
  build: (options) => depthwiseConv2d(options as unknown as DepthwiseConv2dOptions),
  outputSize: () => {
    throw new OptionError('inputShape', 'depthwiseConv2d takes [height, width, channels] images; it has no flat output size.');
  },
  outputShape: (c, inShape, where) => {
    const g = geom(c, inShape, where);
    return [g.oh, g.ow, g.f];
  },
  params: (c, _nIn, inShape) => {
    const [kh, kw] = c.kernelSize;
    const ch = inShape[2] ?? 1;
    const m = c.depthMultiplier;
    // Keras' fans of a [kh, kw, c, m] kernel (PyTorch's default init would use kh·kw for both)
    const fans = { fanIn: kh * kw * ch, fanOut: kh * kw * m };
    return [
      {
        name: 'depthwise_kernel',
        shape: [kh, kw, ch, m],
        trainable: c.trainable,
        init: { initializer: c.depthwiseInitializer, ...fans },
        penalty: { l1: c.depthwiseRegularizer?.l1 ?? 0, l2: c.depthwiseRegularizer?.l2 ?? 0 },
        // nn.Conv2d(groups=c) stores weight as [c·m, 1, kh, kw]: the [kh·kw, c·m] matrix transposed (ONNX Conv's W too)
        torch: { name: 'weight', transpose: true, shape: [ch * m, 1, kh, kw] },
      },
      ...(c.useBias
        ? [{
            name: 'bias',
            shape: [ch * m],
            trainable: c.trainable,
            init: { initializer: c.biasInitializer, ...fans },
            penalty: { l1: c.biasRegularizer?.l1 ?? 0, l2: c.biasRegularizer?.l2 ?? 0 },
            torch: { name: 'bias', transpose: false },
          }]
        : []),
    ];
  },
  torchSpan: (c, inShape) => [c.padding === 'same' && (c.strides[0] > 1 || c.strides[1] > 1) && uneven(geom(c, inShape)) ? 1 : 0, 0],
  onnx: (c, inShape) => ({ op: 'Conv', params: c.useBias ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel'], nchw: true, ints: { group: inShape[2] ?? 1 } }),
  folded: (c) => ({ act: c.activation as ActivationName, alpha: c.alpha, dropout: 0 }), // softmax is refused by depthwiseConv2d()
  note: (c) => [`${c.kernelSize.join('×')}${c.strides[0] > 1 || c.strides[1] > 1 ? ` /${c.strides.join('×')}` : ''} ${c.padding}`, c.depthMultiplier > 1 ? `×${c.depthMultiplier}` : '', c.depthwiseConstraint ? `maxNorm ${c.depthwiseConstraint.maxValue}` : '', c.trainable ? '' : 'frozen'].filter(Boolean).join(', '),
  record: (c, e, values, grads, scratch) => {
    const g = geom(c, e.inShape);
    return {
      wLen: g.kh * g.kw * g.f, bLen: c.useBias ? g.f : 0, names: [...e.params.map((p) => p.fullName), '', '', ''].slice(0, 4),
      kind: depthwiseConv2dKind.code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
      w: values[0]!, gw: grads[0] ?? null, b: values[1] ?? null, gb: grads[1] ?? null,
      ws: [null, null, null], bs: [null, null, null],
      l1: e.params[0]!.penalty.l1, l2: e.params[0]!.penalty.l2, bl1: e.params[1]?.penalty.l1 ?? 0, bl2: e.params[1]?.penalty.l2 ?? 0,
      maxNorm: c.depthwiseConstraint?.maxValue ?? 0, maxNormEps: c.depthwiseConstraint?.epsilon ?? 0, bn: null, frozen: !c.trainable,
      geom: { ptr: scratch(CONV_GEOM.fields.length), fields: g },
    };
  },
};
