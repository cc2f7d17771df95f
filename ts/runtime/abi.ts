/**
 * The TypeScript side of the kernel ABI (crates/kernels/src/abi.rs). The loader compares these
 * constants with what the module reports (`abi_version`, `abi_layout`) and refuses a module whose
 * layout drifted.
 * @internal
 */

export const ABI_VERSION = 14;

/**
 * A record's byte offsets from its field list, in declaration order (every field is 4 bytes on
 * wasm32: u32, f32 or an address). The same list, in the same order, is the Rust `record!` of
 * crates/kernels/src (camelCase here, snake_case there); {@link expectedLayout} derives the layout
 * the loader compares with the module's `abi_layout` from these lists.
 */
function record<const F extends readonly string[]>(name: string, fields: F): { readonly name: string; readonly fields: F; readonly size: number } & { readonly [K in F[number]]: number } {
  const r: Record<string, unknown> = { name, fields, size: fields.length * 4 };
  fields.forEach((f, i) => (r[f] = i * 4));
  return r as { readonly name: string; readonly fields: F; readonly size: number } & { readonly [K in F[number]]: number };
}

/**
 * The plan header (crates/kernels/src/plan.rs `Plan`). `backup`: pre-step backup (floats: at
 * least `runningBackupFloats` in ts/model/plan.ts, which train_step requires; `backupFloats` for a
 * step whose update is not proven finite, else STATUS.needsBackup). `outBad*`: written on
 * STATUS.nonFiniteUpdate (layer index or NO_LAYER, tensor TENSOR_CODE, slot 0 parameter / 1..3
 * optimizer state, element index, value). `bounds`: upper bounds of |w|, |s1..3| per trainable
 * tensor (4 floats each) and whether they are current.
 */
export const PLAN = record('Plan', [
  'nLayers', 'loss', 'batchCap', 'mcDropout', 'layers', 'gbuf0', 'gbuf1', 'ws', 'opt', 'seed', 'counter', 'weights',
  'labelSmoothing', 'huberDelta', 'outLoss', 'outCorrect', 'backup', 'backupLen', 'outBadLayer', 'outBadTensor',
  'outBadSlot', 'outBadIndex', 'outBadValue', 'bounds', 'boundsValid',
] as const);

/** One layer record (plan.rs `Layer`); `wLen`/`bLen` are the element counts every per-tensor pass uses. */
export const LAYER = record('Layer', [
  'kind', 'act', 'nIn', 'nOut', 'w', 'b', 'gw', 'gb', 'y', 'ws1', 'ws2', 'ws3', 'bs1', 'bs2', 'bs3', 'l1', 'l2', 'bl1',
  'bl2', 'alpha', 'dropout', 'mask', 'yd', 'maxNorm', 'runningMean', 'runningVar', 'saveMean', 'saveInvStd', 'bnEps',
  'bnMomentum', 'wLen', 'bLen', 'param', 'frozen', 'geom', 'aux', 'auxLen', 'maxNormEps',
] as const);

/** The one optimizer hyper-parameter record (optim.rs `OptHyper`), used by train_step and optimizer_apply. */
export const OPT_HYPER = record('OptHyper', [
  'kind', 'flags', 'lr', 'momentum', 'dampening', 'beta1', 'beta2', 'eps', 'weightDecay', 'biasCorrection1',
  'biasCorrection2Sqrt', 'oneMinusBeta1', 'oneMinusBeta2', 'stepSize', 'decayKeep', 'clipValue', 'clipNorm', 'globalClipNorm',
  'biasCorrection2', 'c1', 'c2',
] as const);

/** One tensor an optimizer updates (optim.rs `OptTensor`): optimizer_apply reads an array of them. */
export const OPT_TENSOR = record('OptTensor', ['len', 'w', 'g', 's1', 's2', 's3', 'l1', 'l2'] as const);

export const OPT_KIND = {
  sgd: 0, adagrad: 1, rmsprop: 2, adam: 3, adamw: 4, adamax: 5, nadam: 6, radam: 7, adadelta: 8, lion: 9,
  kerasSGD: 10, kerasRMSprop: 11, kerasAdagrad: 12, kerasAdam: 13,
} as const;
export const OPT_FLAG = { firstStep: 1, nesterov: 2, centered: 4, amsgrad: 8, maximize: 16, rectify: 32 } as const;

/** The `gemm` export's arguments (gemm.rs `GemmArgs`). */
export const GEMM_ARGS = record('GemmArgs', ['m', 'n', 'k', 'a', 'rsa', 'csa', 'b', 'rsb', 'csb', 'c', 'rsc', 'beta', 'bias', 'act', 'ws'] as const);

/**
 * A convolution's or pooling window's geometry (conv.rs `ConvGeom`, every field a u32): input
 * height, width, channels; kernel size; strides; dilations; leading padding; output height,
 * width, filters. A convolution or pooling layer record points to one (`Layer.geom`).
 */
export const CONV_GEOM = record('ConvGeom', ['h', 'w', 'c', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl', 'oh', 'ow', 'f'] as const);

/** GEMM packing workspace in floats (MC·KC + KC·NC with MC=64, KC=256, NC=1024). */
export const GEMM_WORKSPACE_FLOATS = 64 * 256 + 256 * 1024;
/**
 * Floats a threaded runtime allocates after its threads' GEMM workspaces: the operand every part
 * of a split product reads, packed once (crates/kernels/src/par.rs `SHARED_PACK_FLOATS`).
 */
export const GEMM_SHARED_PACK_FLOATS = 1 << 18;

const RECORDS = [PLAN, LAYER, GEMM_ARGS, OPT_HYPER, OPT_TENSOR, CONV_GEOM] as const;
const snake = (f: string) => f.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

/** The layout array `abi_layout` must return: per record its size and field offsets, then the GEMM workspace. */
export function expectedLayout(): number[] {
  return [...RECORDS.flatMap((r) => [r.size, ...r.fields.map((f) => (r as unknown as Record<string, number>)[f]!)]), GEMM_WORKSPACE_FLOATS, GEMM_SHARED_PACK_FLOATS];
}
/** Names for error messages, same order as {@link expectedLayout} (the Rust field names). */
export const LAYOUT_NAMES: readonly string[] = [...RECORDS.flatMap((r) => [`sizeof ${r.name}`, ...r.fields.map((f) => `${r.name}.${snake(f)}`)]), 'gemm workspace floats', 'shared packing floats'];

/**
 * The one status enum of every kernel export that can fail (crates/kernels/src/abi.rs STATUS_*).
 */
export const STATUS = { ok: 0, nonFiniteLoss: 1, badArgument: 2, nonFiniteUpdate: 3, nonFiniteResult: 4, needsBackup: 5 } as const;
/** `Plan.out_bad_tensor` codes. */
export const TENSOR_CODE = { weight: 0, bias: 1, runningMean: 2, runningVar: 3 } as const;
/** `Plan.out_bad_layer` when no tensor went non-finite. */
export const NO_LAYER = 0xffffffff;
export const LOSS_KIND = { softmaxCrossEntropy: 1, mse: 2, mae: 3, huber: 4, binaryCrossentropy: 5 } as const;
export type LossName = keyof typeof LOSS_KIND;
/** Plan.loss of a loss computed in JavaScript (plan.rs LOSS_CUSTOM): only train_forward / train_backward and predict_step run it. */
export const LOSS_CUSTOM = 6;
/** Activation codes (crates/kernels/src/act.rs `Act`). */
export const ACT_CODE = { linear: 0, relu: 1, leakyRelu: 2, elu: 3, sigmoid: 4, tanh: 5, selu: 6 } as const;
export type ActivationName = keyof typeof ACT_CODE;

/** The raw exports of the kernel module. Addresses are byte offsets into the shared memory. */
export interface KernelExports {
  abi_version(): number;
  abi_layout(out: number, cap: number): number;
  simd_enabled(): number;
  gemm(args: number): number;
  softmax_rows(x: number, rows: number, cols: number): void;
  softmax_ce(logits: number, labels: number, rows: number, cols: number, weights: number, eps: number, grad: number, scale: number, correct: number): number;
  colsum(x: number, rows: number, cols: number, out: number): void;
  count_nonfinite(x: number, n: number): number;
  optimizer_apply(hyper: number, tensors: number, n: number): number;
  act_forward(act: number, x: number, n: number, alpha: number): number;
  act_backward(act: number, y: number, dy: number, n: number, alpha: number): number;
  bce_logits(z: number, t: number, rows: number, cols: number, weights: number, grad: number, scale: number): number;
  regression_loss(kind: number, pred: number, target: number, rows: number, cols: number, weights: number, delta: number, grad: number, scale: number): number;
  train_step(plan: number, x: number, labels: number, n: number): number;
  train_forward(plan: number, x: number, n: number): number;
  train_backward(plan: number, x: number, n: number): number;
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
  'abi_version', 'abi_layout', 'simd_enabled', 'gemm', 'softmax_rows', 'softmax_ce', 'colsum', 'count_nonfinite', 'optimizer_apply',
  'act_forward', 'act_backward', 'bce_logits', 'regression_loss', 'train_step', 'train_forward', 'train_backward', 'eval_step', 'predict_step',
  'grad_step', 'vec_dot', 'vec_nrm2', 'vec_asum', 'vec_amax', 'vec_axpy', 'vec_scal', 'vec_copy', 'vec_lincomb', 'vec_add_sign',
] as const;

type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { onlyList: Exclude<A, B>; onlyInterface: Exclude<B, A> };
const kernelFunctionsMatch: SameKeys<(typeof KERNEL_FUNCTIONS)[number], Exclude<keyof KernelExports, '__heap_base'>> = true;
void kernelFunctionsMatch;
