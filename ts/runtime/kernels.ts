/**
 * The one kernel facade: the only holder of the kernel module's raw exports. Every function of the
 * library's contract ({@link KERNEL_FUNCTIONS}) is a camelCase method here, with addresses typed
 * {@link Ptr} (an optional address is `Ptr | 0`, 0 meaning none) and counts as numbers. Exports
 * that can fail return their raw {@link STATUS} code: callers pass it through `checkStatus` (or
 * build a richer error from it, as the Stepper does). {@link Kernels.from} verifies the module
 * (ABI version, record layouts, every contract function) before anything calls it.
 * @internal
 */
import { RuntimeSupportError } from '../errors/index.js';
import { ABI_VERSION, KERNEL_FUNCTIONS, LAYOUT_NAMES, expectedLayout, type KernelExports } from './abi.js';
import type { Ptr } from './arena.js';

/** An address argument that the kernel accepts as 0 (none). @internal */
export type OptPtr = Ptr | 0;

/** The typed kernel calls of one loaded module. @internal */
export class Kernels {
  /** First byte past the module's static data and stack: where the arena starts. */
  readonly heapBase: number;
  /** Whether this is the FMA build, whose `simd_enabled()` returns 2 (scripts/fuse-madd.mjs). */
  readonly fma: boolean;
  private readonly x: KernelExports;

  private constructor(exports: KernelExports) {
    this.x = exports;
    this.heapBase = exports.__heap_base.value as number;
    this.fma = exports.simd_enabled() === 2;
  }

  /**
   * Verifies a freshly instantiated module and wraps its exports: a wasmfit kernel module at all,
   * the same ABI version, the same record layouts (written just past the heap base, before the
   * arena claims that region), and every function of the contract. Throws
   * {@link RuntimeSupportError} naming what differs.
   */
  static from(instanceExports: WebAssembly.Exports, memory: WebAssembly.Memory): Kernels {
    const ex = instanceExports as unknown as Partial<KernelExports>;
    check(ex);
    const version = ex.abi_version();
    if (version !== ABI_VERSION) {
      throw new RuntimeSupportError(`init: the kernel module has ABI version ${version}; this wasmfit expects ${ABI_VERSION}. Rebuild the module (npm run build:wasm) or use the embedded one.`);
    }
    const expected = expectedLayout();
    const base = (ex.__heap_base.value as number) + 0;
    const view = new Uint32Array(memory.buffer, base, expected.length);
    const count = ex.abi_layout(base, expected.length);
    if (count !== expected.length) {
      throw new RuntimeSupportError(`init: the kernel module describes ${count} layout fields; this wasmfit expects ${expected.length}. Rebuild the module.`);
    }
    for (let i = 0; i < expected.length; i++) {
      if (view[i] !== expected[i]) {
        throw new RuntimeSupportError(`init: record layout mismatch at ${LAYOUT_NAMES[i]}: module says ${view[i]}, wasmfit expects ${expected[i]}. The module was built from other sources; rebuild it.`);
      }
    }
    // same ABI version and layouts: every function the library calls must be there
    for (const n of KERNEL_FUNCTIONS) {
      if (typeof (ex as unknown as Record<string, unknown>)[n] !== 'function') throw new RuntimeSupportError(`init: the kernel module (ABI ${version}) lacks the export '${n}'; rebuild it (npm run build:wasm) or use the embedded one.`);
    }
    return new Kernels(ex);
  }

  /**
   * Test-only: an export of the kernel test harness (crates/kernels exports outside the library's
   * contract, e.g. `dropout_forward`), by name. Contract functions are reached through their typed
   * methods only; asking for one here throws.
   */
  testExport(name: string): (...args: number[]) => number {
    if ((KERNEL_FUNCTIONS as readonly string[]).includes(name)) throw new Error(`Kernels.testExport: '${name}' is a contract function; call its typed method.`);
    const f = (this.x as unknown as Record<string, unknown>)[name];
    if (typeof f !== 'function') throw new Error(`Kernels.testExport: the module has no function export '${name}'.`);
    return f as (...args: number[]) => number;
  }

  // ---- ABI self-description
  abiVersion(): number {
    return this.x.abi_version();
  }
  /** Writes the record layout (u32 words) at `out`; returns the word count. */
  abiLayout(out: Ptr, cap: number): number {
    return this.x.abi_layout(out, cap);
  }
  /** 1 for the SIMD128 build, 2 for the FMA build, 0 for the scalar one. */
  simdEnabled(): number {
    return this.x.simd_enabled();
  }

  // ---- low-level kernels (ts/kernels)
  /** GEMM over a GemmArgs record. Returns a STATUS. */
  gemm(args: Ptr): number {
    return this.x.gemm(args);
  }
  softmaxRows(x: Ptr, rows: number, cols: number): void {
    this.x.softmax_rows(x, rows, cols);
  }
  /** Softmax cross-entropy over class ids with optional per-sample weights and label smoothing `eps`; returns the summed weighted loss. */
  softmaxCe(logits: Ptr, labels: Ptr, rows: number, cols: number, weights: OptPtr, eps: number, grad: OptPtr, scale: number, correct: OptPtr): number {
    return this.x.softmax_ce(logits, labels, rows, cols, weights, eps, grad, scale, correct);
  }
  colsum(x: Ptr, rows: number, cols: number, out: Ptr): void {
    this.x.colsum(x, rows, cols, out);
  }
  countNonfinite(x: Ptr, n: number): number {
    return this.x.count_nonfinite(x, n);
  }
  /** The standalone optimizer step: clipping, then one fused update per OptTensor record (`n` of them) under the OptHyper record. Returns a STATUS. */
  optimizerApply(hyper: Ptr, tensors: Ptr, n: number): number {
    return this.x.optimizer_apply(hyper, tensors, n);
  }
  /** Activation forward in place. Returns a STATUS. */
  actForward(act: number, x: Ptr, n: number, alpha: number): number {
    return this.x.act_forward(act, x, n, alpha);
  }
  /** Activation backward through the output, in place on `dy`. Returns a STATUS. */
  actBackward(act: number, y: Ptr, dy: Ptr, n: number, alpha: number): number {
    return this.x.act_backward(act, y, dy, n, alpha);
  }
  /** Binary cross-entropy on logits; returns the summed weighted loss. */
  bceLogits(z: Ptr, t: Ptr, rows: number, cols: number, weights: OptPtr, grad: OptPtr, scale: number): number {
    return this.x.bce_logits(z, t, rows, cols, weights, grad, scale);
  }
  /** MSE (0), MAE (1) or Huber (2); returns the summed weighted loss. */
  regressionLoss(kind: number, pred: Ptr, target: Ptr, rows: number, cols: number, weights: OptPtr, delta: number, grad: OptPtr, scale: number): number {
    return this.x.regression_loss(kind, pred, target, rows, cols, weights, delta, grad, scale);
  }

  // ---- whole steps over a compiled plan
  /** Forward, loss, backward and update for every layer. Returns a STATUS. */
  trainStep(plan: Ptr, x: Ptr, labels: Ptr, n: number): number {
    return this.x.train_step(plan, x, labels, n);
  }
  /** The split step's first half (custom losses): the training forward pass, outputs left in the plan. Returns a STATUS. */
  trainForward(plan: Ptr, x: Ptr, n: number): number {
    return this.x.train_forward(plan, x, n);
  }
  /** The split step's second half, after `dL/dout` was written to the plan's gbuf0 and the loss to its out_loss. Returns a STATUS. */
  trainBackward(plan: Ptr, x: Ptr, n: number): number {
    return this.x.train_backward(plan, x, n);
  }
  /** Loss and accuracy counts, no update. Returns a STATUS. */
  evalStep(plan: Ptr, x: Ptr, labels: Ptr, n: number): number {
    return this.x.eval_step(plan, x, labels, n);
  }
  /** Model outputs into `out`. Returns a STATUS. */
  predictStep(plan: Ptr, x: Ptr, n: number, out: Ptr): number {
    return this.x.predict_step(plan, x, n, out);
  }
  /** A training step without the update (gradients only), for the full-batch optimizers. Returns a STATUS. */
  gradStep(plan: Ptr, x: Ptr, labels: Ptr, n: number): number {
    return this.x.grad_step(plan, x, labels, n);
  }

  // ---- BLAS-1 on n-float vectors (reductions in f64)
  vecDot(x: Ptr, y: Ptr, n: number): number {
    return this.x.vec_dot(x, y, n);
  }
  vecNrm2(x: Ptr, n: number): number {
    return this.x.vec_nrm2(x, n);
  }
  vecAsum(x: Ptr, n: number): number {
    return this.x.vec_asum(x, n);
  }
  vecAmax(x: Ptr, n: number): number {
    return this.x.vec_amax(x, n);
  }
  /** y ← a·x + y */
  vecAxpy(a: number, x: Ptr, y: Ptr, n: number): void {
    this.x.vec_axpy(a, x, y, n);
  }
  /** x ← a·x */
  vecScal(a: number, x: Ptr, n: number): void {
    this.x.vec_scal(a, x, n);
  }
  /** y ← x */
  vecCopy(x: Ptr, y: Ptr, n: number): void {
    this.x.vec_copy(x, y, n);
  }
  /** out ← a·x + b·y */
  vecLincomb(a: number, x: Ptr, b: number, y: Ptr, out: Ptr, n: number): void {
    this.x.vec_lincomb(a, x, b, y, out, n);
  }
  /** y ← a·sign(x) + y */
  vecAddSign(a: number, x: Ptr, y: Ptr, n: number): void {
    this.x.vec_add_sign(a, x, y, n);
  }
}

function check(exports: Partial<KernelExports>): asserts exports is KernelExports {
  const needed = ['abi_version', 'abi_layout', 'train_step', 'gemm', '__heap_base'] as const;
  for (const n of needed) {
    if (!(n in exports)) throw new RuntimeSupportError(`init: the module lacks the export '${n}'; it is not a wasmfit kernel module. Pass the module built by scripts/build-wasm.mjs.`);
  }
}

// every contract function has its camelCase method, and every method mirrors one (compile time)
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type Methods = Exclude<{ [K in keyof Kernels]: Kernels[K] extends (...args: never[]) => unknown ? K : never }[keyof Kernels], 'testExport'>;
type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { onlyContract: Exclude<A, B>; onlyMethods: Exclude<B, A> };
const mirrorsContract: SameKeys<Camel<(typeof KERNEL_FUNCTIONS)[number]>, Methods> = true;
void mirrorsContract;
