/**
 * The CLI's model file: a regular wasmfit model file (ts/io: same container, header and tensors,
 * so `loadModel` reads it) whose JSON header also carries a `cli` section with what `predict` needs
 * beyond the network: feature column names, the standardization, the target and its classes.
 * @internal
 */
import { readFileSync } from 'node:fs';
import { FormatError } from '../errors/index.js';
import { readContainer, writeContainer } from '../io/container.js';
import { buildModel, modelHeader, weightTensors } from '../io/model.js';
import { writeFileAtomic } from '../io/node.js';
import type { Sequential } from '../model/sequential.js';
import { CliError } from './errors.js';

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
  const header = { ...modelHeader(model, 'wasmfit train'), cli: meta };
  const bytes = writeContainer('model', header as unknown as Record<string, unknown>, weightTensors(model));
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

const isNums = (a: unknown, n: number): a is number[] => Array.isArray(a) && a.length === n && a.every((v) => typeof v === 'number' && Number.isFinite(v));

export function loadCliModel(path: string): { model: Sequential; meta: CliMeta } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const where = `wasmfit predict (${path})`;
  const c = readContainer(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), where, ['model', 'checkpoint']);
  const m = c.header.cli as Partial<CliMeta> | undefined;
  if (!m || typeof m !== 'object') throw new CliError(`${path} is a wasmfit model without the CLI's column metadata; predict from code with loadModel(), or train it with wasmfit train.`);
  const d = Array.isArray(m.features) ? m.features.length : -1;
  const ok =
    m.version === 1 && (m.task === 'classification' || m.task === 'regression') && typeof m.target === 'string' &&
    d > 0 && m.features!.every((f) => typeof f === 'string') && isNums(m.mean, d) && isNums(m.std, d) &&
    (m.classes === null || (Array.isArray(m.classes) && m.classes.every((s) => typeof s === 'string'))) &&
    typeof m.yMean === 'number' && typeof m.yStd === 'number';
  if (!ok) throw new FormatError(`${where}: header.cli is malformed; the file was not written by this version of wasmfit train.`);
  const model = buildModel(c, where);
  if (model.inputSize !== d) {
    model.dispose();
    throw new FormatError(`${where}: header.cli lists ${d} features; the network takes ${model.inputSize}.`);
  }
  return { model, meta: m as CliMeta };
}
