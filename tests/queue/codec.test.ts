// The bytes that travel between a search and its queue workers (ts/queue/codec.ts): every number
// bit for bit (-0, NaN, ±Infinity included, which JSON loses), typed arrays of every kind as raw
// bytes, the shape of the data unchanged (a number[][] stays one), keys that look like its own
// tags; functions and class instances refused with the path named; corrupt bytes refused.
import { describe, expect, it } from 'vitest';
import { pack, packText, unpack, unpackText } from '../../ts/queue/codec.js';

describe('queue codec', () => {
  it('round-trips plain data and typed arrays exactly', () => {
    const f32 = Float32Array.from([1.5, -0, NaN, Infinity, 3.4028234663852886e38, 1e-45]);
    const value = {
      n: [0, -0, NaN, Infinity, -Infinity, 0.1, 5e-324, Number.MAX_VALUE, 2 ** 53 + 2],
      s: 'héllo', b: true, z: null,
      rows: [[1, 2], [3, 4]],
      typed: { f32, f64: Float64Array.from([Math.PI, -0]), i32: Int32Array.from([-1, 2 ** 31 - 1]), u8: Uint8Array.from([255]), u16: Uint16Array.from([65535]) },
      // a typed array that views part of a larger buffer (offset 4): only its own bytes travel
      view: new Float32Array(new Float32Array([9, 8, 7, 6]).buffer, 4, 2),
      $n: 'not a number tag', $t: 'not a typed tag',
    };
    const back = unpack(pack(value, 'test'), 'test') as typeof value;
    expect(back.n.map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(value.n.map((v) => Object.is(v, -0) ? '-0' : String(v)));
    expect(Array.isArray(back.rows) && Array.isArray(back.rows[0])).toBe(true);
    expect(back.rows).toEqual([[1, 2], [3, 4]]);
    expect(back.typed.f32).toBeInstanceOf(Float32Array);
    expect(new Uint8Array(back.typed.f32.buffer)).toEqual(new Uint8Array(f32.buffer));
    expect(Object.is(back.typed.f64[1], -0)).toBe(true);
    expect(back.typed.i32).toEqual(Int32Array.from([-1, 2 ** 31 - 1]));
    expect(back.typed.u8).toBeInstanceOf(Uint8Array);
    expect(back.typed.u16).toEqual(Uint16Array.from([65535]));
    expect(Array.from(back.view)).toEqual([8, 7]);
    expect([back.$n, back.$t, back.s, back.b, back.z]).toEqual(['not a number tag', 'not a typed tag', 'héllo', true, null]);
    expect(unpackText(packText(value, 'test'), 'test')).toEqual(back);
  });

  it('stores typed arrays as raw bytes: a 1000-float array costs 4000 bytes plus a small header', () => {
    expect(pack({ x: new Float32Array(1000) }, 't').byteLength).toBeLessThan(4000 + 64);
  });

  it('refuses what cannot travel, naming the path', () => {
    expect(() => pack({ model: { layers: [{ act: () => 1 }] } }, 'queueRunner')).toThrow(/queueRunner: model\.layers\[0\]\.act is a function, which cannot travel to a queue worker/);
    expect(() => pack({ d: new Date() }, 'q')).toThrow(/d is an instance of Date/);
    expect(() => pack([1, undefined], 'q')).toThrow(/\[1\] is undefined/);
  });

  it('refuses corrupt or foreign bytes with a FormatError', () => {
    const good = pack({ a: new Float32Array(4) }, 't');
    expect(() => unpack(new Uint8Array([1, 2, 3]), 'w')).toThrow(expect.objectContaining({ name: 'FormatError', message: expect.stringMatching(/not a wasmfit queue payload \(no WFQ1 header\)/) }));
    expect(() => unpack(good.subarray(0, good.byteLength - 8), 'w')).toThrow(/typed array out of range/);
    expect(() => unpackText(42, 'w')).toThrow(/expected a packed payload/);
  });
});
