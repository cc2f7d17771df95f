// One model on 1 thread against the same model on N threads (init({ threads })), in one process,
// windows alternated (1, N, 1, N, …) so machine load hits both alike.
//   npm run bench:threads [-- --threads N] [--rounds R] [--quick]
// A window is one fit call of 2 epochs (W1: 2 × 32 steps, 2 × 16 with --quick; W2: 2 × 256), so a
// worker's first wake-up per call and other per-call set-up are amortized alike.
// W1: 784-256-128-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 128.
// W2: 32-64-64-1 ReLU, MSE, Adam 1e-3, batch 32.
// W5: the CNN conv(32, 5×5)→maxPool→conv(64, 5×5)→maxPool→dense(128)→dense(10), Adam 1e-3, batch 32.
// Per workload: median samples/s of each configuration, and the per-round ratio N/1 (median,
// IQR, min–max). Each round also measures what the machine offers at that moment: a fixed JS loop
// on 1 thread, then on N threads at once ("capacity" = N·t1/tN: N on an idle N-core machine,
// less when other processes share the cores), so a ratio can be read against it. Both models start from the same seed and see the same batches, so their weights
// must end bit-identical: the bench checks it.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { init, Sequential, dense, adam, conv2d, maxPool2d, flatten } from '../dist/wasmfit.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const quick = process.argv.includes('--quick');
const N = arg('--threads', Math.min(8, availableParallelism()));
const rounds = arg('--rounds', quick ? 5 : 21);
if (!(Number.isInteger(N) && N >= 2)) throw new Error('--threads needs an integer >= 2 (this host has ' + availableParallelism() + ' cores)');

const rt1 = await init({ threads: 1 });
const rtN = await init({ threads: N });

function lcgFill(a, s, off = 0) {
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 + off;
  }
  return s;
}

const q = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  const i = (s.length - 1) * p;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
};

/** Seconds one fixed integer loop takes on each of `n` threads at once (the slowest). */
const LOOP = 'let x = 0; for (let i = 0; i < 4e7; i++) x = (x + i * 7) % 1000003; x';
async function loopSeconds(n) {
  const ws = Array.from({ length: n }, () => new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.once('message', () => { const t0 = performance.now(); ${LOOP}; parentPort.postMessage(performance.now() - t0); });`, { eval: true }));
  await new Promise((r) => setTimeout(r, 50));
  const t = await Promise.all(ws.map((w) => new Promise((r) => { w.once('message', r); w.postMessage(0); })));
  await Promise.all(ws.map((w) => w.terminate()));
  return Math.max(...t) / 1000;
}
async function capacity() {
  const t1 = await loopSeconds(1);
  const tn = await loopSeconds(N);
  return (N * t1) / tn;
}

// The integer loop above is latency-bound: a core whose SMT sibling (on the host, invisible in a
// VM) runs another tenant's vector code slows it little, but halves a GEMM. So W1 also measures
// what N cores give N independent copies of its own work: N workers, each training W1 on its own
// 1-thread runtime, one alone, all at once, one alone again ("copies capacity" = N·t1/tN, t1 the mean of the two alone). A threaded step can
// at best reach it.
const COPY = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { init, Sequential, dense, adam } = await import(workerData.url);
  const rt = await init({ threads: 1 });
  const rows = 128 * workerData.steps, d = 784;
  const x = new Float32Array(rows * d);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) >>> 0) / 4294967296 - 0.5;
  const y = Int32Array.from({ length: rows }, (_, i) => i % 10);
  const m = new Sequential({ inputShape: [d], layers: [dense(256, { activation: 'relu' }), dense(128, { activation: 'relu' }), dense(10)], runtime: rt, seed: 1 });
  m.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
  const fit = () => m.fit(x, y, { epochs: 1, batchSize: 128, shuffle: false, yieldEveryMs: 1e9 });
  await fit();
  parentPort.postMessage('ready');
  parentPort.on('message', async () => { const t0 = performance.now(); await fit(); parentPort.postMessage(performance.now() - t0); });
})();`;
let copies = null;
async function copiesCapacity() {
  if (!copies) {
    copies = Array.from({ length: N }, () => new Worker(COPY, { eval: true, workerData: { url: new URL('../dist/wasmfit.mjs', import.meta.url).href, steps: 8 } }));
    await Promise.all(copies.map((w) => new Promise((r) => w.once('message', r))));
  }
  const run = (ws) => Promise.all(ws.map((w) => new Promise((r) => { w.once('message', r); w.postMessage(0); })));
  // one alone before and after the N at once (their mean), so a drift in the machine hits both
  const a = Math.max(...(await run(copies.slice(0, 1))));
  const tn = Math.max(...(await run(copies)));
  const b = Math.max(...(await run(copies.slice(0, 1))));
  return (N * (a + b)) / 2 / tn;
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
async function workload(name, { d, shape, layers, loss, batch, rows, y, probeCopies }) {
  if (only && !name.startsWith(only)) return;
  const x = new Float32Array(rows * d);
  lcgFill(x, 7, -0.5);
  const make = (runtime) => {
    const m = new Sequential({ inputShape: shape ?? [d], layers: layers(), runtime, seed: 1 });
    m.compile({ optimizer: adam({ lr: 1e-3 }), loss });
    return m;
  };
  const ms = [make(rt1), make(rtN)];
  const Y = y(x, rows, d);
  for (const m of ms) await m.fit(x, Y, { epochs: 1, batchSize: batch, shuffle: false }); // warm-up
  const backOffs0 = rtN.pool.backOffs;
  const sps = [[], []];
  const ratio = [];
  const cap = [];
  const ccap = [];
  for (let r = 0; r < rounds; r++) {
    cap.push(await capacity());
    if (probeCopies) ccap.push(await copiesCapacity());
    const t = [0, 0];
    // alternate which configuration goes first
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const t0 = performance.now();
      await ms[i].fit(x, Y, { epochs: 2, batchSize: batch, shuffle: false, yieldEveryMs: 1e9 });
      t[i] = (performance.now() - t0) / 1000;
      sps[i].push((2 * rows) / t[i]);
    }
    ratio.push(t[0] / t[1]);
  }
  const bits = ms.map((m) => m.getWeights().map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).toString('base64')).join('|'));
  const same = bits[0] === bits[1];
  console.log(
    `${name}: 1 thread ${q(sps[0], 0.5).toFixed(0)} samples/s, ${N} threads ${q(sps[1], 0.5).toFixed(0)} samples/s; ` +
      `ratio ${N}/1 median ${q(ratio, 0.5).toFixed(3)} (IQR ${q(ratio, 0.25).toFixed(3)}–${q(ratio, 0.75).toFixed(3)}, min ${Math.min(...ratio).toFixed(3)}, max ${Math.max(...ratio).toFixed(3)}); ` +
      `weights ${same ? 'bit-identical' : 'DIFFER'}; pool backed off to serial ${rtN.pool.backOffs - backOffs0} time(s) (a busy host); machine capacity for ${N} threads median ${q(cap, 0.5).toFixed(2)} (min ${Math.min(...cap).toFixed(2)}, max ${Math.max(...cap).toFixed(2)})`,
  );
  const free = ratio.filter((_, i) => cap[i] >= 0.9 * N);
  if (ccap.length) {
    const eff = ratio.map((x, i) => x / ccap[i]);
    console.log(`  copies capacity (${N} independent 1-thread copies of this workload at once against one alone) median ${q(ccap, 0.5).toFixed(2)} (IQR ${q(ccap, 0.25).toFixed(2)}–${q(ccap, 0.75).toFixed(2)}, min ${Math.min(...ccap).toFixed(2)}, max ${Math.max(...ccap).toFixed(2)}); ratio ÷ copies capacity median ${q(eff, 0.5).toFixed(3)}`);
    const full = ratio.filter((_, i) => ccap[i] >= 0.9 * N);
    console.log(`  rounds whose copies capacity >= ${(0.9 * N).toFixed(1)}: ${full.length}` + (full.length ? `, their ratio ${N}/1 median ${q(full, 0.5).toFixed(3)} (min ${Math.min(...full).toFixed(3)}, max ${Math.max(...full).toFixed(3)})` : ''));
  }
  if (free.length) console.log(`  rounds measured with capacity >= ${(0.9 * N).toFixed(1)}: ${free.length}, their ratio ${N}/1 median ${q(free, 0.5).toFixed(3)} (min ${Math.min(...free).toFixed(3)}, max ${Math.max(...free).toFixed(3)})`);
  for (const m of ms) m.dispose();
  if (!same) process.exitCode = 1;
}

console.log(`bench/threads: ${rounds} rounds, windows alternated, Node ${process.version}, ${availableParallelism()} cores reported`);
await workload('W1 784-256-128-10 Adam batch 128', {
  d: 784,
  layers: () => [dense(256, { activation: 'relu' }), dense(128, { activation: 'relu' }), dense(10)],
  loss: 'softmaxCrossEntropy',
  batch: 128,
  rows: 128 * (quick ? 16 : 32),
  y: (x, rows) => Int32Array.from({ length: rows }, (_, i) => i % 10),
  probeCopies: true,
});
await workload('W2 32-64-64-1 Adam batch 32', {
  d: 32,
  layers: () => [dense(64, { activation: 'relu' }), dense(64, { activation: 'relu' }), dense(1)],
  loss: 'mse',
  batch: 32,
  rows: 32 * 256,
  y: (x, rows, d) => ({ data: Float32Array.from({ length: rows }, (_, r) => x[r * d] * 2 - x[r * d + 1]), shape: [rows, 1] }),
});
// W5: the CNN of bench/run.mjs (convolutions split by output tiles, dX and pooling by images)
await workload('W5 CNN conv32 5×5-pool-conv64 5×5-pool-dense128-10 Adam batch 32', {
  d: 784,
  shape: [28, 28, 1],
  layers: () => [conv2d(32, { kernelSize: 5, activation: 'relu' }), maxPool2d(), conv2d(64, { kernelSize: 5, activation: 'relu' }), maxPool2d(), flatten(), dense(128, { activation: 'relu' }), dense(10)],
  loss: 'softmaxCrossEntropy',
  batch: 32,
  rows: 32 * (quick ? 4 : 8),
  y: (x, rows) => Int32Array.from({ length: rows }, (_, i) => i % 10),
});
rt1.dispose();
rtN.dispose();
if (copies) await Promise.all(copies.map((w) => w.terminate()));
