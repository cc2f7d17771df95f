// The playground's CNN mode in Chromium: trains the digits CNN in a worker, draws the first
// convolution's filters, and predicts a digit drawn with pointer events. The predictions and the
// accuracy are checked against a float64 forward pass written here from the weights the page holds.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, dist, launch, playgroundModule, type Server } from './harness.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PageWindow = any;
interface Tensor {
  shape: number[];
  data: number[];
}
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

/** Valid 2-D convolution + bias + ReLU, channels-last, kernel [kh, kw, c, f] (Keras), in float64. */
function convRelu(x: Float64Array, h: number, w: number, c: number, k: Tensor, b: Tensor): { y: Float64Array; h: number; w: number; c: number } {
  const [kh, kw, , f] = k.shape as [number, number, number, number];
  const oh = h - kh + 1;
  const ow = w - kw + 1;
  const y = new Float64Array(oh * ow * f);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      for (let o = 0; o < f; o++) {
        let s = b.data[o]!;
        for (let a = 0; a < kh; a++) for (let d = 0; d < kw; d++) for (let ch = 0; ch < c; ch++) s += x[((i + a) * w + j + d) * c + ch]! * k.data[((a * kw + d) * c + ch) * f + o]!;
        y[(i * ow + j) * f + o] = Math.max(0, s);
      }
    }
  }
  return { y, h: oh, w: ow, c: f };
}

/** 2×2 max pooling, stride 2 (floor), channels-last. */
function pool(t: { y: Float64Array; h: number; w: number; c: number }): { y: Float64Array; h: number; w: number; c: number } {
  const h = Math.floor(t.h / 2);
  const w = Math.floor(t.w / 2);
  const y = new Float64Array(h * w * t.c);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let ch = 0; ch < t.c; ch++) {
        let m = -Infinity;
        for (let a = 0; a < 2; a++) for (let d = 0; d < 2; d++) m = Math.max(m, t.y[((2 * i + a) * t.w + 2 * j + d) * t.c + ch]!);
        y[(i * w + j) * t.c + ch] = m;
      }
    }
  }
  return { y, h, w, c: t.c };
}

/** The playground CNN's class probabilities for one 28×28 image, in float64. */
function cnnF64(wts: Tensor[], img: ArrayLike<number>): number[] {
  const [k1, b1, k2, b2, kd, bd] = wts as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const t = pool(convRelu(pool(convRelu(Float64Array.from(img), 28, 28, 1, k1, b1)).y, 12, 12, 8, k2, b2));
  const flat = t.y; // channels-last flatten, as Keras
  const n = kd.shape[1]!;
  const z = Array.from({ length: n }, (_, o) => flat.reduce((s, v, i) => s + v * kd.data[i * n + o]!, bd.data[o]!));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

let browser: Browser;
let server: Server;
let page: Page;

beforeAll(async () => {
  const pg = await playgroundModule();
  server = await pg.startServer({ host: '127.0.0.1', port: 0 });
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1400 } });
  page = await ctx.newPage();
  await page.goto(`${server.url}/examples/playground/`);
  await page.waitForFunction(() => (window as PageWindow).playground?.phase === 'idle', null, { timeout: 15_000 });
});

afterAll(async () => {
  await page?.context().close();
  await browser?.close();
  await server?.close();
});

/** Draws a polyline on #draw with dispatched pointer events (canvas pixel coordinates), one stroke. */
async function stroke(points: [number, number][]): Promise<void> {
  await page.evaluate((pts) => {
    const cv = document.getElementById('draw') as HTMLCanvasElement;
    const r = cv.getBoundingClientRect();
    const at = (type: string, [x, y]: [number, number]) =>
      cv.dispatchEvent(new PointerEvent(type, { pointerId: 7, pointerType: 'mouse', isPrimary: true, bubbles: true, cancelable: true, buttons: type === 'pointerup' ? 0 : 1, clientX: r.left + (x / cv.width) * r.width, clientY: r.top + (y / cv.height) * r.height }));
    at('pointerdown', pts[0]!);
    for (const p of pts.slice(1)) at('pointermove', p);
    at('pointerup', pts.at(-1)!);
  }, points);
}

describe('the playground CNN mode', () => {
  it('trains the CNN in a worker, draws its 8 first-layer filters from the weights, and predicts a drawn "1"', async () => {
    await page.selectOption('#model-kind', 'cnn');
    expect(await page.isVisible('#layers')).toBe(false); // the MLP's hidden-layer field does not apply
    await page.selectOption('#train-size', '4000');
    await page.fill('#epochs', '2');
    // a stroke before training: no model yet, so no prediction
    await stroke([[140, 60], [140, 220]]);
    expect(await page.$$eval('#draw-probs li', (els) => els.length)).toBe(0);
    await page.click('#draw-clear');

    await page.click('#train');
    await page.waitForFunction(() => ['done', 'cancelled', 'error'].includes((window as PageWindow).playground.phase), null, { timeout: 110_000 });
    const r = await page.evaluate(() => {
      const st = (window as PageWindow).playground;
      const tiles = Array.from(document.querySelectorAll<HTMLCanvasElement>('#filters canvas')).map((cv) => Array.from(cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data));
      return {
        phase: st.phase as string,
        status: document.getElementById('status')!.textContent!,
        config: st.config,
        valAccuracy: st.result.history.history.valAccuracy as number[],
        epochs: st.result.history.epoch.length as number,
        weights: st.result.weights.map((t: { shape: number[]; data: Float32Array }) => ({ shape: t.shape, data: Array.from(t.data) })) as Tensor[],
        tiles: tiles as number[][],
        filterUpdates: Number(document.getElementById('filters')!.dataset.updates),
      };
    });
    expect(r.phase, r.status).toBe('done');
    expect(r.config.model).toBe('cnn');
    expect(r.weights.map((w) => w.shape)).toEqual([[5, 5, 1, 8], [8], [5, 5, 8, 16], [16], [256, 10], [10]]);

    // the held-out accuracy the page reports agrees with a float64 forward pass of the final weights
    const { wf } = await dist();
    const digits = (await import(pathToFileURL(join(process.cwd(), 'examples/playground/digits.js')).href)) as DigitsModule;
    const bytes = (await playgroundModule()).encodeDigits();
    const all = digits.decodeDigits(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const { test } = digits.splitDigits(all, { seed: r.config.digitsSeed, trainSize: r.config.trainSize, testSize: r.config.heldOut }, wf.Rng);
    let correct = 0;
    for (let i = 0; i < test.rows; i++) {
      const p = cnnF64(r.weights, test.x.subarray(i * 784, (i + 1) * 784));
      if (p.indexOf(Math.max(...p)) === test.y[i]) correct++;
    }
    const acc = correct / test.rows;
    console.log(`playground CNN: held-out accuracy ${acc} (float64 forward), ${r.valAccuracy.at(-1)} (reported)`);
    expect(acc).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(r.valAccuracy.at(-1)! - acc)).toBeLessThanOrEqual(0.003);

    // one tile per filter, updated every epoch and at the end, each with varying pixels whose colors
    // follow the weights: the largest |w| of a filter is full red (w > 0) or full blue (w < 0)
    expect(r.filterUpdates).toBe(r.epochs + 1);
    expect(r.tiles).toHaveLength(8);
    const k = r.weights[0]!;
    r.tiles.forEach((rgba, f) => {
      expect(rgba).toHaveLength(5 * 5 * 4);
      const red = rgba.filter((_, i) => i % 4 === 0);
      const mean = red.reduce((a, b) => a + b, 0) / red.length;
      expect(red.reduce((a, b) => a + (b - mean) ** 2, 0) / red.length).toBeGreaterThan(0);
      const w = Array.from({ length: 25 }, (_, p) => k.data[p * 8 + f]!);
      const big = w.reduce((bi, v, i) => (Math.abs(v) > Math.abs(w[bi]!) ? i : bi), 0);
      expect(rgba.slice(big * 4, big * 4 + 3)).toEqual(w[big]! > 0 ? [178, 24, 43] : [33, 102, 172]);
      const zeroish = w.reduce((bi, v, i) => (Math.abs(v) < Math.abs(w[bi]!) ? i : bi), 0);
      expect(rgba[zeroish * 4 + 1]!).toBeGreaterThan(rgba[big * 4 + 1]!); // the smallest |w| is paler
    });

    // a vertical stroke: a "1", scaled to 20 rows and centered; probabilities sum to 1 and match float64
    await stroke(Array.from({ length: 17 }, (_, i) => [140, 50 + 11 * i] as [number, number]));
    const d = await page.evaluate(() => {
      const st = (window as PageWindow).playground;
      return {
        drawn: Array.from(st.drawn as Float32Array),
        probs: Array.from(document.querySelectorAll<HTMLElement>('#draw-probs li')).map((li) => Number(li.dataset.p)),
        best: document.querySelector('#draw-probs li.best')?.firstChild?.textContent,
        strokes: document.getElementById('draw')!.dataset.strokes,
      };
    });
    expect(d.strokes).toBe('1'); // Clear reset the count
    const inked = d.drawn.map((v, i) => [v, Math.floor(i / 28), i % 28] as const).filter(([v]) => v > 0);
    const rows = inked.map(([, rr]) => rr);
    expect(Math.max(...rows) - Math.min(...rows) + 1).toBe(20); // the longer side of the ink box → 20
    const cols = inked.map(([, , c]) => c);
    expect(Math.max(...cols) - Math.min(...cols) + 1).toBeLessThanOrEqual(4); // a thin bar
    expect(d.probs).toHaveLength(10);
    expect(Math.abs(d.probs.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    const want = cnnF64(r.weights, d.drawn);
    d.probs.forEach((p, i) => expect(Math.abs(p - want[i]!)).toBeLessThan(1e-4));
    expect(d.best).toBe('1');
    await page.screenshot({ path: join(ARTIFACTS, 'playground-cnn.png'), fullPage: true });

    // Clear empties the drawing and the prediction
    await page.click('#draw-clear');
    const cleared = await page.evaluate(() => ({
      n: document.querySelectorAll('#draw-probs li').length,
      drawn: (window as PageWindow).playground.drawn,
      ink: Array.from((document.getElementById('draw') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 280, 280).data).some((v) => v !== 255),
    }));
    expect(cleared).toEqual({ n: 0, drawn: null, ink: false });
  });
});
