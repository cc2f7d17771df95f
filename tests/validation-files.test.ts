// Issue 13 point 7 and 5: file readers never build messages with JSON.stringify of file data (R11:
// a deeply nested header gave a stack-overflow RangeError instead of a FormatError), and writers
// refuse non-finite weights or optimizer state, so a file that replaced a good one is always
// loadable (R10).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { editHeaderText } from './io/container-util.js';
import { tinyData, tinyModel } from './helpers.js';
import { FormatError, NonFiniteError, Sequential, adam, dense, deserializeCheckpoint, deserializeModel, init, readModelMetadata, serializeCheckpoint, serializeModel, sgd } from '../ts/index.js';
import { modelToSafetensors, readSafetensors } from '../ts/safetensors.js';
import { loadCheckpoint, modelCheckpoint } from '../ts/node.js';
import { toOnnx } from '../ts/io/onnx.js';
import { jsonTooDeepAt, MAX_JSON_DEPTH, preview } from '../ts/errors/preview.js';

beforeAll(async () => {
  await init();
});
const dir = mkdtempSync(join(tmpdir(), 'wasmfit-validation-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deep = (n: number): string => '['.repeat(n) + '1' + ']'.repeat(n);

function safetensorsWithHeader(header: string): Uint8Array {
  const j = new TextEncoder().encode(header);
  const st = new Uint8Array(8 + j.length + 4);
  new DataView(st.buffer).setBigUint64(0, BigInt(j.length), true);
  st.set(j, 8);
  return st;
}

/** A real model file whose header text is edited by `edit`, lengths and CRC-32 recomputed. */
const editedModelFile = editHeaderText;

/** 3 → 4 relu → 2, adam. */
const compiledModel = (seed = 1): Sequential => tinyModel({ inputSize: 3, hidden: 4, classes: 2, seed, optimizer: adam() }).model;

describe('R11: deeply nested JSON in file headers is a FormatError, not a stack overflow', () => {
  it('readSafetensors: a shape nested 100,000 arrays deep', () => {
    const st = safetensorsWithHeader(`{"w":{"dtype":"F32","shape":[${deep(100000)}],"data_offsets":[0,4]}}`);
    expect(() => readSafetensors(st)).toThrow(FormatError);
    expect(() => readSafetensors(st)).toThrow(/readSafetensors: header nests arrays\/objects more than 128 levels deep/);
  });

  it('readSafetensors: metadata and dtype values nested deeply, within the depth limit, are named with a bounded preview', () => {
    const st = safetensorsWithHeader(`{"__metadata__":{"k":${deep(100)}}}`);
    let err: unknown;
    try {
      readSafetensors(st);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/__metadata__\.k is \[\[\[\[…\]\]\]\]; metadata values must be strings/);
    const st2 = safetensorsWithHeader(`{"w":{"dtype":${deep(120)},"shape":[1],"data_offsets":[0,4]}}`);
    expect(() => readSafetensors(st2)).toThrow(FormatError);
    expect(() => readSafetensors(st2)).toThrow(/dtype is \[\[\[\[…\]\]\]\]/);
  });

  it('deserializeModel / readModelMetadata / deserializeCheckpoint: a producer nested 100,000 arrays deep (CRC recomputed)', () => {
    const m = compiledModel();
    const hostile = editedModelFile(serializeModel(m), (h) => h.replace('"producer":"wasmfit"', `"producer":${deep(100000)}`));
    for (const read of [() => deserializeModel(hostile), () => readModelMetadata(hostile)]) {
      expect(read).toThrow(FormatError);
      expect(read).toThrow(/header nests arrays\/objects more than 128 levels deep/);
    }
    const ck = editedModelFile(serializeCheckpoint(m), (h) => h.replace('"producer":"wasmfit"', `"producer":${deep(100000)}`));
    expect(() => deserializeCheckpoint(ck)).toThrow(FormatError);
    m.dispose();
  });

  it('deserializeModel: invalid header values within the depth limit are named with a bounded preview', () => {
    const m = compiledModel();
    const bytes = editedModelFile(serializeModel(m), (h) => h.replace('"producer":"wasmfit"', `"producer":${deep(100)}`));
    expect(() => deserializeModel(bytes)).toThrow(/header\.producer is \[\[\[\[…\]\]\]\]; expected "wasmfit"/);
    const long = editedModelFile(serializeModel(m), (h) => h.replace('"producer":"wasmfit"', `"producer":"${'x'.repeat(100000)}"`));
    let msg = '';
    try {
      deserializeModel(long);
    } catch (e) {
      expect(e).toBeInstanceOf(FormatError);
      msg = (e as Error).message;
    }
    expect(msg.length).toBeLessThan(400);
    m.dispose();
  });

  it('metadata nested up to its 64-level limit still loads', () => {
    const m = compiledModel();
    let meta: unknown = 1;
    for (let i = 0; i < 63; i++) meta = [meta];
    const bytes = serializeModel(m, { metadata: { deep: meta as never } });
    expect(readModelMetadata(bytes)).toEqual({ deep: meta });
    deserializeModel(bytes).dispose();
    m.dispose();
  });
});

describe('preview: bounded text of untrusted values', () => {
  it('prints small JSON values as JSON.stringify does', () => {
    for (const v of [[6, 8], { units: 3 }, 'relu', null, true, 12.5, [[1, 2], { a: [] }]]) expect(preview(v)).toBe(JSON.stringify(v));
  });
  it('stops at the depth, item and length limits and never throws', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100000; i++) v = [v];
    expect(preview(v)).toBe('[[[[…]]]]');
    expect(preview(Array.from({ length: 1000 }, (_, i) => i))).toBe('[0,1,2,3,4,5,6,7,… 992 more]');
    expect(preview('x'.repeat(10000)).length).toBeLessThanOrEqual(80);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(preview(cyclic)).toBe('{"self":{"self":{"self":{…}}}}');
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('boom'); } });
    expect(preview(hostile)).toBe('?');
    expect(preview({ get x() { throw new Error('boom'); } })).toBe('{"x":?}');
    expect(preview([NaN, -Infinity, -0, undefined, 3n, Symbol('s'), () => 1, new Float32Array(3), new Date(0)])).toBe('[NaN,-Infinity,-0,undefined,3n,Symbol(s),a function,Float32Array(3),… 1 more]');
    expect(preview(Object.create(null))).toBe('{}');
  });
  it('jsonTooDeepAt skips brackets inside strings', () => {
    expect(jsonTooDeepAt(`{"a":"${'['.repeat(1000)}"}`)).toBe(-1);
    expect(jsonTooDeepAt(`{"a":"\\"${'['.repeat(1000)}"}`)).toBe(-1);
    expect(jsonTooDeepAt(deep(MAX_JSON_DEPTH))).toBe(-1);
    expect(jsonTooDeepAt(deep(MAX_JSON_DEPTH + 1))).toBe(MAX_JSON_DEPTH);
  });
});

describe('R10: writers refuse non-finite weights and optimizer state', () => {
  const withNaN = (m: Sequential, name: string) => {
    const ws = m.getWeights();
    const w = ws.find((t) => t.name === name)!;
    w.data[1] = NaN;
    return ws;
  };

  it('serializeModel, serializeCheckpoint and modelToSafetensors throw NonFiniteError naming the tensor', () => {
    const m = compiledModel();
    const spy = vi.spyOn(m, 'getWeights').mockReturnValue(withNaN(m, 'dense_1/kernel'));
    expect(() => serializeModel(m)).toThrow(NonFiniteError);
    expect(() => serializeModel(m)).toThrow(/serializeModel: tensor 'dense_1\/kernel' holds NaN at index 1/);
    expect(() => serializeCheckpoint(m)).toThrow(/serializeCheckpoint: tensor 'dense_1\/kernel' holds NaN/);
    expect(() => modelToSafetensors(m)).toThrow(NonFiniteError);
    expect(() => toOnnx(m)).toThrow(/toOnnx: tensor 'dense_1\/kernel' holds NaN at index 1/);
    spy.mockRestore();
    expect(() => serializeModel(m)).not.toThrow();
    m.dispose();
  });

  it('serializeCheckpoint refuses non-finite optimizer moments', () => {
    const m = compiledModel();
    const real = m.exportTrainingState();
    const st = { ...real, slots: real.slots.map((s, i) => ({ name: s.name, data: i === 0 ? s.data.map(() => Infinity) : s.data })) };
    vi.spyOn(m, 'exportTrainingState').mockReturnValue(st);
    expect(() => serializeCheckpoint(m)).toThrow(NonFiniteError);
    expect(() => serializeCheckpoint(m)).toThrow(/holds Infinity at index 0/);
    m.dispose();
  });

  it('modelCheckpoint never replaces a good checkpoint with an unreadable one', async () => {
    const m = compiledModel();
    const path = join(dir, 'good.ckpt');
    const { x, y } = tinyData({ inputSize: 3, classes: 2, rows: 40, features: (i) => Math.sin(i) });
    let epochs = 0;
    const poison = {
      onEpochEnd: () => {
        if (++epochs === 2) vi.spyOn(m, 'getWeights').mockReturnValue(withNaN(m, 'dense_0/bias'));
      },
    };
    await expect(m.fit(x, y, { epochs: 4, batchSize: 8, callbacks: [poison, modelCheckpoint(path)] })).rejects.toThrow(NonFiniteError);
    const ck = await loadCheckpoint(path);
    expect(ck.resume!.epoch).toBe(1); // the file written after the first epoch
    ck.model.dispose();
    m.dispose();
  });

  it('R10 repro: a diverging run with per-batch checkpoints leaves a loadable file', async () => {
    const x = new Float32Array(256 * 8).map((_, i) => Math.sin(i * 12.9898) * 2);
    const y = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i) * 10);
    const m = new Sequential({ inputShape: [8], layers: [dense(16, { activation: 'relu' }), dense(1)], seed: 1 });
    m.compile({ optimizer: sgd({ lr: 1e3 }), loss: 'mse' });
    const path = join(dir, 'diverge.ckpt');
    await expect(m.fit(x, y, { epochs: 5, batchSize: 32, callbacks: [modelCheckpoint(path, { everyBatches: 1 })] })).rejects.toThrow(NonFiniteError);
    expect(existsSync(path)).toBe(true);
    const ck = deserializeCheckpoint(new Uint8Array(readFileSync(path)));
    ck.model.dispose();
    m.dispose();
  });
});
