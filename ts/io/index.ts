/**
 * Persistence: model files, training checkpoints and browser storage helpers. Node file helpers
 * live in `wasmfit/node`; safetensors/PyTorch interop in `wasmfit/safetensors`; ONNX export in
 * `wasmfit/onnx`.
 */
export { serializeModel, deserializeModel, readModelMetadata, MAX_METADATA_BYTES } from './model.js';
export type { DeserializeOptions, SerializeModelOptions, ModelMetadata, JsonValue } from './model.js';
export { FORMAT_VERSION as FILE_FORMAT_VERSION } from './container.js';
export { serializeCheckpoint, deserializeCheckpoint, checkpointCallback } from './checkpoint.js';
export type { Checkpoint, CheckpointCallbackOptions } from './checkpoint.js';
export type { FitResumeState } from '../model/resume.js';
export { bytesToBlob, blobToBytes, saveToIndexedDB, loadFromIndexedDB, deleteFromIndexedDB } from './browser.js';
export type { IndexedDBOptions } from './browser.js';
