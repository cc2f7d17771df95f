/**
 * Image augmentation layers, active only while training (Keras `RandomFlip`, `RandomTranslation`,
 * `RandomRotation`, `RandomZoom`, `RandomContrast` with the semantics of tf.keras 2.10–2.15, the
 * last Keras 2): each image of a training batch is transformed with its own random parameters, in
 * WASM inside the training step; `predict` (Monte Carlo sampling included) and `evaluate` see the
 * images unchanged. Inputs are `[height, width, channels]` images. They have no gradient, so they
 * go at the input, before every layer with parameters (the model refuses them elsewhere).
 *
 * Reproducible like dropout: image `r` of training step `t` draws its parameters from
 * Philox-4x32-10 keyed by the fit seed and the layer's position, at counter `(r, t)` — the same
 * seed gives the same augmented batches on every build, thread count and after a checkpoint
 * resume. Translation, rotation and zoom follow TensorFlow's `ImageProjectiveTransformV3` (the op
 * Keras 2 runs): output pixel centers are mapped to input coordinates, filled by `fillMode` and
 * interpolated. Kernel: crates/kernels/src/augment.rs (with the fill-mode and stream details).
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { CONV_GEOM } from '../runtime/abi.js';
import type { LayerKind } from './kind.js';
import { checkOptionsObject } from './options.js';
import { geometry } from './window.js';

/** A factor: a number `f` (the range `[-f, f]`; for randomContrast `[1 − f, 1 + f]`) or a `[lower, upper]` pair. */
export type AugmentFactor = number | readonly [number, number];

/** How {@link randomTranslation}, {@link randomRotation} and {@link randomZoom} fill points outside the input and interpolate. */
export interface AugmentOptions {
  /**
   * `'reflect'` (default; `d c b a | a b c d | d c b a`, about the edge of the last pixel),
   * `'wrap'` (`a b c d | a b c d`: TensorFlow's, exact within one image size beyond each edge),
   * `'constant'` (`fillValue` beyond the edges), `'nearest'` (`a a | a b c d | d d`).
   */
  fillMode?: 'reflect' | 'wrap' | 'constant' | 'nearest';
  /** `'bilinear'` (default) or `'nearest'` (round half away from zero). */
  interpolation?: 'bilinear' | 'nearest';
  /** The value outside the image with fillMode `'constant'` (default 0). */
  fillValue?: number;
}

type Warp = Readonly<Required<AugmentOptions>>;
/** A randomFlip config. */
export interface RandomFlipConfig {
  readonly type: 'randomFlip';
  readonly mode: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
}
/** A randomTranslation config. */
export interface RandomTranslationConfig extends Warp {
  readonly type: 'randomTranslation';
  readonly heightFactor: AugmentFactor;
  readonly widthFactor: AugmentFactor;
}
/** A randomRotation config. */
export interface RandomRotationConfig extends Warp {
  readonly type: 'randomRotation';
  readonly factor: AugmentFactor;
}
/** A randomZoom config (`widthFactor` null: the width zooms as the height). */
export interface RandomZoomConfig extends Warp {
  readonly type: 'randomZoom';
  readonly heightFactor: AugmentFactor;
  readonly widthFactor: AugmentFactor | null;
}
/** A randomContrast config. */
export interface RandomContrastConfig {
  readonly type: 'randomContrast';
  readonly factor: AugmentFactor;
}
/** The config of an augmentation layer. */
export type AugmentConfig = RandomFlipConfig | RandomTranslationConfig | RandomRotationConfig | RandomZoomConfig | RandomContrastConfig;

const FILL = ['reflect', 'wrap', 'constant', 'nearest'] as const;
const INTERP = ['nearest', 'bilinear'] as const;
const FLIP = ['horizontal', 'vertical', 'horizontal_and_vertical'] as const;
const WARP_KEYS = ['fillMode', 'interpolation', 'fillValue'] as const;
const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const oneOf = <T extends string>(v: unknown, names: readonly T[], option: string, where: string): T => {
  if (!names.includes(v as T)) throw new OptionError(option, `${where}: ${option} = ${preview(v)}; expected one of ${names.map((n) => `'${n}'`).join(', ')}.`);
  return v as T;
};

/**
 * A factor's `[lower, upper]` (a number `f` gives `[-f, f]`, or `[f, f]` when `same`) and the
 * stored copy, after the shape checks; `bad(lo, hi)` names the violated Keras rule, if any.
 */
function bounds(v: unknown, option: string, where: string, same: boolean, bad: (lo: number, hi: number) => string | null): { lo: number; hi: number; value: AugmentFactor } {
  const pair = Array.isArray(v) && v.length === 2 && fin(v[0]) && fin(v[1]);
  if (!fin(v) && !pair) throw new OptionError(option, `${where}: ${option} = ${preview(v)}; expected a finite number or a [lower, upper] pair of them, e.g. 0.1 or [-0.1, 0.2].`);
  const [lo, hi] = pair ? (v as [number, number]) : [same ? (v as number) : -(v as number), v as number];
  const why = bad(lo, hi);
  if (why) throw new OptionError(option, `${where}: ${option} = ${preview(v)} gives the range [${lo}, ${hi}]; ${why}.`);
  return { lo, hi, value: pair ? [lo, hi] : (v as number) };
}

const ordered = (lo: number, hi: number) => (hi < lo ? 'the upper bound must be >= the lower bound (a single number f means [-f, f], so f must be >= 0)' : null);
const unit = (lo: number, hi: number) => (Math.abs(lo) > 1 || Math.abs(hi) > 1 ? 'both bounds must lie in [-1, 1] (fractions of the image size)' : null);

function warp(options: AugmentOptions, where: string): Warp {
  checkOptionsObject(options, where, WARP_KEYS);
  const fillValue = options.fillValue ?? 0;
  if (!fin(fillValue)) throw new OptionError('fillValue', `${where}: fillValue = ${preview(fillValue)}; expected a finite number (the value beyond the edges with fillMode 'constant').`);
  return { fillMode: oneOf(options.fillMode ?? 'reflect', FILL, 'fillMode', where), interpolation: oneOf(options.interpolation ?? 'bilinear', INTERP, 'interpolation', where), fillValue };
}

/**
 * Flips each training image left–right (`'horizontal'`), top–bottom (`'vertical'`) or both
 * independently (`'horizontal_and_vertical'`, the default), each flip with probability ½ (Keras
 * `RandomFlip(mode)`).
 * @example randomFlip('horizontal')
 */
export function randomFlip(mode: RandomFlipConfig['mode'] = 'horizontal_and_vertical'): RandomFlipConfig {
  return { type: 'randomFlip', mode: oneOf(mode, FLIP, 'mode', 'randomFlip') };
}

/**
 * Shifts each training image by `dy·height` rows and `dx·width` columns, `dy` drawn uniformly from
 * `heightFactor` and `dx` from `widthFactor` (positive: down and right), filling by `fillMode`
 * (Keras `RandomTranslation`). Each factor is a number `f` (`[-f, f]`, f >= 0) or a
 * `[lower, upper]` pair, with bounds in [-1, 1] and lower <= upper.
 * @example randomTranslation(0.1, 0.1, { fillMode: 'constant' })
 */
export function randomTranslation(heightFactor: AugmentFactor, widthFactor: AugmentFactor, options: AugmentOptions = {}): RandomTranslationConfig {
  const W = 'randomTranslation';
  const check = (lo: number, hi: number) => ordered(lo, hi) ?? unit(lo, hi);
  const h = bounds(heightFactor, 'heightFactor', W, false, check).value;
  return { type: W, heightFactor: h, widthFactor: bounds(widthFactor, 'widthFactor', W, false, check).value, ...warp(options, W) };
}

/**
 * Rotates each training image about its center by `factor·2π` radians, the factor drawn uniformly
 * from `factor` (a number `f` >= 0 means `[-f, f]`; positive angles turn counter-clockwise),
 * filling by `fillMode` (Keras `RandomRotation`).
 * @example randomRotation(0.05) // up to ±18°
 */
export function randomRotation(factor: AugmentFactor, options: AugmentOptions = {}): RandomRotationConfig {
  return { type: 'randomRotation', factor: bounds(factor, 'factor', 'randomRotation', false, ordered).value, ...warp(options, 'randomRotation') };
}

/**
 * Zooms each training image about its center: input coordinates are scaled by `1 + z`, `z` drawn
 * uniformly from `heightFactor` (and `widthFactor` for the width; omitted or null: the height's
 * factor, keeping the aspect ratio), so positive `z` zooms out and negative zooms in (Keras
 * `RandomZoom`). Height bounds lie in [-1, 1], width bounds are >= -1.
 * @example randomZoom(0.1)
 */
export function randomZoom(heightFactor: AugmentFactor, widthFactor: AugmentFactor | null = null, options: AugmentOptions = {}): RandomZoomConfig {
  const W = 'randomZoom';
  const h = bounds(heightFactor, 'heightFactor', W, false, (lo, hi) => (Math.abs(lo) > 1 || Math.abs(hi) > 1 ? 'both bounds must lie in [-1, 1]' : null)).value;
  const w = widthFactor === null || widthFactor === undefined ? null : bounds(widthFactor, 'widthFactor', W, false, (lo, hi) => (lo < -1 || hi < -1 ? 'both bounds must be >= -1' : null)).value;
  return { type: W, heightFactor: h, widthFactor: w, ...warp(options, W) };
}

/**
 * Scales each training image's deviation from its per-channel mean: `(x − mean)·c + mean`, `c`
 * drawn uniformly from `[1 − lower, 1 + upper]` (a number `f` means lower = upper = f; lower in
 * [0, 1], upper >= 0), then clipped to [0, 255] as tf.keras 2 does (Keras `RandomContrast`; one
 * factor per image, as Keras 3 draws it).
 * @example randomContrast(0.2)
 */
export function randomContrast(factor: AugmentFactor): RandomContrastConfig {
  return { type: 'randomContrast', factor: bounds(factor, 'factor', 'randomContrast', true, (lo, hi) => (lo < 0 || hi < 0 || lo > 1 ? 'lower must lie in [0, 1] and upper be >= 0' : null)).value };
}

/** `[lower, upper]` of a validated factor (`same`: a number f is [f, f]). */
const range = (f: AugmentFactor, same = false): [number, number] => (typeof f === 'number' ? [same ? f : -f, f] : [f[0], f[1]]);
const warpArgs = (c: Warp) => [FILL.indexOf(c.fillMode), INTERP.indexOf(c.interpolation), c.fillValue];

/** The kernel's argument block (crates/kernels/src/augment.rs): `[lo₀, hi₀, lo₁, hi₁, fill mode, interpolation, fill value, mode]`. */
function args(c: AugmentConfig): number[] {
  switch (c.type) {
    case 'randomFlip':
      return [0, 0, 0, 0, 0, 0, 0, FLIP.indexOf(c.mode) + 1];
    case 'randomTranslation':
      return [...range(c.heightFactor), ...range(c.widthFactor), ...warpArgs(c), 0];
    case 'randomRotation':
      return [...range(c.factor), 0, 0, ...warpArgs(c), 0];
    case 'randomZoom':
      return [...range(c.heightFactor).map((v) => 1 + v), ...(c.widthFactor === null ? [0, 0] : range(c.widthFactor).map((v) => 1 + v)), ...warpArgs(c), c.widthFactor === null ? 0 : 1];
    default: {
      const [lo, hi] = range(c.factor, true);
      return [1 - lo, 1 + hi, 0, 0, 0, 0, 0, 0];
    }
  }
}

function augmentKind<C extends AugmentConfig>(type: C['type'], code: number, keys: readonly string[], positional: readonly string[], build: (f: Readonly<Record<string, unknown>>) => C): LayerKind<C> {
  const image = (inShape: readonly number[], where: string) => geometry(inShape, [1, 1], [1, 1], [1, 1], 'valid', inShape[2] ?? 1, where);
  return {
    type,
    code,
    prefix: type.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`),
    keys,
    positional,
    build,
    stochastic: true,
    inputOnly: true,
    outputSize: (_c, nIn) => nIn,
    outputShape: (_c, inShape, where) => (image(inShape, where), [...inShape]),
    params: () => [],
    folded: () => ({ act: 'linear', alpha: 0, dropout: 0 }),
    // the identity at inference
    onnx: () => ({ op: 'Identity', params: [] }),
    note: (c) => keys.map((k) => (c as unknown as Record<string, unknown>)[k]).filter((v) => v !== null).map((v) => (Array.isArray(v) ? `[${v.join(', ')}]` : String(v))).join(' '),
    record: (c, e, _values, _grads, scratch) => ({
      wLen: 0, bLen: 0, names: [],
      kind: code, nIn: e.nIn, nOut: e.nOut, act: e.folded.act, alpha: e.folded.alpha, dropout: e.folded.dropout,
      w: null, gw: null, b: null, gb: null,
      ws: [null, null, null], bs: [null, null, null], l1: 0, l2: 0, bl1: 0, bl2: 0, maxNorm: 0, bn: null,
      geom: { ptr: scratch(CONV_GEOM.fields.length), fields: image(e.inShape, type) },
      aux: { ptr: scratch(8), floats: 8, init: args(c) },
    }),
  };
}

type F = Readonly<Record<string, unknown>>;
/** @internal */
export const randomFlipKind = augmentKind<RandomFlipConfig>('randomFlip', 10, ['mode'], ['mode'], (f) => randomFlip(f.mode as RandomFlipConfig['mode']));
/** @internal */
export const randomTranslationKind = augmentKind<RandomTranslationConfig>('randomTranslation', 11, ['heightFactor', 'widthFactor', ...WARP_KEYS], ['heightFactor', 'widthFactor'], ({ heightFactor, widthFactor, ...o }: F) => randomTranslation(heightFactor as AugmentFactor, widthFactor as AugmentFactor, o));
/** @internal */
export const randomRotationKind = augmentKind<RandomRotationConfig>('randomRotation', 12, ['factor', ...WARP_KEYS], ['factor'], ({ factor, ...o }: F) => randomRotation(factor as AugmentFactor, o));
/** @internal */
export const randomZoomKind = augmentKind<RandomZoomConfig>('randomZoom', 13, ['heightFactor', 'widthFactor', ...WARP_KEYS], ['heightFactor', 'widthFactor'], ({ heightFactor, widthFactor, ...o }: F) => randomZoom(heightFactor as AugmentFactor, widthFactor as AugmentFactor | null, o));
/** @internal */
export const randomContrastKind = augmentKind<RandomContrastConfig>('randomContrast', 14, ['factor'], ['factor'], (f) => randomContrast(f.factor as AugmentFactor));
