// A/B of train_step throughput between two builds of wasmfit in ONE process, alternating their
// step windows so drift (thermal, other load, JIT) hits both alike:
//   node bench/step-ab.mjs <distA> <distB> [--rounds 41] [--quick]
// e.g. A = the build before the finiteness check (git worktree add /tmp/kold 8da030c; npm run
// build there), B = this tree: node bench/step-ab.mjs /tmp/kold/dist dist
// Workloads as bench/step.mjs: W1 784-256-128-10 ReLU, softmax CE, Adam 1e-3, batch 128;
// W2 32-64-64-1 ReLU, MSE, Adam 1e-3, batch 32. Timing: wall clock and process CPU time (the
// latter is less sensitive to other processes on a shared machine). Each window is one epoch of fit (8 batches for
// W1, 128 for W2). Rounds alternate the order (AB, BA, AB, ...). Reports per build the median
// samples/s with min/max and IQR, and the median over rounds of the per-round ratio B/A.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const dists = args.filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
if (dists.length !== 2) {
  console.error('usage: node bench/step-ab.mjs <distA> <distB> [--rounds N] [--quick]');
  process.exit(2);
}
const ri = args.indexOf('--rounds');
const rounds = ri >= 0 ? Number(args[ri + 1]) : args.includes('--quick') ? 5 : 41;
const load = async (d) => import(pathToFileURL(resolve(d, 'wasmfit.mjs')).href);
const builds = [await load(dists[0]), await load(dists[1])];
const names = ['A', 'B'];

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

async function setup(W, which) {
  await W.init();
  if (which === 'W1') {
    const [d, k, batch] = [784, 10, 128];
    const rows = batch * 8;
    const r = lcg(1);
    const x = Float32Array.from({ length: rows * d }, r);
    const y = Int32Array.from({ length: rows }, (_, i) => i % k);
    const m = new W.Sequential({ inputShape: [d], layers: [W.dense(256, { activation: 'relu' }), W.dense(128, { activation: 'relu' }), W.dense(k)] });
    m.compile({ optimizer: W.adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
    return { m, x, y, batch, rows };
  }
  const [d, batch] = [32, 32];
  const rows = batch * 128;
  const r = lcg(2);
  const x = Float32Array.from({ length: rows * d }, () => r() - 0.5);
  const y = { data: Float32Array.from({ length: rows }, (_, i) => x[i * d] * 2 - x[i * d + 1]), shape: [rows, 1] };
  const m = new W.Sequential({ inputShape: [d], layers: [W.dense(64, { activation: 'relu' }), W.dense(64, { activation: 'relu' }), W.dense(1)] });
  m.compile({ optimizer: W.adam({ lr: 1e-3 }), loss: 'mse' });
  return { m, x, y, batch, rows };
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const quantile = (a, q) => {
  const s = [...a].sort((p, r) => p - r);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
};

for (const which of ['W1', 'W2']) {
  const env = [];
  for (const W of builds) env.push(await setup(W, which));
  for (const e of env) await e.m.fit(e.x, e.y, { epochs: 1, batchSize: e.batch, yieldEveryMs: 1e9 }); // warm-up
  const sps = [[], []];
  const cps = [[], []];
  const ratio = [];
  const cratio = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    const t = [0, 0];
    const c = [0, 0];
    for (const b of order) {
      const e = env[b];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await e.m.fit(e.x, e.y, { epochs: 1, batchSize: e.batch, yieldEveryMs: 1e9 });
      t[b] = (performance.now() - t0) / 1000;
      const cu = process.cpuUsage(c0);
      c[b] = (cu.user + cu.system) / 1e6;
      sps[b].push(e.rows / t[b]);
      cps[b].push(e.rows / c[b]);
    }
    ratio.push(t[0] / t[1]); // samples/s of B over A
    cratio.push(c[0] / c[1]);
  }
  const simd = builds.map((W) => (W.getRuntime?.().simd ?? true ? 'SIMD128' : 'scalar'));
  console.log(`${which} (${rounds} alternated rounds, one epoch per window):`);
  for (const b of [0, 1]) {
    const s = sps[b];
    console.log(`  ${names[b]} ${dists[b]} [${simd[b]}]: median ${median(s).toFixed(0)} samples/s (min ${Math.min(...s).toFixed(0)}, max ${Math.max(...s).toFixed(0)}, IQR ${quantile(s, 0.25).toFixed(0)}–${quantile(s, 0.75).toFixed(0)})`);
  }
  console.log(`  B/A wall-clock throughput ratio: median ${median(ratio).toFixed(4)} (IQR ${quantile(ratio, 0.25).toFixed(4)}–${quantile(ratio, 0.75).toFixed(4)}, min ${Math.min(...ratio).toFixed(4)}, max ${Math.max(...ratio).toFixed(4)})`);
  for (const b of [0, 1]) console.log(`  ${names[b]} per CPU-second (process.cpuUsage; less sensitive to other load): median ${median(cps[b]).toFixed(0)} samples/s (IQR ${quantile(cps[b], 0.25).toFixed(0)}–${quantile(cps[b], 0.75).toFixed(0)})`);
  console.log(`  B/A CPU-time throughput ratio: median ${median(cratio).toFixed(4)} (IQR ${quantile(cratio, 0.25).toFixed(4)}–${quantile(cratio, 0.75).toFixed(4)})`);
  for (const e of env) e.m.dispose();
}
