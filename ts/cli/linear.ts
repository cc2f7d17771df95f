/**
 * `wasmfit train`'s linear model, fitted as scikit-learn fits one when the user chose no optimizer
 * options: `LogisticRegression()` (lbfgs solver, L2 penalty, C = 1) for classification and
 * `LinearRegression()` (no penalty) for regression. Both objectives are strictly convex (least
 * squares: for full-rank features), so full-batch L-BFGS run to convergence reaches scikit-learn's
 * solution, whatever the initialization; an SGD-type optimizer with a fixed epoch budget and early
 * stopping does not (it stops short of the optimum on small data sets such as iris).
 * @internal
 */
import { Sequential } from '../model/sequential.js';
import type { ModelSpec } from '../model/spec.js';
import { lbfgs, type LbfgsConfig } from '../optimizers/index.js';
import type { Runtime } from '../runtime/loader.js';

/**
 * The L2 coefficient λ on the output kernel (wasmfit's objective: mean loss + λ·Σw²) that gives
 * scikit-learn's `LogisticRegression(C=1)` objective, Σᵢ log-loss + ½‖W‖², divided by the row
 * count n:
 * - K ≥ 3 classes (multinomial, one weight vector per class): λ = 1/(2n).
 * - 2 classes: scikit-learn fits one logit d = w₁ − w₀ with penalty ½‖d‖². wasmfit's two softmax
 *   columns with penalty λ(‖w₀‖² + ‖w₁‖²) have their optimum at w₀ = −w₁ (the data loss depends on
 *   d only), where the penalty is λ‖d‖²/2; so λ = 1/n.
 * - regression (`LinearRegression`): 0.
 */
export function linearPenalty(classes: number | null, rows: number): number {
  if (classes === null) return 0;
  return classes === 2 ? 1 / rows : 1 / (2 * rows);
}

/**
 * Full-batch L-BFGS with the strong-Wolfe line search, in one `fit` epoch (one `step(closure)` of
 * up to 1000 iterations; it ends earlier on PyTorch's tolerances, tolerance_grad 1e-7 and
 * tolerance_change 1e-9).
 */
export function linearOptimizer(): LbfgsConfig {
  return lbfgs({ lineSearch: 'strongWolfe', maxIter: 1000 });
}

/** The linear model of a spec, compiled with {@link linearOptimizer} (the spec's optimizer is ignored). */
export function linearModel(spec: ModelSpec, runtime: Runtime): Sequential {
  const model = new Sequential({ inputShape: spec.inputShape, layers: spec.layers, ...(spec.seed !== undefined ? { seed: spec.seed } : {}), runtime });
  try {
    model.compile({ optimizer: linearOptimizer(), loss: spec.loss });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
