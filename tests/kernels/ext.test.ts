// Activations, losses, dropout, batch norm, max-norm and reductions on both builds, against
// float64 references written here from the upstream definitions (never from our own output),
// with NaN guard bands around every output and central finite differences for every gradient.
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../ts/runtime/index.js';
import type { Ptr } from '../../ts/runtime/arena.js';
import { BUILDS, get, harnessFor, put } from '../helpers.js';
import { testData } from '../reference/f64.js';

const SIZES = [1, 3, 5, 17, 64, 1023];
const G = 4; // guard floats on each side of every output
const H = 1e-6; // finite-difference step (f64)

/** The kernel test harness's exports (outside the library's contract) that these tests call. */
type Harness = 'argmax_rows' | 'batchnorm_backward' | 'batchnorm_infer' | 'batchnorm_train' | 'clip_by_value' | 'count_correct' | 'dropout_backward' | 'dropout_forward' | 'max_norm' | 'scale_inplace' | 'softmax_backward' | 'sum_squares';
const K = (rt: Runtime): Record<Harness, (...args: number[]) => number> =>
  new Proxy({} as Record<Harness, (...args: number[]) => number>, { get: (_t, name) => rt.kernels.testExport(String(name)) });

type Buf = ReturnType<typeof put>;

/** Asserts the G guard floats on each side of `b` are still NaN. */
function guardsIntact(rt: Runtime, b: Buf): void {
  const all = get(rt, b.base, b.n + 2 * b.guard);
  for (let i = 0; i < b.guard; i++) {
    expect(Number.isNaN(all[i]!)).toBe(true);
    expect(Number.isNaN(all[b.guard + b.n + i]!)).toBe(true);
  }
}

function putI32(rt: Runtime, v: ArrayLike<number>): Ptr {
  const p = rt.arena.alloc(Math.max(4, v.length * 4));
  rt.arena.i32.set(Array.from(v), p >> 2);
  return p;
}

/** Central difference of f at x along coordinate i (f64). */
function fd(f: (x: Float64Array) => number, x: Float64Array, i: number, h = H): number {
  const xp = Float64Array.from(x);
  const xm = Float64Array.from(x);
  xp[i]! += h;
  xm[i]! -= h;
  return (f(xp) - f(xm)) / (2 * h);
}

// ---- f64 definitions -------------------------------------------------------------------------
const sigmoid64 = (x: number) => 1 / (1 + Math.exp(-x));
const ACTS: { code: number; name: string; alpha: number; f: (x: number, a: number) => number; kink: boolean }[] = [
  { code: 0, name: 'linear', alpha: 0, f: (x) => x, kink: false },
  { code: 1, name: 'relu', alpha: 0, f: (x) => Math.max(0, x), kink: true },
  { code: 2, name: 'leakyRelu (PyTorch 0.01)', alpha: 0.01, f: (x, a) => (x > 0 ? x : a * x), kink: true },
  { code: 2, name: 'leakyRelu (Keras 0.3)', alpha: 0.3, f: (x, a) => (x > 0 ? x : a * x), kink: true },
  { code: 3, name: 'elu (alpha 1.5)', alpha: 1.5, f: (x, a) => (x > 0 ? x : a * Math.expm1(x)), kink: true },
  { code: 4, name: 'sigmoid', alpha: 0, f: sigmoid64, kink: false },
  { code: 5, name: 'tanh', alpha: 0, f: Math.tanh, kink: false },
  // PyTorch SELU / Keras selu (Klambauer et al.'s constants; the alpha argument is ignored)
  { code: 6, name: 'selu', alpha: 0.2, f: (x) => 1.0507009873554804934193349852946 * (x > 0 ? x : 1.6732632423543772848170429916717 * Math.expm1(x)), kink: true },
];

function softmax64(z: ArrayLike<number>, off: number, cols: number): Float64Array {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, z[off + j]!);
  const e = new Float64Array(cols);
  let s = 0;
  for (let j = 0; j < cols; j++) s += e[j] = Math.exp(z[off + j]! - m);
  for (let j = 0; j < cols; j++) e[j]! /= s;
  return e;
}

/** Smoothed cross-entropy of one row from the definition: Σ_j t_j·(−log softmax(z)_j). */
function ceRow64(z: ArrayLike<number>, y: number, eps: number): number {
  const p = softmax64(z, 0, z.length);
  let l = 0;
  for (let j = 0; j < z.length; j++) l -= ((1 - eps) * (j === y ? 1 : 0) + eps / z.length) * Math.log(p[j]!);
  return l;
}

type Elem = (z: number, t: number) => number;
const bce64: Elem = (z, t) => {
  // −[t·log σ(z) + (1−t)·log(1 − σ(z))], with log σ(z) = −log(1 + e^{−z}) written to stay finite
  const logp = -Math.log1p(Math.exp(-z));
  const log1mp = -Math.log1p(Math.exp(z));
  return -(t * logp + (1 - t) * log1mp);
};
const HUBER_DELTA = 0.5;
const REG: { kind: number; name: string; f: Elem; kinks: number[] }[] = [
  { kind: 0, name: 'MSE', f: (p, t) => (p - t) ** 2, kinks: [] },
  { kind: 1, name: 'MAE', f: (p, t) => Math.abs(p - t), kinks: [0] },
  {
    kind: 2,
    name: 'Huber',
    f: (p, t) => {
      const a = Math.abs(p - t);
      return a <= HUBER_DELTA ? 0.5 * a * a : HUBER_DELTA * (a - 0.5 * HUBER_DELTA);
    },
    kinks: [0, HUBER_DELTA],
  },
];

const LOSS_SHAPES: [number, number][] = [[1, 1], [3, 5], [5, 3], [17, 4], [64, 10], [1023, 3], [1, 1023]];

/** Per-sample weights: positive, one zero, or null (= all ones). */
function weightsFor(rows: number, which: 'none' | 'some'): Float32Array | null {
  if (which === 'none') return null;
  const w = testData(rows, rows + 3).map((v) => 1 + v);
  if (rows > 2) w[1] = 0;
  return w;
}

describe.each(BUILDS)('extended kernels (%s build)', (build) => {
  // ---- activations ----------------------------------------------------------------------------
  for (const a of ACTS) {
    it(`${a.name}: forward vs f64, backward through y vs central differences, guards intact`, async () => {
      const rt = await harnessFor(build);
      for (const n of SIZES) {
        const x = testData(n, n * 7 + a.code, 4);
        const X = put(rt, x, G);
        expect(rt.kernels.actForward(a.code, X.ptr, n, a.alpha)).toBe(0);
        const y = get(rt, X.ptr, n);
        guardsIntact(rt, X);
        const dy = testData(n, n * 11 + 1);
        const D = put(rt, dy, G);
        expect(rt.kernels.actBackward(a.code, X.ptr, D.ptr, n, a.alpha)).toBe(0);
        const dx = get(rt, D.ptr, n);
        guardsIntact(rt, D);
        for (let i = 0; i < n; i++) {
          const want = a.f(x[i]!, a.alpha);
          expect(Math.abs(y[i]! - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
          if (a.kink && Math.abs(x[i]!) < 1e-4) continue;
          const d = (a.f(x[i]! + H, a.alpha) - a.f(x[i]! - H, a.alpha)) / (2 * H);
          expect(Math.abs(dx[i]! - dy[i]! * d)).toBeLessThanOrEqual(3e-6 * Math.max(1, Math.abs(dy[i]! * d)));
        }
        rt.arena.free(X.base);
        rt.arena.free(D.base);
      }
    });
  }

  it('activations: NaN in → NaN out; unknown code → status 2; at x = 0 leakyRelu/elu backward give alpha', async () => {
    const rt = await harnessFor(build);
    for (const code of [1, 2, 3, 4, 5, 6]) {
      const X = put(rt, [NaN, NaN, NaN, NaN, NaN]);
      rt.kernels.actForward(code, X.ptr, 5, 0.2);
      expect(Array.from(get(rt, X.ptr, 5)).every(Number.isNaN)).toBe(true);
      rt.arena.free(X.base);
    }
    const X = put(rt, [0]);
    expect(rt.kernels.actForward(7, X.ptr, 1, 0)).toBe(2);
    expect(rt.kernels.actBackward(7, X.ptr, X.ptr, 1, 0)).toBe(2);
    for (const [code, alpha] of [[2, 0.01], [3, 1.5]] as const) {
      const Y = put(rt, [0, 0, 0, 0, 0]);
      rt.kernels.actForward(code, Y.ptr, 5, alpha);
      const D = put(rt, [1, 1, 1, 1, 1]);
      rt.kernels.actBackward(code, Y.ptr, D.ptr, 5, alpha);
      // PyTorch: leaky_relu_backward uses x > 0 ? 1 : slope; elu'(0⁻) = alpha·e⁰ = alpha
      expect(Array.from(get(rt, D.ptr, 5))).toEqual(new Array(5).fill(Math.fround(alpha)));
      rt.arena.free(Y.base);
      rt.arena.free(D.base);
    }
    rt.arena.free(X.base);
  });

  it('softmax: row-wise forward vs f64, backward dx = y⊙(dy − Σdy⊙y) vs central differences', async () => {
    const rt = await harnessFor(build);
    for (const cols of SIZES) {
      const rows = cols === 1023 ? 2 : 3;
      const z = testData(rows * cols, cols + 5, 3);
      const Y = put(rt, z, G);
      rt.kernels.softmaxRows(Y.ptr, rows, cols);
      const y = get(rt, Y.ptr, rows * cols);
      guardsIntact(rt, Y);
      const r = testData(rows * cols, cols + 9);
      const D = put(rt, r, G);
      K(rt).softmax_backward(Y.ptr, D.ptr, rows, cols);
      const dx = get(rt, D.ptr, rows * cols);
      guardsIntact(rt, D);
      for (let row = 0; row < rows; row++) {
        const zr = Float64Array.from(z.subarray(row * cols, (row + 1) * cols));
        const p = softmax64(zr, 0, cols);
        for (let j = 0; j < cols; j++) expect(Math.abs(y[row * cols + j]! - p[j]!)).toBeLessThan(1e-6);
        // L(z) = Σ_j r_j·softmax(z)_j
        const L = (zz: Float64Array) => {
          const q = softmax64(zz, 0, cols);
          let s = 0;
          for (let j = 0; j < cols; j++) s += r[row * cols + j]! * q[j]!;
          return s;
        };
        for (let j = 0; j < cols; j++) expect(Math.abs(dx[row * cols + j]! - fd(L, zr, j))).toBeLessThan(2e-6);
      }
      rt.arena.free(Y.base);
      rt.arena.free(D.base);
    }
  });

  // ---- losses ---------------------------------------------------------------------------------
  for (const eps of [0, 0.1]) {
    it(`softmax CE with label smoothing ${eps} (PyTorch label_smoothing), weighted and unweighted, vs f64 and central differences`, async () => {
      const rt = await harnessFor(build);
      for (const [rows, cols] of LOSS_SHAPES) {
        for (const which of ['none', 'some'] as const) {
          const z = testData(rows * cols, rows * 13 + cols, 3);
          const y = Array.from({ length: rows }, (_, r) => (r * 7 + 1) % cols);
          const w = weightsFor(rows, which);
          const Z = put(rt, z);
          const Yp = putI32(rt, y);
          const W = w ? put(rt, w) : null;
          const Gr = put(rt, new Float32Array(rows * cols), G);
          const Cn = rt.arena.alloc(4);
          const scale = 1 / rows;
          const total = rt.kernels.softmaxCe(Z.ptr, Yp, rows, cols, W ? W.ptr : 0, eps, Gr.ptr, scale, Cn);
          const g = get(rt, Gr.ptr, rows * cols);
          guardsIntact(rt, Gr);
          let want = 0;
          let correct = 0;
          for (let r = 0; r < rows; r++) {
            const wr = w ? w[r]! : 1;
            const zr = Float64Array.from(z.subarray(r * cols, (r + 1) * cols));
            want += wr * ceRow64(zr, y[r]!, eps);
            let best = 0;
            for (let j = 1; j < cols; j++) if (zr[j]! > zr[best]!) best = j;
            if (best === y[r]) correct++;
            for (let j = 0; j < cols; j++) {
              const d = scale * wr * fd((zz) => ceRow64(zz, y[r]!, eps), zr, j);
              expect(Math.abs(g[r * cols + j]! - d)).toBeLessThanOrEqual(1e-5 * Math.abs(d) + 1e-6 * scale * (wr + 1));
            }
          }
          expect(Math.abs(total - want)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want)));
          expect(rt.arena.view.getUint32(Cn, true)).toBe(correct);
          for (const p of [Z.base, Yp, Gr.base, Cn]) rt.arena.free(p);
          if (W) rt.arena.free(W.base);
        }
      }
    });
  }

  const elementwise: { name: string; call: (rt: Runtime, a: Ptr, b: Ptr, rows: number, cols: number, w: Ptr | 0, g: Ptr, s: number) => number; f: Elem; kinks: number[]; zScale: number }[] = [
    {
      name: 'BCE with logits (PyTorch BCEWithLogitsLoss)',
      call: (rt, a, b, rows, cols, w, g, s) => rt.kernels.bceLogits(a, b, rows, cols, w, g, s),
      f: bce64,
      kinks: [],
      zScale: 6,
    },
    ...REG.map((r) => ({
      name: `${r.name} (mean over outputs per sample)`,
      call: (rt: Runtime, a: Ptr, b: Ptr, rows: number, cols: number, w: Ptr | 0, g: Ptr, s: number) =>
        rt.kernels.regressionLoss(r.kind, a, b, rows, cols, w, HUBER_DELTA, g, s),
      f: r.f,
      kinks: r.kinks,
      zScale: 1.5,
    })),
  ];
  for (const L of elementwise) {
    it(`${L.name}: Σ w·mean_j l vs f64, gradient vs central differences, guards intact`, async () => {
      const rt = await harnessFor(build);
      for (const [rows, cols] of LOSS_SHAPES) {
        for (const which of ['none', 'some'] as const) {
          const z = testData(rows * cols, rows * 17 + cols, L.zScale);
          // targets in [0, 1] (soft labels for BCE)
          const t = testData(rows * cols, rows * 19 + cols + 1).map((v) => (v + 1) / 2);
          const w = weightsFor(rows, which);
          const Z = put(rt, z);
          const T = put(rt, t);
          const W = w ? put(rt, w) : null;
          const Gr = put(rt, new Float32Array(rows * cols), G);
          const scale = 1 / rows;
          const total = L.call(rt, Z.ptr, T.ptr, rows, cols, W ? W.ptr : 0, Gr.ptr, scale);
          const g = get(rt, Gr.ptr, rows * cols);
          guardsIntact(rt, Gr);
          let want = 0;
          for (let r = 0; r < rows; r++) {
            const wr = w ? w[r]! : 1;
            let row = 0;
            for (let j = 0; j < cols; j++) {
              const i = r * cols + j;
              row += L.f(z[i]!, t[i]!);
              const d = L.kinks.some((k) => Math.abs(Math.abs(z[i]! - t[i]!) - k) < 1e-4)
                ? NaN
                : (scale * wr * (L.f(z[i]! + H, t[i]!) - L.f(z[i]! - H, t[i]!))) / (2 * H) / cols;
              if (!Number.isNaN(d)) expect(Math.abs(g[i]! - d)).toBeLessThanOrEqual(1e-5 * Math.abs(d) + 1e-6 * scale * (wr + 1) / cols);
            }
            want += (wr * row) / cols;
          }
          expect(Math.abs(total - want)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want)));
          for (const p of [Z.base, T.base, Gr.base]) rt.arena.free(p);
          if (W) rt.arena.free(W.base);
        }
      }
    });
  }

  it('losses: BCE stays finite for |z| = 80; MAE subgradient is 0 at 0; null grad writes nothing; unknown regression kind → NaN', async () => {
    const rt = await harnessFor(build);
    const Z = put(rt, [80, -80, 80, -80]);
    const T = put(rt, [1, 0, 0, 1]);
    const Gr = put(rt, new Float32Array(4), G);
    const l = rt.kernels.bceLogits(Z.ptr, T.ptr, 1, 4, 0, Gr.ptr, 1);
    expect(Math.abs(l - (0 + 0 + 80 + 80) / 4)).toBeLessThan(1e-5);
    // ∂/∂z of the mean over 4 outputs: (σ(z) − t)/4, σ(±80) from the definition
    const gb = get(rt, Gr.ptr, 4);
    [[80, 1], [-80, 0], [80, 0], [-80, 1]].forEach(([zz, tt], i) => {
      const want = (sigmoid64(zz!) - tt!) / 4;
      expect(Math.abs(gb[i]! - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want));
    });
    const P = put(rt, [2, 2]);
    const M = put(rt, [9, 9], G);
    rt.kernels.regressionLoss(1, P.ptr, P.ptr, 1, 2, 0, 0, M.ptr, 1);
    expect(Array.from(get(rt, M.ptr, 2))).toEqual([0, 0]);
    const N = put(rt, [9, 9], G);
    rt.kernels.regressionLoss(0, P.ptr, T.ptr, 1, 2, 0, 0, 0, 1);
    expect(Array.from(get(rt, N.ptr, 2))).toEqual([9, 9]);
    expect(Number.isNaN(rt.kernels.regressionLoss(7, P.ptr, T.ptr, 1, 2, 0, 0, M.ptr, 1))).toBe(true);
    for (const b of [Z, T, Gr, P, M, N]) rt.arena.free(b.base);
  });

  // ---- dropout --------------------------------------------------------------------------------
  it('dropout mask equals an independent Philox-4x32-10 (Random123 known answers) and keeps survivors scaled by 1/(1−rate)', async () => {
    expect(philox([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    expect(philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
    const rt = await harnessFor(build);
    for (const rate of [0, 0.1, 0.5, 0.9, 1]) {
      for (const n of SIZES) {
        const x = testData(n, n + 77);
        const X = put(rt, x, G);
        const Mk = put(rt, new Float32Array(n), G);
        expect(K(rt).dropout_forward(X.ptr, Mk.ptr, n, rate, 1234, 5, 678)).toBe(0);
        const y = get(rt, X.ptr, n);
        const m = get(rt, Mk.ptr, n);
        guardsIntact(rt, X);
        guardsIntact(rt, Mk);
        const thr = BigInt(Math.round(Math.fround(rate) * 2 ** 32));
        const keep = rate >= 1 ? 0 : Math.fround(1 / (1 - Math.fround(rate)));
        for (let b = 0; b * 4 < n; b++) {
          const words = philox([b, 678, 0, 0], [1234, 5]);
          for (let l = 0; l < 4 && b * 4 + l < n; l++) {
            const i = b * 4 + l;
            expect(m[i]).toBe(BigInt(words[l]!) < thr ? 0 : keep);
            expect(y[i]).toBe(Math.fround(x[i]! * m[i]!));
          }
        }
        if (rate === 0) expect(Array.from(y)).toEqual(Array.from(x));
        rt.arena.free(X.base);
        rt.arena.free(Mk.base);
      }
    }
  });

  it('dropout keeps the expected fraction (4σ binomial), is bit-reproducible, differs by seed/stream/counter, backward uses the mask', async () => {
    const rt = await harnessFor(build);
    const n = 100_003;
    const masks = (seed: number, stream: number, counter: number, rate: number) => {
      const X = put(rt, new Float32Array(n).fill(1));
      const Mk = put(rt, new Float32Array(n));
      K(rt).dropout_forward(X.ptr, Mk.ptr, n, rate, seed, stream, counter);
      const m = get(rt, Mk.ptr, n);
      rt.arena.free(X.base);
      rt.arena.free(Mk.base);
      return m;
    };
    for (const rate of [0.05, 0.2, 0.5, 0.8]) {
      const m = masks(7, 1, 3, rate);
      const dropped = m.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
      const sd = Math.sqrt(n * rate * (1 - rate));
      expect(Math.abs(dropped - n * rate)).toBeLessThanOrEqual(4 * sd);
      expect(masks(7, 1, 3, rate)).toEqual(m);
      for (const other of [masks(8, 1, 3, rate), masks(7, 2, 3, rate), masks(7, 1, 4, rate)]) {
        let diff = 0;
        for (let i = 0; i < n; i++) if (other[i] !== m[i]) diff++;
        // independent masks differ in a fraction 2·rate·(1−rate) of positions
        expect(Math.abs(diff - 2 * n * rate * (1 - rate))).toBeLessThanOrEqual(5 * Math.sqrt(n));
      }
    }
    // backward: dy ← dy·mask with the mask forward wrote
    const x = testData(1023, 99);
    const X = put(rt, x);
    const Mk = put(rt, new Float32Array(1023));
    K(rt).dropout_forward(X.ptr, Mk.ptr, 1023, 0.3, 42, 0, 0);
    const m = get(rt, Mk.ptr, 1023);
    const dy = testData(1023, 100);
    const D = put(rt, dy, G);
    K(rt).dropout_backward(D.ptr, Mk.ptr, 1023);
    const dx = get(rt, D.ptr, 1023);
    guardsIntact(rt, D);
    for (let i = 0; i < 1023; i++) expect(dx[i]).toBe(Math.fround(dy[i]! * m[i]!));
    for (const bad of [-0.1, 1.5, NaN]) {
      const before = get(rt, X.ptr, 1023);
      expect(K(rt).dropout_forward(X.ptr, Mk.ptr, 1023, bad, 1, 0, 0)).toBe(2); // STATUS bad argument
      expect(get(rt, X.ptr, 1023)).toEqual(before);
    }
    for (const b of [X, Mk, D]) rt.arena.free(b.base);
  });

  // ---- batch norm -----------------------------------------------------------------------------
  it('batch norm (BatchNorm1d): training forward, running stats (unbiased var, momentum 0.1), inference, backward vs central differences', async () => {
    const rt = await harnessFor(build);
    const shapes: [number, number][] = [[2, 1], [3, 5], [5, 3], [17, 4], [64, 17], [1023, 3]];
    for (const [rows, f] of shapes) {
      for (const affine of [true, false]) {
        const x = testData(rows * f, rows * 3 + f, 2).map((v, i) => v + (i % f) * 0.5);
        const gamma = affine ? testData(f, f + 1).map((v) => 1 + 0.5 * v) : null;
        const beta = affine ? testData(f, f + 2) : null;
        const rm0 = testData(f, f + 3);
        const rv0 = testData(f, f + 4).map((v) => 1 + 0.5 * v);
        const eps = 1e-5;
        const mom = 0.1;
        const X = put(rt, x);
        const Gm = gamma ? put(rt, gamma) : null;
        const Bt = beta ? put(rt, beta) : null;
        const RM = put(rt, rm0, G);
        const RV = put(rt, rv0, G);
        const Y = put(rt, new Float32Array(rows * f), G);
        const SM = put(rt, new Float32Array(f), G);
        const SI = put(rt, new Float32Array(f), G);
        expect(K(rt).batchnorm_train(X.ptr, rows, f, Gm ? Gm.ptr : 0, Bt ? Bt.ptr : 0, eps, mom, RM.ptr, RV.ptr, Y.ptr, SM.ptr, SI.ptr)).toBe(0);
        for (const b of [RM, RV, Y, SM, SI]) guardsIntact(rt, b);
        const y = get(rt, Y.ptr, rows * f);
        const rm = get(rt, RM.ptr, f);
        const rv = get(rt, RV.ptr, f);
        const g64 = gamma ? Float64Array.from(gamma) : new Float64Array(f).fill(1);
        const b64 = beta ? Float64Array.from(beta) : new Float64Array(f);
        // f64 forward of one column from the definition
        const col = (xc: Float64Array, gj: number, bj: number) => {
          const mean = xc.reduce((s, v) => s + v, 0) / rows;
          const v = xc.reduce((s, q) => s + (q - mean) ** 2, 0) / rows;
          return { y: Array.from(xc, (q) => (gj * (q - mean)) / Math.sqrt(v + eps) + bj), mean, v };
        };
        const r = testData(rows * f, rows + f + 50);
        const DY = put(rt, r);
        const DX = put(rt, new Float32Array(rows * f), G);
        const DG = put(rt, new Float32Array(f), G);
        const DB = put(rt, new Float32Array(f), G);
        K(rt).batchnorm_backward(X.ptr, DY.ptr, rows, f, Gm ? Gm.ptr : 0, SM.ptr, SI.ptr, DX.ptr, DG.ptr, DB.ptr);
        for (const b of [DX, DG, DB]) guardsIntact(rt, b);
        const dx = get(rt, DX.ptr, rows * f);
        const dg = get(rt, DG.ptr, f);
        const db = get(rt, DB.ptr, f);
        for (let j = 0; j < f; j++) {
          const xc = Float64Array.from({ length: rows }, (_, i) => x[i * f + j]!);
          const rc = Float64Array.from({ length: rows }, (_, i) => r[i * f + j]!);
          const ref = col(xc, g64[j]!, b64[j]!);
          for (let i = 0; i < rows; i++) expect(Math.abs(y[i * f + j]! - ref.y[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.y[i]!)));
          expect(Math.abs(rm[j]! - ((1 - mom) * rm0[j]! + mom * ref.mean))).toBeLessThan(1e-6);
          expect(Math.abs(rv[j]! - ((1 - mom) * rv0[j]! + (mom * ref.v * rows) / (rows - 1)))).toBeLessThan(2e-6);
          // L = Σ r ⊙ y
          const Lx = (xx: Float64Array) => col(xx, g64[j]!, b64[j]!).y.reduce((s, v, i) => s + v * rc[i]!, 0);
          for (let i = 0; i < rows; i++) {
            const d = fd(Lx, xc, i);
            expect(Math.abs(dx[i * f + j]! - d)).toBeLessThan(1e-4 * Math.max(1, Math.abs(d)));
          }
          const Lg = (p: Float64Array) => col(xc, p[0]!, p[1]!).y.reduce((s, v, i) => s + v * rc[i]!, 0);
          const gb = Float64Array.of(g64[j]!, b64[j]!);
          expect(Math.abs(dg[j]! - fd(Lg, gb, 0))).toBeLessThan(1e-4 * Math.max(1, Math.abs(dg[j]!)));
          expect(Math.abs(db[j]! - fd(Lg, gb, 1))).toBeLessThan(1e-4 * Math.max(1, Math.abs(db[j]!)));
        }
        // inference: y = γ·(x − running_mean)/√(running_var + eps) + β
        const YI = put(rt, new Float32Array(rows * f), G);
        K(rt).batchnorm_infer(X.ptr, rows, f, Gm ? Gm.ptr : 0, Bt ? Bt.ptr : 0, eps, RM.ptr, RV.ptr, YI.ptr);
        guardsIntact(rt, YI);
        const yi = get(rt, YI.ptr, rows * f);
        for (let i = 0; i < rows * f; i++) {
          const j = i % f;
          const want = (g64[j]! * (x[i]! - rm[j]!)) / Math.sqrt(rv[j]! + eps) + b64[j]!;
          expect(Math.abs(yi[i]! - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
        }
        for (const b of [X, RM, RV, Y, SM, SI, DY, DX, DG, DB, YI]) rt.arena.free(b.base);
        if (Gm) rt.arena.free(Gm.base);
        if (Bt) rt.arena.free(Bt.base);
      }
    }
  });

  it('batch norm training with one row returns status 2 (bad argument) and writes nothing', async () => {
    const rt = await harnessFor(build);
    const X = put(rt, [1, 2, 3]);
    const RM = put(rt, [0.5, 0.5, 0.5]);
    const Y = put(rt, [7, 7, 7]);
    expect(K(rt).batchnorm_train(X.ptr, 1, 3, 0, 0, 1e-5, 0.1, RM.ptr, RM.ptr, Y.ptr, Y.ptr, Y.ptr)).toBe(2);
    expect(Array.from(get(rt, RM.ptr, 3))).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(get(rt, Y.ptr, 3))).toEqual([7, 7, 7]);
    for (const b of [X, RM, Y]) rt.arena.free(b.base);
  });

  // ---- max-norm -------------------------------------------------------------------------------
  it('max-norm (Keras MaxNorm, axis 0): every column norm ≤ r(1+1e-6), outside columns → w·r/‖w‖, inside columns bit-identical', async () => {
    const rt = await harnessFor(build);
    for (const nIn of SIZES)
      for (const nOut of [1, 3, 17, 64]) {
        const w0 = testData(nIn * nOut, nIn * 5 + nOut, 1.5);
        // r = median column norm, so both kinds of column occur
        const norms = Array.from({ length: nOut }, (_, j) => {
          let s = 0;
          for (let i = 0; i < nIn; i++) s += w0[i * nOut + j]! ** 2;
          return Math.sqrt(s);
        });
        const r = Math.fround([...norms].sort((a, b) => a - b)[nOut >> 1]!);
        const W = put(rt, w0, G);
        const count = K(rt).max_norm(W.ptr, nIn, nOut, r, 0);
        guardsIntact(rt, W);
        const w = get(rt, W.ptr, nIn * nOut);
        let want = 0;
        for (let j = 0; j < nOut; j++) {
          let s = 0;
          for (let i = 0; i < nIn; i++) s += w[i * nOut + j]! ** 2;
          expect(Math.sqrt(s)).toBeLessThanOrEqual(r * (1 + 1e-6));
          if (norms[j]! > r) {
            want++;
            for (let i = 0; i < nIn; i++) {
              const e = (w0[i * nOut + j]! * r) / norms[j]!;
              expect(Math.abs(w[i * nOut + j]! - e)).toBeLessThanOrEqual(2e-7 * Math.abs(e) + 1e-30);
            }
          } else {
            for (let i = 0; i < nIn; i++) expect(Object.is(w[i * nOut + j], w0[i * nOut + j])).toBe(true);
          }
        }
        expect(count).toBe(want);
        rt.arena.free(W.base);
        // Keras's form (keras/src/constraints/constraints.py MaxNorm, ε = backend.epsilon()):
        // w·clip(‖w‖, 0, r)/(ε + ‖w‖) on every column, in f64; ε large enough to show
        for (const eps of [1e-7, 0.05]) {
          const V = put(rt, w0, G);
          expect(K(rt).max_norm(V.ptr, nIn, nOut, r, eps)).toBe(want);
          guardsIntact(rt, V);
          const v = get(rt, V.ptr, nIn * nOut);
          for (let j = 0; j < nOut; j++) {
            for (let i = 0; i < nIn; i++) {
              const e = (w0[i * nOut + j]! * Math.min(norms[j]!, r)) / (Math.fround(eps) + norms[j]!);
              expect(Math.abs(v[i * nOut + j]! - e)).toBeLessThanOrEqual(2e-7 * Math.abs(e) + 1e-30);
            }
          }
          rt.arena.free(V.base);
        }
      }
  });

  // ---- reductions -----------------------------------------------------------------------------
  it('sum of squares (f64), in-place scale, clip by value, argmax per row and correct count', async () => {
    const rt = await harnessFor(build);
    for (const n of SIZES) {
      const x = testData(n, n + 200, 3);
      const X = put(rt, x, G);
      const want = x.reduce((s, v) => s + v * v, 0);
      expect(Math.abs(K(rt).sum_squares(X.ptr, n) - want)).toBeLessThanOrEqual(1e-13 * Math.max(1, want));
      K(rt).scale_inplace(X.ptr, n, 0.3);
      const s = get(rt, X.ptr, n);
      for (let i = 0; i < n; i++) expect(s[i]).toBe(Math.fround(x[i]! * Math.fround(0.3)));
      K(rt).clip_by_value(X.ptr, n, -0.25, 0.5);
      const c = get(rt, X.ptr, n);
      for (let i = 0; i < n; i++) expect(c[i]).toBe(Math.min(0.5, Math.max(-0.25, s[i]!)));
      guardsIntact(rt, X);
      rt.arena.free(X.base);
    }
    const N = put(rt, [NaN, 3]);
    K(rt).clip_by_value(N.ptr, 2, 0, 1);
    const nn = get(rt, N.ptr, 2);
    expect(Number.isNaN(nn[0]!) && nn[1] === 1).toBe(true);
    rt.arena.free(N.base);
    for (const [rows, cols] of [[1, 1], [3, 5], [17, 3], [64, 10], [1023, 4], [2, 1023]] as const) {
      // quantised values so ties occur; ties go to the lowest index (torch.argmax / np.argmax)
      const z = testData(rows * cols, rows + cols).map((v) => Math.round(v * 3));
      const labels = Array.from({ length: rows }, (_, r) => (r * 5) % cols);
      const Z = put(rt, z);
      const O = putI32(rt, new Array(rows + 2).fill(-7));
      K(rt).argmax_rows(Z.ptr, rows, cols, O + 4);
      const out = rt.arena.i32.slice((O >> 2), (O >> 2) + rows + 2);
      let correct = 0;
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let j = 1; j < cols; j++) if (z[r * cols + j]! > z[r * cols + best]!) best = j;
        expect(out[r + 1]).toBe(best);
        if (best === labels[r]) correct++;
      }
      expect(out[0]).toBe(-7);
      expect(out[rows + 1]).toBe(-7);
      const Lb = putI32(rt, labels);
      expect(K(rt).count_correct(Z.ptr, Lb, rows, cols)).toBe(correct);
      for (const p of [Z.base, O, Lb]) rt.arena.free(p);
    }
  });
});

// ---- Philox-4x32-10 (Salmon et al. 2011), written independently with BigInt ----------------------
function philox(ctr: number[], key: number[]): number[] {
  const M0 = 0xd2511f53n;
  const M1 = 0xcd9e8d57n;
  let c = ctr.map((v) => BigInt(v >>> 0));
  let k0 = BigInt(key[0]! >>> 0);
  let k1 = BigInt(key[1]! >>> 0);
  const mask = 0xffffffffn;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9e3779b9n) & mask;
      k1 = (k1 + 0xbb67ae85n) & mask;
    }
    const p0 = M0 * c[0]!;
    const p1 = M1 * c[2]!;
    c = [(p1 >> 32n) ^ c[1]! ^ k0, p1 & mask, (p0 >> 32n) ^ c[3]! ^ k1, p0 & mask];
  }
  return c.map((v) => Number(v));
}
