/**
 * Node-only file helpers for models and checkpoints (re-exported from `wasmfit/node`). Writes are
 * atomic: the bytes go to a temporary file in the same directory, which is flushed to disk
 * (fsync) and then renamed over the target, so a crash mid-write leaves the previous file intact.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OptionError } from '../errors/index.js';
import type { Sequential } from '../model/sequential.js';
import type { Callback } from '../model/callbacks.js';
import { type Checkpoint, checkpointCallback, deserializeCheckpoint, serializeCheckpoint } from './checkpoint.js';
import { type DeserializeOptions, deserializeModel, serializeModel } from './model.js';
import { type LoadSafetensorsOptions, loadSafetensorsWeights, modelToSafetensors, type ModelToSafetensorsOptions } from './safetensors.js';

function checkPath(path: unknown, where: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new OptionError('path', `${where}: path = ${JSON.stringify(path)}; expected a file path string, e.g. 'model.wasmfit'.`);
  return path;
}

/**
 * Writes `bytes` to `path` atomically: a temporary file `.<name>.<pid>.<random>.tmp` in the same
 * directory is written, fsync'ed and renamed over `path` (then the directory is fsync'ed where the
 * OS allows). Readers see either the old file or the new one, never a partial write. On failure
 * the temporary file is removed and the error rethrown.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  checkPath(path, 'writeFileAtomic');
  if (!(bytes instanceof Uint8Array)) throw new OptionError('bytes', 'writeFileAtomic: bytes must be a Uint8Array.');
  const full = resolve(path);
  const dir = dirname(full);
  const tmp = join(dir, `.${basename(full)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, full);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* directories cannot be fsync'ed on some platforms (Windows); the rename itself is atomic */
  }
}

/**
 * Saves a model (architecture, compile config, weights; see `serializeModel`) to `path`,
 * atomically (see {@link writeFileAtomic}).
 * @example await saveModel('digits.wasmfit', model)
 */
export async function saveModel(path: string, model: Sequential): Promise<void> {
  checkPath(path, 'saveModel');
  await writeFileAtomic(path, serializeModel(model));
}

/**
 * Loads a model saved by {@link saveModel} (or a checkpoint file, ignoring its training state).
 * Needs `await init()` first. Throws FormatError naming the field for corrupt or incompatible
 * files, and the file system's error when the file cannot be read.
 * @example const model = await loadModel('digits.wasmfit')
 */
export async function loadModel(path: string, options: DeserializeOptions = {}): Promise<Sequential> {
  checkPath(path, 'loadModel');
  const bytes = await readFile(path);
  return deserializeModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
}

/**
 * Saves a full training checkpoint (see `serializeCheckpoint`) to `path`, atomically. Called
 * from inside `fit` (a callback) it records the loop position so `fit(..., { resumeFrom })`
 * continues exactly; {@link modelCheckpoint} does this for you.
 */
export async function saveCheckpoint(path: string, model: Sequential): Promise<void> {
  checkPath(path, 'saveCheckpoint');
  await writeFileAtomic(path, serializeCheckpoint(model));
}

/**
 * Loads a checkpoint file: `{ model, resume }` (see `deserializeCheckpoint`). Needs `await init()`.
 * @example
 * ```ts
 * const { model, resume } = await loadCheckpoint('run.ckpt');
 * await model.fit(x, y, { epochs: 20, resumeFrom: resume });
 * ```
 */
export async function loadCheckpoint(path: string, options: DeserializeOptions = {}): Promise<Checkpoint> {
  checkPath(path, 'loadCheckpoint');
  const bytes = await readFile(path);
  return deserializeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
}

/**
 * A callback that writes a training checkpoint to `path` (atomically, replacing the previous one)
 * after every `everyEpochs` epochs (default 1) and/or every `everyBatches` optimizer steps
 * (default 0 = off) — Keras `ModelCheckpoint` for full training state. A crash mid-write leaves
 * the previous checkpoint intact.
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 50, callbacks: [earlyStopping(), modelCheckpoint('run.ckpt')] });
 * ```
 */
export function modelCheckpoint(path: string, options: { everyEpochs?: number; everyBatches?: number } = {}): Callback {
  checkPath(path, 'modelCheckpoint');
  return checkpointCallback({ ...options, save: (bytes) => writeFileAtomic(path, bytes) });
}

/**
 * Writes the model's weights to a `.safetensors` file in PyTorch `nn.Sequential` naming (see
 * `modelToSafetensors`), atomically.
 * @example await saveSafetensors('mlp.safetensors', model) // torch: model.load_state_dict(load_file('mlp.safetensors'))
 */
export async function saveSafetensors(path: string, model: Sequential, options: ModelToSafetensorsOptions = {}): Promise<void> {
  checkPath(path, 'saveSafetensors');
  await writeFileAtomic(path, modelToSafetensors(model, options));
}

/**
 * Sets the model's weights from a `.safetensors` file in PyTorch `nn.Sequential` naming (see
 * `loadSafetensorsWeights`), e.g. one written by `safetensors.torch.save_file(model.state_dict(), path)`.
 */
export async function loadSafetensors(path: string, model: Sequential, options: LoadSafetensorsOptions = {}): Promise<void> {
  checkPath(path, 'loadSafetensors');
  const bytes = await readFile(path);
  loadSafetensorsWeights(model, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
}
