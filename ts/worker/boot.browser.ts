/**
 * The worker script's end of the channel, browser version: only Web Workers (see thread.ts); no
 * `node:` import. @internal
 */
export function parentChannel(): null {
  return null;
}
