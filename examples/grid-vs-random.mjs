// Grid search against random search with the same budget (Bergstra & Bengio, 2012), on the digits.
//
//   node examples/grid-vs-random.mjs        (--quick: fewer seeds and digits)
//
// Nine trials each, over two hyperparameters of which only one matters much: Adam's learning rate
// (log-uniform over four decades) and its β1 (uniform in [0.8, 0.95]). A 3×3 grid tries three
// learning rates, three times each; random search tries nine. Whether the grid does well depends on
// luck: on whether one of its three rates lands near the best one. So the comparison is repeated
// for five placements of the learning-rate range ([1e-4, 1] × 10^s, s = 0, −0.5, …, −2) and, for
// each, over seeds (the random search's sampling seed and every trial's seed; the grid stays the
// grid). Random search's result hardly depends on the placement; the grid's swings with it, and in
// its unlucky placements it is clearly worse: random search is the safer use of the same budget.
import { init, Sequential, dense, adam } from 'wasmfit';
import { gridSearch, randomSearch, logUniform, uniform } from 'wasmfit/tuning';
import { loadDigits } from 'wasmfit/node';
import { isMain, mean, printTable, quickFromEnv } from './_util.mjs';

/** One placement: the best validation accuracy per seed of each method, and the distinct rates tried. */
async function compare(train, test, shift, seeds) {
  const space = { lr: logUniform(1e-4 * 10 ** shift, 10 ** shift), beta1: uniform(0.8, 0.95) };
  const common = {
    space,
    data: { x: train.x, y: train.y, validationData: [test.x, test.y] },
    metric: 'valAccuracy',
    budget: { epochs: 2 },
    build: (c, { seed }) => {
      const model = new Sequential({ inputShape: [784], layers: [dense(64, { activation: 'relu', kernelInitializer: 'heNormal' }), dense(10)], seed });
      model.compile({ optimizer: adam({ lr: c.lr, betas: [c.beta1, 0.999] }), loss: 'softmaxCrossEntropy' });
      return { model, fit: { batchSize: 32 } };
    },
  };
  const grid = [];
  const random = [];
  for (let s = 0; s < seeds; s++) {
    const g = await gridSearch({ ...common, points: 3, seed: s });
    const r = await randomSearch({ ...common, trials: g.trials.length, seed: s });
    grid.push(g.best.metric);
    random.push(r.best.metric);
  }
  return { shift, range: [1e-4 * 10 ** shift, 10 ** shift], grid, random };
}

/**
 * Returns { placements: [{ shift, range, grid: number[], random: number[] }], summary } with, per
 * method, the mean best accuracy over all runs, the worst placement's mean and the spread (max −
 * min) of the placement means.
 * options.quick: 4 seeds on 600 training digits (default 10 seeds on 1,500).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  const seeds = options.seeds ?? (quick ? 4 : 10);
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: quick ? 600 : 1500, testSize: 500 });
  const placements = [];
  for (const shift of [0, -0.5, -1, -1.5, -2]) placements.push(await compare(train, test, shift, seeds));
  const summary = {};
  for (const m of ['grid', 'random']) {
    const means = placements.map((p) => mean(p[m]));
    summary[m] = { mean: mean(means), worst: Math.min(...means), spread: Math.max(...means) - Math.min(...means) };
  }
  return { placements, summary, seeds, trials: 9 };
}

if (isMain(import.meta.url)) {
  const r = await run({ quick: quickFromEnv() });
  console.log(`best held-out accuracy, mean over ${r.seeds} seeds, ${r.trials} trials per search\n`);
  printTable(
    ['learning-rate range', 'grid 3×3', 'random 9', 'random wins / seeds'],
    r.placements.map((p) => [`[${p.range[0].toPrecision(2)}, ${p.range[1].toPrecision(2)}]`, mean(p.grid).toFixed(4), mean(p.random).toFixed(4), `${p.random.filter((v, i) => v > p.grid[i]).length} / ${r.seeds}`]),
  );
  console.log('');
  printTable(
    ['search', 'mean', 'worst placement', 'spread of placements'],
    ['grid', 'random'].map((m) => [m === 'grid' ? 'grid 3×3' : 'random 9', r.summary[m].mean.toFixed(4), r.summary[m].worst.toFixed(4), r.summary[m].spread.toFixed(4)]),
  );
}
