import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkOptions, nearMiss } from '../errors/validate.js';
import { initState, updateTensors } from './standalone.js';
import type { AdadeltaConfig, AdagradConfig, AdamaxConfig, AdamConfig, ClipOptions, KerasAdagradConfig, KerasAdamConfig, KerasRmspropConfig, KerasSgdConfig, LionConfig, NadamConfig, OptimizerBase, OptimizerConfig, OptimizerState, RmspropConfig, SgdConfig } from './types.js';
/**
 * Optimizer configs, with PyTorch's option names (camelCase) and PyTorch's defaults. The update
 * arithmetic is the fused WASM kernel path `optimizer_apply` (crates/kernels/src/optim.rs), which
 * follows PyTorch's single-tensor implementations; step-dependent scalars (Adam's bias
 * corrections `1 − β^t`, AdaGrad's decayed rate) are computed in f64 here.
 *
 * Every optimizer also takes gradient clipping with Keras's names: `clipValue` (clamp each
 * gradient element to [−v, v]), `clipNorm` (rescale each tensor's gradient to norm ≤ c) and
 * `globalClipNorm` (rescale all gradients together to global norm ≤ c). Clipping happens before
 * penalties (L1/L2/weight decay) are folded in, as PyTorch's `clip_grad_norm_` precedes
 * `optimizer.step()`.
 */

/** Validates a learning rate. @internal */
export function checkLr(lr: unknown, where: string): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new OptionError('lr', `${where}: lr = ${preview(lr)}; expected a finite number >= 0. Typical values are 1e-3 to 0.1.`);
  }
  return lr;
}

type Opts = Record<string, unknown>;

/** An option's own value (inherited properties are not options). */
const own = (o: Opts, name: string): unknown => (Object.hasOwn(o, name) ? o[name] : undefined);

/** Attaches the standalone `init`/`update` as non-enumerable methods (configs stay plain JSON). */
function withMethods<T extends OptimizerConfig>(c: Omit<T, 'init' | 'update'>): T {
  const cfg = c as T;
  Object.defineProperties(cfg, {
    init: { value: (params: Float32Array | readonly Float32Array[]) => initState(cfg, params), enumerable: false },
    update: {
      value: (params: Float32Array | readonly Float32Array[], grads: Float32Array | readonly Float32Array[], state: OptimizerState, lr?: number) => updateTensors(cfg, params, grads, state, lr),
      enumerable: false,
    },
  });
  return Object.freeze(cfg);
}

/** Keras / tfjs option names that are not near misses of wasmfit's (PyTorch's), and the replacement. */
const B = 'betas: [β1, β2]';
const KERAS_OPTION_HINTS: Readonly<Record<string, string>> = { epsilon: 'eps', beta1: B, beta_1: B, beta2: B, beta_2: B, rho: 'alpha', decay: 'a fit({ schedule })', useNesterov: 'nesterov' };

function keys(where: string, o: Opts, known: string[]): void {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new OptionError('options', `${where}: options = ${preview(o)}; expected an object such as { lr: ${typeof o === 'number' ? o : 1e-3} }.`);
  }
  for (const k of Object.keys(o)) {
    if (Object.hasOwn(KERAS_OPTION_HINTS, k) && !known.includes(k)) throw new OptionError(k, `${where}: unknown option '${k}'; use ${KERAS_OPTION_HINTS[k]!}. For Keras's option names and arithmetic use kerasSGD(), kerasRMSprop(), kerasAdagrad() or kerasAdam().`);
  }
  checkOptions(where, o, known);
}

/**
 * The learning rate from `lr`, or from its Keras / tfjs name `learningRate` (an alias: both mean
 * the same step size; giving both is refused).
 */
function lrOf(where: string, o: Opts, def: number): number {
  const lr = own(o, 'lr');
  const alias = own(o, 'learningRate');
  if (lr !== undefined && alias !== undefined) throw new OptionError('learningRate', `${where}: pass lr or learningRate (its alias), not both.`);
  if (alias !== undefined) checkLr(alias, `${where}: learningRate`);
  return checkLr(lr ?? alias ?? def, where);
}

function num(where: string, o: Opts, name: string, def: number, lo: number, hi = Infinity, loOpen = false, hiOpen = false): number {
  const v = own(o, name) ?? def;
  const ok = typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) {
    const range = `${loOpen ? '(' : '['}${lo}, ${hi === Infinity ? '∞' : hi}${hiOpen || hi === Infinity ? ')' : ']'}`;
    throw new OptionError(name, `${where}: ${name} = ${preview(v)}; expected a finite number in ${range}.`);
  }
  return v as number;
}

function bool(where: string, o: Opts, name: string, def: boolean): boolean {
  const v = own(o, name) ?? def;
  if (typeof v !== 'boolean') throw new OptionError(name, `${where}: ${name} = ${preview(v)}; expected a boolean.`);
  return v;
}

const CLIP = ['clipValue', 'clipNorm', 'globalClipNorm'];
function clip(where: string, o: Opts): Pick<OptimizerBase, 'clipValue' | 'clipNorm' | 'globalClipNorm'> {
  return {
    clipValue: num(where, o, 'clipValue', 0, 0),
    clipNorm: num(where, o, 'clipNorm', 0, 0),
    globalClipNorm: num(where, o, 'globalClipNorm', 0, 0),
  };
}

/** Options of {@link sgd}. */
export interface SgdOptions extends ClipOptions {
  /** Learning rate, default 1e-3 (PyTorch). */
  lr?: number;
  /** Keras / tfjs name of `lr` (an alias; pass one of the two). */
  learningRate?: number;
  /** Momentum factor, default 0. */
  momentum?: number;
  /** Dampening for momentum, default 0. */
  dampening?: number;
  /** L2 weight decay added to the gradient (`g + wd·w`, PyTorch meaning), default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening = 0), default false. */
  nesterov?: boolean;
  /** Maximize the objective instead, default false. */
  maximize?: boolean;
}

/**
 * Stochastic gradient descent, PyTorch `torch.optim.SGD`:
 * `d = g + wd·w; buf = momentum·buf + (1 − dampening)·d (buf = d on the first step);
 *  d = nesterov ? d + momentum·buf : buf; w ← w − lr·d`.
 * @example sgd({ lr: 0.1, momentum: 0.9, nesterov: true })
 */
export function sgd(options: SgdOptions = {}): SgdConfig {
  const W = 'sgd';
  const o = options as Opts;
  keys(W, o, ['lr', 'learningRate', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize', ...CLIP]);
  const lr = lrOf(W, o, 1e-3);
  const momentum = num(W, o, 'momentum', 0, 0);
  const dampening = num(W, o, 'dampening', 0, -Infinity);
  const nesterov = bool(W, o, 'nesterov', false);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new OptionError('nesterov', `${W}: nesterov = true needs momentum > 0 and dampening = 0 (received momentum ${momentum}, dampening ${dampening}), as PyTorch requires.`);
  }
  return withMethods<SgdConfig>({ type: 'sgd', lr, momentum, dampening, weightDecay: num(W, o, 'weightDecay', 0, 0), nesterov, maximize: bool(W, o, 'maximize', false), ...clip(W, o) });
}

/** Options of {@link adagrad}. */
export interface AdagradOptions extends ClipOptions {
  /** Default 1e-2. */
  lr?: number;
  /** Keras / tfjs name of `lr` (an alias; pass one of the two). */
  learningRate?: number;
  /** `clr = lr / (1 + (t − 1)·lrDecay)`, default 0. */
  lrDecay?: number;
  /** Default 0 (PyTorch meaning: `g + wd·w`). */
  weightDecay?: number;
  /** Starting value of the squared-gradient sum, default 0. */
  initialAccumulatorValue?: number;
  /** Default 1e-10. */
  eps?: number;
  maximize?: boolean;
}

/**
 * AdaGrad, PyTorch `torch.optim.Adagrad`:
 * `clr = lr / (1 + (t − 1)·lrDecay); d = g + wd·w; s += d²; w ← w − clr·d / (√s + eps)`.
 * @example adagrad({ lr: 0.05 })
 */
export function adagrad(options: AdagradOptions = {}): AdagradConfig {
  const W = 'adagrad';
  const o = options as Opts;
  keys(W, o, ['lr', 'learningRate', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize', ...CLIP]);
  return withMethods<AdagradConfig>({
    type: 'adagrad',
    lr: lrOf(W, o, 1e-2),
    lrDecay: num(W, o, 'lrDecay', 0, 0),
    weightDecay: num(W, o, 'weightDecay', 0, 0),
    initialAccumulatorValue: num(W, o, 'initialAccumulatorValue', 0, 0),
    eps: num(W, o, 'eps', 1e-10, 0),
    maximize: bool(W, o, 'maximize', false),
    ...clip(W, o),
  });
}

/** Options of {@link rmsprop}. */
export interface RmspropOptions extends ClipOptions {
  /** Default 1e-2. */
  lr?: number;
  /** Keras / tfjs name of `lr` (an alias; pass one of the two). */
  learningRate?: number;
  /** Smoothing constant, default 0.99. */
  alpha?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default 0. */
  momentum?: number;
  /** Normalize by the estimated variance, default false. */
  centered?: boolean;
  maximize?: boolean;
}

/**
 * RMSProp, PyTorch `torch.optim.RMSprop`:
 * `d = g + wd·w; v = α·v + (1 − α)·d²; avg = centered ? √(v − ḡ²) + eps : √v + eps
 *  (ḡ = α·ḡ + (1 − α)·d); momentum > 0: buf = μ·buf + d/avg, w −= lr·buf; else w −= lr·d/avg`.
 * @example rmsprop({ lr: 1e-3, centered: true })
 */
export function rmsprop(options: RmspropOptions = {}): RmspropConfig {
  const W = 'rmsprop';
  const o = options as Opts;
  keys(W, o, ['lr', 'learningRate', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize', ...CLIP]);
  return withMethods<RmspropConfig>({
    type: 'rmsprop',
    lr: lrOf(W, o, 1e-2),
    alpha: num(W, o, 'alpha', 0.99, 0, 1),
    eps: num(W, o, 'eps', 1e-8, 0),
    weightDecay: num(W, o, 'weightDecay', 0, 0),
    momentum: num(W, o, 'momentum', 0, 0),
    centered: bool(W, o, 'centered', false),
    maximize: bool(W, o, 'maximize', false),
    ...clip(W, o),
  });
}

/** Options of {@link adam} and {@link adamw}. */
export interface AdamOptions extends ClipOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Keras / tfjs name of `lr` (an alias; pass one of the two). */
  learningRate?: number;
  /** `[β1, β2]`, default `[0.9, 0.999]`, each in [0, 1). */
  betas?: readonly [number, number];
  /** Added outside the square root, default 1e-8 (PyTorch; Keras uses 1e-7 inside its own formula). */
  eps?: number;
  /** adam: L2 added to the gradient (`g + wd·w`), default 0. adamw: decoupled `w ← w·(1 − lr·wd)`, default 1e-2. */
  weightDecay?: number;
  /** AMSGrad: keep the running max of the uncorrected second moment, default false. */
  amsgrad?: boolean;
  maximize?: boolean;
}

/** Validates `betas`: two numbers, each in [0, 1). */
function betasOf(W: string, o: Opts, def: [number, number]): [number, number] {
  const b = (own(o, 'betas') ?? def) as unknown;
  if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x < 1)) {
    throw new OptionError('betas', `${W}: betas = ${JSON.stringify(b)}; expected [β1, β2] with each in [0, 1), e.g. [${def.join(', ')}].`);
  }
  return [b[0] as number, b[1] as number];
}

function adamLike(type: 'adam' | 'adamw', options: AdamOptions): AdamConfig {
  const W = type;
  const o = options as Opts;
  keys(W, o, ['lr', 'learningRate', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize', ...CLIP]);
  return withMethods<AdamConfig>({
    type,
    lr: lrOf(W, o, 1e-3),
    betas: betasOf(W, o, [0.9, 0.999]),
    eps: num(W, o, 'eps', 1e-8, 0),
    weightDecay: num(W, o, 'weightDecay', type === 'adamw' ? 1e-2 : 0, 0),
    amsgrad: bool(W, o, 'amsgrad', false),
    maximize: bool(W, o, 'maximize', false),
    ...clip(W, o),
  });
}

/**
 * Adam, PyTorch `torch.optim.Adam`: `d = g + wd·w; m = β1·m + (1 − β1)·d; v = β2·v + (1 − β2)·d²;
 * v̂ = amsgrad ? max(v̂, v) : v; w ← w − (lr / (1 − β1^t))·m / (√v̂ / √(1 − β2^t) + eps)`.
 * `β^t` is computed in f64 with `Math.pow`, never by repeated float32 multiplication.
 * @example adam({ lr: 1e-3 })
 */
export function adam(options: AdamOptions = {}): AdamConfig {
  return adamLike('adam', options);
}

/**
 * AdamW, PyTorch `torch.optim.AdamW`: decoupled weight decay `w ← w·(1 − lr·wd)` (default
 * wd = 1e-2), then the Adam update on the raw gradient.
 * @example adamw({ lr: 1e-3, weightDecay: 0.05 })
 */
export function adamw(options: AdamOptions = {}): AdamConfig {
  return adamLike('adamw', options);
}

/** AMSGrad: `adam({ ...options, amsgrad: true })`. */
export function amsgrad(options: Omit<AdamOptions, 'amsgrad'> = {}): AdamConfig {
  return adamLike('adam', { ...options, amsgrad: true });
}

/** Options of {@link adamax} and {@link radam}. */
export interface AdamaxOptions extends ClipOptions {
  /** Default 2e-3 (adamax), 1e-3 (radam). */
  lr?: number;
  /** Keras / tfjs name of `lr` (an alias; pass one of the two). */
  learningRate?: number;
  /** `[β1, β2]`, default `[0.9, 0.999]`, each in [0, 1). */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** L2 added to the gradient (`g + wd·w`, PyTorch meaning), default 0. */
  weightDecay?: number;
  /** Default false (PyTorch 1.13's RAdam has no `maximize`; wasmfit negates the gradient as for the others). */
  maximize?: boolean;
}

/**
 * The Adam-like factories after Adam (adamax, radam, nadam, lion): lr default, betas default, and
 * each option only where the optimizer has it (Lion: no eps; NAdam: momentumDecay).
 */
function adamLike2<C extends AdamaxConfig | NadamConfig | LionConfig>(type: C['type'], options: object, lr: number): C {
  const W = type;
  const o = options as Opts;
  const ln = type === 'lion';
  const nd = type === 'nadam';
  keys(W, o, ['lr', 'learningRate', 'betas', 'weightDecay', 'maximize', ...(ln ? [] : ['eps']), ...(nd ? ['momentumDecay'] : []), ...CLIP]);
  return withMethods<C>({
    type,
    lr: lrOf(W, o, lr),
    betas: betasOf(W, o, ln ? [0.9, 0.99] : [0.9, 0.999]),
    ...(ln ? {} : { eps: num(W, o, 'eps', 1e-8, 0) }),
    weightDecay: num(W, o, 'weightDecay', 0, 0),
    ...(nd ? { momentumDecay: num(W, o, 'momentumDecay', 4e-3, 0) } : {}),
    maximize: bool(W, o, 'maximize', false),
    ...clip(W, o),
  } as unknown as Omit<C, 'init' | 'update'>);
}

/**
 * Adamax, PyTorch `torch.optim.Adamax` (Adam with the infinity norm): `d = g + wd·w;
 * m = β1·m + (1 − β1)·d; u = max(β2·u, |d| + eps); w ← w − (lr / (1 − β1^t))·m / u`.
 * @example adamax({ lr: 2e-3 })
 */
export function adamax(options: AdamaxOptions = {}): AdamaxConfig {
  return adamLike2('adamax', options, 2e-3);
}

/**
 * RAdam, PyTorch 1.13 `torch.optim.RAdam` (rectified Adam, coupled weight decay):
 * `d = g + wd·w; m = β1·m + (1 − β1)·d; v = β2·v + (1 − β2)·d²; m̂ = m / (1 − β1^t);
 *  ρ∞ = 2/(1 − β2) − 1; ρ_t = ρ∞ − 2t·β2^t / (1 − β2^t)`; when `ρ_t > 5`:
 * `r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)); w ← w − lr·m̂·r_t·√(1 − β2^t) / (√v + eps)`,
 * else `w ← w − lr·m̂` (SGD with momentum for the first steps).
 * @example radam({ lr: 1e-3 })
 */
export function radam(options: AdamaxOptions = {}): AdamaxConfig {
  return adamLike2('radam', options, 1e-3);
}

/** Options of {@link nadam}. */
export interface NadamOptions extends Omit<AdamaxOptions, 'lr'> {
  /** Default 2e-3. */
  lr?: number;
  /** ψ of the momentum schedule `μ_t = β1·(1 − ½·0.96^(t·ψ))`, default 4e-3. */
  momentumDecay?: number;
}

/**
 * NAdam, PyTorch `torch.optim.NAdam` (Adam with Nesterov momentum, Dozat 2016): with
 * `μ_t = β1·(1 − ½·0.96^(t·ψ))` (ψ = momentumDecay) and the running product `Π_t = μ_1⋯μ_t`,
 * `d = g + wd·w; m = β1·m + (1 − β1)·d; v = β2·v + (1 − β2)·d²; den = √(v / (1 − β2^t)) + eps;
 *  w ← w − lr·(1 − μ_t)/(1 − Π_t)·d/den − lr·μ_{t+1}/(1 − Π_t·μ_{t+1})·m/den`.
 * This is PyTorch ≥ 2.0 (and 1.13 with `foreach=True`); PyTorch 1.13's default single-tensor path
 * has `Π_t·μ_t·μ_{t+1}` in the last denominator (a bug, fixed in 2.0). Keras 3's `Nadam` differs
 * in its schedule: `μ_t = β1·(1 − ½·0.96^t)` (no ψ: the momentum reaches β1 within tens of steps,
 * not thousands), eps 1e-7 and lr 1e-3 by default, and `m`, `v` and `Π_t` in the variable's dtype;
 * the update's form is otherwise PyTorch's. A Keras form is not provided yet (`momentumDecay: 1`
 * gives Keras 3's schedule). `Π_t` is multiplied in f64 (PyTorch: a float32 tensor).
 * @example nadam({ lr: 2e-3 })
 */
export function nadam(options: NadamOptions = {}): NadamConfig {
  return adamLike2('nadam', options, 2e-3);
}

/** Options of {@link adadelta}. */
export interface AdadeltaOptions extends ClipOptions {
  /** Default 1.0 (PyTorch; Keras 1e-3). */
  lr?: number;
  /** Keras / tfjs name of `lr` (an alias; pass one of the two). */
  learningRate?: number;
  /** Decay of both running averages, default 0.9 (Keras 0.95), in [0, 1]. */
  rho?: number;
  /** Added inside both square roots, default 1e-6 (Keras 1e-7). */
  eps?: number;
  /** L2 added to the gradient (`g + wd·w`), default 0. */
  weightDecay?: number;
  maximize?: boolean;
}

/**
 * Adadelta, PyTorch `torch.optim.Adadelta`: `d = g + wd·w; s = ρ·s + (1 − ρ)·d²;
 * δ = √(a + eps) / √(s + eps)·d; a = ρ·a + (1 − ρ)·δ²; w ← w − lr·δ` (s: `squareAvg`, a: `accDelta`).
 * @example adadelta({ lr: 1.0, rho: 0.9 })
 */
export function adadelta(options: AdadeltaOptions = {}): AdadeltaConfig {
  const W = 'adadelta';
  const o = options as Opts;
  keys(W, o, ['lr', 'learningRate', 'rho', 'eps', 'weightDecay', 'maximize', ...CLIP]);
  return withMethods<AdadeltaConfig>({
    type: 'adadelta',
    lr: lrOf(W, o, 1),
    rho: num(W, o, 'rho', 0.9, 0, 1),
    eps: num(W, o, 'eps', 1e-6, 0),
    weightDecay: num(W, o, 'weightDecay', 0, 0),
    maximize: bool(W, o, 'maximize', false),
    ...clip(W, o),
  });
}

/** Options of {@link lion}. */
export interface LionOptions extends ClipOptions {
  /** Default 1e-4 (lion-pytorch; the paper suggests 3–10× smaller than AdamW's). */
  lr?: number;
  /** Keras / tfjs name of `lr` (an alias; pass one of the two). */
  learningRate?: number;
  /** `[β1, β2]`, default `[0.9, 0.99]`, each in [0, 1). */
  betas?: readonly [number, number];
  /** Decoupled weight decay `w ← w·(1 − lr·wd)`, default 0 (the paper suggests 3–10× AdamW's). */
  weightDecay?: number;
  maximize?: boolean;
}

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2; the
 * arithmetic of lucidrains/lion-pytorch `update_fn`, not in PyTorch 1.13):
 * `w ← w·(1 − lr·wd); w ← w − lr·sign(β1·m + (1 − β1)·g); m = β2·m + (1 − β2)·g` (sign(0) = 0).
 * L1/L2 penalties are added to `g`; weight decay is decoupled.
 * @example lion({ lr: 1e-4, weightDecay: 0.1 })
 */
export function lion(options: LionOptions = {}): LionConfig {
  return adamLike2('lion', options, 1e-4);
}


// ---------------------------------------------------------------------------------------------
// Keras's arithmetic, Keras's option names (camelCase) and defaults: the Keras-named factories,
// as the schedules have `exponentialDecay` (Keras) beside `exponentialLR` (PyTorch) and
// `kerasReduceLROnPlateau` beside `reduceLROnPlateau`. Keras 3's `update_step`s
// (keras/src/optimizers/{sgd,rmsprop,adagrad,adam}.py), which tf.keras 2.11–2.15's default
// optimizers share; fused kernel path `keras_step` (crates/kernels/src/optim.rs).
// ---------------------------------------------------------------------------------------------

/** Options every Keras-named optimizer takes (Keras's `learning_rate`, `weight_decay`, clipping). */
export interface KerasBaseOptions extends ClipOptions {
  /** Keras `learning_rate`. */
  learningRate?: number;
  /** Alias of `learningRate` (pass one of the two). */
  lr?: number;
  /**
   * Keras's `weight_decay`, decoupled as in every Keras 3 optimizer: `w ← w − w·wd·lr` before the
   * update, on every trained tensor (Keras's `exclude_from_weight_decay` has no equivalent). Default
   * 0 (Keras `None`). Not an L2 penalty: for Keras's `l2` regularizers use `kernelRegularizer`.
   */
  weightDecay?: number;
}

const KB = ['learningRate', 'lr', 'weightDecay', ...CLIP];

function kerasBase(W: string, o: Opts, lr: number) {
  return { lr: lrOf(W, o, lr), weightDecay: num(W, o, 'weightDecay', 0, 0), ...clip(W, o) };
}

/** Keras requires ε > 0 (RMSprop refuses ε ≤ 0); ε = 0 would divide 0 by 0 on a zero gradient. */
const epsOf = (W: string, o: Opts) => num(W, o, 'epsilon', 1e-7, 0, Infinity, true);

/** Options of {@link kerasSGD}. */
export interface KerasSgdOptions extends KerasBaseOptions {
  /** Default 0, in [0, 1] (Keras refuses values outside). */
  momentum?: number;
  /** Default false; without momentum it changes nothing (Keras accepts it; PyTorch refuses). */
  nesterov?: boolean;
}

/**
 * Keras `SGD` (keras/src/optimizers/sgd.py; lr default 0.01). The velocity holds the rate:
 * `m ← m·μ − g·lr; w ← w + m`, Nesterov `w ← w + m·μ − g·lr`, without momentum `w ← w − g·lr`.
 * At a constant rate this is PyTorch's SGD (`m = −lr·buf`); when the rate changes (a schedule), the
 * old velocity keeps the old rate in Keras and takes the new one in PyTorch, and PyTorch's
 * dampening has no Keras equivalent. The state `momentum` is Keras's velocity.
 * @example kerasSGD({ learningRate: 0.01, momentum: 0.9, nesterov: true })
 */
export function kerasSGD(options: KerasSgdOptions = {}): KerasSgdConfig {
  const W = 'kerasSGD';
  const o = options as Opts;
  keys(W, o, ['momentum', 'nesterov', ...KB]);
  return withMethods<KerasSgdConfig>({ type: W, ...kerasBase(W, o, 0.01), momentum: num(W, o, 'momentum', 0, 0, 1), nesterov: bool(W, o, 'nesterov', false) });
}

/** Options of {@link kerasRMSprop}. */
export interface KerasRmspropOptions extends KerasBaseOptions {
  /** Discounting factor, default 0.9, in [0, 1] (PyTorch's `alpha`, default 0.99). */
  rho?: number;
  /** Default 0, in [0, 1]. */
  momentum?: number;
  /** Inside the square root, default 1e-7, > 0. */
  epsilon?: number;
  /** Default false. */
  centered?: boolean;
}

/**
 * Keras `RMSprop` (keras/src/optimizers/rmsprop.py; lr default 1e-3):
 * `v ← ρ·v + (1 − ρ)·g²; den = v + ε` (centered: `a ← ρ·a + (1 − ρ)·g; den = v − a² + ε`);
 * `inc = lr·g/√den`; momentum: `p ← μ·p + inc; w ← w − p`, else `w ← w − inc`. ε sits inside the
 * root (PyTorch: `√v + eps`, 1e-8) and the momentum buffer holds the rate. tf.keras ≤ 2.10's
 * legacy RMSprop put ε outside the root when momentum is 0; this follows Keras 3 / tf.keras ≥ 2.11.
 * @example kerasRMSprop({ learningRate: 1e-3, rho: 0.9 })
 */
export function kerasRMSprop(options: KerasRmspropOptions = {}): KerasRmspropConfig {
  const W = 'kerasRMSprop';
  const o = options as Opts;
  keys(W, o, ['rho', 'momentum', 'epsilon', 'centered', ...KB]);
  return withMethods<KerasRmspropConfig>({
    type: W,
    ...kerasBase(W, o, 1e-3),
    rho: num(W, o, 'rho', 0.9, 0, 1),
    momentum: num(W, o, 'momentum', 0, 0, 1),
    epsilon: epsOf(W, o),
    centered: bool(W, o, 'centered', false),
  });
}

/** Options of {@link kerasAdagrad}. */
export interface KerasAdagradOptions extends KerasBaseOptions {
  /** Starting value of the accumulator, default 0.1 (PyTorch 0), >= 0. */
  initialAccumulatorValue?: number;
  /** Inside the square root, default 1e-7, > 0. */
  epsilon?: number;
}

/**
 * Keras `Adagrad` (keras/src/optimizers/adagrad.py; lr default 1e-3):
 * `acc ← acc + g²; w ← w − lr·g/√(acc + ε)`, the accumulator starting at 0.1. PyTorch: ε outside
 * the root (`√sum + eps`, 1e-10), sum from 0, and an `lr_decay`. tf.keras ≤ 2.10's legacy Adagrad
 * put ε outside the root too; this follows Keras 3 / tf.keras ≥ 2.11.
 * @example kerasAdagrad({ learningRate: 0.05 })
 */
export function kerasAdagrad(options: KerasAdagradOptions = {}): KerasAdagradConfig {
  const W = 'kerasAdagrad';
  const o = options as Opts;
  keys(W, o, ['initialAccumulatorValue', 'epsilon', ...KB]);
  return withMethods<KerasAdagradConfig>({ type: W, ...kerasBase(W, o, 1e-3), initialAccumulatorValue: num(W, o, 'initialAccumulatorValue', 0.1, 0), epsilon: epsOf(W, o) });
}

/** Options of {@link kerasAdam}. */
export interface KerasAdamOptions extends KerasBaseOptions {
  /** Keras `beta_1`, default 0.9, in [0, 1). */
  beta1?: number;
  /** Keras `beta_2`, default 0.999, in [0, 1). */
  beta2?: number;
  /** Keras's "epsilon hat", added to √v without bias correction, default 1e-7, > 0. */
  epsilon?: number;
  /** AMSGrad: the running max of the uncorrected `v`, default false. */
  amsgrad?: boolean;
}

/**
 * Keras `Adam` (keras/src/optimizers/adam.py; lr default 1e-3):
 * `α = lr·√(1 − β2^t)/(1 − β1^t); m ← m + (g − m)·(1 − β1); v ← v + (g² − v)·(1 − β2)`;
 * AMSGrad `v̂ ← max(v̂, v)`, then `w ← w − m·α/(√v̂ + ε)` (else `√v`). The ε is added to the
 * uncorrected √v: PyTorch's `√v/√(1 − β2^t) + eps` is this with `ε = eps·√(1 − β2^t)`, so the two
 * differ where √v is of the order of ε. With `weightDecay` it is Keras's `AdamW` arithmetic too
 * (decoupled `w − w·wd·lr`). α is computed in f64 (Keras: float32).
 * @example kerasAdam({ learningRate: 1e-3, epsilon: 1e-7 })
 */
export function kerasAdam(options: KerasAdamOptions = {}): KerasAdamConfig {
  const W = 'kerasAdam';
  const o = options as Opts;
  keys(W, o, ['beta1', 'beta2', 'epsilon', 'amsgrad', ...KB]);
  return withMethods<KerasAdamConfig>({
    type: W,
    ...kerasBase(W, o, 1e-3),
    beta1: num(W, o, 'beta1', 0.9, 0, 1, false, true),
    beta2: num(W, o, 'beta2', 0.999, 0, 1, false, true),
    epsilon: epsOf(W, o),
    amsgrad: bool(W, o, 'amsgrad', false),
  });
}

const BUILD = 'build one with sgd(), adam(), adamw(), rmsprop(), adagrad(), adamax(), nadam(), radam(), adadelta(), lion(), kerasSGD(), kerasRMSprop(), kerasAdagrad() or kerasAdam().';

/** Re-validates a config object (e.g. one revived from JSON). @internal */
export function checkOptimizer(opt: unknown, where: string): OptimizerConfig {
  if (!opt || typeof opt !== 'object') throw new OptionError('optimizer', `${where}: optimizer = ${preview(opt)}; ${BUILD}`);
  const { type, ...rest } = opt as { type?: unknown } & Record<string, unknown>;
  if (typeof type === 'string' && Object.hasOwn(BY_NAME, type)) return BY_NAME[type as OptimizerName](rest);
  throw new OptionError('optimizer', `${where}: optimizer type ${JSON.stringify(type)} is unknown; ${BUILD}`);
}

/** The optimizers `compile({ optimizer })` accepts by name, as Keras's `optimizer='adam'`. */
export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad' | 'adamax' | 'nadam' | 'radam' | 'adadelta' | 'lion' | 'kerasSGD' | 'kerasRMSprop' | 'kerasAdagrad' | 'kerasAdam';

const BY_NAME: Readonly<Record<OptimizerName, (o?: object) => OptimizerConfig>> = { sgd, adam, adamw, rmsprop, adagrad, adamax, nadam, radam, adadelta, lion, kerasSGD, kerasRMSprop, kerasAdagrad, kerasAdam };

/** Keras / tfjs optimizer names wasmfit has under another name or not at all, and the replacement. */
const OTHER_NAMES: Readonly<Record<string, string>> = { momentum: 'sgd({ momentum: 0.9 })', amsgrad: 'amsgrad()', lbfgs: 'lbfgs()', cg: 'cg()', ftrl: 'adam()' };

/**
 * An optimizer named by a string, as Keras's `compile(optimizer='adam')`: the factory called with
 * no options, so its defaults are wasmfit's, which are PyTorch's (not Keras's): `'adam'` = `adam()`
 * (lr 1e-3, betas [0.9, 0.999], eps 1e-8), `'adamw'` = `adamw()` (lr 1e-3, weightDecay 1e-2),
 * `'sgd'` = `sgd()` (lr 1e-3; Keras 0.01), `'rmsprop'` = `rmsprop()` (lr 1e-2, alpha 0.99; Keras lr
 * 1e-3, rho 0.9), `'adagrad'` = `adagrad()` (lr 1e-2; Keras 1e-3). Pass the factory with options
 * for other values; `'adamax'`, `'nadam'`, `'radam'`, `'adadelta'`, `'lion'` likewise (PyTorch's
 * defaults; Lion: lion-pytorch's). `'kerasSGD'`, `'kerasRMSprop'`, `'kerasAdagrad'`, `'kerasAdam'`
 * are Keras's arithmetic with Keras's defaults. @internal (public through `compile`)
 */
export function optimizerFromName(name: string, where: string): OptimizerConfig {
  if (Object.hasOwn(BY_NAME, name)) return BY_NAME[name as OptimizerName]();
  const lower = name.toLowerCase();
  const other = Object.hasOwn(OTHER_NAMES, lower) ? OTHER_NAMES[lower] : undefined;
  const near = nearMiss(name, Object.keys(BY_NAME));
  throw new OptionError('optimizer', `${where}: optimizer = ${preview(name)}; expected one of ${Object.keys(BY_NAME).map((n) => `'${n}'`).join(', ')} or a config such as adam({ lr: 0.01 }).${other ? ` Use ${other}.` : near ? ` Did you mean '${near}'?` : ''}`);
}
