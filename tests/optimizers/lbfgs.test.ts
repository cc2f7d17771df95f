// L-BFGS (PyTorch torch.optim.LBFGS semantics) on L2-regularized logistic regression, whose optimum
// is computed here by Newton's method in float64, plus a small MLP trained full-batch; the
// option validation and the standalone API.
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Rng, Sequential, ShapeError, dense, init, l2, lbfgs, matrix, sgd } from '../../ts/index.js';
import { tinyModel } from '../helpers.js';

// ---- the problem: N samples, D features on very different scales (ill-conditioned) ----
const N = 240;
const D = 6;
const LAMBDA = 1e-3; // Keras l2: λ·Σw² on the kernel, no bias penalty
const SCALES = [3, 1, 0.5, 0.2, 2, 0.1];
const rng = new Rng(7);
const X = new Float32Array(N * D);
const Y = new Float32Array(N);
const wTrue = [1.2, -0.8, 2.0, 3.0, -0.3, 6.0];
for (let r = 0; r < N; r++) {
  let z = 0.4;
  for (let j = 0; j < D; j++) {
    const v = Math.fround(rng.normal() * SCALES[j]!);
    X[r * D + j] = v;
    z += v * wTrue[j]!;
  }
  Y[r] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
}

/** Objective J(θ), θ = [w (D), b], and its gradient, in float64. */
function objective(theta: ArrayLike<number>): { loss: number; grad: Float64Array } {
  const g = new Float64Array(D + 1);
  let loss = 0;
  for (let r = 0; r < N; r++) {
    let z = theta[D]!;
    for (let j = 0; j < D; j++) z += X[r * D + j]! * theta[j]!;
    // BCE with logits: max(z, 0) − z·y + log(1 + e^−|z|)
    loss += Math.max(z, 0) - z * Y[r]! + Math.log1p(Math.exp(-Math.abs(z)));
    const e = 1 / (1 + Math.exp(-z)) - Y[r]!;
    for (let j = 0; j < D; j++) g[j]! += (e * X[r * D + j]!) / N;
    g[D]! += e / N;
  }
  loss /= N;
  for (let j = 0; j < D; j++) {
    loss += LAMBDA * theta[j]! ** 2;
    g[j]! += 2 * LAMBDA * theta[j]!;
  }
  return { loss, grad: g };
}

/** Newton's method in float64: θ ← θ − H⁻¹g, H = Xᵀ diag(p(1−p)) X / N + 2λI (kernel only). */
function newtonOptimum(): { theta: Float64Array; loss: number } {
  const P = D + 1;
  const theta = new Float64Array(P);
  for (let it = 0; it < 50; it++) {
    const { grad } = objective(theta);
    const H = Array.from({ length: P }, () => new Float64Array(P));
    for (let r = 0; r < N; r++) {
      let z = theta[D]!;
      for (let j = 0; j < D; j++) z += X[r * D + j]! * theta[j]!;
      const p = 1 / (1 + Math.exp(-z));
      const s = (p * (1 - p)) / N;
      const xr = (j: number) => (j === D ? 1 : X[r * D + j]!);
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) H[i]![j]! += s * xr(i) * xr(j);
    }
    for (let j = 0; j < D; j++) H[j]![j]! += 2 * LAMBDA;
    // solve H·δ = g by Gaussian elimination with partial pivoting
    const A = H.map((row, i) => [...row, grad[i]!]);
    for (let c = 0; c < P; c++) {
      let piv = c;
      for (let r = c + 1; r < P; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
      [A[c], A[piv]] = [A[piv]!, A[c]!];
      for (let r = c + 1; r < P; r++) {
        const f = A[r]![c]! / A[c]![c]!;
        for (let k = c; k <= P; k++) A[r]![k]! -= f * A[c]![k]!;
      }
    }
    const delta = new Float64Array(P);
    for (let r = P - 1; r >= 0; r--) {
      let s = A[r]![P]!;
      for (let k = r + 1; k < P; k++) s -= A[r]![k]! * delta[k]!;
      delta[r] = s / A[r]![r]!;
    }
    for (let i = 0; i < P; i++) theta[i]! -= delta[i]!;
    if (Math.max(...delta.map(Math.abs)) < 1e-15) break;
  }
  return { theta, loss: objective(theta).loss };
}

const OPT = newtonOptimum();

/** Gradient descent in float64 with the fixed step 1/L (L = a bound on the largest Hessian eigenvalue). */
function gradientDescentIterations(tol: number, cap: number): number {
  let L = 2 * LAMBDA;
  for (let r = 0; r < N; r++) {
    let s = 1;
    for (let j = 0; j < D; j++) s += X[r * D + j]! ** 2;
    L += s / (4 * N); // trace bound on λ_max of Xᵀ diag(1/4) X / N
  }
  const theta = new Float64Array(D + 1);
  for (let it = 1; it <= cap; it++) {
    const { grad } = objective(theta);
    for (let i = 0; i <= D; i++) theta[i]! -= grad[i]! / L;
    if (objective(theta).loss - OPT.loss <= tol * OPT.loss) return it;
  }
  return cap;
}

beforeAll(async () => {
  await init();
});

describe('lbfgs', () => {
  it('the float64 Newton optimum is a true optimum (gradient ~ 0)', () => {
    const { grad } = objective(OPT.theta);
    expect(Math.max(...grad.map(Math.abs))).toBeLessThan(1e-12);
  });

  it('standalone: reaches the optimum to 1e-6 relative in far fewer iterations than gradient descent', () => {
    const r = lbfgs({ lineSearch: 'strongWolfe', maxIter: 200, tolGrad: 1e-9, tolChange: 1e-12 }).minimize((p) => objective(p), new Float32Array(D + 1));
    const gap = (objective(r.x).loss - OPT.loss) / OPT.loss;
    expect(gap).toBeGreaterThanOrEqual(-1e-12);
    expect(gap).toBeLessThan(1e-6);
    expect(r.initialLoss).toBeCloseTo(Math.LN2, 6); // θ = 0: every p = 1/2
    // iterations until L-BFGS first gets within 1e-6: run again step by step, one iteration each
    const run = lbfgs({ lineSearch: 'strongWolfe', maxIter: 1, tolChange: 0 }).init(new Float32Array(D + 1));
    let lbfgsIters = 0;
    while (lbfgsIters < 200) {
      lbfgsIters++;
      const s = run.step((p) => objective(p));
      if ((objective(s.x).loss - OPT.loss) / OPT.loss < 1e-6) break;
    }
    run.dispose();
    const gdIters = gradientDescentIterations(1e-6, 20000);
    expect(lbfgsIters).toBeLessThan(40);
    expect(gdIters).toBeGreaterThan(20 * lbfgsIters);
  });

  it.each(['simd', 'scalar'] as const)('fit (%s): compile({ optimizer: lbfgs }) + full batch reaches the Newton optimum', async (build) => {
    await init({ simd: build === 'simd' });
    const m = new Sequential({ inputShape: [D], layers: [dense(1, { kernelRegularizer: l2(LAMBDA) })], seed: 3 });
    m.compile({ optimizer: lbfgs({ lineSearch: 'strongWolfe', maxIter: 100, tolGrad: 1e-9 }), loss: 'binaryCrossentropy' });
    const h = await m.fit(X, matrix(Y, [N, 1]), { batchSize: N, epochs: 3, shuffle: false });
    const w = m.getWeights();
    const theta = [...w[0]!.data, w[1]!.data[0]!];
    const gap = (objective(theta).loss - OPT.loss) / OPT.loss;
    expect(gap).toBeLessThan(1e-6);
    // the logged loss is the data loss at the start of each step: it falls
    const losses = h.history.loss!;
    expect(losses.length).toBe(3);
    expect(losses[1]!).toBeLessThan(losses[0]!);
    expect(m.optimizerStep).toBe(3);
    m.dispose();
    await init();
  });

  it('without a line search: fixed steps of lr (PyTorch default) still decrease the loss', () => {
    const r = lbfgs({ lr: 0.5, maxIter: 60 }).minimize((p) => objective(p), new Float32Array(D + 1));
    expect(r.loss).toBeLessThan(r.initialLoss);
    expect(r.iterations).toBeGreaterThan(1);
  });

  it('trains a small MLP full-batch (2-D rings, 2 → 16 tanh → 2)', async () => {
    const n = 200;
    const r2 = new Rng(5);
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const a = r2.next() * 2 * Math.PI;
      const inner = i % 2 === 0;
      const rad = inner ? 0.5 + 0.25 * r2.next() : 1.2 + 0.3 * r2.next();
      x[2 * i] = rad * Math.cos(a);
      x[2 * i + 1] = rad * Math.sin(a);
      y[i] = inner ? 0 : 1;
    }
    const m = tinyModel({ inputSize: 2, hidden: 16, activation: 'tanh', classes: 2, seed: 1, optimizer: lbfgs({ lineSearch: 'strongWolfe', maxIter: 40 }), metrics: ['crossentropy'] }).model;
    const before = m.evaluate(x, y);
    const h = await m.fit(x, y, { batchSize: n, epochs: 3 });
    // the logged loss and metrics are those of the point each step started from
    expect(h.history.loss![0]!).toBeCloseTo(before.loss, 5);
    h.history.crossentropy!.forEach((v, i) => expect(v).toBeCloseTo(h.history.loss![i]!, 4));
    const after = m.evaluate(x, y);
    expect(after.accuracy).toBeGreaterThanOrEqual(0.98);
    expect(after.loss).toBeLessThan(0.1 * before.loss);
    m.dispose();
  });

  it('follows torch.optim.LBFGS step by step: first step min(1, 1/‖g‖₁)·lr along −g, then the two-loop direction', () => {
    // f(x) = Σ c_i·(x_i − 1)² + (x_0·x_1)², in float64 from the float32 parameters
    const c = [1, 4, 0.5];
    const f = (p: ArrayLike<number>) => {
      let loss = (p[0]! * p[1]!) ** 2;
      const grad = [2 * p[0]! * p[1]! ** 2, 2 * p[1]! * p[0]! ** 2, 0];
      for (let i = 0; i < 3; i++) {
        loss += c[i]! * (p[i]! - 1) ** 2;
        grad[i]! += 2 * c[i]! * (p[i]! - 1);
      }
      return { loss, grad };
    };
    const lr = 0.1;
    const x0 = [0.5, -0.25, 2];
    const run = lbfgs({ lr, maxIter: 1 }).init(x0);
    const r1 = run.step(f);
    const g0 = f(x0).grad;
    const t0 = Math.min(1, 1 / g0.reduce((a, v) => a + Math.abs(v), 0)) * lr;
    const x1 = x0.map((v, i) => v - t0 * g0[i]!);
    r1.x.forEach((v, i) => expect(v).toBeCloseTo(x1[i]!, 6));
    // second step: one pair (s, y), H0 = yᵀs / yᵀy, two-loop recursion, step lr
    const r2 = run.step(f);
    const X1 = Array.from(r1.x);
    const g1 = f(X1).grad;
    const sv = X1.map((v, i) => v - x0[i]!);
    const yv = g1.map((v, i) => v - g0[i]!);
    const dot = (a: number[], b: number[]) => a.reduce((acc, v, i) => acc + v * b[i]!, 0);
    const rho = 1 / dot(yv, sv);
    const q = g1.map((v) => -v);
    const al = rho * dot(sv, q);
    const q2 = q.map((v, i) => v - al * yv[i]!);
    const rr = q2.map((v) => v * (dot(yv, sv) / dot(yv, yv)));
    const be = rho * dot(yv, rr);
    const d = rr.map((v, i) => v + (al - be) * sv[i]!);
    r2.x.forEach((v, i) => expect(v).toBeCloseTo(X1[i]! + lr * d[i]!, 5));
    run.dispose();
  });

  it('strong Wolfe: every accepted step satisfies Armijo and the curvature condition (Rosenbrock), and it converges', () => {
    const rosen = (p: ArrayLike<number>) => ({
      loss: (1 - p[0]!) ** 2 + 100 * (p[1]! - p[0]! ** 2) ** 2,
      grad: [-2 * (1 - p[0]!) - 400 * p[0]! * (p[1]! - p[0]! ** 2), 200 * (p[1]! - p[0]! ** 2)],
    });
    const run = lbfgs({ lineSearch: 'strongWolfe', maxIter: 1, tolChange: 0 }).init([-1.2, 1]);
    let x = [-1.2, 1];
    let prevDir: number[] | null = null;
    for (let k = 0; k < 60; k++) {
      const before = rosen(x);
      const r = run.step(rosen);
      const xn = Array.from(r.x);
      const step = xn.map((v, i) => v - x[i]!);
      if (Math.hypot(...step) === 0) break;
      // along the step direction p = x_new − x (t·d): Armijo with c1 = 1e-4, curvature with c2 = 0.9
      const gtd = before.grad[0]! * step[0]! + before.grad[1]! * step[1]!;
      const after = rosen(xn);
      const gtdNew = after.grad[0]! * step[0]! + after.grad[1]! * step[1]!;
      expect(gtd).toBeLessThan(0);
      expect(after.loss).toBeLessThanOrEqual(before.loss + 1e-4 * gtd + 1e-12);
      expect(Math.abs(gtdNew)).toBeLessThanOrEqual(0.9 * Math.abs(gtd) * (1 + 1e-6) + 1e-12);
      prevDir = step;
      x = xn;
    }
    expect(prevDir).not.toBeNull();
    const end = lbfgs({ lineSearch: 'strongWolfe', maxIter: 100 }).minimize(rosen, [-1.2, 1]);
    expect(Math.abs(end.x[0]! - 1)).toBeLessThan(1e-3);
    expect(Math.abs(end.x[1]! - 1)).toBeLessThan(2e-3);
    expect(end.iterations).toBeLessThan(60);
  });

  it('keeps its state across steps: two steps of maxIter k continue one run', () => {
    const f = (p: Float32Array) => objective(p);
    const run = lbfgs({ lineSearch: 'strongWolfe', maxIter: 5 }).init(new Float32Array(D + 1));
    const a = run.step(f);
    const b = run.step(f);
    expect(b.initialLoss).toBeCloseTo(a.loss, 12);
    expect(b.loss).toBeLessThan(a.loss);
    expect(run.stats.iterations).toBe(a.iterations + b.iterations);
    run.dispose();
    expect(() => run.x).toThrow(OptionError);
  });

  it.each(['lbfgs', 'cg'] as const)('%s: save → restore → continue gives the same trajectory as an uninterrupted run', async (kind) => {
    const { cg } = await import('../../ts/index.js');
    const f = (p: Float32Array) => objective(p);
    const make = () => (kind === 'lbfgs' ? lbfgs({ lineSearch: 'strongWolfe', maxIter: 3, historySize: 4 }) : cg({ maxIter: 3 }));
    const a = make().init(new Float32Array(D + 1));
    a.step(f);
    const saved = JSON.parse(JSON.stringify(a.getState(), (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    const x1 = a.x;
    const ra = [a.step(f), a.step(f)];
    const b = make().init(x1, saved);
    const rb = [b.step(f), b.step(f)];
    expect(Array.from(rb[1]!.x)).toEqual(Array.from(ra[1]!.x));
    expect(b.stats).toEqual(a.stats);
    // a state for another optimizer or size is refused
    expect(() => make().init(new Float32Array(D), saved)).toThrow(/parameters/);
    expect(() => (kind === 'lbfgs' ? cg() : lbfgs()).init(x1, saved)).toThrow(/belongs to/);
    expect(() => make().init(x1, { ...saved, d: saved.d.slice(1) })).toThrow(OptionError);
    a.dispose();
    b.dispose();
  });

  it('rejects bad options and bad objectives with typed errors', () => {
    expect(() => lbfgs({ historySize: 0 })).toThrow(OptionError);
    expect(() => lbfgs({ maxIter: 2.5 })).toThrow(/maxIter/);
    expect(() => lbfgs({ lineSearch: 'armijo' as never })).toThrow(/lineSearch/);
    expect(() => lbfgs({ lr: -1 })).toThrow(/lr/);
    expect(() => lbfgs({ bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    const opt = lbfgs();
    expect(opt.maxEval).toBe(25); // PyTorch: max_iter * 5 // 4
    expect(() => opt.minimize((p) => ({ loss: 0, grad: new Float32Array(p.length + 1) }), [1, 2])).toThrow(ShapeError);
    expect(() => opt.minimize(() => 3 as never, [1, 2])).toThrow(OptionError);
    expect(() => opt.minimize((p) => ({ loss: 0, grad: p }), [1, NaN])).toThrow(/finite/);
    expect(() => opt.minimize((p) => ({ loss: 0, grad: p }), [])).toThrow(ShapeError);
  });

  it('refuses dropout / batch norm models and leaves the model usable', async () => {
    const { dropout } = await import('../../ts/index.js');
    const m = new Sequential({ inputShape: [2], layers: [dense(4, { activation: 'relu' }), dropout(0.5), dense(2)] });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    expect(() => m.compile({ optimizer: lbfgs(), loss: 'softmaxCrossEntropy' })).toThrow(/deterministic/);
    await m.fit(new Float32Array([0, 1, 1, 0]), new Int32Array([0, 1]), { epochs: 1 });
    m.dispose();
  });
});
