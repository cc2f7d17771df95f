/**
 * wasmfit — fast neural-network training in Node.js and browsers on a Rust core compiled to
 * WebAssembly SIMD128.
 *
 * Rarely used parts have their own entries, so an app that does not use them does not load them:
 * `wasmfit/tuning` (random search), `wasmfit/ensemble` (bagging, boosting, snapshots),
 * `wasmfit/plot` (SVG charts of schedules and series), `wasmfit/newton` (Newton, Newton-CG, BFGS),
 * `wasmfit/onnx`, `wasmfit/worker`,
 * `wasmfit/node`.
 * @packageDocumentation
 */
export * from './errors/index.js';
export * from './runtime/index.js';
export * from './layers/index.js';
export * from './optimizers/index.js';
export * from './model/index.js';
export * from './callbacks/index.js';
export { matrix } from './data/tensor.js';
export type { Matrix, Features, Labels } from './data/tensor.js';
export { Rng } from './data/rng.js';
export * from './schedules/index.js';
export * from './regularizers/index.js';
export * from './io/index.js';
// Node: model files with preprocessing are read without importing wasmfit/preprocess (browser: no-op)
import './preprocess/autoload.js';
