/**
 * What the loader needs from its host, Node version (dist/, chosen by the `node` export
 * condition). The browser build replaces this file with host.browser.ts, which has no `node:`
 * import. @internal
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

/** The bytes behind a `file:` URL (`init({ wasm: new URL('file:…') })`). */
export async function readFileUrl(url: URL): Promise<Uint8Array> {
  return readFile(url);
}

/** Whether {@link gunzip} works here (always, with node:zlib). */
export function canGunzip(): boolean {
  return true;
}

/** Inflates gzip data (the embedded SIMD module). */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  return gunzipSync(bytes);
}
