/**
 * What the thread pool needs from its host, browser version: Web Workers from a Blob URL, in
 * cross-origin isolated pages only (SharedArrayBuffer), and only where this thread may block in
 * `Atomics.wait` (a Worker, not a window's main thread). @internal
 */

import type { ThreadHandle } from './thread-handle.js';

export type { ThreadHandle };

/** Why this host cannot run threads (null: it can). */
export function threadsUnavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof g.Worker !== 'function') return 'this context cannot start Workers';
  try {
    // throws on a window's main thread, which must not block: run wasmfit in a Worker there
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return "this thread may not block in Atomics.wait (a page's main thread): run the training in a Worker (e.g. fitInWorker) to use threads";
  }
  return null;
}

/** The cores the browser reports. */
export function hostCores(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** Starts a worker running `source` (a script body that receives its start message through `onStart`). */
export function spawnThread(source: string): ThreadHandle {
  const url = URL.createObjectURL(new Blob([`const post = (m) => postMessage(m);\nonmessage = (e) => { onmessage = null; start(e.data); };\n${source}`], { type: 'text/javascript' }));
  const w = new Worker(url);
  // the URL is revoked once the script runs (its first message), not before it was fetched
  w.addEventListener('message', () => URL.revokeObjectURL(url), { once: true });
  let exit = (): void => undefined;
  const exited = new Promise<void>((r) => (exit = r));
  return {
    exited,
    post: (m) => w.postMessage(m),
    onceMessage: (f) => w.addEventListener('message', (e) => f((e as MessageEvent).data), { once: true }),
    onError: (f) => w.addEventListener('error', (e) => f((e as ErrorEvent).message ?? e)),
    terminate: () => {
      w.terminate();
      exit();
    },
  };
}
