/**
 * What the loader needs from its host, browser version (dist/browser/, every environment without
 * the `node` export condition): no `node:` import. @internal
 */
import { RuntimeSupportError } from '../errors/index.js';

/** `file:` URLs cannot be read here: only the Node build reads files. */
export async function readFileUrl(url: URL): Promise<Uint8Array> {
  throw new RuntimeSupportError(
    `init: cannot read ${url.href.slice(0, 120)} here: this is wasmfit's browser build, which reads no files. Pass the module bytes, an http(s) URL, or a WebAssembly.Module.`,
  );
}

/** Whether {@link gunzip} works here: DecompressionStream (Chrome 80, Safari 16.4, Firefox 113, Deno, Node 18). */
export function canGunzip(): boolean {
  return typeof DecompressionStream === 'function' && typeof Response === 'function' && typeof Blob === 'function';
}

/** Inflates gzip data (the embedded SIMD module) with the host's DecompressionStream. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
