// Real-browser tests: Debian's Chromium (headless, driven by playwright-core) loads the built ESM
// bundle with no bundler, trains in a Web Worker, and drives the playground. Pages are served by
// scripts/playground.mjs on 127.0.0.1 with a random port. Screenshots go to test-artifacts/.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, dist, launch, maxGap, mlpAccuracyF64, playgroundModule, stallBound, type Server } from './harness.js';

interface Digits {
  x: Float32Array;
  y: Int32Array;
  rows: number;
  cols: number;
}
interface DigitsModule {
  decodeDigits(buf: ArrayBuffer): Digits;
  splitDigits(all: Digits, o: { seed: number; trainSize: number; testSize: number }, Rng: unknown): { train: Digits; test: Digits };
}
interface Scenario {
  DATA: { seed: number; trainSize: number; testSize: number };
  onThread(wf: unknown, x: Float32Array, y: Int32Array, init: unknown): Promise<{ hash: string; simd: boolean }>;
  inWorker(wf: unknown, fitInWorker: unknown, x: Float32Array, y: Int32Array, init: unknown): Promise<{ hash: string; simd: boolean }>;
}
/** What the minimal page puts on `window` (typed loosely: the page code runs in the browser). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PageWindow = any;

const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(join(process.cwd(), rel)).href)) as T;

let browser: Browser;
let server: Server;
let all: Digits;
let digitsMod: DigitsModule;

beforeAll(async () => {
  const pg = await playgroundModule();
  server = await pg.startServer({ host: '127.0.0.1', port: 0 });
  browser = await launch();
  digitsMod = await load<DigitsModule>('examples/playground/digits.js');
  const bytes = pg.encodeDigits();
  all = digitsMod.decodeDigits(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function minimalPage(init?: (p: Page) => Promise<unknown>): Promise<Page> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await init?.(page);
  await page.goto(`${server.url}/tests/browser/pages/minimal.html`);
  await page.waitForSelector('body[data-ready=yes]', { timeout: 15_000 }).catch((e: Error) => {
    throw new Error(`minimal page did not load: ${errors.join('; ') || e.message}`);
  });
  return page;
}

describe('the ESM bundle in a page with no bundler', () => {
  it('detects SIMD, forces the scalar module, loads a module from a URL (also in a worker), and trains', async () => {
    const page = await minimalPage();
    const r = await page.evaluate(async () => {
      const wf = (window as PageWindow).wasmfit;
      const auto = await wf.init();
      const scalar = await wf.init({ simd: false });
      const urlScalar = await wf.init({ wasm: '/build/wasmfit-scalar.wasm' });
      const urlSimd = await wf.init({ wasm: new URL('/build/wasmfit-simd.wasm', location.href) });
      // XOR on the scalar module fetched by URL
      const x = [[0, 0], [0, 1], [1, 0], [1, 1]];
      const y = [0, 1, 1, 0];
      const m = new wf.Sequential({ inputShape: [2], layers: [wf.dense(8, { activation: 'tanh' }), wf.dense(2)], seed: 1, runtime: urlScalar });
      m.compile({ optimizer: wf.adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
      const h = await m.fit(x, y, { epochs: 150, batchSize: 4 });
      const acc = m.evaluate(x, y).accuracy;
      m.dispose();
      let missing: string[] = [];
      try {
        await wf.init({ wasm: '/build/no-such-module.wasm' });
      } catch (e) {
        missing = [(e as Error).name, (e as { code: string }).code, (e as Error).message];
      }
      // a worker given a module URL relative to the page (resolved against the page, not the worker script)
      const job = (window as PageWindow).fitInWorker(
        { inputShape: [2], layers: [wf.dense(2)], optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' }, x, y,
        { epochs: 2, worker: { init: { wasm: '../../../build/wasmfit-scalar.wasm' } } });
      const inWorker = await job.result;
      return { auto: auto.simd, supported: wf.simdSupported(), scalar: scalar.simd, urlScalar: urlScalar.simd, urlSimd: urlSimd.simd, loss: h.history.loss, acc, missing, workerSimd: inWorker.simd, workerStatus: inWorker.status };
    });
    expect(r.supported).toBe(true); // current Chromium has WebAssembly SIMD128
    expect(r.auto).toBe(true);
    expect(r.scalar).toBe(false);
    expect(r.urlScalar).toBe(false);
    expect(r.urlSimd).toBe(true);
    expect(r.loss.at(-1)).toBeLessThan(r.loss[0] / 4);
    expect(r.acc).toBe(1);
    expect(r.workerStatus).toBe('completed');
    expect(r.workerSimd).toBe(false);
    expect(r.missing[0]).toBe('RuntimeSupportError');
    expect(r.missing[1]).toBe('E_RUNTIME_SUPPORT');
    expect(r.missing[2]).toMatch(/HTTP 404/);
    await page.context().close();
  });

  it('reads a model file with preprocessing once wasmfit/preprocess is imported, and predicts raw rows as Node does', async () => {
    const node = await load<typeof import('../../ts/index.js')>('dist/wasmfit.mjs');
    const prepMod = await load<typeof import('../../ts/preprocess/index.js')>('dist/preprocess.mjs');
    await node.init();
    const rows = [[31, 'paris', 1.5], [null, 'lyon', 0.2], [47, 'nice', 2.5], [22, 'paris', 0.9]];
    const prep = new prepMod.ColumnTransformer([
      ['num', [new prepMod.SimpleImputer({ strategy: 'mean' }), new prepMod.StandardScaler()], [0, 2]],
      ['cat', new prepMod.OneHotEncoder({ handleUnknown: 'ignore' }), [1]],
    ]).fit(rows);
    const m = new node.Sequential({ inputShape: [prep.nFeaturesOut], layers: [node.dense(4, { activation: 'tanh' }), node.dense(2)], seed: 3 });
    m.setPreprocessing(prep);
    const bytes = Array.from(node.serializeModel(m));
    const want = Array.from(m.predict([...rows, [50, 'rome', 1]]).data);
    m.dispose();
    const page = await minimalPage();
    const r = await page.evaluate(async ({ bytes, rows }) => {
      const wf = (window as PageWindow).wasmfit;
      await wf.init();
      const file = new Uint8Array(bytes);
      let before: string[] = [];
      try {
        wf.deserializeModel(file);
      } catch (e) {
        before = [(e as Error).name, (e as Error).message];
      }
      // the main entry does not carry the preprocessing code: importing wasmfit/preprocess registers it
      // (a Function: vitest rewrites a literal import() in test code)
      await (new Function('u', 'return import(u)') as (u: string) => Promise<unknown>)('/dist/browser/preprocess.mjs');
      const model = wf.deserializeModel(file);
      const p = Array.from(model.predict([...rows, [50, 'rome', 1]]).data as Float32Array);
      model.dispose();
      return { before, p };
    }, { bytes, rows });
    expect(r.before[0]).toBe('FormatError');
    expect(r.before[1]).toMatch(/this model file holds preprocessing .*needs wasmfit\/preprocess; add import 'wasmfit\/preprocess'/);
    r.p.forEach((v: number, i: number) => expect(v).toBeCloseTo(want[i]!, 6));
    await page.context().close();
  });

  it('falls back to the scalar module when WebAssembly.validate reports no SIMD', async () => {
    // Chromium cannot switch SIMD off, so the page's WebAssembly.validate answers "invalid" for
    // every module, as a host without SIMD128 answers for the SIMD build.
    const page = await minimalPage((p) => p.addInitScript(() => {
      WebAssembly.validate = () => false;
    }));
    const r = await page.evaluate(async () => {
      const wf = (window as PageWindow).wasmfit;
      const rt = await wf.init();
      let forced: string[] = [];
      try {
        await wf.init({ simd: true });
      } catch (e) {
        forced = [(e as Error).name, (e as Error).message];
      }
      const m = new wf.Sequential({ inputShape: [1], layers: [wf.dense(2)], seed: 0, runtime: rt });
      m.compile({ optimizer: wf.sgd({ lr: 0.5 }), loss: 'softmaxCrossEntropy' });
      const h = await m.fit([[-1], [1], [-2], [2]], [0, 1, 0, 1], { epochs: 30, batchSize: 4 });
      m.dispose();
      return { simd: rt.simd, supported: wf.simdSupported(), forced, first: h.history.loss[0], last: h.history.loss.at(-1) };
    });
    expect(r.supported).toBe(false);
    expect(r.simd).toBe(false);
    expect(r.forced[0]).toBe('RuntimeSupportError');
    expect(r.forced[1]).toMatch(/does not support WebAssembly SIMD128/);
    expect(r.last).toBeLessThan(r.first);
    await page.context().close();
  });
});

describe('the FMA build in Chromium (relaxed SIMD on by default)', () => {
  it('init() makes it from the embedded SIMD128 bytes, rounds a·b + c once, runs in workers; reproducible keeps SIMD128', async () => {
    const page = await minimalPage();
    const r = await page.evaluate(async () => {
      const wf = (window as PageWindow).wasmfit;
      const auto = await wf.init();
      // C = a0·b0 + a1·b1 with a0·b0 = -1, a1·b1 = 1 + 2^-11 + 2^-24: one rounding keeps 2^-11 + 2^-24
      // (the float64 value), mul then add rounds the product first and gives 2^-11
      const e = 1 + 2 ** -12;
      const dot = () => wf.matMul(wf.matrix(Float32Array.of(1, e), [1, 2]), wf.matrix(Float32Array.of(-1, e), [2, 1])).data[0];
      const fused = dot();
      const repro = await wf.init({ reproducible: true });
      const unfused = dot();
      const chunks = performance.getEntriesByType('resource').map((x) => /wasm-(fma|scalar)\.generated/.exec(x.name)?.[0]).filter(Boolean);
      await wf.init();
      const x = [[-1], [1], [-2], [2]];
      const spec = { inputShape: [1], layers: [wf.dense(2)], seed: 0, optimizer: wf.sgd({ lr: 0.5 }), loss: 'softmaxCrossEntropy' };
      const inWorker = async (init?: object) => {
        const w = await (window as PageWindow).fitInWorker(spec, x, [0, 1, 0, 1], { epochs: 5, batchSize: 4, ...(init ? { worker: { init } } : {}) }).result;
        return [w.status, w.build];
      };
      const worker = [await inWorker(), await inWorker({ reproducible: true }), await inWorker({ fma: false })];
      return { auto: [auto.build, auto.fma, auto.simd, wf.fmaSupported()], repro: repro.build, fused, unfused, chunks, worker };
    });
    expect(r.auto).toEqual(['fma', true, true, true]);
    expect(r.repro).toBe('simd');
    expect(r.fused).toBe(2 ** -11 + 2 ** -24);
    expect(r.unfused).toBe(2 ** -11);
    expect(r.chunks).toEqual([]); // made from the SIMD128 bytes in the entry: no module chunk fetched
    expect(r.worker).toEqual([['completed', 'fma'], ['completed', 'simd'], ['completed', 'simd']]);
    await page.context().close();
  });
});

describe('persistence in a real browser', () => {
  it('a model survives Blob and IndexedDB round trips (real IndexedDB, not a fake) and predicts identically', async () => {
    const page = await minimalPage();
    const r = await page.evaluate(async () => {
      const wf = (window as PageWindow).wasmfit;
      await wf.init();
      const m = new wf.Sequential({ inputShape: [2], layers: [wf.dense(8, { activation: 'tanh' }), wf.dropout(0.1), wf.dense(3)], seed: 5 });
      m.compile({ optimizer: wf.adam({ lr: 0.05 }), loss: 'softmaxCrossEntropy' });
      const x = [[0, 1], [1, 0], [1, 1], [-1, 0.5], [0.3, -1], [-0.7, -0.2]];
      await m.fit(x, [0, 1, 2, 0, 1, 2], { epochs: 20, batchSize: 3 });
      const bytes = wf.serializeModel(m, { metadata: { where: 'chromium' } });
      const viaBlob = await wf.blobToBytes(wf.bytesToBlob(bytes));
      await wf.saveToIndexedDB('digits-model', viaBlob);
      const back = await wf.loadFromIndexedDB('digits-model');
      const missing = await wf.loadFromIndexedDB('no-such-key');
      await wf.deleteFromIndexedDB('digits-model');
      const afterDelete = await wf.loadFromIndexedDB('digits-model');
      const m2 = wf.deserializeModel(back!);
      const p1 = Array.from(m.predict(x).data);
      const p2 = Array.from(m2.predict(x).data);
      let corrupt = '';
      try {
        const bad = back!.slice();
        bad[bad.length - 5]! ^= 0xff;
        wf.deserializeModel(bad);
      } catch (e) {
        corrupt = (e as Error).name;
      }
      return { same: bytes.length === back!.length && bytes.every((b: number, i: number) => b === back![i]), p1, p2, missing, afterDelete, meta: wf.readModelMetadata(back!), corrupt };
    });
    expect(r.same).toBe(true);
    expect(r.p2).toEqual(r.p1);
    expect(r.missing).toBeNull();
    expect(r.afterDelete).toBeNull();
    expect(r.meta).toEqual({ where: 'chromium' });
    expect(r.corrupt).toBe('FormatError');
    await page.context().close();
  });
});

describe('training in a Web Worker', () => {
  // retry: 1 — the timer check measures the machine too (2 shared cores); blocking code would fail both runs
  it('reaches >= 0.90 held-out accuracy on the digits while main-thread timers keep firing', { retry: 1 }, async () => {
    const page = await minimalPage();
    const r = await page.evaluate(async () => {
      const w = window as PageWindow;
      const wf = w.wasmfit;
      const data = w.digits.decodeDigits(await (await fetch('/data/digits.bin')).arrayBuffer());
      const { train, test } = w.digits.splitDigits(data, { seed: 0, trainSize: 4000, testSize: 1000 }, wf.Rng);
      const ticks: number[] = [];
      const timer = setInterval(() => ticks.push(performance.now()), 10);
      let since = NaN;
      let epochEvents = 0;
      const job = w.fitInWorker(
        { inputShape: [784], layers: [wf.dense(128, { activation: 'relu', kernelInitializer: 'heNormal' }), wf.dense(10)], seed: 1, optimizer: wf.adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' },
        train.x, train.y,
        { epochs: 5, batchSize: 32, seed: 2, validationData: [test.x, test.y] },
      );
      job.on('trainBegin', () => (since = performance.now()));
      job.on('epoch', () => epochEvents++);
      const res = await job.result;
      const until = performance.now();
      clearInterval(timer);
      return {
        ticks, since, until, epochEvents, status: res.status, simd: res.simd,
        valAccuracy: res.history.history.valAccuracy,
        weights: res.weights.map((t: { shape: number[]; data: Float32Array }) => ({ shape: t.shape, data: Array.from(t.data) })),
        trainIntact: train.x.length === 4000 * 784,
      };
    });
    const { wf } = await dist();
    const { test } = digitsMod.splitDigits(all, { seed: 0, trainSize: 4000, testSize: 1000 }, wf.Rng);
    const acc = mlpAccuracyF64(r.weights, test.x, test.y, 784);
    expect(r.status).toBe('completed');
    expect(r.simd).toBe(true);
    expect(r.epochEvents).toBe(5);
    expect(r.trainIntact).toBe(true); // default: copies are transferred, the caller keeps its data
    expect(acc).toBeGreaterThanOrEqual(0.9);
    // the library's own held-out accuracy agrees with the float64 forward pass (a few argmax ties apart)
    expect(Math.abs(r.valAccuracy.at(-1)! - acc)).toBeLessThanOrEqual(0.003);
    expect(r.since).toBeGreaterThan(0);
    expect(maxGap(r.ticks, r.since, r.until)).toBeLessThan(stallBound(r.since, r.until, r.epochEvents));
    await page.context().close();
  });

  it('same seed gives bit-identical weights in Node and in Chromium (thread and worker, SIMD and scalar)', async () => {
    const { wf, worker } = await dist();
    const scenario = await load<Scenario>('tests/browser/pages/scenario.js');
    const { train } = digitsMod.splitDigits(all, scenario.DATA, wf.Rng);
    const node = {
      simdThread: await scenario.onThread(wf, train.x, train.y, { simd: true }),
      simdWorker: await scenario.inWorker(wf, worker.fitInWorker, train.x, train.y, { simd: true }),
      scalarThread: await scenario.onThread(wf, train.x, train.y, { simd: false }),
      scalarWorker: await scenario.inWorker(wf, worker.fitInWorker, train.x, train.y, { simd: false }),
    };
    const page = await minimalPage();
    const browserHashes = await page.evaluate(async () => {
      const w = window as PageWindow;
      const s = w.scenario;
      const data = w.digits.decodeDigits(await (await fetch('/data/digits.bin')).arrayBuffer());
      const { train: t } = w.digits.splitDigits(data, s.DATA, w.wasmfit.Rng);
      return {
        simdThread: await s.onThread(w.wasmfit, t.x, t.y, { simd: true }),
        simdWorker: await s.inWorker(w.wasmfit, w.fitInWorker, t.x, t.y, { simd: true }),
        scalarThread: await s.onThread(w.wasmfit, t.x, t.y, { simd: false }),
        scalarWorker: await s.inWorker(w.wasmfit, w.fitInWorker, t.x, t.y, { simd: false }),
      };
    });
    for (const k of ['simdThread', 'simdWorker'] as const) {
      expect(node[k].simd).toBe(true);
      expect(browserHashes[k].simd).toBe(true);
    }
    for (const k of ['scalarThread', 'scalarWorker'] as const) {
      expect(node[k].simd).toBe(false);
      expect(browserHashes[k].simd).toBe(false);
    }
    const simd = new Set([node.simdThread.hash, node.simdWorker.hash, browserHashes.simdThread.hash, browserHashes.simdWorker.hash]);
    const scalar = new Set([node.scalarThread.hash, node.scalarWorker.hash, browserHashes.scalarThread.hash, browserHashes.scalarWorker.hash]);
    expect(simd.size).toBe(1);
    expect(scalar.size).toBe(1);
    expect([...simd][0]).toMatch(/^[0-9a-f]{64}$/);
    await page.context().close();
  });
});

describe('the playground', () => {
  let page: Page;
  beforeAll(async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1050 } });
    page = await ctx.newPage();
    await page.goto(`${server.url}/examples/playground/`);
    await page.waitForFunction(() => (window as PageWindow).playground?.phase === 'idle', null, { timeout: 15_000 });
  });
  afterAll(async () => {
    await page?.context().close();
  });

  /** Clicks Train and samples a 10 ms main-thread timer (with the charts' update counts) until training ends. */
  async function trainAndWatch() {
    await page.evaluate(() => {
      const w = window as PageWindow;
      w.__samples = [];
      w.__timer = setInterval(() => {
        const st = w.playground;
        w.__samples.push([performance.now(), st.phase, st.epochsSeen, Number(document.getElementById('chart-loss')!.dataset.updates)]);
      }, 10);
    });
    await page.click('#train');
    await page.waitForFunction(() => ['done', 'cancelled', 'error'].includes((window as PageWindow).playground.phase), null, { timeout: 60_000 });
    return page.evaluate(() => {
      const w = window as PageWindow;
      clearInterval(w.__timer);
      const st = w.playground;
      const samples = w.__samples as [number, string, number, number][];
      const end = samples.findIndex((s) => s[1] !== 'training' && s[0] > (st.trainingSince ?? Infinity));
      return {
        phase: st.phase as string,
        status: document.getElementById('status')!.textContent!,
        since: st.trainingSince as number,
        until: end >= 0 ? samples[end]![0] : performance.now(),
        ticks: samples.map((s) => s[0]),
        samples,
        config: st.config,
        history: st.result?.history,
        weights: st.result?.weights.map((t: { shape: number[]; data: Float32Array }) => ({ shape: t.shape, data: Array.from(t.data) })),
      };
    });
  }

  // retry: 1 — see the timer check above
  it('trains the digits in a worker to >= 0.90 held-out accuracy with live charts and a responsive page', { retry: 1 }, async () => {
    const r = await trainAndWatch();
    expect(r.phase, r.status).toBe('done');
    const epochs = r.config.epochs as number;
    expect(r.history.epoch).toHaveLength(epochs);
    const { wf } = await dist();
    const { test } = digitsMod.splitDigits(all, { seed: r.config.digitsSeed, trainSize: r.config.trainSize, testSize: r.config.heldOut }, wf.Rng);
    expect(mlpAccuracyF64(r.weights, test.x, test.y, 784)).toBeGreaterThanOrEqual(0.9);
    expect(maxGap(r.ticks, r.since, r.until)).toBeLessThan(stallBound(r.since, r.until, epochs));
    // charts redrew while training was still running (not only at the end)
    const during = r.samples.filter((s) => s[1] === 'training' && s[2] >= 1 && s[2] < epochs).map((s) => s[3]);
    expect(new Set(during).size).toBeGreaterThan(1);
    // the final charts hold one point per epoch for the validation curves
    const svg = await page.innerHTML('#chart-acc');
    const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1]!.trim().split(/\s+/).length);
    expect(lines).toContain(epochs);
    expect(Number(await page.getAttribute('#chart-lr', 'data-updates'))).toBeGreaterThan(epochs);
    // the held-out sample digits got predicted labels
    const captions = await page.$$eval('#digit-samples figcaption', (els) => els.map((e) => e.textContent));
    expect(captions.length).toBeGreaterThan(0);
    expect(captions.every((c) => /^[0-9]$/.test(c ?? ''))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-digits.png'), fullPage: true });
  });

  it('trains on 2-D points drawn by clicking, redrawing the decision boundary every epoch', async () => {
    await page.selectOption('#dataset', 'points');
    await page.click('#clear-btn');
    const box = (await page.locator('#canvas').boundingBox())!;
    // class A: a cluster on the left; class B: a cluster on the right (canvas coordinates in [-1, 1])
    const at = (x: number, y: number) => page.mouse.click(box.x + ((x + 1) / 2) * box.width, box.y + ((1 - y) / 2) * box.height);
    await page.click('.cls[data-class="0"]');
    for (let i = 0; i < 12; i++) await at(-0.6 + 0.1 * (i % 4), -0.3 + 0.2 * Math.floor(i / 4));
    await page.click('.cls[data-class="1"]');
    for (let i = 0; i < 12; i++) await at(0.3 + 0.1 * (i % 4), -0.3 + 0.2 * Math.floor(i / 4));
    expect(await page.textContent('#point-count')).toBe('24');
    await page.fill('#epochs', '25');
    const before = await page.getAttribute('#canvas', 'data-boundary-draws');
    const r = await trainAndWatch();
    expect(r.phase, r.status).toBe('done');
    expect(r.history.epoch).toHaveLength(25);
    expect(Number(await page.getAttribute('#canvas', 'data-boundary-draws')) - Number(before)).toBe(25);
    // the boundary separates the clusters: blue-ish (class A) on the left, orange-ish (class B) on the right
    const px = await page.evaluate(() => {
      const cv = document.getElementById('canvas') as HTMLCanvasElement;
      const ctx = cv.getContext('2d')!;
      const at = (x: number, y: number) => Array.from(ctx.getImageData(((x + 1) / 2) * cv.width, ((1 - y) / 2) * cv.height, 1, 1).data);
      return { left: at(-0.9, 0.8), right: at(0.9, 0.8) };
    });
    expect(px.left[2]!).toBeGreaterThan(px.left[0]!); // more blue than red
    expect(px.right[0]!).toBeGreaterThan(px.right[2]!); // more red than blue (orange)
    expect(r.history.history.valAccuracy.at(-1)).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-points.png'), fullPage: true });
  });
});
