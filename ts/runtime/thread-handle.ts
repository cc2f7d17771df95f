/**
 * The compute-worker handle both thread hosts return (thread-host.ts for Node, thread-host.browser.ts
 * for browsers): declared once here. @internal
 */

/** A started compute worker: post its start message, hear 'ready' or an error, terminate. */
export interface ThreadHandle {
  post(msg: unknown): void;
  /** The worker's one message ('ready' or an error); the listener goes once it came (a live 'message' listener keeps Node's event loop alive). */
  onceMessage(f: (msg: unknown) => void): void;
  onError(f: (e: unknown) => void): void;
  terminate(): void;
  /** Settles when the worker has exited (browsers: when terminated; they report no exit). */
  readonly exited: Promise<void>;
}
