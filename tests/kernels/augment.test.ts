// Augmentation kernels (crates/kernels/src/augment.rs) on both builds against the float64
// reference of scripts/fixtures/torch_augment.py (tests/fixtures/augment.json): Keras 2's
// translation / rotation / zoom matrices, TensorFlow ImageProjectiveTransformV3's fill modes and
// interpolation (PyTorch's grid_sample, checked there against a numpy port of TF's generator), flip
// and contrast; odd non-square images, batches 1, 3 and 7, channels 1, 2 and 3, with NaN guard
// bands around every buffer and NaN-filled outputs. The per-image parameters are given explicitly
// (the harness export `augment_apply`); the draws (`augment_draw`) are checked for range,
// uniformity and agreement between the builds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONV_GEOM } from '../../ts/runtime/abi.js';
import type { Runtime } from '../../ts/runtime/index.js';
import type { Ptr } from '../../ts/runtime/arena.js';
import { BUILDS, get, harnessFor, put } from '../helpers.js';

interface Case { kind: string; code: number; n: number; h: number; w: number; c: number; fillMode: string; interpolation: string; fillValue: number; params: number[]; x: number[]; y: number[] }
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'augment.json'), 'utf8')) as { torch: string; cases: Case[] };
const FILL = ['reflect', 'wrap', 'constant', 'nearest'];
const G = 8;
type Buf = ReturnType<typeof put>;
const k = (rt: Runtime, name: string) => rt.kernels.testExport(name);

function geomRecord(rt: Runtime, h: number, w: number, c: number): Ptr {
  const p = rt.arena.alloc(CONV_GEOM.size);
  const g: Record<string, number> = { h, w, c, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: h, ow: w, f: c };
  for (const f of CONV_GEOM.fields) rt.arena.view.setUint32(p + CONV_GEOM[f], g[f]!, true);
  return p;
}

/** The kernel's argument block for a case (warp settings; the ranges are unused by augment_apply). */
const argsOf = (c: Case) => [0, 0, 0, 0, FILL.indexOf(c.fillMode), c.interpolation === 'bilinear' ? 1 : 0, c.fillValue, 0];

function guardsIntact(rt: Runtime, b: Buf, what: string): void {
  const all = get(rt, b.base, b.n + 2 * b.guard);
  for (let i = 0; i < b.guard; i++) {
    expect(Number.isNaN(all[i]!), `${what}: guard before`).toBe(true);
    expect(Number.isNaN(all[b.guard + b.n + i]!), `${what}: guard after`).toBe(true);
  }
}

/** Runs one case; returns the output (and checks guards and untouched inputs). */
function run(rt: Runtime, c: Case, args = argsOf(c), code = c.code): { status: number; y: Float32Array } {
  const geo = geomRecord(rt, c.h, c.w, c.c);
  const X = put(rt, c.x, G);
  const P = put(rt, c.params, G);
  const A = put(rt, args, G);
  const Y = put(rt, new Float32Array(c.y.length).fill(NaN), G);
  const status = k(rt, 'augment_apply')(code, geo, A.ptr, P.ptr, X.ptr, c.n, Y.ptr);
  const y = get(rt, Y.ptr, c.y.length);
  for (const [b, what] of [[X, 'x'], [P, 'params'], [A, 'args'], [Y, 'y']] as const) guardsIntact(rt, b, what);
  expect(Array.from(get(rt, X.ptr, c.x.length))).toEqual(c.x.map(Math.fround));
  for (const b of [X, P, A, Y]) rt.arena.free(b.base);
  rt.arena.free(geo);
  return { status, y };
}

const label = (c: Case) => `${c.kind} n${c.n} ${c.h}×${c.w}×${c.c}${c.kind === 'contrast' || c.kind === 'flip' ? '' : ` ${c.fillMode}${c.fillMode === 'constant' ? `(${c.fillValue})` : ''} ${c.interpolation}`}`;

describe.each(BUILDS)('augmentation kernels vs the float64 reference (%s build)', (build) => {
  it.each(fixture.cases.map((c) => [label(c), c] as const))('%s', async (_l, c) => {
    const rt = await harnessFor(build);
    const { status, y } = run(rt, c);
    expect(status).toBe(0);
    // bilinear: float32 coordinates and weights against float64 (coordinates are ~1e-3 or more
    // from any discontinuity, so both sides interpolate the same taps); nearest and flip copy input
    // values (or the fill value) exactly; contrast: (x − m)·f + m rounds three times at magnitudes
    // up to max|x|·(1 + f), f ≤ 2.5, so its error scales with the image's values, not the output's
    const big = 1 + 3.5 * Math.max(...c.x.map(Math.abs));
    const tol = c.kind === 'contrast' ? 6e-7 : c.interpolation === 'bilinear' ? 2e-5 : 0;
    c.y.forEach((want, i) => {
      const e = Math.abs(y[i]! - Math.fround(want)) / (c.kind === 'contrast' ? big : 1 + Math.abs(want));
      if (!(e <= tol)) expect.fail(`y[${i}] = ${y[i]} vs reference ${want} (scaled error ${e})`);
    });
  });

  it('refuses an unknown kind code and invalid argument blocks, writing nothing', async () => {
    const rt = await harnessFor(build);
    const c = fixture.cases.find((x) => x.kind === 'rotation')!;
    const good = argsOf(c);
    for (const [code, args, why] of [
      [9, good, 'code 9'],
      [15, good, 'code 15'],
      [c.code, [...good.slice(0, 4), 4, ...good.slice(5)], 'fill mode 4'],
      [c.code, [...good.slice(0, 5), 2, ...good.slice(6)], 'interpolation 2'],
      [c.code, [...good.slice(0, 6), NaN, 0], 'NaN fill value'],
      [c.code, [Infinity, ...good.slice(1)], 'infinite bound'],
      [c.code, [...good.slice(0, 7), 4], 'mode 4'],
    ] as const) {
      const r = run(rt, c, [...args], code);
      expect(r.status, why).toBe(2);
      expect(r.y.every(Number.isNaN), why).toBe(true);
    }
  });
});

describe('augmentation kernels: draws and builds', () => {
  it('the SIMD and scalar builds give bit-identical outputs for every case and bit-identical draws', async () => {
    const [a, b] = await Promise.all(BUILDS.map((bd) => harnessFor(bd)));
    for (const c of fixture.cases) {
      const ya = run(a!, c).y;
      const yb = run(b!, c).y;
      expect(Array.from(new Uint32Array(ya.buffer)), label(c)).toEqual(Array.from(new Uint32Array(yb.buffer)));
    }
    const n = 257;
    for (const code of [10, 11, 12, 13, 14]) {
      const args = [-0.3, 0.4, 0.2, 1.7, 0, 1, 0, code === 10 ? 3 : 1];
      const draws = [a!, b!].map((rt) => {
        const A = put(rt, args);
        const O = put(rt, new Float32Array(2 * n).fill(NaN), G);
        expect(k(rt, 'augment_draw')(code, A.ptr, 77, 2, 5, n, O.ptr)).toBe(0);
        guardsIntact(rt, O, 'draws');
        return Array.from(new Uint32Array(get(rt, O.ptr, 2 * n).buffer));
      });
      expect(draws[0], `code ${code}`).toEqual(draws[1]);
    }
  });

  it('draws are uniform on [lower, upper] per parameter (moments and Kolmogorov–Smirnov), flips fair coins', async () => {
    const rt = await harnessFor('simd');
    const n = 20000;
    const draw = (code: number, args: number[], seed = 3) => {
      const A = put(rt, args);
      const O = put(rt, new Float32Array(2 * n));
      expect(k(rt, 'augment_draw')(code, A.ptr, seed, 1, 0, n, O.ptr)).toBe(0);
      return get(rt, O.ptr, 2 * n);
    };
    const uniform = (v: number[], lo: number, hi: number, what: string) => {
      const w = hi - lo;
      expect(Math.min(...v), what).toBeGreaterThanOrEqual(lo - 1e-6);
      expect(Math.max(...v), what).toBeLessThanOrEqual(hi + 1e-6);
      const mean = v.reduce((s, x) => s + x, 0) / n;
      const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
      expect(Math.abs(mean - (lo + hi) / 2), `${what} mean`).toBeLessThan((5 * w) / Math.sqrt(12 * n));
      expect(Math.abs(variance - w * w / 12), `${what} variance`).toBeLessThan((5 * w * w) / Math.sqrt(180 * n));
      const s = [...v].sort((p, q) => p - q);
      const ks = s.reduce((d, x, i) => Math.max(d, Math.abs((x - lo) / w - i / n), Math.abs((i + 1) / n - (x - lo) / w)), 0);
      expect(ks, `${what} KS`).toBeLessThan(1.95 / Math.sqrt(n)); // 0.1% critical value
    };
    const col = (d: Float32Array, j: number) => Array.from({ length: n }, (_, i) => d[2 * i + j]!);
    // rotation: turns in [lower, upper]; translation: height and width fractions
    uniform(col(draw(12, [-0.125, 0.25, 0, 0, 0, 1, 0, 0]), 0), -0.125, 0.25, 'rotation turns');
    const t = draw(11, [-0.2, 0.3, -0.5, 0.1, 0, 1, 0, 0]);
    uniform(col(t, 0), -0.2, 0.3, 'translation height');
    uniform(col(t, 1), -0.5, 0.1, 'translation width');
    // zoom: 1 + factor per axis; contrast: [1 − lower, 1 + upper]
    const z = draw(13, [0.8, 1.3, 0.5, 1.9, 0, 1, 0, 1]);
    uniform(col(z, 0), 0.8, 1.3, 'zoom height');
    uniform(col(z, 1), 0.5, 1.9, 'zoom width');
    uniform(col(draw(14, [0.6, 1.5, 0, 0, 0, 0, 0, 0]), 0), 0.6, 1.5, 'contrast');
    const f = draw(10, [0, 0, 0, 0, 0, 0, 0, 3]);
    for (const j of [0, 1]) expect(Math.abs(col(f, j).filter((v) => v === 1).length / n - 0.5), `flip axis ${j}`).toBeLessThan(5 * Math.sqrt(0.25 / n));
    expect(col(draw(10, [0, 0, 0, 0, 0, 0, 0, 1]), 1).every((v) => v === 0)).toBe(true); // 'horizontal' never flips vertically
  });
});
