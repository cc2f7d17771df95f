/**
 * The TypeScript side of the kernel ABI (crates/kernels/src/abi.rs). The loader compares these
 * constants with what the module reports (`abi_version`, `abi_layout`) and refuses a module whose
 * layout drifted.
 * @internal
 */

export const ABI_VERSION = 7;

/** Byte offsets of the records on wasm32 (every field is 4 bytes). */
export const PLAN = {
  size: 116,
  nLayers: 0,
  loss: 4,
  batchCap: 8,
  mcDropout: 12,
  layers: 16,
  gbuf0: 20,
  gbuf1: 24,
  ws: 28,
  opt: 32,
  lr: 36,
  clipValue: 40,
  clipNorm: 44,
  globalClipNorm: 48,
  seed: 52,
  counter: 56,
  weights: 60,
  labelSmoothing: 64,
  huberDelta: 68,
  outLoss: 72,
  outCorrect: 76,
  /** Pre-step backup (floats: {@link backupFloats} in ts/model/plan.ts); required by train_step. */
  backup: 80,
  backupLen: 84,
  /** Written on STATUS.nonFiniteUpdate: layer index (0xffffffff none), tensor (TENSOR_CODE), slot (0 parameter, 1..3 optimizer state), element index, value. */
  outBadLayer: 88,
  outBadTensor: 92,
  outBadSlot: 96,
  outBadIndex: 100,
  outBadValue: 104,
  /** Upper bounds of |w|, |s1..3| per trainable tensor (4 floats each) and whether they are current (see ts/model/plan.ts). */
  bounds: 108,
  boundsValid: 112,
} as const;

export const LAYER = {
  size: 128,
  kind: 0,
  act: 4,
  nIn: 8,
  nOut: 12,
  w: 16,
  b: 20,
  gw: 24,
  gb: 28,
  y: 32,
  ws1: 36,
  ws2: 40,
  ws3: 44,
  bs1: 48,
  bs2: 52,
  bs3: 56,
  l1: 60,
  l2: 64,
  bl1: 68,
  bl2: 72,
  alpha: 76,
  dropout: 80,
  mask: 84,
  yd: 88,
  maxNorm: 92,
  runningMean: 96,
  runningVar: 100,
  saveMean: 104,
  saveInvStd: 108,
  bnEps: 112,
  bnMomentum: 116,
  /** Element counts of w (and gw, ws1..3) and b (and gb, bs1..3); every per-tensor pass uses them. */
  wLen: 120,
  bLen: 124,
} as const;

/** The `OptArgs` record of `optimizer_update` (crates/kernels/src/abi.rs). */
export const OPT_ARGS = {
  size: 88,
  kind: 0,
  n: 4,
  w: 8,
  g: 12,
  s1: 16,
  s2: 20,
  s3: 24,
  flags: 28,
  lr: 32,
  momentum: 36,
  dampening: 40,
  beta1: 44,
  beta2: 48,
  eps: 52,
  weightDecay: 56,
  l1: 60,
  l2: 64,
  biasCorrection1: 68,
  biasCorrection2Sqrt: 72,
  oneMinusBeta1: 76,
  oneMinusBeta2: 80,
  reserved: 84,
} as const;
export const OPT_ARGS_ORDER = ['kind', 'n', 'w', 'g', 's1', 's2', 's3', 'flags', 'lr', 'momentum', 'dampening', 'beta1', 'beta2', 'eps', 'weightDecay', 'l1', 'l2', 'biasCorrection1', 'biasCorrection2Sqrt', 'oneMinusBeta1', 'oneMinusBeta2', 'reserved'] as const;
export const OPT_KIND = { sgd: 0, adagrad: 1, rmsprop: 2, adam: 3, adamw: 4 } as const;
export const OPT_FLAG = { firstStep: 1, nesterov: 2, centered: 4, amsgrad: 8, maximize: 16 } as const;

export const GEMM_ARGS = {
  size: 60,
  m: 0,
  n: 4,
  k: 8,
  a: 12,
  rsa: 16,
  csa: 20,
  b: 24,
  rsb: 28,
  csb: 32,
  c: 36,
  rsc: 40,
  beta: 44,
  bias: 48,
  act: 52,
  ws: 56,
} as const;

/** GEMM packing workspace in floats (MC·KC + KC·NC with MC=64, KC=256, NC=1024). */
export const GEMM_WORKSPACE_FLOATS = 64 * 256 + 256 * 1024;

/** The layout array `abi_layout` must return, in its documented order. */
export function expectedLayout(): number[] {
  const P = PLAN;
  const plan = [P.size, P.nLayers, P.loss, P.batchCap, P.mcDropout, P.layers, P.gbuf0, P.gbuf1, P.ws, P.opt, P.lr, P.clipValue, P.clipNorm, P.globalClipNorm, P.seed, P.counter, P.weights, P.labelSmoothing, P.huberDelta, P.outLoss, P.outCorrect, P.backup, P.backupLen, P.outBadLayer, P.outBadTensor, P.outBadSlot, P.outBadIndex, P.outBadValue, P.bounds, P.boundsValid];
  const L = LAYER;
  const layer = [L.size, L.kind, L.act, L.nIn, L.nOut, L.w, L.b, L.gw, L.gb, L.y, L.ws1, L.ws2, L.ws3, L.bs1, L.bs2, L.bs3, L.l1, L.l2, L.bl1, L.bl2, L.alpha, L.dropout, L.mask, L.yd, L.maxNorm, L.runningMean, L.runningVar, L.saveMean, L.saveInvStd, L.bnEps, L.bnMomentum, L.wLen, L.bLen];
  const g = GEMM_ARGS;
  const gemm = [g.size, g.m, g.n, g.k, g.a, g.rsa, g.csa, g.b, g.rsb, g.csb, g.c, g.rsc, g.beta, g.bias, g.act, g.ws];
  return [...plan, ...layer, ...gemm, GEMM_WORKSPACE_FLOATS];
}
/** Names for error messages, same order as {@link expectedLayout}. */
export const LAYOUT_NAMES = [
  'sizeof Plan', 'Plan.n_layers', 'Plan.loss', 'Plan.batch_cap', 'Plan.mc_dropout', 'Plan.layers', 'Plan.gbuf0', 'Plan.gbuf1', 'Plan.ws', 'Plan.opt', 'Plan.lr', 'Plan.clip_value', 'Plan.clip_norm', 'Plan.global_clip_norm', 'Plan.seed', 'Plan.counter', 'Plan.weights', 'Plan.label_smoothing', 'Plan.huber_delta', 'Plan.out_loss', 'Plan.out_correct', 'Plan.backup', 'Plan.backup_len', 'Plan.out_bad_layer', 'Plan.out_bad_tensor', 'Plan.out_bad_slot', 'Plan.out_bad_index', 'Plan.out_bad_value', 'Plan.bounds', 'Plan.bounds_valid',
  'sizeof Layer', 'Layer.kind', 'Layer.act', 'Layer.n_in', 'Layer.n_out', 'Layer.w', 'Layer.b', 'Layer.gw', 'Layer.gb', 'Layer.y', 'Layer.ws1', 'Layer.ws2', 'Layer.ws3', 'Layer.bs1', 'Layer.bs2', 'Layer.bs3', 'Layer.l1', 'Layer.l2', 'Layer.bl1', 'Layer.bl2', 'Layer.alpha', 'Layer.dropout', 'Layer.mask', 'Layer.yd', 'Layer.max_norm', 'Layer.running_mean', 'Layer.running_var', 'Layer.save_mean', 'Layer.save_inv_std', 'Layer.bn_eps', 'Layer.bn_momentum', 'Layer.w_len', 'Layer.b_len',
  'sizeof GemmArgs', 'GemmArgs.m', 'GemmArgs.n', 'GemmArgs.k', 'GemmArgs.a', 'GemmArgs.rsa', 'GemmArgs.csa', 'GemmArgs.b', 'GemmArgs.rsb', 'GemmArgs.csb', 'GemmArgs.c', 'GemmArgs.rsc', 'GemmArgs.beta', 'GemmArgs.bias', 'GemmArgs.act', 'GemmArgs.ws',
  'gemm workspace floats',
] as const;

/**
 * The one status enum of every kernel export that can fail (crates/kernels/src/abi.rs STATUS_*).
 */
export const STATUS = { ok: 0, nonFiniteLoss: 1, badArgument: 2, nonFiniteUpdate: 3, nonFiniteResult: 4 } as const;
/** `Plan.out_bad_tensor` codes. */
export const TENSOR_CODE = { weight: 0, bias: 1, runningMean: 2, runningVar: 3 } as const;
/** `Plan.out_bad_layer` when no tensor went non-finite. */
export const NO_LAYER = 0xffffffff;
export const LAYER_KIND = { dense: 1, batchNorm: 2 } as const;
export const LOSS_KIND = { softmaxCrossEntropy: 1, mse: 2, mae: 3, huber: 4, binaryCrossentropy: 5 } as const;
export type LossName = keyof typeof LOSS_KIND;
/** Activation codes (crates/kernels/src/act.rs `Act`). */
export const ACT_CODE = { linear: 0, relu: 1, leakyRelu: 2, elu: 3, sigmoid: 4, tanh: 5 } as const;
export type ActivationName = keyof typeof ACT_CODE;

/** The raw exports of the kernel module. Addresses are byte offsets into the shared memory. */
export interface KernelExports {
  abi_version(): number;
  abi_layout(out: number, cap: number): number;
  simd_enabled(): number;
  gemm(args: number): number;
  softmax_rows(x: number, rows: number, cols: number): void;
  softmax_ce(logits: number, labels: number, rows: number, cols: number, grad: number, scale: number, correct: number): number;
  colsum(x: number, rows: number, cols: number, out: number): void;
  count_nonfinite(x: number, n: number): number;
  optimizer_update(args: number): number;
  act_forward2(act: number, x: number, n: number, alpha: number): number;
  act_backward2(act: number, y: number, dy: number, n: number, alpha: number): number;
  bce_logits(z: number, t: number, rows: number, cols: number, weights: number, grad: number, scale: number): number;
  regression_loss(kind: number, pred: number, target: number, rows: number, cols: number, weights: number, delta: number, grad: number, scale: number): number;
  opt_args_layout(out: number, cap: number): number;
  train_step(plan: number, x: number, labels: number, n: number): number;
  eval_step(plan: number, x: number, labels: number, n: number): number;
  predict_step(plan: number, x: number, n: number, out: number): number;
  // the full-batch optimizers (L-BFGS, CG): one step without the update, and BLAS-1 on vectors
  grad_step(plan: number, x: number, labels: number, n: number): number;
  vec_dot(x: number, y: number, n: number): number;
  vec_nrm2(x: number, n: number): number;
  vec_asum(x: number, n: number): number;
  vec_amax(x: number, n: number): number;
  vec_axpy(a: number, x: number, y: number, n: number): void;
  vec_scal(a: number, x: number, n: number): void;
  vec_copy(x: number, y: number, n: number): void;
  vec_lincomb(a: number, x: number, b: number, y: number, out: number, n: number): void;
  vec_add_sign(a: number, x: number, y: number, n: number): void;
  __heap_base: WebAssembly.Global;
}

/**
 * Every function export the library calls, checked at start-up (the loader refuses a module that
 * lacks one, naming it); kept equal to {@link KernelExports} at compile time. Exports the module
 * has beyond these (kernel test harness) are not part of the library's contract.
 */
export const KERNEL_FUNCTIONS = [
  'abi_version', 'abi_layout', 'simd_enabled', 'gemm', 'softmax_rows', 'softmax_ce', 'colsum', 'count_nonfinite', 'optimizer_update',
  'act_forward2', 'act_backward2', 'bce_logits', 'regression_loss', 'opt_args_layout', 'train_step', 'eval_step', 'predict_step',
  'grad_step', 'vec_dot', 'vec_nrm2', 'vec_asum', 'vec_amax', 'vec_axpy', 'vec_scal', 'vec_copy', 'vec_lincomb', 'vec_add_sign',
] as const;

type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { onlyList: Exclude<A, B>; onlyInterface: Exclude<B, A> };
const kernelFunctionsMatch: SameKeys<(typeof KERNEL_FUNCTIONS)[number], Exclude<keyof KernelExports, '__heap_base'>> = true;
void kernelFunctionsMatch;
