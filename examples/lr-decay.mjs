// Learning-rate decay vs a constant rate, on real MNIST digits with small mini-batches (8 rows).
//
//   node examples/lr-decay.mjs            (--quick: a reduced size, a few seconds)
//
// With plain SGD and a constant rate, the mini-batch gradient noise keeps the weights bouncing
// around the minimum: the training loss never settles. Decaying the rate (inverse-time,
// exponential, step, cosine) shrinks the steps as training goes, so the weights settle and the
// training loss ends lower and steadier. Warm restarts and cyclic rates raise it again on purpose
// (to explore); where they end depends on where the last cycle stops.
//
// "Noise around the minimum" is measured directly: during the last epoch the weights are copied 8
// times (callback onBatchEnd → getWeights), each copy is loaded into a probe model and its loss is
// evaluated on the same 1,000 training digits; the standard deviation of those 8 losses is the
// noise, their mean the final training loss.
//
// Prints a table and writes docs/img/examples/lr-decay.svg (training loss and learning rate per epoch).
import {
  init, Sequential, dense, sgd,
  constant, inverseTimeEpochDecay, exponentialEpochDecay, stepDecay, cosineAnnealingLR,
  cosineAnnealingWarmRestarts, cyclicLR,
} from 'wasmfit';
import { plotSeries } from 'wasmfit/plot';
import { loadDigits } from 'wasmfit/node';
import { isMain, mean, printTable, quickFromEnv, rel, std, svgGrid, writeSvg } from './_util.mjs';

/**
 * Runs every schedule; returns { rows: [{ name, finalLoss, noise, testAccuracy, lastLr, history }], svg }.
 * options.quick: 1,500 training digits, 4 epochs (default: 8,000 digits, 6 epochs).
 * options.svgDir: where to write the SVG (default docs/img/examples; null: do not write).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  const epochs = quick ? 4 : 6;
  const batchSize = 8;
  const lr = 0.2;
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: quick ? 1500 : 8000, testSize: quick ? 500 : 1000 });
  const steps = Math.ceil(train.rows / batchSize);
  const probeRows = Math.min(train.rows, 1000);
  const probeX = train.x.subarray(0, probeRows * 784);
  const probeY = train.y.subarray(0, probeRows);

  const schedules = [
    ['constant', constant({ lr })],
    ['inverse-time', inverseTimeEpochDecay({ lr, decayRate: 9 / (epochs - 1) })], // ends at lr/10
    ['exponential', exponentialEpochDecay({ lr, base: 0.03 ** (1 / (epochs - 1)) })], // ends at 3% of lr
    ['step', stepDecay({ lr, dropEvery: Math.ceil(epochs / 3), factor: 0.25 })],
    ['cosine', cosineAnnealingLR({ lr, tMax: epochs })],
    ['warm restarts', cosineAnnealingWarmRestarts({ lr, t0: epochs / 2 })], // two cycles
    ['cyclic', cyclicLR({ baseLr: lr / 20, maxLr: lr, stepSizeUp: steps, mode: 'triangular2', cycleMomentum: false })], // per step; plain SGD has no momentum to cycle
  ];
  const layers = () => [dense(64, { activation: 'relu', kernelInitializer: 'heNormal' }), dense(10)];
  const probe = new Sequential({ inputShape: [784], layers: layers() });
  const rows = [];
  for (const [name, schedule] of schedules) {
    const model = new Sequential({ inputShape: [784], layers: layers(), seed: 1 });
    model.compile({ optimizer: sgd({ lr }), loss: 'softmaxCrossEntropy' });
    let epoch = 0;
    const snaps = [];
    const every = Math.floor(steps / 8);
    const cb = {
      onEpochBegin: (e) => {
        epoch = e;
      },
      onBatchEnd: (s) => {
        if (epoch === epochs - 1 && (s + 1) % every === 0 && snaps.length < 8) snaps.push(model.getWeights());
      },
    };
    const history = await model.fit(train.x, train.y, { epochs, batchSize, seed: 1, schedule, callbacks: [cb] });
    const losses = snaps.map((w) => {
      probe.setWeights(w);
      return probe.evaluate(probeX, probeY).loss;
    });
    const { accuracy } = model.evaluate(test.x, test.y);
    rows.push({ name, finalLoss: mean(losses), noise: std(losses), testAccuracy: accuracy, lastLr: history.history.lr.at(-1), history: history.history });
    model.dispose();
  }
  probe.dispose();

  const x = Array.from({ length: epochs }, (_, i) => i + 1);
  const svg = svgGrid(
    [
      plotSeries(rows.map((r) => ({ name: r.name, values: r.history.loss, x })), { title: `SGD, batch ${batchSize}: mean mini-batch training loss`, xLabel: 'epoch', yLabel: 'loss', logY: true, width: 560, height: 400 }),
      plotSeries(rows.map((r) => ({ name: r.name, values: r.history.lr, x })), { title: 'learning rate (last step of each epoch)', xLabel: 'epoch', yLabel: 'lr', logY: true, width: 560, height: 400 }),
    ],
    2,
  );
  const file = writeSvg('lr-decay.svg', svg, options.svgDir);
  return { rows, svg: file, epochs, batchSize };
}

if (isMain(import.meta.url)) {
  const quick = quickFromEnv();
  const r = await run({ quick });
  console.log(`SGD lr 0.2, batch ${r.batchSize}, ${r.epochs} epochs on MNIST digits; loss noise = std of the training loss over 8 weight snapshots in the last epoch\n`);
  printTable(
    ['schedule', 'last lr', 'final train loss', 'loss noise', 'test accuracy'],
    r.rows.map((x) => [x.name, x.lastLr.toPrecision(3), x.finalLoss.toFixed(4), x.noise.toFixed(4), x.testAccuracy.toFixed(4)]),
  );
  const c = r.rows[0];
  const decays = r.rows.filter((x) => ['inverse-time', 'exponential', 'step', 'cosine'].includes(x.name));
  console.log(`\nnoise vs constant: ${decays.map((d) => `${d.name} ${(d.noise / c.noise).toFixed(2)}×`).join(', ')}`);
  console.log(`wrote ${rel(r.svg)}`);
}
