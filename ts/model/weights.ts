/**
 * A model's parameters in WASM memory: binding a described layer stack to allocated, initialized
 * blocks, the weight list getWeights/setWeights expose, and the summary table. Everything walks
 * the {@link StackEntry} parameter lists; nothing here knows a layer kind.
 */
import { OptionError, ShapeError } from '../errors/index.js';
import { Rng } from '../data/rng.js';
import { fillInitializer } from '../layers/initializers.js';
import { type LayerConfig, normalizeLayers } from '../layers/index.js';
import type { BoundLayer, StackEntry } from '../layers/kind.js';
import { describeStack } from '../layers/registry.js';
import { checkInputShape } from '../layers/shape.js';
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';
import { checkKeys } from './compile.js';

/** A copy of one weight tensor. */
export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** One parameter tensor of a live model. @internal */
export interface ModelTensor {
  name: string;
  shape: number[];
  ptr: Ptr;
  n: number;
  nonNegative: boolean;
}

/** Options of the {@link Sequential} constructor. */
export interface SequentialOptions {
  /** Input features per sample: `[d]` or `d`. */
  /** `[features]` (or the number), or `[height, width, channels]` for convolutional models (rows flat, channels-last). */
  inputShape: number | readonly [number] | readonly [number, number, number];
  /** The layers, in order. The last layer's units are the number of classes. */
  layers: readonly LayerConfig[];
  /** Seed of weight initialization and (by default) shuffling (default 0: runs are reproducible). */
  seed?: number;
  /** Runtime to allocate in (default: the one `init()` made current). */
  runtime?: Runtime;
}

/** Validates the constructor's options and describes the layer stack. @internal */
export function resolveStack(options: SequentialOptions): { inputShape: readonly number[]; inputSize: number; layers: LayerConfig[]; entries: StackEntry[]; seed: number } {
  checkKeys(options, ['inputShape', 'layers', 'seed', 'runtime'], 'Sequential');
  const shape = checkInputShape(options.inputShape, 'Sequential');
  if (!Array.isArray(options.layers) || options.layers.length === 0) {
    throw new OptionError('layers', 'Sequential: layers must be a non-empty array, e.g. [dense(64, { activation: "relu" }), dense(10)].');
  }
  // hand-written configs are rebuilt by their factories (validated, defaults filled in)
  const layers = normalizeLayers(options.layers, 'Sequential');
  const entries = describeStack(shape, layers);
  if (!layers.some((l) => l.type === 'dense')) throw new OptionError('layers', 'Sequential: the model needs at least one dense layer.');
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `Sequential: seed = ${String(seed)}; expected a finite number.`);
  return { inputShape: shape, inputSize: size(shape), layers, entries, seed };
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Allocates every parameter (value, and a gradient for trainable ones) and the kernels' per-layer
 * scratch, initialized from the model's seed in stack order. Each block is pushed to `blocks` as it
 * is taken, so a failure part-way lets the caller free exactly what was allocated. @internal
 */
export function bindLayers(rt: Runtime, entries: readonly StackEntry[], seed: number, blocks: Ptr[]): BoundLayer[] {
  const a = rt.arena;
  const own = (n: number): Ptr => {
    const p = a.allocF32(n);
    blocks.push(p);
    return p;
  };
  const rng = new Rng(seed);
  return entries.map((entry) => {
    const values: Ptr[] = [];
    const grads: (Ptr | null)[] = [];
    for (const p of entry.params) {
      const n = size(p.shape);
      const v = own(n);
      grads.push(p.trainable ? own(n) : null);
      const init = new Float32Array(n);
      fillInitializer(p.init.initializer, init, p.init.fanIn, p.init.fanOut, rng);
      a.writeF32(v, init);
      values.push(v);
    }
    return { entry, values, grads, record: entry.kind.record(entry.config, entry, values, grads, own) };
  });
}

/** Every parameter tensor in getWeights order. @internal */
export function modelTensors(layers: readonly BoundLayer[]): ModelTensor[] {
  return layers.flatMap((l) => l.entry.params.map((p, i) => ({ name: p.fullName, shape: [...p.shape], ptr: l.values[i]!, n: size(p.shape), nonNegative: p.nonNegative === true })));
}

/** A short description of a value's type for messages. @internal */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Validates setWeights input against the model's tensors (count, type, length, shape, finite values). @internal */
export function checkWeights(targets: readonly ModelTensor[], weights: unknown): asserts weights is readonly { data: Float32Array }[] {
  if (!Array.isArray(weights) || weights.length !== targets.length) {
    throw new ShapeError(`setWeights: received ${Array.isArray(weights) ? weights.length : typeof weights} tensors; the model has ${targets.length}. Pass the array getWeights() returns.`);
  }
  targets.forEach((t, i) => {
    const w = weights[i] as { shape?: unknown; data?: unknown } | null | undefined;
    if (typeof w !== 'object' || w === null) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) is ${String(w)}; expected { shape: [${t.shape.join(', ')}], data: Float32Array } as getWeights() returns.`);
    if (!(w.data instanceof Float32Array)) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has data of type ${describeType(w.data)}; expected a Float32Array of ${t.n} values.`);
    if (w.data.length !== t.n) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has ${w.data.length} values; expected ${t.n}.`);
    if (w.shape !== undefined) {
      const sh = w.shape;
      if (!Array.isArray(sh) || sh.length !== t.shape.length || sh.some((d, j) => d !== t.shape[j])) {
        throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has shape ${Array.isArray(sh) ? `[${sh.map(String).join(', ')}]` : describeType(sh)}; expected [${t.shape.join(', ')}]${t.shape.length === 2 ? ' (kernels are [inputs, units], Keras layout; transpose a PyTorch [out, in] weight)' : ''}.`);
      }
    }
    const data = w.data;
    for (let j = 0; j < data.length; j++) {
      const v = data[j]!;
      if (v - v !== 0) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) holds ${v} at ${j}; weights must be finite.`);
    }
    if (t.nonNegative && data.some((v) => v < 0)) throw new ShapeError(`setWeights: tensor ${i} (${t.name}) has a negative variance; variances must be >= 0.`);
  });
}

/** Validates (all first) and writes setWeights input into the model's tensors. @internal */
export function writeWeights(rt: Runtime, layers: readonly BoundLayer[], weights: unknown): void {
  const targets = modelTensors(layers);
  checkWeights(targets, weights);
  targets.forEach((t, i) => rt.arena.writeF32(t.ptr, weights[i]!.data));
}

/** The text table of `summary()`: one row per parameter layer (activation, dropout and notes folded in). @internal */
export function summaryTable(entries: readonly StackEntry[]): string {
  const rows: [string, string, string][] = [['Layer', 'Output shape', 'Params']];
  let total = 0;
  for (const e of entries) {
    const n = e.params.reduce((s, p) => s + size(p.shape), 0);
    total += n;
    const note = e.kind.note?.(e.config as never) ?? '';
    rows.push([`${e.kind.prefix}_${e.index} (${e.folded.softmax ? 'softmax' : e.folded.act}${e.folded.dropout > 0 ? `, dropout ${e.folded.dropout}` : ''}${note ? `, ${note}` : ''})`, `[null, ${e.outShape.join(", ")}]`, String(n)]);
  }
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: [string, string, string]) => `${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2].padStart(w[2]!)}`;
  const sep = '-'.repeat(w[0]! + w[1]! + w[2]! + 4);
  return [line(rows[0]!), sep, ...rows.slice(1).map(line), sep, `Total params: ${total}`].join('\n');
}
