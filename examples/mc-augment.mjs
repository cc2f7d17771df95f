// Monte Carlo dropout meets data augmentation: predictive uncertainty on clean digits and on
// rotated/shifted ones, for a CNN trained without and with augmentation layers.
//
//   node examples/mc-augment.mjs          (--quick: a reduced size, well under a minute)
//
// Two copies of the same CNN (conv(16, 5×5) → maxPool → conv(32, 5×5) → maxPool → dense(64) →
// dropout(0.5) → dense(10)), from the same seed, are trained on the same digits: one plain, one
// with randomRotation/randomTranslation in front (active only while training). Then
// `predict(x, { mcSamples })` keeps dropout on for T stochastic passes (Gal & Ghahramani, 2016),
// on the held-out digits as they are and on the same digits rotated by ±25° and shifted by 3
// pixels. The plain model is more uncertain (higher predictive entropy, larger std of the
// predicted class) on the moved digits than on clean ones — they are unlike its training data —
// and the augmented model, which has seen such digits, is less uncertain on them (and more
// accurate).
import * as wasmfit from 'wasmfit';
import { init, Sequential, conv2d, maxPool2d, flatten, dense, dropout, adam } from 'wasmfit';
import { loadDigits } from 'wasmfit/node';
import { isMain, mean, printTable, quickFromEnv } from './_util.mjs';

/** One 28×28 image rotated by `deg` about its center and shifted by (dx, dy) pixels, bilinear, zeros outside. */
export function moveDigit(src, deg, dx, dy) {
  const out = new Float32Array(784);
  const [c, s] = [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
  const px = (x, y) => (x >= 0 && x < 28 && y >= 0 && y < 28 ? src[y * 28 + x] : 0);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      // output pixel → input coordinates (inverse transform about the center 13.5, 13.5)
      const u = x - dx - 13.5;
      const v = y - dy - 13.5;
      const sx = c * u + s * v + 13.5;
      const sy = -s * u + c * v + 13.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const [fx, fy] = [sx - x0, sy - y0];
      out[y * 28 + x] = (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x0 + 1, y0)) + fy * ((1 - fx) * px(x0, y0 + 1) + fx * px(x0 + 1, y0 + 1));
    }
  }
  return out;
}

/** Per-image means of an MC prediction: std of the predicted class, entropy of the mean, accuracy. */
function summarize({ mean: m, std: s }, labels) {
  const [n, k] = m.shape;
  const std = [];
  const entropy = [];
  let correct = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    let h = 0;
    for (let j = 0; j < k; j++) {
      const p = m.data[r * k + j];
      if (p > m.data[r * k + best]) best = j;
      if (p > 0) h -= p * Math.log(p);
    }
    std.push(s.data[r * k + best]);
    entropy.push(h);
    correct += best === labels[r] ? 1 : 0;
  }
  return { std: mean(std), entropy: mean(entropy), accuracy: correct / n };
}

/**
 * Returns { plain: { clean, moved }, augmented: { clean, moved } }, each { std, entropy, accuracy }.
 * options.quick: 3,000 training digits, 4 epochs, 20 MC passes on 300 images (default 8,000, 8
 * epochs, 50 passes on 1,000 images).
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  const { randomRotation, randomTranslation } = wasmfit;
  if (typeof randomRotation !== 'function') throw new Error('this build of wasmfit has no augmentation layers');
  const T = quick ? 20 : 50;
  const nEval = quick ? 300 : 1000;
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: quick ? 3000 : 8000, testSize: 2000 });
  const cleanX = test.x.subarray(0, nEval * 784);
  const labels = test.y.subarray(0, nEval);
  const movedX = new Float32Array(nEval * 784);
  for (let r = 0; r < nEval; r++) {
    // alternate directions: ±25°, shifts of ±3 pixels
    const sign = r % 2 === 0 ? 1 : -1;
    movedX.set(moveDigit(cleanX.subarray(r * 784, (r + 1) * 784), 25 * sign, 3 * sign, -3 * sign), r * 784);
  }
  const out = {};
  for (const [name, front] of [
    ['plain', []],
    // Keras factors: rotation in fractions of a full turn (0.08 ≈ ±29°), translation in fractions of the size
    ['augmented', [randomRotation(0.08, { fillMode: 'constant' }), randomTranslation(0.15, 0.15, { fillMode: 'constant' })]],
  ]) {
    const model = new Sequential({
      inputShape: [28, 28, 1],
      layers: [
        ...front,
        conv2d(16, { kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }),
        maxPool2d(),
        conv2d(32, { kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }),
        maxPool2d(),
        flatten(),
        dense(64, { activation: 'relu', kernelInitializer: 'heNormal' }),
        dropout(0.5),
        dense(10),
      ],
      seed: 1,
    });
    model.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
    await model.fit(train.x, train.y, { epochs: quick ? 4 : 8, batchSize: 32, seed: 1 });
    out[name] = {
      clean: summarize(model.predict(cleanX, { mcSamples: T, seed: 5 }), labels),
      moved: summarize(model.predict(movedX, { mcSamples: T, seed: 5 }), labels),
    };
    model.dispose();
  }
  return { ...out, samples: T, images: nEval };
}

if (isMain(import.meta.url)) {
  const r = await run({ quick: quickFromEnv() });
  console.log(`MC dropout, ${r.samples} stochastic passes per image, ${r.images} held-out digits (means over images)\n`);
  const row = (model, input, v) => [model, input, v.std.toFixed(4), v.entropy.toFixed(4), v.accuracy.toFixed(4)];
  printTable(
    ['model', 'input', 'std of predicted class', 'predictive entropy', 'accuracy'],
    [row('plain', 'clean digits', r.plain.clean), row('plain', 'rotated ±25°, shifted 3 px', r.plain.moved), row('augmented', 'clean digits', r.augmented.clean), row('augmented', 'rotated ±25°, shifted 3 px', r.augmented.moved)],
  );
}
