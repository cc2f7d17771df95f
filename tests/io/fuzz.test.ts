// Property-based robustness (fast-check): mutated, truncated and structurally edited files fed to
// every reader either load or throw a FormatError — never another exception, a crash or a hang.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, Sequential, adam, batchNorm, checkpointCallback, dense, deserializeCheckpoint, deserializeModel, dropout, earlyStopping, init, lbfgs, readModelMetadata, serializeCheckpoint, serializeModel } from '../../ts/index.js';
import { loadSafetensorsWeights, modelToSafetensors, readSafetensors } from '../../ts/safetensors.js';
import { tinyData, tinyModel } from '../helpers.js';
import { fixCrc, join, split } from './container-util.js';

const layers = () => [dense(5, { activation: 'relu' }), batchNorm(), dropout(0.1), dense(3)];
let modelBytes: Uint8Array;
let ckptBytes: Uint8Array;
let stBytes: Uint8Array;
let metaBytes: Uint8Array;
let lbfgsBytes: Uint8Array;
let target: Sequential;

beforeAll(async () => {
  await init();
  const m = new Sequential({ inputShape: 4, layers: layers(), seed: 1 });
  m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
  const { x, y } = tinyData({ rows: 24, features: (i) => Math.cos(i) });
  await m.fit(x, y, { epochs: 2, batchSize: 8, validationSplit: 0.25, callbacks: [earlyStopping({ restoreBestWeights: true }), checkpointCallback({ save: (b) => { ckptBytes = b; } })] });
  modelBytes = serializeModel(m);
  metaBytes = serializeModel(m, { metadata: { classes: ['a', 'b', 'c'], stats: { mean: [0.5, -1], n: 24 }, note: null } });
  const l = tinyModel({ hidden: 5, activation: 'tanh', seed: 1, optimizer: lbfgs({ lineSearch: 'strongWolfe', maxIter: 3, historySize: 2 }) }).model;
  await l.fit(x, y, { epochs: 3, batchSize: 24 });
  lbfgsBytes = serializeCheckpoint(l);
  l.dispose();
  stBytes = modelToSafetensors(m);
  target = new Sequential({ inputShape: 4, layers: layers(), seed: 2 });
});

/** Runs a reader; returns 'ok' or 'format', rethrows anything else (which fails the property). */
function outcome(f: () => unknown): 'ok' | 'format' {
  try {
    const r = f() as { dispose?: () => void; model?: { dispose(): void } } | undefined;
    r?.dispose?.();
    r?.model?.dispose();
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError) return 'format';
    throw e;
  }
}

const readers: [string, () => Uint8Array, (b: Uint8Array) => unknown][] = [
  ['deserializeModel', () => modelBytes, (b) => deserializeModel(b)],
  ['deserializeCheckpoint', () => ckptBytes, (b) => deserializeCheckpoint(b)],
  ['deserializeCheckpoint (L-BFGS state)', () => lbfgsBytes, (b) => deserializeCheckpoint(b)],
  ['readModelMetadata', () => metaBytes, (b) => readModelMetadata(b)],
  ['readSafetensors', () => stBytes, (b) => readSafetensors(b)],
  ['loadSafetensorsWeights', () => stBytes, (b) => loadSafetensorsWeights(target, b)],
];

/** Byte-level mutations: truncation, flips, overwrites, insertions, deletions. */
const byteMutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);
type ByteMutation = typeof byteMutation extends fc.Arbitrary<infer T> ? T : never;
function mutate(src: Uint8Array, ms: ByteMutation[]): Uint8Array {
  let b = src.slice();
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'flip') b[at] = b[at]! ^ (1 << m.bit);
    else if (m.kind === 'set') b.set(m.bytes.subarray(0, Math.max(0, b.length - at)), at);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.n)]);
  }
  return b;
}

/** Every path to a value inside a JSON document. */
function paths(v: unknown, p: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(p);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...p, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...p, k], out);
  return out;
}
function setAt(doc: unknown, p: (string | number)[], value: unknown): unknown {
  if (p.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let o = copy;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[p[p.length - 1]!] = value;
  return copy;
}
const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1e9, -1, 0, 2 ** 53, 1.5, 4294967296, '', 'NaN', null, true, [], {}, [1e9, 1e9], { $tensor: 'state/0' }, { $f64: 'Infinity' }),
);

describe.each(readers)('%s on mutated files', (_, source, read) => {
  it('loads or throws FormatError for byte-level mutations (and, for wasmfit files, with the CRC recomputed)', () => {
    const counts = { ok: 0, format: 0 };
    const checksummed = source() !== stBytes;
    fc.assert(
      fc.property(fc.array(byteMutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (ms, fix) => {
        let b = mutate(source(), ms);
        if (fix && checksummed && b.length >= 4) b = fixCrc(b);
        const r = outcome(() => read(b));
        counts[r]++;
        expect(['ok', 'format']).toContain(r);
      }),
      { numRuns: 300, seed: 42 },
    );
    expect(counts.format).toBeGreaterThan(0);
  });

  it('loads or throws FormatError for structural header edits (consistent lengths and checksum)', () => {
    const isSafetensors = source() === stBytes;
    const counts = { ok: 0, format: 0 };
    fc.assert(
      fc.property(fc.nat(), weird, (pick, value) => {
        let bytes: Uint8Array;
        if (isSafetensors) {
          const src = source();
          const n = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
          const header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + n)));
          const ps = paths(header);
          const edited = new TextEncoder().encode(JSON.stringify(setAt(header, ps[pick % ps.length]!, value)));
          bytes = new Uint8Array(8 + edited.length + src.length - 8 - n);
          new DataView(bytes.buffer).setBigUint64(0, BigInt(edited.length), true);
          bytes.set(edited, 8);
          bytes.set(src.subarray(8 + n), 8 + edited.length);
        } else {
          const p = split(source());
          const ps = paths(p.header);
          bytes = join({ ...p, header: setAt(p.header, ps[pick % ps.length]!, value) as Record<string, unknown> });
        }
        const r = outcome(() => read(bytes));
        counts[r]++;
        expect(['ok', 'format']).toContain(r);
      }),
      { numRuns: 300, seed: 7 },
    );
    // the edits reach both outcomes: harmless ones (a renamed metadata value, an equal number) load
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.format).toBeGreaterThan(0);
  });
});
