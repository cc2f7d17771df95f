/**
 * Full-batch second-order optimizers: L-BFGS (PyTorch `torch.optim.LBFGS`) and nonlinear
 * conjugate gradient (Polak–Ribière+). Both run their vector operations in WASM
 * (crates/kernels/src/vec.rs) and work two ways:
 *
 * - with a model: `model.compile({ optimizer: lbfgs({ lineSearch: 'strongWolfe' }), loss })` then
 *   `await model.fit(x, y, { batchSize: rows, epochs: k })` — every batch is one PyTorch
 *   `optimizer.step(closure)` (up to `maxIter` iterations on that batch), so with
 *   `batchSize = rows` each epoch is one full-batch step. The objective is the batch's mean loss
 *   plus the layers' L1/L2 penalties (`l1·Σ|w| + l2·Σw²`); the logged `loss` is the data loss at
 *   the start of each step, as for the first-order optimizers. Layers with dropout or batch
 *   normalization are refused (the line search needs a deterministic objective);
 * - standalone, on your own function: `lbfgs(...).minimize((p) => ({ loss, grad }), x0)`, or
 *   `const run = lbfgs(...).init(x0); run.step(f); …; run.dispose()` to keep the state across steps.
 */
import { OptionError } from '../errors/index.js';
import { type MinimizeResult, Minimizer, minimizeOnce, type ObjectiveFn } from './minimize.js';
import type { EngineSettings, EngineState } from './second-order.js';
import { checkOptions } from '../errors/validate.js';

export type { LossAndGrad, MinimizeResult, ObjectiveFn } from './minimize.js';
export { Minimizer } from './minimize.js';
export type { EngineState as SecondOrderState, StopReason } from './second-order.js';

/** Methods shared by {@link LbfgsConfig} and {@link CgConfig}. */
interface FullBatchBase {
  /**
   * Minimizes `f` from `x0` with one PyTorch-style `step` (up to `maxIter` iterations); needs
   * `await init()` first. `f` receives a copy of the trial parameters and returns
   * `{ loss, grad }` (grad: one value per parameter). Throws {@link OptionError} /
   * {@link ShapeError} when `f` returns something else.
   */
  minimize(f: ObjectiveFn, x0: Float32Array | readonly number[]): MinimizeResult;
  /**
   * A {@link Minimizer} whose state persists across `step(f)` calls (dispose it when done); with
   * `state` (from `getState()`) it continues a saved run.
   */
  init(x0: Float32Array | readonly number[], state?: EngineState): Minimizer;
  readonly lr: number;
  readonly maxIter: number;
  readonly maxEval: number;
  readonly tolGrad: number;
  readonly tolChange: number;
}

/** `torch.optim.LBFGS` settings (see {@link lbfgs}). */
export interface LbfgsConfig extends FullBatchBase {
  readonly type: 'lbfgs';
  readonly historySize: number;
  readonly lineSearch: 'strongWolfe' | null;
}

/** Nonlinear conjugate gradient settings (see {@link cg}). */
export interface CgConfig extends FullBatchBase {
  readonly type: 'cg';
  readonly restartEvery: number;
  readonly lineSearch: 'strongWolfe';
  readonly c2: number;
}

/** A full-batch optimizer config for `compile`. */
export type SecondOrderConfig = LbfgsConfig | CgConfig;

/** Options of {@link lbfgs} (PyTorch's names in camelCase, PyTorch's defaults). */
export interface LbfgsOptions {
  /** Step length (PyTorch `lr`), default 1. */
  lr?: number;
  /** Iterations per step (`max_iter`), default 20. */
  maxIter?: number;
  /** Objective evaluations per step (`max_eval`), default `floor(maxIter · 5 / 4)`. */
  maxEval?: number;
  /** Stop when `max|g| <= tolGrad` (`tolerance_grad`), default 1e-7. */
  tolGrad?: number;
  /** Stop when the loss or the parameters change by less (`tolerance_change`), default 1e-9. */
  tolChange?: number;
  /** Curvature pairs kept (`history_size`), default 100. */
  historySize?: number;
  /** `'strongWolfe'` (PyTorch `'strong_wolfe'`) or `null` for fixed steps of `lr` (default null, as PyTorch). */
  lineSearch?: 'strongWolfe' | null;
}

/** Options of {@link cg}. */
export interface CgOptions {
  /** Scale of the first trial step `min(1, 1/‖g‖₁)·lr`, default 1. */
  lr?: number;
  /** Iterations per step, default 20. */
  maxIter?: number;
  /** Objective evaluations per step, default `3 · maxIter` (CG's line search usually needs 1–3 evaluations per iteration). */
  maxEval?: number;
  /** Stop when `max|g| <= tolGrad`, default 1e-7. */
  tolGrad?: number;
  /** Stop when the loss or the parameters change by less, default 1e-9. */
  tolChange?: number;
  /** Restart to steepest descent every this many iterations; default 0 = the number of parameters. */
  restartEvery?: number;
  /** Only `'strongWolfe'` (CG needs a line search). */
  lineSearch?: 'strongWolfe';
  /** Curvature constant of the strong Wolfe conditions, in (c1 = 1e-4, 1); default 0.1 (Nocedal & Wright's choice for CG). */
  c2?: number;
}

type Opts = Record<string, unknown>;

function keys(where: string, o: unknown, known: string[]): Opts {
  if (typeof o !== 'object' || o === null) throw new OptionError('options', `${where}: options must be an object.`);
  return checkOptions(where, o, known);
}

function pos(where: string, o: Opts, name: string, def: number, opts: { integer?: boolean; allowZero?: boolean; max?: number } = {}): number {
  const v = o[name] ?? def;
  const ok = typeof v === 'number' && Number.isFinite(v) && (opts.allowZero ? v >= 0 : v > 0) && (!opts.integer || Number.isInteger(v)) && (opts.max === undefined || v < opts.max);
  if (!ok) {
    const what = `${opts.integer ? 'an integer' : 'a finite number'} ${opts.allowZero ? '>= 0' : '> 0'}${opts.max !== undefined ? ` and < ${opts.max}` : ''}`;
    throw new OptionError(name, `${where}: ${name} = ${String(v)}; expected ${what}.`);
  }
  return v as number;
}

function common(where: string, o: Opts, evalsPerIter: number): Omit<EngineSettings, 'method' | 'historySize' | 'lineSearch' | 'restartEvery' | 'c1' | 'c2'> {
  const lr = pos(where, o, 'lr', 1);
  const maxIter = pos(where, o, 'maxIter', 20, { integer: true });
  const maxEval = pos(where, o, 'maxEval', Math.floor(maxIter * evalsPerIter), { integer: true });
  return { lr, maxIter, maxEval, tolGrad: pos(where, o, 'tolGrad', 1e-7, { allowZero: true }), tolChange: pos(where, o, 'tolChange', 1e-9, { allowZero: true }) };
}

function attach<T extends SecondOrderConfig>(cfg: Omit<T, 'minimize' | 'init'>, settings: EngineSettings): T {
  const where = cfg.type;
  Object.defineProperties(cfg, {
    minimize: { value: (f: ObjectiveFn, x0: Float32Array | readonly number[]) => minimizeOnce(settings, f, x0, `${where}.minimize`), enumerable: false },
    init: { value: (x0: Float32Array | readonly number[], state?: EngineState) => new Minimizer(settings, x0, `${where}.init`, state), enumerable: false },
  });
  return Object.freeze(cfg) as T;
}

/**
 * L-BFGS with the semantics of PyTorch's `torch.optim.LBFGS` (torch/optim/lbfgs.py): each step
 * evaluates the loss, stops at once if `max|g| <= tolGrad`, else iterates up to `maxIter` times:
 * direction by the two-loop recursion over the last `historySize` pairs `(s, y)` (a pair is kept
 * only when `yᵀs > 1e-10`; initial Hessian `H = yᵀs / yᵀy`); step `t = min(1, 1/‖g‖₁)·lr` on the very
 * first iteration and `lr` after; with `lineSearch: 'strongWolfe'` the step comes from PyTorch's
 * `_strong_wolfe` (c1 = 1e-4, c2 = 0.9, at most 25 evaluations, cubic interpolation); the loop ends
 * on `gᵀd > −tolChange`, `maxIter`, `maxEval`, `max|g| <= tolGrad`, `max|t·d| <= tolChange` or
 * `|Δloss| < tolChange`. State (history, direction, step) persists across steps.
 * Divergences: dot products accumulate in f64; a non-finite loss is handled (see engine docs).
 *
 * @example
 * ```ts
 * model.compile({ optimizer: lbfgs({ lineSearch: 'strongWolfe', maxIter: 50 }), loss: 'binaryCrossentropy' });
 * await model.fit(x, y, { batchSize: rows, epochs: 3 });        // 3 full-batch steps
 * const r = lbfgs({ lineSearch: 'strongWolfe', maxIter: 100 }).minimize((p) => ({ loss, grad }), x0);
 * ```
 */
export function lbfgs(options: LbfgsOptions = {}): LbfgsConfig {
  const W = 'lbfgs';
  const o = keys(W, options, ['lr', 'maxIter', 'maxEval', 'tolGrad', 'tolChange', 'historySize', 'lineSearch']);
  const base = common(W, o, 5 / 4);
  const historySize = pos(W, o, 'historySize', 100, { integer: true });
  const ls = o.lineSearch ?? null;
  if (ls !== null && ls !== 'strongWolfe') throw new OptionError('lineSearch', `${W}: lineSearch = ${JSON.stringify(ls)}; expected 'strongWolfe' or null (PyTorch supports only 'strong_wolfe').`);
  const settings: EngineSettings = { method: 'lbfgs', ...base, historySize, lineSearch: ls, restartEvery: 0, c1: 1e-4, c2: 0.9 };
  return attach<LbfgsConfig>({ type: 'lbfgs', ...base, historySize, lineSearch: ls }, settings);
}

/**
 * Nonlinear conjugate gradient, Polak–Ribière+ (Nocedal & Wright §5.2):
 * `d_0 = −g_0`; `β = max(0, gᵀ(g − g_prev) / ‖g_prev‖²)`, `d = −g + β·d`, restarted to `−g` every
 * `restartEvery` iterations (default: the number of parameters) and whenever `gᵀd >= 0`; step from
 * the strong-Wolfe line search of {@link lbfgs} with c1 = 1e-4 and `c2` (default 0.1), first trial
 * `min(1, 1/‖g‖₁)·lr`, later `t_prev·(gᵀd)_prev / (gᵀd)`. Same step structure, stopping rules and
 * model integration as {@link lbfgs}. On a strictly convex quadratic the line search is exact
 * (cubic interpolation of a quadratic), so CG converges in at most n iterations in exact arithmetic.
 *
 * @example
 * const r = cg({ maxIter: 200 }).minimize((p) => ({ loss: f(p), grad: grad(p) }), x0);
 */
export function cg(options: CgOptions = {}): CgConfig {
  const W = 'cg';
  const o = keys(W, options, ['lr', 'maxIter', 'maxEval', 'tolGrad', 'tolChange', 'restartEvery', 'lineSearch', 'c2']);
  const base = common(W, o, 3);
  const restartEvery = pos(W, o, 'restartEvery', 0, { integer: true, allowZero: true });
  const ls = o.lineSearch === undefined ? 'strongWolfe' : o.lineSearch;
  if (ls !== 'strongWolfe') throw new OptionError('lineSearch', `${W}: lineSearch = ${JSON.stringify(ls)}; conjugate gradient needs 'strongWolfe'.`);
  const c2 = pos(W, o, 'c2', 0.1, { max: 1 });
  if (c2 <= 1e-4) throw new OptionError('c2', `${W}: c2 = ${c2}; expected c1 = 1e-4 < c2 < 1 (0.1 is usual for CG).`);
  const settings: EngineSettings = { method: 'cg', ...base, historySize: 0, lineSearch: 'strongWolfe', restartEvery, c1: 1e-4, c2 };
  return attach<CgConfig>({ type: 'cg', ...base, restartEvery, lineSearch: 'strongWolfe', c2 }, settings);
}

/** True for an {@link lbfgs} / {@link cg} config. @internal */
export function isSecondOrder(o: unknown): o is SecondOrderConfig {
  return typeof o === 'object' && o !== null && ((o as { type?: unknown }).type === 'lbfgs' || (o as { type?: unknown }).type === 'cg');
}

/** Re-validates a second-order config (e.g. revived from JSON) into engine settings. @internal */
export function secondOrderSettings(o: SecondOrderConfig): EngineSettings {
  const { type, ...rest } = o as unknown as { type: string } & Record<string, unknown>;
  const c = type === 'lbfgs' ? lbfgs(rest as LbfgsOptions) : cg(rest as CgOptions);
  if (c.type === 'lbfgs') return { method: 'lbfgs', lr: c.lr, maxIter: c.maxIter, maxEval: c.maxEval, tolGrad: c.tolGrad, tolChange: c.tolChange, historySize: c.historySize, lineSearch: c.lineSearch, restartEvery: 0, c1: 1e-4, c2: 0.9 };
  return { method: 'cg', lr: c.lr, maxIter: c.maxIter, maxEval: c.maxEval, tolGrad: c.tolGrad, tolChange: c.tolChange, historySize: 0, lineSearch: 'strongWolfe', restartEvery: c.restartEvery, c1: 1e-4, c2: c.c2 };
}
