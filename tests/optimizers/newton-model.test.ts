// Models compiled with newton / newtonCG / bfgs (wasmfit/newton): L2 logistic regression on the
// breast-cancer data of tests/fixtures/scipy-second-order.json reaches scikit-learn's optimum; the
// Hessian newton builds from central differences of the float32 kernel gradient is measured
// against the exact float64 Hessian XᵀDX/N + 2λI; checkpoints and model files round-trip; bad
// configs are refused before the model changes.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Sequential, ShapeError, adam, dense, deserializeCheckpoint, deserializeModel, dropout, init, l2, serializeCheckpoint, serializeModel } from '../../ts/index.js';
import { ModelObjective64, bfgs, fullBatchObjective, newton, newtonCG } from '../../ts/optimizers/newton.js';
import { denseHessian } from '../../ts/optimizers/dense.js';
import { getRuntime } from '../../ts/runtime/loader.js';

const FX = JSON.parse(readFileSync(new URL('../fixtures/scipy-second-order.json', import.meta.url), 'utf8')) as {
  logistic: { X: number[][]; y: number[]; lam: number; sklearn: { coef: number[]; intercept: number; fun: number; gradInf: number } };
};
const LR = FX.logistic;
const N = LR.X.length;
const D = LR.X[0]!.length;
const X = Float32Array.from(LR.X.flat().map(Math.fround));
const Y = Float32Array.from(LR.y);
const SK = [...LR.sklearn.coef, LR.sklearn.intercept];

const build = (optimizer: Parameters<Sequential['compile']>[0]['optimizer']) => {
  const m = new Sequential({ inputShape: [D], seed: 1, layers: [dense(1, { kernelRegularizer: l2(LR.lam) })] });
  m.compile({ optimizer, loss: 'binaryCrossentropy' });
  return m;
};
const flat = (m: Sequential) => m.getWeights().flatMap((t) => Array.from(t.data));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

/** The exact Hessian of J(w, b) = mean BCE + λ‖w‖² in float64 at θ: Σ p(1−p) x̃x̃ᵀ / N + 2λ·I_w. */
function exactHessian(theta: number[]): Float64Array {
  const P = D + 1;
  const H = new Float64Array(P * P);
  for (let i = 0; i < N; i++) {
    let z = theta[D]!;
    for (let j = 0; j < D; j++) z += X[i * D + j]! * theta[j]!;
    const p = 1 / (1 + Math.exp(-z));
    const s = (p * (1 - p)) / N;
    const xt = (j: number) => (j === D ? 1 : X[i * D + j]!);
    for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) H[a * P + b]! += s * xt(a) * xt(b);
  }
  for (let j = 0; j < D; j++) H[j * P + j]! += 2 * LR.lam;
  return H;
}

beforeAll(async () => {
  await init();
});

describe('models compiled with the dense second-order methods', () => {
  it.each([
    ['newton', () => newton({ gtol: 1e-5 }), 20],
    ['bfgs', () => bfgs({ gtol: 1e-5 }), 400],
    ['newtonCG', () => newtonCG({ gtol: 1e-5, maxIter: 50 }), 50],
  ] as const)('%s: one full-batch fit step reaches scikit-learn\'s logistic-regression optimum', async (_name, opt, maxIter) => {
    const m = build(opt());
    const h = await m.fit(X, Y, { batchSize: N, epochs: 1 });
    const last = m.secondOrder!.last!;
    expect(last.reason).toBe('tolGrad');
    expect(last.gradNorm!).toBeLessThanOrEqual(1e-5);
    expect(last.iterations).toBeLessThanOrEqual(maxIter);
    // J is (1/N)-strongly convex: ‖θ − θ*‖∞ <= ‖∇J(θ)‖₂·N, and both points have ‖∇J‖∞ <= 1e-5 / gradInf
    const bound = Math.sqrt(D + 1) * (1e-5 + LR.sklearn.gradInf) * N;
    expect(maxDiff(flat(m), SK)).toBeLessThan(bound);
    expect(maxDiff(flat(m), SK)).toBeLessThan(0.05);
    expect(h.history.loss!.length).toBe(1);
    m.dispose();
  });

  it('newton takes far fewer iterations than bfgs on the same problem', async () => {
    const a = build(newton({ gtol: 1e-5 }));
    const b = build(bfgs({ gtol: 1e-5 }));
    await a.fit(X, Y, { batchSize: N, epochs: 1 });
    await b.fit(X, Y, { batchSize: N, epochs: 1 });
    expect(a.secondOrder!.last!.iterations * 5).toBeLessThan(b.secondOrder!.last!.iterations);
    a.dispose();
    b.dispose();
  });

  it('the Hessian from central differences of the float32 gradient vs the exact float64 Hessian', async () => {
    const m = build(newton({ maxIter: 2 }));
    await m.fit(X, Y, { batchSize: N, epochs: 1 });
    // the model objective the engine used, still loaded with the full batch
    const obj = (m.secondOrder as unknown as { obj: ConstructorParameters<typeof ModelObjective64>[1] }).obj;
    const rt = getRuntime();
    const xs = rt.arena.allocF32(D + 1);
    const gs = rt.arena.allocF32(D + 1);
    const theta = flat(m);
    const E = exactHessian(theta);
    const scale = Math.max(...Array.from(E, Math.abs));
    const hessianError = (eps: number) => {
      const o = new ModelObjective64(rt, obj, xs, gs);
      Object.defineProperty(o, 'eps', { value: eps });
      const H = new Float64Array((D + 1) ** 2);
      denseHessian(o, Float64Array.from(theta), H);
      return maxDiff(H, E) / scale;
    };
    // the step newton uses, h = ε₃₂^⅓ ≈ 4.9e-3, against smaller and larger ones
    const err = hessianError(2 ** -23);
    const tooSmall = hessianError(1e-15); // h = 1e-5: float32 rounding of the gradients dominates
    const tooLarge = hessianError(1e-1); // h ≈ 0.46: truncation error dominates
    console.log(`central-difference Hessian vs exact f64, max |ΔH| / max |H|: h = 4.9e-3: ${err.toExponential(2)}; h = 1e-5: ${tooSmall.toExponential(2)}; h = 0.46: ${tooLarge.toExponential(2)}`);
    rt.arena.free(xs);
    rt.arena.free(gs);
    expect(err).toBeLessThan(tooSmall);
    expect(err).toBeLessThan(tooLarge);
    // measured here: 3e-5 at h = ε₃₂^⅓, 1e-2 at h = 1e-5, 0.2 at h = 0.46
    expect(err).toBeLessThan(1e-3);
    expect(err).toBeGreaterThan(0); // float32: not exact
    m.dispose();
  });

  it('checkpoints and model files carry the config and the damping: N/2 + checkpoint + N/2 = N epochs', async () => {
    const opt = () => newton({ maxIter: 1 });
    const straight = build(opt());
    await straight.fit(X, Y, { batchSize: N, epochs: 4, shuffle: false });
    const a = build(opt());
    await a.fit(X, Y, { batchSize: N, epochs: 2, shuffle: false });
    const { model: b } = deserializeCheckpoint(serializeCheckpoint(a));
    await b.fit(X, Y, { batchSize: N, epochs: 4, initialEpoch: 2, shuffle: false });
    expect(flat(b)).toEqual(flat(straight));
    const copy = deserializeModel(serializeModel(b));
    expect((copy.compileOptions!.optimizer as { type: string }).type).toBe('newton');
    expect(JSON.parse(JSON.stringify(copy.compileOptions))).toEqual(JSON.parse(JSON.stringify(b.compileOptions)));
    for (const m of [straight, a, b, copy]) m.dispose();
  });

  it('bad configs are refused at compile and leave the model as it was', async () => {
    const m = build(adam({ lr: 0.01 }));
    const before = flat(m);
    expect(() => m.compile({ optimizer: newton({ maxParams: 10 }), loss: 'binaryCrossentropy' })).toThrow(OptionError);
    expect(() => m.compile({ optimizer: newton({ maxParams: 10 }), loss: 'binaryCrossentropy' })).toThrow(/maxParams = 10.*newtonCG/);
    expect((m.compileOptions!.optimizer as { type: string }).type).toBe('adam');
    expect(flat(m)).toEqual(before);
    await m.fit(X, Y, { batchSize: 64, epochs: 1 });
    m.dispose();
    const withDropout = new Sequential({ inputShape: [D], layers: [dense(4, { activation: 'tanh' }), dropout(0.5), dense(1)] });
    expect(() => withDropout.compile({ optimizer: bfgs(), loss: 'binaryCrossentropy' })).toThrow(/bfgs needs a deterministic full-batch objective/);
    withDropout.dispose();
  });

  it('fullBatchObjective: the float32 objective fit minimizes, against J and ∇J in float64; bad input refused', () => {
    const m = build(newton());
    const obj = fullBatchObjective(m, X, Y);
    expect(obj.size).toBe(D + 1);
    const theta = SK.map((v, i) => v * (1 + 0.1 * Math.sin(i)));
    const { loss, grad } = obj.f(theta);
    // J(θ) and ∇J(θ) in float64, from the definitions (θ rounded to float32 as the model holds it)
    const t = theta.map(Math.fround);
    let J = 0;
    const g = new Float64Array(D + 1);
    for (let i = 0; i < N; i++) {
      let z = t[D]!;
      for (let j = 0; j < D; j++) z += X[i * D + j]! * t[j]!;
      J += Math.max(z, 0) - z * Y[i]! + Math.log1p(Math.exp(-Math.abs(z)));
      const e = 1 / (1 + Math.exp(-z)) - Y[i]!;
      for (let j = 0; j < D; j++) g[j]! += (e * X[i * D + j]!) / N;
      g[D]! += e / N;
    }
    J /= N;
    for (let j = 0; j < D; j++) {
      J += LR.lam * t[j]! ** 2;
      g[j]! += 2 * LR.lam * t[j]!;
    }
    expect(Math.abs(loss - J)).toBeLessThan(1e-5 * Math.abs(J));
    expect(maxDiff(grad, g)).toBeLessThan(1e-5);
    // f leaves the weights at θ; params / setParams round-trip
    expect(maxDiff(obj.params(), t)).toBe(0);
    obj.setParams(SK);
    expect(maxDiff(flat(m), SK.map(Math.fround))).toBe(0);
    expect(() => obj.f([1, 2])).toThrow(ShapeError);
    const plain = new Sequential({ inputShape: [D], layers: [dense(1)] });
    plain.compile({ optimizer: adam(), loss: 'binaryCrossentropy' });
    expect(() => fullBatchObjective(plain, X, Y)).toThrow(/not compiled with a full-batch optimizer/);
    expect(() => fullBatchObjective(m, X.subarray(0, 7), Y)).toThrow(ShapeError);
    plain.dispose();
    m.dispose();
    expect(() => obj.f(SK)).toThrow(/disposed/);
  });
});
