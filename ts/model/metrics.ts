/**
 * Metrics reported beside the loss (Keras `compile(metrics=[...])`). They are computed from the
 * model's output on each batch — during `fit` the forward pass of the training step (before that
 * step's update, as Keras), during `evaluate` and validation the inference forward pass — and are
 * **unweighted** means over samples (Keras `metrics`, not `weighted_metrics`): sample and class
 * weights change the loss only.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { nearMiss } from '../errors/validate.js';
import type { LossName } from '../runtime/abi.js';
import { type CustomMetric, type CustomMetricFn, customOf, oneHot, runCustomMetric, softmaxRows } from './custom.js';

/** Names accepted in `compile({ metrics })`. */
export type MetricName = 'accuracy' | 'topKAccuracy' | 'mse' | 'mae' | 'crossentropy';

/** A metric with options, e.g. `topKAccuracy(3)`. */
export interface MetricConfig {
  readonly name: MetricName;
  /** topKAccuracy only: how many of the highest scores may hold the label (default 5, as Keras). */
  readonly k?: number;
  /** Key in the logs (default: the metric's name; validation adds the `val` prefix). */
  readonly key?: string;
}

/**
 * Top-k accuracy (Keras `TopKCategoricalAccuracy` / `SparseTopKCategoricalAccuracy`): the fraction
 * of samples whose label is among the `k` highest outputs. Ties at the k-th score count as in
 * `tf.math.in_top_k`: the label is in the top k when fewer than k outputs are strictly larger.
 * Softmax cross-entropy models only. Logged as `topKAccuracy` unless `key` is given.
 */
export function topKAccuracy(k = 5, key?: string): MetricConfig {
  if (!Number.isInteger(k) || k < 1) throw new OptionError('k', `topKAccuracy: k = ${preview(k)}; expected an integer >= 1, e.g. 5.`);
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) throw new OptionError('key', `topKAccuracy: key = ${preview(key)}; expected a non-empty string.`);
  return key === undefined ? { name: 'topKAccuracy', k } : { name: 'topKAccuracy', k, key };
}

/** A validated metric (`fn`: a custom metric, name `'custom'`). @internal */
export interface ResolvedMetric {
  readonly name: MetricName | 'custom';
  readonly key: string;
  readonly k: number;
  readonly fn?: CustomMetricFn;
}

const NAMES: readonly MetricName[] = ['accuracy', 'topKAccuracy', 'mse', 'mae', 'crossentropy'];

/**
 * Keras / tfjs metric names accepted in `compile({ metrics })` and the wasmfit metric each one is;
 * the logs use the wasmfit key (`'acc'` is logged as `accuracy`, its validation twin `valAccuracy`).
 */
export const METRIC_ALIASES = {
  acc: 'accuracy',
  categoricalAccuracy: 'accuracy',
  sparseCategoricalAccuracy: 'accuracy',
  binaryAccuracy: 'accuracy',
  meanSquaredError: 'mse',
  meanAbsoluteError: 'mae',
  categoricalCrossentropy: 'crossentropy',
  sparseCategoricalCrossentropy: 'crossentropy',
  binaryCrossentropy: 'crossentropy',
} as const satisfies Record<string, MetricName>;

/** A Keras / tfjs metric name wasmfit accepts (see {@link METRIC_ALIASES}). */
export type MetricAlias = keyof typeof METRIC_ALIASES;

/** Validates `compile({ metrics })` against the loss and output width. @internal */
export function resolveMetrics(metrics: unknown, loss: LossName | 'custom', outputs: number): ResolvedMetric[] {
  if (metrics === undefined) return [];
  if (!Array.isArray(metrics)) throw new OptionError('metrics', "compile: metrics must be an array such as ['accuracy', 'mae', topKAccuracy(3)].");
  const out: ResolvedMetric[] = [];
  const keyOk = (key: unknown): void => {
    if (typeof key !== 'string' || key.length === 0 || key === 'loss' || key === 'lr') throw new OptionError('metrics', `compile: metric key ${preview(key)} is not allowed; pick a non-empty name other than 'loss' and 'lr'.`);
    if (out.some((o) => o.key === key)) throw new OptionError('metrics', `compile: metric key '${key}' is listed twice; give one of them another key.`);
  };
  for (const m of metrics as unknown[]) {
    if (typeof m === 'function' || (m && typeof m === 'object' && typeof (m as { fn?: unknown }).fn === 'function')) {
      const c = customOf<CustomMetricFn>(m as CustomMetricFn | CustomMetric, 'metric', true);
      keyOk(c.name);
      out.push({ name: 'custom', key: c.name, k: 0, fn: c.fn });
      continue;
    }
    const name = typeof m === 'string' && Object.hasOwn(METRIC_ALIASES, m) ? METRIC_ALIASES[m as MetricAlias] : m;
    const cfg: MetricConfig | null = typeof name === 'string' ? { name: name as MetricName } : name && typeof name === 'object' ? (name as MetricConfig) : null;
    if (!cfg || !NAMES.includes(cfg.name)) {
      const near = typeof m === 'string' ? nearMiss(m, [...NAMES, ...Object.keys(METRIC_ALIASES)]) : undefined;
      const target = near && Object.hasOwn(METRIC_ALIASES, near) ? METRIC_ALIASES[near as MetricAlias] : near;
      throw new OptionError('metrics', `compile: unknown metric ${preview(m)}; expected one of ${NAMES.join(', ')} or topKAccuracy(k).${target ? ` Did you mean '${target}'?` : ''}`);
    }
    const classification = loss === 'softmaxCrossEntropy';
    if ((cfg.name === 'topKAccuracy') && !classification) {
      throw new OptionError('metrics', `compile: metric '${cfg.name}' needs loss 'softmaxCrossEntropy' (this model uses '${loss}').`);
    }
    if ((cfg.name === 'accuracy' || cfg.name === 'crossentropy') && !classification && loss !== 'binaryCrossentropy') {
      throw new OptionError('metrics', `compile: metric '${cfg.name}' is for classification (softmaxCrossEntropy or binaryCrossentropy); this model regresses with '${loss}'. Use 'mse' or 'mae'.`);
    }
    const k = cfg.name === 'topKAccuracy' ? (cfg.k ?? 5) : 0;
    if (cfg.name === 'topKAccuracy' && (!Number.isInteger(k) || k < 1)) throw new OptionError('k', `compile: topKAccuracy k = ${preview(k)}; expected an integer >= 1.`);
    const key = cfg.key ?? cfg.name;
    keyOk(key);
    out.push({ name: cfg.name, key, k: Math.min(k, outputs) });
  }
  return out;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * Accumulates metrics over batches from the raw model output (logits for the cross-entropy
 * losses, outputs for regression). Sums are kept in float64. @internal
 */
export class MetricAccumulator {
  private readonly sums: Float64Array;
  private rows = 0;
  private readonly probs: Float64Array;

  /** The built-in metrics, then the custom ones (computed once per batch). */
  private readonly builtin: readonly ResolvedMetric[];
  private readonly custom: readonly ResolvedMetric[];

  /** `softmaxOut`: a custom-loss model whose last layer is a softmax (its raw output is logits). */
  constructor(
    readonly metrics: readonly ResolvedMetric[],
    private readonly loss: LossName | 'custom',
    private readonly outputs: number,
    private readonly softmaxOut = false,
  ) {
    this.builtin = metrics.filter((m) => m.name !== 'custom');
    this.custom = metrics.filter((m) => m.name === 'custom');
    this.sums = new Float64Array(metrics.length);
    this.probs = new Float64Array(outputs);
  }

  /** Adds `n` rows: `out` holds `[n, outputs]` raw outputs; `y` class ids or `[n, outputs]` targets. */
  add(out: Float32Array, y: Int32Array | Float32Array, n: number): void {
    const K = this.outputs;
    const p = this.probs;
    if (this.custom.length) {
      // custom metrics see what predict returns and one-hot / float targets, as copies
      const yPred = this.loss === 'softmaxCrossEntropy' || this.softmaxOut ? softmaxRows(out, n, K) : this.loss === 'binaryCrossentropy' ? Float32Array.from(out.subarray(0, n * K), sigmoid) : out.slice(0, n * K);
      const yTrue = y instanceof Int32Array ? oneHot(y.subarray(0, n), K) : y.slice(0, n * K);
      for (const m of this.custom) {
        const i = this.metrics.indexOf(m);
        this.sums[i]! += runCustomMetric(m.key, m.fn!, yTrue, yPred, { rows: n, outputs: K });
      }
    }
    if (!this.builtin.length) {
      this.rows += n;
      return;
    }
    for (let r = 0; r < n; r++) {
      const o = r * K;
      // probabilities as the model's predict returns them
      if (this.loss === 'softmaxCrossEntropy' || this.softmaxOut) {
        let mx = -Infinity;
        for (let j = 0; j < K; j++) mx = Math.max(mx, out[o + j]!);
        let s = 0;
        for (let j = 0; j < K; j++) s += p[j] = Math.exp(out[o + j]! - mx);
        for (let j = 0; j < K; j++) p[j]! /= s;
      } else if (this.loss === 'binaryCrossentropy') {
        for (let j = 0; j < K; j++) p[j] = sigmoid(out[o + j]!);
      } else {
        for (let j = 0; j < K; j++) p[j] = out[o + j]!;
      }
      const label = y instanceof Int32Array ? y[r]! : -1;
      const target = (j: number): number => (y instanceof Int32Array ? (j === label ? 1 : 0) : y[o + j]!);
      this.metrics.forEach((m, i) => {
        if (m.name === 'custom') return;
        let v = 0;
        switch (m.name) {
          case 'accuracy':
            if (y instanceof Int32Array) {
              let best = 0;
              for (let j = 1; j < K; j++) if (out[o + j]! > out[o + best]!) best = j;
              v = best === label ? 1 : 0;
            } else {
              // Keras binary_accuracy: mean over outputs of [target == (p > 0.5)]
              for (let j = 0; j < K; j++) v += target(j) === (p[j]! > 0.5 ? 1 : 0) ? 1 : 0;
              v /= K;
            }
            break;
          case 'topKAccuracy': {
            let larger = 0;
            const z = out[o + label]!;
            for (let j = 0; j < K; j++) if (out[o + j]! > z) larger++;
            v = larger < m.k ? 1 : 0;
            break;
          }
          case 'mse':
            for (let j = 0; j < K; j++) v += (p[j]! - target(j)) ** 2;
            v /= K;
            break;
          case 'mae':
            for (let j = 0; j < K; j++) v += Math.abs(p[j]! - target(j));
            v /= K;
            break;
          case 'crossentropy':
            if (y instanceof Int32Array) {
              // −log softmax(z)_y from the logits (stable)
              let mx = -Infinity;
              for (let j = 0; j < K; j++) mx = Math.max(mx, out[o + j]!);
              let s = 0;
              for (let j = 0; j < K; j++) s += Math.exp(out[o + j]! - mx);
              v = mx + Math.log(s) - out[o + label]!;
            } else {
              // binary cross-entropy on logits: max(z,0) − z·t + log(1 + e^−|z|), mean over outputs
              for (let j = 0; j < K; j++) {
                const z = out[o + j]!;
                v += Math.max(z, 0) - z * target(j) + Math.log1p(Math.exp(-Math.abs(z)));
              }
              v /= K;
            }
            break;
        }
        this.sums[i]! += v;
      });
    }
    this.rows += n;
  }

  /** Means per metric key, with `prefix` (e.g. `'val'` → `valMae`). */
  result(prefix = ''): Record<string, number> {
    const r: Record<string, number> = {};
    this.metrics.forEach((m, i) => {
      const key = prefix ? prefix + m.key[0]!.toUpperCase() + m.key.slice(1) : m.key;
      r[key] = this.rows ? this.sums[i]! / this.rows : NaN;
    });
    return r;
  }
}
