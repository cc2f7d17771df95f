// Model files: architecture + compile config + weights round-trip exactly; corrupt or
// incompatible files are refused with a FormatError naming the field.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pjoin } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FormatError, Sequential, activation, adam, batchNorm, dense, deserializeModel, dropout, init, l1l2, l2, maxNorm, serializeModel, sgd,
} from '../../ts/index.js';
import { loadModel, saveModel } from '../../ts/node.js';
import { ABI_VERSION } from '../../ts/runtime/abi.js';
import { fixCrc, join, split } from './container-util.js';

const rows = 64;
const d = 6;
function data(seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const x = Float32Array.from({ length: rows * d }, () => r() * 2 - 1);
  const y = Int32Array.from({ length: rows }, (_, i) => (x[i * d]! + x[i * d + 1]! > 0 ? 1 : 0) + (x[i * d + 2]! > 0.5 ? 1 : 0));
  return { x, y };
}

function rich(): Sequential {
  return new Sequential({
    inputShape: [d],
    seed: 11,
    layers: [
      dense(8, { activation: 'relu', kernelInitializer: 'heNormal', biasInitializer: { constant: 0.1 }, kernelRegularizer: l2(1e-3), biasRegularizer: l1l2({ l1: 1e-4, l2: 1e-5 }), kernelConstraint: maxNorm({ maxValue: 2.5 }) }),
      dropout(0.25),
      dense(7, { useBias: false }),
      batchNorm({ momentum: 0.9, epsilon: 1e-4 }),
      activation('leakyRelu', { alpha: 0.2 }),
      dense(3, { kernelInitializer: 'lecunNormal' }),
    ],
  });
}

let dir = '';
beforeAll(async () => {
  await init();
  dir = mkdtempSync(pjoin(tmpdir(), 'wasmfit-io-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serializeModel / deserializeModel', () => {
  it('round-trips architecture, compile config and weights; predictions are bit-identical', async () => {
    const m = rich();
    m.compile({ optimizer: adam({ lr: 0.01, betas: [0.8, 0.99], weightDecay: 1e-4 }), loss: { type: 'softmaxCrossEntropy', labelSmoothing: 0.1 } });
    const { x, y } = data(1);
    await m.fit(x, y, { epochs: 2, batchSize: 16 });
    const bytes = serializeModel(m);
    // layout as documented: magic, version 1, kind 1 (model), this build's ABI
    const p = split(bytes);
    expect(Array.from(p.magic)).toEqual([0x89, 0x57, 0x41, 0x53, 0x4d, 0x46, 0x49, 0x54]);
    expect([p.version, p.kind, p.abi]).toEqual([1, 1, ABI_VERSION]);
    const c = deserializeModel(bytes);
    expect(c.layers).toEqual(m.layers);
    expect(c.seed).toBe(11);
    expect(JSON.parse(JSON.stringify(c.compileOptions))).toEqual(JSON.parse(JSON.stringify(m.compileOptions)));
    expect(c.compileOptions!.optimizer.type).toBe('adam');
    const a = m.getWeights();
    const b = c.getWeights();
    expect(b.map((t) => t.name)).toEqual(a.map((t) => t.name));
    a.forEach((t, i) => expect(Buffer.from(b[i]!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true));
    expect(Buffer.from(c.predict(x).data.buffer).equals(Buffer.from(m.predict(x).data.buffer))).toBe(true);
    // the stored f32 data is exactly getWeights() little-endian, back to back in header order
    const idx = p.header.tensors as { name: string; offset: number; shape: number[] }[];
    idx.forEach((e, i) => {
      const t = a[i]!;
      expect(e.name).toBe(t.name);
      expect(Buffer.from(p.data.subarray(e.offset, e.offset + t.data.length * 4)).equals(Buffer.from(t.data.buffer))).toBe(true);
    });
    // the revived compile config trains (no training state in a model file: two copies train alike)
    const c3 = deserializeModel(bytes);
    await c.fit(x, y, { epochs: 1, seed: 5 });
    await c3.fit(x, y, { epochs: 1, seed: 5 });
    expect(Buffer.from(c.getWeights()[0]!.data.buffer).equals(Buffer.from(c3.getWeights()[0]!.data.buffer))).toBe(true);
    expect(Buffer.from(c.getWeights()[0]!.data.buffer).equals(Buffer.from(a[0]!.data.buffer))).toBe(false);
    for (const k of [m, c, c3]) k.dispose();
  });

  it('an uncompiled model comes back uncompiled; a regression loss survives', async () => {
    const m = new Sequential({ inputShape: 3, layers: [dense(2, { activation: 'tanh' })], seed: 2 });
    const c = deserializeModel(serializeModel(m));
    expect(c.compileOptions).toBeNull();
    await expect(c.fit(new Float32Array(3), Int32Array.of(0))).rejects.toThrow(/not compiled/);
    m.compile({ optimizer: sgd({ lr: 0.1, momentum: 0.9, nesterov: true }), loss: { type: 'huber', delta: 0.5 } });
    const c2 = deserializeModel(serializeModel(m));
    expect(c2.compileOptions!.loss).toEqual({ type: 'huber', delta: 0.5 });
    expect(c2.compileOptions!.optimizer).toMatchObject({ type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true });
    for (const x of [m, c, c2]) x.dispose();
  });

  it('saveModel / loadModel write atomically and leave no temporary files', async () => {
    const m = rich();
    const path = pjoin(dir, 'm.wasmfit');
    writeFileSync(path, 'old contents');
    await saveModel(path, m);
    const c = await loadModel(path);
    expect(Buffer.from(c.predict(data(2).x).data.buffer).equals(Buffer.from(m.predict(data(2).x).data.buffer))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(loadModel(pjoin(dir, 'missing.wasmfit'))).rejects.toThrow(/ENOENT/);
    m.dispose();
    c.dispose();
  });
});

describe('deserializeModel refuses bad files with a FormatError naming the field', () => {
  let good: Uint8Array;
  beforeAll(() => {
    const m = rich();
    good = serializeModel(m);
    m.dispose();
  });
  const refuse = (bytes: unknown, field: RegExp) => {
    let err: unknown;
    try {
      deserializeModel(bytes as Uint8Array);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(field);
  };

  it('not bytes, empty, wrong magic, version, kind', () => {
    refuse('hello', /Uint8Array/);
    refuse(new Uint8Array(0), /file length/);
    const p = split(good);
    refuse(join({ ...p, magic: new TextEncoder().encode('PK\x03\x04abcd') }), /magic/);
    refuse(join({ ...p, version: 2 }), /version is 2/);
    refuse(join({ ...p, kind: 9 }), /kind is 9/);
  });

  it('a file written by a build with another kernel ABI loads and predicts the same bits (the ABI is not part of the format)', () => {
    const p = split(good);
    for (const abi of [ABI_VERSION - 1, ABI_VERSION + 1]) {
      const other = deserializeModel(join({ ...p, abi }));
      const ref = deserializeModel(good);
      const x = new Float32Array(ref.inputSize * 3).map((_, i) => Math.sin(i));
      expect(Array.from(other.predict(x).data)).toEqual(Array.from(ref.predict(x).data));
      other.dispose();
      ref.dispose();
    }
  });

  it('truncated at any length', () => {
    for (const cut of [1, 8, 31, 36, 100, good.length - 200, good.length - 5, good.length - 1]) refuse(good.subarray(0, cut), /file length|headerLength|dataLength|truncated/);
  });

  it('lengths past the end and absurd sizes (a 10 GB data section, a huge tensor shape) without allocating them', () => {
    const p = split(good);
    refuse(join(p, { headerLength: 0xfffffff0 }), /headerLength/);
    refuse(join(p, { headerLength: 1 << 20 }), /headerLength .*past the end/);
    refuse(join(p, { dataLength: 10 * 2 ** 30 }), /dataLength is 10737418240 bytes, past the end/);
    const h = structuredClone(p.header) as { tensors: { shape: number[] }[] };
    h.tensors[0]!.shape = [100000, 100000];
    refuse(join({ ...p, header: h }), /header\.tensors\[0\]\.shape .*absurd/);
    const h2 = structuredClone(p.header) as { model: { layers: { units?: number }[] } };
    h2.model.layers[0]!.units = 1e9; // the file has no such tensor: refused before any allocation
    refuse(join({ ...p, header: h2 }), /dense_0\/kernel'\.shape is \[6,8\]; the architecture needs \[6,1000000000\]/);
  });

  it('a flipped bit fails the CRC; trailing bytes; non-finite weights', () => {
    const b = good.slice();
    b[b.length - 50]! ^= 1;
    refuse(b, /crc32/);
    const t = new Uint8Array(good.length + 3);
    t.set(good);
    refuse(t, /trailing/);
    const p = split(good);
    const data = p.data.slice();
    new DataView(data.buffer).setFloat32(8, NaN, true);
    refuse(join({ ...p, data }), /tensor 'dense_0\/kernel' holds NaN at index 2/);
    new DataView(data.buffer).setFloat32(8, Infinity, true);
    refuse(join({ ...p, data }), /holds Infinity/);
  });

  it('invalid header fields are named', () => {
    const p = split(good);
    const edit = (f: (h: any) => void) => {
      const h = structuredClone(p.header);
      f(h);
      return join({ ...p, header: h });
    };
    refuse(edit((h) => (h.model.layers[1].rate = 2)), /header\.model\.layers\[1\]\.rate/);
    refuse(edit((h) => (h.model.layers[0].activation = 'swish')), /header\.model\.layers\[0\]\.activation/);
    refuse(edit((h) => (h.model.layers[0].type = 'lstm')), /header\.model\.layers\[0\]\.type/);
    refuse(edit((h) => (h.model.inputShape = [0])), /header\.model\.inputShape/);
    refuse(edit((h) => (h.compile = { optimizer: { type: 'adam', lr: -1 }, loss: 'mse' })), /header\.compile\.optimizer\.lr/);
    refuse(edit((h) => (h.tensors[1].offset += 4)), /header\.tensors\[1\]\.offset/);
    refuse(edit((h) => (h.tensors[1].dtype = 'f64')), /header\.tensors\[1\]\.dtype/);
    refuse(edit((h) => h.tensors.pop()), /dataLength .* the tensors use/);
    const bad = good.slice();
    bad[40] = 0xff; // inside the JSON header
    refuse(fixCrc(bad), /header is not valid UTF-8 JSON/);
  });
});
