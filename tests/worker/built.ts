// The built bundle's main and worker entries (dist/wasmfit.mjs, dist/worker.mjs), loaded once per
// test file, for tests that train a spec in fitInWorker and compare it with the in-process run.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Lib = typeof import('../../ts/index.js');
export type WorkerLib = typeof import('../../ts/worker/index.js');

/** Imports both built entries and initializes the main one's runtime. */
export async function loadBuilt(): Promise<{ wf: Lib; W: WorkerLib }> {
  const wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as Lib;
  const W = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as WorkerLib;
  await wf.init();
  return { wf, W };
}

/** Each tensor's float32 bits, for bit-for-bit comparisons. */
export const bits = (ws: { data: Float32Array }[]): number[][] => ws.map((w) => Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)));
