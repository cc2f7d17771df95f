// What the machine offers `n` threads at this moment: a fixed integer loop timed on one
// worker_thread, then on `n` at once; capacity = n · t1 / tn (n on an idle n-core machine, less
// when other processes share the cores). The same measure as bench/threads.mjs's, for reading a
// thread-count ratio measured in the same round against it.
import { Worker } from 'node:worker_threads';

const LOOP = 'let x = 0; for (let i = 0; i < 4e7; i++) x = (x + i * 7) % 1000003; x';

/** Seconds the loop takes on each of `n` threads at once (the slowest). */
async function loopSeconds(n) {
  const ws = Array.from({ length: n }, () => new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.once('message', () => { const t0 = performance.now(); ${LOOP}; parentPort.postMessage(performance.now() - t0); });`, { eval: true }));
  await new Promise((r) => setTimeout(r, 50));
  const t = await Promise.all(ws.map((w) => new Promise((r) => { w.once('message', r); w.postMessage(0); })));
  await Promise.all(ws.map((w) => w.terminate()));
  return Math.max(...t) / 1000;
}

export async function capacity(n) {
  const t1 = await loopSeconds(1);
  const tn = await loopSeconds(n);
  return (n * t1) / tn;
}
