/** Per-epoch metrics, Keras-style names in camelCase (`loss`, `accuracy`, `valLoss`, `valAccuracy`). */
export type Logs = Record<string, number>;

/**
 * Training hooks, called in order. Every method is optional and may be async.
 * `onBatchEnd` runs after each optimizer step; returning `false` from `onEpochEnd` is not used —
 * set `model.stopTraining = true` to stop after the current epoch.
 */
export interface Callback {
  /** Called once before training with the model being trained. */
  setModel?(model: CallbackModel): void;
  /**
   * Called by `fit` once its options are validated and before anything changes (before
   * `onTrainBegin` and the first step), with what this fit will log. Throw a typed error
   * (OptionError) for a configuration that could only fail later: a monitored key the logs will
   * not have, a path template naming a missing key, a directory that does not exist.
   */
  checkConfig?(context: CallbackConfigContext): void;
  /** When true, a non-finite loss ends `fit` cleanly instead of throwing (see `terminateOnNaN`). */
  readonly terminateOnNonFinite?: boolean;
  /** True for callbacks that set `model.learningRate`; `fit` refuses them together with a `schedule`. */
  readonly setsLearningRate?: boolean;
  /** True for checkpoint writers: `fit` calls them after every other callback's hook, so what they save is complete. */
  readonly runsLast?: boolean;
  /** Name of this callback's state in checkpoints (e.g. `'earlyStopping'`), matched on resume. */
  readonly stateKind?: string;
  /**
   * The callback's state for a checkpoint: JSON-able values, ±Infinity/NaN and Float32Array /
   * Int32Array allowed. `fit(..., { resumeFrom })` hands it back to `setState` after `onTrainBegin`.
   */
  getState?(): unknown;
  /** Restores a state returned by `getState` (called after `onTrainBegin` when resuming). */
  setState?(state: unknown): void;
  onTrainBegin?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
}

/** What `fit` tells {@link Callback.checkConfig} before training starts. */
export interface CallbackConfigContext {
  /**
   * The keys of every epoch's logs in this fit, e.g. `['loss', 'accuracy', 'lr', 'valLoss',
   * 'valAccuracy']` (compiled metrics included, `val…` ones only with validation data). Batch logs
   * hold `loss` (and `accuracy` for classifiers).
   */
  readonly logKeys: readonly string[];
}

/** What `fit` returns: the epochs run and each metric's per-epoch values. */
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}

/** What a callback may touch on the model. */
export interface CallbackModel {
  stopTraining: boolean;
  /** The rate of the next optimizer step; setting it never resets optimizer state. */
  learningRate: number;
  getWeights(): { name: string; shape: number[]; data: Float32Array }[];
  setWeights(weights: readonly { data: Float32Array }[]): void;
}
