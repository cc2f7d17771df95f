/**
 * Training checkpoints: a model file plus the optimizer state (moments, step; for `lbfgs` / `cg`
 * the full-batch state: direction, previous gradient, curvature pairs, counters), learning rate,
 * dropout key and counter, and — when taken from inside `fit` — the loop position (epoch, batch,
 * shuffling generator, row order, running sums, schedule step) and the stateful callbacks'
 * states (early stopping, plateau). `fit(x, y, { resumeFrom })` continues bit-identically.
 */
import { FormatError, OptionError, WasmfitError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { Callback, CallbackModel } from '../model/callbacks.js';
import { checkResumeState, type FitResumeState, fitResumeState } from '../model/resume.js';
import { Sequential } from '../model/sequential.js';
import type { FullBatchConfig } from '../optimizers/dense-registry.js';
import type { EngineState } from '../optimizers/second-order.js';
import { type Container, readContainer, type StoredTensor, writeContainer } from './container.js';
import { buildModel, type DeserializeOptions, metadataOption, modelHeader, type SerializeModelOptions, weightTensors } from './model.js';
import { checkOptions } from '../errors/validate.js';

/** What {@link deserializeCheckpoint} returns. */
export interface Checkpoint {
  /** The model, compiled, with its weights and optimizer state restored. */
  model: Sequential;
  /**
   * Pass to `model.fit(x, y, { epochs, resumeFrom: resume, ... })` to continue the run exactly;
   * null when the checkpoint was taken outside `fit` (then `fit` with `initialEpoch` continues
   * with the restored optimizer state, reshuffling from a new seed).
   */
  resume: FitResumeState | null;
}

const SLOT_PREFIX = 'optimizer/';
const STATE_PREFIX = 'state/';
const SECOND_PREFIX = 'secondOrder/';

/**
 * The L-BFGS / CG state (PyTorch's `LBFGS.state`: `n_iter`, `func_evals`, `t`, `H_diag`, `d`,
 * `prev_flat_grad`, `old_dirs`, `old_stps`, `ro`; CG: restart counter and previous `gᵀd`) as
 * header JSON (scalars) plus f32 tensors `secondOrder/d`, `secondOrder/prevG`,
 * `secondOrder/dirs/<i>`, `secondOrder/stps/<i>` (oldest pair first).
 */
function secondOrderOut(st: EngineState, tensors: StoredTensor[]): Record<string, unknown> {
  const vec = (name: string, v: Float32Array | number[]): void => {
    tensors.push({ name: `${SECOND_PREFIX}${name}`, dtype: 'f32', shape: [v.length], data: v instanceof Float32Array ? v : Float32Array.from(v) });
  };
  vec('d', st.d);
  vec('prevG', st.prevG);
  st.dirs.forEach((v, i) => vec(`dirs/${i}`, v));
  st.stps.forEach((v, i) => vec(`stps/${i}`, v));
  return { method: st.method, size: st.size, nIter: st.nIter, funcEvals: st.funcEvals, t: st.t, hDiag: st.hDiag, prevGtd: st.prevGtd, sinceRestart: st.sinceRestart, pairs: st.dirs.length, ro: [...st.ro] };
}

/** Validates header.training.secondOrder against the compiled optimizer and the file's tensors; FormatError naming the field. */
function secondOrderIn(raw: unknown, c: Container, cfg: FullBatchConfig, size: number, W: string): EngineState {
  const P = 'header.training.secondOrder';
  const bad = (field: string, msg: string): never => {
    throw new FormatError(`${W}: ${field} ${msg}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad(P, `is ${raw === undefined ? 'missing' : 'not an object'}; a checkpoint of a model compiled with ${cfg.type} holds its state.`);
  const o = raw as Record<string, unknown>;
  const known = ['method', 'size', 'nIter', 'funcEvals', 't', 'hDiag', 'prevGtd', 'sinceRestart', 'pairs', 'ro'];
  for (const k of Object.keys(o)) if (!known.includes(k)) bad(`${P}.${k}`, `is not a field of the ${cfg.type} state (known: ${known.join(', ')}).`);
  if (o.method !== cfg.type) bad(`${P}.method`, `is ${preview(o.method)}; the checkpoint's optimizer is ${cfg.type}.`);
  if (o.size !== size) bad(`${P}.size`, `is ${preview(o.size)}; the model has ${size} trainable parameters.`);
  const count = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(`${P}.${k}`, `is ${preview(v)}; expected an integer >= 0.`);
    return v as number;
  };
  const num = (k: string, positive = false): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && !(v > 0))) bad(`${P}.${k}`, `is ${preview(v)}; expected a finite number${positive ? ' > 0' : ''}.`);
    return v as number;
  };
  const nIter = count('nIter');
  const funcEvals = count('funcEvals');
  const sinceRestart = count('sinceRestart');
  const pairs = count('pairs');
  const t = num('t');
  const hDiag = num('hDiag', true);
  const prevGtd = num('prevGtd');
  const limit = cfg.type === 'lbfgs' ? cfg.historySize : 0;
  if (pairs > limit) bad(`${P}.pairs`, `is ${pairs}; ${cfg.type === 'lbfgs' ? `historySize is ${limit}` : `${cfg.type} keeps no curvature pairs`}.`);
  const ro = o.ro;
  if (!Array.isArray(ro) || ro.length !== pairs) bad(`${P}.ro`, `is not an array of ${pairs} numbers (one per curvature pair).`);
  (ro as unknown[]).forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) bad(`${P}.ro[${i}]`, `is ${preview(v)}; expected a finite number > 0 (1 / yᵀs).`);
  });
  const vec = (name: string): Float32Array => {
    const tn = `${SECOND_PREFIX}${name}`;
    const tt = c.tensors.get(tn);
    if (!tt) bad(`tensor '${tn}'`, `is missing; ${P} needs it.`);
    if (tt!.dtype !== 'f32') bad(`tensor '${tn}'.dtype`, `is ${tt!.dtype}; expected f32.`);
    if (tt!.shape.length !== 1 || tt!.shape[0] !== size) bad(`tensor '${tn}'.shape`, `is ${preview(tt!.shape)}; expected [${size}] (one value per parameter).`);
    return tt!.data as Float32Array;
  };
  const d = vec('d');
  const prevG = vec('prevG');
  const dirs = Array.from({ length: pairs }, (_, i) => vec(`dirs/${i}`));
  const stps = Array.from({ length: pairs }, (_, i) => vec(`stps/${i}`));
  const expected = new Set(['d', 'prevG', ...dirs.map((_, i) => `dirs/${i}`), ...stps.map((_, i) => `stps/${i}`)].map((n) => `${SECOND_PREFIX}${n}`));
  for (const n of c.order) if (n.startsWith(SECOND_PREFIX) && !expected.has(n)) bad(`tensor '${n}'`, `is not part of the ${cfg.type} state (${P}.pairs = ${pairs}).`);
  return { method: cfg.type as EngineState['method'], size, nIter, funcEvals, t, hDiag, prevGtd, sinceRestart, d, prevG, dirs, stps, ro: [...(ro as number[])] };
}

/** Encodes a JSON-able value whose typed arrays go to tensors and whose non-finite numbers are tagged. */
function encode(v: unknown, tensors: StoredTensor[], path: string): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $f64: String(v) };
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Float32Array || v instanceof Int32Array) {
    const name = `${STATE_PREFIX}${tensors.filter((t) => t.name.startsWith(STATE_PREFIX)).length}`;
    tensors.push({ name, dtype: v instanceof Float32Array ? 'f32' : 'i32', shape: [v.length], data: v });
    return { $tensor: name };
  }
  if (Array.isArray(v)) return v.map((x, i) => encode(x, tensors, `${path}[${i}]`));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = encode(x, tensors, `${path}.${k}`);
    return out;
  }
  throw new OptionError('state', `serializeCheckpoint: ${path} is ${typeof v === 'object' ? Object.prototype.toString.call(v) : typeof v}; checkpoint state must be JSON-able (numbers, strings, booleans, null, arrays, plain objects, Float32Array, Int32Array).`);
}

function decode(v: unknown, c: Container, path: string, depth: number): unknown {
  if (depth > 64) throw new FormatError(`deserializeCheckpoint: ${path} is nested more than 64 levels deep.`);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x, i) => decode(x, c, `${path}[${i}]`, depth + 1));
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$f64') {
    if (o.$f64 === 'NaN') return NaN;
    if (o.$f64 === 'Infinity') return Infinity;
    if (o.$f64 === '-Infinity') return -Infinity;
    throw new FormatError(`deserializeCheckpoint: ${path}.$f64 is ${preview(o.$f64)}; expected "NaN", "Infinity" or "-Infinity".`);
  }
  if (keys.length === 1 && keys[0] === '$tensor') {
    const t = typeof o.$tensor === 'string' && o.$tensor.startsWith(STATE_PREFIX) ? c.tensors.get(o.$tensor) : undefined;
    if (!t) throw new FormatError(`deserializeCheckpoint: ${path}.$tensor names ${preview(o.$tensor)}, which is not a state tensor of the file.`);
    return t.data.slice();
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = decode(o[k], c, `${path}.${k}`, depth + 1);
  return out;
}

/**
 * Serializes a full training checkpoint of a compiled model: everything {@link serializeModel}
 * writes plus the optimizer state (every moment / accumulator tensor and the step count; for a model
 * compiled with `lbfgs` / `cg`, everything `torch.optim.LBFGS.state` holds — direction `d`, previous
 * gradient, the curvature pairs `(s, y)` with `ro`, `H_diag`, step `t`, iteration and evaluation
 * counts — and CG's restart counter and previous `gᵀd`), the current learning rate, the dropout generator's key and counter and the fit counter. Called from
 * inside `fit` (from a callback, e.g. {@link checkpointCallback}) it also records the loop
 * position: epoch and batch, shuffling generator and row order, the epoch's running loss sums,
 * the step counter of step-unit schedules and the schedule's config, and the states of stateful
 * callbacks (earlyStopping, plateauCallback). From `onEpochEnd` the position is the start of the
 * next epoch; from `onBatchEnd` the next batch.
 *
 * `options.metadata` stores a JSON object of your own, as for `serializeModel` (`readModelMetadata`).
 *
 * @throws OptionError when the model is not compiled or the metadata is not plain JSON within
 * the limits; DisposedError after `dispose()`.
 */
export function serializeCheckpoint(model: Sequential, options?: SerializeModelOptions): Uint8Array {
  return checkpointBytes(model, metadataOption(options, 'serializeCheckpoint')).bytes;
}

function checkpointBytes(model: Sequential, metadata?: SerializeModelOptions['metadata']): { bytes: Uint8Array; fit: FitResumeState | null } {
  const header = modelHeader(model, 'serializeCheckpoint') as unknown as Record<string, unknown>;
  if (metadata !== undefined) header.metadata = metadata;
  const custom = (model.compileOptions?.loss as { type?: string; name?: string } | undefined)?.type === 'custom';
  if (custom) throw new OptionError('model', `serializeCheckpoint: the model's loss is the custom function '${(model.compileOptions!.loss as { name: string }).name}', which a file cannot hold, so it cannot be resumed from one; save its weights with serializeModel (compile again after loading).`);
  if (header.compile === null) throw new OptionError('model', 'serializeCheckpoint: the model is not compiled, so it has no training state; compile it first or save it with serializeModel.');
  const st = model.exportTrainingState();
  const tensors = weightTensors(model);
  for (const s of st.slots) tensors.push({ name: `${SLOT_PREFIX}${s.name}`, dtype: 'f32', shape: [s.data.length], data: s.data });
  const fit = fitResumeState(model);
  const fitJson = fit === null ? null : encode(fit, tensors, 'fit');
  const training: Record<string, unknown> = { step: st.step, lr: st.lr, dropSeed: st.dropSeed, dropCounter: st.dropCounter, fitCount: st.fitCount, tracked: st.tracked };
  if (model.secondOrder) training.secondOrder = secondOrderOut(model.secondOrder.exportState(), tensors);
  return { bytes: writeContainer('checkpoint', { ...header, training, fit: fitJson }, tensors, 'serializeCheckpoint'), fit };
}

/**
 * Loads a checkpoint written by {@link serializeCheckpoint}: rebuilds and compiles the model,
 * restores its weights and optimizer state, and returns the loop state to pass to
 * `fit(..., { resumeFrom })`. The runtime must be initialized (`await init()`).
 *
 * @throws FormatError naming the field for truncated, corrupt or incompatible files (wrong magic,
 * format version, a model file instead of a checkpoint, lengths past the end, absurd
 * sizes, non-finite values, optimizer state that does not match the optimizer — e.g. L-BFGS state
 * with more curvature pairs than `historySize`, vectors of the wrong length, `ro` or `hDiag` <= 0).
 * @example
 * ```ts
 * const { model, resume } = deserializeCheckpoint(bytes);
 * await model.fit(x, y, { epochs: 20, batchSize: 32, resumeFrom: resume, callbacks: [earlyStopping({ patience: 3 })] });
 * ```
 */
export function deserializeCheckpoint(bytes: Uint8Array, options: DeserializeOptions = {}): Checkpoint {
  const W = 'deserializeCheckpoint';
  const c = readContainer(bytes, W, ['checkpoint']);
  if (c.header.compile === null || c.header.compile === undefined) throw new FormatError(`${W}: header.compile is missing; a checkpoint holds a compiled model.`);
  const tr = c.header.training as Record<string, unknown> | null;
  if (tr === null || typeof tr !== 'object') throw new FormatError(`${W}: header.training is not an object.`);
  const slots = c.order.filter((n) => n.startsWith(SLOT_PREFIX)).map((n) => ({ name: n.slice(SLOT_PREFIX.length), data: c.tensors.get(n)!.data as Float32Array }));
  for (const n of c.order) {
    if (n.startsWith(SLOT_PREFIX) && c.tensors.get(n)!.dtype !== 'f32') throw new FormatError(`${W}: tensor '${n}'.dtype is i32; optimizer state is f32.`);
  }
  let resume: FitResumeState | null = null;
  if (c.header.fit !== null && c.header.fit !== undefined) {
    const raw = decode(c.header.fit, c, 'header.fit', 0);
    try {
      resume = checkResumeState(raw);
    } catch (e) {
      if (e instanceof OptionError) throw new FormatError(`${W}: header.fit is invalid: ${e.message}`);
      throw e;
    }
  }
  const model = buildModel(c, W, options.runtime);
  try {
    const so = model.secondOrder;
    if (so) so.importState(secondOrderIn(tr.secondOrder, c, model.compileOptions!.optimizer as FullBatchConfig, so.size, W));
    else if (tr.secondOrder !== undefined) throw new FormatError(`${W}: header.training.secondOrder is present, but the checkpoint's optimizer (${(model.compileOptions?.optimizer as { type?: string } | undefined)?.type}) is not a full-batch one (lbfgs, cg, newton, newtonCG, bfgs).`);
    else {
      const stray = c.order.find((n) => n.startsWith(SECOND_PREFIX));
      if (stray) throw new FormatError(`${W}: tensor '${stray}' is L-BFGS / CG state, but the checkpoint's optimizer is not a full-batch one (lbfgs, cg, newton, newtonCG, bfgs).`);
    }
    model.importTrainingState({
      step: tr.step as number,
      lr: tr.lr as number,
      dropSeed: tr.dropSeed as number,
      dropCounter: tr.dropCounter as number,
      fitCount: tr.fitCount as number,
      tracked: tr.tracked as number[] | undefined,
      slots,
    });
  } catch (e) {
    model.dispose();
    if (e instanceof WasmfitError && !(e instanceof FormatError)) throw new FormatError(`${W}: header.training or the optimizer state is invalid: ${e.message}`);
    throw e;
  }
  return { model, resume };
}

/** Options of {@link checkpointCallback}. */
export interface CheckpointCallbackOptions {
  /** Receives each checkpoint's bytes (and where in training it was taken); may be async. */
  save: (bytes: Uint8Array, at: { epoch: number; batch: number }) => void | Promise<void>;
  /** Write a checkpoint after every this many epochs (default 1; 0 = never at epoch ends). */
  everyEpochs?: number;
  /** Also write one after every this many optimizer steps of the fit (default 0 = never). */
  everyBatches?: number;
}

/**
 * A callback that writes full training checkpoints ({@link serializeCheckpoint}) during `fit`, at
 * epoch ends and/or every N batches, and hands the bytes to `save` (an IndexedDB put, a download,
 * a file write: `modelCheckpoint(path)` in `wasmfit/node` writes files atomically). It runs after
 * every other callback, so what it saves includes their state for that epoch. `at` is the
 * position the checkpoint resumes from (`{ epoch: e + 1, batch: 0 }` after epoch e).
 *
 * @example
 * ```ts
 * let last: Uint8Array | null = null;
 * await model.fit(x, y, { epochs: 10, callbacks: [checkpointCallback({ save: (b) => { last = b; } })] });
 * ```
 */
export function checkpointCallback(options: CheckpointCallbackOptions): Callback {
  if (!options || typeof options.save !== 'function') throw new OptionError('save', 'checkpointCallback: pass { save: (bytes) => ... }.');
  checkOptions('checkpointCallback', options, ['save', 'everyEpochs', 'everyBatches']);
  const every = (name: 'everyEpochs' | 'everyBatches', def: number): number => {
    const v = options[name] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new OptionError(name, `checkpointCallback: ${name} = ${preview(v)}; expected an integer >= 0 (0 = never).`);
    return v;
  };
  const everyEpochs = every('everyEpochs', 1);
  const everyBatches = every('everyBatches', 0);
  let model: Sequential | null = null;
  let steps = 0;
  const write = async (): Promise<void> => {
    const { bytes, fit } = checkpointBytes(model!);
    await options.save(bytes, { epoch: fit?.epoch ?? 0, batch: fit?.batch ?? 0 });
  };
  return {
    runsLast: true,
    setModel(m: CallbackModel) {
      if (!(m instanceof Sequential)) throw new OptionError('model', 'checkpointCallback: only Sequential models can be checkpointed.');
      model = m;
    },
    onTrainBegin() {
      // optimizer steps of this fit so far (a resumed fit continues the checkpointed count)
      steps = fitResumeState(model!)?.globalStep ?? 0;
    },
    async onBatchEnd() {
      steps++;
      if (everyBatches > 0 && steps % everyBatches === 0) await write();
    },
    async onEpochEnd(epoch: number) {
      if (everyEpochs > 0 && (epoch + 1) % everyEpochs === 0) await write();
    },
  };
}
