/**
 * Typed access to the BLAS-1 vector exports of the kernel module (crates/kernels/src/vec.rs) and
 * to `grad_step`, used by the full-batch optimizers. Internal: pointers never leave the library.
 * @internal
 */
import { RuntimeSupportError } from '../errors/index.js';
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';

/** The raw exports added for the full-batch optimizers. @internal */
export interface VecExports {
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
}

const NAMES: readonly (keyof VecExports)[] = ['grad_step', 'vec_dot', 'vec_nrm2', 'vec_asum', 'vec_amax', 'vec_axpy', 'vec_scal', 'vec_copy', 'vec_lincomb', 'vec_add_sign'];

/** The vector exports of `rt`; throws {@link RuntimeSupportError} for a module built without them. @internal */
export function vecExports(rt: Runtime): VecExports {
  const k = rt.k as unknown as Partial<VecExports>;
  for (const n of NAMES) {
    if (typeof k[n] !== 'function') throw new RuntimeSupportError(`the kernel module lacks the export '${n}' that L-BFGS and conjugate gradient need; rebuild it (npm run build:wasm) or use the embedded module.`);
  }
  return k as VecExports;
}

/**
 * Vector operations on `n`-float blocks of one runtime's arena (all in WASM; reductions in f64).
 * @internal
 */
export class VecOps {
  readonly k: VecExports;
  readonly rt: Runtime;
  readonly n: number;

  constructor(rt: Runtime, n: number) {
    this.rt = rt;
    this.k = vecExports(rt);
    this.n = n;
  }

  alloc(): Ptr {
    return this.rt.arena.allocF32(Math.max(1, this.n));
  }
  free(p: Ptr): void {
    this.rt.arena.free(p);
  }
  dot(x: Ptr, y: Ptr): number {
    return this.k.vec_dot(x, y, this.n);
  }
  asum(x: Ptr): number {
    return this.k.vec_asum(x, this.n);
  }
  amax(x: Ptr): number {
    return this.k.vec_amax(x, this.n);
  }
  /** y ← a·x + y */
  axpy(a: number, x: Ptr, y: Ptr): void {
    this.k.vec_axpy(a, x, y, this.n);
  }
  /** x ← a·x */
  scal(a: number, x: Ptr): void {
    this.k.vec_scal(a, x, this.n);
  }
  /** y ← x */
  copy(x: Ptr, y: Ptr): void {
    this.k.vec_copy(x, y, this.n);
  }
  /** out ← a·x + b·y */
  lincomb(a: number, x: Ptr, b: number, y: Ptr, out: Ptr): void {
    this.k.vec_lincomb(a, x, b, y, out, this.n);
  }
}
