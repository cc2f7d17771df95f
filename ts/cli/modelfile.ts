/**
 * The CLI's model file: a regular wasmfit model file (`serializeModel`, so `loadModel` reads it)
 * whose user metadata (`readModelMetadata`) holds, under the key `wasmfitCli`, what `predict` needs
 * beyond the network: feature column names, the standardization, the target and its classes.
 * @internal
 */
import { readFileSync } from 'node:fs';
import { FormatError } from '../errors/index.js';
import { deserializeModel, readModelMetadata, serializeModel } from '../io/index.js';
import { writeFileAtomic } from '../io/node.js';
import type { Sequential } from '../model/sequential.js';
import { CliError } from './errors.js';

/** The metadata key of the CLI's section. */
const KEY = 'wasmfitCli';

export interface CliMeta {
  version: 1;
  task: 'classification' | 'regression';
  target: string;
  features: string[];
  /** Feature standardization: `(x − mean) / std`, from the training rows. */
  mean: number[];
  std: number[];
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
  const m = all?.[KEY] as Partial<CliMeta> | undefined;
  if (!m || typeof m !== 'object') throw new CliError(`${path} is a wasmfit model without the CLI's column metadata; predict from code with loadModel(), or train it with wasmfit train.`);
  const d = Array.isArray(m.features) ? m.features.length : -1;
  const ok =
    m.version === 1 && (m.task === 'classification' || m.task === 'regression') && typeof m.target === 'string' &&
    d > 0 && m.features!.every((f) => typeof f === 'string') && isNums(m.mean, d) && isNums(m.std, d) &&
    (m.classes === null || (Array.isArray(m.classes) && m.classes.every((s) => typeof s === 'string'))) &&
    typeof m.yMean === 'number' && typeof m.yStd === 'number';
  if (!ok) throw new FormatError(`${where}: header.metadata.${KEY} is malformed; the file was not written by this version of wasmfit train.`);
  const model = withPath(where, () => deserializeModel(bytes));
  if (model.inputSize !== d) {
    model.dispose();
    throw new FormatError(`${where}: header.metadata.${KEY} lists ${d} features; the network takes ${model.inputSize}.`);
  }
  return { model, meta: m as CliMeta };
}
