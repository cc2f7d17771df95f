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
    case 'kerasSGD':
      return [c.momentum !== 0 ? 'momentum' : null, null, null];
    case 'kerasRMSprop':
      return ['velocity', c.momentum > 0 ? 'momentum' : null, c.centered ? 'averageGradient' : null];
    case 'kerasAdagrad':
      return ['accumulator', null, null];
    case 'kerasAdam':
      return ['momentum', 'velocity', c.amsgrad ? 'velocityHat' : null];
  }
}

/** Which of the three state slots the kernel needs for this config. @internal */
export function stateSlots(c: OptimizerConfig): [boolean, boolean, boolean] {
  return slotNames(c).map((n) => n !== null) as [boolean, boolean, boolean];
}

/** Initial value of a state slot: AdaGrad's sum (Keras: accumulator) starts at `initialAccumulatorValue`, all else at 0. @internal */
export function slotInit(c: OptimizerConfig, slot: number): number {
  return (c.type === 'adagrad' || c.type === 'kerasAdagrad') && slot === 0 ? c.initialAccumulatorValue : 0;
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
  let flags = 'maximize' in c && c.maximize ? OPT_FLAG.maximize : 0;
  if (c.type === 'kerasSGD' || c.type === 'kerasRMSprop' || c.type === 'kerasAdagrad' || c.type === 'kerasAdam') {
    // Keras's arithmetic (optim.rs keras_step): ρ and β1 in beta1, 1 − ρ / 1 − β1 as Python floats
    if (c.type === 'kerasSGD') {
      v.setFloat32(p + A.momentum, c.momentum, true);
      if (c.nesterov) flags |= OPT_FLAG.nesterov;
    } else {
      v.setFloat32(p + A.eps, c.epsilon, true);
      if (c.type === 'kerasRMSprop') {
        v.setFloat32(p + A.momentum, c.momentum, true);
        v.setFloat32(p + A.beta1, c.rho, true);
        v.setFloat32(p + A.oneMinusBeta1, 1 - c.rho, true);
        if (c.centered) flags |= OPT_FLAG.centered;
      } else if (c.type === 'kerasAdam') {
        v.setFloat32(p + A.beta1, c.beta1, true);
        v.setFloat32(p + A.beta2, c.beta2, true);
        v.setFloat32(p + A.oneMinusBeta1, 1 - c.beta1, true);
        v.setFloat32(p + A.oneMinusBeta2, 1 - c.beta2, true);
        if (c.amsgrad) flags |= OPT_FLAG.amsgrad;
      }
    }
  } else if (c.type === 'sgd') {
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
 * Whether momentum cycling (cyclicLR/oneCycleLR `cycleMomentum`) can drive this config: SGD/RMSProp
 * `momentum` (PyTorch: `'momentum' in defaults`; here only with a momentum buffer, i.e. a non-zero
 * configured momentum) or Adam-family β1 (`'betas' in defaults`). {@link writeStep} writes it.
 * @internal
 */
export function cycledMomentum(c: OptimizerConfig): boolean {
  return 'betas' in c || c.type === 'kerasAdam' || ('momentum' in c && c.momentum > 0);
}

/**
 * Per-step fields for step `t` (1-based, as PyTorch's `state['step']` after its increment):
 * SGD's first-step flag, the effective rate (AdaGrad: `lr / (1 + (t − 1)·lrDecay)`), the bias
 * corrections `1 − β1^t`, `1 − β2^t` and `√(1 − β2^t)` (f64, `Math.pow`), the step size
 * `lr / (1 − β1^t)`, AdamW's and Lion's `1 − lr·wd`, RAdam's rectification (flag and `r_t` when
 * `ρ_t > 5`) and NAdam's two step sizes. `momentum` (momentum cycling) replaces SGD/RMSProp's
 * momentum or the Adam family's β1 for this step — the bias correction then uses it too, as
 * PyTorch's `1 − beta1 ** step` reads the group's current β1; without it the configured value is
 * written back. @internal
 */
export function writeStep(v: DataView, p: number, c: OptimizerConfig, t: number, lr: number, momentum?: number): void {
  const A = OPT_HYPER;
  const f = (o: number, x: number) => v.setFloat32(p + o, x, true);
  let flags = v.getUint32(p + A.flags, true) & ~(OPT_FLAG.firstStep | OPT_FLAG.rectify);
  if (c.type === 'sgd' && t === 1) flags |= OPT_FLAG.firstStep;
  const eff = c.type === 'adagrad' ? lr / (1 + (t - 1) * c.lrDecay) : lr;
  if (c.type === 'sgd' || c.type === 'rmsprop' || c.type === 'kerasSGD' || c.type === 'kerasRMSprop') f(A.momentum, momentum ?? c.momentum);
  if (c.type === 'kerasAdam') {
    // keras/src/optimizers/adam.py: α = lr·√(1 − β2^t)/(1 − β1^t) (f64 here, float32 in Keras)
    const b1 = momentum ?? c.beta1;
    f(A.beta1, b1);
    f(A.oneMinusBeta1, 1 - b1);
    f(A.stepSize, (eff * Math.sqrt(1 - Math.pow(c.beta2, t))) / (1 - Math.pow(b1, t)));
  }
  if ('betas' in c) {
    // every Adam-like kind: the fields its kernel reads (the others are ignored)
    const b1 = momentum ?? c.betas[0];
    const b2 = c.betas[1];
    f(A.beta1, b1);
    f(A.oneMinusBeta1, 1 - b1);
    const bc1 = 1 - Math.pow(b1, t);
    const bc2 = 1 - Math.pow(b2, t);
    f(A.biasCorrection1, bc1);
    f(A.biasCorrection2, bc2);
    f(A.biasCorrection2Sqrt, Math.sqrt(bc2));
    // PyTorch's Python floats: step_size = lr / bias_correction1 (Adamax's clr); AdamW's and Lion's 1 − lr·wd; rounded once
    f(A.stepSize, eff / bc1);
    f(A.decayKeep, 1 - eff * c.weightDecay);
    if (c.type === 'radam') {
      // torch/optim/radam.py: the length of the approximated SMA and, when > 5, the rectification
      const ri = 2 / (1 - b2) - 1;
      const rt = ri - (2 * t * Math.pow(b2, t)) / bc2;
      if (rt > 5) {
        flags |= OPT_FLAG.rectify;
        f(A.c1, Math.sqrt(((rt - 4) * (rt - 2) * ri) / ((ri - 4) * (ri - 2) * rt)));
      }
    }
    if (c.type === 'nadam') {
      // torch/optim/nadam.py: μ_t, μ_{t+1} and the product Π_t (see muProduct)
      const mu = (k: number) => b1 * (1 - 0.5 * Math.pow(0.96, k * c.momentumDecay));
      const prod = muProduct(b1, c.momentumDecay, t);
      const next = mu(t + 1);
      f(A.c1, (eff * (1 - mu(t))) / (1 - prod));
      f(A.c2, (eff * next) / (1 - prod * next));
    }
  }
  v.setUint32(p + A.flags, flags, true);
  f(A.lr, eff);
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
  const m = muMemo;
  if (m.b1 !== b1 || m.psi !== psi || m.t > t) muMemo = { b1, psi, t: 0, prod: 1 };
  while (muMemo.t < t) muMemo.prod *= b1 * (1 - 0.5 * Math.pow(0.96, ++muMemo.t * psi));
  return muMemo.prod;
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

  /** Writes the per-step fields of step `t` (1-based) at rate `lr` and, when cycled, `momentum` ({@link writeStep}). */
  prepare(t: number, lr: number, momentum?: number): void {
    writeStep(this.arena.view, this.hyper, this.config!, t, lr, momentum);
  }
}
