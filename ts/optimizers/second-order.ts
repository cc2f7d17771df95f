/**
 * The engine behind {@link lbfgs} and {@link cg}: PyTorch's `torch.optim.LBFGS.step` loop
 * (torch/optim/lbfgs.py), its `_strong_wolfe` line search and `_cubic_interpolate`, over flat
 * parameter / gradient vectors kept in WASM memory. Every vector operation (dot products, axpy,
 * scaling, copies, norms) is a call into crates/kernels/src/vec.rs.
 *
 * Divergences from PyTorch, all numerical:
 * - dot products and norms accumulate in f64 (PyTorch: float32 tensors), and scalars such as
 *   `ro`, `H_diag`, `al` are f64 numbers;
 * - a non-finite loss (or gradient) during a line search counts as `+∞`, and a cubic step that
 *   is not finite falls back to bisection, so a line search can back off from a blow-up instead of
 *   propagating NaN; without a line search a step that lands on a non-finite loss is not taken and
 *   the step ends (reason `'nonFinite'`).
 * @internal
 */
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';
import { VecOps } from './vec.js';

/** A differentiable objective over a flat vector in WASM memory. @internal */
export interface FlatObjective {
  /** Number of parameters. */
  readonly size: number;
  /** Loss at `x` (non-finite allowed); writes the gradient to `g`. */
  evaluate(x: Ptr, g: Ptr): number;
}

/** Resolved settings of the engine. @internal */
export interface EngineSettings {
  method: 'lbfgs' | 'cg';
  lr: number;
  maxIter: number;
  maxEval: number;
  tolGrad: number;
  tolChange: number;
  historySize: number;
  lineSearch: 'strongWolfe' | null;
  /** CG: iterations between restarts to steepest descent (0 = the number of parameters). */
  restartEvery: number;
  c1: number;
  c2: number;
}

/**
 * The state an L-BFGS / CG run keeps between steps (PyTorch's `state`: `n_iter`, `func_evals`,
 * `t`, `H_diag`, `d`, `prev_flat_grad`, `old_dirs`, `old_stps`, `ro`; CG: the restart counter and
 * the previous `gᵀd`). Plain data: arrays survive `structuredClone`; convert the Float32Arrays
 * with `Array.from` for JSON.
 */
export interface EngineState {
  method: 'lbfgs' | 'cg';
  size: number;
  nIter: number;
  funcEvals: number;
  t: number;
  hDiag: number;
  prevGtd: number;
  sinceRestart: number;
  d: Float32Array | number[];
  prevG: Float32Array | number[];
  dirs: (Float32Array | number[])[];
  stps: (Float32Array | number[])[];
  ro: number[];
}

/** Why a step ended. */
export type StopReason = 'tolGrad' | 'tolChange' | 'maxIter' | 'maxEval' | 'nonFinite';

/** What one {@link SecondOrderEngine.step} did. @internal */
export interface StepReport {
  /** Loss at the parameters the step started from (what PyTorch's `step` returns). */
  initialLoss: number;
  /** Loss at the final parameters (`NaN` when the last move was not evaluated, as PyTorch). */
  loss: number;
  iterations: number;
  evaluations: number;
  reason: StopReason;
  /** newton / newtonCG / bfgs: the gradient's norm at the end, Hessians or products computed, and their own stop reason. */
  gradNorm?: number;
  hessianEvaluations?: number;
  detail?: string;
}

interface Point {
  t: number;
  f: number;
  g: Ptr;
  gtd: number;
}

/** `_cubic_interpolate` of torch/optim/lbfgs.py (minimizer of the cubic through two points). */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    // divergence: a non-finite interpolant (from an infinite loss) bisects instead of returning NaN
    if (Number.isFinite(minPos)) return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

/** Gradient buffers handed out during a line search; `sweep` returns those no longer referenced. */
class Pool {
  private readonly all: Ptr[] = [];
  private readonly idle: Ptr[] = [];
  constructor(private readonly v: VecOps) {}
  get(): Ptr {
    const p = this.idle.pop() ?? this.v.alloc();
    if (!this.all.includes(p)) this.all.push(p);
    return p;
  }
  sweep(live: readonly Ptr[]): void {
    for (const p of this.all) if (!live.includes(p) && !this.idle.includes(p)) this.idle.push(p);
  }
  dispose(): void {
    for (const p of this.all) this.v.free(p);
    this.all.length = 0;
    this.idle.length = 0;
  }
}

/**
 * Full-batch L-BFGS / nonlinear CG over an objective's flat vector, with PyTorch's per-`step`
 * state (`d`, `t`, history, `H_diag`, `prev_flat_grad`, `prev_loss`, `n_iter`, `func_evals`)
 * kept across steps. Owns WASM blocks: call {@link dispose}.
 * @internal
 */
export class SecondOrderEngine {
  readonly v: VecOps;
  readonly s: EngineSettings;
  /** The current parameters (flat). */
  readonly x: Ptr;
  private readonly g: Ptr;
  private readonly d: Ptr;
  private readonly prevG: Ptr;
  private readonly xt: Ptr;
  private readonly tmp: Ptr;
  private readonly pool: Pool;
  private dirs: Ptr[] = [];
  private stps: Ptr[] = [];
  private ro: number[] = [];
  private spare: Ptr[] = [];
  private hDiag = 1;
  private t = 0;
  private prevGtd = 0;
  private sinceRestart = 0;
  /** Iterations over all steps (PyTorch `state['n_iter']`). */
  nIter = 0;
  /** Objective evaluations over all steps (PyTorch `state['func_evals']`). */
  funcEvals = 0;
  private disposed = false;

  constructor(rt: Runtime, size: number, settings: EngineSettings) {
    this.v = new VecOps(rt, size);
    this.s = settings;
    this.x = this.v.alloc();
    this.g = this.v.alloc();
    this.d = this.v.alloc();
    this.prevG = this.v.alloc();
    this.xt = this.v.alloc();
    this.tmp = this.v.alloc();
    this.pool = new Pool(this.v);
  }

  get size(): number {
    return this.v.n;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of [this.x, this.g, this.d, this.prevG, this.xt, this.tmp, ...this.dirs, ...this.stps, ...this.spare]) this.v.free(p);
    this.dirs = [];
    this.stps = [];
    this.spare = [];
    this.pool.dispose();
  }

  /** A copy of the state kept between steps (PyTorch's `state` dict). */
  exportState(): EngineState {
    const a = this.v.rt.arena;
    const n = this.v.n;
    return {
      method: this.s.method,
      size: n,
      nIter: this.nIter,
      funcEvals: this.funcEvals,
      t: this.t,
      hDiag: this.hDiag,
      prevGtd: this.prevGtd,
      sinceRestart: this.sinceRestart,
      d: a.readF32(this.d, n),
      prevG: a.readF32(this.prevG, n),
      dirs: this.dirs.map((p) => a.readF32(p, n)),
      stps: this.stps.map((p) => a.readF32(p, n)),
      ro: [...this.ro],
    };
  }

  /** Restores {@link exportState} output (validated by the caller). */
  importState(st: EngineState): void {
    const a = this.v.rt.arena;
    this.nIter = st.nIter;
    this.funcEvals = st.funcEvals;
    this.t = st.t;
    this.hDiag = st.hDiag;
    this.prevGtd = st.prevGtd;
    this.sinceRestart = st.sinceRestart;
    a.writeF32(this.d, st.d);
    a.writeF32(this.prevG, st.prevG);
    for (const p of [...this.dirs, ...this.stps]) this.spare.push(p);
    const take = (src: ArrayLike<number>): Ptr => {
      const p = this.spare.pop() ?? this.v.alloc();
      a.writeF32(p, src);
      return p;
    };
    this.dirs = st.dirs.map(take);
    this.stps = st.stps.map(take);
    this.ro = [...st.ro];
  }

  private finite(f: number, g: Ptr): number {
    // a NaN/Inf gradient makes the point unusable as well
    return Number.isFinite(f) && Number.isFinite(this.v.amax(g)) ? f : Infinity;
  }

  /**
   * One PyTorch `step(closure)`: up to `maxIter` iterations from `this.x` (which the caller
   * filled), leaving the final parameters in `this.x`.
   */
  step(obj: FlatObjective): StepReport {
    const { v, s } = this;
    const { x, g, d, prevG } = this;
    let loss = obj.evaluate(x, g);
    const origLoss = loss;
    let currentEvals = 1;
    this.funcEvals++;
    if (!Number.isFinite(loss) || !Number.isFinite(v.amax(g))) return { initialLoss: loss, loss, iterations: 0, evaluations: 1, reason: 'nonFinite' };
    if (v.amax(g) <= s.tolGrad) return { initialLoss: loss, loss, iterations: 0, evaluations: 1, reason: 'tolGrad' };
    let nIter = 0;
    let reason: StopReason = 'maxIter';
    let prevLoss = loss;
    let lossKnown = true;
    while (nIter < s.maxIter) {
      nIter++;
      this.nIter++;
      // ---- direction ----
      if (s.method === 'lbfgs') this.lbfgsDirection();
      else this.cgDirection();
      v.copy(g, prevG);
      prevLoss = loss;
      // ---- step length ----
      const gtd = v.dot(g, d);
      let t: number;
      if (s.method === 'lbfgs') t = this.nIter === 1 ? Math.min(1, 1 / v.asum(g)) * s.lr : s.lr;
      // CG: the first step as PyTorch's L-BFGS; then Nocedal & Wright (3.60) t = t_prev·(gᵀd)_prev/(gᵀd)
      else t = this.nIter === 1 ? Math.min(1, 1 / v.asum(g)) * s.lr : (this.t * this.prevGtd) / gtd;
      if (!(t > 0) || !Number.isFinite(t)) t = Math.min(1, 1 / v.asum(g)) * s.lr;
      if (gtd > -s.tolChange) {
        // as PyTorch, the step length just chosen is kept in the state even though no move is made
        this.t = t;
        reason = 'tolChange';
        break;
      }
      let lsEvals = 0;
      let optCond = false;
      if (s.lineSearch === 'strongWolfe') {
        const r = this.strongWolfe(obj, t, loss, gtd);
        loss = r.f;
        t = r.t;
        lsEvals = r.evals;
        v.axpy(t, d, x);
        optCond = v.amax(g) <= s.tolGrad;
      } else {
        if (nIter !== s.maxIter) {
          v.lincomb(1, x, t, d, this.xt);
          const f = this.finite(obj.evaluate(this.xt, this.tmp), this.tmp);
          lsEvals = 1;
          if (f === Infinity) {
            currentEvals += 1;
            this.funcEvals += 1;
            this.t = t;
            this.prevGtd = gtd;
            reason = 'nonFinite';
            break;
          }
          v.copy(this.xt, x);
          v.copy(this.tmp, g);
          loss = f;
          optCond = v.amax(g) <= s.tolGrad;
        } else {
          v.axpy(t, d, x);
          lossKnown = false;
        }
      }
      this.t = t;
      this.prevGtd = gtd;
      this.sinceRestart++;
      currentEvals += lsEvals;
      this.funcEvals += lsEvals;
      if (nIter === s.maxIter) {
        reason = 'maxIter';
        break;
      }
      if (currentEvals >= s.maxEval) {
        reason = 'maxEval';
        break;
      }
      if (optCond) {
        reason = 'tolGrad';
        break;
      }
      if (v.amax(d) * Math.abs(t) <= s.tolChange || Math.abs(loss - prevLoss) < s.tolChange) {
        reason = 'tolChange';
        break;
      }
    }
    return { initialLoss: origLoss, loss: lossKnown ? loss : NaN, iterations: nIter, evaluations: currentEvals, reason };
  }

  /** L-BFGS two-loop recursion (torch: the `else` branch of "compute gradient descent direction"). */
  private lbfgsDirection(): void {
    const { v, s, g, d, prevG } = this;
    if (this.nIter === 1) {
      v.lincomb(-1, g, 0, g, d);
      this.hDiag = 1;
      for (const p of [...this.dirs, ...this.stps]) this.spare.push(p);
      this.dirs = [];
      this.stps = [];
      this.ro = [];
      return;
    }
    // y = g − g_prev, s = t·d
    const y = this.spare.pop() ?? v.alloc();
    const st = this.spare.pop() ?? v.alloc();
    v.lincomb(1, g, -1, prevG, y);
    v.lincomb(this.t, d, 0, d, st);
    const ys = v.dot(y, st);
    if (ys > 1e-10) {
      if (this.dirs.length === s.historySize) {
        this.spare.push(this.dirs.shift()!, this.stps.shift()!);
        this.ro.shift();
      }
      this.dirs.push(y);
      this.stps.push(st);
      this.ro.push(1 / ys);
      this.hDiag = ys / v.dot(y, y);
    } else {
      this.spare.push(y, st);
    }
    const m = this.dirs.length;
    const al = new Array<number>(m);
    // q = −g, kept in d
    v.lincomb(-1, g, 0, g, d);
    for (let i = m - 1; i >= 0; i--) {
      al[i] = v.dot(this.stps[i]!, d) * this.ro[i]!;
      v.axpy(-al[i]!, this.dirs[i]!, d);
    }
    v.scal(this.hDiag, d);
    for (let i = 0; i < m; i++) {
      const be = v.dot(this.dirs[i]!, d) * this.ro[i]!;
      v.axpy(al[i]! - be, this.stps[i]!, d);
    }
  }

  /**
   * Polak–Ribière+ direction `d = −g + β·d`, `β = max(0, gᵀ(g − g_prev) / g_prevᵀg_prev)`;
   * restart to `−g` on the first iteration, every `restartEvery` iterations, or when `d` is not a
   * descent direction (`gᵀd >= 0`).
   */
  private cgDirection(): void {
    const { v, s, g, d, prevG, tmp } = this;
    const every = s.restartEvery > 0 ? s.restartEvery : v.n;
    let restart = this.nIter === 1 || this.sinceRestart >= every;
    if (!restart) {
      v.lincomb(1, g, -1, prevG, tmp);
      const beta = Math.max(0, v.dot(g, tmp) / v.dot(prevG, prevG));
      v.lincomb(-1, g, Number.isFinite(beta) ? beta : 0, d, d);
      if (!(v.dot(g, d) < 0)) restart = true;
    }
    if (restart) {
      v.lincomb(-1, g, 0, g, d);
      this.sinceRestart = 0;
    }
  }

  /**
   * `_strong_wolfe` of torch/optim/lbfgs.py (from Torch7's lswolfe.lua): bracketing with cubic
   * extrapolation, then zoom with cubic interpolation and the 0.1·bracket safeguard. On return
   * `this.g` holds the gradient at `x + t·d`.
   */
  private strongWolfe(obj: FlatObjective, t0: number, f: number, gtd: number): { f: number; t: number; evals: number } {
    const { v, s, x, d, g } = this;
    const { c1, c2, tolChange } = s;
    const maxLs = 25;
    const pool = this.pool;
    const dNorm = v.amax(d);
    const evalAt = (t: number): Point => {
      const gb = pool.get();
      v.lincomb(1, x, t, d, this.xt);
      const fv = this.finite(obj.evaluate(this.xt, gb), gb);
      return { t, f: fv, g: gb, gtd: fv === Infinity ? NaN : v.dot(gb, d) };
    };
    const start: Point = { t: 0, f, g, gtd };
    let t = t0;
    let nw = evalAt(t);
    let evals = 1;
    let prev: Point = start;
    let done = false;
    let lsIter = 0;
    let bracket: Point[] = [];
    while (lsIter < maxLs) {
      if (nw.f > f + c1 * t * gtd || (lsIter > 1 && nw.f >= prev.f)) {
        bracket = [prev, nw];
        break;
      }
      if (Math.abs(nw.gtd) <= -c2 * gtd) {
        bracket = [nw];
        done = true;
        break;
      }
      if (nw.gtd >= 0) {
        bracket = [prev, nw];
        break;
      }
      const minStep = t + 0.01 * (t - prev.t);
      const maxStep = t * 10;
      t = cubicInterpolate(prev.t, prev.f, prev.gtd, t, nw.f, nw.gtd, [minStep, maxStep]);
      prev = nw;
      pool.sweep([prev.g]);
      nw = evalAt(t);
      evals++;
      lsIter++;
    }
    if (lsIter === maxLs) bracket = [start, nw];
    pool.sweep(bracket.map((p) => p.g));
    let insufProgress = false;
    const lowHigh = (): [number, number] => (bracket[0]!.f <= bracket[bracket.length - 1]!.f ? [0, 1] : [1, 0]);
    let [low, high] = lowHigh();
    while (!done && lsIter < maxLs) {
      const b0 = bracket[0]!;
      const b1 = bracket[1]!;
      if (Math.abs(b1.t - b0.t) * dNorm < tolChange) break;
      t = cubicInterpolate(b0.t, b0.f, b0.gtd, b1.t, b1.f, b1.gtd);
      const bmax = Math.max(b0.t, b1.t);
      const bmin = Math.min(b0.t, b1.t);
      const eps = 0.1 * (bmax - bmin);
      if (Math.min(bmax - t, t - bmin) < eps) {
        if (insufProgress || t >= bmax || t <= bmin) {
          t = Math.abs(t - bmax) < Math.abs(t - bmin) ? bmax - eps : bmin + eps;
          insufProgress = false;
        } else insufProgress = true;
      } else insufProgress = false;
      nw = evalAt(t);
      evals++;
      lsIter++;
      if (nw.f > f + c1 * t * gtd || nw.f >= bracket[low]!.f) {
        bracket[high] = nw;
        [low, high] = lowHigh();
      } else {
        if (Math.abs(nw.gtd) <= -c2 * gtd) done = true;
        else if (nw.gtd * (bracket[high]!.t - bracket[low]!.t) >= 0) bracket[high] = bracket[low]!;
        bracket[low] = nw;
      }
      pool.sweep(bracket.map((p) => p.g));
    }
    const best = bracket[low]!;
    if (best.g !== g) v.copy(best.g, g);
    pool.sweep([]);
    return { f: best.f, t: best.t, evals };
  }
}
