// User metadata in model files and checkpoints: serializeModel(model, { metadata }) stores a plain
// JSON object in the header (field `metadata`), readModelMetadata returns it; writers refuse what is
// not plain JSON or exceeds the limits with an OptionError naming the path, readers refuse tampered
// sections with a FormatError naming the field.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FormatError, MAX_METADATA_BYTES, OptionError, type Sequential, adam, deserializeCheckpoint, deserializeModel, init, readModelMetadata,
  serializeCheckpoint, serializeModel,
} from '../../ts/index.js';
import { tinyModel } from '../helpers.js';
import { join, split } from './container-util.js';

let model: Sequential;
beforeAll(async () => {
  await init();
  model = tinyModel({ inputSize: 3, hidden: 4, classes: 2, seed: 1, optimizer: adam() }).model;
});

const meta = {
  classes: ['setosa', 'virginica'],
  mean: [1.5, -0.25, 3e-7],
  nested: { ok: true, none: null, deep: [[1], [2, { x: 'ü → ✓ 🌱' }]] },
  empty: {},
};

describe('metadata round trip', () => {
  it('serializeModel stores it as header.metadata; readModelMetadata and deserializeModel read the file', () => {
    const bytes = serializeModel(model, { metadata: meta });
    expect(split(bytes).header.metadata).toEqual(meta); // the documented place in the container header
    expect(readModelMetadata(bytes)).toEqual(meta);
    const copy = deserializeModel(bytes);
    expect(copy.getWeights()).toEqual(model.getWeights());
    copy.dispose();
    // a copy is stored: later changes to the caller's object do not leak into it
    const mine = { a: [1] };
    const b2 = serializeModel(model, { metadata: mine });
    mine.a.push(2);
    expect(readModelMetadata(b2)).toEqual({ a: [1] });
  });

  it('no metadata → null; checkpoints carry it too', () => {
    expect(readModelMetadata(serializeModel(model))).toBeNull();
    expect(readModelMetadata(serializeModel(model, {}))).toBeNull();
    const ck = serializeCheckpoint(model, { metadata: { run: 'r1', epoch: 3 } });
    expect(readModelMetadata(ck)).toEqual({ run: 'r1', epoch: 3 });
    const { model: m } = deserializeCheckpoint(ck);
    m.dispose();
  });

  it('accepts metadata of exactly MAX_METADATA_BYTES (UTF-8 JSON), refuses one byte more', () => {
    expect(MAX_METADATA_BYTES).toBe(1024 * 1024);
    // {"s":"…"} is 8 bytes plus the string; é takes 2 bytes in UTF-8
    const s = 'é'.repeat(1000) + 'x'.repeat(MAX_METADATA_BYTES - 8 - 2000);
    expect(readModelMetadata(serializeModel(model, { metadata: { s } }))).toEqual({ s });
    const err = (() => {
      try {
        serializeModel(model, { metadata: { s: s + 'x' } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OptionError);
    expect((err as Error).message).toMatch(/metadata is 1048577 bytes as JSON; the limit is 1048576/);
  });
});

describe('bad metadata', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  let deep: unknown = 1;
  for (let i = 0; i < 70; i++) deep = [deep];
  it.each([
    ['NaN', { a: { b: NaN } }, /metadata\.a\.b is NaN; JSON has no NaN/],
    ['Infinity in an array', { xs: [1, Infinity] }, /metadata\.xs\[1\] is Infinity/],
    ['a function', { f: () => 1 }, /metadata\.f is a function/],
    ['undefined', { u: undefined }, /metadata\.u is undefined/],
    ['a bigint', { n: 1n }, /metadata\.n is the bigint 1n/],
    ['a Date', { when: new Date(0) }, /metadata\.when is \[object Date\]; metadata holds only plain objects/],
    ['a typed array', { w: new Float32Array(2) }, /metadata\.w is \[object Float32Array\]/],
    ['a Map', { m: new Map() }, /metadata\.m is \[object Map\]/],
    ['a cycle', cyclic, /metadata\.self\.back refers back to an enclosing object/],
    ['too deep', { deep }, /nested more than 64 levels/],
    ['an array', [1, 2], /metadata is an array; metadata must be a plain JSON object/],
    ['a string', 'classes', /metadata is "classes"/],
    ['null', null, /metadata is null/],
  ])('writers refuse %s with an OptionError naming the path', (_what, metadata, msg) => {
    for (const write of [serializeModel, serializeCheckpoint]) {
      let err: unknown = null;
      try {
        write(model, { metadata: metadata as never });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OptionError);
      expect((err as OptionError).option).toBe('metadata');
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('writers refuse unknown options; the model is untouched', () => {
    expect(() => serializeModel(model, { meta: {} } as never)).toThrow(/unknown option 'meta'; known options are metadata/);
    expect(() => serializeModel(model, 5 as never)).toThrow(OptionError);
    expect(serializeModel(model)).toEqual(serializeModel(model));
  });

  it('readers refuse tampered sections with a FormatError naming the field', () => {
    const bytes = serializeModel(model, { metadata: { a: 1 } });
    const tamper = (v: unknown) => {
      const p = split(bytes);
      p.header.metadata = v;
      return join(p);
    };
    let deepJson: unknown = 0;
    for (let i = 0; i < 70; i++) deepJson = { k: deepJson };
    const cases: [unknown, RegExp][] = [
      [[1, 2], /header\.metadata is an array/],
      ['x', /header\.metadata is "x"/],
      [null, /header\.metadata is null/],
      [deepJson, /header\.metadata(\.k)+ is nested more than 64 levels/],
      [{ s: 'x'.repeat(MAX_METADATA_BYTES) }, /header\.metadata is \d+ bytes as JSON; the limit is 1048576/],
    ];
    for (const [v, msg] of cases) {
      for (const read of [readModelMetadata, deserializeModel]) {
        let err: unknown = null;
        try {
          read(tamper(v));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(FormatError);
        expect((err as Error).message).toMatch(msg);
      }
    }
    // and the usual container checks
    expect(() => readModelMetadata(bytes.subarray(0, bytes.length - 1))).toThrow(FormatError);
    expect(() => readModelMetadata(new Uint8Array(40))).toThrow(/magic/);
    expect(() => readModelMetadata('file' as never)).toThrow(/Uint8Array/);
  });
});
