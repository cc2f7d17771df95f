/**
 * The TypeScript side of the kernel ABI (crates/kernels/src/abi.rs). The loader compares these
 * constants with what the module reports (`abi_version`, `abi_layout`) and refuses a module whose
 * layout drifted.
 * @internal
 */

export const ABI_VERSION = 1;

/** Byte offsets of the records on wasm32 (every field is 4 bytes). */
export const PLAN = {
  size: 44,
  nLayers: 0,
  loss: 4,
  optimizer: 8,
  batchCap: 12,
  layers: 16,
  gbuf0: 20,
  gbuf1: 24,
  ws: 28,
  lr: 32,
  outLoss: 36,
  outCorrect: 40,
} as const;

export const LAYER = {
  size: 36,
  kind: 0,
  act: 4,
  nIn: 8,
  nOut: 12,
  w: 16,
  b: 20,
  gw: 24,
  gb: 28,
  y: 32,
} as const;

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
  const plan = [PLAN.size, PLAN.nLayers, PLAN.loss, PLAN.optimizer, PLAN.batchCap, PLAN.layers, PLAN.gbuf0, PLAN.gbuf1, PLAN.ws, PLAN.lr, PLAN.outLoss, PLAN.outCorrect];
  const layer = [LAYER.size, LAYER.kind, LAYER.act, LAYER.nIn, LAYER.nOut, LAYER.w, LAYER.b, LAYER.gw, LAYER.gb, LAYER.y];
  const g = GEMM_ARGS;
  const gemm = [g.size, g.m, g.n, g.k, g.a, g.rsa, g.csa, g.b, g.rsb, g.csb, g.c, g.rsc, g.beta, g.bias, g.act, g.ws];
  return [...plan, ...layer, ...gemm, GEMM_WORKSPACE_FLOATS];
}
/** Names for error messages, same order as {@link expectedLayout}. */
export const LAYOUT_NAMES = [
  'sizeof Plan', 'Plan.n_layers', 'Plan.loss', 'Plan.optimizer', 'Plan.batch_cap', 'Plan.layers', 'Plan.gbuf0', 'Plan.gbuf1', 'Plan.ws', 'Plan.lr', 'Plan.out_loss', 'Plan.out_correct',
  'sizeof Layer', 'Layer.kind', 'Layer.act', 'Layer.n_in', 'Layer.n_out', 'Layer.w', 'Layer.b', 'Layer.gw', 'Layer.gb', 'Layer.y',
  'sizeof GemmArgs', 'GemmArgs.m', 'GemmArgs.n', 'GemmArgs.k', 'GemmArgs.a', 'GemmArgs.rsa', 'GemmArgs.csa', 'GemmArgs.b', 'GemmArgs.rsb', 'GemmArgs.csb', 'GemmArgs.c', 'GemmArgs.rsc', 'GemmArgs.beta', 'GemmArgs.bias', 'GemmArgs.act', 'GemmArgs.ws',
  'gemm workspace floats',
] as const;

export const STATUS = { ok: 0, nonFiniteLoss: 1, badPlan: 2 } as const;
export const LAYER_KIND = { dense: 1 } as const;
export const LOSS_KIND = { softmaxCrossEntropy: 1 } as const;
export const OPT_KIND = { sgd: 1 } as const;
/** Activation codes (crates/kernels/src/act.rs `Act`). */
export const ACT_CODE = { linear: 0, relu: 1 } as const;
export type ActivationName = keyof typeof ACT_CODE;

/** The raw exports of the kernel module. Addresses are byte offsets into the shared memory. */
export interface KernelExports {
  abi_version(): number;
  abi_layout(out: number, cap: number): number;
  simd_enabled(): number;
  gemm(args: number): number;
  gemm_ref(args: number): number;
  act_forward(act: number, x: number, n: number): number;
  act_backward(act: number, y: number, dy: number, n: number): number;
  softmax_rows(x: number, rows: number, cols: number): void;
  softmax_ce(logits: number, labels: number, rows: number, cols: number, grad: number, scale: number, correct: number): number;
  sgd_update(w: number, g: number, n: number, lr: number): void;
  colsum(x: number, rows: number, cols: number, out: number): void;
  count_nonfinite(x: number, n: number): number;
  train_step(plan: number, x: number, labels: number, n: number): number;
  eval_step(plan: number, x: number, labels: number, n: number): number;
  predict_step(plan: number, x: number, n: number, out: number): number;
  __heap_base: WebAssembly.Global;
}
