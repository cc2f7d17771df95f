/**
 * What the thread pool needs from its host, Node version: `worker_threads` workers, which may
 * block in `Atomics.wait` (so may Node's main thread). The browser build replaces this file with
 * thread-host.browser.ts. @internal
 */
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ThreadHandle } from './thread-handle.js';

export type { ThreadHandle };

/** Why this host cannot run threads (null: it can). */
export function threadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return 'this Node has no SharedArrayBuffer';
  return null;
}

/** The cores this process may use. */
export function hostCores(): number {
  return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
}

/** Starts a worker running `source` (a script body that receives its start message through `onStart`). */
export function spawnThread(source: string): ThreadHandle {
  // the eval'd script runs as CommonJS, or as a module under --input-type=module: a dynamic import
  // works in both (the start message waits in the port until the listener is attached)
  const prelude = "let post;\nimport('node:worker_threads').then(({ parentPort }) => {\n  post = (m) => parentPort.postMessage(m);\n  parentPort.once('message', (d) => start(d));\n});\n";
  const w = new Worker(prelude + source, { eval: true });
  // an idle pool never keeps the process alive: the workers block in Atomics.wait between steps
  w.unref();
  const exited = new Promise<void>((r) => w.once('exit', () => r()));
  return {
    exited,
    post: (m) => w.postMessage(m),
    onceMessage: (f) => w.once('message', f),
    onError: (f) => w.on('error', f),
    terminate: () => void w.terminate(),
  };
}
