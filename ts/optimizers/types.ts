/**
 * The optimizer config types (what the factories in `configs.ts` return) and the standalone
 * state. Types only: the factories, the kernel record writer and the standalone update all import
 * them from here, so the optimizer modules import each other in one direction.
 */

/**
 * An optimizer state tensor's name, as PyTorch's optimizer state calls it (camelCase): SGD and
 * RMSProp `momentumBuffer`, AdaGrad `sum`, RMSProp `squareAvg` and `gradAvg`, Adam/AdamW `m`
 * (`exp_avg`), `v` (`exp_avg_sq`) and `vMax` (`max_exp_avg_sq`); NAdam/RAdam `m`, `v`; Adamax `m`
 * and `expInf` (`exp_inf`); Adadelta `squareAvg` and `accDelta` (`acc_delta`); Lion `m` (`exp_avg`).
 */
export type SlotName = 'momentumBuffer' | 'sum' | 'squareAvg' | 'gradAvg' | 'm' | 'v' | 'vMax' | 'expInf' | 'accDelta' | KerasSlotName;

/**
 * The Keras-named optimizers' state, as Keras 3 names its optimizer variables (camelCase): SGD
 * `momentum` (Keras's velocity, which holds −lr·g terms: not PyTorch's buffer), RMSprop `velocity`,
 * `momentum`, `averageGradient`, Adagrad `accumulator`, Adam `momentum` (m), `velocity` (v),
 * `velocityHat`.
 */
export type KerasSlotName = 'momentum' | 'velocity' | 'averageGradient' | 'accumulator' | 'velocityHat';

/** Explicit optimizer state for the standalone API: the step count and each tensor's named state. */
export interface OptimizerState {
  /** Updates applied so far (PyTorch `state['step']`). */
  step: number;
  /** Per parameter tensor, its state tensors by name (only those this optimizer and its settings use). */
  slots: Partial<Record<SlotName, Float32Array>>[];
}

/** Gradient clipping options shared by every optimizer (Keras names). 0/undefined = off. */
export interface ClipOptions {
  clipValue?: number;
  clipNorm?: number;
  globalClipNorm?: number;
}

export interface OptimizerBase {
  /**
   * Standalone use, without a model (for packages that bring their own): zeroed state for these
   * parameter tensors. `const opt = adam({ lr: 1e-3 }); const state = opt.init(params);`
   */
  init(params: Float32Array | readonly Float32Array[]): OptimizerState;
  /**
   * One update of `params` in place from `grads`, with the same fused WASM kernel `fit` uses
   * (needs `await init()` first). `lr` overrides the config's rate for this step.
   */
  update(params: Float32Array | readonly Float32Array[], grads: Float32Array | readonly Float32Array[], state: OptimizerState, lr?: number): void;
  readonly lr: number;
  readonly clipValue: number;
  readonly clipNorm: number;
  readonly globalClipNorm: number;
}

/** `torch.optim.SGD`. */
export interface SgdConfig extends OptimizerBase {
  readonly type: 'sgd';
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly maximize: boolean;
}
/** `torch.optim.Adagrad`. */
export interface AdagradConfig extends OptimizerBase {
  readonly type: 'adagrad';
  readonly lrDecay: number;
  readonly weightDecay: number;
  readonly initialAccumulatorValue: number;
  readonly eps: number;
  readonly maximize: boolean;
}
/** `torch.optim.RMSprop`. */
export interface RmspropConfig extends OptimizerBase {
  readonly type: 'rmsprop';
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;
  readonly maximize: boolean;
}
/** `torch.optim.Adam` / `torch.optim.AdamW`. */
export interface AdamConfig extends OptimizerBase {
  readonly type: 'adam' | 'adamw';
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
}

/** `torch.optim.Adamax` and `torch.optim.RAdam` (same options). */
export interface AdamaxConfig extends OptimizerBase {
  readonly type: 'adamax' | 'radam';
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly maximize: boolean;
}
/** `torch.optim.NAdam`. */
export interface NadamConfig extends OptimizerBase {
  readonly type: 'nadam';
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentumDecay: number;
  readonly maximize: boolean;
}
/** `torch.optim.Adadelta`. */
export interface AdadeltaConfig extends OptimizerBase {
  readonly type: 'adadelta';
  readonly rho: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maximize: boolean;
}
/** Lion (Chen et al. 2023; lucidrains/lion-pytorch). */
export interface LionConfig extends OptimizerBase {
  readonly type: 'lion';
  readonly betas: readonly [number, number];
  readonly weightDecay: number;
  readonly maximize: boolean;
}

/** Keras `SGD` (keras/src/optimizers/sgd.py): {@link kerasSGD}. */
export interface KerasSgdConfig extends OptimizerBase {
  readonly type: 'kerasSGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  /** Keras's decoupled `weight_decay`: `w ← w − w·wd·lr` before the update (0 = none). */
  readonly weightDecay: number;
}
/** Keras `RMSprop` (keras/src/optimizers/rmsprop.py): {@link kerasRMSprop}. */
export interface KerasRmspropConfig extends OptimizerBase {
  readonly type: 'kerasRMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly weightDecay: number;
}
/** Keras `Adagrad` (keras/src/optimizers/adagrad.py): {@link kerasAdagrad}. */
export interface KerasAdagradConfig extends OptimizerBase {
  readonly type: 'kerasAdagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  readonly weightDecay: number;
}
/** Keras `Adam` (keras/src/optimizers/adam.py): {@link kerasAdam}. */
export interface KerasAdamConfig extends OptimizerBase {
  readonly type: 'kerasAdam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;
  readonly weightDecay: number;
}
/** The optimizers with Keras's arithmetic and option names. */
export type KerasOptimizerConfig = KerasSgdConfig | KerasRmspropConfig | KerasAdagradConfig | KerasAdamConfig;

export type OptimizerConfig = SgdConfig | AdagradConfig | RmspropConfig | AdamConfig | AdamaxConfig | NadamConfig | AdadeltaConfig | LionConfig | KerasOptimizerConfig;
