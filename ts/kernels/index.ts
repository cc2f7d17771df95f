/**
 * The low-level layer, for packages that bring their own model: the same WASM kernels `fit` runs,
 * on plain {@link Matrix} values (copied in and out; no pointer ever leaves the library).
 * Call `await init()` first.
 */
import { OptionError, ShapeError } from '../errors/index.js';
import { matrix, type Matrix } from '../data/tensor.js';
import { ACT_CODE, GEMM_ARGS, type ActivationName } from '../runtime/abi.js';
import type { Ptr } from '../runtime/arena.js';
import { getRuntime } from '../runtime/loader.js';

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
 * `C = act(op(A)·op(B) + bias)` with the packed SIMD128 GEMM (transposes are free: they are
 * strides of the packing). f32 accumulation in k order within 256-deep blocks; no FMA.
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
  if (!(act in ACT_CODE)) throw new OptionError('activation', `${W}: activation = ${JSON.stringify(act)}; expected one of ${Object.keys(ACT_CODE).join(', ')}.`);
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
    rt.k.gemm(args);
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
  const pz = ar.allocF32(Math.max(1, n * k));
  const py = ar.alloc(Math.max(4, n * 4));
  const pg = ar.allocF32(Math.max(1, n * k));
  const pc = ar.alloc(4);
  try {
    ar.writeF32(pz, Z.data);
    ar.i32.set(labels, py >> 2);
    const total = n === 0 ? 0 : rt.k.softmax_ce(pz, py, n, k, pg, 1 / n, pc);
    return { loss: n === 0 ? NaN : total / n, grad: { data: ar.readF32(pg, n * k), shape: [n, k] }, correct: n === 0 ? 0 : ar.view.getUint32(pc, true) };
  } finally {
    for (const p of [pz, py, pg, pc]) ar.free(p);
  }
}
