// Browser section of the benchmark: W1 and W2 of bench/run.mjs (same definitions, initial weights
// and data: bench/lib/workloads.mjs) trained in headless Chromium, with PyTorch beside it.
//
//   npm run bench:browser [-- --quick]        (also a section of `npm run bench`)
//   node bench/browser.mjs [--quick] [--rounds N] [--json FILE] [--readme] [--note TEXT]
//
// --readme      rewrites README.md between <!-- bench-browser:start --> and <!-- bench-browser:end -->
// --note TEXT   a sentence added to the README section (e.g. how busy the machine was)
//
// Configurations, each in its own dedicated Worker of one cross-origin isolated page (COOP
// same-origin, COEP require-corp: SharedArrayBuffer, so threads):
//   wasmfit-simd-1t   init({ threads: 1, reproducible: true })  SIMD128 build
//   wasmfit-fma-1t    init({ threads: 1, fma: true })            relaxed-SIMD FMA build
//   wasmfit-Nt        init({ threads: N, reproducible: true }), N = the cores the page reports (and
//                     2 when N > 2): the threaded SIMD128 build
//   wasmfit-fma-Nt    init({ threads: N, fma: true }): the threaded FMA build (init()'s default here)
//   tfjs-wasm-1t      tfjs-layers on tfjs-backend-wasm, SIMD build, no threads (as in run.mjs)
//   tfjs-wasm-Nt      its threaded SIMD build, setThreadsCount(N)
// and, in python3 child processes (bench/py_peer.py via bench/lib/python-peer.mjs), PyTorch with
// torch.set_num_threads(1) and with N threads.
//
// Each round runs one timed window of every configuration, browser and python windows alternating
// (bench/lib/browser-report.mjs roundOrder). A window is one fit call of E epochs over the
// workload's first 16 batches, i.e. 16·E steps (E calibrated per configuration to about the window
// length; every configuration gets the same shuffling seed in a round), timed
// where it runs: performance.now() inside the Worker, time.perf_counter() inside python. Rates are
// training samples/s; ratios are taken per round (the windows of a round run back to back), then
// their median and interquartile range. A configuration that cannot run (no Chromium, no
// python3-torch, no isolation, a library that fails to load) prints its row with the reason;
// nothing is installed.
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spread } from './lib/ab.mjs';
import { ratioDefs, renderSection, replaceBetween, roundOrder } from './lib/browser-report.mjs';
import { pairedRatio } from './lib/browser-report.mjs';
import { capacity } from './lib/capacity.mjs';
import { pythonPeer } from './lib/python-peer.mjs';
import { W1, W2, workloadData } from './lib/workloads.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const pages = join(here, 'browser');
const tfjsDirs = {
  'tf-core.min.js': '@tensorflow/tfjs-core/dist',
  'tf-layers.min.js': '@tensorflow/tfjs-layers/dist',
  'tf-backend-wasm.min.js': '@tensorflow/tfjs-backend-wasm/dist',
  'tfjs-backend-wasm.wasm': '@tensorflow/tfjs-backend-wasm/dist',
  'tfjs-backend-wasm-simd.wasm': '@tensorflow/tfjs-backend-wasm/dist',
  'tfjs-backend-wasm-threaded-simd.wasm': '@tensorflow/tfjs-backend-wasm/dist',
};
const PAGE_FILES = ['page.html', 'common.js', 'wasmfit-worker.js', 'tfjs-worker.js'];
export const README_START = '<!-- bench-browser:start -->';
export const README_END = '<!-- bench-browser:end -->';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WINDOW_TIMEOUT_MS = 180_000;

const defaultLog = (s) => process.stderr.write(`[browser] ${s}\n`);
const firstLine = (e) => String(e?.message ?? e).split('\n')[0];

/** The bytes a Worker fetches as /data/<id>.bin (bench/browser/common.js reads them). */
function dataBytes(d) {
  return Buffer.concat([d.x, d.y, ...d.weights].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

/** A static server for the page, the workers, dist/browser/, tfjs's files and the data; COOP/COEP on every response. */
export function serve(data) {
  const server = createServer((req, res) => {
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    res.setHeader('cache-control', 'no-store');
    const send = (type, body) => res.writeHead(200, { 'content-type': type }).end(body);
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    try {
      if (path === '/') return send('text/html; charset=utf-8', readFileSync(join(pages, 'page.html')));
      let m = /^\/bench\/([\w.-]+)$/.exec(path);
      if (m && PAGE_FILES.includes(m[1])) return send('text/javascript; charset=utf-8', readFileSync(join(pages, m[1])));
      m = /^\/tfjs\/([\w.-]+)$/.exec(path);
      if (m && tfjsDirs[m[1]]) {
        const f = join(here, 'node_modules', tfjsDirs[m[1]], m[1]);
        if (existsSync(f)) return send(m[1].endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8', readFileSync(f));
      }
      m = /^\/data\/(\w+)\.bin$/.exec(path);
      if (m && data.has(m[1])) return send('application/octet-stream', data.get(m[1]));
      if (path.startsWith('/dist/browser/')) {
        const rel = normalize(path.slice(1));
        const f = join(root, rel);
        if (rel.startsWith(join('dist', 'browser') + sep) && !rel.split(sep).includes('..') && existsSync(f)) return send('text/javascript; charset=utf-8', readFileSync(f));
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(() => r())) }));
  });
}

const withTimeout = (p, ms, what) => {
  let t;
  const late = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(t));
};

/** Headless Chromium with the page open, or { reason } when it cannot start. */
export async function openBrowser(url, log) {
  const exe = process.env.WASMFIT_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) return { reason: `no Chromium at ${exe} (set WASMFIT_CHROMIUM, or install Debian's chromium; the benchmark installs nothing)` };
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    return { reason: `playwright-core did not load (npm install at the repository root): ${firstLine(e)}` };
  }
  let browser;
  try {
    browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    await page.goto(`${url}/`);
    await page.waitForSelector('body[data-ready=yes]', { timeout: 30_000 });
    const env = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, ua: navigator.userAgent }));
    return { browser, page, env, version: `Chromium ${browser.version()} (headless)` };
  } catch (e) {
    await browser?.close().catch(() => {});
    return { reason: `Chromium (${exe}) did not start or load the page: ${firstLine(e)}` };
  }
}

/**
 * Measures the browser section and returns { text, md, json, results }; with `readme`, rewrites
 * README.md's browser section. `rounds` defaults to 5 (--quick) or 15; windows last about 250 ms
 * (--quick) or 1 s.
 */
export async function browserSection({ quick = false, rounds, readme = false, note = '', log = defaultLog } = {}) {
  const R = rounds ?? (quick ? 5 : 15);
  const windowMs = quick ? 250 : 1000;
  const workloads = [W1, W2];
  const t0 = performance.now();
  const load0 = loadavg()[0];

  log('preparing the workloads’ data…');
  const data = new Map();
  const wlData = new Map();
  for (const wl of workloads) {
    const d = await workloadData(wl);
    wlData.set(wl.id, d);
    data.set(wl.id, dataBytes(d));
  }
  const server = await serve(data);
  const br = await openBrowser(server.url, log);
  if (br.reason) log(`browser: ${br.reason}`);
  else log(`${br.version}, crossOriginIsolated ${br.env.isolated}, ${br.env.cores} cores reported`);
  const cores = Math.min(8, br.env?.cores ?? cpus().length);
  const threadCounts = cores > 1 ? [...new Set([cores, 2])] : [];

  // ---- the configurations
  const configs = [];
  const bcfg = (id, kind, init) => configs.push({ id, kind, init, where: 'Chromium', browser: true });
  bcfg('wasmfit-simd-1t', 'wasmfit', { threads: 1, reproducible: true });
  bcfg('wasmfit-fma-1t', 'wasmfit', { threads: 1, fma: true });
  // on several threads: the threaded SIMD128 build (like for like with SIMD128 on one thread) and the
  // threaded FMA build (init()'s default where relaxed SIMD validates, as in Chromium)
  for (const n of threadCounts) bcfg(`wasmfit-${n}t`, 'wasmfit', { threads: n, reproducible: true });
  for (const n of threadCounts) bcfg(`wasmfit-fma-${n}t`, 'wasmfit', { threads: n, fma: true });
  if (!threadCounts.length) configs.push({ id: 'wasmfit-2t', where: 'Chromium', browser: true, reason: 'the page reports one core' });
  bcfg('tfjs-wasm-1t', 'tfjs', { threads: 1 });
  for (const n of threadCounts.slice(0, 1)) bcfg(`tfjs-wasm-${n}t`, 'tfjs', { threads: n });
  const natives = [pythonPeer('pytorch', 1), ...(cores > 1 ? [pythonPeer('pytorch', cores)] : [])];
  for (const p of natives) configs.push({ id: p.id, where: 'python3', native: true, peer: p });

  const page = br.page;
  const call = (id, msg, what = `${id} ${msg.op}`) => withTimeout(page.evaluate(([i, m]) => window.bench.call(i, m), [id, msg]), WINDOW_TIMEOUT_MS, what);

  for (const c of configs.filter((x) => x.browser && !x.reason)) {
    if (br.reason) {
      c.reason = br.reason;
      continue;
    }
    if (c.init.threads > 1 && !br.env.isolated) {
      c.reason = 'the page is not cross-origin isolated (COOP/COEP headers missing)';
      continue;
    }
    try {
      await page.evaluate(([i, k]) => window.bench.start(i, k), [c.id, c.kind]);
      const info = await call(c.id, { op: 'init', ...(c.kind === 'wasmfit' ? { init: c.init } : { threads: c.init.threads }) });
      if (c.kind === 'wasmfit') {
        const want = c.init.fma ? 'fma' : 'simd';
        if (info.build !== want || info.threads !== c.init.threads) throw new Error(`init(${JSON.stringify(c.init)}) gave the ${info.build} build on ${info.threads} thread(s)`);
        c.label = `wasmfit, ${info.build} build, ${info.threads} thread${info.threads > 1 ? 's' : ''} (Worker)`;
      } else {
        if (!info.simd) throw new Error('tfjs-backend-wasm reports no SIMD support');
        if (c.init.threads > 1 && !info.multithread) throw new Error('tfjs-backend-wasm did not choose its threaded build (WASM_HAS_MULTITHREAD_SUPPORT false)');
        // tfjs-backend-wasm 4.22's getThreadsCount() can stay 1 whatever setThreadsCount asked for
        // (tensorflow/tfjs#8513): the label says what it reports, the row is measured as it runs.
        const asked = c.init.threads > 1 ? `setThreadsCount(${c.init.threads}), getThreadsCount() = ${info.threads}${info.threads !== c.init.threads ? ' (tensorflow/tfjs#8513)' : ''}` : '1 thread';
        c.label = `@tensorflow/tfjs-layers ${info.version} on tfjs-backend-wasm ${info.wasmVersion} (${info.multithread ? 'threaded SIMD build' : 'SIMD build'}, ${asked}; Worker)`;
      }
    } catch (e) {
      c.reason = firstLine(e);
    }
  }
  for (const c of configs.filter((x) => x.native)) {
    try {
      c.label = (await c.peer.load()).label;
    } catch (e) {
      c.reason = firstLine(e);
    }
  }
  for (const c of configs) log(`  ${c.id}: ${c.reason ? `cannot run — ${c.reason}` : c.label}`);

  // ---- the measurement
  const results = {};
  const caps = []; // per round: what the machine offered `cores` threads (bench/lib/capacity.mjs)
  for (const wl of workloads) {
    const d = wlData.get(wl.id);
    const spec = { id: wl.id, dims: wl.dims, loss: wl.loss, lr: wl.lr, batch: wl.batch, rows: d.rows };
    const res = (results[wl.id] = {});
    const runners = new Map();
    for (const c of configs.filter((x) => !x.reason)) {
      log(`${wl.id}: setting up ${c.id}…`);
      try {
        let window; // (epochs, seed) → elapsed ms, timed where it runs
        if (c.browser) {
          await call(c.id, { op: 'setup', spec });
          window = async (epochs, seed) => (await call(c.id, { op: 'window', epochs, seed }, `${wl.id} ${c.id} window`)).ms;
        } else {
          const t = await c.peer.create({ ...wl, weights: d.weights });
          const pd = t.prepare(d.x, d.y, d.rows);
          window = async (epochs, seed) => 1000 * (await t.epochs(pd, epochs, seed));
        }
        await window(1, 0); // warm-up (and, for python, the data's transfer)
        await window(1, 1);
        const per = Math.max(await window(1, 2), 0.01);
        const epochs = Math.max(1, Math.round(windowMs / per));
        runners.set(c.id, { window, epochs });
        res[c.id] = { rates: [], epochsPerWindow: epochs, rows: d.rows };
      } catch (e) {
        res[c.id] = { error: firstLine(e) };
        log(`  ${c.id} failed: ${firstLine(e)}`);
      }
    }
    const ids = [...runners.keys()];
    log(`${wl.id}: ${R} rounds of ${ids.length} windows (≈ ${windowMs} ms each)…`);
    for (let r = 0; r < R; r++) {
      if (cores > 1) caps.push(await capacity(cores));
      const order = roundOrder(ids.filter((i) => configs.find((c) => c.id === i).browser), ids.filter((i) => configs.find((c) => c.id === i).native), r);
      for (const id of order) {
        const run = runners.get(id);
        if (res[id].error) continue;
        try {
          const ms = await run.window(run.epochs, 10 + r); // one shuffling seed per round, the same for every configuration
          res[id].rates[r] = (run.epochs * d.rows) / (ms / 1000);
        } catch (e) {
          res[id].error = firstLine(e);
          log(`  ${id} failed: ${res[id].error}`);
        }
      }
    }
    for (const c of configs.filter((x) => x.browser && runners.has(x.id))) await call(c.id, { op: 'dispose' }).catch(() => {});
  }
  for (const p of natives) p.close();
  await br.browser?.close();
  await server.close();
  const elapsed = (performance.now() - t0) / 1000;
  const capS = caps.length ? spread(caps) : undefined;
  const load = `load average (1 min) ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end${capS ? `; capacity for ${cores} threads ${capS.median.toFixed(2)} (${capS.min.toFixed(2)}–${capS.max.toFixed(2)}; ${cores} on idle cores)` : ''}`;

  // ---- report
  const defs = ratioDefs(cores);
  const env = br.version ?? 'Chromium: cannot run';
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const date = new Date().toISOString().slice(0, 10);
  const notes = [
    'tfjs-wasm: softmax layer + categoricalCrossentropy (the tfjs-layers way), as in the Node table.',
    'wasmfit-Nt is the threaded SIMD128 build (bit-identical to SIMD128 on one thread), wasmfit-fma-Nt the threaded FMA build (bit-identical to FMA on one thread; what init() picks here).',
    'Timed where each runs: performance.now() inside the Worker, time.perf_counter() inside python (no IPC in the figures).',
    'Capacity: once per round, a fixed JS loop timed on 1 worker_thread then on N at once, N·t1/tN (bench/threads.mjs\'s measure): N on idle cores, less when other processes take them; read the thread ratios against it.',
  ];
  const labels = configs.map((c) => `${c.id}: ${c.reason ? `cannot run — ${c.reason}` : c.label}`);
  const run = {
    title: `Browser: W1/W2 in ${env}, ${cpu}, ${cores} cores${quick ? ' (--quick)' : ''}; ${R} rounds, windows ≈ ${windowMs} ms; ${elapsed.toFixed(0)} s; ${load}`,
    legend: labels.map((l) => `- ${l}`).join('\n'),
    configs,
    workloads: workloads.map((w) => ({ id: w.id, title: w.title })),
    results,
    defs,
    notes,
  };
  const text = renderSection(run, false);
  const mdRun = {
    ...run,
    title: `Measured by \`npm run bench:browser${quick ? ' -- --quick' : ''}\` on ${date}: ${env} on ${cpu}, ${cores} cores (shared; ${load}${note ? `; ${note}` : ''}). Every configuration trains in its own Worker of one cross-origin isolated page (COOP/COEP), from the same initial weights as the Node tables; PyTorch runs in python3 processes, its windows alternating with the browser's in ${R} rounds.`,
  };
  const md = `<!-- generated by \`node bench/browser.mjs${quick ? ' --quick' : ''} --readme\`; do not edit by hand -->\n${renderSection(mdRun, true)}`;

  const json = [];
  const meta = { date, quick, cpu, cores, browser: env, capacity: capS ?? null };
  for (const wl of workloads) {
    for (const c of configs) {
      const r = results[wl.id][c.id];
      const ok = r?.rates?.filter(Number.isFinite) ?? [];
      json.push({ ...meta, kind: 'browser-throughput', workload: wl.id, id: c.id, where: c.where, label: c.label ?? null, unit: 'samples/s', reason: c.reason ?? r?.error ?? null, ...(ok.length ? spread(ok) : {}), rates: r?.rates ?? null, epochsPerWindow: r?.epochsPerWindow ?? null, rows: r?.rows ?? null });
    }
    for (const dfn of defs) {
      const s = pairedRatio(results[wl.id][dfn.a]?.rates, results[wl.id][dfn.b]?.rates);
      json.push({ ...meta, kind: 'browser-ratio', workload: wl.id, a: dfn.a, b: dfn.b, label: dfn.label, target: dfn.targets?.[wl.id] ?? null, ...(s ?? { median: null }) });
    }
  }
  if (readme) {
    const p = join(root, 'README.md');
    writeFileSync(p, replaceBetween(readFileSync(p, 'utf8'), README_START, README_END, md));
    log('rewrote the README browser section');
  }
  return { text, md, json, results };
}

// ------------------------------------------------------------------------------ command line
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const val = (name) => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs an argument`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    if (['--quick', '--readme'].includes(argv[i])) continue;
    if (['--rounds', '--json', '--note'].includes(argv[i])) {
      i++;
      continue;
    }
    throw new Error(`unknown argument ${argv[i]} (expected --quick, --rounds N, --json FILE, --readme, --note TEXT)`);
  }
  const rounds = val('--rounds') === undefined ? undefined : Number(val('--rounds'));
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds ${val('--rounds')}: expected an integer >= 1`);
  const out = await browserSection({ quick: argv.includes('--quick'), rounds, readme: argv.includes('--readme'), note: val('--note') ?? '' });
  console.log(out.text);
  const jsonFile = val('--json');
  if (jsonFile) writeFileSync(jsonFile, out.json.map((o) => JSON.stringify(o)).join('\n') + '\n');
}
