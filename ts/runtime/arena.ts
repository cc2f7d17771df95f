import { DisposedError, OptionError } from '../errors/index.js';

declare const ptrBrand: unique symbol;
/** A byte address in the arena's memory. Only {@link Arena} mints these; never public. */
export type Ptr = number & { readonly [ptrBrand]: true };

const PAGE = 65536;
const ALIGN = 16;

interface Block {
  ptr: number;
  size: number;
}

/**
 * Owns the one `WebAssembly.Memory`, an aligned first-fit allocator with coalescing free, and
 * every typed view. Views are re-derived whenever `memory.grow` detached the old buffer, so
 * callers must take a view right before use and never keep one across an allocation.
 * @internal
 */
export class Arena {
  readonly memory: WebAssembly.Memory;
  private free_: Block[] = [];
  private used = new Map<number, number>();
  private buf: ArrayBuffer;
  private f32_: Float32Array;
  private i32_: Int32Array;
  private u8_: Uint8Array;
  private dv_: DataView;
  /** High-water mark of bytes in use (for benchmarks). */
  peakBytes = 0;
  private inUse = 0;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    const start = align(heapBase);
    const end = memory.buffer.byteLength;
    if (end > start) this.free_.push({ ptr: start, size: end - start });
    this.buf = memory.buffer;
    this.f32_ = new Float32Array(this.buf);
    this.i32_ = new Int32Array(this.buf);
    this.u8_ = new Uint8Array(this.buf);
    this.dv_ = new DataView(this.buf);
  }

  private refresh(): void {
    if (this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
      this.f32_ = new Float32Array(this.buf);
      this.i32_ = new Int32Array(this.buf);
      this.u8_ = new Uint8Array(this.buf);
      this.dv_ = new DataView(this.buf);
    }
  }

  get f32(): Float32Array {
    this.refresh();
    return this.f32_;
  }
  get i32(): Int32Array {
    this.refresh();
    return this.i32_;
  }
  get u8(): Uint8Array {
    this.refresh();
    return this.u8_;
  }
  get view(): DataView {
    this.refresh();
    return this.dv_;
  }

  /** Bytes currently allocated. */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Allocates `bytes` (rounded up to 16) aligned to 16 bytes; grows the memory when needed. */
  alloc(bytes: number): Ptr {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new OptionError('bytes', `Arena.alloc: received ${bytes}; expected a non-negative integer.`);
    }
    const size = Math.max(ALIGN, align(bytes));
    let i = this.free_.findIndex((b) => b.size >= size);
    if (i < 0) {
      this.grow(size);
      i = this.free_.findIndex((b) => b.size >= size);
    }
    const blk = this.free_[i]!;
    const ptr = blk.ptr;
    if (blk.size === size) this.free_.splice(i, 1);
    else {
      blk.ptr += size;
      blk.size -= size;
    }
    this.used.set(ptr, size);
    this.inUse += size;
    if (this.inUse > this.peakBytes) this.peakBytes = this.inUse;
    return ptr as Ptr;
  }

  /** Allocates `n` floats. */
  allocF32(n: number): Ptr {
    return this.alloc(n * 4);
  }

  /** Frees a block; freeing twice throws (a bug in wasmfit, never user input). */
  free(ptr: Ptr): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new DisposedError(`Arena.free: block ${ptr} is not allocated (double free).`);
    this.used.delete(ptr);
    this.inUse -= size;
    // insert sorted, coalesce with neighbours
    let lo = 0;
    let hi = this.free_.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free_[mid]!.ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free_.splice(lo, 0, { ptr, size });
    this.coalesce(lo);
    if (lo > 0) this.coalesce(lo - 1);
  }

  private coalesce(i: number): void {
    const a = this.free_[i];
    const b = this.free_[i + 1];
    if (a && b && a.ptr + a.size === b.ptr) {
      a.size += b.size;
      this.free_.splice(i + 1, 1);
    }
  }

  private grow(size: number): void {
    const oldEnd = this.memory.buffer.byteLength;
    const last = this.free_[this.free_.length - 1];
    const tail = last && last.ptr + last.size === oldEnd ? last.size : 0;
    const need = size - tail;
    // grow geometrically (at least 1/4 of the current size) to keep the number of grows small
    const pages = Math.max(Math.ceil(need / PAGE), Math.ceil(oldEnd / PAGE / 4));
    this.memory.grow(pages);
    const added = pages * PAGE;
    if (tail > 0) last!.size += added;
    else this.free_.push({ ptr: oldEnd, size: added });
    this.refresh();
  }

  /**
   * Counts {@link writeF32} calls. Compiled training plans compare it before each step: parameters
   * and optimizer state are only ever written through `writeF32` (setWeights, training-state
   * import) or by the step itself, so an unchanged count lets the step reuse its cached bounds of
   * them (ts/model/plan.ts). Write parameters or optimizer state through `writeF32` only.
   */
  writes = 0;

  /** Copies floats into the arena. */
  writeF32(ptr: Ptr, data: ArrayLike<number>, offsetFloats = 0): void {
    this.writes++;
    this.f32.set(data, (ptr >>> 2) + offsetFloats);
  }

  /** A copy (never a view) of `n` floats at `ptr`. */
  readF32(ptr: Ptr, n: number): Float32Array {
    const i = ptr >>> 2;
    return this.f32.slice(i, i + n);
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
