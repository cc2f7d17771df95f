/**
 * Node builds register the preprocessing reader with the main entry at once, so `deserializeModel`
 * and `loadModel` read model files that hold preprocessing without `import 'wasmfit/preprocess'`.
 * Browser builds use ./autoload.browser.ts (nothing): there the code is loaded only by programs
 * that import wasmfit/preprocess, to keep the main entry small. @internal
 */
import { setPreprocessingReader } from './hook.js';
import { READER } from './state.js';

setPreprocessingReader(READER);
