// First- and second-order methods on the same full-batch objectives: gradient descent, momentum,
// conjugate gradient, BFGS, L-BFGS, Newton and truncated Newton (Newton-CG), each run until the
// gradient's largest component falls below a fixed target, on two real problems:
//
//   1. L2-regularized softmax (logistic) regression on MNIST digits averaged down to 7×7 pixels
//      (49 features, 10 classes: 500 parameters; strictly convex);
//   2. a small tanh MLP on the same digits (49-64-10: 3,850 parameters; not convex) — too many for
//      newton()'s default cap of 3,000 parameters (an n×n Hessian and O(n³) per step), which
//      refuses it and points to newtonCG(); Newton-CG runs instead.
//
//   node examples/second-order.mjs          (--quick: a reduced size, a few seconds)
//
// What the notes predict, and what the table shows: gradient descent with the step 1/L (L: the
// largest Hessian eigenvalue at the start, by power iteration) needs thousands of iterations on
// an ill-conditioned problem; momentum (β = 0.9) fewer; CG and L-BFGS, with line searches and
// curvature information from gradients alone, far fewer; BFGS (a dense inverse-Hessian
// approximation) fewer iterations still; Newton's method converges quadratically in a handful of
// iterations — but each costs n Hessian-vector products (2n gradient evaluations here) and an
// O(n³) factorization, so it wins in iterations, not always in evaluations or time. Newton-CG
// uses a few Hessian-vector products per iteration instead.
//
// Prints a table (iterations, objective evaluations, milliseconds to reach the target) and writes
// docs/img/examples/second-order.svg (max|g| per iteration, and the smallest max|g| reached vs
// objective evaluations — every gradient evaluation counts, those of line searches and of
// finite-difference Hessian-vector products included).
import { init, Sequential, dense, l2, lbfgs, cg } from 'wasmfit';
import { newton, newtonCG, bfgs, fullBatchObjective } from 'wasmfit/newton';
import { plotSeries } from 'wasmfit/plot';
import { loadDigits } from 'wasmfit/node';
import { isMain, printTable, quickFromEnv, rel, svgGrid, writeSvg } from './_util.mjs';

/** 28×28 digits averaged over 4×4 blocks → 7×7. */
function pool7(x, rows) {
  const out = new Float32Array(rows * 49);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < 28; i++)
      for (let j = 0; j < 28; j++) out[r * 49 + ((i >> 2) * 7 + (j >> 2))] += x[r * 784 + i * 28 + j] / 16;
  return out;
}

const infNorm = (g) => {
  let m = 0;
  for (const v of g) m = Math.max(m, Math.abs(v));
  return m;
};

/** Largest Hessian eigenvalue at p by power iteration on central-difference Hessian-vector products. */
function largestEigenvalue(f, p, iters = 30) {
  const n = p.length;
  let v = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  let lambda = 0;
  const h = 1e-3;
  for (let k = 0; k < iters; k++) {
    const nv = Math.hypot(...v);
    v = v.map((x) => x / nv);
    const gp = f(p.map((x, i) => x + h * v[i])).grad;
    const gm = f(p.map((x, i) => x - h * v[i])).grad;
    const hv = gp.map((x, i) => (x - gm[i]) / (2 * h));
    lambda = hv.reduce((s, x, i) => s + x * v[i], 0);
    v = hv;
  }
  return lambda;
}

/**
 * Runs every method on one problem. Each method gets the same objective `f` wrapped with an
 * evaluation counter and a trace of (evaluations, smallest gradient norm so far).
 */
function compare(problem, obj, x0, target, caps) {
  const rows = [];
  const traces = [];
  const iterTraces = [];
  const L = largestEigenvalue(obj.f, x0);
  const counted = () => {
    const c = { evals: 0, best: Infinity, trace: [] };
    c.f = (p) => {
      const r = obj.f(p);
      c.evals++;
      const g = infNorm(r.grad);
      if (g < c.best) {
        c.best = g;
        c.trace.push([c.evals, g]);
      }
      return r;
    };
    return c;
  };
  const record = (name, c, iterations, ms, perIter, extra = {}) => {
    rows.push({ problem, name, iterations, evaluations: c.evals, ms, gradNorm: c.best, reached: c.best <= target, ...extra });
    traces.push({ name, values: c.trace.map((t) => Math.log10(t[1])), x: c.trace.map((t) => Math.log10(t[0])) });
    // max|g| at iterates 1, 2, … (iteration 0 is the start, common to all)
    iterTraces.push({ name, values: perIter.map((g) => Math.log10(g)), x: perIter.map((_, i) => Math.log10(i + 1)) });
  };
  // max|g| after each iteration, through the minimize callback
  const perIterOf = () => {
    const g = [];
    return { g, callback: (info) => g.push(info.gradNorm) };
  };
  const firstOrder = (name, beta) => {
    const c = counted();
    const t0 = performance.now();
    const p = Float64Array.from(x0);
    const vel = new Float64Array(p.length);
    let it = 0;
    const perIter = [];
    let { grad } = c.f(p);
    while (infNorm(grad) > target && it < caps.firstOrder) {
      for (let i = 0; i < p.length; i++) {
        vel[i] = beta * vel[i] - grad[i] / L;
        p[i] += vel[i];
      }
      grad = c.f(p).grad;
      perIter.push(infNorm(grad));
      it++;
    }
    record(name, c, it, performance.now() - t0, perIter, { lr: 1 / L });
  };
  firstOrder('gradient descent', 0);
  firstOrder('momentum', 0.9);
  const f32 = (c) => (p) => {
    const r = c.f(p);
    return { loss: r.loss, grad: r.grad };
  };
  for (const [name, make] of [
    ['CG', (maxIter = caps.quasi) => cg({ maxIter, maxEval: 3 * maxIter, tolGrad: target, tolChange: 0 })],
    ['L-BFGS', (maxIter = caps.quasi) => lbfgs({ lineSearch: 'strongWolfe', historySize: 10, maxIter, maxEval: 3 * maxIter, tolGrad: target, tolChange: 0 })],
  ]) {
    const c = counted();
    const t0 = performance.now();
    const r = make().minimize(f32(c), Float32Array.from(x0));
    const ms = performance.now() - t0;
    // the per-iteration trace from a second run, one iteration per step (the state carries over, as
    // between PyTorch optimizer.step calls: same iterates; each step starts by evaluating there)
    const perIter = [];
    const run = make(1).init(Float32Array.from(x0));
    let first = true;
    const probe = (p) => {
      const v = obj.f(p);
      if (first) perIter.push(infNorm(v.grad));
      first = false;
      return { loss: v.loss, grad: v.grad };
    };
    for (let k = 0; k <= r.iterations; k++) {
      first = true;
      const s = run.step(probe);
      if (s.reason === 'tolGrad' && s.iterations === 0) break;
    }
    run.dispose();
    record(name, c, r.iterations, ms, perIter.slice(1));
  }
  for (const [name, scaleInitial] of [['BFGS', false], ['BFGS, scaled H0', true]]) {
    const c = counted();
    const t0 = performance.now();
    const it = perIterOf();
    const r = bfgs({ gtol: target, maxIter: caps.quasi, scaleInitial }).minimize(c.f, x0, { callback: it.callback });
    record(name, c, r.iterations, performance.now() - t0, it.g);
  }
  // newton() refuses more than maxParams parameters (default 3000) with an error that says what to do
  const nt = newton({ gtol: target, maxParams: caps.newtonParams });
  let refused = null;
  try {
    nt.init(x0);
  } catch (e) {
    refused = e.message;
  }
  if (refused) rows.push({ problem, name: 'Newton', refused });
  else {
    const c = counted();
    const t0 = performance.now();
    const it = perIterOf();
    const r = nt.minimize(c.f, x0, { callback: it.callback });
    record('Newton', c, r.iterations, performance.now() - t0, it.g, { hessians: r.hessianEvaluations });
  }
  {
    const c = counted();
    const t0 = performance.now();
    const it = perIterOf();
    const r = newtonCG({ gtol: target, maxIter: caps.quasi }).minimize(c.f, x0, { callback: it.callback });
    record('Newton-CG', c, r.iterations, performance.now() - t0, it.g, { hessianProducts: r.hessianEvaluations });
  }
  return { rows, traces, iterTraces, L };
}

/**
 * Runs both problems; returns { problems: [{ name, params, target, L, rows }], svg }.
 * options.quick: 400 digits and lower iteration caps (default 3,000 digits).
 * options.svgDir: where to write the SVG (default docs/img/examples; null: do not write).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  await init();
  const { train } = await loadDigits({ seed: 0, trainSize: quick ? 400 : 3000, testSize: 100 });
  const x = pool7(train.x, train.rows);
  const y = train.y;
  // quick: a 600-parameter cap for newton, so that the reduced MLP (970 parameters) is refused as the full one is
  const caps = quick ? { firstOrder: 3000, quasi: 400, newtonParams: 600 } : { firstOrder: 20000, quasi: 3000, newtonParams: 3000 };
  const hidden = quick ? 16 : 64;
  const specs = [
    { name: 'logistic regression', target: 1e-4, layers: () => [dense(10, { kernelRegularizer: l2(1e-3), biasRegularizer: l2(1e-3) })] },
    { name: `MLP 49-${hidden}-10`, target: 1e-3, layers: () => [dense(hidden, { activation: 'tanh', kernelRegularizer: l2(1e-4) }), dense(10, { kernelRegularizer: l2(1e-4) })] },
  ];
  const problems = [];
  const charts = [];
  for (const spec of specs) {
    const model = new Sequential({ inputShape: [49], layers: spec.layers(), seed: 1 });
    model.compile({ optimizer: bfgs(), loss: 'softmaxCrossEntropy' }); // any full-batch optimizer: it fixes the objective
    const obj = fullBatchObjective(model, x, y);
    const x0 = obj.params();
    const r = compare(spec.name, obj, x0, spec.target, caps);
    problems.push({ name: spec.name, params: x0.length, target: spec.target, L: r.L, rows: r.rows });
    charts.push(
      plotSeries(r.iterTraces, { title: `${spec.name} (${x0.length} parameters): max|g| per iteration`, xLabel: 'log10(iteration)', yLabel: 'log10 max|g|', width: 560, height: 380 }),
      plotSeries(r.traces, { title: `${spec.name}: smallest max|g| vs objective evaluations`, xLabel: 'log10(objective evaluations)', yLabel: 'log10 max|g|', width: 560, height: 380 }),
    );
    model.dispose();
  }
  const file = writeSvg('second-order.svg', svgGrid(charts, 2), options.svgDir);
  return { problems, svg: file };
}

if (isMain(import.meta.url)) {
  const r = await run({ quick: quickFromEnv() });
  for (const p of r.problems) {
    console.log(`\n${p.name}: ${p.params} parameters, full batch, target max|g| <= ${p.target} (gradient descent step 1/L, L = ${p.L.toPrecision(3)})\n`);
    printTable(
      ['method', 'iterations', 'evaluations', 'ms', 'reached', 'final max|g|'],
      p.rows.map((x) => (x.refused ? [x.name, '-', '-', '-', 'refused', '-'] : [x.name, x.iterations, x.evaluations, x.ms.toFixed(0), x.reached ? 'yes' : 'no', x.gradNorm.toExponential(2)])),
    );
    for (const x of p.rows) if (x.refused) console.log(`(${x.name}: ${x.refused})`);
  }
  console.log(`\nwrote ${rel(r.svg)}`);
}
