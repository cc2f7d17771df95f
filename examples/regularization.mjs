// Regularization on a network that over-fits: 784-256-256-10 ReLU trained with Adam on only 500
// real MNIST digits, validated on 1,000 held-out digits.
//
//   node examples/regularization.mjs      (--quick: a reduced size, a few seconds)
//
// Without regularization the training loss goes to ~0 while the validation loss turns up after a
// few epochs (the network memorizes). Each technique fights that in its own way:
//   L2          shrinks every weight (smaller weight norm, smaller validation loss)
//   L1          drives many weights to exactly-small values (a sparse first layer: the fraction of
//               |w| < 1e-3 is printed)
//   elastic net both
//   dropout     zeroes half the hidden units at random while training
//   max-norm    caps the L2 norm of each unit's incoming weights at 1 (the largest norm is printed)
//   batch norm  normalizes each hidden layer's inputs per batch
//   early stop  stops when the validation loss has not improved for 3 epochs and restores the
//               best weights
//
// Prints a table and writes docs/img/examples/regularization.svg (train/validation loss per
// technique, side by side).
import { init, Sequential, dense, dropout, batchNorm, activation, adam, l1, l2, elasticNet, maxNorm, earlyStopping } from 'wasmfit';
import { plotSeries } from 'wasmfit/plot';
import { loadDigits } from 'wasmfit/node';
import { isMain, printTable, quickFromEnv, rel, svgGrid, writeSvg } from './_util.mjs';

const H = 256;
const MAX_NORM = 1;

/** The variants: name → { layers, callbacks? }. */
function variants() {
  const he = { activation: 'relu', kernelInitializer: 'heNormal' };
  return [
    ['none', () => [dense(H, he), dense(H, he), dense(10)]],
    ['L2', () => [dense(H, { ...he, kernelRegularizer: l2(1e-3) }), dense(H, { ...he, kernelRegularizer: l2(1e-3) }), dense(10, { kernelRegularizer: l2(1e-3) })]],
    ['L1', () => [dense(H, { ...he, kernelRegularizer: l1(1e-4) }), dense(H, { ...he, kernelRegularizer: l1(1e-4) }), dense(10, { kernelRegularizer: l1(1e-4) })]],
    ['elastic net', () => [dense(H, { ...he, kernelRegularizer: elasticNet({ alpha: 2e-4, l1Ratio: 0.5 }) }), dense(H, { ...he, kernelRegularizer: elasticNet({ alpha: 2e-4, l1Ratio: 0.5 }) }), dense(10)]],
    ['dropout', () => [dense(H, he), dropout(0.5), dense(H, he), dropout(0.5), dense(10)]],
    ['max-norm', () => [dense(H, { ...he, kernelConstraint: maxNorm({ maxValue: MAX_NORM }) }), dense(H, { ...he, kernelConstraint: maxNorm({ maxValue: MAX_NORM }) }), dense(10, { kernelConstraint: maxNorm({ maxValue: MAX_NORM }) })]],
    ['batch norm', () => [dense(H, { kernelInitializer: 'heNormal', useBias: false }), batchNorm(), activation('relu'), dense(H, { kernelInitializer: 'heNormal', useBias: false }), batchNorm(), activation('relu'), dense(10)]],
    ['early stopping', () => [dense(H, he), dense(H, he), dense(10)], true],
  ];
}

/** Largest L2 norm of a unit's incoming weights (a column of the [in, out] kernel). */
function maxColumnNorm(w, nin, nout) {
  let best = 0;
  for (let j = 0; j < nout; j++) {
    let s = 0;
    for (let i = 0; i < nin; i++) s += w[i * nout + j] ** 2;
    best = Math.max(best, Math.sqrt(s));
  }
  return best;
}

/**
 * Trains every variant; returns { rows: [{ name, trainLoss, valLoss, bestValLoss, valAccuracy,
 * sparsity, maxNorm, weightNorm, epochsRun, history }], svg }.
 * options.quick: 300 training digits, 12 epochs (default 500 digits, 30 epochs).
 * options.svgDir: where to write the SVG (default docs/img/examples; null: do not write).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  const epochs = quick ? 12 : 30;
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: quick ? 300 : 500, testSize: quick ? 500 : 1000 });
  const rows = [];
  for (const [name, layers, early] of variants()) {
    const model = new Sequential({ inputShape: [784], layers: layers(), seed: 1 });
    model.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
    const callbacks = early ? [earlyStopping({ monitor: 'valLoss', patience: 3, restoreBestWeights: true })] : [];
    const h = await model.fit(train.x, train.y, { epochs, batchSize: 32, seed: 1, validationData: [test.x, test.y], callbacks });
    const w = model.getWeights();
    const k0 = w.find((t) => t.name === 'dense_0/kernel');
    const kernels = w.filter((t) => t.name.endsWith('/kernel'));
    let small = 0;
    for (const v of k0.data) if (Math.abs(v) < 1e-3) small++;
    let sq = 0;
    for (const t of kernels) for (const v of t.data) sq += v * v;
    const trainEval = model.evaluate(train.x, train.y);
    const valEval = model.evaluate(test.x, test.y);
    rows.push({
      name,
      trainLoss: trainEval.loss,
      trainAccuracy: trainEval.accuracy,
      valLoss: valEval.loss,
      valAccuracy: valEval.accuracy,
      bestValLoss: Math.min(...h.history.valLoss),
      sparsity: small / k0.data.length,
      maxNorm: Math.max(...kernels.map((t) => maxColumnNorm(t.data, t.shape[0], t.shape[1]))),
      weightNorm: Math.sqrt(sq),
      epochsRun: h.epoch.length,
      history: h.history,
    });
    model.dispose();
  }
  const svg = svgGrid(
    rows.map((r) =>
      plotSeries(
        [
          { name: 'train loss', values: r.history.loss, x: r.history.loss.map((_, i) => i + 1) },
          { name: 'validation loss', values: r.history.valLoss, x: r.history.valLoss.map((_, i) => i + 1) },
        ],
        { title: r.name, xLabel: 'epoch', logY: true, width: 360, height: 260 },
      ),
    ),
    4,
  );
  const file = writeSvg('regularization.svg', svg, options.svgDir);
  return { rows, svg: file, epochs, maxNormValue: MAX_NORM };
}

if (isMain(import.meta.url)) {
  const r = await run({ quick: quickFromEnv() });
  console.log(`784-256-256-10 ReLU, Adam 1e-3, batch 32, up to ${r.epochs} epochs; losses after training (early stopping: restored best weights)\n`);
  printTable(
    ['technique', 'train loss', 'val loss', 'best val loss', 'val acc', 'gap (val−train)', '|w|<1e-3 (layer 1)', 'max unit norm', '‖W‖₂', 'epochs'],
    r.rows.map((x) => [x.name, x.trainLoss.toFixed(4), x.valLoss.toFixed(4), x.bestValLoss.toFixed(4), x.valAccuracy.toFixed(4), (x.valLoss - x.trainLoss).toFixed(4), `${(100 * x.sparsity).toFixed(1)}%`, x.maxNorm.toFixed(2), x.weightNorm.toFixed(1), x.epochsRun]),
  );
  console.log(`wrote ${rel(r.svg)}`);
}
