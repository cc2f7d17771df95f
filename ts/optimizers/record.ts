import { OPT_ARGS, OPT_FLAG, OPT_KIND } from '../runtime/abi.js';
import type { OptimizerConfig } from './types.js';

/** A state slot's name, as the optimizer's PyTorch state calls it (camelCase; `exp_avg` is Adam's `m`). */
export type SlotName = 'momentumBuffer' | 'sum' | 'squareAvg' | 'gradAvg' | 'm' | 'v' | 'vMax';

/**
 * The one table of optimizer state: per kernel slot s1..s3 (`OptArgs`, crates/kernels/src/abi.rs)
 * the name of the state it holds for this config, or null when the config does not use it. Names
 * the slots in checkpoints (`<weight>/<slot>`), in `Stepper.state()` and in error messages. @internal
 */
export function slotNames(c: OptimizerConfig): [SlotName | null, SlotName | null, SlotName | null] {
  switch (c.type) {
    case 'sgd':
      return [c.momentum !== 0 ? 'momentumBuffer' : null, null, null];
    case 'adagrad':
      return ['sum', null, null];
    case 'rmsprop':
      return ['squareAvg', c.momentum > 0 ? 'momentumBuffer' : null, c.centered ? 'gradAvg' : null];
    case 'adam':
    case 'adamw':
      return ['m', 'v', c.amsgrad ? 'vMax' : null];
  }
}

/** Which of the three state slots the kernel needs for this config. @internal */
export function stateSlots(c: OptimizerConfig): [boolean, boolean, boolean] {
  return slotNames(c).map((n) => n !== null) as [boolean, boolean, boolean];
}

/** Initial value of a state slot: AdaGrad's sum starts at `initialAccumulatorValue`, all else at 0. @internal */
export function slotInit(c: OptimizerConfig, slot: number): number {
  return c.type === 'adagrad' && slot === 0 ? c.initialAccumulatorValue : 0;
}

/**
 * Writes the step-independent fields of an OptArgs record. β-dependent constants are computed in
 * f64 (`1 − β` as PyTorch's Python float) and rounded once. @internal
 */
export function writeTemplate(v: DataView, p: number, c: OptimizerConfig): void {
  const A = OPT_ARGS;
  for (let o = 0; o < A.size; o += 4) v.setUint32(p + o, 0, true);
  v.setUint32(p + A.kind, OPT_KIND[c.type], true);
  let flags = c.maximize ? OPT_FLAG.maximize : 0;
  if (c.type === 'sgd') {
    v.setFloat32(p + A.momentum, c.momentum, true);
    v.setFloat32(p + A.dampening, c.dampening, true);
    if (c.nesterov) flags |= OPT_FLAG.nesterov;
  } else if (c.type === 'rmsprop') {
    v.setFloat32(p + A.momentum, c.momentum, true);
    v.setFloat32(p + A.beta1, c.alpha, true);
    v.setFloat32(p + A.oneMinusBeta1, 1 - c.alpha, true);
    v.setFloat32(p + A.eps, c.eps, true);
    if (c.centered) flags |= OPT_FLAG.centered;
  } else if (c.type === 'adagrad') {
    v.setFloat32(p + A.eps, c.eps, true);
  } else {
    v.setFloat32(p + A.beta1, c.betas[0], true);
    v.setFloat32(p + A.beta2, c.betas[1], true);
    v.setFloat32(p + A.oneMinusBeta1, 1 - c.betas[0], true);
    v.setFloat32(p + A.oneMinusBeta2, 1 - c.betas[1], true);
    v.setFloat32(p + A.eps, c.eps, true);
    if (c.amsgrad) flags |= OPT_FLAG.amsgrad;
  }
  v.setFloat32(p + A.weightDecay, c.weightDecay, true);
  v.setUint32(p + A.flags, flags, true);
}

/**
 * Per-step fields for step `t` (1-based, as PyTorch's `state['step']` after its increment):
 * SGD's first-step flag, Adam's bias corrections `1 − β1^t` and `√(1 − β2^t)` (f64, `Math.pow`),
 * and the effective rate (AdaGrad: `lr / (1 + (t − 1)·lrDecay)`). Returns the effective rate. @internal
 */
export function writeStep(v: DataView, p: number, c: OptimizerConfig, t: number, lr: number): number {
  const A = OPT_ARGS;
  let flags = v.getUint32(p + A.flags, true) & ~OPT_FLAG.firstStep;
  if (c.type === 'sgd' && t === 1) flags |= OPT_FLAG.firstStep;
  v.setUint32(p + A.flags, flags, true);
  let eff = lr;
  if (c.type === 'adagrad') eff = lr / (1 + (t - 1) * c.lrDecay);
  if (c.type === 'adam' || c.type === 'adamw') {
    v.setFloat32(p + A.biasCorrection1, 1 - Math.pow(c.betas[0], t), true);
    v.setFloat32(p + A.biasCorrection2Sqrt, Math.sqrt(1 - Math.pow(c.betas[1], t)), true);
  }
  v.setFloat32(p + A.lr, eff, true);
  return eff;
}
