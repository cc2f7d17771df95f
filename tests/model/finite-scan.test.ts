// x and y are checked for NaN/±Inf before a call changes anything. Arrays of 16,384 floats and more
// are scanned in WASM in chunks (ts/model/stepper.ts firstNonFinite): the error must name the same
// first bad element as a plain scan would, wherever it falls (first/last element of a chunk, the
// tail, a Float64Array value beyond the float32 range), the model must be unchanged, and the scan
// must not write outside its chunk (guarded runtime).
import { describe, expect, it } from 'vitest';
import { NonFiniteError, Sequential, adam, dense } from '../../ts/index.js';
import { BUILDS, guardedRuntime, runtimeFor } from '../helpers.js';

const D = 37; // rows of 37 features: chunk boundaries (16,384 floats) fall inside rows
const ROWS = 1500; // 55,500 floats: three whole chunks and a tail
const CHUNK = 1 << 14;

function clean(): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: ROWS * D }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const places = [0, CHUNK - 1, CHUNK, 2 * CHUNK + 17, 3 * CHUNK, ROWS * D - 1];

describe.each(BUILDS)('the finiteness scan of x and y (%s build)', (build) => {
  for (const at of places) {
    for (const bad of [NaN, Infinity, -Infinity]) {
      it(`x with ${bad} at element ${at} (and NaN after it): fit, predict and evaluate name row ${Math.floor(at / D)}, feature ${at % D}; the weights are unchanged`, async () => {
        const rt = await runtimeFor(build);
        const m = new Sequential({ inputShape: [D], layers: [dense(4)], seed: 1, runtime: rt });
        m.compile({ optimizer: adam({ lr: 1e-2 }), loss: 'softmaxCrossEntropy' });
        const x = clean();
        x[at] = bad;
        if (at + 5 < x.length) x[at + 5] = NaN; // a later one must not be the one reported
        const y = Int32Array.from({ length: ROWS }, (_, i) => i % 4);
        const before = m.getWeights().map((w) => Array.from(w.data));
        const want = new RegExp(`x contains ${String(bad).replace('+', '\\+')} at row ${Math.floor(at / D)}, feature ${at % D}\\.`);
        await expect(m.fit(x, y, { epochs: 1, batchSize: 100 })).rejects.toThrow(want);
        expect(() => m.predict(x)).toThrow(NonFiniteError);
        expect(() => m.predict(x)).toThrow(want);
        expect(() => m.evaluate(x, y)).toThrow(want);
        expect(m.getWeights().map((w) => Array.from(w.data))).toEqual(before);
        m.dispose();
      });
    }
  }

  it('a Float64Array value beyond the float32 range (1e39) is reported with its value', async () => {
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [D], layers: [dense(1)], seed: 1, runtime: rt });
    const x = Float64Array.from(clean());
    x[CHUNK + 3] = 1e39;
    expect(() => m.predict(x)).toThrow(new RegExp(`x contains 1e\\+39 at row ${Math.floor((CHUNK + 3) / D)}, feature ${(CHUNK + 3) % D}\\.`));
    m.dispose();
  });

  it('regression targets y of 16,384+ floats: the first bad target is named', async () => {
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [D], layers: [dense(16)], seed: 1, runtime: rt });
    m.compile({ optimizer: adam(), loss: 'mse' });
    const x = clean().subarray(0, 1100 * D);
    const y = new Float32Array(1100 * 16);
    y[CHUNK + 1] = NaN;
    await expect(m.fit(x, { data: y, shape: [1100, 16] }, { epochs: 1 })).rejects.toThrow(new RegExp(`y contains NaN at row ${Math.floor((CHUNK + 1) / 16)}, output ${(CHUNK + 1) % 16}\\.`));
    m.dispose();
  });
});

describe('the finiteness scan on a guarded runtime', () => {
  it('clean data passes, and the scan frees its chunk and writes nothing outside it (guard bands checked on free and after)', async () => {
    const rt = await guardedRuntime();
    const m = new Sequential({ inputShape: [D], layers: [dense(4)], seed: 1, runtime: rt });
    m.compile({ optimizer: adam({ lr: 1e-2 }), loss: 'softmaxCrossEntropy' });
    const x = clean();
    m.predict(x); // the inference plan is allocated on the first call
    const inUse = rt.memoryStats().inUseBytes;
    const out = m.predict(x);
    expect(out.data.every(Number.isFinite)).toBe(true);
    expect(rt.memoryStats().inUseBytes).toBe(inUse);
    await m.fit(x, Int32Array.from({ length: ROWS }, (_, i) => i % 4), { epochs: 1, batchSize: 500 });
    expect(rt.arena.checkGuards()).toEqual([]);
    m.dispose();
  });
});
