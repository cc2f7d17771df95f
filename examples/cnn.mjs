// A convolutional network on the real MNIST digits (the tfjs "handwritten digit recognition with
// CNNs" architecture, wider): conv(32, 5×5) → maxPool → conv(64, 5×5) → maxPool → dense(128) →
// dense(10), Adam with a cosine learning-rate schedule, 8,000 training digits and the 2,000 held-out ones of loadDigits({ seed: 0 }).
//
//   node examples/cnn.mjs              the plain network
//   node examples/cnn.mjs --augment    the same network with augmentation layers in front
//   node examples/cnn.mjs --quick      a reduced size (2,000 training digits, 3 epochs)
//
// Prints per-epoch progress, training samples/s, the final training and held-out accuracy and the
// gap between them. The held-out digits are never used to choose anything.
import { init, Sequential, conv2d, maxPool2d, flatten, dense, dropout, adam, cosineAnnealingLR } from 'wasmfit';
import * as wasmfit from 'wasmfit';
import { loadDigits } from 'wasmfit/node';
import { isMain, quickFromEnv } from './_util.mjs';

/**
 * The augmentation layers placed before the first convolution (Keras RandomRotation etc.
 * semantics: active only while training). Small factors: digits are not flipped, and a 6 or 9
 * rotated by more than ~20° starts to look like another class.
 */
function augmentation() {
  const { randomRotation, randomTranslation, randomZoom } = wasmfit;
  if (typeof randomRotation !== 'function') throw new Error('this build of wasmfit has no augmentation layers');
  return [randomRotation(0.04, { fillMode: 'constant' }), randomTranslation(0.1, 0.1, { fillMode: 'constant' }), randomZoom(0.1, undefined, { fillMode: 'constant' })];
}

/**
 * Trains the CNN and returns its accuracies.
 * @param {{ quick?: boolean, augment?: boolean, epochs?: number, trainSize?: number, verbose?: 0 | 1 | 2 }} [options]
 */
export async function run(options = {}) {
  const quick = options.quick ?? false;
  const augment = options.augment ?? false;
  const epochs = options.epochs ?? (quick ? 3 : augment ? 15 : 10);
  await init();
  const { train, test } = await loadDigits({ seed: 0, trainSize: options.trainSize ?? (quick ? 2000 : 8000), testSize: 2000 });
  const model = new Sequential({
    inputShape: [28, 28, 1],
    layers: [
      ...(augment ? augmentation() : []),
      conv2d(32, { kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }), // → [24, 24, 32]
      maxPool2d(), // → [12, 12, 32]
      conv2d(64, { kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }), // → [8, 8, 64]
      maxPool2d(), // → [4, 4, 64]
      flatten(),
      dense(128, { activation: 'relu', kernelInitializer: 'heNormal' }),
      dropout(0.3),
      dense(10),
    ],
    seed: 1,
  });
  model.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
  const t0 = performance.now();
  await model.fit(train.x, train.y, { epochs, batchSize: 32, seed: 1, schedule: cosineAnnealingLR({ lr: 1e-3, tMax: epochs }), verbose: options.verbose ?? 0 });
  const seconds = (performance.now() - t0) / 1000;
  const trainAcc = model.evaluate(train.x, train.y).accuracy;
  const testAcc = model.evaluate(test.x, test.y).accuracy;
  const summary = model.summary();
  model.dispose();
  return { augment, epochs, trainRows: train.rows, testRows: test.rows, seconds, samplesPerSecond: (train.rows * epochs) / seconds, trainAccuracy: trainAcc, testAccuracy: testAcc, gap: trainAcc - testAcc, summary };
}

if (isMain(import.meta.url)) {
  const augment = process.argv.includes('--augment');
  const r = await run({ quick: quickFromEnv(), augment, verbose: process.stdout.isTTY ? 1 : 2 });
  console.log(r.summary);
  console.log(`${r.augment ? 'with' : 'without'} augmentation: ${r.epochs} epochs on ${r.trainRows} digits in ${r.seconds.toFixed(1)} s (${r.samplesPerSecond.toFixed(0)} samples/s)`);
  console.log(`training accuracy: ${r.trainAccuracy.toFixed(4)}`);
  console.log(`held-out accuracy: ${r.testAccuracy.toFixed(4)} (${r.testRows} digits)`);
  console.log(`gap (training − held-out): ${(100 * r.gap).toFixed(2)} pp`);
}
