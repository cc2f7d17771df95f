/**
 * Window geometry shared by convolution and pooling layers: option checks and the output size and
 * padding rules of Keras / TensorFlow. Internal (not re-exported).
 * @internal
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { CONV_GEOM } from '../runtime/abi.js';

/** A height × width pair (a number means both). */
export type Pair = number | readonly [number, number];

/** A positive-integer pair from a number or a pair (the factories' check). @internal */
export function pair(v: unknown, option: string, where: string): readonly [number, number] {
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 65535;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  throw new OptionError(option, `${where}: ${option} = ${preview(v)}; expected a positive integer or a [height, width] pair of them, e.g. 3 or [3, 3].`);
}

/** `'valid'` or `'same'` (the factories' check). @internal */
export function paddingOf(v: unknown, where: string): 'valid' | 'same' {
  if (v === undefined) return 'valid';
  if (v !== 'valid' && v !== 'same') throw new OptionError('padding', `${where}: padding = ${preview(v)}; expected 'valid' or 'same'.`);
  return v;
}

/** Output size and leading padding of one axis (Keras / TensorFlow rules). @internal */
export function axis(i: number, k: number, s: number, d: number, padding: 'valid' | 'same'): { o: number; pad: number } {
  if (padding === 'valid') return { o: Math.floor((i - d * (k - 1) - 1) / s) + 1, pad: 0 };
  const o = Math.ceil(i / s);
  return { o, pad: Math.floor(Math.max((o - 1) * s + d * (k - 1) + 1 - i, 0) / 2) };
}

/** The ConvGeom fields of a window layer on `[h, w, c]` (f: output channels), or an OptionError naming the fix. @internal */
export function geometry(inShape: readonly number[], k: readonly [number, number], s: readonly [number, number], d: readonly [number, number], padding: 'valid' | 'same', f: number, where: string): Record<(typeof CONV_GEOM.fields)[number], number> {
  if (inShape.length !== 3) throw new OptionError('inputShape', `${where} takes [height, width, channels] images but receives [${inShape.join(', ')}]; give the model inputShape [height, width, channels] or reshape([h, w, c]) first.`);
  const [h, w, c] = inShape as [number, number, number];
  const y = axis(h, k[0], s[0], d[0], padding);
  const x = axis(w, k[1], s[1], d[1], padding);
  if (y.o < 1 || x.o < 1) {
    throw new OptionError('kernelSize', `${where}: a ${k[0]}×${k[1]} window${d[0] > 1 || d[1] > 1 ? ` with dilation ${d.join('×')}` : ''} does not fit a ${h}×${w} input with padding '${padding}'; use a smaller kernel or padding 'same'.`);
  }
  return { h, w, c, kh: k[0], kw: k[1], sh: s[0], sw: s[1], dh: d[0], dw: d[1], pt: y.pad, pl: x.pad, oh: y.o, ow: x.o, f };
}


/** The `[top, left, bottom, right]` zero padding of a window layer (ONNX `pads` order: begins, then ends). @internal */
export function pads(g: ReturnType<typeof geometry>): [number, number, number, number] {
  const end = (o: number, s: number, d: number, k: number, i: number, p: number) => Math.max(0, (o - 1) * s + d * (k - 1) + 1 - i - p);
  return [g.pt, g.pl, end(g.oh, g.sh, g.dh, g.kh, g.h, g.pt), end(g.ow, g.sw, g.dw, g.kw, g.w, g.pl)];
}

/** 'same' padding that PyTorch's symmetric `padding=(ph, pw)` cannot express (an odd total on an axis). @internal */
export const uneven = (g: ReturnType<typeof geometry>): boolean => {
  const [t, l, b, r] = pads(g);
  return t !== b || l !== r;
};
