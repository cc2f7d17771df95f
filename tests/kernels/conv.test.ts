// Convolution and pooling kernels (crates/kernels/src/conv.rs, pool.rs) on both builds against
// PyTorch 1.13 (tests/fixtures/torch-conv.json, from scripts/fixtures/torch_conv.py): forward
// outputs and autograd gradients for kernels 1, 3 and 5, strides 1 and 2, dilation 2, 'valid'
// and 'same' (asymmetric) padding, batches 1, 2, 3 and 7, non-square images; with NaN guard bands
// around every buffer the kernels write, im2col scratch sizes that force several chunks, and
// NaN-filled outputs beforehand (a kernel must write every element it owns).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONV_GEOM, GEMM_WORKSPACE_FLOATS } from '../../ts/runtime/abi.js';
import type { Runtime } from '../../ts/runtime/index.js';
import type { Ptr } from '../../ts/runtime/arena.js';
import { BUILDS, get, harnessFor, put } from '../helpers.js';

type Geom = Record<(typeof CONV_GEOM.fields)[number], number>;
type ConvCase = { n: number; padding: string; geom: Geom; x: number[]; w: number[]; b: number[]; dy: number[]; y: number[]; dx: number[]; dw: number[]; db: number[] };
type PoolCase = { kind: 'max' | 'avg'; n: number; padding: string; geom: Geom; x: number[]; dy: number[]; y: number[]; dx: number[] };
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'torch-conv.json'), 'utf8')) as { conv: ConvCase[]; pool: PoolCase[] };

const G = 8; // guard floats on each side
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

/** |got − want| ≤ tol·(1 + |want|) everywhere; returns the worst scaled error. */
function close(got: Float32Array, want: number[], tol: number, what: string): number {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const w = Math.fround(want[i]!); // the fixture holds float32 values in 9 digits
    const e = Math.abs(got[i]! - w) / (1 + Math.abs(w));
    if (!(e <= tol)) expect.fail(`${what}[${i}] = ${got[i]} vs PyTorch ${want[i]}`);
    worst = Math.max(worst, e);
  }
  return worst;
}

const label = (c: { n: number; padding: string; geom: Geom }) =>
  `n${c.n} ${c.geom.h}×${c.geom.w}×${c.geom.c} k${c.geom.kh}×${c.geom.kw} s${c.geom.sh} d${c.geom.dh} ${c.padding}`;

describe.each(BUILDS)('conv2d and pooling kernels vs PyTorch (%s build)', (build) => {
  for (const c of fixture.conv) {
    it(`conv2d ${label(c)} → ${c.geom.oh}×${c.geom.ow}×${c.geom.f}: y, dx, dw, db`, async () => {
      const rt = await harnessFor(build);
      const g = c.geom;
      const K = g.kh * g.kw * g.c;
      const geo = geomRecord(rt, g);
      const ws = rt.arena.allocF32(GEMM_WORKSPACE_FLOATS);
      // scratch for 7 im2col rows: many chunks, the last one partial
      const scratch = put(rt, new Float32Array(7 * K).fill(NaN), G);
      const X = put(rt, c.x, G);
      const W = put(rt, c.w, G);
      const B = put(rt, c.b, G);
      const Y = put(rt, new Float32Array(c.y.length).fill(NaN), G);
      expect(k(rt, 'conv2d_forward')(geo, X.ptr, c.n, W.ptr, B.ptr, 0, Y.ptr, scratch.ptr, 7 * K, ws)).toBe(0);
      close(get(rt, Y.ptr, c.y.length), c.y, 2e-5, 'y');
      const DY = put(rt, c.dy, G);
      const DX = put(rt, new Float32Array(c.x.length).fill(NaN), G);
      const DW = put(rt, new Float32Array(c.w.length).fill(NaN), G);
      const DB = put(rt, new Float32Array(c.b.length).fill(NaN), G);
      expect(k(rt, 'conv2d_backward')(geo, X.ptr, c.n, DY.ptr, W.ptr, DX.ptr, DW.ptr, DB.ptr, scratch.ptr, 7 * K, ws)).toBe(0);
      close(get(rt, DX.ptr, c.x.length), c.dx, 2e-5, 'dx');
      // dw sums over n·oh·ow positions: scale the tolerance with that count
      close(get(rt, DW.ptr, c.w.length), c.dw, 2e-6 * Math.sqrt(c.n * g.oh * g.ow) + 1e-5, 'dw');
      close(get(rt, DB.ptr, c.b.length), c.db, 2e-6 * Math.sqrt(c.n * g.oh * g.ow) + 1e-5, 'db');
      for (const [b, what] of [[scratch, 'scratch'], [X, 'x'], [W, 'w'], [B, 'b'], [Y, 'y'], [DY, 'dy'], [DX, 'dx'], [DW, 'dw'], [DB, 'db']] as const) guardsIntact(rt, b, what);
      // inputs untouched
      expect(Array.from(get(rt, X.ptr, c.x.length))).toEqual(c.x.map(Math.fround));
      expect(Array.from(get(rt, W.ptr, c.w.length))).toEqual(c.w.map(Math.fround));
      for (const b of [scratch, X, W, B, Y, DY, DX, DW, DB]) rt.arena.free(b.base);
      rt.arena.free(ws);
      rt.arena.free(geo);
    });
  }

  for (const c of fixture.pool) {
    it(`${c.kind}Pool2d ${label(c)} → ${c.geom.oh}×${c.geom.ow}: y, dx`, async () => {
      const rt = await harnessFor(build);
      const geo = geomRecord(rt, c.geom);
      const kind = c.kind === 'max' ? 0 : 1;
      const X = put(rt, c.x, G);
      const Y = put(rt, new Float32Array(c.y.length).fill(NaN), G);
      expect(k(rt, 'pool2d_forward')(geo, kind, X.ptr, c.n, Y.ptr)).toBe(0);
      close(get(rt, Y.ptr, c.y.length), c.y, c.kind === 'max' ? 0 : 1e-6, 'y');
      const DY = put(rt, c.dy, G);
      const DX = put(rt, new Float32Array(c.x.length).fill(NaN), G);
      expect(k(rt, 'pool2d_backward')(geo, kind, X.ptr, c.n, DY.ptr, DX.ptr)).toBe(0);
      close(get(rt, DX.ptr, c.x.length), c.dx, 1e-6, 'dx');
      for (const [b, what] of [[X, 'x'], [Y, 'y'], [DY, 'dy'], [DX, 'dx']] as const) guardsIntact(rt, b, what);
      for (const b of [X, Y, DY, DX]) rt.arena.free(b.base);
      rt.arena.free(geo);
    });
  }

  it('refuses an invalid geometry or a scratch smaller than one im2col row, writing nothing', async () => {
    const rt = await harnessFor(build);
    const ws = rt.arena.allocF32(GEMM_WORKSPACE_FLOATS);
    const base: Geom = { h: 4, w: 4, c: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: 2, ow: 2, f: 1 };
    const X = put(rt, new Float32Array(16).fill(1), G);
    const W = put(rt, new Float32Array(9).fill(1), G);
    const scratch = put(rt, new Float32Array(9), G);
    for (const [g, len, why] of [
      [base, 8, 'scratch below one row (9 floats)'],
      [{ ...base, sh: 0 }, 9, 'stride 0'],
      [{ ...base, oh: 5 }, 9, 'output row starting past the input'],
      [{ ...base, pt: 3 }, 9, 'padding wider than the kernel reaches'],
      [{ ...base, f: 0 }, 9, 'no filters'],
    ] as const) {
      const geo = geomRecord(rt, g);
      const Y = put(rt, new Float32Array(g.oh * g.ow * Math.max(1, g.f)).fill(7), G);
      expect(k(rt, 'conv2d_forward')(geo, X.ptr, 1, W.ptr, 0, 0, Y.ptr, scratch.ptr, len, ws), why).toBe(2);
      expect(Array.from(get(rt, Y.ptr, Y.n)).every((v) => v === 7), why).toBe(true);
      guardsIntact(rt, Y, why);
      rt.arena.free(Y.base);
      rt.arena.free(geo);
    }
    // pooling: dilation is not a pooling parameter, and f must equal c
    for (const g of [{ ...base, dh: 2 }, { ...base, f: 2 }]) {
      const geo = geomRecord(rt, g);
      expect(k(rt, 'pool2d_forward')(geo, 0, X.ptr, 1, scratch.ptr)).toBe(2);
      rt.arena.free(geo);
    }
  });
});
