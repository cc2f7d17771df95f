import { NotInitializedError, OptionError, RuntimeSupportError } from '../errors/index.js';
import { ABI_VERSION, GEMM_WORKSPACE_FLOATS, LAYOUT_NAMES, OPT_ARGS, OPT_ARGS_ORDER, expectedLayout, type KernelExports } from './abi.js';
import { Arena, type Ptr } from './arena.js';
import { SIMD_WASM_BASE64 } from './wasm-simd.generated.js';

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * `true` forces the SIMD128 module (throws {@link RuntimeSupportError} where unsupported),
   * `false` forces the scalar module; default: SIMD128 where the host supports it.
   */
  simd?: boolean;
  /**
   * Bring your own module instead of the embedded bytes: raw bytes, a URL to fetch, or a compiled
   * `WebAssembly.Module`. It must be a wasmfit kernel module with a matching ABI version.
   */
  wasm?: BufferSource | URL | string | WebAssembly.Module;
  /** Initial memory in 64 KiB pages, at least 16 (default 64 = 4 MiB; memory grows on demand). */
  initialPages?: number;
}

/** A loaded kernel module with its memory. Every model uses one runtime. */
export class Runtime {
  /** @internal */ readonly arena: Arena;
  /** @internal */ readonly k: KernelExports;
  /** Whether the SIMD128 build is running. */
  readonly simd: boolean;
  /** @internal GEMM packing workspace, shared by every kernel call on this runtime. */
  readonly ws: Ptr;

  /** @internal */
  constructor(exports: KernelExports, memory: WebAssembly.Memory) {
    this.k = exports;
    this.arena = new Arena(memory, exports.__heap_base.value as number);
    this.simd = exports.simd_enabled() === 1;
    this.ws = this.arena.allocF32(GEMM_WORKSPACE_FLOATS);
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
const runtimeCache = new Map<string, Promise<Runtime>>();
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
/** Whether this host validates the embedded SIMD128 module (feature detection, no instantiation). */
export function simdSupported(): boolean {
  if (simdSupport === null) {
    try {
      simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(decodeBase64(SIMD_WASM_BASE64));
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

async function compileFrom(src: NonNullable<InitOptions['wasm']>): Promise<WebAssembly.Module> {
  if (src instanceof WebAssembly.Module) return src;
  if (typeof src === 'string' || src instanceof URL) {
    const url = src instanceof URL ? src : new URL(src, (globalThis as { location?: { href: string } }).location?.href);
    if (url.protocol === 'file:') {
      const fs = await import(/* @vite-ignore */ 'node:fs/promises' as string);
      return WebAssembly.compile(await fs.readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new RuntimeSupportError(`init: fetching the module from ${url.href} failed with HTTP ${res.status}; check the URL or pass the bytes.`);
    return WebAssembly.compile(await res.arrayBuffer());
  }
  return WebAssembly.compile(src);
}

function check(exports: Partial<KernelExports>): asserts exports is KernelExports {
  const needed = ['abi_version', 'abi_layout', 'train_step', 'gemm', '__heap_base'] as const;
  for (const n of needed) {
    if (!(n in exports)) throw new RuntimeSupportError(`init: the module lacks the export '${n}'; it is not a wasmfit kernel module. Pass the module built by scripts/build-wasm.mjs.`);
  }
}

/** Instantiates a module on a fresh memory and verifies its ABI. @internal */
export async function instantiate(mod: WebAssembly.Module, initialPages = 64): Promise<Runtime> {
  const memory = new WebAssembly.Memory({ initial: initialPages });
  let inst: WebAssembly.Instance;
  try {
    inst = await WebAssembly.instantiate(mod, { env: { memory } });
  } catch (e) {
    throw new RuntimeSupportError(`init: instantiating the kernel module failed (${(e as Error).message}). Use the module built for this version of wasmfit.`);
  }
  const ex = inst.exports as unknown as Partial<KernelExports>;
  check(ex);
  const version = ex.abi_version();
  if (version !== ABI_VERSION) {
    throw new RuntimeSupportError(`init: the kernel module has ABI version ${version}; this wasmfit expects ${ABI_VERSION}. Rebuild the module (npm run build:wasm) or use the embedded one.`);
  }
  const expected = expectedLayout();
  const base = (ex.__heap_base.value as number) + 0;
  // the layout is written just past the heap base, before the arena claims that region
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
  if (typeof ex.opt_args_layout !== 'function') throw new RuntimeSupportError("init: the module lacks the export 'opt_args_layout'; rebuild it.");
  const optExpected = [OPT_ARGS.size, ...OPT_ARGS_ORDER.map((k) => OPT_ARGS[k])];
  const optView = new Uint32Array(memory.buffer, base, optExpected.length);
  const optCount = ex.opt_args_layout(base, optExpected.length);
  for (let i = 0; i < optExpected.length; i++) {
    if (optCount !== optExpected.length || optView[i] !== optExpected[i]) {
      const name = i === 0 ? 'sizeof OptArgs' : `OptArgs.${OPT_ARGS_ORDER[i - 1]}`;
      throw new RuntimeSupportError(`init: record layout mismatch at ${name}: module says ${optView[i]}, wasmfit expects ${optExpected[i]}. The module was built from other sources; rebuild it.`);
    }
  }
  return new Runtime(ex, memory);
}

/**
 * Loads the kernel module (once; later calls with the same options return the same runtime) and
 * makes it the current runtime that models use.
 *
 * @example
 * ```ts
 * const rt = await init();            // SIMD128 where supported, else scalar
 * const rt2 = await init({ simd: false }); // force the scalar build
 * ```
 */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  if (typeof WebAssembly !== 'object') throw new RuntimeSupportError('init: this host has no WebAssembly; wasmfit needs it (Node >= 16 or any current browser).');
  const { simd, wasm, initialPages = 64 } = options;
  if (simd !== undefined && typeof simd !== 'boolean') throw new OptionError('simd', `init: option simd = ${String(simd)}; expected true, false or undefined.`);
  if (!Number.isInteger(initialPages) || initialPages < 16 || initialPages > 65536) {
    throw new OptionError('initialPages', `init: option initialPages = ${initialPages}; expected an integer in [16, 65536] (the kernels need 16 pages for their stack and data).`);
  }
  let key: string;
  let getModule: () => Promise<WebAssembly.Module>;
  if (wasm !== undefined) {
    key = `custom:${Math.random()}`;
    getModule = () => compileFrom(wasm);
  } else {
    const useSimd = simd ?? simdSupported();
    if (useSimd && !simdSupported()) {
      throw new RuntimeSupportError('init({ simd: true }): this host does not support WebAssembly SIMD128. Omit the option to fall back to the scalar build.');
    }
    const variant = useSimd ? 'simd' : 'scalar';
    key = `${variant}:${initialPages}`;
    getModule = () => {
      let p = moduleCache.get(variant);
      if (!p) {
        // the scalar module is its own chunk, fetched only on hosts without SIMD128 (or when asked)
        p = useSimd
          ? WebAssembly.compile(decodeBase64(SIMD_WASM_BASE64))
          : import('./wasm-scalar.generated.js').then((m) => WebAssembly.compile(decodeBase64(m.SCALAR_WASM_BASE64)));
        moduleCache.set(variant, p);
      }
      return p;
    };
  }
  let rt = runtimeCache.get(key);
  if (!rt) {
    rt = getModule().then((m) => instantiate(m, initialPages));
    runtimeCache.set(key, rt);
    rt.catch(() => runtimeCache.delete(key));
  }
  current = await rt;
  return current;
}

/** The runtime that the last `init()` made current. Throws when `init()` has not run. */
export function getRuntime(): Runtime {
  if (!current) throw new NotInitializedError('wasmfit: the kernel module is not loaded. Call `await init()` once before building models.');
  return current;
}
