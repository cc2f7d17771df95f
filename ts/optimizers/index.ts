import { OptionError } from '../errors/index.js';

/** A resolved SGD config (PyTorch `torch.optim.SGD` with momentum = 0). */
export interface SgdConfig {
  readonly type: 'sgd';
  /** Learning rate (> 0... or 0 to freeze). */
  readonly lr: number;
}

export type OptimizerConfig = SgdConfig;

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Learning rate, default 0.01 (Keras's default; PyTorch requires it). Must be finite and ≥ 0. */
  lr?: number;
}

/** Validates a learning rate. @internal */
export function checkLr(lr: unknown, where: string): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new OptionError('lr', `${where}: lr = ${String(lr)}; expected a finite number >= 0. Typical values are 1e-3 to 0.1.`);
  }
  return lr;
}

/**
 * Stochastic gradient descent: `w ← w − lr·∇w`, PyTorch `torch.optim.SGD(lr=lr)`.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
 * ```
 */
export function sgd(options: SgdOptions = {}): SgdConfig {
  for (const k of Object.keys(options)) {
    if (k !== 'lr') throw new OptionError(k, `sgd: unknown option '${k}'; known options: lr.`);
  }
  return { type: 'sgd', lr: checkLr(options.lr ?? 0.01, 'sgd') };
}
