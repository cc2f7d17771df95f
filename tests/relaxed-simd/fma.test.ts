// The FMA build (relaxed-SIMD f32x4.relaxed_madd in the GEMM micro-kernel), run in a Node started
// with --experimental-wasm-relaxed-simd (vitest.config.ts, project 'relaxed-simd'). It is not
// bit-identical to the other builds, so it is checked against float64 references with tolerances;
// one test proves that the fused instruction ran (a product whose single rounding differs from
// mul-then-add), where the engine fuses it: V8 on x86-64 with FMA3.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Sequential, dense, sgd } from '../../ts/index.js';
import { OptionError } from '../../ts/errors/index.js';
import { fmaSupported, getRuntime, init, type Runtime } from '../../ts/runtime/index.js';
import { gemmCall, get, put } from '../helpers.js';
import { matmul64, testData } from '../reference/f64.js';

/** V8 emits vfmadd231ps for relaxed_madd where the CPU has FMA3 (x86-64); elsewhere it may not fuse. */
const hostFuses = process.arch === 'x64' && /\bfma\b/.test((() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
})());

describe('loader with relaxed SIMD', () => {
  it('init() loads the FMA build on one thread; reproducible, fma: false and simd keep the bit-identical builds', async () => {
    expect(fmaSupported()).toBe(true);
    const auto = await init({ threads: 1 });
    expect([auto.build, auto.fma, auto.simd]).toEqual(['fma', true, true]);
    // on several cores the default is the threaded SIMD128 build (threads take precedence)
    const multi = await init();
    expect(multi.build).toBe(multi.threads > 1 ? 'simd' : 'fma');
    expect((await init({ reproducible: true })).build).toBe('simd');
    expect((await init({ fma: false })).build).toBe('simd');
    expect((await init({ simd: true })).build).toBe('simd');
    expect((await init({ simd: false })).build).toBe('scalar');
    const f = await init({ fma: true });
    expect([f.build, f.threads]).toEqual(['fma', 1]);
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
      [{ fma: true, threads: 2 }, /threads = 2 and fma: true conflict; the threaded build is SIMD128 without FMA/],
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
