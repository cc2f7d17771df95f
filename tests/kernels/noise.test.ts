// Gaussian-dropout and alpha-dropout kernels (crates/kernels/src/layers/gaussian_dropout.rs,
// alpha_dropout.rs) on both builds against tests/fixtures/torch-noise.json, which
// scripts/fixtures/torch_noise.py makes with an independent Python implementation of the documented
// Philox streams and PyTorch 1.13 float64 autograd (alpha dropout with ATen's own arithmetic,
// checked there against torch.nn.functional.alpha_dropout). NaN guard bands around every buffer,
// NaN-filled outputs beforehand; the two builds agree bit for bit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../ts/runtime/index.js';
import { BUILDS, get, harnessFor, put } from '../helpers.js';

type Case = { n: number; rate: number; seed: number; stream: number; counter: number; x: number[]; g: number[]; m: number[]; y: number[]; dx: number[] };
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'torch-noise.json'), 'utf8')) as { cases: Record<'gaussianDropout' | 'alphaDropout', Case[]> };
const EXPORT = { gaussianDropout: 'gaussian_dropout_forward', alphaDropout: 'alpha_dropout_forward' } as const;
const G = 8;
const k = (rt: Runtime, name: string) => rt.kernels.testExport(name);
type Buf = ReturnType<typeof put>;

function guardsIntact(rt: Runtime, b: Buf, what: string): void {
  const all = get(rt, b.base, b.n + 2 * b.guard);
  for (let i = 0; i < b.guard; i++) {
    expect(Number.isNaN(all[i]!), `${what}: guard before`).toBe(true);
    expect(Number.isNaN(all[b.guard + b.n + i]!), `${what}: guard after`).toBe(true);
  }
}

/** |got − want| ≤ tol·(1 + |want|) everywhere. */
function close(got: Float32Array, want: number[], tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) expect.fail(`${what}[${i}] = ${got[i]} vs PyTorch ${want[i]}`);
  }
}

/** Runs one case: forward (y, m) then backward (`dropout_backward`: g·m in place, the kinds' backward). */
function run(rt: Runtime, kind: keyof typeof EXPORT, c: Case) {
  const X = put(rt, c.x, G);
  const Y = put(rt, new Float32Array(c.n).fill(NaN), G);
  const M = put(rt, new Float32Array(c.n).fill(NaN), G);
  const st = k(rt, EXPORT[kind])(X.ptr, Y.ptr, M.ptr, c.n, c.rate, c.seed, c.stream, c.counter);
  const D = put(rt, c.g, G);
  k(rt, 'dropout_backward')(D.ptr, M.ptr, c.n);
  for (const [b, what] of [[X, 'x'], [Y, 'y'], [M, 'm'], [D, 'dx']] as const) guardsIntact(rt, b, what);
  expect(Array.from(get(rt, X.ptr, c.n)), 'x untouched').toEqual(c.x.map(Math.fround));
  return { st, y: get(rt, Y.ptr, c.n), m: get(rt, M.ptr, c.n), dx: get(rt, D.ptr, c.n) };
}

describe.each(BUILDS)('noise kernels vs PyTorch on the documented stream (%s build)', (build) => {
  for (const kind of ['gaussianDropout', 'alphaDropout'] as const) {
    for (const c of fixture.cases[kind]) {
      it(`${kind} n=${c.n} rate=${c.rate} seed=${c.seed} stream=${c.stream} counter=${c.counter}: y, multiplier, dx`, async () => {
        const rt = await harnessFor(build);
        const r = run(rt, kind, c);
        expect(r.st).toBe(0);
        // f32 arithmetic (Box–Muller's logarithm in f32) against float64
        close(r.m, c.m, 2e-6, 'm');
        close(r.y, c.y, 4e-6, 'y');
        close(r.dx, c.dx, 4e-6, 'dx');
        if (kind === 'alphaDropout') {
          // the same elements are dropped (exact zeros of the multiplier)
          expect(Array.from(r.m, (v) => v === 0)).toEqual(c.m.map((v) => v === 0));
        }
      });
    }
  }

  it('refuses a rate outside [0, 1) with status 2 and writes nothing', async () => {
    const rt = await harnessFor(build);
    for (const kind of ['gaussianDropout', 'alphaDropout'] as const) {
      for (const rate of [-0.1, 1, 1.5, NaN]) {
        const X = put(rt, [1, 2, 3], G);
        const Y = put(rt, new Float32Array(3).fill(NaN), G);
        const M = put(rt, new Float32Array(3).fill(NaN), G);
        expect(k(rt, EXPORT[kind])(X.ptr, Y.ptr, M.ptr, 3, rate, 1, 0, 0)).toBe(2);
        expect(Array.from(get(rt, Y.ptr, 3)).every(Number.isNaN)).toBe(true);
        expect(Array.from(get(rt, M.ptr, 3)).every(Number.isNaN)).toBe(true);
      }
    }
  });
});

describe('noise kernels: SIMD and scalar builds', () => {
  it('draw the same bits for every fixture case and for 10,007 elements', async () => {
    const [simd, scalar] = await Promise.all([harnessFor('simd'), harnessFor('scalar')]);
    const big: Case = { n: 10007, rate: 0.3, seed: 99, stream: 4, counter: 5, x: Array.from({ length: 10007 }, (_, i) => Math.sin(i) * 3), g: Array.from({ length: 10007 }, (_, i) => Math.cos(i)), m: [], y: [], dx: [] };
    const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));
    for (const kind of ['gaussianDropout', 'alphaDropout'] as const) {
      for (const c of [...fixture.cases[kind], big]) {
        const a = run(simd, kind, c);
        const b = run(scalar, kind, c);
        for (const f of ['y', 'm', 'dx'] as const) expect(bits(a[f]), `${kind} n=${c.n} ${f}`).toEqual(bits(b[f]));
      }
    }
  });
});
