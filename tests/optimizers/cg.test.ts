// Nonlinear conjugate gradient (Polak–Ribière+) on quadratics with known solutions computed here in
// float64: standalone on f(x) = ½xᵀAx − bᵀx, and through fit on linear least squares (MSE of a
// linear layer, solved by the normal equations).
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Rng, Sequential, cg, dense, init, matrix } from '../../ts/index.js';

/** Solves the SPD system A·x = b by Cholesky in float64. */
function cholSolve(A: Float64Array[], b: ArrayLike<number>): Float64Array {
  const n = b.length;
  const L = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = i === j ? Math.sqrt(s) : s / L[j]![j]!;
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * z[k]!;
    z[i] = s / L[i]![i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k]![i]! * x[k]!;
    x[i] = s / L[i]![i]!;
  }
  return x;
}

// A = Q·diag(λ)·Qᵀ with λ log-spaced over [1e-2, 10] (condition number 1000), Q orthonormal
const n = 30;
const rng = new Rng(11);
const Q = Array.from({ length: n }, () => Float64Array.from({ length: n }, () => rng.normal()));
for (let i = 0; i < n; i++) {
  // Gram–Schmidt on the rows
  for (let k = 0; k < i; k++) {
    let d = 0;
    for (let j = 0; j < n; j++) d += Q[i]![j]! * Q[k]![j]!;
    for (let j = 0; j < n; j++) Q[i]![j]! -= d * Q[k]![j]!;
  }
  const nr = Math.sqrt(Q[i]!.reduce((s, v) => s + v * v, 0));
  for (let j = 0; j < n; j++) Q[i]![j]! /= nr;
}
const lam = Float64Array.from({ length: n }, (_, i) => 1e-2 * 1000 ** (i / (n - 1)));
const A = Array.from({ length: n }, (_, i) =>
  Float64Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += Q[k]![i]! * lam[k]! * Q[k]![j]!;
    return s;
  }),
);
const b = Float64Array.from({ length: n }, () => rng.normal());
const xStar = cholSolve(A, b);
function quad(x: ArrayLike<number>): { loss: number; grad: Float64Array } {
  const g = new Float64Array(n);
  let f = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += A[i]![j]! * x[j]!;
    g[i] = s - b[i]!;
    f += 0.5 * x[i]! * s - b[i]! * x[i]!;
  }
  return { loss: f, grad: g };
}
const fStar = quad(xStar).loss;

beforeAll(async () => {
  await init();
});

describe('cg', () => {
  it('standalone: solves ½xᵀAx − bᵀx (condition number 1000) to 1e-6 relative in far fewer iterations than gradient descent', () => {
    const r = cg({ maxIter: 300, tolGrad: 1e-7 }).minimize((p) => quad(p), new Float32Array(n));
    const gap = (r.loss - fStar) / Math.abs(fStar);
    expect(gap).toBeLessThan(1e-6);
    let err = 0;
    let nrm = 0;
    for (let i = 0; i < n; i++) {
      err += (r.x[i]! - xStar[i]!) ** 2;
      nrm += xStar[i]! ** 2;
    }
    expect(Math.sqrt(err / nrm)).toBeLessThan(1e-3);
    // iterations to reach the gap: CG (one iteration per step) vs gradient descent with step 1/L
    const run = cg({ maxIter: 1, tolChange: 0 }).init(new Float32Array(n));
    let cgIters = 0;
    while (cgIters < 300) {
      cgIters++;
      if ((run.step((p) => quad(p)).loss - fStar) / Math.abs(fStar) < 1e-6) break;
    }
    run.dispose();
    const L = 10; // λ_max: the optimal fixed step of gradient descent is about 1/L
    const x = new Float64Array(n);
    let gdIters = 0;
    while (gdIters < 50000) {
      gdIters++;
      const { grad } = quad(x);
      for (let i = 0; i < n; i++) x[i]! -= grad[i]! / L;
      if ((quad(x).loss - fStar) / Math.abs(fStar) < 1e-6) break;
    }
    // measured: CG 134 iterations (float32 parameters lose conjugacy, so more than n = 30), gradient
    // descent 6269
    expect(cgIters).toBeLessThanOrEqual(6 * n);
    expect(gdIters).toBeGreaterThan(20 * cgIters);
  });

  it('fit: linear least squares (MSE of dense(1)) reaches the normal-equations solution', async () => {
    const N = 120;
    const D = 5;
    const r = new Rng(3);
    const X = new Float32Array(N * D);
    const Y = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      let t = 0.7;
      for (let j = 0; j < D; j++) {
        const v = Math.fround(r.normal() * (j + 1));
        X[i * D + j] = v;
        t += v * (j - 2);
      }
      Y[i] = Math.fround(t + 0.3 * r.normal());
    }
    // normal equations over [x, 1]: (ZᵀZ)θ = Zᵀy; MSE(θ) = mean (zθ − y)²
    const P = D + 1;
    const z = (i: number, j: number) => (j === D ? 1 : X[i * D + j]!);
    const ZtZ = Array.from({ length: P }, (_, a) => Float64Array.from({ length: P }, (_, c) => { let s = 0; for (let i = 0; i < N; i++) s += z(i, a) * z(i, c); return s; }));
    const Zty = Float64Array.from({ length: P }, (_, a) => { let s = 0; for (let i = 0; i < N; i++) s += z(i, a) * Y[i]!; return s; });
    const theta = cholSolve(ZtZ, Zty);
    const mse = (th: ArrayLike<number>) => { let s = 0; for (let i = 0; i < N; i++) { let p = 0; for (let j = 0; j < P; j++) p += z(i, j) * th[j]!; s += (p - Y[i]!) ** 2; } return s / N; };
    const best = mse(theta);
    const m = new Sequential({ inputShape: [D], layers: [dense(1)], seed: 2 });
    m.compile({ optimizer: cg({ maxIter: 50 }), loss: 'mse' });
    const h = await m.fit(X, matrix(Y, [N, 1]), { batchSize: N, epochs: 2 });
    const w = m.getWeights();
    const got = mse([...w[0]!.data, w[1]!.data[0]!]);
    expect((got - best) / best).toBeLessThan(1e-6);
    expect(h.history.loss![0]!).toBeGreaterThan(10 * best);
    m.dispose();
  });

  it('rejects bad options', () => {
    expect(() => cg({ lineSearch: null as never })).toThrow(/strongWolfe/);
    expect(() => cg({ c2: 1 })).toThrow(OptionError);
    expect(() => cg({ c2: 1e-5 })).toThrow(/c2/);
    expect(() => cg({ restartEvery: -1 })).toThrow(/restartEvery/);
    expect(cg().restartEvery).toBe(0);
    expect(cg({ maxIter: 10 }).maxEval).toBe(30);
  });
});
