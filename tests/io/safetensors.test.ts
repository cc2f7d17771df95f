// safetensors: the writer matches the reference implementation's published test vectors, a file
// built by hand from the specification (another writer's key order and padding) loads into a
// model in PyTorch nn.Sequential naming and predicts like an f64 forward pass written here,
// round trips are byte-exact, and malformed files are refused with a FormatError.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSafetensors, saveSafetensors } from '../../ts/node.js';
import { FormatError, Sequential, activation, adam, batchNorm, dense, dropout, init, sgd } from '../../ts/index.js';
import { loadSafetensorsWeights, modelToSafetensors, readSafetensors, torchKeys, writeSafetensors, type SafetensorsTensor } from '../../ts/safetensors.js';

const enc = new TextEncoder();
const f32le = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);
const f64le = (xs: number[]) => new Uint8Array(Float64Array.from(xs).buffer);
function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};
/** A file from a header string and a byte buffer, as the spec lays it out. */
const file = (header: string, buffer: Uint8Array, pad = 0) => {
  const h = enc.encode(header + ' '.repeat(pad));
  return cat(u64(h.length), h, buffer);
};
const refuse = (f: () => unknown, msg: RegExp) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(msg);
};

beforeAll(async () => {
  await init();
});

describe('writeSafetensors / readSafetensors', () => {
  it("matches the reference implementation's test vectors (huggingface/safetensors tensor.rs)", () => {
    // test_serialization_forced_alignement: "attn0", F32 [1,1,2,3] = 0..5; the header (65 bytes of
    // JSON) is padded with 7 spaces to 72 so the data is 8-byte aligned
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(65);
    const expected = cat(u64(72), enc.encode(json + ' '.repeat(7)), f32le([0, 1, 2, 3, 4, 5]));
    const out = writeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: f32le([0, 1, 2, 3, 4, 5]) } });
    expect(Buffer.from(out).equals(Buffer.from(expected))).toBe(true);
    // test_empty with metadata { framework: pt }: 35 bytes of JSON padded to 40
    const meta = writeSafetensors({}, { framework: 'pt' });
    expect(Buffer.from(meta).equals(Buffer.from(cat(u64(40), enc.encode('{"__metadata__":{"framework":"pt"}}     '))))).toBe(true);
    expect(Buffer.from(writeSafetensors({})).equals(Buffer.from(cat(u64(8), enc.encode('{}      '))))).toBe(true);
    const back = readSafetensors(out);
    expect([...back.tensors.keys()]).toEqual(['attn0']);
    expect(Array.from(new Float32Array(back.tensors.get('attn0')!.data.slice().buffer))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(back.metadata).toBeNull();
    expect(readSafetensors(meta).metadata).toEqual({ framework: 'pt' });
  });

  it('orders tensors by decreasing dtype alignment, then name, and read → write is byte-exact', () => {
    const t = (dtype: SafetensorsTensor['dtype'], n: number, size: number): SafetensorsTensor => ({ dtype, shape: [n], data: Uint8Array.from({ length: n * size }, (_, i) => (i * 37 + n) & 0xff) });
    const bytes = writeSafetensors({ b: t('U8', 3, 1), a: t('F32', 2, 4), c: t('I64', 1, 8), 'é': t('F32', 1, 4), z: t('F16', 3, 2), e: t('BOOL', 0, 1) }, { note: 'hand' });
    const f = readSafetensors(bytes);
    expect([...f.tensors.keys()]).toEqual(['c', 'a', 'é', 'z', 'b', 'e']);
    expect(Buffer.from(writeSafetensors(f.tensors, f.metadata)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses malformed files with a FormatError naming the field, without allocating claimed sizes', () => {
    const data = f32le([1, 2, 3]);
    const ok = '{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}';
    expect(readSafetensors(file(ok, data)).tensors.get('x')!.shape).toEqual([3]);
    refuse(() => readSafetensors(new Uint8Array(5)), /file length is 5/);
    refuse(() => readSafetensors(cat(u64(100_000_001), enc.encode('{}'))), /header length is 100000001 bytes; the limit is 100000000/);
    refuse(() => readSafetensors(cat(u64(2 ** 40), enc.encode('{}'))), /header length .* the limit/);
    refuse(() => readSafetensors(cat(u64(1000), enc.encode(ok), data)), /header length is 1000 bytes, past the end/);
    refuse(() => readSafetensors(file('["x"]', data)), /does not start with "\{"/);
    refuse(() => readSafetensors(file('{"x":', data)), /not valid JSON/);
    refuse(() => readSafetensors(file('{"x":{"dtype":"F31","shape":[3],"data_offsets":[0,12]}}', data)), /tensor 'x'\.dtype is "F31"/);
    refuse(() => readSafetensors(file('{"x":{"dtype":"F64","shape":[3],"data_offsets":[0,12]}}', data)), /tensor 'x'\.(shape|data_offsets)/);
    refuse(() => readSafetensors(file('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}', data)), /\[0, 16\] is out of range/);
    refuse(() => readSafetensors(file('{"x":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,12]}}', data)), /absurd size/);
    refuse(() => readSafetensors(file('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', data)), /tensor 'y'\.data_offsets \[4, 12\] overlaps/);
    refuse(() => readSafetensors(file('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', data)), /tensor 'y'\.data_offsets \[8, 12\] leaves a hole/);
    refuse(() => readSafetensors(file('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data)), /byte buffer is 12 bytes but the tensors cover 8/);
    refuse(() => readSafetensors(file('{"__metadata__":{"n":1},"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}', data)), /__metadata__\.n is 1/);
    refuse(() => readSafetensors(cat(u64(2), Uint8Array.of(0x7b, 0xff))), /not valid UTF-8/);
    refuse(() => readSafetensors('x' as never), /Uint8Array/);
  });
});

describe('PyTorch nn.Sequential naming', () => {
  it('a hand-built file (other key order, F64/BF16 tensors, padding) loads and predicts like an f64 forward pass', () => {
    // nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)): keys 0.weight [3, 2], 0.bias [3], 2.weight [1, 3], 2.bias [1]
    const W0 = [[0.5, -1], [2, 0.25], [-0.75, 1.5]]; // [out, in]
    const b0 = [0.125, -0.5, 1]; // stored as BF16 (exactly representable)
    const W2 = [[1.5, -2, 0.5]]; // stored as F64
    const b2 = [0.25];
    const bf16 = (xs: number[]) => {
      const b = new Uint8Array(xs.length * 2);
      xs.forEach((x, i) => new DataView(b.buffer).setUint16(i * 2, new Uint32Array(Float32Array.of(x).buffer)[0]! >>> 16, true));
      return b;
    };
    // buffer order differs from key order: 2.bias, 0.weight, 2.weight, 0.bias
    const buf = cat(f32le(b2), f32le(W0.flat()), f64le(W2.flat()), bf16(b0));
    const header = `{
      "2.weight": { "shape": [1, 3], "data_offsets": [28, 52], "dtype": "F64" },
      "0.bias":   { "data_offsets": [52, 58], "dtype": "BF16", "shape": [3] },
      "2.bias":   { "dtype": "F32", "data_offsets": [0, 4], "shape": [1] },
      "0.weight": { "dtype": "F32", "shape": [3, 2], "data_offsets": [4, 28] },
      "__metadata__": { "format": "pt" }
    }`;
    const bytes = file(header, buf, 13);
    const model = new Sequential({ inputShape: 2, layers: [dense(3, { activation: 'relu' }), dense(1)] });
    model.compile({ optimizer: sgd(), loss: 'mse' });
    expect(torchKeys(2, model.layers).map((k) => k.key)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    loadSafetensorsWeights(model, bytes);
    const xs = [[1, 2], [-0.5, 0.25], [3, -1]];
    const p = model.predict(xs);
    xs.forEach((x, r) => {
      const h = W0.map((w, j) => Math.max(0, w[0]! * x[0]! + w[1]! * x[1]! + b0[j]!));
      const out = W2[0]!.reduce((s, w, j) => s + w * h[j]!, b2[0]!);
      expect(p.data[r]).toBeCloseTo(out, 5);
    });
    expect(Array.from(model.getWeights()[0]!.data)).toEqual([0.5, 2, -0.75, -1, 0.25, 1.5]); // wasmfit [in, out]
  });

  it('model → safetensors → model → safetensors is byte-exact; keys count activation modules as PyTorch would', async () => {
    const layers = [dense(6, { activation: 'tanh' }), dropout(0.1), dense(5, { useBias: false }), batchNorm(), activation('relu'), dense(3)];
    const a = new Sequential({ inputShape: 4, layers, seed: 9 });
    a.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    await a.fit(Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7)), Int32Array.from({ length: 10 }, (_, i) => i % 3), { epochs: 3, batchSize: 5 });
    const bytes = modelToSafetensors(a, { metadata: { producer: 'test' } });
    const f = readSafetensors(bytes);
    // Linear(0) Tanh(1) Dropout(2) Linear(3, no bias) BatchNorm1d(4) ReLU(5) Linear(6)
    expect([...f.tensors.keys()].sort()).toEqual(['0.bias', '0.weight', '3.weight', '4.bias', '4.num_batches_tracked', '4.running_mean', '4.running_var', '4.weight', '6.bias', '6.weight']);
    expect(f.tensors.get('0.weight')!.shape).toEqual([6, 4]);
    expect(f.tensors.get('4.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
    // one per training batch: 3 epochs of 2 batches
    expect(new DataView(f.tensors.get('4.num_batches_tracked')!.data.buffer).getBigInt64(0, true)).toBe(6n);
    expect(f.metadata).toEqual({ format: 'pt', producer: 'test' });
    expect(Buffer.from(writeSafetensors(f.tensors, f.metadata)).equals(Buffer.from(bytes))).toBe(true);
    const b = new Sequential({ inputShape: 4, layers, seed: 1 });
    b.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    loadSafetensorsWeights(b, bytes);
    a.getWeights().forEach((w, i) => expect(Buffer.from(b.getWeights()[i]!.data.buffer).equals(Buffer.from(w.data.buffer))).toBe(true));
    // b has the same weights and the num_batches_tracked it read, though it never trained: identical bytes
    expect(b.optimizerStep).toBe(0);
    expect(Buffer.from(modelToSafetensors(b, { metadata: { producer: 'test' } })).equals(Buffer.from(bytes))).toBe(true);
    const plain = new Sequential({ inputShape: 4, layers: [dense(3, { activation: 'elu' }), dense(2)], seed: 2 });
    const pb = modelToSafetensors(plain);
    const plain2 = new Sequential({ inputShape: 4, layers: [dense(3, { activation: 'elu' }), dense(2)], seed: 3 });
    loadSafetensorsWeights(plain2, pb);
    expect(Buffer.from(modelToSafetensors(plain2)).equals(Buffer.from(pb))).toBe(true);
  });

  it('refuses missing, unexpected, mis-shaped, mis-typed and non-finite tensors, leaving the weights as they were', () => {
    const model = new Sequential({ inputShape: 2, layers: [dense(3, { activation: 'relu' }), batchNorm(), dense(1)] });
    const before = model.getWeights();
    const good = readSafetensors(modelToSafetensors(model)).tensors;
    const edit = (f: (m: Map<string, SafetensorsTensor>) => void) => {
      const m = new Map(good);
      f(m);
      return writeSafetensors(m);
    };
    const load = (bytes: Uint8Array, strict = true) => () => loadSafetensorsWeights(model, bytes, { strict });
    refuse(load(edit((m) => m.delete('3.bias'))), /tensor '3\.bias' is missing/);
    refuse(load(edit((m) => m.set('9.weight', good.get('3.bias')!))), /keys \["9\.weight"\] are not in the model/);
    expect(() => load(edit((m) => m.set('9.weight', good.get('3.bias')!)), false)()).not.toThrow();
    refuse(load(edit((m) => m.set('0.weight', { ...good.get('0.weight')!, shape: [2, 3] }))), /tensor '0\.weight'\.shape is \[2,3\]; the model needs \[3,2\] \(PyTorch layout \[out, in\]\)/);
    refuse(load(edit((m) => m.set('0.bias', { dtype: 'I32', shape: [3], data: new Uint8Array(12) }))), /tensor '0\.bias'\.dtype is I32/);
    refuse(load(edit((m) => m.set('2.num_batches_tracked', { dtype: 'F32', shape: [], data: new Uint8Array(4) }))), /num_batches_tracked' is F32 \[\]; expected an I64 scalar/);
    refuse(load(edit((m) => m.set('0.bias', { dtype: 'F32', shape: [3], data: f32le([0, NaN, 0]) }))), /tensor '0\.bias' holds NaN at index 1/);
    refuse(load(edit((m) => m.set('2.running_var', { dtype: 'F32', shape: [3], data: f32le([1, -1, 1]) }))), /negative variance/);
    expect(model.getWeights()).toEqual(before);
  });
});

describe('Node file helpers', () => {
  it('saveSafetensors / loadSafetensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmfit-st-'));
    try {
      const a = new Sequential({ inputShape: 3, layers: [dense(2, { activation: 'sigmoid' })], seed: 4 });
      const b = new Sequential({ inputShape: 3, layers: [dense(2, { activation: 'sigmoid' })], seed: 5 });
      const path = join(dir, 'm.safetensors');
      await saveSafetensors(path, a);
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(modelToSafetensors(a)))).toBe(true);
      await loadSafetensors(path, b);
      expect(b.getWeights()).toEqual(a.getWeights());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
