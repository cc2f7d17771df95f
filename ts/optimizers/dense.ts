/**
 * Float64 engines of the dense second-order methods — Newton with Levenberg–Marquardt damping,
 * truncated Newton (scipy's `'Newton-CG'`) and dense BFGS (scipy's `'BFGS'`) — and MINPACK-2's
 * `dcsrch` line search that scipy's `line_search_wolfe1` drives. All arithmetic is in f64 in
 * TypeScript: the matrices are small by construction (newton() refuses more than `maxParams`
 * parameters) and the cost is dominated by the objective's gradient evaluations.
 */

/** A differentiable objective over a flat float64 vector. @internal */
export interface Objective64 {
  readonly size: number;
  /** Loss at `x` (non-finite allowed); writes the gradient to `g`. */
  evaluate(x: Float64Array, g: Float64Array): number;
  /** Exact Hessian-vector product `H(x)·v → out`, when the caller has one. */
  hvp?(x: Float64Array, v: Float64Array, out: Float64Array): void;
  /**
   * Machine epsilon of the parameters as the objective sees them (2⁻⁵² for a float64 function,
   * 2⁻²³ for a model's float32 weights): sets the finite-difference steps.
   */
  readonly eps: number;
  /** Rounds a parameter value to what the objective will see (`Math.fround` for float32 models). */
  round(v: number): number;
}

/** Why a run ended. */
export type DenseStopReason = 'tolGrad' | 'tolChange' | 'maxIter' | 'maxEval' | 'nonFinite' | 'lineSearch' | 'cgNotConverged';

/** Called after every iteration with the new point, its loss and gradient norm (scipy's `callback`). @internal */
export type IterHook = ((x: Float64Array, loss: number, gradNorm: number) => void) | undefined;

/** What one run did. @internal */
export interface DenseReport {
  initialLoss: number;
  loss: number;
  iterations: number;
  /** Objective (loss + gradient) evaluations, those spent on finite-difference Hessians included. */
  evaluations: number;
  /** Hessians (newton) or Hessian-vector products (newtonCG) computed; 0 for BFGS. */
  hessianEvaluations: number;
  /** Norm of the final gradient (the method's `norm`; ∞-norm for newton / newtonCG). */
  gradNorm: number;
  reason: DenseStopReason;
}

// ---------------------------------------------------------------- small vector helpers

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function amax(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (!(v <= m)) m = v; // NaN propagates
  }
  return m;
}

/** scipy's `vecnorm(x, ord)`: max |x| for ∞, min |x| for −∞, else (Σ|x|^ord)^(1/ord). */
export function vecnorm(a: Float64Array, ord: number): number {
  if (ord === Infinity) return amax(a);
  if (ord === -Infinity) {
    let m = Infinity;
    for (const v of a) m = Math.min(m, Math.abs(v));
    return m;
  }
  let s = 0;
  for (const v of a) s += Math.abs(v) ** ord;
  return s ** (1 / ord);
}

function allFinite(a: Float64Array): boolean {
  for (const v of a) if (!Number.isFinite(v)) return false;
  return true;
}

// ---------------------------------------------------------------- MINPACK-2 dcsrch / dcstep

type Task = 'FG' | 'CONV' | 'WARN' | 'ERROR';

/**
 * `dcstep` of MINPACK-2 (Moré & Thuente 1994; scipy/optimize/minpack2/dcstep.f): a safeguarded
 * cubic / quadratic / secant step that keeps an interval containing a step satisfying the strong
 * Wolfe conditions.
 */
function dcstep(
  st: { stx: number; fx: number; dx: number; sty: number; fy: number; dy: number; brackt: boolean },
  stp: number,
  fp: number,
  dp: number,
  stpmin: number,
  stpmax: number,
): number {
  const { stx, fx, dx, sty, fy, dy } = st;
  const sgnd = Math.sign(dp) * Math.sign(dx);
  let stpf: number;
  if (fp > fx) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
    if (stp < stx) gamma = -gamma;
    const p = gamma - dx + theta;
    const q = gamma - dx + gamma + dp;
    const stpc = stx + (p / q) * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
    stpf = Math.abs(stpc - stx) <= Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
    st.brackt = true;
  } else if (sgnd < 0) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dx;
    const stpc = stp + (p / q) * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    st.brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt(Math.max(0, (theta / s) ** 2 - (dx / s) * (dp / s)));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma + (dx - dp) + gamma;
    const r = p / q;
    const stpc = r < 0 && gamma !== 0 ? stp + r * (stx - stp) : stp > stx ? stpmax : stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (st.brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      stpf = stp > stx ? Math.min(stp + 0.66 * (sty - stp), stpf) : Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.min(stpmax, Math.max(stpmin, stpf));
    }
  } else if (st.brackt) {
    const theta = (3 * (fp - fy)) / (sty - stp) + dy + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
    let gamma = s * Math.sqrt((theta / s) ** 2 - (dy / s) * (dp / s));
    if (stp > sty) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dy;
    stpf = stp + (p / q) * (sty - stp);
  } else stpf = stp > stx ? stpmax : stpmin;
  if (fp > fx) {
    st.sty = stp;
    st.fy = fp;
    st.dy = dp;
  } else {
    if (sgnd < 0) {
      st.sty = stx;
      st.fy = fx;
      st.dy = dx;
    }
    st.stx = stp;
    st.fx = fp;
    st.dx = dp;
  }
  return stpf;
}

/**
 * scipy's `scalar_search_wolfe1` (scipy/optimize/_linesearch.py, 1.10) around MINPACK-2's `dcsrch`
 * (Moré–Thuente): first trial `min(1, 1.01·2·(φ(0) − φ_prev)/φ'(0))` (1 when that is negative or
 * there is no previous value), at most 100 evaluations; `null` when dcsrch ends with a warning or
 * an error (scipy then tries `line_search_wolfe2`; we do not — the run stops with `'lineSearch'`).
 */
export function wolfe1(
  phi: (a: number) => { f: number; d: number },
  phi0: number,
  oldPhi0: number | null,
  derphi0: number,
  o: { c1: number; c2: number; amin: number; amax: number; xtol: number },
): { stp: number; f: number; evals: number } | null {
  let alpha1 = oldPhi0 !== null && derphi0 !== 0 ? Math.min(1, (1.01 * 2 * (phi0 - oldPhi0)) / derphi0) : 1;
  if (oldPhi0 !== null && derphi0 !== 0 && alpha1 < 0) alpha1 = 1;
  const { c1: ftol, c2: gtol, amin: stpmin, amax: stpmax, xtol } = o;
  let stp = alpha1;
  if (!(stp >= stpmin && stp <= stpmax) || derphi0 >= 0) return null;
  const finit = phi0;
  const ginit = derphi0;
  const gtest = ftol * ginit;
  let width = stpmax - stpmin;
  let width1 = width / 0.5;
  const st = { stx: 0, fx: finit, dx: ginit, sty: 0, fy: finit, dy: ginit, brackt: false };
  let stage = 1;
  let stmin = 0;
  let stmax = stp + 4 * stp;
  let evals = 0;
  for (let it = 0; it < 100; it++) {
    const r = phi(stp);
    evals++;
    const f = r.f;
    const g = r.d;
    const ftest = finit + stp * gtest;
    if (stage === 1 && f <= ftest && g >= 0) stage = 2;
    let task: Task = 'FG';
    if (st.brackt && (stp <= stmin || stp >= stmax)) task = 'WARN';
    if (st.brackt && stmax - stmin <= xtol * stmax) task = 'WARN';
    if (stp === stpmax && f <= ftest && g <= gtest) task = 'WARN';
    if (stp === stpmin && (f > ftest || g >= gtest)) task = 'WARN';
    if (f <= ftest && Math.abs(g) <= gtol * -ginit) task = 'CONV';
    if (task === 'CONV') return { stp, f, evals };
    if (task === 'WARN') return null;
    // a non-finite trial value: dcsrch has no rule for it (Fortran would propagate NaN); stop
    if (!Number.isFinite(f) || !Number.isFinite(g)) return null;
    if (stage === 1 && f <= st.fx && f > ftest) {
      const m = { stx: st.stx, fx: st.fx - st.stx * gtest, dx: st.dx - gtest, sty: st.sty, fy: st.fy - st.sty * gtest, dy: st.dy - gtest, brackt: st.brackt };
      stp = dcstep(m, stp, f - stp * gtest, g - gtest, stmin, stmax);
      st.stx = m.stx;
      st.sty = m.sty;
      st.brackt = m.brackt;
      st.fx = m.fx + m.stx * gtest;
      st.fy = m.fy + m.sty * gtest;
      st.dx = m.dx + gtest;
      st.dy = m.dy + gtest;
    } else stp = dcstep(st, stp, f, g, stmin, stmax);
    if (st.brackt) {
      if (Math.abs(st.sty - st.stx) >= 0.66 * width1) stp = st.stx + 0.5 * (st.sty - st.stx);
      width1 = width;
      width = Math.abs(st.sty - st.stx);
    }
    if (st.brackt) {
      stmin = Math.min(st.stx, st.sty);
      stmax = Math.max(st.stx, st.sty);
    } else {
      stmin = stp + 1.1 * (stp - st.stx);
      stmax = stp + 4 * (stp - st.stx);
    }
    stp = Math.min(Math.max(stp, stpmin), stpmax);
    if ((st.brackt && (stp <= stmin || stp >= stmax)) || (st.brackt && stmax - stmin <= xtol * stmax)) stp = st.stx;
  }
  return null;
}

/**
 * A line search along `p` from `x` (loss `f0`, gradient `g0`): scipy's `line_search_wolfe1`.
 * On success `xNew`/`gNew` hold the accepted point and its gradient.
 */
function lineSearch(
  obj: Objective64,
  x: Float64Array,
  p: Float64Array,
  f0: number,
  g0: Float64Array,
  oldF: number | null,
  o: { c1: number; c2: number; amin: number; amax: number; xtol: number },
  xNew: Float64Array,
  gNew: Float64Array,
): { stp: number; f: number; evals: number } | null {
  const n = x.length;
  let lastStp = NaN;
  const phi = (a: number) => {
    for (let i = 0; i < n; i++) xNew[i] = obj.round(x[i]! + a * p[i]!);
    const f = obj.evaluate(xNew, gNew);
    lastStp = a;
    return { f, d: dot(gNew, p) };
  };
  const r = wolfe1(phi, f0, oldF, dot(g0, p), o);
  if (r === null) return null;
  // dcsrch converges on the point it evaluated last, so xNew / gNew are already that point's
  if (lastStp !== r.stp) phi(r.stp);
  return r;
}

// ---------------------------------------------------------------- BFGS

/** Settings of {@link runBfgs} (scipy names). @internal */
export interface BfgsSettings {
  gtol: number;
  norm: number;
  maxIter: number;
  xrtol: number;
  c1: number;
  c2: number;
  /** Nocedal & Wright (6.20): `H₀ ← (yᵀs / yᵀy)·I` before the first update (scipy: no). */
  scaleInitial: boolean;
}

/**
 * scipy's `_minimize_bfgs` (scipy/optimize/_optimize.py, 1.10): `H₀ = I` (scipy applies no
 * initial scaling), `p = −H·g`, step from {@link wolfe1} with c1 = 1e-4, c2 = 0.9, amin = 1e-100,
 * amax = 1e100 and first trial from `old_old_fval = f₀ + ‖g₀‖₂/2`; stop when
 * `vecnorm(g, norm) <= gtol`, after `maxIter` iterations, when `α·‖p‖₂ <= xrtol·(xrtol + ‖x‖₂)`,
 * or when the line search fails; inverse update
 * `H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ`, `ρ = 1/yᵀs` (1000 when `yᵀs = 0`), written as the
 * equivalent rank-two update `H − ρ(s (Hy)ᵀ + (Hy) sᵀ) + (ρ² yᵀHy + ρ) s sᵀ`.
 * `x` is updated in place.
 * @internal
 */
export function runBfgs(obj: Objective64, x: Float64Array, s: BfgsSettings, maxEval: number, onIter?: IterHook): DenseReport {
  const n = x.length;
  const g = new Float64Array(n);
  let f = obj.evaluate(x, g);
  const initialLoss = f;
  let evals = 1;
  if (!Number.isFinite(f) || !allFinite(g)) return { initialLoss, loss: f, iterations: 0, evaluations: 1, hessianEvaluations: 0, gradNorm: NaN, reason: 'nonFinite' };
  const H = new Float64Array(n * n);
  for (let i = 0; i < n; i++) H[i * n + i] = 1;
  let oldOld: number | null = f + Math.sqrt(dot(g, g)) / 2;
  const p = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const y = new Float64Array(n);
  const sk = new Float64Array(n);
  const Hy = new Float64Array(n);
  let gnorm = vecnorm(g, s.norm);
  let k = 0;
  let reason: DenseStopReason = 'tolGrad';
  const ls = { c1: s.c1, c2: s.c2, amin: 1e-100, amax: 1e100, xtol: 1e-14 };
  while (gnorm > s.gtol && k < s.maxIter) {
    for (let i = 0; i < n; i++) {
      let v = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) v += H[row + j]! * g[j]!;
      p[i] = -v;
    }
    const r = lineSearch(obj, x, p, f, g, oldOld, ls, xNew, gNew);
    if (r === null) {
      reason = 'lineSearch';
      break;
    }
    evals += r.evals;
    oldOld = f;
    f = r.f;
    for (let i = 0; i < n; i++) {
      sk[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    x.set(xNew);
    g.set(gNew);
    k++;
    gnorm = vecnorm(g, s.norm);
    onIter?.(x, f, gnorm);
    if (gnorm <= s.gtol) break;
    if (r.stp * Math.sqrt(dot(p, p)) <= s.xrtol * (s.xrtol + Math.sqrt(dot(x, x)))) {
      reason = 'tolChange';
      break;
    }
    if (!Number.isFinite(f)) {
      reason = 'nonFinite';
      break;
    }
    if (evals >= maxEval) {
      reason = 'maxEval';
      break;
    }
    const ys = dot(y, sk);
    const rho = ys === 0 ? 1000 : 1 / ys;
    if (s.scaleInitial && k === 1 && ys > 0) {
      const gamma = ys / dot(y, y);
      for (let i = 0; i < n; i++) H[i * n + i] = gamma;
    }
    for (let i = 0; i < n; i++) {
      let v = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) v += H[row + j]! * y[j]!;
      Hy[i] = v;
    }
    const c = rho * rho * dot(y, Hy) + rho;
    for (let i = 0; i < n; i++) {
      const row = i * n;
      const si = sk[i]!;
      const hi = Hy[i]!;
      for (let j = 0; j < n; j++) H[row + j] = H[row + j]! - rho * (si * Hy[j]! + hi * sk[j]!) + c * si * sk[j]!;
    }
  }
  if (reason === 'tolGrad' && gnorm > s.gtol) reason = 'maxIter';
  return { initialLoss, loss: f, iterations: k, evaluations: evals, hessianEvaluations: 0, gradNorm: gnorm, reason };
}

// ---------------------------------------------------------------- Hessian-vector products

/**
 * `H(x)·v` by central differences of the gradient, `(∇f(x + h·v) − ∇f(x − h·v)) / (2h)` with
 * `h = ε^(1/3)·max(1, ‖x‖∞) / ‖v‖∞` (the step that balances the O(h²) truncation error against the
 * O(ε/h) rounding error of the gradients); the perturbed points are rounded as the objective sees
 * them, so for float32 models the difference is divided by the step actually taken along `v`
 * (its least-squares length). Costs two gradient evaluations. `x` is not modified.
 * @internal
 */
export function hvpCentral(obj: Objective64, x: Float64Array, v: Float64Array, out: Float64Array, scratch: { xp: Float64Array; xm: Float64Array; gp: Float64Array; gm: Float64Array }): void {
  const n = x.length;
  const vn = amax(v);
  if (vn === 0) {
    out.fill(0);
    return;
  }
  const h = (Math.cbrt(obj.eps) * Math.max(1, amax(x))) / vn;
  const { xp, xm, gp, gm } = scratch;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    xp[i] = obj.round(x[i]! + h * v[i]!);
    xm[i] = obj.round(x[i]! - h * v[i]!);
    // the step actually taken along v: least-squares t with (xp − xm) ≈ t·v
    num += (xp[i]! - xm[i]!) * v[i]!;
    den += v[i]! * v[i]!;
  }
  obj.evaluate(xp, gp);
  obj.evaluate(xm, gm);
  const t = num / den;
  for (let i = 0; i < n; i++) out[i] = (gp[i]! - gm[i]!) / t;
}

function hvpScratch(n: number) {
  return { xp: new Float64Array(n), xm: new Float64Array(n), gp: new Float64Array(n), gm: new Float64Array(n) };
}

/**
 * The dense Hessian (row-major, symmetrized `(H + Hᵀ)/2`) from `n` Hessian-vector products with
 * the unit vectors: the objective's `hvp` when it has one, else {@link hvpCentral} (2n gradient
 * evaluations). Returns the number of gradient evaluations spent.
 * @internal
 */
export function denseHessian(obj: Objective64, x: Float64Array, H: Float64Array): number {
  const n = x.length;
  const e = new Float64Array(n);
  const col = new Float64Array(n);
  const sc = hvpScratch(n);
  let evals = 0;
  for (let j = 0; j < n; j++) {
    e[j] = 1;
    if (obj.hvp) obj.hvp(x, e, col);
    else {
      hvpCentral(obj, x, e, col, sc);
      evals += 2;
    }
    e[j] = 0;
    for (let i = 0; i < n; i++) H[i * n + j] = col[i]!;
  }
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const m = (H[i * n + j]! + H[j * n + i]!) / 2;
      H[i * n + j] = m;
      H[j * n + i] = m;
    }
  return evals;
}

/** In-place Cholesky `A = L·Lᵀ` (lower triangle of `L` written into `L`); false when A is not positive definite. @internal */
export function cholesky(A: Float64Array, n: number, shift: number, L: Float64Array): boolean {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j]! + shift;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! ** 2;
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j]!;
      const ri = i * n;
      const rj = j * n;
      for (let k = 0; k < j; k++) s -= L[ri + k]! * L[rj + k]!;
      L[ri + j] = s / ljj;
    }
  }
  return true;
}

/** Solves `L·Lᵀ·p = b` in place of `p`. @internal */
export function cholSolve(L: Float64Array, n: number, b: Float64Array, p: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * p[k]!;
    p[i] = s / L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = p[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * p[k]!;
    p[i] = s / L[i * n + i]!;
  }
}

// ---------------------------------------------------------------- Newton (damped)

/** Settings of {@link runNewton}. @internal */
export interface NewtonSettings {
  gtol: number;
  maxIter: number;
  tolChange: number;
  /** Initial damping relative to max|diag H| when pure Newton fails (Nielsen's τ). */
  tau: number;
  /** Trial steps per iteration before giving up ('lineSearch'). */
  maxTrials: number;
  /** A trial step is accepted when its gain ratio exceeds this (1e-4, an Armijo-like margin). */
  minGain: number;
}

/** Damping carried from one run to the next (fit steps). @internal */
export interface NewtonState {
  mu: number;
  nu: number;
}

/**
 * Damped Newton (Levenberg–Marquardt damping with Nielsen's update, Madsen–Nielsen–Tingleff,
 * "Methods for non-linear least squares problems" §3.2, applied to a general Hessian). Per
 * iteration: the Hessian `H` (exact, from Hessian-vector products); then trial steps
 * `(H + μI)·p = −g` solved by Cholesky in f64 — first the pure Newton step `μ = 0` when `H` is
 * positive definite, then `μ` from the carried value (at least `tau·max|diag H|`) multiplied by ν
 * (ν doubling) until the Cholesky succeeds (an indefinite `H` gets a positive-definite shift) and
 * the gain ratio `ρ = (f(x) − f(x + p)) / (−gᵀp − ½pᵀHp)` exceeds `minGain`. After a damped step the
 * carried `μ ← μ·max(1/3, 1 − (2ρ − 1)³)` (after a pure one it shrinks ×1/3). Near a minimum with
 * a positive-definite Hessian every step is a pure Newton step: quadratic convergence.
 * Stops at `‖g‖∞ <= gtol`, `maxIter` iterations (Hessians), an accepted step with
 * `‖p‖∞ <= tolChange`, or `maxTrials` rejected trials in a row ('lineSearch').
 * @internal
 */
export function runNewton(obj: Objective64, x: Float64Array, s: NewtonSettings, state: NewtonState, maxEval: number, onIter?: IterHook): DenseReport {
  const n = x.length;
  const g = new Float64Array(n);
  let f = obj.evaluate(x, g);
  const initialLoss = f;
  let evals = 1;
  let hevals = 0;
  if (!Number.isFinite(f) || !allFinite(g)) return { initialLoss, loss: f, iterations: 0, evaluations: 1, hessianEvaluations: 0, gradNorm: NaN, reason: 'nonFinite' };
  const H = new Float64Array(n * n);
  const L = new Float64Array(n * n);
  const p = new Float64Array(n);
  const b = new Float64Array(n);
  const Hp = new Float64Array(n);
  const xt = new Float64Array(n);
  const gt = new Float64Array(n);
  let k = 0;
  let reason: DenseStopReason = 'maxIter';
  let gnorm = amax(g);
  while (true) {
    if (gnorm <= s.gtol) {
      reason = 'tolGrad';
      break;
    }
    if (k >= s.maxIter) {
      reason = 'maxIter';
      break;
    }
    if (evals >= maxEval) {
      reason = 'maxEval';
      break;
    }
    evals += denseHessian(obj, x, H);
    hevals++;
    if (!allFinite(H)) {
      reason = 'nonFinite';
      break;
    }
    k++;
    let diagMax = 0;
    for (let i = 0; i < n; i++) diagMax = Math.max(diagMax, Math.abs(H[i * n + i]!));
    if (diagMax === 0) diagMax = 1;
    for (let i = 0; i < n; i++) b[i] = -g[i]!;
    let accepted = false;
    let trials = 0;
    // first the pure Newton step when H is positive definite; then shifts from the carried μ up
    let mu = 0;
    let nu = 2;
    while (trials < s.maxTrials) {
      while (!cholesky(H, n, mu, L)) {
        if (mu === 0) mu = Math.max(state.mu, s.tau * diagMax);
        else {
          mu *= nu;
          nu *= 2;
        }
        if (!Number.isFinite(mu)) break;
      }
      if (!Number.isFinite(mu)) break;
      cholSolve(L, n, b, p);
      // predicted decrease of the quadratic model −(gᵀp + ½pᵀHp) (> 0: (H + μI)p = −g)
      for (let i = 0; i < n; i++) {
        let v = 0;
        const row = i * n;
        for (let j = 0; j < n; j++) v += H[row + j]! * p[j]!;
        Hp[i] = v;
      }
      const pred = -(dot(g, p) + 0.5 * dot(p, Hp));
      for (let i = 0; i < n; i++) xt[i] = obj.round(x[i]! + p[i]!);
      const ft = obj.evaluate(xt, gt);
      evals++;
      trials++;
      const rho = (f - ft) / pred;
      if (Number.isFinite(ft) && allFinite(gt) && pred > 0 && rho > s.minGain) {
        const step = amax(p);
        x.set(xt);
        g.set(gt);
        f = ft;
        gnorm = amax(g);
        // Nielsen's update of the shift carried to the next iteration
        state.mu = mu === 0 ? state.mu / 3 : mu * Math.max(1 / 3, 1 - (2 * rho - 1) ** 3);
        if (state.mu < 1e-12 * diagMax) state.mu = 0;
        state.nu = 2;
        accepted = true;
        onIter?.(x, f, gnorm);
        if (step <= s.tolChange) reason = 'tolChange';
        break;
      }
      if (mu === 0) mu = Math.max(state.mu, s.tau * diagMax);
      else {
        mu *= nu;
        nu *= 2;
      }
      state.nu = nu;
      if (evals >= maxEval) break;
    }
    if (!accepted) {
      reason = evals >= maxEval ? 'maxEval' : 'lineSearch';
      break;
    }
    if (reason === 'tolChange') break;
  }
  return { initialLoss, loss: f, iterations: k, evaluations: evals, hessianEvaluations: hevals, gradNorm: gnorm, reason };
}

// ---------------------------------------------------------------- Newton-CG (truncated Newton)

/** Settings of {@link runNewtonCg} (scipy names). @internal */
export interface NewtonCgSettings {
  xtol: number;
  gtol: number;
  maxIter: number;
  cgMaxIter: number;
  c1: number;
  c2: number;
}

/**
 * scipy's `_minimize_newtoncg` (scipy/optimize/_optimize.py, 1.10): per iteration, CG from 0 on
 * `H·p = −g` using Hessian-vector products, stopped when `‖r‖₁ <= min(0.5, √‖g‖₁)·‖g‖₁`, on
 * curvature `pᵀHp ∈ [0, 3ε]`, or on negative curvature (the iterate so far, or on the first CG
 * iteration the steepest-descent step `(rᵀr / −pᵀHp)·(−g)`); `cgMaxIter` (20n) CG iterations
 * without one of these ends the run ('cgNotConverged', scipy's status 3). Step from
 * {@link wolfe1} (c1 = 1e-4, c2 = 0.9, amin = 1e-8, amax = 50). Stops when
 * `‖α·p‖₁ <= n·xtol` (scipy's `avextol`), after `maxIter` iterations, or when the line search fails.
 * Addition: `gtol > 0` also stops at `‖g‖∞ <= gtol` (scipy has no gradient test; default 0 = off).
 * Hessian-vector products: the objective's `hvp`, else {@link hvpCentral} (scipy: forward
 * differences with h = √ε).
 * @internal
 */
export function runNewtonCg(obj: Objective64, x: Float64Array, s: NewtonCgSettings, maxEval: number, onIter?: IterHook): DenseReport {
  const n = x.length;
  const g = new Float64Array(n);
  let f = obj.evaluate(x, g);
  const initialLoss = f;
  let evals = 1;
  let hevals = 0;
  if (!Number.isFinite(f) || !allFinite(g)) return { initialLoss, loss: f, iterations: 0, evaluations: 1, hessianEvaluations: 0, gradNorm: NaN, reason: 'nonFinite' };
  const xtol = n * s.xtol;
  let update = 2 * xtol;
  let oldOld: number | null = null;
  const xs = new Float64Array(n);
  const ri = new Float64Array(n);
  const ps = new Float64Array(n);
  const Ap = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const sc = hvpScratch(n);
  let k = 0;
  let reason: DenseStopReason = 'tolChange';
  const eps64 = 2 ** -52;
  const ls = { c1: s.c1, c2: s.c2, amin: 1e-8, amax: 50, xtol: 1e-14 };
  while (update > xtol) {
    if (k >= s.maxIter) {
      reason = 'maxIter';
      break;
    }
    if (amax(g) <= s.gtol) {
      reason = 'tolGrad';
      break;
    }
    if (evals >= maxEval) {
      reason = 'maxEval';
      break;
    }
    let maggrad = 0;
    for (const v of g) maggrad += Math.abs(v);
    const termcond = Math.min(0.5, Math.sqrt(maggrad)) * maggrad;
    xs.fill(0);
    ri.set(g);
    for (let i = 0; i < n; i++) ps[i] = -g[i]!;
    let dri0 = dot(ri, ri);
    let i = 0;
    let converged = false;
    for (let k2 = 0; k2 < s.cgMaxIter; k2++) {
      let rn = 0;
      for (const v of ri) rn += Math.abs(v);
      if (rn <= termcond) {
        converged = true;
        break;
      }
      if (obj.hvp) obj.hvp(x, ps, Ap);
      else {
        hvpCentral(obj, x, ps, Ap, sc);
        evals += 2;
      }
      hevals++;
      const curv = dot(ps, Ap);
      if (curv >= 0 && curv <= 3 * eps64) {
        converged = true;
        break;
      }
      if (curv < 0) {
        if (i === 0) for (let j = 0; j < n; j++) xs[j] = (dri0 / -curv) * -g[j]!;
        converged = true;
        break;
      }
      if (!Number.isFinite(curv)) break;
      const alpha = dri0 / curv;
      for (let j = 0; j < n; j++) {
        xs[j] = xs[j]! + alpha * ps[j]!;
        ri[j] = ri[j]! + alpha * Ap[j]!;
      }
      const dri1 = dot(ri, ri);
      const beta = dri1 / dri0;
      for (let j = 0; j < n; j++) ps[j] = -ri[j]! + beta * ps[j]!;
      i++;
      dri0 = dri1;
    }
    if (!converged) {
      reason = 'cgNotConverged';
      break;
    }
    const r = lineSearch(obj, x, xs, f, g, oldOld, ls, xNew, gNew);
    if (r === null) {
      reason = 'lineSearch';
      break;
    }
    evals += r.evals;
    oldOld = f;
    f = r.f;
    update = 0;
    for (let j = 0; j < n; j++) update += Math.abs(xNew[j]! - x[j]!);
    x.set(xNew);
    g.set(gNew);
    k++;
    onIter?.(x, f, amax(g));
  }
  return { initialLoss, loss: f, iterations: k, evaluations: evals, hessianEvaluations: hevals, gradNorm: amax(g), reason };
}
