// wasmfit as users meet it: installed from its packed tarball into a fresh app, built by a bundler
// (esbuild, Vite, webpack 5), served on 127.0.0.1 and run in Chromium — train on the main thread,
// continue in a worker with fitInWorker, predict — with the SIMD128 and the forced-scalar build.
// Also: the Vite dev server, wasmfit imported from another origin (no bundler), and Node apps
// bundled by esbuild and webpack. Each build must finish without errors or warnings, ship no
// `node:` import to the browser, and embed the kernel module's bytes once (the worker gets the
// main thread's compiled module). Recipes: README, "Bundlers".
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../browser/harness.js';
import { packInto } from './pack.js';

const root = process.cwd();
const fixture = join(root, 'tests', 'bundlers', 'fixture');
const tmp = mkdtempSync(join(tmpdir(), 'wasmfit-bundlers-'));
const app = join(tmp, 'app');
const pkg = join(app, 'node_modules', 'wasmfit');

interface Result {
  simd: boolean;
  workerSimd: boolean;
  status: string;
  mainLoss: number;
  workerLoss: number;
  accuracy: number;
  error?: string;
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json', '.wasm': 'application/wasm' };

/** A static server for `dir` on 127.0.0.1 (random port); records what was not found. */
async function serve(dir: string, headers: Record<string, string> = {}): Promise<{ url: string; missing: string[]; close(): Promise<void> }> {
  const missing: string[] = [];
  const server: HttpServer = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      if (!relative(dir, file).startsWith('..') && statSync(file).isFile()) {
        res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', ...headers });
        res.end(readFileSync(file));
        return;
      }
    } catch {
      // not found below
    }
    if (!path.endsWith('favicon.ico')) missing.push(path);
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, missing, close: () => new Promise((r) => server.close(() => r())) };
}

const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

/** 64 characters of the SIMD module's base64 that the scalar module's base64 does not contain. */
function simdProbe(): string {
  const b64 = (name: string): string => readFileSync(join(root, 'ts', 'runtime', `wasm-${name}.generated.ts`), 'utf8').match(/"([A-Za-z0-9+/=]+)"/)![1]!;
  const simd = b64('simd');
  const scalar = b64('scalar');
  for (let at = simd.length >> 1; at + 64 < simd.length; at += 64) {
    const probe = simd.slice(at, at + 64);
    if (!scalar.includes(probe)) return probe;
  }
  throw new Error('no SIMD-only stretch in the module bytes');
}

/** What every browser build must satisfy: no node: imports, no file:// paths, the SIMD module's bytes once. */
function checkOutput(out: string): void {
  const js = walk(out).filter((f) => /\.(m?js)$/.test(f));
  expect(js.length).toBeGreaterThan(0);
  const probe = simdProbe();
  let copies = 0;
  for (const f of js) {
    const text = readFileSync(f, 'utf8');
    expect(text, relative(out, f)).not.toMatch(/(?:from\s*|import\s*\(?\s*|require\(\s*)["']node:/);
    // no build-machine paths (webpack writes file://… for a bare import.meta.url)
    expect(text, relative(out, f)).not.toMatch(/file:\/\//);
    copies += text.split(probe).length - 1;
  }
  expect(copies, 'copies of the SIMD module bytes in the build').toBe(1);
}

let browser: Browser;
/** URLs of the workers the last runPage's pages started. */
let workerUrls: string[] = [];

async function runPage(out: string, also?: { missing: string[] }): Promise<Record<'simd' | 'scalar', Result>> {
  const server = await serve(out);
  const results = {} as Record<'simd' | 'scalar', Result>;
  workerUrls = [];
  try {
    for (const mode of ['simd', 'scalar'] as const) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('worker', (w) => workerUrls.push(w.url()));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${server.url}?simd=${mode === 'simd' ? 1 : 0}`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
      const r = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as Result;
      await page.close();
      expect({ error: r.error, errors, missing: [...server.missing, ...(also?.missing ?? [])] }).toEqual({ error: undefined, errors: [], missing: [] });
      results[mode] = r;
    }
  } finally {
    await server.close();
  }
  return results;
}

function checkResults(r: Record<'simd' | 'scalar', Result>): void {
  expect([r.simd.simd, r.simd.workerSimd, r.scalar.simd, r.scalar.workerSimd]).toEqual([true, true, false, false]);
  for (const k of ['simd', 'scalar'] as const) {
    expect(r[k].status).toBe('completed');
    expect(r[k].workerLoss).toBeLessThan(r[k].mainLoss);
    expect(r[k].accuracy).toBeGreaterThanOrEqual(0.9);
  }
}

/** The fixture's index.html, pointing at a bundle instead of app.mjs. */
function html(out: string, script: string): void {
  writeFileSync(join(out, 'index.html'), readFileSync(join(fixture, 'index.html'), 'utf8').replace('./app.mjs', script));
}

beforeAll(async () => {
  mkdirSync(app, { recursive: true });
  cpSync(fixture, app, { recursive: true });
  packInto(pkg);
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a browser app built by', () => {
  it('esbuild (ESM bundle; worker-thread.mjs copied next to it)', async () => {
    const esbuild = await import('esbuild');
    const out = join(tmp, 'out-esbuild');
    const res = await esbuild.build({ absWorkingDir: app, entryPoints: ['app.mjs'], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: join(out, 'app.js'), logLevel: 'silent' });
    expect(res.errors).toEqual([]);
    expect(res.warnings.map((w) => w.text)).toEqual([]);
    copyFileSync(join(pkg, 'dist', 'browser', 'worker-thread.mjs'), join(out, 'worker-thread.mjs'));
    html(out, './app.js');
    checkOutput(out);
    checkResults(await runPage(out));
    expect(workerUrls.map((u) => u.replace(/^http:\/\/127\.0\.0\.1:\d+/, ''))).toEqual(['/worker-thread.mjs', '/worker-thread.mjs']);
  });

  it('Vite (vite build)', async () => {
    const vite = await import('vite');
    const out = join(tmp, 'out-vite');
    const warnings: string[] = [];
    const logger = vite.createLogger('warn', { allowClearScreen: false });
    const customLogger = { ...logger, warn: (msg: string) => warnings.push(msg), warnOnce: (msg: string) => warnings.push(msg) };
    await vite.build({ root: app, configFile: false, logLevel: 'warn', customLogger, build: { outDir: out, emptyOutDir: true } });
    expect(warnings).toEqual([]);
    checkOutput(out);
    checkResults(await runPage(out));
  });

  it('the Vite dev server (dependency pre-bundling, the worker served from node_modules)', async () => {
    const vite = await import('vite');
    const warnings: string[] = [];
    const logger = vite.createLogger('warn', { allowClearScreen: false });
    const customLogger = { ...logger, warn: (msg: string) => warnings.push(msg), warnOnce: (msg: string) => warnings.push(msg) };
    const server = await vite.createServer({ root: app, configFile: false, logLevel: 'warn', customLogger, server: { host: '127.0.0.1', port: 0, strictPort: false } });
    await server.listen();
    try {
      const url = server.resolvedUrls!.local[0]!;
      const results = {} as Record<'simd' | 'scalar', Result>;
      workerUrls = [];
      for (const mode of ['simd', 'scalar'] as const) {
        const page = await browser.newPage();
        page.on('worker', (w) => workerUrls.push(w.url()));
        await page.goto(`${url}?simd=${mode === 'simd' ? 1 : 0}`);
        await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
        results[mode] = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as Result;
        await page.close();
        expect(results[mode].error).toBeUndefined();
      }
      checkResults(results);
      expect(workerUrls.length).toBe(2);
      expect(warnings).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('webpack 5 (production mode)', async () => {
    const { default: webpack } = await import('webpack');
    const out = join(tmp, 'out-webpack');
    const stats = await new Promise<import('webpack').Stats>((resolve, reject) =>
      webpack({ mode: 'production', context: app, entry: './app.mjs', output: { path: out, filename: 'app.js', clean: true } }, (err, s) => (err || !s ? reject(err) : resolve(s))),
    );
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    expect((info.errors ?? []).map((e) => e.message)).toEqual([]);
    expect((info.warnings ?? []).map((e) => e.message)).toEqual([]);
    html(out, './app.js');
    checkOutput(out);
    checkResults(await runPage(out));
  });
});

describe('no bundler, wasmfit from another origin (a CDN)', () => {
  it('imports dist/browser/ cross-origin; fitInWorker starts through a same-origin blob: stub', async () => {
    const cdn = await serve(pkg, { 'access-control-allow-origin': '*' });
    try {
      const out = join(tmp, 'out-cdn');
      mkdirSync(out, { recursive: true });
      for (const f of ['app.mjs', 'train.mjs']) copyFileSync(join(fixture, f), join(out, f));
      const map = { imports: { wasmfit: `${cdn.url}dist/browser/wasmfit.mjs`, 'wasmfit/worker': `${cdn.url}dist/browser/worker.mjs` } };
      html(out, './app.mjs');
      const page = readFileSync(join(out, 'index.html'), 'utf8').replace('<body>', `<body>\n  <script type="importmap">${JSON.stringify(map)}</script>`);
      writeFileSync(join(out, 'index.html'), page);
      checkResults(await runPage(out, cdn));
      expect(workerUrls.length).toBe(2);
      for (const u of workerUrls) expect(u).toMatch(/^blob:http:\/\/127\.0\.0\.1:/);
    } finally {
      await cdn.close();
    }
  });
});

describe('a Node app', () => {
  it('bundled by esbuild (platform node, ESM; worker-thread.mjs copied next to it)', async () => {
    const esbuild = await import('esbuild');
    const out = join(tmp, 'out-node'); // outside the app: no node_modules to fall back on
    const res = await esbuild.build({ absWorkingDir: app, entryPoints: ['node-app.mjs'], bundle: true, format: 'esm', platform: 'node', outfile: join(out, 'app.mjs'), logLevel: 'silent' });
    expect(res.errors).toEqual([]);
    expect(res.warnings.map((w) => w.text)).toEqual([]);
    copyFileSync(join(pkg, 'dist', 'worker-thread.mjs'), join(out, 'worker-thread.mjs'));
    const run = (arg: string): Result => JSON.parse(execFileSync(process.execPath, [join(out, 'app.mjs'), arg], { cwd: out, encoding: 'utf8' })) as Result;
    checkResults({ simd: run('simd'), scalar: run('scalar') });
  });

  it('bundled by webpack 5 (target node; the worker script is emitted for you)', async () => {
    const { default: webpack } = await import('webpack');
    const out = join(tmp, 'out-webpack-node');
    const stats = await new Promise<import('webpack').Stats>((resolve, reject) =>
      webpack({ mode: 'production', target: 'node', context: app, entry: './node-app.mjs', output: { path: out, filename: 'app.js', clean: true } }, (err, s) => (err || !s ? reject(err) : resolve(s))),
    );
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    expect((info.errors ?? []).map((e) => e.message)).toEqual([]);
    expect((info.warnings ?? []).map((e) => e.message)).toEqual([]);
    const run = (arg: string): Result => JSON.parse(execFileSync(process.execPath, [join(out, 'app.js'), arg], { cwd: out, encoding: 'utf8' })) as Result;
    checkResults({ simd: run('simd'), scalar: run('scalar') });
  });
});
