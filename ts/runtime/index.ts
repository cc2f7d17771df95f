export { init, getRuntime, simdSupported, Runtime } from './loader.js';
export type { InitOptions } from './loader.js';
