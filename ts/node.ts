/**
 * Node-only helpers (`import { loadDigits } from 'wasmfit/node'`): kept out of the main entry so
 * browser bundles never see `node:` imports.
 * @packageDocumentation
 */
export { loadDigits } from './data/mnist.js';
export type { DigitsSplit, LoadDigitsOptions } from './data/mnist.js';
export { saveModel, loadModel, saveCheckpoint, loadCheckpoint, modelCheckpoint, saveSafetensors, loadSafetensors, writeFileAtomic } from './io/node.js';
export type { ModelCheckpointOptions } from './io/node.js';
