// train_step throughput of two builds of wasmfit (their dist/ directories) in ONE process, step
// windows alternated (bench/lib/ab.mjs). Shared by `node bench/step-ab.mjs <distA> <distB>` and
// `npm run bench:step -- --against <ref>`.
// Workloads as bench/step.mjs: W1 784-256-128-10 ReLU, softmax CE, Adam 1e-3, batch 128;
// W2 32-64-64-1 ReLU, MSE, Adam 1e-3, batch 32; W5 the CNN of bench/run.mjs (when both builds
// have convolutions). Each window is one epoch of fit (8 batches for W1 and W5, 128 for W2),
// after one warm-up epoch per build.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { alternate, abTable, abLegend } from './ab.mjs';

export const loadDist = async (d) => import(pathToFileURL(resolve(d, 'wasmfit.mjs')).href);

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export const STEP_WORKLOADS = {
  W1: '784-256-128-10 CE, Adam, batch 128',
  W2: '32-64-64-1 MSE, Adam, batch 32',
  W5: 'CNN conv32 5×5-pool-conv64 5×5-pool-dense128-10 CE, Adam, batch 32',
};

async function setup(W, which, threads) {
  await W.init(threads ? { threads } : undefined);
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
  if (which === 'W5') {
    const batch = 32;
    const rows = batch * 8;
    const r = lcg(5);
    const x = Float32Array.from({ length: rows * 784 }, r);
    const y = Int32Array.from({ length: rows }, (_, i) => i % 10);
    const layers = [W.conv2d(32, { kernelSize: 5, activation: 'relu' }), W.maxPool2d(), W.conv2d(64, { kernelSize: 5, activation: 'relu' }), W.maxPool2d(), W.flatten(), W.dense(128, { activation: 'relu' }), W.dense(10)];
    const m = new W.Sequential({ inputShape: [28, 28, 1], layers });
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

/**
 * Measures W1 and W2 on the builds in `dists` (A, B), `rounds` alternated rounds each, and
 * prints the table. `names` label the two columns (e.g. ['old', 'new']); `describe` their lines.
 */
export async function runStepAB({ dists, names = ['A', 'B'], describe = dists, rounds, threads, only }) {
  const builds = [await loadDist(dists[0]), await loadDist(dists[1])];
  const rows = [];
  // W5 where both builds have convolutions
  for (const which of ['W1', 'W2', ...(builds.every((W) => typeof W.conv2d === 'function') ? ['W5'] : [])]) {
    if (only && which !== only) continue;
    process.stderr.write(`${which}: ${rounds} alternated rounds ...\n`);
    const env = [];
    for (const W of builds) env.push(await setup(W, which, threads));
    const epoch = (e) => e.m.fit(e.x, e.y, { epochs: 1, batchSize: e.batch, yieldEveryMs: 1e9 });
    for (const e of env) await epoch(e); // warm-up
    const res = await alternate(
      env.map((e) => async () => {
        await epoch(e);
        return e.rows;
      }),
      rounds,
    );
    rows.push({ label: `${which} ${STEP_WORKLOADS[which]}`, res });
    for (const e of env) e.m.dispose();
  }
  const simd = builds.map((W) => ((W.getRuntime?.().simd ?? true) ? 'SIMD128' : 'scalar'));
  console.log(`train_step throughput, samples/s; ${rounds} alternated rounds (AB, BA, ...) of one epoch per window; ${threads ? `init({ threads: ${threads} })` : 'init() default threads'}; node ${process.version}, ${process.arch}`);
  for (const b of [0, 1]) console.log(`  ${names[b]}: ${describe[b]} [${simd[b]}]`);
  console.log(`  ${abLegend(names)}\n`);
  console.log(abTable(rows, { names, unit: 'samples/s' }));
  return rows;
}
