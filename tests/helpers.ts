import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { init, type Runtime } from '../ts/runtime/index.js';
import { GEMM_ARGS } from '../ts/runtime/abi.js';
import type { Ptr } from '../ts/runtime/arena.js';
import { type ActivationName, type CompileOptions, Sequential, dense, sgd } from '../ts/index.js';
import { testData } from './reference/f64.js';

export const BUILDS = ['simd', 'scalar'] as const;
export type Build = (typeof BUILDS)[number];

export async function runtimeFor(build: Build): Promise<Runtime> {
  return init({ simd: build === 'simd' });
}

/**
 * A runtime over the kernel-test module of `build` (`build/wasmfit-<build>-harness.wasm`, built by
 * scripts/build-wasm.mjs): the shipped kernels plus the test-only exports of
 * crates/kernels/src/harness.rs, which the shipped modules do not carry.
 */
export async function harnessFor(build: Build): Promise<Runtime> {
  const bytes = readFileSync(join(__dirname, '..', 'build', `wasmfit-${build}-harness.wasm`));
  return init({ wasm: bytes, simd: build === 'simd' });
}

/** Copies `data` into a fresh block surrounded by `guard` floats of NaN on each side. */
export function put(rt: Runtime, data: ArrayLike<number>, guard = 0): { ptr: Ptr; base: Ptr; n: number; guard: number } {
  const base = rt.arena.allocF32(data.length + 2 * guard);
  const f = rt.arena.f32;
  const i0 = base >> 2;
  f.fill(NaN, i0, i0 + data.length + 2 * guard);
  f.set(data, i0 + guard);
  return { ptr: (base + guard * 4) as Ptr, base, n: data.length, guard };
}

export function get(rt: Runtime, ptr: Ptr, n: number): Float32Array {
  return rt.arena.readF32(ptr, n);
}

/** Calls the gemm export through its argument record. */
export function gemmCall(
  rt: Runtime,
  which: 'gemm',
  a: { m: number; n: number; k: number; A: Ptr; rsa: number; csa: number; B: Ptr; rsb: number; csb: number; C: Ptr; rsc: number; beta: number; bias: Ptr | 0; act: number },
): number {
  const args = rt.arena.alloc(GEMM_ARGS.size);
  const v = rt.arena.view;
  const G = GEMM_ARGS;
  v.setUint32(args + G.m, a.m, true);
  v.setUint32(args + G.n, a.n, true);
  v.setUint32(args + G.k, a.k, true);
  v.setUint32(args + G.a, a.A, true);
  v.setInt32(args + G.rsa, a.rsa, true);
  v.setInt32(args + G.csa, a.csa, true);
  v.setUint32(args + G.b, a.B, true);
  v.setInt32(args + G.rsb, a.rsb, true);
  v.setInt32(args + G.csb, a.csb, true);
  v.setUint32(args + G.c, a.C, true);
  v.setInt32(args + G.rsc, a.rsc, true);
  v.setFloat32(args + G.beta, a.beta, true);
  v.setUint32(args + G.bias, a.bias, true);
  v.setUint32(args + G.act, a.act, true);
  v.setUint32(args + G.ws, rt.ws, true);
  const r = rt.kernels[which](args);
  rt.arena.free(args);
  return r;
}

/**
 * A fresh SIMD runtime (its own memory, not the shared `init()` one) whose arena surrounds every
 * block with 64 bytes of NaN canaries on each side; `rt.arena.checkGuards()` lists changed ones.
 */
let guardedModule: Promise<WebAssembly.Module> | undefined;
export async function guardedRuntime(): Promise<Runtime & { arena: { checkGuards(): { ptr: number; side: string }[] } }> {
  const { instantiate } = await import('../ts/runtime/loader.js');
  guardedModule ??= import('../ts/runtime/wasm-simd.generated.js').then((m) => WebAssembly.compile(gunzipSync(Buffer.from(m.SIMD_WASM_GZIP_BASE64, 'base64'))));
  const rt = await instantiate(await guardedModule);
  const a = rt.arena;
  const G = 64;
  // alternating NaN and large finite words: clamping or rescaling leaves a NaN unchanged, so a
  // finite canary catches clipping writes too
  const CANARY = [0x7fc0dead, 0x7f7f7f7f];
  const live = new Map<number, number>();
  const alloc = a.alloc.bind(a);
  const free = a.free.bind(a);
  const intact = (ptr: number, size: number): string | null => {
    const u = new Uint32Array(a.memory.buffer);
    for (let i = 0; i < G / 4; i++) if (u[(ptr - G) / 4 + i] !== CANARY[i & 1]) return 'before';
    const end = ptr + Math.ceil(size / 16) * 16;
    for (let i = 0; i < G / 4; i++) if (u[end / 4 + i] !== CANARY[i & 1]) return 'after';
    return null;
  };
  a.alloc = ((bytes: number) => {
    const padded = Math.ceil(bytes / 16) * 16;
    const base = alloc(padded + 2 * G);
    const u = new Uint32Array(a.memory.buffer);
    for (let i = 0; i < G / 4; i++) {
      u[base / 4 + i] = CANARY[i & 1]!;
      u[(base + G + padded) / 4 + i] = CANARY[i & 1]!;
    }
    live.set(base + G, bytes);
    return (base + G) as Ptr;
  }) as typeof a.alloc;
  a.free = ((ptr: Ptr) => {
    const size = live.get(ptr);
    if (size === undefined) throw new Error(`guarded free: ${ptr} is not a live block`);
    const bad = intact(ptr, size);
    if (bad) throw new Error(`guarded free: the guard band ${bad} block ${ptr} (${size} bytes) was overwritten`);
    live.delete(ptr);
    free((ptr - G) as Ptr);
  }) as typeof a.free;
  (a as unknown as { checkGuards(): { ptr: number; side: string }[] }).checkGuards = () => {
    const out: { ptr: number; side: string }[] = [];
    for (const [ptr, size] of live) {
      const bad = intact(ptr, size);
      if (bad) out.push({ ptr, side: bad });
    }
    return out;
  };
  return rt as Runtime & { arena: { checkGuards(): { ptr: number; side: string }[] } };
}

/**
 * The plan-record fields of a model's parameter layers (blocks, sizes, activation), for tests that
 * read gradients and weights straight from WASM memory. Reaches into Sequential's internals here
 * only, so a layout change touches one place.
 */
export function layerRecords(model: object): LayerRecord[] {
  return (model as unknown as { bound: { record: LayerRecord }[] }).bound.map((l) => l.record);
}

/** See {@link layerRecords}. */
export interface LayerRecord {
  kind: string;
  nIn: number;
  nOut: number;
  act: string;
  alpha: number;
  w: number;
  b: number;
  gw: number;
  gb: number;
}

/** The error `f` throws (fails the test when it does not throw). */
export function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

/** The rejection reason of `p` (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Options of {@link tinyData} and {@link tinyModel}: what a test states about its small model and data. */
export interface TinyOptions {
  /** Features per row: the model's `inputShape`. Default 4. */
  inputSize?: number;
  /** Units of the hidden dense layers, first to last (a number: one layer). Default none. */
  hidden?: number | readonly number[];
  /** Activation of the hidden layers. Default 'relu'. */
  activation?: ActivationName;
  /** Units of the output dense layer (linear), and the classes of the labels. Default 3. */
  classes?: number;
  /** `Sequential`'s seed; omitted, Sequential's own default. */
  seed?: number;
  /** The model's runtime; omitted, the current one (`init()` first). */
  runtime?: Runtime;
  /** `compile`'s optimizer. Default `sgd({ lr: 0.1 })`. */
  optimizer?: CompileOptions['optimizer'];
  /** `compile`'s loss. Default 'softmaxCrossEntropy'. */
  loss?: CompileOptions['loss'];
  /** `compile`'s metrics. Default none. */
  metrics?: CompileOptions['metrics'];
  /** false: the model is not compiled. Default true. */
  compile?: boolean;
  /** Rows of data. Default 32. */
  rows?: number;
  /** Seed of the default features, `testData(rows · inputSize, dataSeed)`: floats in [-1, 1). Default 1. */
  dataSeed?: number;
  /** Element `i` of the row-major features instead, e.g. `(i) => Math.sin(i * 1.7)`. */
  features?: (i: number) => number;
  /** Label of row `r` (of `x`). Default `r % classes`. */
  label?: (r: number, x: Float32Array) => number;
}

/** A small model's data: `x` is `[rows, inputSize]` row-major, `y` a class id per row. Needs no runtime. */
export function tinyData(o: TinyOptions = {}): { x: Float32Array; y: Int32Array } {
  const { inputSize = 4, classes = 3, rows = 32, dataSeed = 1, features, label = (r: number) => r % classes } = o;
  const x = features ? Float32Array.from({ length: rows * inputSize }, (_, i) => features(i)) : testData(rows * inputSize, dataSeed);
  const y = Int32Array.from({ length: rows }, (_, r) => label(r, x));
  return { x, y };
}

/**
 * The small model most tests train, with its data: `new Sequential` of `inputSize` features,
 * `hidden` dense layers (`activation`) and a linear `dense(classes)`, compiled with `optimizer`,
 * `loss` and `metrics`; `x`, `y` as {@link tinyData}.
 *
 * @example
 * ```ts
 * const { model, x, y } = tinyModel({ inputSize: 6, hidden: 8, seed: 4, rows: 40 });
 * ```
 */
export function tinyModel(o: TinyOptions = {}): { model: Sequential; x: Float32Array; y: Int32Array } {
  const { inputSize = 4, hidden = [], activation = 'relu', classes = 3, seed, runtime, optimizer = sgd({ lr: 0.1 }), loss = 'softmaxCrossEntropy', metrics, compile = true } = o;
  const layers = [...(typeof hidden === 'number' ? [hidden] : hidden).map((u) => dense(u, { activation })), dense(classes)];
  const model = new Sequential({ inputShape: [inputSize], layers, ...(seed !== undefined ? { seed } : {}), ...(runtime ? { runtime } : {}) });
  try {
    if (compile) model.compile({ optimizer, loss, ...(metrics ? { metrics } : {}) });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, ...tinyData(o) };
}
