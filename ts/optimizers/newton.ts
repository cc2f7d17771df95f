/**
 * `wasmfit/newton`: the dense second-order methods — exact Newton with Levenberg–Marquardt damping
 * ({@link newton}), truncated Newton ({@link newtonCG}, scipy's `'Newton-CG'`) and dense BFGS
 * ({@link bfgs}, scipy's `'BFGS'`). Their linear algebra is float64 TypeScript, so they live in an
 * entry of their own (the browser entry does not carry them). Two ways to use them, as
 * {@link lbfgs} / {@link cg}:
 *
 * - with a model: `model.compile({ optimizer: newton(), loss })`, then
 *   `await model.fit(x, y, { batchSize: rows, epochs: k })`: every batch is one run of up to
 *   `maxIter` iterations on that batch's objective (mean loss plus the layers' L1/L2 penalties);
 *   dropout, batch-norm and noise layers are refused, as for L-BFGS;
 * - standalone, on your own float64 function: `bfgs().minimize((p) => ({ loss, grad }), x0)` or
 *   `const run = newton().init(x0); run.step(f); …` (state kept across steps).
 */
import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';
import { checkOptions } from '../errors/validate.js';
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';
import type { LossAndGrad } from './minimize.js';
import type { EngineState, FlatObjective, StepReport } from './second-order.js';
import { registerDenseOptimizer, type DenseEngine, type DenseOptimizerConfig } from './dense-registry.js';
import { type DenseReport, type DenseStopReason, type IterHook, type NewtonState, type Objective64, runBfgs, runNewton, runNewtonCg } from './dense.js';

export type { DenseStopReason } from './dense.js';
export type { LossAndGrad } from './minimize.js';

/** A float64 objective: called with a copy of the trial parameters. */
export type DenseObjectiveFn = (params: Float64Array) => LossAndGrad;

/** Options of `minimize` / `step`. */
export interface DenseMinimizeOptions {
  /**
   * The exact Hessian-vector product `H(params)·v` (scipy's `hessp`). Without it, `newton` and
   * `newtonCG` use central differences of the gradient (two evaluations per product).
   */
  hessp?: (params: Float64Array, v: Float64Array) => ArrayLike<number>;
  /** Called after every iteration (scipy's `callback`) with a copy of the new point, its loss and gradient norm. */
  callback?: (info: { x: Float64Array; loss: number; gradNorm: number; iteration: number }) => void;
}

/** What `minimize` and {@link DenseMinimizer.step} report. */
export interface DenseResult {
  /** The final parameters (a copy). */
  x: Float64Array;
  /** Loss at `x`. */
  loss: number;
  /** Loss at the starting point. */
  initialLoss: number;
  /** Iterations (accepted steps; newton: Hessians computed). */
  iterations: number;
  /** Objective (loss + gradient) evaluations, those spent on finite-difference Hessians included. */
  evaluations: number;
  /** Hessians (newton) or Hessian-vector products (newtonCG) computed; 0 for bfgs. */
  hessianEvaluations: number;
  /** Norm of the gradient at `x` (bfgs: its `norm`; newton / newtonCG: the ∞-norm). */
  gradNorm: number;
  /**
   * Why it stopped: `'tolGrad'` (gradient norm <= gtol), `'tolChange'` (step below the method's
   * tolerance; newtonCG's normal exit), `'maxIter'`, `'maxEval'`, `'nonFinite'`, `'lineSearch'`
   * (no acceptable step: scipy's "precision loss"), `'cgNotConverged'` (newtonCG).
   */
  reason: DenseStopReason;
}

/** The state a {@link DenseMinimizer} keeps between steps (plain data; JSON-able). */
export interface DenseState {
  method: 'newton' | 'newtonCG' | 'bfgs';
  size: number;
  /** Iterations over all steps. */
  nIter: number;
  /** Objective evaluations over all steps. */
  funcEvals: number;
  /** newton: the damping μ and its growth factor ν carried to the next step (others: 0 and 2). */
  mu: number;
  nu: number;
}

interface DenseBase {
  /** Minimizes `f` from `x0` (one run); `f` gets a copy of the trial point and returns `{ loss, grad }`. */
  minimize(f: DenseObjectiveFn, x0: ArrayLike<number>, options?: DenseMinimizeOptions): DenseResult;
  /** A {@link DenseMinimizer} that keeps its state across `step(f)` calls; with `state` (from `getState()`) it continues a saved run. */
  init(x0: ArrayLike<number>, state?: DenseState): DenseMinimizer;
  /** Objective evaluations per run (Infinity = no limit). */
  readonly maxEval: number;
}

/** {@link newton} settings. */
export interface NewtonConfig extends DenseBase {
  readonly type: 'newton';
  readonly gtol: number;
  readonly maxIter: number;
  readonly tolChange: number;
  readonly maxParams: number;
  readonly tau: number;
  readonly maxTrials: number;
}

/** {@link newtonCG} settings. */
export interface NewtonCgConfig extends DenseBase {
  readonly type: 'newtonCG';
  readonly xtol: number;
  readonly gtol: number;
  readonly maxIter: number | null;
  readonly cgMaxIter: number | null;
}

/** {@link bfgs} settings. */
export interface BfgsConfig extends DenseBase {
  readonly type: 'bfgs';
  readonly gtol: number;
  readonly norm: number;
  readonly maxIter: number | null;
  readonly xrtol: number;
  readonly scaleInitial: boolean;
}

/** A dense second-order config for `compile` or standalone use. */
export type DenseSecondOrderConfig = NewtonConfig | NewtonCgConfig | BfgsConfig;

/** Options of {@link newton}. */
export interface NewtonOptions {
  /** Stop when `max|g| <= gtol`; default 1e-5 (scipy's BFGS default). */
  gtol?: number;
  /** Newton iterations (Hessians) per run, default 100. */
  maxIter?: number;
  /** Objective evaluations per run, default Infinity. */
  maxEval?: number;
  /** Stop after an accepted step with `max|p| <= tolChange`; default 1e-9. */
  tolChange?: number;
  /** Refuse problems with more parameters (the Hessian takes n² floats and O(n³) to factor); default 3000. */
  maxParams?: number;
  /** First damping, relative to max|diag H|, when the pure Newton step fails (Nielsen's τ); default 1e-3. */
  tau?: number;
  /** Rejected trial steps in a row before the run stops (`'lineSearch'`); default 30. */
  maxTrials?: number;
}

/** Options of {@link newtonCG} (scipy's `minimize(method='Newton-CG')` names). */
export interface NewtonCgOptions {
  /** Stop when the ℓ1 norm of the step is <= n·xtol (scipy `xtol`, the average per parameter); default 1e-5. */
  xtol?: number;
  /** Also stop when `max|g| <= gtol` (not in scipy); default 0 (off). */
  gtol?: number;
  /** Iterations per run (scipy `maxiter`); default null = 200·n. */
  maxIter?: number | null;
  /** CG iterations per Newton iteration; default null = 20·n (scipy's fixed value). */
  cgMaxIter?: number | null;
  /** Objective evaluations per run, default Infinity. */
  maxEval?: number;
}

/** Options of {@link bfgs} (scipy's `minimize(method='BFGS')` names). */
export interface BfgsOptions {
  /** Stop when `vecnorm(g, norm) <= gtol`; default 1e-5. */
  gtol?: number;
  /** Order of that norm (scipy `norm`): Infinity (default) = max|g|, −Infinity = min|g|, else (Σ|g|^norm)^(1/norm). */
  norm?: number;
  /** Iterations per run (scipy `maxiter`); default null = 200·n. */
  maxIter?: number | null;
  /** Stop when `α·‖p‖ <= xrtol·(xrtol + ‖x‖)` (scipy `xrtol`); default 0. */
  xrtol?: number;
  /** Objective evaluations per run, default Infinity (scipy has no such limit). */
  maxEval?: number;
  /**
   * Scale `H₀ = I` to `(yᵀs / yᵀy)·I` before the first update (Nocedal & Wright eq. 6.20, what
   * L-BFGS does at every step); default false, as scipy. Helps when the Hessian's scale is far from 1.
   */
  scaleInitial?: boolean;
}

// ---------------------------------------------------------------- validation

type Opts = Record<string, unknown>;

function num(where: string, o: Opts, name: string, def: number, rule: { integer?: boolean; allowZero?: boolean; allowInf?: boolean; nullable?: boolean } = {}): number {
  const v = o[name] === undefined ? def : o[name];
  if (rule.nullable && (v === null || (o[name] === undefined && Number.isNaN(def)))) return NaN;
  const ok =
    typeof v === 'number' &&
    !Number.isNaN(v) &&
    (Number.isFinite(v) || (rule.allowInf === true && v === Infinity)) &&
    (rule.allowZero ? v >= 0 : v > 0) &&
    (!rule.integer || Number.isInteger(v) || v === Infinity);
  if (!ok) {
    const what = `${rule.integer ? 'an integer' : 'a number'} ${rule.allowZero ? '>= 0' : '> 0'}${rule.allowInf ? ' (or Infinity)' : ''}${rule.nullable ? ' or null' : ''}`;
    throw new OptionError(name, `${where}: ${name} = ${String(v)}; expected ${what}.`);
  }
  return v as number;
}

function opts(where: string, options: unknown, known: string[]): Opts {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new OptionError('options', `${where}: options must be an object such as { ${known[0]}: … }.`);
  return checkOptions(where, options, known);
}

const nullIfNaN = (v: number): number | null => (Number.isNaN(v) ? null : v);

// ---------------------------------------------------------------- objectives

function toF64(where: string, x0: ArrayLike<number>, what: string): Float64Array {
  if (!x0 || typeof (x0 as ArrayLike<number>).length !== 'number' || x0.length === 0 || typeof x0 === 'string') throw new ShapeError(`${where}: ${what} must be a non-empty Float64Array, Float32Array or number[].`);
  const x = new Float64Array(x0.length);
  for (let i = 0; i < x0.length; i++) {
    const v = x0[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new NonFiniteError(`${where}: ${what}[${i}] = ${String(v)}; the values must be finite numbers.`);
    x[i] = v;
  }
  return x;
}

/** A user's float64 function as an {@link Objective64}, validating what it returns. */
class UserObjective64 implements Objective64 {
  readonly eps = 2 ** -52;
  hvp?: (x: Float64Array, v: Float64Array, out: Float64Array) => void;
  constructor(readonly size: number, private readonly f: DenseObjectiveFn, private readonly where: string, hessp?: DenseMinimizeOptions['hessp']) {
    if (hessp !== undefined) {
      this.hvp = (x, v, out) => {
        const r = hessp(Float64Array.from(x), Float64Array.from(v));
        if (!r || typeof r.length !== 'number' || r.length !== size) throw new ShapeError(`${where}: hessp returned ${r?.length} values; expected ${size} (one per parameter).`);
        for (let i = 0; i < size; i++) out[i] = r[i]!;
      };
    }
  }
  round(v: number): number {
    return v;
  }
  evaluate(x: Float64Array, g: Float64Array): number {
    const r = this.f(Float64Array.from(x));
    if (!r || typeof r !== 'object' || typeof r.loss !== 'number') throw new OptionError('f', `${this.where}: the objective returned ${typeof r === 'object' ? JSON.stringify(r) : String(r)}; it must return { loss: number, grad: Float64Array }.`);
    const gr = r.grad as ArrayLike<number> | undefined;
    if (!gr || typeof gr.length !== 'number' || gr.length !== this.size) throw new ShapeError(`${this.where}: the objective returned a gradient of length ${gr?.length}; expected ${this.size} (one value per parameter).`);
    for (let i = 0; i < this.size; i++) g[i] = gr[i]!;
    return r.loss;
  }
}

/** A model's float32 flat objective (WASM) seen as float64. */
/** @internal (exported for tests) */
export class ModelObjective64 implements Objective64 {
  readonly eps = 2 ** -23;
  constructor(private readonly rt: Runtime, private readonly obj: FlatObjective, private readonly xs: Ptr, private readonly gs: Ptr) {}
  get size(): number {
    return this.obj.size;
  }
  round(v: number): number {
    return Math.fround(v);
  }
  evaluate(x: Float64Array, g: Float64Array): number {
    const a = this.rt.arena;
    a.writeF32(this.xs, x);
    const f = this.obj.evaluate(this.xs, this.gs);
    g.set(a.readF32(this.gs, this.obj.size));
    return f;
  }
}

// ---------------------------------------------------------------- running

function runOnce(cfg: DenseSecondOrderConfig, obj: Objective64, x: Float64Array, st: { mu: number; nu: number }, onIter?: IterHook): DenseReport {
  const n = x.length;
  if (cfg.type === 'newton') return runNewton(obj, x, { gtol: cfg.gtol, maxIter: cfg.maxIter, tolChange: cfg.tolChange, tau: cfg.tau, maxTrials: cfg.maxTrials, minGain: 1e-4 }, st as NewtonState, cfg.maxEval, onIter);
  if (cfg.type === 'newtonCG') return runNewtonCg(obj, x, { xtol: cfg.xtol, gtol: cfg.gtol, maxIter: cfg.maxIter ?? 200 * n, cgMaxIter: cfg.cgMaxIter ?? 20 * n, c1: 1e-4, c2: 0.9 }, cfg.maxEval, onIter);
  return runBfgs(obj, x, { gtol: cfg.gtol, norm: cfg.norm, maxIter: cfg.maxIter ?? 200 * n, xrtol: cfg.xrtol, c1: 1e-4, c2: 0.9, scaleInitial: cfg.scaleInitial }, cfg.maxEval, onIter);
}

function checkSize(cfg: DenseSecondOrderConfig, n: number, where: string): void {
  if (cfg.type === 'newton' && n > cfg.maxParams) {
    throw new OptionError(
      'maxParams',
      `${where}: ${n} parameters is more than newton's maxParams = ${cfg.maxParams} (the Hessian needs ${n}² floats and O(n³) work per iteration). Raise it with newton({ maxParams: ${n} }) if that fits, or use newtonCG(), which needs only Hessian-vector products.`,
    );
  }
}

function checkState(st: DenseState, cfg: DenseSecondOrderConfig, n: number, where: string): void {
  const bad = (what: string): never => {
    throw new OptionError('state', `${where}: state ${what}; pass the object getState() returned for this optimizer and parameter count.`);
  };
  if (!st || typeof st !== 'object') bad('is not an object');
  if (st.method !== cfg.type) bad(`belongs to ${String(st.method)}, not ${cfg.type}`);
  if (st.size !== n) bad(`is for ${String(st.size)} parameters, not ${n}`);
  for (const k of ['nIter', 'funcEvals'] as const) if (!Number.isInteger(st[k]) || st[k] < 0) bad(`has ${k} = ${String(st[k])} (expected an integer >= 0)`);
  if (typeof st.mu !== 'number' || !Number.isFinite(st.mu) || st.mu < 0) bad(`has mu = ${String(st.mu)} (expected a finite number >= 0)`);
  if (typeof st.nu !== 'number' || !Number.isFinite(st.nu) || st.nu < 1) bad(`has nu = ${String(st.nu)} (expected a finite number >= 1)`);
}

/**
 * A running dense minimization whose state (newton: the damping; all: the counters) persists
 * across {@link step} calls. Pure TypeScript: nothing to dispose.
 */
export class DenseMinimizer {
  private readonly xv: Float64Array;
  private readonly st: DenseState;

  /** @internal */
  constructor(private readonly cfg: DenseSecondOrderConfig, x0: ArrayLike<number>, private readonly where: string, state?: DenseState) {
    const x = toF64(where, x0, 'x0');
    checkSize(cfg, x.length, where);
    if (state !== undefined) checkState(state, cfg, x.length, where);
    this.xv = x;
    this.st = state ? { ...state } : { method: cfg.type, size: x.length, nIter: 0, funcEvals: 0, mu: 0, nu: 2 };
  }

  /** The current parameters (a copy). */
  get x(): Float64Array {
    return Float64Array.from(this.xv);
  }

  /** Iterations and objective evaluations over all steps so far. */
  get stats(): { iterations: number; evaluations: number } {
    return { iterations: this.st.nIter, evaluations: this.st.funcEvals };
  }

  /**
   * One run of the method on `f` from the current point (bfgs starts again from `H₀ = I`, as a
   * new scipy call does; newton keeps its damping). The parameters change only when the run
   * returns: an objective that throws leaves them as they were.
   */
  step(f: DenseObjectiveFn, options: DenseMinimizeOptions = {}): DenseResult {
    if (typeof f !== 'function') throw new OptionError('f', `${this.where}: pass the objective as a function (params) => ({ loss, grad }).`);
    const o = checkOptions(this.where, options, ['hessp', 'callback']);
    if (o.hessp !== undefined && typeof o.hessp !== 'function') throw new OptionError('hessp', `${this.where}: hessp must be a function (params, v) => H·v.`);
    if (o.callback !== undefined && typeof o.callback !== 'function') throw new OptionError('callback', `${this.where}: callback must be a function ({ x, loss, gradNorm, iteration }) => void.`);
    const cb = options.callback;
    let iteration = 0;
    const onIter: IterHook = cb ? (xi, loss, gradNorm) => cb({ x: Float64Array.from(xi), loss, gradNorm, iteration: ++iteration }) : undefined;
    const obj = new UserObjective64(this.xv.length, f, this.where, options.hessp);
    const x = Float64Array.from(this.xv);
    const damping = { mu: this.st.mu, nu: this.st.nu };
    const r = runOnce(this.cfg, obj, x, damping, onIter);
    this.xv.set(x);
    this.st.nIter += r.iterations;
    this.st.funcEvals += r.evaluations;
    if (this.cfg.type === 'newton') Object.assign(this.st, damping);
    return { x: Float64Array.from(x), loss: r.loss, initialLoss: r.initialLoss, iterations: r.iterations, evaluations: r.evaluations, hessianEvaluations: r.hessianEvaluations, gradNorm: r.gradNorm, reason: r.reason };
  }

  /** A copy of the state: pass it with the parameters to `init(x, state)` to continue. */
  getState(): DenseState {
    return { ...this.st };
  }
}

/** The engine `fit` drives for a model compiled with one of these (see ts/model/fullbatch.ts). */
class ModelEngine implements DenseEngine {
  readonly x: Ptr;
  private readonly xs: Ptr;
  private readonly gs: Ptr;
  readonly s = { lr: 1 };
  private st: DenseState;
  private disposed = false;
  constructor(private readonly rt: Runtime, readonly size: number, private readonly cfg: DenseSecondOrderConfig) {
    checkSize(cfg, size, 'compile');
    const a = rt.arena;
    this.x = a.allocF32(size);
    this.xs = a.allocF32(size);
    this.gs = a.allocF32(size);
    this.st = { method: cfg.type, size, nIter: 0, funcEvals: 0, mu: 0, nu: 2 };
  }
  get nIter(): number {
    return this.st.nIter;
  }
  step(obj: FlatObjective): StepReport {
    const a = this.rt.arena;
    const x = Float64Array.from(a.readF32(this.x, this.size));
    const damping = { mu: this.st.mu, nu: this.st.nu };
    const r = runOnce(this.cfg, new ModelObjective64(this.rt, obj, this.xs, this.gs), x, damping);
    a.writeF32(this.x, x);
    this.st.nIter += r.iterations;
    this.st.funcEvals += r.evaluations;
    if (this.cfg.type === 'newton') Object.assign(this.st, damping);
    const reason = r.reason === 'lineSearch' || r.reason === 'cgNotConverged' ? 'tolChange' : r.reason;
    return { initialLoss: r.initialLoss, loss: r.loss, iterations: r.iterations, evaluations: r.evaluations, reason, gradNorm: r.gradNorm, hessianEvaluations: r.hessianEvaluations, detail: r.reason };
  }
  /** The state in the shape checkpoints store for L-BFGS / CG: μ in `t`, ν in `hDiag`, no vectors. */
  exportState(): EngineState {
    const z = new Float32Array(this.size);
    return { method: this.cfg.type as never, size: this.size, nIter: this.st.nIter, funcEvals: this.st.funcEvals, t: this.st.mu, hDiag: this.st.nu, prevGtd: 0, sinceRestart: 0, d: z, prevG: z, dirs: [], stps: [], ro: [] };
  }
  importState(st: EngineState): void {
    this.st = { method: this.cfg.type, size: this.size, nIter: st.nIter, funcEvals: st.funcEvals, mu: Math.max(0, st.t), nu: Math.max(1, st.hDiag) };
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of [this.x, this.xs, this.gs]) this.rt.arena.free(p);
  }
}

function attach<T extends DenseSecondOrderConfig>(cfg: Omit<T, 'minimize' | 'init'>): T {
  const c = cfg as T;
  Object.defineProperties(c, {
    minimize: {
      value: (f: DenseObjectiveFn, x0: ArrayLike<number>, options?: DenseMinimizeOptions) => new DenseMinimizer(c, x0, `${c.type}.minimize`).step(f, options),
      enumerable: false,
    },
    init: { value: (x0: ArrayLike<number>, state?: DenseState) => new DenseMinimizer(c, x0, `${c.type}.init`, state), enumerable: false },
    createEngine: { value: (rt: Runtime, size: number) => new ModelEngine(rt, size, c), enumerable: false },
  });
  return Object.freeze(c);
}

// ---------------------------------------------------------------- factories

/**
 * Newton's method with exact Hessians and Levenberg–Marquardt damping, for small models:
 * per iteration the Hessian `H` is built column by column from Hessian-vector products (central
 * differences of the gradient, `(∇f(x + h·eⱼ) − ∇f(x − h·eⱼ)) / 2h`, 2n gradient evaluations; or
 * your `hessp`), then `(H + μI)·p = −g` is solved by Cholesky in float64. `μ` starts at 0 (a pure
 * Newton step) and is raised (first to `tau·max|diag H|`, then ×ν with ν doubling) until the
 * Cholesky succeeds — an indefinite Hessian gets a positive-definite shift — and until the step
 * lowers the loss (gain ratio `ρ = Δf / (−gᵀp − ½pᵀHp) > 0`); after an accepted step
 * `μ ← μ·max(1/3, 1 − (2ρ − 1)³)` (Nielsen's rule), so on a strictly convex problem it
 * becomes plain Newton and converges quadratically. Stops at `max|g| <= gtol`, after `maxIter`
 * iterations, an accepted step `max|p| <= tolChange`, or `maxTrials` rejected steps in a row.
 *
 * Cost: n² floats and ~n³/3 flops per iteration plus 2n gradient evaluations, so models with more
 * than `maxParams` parameters (default 3000) are refused with an {@link OptionError} that says to
 * raise it or use {@link newtonCG}.
 *
 * Accuracy of the Hessian: with a model's float32 gradients the central-difference step is
 * `h = ε₃₂^(1/3)·max(1, max|x|)` (ε₃₂ = 2⁻²³), which balances the h² truncation error against the
 * ε₃₂/h rounding error. tests/optimizers/newton-model.test.ts measures it against the exact float64
 * Hessian of L2 logistic regression on the breast-cancer data: max |ΔH| / max |H| = 3e-5 (h = 1e-5
 * gives 1e-2, h = 0.46 gives 0.2) — ample for Newton's step, which stays fast down to the float32
 * gradient's noise floor.
 *
 * @example
 * ```ts
 * import { newton } from 'wasmfit/newton';
 * model.compile({ optimizer: newton({ gtol: 1e-5 }), loss: 'binaryCrossentropy' });
 * await model.fit(x, y, { batchSize: x.rows, epochs: 1 });        // one run of up to 100 iterations
 * const r = newton().minimize((p) => ({ loss: f(p), grad: df(p) }), x0);
 * ```
 */
export function newton(options: NewtonOptions = {}): NewtonConfig {
  const W = 'newton';
  const o = opts(W, options, ['gtol', 'maxIter', 'maxEval', 'tolChange', 'maxParams', 'tau', 'maxTrials']);
  return attach<NewtonConfig>({
    type: 'newton',
    gtol: num(W, o, 'gtol', 1e-5, { allowZero: true }),
    maxIter: num(W, o, 'maxIter', 100, { integer: true }),
    maxEval: num(W, o, 'maxEval', Infinity, { integer: true, allowInf: true }),
    tolChange: num(W, o, 'tolChange', 1e-9, { allowZero: true }),
    maxParams: num(W, o, 'maxParams', 3000, { integer: true }),
    tau: num(W, o, 'tau', 1e-3),
    maxTrials: num(W, o, 'maxTrials', 30, { integer: true }),
  });
}

/**
 * Truncated Newton with scipy's `minimize(method='Newton-CG')` semantics (scipy 1.10
 * `_minimize_newtoncg`): per iteration, conjugate gradient from 0 on `H·p = −g` with
 * Hessian-vector products only (no n×n matrix), truncated when `‖r‖₁ <= min(0.5, √‖g‖₁)·‖g‖₁`
 * or at non-positive curvature (the CG iterate so far; on the first CG iteration the scaled
 * steepest-descent step); then the Moré–Thuente line search scipy uses (`line_search_wolfe1`:
 * MINPACK-2 dcsrch, c1 = 1e-4, c2 = 0.9, steps in [1e-8, 50]). Stops when the step's ℓ1 norm is
 * <= n·xtol, after `maxIter` (200n) iterations, or when `max|g| <= gtol` (an addition, off by
 * default). Hessian-vector products: your `hessp`, else central differences of the gradient (2
 * gradient evaluations; scipy: forward differences). Divergence: when dcsrch fails, scipy tries
 * `line_search_wolfe2`; this stops with reason `'lineSearch'`.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: newtonCG({ gtol: 1e-4, maxIter: 50 }), loss: 'softmaxCrossEntropy' });
 * ```
 */
export function newtonCG(options: NewtonCgOptions = {}): NewtonCgConfig {
  const W = 'newtonCG';
  const o = opts(W, options, ['xtol', 'gtol', 'maxIter', 'cgMaxIter', 'maxEval']);
  return attach<NewtonCgConfig>({
    type: 'newtonCG',
    xtol: num(W, o, 'xtol', 1e-5),
    gtol: num(W, o, 'gtol', 0, { allowZero: true }),
    maxIter: nullIfNaN(num(W, o, 'maxIter', NaN, { integer: true, nullable: true })),
    cgMaxIter: nullIfNaN(num(W, o, 'cgMaxIter', NaN, { integer: true, nullable: true })),
    maxEval: num(W, o, 'maxEval', Infinity, { integer: true, allowInf: true }),
  });
}

/**
 * Dense BFGS with scipy's `minimize(method='BFGS')` semantics (scipy 1.10 `_minimize_bfgs`):
 * inverse-Hessian approximation `H₀ = I` (scipy applies no initial scaling), direction
 * `p = −H·g`, step from scipy's Moré–Thuente line search (`line_search_wolfe1`: MINPACK-2 dcsrch,
 * c1 = 1e-4, c2 = 0.9, first trial `min(1, 2.02·(f − f_prev)/gᵀp)` with `f_prev = f₀ + ‖g₀‖₂/2` at
 * the start), then `H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ`, `ρ = 1/yᵀs` (1000 if `yᵀs = 0`). Stops when
 * `vecnorm(g, norm) <= gtol` (default: max|g| <= 1e-5), after `maxIter` (200n) iterations, when
 * `α·‖p‖₂ <= xrtol·(xrtol + ‖x‖₂)`, or when the line search fails (`'lineSearch'`; scipy would
 * first retry with `line_search_wolfe2`). On a float64 function it follows scipy's iterates to
 * rounding. Memory n² floats: for large models use L-BFGS.
 *
 * @example
 * ```ts
 * const r = bfgs().minimize((p) => ({ loss: rosen(p), grad: rosenDer(p) }), [-1.2, 1]);
 * ```
 */
export function bfgs(options: BfgsOptions = {}): BfgsConfig {
  const W = 'bfgs';
  const o = opts(W, options, ['gtol', 'norm', 'maxIter', 'xrtol', 'maxEval', 'scaleInitial']);
  const scaleInitial = o.scaleInitial ?? false;
  if (typeof scaleInitial !== 'boolean') throw new OptionError('scaleInitial', `${W}: scaleInitial = ${String(scaleInitial)}; expected true or false.`);
  const norm = o.norm === undefined ? Infinity : o.norm;
  if (typeof norm !== 'number' || Number.isNaN(norm) || norm === 0) throw new OptionError('norm', `${W}: norm = ${String(norm)}; expected Infinity, -Infinity or a nonzero number (the order of the gradient norm).`);
  return attach<BfgsConfig>({
    type: 'bfgs',
    gtol: num(W, o, 'gtol', 1e-5, { allowZero: true }),
    norm,
    maxIter: nullIfNaN(num(W, o, 'maxIter', NaN, { integer: true, nullable: true })),
    xrtol: num(W, o, 'xrtol', 0, { allowZero: true }),
    scaleInitial,
    maxEval: num(W, o, 'maxEval', Infinity, { integer: true, allowInf: true }),
  });
}

const FACTORIES = { newton, newtonCG, bfgs } as Record<string, (o: Record<string, unknown>) => DenseOptimizerConfig>;
registerDenseOptimizer((raw) => {
  const { type, ...rest } = raw as { type: string } & Record<string, unknown>;
  // a config revived from JSON (saveModel): null stands for the per-problem defaults
  for (const k of Object.keys(rest)) if (rest[k] === null) delete rest[k];
  return FACTORIES[type]!(rest);
});

export { fullBatchObjective } from './objective.js';
export type { FullBatchObjective } from './objective.js';
