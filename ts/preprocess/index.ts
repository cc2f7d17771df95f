/**
 * `wasmfit/preprocess`: preprocessing with scikit-learn's semantics — StandardScaler,
 * MinMaxScaler, SimpleImputer, OneHotEncoder, ColumnTransformer and trainTestSplit. A fitted
 * transformer is plain JSON (`toJSON()` / `fromJSON()`); `model.setPreprocessing(prep)` makes a
 * model apply it to the raw `x` of predict, evaluate and fit, and its model file keeps it.
 * @packageDocumentation
 */
import { setPreprocessingReader } from './hook.js';
import { READER } from './state.js';

// loading this module lets `deserializeModel` read model files that hold preprocessing
setPreprocessingReader(READER);

export { Transformer, StandardScaler, MinMaxScaler, SimpleImputer, OneHotEncoder } from './transformers.js';
export type { StandardScalerOptions, MinMaxScalerOptions, SimpleImputerOptions, OneHotEncoderOptions } from './transformers.js';
export { ColumnTransformer } from './column.js';
export type { ColumnStep, ColumnTransformerOptions } from './column.js';
export { trainTestSplit } from './split.js';
export type { TrainTestSplit, TrainTestSplitOptions } from './split.js';
export { isBlank } from './state.js';
export type { Cell, Table, RawFeatures, PreprocessingState, PreprocessingInput, TransformerState, StandardScalerState, MinMaxScalerState, SimpleImputerState, OneHotEncoderState } from './state.js';
