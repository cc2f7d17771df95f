/**
 * `compile`'s options resolved into what a {@link Stepper} needs: the optimizer (first-order or
 * full-batch), the loss and the metrics. Pure: validates without changing the model.
 */
import { OptionError } from '../errors/index.js';
import { checkOptimizer, type OptimizerConfig, type OptimizerName, optimizerFromName } from '../optimizers/index.js';
import { isSecondOrder, secondOrderSettings, type SecondOrderConfig } from '../optimizers/lbfgs.js';
import { isDenseOptimizer, type DenseOptimizerConfig, type FullBatchConfig } from '../optimizers/dense-registry.js';
import { LOSS_KIND, type LossName } from '../runtime/abi.js';
import type { BoundLayer } from '../layers/kind.js';
import { type MetricAlias, type MetricConfig, type MetricName, resolveMetrics } from './metrics.js';
import type { PlanLoss } from './plan.js';
import type { StepperConfig } from './stepper.js';
import { checkOptions, nearMiss } from '../errors/validate.js';
import { type CustomLoss, type CustomLossFn, type CustomMetric, type CustomMetricFn, customOf, isCustomLoss } from './custom.js';

/** Options of `compile`. */
export interface CompileOptions {
  /**
   * A first-order optimizer (`sgd`, `adam`, …) or a full-batch one (`lbfgs`, `cg`: each `fit`
   * batch is one PyTorch `optimizer.step(closure)`; use `batchSize: rows` for full batches).
   */
  optimizer: OptimizerConfig | SecondOrderConfig | DenseOptimizerConfig | OptimizerName;
  /**
   * - `'softmaxCrossEntropy'` (labels: class ids or one-hot; `{ type, labelSmoothing }` for
   *   PyTorch's `label_smoothing` ε: target `(1 − ε)·onehot + ε/K`);
   * - `'binaryCrossentropy'` on logits (targets in [0, 1], one column per output; PyTorch
   *   `BCEWithLogitsLoss`; `predict` returns sigmoid probabilities);
   * - `'mse'`, `'mae'`, `'huber'` (`{ type: 'huber', delta = 1 }`) on float targets `[n, outputs]`.
   * Per-sample loss is the mean over outputs; the batch loss is the mean over samples (PyTorch
   * `reduction='mean'`), weighted by `sampleWeight`/`classWeight` when given.
   *
   * Keras / tfjs names are aliases ({@link LOSS_ALIASES}): `'categoricalCrossentropy'` and
   * `'sparseCategoricalCrossentropy'` are `'softmaxCrossEntropy'` (either takes class ids or
   * one-hot rows; soft targets are refused), `'meanSquaredError'` is `'mse'`, `'meanAbsoluteError'`
   * is `'mae'`. A last layer with `activation: 'softmax'` is fused into softmax cross-entropy (the
   * loss is computed from the logits, never as `log` of a computed probability) and any other
   * loss is refused with it. `binaryCrossentropy` refuses a last layer with `'sigmoid'`: it takes
   * logits and applies the sigmoid itself.
   *
   * A custom loss is a function `(yTrue, yPred, { rows, outputs }) => ({ loss, grad })` (or
   * `{ name, fn }`): `yPred` is the last layer's output after its activation (a softmax last layer's
   * probabilities), `grad` is ∂loss/∂yPred (`rows × outputs` values). See {@link CustomLossFn}.
   * Such a model trains with one extra JavaScript crossing per batch; first-order optimizers only,
   * no `sampleWeight`/`classWeight`, and it cannot be sent to a worker.
   */
  loss: LossName | LossAlias | { type: 'softmaxCrossEntropy' | 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy'; labelSmoothing?: number } | { type: 'huber'; delta?: number } | CustomLossFn | CustomLoss;
  /**
   * Metrics logged beside the loss each epoch (and with the `val` prefix on validation data), and
   * returned by `evaluate`: `'accuracy'` (argmax for softmax cross-entropy — always logged there —,
   * Keras `binary_accuracy` at 0.5 for binary cross-entropy), `'topKAccuracy'` or
   * `topKAccuracy(k)`, `'mse'` and `'mae'` (of the predicted probabilities against the one-hot /
   * binary targets for classification, of the outputs for regression), `'crossentropy'`
   * (categorical or binary, without label smoothing). Unweighted means over samples (Keras
   * `metrics`): sample and class weights change the loss only. See `ts/model/metrics.ts`. Keras /
   * tfjs names are aliases logged under the wasmfit key: `'acc'`, `'categoricalAccuracy'`, … →
   * `accuracy`; `'meanSquaredError'` → `mse` (see `METRIC_ALIASES`).
   *
   * A custom metric is a function `(yTrue, yPred, { rows, outputs }) => number` (or `{ name, fn }`),
   * logged under its name (`fn.name` by default) and `val` + Name for validation; `yPred` holds
   * probabilities for the classification losses, as `predict` returns. See {@link CustomMetricFn}.
   */
  metrics?: readonly (MetricName | MetricAlias | MetricConfig | CustomMetricFn | CustomMetric)[];
}

/**
 * Keras / tfjs loss names accepted by `compile({ loss })` and the wasmfit loss each one is; Keras's
 * snake_case spellings (`'categorical_crossentropy'`, `'binary_crossentropy'`, …) are read as camelCase.
 */
export const LOSS_ALIASES = {
  categoricalCrossentropy: 'softmaxCrossEntropy',
  sparseCategoricalCrossentropy: 'softmaxCrossEntropy',
  meanSquaredError: 'mse',
  meanAbsoluteError: 'mae',
} as const satisfies Record<string, LossName>;

/** A Keras / tfjs loss name wasmfit accepts (see {@link LOSS_ALIASES}). */
export type LossAlias = keyof typeof LOSS_ALIASES;

/** The loss before any compile. @internal */
export const DEFAULT_LOSS: PlanLoss = { kind: 'softmaxCrossEntropy', labelSmoothing: 0, huberDelta: 1 };

/** Refuses option keys outside `known` (typos such as `batch_size` are not silently ignored). @internal */
export function checkKeys(options: unknown, known: readonly string[], where: string): void {
  if (options === undefined) throw new OptionError('options', `${where}: options = undefined; expected an object such as { ${known[0]}: ... }.`);
  checkOptions(where, options, known);
}

/** Validates compile's options against the model's layers and output width. @internal */
export function resolveCompile(options: CompileOptions, layers: readonly BoundLayer[], outputs: number): StepperConfig & { lr: number } {
  if (!options || typeof options !== 'object') throw new OptionError('options', 'compile: pass { optimizer, loss }.');
  const dense = isDenseOptimizer(options.optimizer);
  const fullBatch = isSecondOrder(options.optimizer) || dense;
  const settings = fullBatch && !dense ? secondOrderSettings(options.optimizer as SecondOrderConfig) : null;
  const optimizer = fullBatch ? null : typeof options.optimizer === 'string' ? optimizerFromName(options.optimizer, 'compile') : checkOptimizer(options.optimizer, 'compile');
  const loss = resolveLoss(options.loss);
  checkKeys(options, ['optimizer', 'loss', 'metrics'], 'compile');
  checkOutputActivation(layers, loss.kind);
  // argmax accuracy for softmax cross-entropy comes from the kernel and is always logged
  const metrics = resolveMetrics(options.metrics, loss.kind, outputs).filter((m) => !(loss.kind === 'softmaxCrossEntropy' && m.name === 'accuracy' && m.key === 'accuracy'));
  const random = layers.find((l) => l.entry.folded.dropout > 0 || l.entry.kind.usesBatchStatistics === true || l.entry.kind.stochastic === true);
  if (fullBatch && loss.kind === 'custom') throw new OptionError('optimizer', `compile: the custom loss '${loss.custom!.name}' needs a first-order optimizer (sgd, adam, …); ${(options.optimizer as FullBatchConfig).type} evaluates the loss inside the kernel.`);
  if (fullBatch && random) {
    const what = random.entry.folded.dropout > 0 ? 'dropout' : random.entry.config.type;
    throw new OptionError('optimizer', `compile: ${(options.optimizer as FullBatchConfig).type} needs a deterministic full-batch objective, and layers[${random.entry.position}] (${what}) is not; remove dropout, batch-norm and noise layers, or use a first-order optimizer such as adam().`);
  }
  return { optimizer, fullBatch: fullBatch ? { config: options.optimizer as FullBatchConfig, settings } : null, loss, metrics, lr: settings ? settings.lr : dense ? 1 : optimizer!.lr };
}

/**
 * Refuses an output activation the loss would get wrong: a softmax last layer with any loss but
 * softmax cross-entropy (the softmax only exists fused into that loss), and a sigmoid last layer
 * with binary cross-entropy on logits (the sigmoid would be applied twice). @internal
 */
export function checkOutputActivation(layers: readonly BoundLayer[], loss: LossName | 'custom'): void {
  const last = layers[layers.length - 1]?.entry;
  if (!last) return;
  if (last.folded.softmax && loss !== 'softmaxCrossEntropy' && loss !== 'custom') {
    throw new OptionError('loss', `compile: a softmax last layer (layers[${last.position}]) needs loss 'categoricalCrossentropy' (softmax is fused into it), not '${loss}'; or remove the softmax.`);
  }
  if (loss === 'binaryCrossentropy' && last.folded.act === 'sigmoid') {
    throw new OptionError('loss', `compile: 'binaryCrossentropy' takes logits and applies the sigmoid itself (predict returns probabilities); remove activation 'sigmoid' from the last layer (layers[${last.position}]).`);
  }
}

/** A loss name with Keras's snake_case read as camelCase and the aliases resolved. */
function aliasOf(name: string): string {
  const camel = name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  return Object.hasOwn(LOSS_ALIASES, camel) ? LOSS_ALIASES[camel as LossAlias] : camel;
}

/** The loss of a plan from compile's `loss` option. @internal */
export function resolveLoss(loss: unknown): PlanLoss {
  const names = Object.keys(LOSS_KIND);
  if (isCustomLoss(loss)) return { kind: 'custom', labelSmoothing: 0, huberDelta: 1, custom: customOf<CustomLossFn>(loss, 'loss', false) };
  if (typeof loss === 'string') {
    const name = aliasOf(loss);
    if (!names.includes(name)) {
      const near = nearMiss(name, [...names, ...Object.keys(LOSS_ALIASES)]);
      throw new OptionError('loss', `compile: loss = ${JSON.stringify(loss)}; expected one of ${[...names, ...Object.keys(LOSS_ALIASES)].join(', ')}.${near ? ` Did you mean '${near}'?` : ''}`);
    }
    return { kind: name as LossName, labelSmoothing: 0, huberDelta: 1 };
  }
  if (loss && typeof loss === 'object') {
    const l = loss as { type?: unknown; labelSmoothing?: unknown; delta?: unknown };
    const type = typeof l.type === 'string' ? aliasOf(l.type) : l.type;
    if (type === 'softmaxCrossEntropy') {
      const e = l.labelSmoothing ?? 0;
      if (typeof e !== 'number' || !(e >= 0 && e <= 1)) throw new OptionError('labelSmoothing', `compile: labelSmoothing = ${String(e)}; expected a number in [0, 1], e.g. 0.1.`);
      return { kind: 'softmaxCrossEntropy', labelSmoothing: e, huberDelta: 1 };
    }
    if (type === 'huber') {
      const dlt = l.delta ?? 1;
      if (typeof dlt !== 'number' || !Number.isFinite(dlt) || dlt <= 0) throw new OptionError('delta', `compile: huber delta = ${String(dlt)}; expected a finite number > 0.`);
      return { kind: 'huber', labelSmoothing: 0, huberDelta: dlt };
    }
  }
  throw new OptionError('loss', `compile: loss = ${JSON.stringify(loss)}; expected one of ${names.join(', ')}, { type: 'softmaxCrossEntropy', labelSmoothing } or { type: 'huber', delta }.`);
}

/** compile's options as a model keeps them: the optimizer as a config (a name resolved), the loss by its wasmfit name. */
export type StoredCompileOptions = Omit<CompileOptions, 'optimizer' | 'loss'> & { optimizer: OptimizerConfig | FullBatchConfig; loss: Exclude<CompileOptions['loss'], CustomLossFn> };

/** compile's options as the file writers store them (optimizer config, loss with defaults filled in). @internal */
export function compileOptionsOf(optimizer: OptimizerConfig | FullBatchConfig | null, l: PlanLoss): StoredCompileOptions | null {
  if (!optimizer) return null;
  const loss: StoredCompileOptions['loss'] = l.kind === 'custom' ? { type: 'custom', name: l.custom!.name, fn: l.custom!.fn } : l.kind === 'softmaxCrossEntropy' ? { type: 'softmaxCrossEntropy', labelSmoothing: l.labelSmoothing } : l.kind === 'huber' ? { type: 'huber', delta: l.huberDelta } : l.kind;
  return { optimizer, loss };
}

/** predict/evaluate's batch size (default 256). @internal */
export function batchSizeOf(v: unknown, where: string): number {
  const bs = v ?? 256;
  if (typeof bs !== 'number' || !Number.isInteger(bs) || bs < 1) throw new OptionError('batchSize', `${where}: batchSize = ${String(bs)}; expected a positive integer.`);
  return bs;
}
