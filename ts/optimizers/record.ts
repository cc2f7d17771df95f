import { OPT_FLAG, OPT_HYPER, OPT_KIND } from '../runtime/abi.js';
import type { Arena, Ptr } from '../runtime/arena.js';
import type { OptimizerConfig, SlotName } from './types.js';
export type { SlotName } from './types.js';


/**
 * The one table of optimizer state: per kernel slot s1..s3 (`OptTensor`, crates/kernels/src/optim.rs)
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
    case 'adamax':
      return ['m', 'expInf', null];
    case 'nadam':
    case 'radam':
      return ['m', 'v', null];
    case 'adadelta':
      return ['squareAvg', 'accDelta', null];
    case 'lion':
      return ['m', null, null];
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
 * Writes the step-independent fields of an OptHyper record (crates/kernels/src/optim.rs), clipping
 * included. β-dependent constants are computed in f64 (`1 − β` as PyTorch's Python float) and
 * rounded once. @internal
 */
export function writeTemplate(v: DataView, p: number, c: OptimizerConfig): void {
  const A = OPT_HYPER;
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
  } else if (c.type === 'adadelta') {
    v.setFloat32(p + A.beta1, c.rho, true);
    v.setFloat32(p + A.oneMinusBeta1, 1 - c.rho, true);
    v.setFloat32(p + A.eps, c.eps, true);
  } else {
    v.setFloat32(p + A.beta1, c.betas[0], true);
    v.setFloat32(p + A.beta2, c.betas[1], true);
    v.setFloat32(p + A.oneMinusBeta1, 1 - c.betas[0], true);
    v.setFloat32(p + A.oneMinusBeta2, 1 - c.betas[1], true);
    if (c.type !== 'lion') v.setFloat32(p + A.eps, c.eps, true);
    if ((c.type === 'adam' || c.type === 'adamw') && c.amsgrad) flags |= OPT_FLAG.amsgrad;
  }
  v.setFloat32(p + A.weightDecay, c.weightDecay, true);
  v.setFloat32(p + A.clipValue, c.clipValue, true);
  v.setFloat32(p + A.clipNorm, c.clipNorm, true);
  v.setFloat32(p + A.globalClipNorm, c.globalClipNorm, true);
  v.setUint32(p + A.flags, flags, true);
}

/**
 * Per-step fields for step `t` (1-based, as PyTorch's `state['step']` after its increment):
 * SGD's first-step flag, the effective rate (AdaGrad: `lr / (1 + (t − 1)·lrDecay)`), Adam's bias
 * corrections `1 − β1^t` and `√(1 − β2^t)` (f64, `Math.pow`), its step size `lr / (1 − β1^t)` and
 * AdamW's `1 − lr·wd`. @internal
 */
export function writeStep(v: DataView, p: number, c: OptimizerConfig, t: number, lr: number): void {
  const A = OPT_HYPER;
  let flags = v.getUint32(p + A.flags, true) & ~(OPT_FLAG.firstStep | OPT_FLAG.rectify);
  if (c.type === 'sgd' && t === 1) flags |= OPT_FLAG.firstStep;
  let eff = lr;
  if (c.type === 'adagrad') eff = lr / (1 + (t - 1) * c.lrDecay);
  if (c.type === 'adam' || c.type === 'adamw' || c.type === 'adamax' || c.type === 'radam') {
    const bc1 = 1 - Math.pow(c.betas[0], t);
    const bc2 = 1 - Math.pow(c.betas[1], t);
    v.setFloat32(p + A.biasCorrection1, bc1, true);
    v.setFloat32(p + A.biasCorrection2Sqrt, Math.sqrt(bc2), true);
    // PyTorch's Python floats: step_size = lr / bias_correction1 (Adamax's clr), AdamW's 1 − lr·wd, rounded once
    v.setFloat32(p + A.stepSize, eff / bc1, true);
    if (c.type === 'adamw') v.setFloat32(p + A.decayKeep, 1 - eff * c.weightDecay, true);
    if (c.type === 'radam') {
      // torch/optim/radam.py: the length of the approximated SMA and, when > 5, the rectification
      const rhoInf = 2 / (1 - c.betas[1]) - 1;
      const rhoT = rhoInf - (2 * t * Math.pow(c.betas[1], t)) / bc2;
      if (rhoT > 5) {
        flags |= OPT_FLAG.rectify;
        v.setFloat32(p + A.c1, Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)), true);
      }
    }
  }
  if (c.type === 'nadam') {
    const [b1, b2] = c.betas;
    const mu = (k: number) => b1 * (1 - 0.5 * Math.pow(0.96, k * c.momentumDecay));
    const prod = muProduct(b1, c.momentumDecay, t);
    const muNext = mu(t + 1);
    v.setFloat32(p + A.biasCorrection2, 1 - Math.pow(b2, t), true);
    v.setFloat32(p + A.c1, (eff * (1 - mu(t))) / (1 - prod), true);
    v.setFloat32(p + A.c2, (eff * muNext) / (1 - prod * muNext), true);
  }
  if (c.type === 'lion') v.setFloat32(p + A.decayKeep, 1 - eff * c.weightDecay, true);
  v.setUint32(p + A.flags, flags, true);
  v.setFloat32(p + A.lr, eff, true);
}

/** The last NAdam product computed (a training run asks for t, t + 1, …: one multiplication each). */
let muMemo = { b1: NaN, psi: NaN, t: 0, prod: 1 };

/**
 * NAdam's `Π_{i≤t} μ_i`, `μ_i = β1·(1 − ½·0.96^(i·ψ))`, multiplied in f64 in the order i = 1, 2, …
 * (so a resumed run gets the same bits as an uninterrupted one). PyTorch keeps this product in a
 * float32 tensor (`state['mu_product']`); wasmfit keeps it in f64, a relative difference of at most
 * ~t·6e-8 in the product. @internal
 */
export function muProduct(b1: number, psi: number, t: number): number {
  let m = muMemo;
  if (m.b1 !== b1 || m.psi !== psi || m.t > t) m = { b1, psi, t: 0, prod: 1 };
  let { t: i, prod } = m;
  while (i < t) {
    i++;
    prod *= b1 * (1 - 0.5 * Math.pow(0.96, i * psi));
  }
  muMemo = { b1, psi, t, prod };
  return prod;
}

/** The state slot blocks s1..s3 of one tensor (null when the optimizer does not use that slot). @internal */
export type Slots = [Ptr | null, Ptr | null, Ptr | null];

/**
 * An optimizer bound to tensors in the arena: its OptHyper record and, per tensor, its state
 * slots (zero; AdaGrad's sum at `initialAccumulatorValue`). The one set-up both optimizer paths
 * share: the model's Stepper (whose plan points at `hyper`) and the standalone `opt.update`
 * (which hands `hyper` and a tensor list to `optimizer_apply`). Allocates through `arena`; the
 * caller frees `blocks` (inside `arena.atomic` a failure frees them itself). @internal
 */
export class BoundOptimizer {
  readonly hyper: Ptr;
  readonly slotNames: readonly (SlotName | null)[];
  readonly slots: readonly Slots[];
  readonly blocks: Ptr[] = [];

  constructor(
    arena: Arena,
    readonly config: OptimizerConfig | null,
    readonly lengths: readonly number[],
  ) {
    const c = config;
    this.slotNames = c ? slotNames(c) : [null, null, null];
    this.hyper = arena.alloc(OPT_HYPER.size);
    this.blocks.push(this.hyper);
    if (c) writeTemplate(arena.view, this.hyper, c);
    else arena.u8.fill(0, this.hyper, this.hyper + OPT_HYPER.size);
    this.slots = lengths.map(
      (n) =>
        this.slotNames.map((on, k) => {
          if (on === null) return null;
          const p = arena.allocF32(n);
          this.blocks.push(p);
          arena.f32.fill(slotInit(c!, k), p >>> 2, (p >>> 2) + n);
          return p;
        }) as Slots,
    );
    this.arena = arena;
  }

  private readonly arena: Arena;

  /** Writes the per-step fields of step `t` (1-based) at rate `lr` ({@link writeStep}). */
  prepare(t: number, lr: number): void {
    writeStep(this.arena.view, this.hyper, this.config!, t, lr);
  }
}
