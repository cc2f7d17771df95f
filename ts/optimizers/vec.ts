/**
 * Typed access to the BLAS-1 vector exports of the kernel module (crates/kernels/src/vec.rs) and
 * to `grad_step`, used by the full-batch optimizers. Internal: pointers never leave the library.
 * @internal
 */
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';
import type { KernelExports } from '../runtime/abi.js';

/** The exports the full-batch optimizers use (checked with all others when the module loads). @internal */
export type VecExports = Pick<KernelExports, 'grad_step' | 'vec_dot' | 'vec_nrm2' | 'vec_asum' | 'vec_amax' | 'vec_axpy' | 'vec_scal' | 'vec_copy' | 'vec_lincomb' | 'vec_add_sign'>;

/** The vector exports of `rt`. @internal */
export function vecExports(rt: Runtime): VecExports {
  return rt.k;
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
