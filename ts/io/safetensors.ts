/**
 * safetensors (https://github.com/huggingface/safetensors) read/write, and weights in PyTorch
 * `nn.Sequential` naming so they move both ways between wasmfit and PyTorch.
 *
 * File layout: an 8-byte little-endian u64 `N`, `N` bytes of UTF-8 JSON
 * `{ "__metadata__": { string: string }, name: { dtype, shape, data_offsets: [begin, end] }, ... }`
 * (offsets relative to the byte buffer; may be padded with trailing spaces), then the byte
 * buffer, which the offsets must cover exactly, without holes or overlaps. Data is little-endian,
 * row-major.
 */
import { FormatError, OptionError, ShapeError } from '../errors/index.js';
import { jsonTooDeepAt, MAX_JSON_DEPTH, preview } from '../errors/preview.js';
import type { LayerConfig } from '../layers/index.js';
import { Sequential } from '../model/sequential.js';
import { checkFiniteTensors } from './container.js';
import { describeStack } from '../layers/registry.js';
import { reshapeTo } from '../layers/shape.js';
import type { StackEntry } from '../layers/kind.js';

/** safetensors dtypes, in the upstream enum order (increasing alignment). */
export const SAFETENSORS_DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];
const SIZE: Record<SafetensorsDtype, number> = { BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8 };
/** Largest header a reader accepts (100,000,000 bytes, the reference implementation's limit). */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** One tensor of a safetensors file: its dtype, shape and raw little-endian bytes. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Row-major little-endian bytes, `product(shape) · size(dtype)` of them. */
  data: Uint8Array;
}

/** A parsed safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in data-offset order. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` string map, or null when absent. */
  metadata: Record<string, string> | null;
}

function fail(where: string, field: string, msg: string): never {
  throw new FormatError(`${where}: ${field} ${msg}`);
}

const utf8 = new TextEncoder();
function cmpUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * Reads a safetensors file. Checks, before allocating anything: the header length (at most
 * 100,000,000 bytes and inside the file), UTF-8 JSON starting with `{`, a string-to-string
 * `__metadata__`, each tensor's dtype, shape and `data_offsets` (inside the buffer,
 * `end − begin = product(shape) · size(dtype)`), and that the offsets tile the byte buffer exactly
 * (no overlap, no hole, nothing after the last tensor).
 * @throws FormatError naming the field.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  const W = 'readSafetensors';
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${W}: expected the file's bytes as a Uint8Array; received ${bytes === null ? 'null' : typeof bytes}.`);
  if (bytes.length < 8) fail(W, 'file length', `is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length.`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = v.getUint32(0, true);
  const hi = v.getUint32(4, true);
  const n = hi * 4294967296 + lo;
  if (hi !== 0 || n > SAFETENSORS_MAX_HEADER) fail(W, 'header length', `is ${hi !== 0 ? `${hi}·2^32 + ${lo}` : n} bytes; the limit is ${SAFETENSORS_MAX_HEADER}.`);
  if (8 + n > bytes.length) fail(W, 'header length', `is ${n} bytes, past the end of the ${bytes.length}-byte file (truncated).`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail(W, 'header', 'is not valid UTF-8.');
  }
  if (text[0] !== '{') fail(W, 'header', 'does not start with "{".');
  const deep = jsonTooDeepAt(text);
  if (deep >= 0) fail(W, 'header', `nests arrays/objects more than ${MAX_JSON_DEPTH} levels deep (at character ${deep}); a safetensors header is at most 3 levels deep (the file is corrupt or hostile).`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(W, 'header', `is not valid JSON (${(e as Error).message}).`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(W, 'header', 'is not a JSON object.');
  const bufStart = 8 + n;
  const bufLen = bytes.length - bufStart;
  let metadata: Record<string, string> | null = null;
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) fail(W, '__metadata__', 'is not an object of strings.');
      metadata = Object.create(null) as Record<string, string>;
      for (const [k, s] of Object.entries(info as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(W, `__metadata__.${k}`, `is ${preview(s)}; metadata values must be strings.`);
        Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const f = `tensor '${name}'`;
    if (info === null || typeof info !== 'object' || Array.isArray(info)) fail(W, f, 'is not an object { dtype, shape, data_offsets }.');
    const { dtype, shape, data_offsets: off } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) fail(W, `${f}.dtype`, `is ${preview(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}.`);
    if (!Array.isArray(shape)) fail(W, `${f}.shape`, 'is not an array.');
    let count = 1;
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) fail(W, `${f}.shape`, `has dimension ${preview(d)}; expected integers >= 0.`);
      count *= d;
      if (count * SIZE[dtype as SafetensorsDtype] > bufLen) fail(W, `${f}.shape`, `${preview(shape)} needs more bytes than the ${bufLen}-byte buffer holds (an absurd size).`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => typeof o === 'number' && Number.isInteger(o) && o >= 0)) fail(W, `${f}.data_offsets`, `is ${preview(off)}; expected [begin, end] integers.`);
    const [begin, end] = off as [number, number];
    if (begin > end || end > bufLen) fail(W, `${f}.data_offsets`, `[${begin}, ${end}] is out of range for the ${bufLen}-byte buffer.`);
    const need = count * SIZE[dtype as SafetensorsDtype];
    if (end - begin !== need) fail(W, `${f}.data_offsets`, `[${begin}, ${end}] spans ${end - begin} bytes; dtype ${dtype} and shape ${preview(shape)} need ${need}.`);
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin < at) fail(W, `tensor '${e.name}'.data_offsets`, `[${e.begin}, ${e.end}] overlaps the previous tensor (which ends at ${at}).`);
    if (e.begin > at) fail(W, `tensor '${e.name}'.data_offsets`, `[${e.begin}, ${e.end}] leaves a hole after byte ${at} of the buffer.`);
    at = e.end;
  }
  if (at !== bufLen) fail(W, 'byte buffer', `is ${bufLen} bytes but the tensors cover ${at}.`);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: [...e.shape], data: bytes.slice(bufStart + e.begin, bufStart + e.end) });
  return { tensors, metadata };
}

/**
 * Writes a safetensors file the way the reference implementation does: tensors ordered by
 * decreasing dtype alignment, then by name (UTF-8 byte order); `__metadata__` first in the
 * header; the header padded with spaces to a multiple of 8 bytes. Reading the result with
 * {@link readSafetensors} and writing it again gives the same bytes.
 * @throws OptionError / ShapeError for bad names, dtypes, shapes or data lengths.
 */
export function writeSafetensors(tensors: ReadonlyMap<string, SafetensorsTensor> | Record<string, SafetensorsTensor>, metadata: Record<string, string> | null = null): Uint8Array {
  const W = 'writeSafetensors';
  const list: [string, SafetensorsTensor][] = tensors instanceof Map ? [...(tensors as ReadonlyMap<string, SafetensorsTensor>).entries()] : Object.entries(tensors as Record<string, SafetensorsTensor>);
  for (const [name, t] of list) {
    if (typeof name !== 'string' || name.length === 0 || name === '__metadata__') throw new OptionError('tensors', `${W}: tensor name ${preview(name)} is not allowed.`);
    if (!t || !(SAFETENSORS_DTYPES as readonly string[]).includes(t.dtype)) throw new OptionError('dtype', `${W}: tensor '${name}' has dtype ${preview(t?.dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}.`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(`${W}: tensor '${name}' has shape ${preview(t.shape)}; expected integers >= 0.`);
    const need = t.shape.reduce((a, b) => a * b, 1) * SIZE[t.dtype];
    if (!(t.data instanceof Uint8Array) || t.data.length !== need) throw new ShapeError(`${W}: tensor '${name}' has ${t.data?.length} data bytes; dtype ${t.dtype} and shape ${preview(t.shape)} need ${need}.`);
  }
  if (metadata !== null && (typeof metadata !== 'object' || !Object.values(metadata).every((s) => typeof s === 'string'))) throw new OptionError('metadata', `${W}: metadata must be an object of strings.`);
  const rank = (d: SafetensorsDtype) => SAFETENSORS_DTYPES.indexOf(d);
  list.sort(([an, a], [bn, b]) => rank(b.dtype) - rank(a.dtype) || cmpUtf8(an, bn));
  let offset = 0;
  const parts: string[] = [];
  if (metadata !== null) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  for (const [name, t] of list) {
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${offset + t.data.length}]}`);
    offset += t.data.length;
  }
  let json = utf8.encode(`{${parts.join(',')}}`);
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const p = new Uint8Array(json.length + pad).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const v = new DataView(out.buffer);
  v.setUint32(0, json.length, true);
  v.setUint32(4, 0, true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const [, t] of list) {
    out.set(t.data, p);
    p += t.data.length;
  }
  return out;
}

/** How a wasmfit weight maps to a PyTorch `nn.Sequential` state-dict key. */
export interface TorchKey {
  /** PyTorch key, e.g. `'0.weight'`. */
  key: string;
  /** wasmfit weight name (`getWeights()` order), or null for `num_batches_tracked`. */
  name: string | null;
  /** PyTorch shape. */
  shape: number[];
  /** Dense and conv kernels: wasmfit stores `[in, out]` (`[kh, kw, c, f]`), PyTorch `[out, in]` (`[f, c, kh, kw]`). */
  transpose: boolean;
  /**
   * `[positions, channels]` when PyTorch orders the tensor's input axis channels-first: a conv
   * kernel (`[kh·kw, c]`), and the weight (or batch-norm vectors) right after `flatten()` of an
   * `[h, w, c]` image (`[h·w, c]`): wasmfit flattens in (row, column, channel) order, `nn.Flatten`
   * of NCHW in (channel, row, column) order. Null otherwise.
   */
  nchw: [number, number] | null;
}

/**
 * The PyTorch `nn.Sequential` state-dict keys of a wasmfit layer stack. Modules are counted as
 * PyTorch would build the same network: `dense` → `nn.Linear` (`k.weight` `[out, in]`,
 * `k.bias`), then one module for its activation if it is not linear (`nn.ReLU`, `nn.LeakyReLU`,
 * `nn.ELU`, `nn.Sigmoid`, `nn.Tanh`); `dropout` → `nn.Dropout`; `batchNorm` → `nn.BatchNorm1d`
 * (`nn.BatchNorm2d` on images; `k.weight` = γ, `k.bias` = β, `k.running_mean`, `k.running_var`,
 * `k.num_batches_tracked` I64 scalar); `activation(name)` → its activation module. So
 * `[dense(128, { activation: 'relu' }), dropout(0.2), dense(10)]` is `nn.Sequential(Linear, ReLU,
 * Dropout, Linear)`: keys `0.weight`, `0.bias`, `3.weight`, `3.bias`.
 *
 * Images (PyTorch NCHW): `conv2d` → `nn.Conv2d` (`k.weight` `[filters, channels, kh, kw]`), with
 * `padding='same'` at stride 1 and `padding=(top, left)` otherwise, preceded by an
 * `nn.ZeroPad2d((left, right, top, bottom))` module when strided 'same' padding is uneven;
 * `maxPool2d` → `nn.MaxPool2d` (after `nn.ConstantPad2d(…, -inf)` when uneven), `avgPool2d` →
 * `nn.AvgPool2d(count_include_pad=False)`; global pools → `nn.AdaptiveAvgPool2d(1)` /
 * `nn.AdaptiveMaxPool2d(1)` and `nn.Flatten()`; `flatten()` → `nn.Flatten()` (the next layer's
 * inputs reordered, see {@link TorchKey.nchw}); `reshape([h, w, 1])` of flat rows →
 * `nn.Unflatten(1, (1, h, w))`.
 * @throws OptionError naming the layer that has no PyTorch equivalent, and why.
 */
export function torchKeys(inputShape: number | readonly number[], layers: readonly LayerConfig[]): TorchKey[] {
  // module indices, names and layouts come from the layer kinds (ts/layers/registry.ts)
  const entries = describeStack(inputShape, layers, 'torchKeys');
  const no = (i: number, type: string, why: string): never => {
    throw new OptionError('layers', `torchKeys: layers[${i}] (${type}): ${why}; save the model with saveModel instead.`);
  };
  const alien = entries.find((e) => e.kind.interop);
  if (alien) no(alien.position, alien.kind.type, alien.kind.interop!);
  // the [h·w, c] block order of the flat rows each entry reads in PyTorch (after nn.Flatten of NCHW)
  const order = new Map<StackEntry, [number, number]>();
  let shape: readonly number[] = typeof inputShape === 'number' ? [inputShape] : inputShape;
  let flat: [number, number] | null = null;
  let at = 0;
  layers.forEach((l, i) => {
    const e = entries[at];
    if (e?.position === i) {
      at++;
      if (flat) order.set(e, flat);
      if (!e.kind.shapePreserving) flat = null;
      shape = e.outShape;
    } else if (l.type === 'flatten' || l.type === 'reshape') {
      const to = reshapeTo(l, shape, 'torchKeys');
      if (shape.length === 3 && to.length === 3) no(i, l.type, 'no PyTorch module reshapes NCHW images as wasmfit reshapes NHWC ones');
      // nn.Unflatten(1, (c, h, w)) reads (channel, row, column) order: the same as wasmfit's with one channel, or right after flattening that shape
      if (to.length === 3 && !(flat ? flat[0] === to[0]! * to[1]! && flat[1] === to[2] : to[2] === 1)) {
        no(i, l.type, `nn.Unflatten reads (c, h, w) order, wasmfit (h, w, c): they agree for one channel, or right after flattening [${to}] (give the model inputShape [${to}] instead)`);
      }
      if (shape.length === 3) flat = shape[2] === 1 ? null : [shape[0]! * shape[1]!, shape[2]!];
      else if (to.length === 3) flat = null;
      shape = to;
    }
  });
  return entries.flatMap((e) => [
    ...e.params.map((p) => ({ key: p.torchKey, name: p.fullName, shape: [...(p.torch.shape ?? (p.torch.transpose ? [...p.shape].reverse() : p.shape))], transpose: p.torch.transpose, nchw: (p.torch.nchw ?? (((p.torch.transpose || e.kind.shapePreserving) && order.get(e)) || null)) as [number, number] | null })),
    ...e.torchExtras.map((key) => ({ key, name: null, shape: [], transpose: false, nchw: null })),
  ]);
}

/**
 * wasmfit's layout of a weight to PyTorch's (`back`: the reverse): `[rows, cols]` transposed to
 * `[cols, rows]` (`cols` = 1 for a vector), each row's `a·b` inputs read as `[a, b]` and stored
 * `[b, a]` (`nchw` = `[a, b]`; plain transpose when null). @internal
 */
export function torchOrder(src: Float32Array, k: TorchKey, back = false): Float32Array {
  const cols = k.transpose ? k.shape[0]! : 1;
  const rows = src.length / cols;
  const [a, b] = k.nchw ?? [rows, 1];
  const out = new Float32Array(src.length);
  for (let c = 0; c < cols; c++) {
    for (let p = 0; p < a; p++) {
      for (let q = 0; q < b; q++) {
        const t = c * rows + q * a + p;
        const w = (p * b + q) * cols + c;
        if (back) out[w] = src[t]!;
        else out[t] = src[w]!;
      }
    }
  }
  return out;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function f32Bytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  if (LE) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  else for (let i = 0; i < a.length; i++) new DataView(out.buffer).setFloat32(i * 4, a[i]!, true);
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Float values of a float tensor (F32 exact; F64, F16, BF16 converted to the nearest f32). */
function floats(t: SafetensorsTensor, where: string, key: string): Float32Array {
  const v = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const n = t.data.length / SIZE[t.dtype];
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(i * 2, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of an f32
      const w = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        w.setUint32(0, v.getUint16(i * 2, true) << 16, true);
        out[i] = w.getFloat32(0, true);
      }
      break;
    }
    default:
      fail(where, `tensor '${key}'.dtype`, `is ${t.dtype}; a weight must be a float tensor (F32, or F64/F16/BF16, converted to f32).`);
  }
  for (let i = 0; i < n; i++) {
    const x = out[i]!;
    if (x - x !== 0) fail(where, `tensor '${key}'`, `holds ${x} at index ${i}; weights must be finite.`);
  }
  return out;
}

/** Options of {@link modelToSafetensors}. */
export interface ModelToSafetensorsOptions {
  /** Extra `__metadata__` entries (strings). `format: 'pt'` is added unless given. */
  metadata?: Record<string, string>;
}

/**
 * The model's weights as a safetensors file in PyTorch `nn.Sequential` naming (see
 * {@link torchKeys}): dense kernels transposed to `[out, in]`, conv kernels to `[f, c, kh, kw]`,
 * inputs after `flatten()` reordered to PyTorch's (channel, row, column), F32; batch-norm
 * `num_batches_tracked` is an I64 scalar per layer: the training batches that updated that layer's
 * running statistics, counted as PyTorch counts them (one per training forward pass; a step
 * refused for a non-finite loss restores the statistics and does not count), starting from the
 * value {@link loadSafetensorsWeights} read (0 for a new model). Load it in PyTorch with
 * `model.load_state_dict(safetensors.torch.load_file(path))`.
 */
export function modelToSafetensors(model: Sequential, options: ModelToSafetensorsOptions = {}): Uint8Array {
  if (!(model instanceof Sequential)) throw new OptionError('model', 'modelToSafetensors: expected a Sequential model.');
  const weights = new Map(model.getWeights().map((w) => [w.name, w]));
  const tensors = new Map<string, SafetensorsTensor>();
  const tracked = model.steps.tracked;
  let bn = 0;
  for (const k of torchKeys(model.inputShape, model.layers)) {
    if (k.name === null) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, BigInt(tracked[bn++] ?? 0), true);
      tensors.set(k.key, { dtype: 'I64', shape: [], data: b });
      continue;
    }
    const w = weights.get(k.name)!;
    checkFiniteTensors([w], 'modelToSafetensors');
    tensors.set(k.key, { dtype: 'F32', shape: k.shape, data: f32Bytes(torchOrder(w.data, k)) });
  }
  const metadata = { format: 'pt', ...(options.metadata ?? {}) };
  return writeSafetensors(tensors, metadata);
}

/** Options of {@link loadSafetensorsWeights}. */
export interface LoadSafetensorsOptions {
  /** Refuse keys the model does not have, like PyTorch's `load_state_dict(strict=True)` (default true). */
  strict?: boolean;
}

/**
 * Sets a model's weights from a safetensors file in PyTorch `nn.Sequential` naming (see
 * {@link torchKeys}), e.g. `safetensors.torch.save_file(model.state_dict(), path)` of the same
 * architecture. Float tensors (F32; F64, F16, BF16 converted to f32) of exactly the PyTorch
 * shapes; `num_batches_tracked` (an I64 scalar, optional) becomes the layer's batch count, which
 * training then continues (an absent one leaves the count as it was). Everything is validated
 * before any weight changes.
 * @throws FormatError naming the key for missing or unexpected keys, wrong shapes or dtypes,
 * non-finite values, a negative running variance, or a malformed file.
 */
export function loadSafetensorsWeights(model: Sequential, bytes: Uint8Array, options: LoadSafetensorsOptions = {}): void {
  const W = 'loadSafetensorsWeights';
  if (!(model instanceof Sequential)) throw new OptionError('model', `${W}: expected a Sequential model.`);
  model.assertUsable(W);
  const strict = options.strict ?? true;
  if (typeof strict !== 'boolean') throw new OptionError('strict', `${W}: strict must be a boolean.`);
  const file = readSafetensors(bytes);
  const keys = torchKeys(model.inputShape, model.layers);
  const known = new Set(keys.map((k) => k.key));
  if (strict) {
    const extra = [...file.tensors.keys()].filter((k) => !known.has(k));
    if (extra.length) fail(W, 'keys', `${preview(extra.slice(0, 10))} are not in the model (it has ${preview([...known].slice(0, 10))}${known.size > 10 ? ', …' : ''}); pass { strict: false } to ignore them.`);
  }
  const current = model.getWeights();
  const byName = new Map(current.map((w, i) => [w.name, i]));
  const next = current.map((w) => w.data);
  const tracked: (number | null)[] = [];
  for (const k of keys) {
    const t = file.tensors.get(k.key);
    if (k.name === null) {
      if (t && (t.dtype !== 'I64' || t.shape.length > 1 || t.data.length !== 8)) fail(W, `tensor '${k.key}'`, `is ${t.dtype} ${preview(t.shape)}; expected an I64 scalar.`);
      // unsigned: a negative count reads as >= 2^63 and is refused with the oversized ones
      const n = t ? Number(new DataView(t.data.buffer, t.data.byteOffset, 8).getBigUint64(0, true)) : null;
      if (n !== null && !Number.isSafeInteger(n)) fail(W, `tensor '${k.key}'`, 'is not a count in [0, 2^53).');
      tracked.push(n);
      continue;
    }
    if (!t) fail(W, `tensor '${k.key}'`, `is missing (the model's ${k.name}).`);
    if (t.shape.length !== k.shape.length || t.shape.some((d, i) => d !== k.shape[i])) fail(W, `tensor '${k.key}'.shape`, `is ${preview(t.shape)}; the model needs ${preview(k.shape)} (PyTorch layout${k.transpose ? (k.shape.length > 2 ? ' [out, in, kh, kw]' : ' [out, in]') : ''}).`);
    const data = torchOrder(floats(t, W, k.key), k, true);
    if (k.name.endsWith('/moving_variance') && data.some((x) => x < 0)) fail(W, `tensor '${k.key}'`, 'holds a negative variance.');
    next[byName.get(k.name)!] = data;
  }
  model.setWeights(next.map((data) => ({ data })));
  const counts = model.steps.tracked;
  tracked.forEach((n, i) => n === null || (counts[i] = n));
}
