// Monte Carlo dropout: predictive mean and uncertainty on real digits vs noise images.
//
//   node examples/mc-dropout.mjs          (--quick: a reduced size, a few seconds)
//
// A 784-256-256-10 ReLU network with dropout 0.5 after each hidden layer is trained on real MNIST
// digits. At prediction time `predict(x, { mcSamples: 50 })` keeps dropout on and runs 50
// stochastic forward passes (Gal & Ghahramani, 2016): the mean of the 50 softmax outputs is the
// prediction, their standard deviation the model's uncertainty. On held-out digits the passes
// agree (small std, confident mean); on images of random noise — nothing like the training data,
// with the digits' own mean brightness — they disagree (larger std) and the mean is less confident
// (higher predictive entropy).
//
// Prints a table and writes docs/img/examples/mc-dropout.svg (sorted per-image uncertainty on
// digits vs noise).
import { init, Sequential, dense, dropout, adam, Rng } from 'wasmfit';
import { plotSeries } from 'wasmfit/plot';
import { loadDigits } from 'wasmfit/node';
import { isMain, mean, printTable, quickFromEnv, rel, svgGrid, writeSvg } from './_util.mjs';

/** Per-image summaries of an MC prediction: std and mean of the predicted class, entropy of the mean. */
function perImage({ mean: m, std: s }) {
  const [n, k] = m.shape;
  const out = { std: new Float64Array(n), conf: new Float64Array(n), entropy: new Float64Array(n), pred: new Int32Array(n) };
  for (let r = 0; r < n; r++) {
    let best = 0;
    let h = 0;
    for (let j = 0; j < k; j++) {
      const p = m.data[r * k + j];
      if (p > m.data[r * k + best]) best = j;
      if (p > 0) h -= p * Math.log(p);
    }
    out.pred[r] = best;
    out.std[r] = s.data[r * k + best];
    out.conf[r] = m.data[r * k + best];
    out.entropy[r] = h;
  }
  return out;
}

/**
 * Returns { digits: { std, confidence, entropy, accuracy }, noise: { std, confidence, entropy },
 * svg }, the first three as means over images.
 * options.quick: 4,000 training digits, 6 epochs, 20 MC samples on 300 images each (default 8,000,
 * 10 epochs, 50 samples on 1,000 images).
 * options.svgDir: where to write the SVG (default docs/img/examples; null: do not write).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  const T = quick ? 20 : 50;
  const nEval = quick ? 300 : 1000;
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: quick ? 4000 : 8000, testSize: 2000 });
  const model = new Sequential({
    inputShape: [784],
    layers: [dense(256, { activation: 'relu', kernelInitializer: 'heNormal' }), dropout(0.5), dense(256, { activation: 'relu', kernelInitializer: 'heNormal' }), dropout(0.5), dense(10)],
    seed: 1,
  });
  model.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
  await model.fit(train.x, train.y, { epochs: quick ? 6 : 10, batchSize: 32, seed: 1 });

  const digitsX = test.x.subarray(0, nEval * 784);
  // Noise images with the digits' own statistics: each pixel is "ink" with the digits' mean ink
  // probability, with a uniform intensity.
  let ink = 0;
  for (const v of digitsX) if (v > 0.1) ink++;
  const pInk = ink / digitsX.length;
  const rng = new Rng(7);
  const noiseX = new Float32Array(nEval * 784);
  for (let i = 0; i < noiseX.length; i++) noiseX[i] = rng.next() < pInk ? rng.next() : 0;

  const d = perImage(model.predict(digitsX, { mcSamples: T, seed: 5 }));
  const z = perImage(model.predict(noiseX, { mcSamples: T, seed: 5 }));
  let correct = 0;
  for (let r = 0; r < nEval; r++) correct += d.pred[r] === test.y[r] ? 1 : 0;
  const noiseCounts = new Array(10).fill(0);
  for (const p of z.pred) noiseCounts[p]++;
  model.dispose();

  const sorted = (a) => Array.from(a).sort((u, v) => u - v);
  const q = Array.from({ length: nEval }, (_, i) => (i + 0.5) / nEval);
  const svg = svgGrid(
    [
      plotSeries([{ name: 'held-out digits', values: sorted(d.std), x: q }, { name: 'noise images', values: sorted(z.std), x: q }], { title: `MC dropout (${T} passes): std of the predicted class`, xLabel: 'fraction of images (sorted)', width: 520, height: 380 }),
      plotSeries([{ name: 'held-out digits', values: sorted(d.entropy), x: q }, { name: 'noise images', values: sorted(z.entropy), x: q }], { title: 'entropy of the mean prediction (nats)', xLabel: 'fraction of images (sorted)', width: 520, height: 380 }),
    ],
    2,
  );
  const file = writeSvg('mc-dropout.svg', svg, options.svgDir);
  const summary = (x) => ({ std: mean(x.std), confidence: mean(x.conf), entropy: mean(x.entropy) });
  return { digits: { ...summary(d), accuracy: correct / nEval }, noise: { ...summary(z), predictedClasses: noiseCounts }, samples: T, images: nEval, svg: file };
}

if (isMain(import.meta.url)) {
  const r = await run({ quick: quickFromEnv() });
  console.log(`MC dropout, ${r.samples} stochastic passes per image, ${r.images} images each (means over images)\n`);
  printTable(
    ['input', 'std of predicted class', 'mean confidence', 'predictive entropy', 'accuracy'],
    [
      ['held-out digits', r.digits.std.toFixed(4), r.digits.confidence.toFixed(4), r.digits.entropy.toFixed(4), r.digits.accuracy.toFixed(4)],
      ['noise images', r.noise.std.toFixed(4), r.noise.confidence.toFixed(4), r.noise.entropy.toFixed(4), '—'],
    ],
  );
  console.log(`\nclasses predicted for the noise images: ${r.noise.predictedClasses.map((c, i) => `${i}:${c}`).join(' ')}`);
  console.log(`wrote ${rel(r.svg)}`);
}
