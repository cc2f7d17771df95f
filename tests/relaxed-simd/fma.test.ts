// The FMA build (relaxed-SIMD f32x4.relaxed_madd in the GEMM micro-kernel), run in a Node started
// with --experimental-wasm-relaxed-simd (vitest.config.ts, project 'relaxed-simd'). It is not
// bit-identical to the other builds, so it is checked against float64 references with tolerances;
// one test proves that the fused instruction ran (a product whose single rounding differs from
// mul-then-add), where the engine fuses it: V8 on x86-64 with FMA3.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Rng, Sequential, adam, batchNorm, conv2d, dense, flatten, maxPool2d, sgd } from '../../ts/index.js';
import { OptionError } from '../../ts/errors/index.js';
import { fmaSupported, getRuntime, init, type Runtime } from '../../ts/runtime/index.js';
import { createRuntime } from '../../ts/runtime/loader.js';
// @ts-expect-error plain ESM script without types
import { applyPatch as applyPatchJs } from '../../scripts/fuse-madd.mjs';
import { gemmCall, get, put } from '../helpers.js';
import { matmul64, testData } from '../reference/f64.js';

const applyPatch = applyPatchJs as (bytes: Uint8Array, patch: Uint8Array) => Uint8Array;

/** V8 emits vfmadd231ps for relaxed_madd where the CPU has FMA3 (x86-64); elsewhere it may not fuse. */
const hostFuses = process.arch === 'x64' && /\bfma\b/.test((() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
})());

describe('loader with relaxed SIMD', () => {
  it('init() loads the FMA build on every thread count; reproducible, fma: false and simd keep the bit-identical builds', async () => {
    expect(fmaSupported()).toBe(true);
    const auto = await init({ threads: 1 });
    expect([auto.build, auto.fma, auto.simd]).toEqual(['fma', true, true]);
    // on several cores the default is the threaded FMA build: the thread count does not change the build
    const multi = await init();
    expect([multi.build, multi.threads]).toEqual(['fma', Math.min(8, availableParallelism())]);
    expect((await init({ threads: 2 })).build).toBe('fma');
    expect((await init({ reproducible: true })).build).toBe('simd');
    expect((await init({ reproducible: true, threads: 2 })).build).toBe('simd');
    expect((await init({ fma: false })).build).toBe('simd');
    expect((await init({ simd: true })).build).toBe('simd');
    expect((await init({ simd: false })).build).toBe('scalar');
    const f = await init({ fma: true });
    expect([f.build, f.threads]).toEqual(['fma', multi.threads]);
    expect([(await init({ fma: true, threads: 3 })).build, (await init({ fma: true, threads: 3 })).threads]).toEqual(['fma', 3]);
    expect((await init({ wasm: readFileSync('build/wasmfit-fma.wasm') })).build).toBe('fma');
  });

  it('rejects contradicting options with an OptionError and keeps the current runtime', async () => {
    const before = await init({ reproducible: true });
    const bad: [object, RegExp][] = [
      [{ fma: true, simd: false }, /fma: true and simd: false contradict/],
      [{ fma: true, reproducible: true }, /fma: true and reproducible: true contradict/],
      [{ fma: 'yes' }, /option fma = yes; expected true, false or undefined/],
      [{ reproducible: 1 }, /option reproducible = 1/],
      [{ fma: true, wasm: readFileSync('build/wasmfit-simd.wasm') }, /fma and wasm exclude each other/],
      [{ fma: true, threads: 0 }, /option threads = 0; expected an integer in \[1, 64\]/],
      [{ reproducible: true, wasm: readFileSync('build/wasmfit-fma.wasm') }, /is the FMA build/],
    ];
    for (const [o, msg] of bad) {
      const e = await init(o as never).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(OptionError);
      expect((e as Error).message).toMatch(msg);
      expect(getRuntime()).toBe(before);
    }
  });
});

/** C = A·B of the given shape and transposes on `rt`, with NaN guard bands around every buffer. */
function gemmGuarded(rt: Runtime, m: number, n: number, k: number, ta: boolean, tb: boolean, av: Float32Array, bv: Float32Array, bias: Float32Array, beta: number, c0: Float32Array, act: number): Float32Array {
  const G = 8;
  const A = put(rt, av, G);
  const B = put(rt, bv, G);
  const Bi = put(rt, bias, G);
  const C = put(rt, c0, G);
  const st = gemmCall(rt, 'gemm', { m, n, k, A: A.ptr, rsa: ta ? 1 : k, csa: ta ? m : 1, B: B.ptr, rsb: tb ? 1 : n, csb: tb ? k : 1, C: C.ptr, rsc: n, beta, bias: Bi.ptr, act });
  expect(st).toBe(0);
  for (const [blk, data] of [[A, av], [B, bv], [Bi, bias]] as const) {
    const all = get(rt, blk.base, data.length + 2 * G);
    let changed = 0;
    for (let i = 0; i < all.length; i++) if (!Object.is(all[i], i < G || i >= G + data.length ? NaN : data[i - G])) changed++;
    expect(changed).toBe(0); // inputs and their guard bands untouched
  }
  const out = get(rt, C.base, m * n + 2 * G);
  let written = 0;
  for (let i = 0; i < G; i++) if (!Number.isNaN(out[i]!) || !Number.isNaN(out[G + m * n + i]!)) written++;
  expect(written).toBe(0);
  for (const b of [A, B, Bi, C]) rt.arena.free(b.base);
  return out.slice(G, G + m * n);
}

describe('FMA build kernels against float64', () => {
  const SIZES = [1, 3, 5, 17];
  for (const variant of ['A·B', 'Aᵀ·B', 'A·Bᵀ'] as const) {
    it(`gemm ${variant} at odd sizes and W1 shapes, bias+ReLU epilogue, guard bands intact`, async () => {
      const rt = await init({ fma: true });
      expect(rt.build).toBe('fma');
      const ta = variant === 'Aᵀ·B';
      const tb = variant === 'A·Bᵀ';
      const shapes: [number, number, number][] = [];
      for (const m of SIZES) for (const n of SIZES) for (const k of SIZES) shapes.push([m, n, k]);
      // 784-256-128-10 at batch 128: X·W, Xᵀ·dZ and dZ·Wᵀ of the first layer, and a 300-deep product
      shapes.push([128, 256, 784], [784, 256, 128], [128, 784, 256], [128, 10, 300], [33, 257, 31]);
      let seed = 101;
      for (const [m, n, k] of shapes) {
        const av = testData(m * k, seed++);
        const bv = testData(k * n, seed++);
        const bias = testData(n, seed++);
        const ref = matmul64(m, n, k, (i, p) => av[ta ? p * m + i : i * k + p]!, (p, j) => bv[tb ? j * k + p : p * n + j]!);
        for (const [beta, act] of [[0, 0], [1, 1]] as const) {
          const c0 = beta === 0 ? new Float32Array(m * n).fill(NaN) : testData(m * n, seed++);
          const got = gemmGuarded(rt, m, n, k, ta, tb, av, bv, bias, beta, c0, act);
          let worst = 0;
          for (let i = 0; i < m * n; i++) {
            let want = ref[i]! + bias[i % n]! + (beta === 0 ? 0 : c0[i]!);
            if (act === 1) want = Math.max(0, want);
            const err = Math.abs(got[i]! - want);
            worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
          }
          // f32 accumulation of k products of magnitude ≤ 1, each rounded once (FMA) or twice:
          // |error| ≤ (k + 4)·2^-24·max|partial sum| ≤ 1e-6·(k + 4) for these data
          expect(worst, `${m}×${n}×${k} beta=${beta}`).toBeLessThanOrEqual(1e-6 * (k + 4));
        }
      }
    });
  }

  it.skipIf(!hostFuses)('computes a·b + c with one rounding where mul-then-add rounds twice (the fused instruction ran)', async () => {
    // C = a0·b0 + a1·b1 with a0·b0 = -1 and a1·b1 = 1 + 2^-11 + 2^-24, which float32 cannot hold:
    // mul then add rounds it to 1 + 2^-11 (ties to even) and gives 2^-11; one fused rounding keeps
    // the exact sum 2^-11 + 2^-24, which is also the float64 value.
    const e = 1 + 2 ** -12;
    const av = Float32Array.of(1, e);
    const bv = Float32Array.of(-1, e);
    const exact = matmul64(1, 1, 2, (_, p) => av[p]!, (p) => bv[p]!)[0]!;
    expect(exact).toBe(2 ** -11 + 2 ** -24);
    const run = async (o: object): Promise<number> => gemmGuarded(await init(o), 1, 1, 2, false, false, av, bv, Float32Array.of(0), 0, Float32Array.of(NaN), 0)[0]!;
    expect(await run({ fma: true })).toBe(exact);
    expect(await run({ reproducible: true })).toBe(2 ** -11);
    expect(await run({ simd: false })).toBe(2 ** -11);
  });
});

describe('training on the FMA build', () => {
  /** Float64 SGD on a dense ReLU stack with mean softmax cross-entropy, from the definitions. */
  function train64(ws: Float64Array[], dims: number[], x: Float32Array, y: Int32Array, n: number, lr: number, steps: number): void {
    const L = dims.length - 1;
    for (let s = 0; s < steps; s++) {
      const hs: Float64Array[] = [Float64Array.from(x)];
      for (let l = 0; l < L; l++) {
        const [ni, no] = [dims[l]!, dims[l + 1]!];
        const W = ws[2 * l]!;
        const b = ws[2 * l + 1]!;
        const h = hs[l]!;
        const z = new Float64Array(n * no);
        for (let r = 0; r < n; r++)
          for (let o = 0; o < no; o++) {
            let t = b[o]!;
            for (let i = 0; i < ni; i++) t += h[r * ni + i]! * W[i * no + o]!;
            z[r * no + o] = l < L - 1 ? Math.max(0, t) : t;
          }
        hs.push(z);
      }
      // dZ of the last layer: (softmax − one-hot) / n
      const K = dims[L]!;
      let dz = new Float64Array(n * K);
      const out = hs[L]!;
      for (let r = 0; r < n; r++) {
        let m = -Infinity;
        for (let j = 0; j < K; j++) m = Math.max(m, out[r * K + j]!);
        let sum = 0;
        for (let j = 0; j < K; j++) sum += Math.exp(out[r * K + j]! - m);
        for (let j = 0; j < K; j++) dz[r * K + j] = (Math.exp(out[r * K + j]! - m) / sum - (j === y[r] ? 1 : 0)) / n;
      }
      for (let l = L - 1; l >= 0; l--) {
        const [ni, no] = [dims[l]!, dims[l + 1]!];
        const W = ws[2 * l]!;
        const b = ws[2 * l + 1]!;
        const h = hs[l]!;
        const dh = new Float64Array(n * ni);
        for (let r = 0; r < n; r++)
          for (let i = 0; i < ni; i++) {
            let t = 0;
            for (let o = 0; o < no; o++) t += dz[r * no + o]! * W[i * no + o]!;
            dh[r * ni + i] = h[r * ni + i]! > 0 ? t : 0; // ReLU': h = relu(z) > 0 ⇔ z > 0
          }
        for (let i = 0; i < ni; i++)
          for (let o = 0; o < no; o++) {
            let g = 0;
            for (let r = 0; r < n; r++) g += h[r * ni + i]! * dz[r * no + o]!;
            W[i * no + o]! -= lr * g;
          }
        for (let o = 0; o < no; o++) {
          let g = 0;
          for (let r = 0; r < n; r++) g += dz[r * no + o]!;
          b[o]! -= lr * g;
        }
        dz = dh;
      }
    }
  }

  it.each([
    ['simd', { reproducible: true }],
    ['fma', { fma: true }],
  ] as const)('SGD steps of a 96-64-32-10 network on the %s build stay within float32 error of float64 SGD', async (build, opts) => {
    const rt = await init(opts);
    expect(rt.build).toBe(build);
    const dims = [96, 64, 32, 10];
    const n = 48;
    const x = testData(n * dims[0]!, 7);
    const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
    const model = new Sequential({ inputShape: [dims[0]!], layers: [dense(dims[1]!, { activation: 'relu' }), dense(dims[2]!, { activation: 'relu' }), dense(dims[3]!)], seed: 4, runtime: rt });
    model.compile({ optimizer: sgd({ lr: 0.2 }), loss: 'softmaxCrossEntropy' });
    const w0 = model.getWeights().map((t) => Float64Array.from(t.data));
    const steps = 8;
    await model.fit(x, y, { epochs: steps, batchSize: n, shuffle: false });
    const got = model.getWeights().map((t) => t.data);
    model.dispose();
    train64(w0, dims, x, y, n, 0.2, steps);
    let worst = 0;
    let moved = 0;
    got.forEach((g, t) =>
      g.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - w0[t]![i]!));
        moved++;
      }),
    );
    expect(moved).toBe(96 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10);
    // weights of magnitude ≲ 0.3 (ulp ≈ 3e-8) after 8 steps: float32 rounding moves them by ~1e-7
    expect(worst).toBeLessThan(5e-7);
  });

  it.skipIf(!hostFuses)('trains to weights that differ from the SIMD128 build in the last bits only', async () => {
    const run = async (o: object): Promise<Float32Array[]> => {
      const rt = await init(o);
      const m = new Sequential({ inputShape: [40], layers: [dense(24, { activation: 'relu' }), dense(5)], seed: 9, runtime: rt });
      m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
      await m.fit(testData(64 * 40, 3), Int32Array.from({ length: 64 }, (_, i) => i % 5), { epochs: 3, batchSize: 16, seed: 2 });
      const w = m.getWeights().map((t) => t.data);
      m.dispose();
      return w;
    };
    const fma = await run({ fma: true });
    const simd = await run({ reproducible: true });
    let differ = 0;
    fma.forEach((w, t) =>
      w.forEach((v, i) => {
        const s = simd[t]![i]!;
        if (v !== s) differ++;
        expect(Math.abs(v - s)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(s)));
      }),
    );
    expect(differ).toBeGreaterThan(0);
  });
});

// The threaded FMA build is the threaded SIMD128 module with the same 8 accumulator updates fused:
// every output element is computed by the same instructions in the same order on any thread, so the
// FMA build, like the SIMD128 one, gives the same bits for every thread count. Before it existed,
// init() on an FMA host gave FMA bits on one thread and SIMD128 bits on several, and fitInWorker's
// one-thread worker trained to other bits than init()'s default in-process runtime.
describe('the threaded FMA build', () => {
  const bitsOf = (m: Sequential): string[] => m.getWeights().map((w) => Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)).join(','));

  /** A dense net whose products split on 2–3 threads (≥ 2^19 multiply-adds per thread) and a small CNN. */
  async function train(rt: Runtime, cnn: boolean): Promise<{ bits: string[]; loss: number[] }> {
    const r = new Rng(7);
    const d = cnn ? 12 * 12 * 3 : 300;
    const rows = 96 * 3 + 5;
    const x = Float32Array.from({ length: rows * d }, () => r.normal());
    const y = Int32Array.from({ length: rows }, (_, i) => (x[i * d]! > 0 ? 1 : 0) + (i % 3));
    const layers = cnn
      ? [conv2d(32, { kernelSize: 3, padding: 'same', activation: 'relu' }), batchNorm(), maxPool2d(), conv2d(16, { kernelSize: 3 }), flatten(), dense(4)]
      : [dense(256, { activation: 'relu' }), batchNorm(), dense(300, { activation: 'relu' }), dense(4)];
    const m = new Sequential({ inputShape: cnn ? [12, 12, 3] : [d], layers, runtime: rt, seed: 11 });
    m.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
    const h = await m.fit(x, y, { epochs: 2, batchSize: 96, seed: 5 });
    const out = { bits: bitsOf(m), loss: h.history.loss as number[] };
    m.dispose();
    return out;
  }

  it('is the threaded SIMD128 module with 8 mul+add pairs fused; the embedded patch reproduces it', async () => {
    const simd = readFileSync('build/wasmfit-simd-threads.wasm');
    const fma = readFileSync('build/wasmfit-fma-threads.wasm');
    expect(fma.length).toBe(simd.length);
    const { THREADS_WASM_GZIP_BASE64, THREADS_FMA_PATCH_BASE64 } = await import('../../ts/runtime/wasm-threads.generated.js');
    const patch = Buffer.from(THREADS_FMA_PATCH_BASE64, 'base64');
    expect(patch.length).toBeGreaterThan(0);
    expect(patch.length).toBeLessThan(1024);
    const patched = applyPatch(gunzipSync(Buffer.from(THREADS_WASM_GZIP_BASE64, 'base64')), patch);
    expect(Buffer.compare(Buffer.from(patched), fma)).toBe(0);
    // the FMA mark (ts/runtime/kernels.ts reads it): simd_enabled() is 2 in the fused module, 1 in the other
    const mark = (bytes: Buffer): number => {
      const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
      const env = { memory, wasmfit_threads: () => 1, wasmfit_parallel: () => undefined };
      return (new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(bytes)), { env }).exports.simd_enabled as () => number)();
    };
    expect([mark(simd), mark(fma)]).toEqual([1, 2]);
  });

  for (const cnn of [false, true]) {
    it(`${cnn ? 'a CNN with batch norm' : 'a dense net with batch norm'}: 1, 2 and 3 threads and the threaded build's serial path give the 1-thread FMA bits, not the SIMD128 ones; guard bands intact`, async () => {
      const ref = await train(await createRuntime({ threads: 1 }), cnn);
      const simd = await train(await createRuntime({ threads: 1, reproducible: true }), cnn);
      expect(simd.bits).not.toEqual(ref.bits); // FMA rounds differently: the comparison below can fail
      for (const opts of [{ threadedBuild: true }, { threads: 2 }, { threads: 3 }]) {
        const rt = await createRuntime({ ...opts, guardBands: true });
        expect([rt.build, rt.threads]).toEqual(['fma', opts.threads ?? 1]);
        rt.pool!.backOff = false; // every region split, even on a busy host
        const got = await train(rt, cnn);
        expect(rt.pool!.regions > 0).toBe((opts.threads ?? 1) > 1);
        expect(rt.arena.checkGuards()).toBeGreaterThan(0);
        rt.dispose();
        expect(got.bits, JSON.stringify(opts)).toEqual(ref.bits);
        expect(got.loss).toEqual(ref.loss);
      }
    }, 120_000);
  }

  it("fitInWorker's default build trains to the bits of init()'s default on every core (the built bundle)", async () => {
    const wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as typeof import('../../ts/index.js');
    const W = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as typeof import('../../ts/worker/index.js');
    const rt = await wf.init();
    expect(rt.build).toBe('fma');
    const r = new wf.Rng(3);
    const x = Float32Array.from({ length: 256 * 300 }, () => r.normal());
    const y = Int32Array.from({ length: 256 }, (_, i) => i % 4);
    const spec = { inputShape: [300] as [number], layers: [wf.dense(256, { activation: 'relu' }), wf.dense(4)], seed: 2, optimizer: wf.adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' as const };
    const fit = { epochs: 2, batchSize: 128, seed: 4 };
    const job = await W.fitInWorker(spec, x, y, fit).result;
    expect(job.build).toBe('fma');
    const m = new wf.Sequential({ inputShape: spec.inputShape, layers: spec.layers, seed: spec.seed });
    m.compile({ optimizer: spec.optimizer, loss: spec.loss });
    const h = await m.fit(x, y, fit);
    expect(job.history).toEqual(h);
    expect(job.weights.map((w) => Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)))).toEqual(m.getWeights().map((w) => Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length))));
    m.dispose();
  }, 60_000);
});
