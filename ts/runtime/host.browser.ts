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
