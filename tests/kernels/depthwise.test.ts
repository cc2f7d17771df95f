// Depthwise convolution kernel (crates/kernels/src/depthwise.rs) on both builds:
// - against PyTorch 1.13's conv2d(groups = c) (tests/fixtures/torch-depthwise.json, from
//   scripts/fixtures/torch_depthwise.py): forward outputs and autograd gradients dx, dw, db for
//   kernels 1, 3 and 5, strides 1 and 2, dilation 2, 'valid' and 'same' (asymmetric) padding,
//   batches 1, 2, 3 and 7, non-square images, depth multipliers 1, 2 and 3, channel counts that are
//   not multiples of 4 (3, 5, 7, 9, 17) and one that is (36);
// - gradients against central finite differences of a float64 reference of the definition
//   (L = Σ y·dy over the same tensors);
// - every fused activation against the f64 reference;
// with NaN guard bands around every buffer and NaN-filled outputs beforehand (a kernel must write
// every element it owns), and bad geometries refused with nothing written.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACT_CODE, CONV_GEOM } from '../../ts/runtime/abi.js';
import type { Runtime } from '../../ts/runtime/index.js';
import type { Ptr } from '../../ts/runtime/arena.js';
import { BUILDS, get, harnessFor, put } from '../helpers.js';

type Geom = Record<(typeof CONV_GEOM.fields)[number], number>;
type Case = { n: number; m: number; padding: string; geom: Geom; x: number[]; w: number[]; b: number[]; dy: number[]; y: number[]; dx: number[]; dw: number[]; db: number[] };
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'torch-depthwise.json'), 'utf8')) as { cases: Case[] };

const G = 8;
type Buf = ReturnType<typeof put>;
const k = (rt: Runtime, name: string) => rt.kernels.testExport(name);

function geomRecord(rt: Runtime, g: Geom): Ptr {
  const p = rt.arena.alloc(CONV_GEOM.size);
  for (const f of CONV_GEOM.fields) rt.arena.view.setUint32(p + CONV_GEOM[f], g[f], true);
  return p;
}

function guardsIntact(rt: Runtime, b: Buf, what: string): void {
  const all = get(rt, b.base, b.n + 2 * b.guard);
  for (let i = 0; i < b.guard; i++) {
    expect(Number.isNaN(all[i]!), `${what}: guard before`).toBe(true);
    expect(Number.isNaN(all[b.guard + b.n + i]!), `${what}: guard after`).toBe(true);
  }
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (!(Math.abs(got[i]! - w) <= tol * (1 + Math.abs(w)))) expect.fail(`${what}[${i}] = ${got[i]} vs ${w}`);
  }
}

/** The definition in f64: y[s, oy, ox, o] = b[o] + Σ x[s, iy, ix, o/m]·w[ky, kx, o] (NHWC, kernel [kh, kw, c, m]). */
function depthwise64(g: Geom, x: ArrayLike<number>, n: number, w: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const m = g.f / g.c;
  const y = new Float64Array(n * g.oh * g.ow * g.f);
  for (let s = 0; s < n; s++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let o = 0; o < g.f; o++) {
          let acc = b[o]!;
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh + ky * g.dh - g.pt;
              const ix = ox * g.sw + kx * g.dw - g.pl;
              if (iy < 0 || ix < 0 || iy >= g.h || ix >= g.w) continue;
              acc += x[((s * g.h + iy) * g.w + ix) * g.c + Math.floor(o / m)]! * w[(ky * g.kw + kx) * g.f + o]!;
            }
          y[((s * g.oh + oy) * g.ow + ox) * g.f + o] = acc;
        }
  return y;
}

const ACT64: Record<string, (s: number, a: number) => number> = {
  linear: (s) => s,
  relu: (s) => Math.max(0, s),
  leakyRelu: (s, a) => (s > 0 ? s : a * s),
  elu: (s, a) => (s > 0 ? s : a * Math.expm1(s)),
  sigmoid: (s) => 1 / (1 + Math.exp(-s)),
  tanh: (s) => Math.tanh(s),
  selu: (s) => 1.0507009873554805 * (s > 0 ? s : 1.6732632423543772 * Math.expm1(s)),
};

const label = (c: Case) => `n${c.n} ${c.geom.h}×${c.geom.w}×${c.geom.c} m${c.m} k${c.geom.kh}×${c.geom.kw} s${c.geom.sh} d${c.geom.dh} ${c.padding}`;

describe.each(BUILDS)('depthwise convolution kernel (%s build)', (build) => {
  for (const c of fixture.cases) {
    it(`${label(c)} → ${c.geom.oh}×${c.geom.ow}×${c.geom.f}: y, dx, dw, db equal PyTorch conv2d(groups = c)`, async () => {
      const rt = await harnessFor(build);
      const g = c.geom;
      const geo = geomRecord(rt, g);
      const [X, W, B, DY] = [c.x, c.w, c.b, c.dy].map((v) => put(rt, v, G)) as [Buf, Buf, Buf, Buf];
      const Y = put(rt, new Float32Array(c.y.length).fill(NaN), G);
      expect(k(rt, 'depthwise_forward')(geo, X.ptr, c.n, W.ptr, B.ptr, 0, 0, Y.ptr)).toBe(0);
      close(get(rt, Y.ptr, c.y.length), c.y.map(Math.fround), 2e-6, 'y');
      const DX = put(rt, new Float32Array(c.x.length).fill(NaN), G);
      const DW = put(rt, new Float32Array(c.w.length).fill(NaN), G);
      const DB = put(rt, new Float32Array(c.b.length).fill(NaN), G);
      expect(k(rt, 'depthwise_backward')(geo, X.ptr, c.n, DY.ptr, W.ptr, DX.ptr, DW.ptr, DB.ptr)).toBe(0);
      close(get(rt, DX.ptr, c.x.length), c.dx.map(Math.fround), 2e-6, 'dx');
      // dw and db sum over n·oh·ow positions: scale the tolerance with that count
      const sum = 2e-6 * Math.sqrt(c.n * g.oh * g.ow) + 1e-6;
      close(get(rt, DW.ptr, c.w.length), c.dw.map(Math.fround), sum, 'dw');
      close(get(rt, DB.ptr, c.b.length), c.db.map(Math.fround), sum, 'db');
      for (const [b, what] of [[X, 'x'], [W, 'w'], [B, 'b'], [Y, 'y'], [DY, 'dy'], [DX, 'dx'], [DW, 'dw'], [DB, 'db']] as const) guardsIntact(rt, b, what);
      expect(Array.from(get(rt, X.ptr, c.x.length))).toEqual(c.x.map(Math.fround));
      expect(Array.from(get(rt, W.ptr, c.w.length))).toEqual(c.w.map(Math.fround));
      // without bias, and with only some gradients asked for: the same values
      const Y2 = put(rt, new Float32Array(c.y.length).fill(NaN), G);
      expect(k(rt, 'depthwise_forward')(geo, X.ptr, c.n, W.ptr, 0, 0, 0, Y2.ptr)).toBe(0);
      const yb = get(rt, Y2.ptr, c.y.length);
      close(yb.map((v, i) => v + c.b[i % g.f]!), c.y.map(Math.fround), 4e-6, 'y without bias + b');
      const DW2 = put(rt, new Float32Array(c.w.length).fill(NaN), G);
      expect(k(rt, 'depthwise_backward')(geo, X.ptr, c.n, DY.ptr, W.ptr, 0, DW2.ptr, 0)).toBe(0);
      expect(Array.from(get(rt, DW2.ptr, c.w.length))).toEqual(Array.from(get(rt, DW.ptr, c.w.length)));
      guardsIntact(rt, Y2, 'y2');
      guardsIntact(rt, DW2, 'dw2');
      for (const b of [X, W, B, DY, Y, DX, DW, DB, Y2, DW2]) rt.arena.free(b.base);
      rt.arena.free(geo);
    });
  }

  it('gradients equal central finite differences of the f64 definition (L = Σ y·dy)', async () => {
    const rt = await harnessFor(build);
    for (const c of fixture.cases) {
      const g = c.geom;
      const geo = geomRecord(rt, g);
      const [X, W, DY] = [c.x, c.w, c.dy].map((v) => put(rt, v, G)) as [Buf, Buf, Buf];
      const DX = put(rt, new Float32Array(c.x.length).fill(NaN), G);
      const DW = put(rt, new Float32Array(c.w.length).fill(NaN), G);
      const DB = put(rt, new Float32Array(c.b.length).fill(NaN), G);
      expect(k(rt, 'depthwise_backward')(geo, X.ptr, c.n, DY.ptr, W.ptr, DX.ptr, DW.ptr, DB.ptr)).toBe(0);
      const x = Float64Array.from(c.x.map(Math.fround));
      const w = Float64Array.from(c.w.map(Math.fround));
      const b = Float64Array.from(c.b.map(Math.fround));
      const dy = c.dy.map(Math.fround);
      const loss = () => depthwise64(g, x, c.n, w, b).reduce((a, v, i) => a + v * dy[i]!, 0);
      const h = 1e-3;
      const fd = (t: Float64Array, i: number) => {
        const v = t[i]!;
        t[i] = v + h;
        const up = loss();
        t[i] = v - h;
        const down = loss();
        t[i] = v;
        return (up - down) / (2 * h);
      };
      // up to 12 entries of each tensor, spread over it (first and last included)
      const picks = (len: number) => [...new Set(Array.from({ length: Math.min(12, len) }, (_, j) => Math.round((j * (len - 1)) / Math.max(1, Math.min(12, len) - 1))))];
      const [dx, dw, db] = [get(rt, DX.ptr, x.length), get(rt, DW.ptr, w.length), get(rt, DB.ptr, b.length)];
      const positions = c.n * g.oh * g.ow;
      for (const i of picks(x.length)) close([dx[i]!], [fd(x, i)], 1e-5, `${label(c)} dx`);
      for (const i of picks(w.length)) close([dw[i]!], [fd(w, i)], 2e-6 * Math.sqrt(positions) + 1e-5, `${label(c)} dw`);
      for (const i of picks(b.length)) close([db[i]!], [fd(b, i)], 2e-6 * Math.sqrt(positions) + 1e-5, `${label(c)} db`);
      for (const [buf, what] of [[DX, 'dx'], [DW, 'dw'], [DB, 'db']] as const) guardsIntact(rt, buf, what);
      for (const buf of [X, W, DY, DX, DW, DB]) rt.arena.free(buf.base);
      rt.arena.free(geo);
    }
  });

  it('fuses every activation: act(y) equals the f64 definition', async () => {
    const rt = await harnessFor(build);
    const c = fixture.cases[1]!; // m = 2, stride 2, 'same'
    const g = c.geom;
    const geo = geomRecord(rt, g);
    const scaled = c.x.map((v) => 3 * v); // spread pre-activations over the nonlinear ranges
    const X = put(rt, scaled, G);
    const W = put(rt, c.w, G);
    const B = put(rt, c.b, G);
    const pre = depthwise64(g, scaled.map(Math.fround), c.n, c.w.map(Math.fround), c.b.map(Math.fround));
    for (const [name, code] of Object.entries(ACT_CODE)) {
      const alpha = name === 'leakyRelu' ? 0.1 : name === 'elu' ? 0.7 : 0;
      const Y = put(rt, new Float32Array(pre.length).fill(NaN), G);
      expect(k(rt, 'depthwise_forward')(geo, X.ptr, c.n, W.ptr, B.ptr, code, alpha, Y.ptr)).toBe(0);
      close(get(rt, Y.ptr, pre.length), Array.from(pre, (s) => ACT64[name]!(s, alpha)), 1e-5, name);
      guardsIntact(rt, Y, name);
      rt.arena.free(Y.base);
    }
    expect(k(rt, 'depthwise_forward')(geo, X.ptr, c.n, W.ptr, B.ptr, 99, 0, X.ptr)).toBe(2); // unknown activation: nothing written
    expect(Array.from(get(rt, X.ptr, scaled.length))).toEqual(scaled.map(Math.fround));
    for (const b of [X, W, B]) rt.arena.free(b.base);
    rt.arena.free(geo);
  });

  it('refuses an invalid geometry (writing nothing): output channels not a multiple of the input channels, bad windows', async () => {
    const rt = await harnessFor(build);
    const base: Geom = { h: 4, w: 4, c: 2, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: 2, ow: 2, f: 4 };
    const X = put(rt, new Float32Array(32).fill(1), G);
    const W = put(rt, new Float32Array(9 * 6).fill(1), G);
    for (const [gm, why] of [
      [{ ...base, f: 3 }, 'f = 3 with c = 2'],
      [{ ...base, f: 0 }, 'no output channels'],
      [{ ...base, sh: 0 }, 'stride 0'],
      [{ ...base, oh: 5 }, 'output row starting past the input'],
      [{ ...base, pt: 3 }, 'padding wider than the kernel reaches'],
    ] as const) {
      const geo = geomRecord(rt, gm);
      const Y = put(rt, new Float32Array(gm.oh * gm.ow * Math.max(1, gm.f)).fill(7), G);
      expect(k(rt, 'depthwise_forward')(geo, X.ptr, 1, W.ptr, 0, 0, 0, Y.ptr), why).toBe(2);
      expect(k(rt, 'depthwise_backward')(geo, X.ptr, 1, Y.ptr, W.ptr, X.ptr, W.ptr, 0), why).toBe(2);
      expect(Array.from(get(rt, Y.ptr, Y.n)).every((v) => v === 7), why).toBe(true);
      expect(Array.from(get(rt, X.ptr, 32)).every((v) => v === 1), why).toBe(true);
      guardsIntact(rt, Y, why);
      rt.arena.free(Y.base);
      rt.arena.free(geo);
    }
  });
});

describe('depthwise convolution kernel: SIMD and scalar builds', () => {
  it('agree bit for bit (same roundings in the same order: no FMA in SIMD128), forward, dx, dw and db', async () => {
    const run = async (build: 'simd' | 'scalar') => {
      const rt = await harnessFor(build);
      const out: number[][] = [];
      for (const c of fixture.cases) {
        const geo = geomRecord(rt, c.geom);
        const [X, W, B, DY] = [c.x, c.w, c.b, c.dy].map((v) => put(rt, v)) as [Buf, Buf, Buf, Buf];
        const [Y, DX, DW, DB] = [c.y.length, c.x.length, c.w.length, c.b.length].map((n) => put(rt, new Float32Array(n))) as [Buf, Buf, Buf, Buf];
        expect(k(rt, 'depthwise_forward')(geo, X.ptr, c.n, W.ptr, B.ptr, ACT_CODE.relu, 0, Y.ptr)).toBe(0);
        expect(k(rt, 'depthwise_backward')(geo, X.ptr, c.n, DY.ptr, W.ptr, DX.ptr, DW.ptr, DB.ptr)).toBe(0);
        for (const b of [Y, DX, DW, DB]) out.push(Array.from(new Uint32Array(get(rt, b.ptr, b.n).buffer)));
        for (const b of [X, W, B, DY, Y, DX, DW, DB]) rt.arena.free(b.base);
        rt.arena.free(geo);
      }
      return out;
    };
    const simd = await run('simd');
    expect(await run('scalar')).toEqual(simd);
  });
});
