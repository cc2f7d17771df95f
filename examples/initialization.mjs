// Initialization: Xavier (Glorot) vs He with sigmoid and ReLU networks, seen through the
// activation statistics of each layer of a deep (6 hidden layers of 256) network at initialization.
//
//   node examples/initialization.mjs      (--quick: a reduced size, a few seconds)
//
// Xavier draws weights with variance 2/(fan_in + fan_out), He with 2/fan_in. A ReLU zeroes half its
// inputs, halving the second moment at every layer; He's factor 2 restores it, so the activation
// scale stays flat through depth, while under Xavier it shrinks by about 1/√2 per layer. Sigmoid
// units are centred at 0.5 with a derivative of at most 1/4: He's larger weights give larger
// pre-activations (neither saturates at this width), and under both the loss gradient shrinks
// layer by layer going down (the std of each kernel's gradient is printed too), so the deep sigmoid
// networks barely learn in a few epochs whichever initialization they start from.
//
// The statistics are computed with the library's public low-level kernels (matMul with bias, then
// activationForward) on 1,000 real digits, from the weights the model was initialized with
// (getWeights). Each network then trains for a short while with SGD to show what the start means
// for learning.
//
// Prints a table and writes docs/img/examples/initialization.svg.
import { init, Sequential, dense, sgd, matrix } from 'wasmfit';
import { matMul, activationForward, activationBackward, softmaxCrossEntropy } from 'wasmfit/kernels';
import { plotSeries } from 'wasmfit/plot';
import { loadDigits } from 'wasmfit/node';
import { isMain, mean, printTable, quickFromEnv, rel, std, svgGrid, writeSvg } from './_util.mjs';

const DEPTH = 6;
const WIDTH = 256;

/**
 * Per-layer statistics of a forward pass through the given dense weights, and of the backward
 * pass of softmax cross-entropy on the labels `y` (std of each kernel's gradient).
 */
export function layerStats(weights, x, y, rows, act) {
  const out = [];
  const acts = [x];
  let h = x;
  let din = 784;
  for (let l = 0; l < DEPTH; l++) {
    const W = weights[2 * l];
    const b = weights[2 * l + 1];
    const z = matMul(matrix(h, [rows, din]), matrix(W.data, W.shape), { bias: b.data }).data;
    const a = activationForward(act, z);
    let dead = 0;
    let saturated = 0;
    for (const v of a) {
      if (v === 0) dead++;
      if (v < 0.02 || v > 0.98) saturated++;
    }
    out.push({ layer: l + 1, preStd: std(z), mean: mean(a), std: std(a), zeroFraction: dead / a.length, saturatedFraction: saturated / a.length });
    h = a;
    acts.push(a);
    din = W.shape[1];
  }
  // backward: dZ of the logits from the loss, then through each layer (matMul with Wᵀ, act')
  const Wo = weights[2 * DEPTH];
  const logits = matMul(matrix(h, [rows, din]), matrix(Wo.data, Wo.shape), { bias: weights[2 * DEPTH + 1].data });
  let dZ = softmaxCrossEntropy(logits, y).grad.data;
  let W = Wo;
  for (let l = DEPTH - 1; l >= 0; l--) {
    const dA = matMul(matrix(dZ, [rows, W.shape[1]]), matrix(W.data, W.shape), { transposeB: true }).data;
    dZ = activationBackward(act, acts[l + 1], dA);
    W = weights[2 * l];
    const dW = matMul(matrix(acts[l], [rows, W.shape[0]]), matrix(dZ, [rows, W.shape[1]]), { transposeA: true }).data;
    out[l].gradStd = std(dW);
  }
  return out;
}

/**
 * Returns { rows: [{ name, act, init, stats: [per layer], testAccuracy }], svg }.
 * options.quick: 300 digits for the statistics, 500 for 1 training epoch (default 1,000 and 4,000 for 3 epochs).
 * options.svgDir: where to write the SVG (default docs/img/examples; null: do not write).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: quick ? 500 : 4000, testSize: quick ? 300 : 1000 });
  const configs = [
    ['sigmoid + Xavier', 'sigmoid', 'glorotNormal'],
    ['sigmoid + He', 'sigmoid', 'heNormal'],
    ['ReLU + Xavier', 'relu', 'glorotNormal'],
    ['ReLU + He', 'relu', 'heNormal'],
  ];
  const rows = [];
  for (const [name, act, initName] of configs) {
    const layers = [];
    for (let l = 0; l < DEPTH; l++) layers.push(dense(WIDTH, { activation: act, kernelInitializer: initName }));
    layers.push(dense(10, { kernelInitializer: initName }));
    const model = new Sequential({ inputShape: [784], layers, seed: 3 });
    const stats = layerStats(model.getWeights(), test.x, test.y, test.rows, act);
    model.compile({ optimizer: sgd({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
    await model.fit(train.x, train.y, { epochs: quick ? 1 : 3, batchSize: 32, seed: 1 });
    const { accuracy } = model.evaluate(test.x, test.y);
    rows.push({ name, act, init: initName, stats, testAccuracy: accuracy });
    model.dispose();
  }
  const x = Array.from({ length: DEPTH }, (_, i) => i + 1);
  const svg = svgGrid(
    [
      plotSeries(rows.map((r) => ({ name: r.name, values: r.stats.map((s) => s.std), x })), { title: 'std of activations per layer (at init)', xLabel: 'hidden layer', logY: true, width: 520, height: 380 }),
      plotSeries(rows.map((r) => ({ name: r.name, values: r.stats.map((s) => s.preStd), x })), { title: 'std of pre-activations per layer (at init)', xLabel: 'hidden layer', logY: true, width: 520, height: 380 }),
      plotSeries(rows.map((r) => ({ name: r.name, values: r.stats.map((s) => s.gradStd), x })), { title: 'std of the loss gradient of each kernel (at init)', xLabel: 'hidden layer', logY: true, width: 520, height: 380 }),
    ],
    3,
  );
  const file = writeSvg('initialization.svg', svg, options.svgDir);
  return { rows, svg: file };
}

if (isMain(import.meta.url)) {
  const quick = quickFromEnv();
  const r = await run({ quick });
  console.log(`784-${Array(DEPTH).fill(WIDTH).join('-')}-10, statistics of each hidden layer's output at initialization on real digits\n`);
  for (const row of r.rows) {
    console.log(`${row.name} (test accuracy after ${quick ? 1 : 3} SGD epoch${quick ? '' : 's'}: ${row.testAccuracy.toFixed(4)})`);
    printTable(
      ['layer', 'pre-act std', 'act mean', 'act std', row.act === 'relu' ? 'zeros' : 'saturated (<.02, >.98)', 'grad std (kernel)'],
      row.stats.map((s) => [s.layer, s.preStd.toFixed(4), s.mean.toFixed(4), s.std.toFixed(4), `${(100 * (row.act === 'relu' ? s.zeroFraction : s.saturatedFraction)).toFixed(1)}%`, s.gradStd.toExponential(2)]),
    );
    console.log('');
  }
  const ratio = (n) => {
    const s = r.rows.find((x) => x.name === n).stats;
    return (s[DEPTH - 1].std / s[0].std).toFixed(3);
  };
  console.log(`ReLU: activation std, last ÷ first hidden layer — Xavier ${ratio('ReLU + Xavier')}, He ${ratio('ReLU + He')}`);
  console.log(`wrote ${rel(r.svg)}`);
}
