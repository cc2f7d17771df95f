export { init, getRuntime, simdSupported, fmaSupported, Runtime } from './loader.js';
export type { InitOptions, BuildName } from './loader.js';
