/**
 * The worker script's end of the channel, Node version: `worker_threads`' parentPort. The browser
 * build replaces this file with boot.browser.ts. @internal
 */
import { parentPort } from 'node:worker_threads';

/** The channel to the thread that started this worker (null on the main thread). */
export function parentChannel(): { post(msg: unknown, transfer?: ArrayBuffer[]): void; listen(fn: (msg: unknown) => void): void } | null {
  const port = parentPort;
  if (!port) return null;
  return { post: (m, t) => port.postMessage(m, t ?? []), listen: (fn) => void port.on('message', fn) };
}
