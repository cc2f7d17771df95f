// Shared set-up of the browser tests: Debian's Chromium driven by playwright-core, pages served by
// scripts/playground.mjs on 127.0.0.1 with a random port, and float64 references for checks.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

export const CHROMIUM = process.env.WASMFIT_CHROMIUM ?? '/usr/bin/chromium';

export interface Server {
  url: string;
  close(): Promise<void>;
}

interface PlaygroundModule {
  startServer(o?: { host?: string; port?: number }): Promise<Server>;
  encodeDigits(): Uint8Array;
}

export async function playgroundModule(): Promise<PlaygroundModule> {
  return (await import(pathToFileURL(join(process.cwd(), 'scripts', 'playground.mjs')).href)) as PlaygroundModule;
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    // `npm test` installs it beforehand (scripts/setup.mjs --browser); `npx vitest run` lands here
    const { ensureChromium } = (await import(pathToFileURL(join(process.cwd(), 'scripts', 'chromium.mjs')).href)) as { ensureChromium(): string };
    ensureChromium();
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The library's dist modules, typed by their sources (the tests use the same build as the pages). */
export async function dist(): Promise<{ wf: typeof import('../../ts/index.js'); worker: typeof import('../../ts/worker/index.js') }> {
  const wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as typeof import('../../ts/index.js');
  const worker = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as typeof import('../../ts/worker/index.js');
  return { wf, worker };
}

/**
 * Held-out accuracy of a ReLU MLP (dense layers, ReLU between them, linear output) computed in
 * float64 from the raw weights: an independent check of the accuracy the library reports.
 */
export function mlpAccuracyF64(weights: { shape: number[]; data: ArrayLike<number> }[], x: Float32Array, y: Int32Array, inputs: number): number {
  const layers: { k: ArrayLike<number>; b: ArrayLike<number>; nIn: number; nOut: number }[] = [];
  for (let i = 0; i < weights.length; i += 2) {
    const k = weights[i]!;
    const b = weights[i + 1]!;
    layers.push({ k: k.data, b: b.data, nIn: k.shape[0]!, nOut: k.shape[1]! });
  }
  let correct = 0;
  const rows = y.length;
  for (let r = 0; r < rows; r++) {
    let a = Array.from(x.subarray(r * inputs, (r + 1) * inputs));
    layers.forEach((l, li) => {
      const out = new Array<number>(l.nOut).fill(0);
      for (let j = 0; j < l.nOut; j++) {
        let s = l.b[j]!;
        for (let i = 0; i < l.nIn; i++) s += a[i]! * l.k[i * l.nOut + j]!;
        out[j] = li < layers.length - 1 ? Math.max(0, s) : s;
      }
      a = out;
    });
    let best = 0;
    for (let j = 1; j < a.length; j++) if (a[j]! > a[best]!) best = j;
    if (best === y[r]) correct++;
  }
  return correct / rows;
}

/**
 * The longest main-thread stall a responsive page may show while training: 100 ms, or on a
 * machine so loaded that an epoch takes long, half an epoch — code that blocks for a batch loop
 * stalls for a whole epoch, so the bound still tells blocking from a busy host (2 shared cores).
 */
export function stallBound(since: number, until: number, epochs: number): number {
  return Math.max(100, (until - since) / epochs / 2);
}

/** Largest gap between consecutive timer ticks within [since, until] (ms, performance.now()), ends included. */
export function maxGap(ticks: number[], since: number, until: number): number {
  const inside = [since, ...ticks.filter((t) => t > since && t < until), until];
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i]! - inside[i - 1]!);
  return gap;
}
