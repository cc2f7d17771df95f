/**
 * The bytes that travel between a search and its queue workers: plain data (objects, arrays,
 * strings, booleans, null, numbers) and typed arrays, exactly as given. Numbers survive bit for bit
 * (also -0, NaN and ±Infinity, which JSON loses); typed arrays travel as raw little-endian bytes
 * after a JSON header, so a Float32Array of data costs its own size, not a decimal spelling of it.
 * Functions, class instances other than typed arrays, and `undefined` inside arrays are refused
 * with an {@link OptionError} naming the path.
 *
 * Layout: `WFQ1` (4 bytes), header length (uint32 LE), header JSON (UTF-8), zero padding to 8
 * bytes, then each typed array's bytes, each starting at a multiple of 8.
 * @internal
 */
import { FormatError, OptionError } from '../errors/index.js';

type TypedName = 'f32' | 'f64' | 'i32' | 'u8' | 'u16' | 'i8' | 'i16' | 'u32';
const CTORS: Record<TypedName, { new (b: ArrayBuffer, o: number, n: number): ArrayBufferView & ArrayLike<number>; BYTES_PER_ELEMENT: number }> = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u8: Uint8Array,
  u16: Uint16Array,
  i8: Int8Array,
  i16: Int16Array,
  u32: Uint32Array,
};

function typedName(v: unknown): TypedName | null {
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Float64Array) return 'f64';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint8Array) return 'u8';
  if (v instanceof Uint16Array) return 'u16';
  if (v instanceof Int8Array) return 'i8';
  if (v instanceof Int16Array) return 'i16';
  if (v instanceof Uint32Array) return 'u32';
  return null;
}

const MAGIC = [0x57, 0x46, 0x51, 0x31]; // WFQ1
const pad8 = (n: number) => (n + 7) & ~7;

/** Packs `value` into bytes (see the module comment). `where` prefixes error messages. */
export function pack(value: unknown, where: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const enc = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      // JSON spells every finite double exactly (shortest round-trip form) except -0
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { $n: Object.is(v, -0) ? '-0' : String(v) };
    }
    const t = typedName(v);
    if (t) {
      const a = v as ArrayBufferView;
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const at = offset;
      chunks.push(bytes);
      offset = pad8(offset + bytes.byteLength);
      return { $t: t, o: at, n: (v as ArrayLike<number>).length };
    }
    if (Array.isArray(v)) return v.map((e, i) => (e === undefined ? refuse(`${path}[${i}]`, 'undefined') : enc(e, `${path}[${i}]`)));
    if (typeof v === 'object') {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) refuse(path, `an instance of ${(v as object).constructor?.name ?? 'a class'}`);
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
        if (e === undefined) continue; // as JSON and structured clone of a spread: an absent option
        out[k.startsWith('$') ? `$${k}` : k] = enc(e, path ? `${path}.${k}` : k);
      }
      return out;
    }
    return refuse(path, typeof v === 'function' ? 'a function' : typeof v);
  };
  const refuse = (path: string, what: string): never => {
    throw new OptionError(path || 'value', `${where}: ${path || 'the value'} is ${what}, which cannot travel to a queue worker; describe it as plain data (numbers, strings, arrays, typed arrays, objects; schedules and optimizers by their configs).`);
  };
  const header = new TextEncoder().encode(JSON.stringify(enc(value, '')));
  const start = pad8(8 + header.byteLength);
  const out = new Uint8Array(start + offset);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.byteLength, true);
  out.set(header, 8);
  let at = start;
  for (const c of chunks) {
    out.set(c, at);
    at = start + pad8(at - start + c.byteLength);
  }
  return out;
}

/** Unpacks bytes written by {@link pack}; typed arrays are fresh copies (aligned). */
export function unpack(bytes: Uint8Array, where: string): unknown {
  const bad = (why: string): never => {
    throw new FormatError(`${where}: the queued bytes are not a wasmfit queue payload (${why}); the worker and the search must run compatible wasmfit versions.`);
  };
  if (bytes.byteLength < 8 || MAGIC.some((m, i) => bytes[i] !== m)) bad('no WFQ1 header');
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + len > bytes.byteLength) bad('truncated header');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    bad('corrupt header');
  }
  const start = pad8(8 + len);
  const dec = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(dec);
    const o = v as Record<string, unknown>;
    if (typeof o.$n === 'string') return Number(o.$n === '-0' ? -0 : o.$n);
    if (typeof o.$t === 'string') {
      const C = CTORS[o.$t as TypedName];
      const n = o.n as number;
      const at = start + (o.o as number);
      if (!C || !Number.isInteger(n) || at + n * C.BYTES_PER_ELEMENT > bytes.byteLength) bad('typed array out of range');
      const copy = new Uint8Array(n * C.BYTES_PER_ELEMENT);
      copy.set(bytes.subarray(at, at + copy.byteLength));
      return new C(copy.buffer, 0, n);
    }
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(o)) out[k.startsWith('$$') ? k.slice(1) : k] = dec(e);
    return out;
  };
  return dec(header);
}

/** {@link pack} as base64 text (for BullMQ job data and return values, which are JSON). */
export function packText(value: unknown, where: string): string {
  return bytesToBase64(pack(value, where));
}

/** {@link unpack} of {@link packText}. */
export function unpackText(text: unknown, where: string): unknown {
  if (typeof text !== 'string') throw new FormatError(`${where}: expected a packed payload (base64 text), received ${typeof text}.`);
  return unpack(base64ToBytes(text), where);
}

function bytesToBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}
function base64ToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}
