// W1 and W2 of bench/run.mjs — the same definitions, initial-weight seed and data — for the
// benchmarks that run outside run.mjs's process (bench/browser.mjs). tests/bench/browser-bench.test.ts
// checks that run.mjs's W1/W2/WEIGHT_SEED lines still match these.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { glorotWeights } from './peers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const W1 = { id: 'W1', title: 'W1 784-256-128-10 ReLU, softmax CE, Adam 1e-3, batch 128 (MNIST digits)', dims: [784, 256, 128, 10], loss: 'ce', lr: 1e-3, batch: 128, target: 8 };
export const W2 = { id: 'W2', title: 'W2 32-64-64-1 ReLU, MSE, Adam 1e-3, batch 32 (synthetic regression)', dims: [32, 64, 64, 1], loss: 'mse', lr: 1e-3, batch: 32, target: 15 };
export const WEIGHT_SEED = 7;

/** run.mjs's synthetic regression data for W2 (seeded LCG inputs in [−0.5, 0.5)). */
export function regression(rows, d) {
  let s = 99;
  const x = new Float32Array(rows * d);
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 4294967296 - 0.5;
  }
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) y[r] = 2 * x[r * d] - x[r * d + 1] + 0.5 * x[r * d + 2] * x[r * d + 3];
  return { x, y };
}

/**
 * The first `batches` batches of a workload's data, as run.mjs times it (its largest unit: 16
 * batches): W1 the bundled MNIST training digits (loadDigits({ seed: 0 })), W2 the regression set.
 * Returns { x, y, rows, weights } (weights: the seeded Glorot draw every library starts from).
 */
export async function workloadData(wl, batches = 16) {
  const rows = wl.batch * batches;
  const weights = glorotWeights(wl.dims, WEIGHT_SEED);
  if (wl.loss === 'ce') {
    const node = await import(pathToFileURL(join(root, 'dist', 'node.mjs')).href);
    const { train } = await node.loadDigits({ seed: 0 });
    return { x: train.x.slice(0, rows * wl.dims[0]), y: Int32Array.from(train.y.subarray(0, rows)), rows, weights };
  }
  const { x, y } = regression(rows, wl.dims[0]);
  return { x, y, rows, weights };
}
