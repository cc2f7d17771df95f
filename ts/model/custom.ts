/**
 * Custom losses and metrics: functions of `(yTrue, yPred)` written by the user (Keras's
 * extension points), validated here and run by the {@link Stepper}.
 *
 * Both see `yTrue` and `yPred` as `Float32Array`s of `rows × outputs` values, row-major, with the
 * shape in the third argument. `yPred` is what `predict` returns: the last layer's output after its
 * activation, with a softmax last layer's probabilities (and, for metrics, the softmax / sigmoid of
 * softmax and binary cross-entropy, as Keras). `yTrue` holds the targets; class ids (softmax
 * cross-entropy) arrive one-hot, so both arrays always have the same shape.
 */
import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';
import { preview } from '../errors/preview.js';

/** The shape of a batch as custom losses and metrics see it. */
export interface BatchShape {
  /** Samples in this batch. */
  readonly rows: number;
  /** Model outputs per sample. */
  readonly outputs: number;
}

/**
 * A loss computed in JavaScript: returns the batch loss and its gradient with respect to `yPred`
 * (`grad[i] = ∂loss/∂yPred[i]`, `rows × outputs` values; the mean over the batch is yours to take,
 * and its `1/rows` then belongs in the gradient). `yPred` is the last layer's output **after** its
 * activation (a softmax last layer: probabilities; wasmfit chains the gradient through the
 * softmax), during training after that layer's dropout; `yTrue` the float targets `[rows, outputs]`.
 */
export type CustomLossFn = (yTrue: Float32Array, yPred: Float32Array, shape: BatchShape) => { loss: number; grad: Float32Array | Float64Array | readonly number[] };

/** A custom loss with a name for messages (`{ name: 'logCosh', fn }`); a bare function is named by `fn.name`. */
export interface CustomLoss {
  readonly name?: string;
  readonly fn: CustomLossFn;
  /** Optional tag: `compileOptions.loss.type` reads `'custom'` for such a loss. */
  readonly type?: 'custom';
}

/**
 * A metric computed in JavaScript from a batch: a number (the batch's value; the epoch's value is
 * the mean of the batch values weighted by batch size, Σ vᵦ·rowsᵦ / Σ rowsᵦ — Keras's mean of the
 * per-sample values when vᵦ is the batch mean) or one value per sample (`rows` numbers; the epoch's
 * value is their mean over all samples).
 */
export type CustomMetricFn = (yTrue: Float32Array, yPred: Float32Array, shape: BatchShape) => number | Float32Array | Float64Array | readonly number[];

/** A custom metric with its log key (`{ name: 'r2', fn }`); a bare named function is logged under `fn.name`. */
export interface CustomMetric {
  readonly name?: string;
  readonly fn: CustomMetricFn;
}

/** A validated custom loss. @internal */
export interface ResolvedCustomLoss {
  readonly name: string;
  readonly fn: CustomLossFn;
}

const isFn = (v: unknown): v is (...a: never[]) => unknown => typeof v === 'function';

/** Whether `loss` is a custom loss (a function, or an object with a function `fn`). @internal */
export function isCustomLoss(loss: unknown): loss is CustomLossFn | CustomLoss {
  return isFn(loss) || (!!loss && typeof loss === 'object' && isFn((loss as { fn?: unknown }).fn));
}

/** The name and function of a custom loss or metric; `needName`: an anonymous function without `name` is refused. @internal */
export function customOf<F>(v: F | { name?: string; fn: F }, what: string, needName: boolean): { name: string; fn: F } {
  const o = (isFn(v) ? { fn: v } : v) as { name?: unknown; fn: F; type?: unknown };
  const name = o.name ?? ((o.fn as { name?: string }).name || (needName ? '' : 'custom'));
  const extra = Object.keys(o).find((k) => k !== 'name' && k !== 'fn' && !(k === 'type' && o.type === 'custom'));
  if (typeof name !== 'string' || !name || extra) {
    throw new OptionError(what, `compile: custom ${what} ${extra ? `key '${extra}' is unknown` : `name ${preview(o.name)}: an anonymous function needs a name`}; pass { name: 'my${what === 'loss' ? 'Loss' : 'Metric'}', fn }.`);
  }
  return { name, fn: o.fn };
}

/** Row-wise softmax of `z` `[rows, k]` in float64, into a new array. */
export function softmaxRows(z: Float32Array, rows: number, k: number): Float32Array {
  const p = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let mx = -Infinity;
    for (let j = 0; j < k; j++) mx = Math.max(mx, z[o + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(z[o + j]! - mx);
    for (let j = 0; j < k; j++) p[o + j] = Math.exp(z[o + j]! - mx) / s;
  }
  return p;
}

/** One-hot `[rows, k]` targets of class ids. */
export function oneHot(ids: Int32Array, k: number): Float32Array {
  const t = new Float32Array(ids.length * k);
  ids.forEach((c, r) => (t[r * k + c] = 1));
  return t;
}

/**
 * Calls a custom loss on a batch and checks what it returned: the loss a finite number, the
 * gradient `rows × outputs` finite numbers. With `p` (a softmax last layer's probabilities) the
 * gradient is chained through the softmax: `∂L/∂z = p ⊙ (g − Σⱼ gⱼ·pⱼ)` per row (float64).
 * @throws ShapeError (a gradient of the wrong length or type), NonFiniteError (a non-finite loss or gradient element).
 * @internal
 */
export function runCustomLoss(loss: ResolvedCustomLoss, yTrue: Float32Array, yPred: Float32Array, shape: BatchShape, softmax: boolean): { loss: number; grad: Float32Array } {
  const r = loss.fn(yTrue, yPred, shape) as { loss?: unknown; grad?: unknown } | undefined;
  const who = `custom loss '${loss.name}' returned`;
  const n = shape.rows * shape.outputs;
  const g = r?.grad as ArrayLike<number> | undefined;
  if (!(ArrayBuffer.isView(g) || Array.isArray(g)) || g.length !== n) throw new ShapeError(`${who} grad = ${preview(g)}; expected rows × outputs = ${shape.rows} × ${shape.outputs} = ${n} numbers (∂loss/∂yPred).`);
  const grad = Float32Array.from(g);
  const bad = grad.findIndex((v) => !Number.isFinite(v));
  if (typeof r!.loss !== 'number' || !Number.isFinite(r!.loss) || bad >= 0) {
    throw new NonFiniteError(`${who} ${bad < 0 ? `loss = ${preview(r!.loss)}` : `grad[${bad}] = ${g[bad]} (row ${Math.floor(bad / shape.outputs)})`}; expected finite numbers. The step was not taken (weights, optimizer state and batch-norm statistics unchanged).`);
  }
  if (softmax) {
    const k = shape.outputs;
    for (let o = 0; o < n; o += k) {
      let dot = 0;
      for (let j = 0; j < k; j++) dot += grad[o + j]! * yPred[o + j]!;
      for (let j = 0; j < k; j++) grad[o + j] = yPred[o + j]! * (grad[o + j]! - dot);
    }
  }
  return { loss: r!.loss, grad };
}

/**
 * Calls a custom metric on a batch: its batch value times `rows`, or the sum of its per-sample
 * values. A non-number, or a per-sample array of the wrong length, is refused.
 * @internal
 */
export function runCustomMetric(name: string, fn: CustomMetricFn, yTrue: Float32Array, yPred: Float32Array, shape: BatchShape): number {
  const v = fn(yTrue, yPred, shape) as unknown;
  if (typeof v === 'number') return v * shape.rows;
  if (!(ArrayBuffer.isView(v) || Array.isArray(v)) || (v as ArrayLike<number>).length !== shape.rows) throw new ShapeError(`custom metric '${name}' returned ${preview(v)}; return a number (the batch value) or one number per sample (${shape.rows}).`);
  let s = 0;
  for (let i = 0; i < shape.rows; i++) s += (v as ArrayLike<number>)[i]!;
  return s;
}
