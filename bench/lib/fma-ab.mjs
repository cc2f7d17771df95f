// FMA build against the SIMD128 build of this tree, in one process (Node or headless Chromium),
// timed windows alternated (round r: SIMD then FMA for even r, FMA then SIMD for odd r), each
// ratio taken per round before its median. Used by `npm run bench:gemm -- --fma [--browser]` and
// `npm run bench:step -- --fma [--browser]`.
//
// Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd: runFmaAB re-runs the
// calling script with it when needed. Chromium enables relaxed SIMD by default. The runtime is
// bundled from ts/ with esbuild (the browser bundle swaps x.ts for x.browser.ts as rollup does)
// so that the raw `gemm` export is reachable, as in bench/gemm.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spread, abTable, abLegend } from './ab.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const FLAG = '--experimental-wasm-relaxed-simd';

const ENTRY = `export { init, fmaSupported } from './ts/runtime/loader.ts';
export { GEMM_ARGS } from './ts/runtime/abi.ts';
export { Sequential, dense, adam } from './ts/index.ts';
`;

async function bundle(platform) {
  const esbuild = await import('esbuild');
  const out = join(here, '..', '.build', `wasmfit-fma-ab-${platform}.mjs`);
  mkdirSync(dirname(out), { recursive: true });
  const browserHost = {
    name: 'browser-host',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (a) => {
        const alt = join(a.resolveDir, a.path.replace(/\.js$/, '.browser.ts'));
        return existsSync(alt) ? { path: alt } : undefined;
      });
    },
  };
  await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: platform === 'browser' ? 'browser' : 'node',
    plugins: platform === 'browser' ? [browserHost] : [],
    external: platform === 'browser' ? [] : ['csv-parse', 'protobufjs'],
    outfile: out,
    logLevel: 'error',
  });
  return out;
}

export const GEMM_CASES = [
  { label: '512³ A·B', m: 512, n: 512, k: 512, v: 'AB' },
  { label: '1024³ A·B', m: 1024, n: 1024, k: 1024, v: 'AB' },
  { label: 'L1 784→256 X·W 128×256×784', m: 128, n: 256, k: 784, v: 'AB' },
  { label: 'L1 784→256 Xᵀ·dZ 784×256×128', m: 784, n: 256, k: 128, v: 'AtB' },
  { label: 'L1 784→256 dZ·Wᵀ 128×784×256', m: 128, n: 784, k: 256, v: 'ABt' },
  { label: 'L2 256→128 X·W 128×128×256', m: 128, n: 128, k: 256, v: 'AB' },
];

/**
 * The measurement itself, self-contained (serialized into the browser page as source text):
 * `W` is the bundled runtime; returns per case { label, unit, rates: [simd[], fma[]], builds }.
 */
export async function measure(W, what, rounds, windowMs) {
  const rts = [await W.init({ reproducible: true }), await W.init({ fma: true })];
  const builds = rts.map((r) => r.build);
  const now = () => performance.now();
  const lcg = (seed) => {
    let s = seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  };
  const out = [];
  async function ab(label, unit, fns, work) {
    // warm-up, then the calls per window (>= windowMs) per build
    const inner = [];
    for (const f of fns) {
      for (let i = 0; i < 3; i++) await f();
      const t0 = now();
      await f();
      inner.push(Math.max(1, Math.ceil(windowMs / Math.max(now() - t0, 1e-3))));
    }
    // wall clock everywhere; process CPU time too in Node (steadier on a shared machine)
    const cpuUsage = globalThis.process?.cpuUsage;
    const rates = [[], []];
    const cpu = [[], []];
    for (let r = 0; r < rounds; r++) {
      for (const b of r % 2 ? [1, 0] : [0, 1]) {
        const c0 = cpuUsage?.();
        const t0 = now();
        for (let i = 0; i < inner[b]; i++) await fns[b]();
        rates[b].push((inner[b] * work) / ((now() - t0) / 1000));
        if (c0) {
          const c = cpuUsage(c0);
          cpu[b].push((inner[b] * work) / Math.max((c.user + c.system) / 1e6, 1e-6));
        }
      }
    }
    out.push({ label, unit, rates, ...(cpuUsage ? { cpu } : {}) });
  }
  if (what === 'gemm') {
    const G = W.GEMM_ARGS;
    for (const c of measure.cases) {
      const { m, n, k, v } = c;
      const fns = rts.map((rt) => {
        const A = rt.arena.allocF32(m * k);
        const B = rt.arena.allocF32(k * n);
        const C = rt.arena.allocF32(m * n);
        const args = rt.arena.alloc(G.size);
        const f = rt.arena.f32;
        const ra = lcg(1);
        const rb = lcg(2);
        for (let i = 0; i < m * k; i++) f[(A >> 2) + i] = ra();
        for (let i = 0; i < k * n; i++) f[(B >> 2) + i] = rb();
        const [rsa, csa] = v === 'AtB' ? [1, m] : [k, 1];
        const [rsb, csb] = v === 'ABt' ? [1, k] : [n, 1];
        const d = rt.arena.view;
        const u = (o, x) => d.setUint32(args + o, x, true);
        const s = (o, x) => d.setInt32(args + o, x, true);
        u(G.m, m); u(G.n, n); u(G.k, k); u(G.a, A); s(G.rsa, rsa); s(G.csa, csa); u(G.b, B); s(G.rsb, rsb); s(G.csb, csb);
        u(G.c, C); s(G.rsc, n); d.setFloat32(args + G.beta, 0, true); u(G.bias, 0); u(G.act, 0); u(G.ws, rt.ws);
        return () => rt.kernels.gemm(args);
      });
      await ab(c.label, 'GFLOP/s', fns, (2 * m * n * k) / 1e9);
    }
  } else {
    const workloads = [
      { label: 'W1 784-256-128-10 CE, Adam, batch 128', d: 784, h: [256, 128], k: 10, batch: 128, batches: 8 },
      { label: 'W2 32-64-64-1 MSE, Adam, batch 32', d: 32, h: [64, 64], k: 1, batch: 32, batches: 128 },
    ];
    for (const w of workloads) {
      const rows = w.batch * w.batches;
      const r = lcg(w.d);
      const x = Float32Array.from({ length: rows * w.d }, r);
      const y = w.k > 1 ? Int32Array.from({ length: rows }, (_, i) => i % w.k) : { data: Float32Array.from({ length: rows }, (_, i) => x[i * w.d] * 2 - x[i * w.d + 1]), shape: [rows, 1] };
      const models = rts.map((rt) => {
        const m = new W.Sequential({ inputShape: [w.d], layers: [...w.h.map((h) => W.dense(h, { activation: 'relu' })), W.dense(w.k)], seed: 1, runtime: rt });
        m.compile({ optimizer: W.adam({ lr: 1e-3 }), loss: w.k > 1 ? 'softmaxCrossEntropy' : 'mse' });
        return m;
      });
      await ab(w.label, 'samples/s', models.map((m) => () => m.fit(x, y, { epochs: 1, batchSize: w.batch, yieldEveryMs: 1e9 })), rows);
      models.forEach((m) => m.dispose());
    }
  }
  return { builds, results: out };
}
measure.cases = GEMM_CASES;

async function inChromium(what, rounds, windowMs) {
  const file = await bundle('browser');
  const page = `<!doctype html><meta charset="utf-8"><script type="module">
import * as W from '/rt.mjs';
${measure.toString()}
measure.cases = ${JSON.stringify(GEMM_CASES)};
window.run = () => measure(W, ${JSON.stringify(what)}, ${rounds}, ${windowMs});
window.ready = true;
</script>`;
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    } else if (req.url === '/rt.mjs') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    } else res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { chromium } = await import('playwright-core');
  const exe = process.env.WASMFIT_CHROMIUM ?? '/usr/bin/chromium';
  const browser = await chromium.launch({ executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const p = await browser.newPage();
    p.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await p.goto(`http://127.0.0.1:${server.address().port}/`);
    await p.waitForFunction(() => window.ready === true);
    const env = `Chromium ${browser.version()} (headless)`;
    return { env, ...(await p.evaluate(() => window.run())) };
  } finally {
    await browser.close();
    server.close();
  }
}

/**
 * Runs the FMA-vs-SIMD comparison of `what` ('gemm' or 'step') in Node or (`browser`) headless
 * Chromium and prints the table. In Node without relaxed SIMD, re-runs `script` with the flag.
 */
export async function runFmaAB({ what, browser = false, rounds, windowMs = 50, script, argv }) {
  let run;
  if (browser) {
    process.stderr.write(`${what}: FMA vs SIMD128 in headless Chromium, ${rounds} alternated rounds per case…\n`);
    run = await inChromium(what, rounds, windowMs);
  } else {
    const W = await import(pathToFileURL(await bundle('node')).href);
    if (!W.fmaSupported()) {
      if (process.execArgv.includes(FLAG)) throw new Error(`this Node (${process.version}) does not validate relaxed SIMD even with ${FLAG}`);
      process.stderr.write(`Node ${process.version} validates relaxed SIMD only with ${FLAG}: re-running with it\n`);
      const p = spawnSync(process.execPath, [FLAG, script, ...argv], { stdio: 'inherit' });
      process.exit(p.status ?? 1);
    }
    process.stderr.write(`${what}: FMA vs SIMD128 in Node ${process.version} (${FLAG}), ${rounds} alternated rounds per case…\n`);
    run = { env: `node ${process.version} ${process.execArgv.join(' ')}, ${process.arch}`, ...(await measure(W, what, rounds, windowMs)) };
  }
  if (run.builds[0] !== 'simd' || run.builds[1] !== 'fma') throw new Error(`expected builds simd and fma, got ${run.builds.join(', ')}`);
  const hasCpu = run.results.every((r) => r.cpu);
  const rows = run.results.map(({ label, rates, cpu }) => ({
    label,
    res: {
      wall: rates.map(spread),
      ratioWall: spread(rates[0].map((a, i) => rates[1][i] / a)),
      ...(hasCpu ? { cpu: cpu.map(spread), ratioCpu: spread(cpu[0].map((a, i) => cpu[1][i] / a)) } : {}),
    },
  }));
  const unit = run.results[0]?.unit ?? '';
  console.log(`\n${what === 'gemm' ? 'GEMM GFLOP/s (2·m·n·k / time), raw gemm export' : 'train_step throughput, samples/s, one epoch per window'}; FMA build vs SIMD128 build of this tree, single thread; ${rounds} alternated rounds (windows ≥ ${windowMs} ms); ${run.env}`);
  console.log(`  ${abLegend(['simd', 'fma'])}${hasCpu ? '' : ' (not in a browser: wall clock only)'}\n`);
  console.log(abTable(rows, { names: ['simd', 'fma'], unit, digits: what === 'gemm' ? 1 : 0, cpu: hasCpu }));
  return rows;
}
