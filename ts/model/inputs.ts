/**
 * The network's input rows of a call's `x`: through the model's fitted preprocessing when it has
 * one (raw tables in), as numeric features otherwise. @internal
 */
import { type Features, type FiniteScan, toFeatures } from '../data/tensor.js';
import { ShapeError } from '../errors/index.js';
import { preprocessingReader } from '../preprocess/hook.js';
import type { PreprocessingState, RawFeatures } from '../preprocess/state.js';

/** What reading `x` needs of a model. @internal */
export interface InputModel {
  readonly inputSize: number;
  readonly preprocessing: PreprocessingState | null;
  /** The model's Stepper: its runtime scans for non-finite values in WASM. */
  readonly steps?: { firstNonFinite: FiniteScan };
}

/** Row-major float32 rows of `inputSize` values, and their count. @internal */
export function modelInputs(m: InputModel, x: RawFeatures, where: string): { data: Float32Array; rows: number } {
  const p = m.preprocessing;
  const steps = m.steps;
  return p ? preprocessingReader(where, (msg) => { throw new ShapeError(msg); }).apply(p, x, where) : toFeatures(x as Features, m.inputSize, where, steps ? steps.firstNonFinite : true);
}
