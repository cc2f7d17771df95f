// Training-step time with Keras's optimizer arithmetic (kerasSGD/kerasRMSprop/kerasAdagrad/kerasAdam,
// kernel `keras_step`) relative to the PyTorch-form optimizer of the same family, in the same run:
// a 784 → 512 → 512 → 10 MLP (~670k parameters, so the optimizer pass is a visible share of the
// step), batch 32, windows of 20 steps alternated between the two models, the ratio per window pair.
// Prints the median ratio and its range. `npm run build && node bench/keras-optim.mjs [pairs]`.
import { init, Sequential, dense, adam, sgd, rmsprop, adagrad, kerasAdam, kerasSGD, kerasRMSprop, kerasAdagrad } from '../dist/wasmfit.mjs';

await init();
const PAIRS = Number(process.argv[2] ?? 15);
const STEPS = 20;
const n = 32;
const x = Float32Array.from({ length: n * 784 }, (_, i) => Math.sin(i * 0.37));
const y = Int32Array.from({ length: n }, (_, i) => i % 10);
const make = (opt) => {
  const m = new Sequential({ inputShape: [784], seed: 1, layers: [dense(512, { activation: 'relu' }), dense(512, { activation: 'relu' }), dense(10)] });
  m.compile({ optimizer: opt, loss: 'softmaxCrossEntropy' });
  return m;
};
const window = (m) => {
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) m.trainOnBatch({ data: x, shape: [n, 784] }, y);
  return performance.now() - t0;
};
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
for (const [name, a, b] of [
  ['adam vs kerasAdam', adam({ lr: 1e-4 }), kerasAdam({ learningRate: 1e-4 })],
  ['sgd momentum vs kerasSGD momentum', sgd({ lr: 1e-3, momentum: 0.9 }), kerasSGD({ learningRate: 1e-3, momentum: 0.9 })],
  ['rmsprop vs kerasRMSprop', rmsprop({ lr: 1e-4 }), kerasRMSprop({ learningRate: 1e-4 })],
  ['adagrad vs kerasAdagrad', adagrad({ lr: 1e-3 }), kerasAdagrad({ learningRate: 1e-3 })],
]) {
  const ma = make(a);
  const mb = make(b);
  window(ma);
  window(mb); // warm-up
  const r = [];
  for (let p = 0; p < PAIRS; p++) {
    // alternate which goes first
    if (p % 2) {
      const tb = window(mb);
      r.push(tb / window(ma));
    } else {
      const ta = window(ma);
      r.push(window(mb) / ta);
    }
  }
  console.log(`${name}: Keras-form step time / PyTorch-form = ${median(r).toFixed(3)} (range ${Math.min(...r).toFixed(3)}–${Math.max(...r).toFixed(3)}, ${PAIRS} window pairs of ${STEPS} steps)`);
  ma.dispose();
  mb.dispose();
}
