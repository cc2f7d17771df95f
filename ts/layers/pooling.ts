/**
 * 2-D pooling layers (Keras `MaxPooling2D`, `AveragePooling2D`, `GlobalAveragePooling2D`,
 * `GlobalMaxPooling2D`), channels-last. No parameters. Kernel:
 * crates/kernels/src/layers/pool2d.rs (max: first maximum wins, padding never; average: padding
 * excluded from the count, as Keras and PyTorch's `count_include_pad=False`).
 */
import { OptionError } from '../errors/index.js';
import { CONV_GEOM } from '../runtime/abi.js';
import type { LayerKind } from './kind.js';
import { checkOptionsObject } from './options.js';
import { geometry, pair, paddingOf, uneven, type Pair } from './window.js';

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface Pool2dOptions {
  /** Window height and width (default 2). */
  poolSize?: Pair;
  /** Step between windows (default: the pool size, as Keras). */
  strides?: Pair;
  /** `'valid'` (default) or `'same'` (see conv2d). */
  padding?: 'valid' | 'same';
}

/** A resolved pooling layer config. */
export interface Pool2dConfig {
  readonly type: 'maxPool2d' | 'avgPool2d';
  readonly poolSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: 'valid' | 'same';
}

/** A resolved global pooling layer config (the window is the whole image; output `[channels]`). */
export interface GlobalPool2dConfig {
  readonly type: 'globalAveragePool2d' | 'globalMaxPool2d';
}

const POOL_KEYS = ['poolSize', 'strides', 'padding'] as const;

function pool(type: Pool2dConfig['type'], options: Pool2dOptions): Pool2dConfig {
  checkOptionsObject(options, type, POOL_KEYS);
  const poolSize = pair(options.poolSize ?? 2, 'poolSize', type);
  return { type, poolSize, strides: pair(options.strides ?? poolSize, 'strides', type), padding: paddingOf(options.padding, type) };
}

/**
 * Max pooling over `poolSize` windows (Keras `MaxPooling2D`): the largest value of each window,
 * per channel; the gradient goes to that value's position (the first one on ties).
 * @example maxPool2d() // 2×2 windows, stride 2
 */
export function maxPool2d(options: Pool2dOptions = {}): Pool2dConfig {
  return pool('maxPool2d', options);
}

/**
 * Average pooling over `poolSize` windows (Keras `AveragePooling2D`): the mean of each window's
 * values inside the image (with padding 'same', border windows average fewer values).
 */
export function avgPool2d(options: Pool2dOptions = {}): Pool2dConfig {
  return pool('avgPool2d', options);
}

/** The mean of each channel over the whole image (Keras `GlobalAveragePooling2D`): `[h, w, c]` → `[c]`. */
export function globalAveragePool2d(): GlobalPool2dConfig {
  return { type: 'globalAveragePool2d' };
}

/** The maximum of each channel over the whole image (Keras `GlobalMaxPooling2D`): `[h, w, c]` → `[c]`. */
export function globalMaxPool2d(): GlobalPool2dConfig {
  return { type: 'globalMaxPool2d' };
}

type Geom = ReturnType<typeof geometry>;

/**
 * A pooling kind. PyTorch: `nn.MaxPool2d` / `nn.AvgPool2d(count_include_pad=False)` with
 * `padding=(top, left)`, after `nn.ConstantPad2d(…, -inf)` when a max pool's 'same' padding is
 * uneven (an average pool's then needs a module of the user's own: pooled sums over pooled counts);
 * global pools are `nn.AdaptiveAvgPool2d(1)` / `nn.AdaptiveMaxPool2d(1)` then `nn.Flatten()`.
 * ONNX: `MaxPool`, `AveragePool` (count_include_pad 0) with explicit pads, `GlobalAveragePool`,
 * `GlobalMaxPool`.
 */
function poolKind<C extends Pool2dConfig | GlobalPool2dConfig>(type: C['type'], code: number, kernel: string, prefix: string, geom: (c: C, inShape: readonly number[], where: string) => Geom, out: (g: Geom) => number[], build: (f: Readonly<Record<string, unknown>>) => C, keys: readonly string[], onnx: string): LayerKind<C> {
  const kind: LayerKind<C> = {
    type,
    code,
    kernel,
    prefix,
    keys,
    build,
    outputSize: () => {
      throw new OptionError('inputShape', `${type} takes [height, width, channels] images; it has no flat output size.`);
    },
    outputShape: (c, inShape, where) => out(geom(c, inShape, where)),
    params: () => [],
    torchSpan: (c, inShape) => ('poolSize' in c ? [code === 5 && uneven(geom(c, inShape, type)) ? 1 : 0, 0] : [0, 1]),
    onnx: () => ({ op: onnx, params: [], nchw: true }),
    folded: () => ({ act: 'linear', alpha: 0, dropout: 0 }),
    note: (c) => ('poolSize' in c ? `${c.poolSize.join('×')}${c.strides[0] !== c.poolSize[0] || c.strides[1] !== c.poolSize[1] ? ` /${c.strides.join('×')}` : ''} ${c.padding}` : ''),
    record: (c, e, _values, _grads, scratch) => ({
      wLen: 0, bLen: 0, names: [],
      kind: code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
      w: null, gw: null, b: null, gb: null,
      ws: [null, null, null], bs: [null, null, null], l1: 0, l2: 0, bl1: 0, bl2: 0, maxNorm: 0, bn: null,
      geom: { ptr: scratch(CONV_GEOM.fields.length), fields: geom(c, e.inShape, type) },
    }),
  };
  return kind;
}

const windowed = (c: Pool2dConfig, inShape: readonly number[], where: string) => geometry(inShape, c.poolSize, c.strides, [1, 1], c.padding, inShape[2] ?? 0, where);
const global = (_c: GlobalPool2dConfig, inShape: readonly number[], where: string) => {
  if (inShape.length !== 3) return geometry(inShape, [1, 1], [1, 1], [1, 1], 'valid', 0, where); // throws the shape message
  return geometry(inShape, [inShape[0]!, inShape[1]!], [1, 1], [1, 1], 'valid', inShape[2]!, where);
};

/** @internal */
export const maxPool2dKind = poolKind<Pool2dConfig>('maxPool2d', 5, 'max_pool2d', 'max_pool2d', windowed, (g) => [g.oh, g.ow, g.c], (f) => maxPool2d(f as Pool2dOptions), POOL_KEYS, 'MaxPool');
/** @internal */
export const avgPool2dKind = poolKind<Pool2dConfig>('avgPool2d', 6, 'avg_pool2d', 'avg_pool2d', windowed, (g) => [g.oh, g.ow, g.c], (f) => avgPool2d(f as Pool2dOptions), POOL_KEYS, 'AveragePool');
/** @internal */
export const globalMaxPool2dKind = poolKind<GlobalPool2dConfig>('globalMaxPool2d', 5, 'max_pool2d', 'global_max_pool2d', global, (g) => [g.c], () => globalMaxPool2d(), [], 'GlobalMaxPool');
/** @internal */
export const globalAveragePool2dKind = poolKind<GlobalPool2dConfig>('globalAveragePool2d', 6, 'avg_pool2d', 'global_average_pool2d', global, (g) => [g.c], () => globalAveragePool2d(), [], 'GlobalAveragePool');
