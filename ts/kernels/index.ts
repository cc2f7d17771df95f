/**
 * `wasmfit/kernels`: the low-level layer, for packages that bring their own model: the same WASM
 * kernels `fit` runs, on plain {@link Matrix} values (copied in and out; no pointer ever leaves the
 * library). Call `await init()` (from `wasmfit`) first: both entries share one runtime. Its own
 * entry, like `wasmfit/safetensors`, so that the browser entry does not carry it.
 */
import { OptionError, ShapeError } from '../errors/index.js';
import { matrix, type Matrix } from '../data/tensor.js';
import { ACT_CODE, GEMM_ARGS, type ActivationName } from '../runtime/abi.js';
import type { Ptr } from '../runtime/arena.js';
import { getRuntime } from '../runtime/loader.js';
import { checkStatus } from '../runtime/status.js';
import { isActivationName } from '../layers/index.js';

/** Options of {@link matMul}. */
export interface MatMulOptions {
  /** Use Aᵀ (A is stored `[k, m]`). Default false. */
  transposeA?: boolean;
  /** Use Bᵀ (B is stored `[n, k]`). Default false. */
  transposeB?: boolean;
  /** Per-column bias of length n added before the activation. */
  bias?: Float32Array;
  /** Activation applied last (default `'linear'`). */
  activation?: ActivationName;
}

/**
 * `C = act(op(A)·op(B) + bias)` with the packed SIMD128 GEMM (every activation: ReLU fused into the
 * tile stores, the others over the stored rows, with PyTorch's default α: leakyRelu 0.01, elu 1) (transposes are free: they are
 * strides of the packing). f32 accumulation in k order within 256-deep blocks; no FMA, except on the
 * FMA build (`init()`'s `fma` option), which rounds each multiply-add once.
 *
 * @example
 * ```ts
 * const c = matMul(matrix(a, [128, 784]), matrix(w, [784, 256]), { bias: b, activation: 'relu' });
 * ```
 */
export function matMul(a: Matrix, b: Matrix, options: MatMulOptions = {}): Matrix {
  const W = 'matMul';
  const ta = options.transposeA ?? false;
  const tb = options.transposeB ?? false;
  const act = options.activation ?? 'linear';
  if (!isActivationName(act)) throw new OptionError('activation', `${W}: activation = ${JSON.stringify(act)}; expected one of ${Object.keys(ACT_CODE).join(', ')}.`);
  const A = matrix(a.data, a.shape);
  const B = matrix(b.data, b.shape);
  const [m, ka] = ta ? [A.shape[1], A.shape[0]] : A.shape;
  const [kb, n] = tb ? [B.shape[1], B.shape[0]] : B.shape;
  if (ka !== kb) throw new ShapeError(`${W}: op(A) is [${m}, ${ka}] and op(B) is [${kb}, ${n}]; the inner sizes must match.`);
  if (options.bias !== undefined && (!(options.bias instanceof Float32Array) || options.bias.length !== n)) {
    throw new ShapeError(`${W}: bias has ${options.bias?.length} values; expected a Float32Array of ${n} (one per output column).`);
  }
  const k = ka;
  const rt = getRuntime();
  const ar = rt.arena;
  const blocks: Ptr[] = [];
  const put = (d: Float32Array): Ptr => {
    const p = ar.allocF32(Math.max(1, d.length));
    blocks.push(p);
    ar.writeF32(p, d);
    return p;
  };
  try {
    const pa = put(A.data);
    const pb = put(B.data);
    const pc = ar.allocF32(Math.max(1, m * n));
    blocks.push(pc);
    const pbias = options.bias ? put(options.bias) : 0;
    const args = ar.alloc(GEMM_ARGS.size);
    blocks.push(args);
    const v = ar.view;
    const G = GEMM_ARGS;
    v.setUint32(args + G.m, m, true);
    v.setUint32(args + G.n, n, true);
    v.setUint32(args + G.k, k, true);
    v.setUint32(args + G.a, pa, true);
    v.setInt32(args + G.rsa, ta ? 1 : k, true);
    v.setInt32(args + G.csa, ta ? m : 1, true);
    v.setUint32(args + G.b, pb, true);
    v.setInt32(args + G.rsb, tb ? 1 : n, true);
    v.setInt32(args + G.csb, tb ? k : 1, true);
    v.setUint32(args + G.c, pc, true);
    v.setInt32(args + G.rsc, n, true);
    v.setFloat32(args + G.beta, 0, true);
    v.setUint32(args + G.bias, pbias, true);
    v.setUint32(args + G.act, ACT_CODE[act], true);
    v.setUint32(args + G.ws, rt.ws, true);
    checkStatus(rt.kernels.gemm(args), W);
    return { data: ar.readF32(pc, m * n), shape: [m, n] };
  } finally {
    for (const p of blocks) ar.free(p);
  }
}

/**
 * Softmax cross-entropy over class ids, fused with its gradient:
 * `loss_r = log Σ_j exp(z_rj) − z_r,y_r` (PyTorch `F.cross_entropy`, reduction 'mean'),
 * `grad = (softmax(z) − onehot(y)) / n`. Returns the mean loss, the gradient and the number of
 * rows whose argmax equals the label.
 */
export function softmaxCrossEntropy(logits: Matrix, labels: Int32Array): { loss: number; grad: Matrix; correct: number } {
  const Z = matrix(logits.data, logits.shape);
  const [n, k] = Z.shape;
  if (!(labels instanceof Int32Array) || labels.length !== n) throw new ShapeError(`softmaxCrossEntropy: ${labels?.length} labels for ${n} rows; pass an Int32Array with one class id per row.`);
  labels.forEach((c, i) => {
    if (c < 0 || c >= k) throw new OptionError('labels', `softmaxCrossEntropy: label ${c} at ${i} is outside [0, ${k}).`);
  });
  const rt = getRuntime();
  const ar = rt.arena;
  // all four or none: a failed allocation (MemoryError) frees the blocks taken before it
  const [pz, py, pg, pc] = ar.atomic(() => [ar.allocF32(Math.max(1, n * k)), ar.alloc(Math.max(4, n * 4)), ar.allocF32(Math.max(1, n * k)), ar.alloc(4)] as const);
  try {
    ar.writeF32(pz, Z.data);
    ar.i32.set(labels, py >>> 2);
    const total = n === 0 ? 0 : rt.kernels.softmaxCe(pz, py, n, k, 0, 0, pg, 1 / n, pc);
    return { loss: n === 0 ? NaN : total / n, grad: { data: ar.readF32(pg, n * k), shape: [n, k] }, correct: n === 0 ? 0 : ar.view.getUint32(pc, true) };
  } finally {
    for (const p of [pz, py, pg, pc]) ar.free(p);
  }
}

/** Copies arrays into fresh arena blocks, runs `f`, frees everything (also on throw). */
function withBlocks<T>(arrays: (Float32Array | number)[], f: (ptrs: Ptr[], rt: ReturnType<typeof getRuntime>) => T): T {
  const rt = getRuntime();
  const ptrs: Ptr[] = [];
  try {
    for (const a of arrays) {
      const n = typeof a === 'number' ? a : a.length;
      const p = rt.arena.allocF32(Math.max(1, n));
      ptrs.push(p);
      if (typeof a !== 'number') rt.arena.writeF32(p, a);
    }
    return f(ptrs, rt);
  } finally {
    for (const p of ptrs) rt.arena.free(p);
  }
}

function actCode(name: ActivationName, alpha: number | undefined, where: string): [number, number] {
  if (!isActivationName(name)) throw new OptionError('activation', `${where}: activation = ${JSON.stringify(name)}; expected one of ${Object.keys(ACT_CODE).join(', ')}.`);
  const a = alpha ?? (name === 'elu' ? 1 : 0.01);
  if (typeof a !== 'number' || !Number.isFinite(a) || a < 0) throw new OptionError('alpha', `${where}: alpha = ${String(a)}; expected a finite number >= 0.`);
  return [ACT_CODE[name], a];
}

/**
 * Elementwise activation (returns a new array): relu `max(0, x)`, leakyRelu `x > 0 ? x : αx`
 * (α default 0.01), elu `x > 0 ? x : α(eˣ − 1)` (α default 1), sigmoid `1/(1 + e⁻ˣ)`, tanh, linear.
 */
export function activationForward(name: ActivationName, x: Float32Array, alpha?: number): Float32Array {
  const [code, a] = actCode(name, alpha, 'activationForward');
  return withBlocks([x], ([p], rt) => {
    checkStatus(rt.kernels.actForward(code, p!, x.length, a), 'activationForward');
    return rt.arena.readF32(p!, x.length);
  });
}

/** Backward of {@link activationForward} through its OUTPUT `y`: returns `dy ⊙ act'(·)`. */
export function activationBackward(name: ActivationName, y: Float32Array, dy: Float32Array, alpha?: number): Float32Array {
  const [code, a] = actCode(name, alpha, 'activationBackward');
  if (!(dy instanceof Float32Array) || dy.length !== y.length) throw new ShapeError(`activationBackward: dy has ${dy?.length} values for ${y.length} outputs; they must match.`);
  return withBlocks([y, dy], ([py, pd], rt) => {
    checkStatus(rt.kernels.actBackward(code, py!, pd!, y.length, a), 'activationBackward');
    return rt.arena.readF32(pd!, y.length);
  });
}

/** Options of {@link regressionLoss}. */
export interface RegressionLossOptions {
  /** Per-sample weights (length rows). */
  weights?: Float32Array;
  /** Huber δ (default 1). */
  delta?: number;
}

/**
 * MSE, MAE or Huber between `pred` and `target` (same shape `[n, k]`), fused with the gradient:
 * per-sample loss = mean over the k outputs, batch loss = mean over samples of the weighted
 * per-sample losses (PyTorch `reduction='mean'` without weights). `grad` is `∂loss/∂pred`.
 */
export function regressionLoss(kind: 'mse' | 'mae' | 'huber', pred: Matrix, target: Matrix, options: RegressionLossOptions = {}): { loss: number; grad: Matrix } {
  const P = matrix(pred.data, pred.shape);
  const T = matrix(target.data, target.shape);
  const [n, k] = P.shape;
  if (T.shape[0] !== n || T.shape[1] !== k) throw new ShapeError(`regressionLoss: pred is [${n}, ${k}] and target [${T.shape.join(', ')}]; they must match.`);
  const code = { mse: 0, mae: 1, huber: 2 }[kind];
  if (code === undefined) throw new OptionError('kind', `regressionLoss: kind = ${JSON.stringify(kind)}; expected 'mse', 'mae' or 'huber'.`);
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new OptionError('delta', `regressionLoss: delta = ${delta}; expected > 0.`);
  const w = options.weights;
  if (w !== undefined && (!(w instanceof Float32Array) || w.length !== n)) throw new ShapeError(`regressionLoss: ${w?.length} weights for ${n} rows.`);
  return withBlocks([P.data, T.data, n * k, ...(w ? [w] : [])], ([pp, pt, pg, pw], rt) => {
    const total = n === 0 ? 0 : rt.kernels.regressionLoss(code, pp!, pt!, n, k, pw ?? 0, delta, pg!, 1 / n);
    return { loss: n === 0 ? NaN : total / n, grad: { data: rt.arena.readF32(pg!, n * k), shape: [n, k] } };
  });
}

/**
 * Binary cross-entropy on logits (PyTorch `BCEWithLogitsLoss`): per element
 * `max(z, 0) − z·t + log(1 + e^−|z|)`, mean over outputs and samples; `grad = (σ(z) − t)/(n·k)`.
 */
export function binaryCrossEntropy(logits: Matrix, targets: Matrix, options: { weights?: Float32Array } = {}): { loss: number; grad: Matrix } {
  const Z = matrix(logits.data, logits.shape);
  const T = matrix(targets.data, targets.shape);
  const [n, k] = Z.shape;
  if (T.shape[0] !== n || T.shape[1] !== k) throw new ShapeError(`binaryCrossEntropy: logits are [${n}, ${k}] and targets [${T.shape.join(', ')}]; they must match.`);
  const w = options.weights;
  if (w !== undefined && (!(w instanceof Float32Array) || w.length !== n)) throw new ShapeError(`binaryCrossEntropy: ${w?.length} weights for ${n} rows.`);
  return withBlocks([Z.data, T.data, n * k, ...(w ? [w] : [])], ([pz, pt, pg, pw], rt) => {
    const total = n === 0 ? 0 : rt.kernels.bceLogits(pz!, pt!, n, k, pw ?? 0, pg!, 1 / n);
    return { loss: n === 0 ? NaN : total / n, grad: { data: rt.arena.readF32(pg!, n * k), shape: [n, k] } };
  });
}
