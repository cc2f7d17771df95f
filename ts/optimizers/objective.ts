/**
 * A model's full-batch objective as a plain function, for running any optimizer by hand (gradient
 * descent, momentum, the standalone `minimize` of lbfgs / cg / newton / bfgs) on exactly what
 * `fit` minimizes with a full-batch optimizer. Part of `wasmfit/newton`.
 */
import { DisposedError, OptionError, ShapeError } from '../errors/index.js';
import { type Features, type Labels, toFeatures } from '../data/tensor.js';
import type { Runtime } from '../runtime/loader.js';
import type { Sequential } from '../model/sequential.js';
import type { Stepper } from '../model/stepper.js';
import type { LossAndGrad } from './minimize.js';

/** What {@link fullBatchObjective} returns. */
export interface FullBatchObjective {
  /** Number of trainable parameters (the flat vector's length). */
  readonly size: number;
  /**
   * Loss and gradient at `params` (float64 in, float64 out; evaluated in float32 by the model's
   * kernels): the mean loss over all rows plus the layers' L1/L2 penalties. Leaves the model's
   * weights at `params`.
   */
  f(params: ArrayLike<number>): LossAndGrad & { grad: Float64Array };
  /** The model's current trainable parameters as one flat vector (layer order, kernel then bias). */
  params(): Float64Array;
  /** Writes a flat vector back into the model's trainable parameters. */
  setParams(params: ArrayLike<number>): void;
}

interface Internals {
  stepper: Stepper;
  rt: Runtime;
  disposed: boolean;
}

/**
 * The full-batch objective of a model compiled with a full-batch optimizer (`newton`, `newtonCG`,
 * `bfgs`, `lbfgs` or `cg`: the one `fit` with `batchSize = rows` minimizes), on the rows `x`, `y`.
 * Throws {@link OptionError} when the model is not compiled with one, {@link ShapeError} for
 * mismatched data.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: bfgs(), loss: 'softmaxCrossEntropy' });
 * const obj = fullBatchObjective(model, x, y);
 * let p = obj.params();
 * for (let t = 0; t < 100; t++) { const { grad } = obj.f(p); p = p.map((v, i) => v - 0.1 * grad[i]); } // gradient descent
 * obj.setParams(p);
 * ```
 */
export function fullBatchObjective(model: Sequential, x: Features, y: Labels | Features): FullBatchObjective {
  const W = 'fullBatchObjective';
  const m = model as unknown as Internals;
  if (!m || typeof m !== 'object' || !m.stepper) throw new OptionError('model', `${W}: pass a Sequential model.`);
  if (m.disposed) throw new DisposedError(`${W}: the model was disposed.`);
  const st = m.stepper;
  if (!st.fullBatch) {
    throw new OptionError('model', `${W}: the model is not compiled with a full-batch optimizer; compile it with newton(), newtonCG(), bfgs(), lbfgs() or cg() first (the objective is the one those minimize).`);
  }
  const fx = toFeatures(x, st.inputs, W);
  const yt = st.targets(y, fx.rows, W);
  const size = st.fullBatch.size;
  const rt = m.rt;
  const a = rt.arena;
  const check = (p: ArrayLike<number>, what: string) => {
    if (!p || typeof p.length !== 'number' || p.length !== size) throw new ShapeError(`${W}: ${what} has ${p?.length} values; the model has ${size} trainable parameters.`);
  };
  const withBlocks = <T>(fn: (xp: ReturnType<typeof a.allocF32>, gp: ReturnType<typeof a.allocF32>) => T): T => {
    if (m.disposed) throw new DisposedError(`${W}: the model was disposed.`);
    const xp = a.allocF32(size);
    const gp = a.allocF32(size);
    try {
      return fn(xp, gp);
    } finally {
      a.free(xp);
      a.free(gp);
    }
  };
  return {
    size,
    f(params) {
      check(params, 'params');
      return withBlocks((xp, gp) => {
        a.writeF32(xp, params);
        // (re)load the rows each time: fit / predict between calls may have reused the plan
        const obj = st.fullBatchObjective(fx.data, yt, fx.rows)!;
        const loss = obj.evaluate(xp, gp);
        return { loss, grad: Float64Array.from(a.readF32(gp, size)) };
      });
    },
    params() {
      return withBlocks((xp) => {
        st.fullBatchObjective(fx.data, yt, fx.rows)!.gather(xp);
        return Float64Array.from(a.readF32(xp, size));
      });
    },
    setParams(params) {
      check(params, 'params');
      withBlocks((xp) => {
        a.writeF32(xp, params);
        st.fullBatchObjective(fx.data, yt, fx.rows)!.scatter(xp);
      });
    },
  };
}
