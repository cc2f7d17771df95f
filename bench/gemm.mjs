// GEMM benchmark: wasmfit's SIMD build beside tfjs-backend-wasm's tf.matMul and numpy/OpenBLAS,
// all single-threaded, measured in one run.
//
//   npm run bench:gemm [-- --json FILE]     (from the repository root; FILE is relative to bench/)
//   node bench/gemm.mjs [--json FILE] [--wasm FILE] [--quick]
//
// --json FILE   also writes one JSON object per (shape, variant) row to FILE
// --wasm FILE   benchmarks this kernel module instead of the embedded SIMD build
//               (e.g. build/wasmfit-simd.wasm after editing crates/kernels/src/gemm.rs)
// --quick       fewer repetitions (a smoke run)
// --only LIST   comma-separated subset of wasmfit,tfjs-wasm,numpy (others print as skipped)
// --fma         the FMA build (relaxed-SIMD f32x4.relaxed_madd) against the SIMD128 build of this
//               tree instead of the peers, windows alternated (bench/lib/fma-ab.mjs); in Node 20
//               the script re-runs itself with --experimental-wasm-relaxed-simd
// --browser     with --fma: measure inside headless Chromium (relaxed SIMD on by default)
// --against REF wasmfit of this tree against wasmfit built from git ref REF (built once into
//               bench/.baseline/<sha>, see bench/lib/baseline.mjs) instead of the peers: per case
//               both are sampled in alternation (AB, BA, ...; bench/lib/ab.mjs) for --rounds N
//               rounds (default 21, 5 with --quick); prints GFLOP/s of each (median, IQR) and the
//               per-round ratio new/old (median, IQR, min–max), by wall clock and by CPU time
//
// GFLOP/s = 2·m·n·k / time. Each figure is the median of several timed samples after warm-up
// (min–max in brackets); one sample runs the product enough times to last >= 20 ms. wasmfit and
// tfjs are sampled in alternation (round r: each contender once), and each ratio is the median
// of the per-round ratios, so load from other processes on a shared machine hits both alike.
// This bundles ts/runtime with esbuild and calls the raw `gemm` export through its GemmArgs
// record (as tests/helpers.ts gemmCall does), without the public matMul's copies.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
function opt(name) {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a file argument`);
  return v;
}
const jsonFile = opt('--json');
const wasmFile = opt('--wasm');
const quick = argv.includes('--quick');
const only = opt('--only')?.split(',');
const against = opt('--against');
const rounds = opt('--rounds') === undefined ? (quick ? 5 : 21) : Number(opt('--rounds'));
const known = new Set(['--json', '--wasm', '--quick', '--only', '--against', '--rounds', '--fma', '--browser']);
const flags = new Set(['--quick', '--fma', '--browser']);
for (let i = 0; i < argv.length; i++) {
  if (!known.has(argv[i])) throw new Error(`unknown argument ${argv[i]} (expected --json FILE, --wasm FILE, --quick, --only LIST, --against REF, --rounds N, --fma [--browser])`);
  if (!flags.has(argv[i])) i++;
}
if (argv.includes('--fma')) {
  const { runFmaAB } = await import('./lib/fma-ab.mjs');
  const n = opt('--rounds') === undefined ? (quick ? 5 : 15) : Number(opt('--rounds'));
  await runFmaAB({ what: 'gemm', browser: argv.includes('--browser'), rounds: n, windowMs: quick ? 20 : 50, script: fileURLToPath(import.meta.url), argv });
  process.exit(0);
}
if (against && (wasmFile || only)) throw new Error('--against compares two wasmfit builds; it takes neither --wasm nor --only');
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds needs a positive integer');

const SAMPLE_MS = quick ? 10 : 20; // one timed sample lasts at least this long
const MIN_SAMPLES = quick ? 3 : 5;
const MAX_SAMPLES = quick ? 5 : 11;
const BUDGET_MS = quick ? 300 : 1200; // per measurement, once MIN_SAMPLES are taken
const WARM_MS = quick ? 30 : 100; // warm-up per measurement

// ---------------------------------------------------------------- cases
/** variant: 'AB' = A·B, 'AtB' = Aᵀ·B (A stored k×m), 'ABt' = A·Bᵀ (B stored n×k). */
const cases = [];
for (const s of [128, 256, 512, 1024]) {
  for (const v of ['AB', 'AtB', 'ABt']) cases.push({ group: 'square', label: `${s}³`, m: s, n: s, k: s, variant: v });
}
// 784-256-128-10 MLP at batch 128: forward Y = X·W, dW = Xᵀ·dZ, dX = dZ·Wᵀ.
const batch = 128;
const dims = [784, 256, 128, 10];
for (let l = 0; l < dims.length - 1; l++) {
  const nin = dims[l];
  const nout = dims[l + 1];
  const L = `L${l + 1} ${nin}→${nout}`;
  cases.push({ group: 'mlp', label: `${L} X·W`, m: batch, n: nout, k: nin, variant: 'AB' });
  cases.push({ group: 'mlp', label: `${L} Xᵀ·dZ`, m: nin, n: nout, k: batch, variant: 'AtB' });
  cases.push({ group: 'mlp', label: `${L} dZ·Wᵀ`, m: batch, n: nin, k: nout, variant: 'ABt' });
}
const flops = (c) => 2 * c.m * c.n * c.k;
const VARIANT_NAME = { AB: 'A·B', AtB: 'Aᵀ·B', ABt: 'A·Bᵀ' };

// ---------------------------------------------------------------- timing
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
/** Warms `fn` up and picks how many calls one timed sample makes (>= SAMPLE_MS). */
function calibrate(fn) {
  // warm-up (tier-up of the JIT, page faults, packing buffers): at least WARM_MS and twice
  let t0 = performance.now();
  for (let w = 0; w < 2 || performance.now() - t0 < WARM_MS; w++) fn();
  t0 = performance.now();
  fn();
  const one = Math.max(performance.now() - t0, 1e-3);
  return Math.max(1, Math.ceil(SAMPLE_MS / one));
}
/** One timed sample: GFLOP/s of `inner` calls. */
function sample(fn, inner, fl) {
  const t0 = performance.now();
  for (let r = 0; r < inner; r++) fn();
  return fl / (((performance.now() - t0) / inner) * 1e6);
}
const summary = (rates) => ({ gflops: median(rates), min: Math.min(...rates), max: Math.max(...rates), samples: rates.length });

/**
 * Measures the contenders of one case in alternation — round r times every contender once — so
 * that load from other processes on a shared machine hits them alike; each ratio is the median of
 * the per-round ratios (paired), each figure the median of its samples.
 */
function measureCase(contenders, fl) {
  const inner = contenders.map((c) => calibrate(c.fn));
  const rates = contenders.map(() => []);
  const start = performance.now();
  const budget = BUDGET_MS * contenders.length;
  for (let round = 0; round < MAX_SAMPLES && (round < MIN_SAMPLES || performance.now() - start < budget); round++) {
    contenders.forEach((c, i) => rates[i].push(sample(c.fn, inner[i], fl)));
  }
  return rates;
}

function fillRandom(f, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < f.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[i] = (s / 4294967296) * 2 - 1;
  }
}

// ---------------------------------------------------------------- wasmfit
/** Bundles ts/runtime of the checkout at `src` (this one by default; a baseline's for --against). */
async function loadWasmfit(src = root, tag = '') {
  const esbuild = await import('esbuild');
  const out = join(here, '.build', `wasmfit-runtime${tag}.mjs`);
  mkdirSync(dirname(out), { recursive: true });
  await esbuild.build({
    stdin: {
      contents: `export { init } from './ts/runtime/index.ts';\nexport { GEMM_ARGS } from './ts/runtime/abi.ts';\n`,
      resolveDir: src,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: out,
    logLevel: 'error',
  });
  return import(pathToFileURL(out).href);
}

async function prepareWasmfit(src = root, tag = '') {
  const { init, GEMM_ARGS } = await loadWasmfit(src, tag);
  const rt = wasmFile ? await init({ wasm: new Uint8Array(readFileSync(wasmFile)) }) : await init({ simd: true });
  if (!rt.simd) throw new Error('wasmfit did not load its SIMD128 build');
  const G = GEMM_ARGS;
  const label = wasmFile ? `wasmfit SIMD (${wasmFile})` : `wasmfit SIMD (embedded build${src === root ? '' : ` of ${src}`})`;
  const make = (c) => {
    const { m, n, k, variant } = c;
    const A = rt.arena.allocF32(m * k);
    const B = rt.arena.allocF32(k * n);
    const C = rt.arena.allocF32(m * n);
    const args = rt.arena.alloc(G.size);
    const f = rt.arena.f32; // taken after the allocations (growth detaches views)
    fillRandom(f.subarray(A >> 2, (A >> 2) + m * k), 1);
    fillRandom(f.subarray(B >> 2, (B >> 2) + k * n), 2);
    // strides: element (i,p) of A at A + i*rsa + p*csa; (p,j) of B at B + p*rsb + j*csb
    const [rsa, csa] = variant === 'AtB' ? [1, m] : [k, 1];
    const [rsb, csb] = variant === 'ABt' ? [1, k] : [n, 1];
    const v = rt.arena.view;
    v.setUint32(args + G.m, m, true);
    v.setUint32(args + G.n, n, true);
    v.setUint32(args + G.k, k, true);
    v.setUint32(args + G.a, A, true);
    v.setInt32(args + G.rsa, rsa, true);
    v.setInt32(args + G.csa, csa, true);
    v.setUint32(args + G.b, B, true);
    v.setInt32(args + G.rsb, rsb, true);
    v.setInt32(args + G.csb, csb, true);
    v.setUint32(args + G.c, C, true);
    v.setInt32(args + G.rsc, n, true);
    v.setFloat32(args + G.beta, 0, true);
    v.setUint32(args + G.bias, 0, true);
    v.setUint32(args + G.act, 0, true);
    v.setUint32(args + G.ws, rt.ws, true);
    // the kernel facade (rt.kernels); builds before it (a --against baseline) hold the raw exports as rt.k
    const gemm = rt.kernels ? (p) => rt.kernels.gemm(p) : (p) => rt.k.gemm(p);
    return {
      fn: () => gemm(args),
      done() {
        // sanity: one entry against a float64 dot product
        const fa = rt.arena.f32;
        const i = m >> 1, j = n >> 1;
        let s = 0;
        for (let p = 0; p < k; p++) s += fa[(A >> 2) + i * rsa + p * csa] * fa[(B >> 2) + p * rsb + j * csb];
        const got = fa[(C >> 2) + i * n + j];
        rt.arena.free(args);
        rt.arena.free(C);
        rt.arena.free(B);
        rt.arena.free(A);
        if (!(Math.abs(got - s) <= 1e-4 * (1 + Math.abs(s)) * Math.sqrt(k))) throw new Error(`wasmfit ${c.label} ${variant}: C[${i},${j}] = ${got}, expected ${s}`);
      },
    };
  };
  return { label, make };
}

// ---------------------------------------------------------------- tfjs-backend-wasm
async function prepareTfjs() {
  const require = createRequire(join(here, 'package.json'));
  const tf = require('@tensorflow/tfjs-core');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  const distDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  // Load the .wasm files from node_modules by file path (Emscripten reads them with fs in Node).
  wasm.setWasmPaths(distDir + '/');
  // Single-threaded comparison: refuse the pthread build and ask XNNPACK for one thread.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  const origWarn = console.warn;
  console.warn = () => {};
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
  } finally {
    console.warn = origWarn;
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = wasm.getThreadsCount();
  const label = `tfjs-backend-wasm ${wasm.version_wasm} (${simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm'}, threads=${threads}, multithread build off)`;
  const rand = (r, c, seed) => {
    const d = new Float32Array(r * c);
    fillRandom(d, seed);
    return tf.tensor2d(d, [r, c]);
  };
  { // warm the backend once (XNNPACK operator setup, JIT) before the first measured case
    const a = rand(256, 256, 1);
    const t0 = performance.now();
    while (performance.now() - t0 < WARM_MS * 3) tf.matMul(a, a).dispose();
    a.dispose();
  }
  const make = (c) => {
    const { m, n, k, variant } = c;
    const a = rand(m, k, 1);
    const b = rand(k, n, 2);
    const run = (x, y, ta, tb) => () => tf.matMul(x, y, ta, tb).dispose();
    const extra = variant === 'AtB' ? rand(k, m, 3) : variant === 'ABt' ? rand(n, k, 4) : null;
    return {
      plain: run(a, b, false, false),
      transposed: variant === 'AtB' ? run(extra, b, true, false) : variant === 'ABt' ? run(a, extra, false, true) : null,
      done() {
        a.dispose();
        b.dispose();
        extra?.dispose();
      },
    };
  };
  return { label, make };
}

// ---------------------------------------------------------------- numpy / OpenBLAS
const PY = String.raw`
import json, sys, time
import numpy as np
cfg = json.loads(sys.stdin.read())
try:
    import threadpoolctl
    threadpoolctl.threadpool_limits(1)
except Exception:
    pass
rng = np.random.default_rng(0)
def rand(r, c): return rng.uniform(-1, 1, (r, c)).astype(np.float32)
out = []
for c in cfg['cases']:
    m, n, k, v = c['m'], c['n'], c['k'], c['variant']
    a = rand(k, m).T if v == 'AtB' else rand(m, k)
    b = rand(n, k).T if v == 'ABt' else rand(k, n)
    C = np.empty((m, n), np.float32)
    fl = 2.0 * m * n * k
    np.matmul(a, b, out=C)
    t0 = time.perf_counter(); np.matmul(a, b, out=C); one = max(time.perf_counter() - t0, 1e-6)
    inner = max(1, int(np.ceil(cfg['sample_ms'] / 1e3 / one)))
    rates = []
    start = time.perf_counter()
    while len(rates) < cfg['min_samples'] or (len(rates) < cfg['max_samples'] and time.perf_counter() - start < cfg['budget_ms'] / 1e3):
        t0 = time.perf_counter()
        for _ in range(inner): np.matmul(a, b, out=C)
        dt = (time.perf_counter() - t0) / inner
        rates.append(fl / dt / 1e9)
    out.append({'gflops': float(np.median(rates)), 'min': min(rates), 'max': max(rates), 'samples': len(rates), 'inner': inner})
blas = 'OpenBLAS'
try:
    cfgs = np.show_config(mode='dicts')
    bl = cfgs['Build Dependencies']['blas']
    blas = '%s %s' % (bl.get('name', 'blas'), bl.get('version', ''))
except Exception:
    pass
print(json.dumps({'numpy': np.__version__, 'blas': blas, 'results': out}))
`;

function benchNumpy(results) {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const input = JSON.stringify({
    cases: cases.map(({ m, n, k, variant }) => ({ m, n, k, variant })),
    sample_ms: SAMPLE_MS,
    min_samples: MIN_SAMPLES,
    max_samples: MAX_SAMPLES,
    budget_ms: BUDGET_MS,
  });
  const p = spawnSync('python3', ['-c', PY], { input, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (p.error) throw new Error(`python3 could not start (${p.error.code ?? p.error.message})`);
  if (p.status !== 0) {
    const last = (p.stderr || '').trim().split('\n').pop();
    throw new Error(/No module named .?numpy/.test(p.stderr) ? 'python3 has no numpy' : `python3 exited ${p.status}: ${last}`);
  }
  const res = JSON.parse(p.stdout.trim().split('\n').pop());
  cases.forEach((c, i) => (results.get(c).numpy = res.results[i]));
  return `numpy ${res.numpy} / ${res.blas} (OPENBLAS_NUM_THREADS=1)`;
}

// ---------------------------------------------------------------- --against REF
if (against) {
  const { baselineBuild, currentDescription } = await import('./lib/baseline.mjs');
  const { alternate, abTable, abLegend } = await import('./lib/ab.mjs');
  const base = baselineBuild(against);
  const builds = [await prepareWasmfit(base.dir, `-${base.short}`), await prepareWasmfit()];
  const names = ['old', 'new'];
  process.stderr.write(`measuring wasmfit ${base.short} and this tree in alternation, ${rounds} rounds per case…\n`);
  const rows = [];
  for (const c of cases) {
    const fl = flops(c);
    const made = builds.map((b) => b.make(c));
    const inner = made.map((w) => calibrate(w.fn));
    const res = await alternate(
      made.map((w, i) => () => {
        for (let r = 0; r < inner[i]; r++) w.fn();
        return (inner[i] * fl) / 1e9; // GFLOP
      }),
      rounds,
    );
    made.forEach((w) => w.done());
    rows.push({ label: c.group === 'square' ? `${c.label} ${VARIANT_NAME[c.variant]}` : `${c.label} ${c.m}×${c.n}×${c.k}`, res, c });
  }
  console.log(`\nGEMM GFLOP/s (2·m·n·k / time), wasmfit SIMD raw gemm export, single thread; ${rounds} alternated rounds per case (one sample >= ${SAMPLE_MS} ms); node ${process.version}, ${process.arch}`);
  console.log(`  old: ${against}${against === base.short || base.sha.startsWith(against) ? '' : ` = ${base.short}`} (ts/runtime of ${base.dir})`);
  console.log(`  new: this tree ${currentDescription()}`);
  console.log(`  ${abLegend(names)}\n`);
  console.log(abTable(rows, { names, unit: 'GFLOP/s', digits: 1 }));
  const gm = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length).toFixed(3);
  const g = (key, grp) => gm(rows.filter((r) => !grp || r.c.group === grp).map((r) => r.res[key].median));
  console.log(`\ngeometric mean over cases of the median new/old ratio: wall square ${g('ratioWall', 'square')}, mlp ${g('ratioWall', 'mlp')}, all ${g('ratioWall')}; CPU square ${g('ratioCpu', 'square')}, mlp ${g('ratioCpu', 'mlp')}, all ${g('ratioCpu')}`);
  if (jsonFile) {
    const lines = rows.map(({ res, c }) => JSON.stringify({ node: process.version, old: base.sha, new: currentDescription(), rounds, group: c.group, shape: c.label, m: c.m, n: c.n, k: c.k, variant: c.variant, ...res }));
    writeFileSync(jsonFile, lines.join('\n') + '\n');
    console.log(`\nwrote ${lines.length} JSON lines to ${jsonFile}`);
  }
  process.exit(0);
}

// ---------------------------------------------------------------- run
const results = new Map(cases.map((c) => [c, {}]));
const peers = [];
const prepared = {};
for (const [name, fn] of [
  ['wasmfit', prepareWasmfit],
  ['tfjs-wasm', prepareTfjs],
]) {
  if (only && !only.includes(name)) {
    peers.push({ name, label: `${name}: not measured — left out by --only`, ok: false, reason: 'left out by --only' });
    continue;
  }
  try {
    prepared[name] = await fn();
    peers.push({ name, label: prepared[name].label, ok: true });
  } catch (e) {
    peers.push({ name, label: `${name}: not measured — ${e.message}`, ok: false, reason: e.message });
  }
}
process.stderr.write(`measuring ${Object.keys(prepared).join(' and ')} in alternation…\n`);
for (const c of cases) {
  const w = prepared.wasmfit?.make(c);
  const t = prepared['tfjs-wasm']?.make(c);
  const contenders = [];
  if (w) contenders.push({ key: 'wasmfit', fn: w.fn });
  if (t) contenders.push({ key: 'tfjsPlain', fn: t.plain });
  if (t?.transposed) contenders.push({ key: 'tfjsT', fn: t.transposed });
  const rates = measureCase(contenders, flops(c));
  const r = results.get(c);
  contenders.forEach((k, i) => (r[k.key] = summary(rates[i])));
  const paired = (key) => {
    const j = contenders.findIndex((k) => k.key === key);
    if (!w || j < 0) return undefined;
    return median(rates[0].map((x, i) => x / rates[j][i]));
  };
  r.pairedPlain = paired('tfjsPlain');
  r.pairedT = paired('tfjsT');
  w?.done();
  t?.done();
}
if (only && !only.includes('numpy')) {
  peers.push({ name: 'numpy', label: 'numpy: not measured — left out by --only', ok: false, reason: 'left out by --only' });
} else {
  process.stderr.write('measuring numpy…\n');
  try {
    peers.push({ name: 'numpy', label: benchNumpy(results), ok: true });
  } catch (e) {
    peers.push({ name: 'numpy', label: `numpy: not measured — ${e.message}`, ok: false, reason: e.message });
  }
}

const fmt = (r) => (r ? `${r.gflops.toFixed(1)} (${r.min.toFixed(1)}–${r.max.toFixed(1)})` : '—');
const ratio = (a, b) => (a && b ? a.gflops / b.gflops : undefined);
const fr = (x) => (x === undefined ? '—' : `${x.toFixed(2)}×`);
const VNAME = VARIANT_NAME;

console.log(`\nGEMM GFLOP/s, median (min–max); 2·m·n·k / time; single thread; node ${process.version}, ${process.arch}`);
for (const p of peers) console.log(`  ${p.ok ? '' : '[skipped] '}${p.label}`);
console.log('  ratios: wasmfit / tfjs plain matMul of the same m,n,k; wasmfit / tfjs matMul with the same transpose flag;\n  measured in alternation, each ratio the median of the per-round ratios\n');
const head = ['shape', 'm×n×k', 'variant', 'wasmfit', 'tfjs matMul', 'tfjs transposed', 'numpy', '÷tfjs', '÷tfjs-T', '÷numpy'];
const rows = cases.map((c) => {
  const r = results.get(c);
  return [
    c.label,
    `${c.m}×${c.n}×${c.k}`,
    VNAME[c.variant],
    fmt(r.wasmfit),
    fmt(r.tfjsPlain),
    c.variant === 'AB' ? '(n/a)' : fmt(r.tfjsT),
    fmt(r.numpy),
    fr(r.pairedPlain),
    fr(r.pairedT),
    fr(ratio(r.wasmfit, r.numpy)),
  ];
});
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((x, i) => (i < 3 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
rows.forEach((r, i) => {
  if (i > 0 && cases[i].group !== cases[i - 1].group) console.log('');
  console.log(line(r));
});

// targets (issue 3): every variant >= 1.3x tfjs plain at 256³–1024³, >= 15x tfjs transposed
const tgt = cases.filter((c) => c.group === 'square' && c.m >= 256);
const plainR = tgt.map((c) => results.get(c).pairedPlain).filter((x) => x !== undefined);
const tR = tgt.filter((c) => c.variant !== 'AB').map((c) => results.get(c).pairedT).filter((x) => x !== undefined);
if (plainR.length) {
  const mp = Math.min(...plainR);
  console.log(`\ntarget ≥ 1.30× tfjs plain matMul at 256³–1024³, all variants: worst ${mp.toFixed(2)}× → ${mp >= 1.3 ? 'met' : 'NOT met'}`);
}
if (tR.length) {
  const mt = Math.min(...tR);
  console.log(`target ≥ 15× tfjs transposed matMul at 256³–1024³: worst ${mt.toFixed(2)}× → ${mt >= 15 ? 'met' : 'NOT met'}`);
}

if (jsonFile) {
  const meta = { node: process.version, peers: peers.map(({ name, label, ok, reason }) => ({ name, label, ok, reason })) };
  const lines = cases.map((c) => {
    const r = results.get(c);
    return JSON.stringify({
      ...meta,
      group: c.group,
      shape: c.label,
      m: c.m,
      n: c.n,
      k: c.k,
      variant: c.variant,
      wasmfit: r.wasmfit ?? null,
      tfjsPlain: r.tfjsPlain ?? null,
      tfjsTransposed: r.tfjsT ?? null,
      numpy: r.numpy ?? null,
      ratioTfjsPlain: r.pairedPlain ?? null,
      ratioTfjsTransposed: r.pairedT ?? null,
    });
  });
  writeFileSync(jsonFile, lines.join('\n') + '\n');
  console.log(`\nwrote ${lines.length} JSON lines to ${jsonFile}`);
}
