/**
 * Model files: architecture (layer configs with their initializers, regularizers and
 * constraints), compile config (optimizer config and loss) and weights, in the container of
 * ./container.ts.
 */
import { FormatError, OptionError, WasmfitError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { type LayerConfig, normalizeLayer } from '../layers/index.js';
import { Sequential } from '../model/sequential.js';
import type { CompileOptions } from '../model/compile.js';
import { checkOptimizer, type OptimizerConfig } from '../optimizers/index.js';
import { cg, isSecondOrder, lbfgs, type CgOptions, type LbfgsOptions, type SecondOrderConfig } from '../optimizers/lbfgs.js';
import { isStoredDenseOptimizer, reviveDense, type DenseOptimizerConfig } from '../optimizers/dense-registry.js';
import type { Runtime } from '../runtime/loader.js';
import { type Container, type Kind, readContainer, type StoredTensor, writeContainer } from './container.js';
import { describeStack } from '../layers/registry.js';
import { checkOptions } from '../errors/validate.js';
import { headerPreprocessing } from '../preprocess/hook.js';
import type { PreprocessingState } from '../preprocess/state.js';

/** Options of {@link deserializeModel}. */
export interface DeserializeOptions {
  /** Runtime to build the model in (default: the one `init()` made current). */
  runtime?: Runtime;
}

/** The JSON description of a model's architecture and compile config. @internal */
export interface ModelHeader {
  producer: 'wasmfit';
  /**
   * `classes`: the model's class names by id (`model.classes`); `preprocessing`: the fitted
   * preprocessing raw `x` goes through (`model.preprocessing`). Each written only when the model
   * has it, so files without them (and files of older versions) read as before.
   */
  model: { inputShape: number[]; seed: number; layers: LayerConfig[]; classes?: string[]; preprocessing?: PreprocessingState };
  compile: CompileOptions | null;
  metadata?: ModelMetadata;
}

/** A JSON value: what {@link ModelMetadata} may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** User metadata of a model file: a JSON object (see {@link SerializeModelOptions.metadata}). */
export type ModelMetadata = { [key: string]: JsonValue };

/** Largest metadata section, in bytes of its UTF-8 JSON (1 MiB). */
export const MAX_METADATA_BYTES = 1024 * 1024;
/** Deepest nesting of metadata (objects and arrays). */
const MAX_METADATA_DEPTH = 64;

/** Options of {@link serializeModel} (and {@link serializeCheckpoint}). */
export interface SerializeModelOptions {
  /**
   * Your own data stored with the model, e.g. `{ classes: ['cat', 'dog'], trainedOn: '2024-05-01' }`:
   * a plain JSON object — plain objects, arrays, strings, finite numbers, booleans, null; at most
   * 64 levels deep and {@link MAX_METADATA_BYTES} bytes as UTF-8 JSON. Read it back with
   * {@link readModelMetadata}. Default: none.
   */
  metadata?: ModelMetadata;
}

/**
 * Checks that `v` is JSON-only metadata; returns its UTF-8 JSON size. `fail(path, msg)` throws.
 * @internal
 */
function checkMetadata(v: unknown, fail: (path: string, msg: string) => never, root: string): number {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null)) {
    fail(root, `is ${describe(v)}; metadata must be a plain JSON object, e.g. { classes: ['cat', 'dog'] }.`);
  }
  const seen = new Set<object>();
  const walk = (x: unknown, path: string, depth: number): void => {
    if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) fail(path, `is ${x}; JSON has no NaN or Infinity (store it as a string or null).`);
      return;
    }
    if (typeof x !== 'object') fail(path, `is ${describe(x)}; metadata holds only JSON values (objects, arrays, strings, finite numbers, booleans, null).`);
    if (depth >= MAX_METADATA_DEPTH) fail(path, `is nested more than ${MAX_METADATA_DEPTH} levels deep.`);
    if (seen.has(x as object)) fail(path, 'refers back to an enclosing object (a cycle); metadata must be a tree.');
    seen.add(x as object);
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) walk(x[i], `${path}[${i}]`, depth + 1);
    } else {
      const proto = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null) fail(path, `is ${describe(x)}; metadata holds only plain objects and arrays (convert dates, maps and typed arrays to strings, objects or arrays).`);
      for (const [k, y] of Object.entries(x as Record<string, unknown>)) walk(y, `${path}.${k}`, depth + 1);
    }
    seen.delete(x as object);
  };
  walk(v, root, 0);
  const size = new TextEncoder().encode(JSON.stringify(v)).length;
  if (size > MAX_METADATA_BYTES) fail(root, `is ${size} bytes as JSON; the limit is ${MAX_METADATA_BYTES} (store large data next to the model instead).`);
  return size;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (typeof v === 'symbol') return 'a symbol';
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return Object.prototype.toString.call(v);
  return preview(v);
}

/** Validates `options.metadata` of a writer (OptionError naming the path); returns a JSON copy or undefined. @internal */
export function metadataOption(options: unknown, where: string): ModelMetadata | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw new OptionError('options', `${where}: options must be an object { metadata }.`);
  checkOptions(where, options, ['metadata']);
  const m = (options as { metadata?: unknown }).metadata;
  if (m === undefined) return undefined;
  checkMetadata(m, (path, msg) => {
    throw new OptionError('metadata', `${where}: ${path} ${msg}`);
  }, 'metadata');
  return JSON.parse(JSON.stringify(m)) as ModelMetadata;
}

/** The metadata of a parsed header (FormatError naming the field), or null. @internal */
export function headerMetadata(h: Record<string, unknown>, where: string): ModelMetadata | null {
  if (h.metadata === undefined) return null;
  checkMetadata(h.metadata, (path, msg) => field(where, path, msg), 'header.metadata');
  return h.metadata as ModelMetadata;
}

/** @internal */
export function modelHeader(model: Sequential, where: string): ModelHeader {
  if (!(model instanceof Sequential)) throw new FormatError(`${where}: expected a Sequential model; received ${model === null ? 'null' : typeof model}.`);
  model.assertUsable(where);
  const compile = model.compileOptions;
  const layers = JSON.parse(JSON.stringify(model.layers)) as LayerConfig[];
  // what is written must be what a reader rebuilds: every layer as its factory makes it
  model.layers.forEach((l, i) => {
    let same = false;
    try {
      same = JSON.stringify(normalizeLayer(layers[i], where, `layers[${i}]`)) === JSON.stringify(l);
    } catch {
      /* reported below */
    }
    if (!same) {
      throw new OptionError('layers', `${where}: model.layers[${i}] = ${preview(l)} was not built by its factory (or holds a value JSON cannot keep, such as Infinity), so the file could not be loaded; nothing was written. Build layers with dense(), dropout(), batchNorm() and activation().`);
    }
  });
  return {
    producer: 'wasmfit',
    model: { inputShape: [...model.inputShape], seed: model.seed, layers, ...(model.classes ? { classes: [...model.classes] } : {}), ...(model.preprocessing ? { preprocessing: JSON.parse(JSON.stringify(model.preprocessing)) as PreprocessingState } : {}) },
    // a custom loss is a function, which a file cannot hold: the model is written uncompiled
    compile: compile === null || (compile.loss as { type?: string }).type === 'custom' ? null : (JSON.parse(JSON.stringify(compile)) as CompileOptions),
  };
}

/** @internal */
export function weightTensors(model: Sequential): StoredTensor[] {
  return model.getWeights().map((w) => ({ name: w.name, dtype: 'f32' as const, shape: w.shape, data: w.data }));
}

/**
 * Serializes a model — architecture (layers with their options, initializers, regularizers and
 * constraints), compile config (optimizer config — first-order, `lbfgs` or `cg` — and loss) and every weight tensor (f32
 * little-endian, batch-norm running statistics included) — into the wasmfit file format: a magic
 * string, the format version, the kernel ABI version, a JSON header, the tensor data and a CRC-32.
 * Optimizer state is not included; use {@link serializeCheckpoint} to resume training.
 * `options.metadata` stores a JSON object of your own in the header ({@link readModelMetadata}).
 *
 * @throws FormatError when `model` is not a Sequential; DisposedError after `dispose()`;
 * OptionError naming the path (e.g. `metadata.stats[2]`) when the metadata is not plain JSON
 * (functions, NaN, dates, cycles), deeper than 64 levels or larger than {@link MAX_METADATA_BYTES}.
 * @example
 * ```ts
 * const bytes = serializeModel(model, { metadata: { classes: ['cat', 'dog'] } });  // Uint8Array
 * const copy = deserializeModel(bytes);     // same predictions, compiled like `model`
 * readModelMetadata(bytes);                 // { classes: ['cat', 'dog'] }
 * ```
 */
export function serializeModel(model: Sequential, options?: SerializeModelOptions): Uint8Array {
  const metadata = metadataOption(options, 'serializeModel');
  const header = modelHeader(model, 'serializeModel');
  if (metadata !== undefined) header.metadata = metadata;
  return writeContainer('model', header as unknown as Record<string, unknown>, weightTensors(model), 'serializeModel');
}

/**
 * The user metadata stored by `serializeModel(model, { metadata })` (or `serializeCheckpoint`), or
 * null when the file has none. Needs no runtime (`init()`) and builds no model; the whole file is
 * still checked (magic, versions, lengths, CRC-32) as {@link deserializeModel} does.
 *
 * @throws FormatError naming the field for a corrupt or incompatible file, or metadata that is not a
 * plain JSON object within the size and depth limits.
 * @example
 * ```ts
 * const meta = readModelMetadata(bytes);   // e.g. { classes: ['cat', 'dog'] }
 * const model = deserializeModel(bytes);
 * ```
 */
export function readModelMetadata(bytes: Uint8Array): ModelMetadata | null {
  const c = readContainer(bytes, 'readModelMetadata', ['model', 'checkpoint']);
  return headerMetadata(c.header, 'readModelMetadata');
}

/**
 * Rebuilds a model from {@link serializeModel} bytes (or a checkpoint's bytes, ignoring the
 * training state). The runtime must be initialized (`await init()`), as for `new Sequential`.
 * If the file has a compile config the model comes back compiled (fresh optimizer state). User
 * metadata is checked but not returned: read it with {@link readModelMetadata}.
 *
 * @throws FormatError naming the field when the bytes are truncated, have the wrong magic,
 * format version, lengths past the end, absurd sizes, an invalid header,
 * tensors that do not match the architecture, or non-finite weights. Nothing is allocated for a
 * claimed size before it is checked against the bytes present.
 */
export function deserializeModel(bytes: Uint8Array, options: DeserializeOptions = {}): Sequential {
  const c = readContainer(bytes, 'deserializeModel', ['model', 'checkpoint']);
  return buildModel(c, 'deserializeModel', options.runtime);
}

function field(where: string, path: string, msg: string): never {
  throw new FormatError(`${where}: ${path} ${msg}`);
}

/** Runs a factory on file data, turning its option errors into a FormatError naming the field. */
function revive<T>(where: string, path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof WasmfitError && !(e instanceof FormatError)) {
      const opt = (e as { option?: string }).option;
      field(where, opt ? `${path}.${opt}` : path, `is invalid: ${e.message}`);
    }
    throw e;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Rebuilds validated layer configs from header JSON, each through its factory (see normalizeLayer). @internal */
export function reviveLayers(raw: unknown, where: string): LayerConfig[] {
  if (!Array.isArray(raw) || raw.length === 0) field(where, 'header.model.layers', 'is not a non-empty array.');
  if (raw.length > 10000) field(where, 'header.model.layers', `has ${raw.length} layers; the limit is 10000.`);
  return raw.map((l: unknown, i: number) => {
    const path = `header.model.layers[${i}]`;
    if (!isObj(l)) field(where, path, 'is not an object.');
    try {
      return normalizeLayer(l, where, path);
    } catch (e) {
      if (e instanceof OptionError) throw new FormatError(e.message);
      throw e;
    }
  });
}

/** The weight tensors (names, shapes) a model with these layers has, as Sequential.getWeights orders them. @internal */
export function expectedWeights(inputShape: number | readonly number[], layers: readonly LayerConfig[]): { name: string; shape: number[] }[] {
  return describeStack(inputShape, layers, 'expectedWeights').flatMap((e) => e.params.map((p) => ({ name: p.fullName, shape: [...p.shape] })));
}

/** Parses and validates the architecture/compile part of a header. @internal */
export function parseModelHeader(h: Record<string, unknown>, where: string): { inputShape: number[]; seed: number; layers: LayerConfig[]; compile: CompileOptions | null; classes: string[] | null; preprocessing: PreprocessingState | null } {
  if (h.producer !== 'wasmfit') field(where, 'header.producer', `is ${preview(h.producer)}; expected "wasmfit".`);
  const m = h.model;
  if (!isObj(m)) field(where, 'header.model', 'is not an object.');
  const shape = m.inputShape;
  if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 3) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 1)) {
    field(where, 'header.model.inputShape', `is ${preview(shape)}; expected [features] or [height, width, channels] with positive integers.`);
  }
  const seed = m.seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) field(where, 'header.model.seed', `is ${preview(seed)}; expected a finite number.`);
  const layers = reviveLayers(m.layers, where);
  // class names (absent in files of models without them); their count is checked against the layers when the model is built
  const classes = m.classes ?? null;
  if (classes !== null && (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string'))) {
    field(where, 'header.model.classes', `is ${preview(classes)}; expected an array of class-name strings.`);
  }
  let compile: CompileOptions | null = null;
  if (h.compile !== null && h.compile !== undefined) {
    if (!isObj(h.compile)) field(where, 'header.compile', 'is not an object or null.');
    const optimizer = revive(where, 'header.compile.optimizer', () => reviveOptimizer((h.compile as Record<string, unknown>).optimizer));
    compile = { optimizer, loss: h.compile.loss as CompileOptions['loss'] };
  }
  const preprocessing = headerPreprocessing(m.preprocessing, (shape as number[]).reduce((a, b) => a * b, 1), where);
  return { inputShape: shape as number[], seed, layers, compile, classes: classes as string[] | null, preprocessing };
}

/** An optimizer config from header JSON: first-order ones through checkOptimizer, L-BFGS / CG through their factories (which validate every option). */
function reviveOptimizer(raw: unknown): OptimizerConfig | SecondOrderConfig | DenseOptimizerConfig {
  if (isStoredDenseOptimizer(raw)) return reviveDense(raw, 'loadModel');
  if (isSecondOrder(raw)) {
    const { type, ...options } = raw as unknown as { type: 'lbfgs' | 'cg' } & Record<string, unknown>;
    return type === 'lbfgs' ? lbfgs(options as LbfgsOptions) : cg(options as CgOptions);
  }
  return checkOptimizer(raw, 'compile');
}

/** Checks the file's tensors against the architecture; returns them in getWeights order. @internal */
export function matchWeights(c: Container, inputShape: number | readonly number[], layers: readonly LayerConfig[], where: string): Float32Array[] {
  const want = expectedWeights(inputShape, layers);
  return want.map((w) => {
    const t = c.tensors.get(w.name);
    if (!t) field(where, `tensor '${w.name}'`, 'is missing; the architecture in the header needs it.');
    if (t.dtype !== 'f32') field(where, `tensor '${w.name}'.dtype`, `is ${t.dtype}; expected f32.`);
    if (t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i])) {
      field(where, `tensor '${w.name}'.shape`, `is ${preview(t.shape)}; the architecture needs ${preview(w.shape)}.`);
    }
    if (w.name.endsWith('/moving_variance') && (t.data as Float32Array).some((v) => v < 0)) field(where, `tensor '${w.name}'`, 'holds a negative variance.');
    return t.data as Float32Array;
  });
}

/** Builds (and compiles, when the header has a compile config) the model of a container. @internal */
export function buildModel(c: Container, where: string, runtime?: Runtime): Sequential {
  const h = parseModelHeader(c.header, where);
  headerMetadata(c.header, where);
  // every weight tensor must be present with the right shape before anything is allocated
  const weights = matchWeights(c, h.inputShape, h.layers, where);
  const model = revive(where, 'header.model', () => new Sequential({ inputShape: h.inputShape as [number], layers: h.layers, seed: h.seed, ...(runtime ? { runtime } : {}) }));
  try {
    if (h.compile) {
      const compile = h.compile;
      revive(where, 'header.compile', () => model.compile(compile));
    }
    model.setWeights(weights.map((data) => ({ data })));
    const classes = h.classes;
    if (classes) revive(where, 'header.model', () => (model.classes = classes));
    if (h.preprocessing) model.setPreprocessing(h.preprocessing);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** @internal */
export type { Kind };
