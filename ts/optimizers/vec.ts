/**
 * Vector operations on `n`-float blocks for the full-batch optimizers, through the runtime's
 * BLAS-1 kernels (crates/kernels/src/vec.rs). Internal: pointers never leave the library.
 * @internal
 */
import type { Ptr } from '../runtime/arena.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Runtime } from '../runtime/loader.js';

/**
 * Vector operations on `n`-float blocks of one runtime's arena (all in WASM; reductions in f64).
 * @internal
 */
export class VecOps {
  private readonly kernels: Kernels;
  readonly rt: Runtime;
  readonly n: number;

  constructor(rt: Runtime, n: number) {
    this.rt = rt;
    this.kernels = rt.kernels;
    this.n = n;
  }

  alloc(): Ptr {
    return this.rt.arena.allocF32(Math.max(1, this.n));
  }
  free(p: Ptr): void {
    this.rt.arena.free(p);
  }
  dot(x: Ptr, y: Ptr): number {
    return this.kernels.vecDot(x, y, this.n);
  }
  asum(x: Ptr): number {
    return this.kernels.vecAsum(x, this.n);
  }
  amax(x: Ptr): number {
    return this.kernels.vecAmax(x, this.n);
  }
  /** y ← a·x + y */
  axpy(a: number, x: Ptr, y: Ptr): void {
    this.kernels.vecAxpy(a, x, y, this.n);
  }
  /** x ← a·x */
  scal(a: number, x: Ptr): void {
    this.kernels.vecScal(a, x, this.n);
  }
  /** y ← x */
  copy(x: Ptr, y: Ptr): void {
    this.kernels.vecCopy(x, y, this.n);
  }
  /** out ← a·x + b·y */
  lincomb(a: number, x: Ptr, b: number, y: Ptr, out: Ptr): void {
    this.kernels.vecLincomb(a, x, b, y, out, this.n);
  }
}
