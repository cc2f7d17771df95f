/**
 * A model's full-batch objective for L-BFGS / CG: the mean loss of the plan's current batch plus
 * the layers' L1/L2 penalties, over all trainable tensors as one flat vector. One optimizer step
 * (PyTorch's `optimizer.step(closure)`) per `fit` batch.
 * @internal
 */
import { PLAN, STATUS } from '../runtime/abi.js';
import { checkStatus } from '../runtime/status.js';
import { offsetF32, type Ptr } from '../runtime/arena.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Runtime } from '../runtime/loader.js';
import { type EngineSettings, type EngineState, type FlatObjective, SecondOrderEngine } from '../optimizers/second-order.js';
import type { CompiledPlan } from './plan.js';
import { type DenseEngine, type FullBatchConfig, denseEngine, isDenseOptimizer } from '../optimizers/dense-registry.js';

/** One trainable tensor: values, gradient buffer, size and its Keras-convention penalties. @internal */
export interface FlatTensor {
  w: Ptr;
  g: Ptr;
  n: number;
  l1: number;
  l2: number;
}

/** Copies between the tensors and a flat vector, and evaluates the objective on a plan's batch. @internal */
export class ModelObjective implements FlatObjective {
  readonly size: number;
  private readonly kernels: Kernels;
  /** Data-loss sum, correct count and outputs of the first evaluation since {@link reset}. */
  first: { lossSum: number; correct: number; outputs: Float32Array } | null = null;
  plan: CompiledPlan | null = null;
  rows = 0;

  constructor(private readonly rt: Runtime, private readonly tensors: readonly FlatTensor[], private readonly outputs: number) {
    this.size = tensors.reduce((s, t) => s + t.n, 0);
    this.kernels = rt.kernels;
  }

  reset(plan: CompiledPlan, rows: number): void {
    this.plan = plan;
    this.rows = rows;
    this.first = null;
  }

  /** tensors → x */
  gather(x: Ptr): void {
    let off = 0;
    for (const t of this.tensors) {
      this.kernels.vecCopy(t.w, offsetF32(x, off), t.n);
      off += t.n;
    }
  }

  /** x → tensors */
  scatter(x: Ptr): void {
    let off = 0;
    for (const t of this.tensors) {
      this.kernels.vecCopy(offsetF32(x, off), t.w, t.n);
      off += t.n;
    }
  }

  evaluate(x: Ptr, g: Ptr): number {
    const plan = this.plan!;
    const n = this.rows;
    this.scatter(x);
    const st = this.kernels.gradStep(plan.plan, plan.x, plan.labels, n);
    const r = plan.results();
    // the step reports the loss (and fit's metrics read the outputs) at the point it started from
    this.first ??= { lossSum: r.lossSum, correct: r.correct, outputs: this.rt.arena.readF32(plan.trainOutput, n * this.outputs) };
    // a non-finite loss is the line search's business (NaN); any other failure is a typed error
    if (st === STATUS.nonFiniteLoss) return NaN;
    checkStatus(st, 'fit (full-batch gradient)');
    let loss = r.lossSum / n;
    let off = 0;
    for (const t of this.tensors) {
      const gp = offsetF32(g, off);
      this.kernels.vecCopy(t.g, gp, t.n);
      if (t.l2 !== 0) {
        loss += t.l2 * this.kernels.vecDot(t.w, t.w, t.n);
        this.kernels.vecAxpy(2 * t.l2, t.w, gp, t.n);
      }
      if (t.l1 !== 0) {
        loss += t.l1 * this.kernels.vecAsum(t.w, t.n);
        this.kernels.vecAddSign(t.l1, t.w, gp, t.n);
      }
      off += t.n;
    }
    return loss;
  }
}

/** The model's L-BFGS / CG (or newton / newtonCG / bfgs) state: engine + objective. @internal */
export class FullBatchStepper {
  private readonly engine: DenseEngine;
  private readonly obj: ModelObjective;
  /** What the last step did (for tests and diagnostics). */
  last: { iterations: number; evaluations: number; reason: string; loss: number; gradNorm?: number; hessianEvaluations?: number } | null = null;

  constructor(private readonly rt: Runtime, tensors: readonly FlatTensor[], outputs: number, settings: EngineSettings | null, config?: FullBatchConfig) {
    this.obj = new ModelObjective(rt, tensors, outputs);
    this.engine = settings ? new SecondOrderEngine(rt, this.obj.size, settings) : denseEngine(isDenseOptimizer(config) ? config : (config as never), rt, this.obj.size);
  }

  /** One step on the plan's first `n` rows; writes the initial loss / correct count back to the plan. */
  step(plan: CompiledPlan, n: number, lr: number): number {
    this.engine.s.lr = lr;
    this.obj.reset(plan, n);
    this.obj.gather(this.engine.x);
    const r = this.engine.step(this.obj);
    // the parameters the engine ended on (on a non-finite start nothing moved)
    this.obj.scatter(this.engine.x);
    this.last = { iterations: r.iterations, evaluations: r.evaluations, reason: r.detail ?? r.reason, loss: r.loss, gradNorm: r.gradNorm, hessianEvaluations: r.hessianEvaluations };
    const f = this.obj.first!;
    const v = this.rt.arena.view;
    v.setFloat32(plan.plan + PLAN.outLoss, f.lossSum, true);
    v.setUint32(plan.plan + PLAN.outCorrect, f.correct, true);
    this.rt.arena.writeF32(plan.trainOutput, f.outputs);
    return r.iterations === 0 && r.reason === 'nonFinite' ? STATUS.nonFiniteLoss : STATUS.ok;
  }

  /** The objective on the plan's first `n` rows (for `fullBatchObjective` of wasmfit/newton). */
  objectiveOn(plan: CompiledPlan, n: number): ModelObjective {
    this.obj.reset(plan, n);
    return this.obj;
  }

  /** Number of parameters in the flat vector. */
  get size(): number {
    return this.engine.size;
  }

  /** A copy of the L-BFGS / CG state kept between steps (for checkpoints). */
  exportState(): EngineState {
    return this.engine.exportState();
  }

  /** Restores {@link exportState} output (validated by the caller: method, size, lengths). */
  importState(st: EngineState): void {
    this.engine.importState(st);
  }

  dispose(): void {
    this.engine.dispose();
  }
}
