// Optimizers on the same task: SGD, SGD with momentum, AdaGrad, RMSProp and Adam train the same
// 784-128-10 ReLU network from the same initial weights on real MNIST digits.
//
//   node examples/optimizers.mjs          (--quick: a reduced size, a few seconds)
//
// With the same base rate (0.01), momentum (0.9) moves about 1/(1 − 0.9) = 10× farther per step
// along a consistent gradient direction, so it gets well below plain SGD's training loss.
// The adaptive methods scale each weight's step by its own gradient history: AdaGrad (rate 0.01)
// by the sum of squares (its steps only shrink), RMSProp and Adam (rate 0.001, their usual
// defaults) by a running average, Adam with momentum on top.
//
// Prints a table and writes docs/img/examples/optimizers.svg (training loss per epoch, and
// held-out accuracy).
import { init, Sequential, dense, sgd, adagrad, rmsprop, adam } from 'wasmfit';
import { plotSeries } from 'wasmfit/plot';
import { loadDigits } from 'wasmfit/node';
import { isMain, printTable, quickFromEnv, rel, svgGrid, writeSvg } from './_util.mjs';

/**
 * Trains with each optimizer; returns { rows: [{ name, trainLoss, testAccuracy, history }], svg }.
 * options.quick: 800 training digits, 4 epochs (default 4,000 digits, 10 epochs).
 * options.svgDir: where to write the SVG (default docs/img/examples; null: do not write).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  const epochs = quick ? 4 : 10;
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: quick ? 800 : 4000, testSize: quick ? 500 : 2000 });
  const optimizers = [
    ['SGD', sgd({ lr: 0.01 })],
    ['momentum', sgd({ lr: 0.01, momentum: 0.9 })],
    ['AdaGrad', adagrad({ lr: 0.01 })],
    ['RMSProp', rmsprop({ lr: 0.001 })],
    ['Adam', adam({ lr: 0.001 })],
  ];
  const rows = [];
  for (const [name, optimizer] of optimizers) {
    const model = new Sequential({ inputShape: [784], layers: [dense(128, { activation: 'relu', kernelInitializer: 'heNormal' }), dense(10)], seed: 1 });
    model.compile({ optimizer, loss: 'softmaxCrossEntropy' });
    const history = await model.fit(train.x, train.y, { epochs, batchSize: 32, seed: 1, validationData: [test.x, test.y] });
    const trainEval = model.evaluate(train.x, train.y);
    const testEval = model.evaluate(test.x, test.y);
    rows.push({ name, trainLoss: trainEval.loss, testLoss: testEval.loss, testAccuracy: testEval.accuracy, history: history.history });
    model.dispose();
  }
  const x = Array.from({ length: epochs }, (_, i) => i + 1);
  const svg = svgGrid(
    [
      plotSeries(rows.map((r) => ({ name: r.name, values: r.history.loss, x })), { title: 'training loss (mean over each epoch)', xLabel: 'epoch', logY: true, width: 520, height: 380 }),
      plotSeries(rows.map((r) => ({ name: r.name, values: r.history.valAccuracy, x })), { title: 'held-out accuracy', xLabel: 'epoch', width: 520, height: 380 }),
    ],
    2,
  );
  const file = writeSvg('optimizers.svg', svg, options.svgDir);
  return { rows, svg: file, epochs };
}

if (isMain(import.meta.url)) {
  const r = await run({ quick: quickFromEnv() });
  console.log(`784-128-10 ReLU, batch 32, ${r.epochs} epochs, same initial weights\n`);
  printTable(
    ['optimizer', 'train loss', 'test loss', 'test accuracy'],
    r.rows.map((x) => [x.name, x.trainLoss.toFixed(4), x.testLoss.toFixed(4), x.testAccuracy.toFixed(4)]),
  );
  console.log(`wrote ${rel(r.svg)}`);
}
