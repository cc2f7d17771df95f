// train_step throughput: one JS→WASM call per batch (forward, loss, backward, Adam, every layer).
//   npm run bench:step            (median of 7 timed runs after warm-up; prints samples/s)
//   npm run bench:step -- --against <git-ref> [--rounds N] [--quick] [--threads N] [--only W1|W2|W5]
//       builds <git-ref> once into bench/.baseline/<sha> (bench/lib/baseline.mjs) and measures its
//       dist/ and this tree's dist/ in this one process, windows alternated over N rounds (default
//       41; 5 with --quick): per build median samples/s, and the per-round ratio new/old with its
//       IQR and min–max, by wall clock and by CPU time (bench/lib/step-ab.mjs, as bench/step-ab.mjs).
// Workload W1 of the benchmark issue: 784-256-128-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 128.
import { init, Sequential, dense, adam } from '../dist/wasmfit.mjs';

const quick = process.argv.includes('--quick');
//   npm run bench:step -- --fma [--browser] [--rounds N] [--quick]
//       the FMA build against the SIMD128 build of this tree, W1 and W2, windows alternated
//       (bench/lib/fma-ab.mjs; Node 20 re-runs with --experimental-wasm-relaxed-simd; --browser
//       measures in headless Chromium)
if (process.argv.includes('--fma')) {
  const { runFmaAB } = await import('./lib/fma-ab.mjs');
  const { fileURLToPath } = await import('node:url');
  const ri = process.argv.indexOf('--rounds');
  const rounds = ri >= 0 ? Number(process.argv[ri + 1]) : quick ? 5 : 21;
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds needs a positive integer');
  await runFmaAB({ what: 'step', browser: process.argv.includes('--browser'), rounds, windowMs: 1, script: fileURLToPath(import.meta.url), argv: process.argv.slice(2) });
  process.exit(0);
}
const ai = process.argv.indexOf('--against');
if (ai >= 0) {
  const ref = process.argv[ai + 1];
  if (!ref || ref.startsWith('--')) throw new Error('--against needs a git ref (e.g. --against 8da030c)');
  const ri = process.argv.indexOf('--rounds');
  const rounds = ri >= 0 ? Number(process.argv[ri + 1]) : quick ? 5 : 41;
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds needs a positive integer');
  const { baselineBuild, currentDescription } = await import('./lib/baseline.mjs');
  const { runStepAB } = await import('./lib/step-ab.mjs');
  const base = baselineBuild(ref);
  const { fileURLToPath } = await import('node:url');
  await runStepAB({
    dists: [base.dist, fileURLToPath(new URL('../dist/', import.meta.url))],
    names: ['old', 'new'],
    describe: [`${ref}${ref === base.short || base.sha.startsWith(ref) ? '' : ` = ${base.short}`} (${base.dist})`, `this tree ${currentDescription()} (dist/)`],
    rounds,
    threads: process.argv.includes('--threads') ? Number(process.argv[process.argv.indexOf('--threads') + 1]) : undefined,
    only: process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined,
  });
  process.exit(0);
}
const rt = await init();
const [d, h1, h2, k, batch] = [784, 256, 128, 10, 128];
const rows = batch * 16;
const x = new Float32Array(rows * d);
const y = new Int32Array(rows);
let s = 1;
for (let i = 0; i < x.length; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  x[i] = s / 4294967296;
}
for (let i = 0; i < rows; i++) y[i] = i % k;
const model = new Sequential({ inputShape: [d], layers: [dense(h1, { activation: 'relu' }), dense(h2, { activation: 'relu' }), dense(k)] });
model.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
await model.fit(x, y, { epochs: 1, batchSize: batch }); // warm-up
const times = [];
for (let r = 0; r < (quick ? 3 : 7); r++) {
  const t0 = performance.now();
  await model.fit(x, y, { epochs: 2, batchSize: batch, yieldEveryMs: 1e9 });
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
const sps = times.map((t) => (2 * rows) / t);
const med = (2 * rows) / times[Math.floor(times.length / 2)];
const mem = rt.memoryStats();
console.log(`W1 784-256-128-10 Adam batch ${batch} (${rt.simd ? 'SIMD128' : 'scalar'}): ${med.toFixed(0)} samples/s (min ${Math.min(...sps).toFixed(0)}, max ${Math.max(...sps).toFixed(0)})`);
console.log(`WASM memory: ${(mem.committedBytes / 2 ** 20).toFixed(1)} MiB committed, peak in use ${(mem.peakInUseBytes / 2 ** 20).toFixed(1)} MiB`);
model.dispose();

// W2: 32-64-64-1 ReLU, MSE, Adam 1e-3, batch 32
{
  const rows2 = 32 * 256;
  const x2 = new Float32Array(rows2 * 32);
  const y2 = new Float32Array(rows2);
  for (let i = 0; i < x2.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x2[i] = s / 4294967296 - 0.5;
  }
  for (let r = 0; r < rows2; r++) y2[r] = x2[r * 32] * 2 - x2[r * 32 + 1];
  const m2 = new Sequential({ inputShape: [32], layers: [dense(64, { activation: 'relu' }), dense(64, { activation: 'relu' }), dense(1)] });
  m2.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'mse' });
  const Y = { data: y2, shape: [rows2, 1] };
  await m2.fit(x2, Y, { epochs: 1, batchSize: 32 });
  const t2 = [];
  for (let r = 0; r < (quick ? 3 : 7); r++) {
    const t0 = performance.now();
    await m2.fit(x2, Y, { epochs: 2, batchSize: 32, yieldEveryMs: 1e9 });
    t2.push((performance.now() - t0) / 1000);
  }
  t2.sort((a, b) => a - b);
  const sps2 = t2.map((t) => (2 * rows2) / t);
  console.log(`W2 32-64-64-1 MSE Adam batch 32: ${((2 * rows2) / t2[Math.floor(t2.length / 2)]).toFixed(0)} samples/s (min ${Math.min(...sps2).toFixed(0)}, max ${Math.max(...sps2).toFixed(0)})`);
  m2.dispose();
}
