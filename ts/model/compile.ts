/**
 * `compile`'s options resolved into what a {@link Stepper} needs: the optimizer (first-order or
 * full-batch), the loss and the metrics. Pure: validates without changing the model.
 */
import { OptionError } from '../errors/index.js';
import { checkOptimizer, type OptimizerConfig } from '../optimizers/index.js';
import { isSecondOrder, secondOrderSettings, type SecondOrderConfig } from '../optimizers/lbfgs.js';
import { LOSS_KIND, type LossName } from '../runtime/abi.js';
import type { BoundLayer } from '../layers/kind.js';
import { type MetricConfig, type MetricName, resolveMetrics } from './metrics.js';
import type { PlanLoss } from './plan.js';
import type { StepperConfig } from './stepper.js';
import { checkOptions } from '../errors/validate.js';

/** Options of `compile`. */
export interface CompileOptions {
  /**
   * A first-order optimizer (`sgd`, `adam`, …) or a full-batch one (`lbfgs`, `cg`: each `fit`
   * batch is one PyTorch `optimizer.step(closure)`; use `batchSize: rows` for full batches).
   */
  optimizer: OptimizerConfig | SecondOrderConfig;
  /**
   * - `'softmaxCrossEntropy'` (labels: class ids or one-hot; `{ type, labelSmoothing }` for
   *   PyTorch's `label_smoothing` ε: target `(1 − ε)·onehot + ε/K`);
   * - `'binaryCrossentropy'` on logits (targets in [0, 1], one column per output; PyTorch
   *   `BCEWithLogitsLoss`; `predict` returns sigmoid probabilities);
   * - `'mse'`, `'mae'`, `'huber'` (`{ type: 'huber', delta = 1 }`) on float targets `[n, outputs]`.
   * Per-sample loss is the mean over outputs; the batch loss is the mean over samples (PyTorch
   * `reduction='mean'`), weighted by `sampleWeight`/`classWeight` when given.
   */
  loss: LossName | { type: 'softmaxCrossEntropy'; labelSmoothing?: number } | { type: 'huber'; delta?: number };
  /**
   * Metrics logged beside the loss each epoch (and with the `val` prefix on validation data), and
   * returned by `evaluate`: `'accuracy'` (argmax for softmax cross-entropy — always logged there —,
   * Keras `binary_accuracy` at 0.5 for binary cross-entropy), `'topKAccuracy'` or
   * `topKAccuracy(k)`, `'mse'` and `'mae'` (of the predicted probabilities against the one-hot /
   * binary targets for classification, of the outputs for regression), `'crossentropy'`
   * (categorical or binary, without label smoothing). Unweighted means over samples (Keras
   * `metrics`): sample and class weights change the loss only. See `ts/model/metrics.ts`.
   */
  metrics?: readonly (MetricName | MetricConfig)[];
}

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
  const fullBatch = isSecondOrder(options.optimizer);
  const settings = fullBatch ? secondOrderSettings(options.optimizer as SecondOrderConfig) : null;
  const optimizer = fullBatch ? null : checkOptimizer(options.optimizer, 'compile');
  const loss = resolveLoss(options.loss);
  checkKeys(options, ['optimizer', 'loss', 'metrics'], 'compile');
  // argmax accuracy for softmax cross-entropy comes from the kernel and is always logged
  const metrics = resolveMetrics(options.metrics, loss.kind, outputs).filter((m) => !(loss.kind === 'softmaxCrossEntropy' && m.name === 'accuracy' && m.key === 'accuracy'));
  const random = layers.find((l) => l.entry.folded.dropout > 0 || l.entry.kind.usesBatchStatistics === true || l.entry.kind.stochastic === true);
  if (fullBatch && random) {
    const what = random.entry.folded.dropout > 0 ? 'dropout' : random.entry.config.type;
    throw new OptionError('optimizer', `compile: ${(options.optimizer as SecondOrderConfig).type} needs a deterministic full-batch objective, and layers[${random.entry.position}] (${what}) is not; remove dropout, batch-norm and noise layers, or use a first-order optimizer such as adam().`);
  }
  return { optimizer, fullBatch: settings ? { config: options.optimizer as SecondOrderConfig, settings } : null, loss, metrics, lr: settings ? settings.lr : optimizer!.lr };
}

/** The loss of a plan from compile's `loss` option. @internal */
export function resolveLoss(loss: unknown): PlanLoss {
  const names = Object.keys(LOSS_KIND);
  if (typeof loss === 'string') {
    if (!names.includes(loss)) throw new OptionError('loss', `compile: loss = ${JSON.stringify(loss)}; expected one of ${names.join(', ')}.`);
    return { kind: loss as LossName, labelSmoothing: 0, huberDelta: 1 };
  }
  if (loss && typeof loss === 'object') {
    const l = loss as { type?: unknown; labelSmoothing?: unknown; delta?: unknown };
    if (l.type === 'softmaxCrossEntropy') {
      const e = l.labelSmoothing ?? 0;
      if (typeof e !== 'number' || !(e >= 0 && e <= 1)) throw new OptionError('labelSmoothing', `compile: labelSmoothing = ${String(e)}; expected a number in [0, 1], e.g. 0.1.`);
      return { kind: 'softmaxCrossEntropy', labelSmoothing: e, huberDelta: 1 };
    }
    if (l.type === 'huber') {
      const dlt = l.delta ?? 1;
      if (typeof dlt !== 'number' || !Number.isFinite(dlt) || dlt <= 0) throw new OptionError('delta', `compile: huber delta = ${String(dlt)}; expected a finite number > 0.`);
      return { kind: 'huber', labelSmoothing: 0, huberDelta: dlt };
    }
  }
  throw new OptionError('loss', `compile: loss = ${JSON.stringify(loss)}; expected one of ${names.join(', ')}, { type: 'softmaxCrossEntropy', labelSmoothing } or { type: 'huber', delta }.`);
}

/** compile's options as the file writers store them (optimizer config, loss with defaults filled in). @internal */
export function compileOptionsOf(optimizer: OptimizerConfig | SecondOrderConfig | null, l: PlanLoss): CompileOptions | null {
  if (!optimizer) return null;
  const loss: CompileOptions['loss'] = l.kind === 'softmaxCrossEntropy' ? { type: 'softmaxCrossEntropy', labelSmoothing: l.labelSmoothing } : l.kind === 'huber' ? { type: 'huber', delta: l.huberDelta } : l.kind;
  return { optimizer, loss };
}

/** predict/evaluate's batch size (default 256). @internal */
export function batchSizeOf(v: unknown, where: string): number {
  const bs = v ?? 256;
  if (typeof bs !== 'number' || !Number.isInteger(bs) || bs < 1) throw new OptionError('batchSize', `${where}: batchSize = ${String(bs)}; expected a positive integer.`);
  return bs;
}
