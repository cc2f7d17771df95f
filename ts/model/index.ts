export { Sequential } from './sequential.js';
export type { SequentialOptions, CompileOptions, WeightTensor } from './sequential.js';
export type { FitOptions } from './fit.js';
export type { BatchSource, Dataset, DatasetBatch, FitDatasetOptions, TrainOnBatchOptions } from './dataset.js';
export type { Callback, CallbackModel, History, Logs } from './callbacks.js';
export { topKAccuracy } from './metrics.js';
export type { MetricName, MetricConfig } from './metrics.js';
