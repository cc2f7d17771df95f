/**
 * Schedules named after `torch.optim.lr_scheduler`. Options are PyTorch's names in camelCase with
 * PyTorch's defaults; the base rate is `lr` (the optimizer's initial rate); the counter `t` is the
 * number of `scheduler.step()` calls so far. Each uses PyTorch's closed form
 * (`_get_closed_form_lr`) where PyTorch has one; the PyTorch class's default recursive
 * ("chainable") update agrees with it up to rounding.
 */
import { OptionError } from '../errors/index.js';
import { bool, checkOptions, fail, fn, num, numArray, oneOf } from '../errors/validate.js';
import { checkUserValue, makeSchedule, type Schedule } from './schedule.js';

const LR = { ge: 0, fix: 'Pass lr as the initial learning rate, a finite number >= 0 (e.g. 0.1).' } as const;

/** Options of {@link stepLR}. */
export interface StepLROptions {
  /** Initial learning rate (PyTorch: the optimizer's `lr`). Required, >= 0. */
  readonly lr: number;
  /** Period of decay, in epochs (PyTorch `step_size`). Required, integer >= 1. */
  readonly stepSize: number;
  /** Multiplicative factor per period. Default 0.1; > 0. */
  readonly gamma?: number;
}

/**
 * PyTorch `StepLR`: decays by `gamma` every `stepSize` epochs.
 *
 * `lr_t = lr · gamma^⌊t / stepSize⌋`. Unit: `'epoch'`.
 *
 * @example
 * const s = stepLR({ lr: 0.05, stepSize: 30 }); // 0.05 for t < 30, 0.005 for 30 <= t < 60, …
 */
export function stepLR(options: StepLROptions): Schedule {
  const W = 'stepLR';
  const o = checkOptions(W, options, ['lr', 'stepSize', 'gamma']);
  const lr = num(W, 'lr', o.lr, LR);
  const stepSize = num(W, 'stepSize', o.stepSize, {
    integer: true,
    ge: 1,
    fix: 'Pass stepSize >= 1 (the number of epochs between two decays).',
  });
  const gamma = num(W, 'gamma', o.gamma, { default: 0.1, gt: 0 });
  return makeSchedule(W, 'epoch', lr, { lr, stepSize, gamma }, (t) => lr * gamma ** Math.floor(t / stepSize));
}

/** Options of {@link multiStepLR}. */
export interface MultiStepLROptions {
  /** Initial learning rate. Required, >= 0. */
  readonly lr: number;
  /** Epoch indices at which the rate is multiplied by `gamma`; non-decreasing integers >= 0. */
  readonly milestones: readonly number[];
  /** Multiplicative factor per milestone. Default 0.1; > 0. */
  readonly gamma?: number;
}

/**
 * PyTorch `MultiStepLR`: multiplies by `gamma` once `t` reaches each milestone (the new rate
 * applies AT the milestone, unlike Keras `PiecewiseConstantDecay`).
 *
 * `lr_t = lr · gamma^(number of milestones m with m <= t)` (PyTorch `bisect_right`). A repeated
 * milestone counts twice, as PyTorch's `Counter` does. Unit: `'epoch'`.
 *
 * @example
 * const s = multiStepLR({ lr: 0.05, milestones: [30, 80] }); // s(29) = 0.05, s(30) = 0.005, s(80) = 0.0005
 */
export function multiStepLR(options: MultiStepLROptions): Schedule {
  const W = 'multiStepLR';
  const o = checkOptions(W, options, ['lr', 'milestones', 'gamma']);
  const lr = num(W, 'lr', o.lr, LR);
  const milestones = numArray(W, 'milestones', o.milestones, {
    integer: true,
    ge: 0,
    order: 'nondecreasing',
    fix: 'Pass milestones as increasing epoch indices, e.g. [30, 80].',
  });
  const gamma = num(W, 'gamma', o.gamma, { default: 0.1, gt: 0 });
  return makeSchedule(W, 'epoch', lr, { lr, milestones: [...milestones], gamma }, (t) => {
    let k = 0;
    while (k < milestones.length && (milestones[k] as number) <= t) k++;
    return lr * gamma ** k;
  });
}

/** Options of {@link exponentialLR}. */
export interface ExponentialLROptions {
  /** Initial learning rate. Required, >= 0. */
  readonly lr: number;
  /** Multiplicative factor per epoch. Required, > 0 (values > 1 grow the rate, as in an LR range test). */
  readonly gamma: number;
}

/**
 * PyTorch `ExponentialLR`: `lr_t = lr · gamma^t`. Unit: `'epoch'`.
 *
 * @example
 * const s = exponentialLR({ lr: 0.1, gamma: 0.9 }); // 0.1, 0.09, 0.081, …
 */
export function exponentialLR(options: ExponentialLROptions): Schedule {
  const W = 'exponentialLR';
  const o = checkOptions(W, options, ['lr', 'gamma']);
  const lr = num(W, 'lr', o.lr, LR);
  const gamma = num(W, 'gamma', o.gamma, { gt: 0, fix: 'Pass gamma > 0, the factor applied each epoch (e.g. 0.95).' });
  return makeSchedule(W, 'epoch', lr, { lr, gamma }, (t) => lr * gamma ** t);
}

/** Options of {@link cosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Initial (maximum) learning rate, PyTorch's `eta_max`. Required, >= 0. */
  readonly lr: number;
  /** Length of one half-cosine in epochs (PyTorch `T_max`). Required, integer >= 1. */
  readonly tMax: number;
  /** Floor of the cosine (PyTorch `eta_min`), an absolute rate. Default 0; >= 0. */
  readonly etaMin?: number;
}

/**
 * PyTorch `CosineAnnealingLR` (SGDR without restarts).
 *
 * `lr_t = etaMin + (lr − etaMin) · (1 + cos(π·t / tMax)) / 2`. Unit: `'epoch'`.
 *
 * Past `tMax` it keeps following the cosine (rising back to `lr` at `2·tMax`), exactly as
 * PyTorch's closed form and its recursive form do. Keras `CosineDecay` instead clamps at the
 * floor after `decaySteps` — use {@link cosineDecay} for that.
 *
 * @example
 * const s = cosineAnnealingLR({ lr: 0.1, tMax: 50 }); // s(0) = 0.1, s(25) = 0.05, s(50) = 0
 */
export function cosineAnnealingLR(options: CosineAnnealingLROptions): Schedule {
  const W = 'cosineAnnealingLR';
  const o = checkOptions(W, options, ['lr', 'tMax', 'etaMin']);
  const lr = num(W, 'lr', o.lr, LR);
  const tMax = num(W, 'tMax', o.tMax, {
    integer: true,
    ge: 1,
    fix: 'Pass tMax >= 1 (the number of epochs of one half-cosine).',
  });
  const etaMin = num(W, 'etaMin', o.etaMin, { default: 0, ge: 0 });
  return makeSchedule(W, 'epoch', lr, { lr, tMax, etaMin }, (t) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
}

/** Options of {@link cosineAnnealingWarmRestarts}. */
export interface CosineAnnealingWarmRestartsOptions {
  /** Initial (maximum) learning rate. Required, >= 0. */
  readonly lr: number;
  /** Length of the first cycle in epochs (PyTorch `T_0`). Required, integer >= 1. */
  readonly t0: number;
  /** Each cycle is `tMult` times longer than the previous (PyTorch `T_mult`). Default 1; integer >= 1. */
  readonly tMult?: number;
  /** Floor of every cycle, an absolute rate (PyTorch `eta_min`). Default 0; >= 0. */
  readonly etaMin?: number;
}

/**
 * PyTorch `CosineAnnealingWarmRestarts` (SGDR, Loshchilov & Hutter).
 *
 * With cycle lengths `T_i = t0·tMult^i` starting at `S_i = t0·(tMult^i − 1)/(tMult − 1)`
 * (`S_i = i·t0` when `tMult = 1`), for `S_i <= t < S_{i+1}`:
 * `lr_t = etaMin + (lr − etaMin) · (1 + cos(π·(t − S_i)/T_i)) / 2`. Unit: `'epoch'`.
 *
 * Fractional `t` is accepted, like PyTorch's `step(epoch + i / iters)` for per-batch restarts.
 * Divergences: PyTorch finds the cycle with `int(log(t/t0·(T_mult−1)+1, T_mult))`, which can
 * round one cycle too early exactly at a restart (e.g. `t0 = 10, tMult = 3, t = 1210`); this
 * computes the cycle index exactly, agreeing with PyTorch's step-by-step form. Compared with Keras
 * {@link cosineDecayRestarts}: here `tMult` is an integer, `etaMin` is absolute and every cycle
 * restarts at the full `lr`; Keras takes a float `tMul`, shrinks each peak by `mMul` and its
 * `alpha` floor is relative to the initial rate.
 *
 * @example
 * const s = cosineAnnealingWarmRestarts({ lr: 0.1, t0: 10, tMult: 2 }); // restarts at t = 10, 30, 70, …
 */
export function cosineAnnealingWarmRestarts(options: CosineAnnealingWarmRestartsOptions): Schedule {
  const W = 'cosineAnnealingWarmRestarts';
  const o = checkOptions(W, options, ['lr', 't0', 'tMult', 'etaMin']);
  const lr = num(W, 'lr', o.lr, LR);
  const t0 = num(W, 't0', o.t0, { integer: true, ge: 1, fix: 'Pass t0 >= 1 (the number of epochs until the first restart).' });
  const tMult = num(W, 'tMult', o.tMult, {
    default: 1,
    integer: true,
    ge: 1,
    fix: 'Pass an integer tMult >= 1 as PyTorch requires (use cosineDecayRestarts for a fractional tMul).',
  });
  const etaMin = num(W, 'etaMin', o.etaMin, { default: 0, ge: 0 });
  return makeSchedule(W, 'epoch', lr, { lr, t0, tMult, etaMin }, (t) => {
    let tCur: number;
    let tI: number;
    if (t < t0) {
      tCur = t;
      tI = t0;
    } else if (tMult === 1) {
      tCur = t % t0;
      tI = t0;
    } else {
      // Exact cycle index: largest n with S_n <= t (S_n = t0·(tMult^n − 1)/(tMult − 1), integers).
      let start = 0;
      let len = t0;
      while (start + len <= t) {
        start += len;
        len *= tMult;
      }
      tCur = t - start;
      tI = len;
    }
    return etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  });
}

/** Options of {@link cyclicLR}. */
export interface CyclicLROptions {
  /** Lower bound of the cycle (PyTorch `base_lr`). Required, >= 0. */
  readonly baseLr: number;
  /** Upper bound of the cycle (PyTorch `max_lr`); the amplitude is `maxLr − baseLr`. Required, >= 0. */
  readonly maxLr: number;
  /** Steps in the rising half (PyTorch `step_size_up`). Default 2000; > 0. */
  readonly stepSizeUp?: number;
  /** Steps in the falling half. Default: `stepSizeUp`; > 0. */
  readonly stepSizeDown?: number;
  /** Amplitude policy. Default `'triangular'`; ignored when `scaleFn` is given. */
  readonly mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** Base of `'exp_range'` scaling, `gamma^t`. Default 1; > 0. */
  readonly gamma?: number;
  /** Custom amplitude scale, `0 <= scaleFn(x) <= 1`; replaces `mode`. */
  readonly scaleFn?: (x: number) => number;
  /** What `scaleFn` receives: the 1-based cycle number or the step count `t`. Default `'cycle'`. */
  readonly scaleMode?: 'cycle' | 'iterations';
  /**
   * Cycle the momentum inversely to the rate (PyTorch `cycle_momentum`), exposed as
   * `schedule.momentum(t)` and applied by `fit` to SGD/RMSProp `momentum` or Adam-family β1.
   * Default true, as PyTorch; `fit` refuses it with an optimizer that has no momentum.
   */
  readonly cycleMomentum?: boolean;
  /** Momentum at the rate's peak (PyTorch `base_momentum`). Default 0.8; in [0, 1). */
  readonly baseMomentum?: number;
  /** Momentum at the cycle's start, where the rate is `baseLr` (PyTorch `max_momentum`). Default 0.9; in [0, 1). */
  readonly maxMomentum?: number;
}

const MOMENTUM_KEYS = ['cycleMomentum', 'baseMomentum', 'maxMomentum'] as const;

/** The momentum-cycling options (PyTorch's defaults differ per scheduler), as a config fragment. */
function momenta(W: string, o: Record<string, unknown>, base: number, max: number) {
  const m = (k: string, d: number) => num(W, k, o[k], { default: d, ge: 0, lt: 1 });
  return { cycleMomentum: bool(W, 'cycleMomentum', o.cycleMomentum, true), baseMomentum: m('baseMomentum', base), maxMomentum: m('maxMomentum', max) };
}

/**
 * PyTorch `CyclicLR` (Smith, "Cyclical Learning Rates"), stepped once per batch. Unit: `'step'`.
 *
 * With `total = stepSizeUp + stepSizeDown`, `cycle = ⌊1 + t/total⌋`, `x = 1 + t/total − cycle`:
 * `h = x / r` if `x <= r` else `(x − 1)/(r − 1)` where `r = stepSizeUp/total`, and
 * `lr_t = baseLr + (maxLr − baseLr) · h · scale`, where scale is
 * `1` (`'triangular'`), `1 / 2^(cycle − 1)` (`'triangular2'`), `gamma^t` (`'exp_range'`), or
 * `scaleFn(cycle)` / `scaleFn(t)` per `scaleMode`. As in PyTorch, the built-in modes fix their own
 * scale mode ('cycle' for the triangular ones, 'iterations' for exp_range).
 *
 * Momentum cycling (default on, as PyTorch's `cycle_momentum=True`):
 * `momentum_t = maxMomentum − (maxMomentum − baseMomentum) · h · scale` — `maxMomentum` where the
 * rate is `baseLr`, `baseMomentum` at its peak. PyTorch overwrites the optimizer's momentum when
 * the scheduler is built, so the optimizer's own momentum (or β1) is ignored while the schedule
 * runs. PyTorch 1.13's CyclicLR refuses Adam (no `momentum` in its defaults); later releases cycle
 * β1 as OneCycleLR does, and so does wasmfit. Pass `cycleMomentum: false` to cycle the rate only.
 *
 * @example
 * const s = cyclicLR({ baseLr: 0.001, maxLr: 0.006, stepSizeUp: 2000, mode: 'triangular2' });
 */
export function cyclicLR(options: CyclicLROptions): Schedule {
  const W = 'cyclicLR';
  const o = checkOptions(W, options, ['baseLr', 'maxLr', 'stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'scaleFn', 'scaleMode', ...MOMENTUM_KEYS]);
  const baseLr = num(W, 'baseLr', o.baseLr, { ge: 0, fix: 'Pass baseLr >= 0, the lowest rate.' });
  const maxLr = num(W, 'maxLr', o.maxLr, { ge: 0, fix: 'Pass maxLr >= 0, the highest rate.' });
  const stepSizeUp = num(W, 'stepSizeUp', o.stepSizeUp, {
    default: 2000,
    gt: 0,
    fix: 'Pass stepSizeUp > 0 (batches in the rising half, e.g. 2000).',
  });
  const stepSizeDown = num(W, 'stepSizeDown', o.stepSizeDown, {
    default: stepSizeUp,
    gt: 0,
    fix: 'Pass stepSizeDown > 0, or omit it (= stepSizeUp).',
  });
  const scaleFn = o.scaleFn === undefined ? undefined : fn<(x: number) => number>(W, 'scaleFn', o.scaleFn);
  const mode =
    scaleFn === undefined
      ? oneOf(W, 'mode', o.mode, ['triangular', 'triangular2', 'exp_range'] as const, 'triangular')
      : o.mode === undefined
        ? undefined
        : oneOf(W, 'mode', o.mode, ['triangular', 'triangular2', 'exp_range'] as const);
  const gamma = num(W, 'gamma', o.gamma, { default: 1, gt: 0 });
  const userScaleMode = oneOf(W, 'scaleMode', o.scaleMode, ['cycle', 'iterations'] as const, 'cycle');
  const scaleMode = scaleFn !== undefined ? userScaleMode : mode === 'exp_range' ? 'iterations' : 'cycle';
  const mo = momenta(W, o, 0.8, 0.9);
  const { baseMomentum, maxMomentum } = mo;
  const total = stepSizeUp + stepSizeDown;
  const ratio = stepSizeUp / total;
  const scale = (cycle: number, t: number): number => {
    if (scaleFn !== undefined) {
      const x = scaleMode === 'cycle' ? cycle : t;
      return checkUserValue(W, 'scaleFn', x, scaleFn(x));
    }
    if (mode === 'triangular2') return 1 / 2 ** (cycle - 1);
    if (mode === 'exp_range') return gamma ** t;
    return 1;
  };
  const config = {
    baseLr,
    maxLr,
    stepSizeUp,
    stepSizeDown,
    mode: mode ?? null,
    gamma,
    scaleFn: scaleFn === undefined ? null : '<function>',
    scaleMode,
    ...mo,
  };
  // PyTorch's get_lr: the same h and scale for the rate and the momentum, base_height = (max − base)·h
  // then · scale, rounded as PyTorch rounds it
  const at = (t: number, m?: boolean): number => {
    const cycle = Math.floor(1 + t / total);
    const x = 1 + t / total - cycle;
    const h = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    const sc = scale(cycle, t);
    return m ? maxMomentum - (maxMomentum - baseMomentum) * h * sc : baseLr + (maxLr - baseLr) * h * sc;
  };
  return makeSchedule(W, 'step', baseLr, config, at, mo.cycleMomentum ? (t) => at(t, true) : undefined);
}

/** Options of {@link oneCycleLR}. Give `totalSteps`, or both `epochs` and `stepsPerEpoch`. */
export interface OneCycleLROptions {
  /** Peak learning rate (PyTorch `max_lr`). Required, > 0. */
  readonly maxLr: number;
  /** Steps in the whole cycle. Integer >= 1; takes precedence over `epochs · stepsPerEpoch`. */
  readonly totalSteps?: number;
  /** With `stepsPerEpoch`, gives `totalSteps = epochs · stepsPerEpoch`. Integer >= 1. */
  readonly epochs?: number;
  /** Batches per epoch. Integer >= 1. */
  readonly stepsPerEpoch?: number;
  /** Fraction of the cycle spent rising. Default 0.3; in [0, 1]. */
  readonly pctStart?: number;
  /** Interpolation between phase end points. Default `'cos'`. */
  readonly annealStrategy?: 'cos' | 'linear';
  /** `initialLr = maxLr / divFactor`. Default 25; > 0. */
  readonly divFactor?: number;
  /** `minLr = initialLr / finalDivFactor`. Default 1e4; > 0. */
  readonly finalDivFactor?: number;
  /** Use the paper's three phases (up, back down to initialLr, then to minLr). Default false. */
  readonly threePhase?: boolean;
  /**
   * Cycle the momentum inversely to the rate (PyTorch `cycle_momentum`), exposed as
   * `schedule.momentum(t)` and applied by `fit` to SGD/RMSProp `momentum` or Adam-family β1.
   * Default true, as PyTorch; `fit` refuses it with an optimizer that has no momentum.
   */
  readonly cycleMomentum?: boolean;
  /** Momentum at the rate's peak (PyTorch `base_momentum`). Default 0.85; in [0, 1). */
  readonly baseMomentum?: number;
  /** Momentum at the start and the end, where the rate is lowest (PyTorch `max_momentum`). Default 0.95; in [0, 1). */
  readonly maxMomentum?: number;
}

/**
 * PyTorch `OneCycleLR` (Smith & Topin, super-convergence), stepped once per batch. Unit: `'step'`.
 *
 * `initialLr = maxLr/divFactor`, `minLr = initialLr/finalDivFactor`, `T = totalSteps`, `p = pctStart`.
 * Two phases (default): initialLr → maxLr over steps `[0, pT − 1]`, then maxLr → minLr up to `T − 1`.
 * Three phases: initialLr → maxLr up to `pT − 1`, maxLr → initialLr up to `2pT − 2`, initialLr → minLr
 * up to `T − 1`. Within a phase from step `a` to `b`, `pct = (t − a)/(b − a)` and the rate is
 * `end + (start − end)(1 + cos(π·pct))/2` (`'cos'`) or `start + (end − start)·pct` (`'linear'`).
 * `base` is `initialLr`.
 *
 * Momentum cycling (default on, as PyTorch's `cycle_momentum=True`): the same interpolation, over
 * the same phases, from `maxMomentum` to `baseMomentum` and back (three phases: down, up, then
 * flat at `maxMomentum`). PyTorch sets the optimizer's momentum (Adam: β1) to `maxMomentum` when
 * the scheduler is built, so the optimizer's own value is ignored while the schedule runs. Pass
 * `cycleMomentum: false` to cycle the rate only.
 *
 * Like PyTorch, `t` may go up to `totalSteps` (the last phase extrapolated one step — with
 * `'linear'` that lands below `minLr` and can be negative, as in PyTorch) and larger `t` throws an
 * OptionError naming `t`. Settings that make PyTorch divide by zero (a first or last phase of
 * zero length, e.g. `pctStart·totalSteps = 1`) are refused when the schedule is built.
 *
 * @example
 * const s = oneCycleLR({ maxLr: 0.01, epochs: 10, stepsPerEpoch: 469 });
 */
export function oneCycleLR(options: OneCycleLROptions): Schedule {
  const W = 'oneCycleLR';
  const o = checkOptions(W, options, [
    'maxLr',
    'totalSteps',
    'epochs',
    'stepsPerEpoch',
    'pctStart',
    'annealStrategy',
    'divFactor',
    'finalDivFactor',
    'threePhase',
    ...MOMENTUM_KEYS,
  ]);
  const maxLr = num(W, 'maxLr', o.maxLr, { gt: 0, fix: 'Pass maxLr > 0, the peak rate.' });
  let totalSteps: number;
  if (o.totalSteps !== undefined) {
    totalSteps = num(W, 'totalSteps', o.totalSteps, { integer: true, ge: 1 });
  } else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
    const epochs = num(W, 'epochs', o.epochs, { integer: true, ge: 1 });
    const spe = num(W, 'stepsPerEpoch', o.stepsPerEpoch, { integer: true, ge: 1 });
    totalSteps = epochs * spe;
  } else {
    throw new OptionError(
      'totalSteps',
      `${W}: totalSteps is missing (epochs = ${String(o.epochs)}, stepsPerEpoch = ${String(o.stepsPerEpoch)}); pass totalSteps, or both epochs and stepsPerEpoch.`,
    );
  }
  const pctStart = num(W, 'pctStart', o.pctStart, { default: 0.3, ge: 0, le: 1 });
  const annealStrategy = oneOf(W, 'annealStrategy', o.annealStrategy, ['cos', 'linear'] as const, 'cos');
  const divFactor = num(W, 'divFactor', o.divFactor, { default: 25, gt: 0 });
  const finalDivFactor = num(W, 'finalDivFactor', o.finalDivFactor, { default: 1e4, gt: 0 });
  const threePhase = bool(W, 'threePhase', o.threePhase, false);
  const mo = momenta(W, o, 0.85, 0.95);
  const initialLr = maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
  const T = totalSteps;
  const { baseMomentum: bm, maxMomentum: mm } = mo;
  // PyTorch's _schedule_phases: phase i ends at ends[i] and goes from lrs[i] to lrs[i + 1] (the
  // momentum from ms[i] to ms[i + 1])
  const ends = threePhase ? [pctStart * T - 1, 2 * pctStart * T - 2, T - 1] : [pctStart * T - 1, T - 1];
  const lrs = threePhase ? [initialLr, maxLr, initialLr, minLr] : [initialLr, maxLr, minLr];
  const ms = threePhase ? [mm, bm, mm, mm] : [mm, bm, mm];
  const n = ends.length;
  if (ends[0] === 0 || ends[n - 1]! - ends[n - 2]! === 0) {
    fail(
      W,
      'pctStart',
      pctStart,
      `one giving every phase a non-zero length (pctStart·totalSteps = ${pctStart * T})`,
      'Change pctStart or totalSteps: PyTorch divides by zero here.',
    );
  }
  const anneal =
    annealStrategy === 'cos'
      ? (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (a: number, b: number, pct: number) => (b - a) * pct + a;
  const config = { maxLr, totalSteps, pctStart, annealStrategy, divFactor, finalDivFactor, threePhase, ...mo };
  // PyTorch's get_lr: the first phase whose end is >= t (else the last), pct within it
  const at = (t: number, v: number[]): number => {
    if (t > T) {
      throw new OptionError(
        't',
        `${W}: t = ${t}; expected t <= totalSteps = ${T}, as PyTorch. Use a larger totalSteps, or sequentialLR.`,
      );
    }
    let start = 0;
    let i = 0;
    while (i < n - 1 && t > ends[i]!) start = ends[i++]!;
    return anneal(v[i]!, v[i + 1]!, (t - start) / (ends[i]! - start));
  };
  return makeSchedule(W, 'step', initialLr, config, (t) => at(t, lrs), mo.cycleMomentum ? (t) => at(t, ms) : undefined);
}

/** Options of {@link linearLR}. */
export interface LinearLROptions {
  /** Base learning rate. Required, >= 0. */
  readonly lr: number;
  /** Factor at t = 0. Default 1/3; in (0, 1] (PyTorch's bounds). */
  readonly startFactor?: number;
  /** Factor from `totalIters` on. Default 1; in [0, 1]. */
  readonly endFactor?: number;
  /** Epochs of the linear change. Default 5; integer >= 1. */
  readonly totalIters?: number;
}

/**
 * PyTorch `LinearLR`: `lr_t = lr · (startFactor + (endFactor − startFactor) · min(t, totalIters)/totalIters)`.
 * Unit: `'epoch'`. Often used as a warm-up; see also {@link warmup}.
 *
 * @example
 * const s = linearLR({ lr: 0.05, startFactor: 0.5, totalIters: 4 }); // 0.025, 0.03125, 0.0375, 0.04375, 0.05, …
 */
export function linearLR(options: LinearLROptions): Schedule {
  const W = 'linearLR';
  const o = checkOptions(W, options, ['lr', 'startFactor', 'endFactor', 'totalIters']);
  const lr = num(W, 'lr', o.lr, LR);
  const startFactor = num(W, 'startFactor', o.startFactor, { default: 1 / 3, gt: 0, le: 1 });
  const endFactor = num(W, 'endFactor', o.endFactor, { default: 1, ge: 0, le: 1 });
  const totalIters = num(W, 'totalIters', o.totalIters, { default: 5, integer: true, ge: 1 });
  return makeSchedule(
    W,
    'epoch',
    lr,
    { lr, startFactor, endFactor, totalIters },
    (t) => lr * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, t)) / totalIters),
  );
}

/** Options of {@link polynomialLR}. */
export interface PolynomialLROptions {
  /** Base learning rate. Required, >= 0. */
  readonly lr: number;
  /** Epochs until the rate reaches 0. Default 5; integer >= 1. */
  readonly totalIters?: number;
  /** Power of the polynomial. Default 1; >= 0. */
  readonly power?: number;
}

/**
 * PyTorch `PolynomialLR`: `lr_t = lr · (1 − min(t, totalIters)/totalIters)^power` — 0 from
 * `totalIters` on. Unit: `'epoch'`. (Keras {@link polynomialDecay} ends at `endLearningRate`.)
 *
 * @example
 * const s = polynomialLR({ lr: 0.05, totalIters: 50, power: 0.9 });
 */
export function polynomialLR(options: PolynomialLROptions): Schedule {
  const W = 'polynomialLR';
  const o = checkOptions(W, options, ['lr', 'totalIters', 'power']);
  const lr = num(W, 'lr', o.lr, LR);
  const totalIters = num(W, 'totalIters', o.totalIters, { default: 5, integer: true, ge: 1 });
  const power = num(W, 'power', o.power, { default: 1, ge: 0 });
  return makeSchedule(W, 'epoch', lr, { lr, totalIters, power }, (t) => lr * (1 - Math.min(totalIters, t) / totalIters) ** power);
}

/** Options of {@link constantLR}. */
export interface ConstantLROptions {
  /** Base learning rate. Required, >= 0. */
  readonly lr: number;
  /** Factor applied before `totalIters`. Default 1/3; in [0, 1]. */
  readonly factor?: number;
  /** Epochs at the reduced rate. Default 5; integer >= 0. */
  readonly totalIters?: number;
}

/**
 * PyTorch `ConstantLR`: `lr_t = lr · factor` for `t < totalIters`, else `lr`. Unit: `'epoch'`.
 *
 * @example
 * const s = constantLR({ lr: 0.05, factor: 0.5, totalIters: 4 }); // 0.025 ×4, then 0.05
 */
export function constantLR(options: ConstantLROptions): Schedule {
  const W = 'constantLR';
  const o = checkOptions(W, options, ['lr', 'factor', 'totalIters']);
  const lr = num(W, 'lr', o.lr, LR);
  const factor = num(W, 'factor', o.factor, { default: 1 / 3, ge: 0, le: 1 });
  const totalIters = num(W, 'totalIters', o.totalIters, { default: 5, integer: true, ge: 0 });
  return makeSchedule(W, 'epoch', lr, { lr, factor, totalIters }, (t) => lr * (t >= totalIters ? 1 : factor));
}

/** Options of {@link lambdaLR}. */
export interface LambdaLROptions {
  /** Base learning rate. Required, >= 0. */
  readonly lr: number;
  /** Multiplicative factor as a function of `t`; must return a finite number. */
  readonly lrLambda: (t: number) => number;
}

/**
 * PyTorch `LambdaLR`: `lr_t = lr · lrLambda(t)`. Unit: `'epoch'`. `toJSON()` records the function
 * as `'<function>'`; such a schedule cannot be revived from JSON.
 *
 * @example
 * const s = lambdaLR({ lr: 0.1, lrLambda: (t) => 0.95 ** t });
 */
export function lambdaLR(options: LambdaLROptions): Schedule {
  const W = 'lambdaLR';
  const o = checkOptions(W, options, ['lr', 'lrLambda']);
  const lr = num(W, 'lr', o.lr, LR);
  const lrLambda = fn<(t: number) => number>(W, 'lrLambda', o.lrLambda);
  return makeSchedule(W, 'epoch', lr, { lr, lrLambda: '<function>' }, (t) => lr * checkUserValue(W, 'lrLambda', t, lrLambda(t)));
}
