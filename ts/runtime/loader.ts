import { MemoryError, NotInitializedError, OptionError, RuntimeSupportError, WasmfitError } from '../errors/index.js';
import { GEMM_SHARED_PACK_FLOATS, GEMM_WORKSPACE_FLOATS } from './abi.js';
import { Arena, WASM32_MAX_BYTES, type Ptr } from './arena.js';
import { canGunzip, gunzip, readFileUrl } from './host.js';
import { Kernels } from './kernels.js';
import { SIMD_WASM_GZIP_BASE64 } from './wasm-simd.generated.js';
import { FMA_PATCH_BASE64 } from './wasm-fma.generated.js';
import { FMA_PROBE } from './probes.js';
import { checkOptions as checkOptionKeys } from '../errors/validate.js';
import { hostCores, threadsUnavailable } from './thread-host.js';
import type { ThreadPool } from './threads.js';

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * `true` forces the SIMD128 module (throws {@link RuntimeSupportError} where unsupported; not
   * the FMA build unless `fma: true`), `false` forces the scalar module; default: SIMD128 where the
   * host supports it (the FMA build where relaxed SIMD validates too, see `fma`).
   */
  simd?: boolean;
  /**
   * Bring your own module instead of the embedded bytes: raw bytes, a URL to fetch, or a compiled
   * `WebAssembly.Module`. It must be a wasmfit kernel module with a matching ABI version.
   */
  wasm?: ArrayBuffer | ArrayBufferView | URL | string | WebAssembly.Module;
  /** Initial memory in 64 KiB pages, at least 16 (default 64 = 4 MiB; memory grows on demand). */
  initialPages?: number;
  /**
   * The fused multiply-add build: the SIMD128 kernels with `f32x4.relaxed_madd` in the GEMM
   * micro-kernel (1.3–1.4× the GEMM speed where the engine fuses it, as V8 does on x86-64 with
   * FMA3). `true` forces it (throws {@link RuntimeSupportError} where the engine does not validate
   * relaxed SIMD), `false` never loads it. Default: used where the engine validates relaxed SIMD
   * (Chromium/V8 ≥ 11.4, Node ≥ 22, or Node 20 with `--experimental-wasm-relaxed-simd`), unless
   * `simd` or `reproducible` is given. FMA rounds `a·b + c` once instead of twice, so its results
   * differ from the SIMD128 and scalar builds in the last bits (and may differ between engines and
   * CPUs: relaxed SIMD lets an engine compute `relaxed_madd` fused or unfused).
   */
  fma?: boolean;
  /**
   * `true` keeps to the bit-reproducible builds (SIMD128, or scalar where SIMD128 is missing): the
   * same seed gives bit-identical weights on every host, in Node and in browsers. Default `false`:
   * the fastest build the host runs, which is the FMA build where relaxed SIMD validates.
   */
  reproducible?: boolean;
  /**
   * Threads one model's training and inference use (an integer in [1, 64]). Default: the cores
   * available (at most 8) where threads are possible, else 1. Threads need a SIMD128 build, a
   * SharedArrayBuffer (browsers: a cross-origin isolated page) and a thread that may block in
   * `Atomics.wait` (Node's main thread or a Web Worker, not a page's main thread). Results are
   * bit-identical for every thread count: the threaded builds are the SIMD128 build and, where FMA
   * is chosen (see `fma`), the FMA build, each with the same kernels as on one thread. An explicit
   * value > 1 where threads are impossible throws {@link RuntimeSupportError}.
   */
  threads?: number;
}

/** The option names {@link init} accepts. */
const INIT_KEYS = ['simd', 'wasm', 'initialPages', 'fma', 'reproducible', 'threads'] as const;
/** Most threads a runtime takes (the optimizer splits a tensor into at most 8 ranges). */
const MAX_THREADS = 64;
/** Most threads the default takes. */
const DEFAULT_MAX_THREADS = 8;

/** Which kernel build a {@link Runtime} runs (`'simd'` also for the threaded SIMD128 build). */
export type BuildName = 'fma' | 'simd' | 'scalar';

/**
 * @internal Options of {@link createRuntime}: those of {@link init}, plus test-only ones.
 */
export interface RuntimeOptions extends InitOptions {
  /** Test-only: canary bands around every arena block (see `ArenaOptions.guardBands`). */
  guardBands?: boolean;
  /** Test/bench-only: the threaded build even for `threads: 1` (its serial path, no workers). */
  threadedBuild?: boolean;
}

/** A loaded kernel module with its memory. Every model uses one runtime. */
export class Runtime {
  /** @internal */ readonly arena: Arena;
  /** @internal The kernel calls (the only holder of the module's exports). */ readonly kernels: Kernels;
  /** Whether a SIMD128 build is running (the SIMD128 or the FMA build). */
  readonly simd: boolean;
  /** Whether the FMA build (relaxed-SIMD fused multiply-add, not bit-identical to the others) is running. */
  readonly fma: boolean;
  /** The build that runs: `'fma'`, `'simd'` (SIMD128, one thread or several) or `'scalar'`; the last two agree bit for bit. */
  readonly build: BuildName;
  /** @internal GEMM packing workspace, shared by every kernel call on this runtime (one per thread). */
  readonly ws: Ptr;
  /** Threads this runtime's kernels use (1 unless `init({ threads })` started workers). */
  get threads(): number {
    return this.pool && !this.disposed ? this.pool.threads : 1;
  }
  /** @internal The worker threads of a threaded runtime. */
  pool: ThreadPool | null = null;
  private disposed = false;

  /** @internal */
  constructor(kernels: Kernels, memory: WebAssembly.Memory, options: { guardBands?: boolean; threads?: number } = {}) {
    this.kernels = kernels;
    this.arena = new Arena(memory, kernels.heapBase, { guardBands: options.guardBands === true });
    this.simd = kernels.simdEnabled() !== 0;
    this.fma = kernels.fma;
    this.build = this.fma ? 'fma' : this.simd ? 'simd' : 'scalar';
    // one packing workspace per thread; a threaded runtime also has the shared packing area after them
    const threads = options.threads ?? 1;
    this.ws = this.arena.allocF32(GEMM_WORKSPACE_FLOATS * threads + (threads > 1 ? GEMM_SHARED_PACK_FLOATS : 0));
  }

  /**
   * Terminates this runtime's worker threads (a threaded runtime); the next `init()` with the same
   * options starts a new runtime. Models already on this runtime keep working, on one thread.
   * Idempotent; a no-op for a single-threaded runtime.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool?.close();
    for (const [k, v] of runtimeCache) if (v.settled === this) runtimeCache.delete(k);
    if (current === this) current = null;
  }

  /** Bytes of WASM memory: committed, in use by wasmfit objects, and the peak in use. */
  memoryStats(): { committedBytes: number; inUseBytes: number; peakInUseBytes: number } {
    return {
      committedBytes: this.arena.memory.buffer.byteLength,
      inUseBytes: this.arena.bytesInUse,
      peakInUseBytes: this.arena.peakBytes,
    };
  }
}

const moduleCache = new Map<string, Promise<WebAssembly.Module>>();
const runtimeCache = new Map<string, Promise<Runtime> & { settled?: Runtime }>();
let current: Runtime | null = null;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const B = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer;
  if (B) return Uint8Array.from(B.from(b64, "base64"));
  throw new RuntimeSupportError('init: this host has neither atob nor Buffer to decode the embedded module; pass init({ wasm }) with the module bytes.');
}

let simdSupport: boolean | null = null;
/**
 * A module using the final SIMD128 opcodes (`i32.const 0; i8x16.splat; i8x16.popcnt`, as
 * wasm-feature-detect probes): engines that validate it run the embedded SIMD128 build.
 */
const SIMD_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11);
/** Whether this host's WebAssembly has SIMD128 (feature detection by validating a probe, no instantiation). */
export function simdSupported(): boolean {
  if (simdSupport === null) {
    try {
      simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

let fmaSupport: boolean | null = null;
/** Whether this host's WebAssembly has relaxed SIMD (validates `f32x4.relaxed_madd`), so `init()` can load the FMA build. */
export function fmaSupported(): boolean {
  if (fmaSupport === null) {
    try {
      fmaSupport = simdSupported() && WebAssembly.validate(FMA_PROBE);
    } catch {
      fmaSupport = false;
    }
  }
  return fmaSupport;
}

/** The embedded SIMD128 module's bytes (embedded gzip-compressed; see scripts/build-wasm.mjs). */
function simdBytes(): Promise<Uint8Array> {
  return gunzip(decodeBase64(SIMD_WASM_GZIP_BASE64));
}

/**
 * An FMA module's bytes, made in place from its SIMD128 twin's (`out`, the single-threaded or the
 * threaded module): the two differ only in the GEMM micro-kernel's fused instructions and
 * `simd_enabled`'s constant, at the same offsets (scripts/fuse-madd.mjs), so the bundle carries a
 * patch (base64 of runs `[u32 offset, u16 length, bytes]`) instead of a second module.
 */
function patched(out: Uint8Array, patchBase64: string): Uint8Array {
  const patch = decodeBase64(patchBase64);
  const v = new DataView(patch.buffer, patch.byteOffset, patch.byteLength);
  for (let i = 0; i < patch.length; ) {
    const n = v.getUint16(i + 4, true);
    out.set(patch.subarray(i + 6, i + 6 + n), v.getUint32(i, true));
    i += 6 + n;
  }
  return out;
}

const CSP_HINT =
  "A page with a strict Content-Security-Policy must allow WebAssembly: add 'wasm-unsafe-eval' to its script-src directive (e.g. script-src 'self' 'wasm-unsafe-eval').";

/**
 * A RuntimeSupportError for a module that failed to compile or instantiate (CompileError,
 * LinkError, or a Content-Security-Policy that forbids WebAssembly, which browsers report as a
 * CompileError or EvalError).
 */
export function wasmFailure(e: unknown, what: string, custom: boolean): RuntimeSupportError {
  if (e instanceof WasmfitError) return e as RuntimeSupportError;
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const csp = /content.security.policy|\bCSP\b|unsafe-eval|disallowed|refused|blocked/i.test(detail);
  const other = custom
    ? 'Otherwise the module is not a valid wasmfit kernel module for this host: pass the module built by scripts/build-wasm.mjs for this version, or omit the wasm option to use the embedded one.'
    : 'Otherwise this host cannot run the embedded module; report it with the host and version.';
  const err = new RuntimeSupportError(`init: ${what} failed (${detail}). ${csp ? CSP_HINT : `${CSP_HINT} ${other}`}`);
  (err as { cause?: unknown }).cause = e;
  return err;
}

async function compileBytes(bytes: ArrayBuffer | ArrayBufferView, custom: boolean): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw wasmFailure(e, custom ? 'compiling the WebAssembly module passed as init({ wasm })' : 'compiling the embedded WebAssembly module', custom);
  }
}

async function compileFrom(src: NonNullable<InitOptions['wasm']>): Promise<WebAssembly.Module> {
  if (src instanceof WebAssembly.Module) return src;
  if (typeof src === 'string' || src instanceof URL) {
    let url: URL;
    try {
      url = src instanceof URL ? src : new URL(src, (globalThis as { location?: { href: string } }).location?.href);
    } catch {
      throw new OptionError('wasm', `init: option wasm = '${String(src).slice(0, 200)}' is not a valid URL; pass an absolute URL, module bytes or a WebAssembly.Module.`);
    }
    let bytes: ArrayBuffer | ArrayBufferView;
    try {
      if (url.protocol === 'file:') {
        bytes = await readFileUrl(url);
      } else {
        const res = await fetch(url);
        if (!res.ok) throw new RuntimeSupportError(`init: fetching the module from ${url.href} failed with HTTP ${res.status}; check the URL or pass the bytes.`);
        bytes = await res.arrayBuffer();
      }
    } catch (e) {
      if (e instanceof WasmfitError) throw e;
      throw new RuntimeSupportError(`init: reading the module from ${url.href} failed (${(e as Error)?.message ?? String(e)}); check the URL or pass the bytes.`);
    }
    return compileBytes(bytes, true);
  }
  return compileBytes(src, true);
}

function isBufferSource(v: unknown): v is ArrayBuffer | ArrayBufferView {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v) || (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer);
}

/**
 * Instantiates a module on a fresh memory and verifies its ABI. The second argument is the initial
 * page count or {@link RuntimeOptions} (`initialPages`, `guardBands`). @internal
 */
export async function instantiate(mod: WebAssembly.Module, pagesOrOptions: number | (Pick<RuntimeOptions, 'initialPages' | 'guardBands' | 'threads'> & { threaded?: boolean }) = 64): Promise<Runtime> {
  const opts: Pick<RuntimeOptions, 'initialPages' | 'guardBands' | 'threads'> & { threaded?: boolean } = typeof pagesOrOptions === 'number' ? { initialPages: pagesOrOptions } : pagesOrOptions;
  const initialPages = opts.initialPages ?? 64;
  if ((opts.threads ?? 1) > 1 || opts.threaded === true) return instantiateThreaded(mod, initialPages, opts.threads!, opts.guardBands === true);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: initialPages });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const asked = initialPages * 65536;
    throw new MemoryError(
      `init: the host refused a WASM memory of ${asked} bytes (initialPages = ${initialPages}; wasm32 allows at most 4 GiB = ${WASM32_MAX_BYTES} bytes). Use a smaller initialPages (memory grows on demand) or free memory in this process.`,
      { requestedBytes: asked, committedBytes: 0, inUseBytes: 0, limitBytes: WASM32_MAX_BYTES },
    );
  }
  let inst: WebAssembly.Instance;
  try {
    inst = await WebAssembly.instantiate(mod, { env: { memory } });
  } catch (e) {
    throw wasmFailure(e, 'instantiating the kernel module', true);
  }
  // the module's ABI version, record layouts and contract functions are verified before any call
  return new Runtime(Kernels.from(inst.exports, memory), memory, { guardBands: opts.guardBands === true });
}

/**
 * The threaded runtime: a shared memory (maximum 4 GiB, committed on demand), the main instance
 * (its data copied in once by `init_memory`), then `threads − 1` workers with their own instances
 * and stacks (ts/runtime/threads.ts).
 */
async function instantiateThreaded(mod: WebAssembly.Module, initialPages: number, threads: number, guardBands: boolean): Promise<Runtime> {
  const { startThreaded } = await import('./threads.js');
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: initialPages, maximum: WASM32_MAX_BYTES / 65536, shared: true });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new MemoryError(
      `init({ threads: ${threads} }): the host refused a shared WASM memory of ${initialPages * 65536} bytes reserving up to 4 GiB. Use init({ threads: 1 }) or a smaller initialPages.`,
      { requestedBytes: initialPages * 65536, committedBytes: 0, inUseBytes: 0, limitBytes: WASM32_MAX_BYTES },
    );
  }
  return startThreaded(mod, memory, threads, (exports) => new Runtime(Kernels.from(exports, memory), memory, { guardBands, threads }), (e) => wasmFailure(e, 'instantiating the threaded kernel module', true));
}

/**
 * Loads the kernel module (once; later calls with the same options return the same runtime) and
 * makes it the current runtime that models use.
 *
 * @example
 * ```ts
 * const rt = await init();            // FMA where relaxed SIMD validates, else SIMD128, else scalar
 * rt.build;                           // 'fma' | 'simd' | 'scalar'
 * const rt2 = await init({ simd: false }); // force the scalar build
 * const rt3 = await init({ reproducible: true }); // SIMD128 (or scalar): bit-identical everywhere
 * ```
 */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  const o = checkOptions(options, INIT_KEYS, 'init');
  const threads = threadsOf(o, 'init');
  const { key, getModule } = moduleFor(o, 'init');
  let rt = runtimeCache.get(key);
  if (!rt) {
    const p: Promise<Runtime> & { settled?: Runtime } = getModule().then((m) => instantiate(m, { initialPages: o.initialPages ?? 64, threads }));
    p.then((r) => (p.settled = r)).catch(() => runtimeCache.delete(key));
    runtimeCache.set(key, (rt = p));
  }
  const got = await rt;
  if (o.reproducible === true && got.fma) {
    throw new OptionError('reproducible', 'init({ reproducible: true }): the module passed as wasm is the FMA build (wasmfit-fma.wasm), whose results are not bit-reproducible; pass wasmfit-simd.wasm or wasmfit-scalar.wasm, or drop reproducible.');
  }
  current = got;
  return current;
}

/**
 * @internal A fresh runtime with its own memory (never cached, never made current; pass it to
 * models as `runtime`). Takes the options of {@link init} plus test-only `guardBands`.
 *
 * @example
 * ```ts
 * const rt = await createRuntime({ guardBands: true });
 * const m = new Sequential({ inputShape: [4], layers: [dense(2)], runtime: rt });
 * // ... train ...
 * rt.arena.checkGuards(); rt.arena.checkFreed(); // throw GuardBandError on an out-of-bounds write
 * ```
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const o = checkOptions(options, [...INIT_KEYS, 'guardBands', 'threadedBuild'], 'createRuntime');
  if (o.guardBands !== undefined && typeof o.guardBands !== 'boolean') {
    throw new OptionError('guardBands', `createRuntime: option guardBands = ${String(o.guardBands)}; expected true, false or undefined.`);
  }
  if (o.threadedBuild !== undefined && typeof o.threadedBuild !== 'boolean') throw new OptionError('threadedBuild', `createRuntime: option threadedBuild = ${String(o.threadedBuild)}; expected true, false or undefined.`);
  const { getModule } = moduleFor({ ...o, threads: o.threads ?? 1 }, 'createRuntime');
  const threads = threadsOf({ ...o, threads: o.threads ?? 1 }, 'createRuntime');
  return instantiate(await getModule(), { initialPages: o.initialPages ?? 64, guardBands: o.guardBands, threads, threaded: o.threadedBuild === true || threads > 1 });
}

/** The runtime's options bag, checked by the shared helper (unknown keys with a near-miss hint). */
function checkOptions(options: unknown, known: readonly string[], where: string): RuntimeOptions {
  return checkOptionKeys(where, options, known) as RuntimeOptions;
}

/**
 * The thread count of these options: the explicit `threads` (checked: an integer in [1, 64]; > 1
 * needs the SIMD128 build, no custom module, and a host that can run threads), else the cores
 * available (at most 8) where all that holds, else 1.
 */
function threadsOf(o: RuntimeOptions, where: string): number {
  const t = o.threads;
  const simdOk = o.simd !== false && simdSupported() && canGunzip();
  if (t === undefined) {
    if (o.wasm !== undefined || !simdOk || threadsUnavailable() !== null) return 1;
    return Math.max(1, Math.min(DEFAULT_MAX_THREADS, hostCores()));
  }
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_THREADS) {
    throw new OptionError('threads', `${where}: option threads = ${typeof t === 'number' ? t : typeof t}; expected an integer in [1, ${MAX_THREADS}] (or omit it for the cores available).`);
  }
  if (t === 1) return 1;
  if (o.wasm !== undefined) throw new OptionError('threads', `${where}: option threads = ${t} with a custom wasm module; threads use the embedded threaded build: omit wasm or pass threads: 1.`);
  if (o.simd === false) throw new OptionError('threads', `${where}: options threads = ${t} and simd = false conflict; the threaded build is SIMD128: omit simd or pass threads: 1.`);
  if (!simdOk) throw new RuntimeSupportError(`${where}({ threads: ${t} }): threads need WebAssembly SIMD128 and DecompressionStream, which this host lacks; pass threads: 1.`);
  const why = threadsUnavailable();
  if (why !== null) throw new RuntimeSupportError(`${where}({ threads: ${t} }): threads are unavailable: ${why}. Pass threads: 1 (or omit it).`);
  return t;
}

/** Validates the module options and says where the module comes from (and its cache key). */
function moduleFor(o: RuntimeOptions, where: string): { key: string; getModule: () => Promise<WebAssembly.Module> } {
  if (typeof WebAssembly !== 'object') throw new RuntimeSupportError(`${where}: this host has no WebAssembly; wasmfit needs it (Node >= 16 or any current browser).`);
  const { simd, wasm, initialPages = 64, fma, reproducible } = o;
  for (const [name, v] of [['simd', simd], ['fma', fma], ['reproducible', reproducible]] as const) {
    if (v !== undefined && typeof v !== 'boolean') throw new OptionError(name, `${where}: option ${name} = ${String(v)}; expected true, false or undefined.`);
  }
  if (fma === true && (simd === false || reproducible === true)) {
    const other = simd === false ? 'simd: false' : 'reproducible: true';
    throw new OptionError('fma', `${where}: options fma: true and ${other} contradict each other (the FMA build is a SIMD128 build whose results are not bit-reproducible); drop one of them.`);
  }
  if (fma === true && wasm !== undefined) throw new OptionError('fma', `${where}: options fma and wasm exclude each other (fma chooses among the embedded builds); drop fma, or pass build/wasmfit-fma.wasm as wasm.`);
  if (!Number.isInteger(initialPages) || initialPages < 16 || initialPages > 65536) {
    throw new OptionError('initialPages', `${where}: option initialPages = ${initialPages}; expected an integer in [16, 65536] (the kernels need 16 pages for their stack and data).`);
  }
  if (wasm !== undefined) {
    if (!(wasm instanceof WebAssembly.Module) && !(wasm instanceof URL) && typeof wasm !== 'string' && !isBufferSource(wasm)) {
      throw new OptionError('wasm', `${where}: option wasm is ${wasm === null ? 'null' : typeof wasm}; expected the module bytes (ArrayBuffer or typed array), a URL or a compiled WebAssembly.Module.`);
    }
    return { key: `custom:${Math.random()}`, getModule: () => compileFrom(wasm) };
  }
  // the SIMD build is embedded compressed: a SIMD128 engine without DecompressionStream (Firefox
  // 89-112) runs the scalar build unless asked
  const useSimd = simd ?? (simdSupported() && canGunzip());
  if (useSimd && !simdSupported()) {
    throw new RuntimeSupportError(`${where}({ simd: true }): this host does not support WebAssembly SIMD128. Omit the option to fall back to the scalar build.`);
  }
  if (useSimd && !canGunzip()) {
    throw new RuntimeSupportError(`${where}({ simd: true }): this host has no DecompressionStream to unpack the embedded SIMD128 module. Pass init({ wasm }) with the bytes of wasmfit-simd.wasm, or omit the option to use the scalar build.`);
  }
  const threads = threadsOf(o, where);
  // the same choice for every thread count: the threaded FMA build gives the 1-thread FMA bits
  const useFma = useSimd && (fma ?? (simd === undefined && reproducible !== true && fmaSupported()));
  if (fma === true && useSimd !== true) {
    throw new RuntimeSupportError(`${where}({ fma: true }): this host ${simdSupported() ? 'has no DecompressionStream to unpack the embedded FMA module' : 'does not support WebAssembly SIMD128'}; omit the option to use the ${simdSupported() ? 'SIMD128' : 'scalar'} build.`);
  }
  if (fma === true && !fmaSupported()) {
    throw new RuntimeSupportError(`${where}({ fma: true }): this host's WebAssembly does not validate relaxed SIMD (f32x4.relaxed_madd). Node 20 needs --experimental-wasm-relaxed-simd (Node >= 22 and Chromium-based browsers have it); omit the option to use the SIMD128 build.`);
  }
  const threaded = threads > 1 || o.threadedBuild === true;
  const variant = threaded ? (useFma ? 'fma-threads' : 'threads') : useFma ? 'fma' : useSimd ? 'simd' : 'scalar';
  return {
    key: `${variant}:${initialPages}:${threads}`,
    getModule: () => {
      let p = moduleCache.get(variant);
      if (!p) {
        // the scalar module is its own chunk, fetched only on hosts without SIMD128 (or when asked);
        // so is the threaded one
        p = threaded
          ? import('./wasm-threads.generated.js').then(async (m) => {
              const bytes = await gunzip(decodeBase64(m.THREADS_WASM_GZIP_BASE64));
              return compileBytes(useFma ? patched(bytes, m.THREADS_FMA_PATCH_BASE64) : bytes, false);
            })
          : useFma
          ? simdBytes().then((b) => compileBytes(patched(b, FMA_PATCH_BASE64), false))
          : useSimd
          ? simdBytes().then((b) => compileBytes(b, false))
          : import('./wasm-scalar.generated.js').then((m) => compileBytes(decodeBase64(m.SCALAR_WASM_BASE64), false));
        moduleCache.set(variant, p);
        // a failed compile (e.g. a CSP that forbids WebAssembly) is not remembered
        p.catch(() => moduleCache.delete(variant));
      }
      return p;
    },
  };
}

/**
 * @internal The compiled embedded module (the SIMD128 build where supported, unless `simd` says
 * otherwise), compiled once and cached: `fitInWorker` posts it to its workers, whose script embeds
 * no bytes. Rejects as {@link init} would for the same `simd`.
 */
export async function compiledModule(options: Pick<InitOptions, 'simd' | 'fma' | 'reproducible'>, where = 'init'): Promise<WebAssembly.Module> {
  // fitInWorker's workers train on one thread each: a single-threaded build
  return moduleFor({ ...checkOptions(options, ['simd', 'fma', 'reproducible'], where), threads: 1 }, where).getModule();
}

/**
 * @internal The embedded module's bytes, of the build {@link compiledModule} compiles for the same
 * `simd`: what `fitInWorker` sends where a host cannot post a compiled module to a worker.
 */
export async function embeddedModuleBytes(options: Pick<InitOptions, 'simd' | 'fma' | 'reproducible'>): Promise<Uint8Array> {
  const useSimd = options.simd ?? (simdSupported() && canGunzip());
  const useFma = useSimd && (options.fma ?? (options.simd === undefined && options.reproducible !== true && fmaSupported()));
  if (useFma) return patched(await simdBytes(), FMA_PATCH_BASE64);
  return useSimd ? simdBytes() : decodeBase64((await import('./wasm-scalar.generated.js')).SCALAR_WASM_BASE64);
}

/** The runtime that the last `init()` made current. Throws when `init()` has not run. */
export function getRuntime(): Runtime {
  if (!current) throw new NotInitializedError('wasmfit: the kernel module is not loaded. Call `await init()` once before building models.');
  return current;
}
