/**
 * `wasmfit/safetensors`: the safetensors format (Hugging Face's tensor container) and PyTorch
 * interop — read and write files, export a model's weights under PyTorch's module names and
 * layouts (`modelToSafetensors`, `torchKeys`), and load a PyTorch state dict into a model
 * (`loadSafetensorsWeights`). Its own entry, like `wasmfit/onnx`, so that the browser entry does
 * not carry it; Node's file helpers (`saveSafetensors`, `loadSafetensors` in `wasmfit/node`) use it.
 */
export { readSafetensors, writeSafetensors, modelToSafetensors, loadSafetensorsWeights, torchKeys, SAFETENSORS_DTYPES, SAFETENSORS_MAX_HEADER } from './io/safetensors.js';
export type { SafetensorsDtype, SafetensorsTensor, SafetensorsFile, TorchKey, ModelToSafetensorsOptions, LoadSafetensorsOptions } from './io/safetensors.js';
