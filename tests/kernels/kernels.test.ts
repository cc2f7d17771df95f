// Every kernel on both builds against float64 references, with NaN guard bands around outputs.
import { describe, expect, it } from 'vitest';
import { BUILDS, gemmCall, get, put, runtimeFor } from '../helpers.js';
import { ACT_CODE } from '../../ts/runtime/abi.js';
import { matmul64, testData } from '../reference/f64.js';

const SIZES = [1, 3, 5, 17, 64];

describe.each(BUILDS)('kernels (%s build)', (build) => {
  it('reports the build it is', async () => {
    const rt = await runtimeFor(build);
    expect(rt.simd).toBe(build === 'simd');
  });

  for (const variant of ['A·B', 'Aᵀ·B', 'A·Bᵀ'] as const) {
    it(`gemm ${variant} matches f64 at odd sizes, with bias+ReLU epilogue, guard bands intact`, async () => {
      const rt = await runtimeFor(build);
      const shapes: [number, number, number][] = [];
      for (const m of SIZES) for (const n of SIZES) for (const k of SIZES) shapes.push([m, n, k]);
      shapes.push([1023, 3, 5], [3, 1023, 5], [5, 3, 1023], [128, 10, 300], [33, 257, 31]);
      let seed = 11;
      for (const [m, n, k] of shapes) {
        const ta = variant === 'Aᵀ·B';
        const tb = variant === 'A·Bᵀ';
        const av = testData(m * k, seed++);
        const bv = testData(k * n, seed++);
        const bias = testData(n, seed++);
        const G = 8;
        const A = put(rt, av);
        const B = put(rt, bv);
        const Bi = put(rt, bias);
        for (const [beta, act] of [[0, 0], [1, 1]] as const) {
          const c0 = beta === 0 ? new Float32Array(m * n).fill(NaN) : testData(m * n, seed++);
          const C = put(rt, c0, G);
          const st = gemmCall(rt, 'gemm', {
            m, n, k,
            A: A.ptr, rsa: ta ? 1 : k, csa: ta ? m : 1,
            B: B.ptr, rsb: tb ? 1 : n, csb: tb ? k : 1,
            C: C.ptr, rsc: n, beta, bias: Bi.ptr, act,
          });
          expect(st).toBe(0);
          const out = get(rt, C.base, m * n + 2 * G);
          // A stored as [m,k] (or [k,m] when transposed), B as [k,n] (or [n,k])
          const ref = matmul64(m, n, k, (i, p) => av[ta ? p * m + i : i * k + p]!, (p, j) => bv[tb ? j * k + p : p * n + j]!);
          for (let i = 0; i < G; i++) {
            expect(Number.isNaN(out[i]!)).toBe(true);
            expect(Number.isNaN(out[G + m * n + i]!)).toBe(true);
          }
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let want = ref[i * n + j]! + bias[j]! + (beta === 0 ? 0 : beta * c0[i * n + j]!);
              if (act === 1) want = Math.max(0, want);
              const got = out[G + i * n + j]!;
              // f32 accumulation over k terms of magnitude ≤ 1: error ≤ k·2^-24 (+ rounding of inputs)
              expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * (k + 4));
            }
          rt.arena.free(C.base);
        }
        rt.arena.free(A.base);
        rt.arena.free(B.base);
        rt.arena.free(Bi.base);
      }
    });
  }

  it('gemm is exact on integer data (all transposes): every product and partial sum is an integer below 2^24', async () => {
    const rt = await runtimeFor(build);
    for (const [m, n, k] of [[7, 9, 300], [64, 17, 257], [5, 1030, 3]] as const) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const av = testData(m * k, m + k).map((v) => Math.round(v * 4));
        const bv = testData(k * n, n + k).map((v) => Math.round(v * 4));
        const A = put(rt, av);
        const B = put(rt, bv);
        const C1 = put(rt, new Float32Array(m * n));
        // A and B as the kernel reads them: [m,k] / [k,n], or transposed in memory
        const args = { m, n, k, A: A.ptr, rsa: ta ? 1 : k, csa: ta ? m : 1, B: B.ptr, rsb: tb ? 1 : n, csb: tb ? k : 1, rsc: n, beta: 0, bias: 0 as const, act: 0 };
        gemmCall(rt, 'gemm', { ...args, C: C1.ptr });
        const ref = matmul64(m, n, k, (i, p) => av[ta ? p * m + i : i * k + p]!, (p, j) => bv[tb ? j * k + p : p * n + j]!);
        for (const v of ref) expect(Number.isInteger(v) && Math.abs(v) < 2 ** 24).toBe(true);
        expect(get(rt, C1.ptr, m * n)).toEqual(Float32Array.from(ref));
        for (const b of [A, B, C1]) rt.arena.free(b.base);
      }
    }
  });

  it('gemm rejects an unknown activation code with status 2', async () => {
    const rt = await runtimeFor(build);
    const A = put(rt, [1]);
    expect(gemmCall(rt, 'gemm', { m: 1, n: 1, k: 1, A: A.ptr, rsa: 1, csa: 1, B: A.ptr, rsb: 1, csb: 1, C: A.ptr, rsc: 1, beta: 0, bias: 0, act: 99 })).toBe(2);
    rt.arena.free(A.base);
  });

  it('relu forward/backward over odd lengths', async () => {
    const rt = await runtimeFor(build);
    for (const n of [1, 3, 5, 17, 1023]) {
      const xv = testData(n, n);
      const X = put(rt, xv, 4);
      expect(rt.kernels.actForward(ACT_CODE.relu, X.ptr, n, 0)).toBe(0);
      const y = get(rt, X.ptr, n);
      xv.forEach((v, i) => expect(y[i]).toBe(Math.max(0, v)));
      const D = put(rt, new Float32Array(n).fill(2), 4);
      expect(rt.kernels.actBackward(ACT_CODE.relu, X.ptr, D.ptr, n, 0)).toBe(0);
      const d = get(rt, D.base, n + 8);
      for (let i = 0; i < 4; i++) expect(Number.isNaN(d[i]!) && Number.isNaN(d[n + 4 + i]!)).toBe(true);
      xv.forEach((v, i) => expect(d[i + 4]).toBe(v > 0 ? 2 : 0));
      rt.arena.free(X.base);
      rt.arena.free(D.base);
    }
  });

  it('softmax cross-entropy: loss vs f64, gradient vs central differences of the f64 loss', async () => {
    const rt = await runtimeFor(build);
    for (const [rows, cols] of [[1, 1], [3, 5], [17, 10], [5, 17]] as const) {
      const z = testData(rows * cols, rows * 31 + cols, 3);
      const y = Int32Array.from({ length: rows }, (_, r) => (r * 7) % cols);
      const Z = put(rt, z);
      const Y = rt.arena.alloc(rows * 4);
      rt.arena.i32.set(y, Y >> 2);
      const Gr = put(rt, new Float32Array(rows * cols), 4);
      const Cn = rt.arena.alloc(4);
      const total = rt.kernels.softmaxCe(Z.ptr, Y, rows, cols, 0, 0, Gr.ptr, 1 / rows, Cn);
      const loss64 = (zz: ArrayLike<number>) => {
        let t = 0;
        for (let r = 0; r < rows; r++) {
          let m = -Infinity;
          for (let j = 0; j < cols; j++) m = Math.max(m, zz[r * cols + j]!);
          let s = 0;
          for (let j = 0; j < cols; j++) s += Math.exp(zz[r * cols + j]! - m);
          t += Math.log(s) + m - zz[r * cols + y[r]!]!;
        }
        return t / rows;
      };
      const z64 = Float64Array.from(z);
      expect(Math.abs(total / rows - loss64(z64))).toBeLessThan(1e-6 * Math.max(1, loss64(z64)));
      const g = get(rt, Gr.base, rows * cols + 8);
      expect(Number.isNaN(g[0]!) && Number.isNaN(g[rows * cols + 7]!)).toBe(true);
      const h = 1e-6;
      for (let i = 0; i < rows * cols; i++) {
        const zp = Float64Array.from(z64);
        const zm = Float64Array.from(z64);
        zp[i]! += h;
        zm[i]! -= h;
        const fd = (loss64(zp) - loss64(zm)) / (2 * h);
        expect(Math.abs(g[4 + i]! - fd)).toBeLessThan(2e-6);
      }
      // argmax count
      let correct = 0;
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let j = 1; j < cols; j++) if (z[r * cols + j]! > z[r * cols + best]!) best = j;
        if (best === y[r]) correct++;
      }
      expect(rt.arena.view.getUint32(Cn, true)).toBe(correct);
      for (const p of [Z.base, Y, Gr.base, Cn]) rt.arena.free(p);
    }
  });

  it('colsum and count_nonfinite', async () => {
    const rt = await runtimeFor(build);
    const rows = 17;
    const cols = 5;
    const x = testData(rows * cols, 3);
    const X = put(rt, x);
    const O = put(rt, new Float32Array(cols), 2);
    rt.kernels.colsum(X.ptr, rows, cols, O.ptr);
    const o = get(rt, O.ptr, cols);
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += x[r * cols + j]!;
      expect(Math.abs(o[j]! - s)).toBeLessThan(1e-5);
    }
    const bad = put(rt, [1, NaN, Infinity, -Infinity, 0, 3]);
    expect(rt.kernels.countNonfinite(bad.ptr, 6)).toBe(3);
    for (const b of [X, O, bad]) rt.arena.free(b.base);
  });
});
