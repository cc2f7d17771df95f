// Test-side reader/writer of the documented wasmfit container layout (ts/io/container.ts doc
// comment), written independently of the implementation; CRC-32 from node:zlib.
import { crc32 } from 'node:zlib';

export interface Parts {
  magic: Uint8Array;
  version: number;
  kind: number;
  abi: number;
  header: Record<string, unknown>;
  data: Uint8Array;
}

export function split(bytes: Uint8Array): Parts {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = v.getUint32(16, true);
  const d = v.getUint32(20, true) + v.getUint32(24, true) * 2 ** 32;
  return {
    magic: bytes.slice(0, 8),
    version: v.getUint16(8, true),
    kind: v.getUint16(10, true),
    abi: v.getUint32(12, true),
    header: JSON.parse(new TextDecoder().decode(bytes.subarray(32, 32 + h))),
    data: bytes.slice(32 + h, 32 + h + d),
  };
}

/** Reassembles a file from parts with a correct CRC (so tests reach the check they aim at). */
export function join(p: Parts, o: { headerLength?: number; dataLength?: number } = {}): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(p.header));
  const out = new Uint8Array(32 + json.length + p.data.length + 4);
  const v = new DataView(out.buffer);
  out.set(p.magic, 0);
  v.setUint16(8, p.version, true);
  v.setUint16(10, p.kind, true);
  v.setUint32(12, p.abi, true);
  v.setUint32(16, o.headerLength ?? json.length, true);
  const dl = o.dataLength ?? p.data.length;
  v.setUint32(20, dl % 2 ** 32, true);
  v.setUint32(24, Math.floor(dl / 2 ** 32), true);
  out.set(json, 32);
  out.set(p.data, 32 + json.length);
  v.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/**
 * A file whose header JSON text is replaced by `edit(text)` (padded to 4 bytes, lengths and CRC
 * recomputed): for headers `split` cannot parse, such as too-deep nesting.
 */
export function editHeaderText(bytes: Uint8Array, edit: (text: string) => string): Uint8Array {
  const hl = new DataView(bytes.buffer, bytes.byteOffset).getUint32(16, true);
  const text = edit(new TextDecoder().decode(bytes.subarray(32, 32 + hl)));
  const hj = new TextEncoder().encode(text + ' '.repeat((4 - (new TextEncoder().encode(text).length % 4)) % 4));
  const data = bytes.subarray(32 + hl, bytes.length - 4);
  const out = new Uint8Array(32 + hj.length + data.length + 4);
  out.set(bytes.subarray(0, 32));
  new DataView(out.buffer).setUint32(16, hj.length, true);
  out.set(hj, 32);
  out.set(data, 32 + hj.length);
  return fixCrc(out);
}

/** Recomputes the trailing CRC after an in-place edit. */
export function fixCrc(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** A seeded 3-class toy set: `rows` samples of `d` features in [-1, 1) (LCG), labels from the signs of x0·x1 and x2 > 0.3. */
export function classData(rows: number, d: number, seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const x = Float32Array.from({ length: rows * d }, () => r() * 2 - 1);
  const y = Int32Array.from({ length: rows }, (_, i) => (x[i * d]! * x[i * d + 1]! > 0 ? 1 : 0) + (x[i * d + 2]! > 0.3 ? 1 : 0));
  return { x, y };
}
