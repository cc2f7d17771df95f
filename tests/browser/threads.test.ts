// Threads in a real browser (issue 17 item 1): Debian's Chromium, pages served by
// scripts/playground.mjs — once cross-origin isolated (COOP/COEP headers), once not. In a module
// Worker of the isolated page, init() takes the cores (the threaded FMA build: relaxed SIMD validates
// in Chromium) and trains to the bits of FMA on one thread; reproducible builds give Node's bits on one
// thread; a page's main thread (which may not block) and a non-isolated page stay single-threaded
// and refuse an explicit { threads: 2 } with a RuntimeSupportError that says why.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dist, launch, playgroundModule, type Server } from './harness.js';

interface Answer {
  threads?: number;
  build?: string;
  isolated?: boolean;
  hash?: string;
  error?: string;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PageWindow = any;

let browser: Browser;
let isolated: Server;
let plain: Server;
let nodeHash: string;

async function open(server: Server): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/tests/browser/pages/threads.html`);
  await page.waitForSelector('body[data-ready=yes]', { timeout: 15_000 });
  return page;
}

beforeAll(async () => {
  const pg = await playgroundModule();
  isolated = await pg.startServer({ host: '127.0.0.1', port: 0, isolated: true } as { host: string; port: number });
  plain = await pg.startServer({ host: '127.0.0.1', port: 0 });
  browser = await launch();
  // the same run in Node, on one thread of the same (dist) build: SIMD128 (Node ≥ 22 would pick FMA)
  const { wf } = await dist();
  const spec = (await import(pathToFileURL(join(process.cwd(), 'tests/browser/pages/threads-spec.js')).href)) as {
    SPEC: { d: number; batch: number; epochs: number; seed: number; layers(w: unknown): never[] };
    dataFor(w: unknown): { x: Float32Array; y: Int32Array };
  };
  await wf.init({ threads: 1, reproducible: true });
  const m = new wf.Sequential({ inputShape: [spec.SPEC.d], layers: spec.SPEC.layers(wf), seed: spec.SPEC.seed });
  m.compile({ optimizer: wf.adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
  const { x, y } = spec.dataFor(wf);
  await m.fit(x, y, { epochs: spec.SPEC.epochs, batchSize: spec.SPEC.batch, seed: spec.SPEC.seed });
  const h = createHash('sha256');
  for (const w of m.getWeights()) h.update(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
  nodeHash = h.digest('hex');
  m.dispose();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

describe('threads in Chromium', () => {
  it('a Worker of a cross-origin isolated page trains on every core to the bits of one thread in Node', async () => {
    const page = await open(isolated);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const byDefault = (await page.evaluate((m) => (window as PageWindow).inWorker(m), { init: {} })) as Answer;
    expect(byDefault.error).toBeUndefined();
    expect(byDefault.isolated).toBe(true);
    expect(byDefault.threads).toBe(Math.min(8, cores));
    // relaxed SIMD validates in Chromium: init() picks the FMA build on every thread count, and
    // the threaded FMA build gives the bits of FMA on one thread (not Node's SIMD128 bits)
    expect(byDefault.build).toBe('fma');
    const fma1 = (await page.evaluate((m) => (window as PageWindow).inWorker(m), { init: { threads: 1 } })) as Answer;
    expect([fma1.threads, fma1.build]).toEqual([1, 'fma']);
    expect(fma1.hash).not.toBe(nodeHash); // FMA rounds once: the comparisons below can fail
    expect(byDefault.hash).toBe(fma1.hash);
    const fma3 = (await page.evaluate((m) => (window as PageWindow).inWorker(m), { init: { threads: 3, fma: true } })) as Answer;
    expect([fma3.threads, fma3.build, fma3.hash]).toEqual([3, 'fma', fma1.hash]);
    for (const threads of [1, 3]) {
      // reproducible: the SIMD128 builds, bit-identical to Node's
      const a = (await page.evaluate((m) => (window as PageWindow).inWorker(m), { init: { threads, reproducible: true } })) as Answer;
      expect(a.error).toBeUndefined();
      expect([a.threads, a.build]).toEqual([threads, 'simd']);
      expect(a.hash).toBe(nodeHash);
    }
  }, 120_000);

  it("the isolated page's main thread may not block: one thread by default, an explicit count refused", async () => {
    const page = await open(isolated);
    const r = await page.evaluate(async () => {
      const wf = (window as PageWindow).wasmfit;
      const e = await wf.init({ threads: 2 }).catch((x: Error) => x);
      const rt = await wf.init();
      return { isolated: crossOriginIsolated, name: e?.name, message: String(e?.message), threads: rt.threads };
    });
    expect(r.isolated).toBe(true);
    expect(r.name).toBe('RuntimeSupportError');
    expect(r.message).toMatch(/Atomics\.wait.*Worker/);
    expect(r.threads).toBe(1);
  }, 60_000);

  it('a page that is not cross-origin isolated runs one thread and says which headers enable more', async () => {
    const page = await open(plain);
    const byDefault = (await page.evaluate((m) => (window as PageWindow).inWorker(m), { init: {} })) as Answer;
    expect(byDefault.error).toBeUndefined();
    expect(byDefault.isolated).toBe(false);
    expect(byDefault.threads).toBe(1);
    expect(byDefault.build).toBe('fma'); // one thread, relaxed SIMD validates in Chromium
    const reproducible = (await page.evaluate((m) => (window as PageWindow).inWorker(m), { init: { reproducible: true } })) as Answer;
    expect([reproducible.threads, reproducible.build, reproducible.hash]).toEqual([1, 'simd', nodeHash]);
    const explicit = (await page.evaluate((m) => (window as PageWindow).inWorker(m), { init: { threads: 2 } })) as Answer;
    expect(explicit.error).toMatch(/^RuntimeSupportError: .*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  }, 60_000);
});
