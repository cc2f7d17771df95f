/**
 * Starting the worker of `fitInWorker`, Node version (dist/, chosen by the `node` export
 * condition): a `worker_threads` Worker running dist/worker-thread.mjs. The browser build replaces
 * this file with spawn.browser.ts. @internal
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RuntimeSupportError } from '../errors/index.js';

/** The main thread's end of a worker. */
export interface Port {
  post(msg: unknown, transfer?: ArrayBuffer[]): void;
  terminate(): void;
}

/** A URL short enough for an error message (no kilobytes of `data:`). */
export function shortUrl(url: URL | string): string {
  const s = String(url);
  return s.length > 100 ? `${s.slice(0, 60)}…${s.slice(-20)}` : s;
}

/**
 * Node workers inherit the parent's `execArgv`; `node --input-type=module -e '…'` makes every
 * worker fail ("--input-type can only be used with string input"). Drop the flags that only
 * apply to the parent's own entry point; keep the rest (e.g. --experimental-*, --max-old-space-size).
 */
function workerExecArgv(): { execArgv?: string[] } {
  const argv = (globalThis as { process?: { execArgv?: string[] } }).process?.execArgv;
  if (!Array.isArray(argv) || !argv.some((a) => a === '--input-type' || a.startsWith('--input-type='))) return {};
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--input-type=')) continue;
    if (a === '--input-type' || a === '-e' || a === '--eval' || a === '-p' || a === '--print') {
      i++; // and its value
      continue;
    }
    if (a.startsWith('--eval=') || a.startsWith('--print=')) continue;
    out.push(a);
  }
  return { execArgv: out };
}

/** dist/worker-thread.mjs next to this module; a typed error when a bundler left it behind. */
function defaultUrl(): URL {
  let url: URL;
  try {
    url = new URL('./worker-thread.mjs', import.meta.url);
  } catch {
    throw new RuntimeSupportError(
      'fitInWorker: cannot locate worker-thread.mjs (this module has no import.meta.url; a CommonJS bundle?). Bundle as ESM and copy node_modules/wasmfit/dist/worker-thread.mjs next to the bundle, or pass worker.url.',
    );
  }
  if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
    throw new RuntimeSupportError(
      `fitInWorker: the worker script ${shortUrl(url)} does not exist. A bundled app needs it next to the bundle: copy node_modules/wasmfit/dist/worker-thread.mjs there, or pass worker.url.`,
    );
  }
  return url;
}

/** Starts a worker on `url` (default: wasmfit's worker-thread.mjs) and wires its events. */
export async function spawnWorker(url: URL | null, onMessage: (m: unknown) => void, onFail: (e: Error) => void): Promise<Port> {
  const src = url ?? defaultUrl();
  let w: Worker;
  try {
    w = new Worker(src, workerExecArgv());
  } catch (e) {
    throw new RuntimeSupportError(`fitInWorker: cannot start a worker from ${shortUrl(src)} (${(e as Error).message}). Pass worker.url as a file: URL of wasmfit's worker-thread.mjs.`);
  }
  w.on('message', (m: unknown) => onMessage(m));
  w.on('messageerror', () => onFail(new RuntimeSupportError('fitInWorker: a message from the worker could not be deserialized.')));
  w.on('error', (e: Error) => onFail(new RuntimeSupportError(`fitInWorker: the worker ${shortUrl(src)} failed: ${e.message}`)));
  w.on('exit', (code) => onFail(new RuntimeSupportError(`fitInWorker: the worker exited (code ${code}) before training finished.`)));
  return { post: (m, t) => w.postMessage(m, t ?? []), terminate: () => void w.terminate() };
}
