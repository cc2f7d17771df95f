// The BLAS-1 vector kernels behind L-BFGS and CG (crates/kernels/src/vec.rs) on both builds,
// against float64 references written here, at odd sizes, with NaN guard bands around outputs.
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../ts/runtime/index.js';
import { BUILDS, get, put, runtimeFor } from '../helpers.js';
import { testData } from '../reference/f64.js';

const SIZES = [1, 3, 5, 17, 64, 1023];
const G = 4;
const f32 = Math.fround;

function guards(rt: Runtime, b: ReturnType<typeof put>): void {
  const all = get(rt, b.base, b.n + 2 * b.guard);
  for (let i = 0; i < b.guard; i++) {
    expect(Number.isNaN(all[i]!)).toBe(true);
    expect(Number.isNaN(all[b.guard + b.n + i]!)).toBe(true);
  }
}

describe.each(BUILDS)('vec kernels (%s)', (build) => {
  it.each(SIZES)('reductions: dot, nrm2, asum, amax at n = %i (f64 accumulation)', async (n) => {
    const rt = await runtimeFor(build);
    const x = testData(n, 11, 3);
    const y = testData(n, 12, 2);
    const px = put(rt, x, G);
    const py = put(rt, y, G);
    let dot = 0;
    let ss = 0;
    let sa = 0;
    let am = 0;
    for (let i = 0; i < n; i++) {
      dot += x[i]! * y[i]!;
      ss += x[i]! * x[i]!;
      sa += Math.abs(x[i]!);
      am = Math.max(am, Math.abs(x[i]!));
    }
    // every f32 product is exact in f64: only the summation order differs
    expect(Math.abs(rt.kernels.vecDot(px.ptr, py.ptr, n) - dot)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(dot)));
    expect(Math.abs(rt.kernels.vecNrm2(px.ptr, n) - Math.sqrt(ss))).toBeLessThanOrEqual(1e-12 * (1 + Math.sqrt(ss)));
    expect(Math.abs(rt.kernels.vecAsum(px.ptr, n) - sa)).toBeLessThanOrEqual(1e-12 * (1 + sa));
    expect(rt.kernels.vecAmax(px.ptr, n)).toBe(am);
    // the guard NaNs were never read into a result
    guards(rt, px);
    guards(rt, py);
    // amax propagates NaN (PyTorch's abs().max()), wherever it sits
    const withNan = Float32Array.from(x);
    withNan[n - 1] = NaN;
    const pn = put(rt, withNan, G);
    expect(Number.isNaN(rt.kernels.vecAmax(pn.ptr, n))).toBe(true);
    for (const b of [px, py, pn]) rt.arena.free(b.base);
  });

  it.each(SIZES)('updates: axpy, scal, copy, lincomb (also in place), add_sign at n = %i', async (n) => {
    const rt = await runtimeFor(build);
    const x = testData(n, 21, 2);
    const y = testData(n, 22, 1.5);
    x[0] = 0; // sign(0) = 0
    const a = f32(-0.375);
    const b = f32(1.25);
    const px = put(rt, x, G);
    const blocks = [px];
    const fresh = (d: Float32Array) => {
      const p = put(rt, d, G);
      blocks.push(p);
      return p;
    };
    const pyA = fresh(y);
    rt.kernels.vecAxpy(a, px.ptr, pyA.ptr, n);
    const pyS = fresh(y);
    rt.kernels.vecScal(b, pyS.ptr, n);
    const pc = fresh(new Float32Array(n));
    rt.kernels.vecCopy(px.ptr, pc.ptr, n);
    const po = fresh(new Float32Array(n).fill(7));
    const py = fresh(y);
    rt.kernels.vecLincomb(a, px.ptr, b, py.ptr, po.ptr, n);
    const pin = fresh(y);
    rt.kernels.vecLincomb(a, px.ptr, b, pin.ptr, pin.ptr, n); // out = y
    const pin2 = fresh(x);
    rt.kernels.vecLincomb(a, pin2.ptr, b, py.ptr, pin2.ptr, n); // out = x
    const ps = fresh(y);
    rt.kernels.vecAddSign(b, px.ptr, ps.ptr, n);
    const axpy = get(rt, pyA.ptr, n);
    const scal = get(rt, pyS.ptr, n);
    const copy = get(rt, pc.ptr, n);
    const lin = get(rt, po.ptr, n);
    const linY = get(rt, pin.ptr, n);
    const linX = get(rt, pin2.ptr, n);
    const sgn = get(rt, ps.ptr, n);
    for (let i = 0; i < n; i++) {
      // f32 reference: each operation rounded once, no FMA (SIMD128 has none)
      expect(axpy[i]).toBe(f32(f32(a * x[i]!) + y[i]!));
      expect(scal[i]).toBe(f32(b * y[i]!));
      expect(copy[i]).toBe(x[i]);
      const l = f32(f32(a * x[i]!) + f32(b * y[i]!));
      expect(lin[i]).toBe(l);
      expect(linY[i]).toBe(l);
      expect(linX[i]).toBe(l);
      // and within 1 ulp-ish of the exact f64 value
      expect(Math.abs(lin[i]! - (a * x[i]! + b * y[i]!))).toBeLessThanOrEqual(2e-7 * (Math.abs(a * x[i]!) + Math.abs(b * y[i]!)));
      expect(sgn[i]).toBe(f32(y[i]! + b * Math.sign(x[i]!)));
    }
    // inputs untouched, nothing written outside [0, n)
    expect(get(rt, px.ptr, n)).toEqual(x);
    for (const p of blocks) guards(rt, p);
    for (const p of blocks) rt.arena.free(p.base);
  });
});
