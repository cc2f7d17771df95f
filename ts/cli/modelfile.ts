/**
 * The CLI's model file: a regular wasmfit model file (`serializeModel`, so `loadModel` reads it)
 * holding the fitted preprocessing (`model.preprocessing`: standardization and one-hot encoding,
 * wasmfit/preprocess) and, in its user metadata (`readModelMetadata`) under the key `wasmfitCli`,
 * what `predict` needs beyond that: the feature columns by name, which are text, the target and
 * its classes. Version 1 files (standardization in the metadata) still load.
 * @internal
 */
import { readFileSync } from 'node:fs';
import { FormatError } from '../errors/index.js';
import { deserializeModel, readModelMetadata, serializeModel } from '../io/index.js';
import { writeFileAtomic } from '../io/node.js';
import type { Sequential } from '../model/sequential.js';
// loading wasmfit/preprocess lets deserializeModel read the preprocessing in the file
import { StandardScaler } from '../preprocess/index.js';
import { CliError } from './errors.js';

/** The metadata key of the CLI's section. */
const KEY = 'wasmfitCli';

export interface CliMeta {
  version: 2;
  task: 'classification' | 'regression';
  target: string;
  /** Feature columns, in the order of the preprocessing's input. */
  features: string[];
  /** The ones read as text (one-hot encoded by the model's preprocessing). */
  textFeatures: string[];
  /** Class labels in class-id order (classification). */
  classes: string[] | null;
  /** Target standardization (regression): `y = yMean + yStd · output`. */
  yMean: number;
  yStd: number;
}

export async function saveCliModel(path: string, model: Sequential, meta: CliMeta): Promise<number> {
  const bytes = serializeModel(model, { metadata: { [KEY]: { ...meta } } });
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

const isNums = (a: unknown, n: number): a is number[] => Array.isArray(a) && a.length === n && a.every((v) => typeof v === 'number' && Number.isFinite(v));

/** Re-raises a reader's FormatError with the file's path instead of the reader's name. */
function withPath<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError) throw new FormatError(`${where}: ${e.message.replace(/^\w+: /, '')}`);
    throw e;
  }
}

export function loadCliModel(path: string): { model: Sequential; meta: CliMeta } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const where = `wasmfit predict (${path})`;
  const all = withPath(where, () => readModelMetadata(bytes));
  const m = all?.[KEY] as (Omit<Partial<CliMeta>, 'version'> & { version?: number; mean?: unknown; std?: unknown }) | undefined;
  if (!m || typeof m !== 'object') throw new CliError(`${path} is a wasmfit model without the CLI's column metadata; predict from code with loadModel(), or train it with wasmfit train.`);
  const d = Array.isArray(m.features) ? m.features.length : -1;
  const v1 = m.version === 1 && isNums(m.mean, d) && isNums(m.std, d) && (m.std as number[]).every((s) => s > 0);
  const v2 = m.version === 2 && Array.isArray(m.textFeatures) && m.textFeatures.every((f) => m.features!.includes(f));
  const ok =
    (v1 || v2) && (m.task === 'classification' || m.task === 'regression') && typeof m.target === 'string' &&
    d > 0 && m.features!.every((f) => typeof f === 'string') &&
    (m.classes === null || (Array.isArray(m.classes) && m.classes.every((s) => typeof s === 'string'))) &&
    typeof m.yMean === 'number' && typeof m.yStd === 'number';
  if (!ok) throw new FormatError(`${where}: header.metadata.${KEY} is malformed; the file was not written by this version of wasmfit train.`);
  const model = withPath(where, () => deserializeModel(bytes));
  try {
    if (v1) {
      // version 1: the standardization was kept in the metadata; as a StandardScaler state it is the model's preprocessing
      const std = m.std as number[];
      const state = { type: 'standardScaler', withMean: true, withStd: true, mean: m.mean, var: std.map((s) => s * s), scale: std, nSamplesSeen: 1 };
      withPath(where, () => model.setPreprocessing(StandardScaler.fromJSON(state)));
    }
    const nIn = model.preprocessing?.nFeaturesIn ?? model.inputSize;
    if (nIn !== d) throw new FormatError(`${where}: header.metadata.${KEY} lists ${d} features; the model takes ${nIn}.`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta: { ...(m as CliMeta), version: 2, textFeatures: v2 ? m.textFeatures! : [] } };
}
