// wasmfit benchmark harness: wasmfit and the libraries a user would otherwise pick, on the same
// workloads, in one run, with the ratios measured in that run.
//
//   npm run bench                      (from the repository root; installs bench/'s peers first)
//   npm run bench -- --quick           (a few minutes: shorter windows; W3 stops at 90 %, cap 15 s)
//   node bench/run.mjs [--quick] [--json FILE] [--svg FILE] [--readme] [--only LIST] [--no-gemm]
//
// --json FILE   also writes one JSON object per measured row (JSON lines)
// --svg FILE    where the bar chart of the ratios goes (default docs/img/bench/ratios.svg)
// --readme      rewrites README.md between <!-- bench:start --> and <!-- bench:end -->
// --only LIST   comma-separated subset of wasmfit,tfjs-wasm,tfjs-wasm-Nt,tfjs-cpu,brain.js,jax-js,numpy,pytorch,
//               numpy-Nt,pytorch-Nt (N = the machine's cores)
//               (wasmfit always runs: every ratio is against it)
// --no-gemm     leaves W4 (bench/gemm.mjs) out
// --no-cnn      leaves W5 (the CNN) out
// --no-browser  leaves the browser section (bench/browser.mjs: headless Chromium, PyTorch interleaved) out
//
// Workloads (every library starts from the same seeded Glorot-uniform weights, one thread):
//   W1  784-256-128-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 128, on the bundled MNIST
//       digits — training samples/s
//   W2  32-64-64-1 ReLU, MSE, Adam 1e-3, batch 32, synthetic regression — training samples/s
//   W3  784-256-128-10 ReLU, softmax CE, Adam 1e-3, batch 32, 8,000 training digits, accuracy on the
//       2,000 held-out digits after each epoch (evaluation not timed) — training seconds until the
//       held-out accuracy first reaches 97 % (and 95 %, 90 %), capped; --quick stops at 90 %
//   W3c W3 with W5's CNN: training seconds until the held-out accuracy first reaches 98 % (97 %,
//       95 %); --quick stops at 95 %
//   W4  GEMM GFLOP/s: bench/gemm.mjs run as a child process, summarized
//   W5  the CNN of examples/cnn.mjs without dropout: conv(32, 5×5) → maxPool → conv(64, 5×5) →
//       maxPool → dense(128) → dense(10), ReLU, softmax CE, Adam 1e-3, batch 32, on the digits —
//       training samples/s (libraries without convolutions print the reason)
//   memory: each library's W1 in a child process (peak RSS; wasmfit's WebAssembly.Memory size
//       against the bytes that parameters, gradients, Adam state and one batch's activations need)
//   size: gzipped bytes of each library's browser bundle (+ its .wasm)
//
// JSON lines (--json): one object per line with `kind` = 'library' (label, version, or the reason
// it cannot run), 'throughput' (W1/W2: median/min/max samples/s, ratio = wasmfit ÷ library),
// 'time-to-accuracy' (W3: curve of [training seconds, held-out accuracy] per epoch, timeTo97/95/90),
// 'gemm' (W4 summary), 'memory' (per library), 'memory-needed' (W1's bytes), 'size' (gzip bytes);
// each also carries the date, --quick, node version and CPU.
//
// W1/W2 figures are medians over several timed windows after warm-up (min–max in brackets); the
// windows of the libraries are interleaved round-robin so that a change in machine load hits all
// of them alike. numpy and PyTorch run in long-lived python3 child processes (bench/py_peer.py),
// one per thread count, driven window by window like the JS libraries: with one thread and with
// every core (-Nt rows).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { barChart } from './lib/barchart.mjs';
import { fmtBytes, fmtNum, fmtRatio, fmtSummary, mdTable, summarize, textTable, tick } from './lib/stats.mjs';
import { cnnWeights, glorotWeights, jsPeers, loadWasmfit } from './lib/peers.mjs';
import { closePythonPeers, pythonPeer } from './lib/python-peer.mjs';
import { browserSection } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(join(here, 'package.json'));

// ------------------------------------------------------------------------------ options
const argv = process.argv.slice(2);
function opt(name) {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs an argument`);
  return v;
}
const FLAGS = new Set(['--quick', '--readme', '--no-gemm', '--no-cnn', '--no-browser']);
const VALUED = new Set(['--json', '--svg', '--only', '--child-memory']);
for (let i = 0; i < argv.length; i++) {
  if (FLAGS.has(argv[i])) continue;
  if (VALUED.has(argv[i])) {
    i++;
    continue;
  }
  throw new Error(`unknown argument ${argv[i]} (expected --quick, --json FILE, --svg FILE, --readme, --only LIST, --no-gemm, --no-cnn, --no-browser)`);
}
const quick = argv.includes('--quick');
const jsonFile = opt('--json');
const svgFile = opt('--svg') ?? join(root, 'docs', 'img', 'bench', 'ratios.svg');
const writeReadme = argv.includes('--readme');
const only = opt('--only')?.split(',');
const childMemory = opt('--child-memory');

const CFG = quick
  ? { windowMs: 250, minWindows: 3, maxWindows: 5, budgetMs: 2000, w3CapS: 15, w3MaxEpochs: 30, w3StopAt: 0.9, slowMs: 10000 }
  : { windowMs: 1000, minWindows: 5, maxWindows: 9, budgetMs: 10000, w3CapS: 60, w3MaxEpochs: 60, w3StopAt: 0.97, slowMs: 30000 };

const W1 = { id: 'W1', title: 'W1 784-256-128-10 ReLU, softmax CE, Adam 1e-3, batch 128 (MNIST digits)', dims: [784, 256, 128, 10], loss: 'ce', lr: 1e-3, batch: 128, target: 8 };
const W2 = { id: 'W2', title: 'W2 32-64-64-1 ReLU, MSE, Adam 1e-3, batch 32 (synthetic regression)', dims: [32, 64, 64, 1], loss: 'mse', lr: 1e-3, batch: 32, target: 15 };
const W3 = { id: 'W3', title: 'W3 time to 97% held-out accuracy (784-256-128-10, Adam 1e-3, batch 32, 8,000 MNIST digits)', dims: [784, 256, 128, 10], loss: 'ce', lr: 1e-3, batch: 32, goals: [0.97, 0.95, 0.9], stopAt: CFG.w3StopAt, capS: CFG.w3CapS, maxEpochs: CFG.w3MaxEpochs, rateFrom: 'W1', rateFactor: 2 };
const W5 = {
  id: 'W5',
  title: 'W5 CNN conv(32, 5×5)→maxPool→conv(64, 5×5)→maxPool→dense(128)→dense(10), ReLU, softmax CE, Adam 1e-3, batch 32 (MNIST digits)',
  dims: [784, 10],
  cnn: { input: [28, 28, 1], convs: [{ filters: 32, kernel: 5 }, { filters: 64, kernel: 5 }], hidden: [128], classes: 10 },
  loss: 'ce',
  lr: 1e-3,
  batch: 32,
  target: 3,
};
/** W3 with the CNN of W5 (the issue's "time to 98% on the digits with the CNN"). */
const W3C = {
  ...W5,
  id: 'W3c',
  title: 'W3c time to 98% held-out accuracy with the CNN of W5 (Adam 1e-3, batch 32, 8,000 MNIST digits)',
  goals: [0.98, 0.97, 0.95],
  stopAt: quick ? 0.95 : 0.98,
  capS: quick ? 40 : 150,
  maxEpochs: quick ? 4 : 20,
  rateFrom: 'W5',
  rateFactor: 1,
};
const WEIGHT_SEED = 7;

const T0 = performance.now();
const log = (s) => process.stderr.write(`[${((performance.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

// ------------------------------------------------------------------------------ data
async function digits() {
  const { node } = await loadWasmfit();
  return node.loadDigits({ seed: 0 }); // 8,000 train / 2,000 held-out
}
function regression(rows, d) {
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

// ------------------------------------------------------------------------------ child: memory
// `node bench/run.mjs --child-memory ID`: W1 for a few epochs with one library, alone in this
// process, then prints its memory figures as one JSON line.
if (childMemory) {
  const rssStart = process.memoryUsage().rss;
  const peer = jsPeers.find((p) => p.id === childMemory);
  if (!peer) throw new Error(`--child-memory: unknown library ${childMemory}`);
  await peer.load();
  // Synthetic digits-shaped data (loading the 10,000 real digits from JSON would dominate RSS).
  const rows = childMemory === 'brain.js' ? 32 : 2048;
  const x = new Float32Array(rows * 784);
  const y = new Int32Array(rows);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) >>> 0) / 4294967296;
  for (let r = 0; r < rows; r++) y[r] = r % 10;
  const t = await peer.create({ ...W1, weights: glorotWeights(W1.dims, WEIGHT_SEED) });
  const d = t.prepare(x, y, rows);
  for (let e = 0; e < (childMemory === 'brain.js' ? 1 : 3); e++) await t.epoch(d, e);
  // Peak RSS of this process: VmHWM (Linux; ru_maxrss would carry the parent's peak across exec).
  let maxRss = process.resourceUsage().maxRSS * 1024;
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) maxRss = Number(hwm[1]) * 1024;
  } catch {
    /* not Linux */
  }
  const out = { id: childMemory, rssStart, rss: process.memoryUsage().rss, maxRss };
  if (childMemory === 'wasmfit') {
    const { rt } = await loadWasmfit();
    const m = rt.memoryStats();
    out.wasmCommitted = m.committedBytes;
    out.wasmPeakInUse = m.peakInUseBytes;
  }
  if (childMemory === 'tfjs-wasm') {
    const tf = require('@tensorflow/tfjs-core');
    out.wasmCommitted = tf.backend().wasm?.HEAPU8?.buffer.byteLength;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

// ------------------------------------------------------------------------------ machine
const pkgVersion = (p) => {
  try {
    return require(`${p}/package.json`).version;
  } catch {
    return null;
  }
};
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown CPU',
  cores: cpus().length,
  memGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  date: new Date().toISOString().slice(0, 10),
};
log(`wasmfit bench${quick ? ' --quick' : ''}: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}`);

// ------------------------------------------------------------------------------ peers
/** Every library's row, whether it runs or not. */
const libs = [];
for (const p of jsPeers) {
  if (only && p.id !== 'wasmfit' && !only.includes(p.id)) {
    libs.push({ id: p.id, ok: false, reason: 'left out by --only' });
    continue;
  }
  try {
    const info = await p.load();
    libs.push({ id: p.id, ok: true, peer: p, ...info });
  } catch (e) {
    libs.push({ id: p.id, ok: false, reason: e.message.split('\n')[0] });
  }
}
// native peers (python3 children), one thread and every core
const cores = cpus().length;
const nativePeers = [pythonPeer('numpy', 1), pythonPeer('pytorch', 1), ...(cores > 1 ? [pythonPeer('numpy', cores), pythonPeer('pytorch', cores)] : [])];
for (const p of nativePeers) {
  if (only && !only.includes(p.id)) {
    libs.push({ id: p.id, ok: false, native: true, reason: 'left out by --only' });
    continue;
  }
  try {
    const info = await p.load();
    libs.push({ id: p.id, ok: true, native: true, peer: p, ...info });
  } catch (e) {
    libs.push({ id: p.id, ok: false, native: true, reason: e.message.split('\n')[0] });
  }
}
const lib = (id) => libs.find((l) => l.id === id);
if (!lib('wasmfit').ok) throw new Error(`wasmfit itself did not load: ${lib('wasmfit').reason} (run npm run build first)`);
for (const l of libs) log(`  ${l.ok ? l.label : `${l.id}: cannot run — ${l.reason}`}`);

const tmp = mkdtempSync(join(tmpdir(), 'wasmfit-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------------------ W1 / W2
const results = { throughput: {}, tta: { W3: {}, W3c: {} }, w4: null, memory: {}, size: {} };
results.w3 = results.tta.W3;

async function throughput(wl, data) {
  const weights = wl.cnn ? cnnWeights(wl.cnn, WEIGHT_SEED) : glorotWeights(wl.dims, WEIGHT_SEED);
  const k = wl.dims[wl.dims.length - 1];
  const B = wl.batch;
  const maxRows = B * 16;
  const yPer = wl.loss === 'ce' ? 1 : k; // class ids, or k targets per row
  const runs = [];
  for (const l of libs.filter((x) => x.ok && x.peer)) {
    log(`${wl.id}: setting up ${l.id}…`);
    try {
      const t = await l.peer.create({ ...wl, weights });
      // calibrate on one unit (a batch; 16 rows for per-sample libraries): pick the data size
      // (1, 4 or 16 units) and the epochs per window
      const unit = t.perSample ? 16 : B;
      const sub = (n) => ({ x: data.x.subarray(0, n * wl.dims[0]), y: data.y.subarray(0, n * yPer), rows: n });
      let d = t.prepare(sub(unit).x, sub(unit).y, unit);
      let t0 = performance.now();
      await t.epoch(d, 0);
      const first = performance.now() - t0;
      if (first > CFG.slowMs) {
        // one unit took longer than many windows (tfjs-cpu on the CNN: over a minute per batch):
        // that first unit is its only window, warm-up included (negligible at that length)
        results.throughput[`${wl.id}:${l.id}`] = { ...summarize([unit / (first / 1000)]), rows: unit, epochsPerWindow: 1, note: `one timed ${t.perSample ? 'pass' : 'batch'} of ${(first / 1000).toFixed(0)} s, its first (too slow for repeated windows)` };
        t.disposeData?.(d);
        t.dispose();
        continue;
      }
      if (!t.perSample) await t.epoch(d, 1);
      t0 = performance.now();
      await t.epoch(d, 2);
      const perUnit = Math.max(performance.now() - t0, 0.01);
      const needUnits = CFG.windowMs / perUnit;
      const nu = needUnits >= 16 ? 16 : needUnits >= 4 ? 4 : 1;
      if (nu > 1) {
        t.disposeData?.(d);
        d = t.prepare(sub(nu * unit).x, sub(nu * unit).y, nu * unit);
        await t.epoch(d, 3); // warm the larger shape too
      }
      const epochs = Math.max(1, Math.round(needUnits / nu));
      runs.push({ l, t, d, epochs, rows: nu * unit, rates: [], spent: 0, seed: 10, note: t.note });
    } catch (e) {
      results.throughput[`${wl.id}:${l.id}`] = { error: e.message.split('\n')[0] };
      log(`  ${l.id} failed: ${e.message}`);
    }
  }
  // interleaved timed windows
  for (let w = 0; w < CFG.maxWindows; w++) {
    const active = runs.filter((r) => !r.error && (r.rates.length < CFG.minWindows || r.spent < CFG.budgetMs));
    if (active.length === 0) break;
    for (const r of active) {
      await tick();
      try {
        const t0 = performance.now();
        if (r.t.epochs) await r.t.epochs(r.d, r.epochs, r.seed++);
        else for (let e = 0; e < r.epochs; e++) await r.t.epoch(r.d, r.seed++);
        const dt = performance.now() - t0;
        r.spent += dt;
        r.rates.push((r.epochs * r.rows) / (dt / 1000));
      } catch (e) {
        r.error = e.message.split('\n')[0];
      }
    }
  }
  for (const r of runs) {
    results.throughput[`${wl.id}:${r.l.id}`] = r.error ? { error: r.error } : { ...summarize(r.rates), rows: r.rows, epochsPerWindow: r.epochs, note: r.note };
    r.t.disposeData?.(r.d);
    r.t.dispose();
  }
}

// ------------------------------------------------------------------------------ W3
/** Seconds of training until the held-out accuracy first reaches `goal`, from a curve. */
const reachTime = (curve, goal) => curve.find(([, a]) => a >= goal)?.[0];

async function timeToAccuracy(wl, train, test) {
  const weights = wl.cnn ? cnnWeights(wl.cnn, WEIGHT_SEED) : glorotWeights(wl.dims, WEIGHT_SEED);
  const out = results.tta[wl.id];
  for (const l of libs.filter((x) => x.ok && x.peer)) {
    const key = l.id;
    // An epoch of 8,000 samples that would alone take longer than the cap is not started
    // (estimated from the throughput workload's rate, halved for W3's batch 32 against W1's 128)
    // — except tfjs-wasm's, the reference of the W3 target, which always runs at least one epoch.
    const rate = results.throughput[`${wl.rateFrom}:${l.id}`];
    const estEpoch = rate?.median ? (wl.rateFactor * train.rows) / rate.median : undefined;
    if (estEpoch !== undefined && estEpoch > wl.capS && !(l.id === 'tfjs-wasm' && wl.id === 'W3')) {
      out[key] = { skipped: `one epoch would take ≈ ${estEpoch.toFixed(0)} s (${wl.rateFactor === 2 ? 'half its' : 'its'} ${wl.rateFrom} rate), over the ${wl.capS} s cap` };
      continue;
    }
    log(`${wl.id}: ${l.id}…`);
    try {
      const t = await l.peer.create({ ...wl, weights });
      const d = t.prepare(train.x, train.y, train.rows);
      const dt = t.prepare(test.x, test.y, test.rows);
      const curve = [];
      let trained = 0;
      for (let e = 0; e < wl.maxEpochs; e++) {
        const t0 = performance.now();
        await t.epoch(d, 1000 + e);
        trained += (performance.now() - t0) / 1000;
        curve.push([trained, await t.accuracy(dt)]);
        if (curve[curve.length - 1][1] >= wl.stopAt || trained >= wl.capS) break;
      }
      t.disposeData?.(d);
      t.disposeData?.(dt);
      t.dispose();
      out[key] = { curve, note: t.note };
    } catch (e) {
      out[key] = { error: e.message.split('\n')[0] };
    }
  }
}

// ------------------------------------------------------------------------------ W4
function gemm() {
  const out = join(tmp, 'gemm.jsonl');
  const p = spawnSync(process.execPath, [join(here, 'gemm.mjs'), ...(quick ? ['--quick'] : []), '--json', out], { encoding: 'utf8', maxBuffer: 1 << 24, cwd: here });
  if (p.status !== 0) return { error: `bench/gemm.mjs exited ${p.status}: ${(p.stderr || '').trim().split('\n').pop()}` };
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((s) => JSON.parse(s));
  const sq = rows.filter((r) => r.group === 'square' && r.m >= 256);
  const pick = (f) => sq.map(f).filter((v) => v && Number.isFinite(v.gflops));
  const geo = (xs) => (xs.length ? Math.exp(xs.reduce((s, v) => s + Math.log(v), 0) / xs.length) : undefined);
  const med = (xs) => (xs.length ? summarize(xs.map((v) => v.gflops)) : undefined);
  const ratios = (f) => sq.map((r) => (r.wasmfit && f(r) ? r.wasmfit.gflops / f(r).gflops : undefined)).filter((v) => Number.isFinite(v));
  return {
    cases: sq.length,
    wasmfit: med(pick((r) => r.wasmfit)),
    tfjs: med(pick((r) => r.tfjsPlain)),
    numpy: med(pick((r) => r.numpy)),
    ratioTfjs: geo(ratios((r) => r.tfjsPlain)),
    ratioTfjsT: geo(sq.filter((r) => r.variant !== 'AB').map((r) => (r.wasmfit && r.tfjsTransposed ? r.wasmfit.gflops / r.tfjsTransposed.gflops : undefined)).filter((v) => Number.isFinite(v))),
    ratioNumpy: geo(ratios((r) => r.numpy)),
    peers: rows[0]?.peers,
    stdout: p.stdout,
  };
}

// ------------------------------------------------------------------------------ memory
function memory() {
  for (const l of libs.filter((x) => x.ok && x.peer && !x.native)) {
    log(`memory: ${l.id}…`);
    const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child-memory', l.id], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (p.status !== 0) {
      const lines = (p.stderr || '').trim().split('\n');
      results.memory[l.id] = { error: lines.find((s) => /Error\b/.test(s)) ?? lines.pop() }; // not node's version footer
      continue;
    }
    results.memory[l.id] = JSON.parse(p.stdout.trim().split('\n').pop());
  }
  const [d, h1, h2, k] = W1.dims;
  const P = d * h1 + h1 + h1 * h2 + h2 + h2 * k + k;
  const act = W1.batch * (d + h1 + h2 + k);
  results.memory.needed = { params: 4 * P, grads: 4 * P, adam: 8 * P, activations: 4 * act, total: 4 * (4 * P + act) };
}

// ------------------------------------------------------------------------------ size
function gz(files) {
  let raw = 0;
  let packed = 0;
  for (const f of files) {
    const b = readFileSync(f);
    raw += b.length;
    packed += gzipSync(b, { level: 9 }).length;
  }
  return { raw, gz: packed, files: files.map((f) => relative(root, f)) };
}
async function sizes() {
  // wasmfit: the ESM entry and the chunks it imports (both WASM builds are embedded in them)
  const dist = join(root, 'dist', 'browser'); // the minified build browsers and bundlers get
  const seen = new Set();
  const walk = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const m of readFileSync(f, 'utf8').matchAll(/from\s*"(\.\/[^"]+)"/g)) walk(join(dirname(f), m[1]));
  };
  walk(join(dist, 'wasmfit.mjs'));
  // the scalar module is a chunk the loader imports dynamically, only where SIMD128 is missing
  const scalar = readdirSync(join(dist, 'chunks')).filter((f) => /^wasm-scalar\.generated-.*\.mjs$/.test(f)).map((f) => join(dist, 'chunks', f));
  const scalarGz = scalar.length ? gz(scalar).gz : 0;
  results.size.wasmfit = {
    ...gz([...seen]),
    what: `dist/browser/wasmfit.mjs + the chunks it imports (minified ESM, SIMD128 WASM embedded); the scalar WASM fallback, a ${(scalarGz / 1024).toFixed(1)} KiB gzipped chunk, loads only where SIMD128 is missing`,
  };
  const nm = (p) => join(here, 'node_modules', p);
  const tryGz = (id, files, what) => {
    if (!files.every((f) => existsSync(f))) results.size[id] = { error: `missing ${files.filter((f) => !existsSync(f)).map((f) => relative(here, f)).join(', ')}` };
    else results.size[id] = { ...gz(files), what };
  };
  const core = [nm('@tensorflow/tfjs-core/dist/tf-core.min.js'), nm('@tensorflow/tfjs-layers/dist/tf-layers.min.js')];
  tryGz('tfjs-wasm', [...core, nm('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js'), nm('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')], 'tf-core + tf-layers + tf-backend-wasm .min.js + tfjs-backend-wasm-simd.wasm');
  tryGz('tfjs-cpu', [...core, nm('@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js')], 'tf-core + tf-layers + tf-backend-cpu .min.js');
  tryGz('brain.js', [nm('brain.js/browser.min.js')], 'browser.min.js (its browser bundle, gpu.js included)');
  // jax-js ships unminified ESM only: bundle and minify its entry with esbuild for a fair figure.
  try {
    const esbuild = await import('esbuild');
    const out = join(tmp, 'jax.min.js');
    await esbuild.build({ stdin: { contents: "export * from '@jax-js/jax';", resolveDir: here }, bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: out, logLevel: 'silent' });
    const extra = readdirSync(tmp).filter((f) => f.startsWith('jax.min') && f !== 'jax.min.js').map((f) => join(tmp, f));
    results.size['jax-js'] = { ...gz([out, ...extra]), files: ['@jax-js/jax (esbuild --bundle --minify)'], what: 'its ESM entry bundled and minified with esbuild (it ships no minified build; kernels are generated at run time)' };
  } catch (e) {
    results.size['jax-js'] = { error: `esbuild could not bundle it: ${e.message.split('\n')[0]}` };
  }
  for (const l of libs.filter((x) => x.native)) results.size[l.id] = { error: 'native (CPython + its libraries), not a JS bundle' };
}

// ------------------------------------------------------------------------------ run
const t00 = performance.now();
const { train, test } = await digits();
await throughput(W1, { x: train.x, y: train.y });
const reg = regression(W2.batch * 16, 32);
await throughput(W2, reg);
if (!argv.includes('--no-cnn')) await throughput(W5, { x: train.x, y: train.y });
await timeToAccuracy(W3, train, test);
if (!argv.includes('--no-cnn')) await timeToAccuracy(W3C, train, test);
if (!argv.includes('--no-gemm')) {
  log('W4: bench/gemm.mjs…');
  results.w4 = gemm();
}
closePythonPeers();
// headless Chromium with PyTorch interleaved (bench/browser.mjs; --readme rewrites its own README section)
const browser = argv.includes('--no-browser') ? null : await browserSection({ quick, readme: writeReadme, log });
memory();
await sizes();
const elapsed = (performance.now() - t00) / 1000;

// ------------------------------------------------------------------------------ report
const ORDER = libs.map((l) => l.id); // wasmfit (1 thread), wasmfit on every core, the JS peers, the native ones
const why = (id) => lib(id)?.reason;
const wfT = (wl) => results.throughput[`${wl}:wasmfit`];

function throughputRows(wl) {
  return ORDER.map((id) => {
    const r = results.throughput[`${wl}:${id}`];
    if (!lib(id)?.ok) return [id, `cannot run: ${why(id)}`, '—'];
    if (!r) return [id, 'not measured', '—'];
    if (r.error) return [id, `failed: ${r.error}`, '—'];
    const ratio = id === 'wasmfit' ? undefined : wfT(wl)?.median / r.median;
    return [id, fmtSummary(r), id === 'wasmfit' ? '1×' : fmtRatio(ratio)];
  });
}

/** A time-to-accuracy table row of workload `wl` (W3 or W3c) for library `id`. */
const ttaRow = (wl) => (id) => {
  const res = results.tta[wl.id];
  const dash = wl.goals.map(() => '—');
  if (!lib(id)?.ok) return [id, `cannot run: ${why(id)}`, ...dash.slice(1), '—', '—'];
  const r = res[id];
  if (!r) return [id, 'not measured', ...dash.slice(1), '—', '—'];
  if (r.error) return [id, `failed: ${r.error}`, ...dash.slice(1), '—', '—'];
  if (r.skipped) return [id, `not run: ${r.skipped}`, ...dash.slice(1), '—', '—'];
  const last = r.curve[r.curve.length - 1];
  const best = Math.max(...r.curve.map(([, a]) => a));
  const q = ttaRatio(wl, id);
  const ratio = id === 'wasmfit' ? '1×' : q ? `${q.lowerBound ? '> ' : ''}${fmtRatio(q.ratio)} (to ${Math.round(q.goal * 100)}%)` : '—';
  const cells = wl.goals.map((g) => {
    const t = reachTime(r.curve, g);
    if (t) return `${t.toFixed(2)} s`;
    return g > wl.stopAt && best >= wl.stopAt ? `(stopped at ${Math.round(wl.stopAt * 100)}%)` : `not reached in ${last[0].toFixed(1)} s`;
  });
  return [id, ...cells, `${best.toFixed(4)} (${r.curve.length} ep.)`, ratio];
};
const w3Row = ttaRow(W3);

/**
 * Library time ÷ wasmfit time to the highest goal both reached; when wasmfit reached a goal the
 * library did not reach within its run, the ratio is a lower bound (its whole training time).
 */
const ttaRatio = (wl, id) => {
  const r = results.tta[wl.id][id];
  const wf = results.tta[wl.id].wasmfit;
  if (!r?.curve || !wf?.curve) return undefined;
  for (const goal of wl.goals) {
    const a = reachTime(r.curve, goal);
    const b = reachTime(wf.curve, goal);
    if (a && b) return { ratio: a / b, goal, lowerBound: false };
  }
  for (const goal of wl.goals) {
    const b = reachTime(wf.curve, goal);
    if (b) return { ratio: r.curve[r.curve.length - 1][0] / b, goal, lowerBound: true };
  }
  return undefined;
};
const w3Ratio = (id) => ttaRatio(W3, id);

const memRows = () =>
  ORDER.filter((id) => !lib(id)?.native).map((id) => {
    const m = results.memory[id];
    if (!lib(id)?.ok) return [id, `cannot run: ${why(id)}`, '—', '—'];
    if (!m) return [id, 'not measured', '—', '—'];
    if (m.error) return [id, `failed: ${m.error}`, '—', '—'];
    return [id, fmtBytes(m.maxRss), fmtBytes(m.maxRss - m.rssStart), m.wasmCommitted ? fmtBytes(m.wasmCommitted) : '—'];
  });

const sizeRows = () =>
  ORDER.map((id) => {
    const s = results.size[id];
    if (!s) return [id, '—', '—', '—'];
    if (s.error) return [id, '—', '—', s.error];
    const ratio = id === 'wasmfit' ? '' : ` (${fmtRatio(s.gz / results.size.wasmfit.gz)} wasmfit)`;
    return [id, `${(s.gz / 1024).toFixed(1)} KiB${ratio}`, `${(s.raw / 1024).toFixed(0)} KiB`, s.what];
  });

const need = results.memory.needed;
const wfMem = results.memory.wasmfit;
const memFactor = wfMem?.wasmCommitted ? wfMem.wasmCommitted / need.total : undefined;
const r1 = wfT('W1') && results.throughput['W1:tfjs-wasm']?.median ? wfT('W1').median / results.throughput['W1:tfjs-wasm'].median : undefined;
const r2 = wfT('W2') && results.throughput['W2:tfjs-wasm']?.median ? wfT('W2').median / results.throughput['W2:tfjs-wasm'].median : undefined;
const r5 = wfT('W5') && results.throughput['W5:tfjs-wasm']?.median ? wfT('W5').median / results.throughput['W5:tfjs-wasm'].median : undefined;
const r5t = wfT('W5') && results.throughput['W5:pytorch']?.median ? wfT('W5').median / results.throughput['W5:pytorch'].median : undefined;
const r3 = w3Ratio('tfjs-wasm');
const r3c = ttaRatio(W3C, 'pytorch');
const sizeKiB = results.size.wasmfit.gz / 1024;
/** W5's target row: when tfjs-wasm could not train the CNN at all, the row says so and gives the ratio to the tfjs backend that could. */
function w5Target() {
  const failed = results.throughput['W5:tfjs-wasm']?.error;
  if (r5 !== undefined || !failed || !wfT('W5')) return ['W5 (CNN) ≥ 3× tfjs-wasm', r5 === undefined ? '—' : fmtRatio(r5), verdict(r5 === undefined ? undefined : r5 >= 3)];
  const cpu = results.throughput['W5:tfjs-cpu']?.median;
  return ['W5 (CNN) ≥ 3× tfjs-wasm', cpu ? `tfjs-cpu: ${fmtRatio(wfT('W5').median / cpu)}` : '—', 'not measurable: tfjs-wasm cannot train this CNN (see the W5 table)'];
}
const verdict = (ok) => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');
const targets = [
  ['W1 ≥ 8× tfjs-wasm', r1 === undefined ? '—' : fmtRatio(r1), verdict(r1 === undefined ? undefined : r1 >= 8)],
  ['W2 ≥ 15× tfjs-wasm', r2 === undefined ? '—' : fmtRatio(r2), verdict(r2 === undefined ? undefined : r2 >= 15)],
  [`W3 ≥ ½ W1 ratio faster than tfjs-wasm${r1 ? ` (≥ ${fmtRatio(r1 / 2)})` : ''}`, r3 ? `${r3.lowerBound ? '> ' : ''}${fmtRatio(r3.ratio)} (time to ${Math.round(r3.goal * 100)}%)` : '—', r3 && r1 ? (r3.ratio >= r1 / 2 ? 'met' : r3.lowerBound ? 'undetermined (a lower bound)' : 'NOT met') : 'not measured'],
  w5Target(),
  ['W5 (CNN) against PyTorch, 1 thread (reported)', r5t === undefined ? '—' : fmtRatio(r5t), r5t === undefined ? 'not measured' : r5t >= 1 ? 'wasmfit faster' : 'wasmfit slower'],
  ['W3c (CNN) time to accuracy against PyTorch, 1 thread (reported)', r3c ? `${r3c.lowerBound ? '> ' : ''}${fmtRatio(r3c.ratio)} (time to ${Math.round(r3c.goal * 100)}%)` : '—', r3c ? (r3c.ratio >= 1 ? 'wasmfit faster' : 'wasmfit slower') : 'not measured'],
  ['W1 WASM memory ≤ 2× needed', memFactor ? `${fmtBytes(wfMem.wasmCommitted)} / ${fmtBytes(need.total)} = ${memFactor.toFixed(2)}×` : '—', verdict(memFactor === undefined ? undefined : memFactor <= 2)],
  ['JS + WASM ≤ 100 KB gzipped', `${(results.size.wasmfit.gz / 1000).toFixed(1)} kB (${sizeKiB.toFixed(1)} KiB)`, verdict(results.size.wasmfit.gz <= 100_000)],
];

const labels = libs.map((l) => `- ${l.id}: ${l.ok ? l.label : `cannot run — ${l.reason}`}`);
const notes = [];
for (const id of ORDER) {
  const n = results.throughput[`W1:${id}`]?.note ?? results.w3[id]?.note;
  if (n) notes.push(`- ${id}: ${n}`);
}
for (const id of ORDER) {
  const n = results.throughput[`W5:${id}`]?.note;
  if (n) notes.push(`- ${id} (W5): ${n}`);
}
const W3_HEAD = ['library', ...W3.goals.map((g) => `time to ${Math.round(g * 100)}%`), 'best held-out acc. (epochs)', 'wasmfit is'];

let text = `\nwasmfit benchmark${quick ? ' (--quick)' : ''} — ${machine.date}, ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, node ${machine.node}, ${machine.platform}; ${elapsed.toFixed(0)} s\n`;
text += labels.join('\n') + '\n';
for (const wl of [W1, W2, ...(wfT('W5') ? [W5] : [])]) {
  text += `\n${wl.title}\ntraining samples/s, median (min–max) over timed windows; ratio = wasmfit ÷ library, same run\n`;
  text += textTable(['library', 'samples/s', 'wasmfit is'], throughputRows(wl.id)) + '\n';
}
text += `\n${W3.title}\ntraining seconds (evaluation not timed); stops at ${Math.round(CFG.w3StopAt * 100)}%, after ${CFG.w3CapS} s or ${CFG.w3MaxEpochs} epochs; ratio = library time ÷ wasmfit time ('>' : the library had not reached it when stopped)\n`;
text += textTable(W3_HEAD, ORDER.map(w3Row)) + '\n';
const W3C_HEAD = ['library', ...W3C.goals.map((g) => `time to ${Math.round(g * 100)}%`), 'best held-out acc. (epochs)', 'wasmfit is'];
const hasW3c = Object.keys(results.tta.W3c).length > 0;
if (hasW3c) {
  text += `\n${W3C.title}\ntraining seconds (evaluation not timed); stops at ${Math.round(W3C.stopAt * 100)}%, after ${W3C.capS} s or ${W3C.maxEpochs} epochs\n`;
  text += textTable(W3C_HEAD, ORDER.map(ttaRow(W3C))) + '\n';
}
if (results.w4) {
  const g = results.w4;
  text += `\nW4 GEMM GFLOP/s (bench/gemm.mjs${quick ? ' --quick' : ''}; ${g.error ? '' : `${g.cases} square cases 256³–1024³, A·B, Aᵀ·B, A·Bᵀ, one thread`})\n`;
  text += g.error
    ? `  failed: ${g.error}\n`
    : textTable(['library', 'GFLOP/s median (min–max)', 'wasmfit is (geo-mean)'], [
        ['wasmfit', fmtSummary(g.wasmfit), '1×'],
        ['tfjs-wasm matMul', fmtSummary(g.tfjs), `${fmtRatio(g.ratioTfjs)} (${fmtRatio(g.ratioTfjsT)} vs transposed matMul)`],
        ['numpy', fmtSummary(g.numpy), fmtRatio(g.ratioNumpy)],
      ]) + '\n';
}
text += `\nMemory, W1 in a child process per library (2,048 digit-shaped rows, 3 epochs; brain.js 32 rows, 1 epoch); RSS growth = peak − RSS of bare node\n`;
text += textTable(['library', 'peak RSS', 'RSS growth', 'WASM memory'], memRows()) + '\n';
text += `needed by W1: parameters ${fmtBytes(need.params)} + gradients ${fmtBytes(need.grads)} + Adam state ${fmtBytes(need.adam)} + one batch's activations ${fmtBytes(need.activations)} = ${fmtBytes(need.total)}\n`;
text += `\nSize, gzip -9\n` + textTable(['library', 'gzipped', 'raw', 'what'], sizeRows()) + '\n';
text += `\nTargets (reported, not asserted)\n` + textTable(['target', 'measured', ''], targets) + '\n';
if (browser) text += browser.text + '\n';
if (notes.length) text += `\nRecipe differences\n${notes.join('\n')}\n`;
console.log(text);

// ------------------------------------------------------------------------------ JSON lines
const jsonLines = [];
const meta = { date: machine.date, quick, node: machine.node, cpu: machine.cpu, cores: machine.cores };
for (const l of libs) jsonLines.push({ ...meta, kind: 'library', id: l.id, ok: l.ok, label: l.label ?? null, version: l.version ?? null, reason: l.reason ?? null });
for (const [key, r] of Object.entries(results.throughput)) {
  const [wl, id] = key.split(':');
  jsonLines.push({ ...meta, kind: 'throughput', workload: wl, id, unit: 'samples/s', ...r, ratio: r.median && id !== 'wasmfit' ? wfT(wl)?.median / r.median : null });
}
for (const id of ORDER) {
  if (!results.w3[id]) continue;
  const times = Object.fromEntries(W3.goals.map((g) => [`timeTo${Math.round(g * 100)}`, reachTime(results.w3[id].curve ?? [], g) ?? null]));
  jsonLines.push({ ...meta, kind: 'time-to-accuracy', workload: 'W3', id, stopAt: CFG.w3StopAt, capSeconds: CFG.w3CapS, ...times, ratio: w3Ratio(id) ?? null, ...results.w3[id] });
}
for (const id of ORDER) {
  const r = results.tta.W3c[id];
  if (!r) continue;
  const times = Object.fromEntries(W3C.goals.map((g) => [`timeTo${Math.round(g * 100)}`, reachTime(r.curve ?? [], g) ?? null]));
  jsonLines.push({ ...meta, kind: 'time-to-accuracy', workload: 'W3c', id, stopAt: W3C.stopAt, capSeconds: W3C.capS, ...times, ratio: ttaRatio(W3C, id) ?? null, ...r });
}
if (results.w4) {
  const { stdout, ...g } = results.w4;
  jsonLines.push({ ...meta, kind: 'gemm', workload: 'W4', unit: 'GFLOP/s', ...g });
}
for (const id of ORDER) if (results.memory[id]) jsonLines.push({ ...meta, kind: 'memory', workload: 'W1', id, ...results.memory[id] });
jsonLines.push({ ...meta, kind: 'memory-needed', workload: 'W1', ...need, wasmfitFactor: memFactor ?? null });
for (const id of ORDER) if (results.size[id]) jsonLines.push({ ...meta, kind: 'size', id, ...results.size[id] });
if (browser) jsonLines.push(...browser.json);
if (jsonFile) {
  writeFileSync(jsonFile, jsonLines.map((o) => JSON.stringify(o)).join('\n') + '\n');
  log(`wrote ${jsonLines.length} JSON lines to ${jsonFile}`);
}

// ------------------------------------------------------------------------------ SVG
const PEERS = ORDER.filter((id) => id !== 'wasmfit' && !id.startsWith('wasmfit-'));
const bar = (label, value, target, note, key = label) => ({ label, value, target, note, key });
const groups = [
  ...[W1, W2, ...(wfT('W5') ? [W5] : [])].map((wl) => ({
    name: `${wl.id} samples/s`,
    bars: PEERS.map((id) => {
      const r = results.throughput[`${wl.id}:${id}`];
      return bar(id, r?.median ? wfT(wl.id)?.median / r.median : NaN, id === 'tfjs-wasm' ? wl.target : undefined, lib(id)?.ok ? r?.error ? 'failed' : 'not measured' : 'cannot run');
    }),
  })),
  {
    name: 'W3 time to accuracy',
    bars: PEERS.map((id) => {
      const q = w3Ratio(id);
      return bar(q ? `${id} (${q.lowerBound ? '> ' : ''}${Math.round(q.goal * 100)}%)` : id, q?.ratio ?? NaN, id === 'tfjs-wasm' && r1 ? r1 / 2 : undefined, results.w3[id]?.skipped ? 'not run (over the cap)' : lib(id)?.ok ? 'target not reached' : 'cannot run', id);
    }),
  },
];
if (results.w4 && !results.w4.error) groups.push({ name: 'W4 GEMM GFLOP/s', bars: [bar('tfjs-wasm matMul', results.w4.ratioTfjs, undefined, undefined, 'tfjs-wasm'), bar('numpy', results.w4.ratioNumpy)] });
mkdirSync(dirname(svgFile), { recursive: true });
writeFileSync(svgFile, barChart(groups, { title: `wasmfit speed-up over each library (same run, ${machine.date}${quick ? ', --quick' : ''})`, xLabel: 'wasmfit ÷ library (log scale; > 1× means wasmfit is faster)' }));
log(`wrote ${relative(process.cwd(), svgFile)}`);

// ------------------------------------------------------------------------------ README
if (writeReadme) {
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const START = '<!-- bench:start -->';
  const END = '<!-- bench:end -->';
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} section to regenerate`);
  const svgRel = relative(root, svgFile).split('\\').join('/');
  const md = [];
  md.push(START);
  md.push(`<!-- generated by \`node bench/run.mjs${quick ? ' --quick' : ''} --readme\`; do not edit by hand -->`);
  md.push(`Measured by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${machine.date}: ${machine.cpu}, ${machine.cores} cores (shared), ${machine.memGiB} GiB, Node ${machine.node.slice(1)}, ${machine.platform}. Every library runs on one thread (the -${cores}t rows on all ${cores} cores), from the same initial weights; ratios come from the same run, windows interleaved.`);
  md.push('');
  md.push(labels.join('\n'));
  md.push('');
  md.push(`![wasmfit speed-up over each library](${svgRel})`);
  for (const wl of [W1, W2, ...(wfT('W5') ? [W5] : [])]) {
    md.push('', `**${wl.title}** — training samples/s, median (min–max)`, '');
    md.push(mdTable(['library', 'samples/s', 'wasmfit is'], throughputRows(wl.id)));
  }
  md.push('', `**${W3.title}** — training seconds (evaluation not timed; stops at ${Math.round(CFG.w3StopAt * 100)}% or after ${CFG.w3CapS} s; '>': not reached when stopped)`, '');
  md.push(mdTable(W3_HEAD, ORDER.map(w3Row)));
  if (hasW3c) {
    md.push('', `**${W3C.title}** — training seconds (evaluation not timed; stops at ${Math.round(W3C.stopAt * 100)}% or after ${W3C.capS} s)`, '');
    md.push(mdTable(W3C_HEAD, ORDER.map(ttaRow(W3C))));
  }
  if (results.w4 && !results.w4.error) {
    const g = results.w4;
    md.push('', `**W4 GEMM** (\`bench/gemm.mjs\`, square 256³–1024³, all three variants): wasmfit ${fmtSummary(g.wasmfit)} GFLOP/s, tfjs-wasm \`matMul\` ${fmtSummary(g.tfjs)} (wasmfit ${fmtRatio(g.ratioTfjs)}; ${fmtRatio(g.ratioTfjsT)} against its transposed \`matMul\`), numpy/OpenBLAS ${fmtSummary(g.numpy)} (wasmfit ${fmtRatio(g.ratioNumpy)}).`);
  }
  md.push('', `**Memory** (W1 alone in a child process per library). Needed: ${fmtBytes(need.total)} (parameters, gradients, Adam state, one batch's activations).`, '');
  md.push(mdTable(['library', 'peak RSS', 'RSS growth', 'WASM memory'], memRows()));
  md.push('', '**Size** (gzip -9)', '');
  md.push(mdTable(['library', 'gzipped', 'raw', 'what'], sizeRows(), [0, 3]));
  md.push('', '**Targets** (reported, not asserted)', '');
  md.push(mdTable(['target', 'measured', ''], targets, [0, 2]));
  if (notes.length) md.push('', 'Recipe differences:', '', notes.join('\n'));
  md.push(END);
  writeFileSync(readmePath, readme.slice(0, a) + md.join('\n') + readme.slice(b + END.length));
  log('rewrote the README performance section');
}
