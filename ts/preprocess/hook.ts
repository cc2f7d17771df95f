/**
 * What the main entry knows of preprocessing: a slot for its reader (validation and transform),
 * filled when `wasmfit/preprocess` is loaded. The preprocessing code itself stays out of the main
 * entry (browser budget): a program that never loads it never downloads it. @internal
 */
import { FormatError, OptionError } from '../errors/index.js';
import type { PreprocessingReader, PreprocessingState } from './state.js';

export type { PreprocessingInput, PreprocessingState, RawFeatures } from './state.js';

let reader: PreprocessingReader | null = null;

/** @internal Called by `wasmfit/preprocess` when it loads. */
export function setPreprocessingReader(r: PreprocessingReader): void {
  reader = r;
}

/** @internal */
export function preprocessingReader(where: string, fail: (msg: string) => never): PreprocessingReader {
  return reader ?? fail(`${where}: needs wasmfit/preprocess; add import 'wasmfit/preprocess' to the program (it is loaded on demand to keep the main entry small).`);
}

/** `model.setPreprocessing(p)`: a fitted transformer, its JSON, or null. @internal */
export function preprocessingOption(m: { inputSize: number; assertUsable(w: string): void; assertIdle(w: string): void }, p: unknown, where: string): PreprocessingState | null {
  m.assertUsable(where);
  m.assertIdle(where);
  if (p === null) return null;
  const err = (msg: string): never => {
    throw new OptionError('preprocessing', msg);
  };
  const json = p !== null && typeof p === 'object' && typeof (p as { toJSON?: unknown }).toJSON === 'function' ? (p as { toJSON(): unknown }).toJSON() : p;
  const s = preprocessingReader(where, err).check(json, (path, msg) => err(`${where}: ${path} ${msg}`), 'preprocessing');
  if (s.nFeaturesOut !== m.inputSize) err(`${where}: the preprocessing outputs ${s.nFeaturesOut} columns; the model takes ${m.inputSize}. Build the model with inputShape: [prep.nFeaturesOut].`);
  return s;
}

/** The preprocessing of a model file's header (FormatError naming the field), or null. @internal */
export function headerPreprocessing(v: unknown, inputSize: number, where: string): PreprocessingState | null {
  if (v === undefined || v === null) return null;
  const fail = (msg: string): never => {
    throw new FormatError(msg);
  };
  const s = preprocessingReader(`${where}: this model file holds preprocessing (header.model.preprocessing), so reading it`, fail).check(v, (path, msg) => fail(`${where}: ${path} ${msg}`), 'header.model.preprocessing');
  if (s.nFeaturesOut !== inputSize) fail(`${where}: header.model.preprocessing.nFeaturesOut is ${s.nFeaturesOut}; the network takes ${inputSize}.`);
  return s;
}
