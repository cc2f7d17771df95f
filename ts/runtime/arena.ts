import { DisposedError, MemoryError, OptionError, WasmfitError } from '../errors/index.js';

declare const ptrBrand: unique symbol;
/** A byte address in the arena's memory. Only {@link Arena} mints these ({@link offsetF32} points inside its blocks); never public. */
export type Ptr = number & { readonly [ptrBrand]: true };

/** The address `floats` f32 elements past `p`, inside the block `p` points into (the caller keeps it in bounds). */
export function offsetF32(p: Ptr, floats: number): Ptr {
  return (p + floats * 4) as Ptr;
}

const PAGE = 65536;
const ALIGN = 16;
/** wasm32 memory holds at most 65536 pages of 64 KiB (4 GiB). */
const MAX_PAGES = 65536;
export const WASM32_MAX_BYTES = MAX_PAGES * PAGE;
/** Bytes of canary on each side of a block in guard-band mode (a multiple of {@link ALIGN}). */
export const GUARD_BYTES = 64;
/**
 * Canary words, chosen by the parity of the word's address: a quiet NaN with a payload, and a large
 * negative finite float (-3.39e38). Clamping or rescaling can leave a NaN unchanged, so the finite
 * word catches clipping, scaling, max-norm and ReLU writes that a NaN-only canary would miss; a
 * kernel writing a canonical NaN or 0 changes both.
 */
const CANARY = [0x7fc0dead, 0xff7f7f7f] as const;

/**
 * @internal Test-only: a guard band around an arena block (or memory the arena had freed) was
 * overwritten, i.e. a kernel or the TypeScript layer wrote outside a buffer. Raised by
 * {@link Arena.checkGuards} / {@link Arena.checkFreed} on a runtime created with `guardBands: true`.
 */
export class GuardBandError extends WasmfitError {
  /** Address of the block whose band changed (for 'freed', the start of the free region). */
  readonly ptr: number;
  /** Bytes the block was allocated with (for 'freed', the size of the free region). */
  readonly bytes: number;
  /** Which band: before the block, after it, or memory that was free. */
  readonly side: 'before' | 'after' | 'freed';
  /** Address of the first changed 4-byte word. */
  readonly address: number;
  constructor(message: string, info: { ptr: number; bytes: number; side: 'before' | 'after' | 'freed'; address: number }) {
    super('E_GUARD_BAND', message);
    this.name = 'GuardBandError';
    this.ptr = info.ptr;
    this.bytes = info.bytes;
    this.side = info.side;
    this.address = info.address;
  }
}

/** @internal Arena options. */
export interface ArenaOptions {
  /**
   * Test-only: surround every block with {@link GUARD_BYTES} of canary words on each side (the
   * band after a block starts right after the bytes asked, so the alignment padding is checked
   * too) and fill freed memory with the same pattern; {@link Arena.checkGuards} and
   * {@link Arena.checkFreed} report the first change. Slower and uses more memory.
   */
  guardBands?: boolean;
}

interface Block {
  ptr: number;
  size: number;
}

/**
 * Owns the one `WebAssembly.Memory`, an aligned first-fit allocator with coalescing free, and
 * every typed view. Views are re-derived whenever `memory.grow` detached the old buffer, so
 * callers must take a view right before use and never keep one across an allocation.
 *
 * Memory grows geometrically but never past the wasm32 ceiling of 4 GiB; an allocation that does
 * not fit throws {@link MemoryError} and leaves the arena as it was.
 * @internal
 */
export class Arena {
  readonly memory: WebAssembly.Memory;
  /** Whether blocks carry guard bands ({@link ArenaOptions.guardBands}). */
  readonly guardBands: boolean;
  /** Free regions, sorted by address (in guard mode: including their bands). */
  private free_: Block[] = [];
  /** Live blocks: payload address -> payload size (a multiple of 16). */
  private used = new Map<number, number>();
  /** Guard mode: payload address -> bytes asked. */
  private asked = new Map<number, number>();
  /** Guard mode: the first band found overwritten when its block was freed. */
  private violation: GuardBandError | null = null;
  /** Open {@link atomic} scopes: the blocks each has allocated and not freed yet. */
  private scopes: Set<number>[] = [];
  private buf: ArrayBuffer;
  private f32_: Float32Array;
  private i32_: Int32Array;
  private u8_: Uint8Array;
  private dv_: DataView;
  /** High-water mark of bytes in use (for benchmarks). */
  peakBytes = 0;
  private inUse = 0;

  constructor(memory: WebAssembly.Memory, heapBase: number, options: ArenaOptions = {}) {
    this.memory = memory;
    this.guardBands = options.guardBands === true;
    const start = align(heapBase);
    const end = memory.buffer.byteLength;
    if (end > start) this.free_.push({ ptr: start, size: end - start });
    this.buf = memory.buffer;
    this.f32_ = new Float32Array(this.buf);
    this.i32_ = new Int32Array(this.buf);
    this.u8_ = new Uint8Array(this.buf);
    this.dv_ = new DataView(this.buf);
    if (this.guardBands && end > start) this.poison(start, end);
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

  /**
   * Allocates `bytes` (rounded up to 16) aligned to 16 bytes; grows the memory when needed.
   * Throws {@link MemoryError} when the memory cannot hold the block (nothing changes then).
   */
  alloc(bytes: number): Ptr {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new OptionError('bytes', `Arena.alloc: received ${bytes}; expected a non-negative integer.`);
    }
    const g = this.guardBands ? GUARD_BYTES : 0;
    if (bytes > WASM32_MAX_BYTES) throw this.memoryError(bytes, WASM32_MAX_BYTES, 'ceiling');
    const size = Math.max(ALIGN, align(bytes));
    const raw = size + 2 * g;
    let i = this.free_.findIndex((b) => b.size >= raw);
    if (i < 0) {
      this.grow(raw, bytes);
      i = this.free_.findIndex((b) => b.size >= raw);
    }
    const blk = this.free_[i]!;
    const ptr = blk.ptr + g;
    if (blk.size === raw) this.free_.splice(i, 1);
    else {
      blk.ptr += raw;
      blk.size -= raw;
    }
    this.used.set(ptr, size);
    this.inUse += size;
    if (this.inUse > this.peakBytes) this.peakBytes = this.inUse;
    if (g > 0) {
      this.asked.set(ptr, bytes);
      // the payload is canary-filled memory from the free list; (re)write both bands explicitly
      this.poison(ptr - g, ptr);
      this.poison(ptr + align4(bytes), ptr + size + g);
    }
    for (const s of this.scopes) s.add(ptr);
    return ptr as Ptr;
  }

  /** Allocates `n` floats. */
  allocF32(n: number): Ptr {
    return this.alloc(n * 4);
  }

  /** Frees a block; freeing twice throws (a bug in wasmfit, never user input). */
  free(ptr: Ptr): void {
    this.release(ptr);
  }

  /** The body of {@link free}, also used by {@link atomic} (not affected by instance patches). */
  private release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new DisposedError(`Arena.free: block ${ptr} is not allocated (double free).`);
    const g = this.guardBands ? GUARD_BYTES : 0;
    if (g > 0) {
      // a block freed with a broken band is remembered for checkGuards(); the free still happens
      if (!this.violation) this.violation = this.bandError(ptr, size, this.asked.get(ptr)!);
      this.asked.delete(ptr);
      this.poison(ptr - g, ptr + size + g);
    }
    this.used.delete(ptr);
    this.inUse -= size;
    for (const s of this.scopes) s.delete(ptr);
    const start = ptr - g;
    const raw = size + 2 * g;
    // insert sorted, coalesce with neighbours
    let lo = 0;
    let hi = this.free_.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.free_[mid]!.ptr < start) lo = mid + 1;
      else hi = mid;
    }
    this.free_.splice(lo, 0, { ptr: start, size: raw });
    this.coalesce(lo);
    if (lo > 0) this.coalesce(lo - 1);
  }

  /**
   * Runs `fn` (synchronous) so that a multi-block allocation is all-or-nothing: when `fn` throws,
   * every block it allocated and did not free is freed, then the error is rethrown. Scopes nest;
   * an inner scope's blocks that survive belong to the outer scope. Blocks `fn` freed itself are
   * skipped, so a constructor that frees its own blocks in a catch may run inside a scope; but a
   * block must not be handed to an owner that outlives a failed `fn` (the owner would free it again).
   */
  atomic<T>(fn: () => T): T {
    const mine = new Set<number>();
    this.scopes.push(mine);
    try {
      return fn();
    } catch (e) {
      // newest first, so the free list coalesces back to the state before fn
      for (const p of [...mine].reverse()) {
        if (this.used.has(p)) this.release(p);
      }
      throw e;
    } finally {
      const i = this.scopes.lastIndexOf(mine);
      if (i >= 0) this.scopes.splice(i, 1);
    }
  }

  private coalesce(i: number): void {
    const a = this.free_[i];
    const b = this.free_[i + 1];
    if (a && b && a.ptr + a.size === b.ptr) {
      a.size += b.size;
      this.free_.splice(i + 1, 1);
    }
  }

  /**
   * Grows the memory so that a free region of `raw` bytes exists at its end. Geometric (a quarter
   * of the current size at least) to keep the number of grows small, clamped at 4 GiB; when the
   * host refuses the geometric step, retries with the minimum. Throws {@link MemoryError}.
   */
  private grow(raw: number, asked: number): void {
    const oldEnd = this.memory.buffer.byteLength;
    const last = this.free_[this.free_.length - 1];
    const tail = last && last.ptr + last.size === oldEnd ? last.size : 0;
    const need = raw - tail;
    const minPages = Math.ceil(need / PAGE);
    const oldPages = oldEnd / PAGE;
    const room = MAX_PAGES - oldPages;
    if (minPages > room) throw this.memoryError(asked, WASM32_MAX_BYTES, 'ceiling');
    const pages = Math.min(room, Math.max(minPages, Math.ceil(oldPages / 4)));
    let added = 0;
    for (const p of pages > minPages ? [pages, minPages] : [minPages]) {
      try {
        this.memory.grow(p);
        added = p * PAGE;
        break;
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
      }
    }
    if (added === 0) throw this.memoryError(asked, oldEnd, 'host');
    if (tail > 0) last!.size += added;
    else this.free_.push({ ptr: oldEnd, size: added });
    this.refresh();
    if (this.guardBands) this.poison(oldEnd, oldEnd + added);
  }

  private memoryError(asked: number, limit: number, why: 'ceiling' | 'host'): MemoryError {
    const committed = this.memory.buffer.byteLength;
    const inUse = this.inUse;
    const reason =
      why === 'ceiling'
        ? `it does not fit below the wasm32 memory ceiling of 4 GiB (${fmt(WASM32_MAX_BYTES)} bytes)`
        : `the host refused to grow the memory past ${fmt(committed)} bytes (${gib(committed)}), below the wasm32 ceiling of 4 GiB`;
    return new MemoryError(
      `wasmfit: out of WASM memory: ${fmt(asked)} bytes (${gib(asked)}) were asked and ${reason}; ` +
        `${fmt(committed)} bytes are committed, ${fmt(inUse)} in use by live models and buffers. ` +
        'Dispose models you no longer need (model.dispose(); the garbage collector does not count WASM memory), ' +
        'or use a smaller model or batch size. Nothing was allocated; the runtime stays usable.',
      { requestedBytes: asked, committedBytes: committed, inUseBytes: inUse, limitBytes: limit },
    );
  }

  /** Guard mode: fills `[from, to)` (4-byte aligned) with the canary pattern. */
  private poison(from: number, to: number): void {
    const u = new Uint32Array(this.memory.buffer);
    for (let w = from >>> 2, e = to >>> 2; w < e; w++) u[w] = CANARY[w & 1]!;
  }

  /** Guard mode: the first word in `[from, to)` that is not the canary, or -1. */
  private firstChanged(from: number, to: number): number {
    const u = new Uint32Array(this.memory.buffer);
    for (let w = from >>> 2, e = to >>> 2; w < e; w++) if (u[w] !== CANARY[w & 1]) return w * 4;
    return -1;
  }

  private bandError(ptr: number, size: number, asked: number): GuardBandError | null {
    const g = GUARD_BYTES;
    const before = this.firstChanged(ptr - g, ptr);
    if (before >= 0) {
      return new GuardBandError(`guard band before block ${ptr} (${asked} bytes) was overwritten at address ${before} (${ptr - before} bytes before it).`, { ptr, bytes: asked, side: 'before', address: before });
    }
    const after = this.firstChanged(ptr + align4(asked), ptr + size + g);
    if (after >= 0) {
      return new GuardBandError(`guard band after block ${ptr} (${asked} bytes) was overwritten at address ${after} (${after - ptr - asked} bytes past its end).`, { ptr, bytes: asked, side: 'after', address: after });
    }
    return null;
  }

  /**
   * Test-only (guard mode): throws {@link GuardBandError} for the first block whose guard band
   * changed, the lowest address first; a block freed since with a broken band is reported before
   * the live ones. Returns the number of live blocks checked.
   */
  checkGuards(): number {
    this.requireGuards('checkGuards');
    if (this.violation) throw this.violation;
    const live = [...this.used.keys()].sort((a, b) => a - b);
    for (const p of live) {
      const err = this.bandError(p, this.used.get(p)!, this.asked.get(p)!);
      if (err) throw err;
    }
    return live.length;
  }

  /**
   * Test-only (guard mode): throws {@link GuardBandError} when memory the arena holds as free
   * (freed blocks and never-used memory) was written, i.e. a write after free or past every block.
   * Returns the number of free bytes checked.
   */
  checkFreed(): number {
    this.requireGuards('checkFreed');
    let bytes = 0;
    for (const b of this.free_) {
      const at = this.firstChanged(b.ptr, b.ptr + b.size);
      if (at >= 0) {
        throw new GuardBandError(`free memory [${b.ptr}, ${b.ptr + b.size}) was written at address ${at} (a write after free or outside every block).`, { ptr: b.ptr, bytes: b.size, side: 'freed', address: at });
      }
      bytes += b.size;
    }
    return bytes;
  }

  private requireGuards(where: string): void {
    if (!this.guardBands) throw new OptionError('guardBands', `Arena.${where}: this runtime has no guard bands; create it with guardBands: true.`);
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

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** 1234567 -> '1,234,567' */
function fmt(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function gib(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}
