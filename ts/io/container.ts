/**
 * The wasmfit file container, shared by model files and training checkpoints.
 *
 * Layout (all integers little-endian):
 * ```
 * offset  size  field
 * 0       8     magic        0x89 'W' 'A' 'S' 'M' 'F' 'I' 'T'
 * 8       2     version      container format version (FORMAT_VERSION)
 * 10      2     kind         1 = model, 2 = training checkpoint
 * 12      4     abiVersion   kernel ABI version of the build that wrote it
 * 16      4     headerLength bytes of the JSON header (UTF-8, space-padded to a multiple of 4)
 * 20      8     dataLength   bytes of tensor data (u64)
 * 28      4     reserved     0
 * 32      H     header       JSON: { ..., tensors: [{ name, dtype, shape, offset }] }
 * 32+H    D     data         tensors, f32 / i32 little-endian; offsets relative to here
 * 32+H+D  4     crc32        CRC-32 (IEEE) of every byte before it
 * ```
 * Readers check every length against the bytes actually present before reading or allocating
 * anything, and refuse the file with a {@link FormatError} naming the field otherwise.
 * @internal
 */
import { FormatError, NonFiniteError } from '../errors/index.js';
import { jsonTooDeepAt, MAX_JSON_DEPTH, preview } from '../errors/preview.js';
import { ABI_VERSION } from '../runtime/abi.js';

export const MAGIC = Uint8Array.from([0x89, 0x57, 0x41, 0x53, 0x4d, 0x46, 0x49, 0x54]);
/** Container format version; bumped when the layout or the header schema changes incompatibly. */
export const FORMAT_VERSION = 1;
export const KIND = { model: 1, checkpoint: 2 } as const;
export type Kind = keyof typeof KIND;
const FIXED = 32;
/** Largest JSON header a reader accepts (64 MiB). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** One tensor of the data section. */
export interface StoredTensor {
  name: string;
  dtype: 'f32' | 'i32';
  shape: number[];
  data: Float32Array | Int32Array;
}

let crcTable: Int32Array | null = null;
/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const t = crcTable;
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a typed array (a copy). */
function leBytes(a: Float32Array | Int32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  if (LE) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return out;
  }
  const v = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) v.setFloat32(i * 4, a[i]!, true);
    else v.setInt32(i * 4, a[i]!, true);
  }
  return out;
}

/**
 * Refuses f32 tensors holding NaN or ±Infinity before anything is written: readers refuse such
 * files, so writing one would replace a good file with an unreadable one.
 * @throws NonFiniteError naming the tensor and the first bad index.
 */
export function checkFiniteTensors(tensors: readonly { name: string; data: Float32Array | Int32Array }[], where: string): void {
  for (const t of tensors) {
    if (!(t.data instanceof Float32Array)) continue;
    const d = t.data;
    for (let j = 0; j < d.length; j++) {
      const x = d[j]!;
      if (x - x !== 0) {
        throw new NonFiniteError(`${where}: tensor '${t.name}' holds ${x} at index ${j}; files hold finite weights and optimizer state only (a reader refuses them), so nothing was written. Training diverged: reload the last good checkpoint and lower the learning rate or clip gradients.`);
      }
    }
  }
}

/**
 * Writes a container: `header` (JSON-able, without `tensors`) and the tensors in order.
 * @throws NonFiniteError (named after `where`) when an f32 tensor holds NaN or ±Infinity.
 */
export function writeContainer(kind: Kind, header: Record<string, unknown>, tensors: readonly StoredTensor[], where: string): Uint8Array {
  checkFiniteTensors(tensors, where);
  let offset = 0;
  const index = tensors.map((t) => {
    const e = { name: t.name, dtype: t.dtype, shape: t.shape, offset };
    offset += t.data.length * 4;
    return e;
  });
  const dataLength = offset;
  let json = new TextEncoder().encode(JSON.stringify({ ...header, tensors: index }));
  const pad = (4 - (json.length % 4)) % 4;
  if (pad) {
    const p = new Uint8Array(json.length + pad).fill(0x20);
    p.set(json);
    json = p;
  }
  const total = FIXED + json.length + dataLength + 4;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  v.setUint16(8, FORMAT_VERSION, true);
  v.setUint16(10, KIND[kind], true);
  v.setUint32(12, ABI_VERSION, true);
  v.setUint32(16, json.length, true);
  v.setUint32(20, dataLength % 4294967296, true);
  v.setUint32(24, Math.floor(dataLength / 4294967296), true);
  v.setUint32(28, 0, true);
  out.set(json, FIXED);
  let p = FIXED + json.length;
  for (const t of tensors) {
    out.set(leBytes(t.data), p);
    p += t.data.length * 4;
  }
  v.setUint32(p, crc32(out.subarray(0, p)), true);
  return out;
}

/** What {@link readContainer} returns: the kind, the parsed header (minus `tensors`) and the tensors by name. */
export interface Container {
  kind: Kind;
  header: Record<string, unknown>;
  tensors: Map<string, StoredTensor>;
  /** Tensor names in file order. */
  order: string[];
}

function fail(where: string, field: string, msg: string): never {
  throw new FormatError(`${where}: ${field} ${msg}`);
}

/** Reads and checks a container; `expect` lists the kinds the caller accepts. */
export function readContainer(bytes: unknown, where: string, expect: readonly Kind[]): Container {
  if (!(bytes instanceof Uint8Array)) {
    throw new FormatError(`${where}: expected the file's bytes as a Uint8Array (e.g. from serializeModel or fs.readFile); received ${bytes === null ? 'null' : typeof bytes}.`);
  }
  const n = bytes.length;
  if (n < FIXED + 4) fail(where, 'file length', `is ${n} bytes; a wasmfit file has at least ${FIXED + 4} (the file is truncated or not a wasmfit file).`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) fail(where, 'magic', 'does not match: this is not a wasmfit model or checkpoint file (safetensors files load with readSafetensors or loadSafetensorsWeights).');
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint16(8, true);
  if (version !== FORMAT_VERSION) fail(where, 'version', `is ${version}; this build reads format version ${FORMAT_VERSION}. Load it with the wasmfit version that wrote it and re-save, or upgrade wasmfit.`);
  const kindCode = v.getUint16(10, true);
  const kind = (Object.keys(KIND) as Kind[]).find((k) => KIND[k] === kindCode);
  if (kind === undefined) fail(where, 'kind', `is ${kindCode}; expected 1 (model) or 2 (checkpoint).`);
  if (!expect.includes(kind)) fail(where, 'kind', `is ${kind}; expected ${expect.join(' or ')}${kind === 'model' ? ' (a model file has no training state; load it with deserializeModel/loadModel)' : ''}.`);
  // The kernel ABI of the writer is informative: architecture, weights and optimizer state are
  // described by the header and the format version, not by the kernel's record layouts, so a file
  // loads under any ABI. (A resume is bit-identical to the uninterrupted run only under the same
  // build; across builds it continues from the same state with that build's arithmetic.)
  v.getUint32(12, true);
  const headerLength = v.getUint32(16, true);
  if (headerLength > MAX_HEADER_BYTES) fail(where, 'headerLength', `is ${headerLength} bytes; the limit is ${MAX_HEADER_BYTES}.`);
  if (FIXED + headerLength + 4 > n) fail(where, 'headerLength', `is ${headerLength} bytes, past the end of the ${n}-byte file (truncated).`);
  const dataLength = v.getUint32(20, true) + v.getUint32(24, true) * 4294967296;
  const expected = FIXED + headerLength + dataLength + 4;
  if (expected > n) fail(where, 'dataLength', `is ${dataLength} bytes, past the end of the ${n}-byte file (truncated).`);
  if (expected < n) fail(where, 'file length', `is ${n} bytes; the header and data lengths account for ${expected} (trailing bytes).`);
  if (v.getUint32(28, true) !== 0) fail(where, 'reserved', 'is not 0.');
  const crcAt = n - 4;
  if (crc32(bytes.subarray(0, crcAt)) !== v.getUint32(crcAt, true)) fail(where, 'crc32', 'does not match the contents: the file is corrupt.');

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(FIXED, FIXED + headerLength));
  } catch {
    fail(where, 'header', 'is not valid UTF-8 JSON (the bytes are not UTF-8).');
  }
  const deep = jsonTooDeepAt(text);
  if (deep >= 0) fail(where, 'header', `nests arrays/objects more than ${MAX_JSON_DEPTH} levels deep (at character ${deep}); a wasmfit header is never that deep (the file is corrupt or hostile).`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(where, 'header', `is not valid UTF-8 JSON (${(e as Error).message}).`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(where, 'header', 'is not a JSON object.');
  const { tensors: index, ...rest } = header as Record<string, unknown>;
  if (!Array.isArray(index)) fail(where, 'header.tensors', 'is not an array.');
  const dataStart = FIXED + headerLength;
  const tensors = new Map<string, StoredTensor>();
  const order: string[] = [];
  let next = 0;
  index.forEach((e: unknown, i: number) => {
    const f = `header.tensors[${i}]`;
    if (e === null || typeof e !== 'object') fail(where, f, 'is not an object.');
    const { name, dtype, shape, offset } = e as Record<string, unknown>;
    if (typeof name !== 'string' || name.length === 0) fail(where, `${f}.name`, 'is not a non-empty string.');
    if (tensors.has(name)) fail(where, `${f}.name`, `'${name}' appears twice.`);
    if (dtype !== 'f32' && dtype !== 'i32') fail(where, `${f}.dtype`, `is ${preview(dtype)}; expected 'f32' or 'i32'.`);
    const count = checkShape(shape, where, `${f}.shape`, dataLength / 4);
    if (offset !== next) fail(where, `${f}.offset`, `is ${preview(offset)}; expected ${next} (tensors are stored back to back in index order).`);
    const bytesLen = count * 4;
    if (next + bytesLen > dataLength) fail(where, `${f}.shape`, `${preview(shape)} needs ${bytesLen} bytes at offset ${next}, past the ${dataLength}-byte data section.`);
    const src = bytes.subarray(dataStart + next, dataStart + next + bytesLen);
    const copy = new Uint8Array(bytesLen);
    copy.set(src);
    let data: Float32Array | Int32Array;
    if (LE) data = dtype === 'f32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
    else {
      const dv = new DataView(copy.buffer);
      data = dtype === 'f32' ? Float32Array.from({ length: count }, (_, j) => dv.getFloat32(j * 4, true)) : Int32Array.from({ length: count }, (_, j) => dv.getInt32(j * 4, true));
    }
    if (data instanceof Float32Array) {
      for (let j = 0; j < data.length; j++) {
        const x = data[j]!;
        if (x - x !== 0) fail(where, `tensor '${name}'`, `holds ${x} at index ${j}; weights and states must be finite.`);
      }
    }
    tensors.set(name, { name, dtype, shape: shape as number[], data });
    order.push(name);
    next += bytesLen;
  });
  if (next !== dataLength) fail(where, 'dataLength', `is ${dataLength} bytes but the tensors use ${next}.`);
  return { kind, header: rest, tensors, order };
}

/** Validates a shape (array of integers >= 0) whose element count is at most `max`; returns the count. */
export function checkShape(shape: unknown, where: string, field: string, max: number): number {
  if (!Array.isArray(shape) || shape.length > 8) fail(where, field, `is ${preview(shape)}; expected an array of at most 8 dimensions.`);
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) fail(where, field, `has dimension ${preview(d)}; expected integers >= 0.`);
    count *= d;
    if (count > max) fail(where, field, `${preview(shape)} has more elements than the ${Math.floor(max)} the data section can hold (an absurd size).`);
  }
  return count;
}
