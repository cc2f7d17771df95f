/**
 * Standalone use of the full-batch optimizers on a user function `f(params) → { loss, grad }`.
 */
import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';
import type { Ptr } from '../runtime/arena.js';
import { getRuntime, type Runtime } from '../runtime/loader.js';
import { type EngineSettings, type EngineState, type FlatObjective, SecondOrderEngine, type StopReason } from './second-order.js';
import { forget, onCollect } from '../runtime/collect.js';

/** What a user objective returns: the loss and its gradient (one value per parameter). */
export interface LossAndGrad {
  loss: number;
  grad: Float32Array | Float64Array | readonly number[];
}

/** A user objective: called with a copy of the trial parameters. */
export type ObjectiveFn = (params: Float32Array) => LossAndGrad;

/** What {@link Minimizer.step} and `minimize` report. */
export interface MinimizeResult {
  /** The final parameters (a copy). */
  x: Float32Array;
  /** Loss at the final parameters. */
  loss: number;
  /** Loss at the parameters the step started from (PyTorch's `step` return value). */
  initialLoss: number;
  /** Iterations of this step. */
  iterations: number;
  /** Objective evaluations of this step (including the final one `minimize` may add). */
  evaluations: number;
  /** Why the step ended: gradient below `tolGrad`, progress below `tolChange`, `maxIter`, `maxEval`, or a non-finite loss. */
  reason: StopReason;
}


/** Objective adapter: WASM vector ↔ user function, validating what the user returns. */
class UserObjective implements FlatObjective {
  constructor(private readonly rt: Runtime, readonly size: number, private readonly f: ObjectiveFn, private readonly where: string) {}
  evaluate(x: Ptr, g: Ptr): number {
    const a = this.rt.arena;
    const r = this.f(a.readF32(x, this.size));
    if (!r || typeof r !== 'object' || typeof r.loss !== 'number') throw new OptionError('f', `${this.where}: the objective returned ${typeof r === 'object' ? JSON.stringify(r) : String(r)}; it must return { loss: number, grad: Float32Array }.`);
    const gr = r.grad as ArrayLike<number> | undefined;
    if (!gr || typeof gr.length !== 'number' || gr.length !== this.size) {
      throw new ShapeError(`${this.where}: the objective returned a gradient of length ${gr?.length}; expected ${this.size} (one value per parameter).`);
    }
    a.writeF32(g, gr);
    return r.loss;
  }
}

/**
 * A running full-batch minimization whose state (direction, step, L-BFGS history or CG restart
 * counter) lives in WASM memory across {@link step} calls — PyTorch's optimizer state between
 * `optimizer.step(closure)` calls. Call {@link dispose} when done (a FinalizationRegistry frees
 * it otherwise).
 */
export class Minimizer {
  private readonly engine: SecondOrderEngine;
  private readonly rt: Runtime;
  private readonly where: string;
  private disposed_ = false;
  private readonly token = {};

  /** @internal */
  constructor(settings: EngineSettings, x0: Float32Array | readonly number[], where: string, state?: EngineState) {
    if (!x0 || typeof (x0 as ArrayLike<number>).length !== 'number' || x0.length === 0) throw new ShapeError(`${where}: x0 must be a non-empty Float32Array or number[] of starting parameters.`);
    for (let i = 0; i < x0.length; i++) {
      const v = x0[i]!;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new NonFiniteError(`${where}: x0[${i}] = ${String(v)}; starting parameters must be finite.`);
    }
    if (state !== undefined) checkState(state, settings, x0.length, where);
    this.rt = getRuntime();
    this.where = where;
    this.engine = new SecondOrderEngine(this.rt, x0.length, settings);
    this.rt.arena.writeF32(this.engine.x, x0);
    if (state !== undefined) this.engine.importState(state);
    const e = this.engine;
    onCollect(this, () => e.dispose(), this.token);
  }

  /** The current parameters (a copy). */
  get x(): Float32Array {
    this.check();
    return this.rt.arena.readF32(this.engine.x, this.engine.size);
  }

  /** Iterations and objective evaluations over all steps so far. */
  get stats(): { iterations: number; evaluations: number } {
    return { iterations: this.engine.nIter, evaluations: this.engine.funcEvals };
  }

  private check(): void {
    if (this.disposed_) throw new OptionError('minimizer', `${this.where}: this minimizer was disposed; create a new one with init(x0).`);
  }

  /**
   * One PyTorch `step(closure)`: up to `maxIter` iterations on `f`. When the last move was not
   * evaluated (no line search and `maxIter` reached, as PyTorch), the final loss is evaluated
   * once more so that `loss` is always the loss at `x`.
   */
  step(f: ObjectiveFn): MinimizeResult {
    this.check();
    if (typeof f !== 'function') throw new OptionError('f', `${this.where}: pass the objective as a function (params) => ({ loss, grad }).`);
    const obj = new UserObjective(this.rt, this.engine.size, f, this.where);
    const r = this.engine.step(obj);
    let loss = r.loss;
    let evaluations = r.evaluations;
    if (Number.isNaN(loss) && r.reason !== 'nonFinite') {
      const scratch = this.rt.arena.allocF32(this.engine.size);
      try {
        loss = obj.evaluate(this.engine.x, scratch);
        evaluations++;
      } finally {
        this.rt.arena.free(scratch);
      }
    }
    return { x: this.x, loss, initialLoss: r.initialLoss, iterations: r.iterations, evaluations, reason: r.reason };
  }

  /**
   * A copy of the optimizer state (direction, step, history or restart counter, counters): pass it
   * with the parameters to `init(x, state)` to continue exactly where this run stands.
   */
  getState(): EngineState {
    this.check();
    return this.engine.exportState();
  }

  /** Frees the WASM memory. Idempotent. */
  dispose(): void {
    if (this.disposed_) return;
    this.disposed_ = true;
    forget(this.token);
    this.engine.dispose();
  }
}

function checkState(st: EngineState, s: EngineSettings, n: number, where: string): void {
  const bad = (what: string): never => {
    throw new OptionError('state', `${where}: state ${what}; pass the object getState() returned for this optimizer and parameter count.`);
  };
  if (!st || typeof st !== 'object') bad('is not an object');
  if (st.method !== s.method) bad(`belongs to ${String(st.method)}, not ${s.method}`);
  if (st.size !== n) bad(`is for ${st.size} parameters, not ${n}`);
  const nums = [st.nIter, st.funcEvals, st.t, st.hDiag, st.prevGtd, st.sinceRestart];
  if (!nums.every((v) => typeof v === 'number' && Number.isFinite(v))) bad('has non-finite counters or scalars');
  const vec = (v: unknown) => (v instanceof Float32Array || Array.isArray(v)) && (v as ArrayLike<number>).length === n && Array.prototype.every.call(v, (x: unknown) => typeof x === 'number' && Number.isFinite(x));
  if (!vec(st.d) || !vec(st.prevG)) bad('has direction or gradient vectors of the wrong length or with non-finite values');
  if (!Array.isArray(st.dirs) || !Array.isArray(st.stps) || !Array.isArray(st.ro) || st.dirs.length !== st.stps.length || st.ro.length !== st.dirs.length) bad('has an inconsistent history');
  if (st.dirs.length > s.historySize && s.method === 'lbfgs') bad(`holds ${st.dirs.length} pairs, more than historySize ${s.historySize}`);
  if (!st.dirs.every(vec) || !st.stps.every(vec) || !st.ro.every((v) => Number.isFinite(v))) bad('has history vectors of the wrong length or with non-finite values');
}

/** `init(x0)` then one `step(f)`, then dispose. @internal */
export function minimizeOnce(settings: EngineSettings, f: ObjectiveFn, x0: Float32Array | readonly number[], where: string): MinimizeResult {
  const m = new Minimizer(settings, x0, where);
  try {
    return m.step(f);
  } finally {
    m.dispose();
  }
}
