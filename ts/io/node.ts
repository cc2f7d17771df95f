/**
 * Node-only file helpers for models and checkpoints (re-exported from `wasmfit/node`). Writes are
 * atomic: the bytes go to a temporary file in the same directory, which is flushed to disk
 * (fsync) and then renamed over the target, so a crash mid-write leaves the previous file intact.
 */
import { statSync } from 'node:fs';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { Sequential } from '../model/sequential.js';
import type { Callback, CallbackConfigContext } from '../model/callbacks.js';
import { checkMonitor, monitorKey } from '../callbacks/monitor.js';
import { type Checkpoint, deserializeCheckpoint, serializeCheckpoint } from './checkpoint.js';
import { fitResumeState } from '../model/resume.js';
import { type DeserializeOptions, deserializeModel, metadataOption, type SerializeModelOptions, serializeModel } from './model.js';
import { type LoadSafetensorsOptions, loadSafetensorsWeights, modelToSafetensors, type ModelToSafetensorsOptions } from './safetensors.js';
import { checkOptions } from '../errors/validate.js';

function checkPath(path: unknown, where: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new OptionError('path', `${where}: path = ${preview(path)}; expected a file path string, e.g. 'model.wasmfit'.`);
  return path;
}

/** Escapes a string for use inside a RegExp. */
const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Temporary files this process is writing now (absolute paths): never removed as stale. */
const inFlight = new Set<string>();

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files that earlier writes of `full` left behind when their process was killed
 * mid-write (`.<name>.<pid>.<random>.tmp` whose process no longer runs, or this process's own
 * that no write of it is using). Temporary files of running processes are left alone. Best effort:
 * errors are ignored. @internal
 */
export async function removeStaleTemps(full: string): Promise<string[]> {
  const dir = dirname(full);
  const re = new RegExp(`^\\.${reEscape(basename(full))}\\.(\\d+)\\.[a-z0-9]+\\.tmp$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = re.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    const p = join(dir, n);
    if (inFlight.has(p) || (pid !== process.pid && processAlive(pid))) continue;
    try {
      await unlink(p);
      removed.push(p);
    } catch {
      /* already gone, or not ours to remove */
    }
  }
  return removed;
}

/** Refuses (OptionError) a path whose directory is missing or is not a directory, or that names a directory. */
async function checkWritablePath(full: string, path: string, where: string): Promise<void> {
  const dir = dirname(full);
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new OptionError('path', `${where}: path = ${preview(path)} is in the directory '${dir}', which does not exist; create it first (e.g. mkdir -p) or save elsewhere.`);
    throw e;
  }
  if (!st.isDirectory()) throw new OptionError('path', `${where}: path = ${preview(path)}: '${dir}' is not a directory; pick a path inside a directory.`);
  try {
    if ((await stat(full)).isDirectory()) throw new OptionError('path', `${where}: path = ${preview(path)} is a directory; expected a file path, e.g. '${join(path, 'model.wasmfit')}'.`);
  } catch (e) {
    if (e instanceof OptionError) throw e;
    /* the target does not exist yet: fine */
  }
}

/**
 * Writes `bytes` to `path` atomically: a temporary file `.<name>.<pid>.<random>.tmp` in the same
 * directory is written, fsync'ed and renamed over `path` (then the directory is fsync'ed where the
 * OS allows). Readers see either the old file or the new one, never a partial write. On failure
 * the temporary file is removed and the error rethrown. Temporary files of earlier writes to the
 * same path whose process was killed mid-write are removed first.
 * @throws OptionError when the directory does not exist or `path` is a directory (before anything is written).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, where = 'writeFileAtomic'): Promise<void> {
  checkPath(path, where);
  if (!(bytes instanceof Uint8Array)) throw new OptionError('bytes', `${where}: bytes must be a Uint8Array.`);
  const full = resolve(path);
  const dir = dirname(full);
  await checkWritablePath(full, path, where);
  await removeStaleTemps(full);
  const tmp = join(dir, `.${basename(full)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  inFlight.add(tmp);
  try {
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
  } finally {
    inFlight.delete(tmp);
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

/** Reads a file; a directory given as the path is an OptionError, not EISDIR. */
async function readFileAt(path: string, where: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new OptionError('path', `${where}: path = ${preview(path)} is a directory; expected the file's path, e.g. '${join(path, 'model.wasmfit')}'.`);
    throw e;
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Saves a model (architecture, compile config, weights; see `serializeModel`) to `path`,
 * atomically (see {@link writeFileAtomic}).
 * @example await saveModel('digits.wasmfit', model)
 */
export async function saveModel(path: string, model: Sequential, options?: SerializeModelOptions): Promise<void> {
  checkPath(path, 'saveModel');
  await writeFileAtomic(path, serializeModel(model, options), 'saveModel');
}

/**
 * Loads a model saved by {@link saveModel} (or a checkpoint file, ignoring its training state).
 * Needs `await init()` first. Throws FormatError naming the field for corrupt or incompatible
 * files, and the file system's error when the file cannot be read.
 * @example const model = await loadModel('digits.wasmfit')
 */
export async function loadModel(path: string, options: DeserializeOptions = {}): Promise<Sequential> {
  checkPath(path, 'loadModel');
  const bytes = await readFileAt(path, 'loadModel');
  return deserializeModel(bytes, options);
}

/**
 * Saves a full training checkpoint (see `serializeCheckpoint`) to `path`, atomically. Called
 * from inside `fit` (a callback) it records the loop position so `fit(..., { resumeFrom })`
 * continues exactly; {@link modelCheckpoint} does this for you.
 */
export async function saveCheckpoint(path: string, model: Sequential, options?: SerializeModelOptions): Promise<void> {
  checkPath(path, 'saveCheckpoint');
  await writeFileAtomic(path, serializeCheckpoint(model, options), 'saveCheckpoint');
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
  const bytes = await readFileAt(path, 'loadCheckpoint');
  return deserializeCheckpoint(bytes, options);
}

/** Options of {@link modelCheckpoint} (Keras `ModelCheckpoint`, names in camelCase). */
export interface ModelCheckpointOptions {
  /** What is written: `'checkpoint'` (default; full training state, resumable with `fit({ resumeFrom })`) or `'model'` (architecture + weights, see `saveModel`). */
  format?: 'checkpoint' | 'model';
  /** Write only when `monitor` improves on the best value so far (strictly; epoch ends only). Default false. */
  saveBestOnly?: boolean;
  /** Epoch-log key compared by `saveBestOnly` (default `'valLoss'`; Keras / tfjs names such as `'val_loss'` are read as wasmfit's). */
  monitor?: string;
  /** `'min'`, `'max'` or `'auto'` (default: max for names containing "acc", else min — as `earlyStopping`). */
  mode?: 'auto' | 'min' | 'max';
  /** With `saveBestOnly`: the value the first saved epoch must beat (Keras `initial_value_threshold`). Default none. */
  initialValueThreshold?: number;
  /** Write after every this many epochs (default 1; 0 = never at epoch ends). */
  everyEpochs?: number;
  /** Also write after every this many optimizer steps (default 0 = never; Keras `save_freq` as an integer). */
  everyBatches?: number;
  /** Your JSON metadata stored in every file written (see `serializeModel`'s `metadata`). */
  metadata?: SerializeModelOptions['metadata'];
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}/g;

/**
 * Fills a Keras-style file-name template: `{epoch}`, `{epoch:03d}`, `{valLoss:.4f}`, `{loss:.2e}`.
 * Formats: `d` / `0Nd` (integer, zero-padded to N), `.Nf` (fixed), `.Ne` (exponent), none (as is).
 * @internal
 */
export function formatCheckpointPath(template: string, values: Record<string, number>): string {
  return template.replace(PLACEHOLDER, (_all, key: string, fmt: string | undefined) => {
    const v = Object.hasOwn(values, key) ? values[key] : undefined;
    if (typeof v !== 'number') {
      throw new OptionError('path', `modelCheckpoint: the path template names {${key}}, which is not in the logs; available: ${Object.keys(values).join(', ')}.`);
    }
    if (fmt === undefined || fmt === '') return String(v);
    let m = /^0?(\d*)d$/.exec(fmt);
    if (m) return String(Math.round(v)).padStart(m[1] ? Number(m[1]) : 0, fmt.startsWith('0') ? '0' : ' ');
    m = /^\.(\d+)([fe])$/.exec(fmt);
    if (m) return m[2] === 'f' ? v.toFixed(Number(m[1])) : v.toExponential(Number(m[1]));
    throw new OptionError('path', `modelCheckpoint: unknown format '${fmt}' in {${key}:${fmt}}; use d, 0Nd, .Nf or .Ne.`);
  });
}

/**
 * Keras `ModelCheckpoint`: writes the model to `path` during `fit`, atomically (a crash mid-write
 * leaves the previous file intact), after the other callbacks have run for that epoch/batch.
 * - `format: 'checkpoint'` (default) writes the full training state (weights, optimizer moments
 *   and step, schedule and callback state, RNG state and loop position): `loadCheckpoint(path)` +
 *   `fit(..., { resumeFrom })` continue exactly. `format: 'model'` writes architecture + weights.
 * - `path` may be a template filled from the epoch logs, Keras-style: `{epoch}` is 1-based (the
 *   epoch just finished), `{batch}` (batch writes) is the 1-based batch within the epoch, any log
 *   key with a format: `'ckpt-{epoch:03d}-{valLoss:.4f}.wasmfit'`.
 * - `saveBestOnly`: writes at an epoch end only when `logs[monitor]` is strictly better than the
 *   best so far (starting from `initialValueThreshold` when given); a NaN value never is.
 * - Checked before the first step (OptionError listing the available keys): the `monitor` of
 *   `saveBestOnly` and every template key must be in this fit's logs (`{batch}` only with
 *   `everyBatches` and `everyEpochs: 0`), and the directory must exist.
 * - Non-finite weights or optimizer state are never written (NonFiniteError): the last good file stays.
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 50, validationSplit: 0.1,
 *   callbacks: [modelCheckpoint('best.wasmfit', { format: 'model', saveBestOnly: true })] });
 * ```
 */
export function modelCheckpoint(path: string, options: ModelCheckpointOptions = {}): Callback {
  const W = 'modelCheckpoint';
  checkPath(path, W);
  if (!options || typeof options !== 'object') throw new OptionError('options', `${W}: options must be an object.`);
  const known = ['format', 'saveBestOnly', 'monitor', 'mode', 'initialValueThreshold', 'everyEpochs', 'everyBatches', 'metadata'];
  checkOptions(W, options, known);
  const format = options.format ?? 'checkpoint';
  if (format !== 'checkpoint' && format !== 'model') throw new OptionError('format', `${W}: format = ${preview(format)}; expected 'checkpoint' or 'model'.`);
  const saveBestOnly = options.saveBestOnly ?? false;
  if (typeof saveBestOnly !== 'boolean') throw new OptionError('saveBestOnly', `${W}: saveBestOnly = ${preview(saveBestOnly)}; expected a boolean.`);
  const monitorIn = options.monitor ?? 'valLoss';
  if (typeof monitorIn !== 'string' || monitorIn.length === 0) throw new OptionError('monitor', `${W}: monitor = ${preview(monitorIn)}; expected a log key such as 'valLoss'.`);
  // Keras / tfjs log names ('val_loss', 'acc', 'val_acc') read as wasmfit's camelCase keys
  const monitor = monitorKey(monitorIn);
  const mode = options.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new OptionError('mode', `${W}: mode = ${preview(mode)}; expected 'auto', 'min' or 'max'.`);
  const maximize = mode === 'max' || (mode === 'auto' && /acc/i.test(monitor));
  const threshold = options.initialValueThreshold;
  if (threshold !== undefined && (typeof threshold !== 'number' || !Number.isFinite(threshold))) {
    throw new OptionError('initialValueThreshold', `${W}: initialValueThreshold = ${preview(threshold)}; expected a finite number.`);
  }
  const every = (name: 'everyEpochs' | 'everyBatches', def: number): number => {
    const v = options[name] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new OptionError(name, `${W}: ${name} = ${preview(v)}; expected an integer >= 0 (0 = never).`);
    return v;
  };
  const everyEpochs = every('everyEpochs', 1);
  const everyBatches = every('everyBatches', 0);
  // validated now, not at the first write mid-training
  const metadata = options.metadata === undefined ? undefined : metadataOption({ metadata: options.metadata }, W);
  if (saveBestOnly && everyBatches > 0) throw new OptionError('everyBatches', `${W}: saveBestOnly compares epoch metrics; drop everyBatches or saveBestOnly.`);
  for (const [all, , fmt] of path.matchAll(PLACEHOLDER)) {
    if (fmt !== undefined && fmt !== '' && !/^0?\d*d$/.test(fmt) && !/^\.\d+[fe]$/.test(fmt)) {
      throw new OptionError('path', `${W}: unknown format in ${all}; use d, 0Nd, .Nf or .Ne (e.g. {epoch:03d}, {valLoss:.4f}).`);
    }
  }
  let model: Sequential | null = null;
  let best = threshold ?? (maximize ? -Infinity : Infinity);
  const write = async (values: Record<string, number>): Promise<void> => {
    const file = formatCheckpointPath(path, values);
    const opts = metadata === undefined ? undefined : { metadata };
    await writeFileAtomic(file, format === 'model' ? serializeModel(model!, opts) : serializeCheckpoint(model!, opts), W);
  };
  return {
    runsLast: true,
    setModel(m) {
      if (!(m instanceof Sequential)) throw new OptionError('model', `${W}: only Sequential models can be saved.`);
      model = m;
    },
    checkConfig(context: CallbackConfigContext) {
      const keys = context?.logKeys;
      if (Array.isArray(keys)) {
        if (saveBestOnly) checkMonitor(W, monitor, context, monitorIn);
        const batchKeys = keys.filter((k) => k === 'loss' || k === 'accuracy');
        for (const [all, key] of path.matchAll(PLACEHOLDER)) {
          if (key === 'epoch') continue;
          if (key === 'batch') {
            if (everyBatches === 0 || everyEpochs > 0) throw new OptionError('path', `${W}: the path template names ${all}, which only batch writes have (everyBatches > 0, everyEpochs: 0); epoch-end writes would fail. Drop ${all} or set { everyBatches: n, everyEpochs: 0 }.`);
            continue;
          }
          if (everyEpochs > 0 && !keys.includes(key!)) throw new OptionError('path', `${W}: the path template names ${all}, which this fit does not log; available: epoch, ${keys.join(', ')}.${/_/.test(key!) ? ' Log keys are camelCase (valLoss, not val_loss).' : ''}`);
          if (everyBatches > 0 && !batchKeys.includes(key!)) throw new OptionError('path', `${W}: the path template names ${all}, which batch writes (everyBatches) do not have; batch logs have epoch, batch, ${batchKeys.join(', ')}.`);
        }
      }
      // a missing directory fails every write: say so before the first step, not after an epoch
      const dir = dirname(resolve(path));
      if (!dir.includes('{')) {
        let isDir = false;
        try {
          isDir = statSync(dir).isDirectory();
        } catch {
          /* reported below */
        }
        if (!isDir) throw new OptionError('path', `${W}: path = ${preview(path)} is in the directory '${dir}', which does not exist; create it before fit (e.g. mkdir -p) or save elsewhere.`);
      }
    },
    onTrainBegin(logs) {
      if (saveBestOnly && monitor.startsWith('val') && logs.validation === 0) {
        throw new OptionError('monitor', `${W}: monitor '${monitor}' needs validation data; pass fit({ validationSplit }) or fit({ validationData }), or monitor 'loss'.`);
      }
    },
    async onBatchEnd(batch, logs) {
      if (everyBatches === 0) return;
      const st = fitResumeState(model!);
      if (st && st.globalStep % everyBatches === 0) await write({ ...logs, epoch: st.epoch + 1, batch: batch + 1 });
    },
    async onEpochEnd(epoch, logs) {
      if (everyEpochs === 0 || (epoch + 1) % everyEpochs !== 0) return;
      if (saveBestOnly) {
        const v = logs[monitor];
        if (v === undefined) throw new OptionError('monitor', `${W}: the logs have no '${monitor}'; available: ${Object.keys(logs).join(', ')}.`);
        if (!(maximize ? v > best : v < best)) return;
        best = v;
      }
      await write({ ...logs, epoch: epoch + 1 });
    },
  };
}

/**
 * Writes the model's weights to a `.safetensors` file in PyTorch `nn.Sequential` naming (see
 * `modelToSafetensors`), atomically.
 * @example await saveSafetensors('mlp.safetensors', model) // torch: model.load_state_dict(load_file('mlp.safetensors'))
 */
export async function saveSafetensors(path: string, model: Sequential, options: ModelToSafetensorsOptions = {}): Promise<void> {
  checkPath(path, 'saveSafetensors');
  await writeFileAtomic(path, modelToSafetensors(model, options), 'saveSafetensors');
}

/**
 * Sets the model's weights from a `.safetensors` file in PyTorch `nn.Sequential` naming (see
 * `loadSafetensorsWeights`), e.g. one written by `safetensors.torch.save_file(model.state_dict(), path)`.
 */
export async function loadSafetensors(path: string, model: Sequential, options: LoadSafetensorsOptions = {}): Promise<void> {
  checkPath(path, 'loadSafetensors');
  const bytes = await readFileAt(path, 'loadSafetensors');
  loadSafetensorsWeights(model, bytes, options);
}
