export { Sequential } from './sequential.js';
export type { SequentialOptions, CompileOptions, WeightTensor } from './sequential.js';
export type { FitOptions } from './fit.js';
export type { Callback, CallbackModel, History, Logs } from './callbacks.js';
export { topKAccuracy, METRIC_ALIASES } from './metrics.js';
export type { MetricName, MetricAlias, MetricConfig } from './metrics.js';
export { LOSS_ALIASES } from './compile.js';
export type { LossAlias } from './compile.js';
