/**
 * Starting the worker of `fitInWorker`, browser version (dist/browser/): a module Web Worker. The
 * default worker is created with the literal
 * `new Worker(new URL('./worker-thread.mjs', import.meta.url), { type: 'module' })`, which Vite
 * and webpack recognize and emit as a worker entry (worker-thread.mjs is one self-contained file);
 * esbuild leaves it alone, so worker-thread.mjs must sit next to the bundle (README, Bundlers).
 * When this module was loaded from another origin (a CDN), browsers refuse a worker on that
 * origin: the worker then starts from a same-origin `blob:` stub that imports the script. No
 * `node:` import here. @internal
 */
import { RuntimeSupportError } from '../errors/index.js';
import type { Port } from './spawn.js';

export type { Port } from './spawn.js';

declare const __webpack_require__: unknown;

/** A URL short enough for an error message (no kilobytes of `data:`). */
export function shortUrl(url: URL | string): string {
  const s = String(url);
  return s.length > 100 ? `${s.slice(0, 60)}…${s.slice(-20)}` : s;
}

const pageOrigin = (): string | null => {
  const loc = (globalThis as { location?: { origin?: string } }).location;
  return typeof loc?.origin === 'string' ? loc.origin : null;
};

/** Whether `href` is an http(s) URL on another origin than the page's. */
function crossOrigin(href: string): boolean {
  if (!/^https?:/i.test(href)) return false;
  const origin = pageOrigin();
  try {
    return origin !== null && new URL(href).origin !== origin;
  } catch {
    return false;
  }
}

/** A module worker on a same-origin `blob:` URL whose only line imports `href` (which needs CORS). */
function stubWorker(href: string): { worker: Worker; revoke: () => void } {
  const blob = new Blob([`import ${JSON.stringify(href)};\n`], { type: 'text/javascript' });
  const blobUrl = URL.createObjectURL(blob);
  return { worker: new Worker(blobUrl, { type: 'module' }), revoke: () => URL.revokeObjectURL(blobUrl) };
}

function startFailure(where: string, e: unknown): RuntimeSupportError {
  return new RuntimeSupportError(
    `fitInWorker: cannot start a module worker from ${where} (${e instanceof Error ? e.message : String(e)}). Serve wasmfit's worker-thread.mjs next to the bundle (README, Bundlers), or pass worker.url.`,
  );
}

/** Starts a module worker on `url` (default: wasmfit's worker-thread.mjs) and wires its events. */
export async function spawnWorker(url: URL | null, onMessage: (m: unknown) => void, onFail: (e: Error) => void): Promise<Port> {
  if (typeof Worker !== 'function') throw new RuntimeSupportError('fitInWorker: this host has no Web Workers (and this is the browser build of wasmfit, without node:worker_threads).');
  let w: Worker;
  let revoke = (): void => undefined;
  let where: string;
  if (url === null) {
    // This module's URL, to tell whether it came from another origin (a CDN). webpack bundles
    // are same-origin and webpack would write its build path (file://…) for import.meta.url here:
    // it evaluates `typeof __webpack_require__` to 'function' at build time, so the minifier drops
    // the import.meta.url branch from webpack bundles.
    const here = typeof __webpack_require__ === 'function' ? '' : String(import.meta.url);
    where = 'worker-thread.mjs';
    try {
      if (crossOrigin(here)) {
        where = shortUrl(new URL('./worker-thread.mjs', here));
        ({ worker: w, revoke } = stubWorker(new URL('./worker-thread.mjs', here).href));
      } else {
        w = new Worker(new URL('./worker-thread.mjs', import.meta.url), { type: 'module' });
      }
    } catch (e) {
      throw startFailure(where, e);
    }
  } else {
    where = shortUrl(url);
    try {
      if (crossOrigin(url.href)) ({ worker: w, revoke } = stubWorker(url.href));
      else w = new Worker(url, { type: 'module' });
    } catch (e) {
      throw startFailure(where, e);
    }
  }
  w.addEventListener('message', (e: MessageEvent) => onMessage(e.data as unknown));
  w.addEventListener('error', (e: Event) => {
    e.preventDefault?.();
    const detail = (e as ErrorEvent).message || 'no details: the script was not found, not served as JavaScript, or imports what it cannot load';
    onFail(new RuntimeSupportError(`fitInWorker: the worker script ${where} failed to load or run (${detail}). Serve wasmfit's worker-thread.mjs next to the bundle (README, Bundlers), or pass worker.url.`));
  });
  w.addEventListener('messageerror', () => onFail(new RuntimeSupportError('fitInWorker: a message from the worker could not be deserialized.')));
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    terminate: () => {
      w.terminate();
      revoke();
    },
  };
}
