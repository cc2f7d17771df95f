/** {@link fitInWorker} and its job: spawning, the start message, events and the result (re-exported by `index.ts`). */
import type { EarlyStoppingOptions } from '../callbacks/index.js';
import { OptionError, RuntimeSupportError, ShapeError, WasmfitError } from '../errors/index.js';
import type { Features, Labels, Matrix } from '../data/tensor.js';
import { isStringLabels } from '../data/labels.js';
import { preview as previewValue } from '../errors/preview.js';
import type { LayerConfig } from '../layers/index.js';
import type { History, Logs } from '../model/callbacks.js';
import type { FitOptions } from '../model/fit.js';
import type { WeightTensor } from '../model/sequential.js';
import type { CompileOptions } from '../model/compile.js';
import { type OptimizerConfig, optimizerFromName } from '../optimizers/index.js';
import { compiledModule, embeddedModuleBytes, type BuildName, type InitOptions } from '../runtime/loader.js';
import type { Plateau, PlateauConfig, Schedule, ScheduleConfig } from '../schedules/index.js';
import { checkModelSpec, type FitSpec, type ModelSpec } from '../model/spec.js';
import { checkStartTimeout } from './spec.js';
import { checkInputShape } from '../layers/shape.js';
import { type Port, shortUrl, spawnWorker } from './spawn.js';
import { type FromWorker, type PackedFeatures, type PackedTargets, type StartMessage, type WireTensor, fromWireError } from './protocol.js';

/** The model to build inside the worker (a {@link ModelSpec}). */
export type WorkerModelSpec = ModelSpec;

/** Options of {@link fitInWorker}: a {@link FitSpec} plus the worker's own settings. */
export interface WorkerFitOptions extends FitSpec {
  /** Emit `batch` events at most every this many ms (and at each epoch's last batch). Default: no batch events. */
  batchEventMs?: number;
  /** Attach a copy of all weights to every `epoch` event. Default false. */
  epochWeights?: boolean;
  /** Attach the model's predictions on these rows to every `epoch` event (e.g. a grid for a decision boundary). */
  epochPredict?: Features;
  /** How often (ms) the worker's loop yields to read messages such as cancel (default 50). */
  yieldEveryMs?: number;
  /** Where and how to run the worker. */
  worker?: WorkerOptions;
}

/** Options of the worker itself. */
export interface WorkerOptions {
  /**
   * `init` options inside the worker (`simd`, `fma`, `reproducible`, `initialPages`, `wasm` as a URL
   * string, bytes or a `WebAssembly.Module`). Without them the worker runs the build `init()` picks.
   */
  init?: InitOptions;
  /**
   * URL of the worker script (default: wasmfit's `worker-thread.mjs` next to this module, which
   * Vite and webpack emit for you; README, "Bundlers"). A script on another origin than the page
   * is started through a same-origin `blob:` stub that imports it (it needs CORS headers).
   */
  url?: string | URL;
  /**
   * Hand the caller's own buffers to the worker instead of copies (zero-copy; the caller's typed
   * arrays become detached, length 0). Default false: copies are transferred.
   */
  transfer?: boolean;
  /**
   * How long (ms) the worker may take to start: from spawning it until it has loaded the kernel
   * module and reported `ready`. A worker that does not answer in time is terminated and
   * `job.result` rejects with a {@link RuntimeSupportError} naming this option. Default 30000;
   * `Infinity` waits forever.
   */
  startTimeoutMs?: number;
}

export { DEFAULT_START_TIMEOUT_MS } from './spec.js';

/** Events of a {@link FitJob}. */
export interface FitJobEvents {
  /** The kernel module is loaded in the worker. */
  ready: { type: 'ready'; simd: boolean; build?: BuildName };
  /** Training starts: epochs, optimizer steps per epoch, training samples. */
  trainBegin: { type: 'trainBegin'; epochs: number; steps: number; samples: number };
  /** Running metrics of one batch (throttled by `batchEventMs`). */
  batch: { type: 'batch'; epoch: number; batch: number; steps: number; logs: Logs };
  /** One epoch ended: its logs (`loss`, `accuracy`, `lr`, `valLoss`, `valAccuracy`), optional weights and predictions. */
  epoch: { type: 'epoch'; epoch: number; logs: Logs; weights: WeightTensor[] | null; predictions: Matrix | null };
}

/** Any event of a {@link FitJob}. */
export type FitJobEvent = FitJobEvents[keyof FitJobEvents];

/** What `job.result` resolves to. */
export interface WorkerFitResult {
  /** Per-epoch logs, as `fit` returns. */
  history: History;
  /** The final weights (after `restoreBestWeights` when asked), as `getWeights()`. */
  weights: WeightTensor[];
  /**
   * `'completed'`: every epoch ran; `'stopped'`: early stopping ended it; `'cancelled'`:
   * `job.cancel()` ended it at a batch boundary (weights as of that batch); `'nonFinite'`:
   * `terminateOnNaN` ended it.
   */
  status: 'completed' | 'stopped' | 'cancelled' | 'nonFinite';
  /** Whether the worker ran a SIMD128 build (the SIMD128 or the FMA build). */
  simd: boolean;
  /** The build the worker ran (`Runtime.build`): `'fma'`, `'simd'` or `'scalar'`. */
  build: BuildName;
}

/**
 * A training run in a worker. Its outcome can be consumed through any of its surfaces — `result`,
 * the async iterator, or the `'error'` event — and a failure reaches every one of them; consuming
 * one and ignoring the others never produces an unhandled promise rejection.
 */
export interface FitJob {
  /**
   * Resolves when training ends; rejects with the typed error the worker raised (e.g. `ShapeError`),
   * a {@link RuntimeSupportError} when the worker does not start within `worker.startTimeoutMs`,
   * dies (exits, crashes) or breaks the protocol, or the error an event listener threw. A rejection
   * nobody awaits is not reported as unhandled (use the iterator or `on('error')` instead if you like).
   */
  readonly result: Promise<WorkerFitResult>;
  /** Asks the worker to stop at the next batch boundary; `result` then resolves with status `'cancelled'`. */
  cancel(): void;
  /**
   * Subscribes to an event; returns an unsubscribe function. A listener that throws ends the job
   * (the worker is terminated) with that error.
   */
  on<K extends keyof FitJobEvents>(type: K, listener: (event: FitJobEvents[K]) => void): () => void;
  /**
   * Subscribes to the job's failure (the error `result` rejects with); called once, after the last
   * event. Listeners added after the job ended are not called (`await job.result` still rejects).
   */
  on(type: 'error', listener: (error: Error) => void): () => void;
  /**
   * Every event in order, ending when training ends (throws the job's error if it fails, also when
   * the iterator is created after the job failed). Events are buffered from the moment the
   * iterator is created.
   */
  [Symbol.asyncIterator](): AsyncIterator<FitJobEvent>;
}

const OPTION_KEYS = new Set([
  'epochs', 'initialEpoch', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'sampleWeight', 'classWeight',
  'schedule', 'earlyStopping', 'terminateOnNaN', 'reduceLROnPlateau', 'batchEventMs', 'epochWeights', 'epochPredict', 'yieldEveryMs', 'worker',
]);
const PLAIN_FIT_KEYS = ['epochs', 'initialEpoch', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'classWeight', 'yieldEveryMs'] as const;

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

class Packer {
  readonly transfer = new Set<ArrayBuffer>();
  constructor(private readonly own: boolean) {}

  /** A transferable version of `a`: the caller's array itself (own + whole buffer) or a copy. */
  take<T extends Typed>(a: T): T {
    const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
    const out = this.own && whole && !this.transfer.has(a.buffer as ArrayBuffer) ? a : (a.slice() as T);
    this.transfer.add(out.buffer as ArrayBuffer);
    return out;
  }

  features(x: Features, cols: number, where: string): PackedFeatures {
    if (x instanceof Float32Array) return { data: this.take(x) };
    // Float64Array and flat number[] (row-major) are rounded to float32 here, as Sequential.fit does
    if (x instanceof Float64Array || (Array.isArray(x) && typeof x[0] === 'number')) return { data: this.own32(Float32Array.from(x as ArrayLike<number>)) };
    if (Array.isArray(x)) return { data: this.rows(x as readonly (readonly number[])[], cols, where) };
    if (x && typeof x === 'object' && 'data' in x && 'shape' in x) {
      const m = x as Matrix;
      if (!(m.data instanceof Float32Array)) throw new ShapeError(`${where}: x.data must be a Float32Array.`);
      if (m.shape[1] !== cols) throw new ShapeError(`${where}: x has shape [${m.shape.join(', ')}]; the model expects [n, ${cols}]. Pass rows of ${cols} features.`);
      return { data: this.take(m.data) };
    }
    throw new ShapeError(`${where}: x must be a Float32Array, Float64Array, number[] (flat, row-major), number[][] or { data, shape }; received ${previewValue(x)}.`);
  }

  /** A fresh array made here: transferred as it is. */
  private own32(a: Float32Array): Float32Array {
    this.transfer.add(a.buffer as ArrayBuffer);
    return a;
  }

  private rows(x: readonly (readonly number[])[], cols: number, where: string): Float32Array {
    const out = new Float32Array(x.length * cols);
    x.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== cols) throw new ShapeError(`${where}: row ${r} has ${Array.isArray(row) ? row.length : 'no'} values; expected ${cols}. Give every row ${cols} numbers.`);
      out.set(row, r * cols);
    });
    this.transfer.add(out.buffer);
    return out;
  }

  targets(y: Labels | Features, where: string): PackedTargets {
    if (y instanceof Int32Array || y instanceof Uint8Array || y instanceof Uint16Array) return { kind: 'ids', data: this.take(y) };
    if (y instanceof Float32Array) return { kind: 'float', data: this.take(y) };
    if (y instanceof Float64Array) return { kind: 'list', data: this.take(y) };
    if (isStringLabels(y)) {
      throw new OptionError('y', `${where}: y[0] is ${previewValue(y[0])} (string); string class labels do not cross to a worker. Map them to class ids first (e.g. the sorted distinct labels' indices) and set model.classes on the model you build from the result, or train with model.fit on the main thread.`);
    }
    if (Array.isArray(y)) {
      if (y.length === 0 || typeof y[0] === 'number') {
        const out = Float64Array.from(y as readonly number[]);
        this.transfer.add(out.buffer);
        return { kind: 'list', data: out };
      }
      const rows = y as readonly (readonly number[])[];
      const cols = Array.isArray(rows[0]) ? rows[0].length : 0;
      return { kind: 'matrix', data: this.rows(rows, cols, `${where} (labels)`), shape: [rows.length, cols] };
    }
    if (y && typeof y === 'object' && 'data' in y && 'shape' in y) {
      const m = y as Matrix;
      if (!(m.data instanceof Float32Array)) throw new ShapeError(`${where}: y.data must be a Float32Array.`);
      return { kind: 'matrix', data: this.take(m.data), shape: [m.shape[0], m.shape[1]] };
    }
    throw new ShapeError(`${where}: y must be class ids (Int32Array, Uint8Array, Float32Array, number[]), one-hot rows or a target matrix; received ${previewValue(y)}.`);
  }
}

function scheduleJson(s: unknown): ScheduleConfig {
  const cfg = (typeof s === 'function' && typeof (s as Schedule).toJSON === 'function' ? (s as Schedule).toJSON() : s) as ScheduleConfig;
  if (!cfg || typeof cfg !== 'object' || typeof cfg.kind !== 'string') {
    throw new OptionError('schedule', 'fitInWorker: schedule must be a schedule (e.g. cosineAnnealingLR({ lr, tMax })) or its toJSON().');
  }
  if (JSON.stringify(cfg).includes('"<function>"')) {
    throw new OptionError('schedule', `fitInWorker: the schedule ${cfg.kind} holds a user function, which cannot cross to a worker. Use a schedule built from options only.`);
  }
  return cfg;
}

function inputColumns(shape: unknown): number {
  return checkInputShape(shape, 'fitInWorker').reduce((a, b) => a * b, 1);
}

const WORKER_KEYS = ['init', 'url', 'transfer', 'startTimeoutMs'];

const STATUSES = new Set(['completed', 'stopped', 'cancelled', 'nonFinite']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNum = (v: unknown): v is number => typeof v === 'number';
const isWireTensor = (t: unknown): boolean => isObj(t) && typeof t.name === 'string' && Array.isArray(t.shape) && t.data instanceof Float32Array;
const isTensors = (v: unknown): boolean => Array.isArray(v) && v.every(isWireTensor);

/** Whether `m` is a message of the worker protocol with the fields the main thread reads. */
function wellFormed(m: unknown): m is FromWorker {
  if (!isObj(m)) return false;
  switch (m.type) {
    case 'ready':
      return typeof m.simd === 'boolean';
    case 'trainBegin':
      return isNum(m.epochs) && isNum(m.steps) && isNum(m.samples);
    case 'batch':
      return isNum(m.epoch) && isNum(m.batch) && isNum(m.steps) && isObj(m.logs);
    case 'epoch': {
      const p = m.predictions;
      return isNum(m.epoch) && isObj(m.logs) && (m.weights === null || isTensors(m.weights)) && (p === null || (isObj(p) && p.data instanceof Float32Array && Array.isArray(p.shape)));
    }
    case 'done': {
      const h = m.history;
      return typeof m.status === 'string' && STATUSES.has(m.status) && isObj(h) && Array.isArray(h.epoch) && isObj(h.history) && isTensors(m.weights);
    }
    case 'error':
      return isObj(m.error) && typeof m.error.message === 'string';
    default:
      return false;
  }
}

function preview(m: unknown): string {
  try {
    const s = isObj(m) ? `{ type: ${JSON.stringify(m.type)}${Object.keys(m).length > 1 ? ', …' : ''} }` : typeof m === 'string' ? JSON.stringify(m.slice(0, 40)) : String(m);
    return s.length > 80 ? `${s.slice(0, 80)}…` : s;
  } catch {
    return typeof m;
  }
}

/**
 * Trains a model described by `spec` on `(x, y)` in a worker and returns a {@link FitJob}
 * immediately. The worker builds `new Sequential(spec)`, `compile`s it with `spec.optimizer` and
 * `spec.loss`, optionally `setWeights(spec.weights)`, and calls `fit(x, y, options)` — the same
 * code as on the main thread, so the same seed gives bit-identical weights. Callbacks cannot cross
 * threads: the serializable ones are options (`earlyStopping`, `terminateOnNaN`,
 * `reduceLROnPlateau`), and progress comes as `trainBegin` / `batch` / `epoch` events. Tensors are
 * sent as transferred buffers (copies, unless `worker.transfer`). Each job uses its own worker,
 * terminated when the job ends.
 *
 * Throws synchronously ({@link OptionError}, {@link ShapeError}) for what can be checked here
 * (unknown spec keys or options — the message lists the valid ones —, a schedule with user
 * functions, ragged rows), before any worker starts; everything else is validated by the worker
 * and rejects `job.result` with the same typed error `fit` would throw (class and `code` kept).
 * A worker that does not report ready within `worker.startTimeoutMs` (default 30 s), dies, or
 * sends a message outside the protocol fails the job with a {@link RuntimeSupportError}.
 */
export function fitInWorker(spec: WorkerModelSpec, x: Features, y: Labels | Features, options: WorkerFitOptions = {}): FitJob {
  const W = 'fitInWorker';
  checkModelSpec(spec, W);
  if (!options || typeof options !== 'object') throw new OptionError('options', `${W}: options must be an object.`);
  for (const k of Object.keys(options)) {
    if (k === 'callbacks') throw new OptionError('callbacks', `${W}: callbacks cannot cross to a worker; use the earlyStopping / terminateOnNaN / reduceLROnPlateau options and the job's events.`);
    if (!OPTION_KEYS.has(k)) throw new OptionError(k, `${W}: unknown option '${k}'; known options are ${[...OPTION_KEYS].join(', ')}.`);
  }
  const cols = inputColumns(spec.inputShape);
  const wo = options.worker ?? {};
  if (!wo || typeof wo !== 'object') throw new OptionError('worker', `${W}: worker must be an object { init, url, transfer, startTimeoutMs }.`);
  for (const k of Object.keys(wo)) {
    if (!WORKER_KEYS.includes(k)) throw new OptionError(`worker.${k}`, `${W}: unknown option 'worker.${k}'; known: ${WORKER_KEYS.join(', ')}.`);
  }
  const startTimeoutMs = checkStartTimeout(wo.startTimeoutMs, W);
  const bem = options.batchEventMs;
  if (bem !== undefined && (typeof bem !== 'number' || !(bem >= 0))) throw new OptionError('batchEventMs', `${W}: batchEventMs = ${String(bem)}; expected a number of ms >= 0.`);
  const schedule = options.schedule === undefined ? null : scheduleJson(options.schedule);
  let plateau: StartMessage['plateau'] = null;
  if (options.reduceLROnPlateau !== undefined) {
    const r = options.reduceLROnPlateau;
    const reducer = r?.reducer as (Plateau & { toJSON?: () => PlateauConfig }) | PlateauConfig | undefined;
    const config = reducer && typeof (reducer as Plateau).toJSON === 'function' ? (reducer as Plateau).toJSON() : (reducer as PlateauConfig | undefined);
    if (!config || typeof config !== 'object' || typeof config.kind !== 'string') {
      throw new OptionError('reduceLROnPlateau', `${W}: reduceLROnPlateau must be { reducer: reduceLROnPlateau({...}) | kerasReduceLROnPlateau({...}), monitor? }.`);
    }
    plateau = { config, ...(r.monitor !== undefined ? { monitor: r.monitor } : {}) };
  }
  const weightsIn = spec.weights;
  const sw = options.sampleWeight;
  if (sw !== undefined && !(sw instanceof Float32Array) && !Array.isArray(sw)) {
    throw new OptionError('sampleWeight', `${W}: sampleWeight must be a Float32Array or number[] with one weight per sample.`);
  }

  const pk = new Packer(wo.transfer === true);
  const fit: Record<string, unknown> = { yieldEveryMs: 50 };
  for (const k of PLAIN_FIT_KEYS) if (options[k] !== undefined) fit[k] = options[k];
  const { simd, initialPages, fma, reproducible } = wo.init ?? {};
  // which embedded build the worker runs (this thread compiles it): as init() would choose
  const build = { ...(simd !== undefined ? { simd } : {}), ...(fma !== undefined ? { fma } : {}), ...(reproducible !== undefined ? { reproducible } : {}) };
  // a URL string is resolved here, against the page, not against the worker script's location
  const here = (globalThis as { location?: { href: string } }).location?.href;
  const w0 = wo.init?.wasm;
  const wasm: unknown = w0 instanceof URL ? w0.href : typeof w0 === 'string' && here ? new URL(w0, here).href : w0;
  const start: StartMessage = {
    type: 'start',
    init: { ...(simd !== undefined ? { simd } : {}), ...(wasm !== undefined ? { wasm } : {}), ...(initialPages !== undefined ? { initialPages } : {}) },
    model: {
      inputShape: spec.inputShape,
      layers: spec.layers.map((l) => ({ ...l })),
      ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
      // a name ('adam') crosses as the config compile would build from it
      optimizer: typeof spec.optimizer === 'string' ? { ...optimizerFromName(spec.optimizer, W) } : { ...spec.optimizer },
      loss: spec.loss,
      weights: weightsIn ? weightsIn.map((w) => pk.take(w.data)) : null,
    },
    x: pk.features(x, cols, W),
    y: pk.targets(y, W),
    validationData: options.validationData ? [pk.features(options.validationData[0] as Features, cols, `${W} (validationData)`), pk.targets(options.validationData[1], `${W} (validationData)`)] : null,
    sampleWeight: sw === undefined ? null : sw instanceof Float32Array ? pk.take(sw) : Float32Array.from(sw),
    fit,
    schedule,
    earlyStopping: options.earlyStopping ?? null,
    terminateOnNaN: options.terminateOnNaN === true,
    plateau,
    batchEventMs: bem ?? null,
    epochWeights: options.epochWeights === true,
    epochPredict: options.epochPredict !== undefined ? pk.features(options.epochPredict, cols, `${W} (epochPredict)`) : null,
  };
  const listeners = new Map<string, Set<(e: FitJobEvent) => void>>();
  const errorListeners = new Set<(e: Error) => void>();
  const queues = new Set<{ push(e: FitJobEvent | null, err?: Error): void }>();
  let port: Port | null = null;
  let finished = false;
  let failure: Error | undefined;
  let simdUsed = false;
  let buildUsed: BuildName = 'scalar';
  let cancelRequested = false;
  let startTimer: ReturnType<typeof setTimeout> | undefined;
  let resolve!: (r: WorkerFitResult) => void;
  let reject!: (e: Error) => void;
  const result = new Promise<WorkerFitResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The job's failure reaches whoever awaits `result`, iterates, or listens to 'error'. A caller
  // who consumes only one surface must not have the others reported as unhandled rejections
  // (R18: `for await` caught the error, then the process died of `result`'s rejection).
  result.catch(() => undefined);
  const clearStartTimer = (): void => {
    if (startTimer !== undefined) clearTimeout(startTimer);
    startTimer = undefined;
  };
  const finish = (err: Error | null, r?: WorkerFitResult): void => {
    if (finished) return;
    finished = true;
    failure = err ?? undefined;
    clearStartTimer();
    try {
      port?.terminate();
    } catch {
      // already gone
    }
    for (const q of queues) q.push(null, failure);
    queues.clear();
    if (err) {
      reject(err);
      for (const fn of errorListeners) {
        try {
          fn(err);
        } catch (e) {
          // a bug in the caller's error handler: report it as the host reports any uncaught error
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    } else resolve(r!);
  };
  const emit = (e: FitJobEvent): void => {
    for (const fn of [...(listeners.get(e.type) ?? [])]) {
      fn(e); // a throwing listener ends the job (see onMessage)
      if (finished) return;
    }
    for (const q of queues) q.push(e);
  };
  const tensors = (ws: WireTensor[]): WeightTensor[] => ws.map((w) => ({ name: w.name, shape: w.shape, data: w.data }));
  const onMessage = (raw: unknown): void => {
    if (finished) return;
    if (!wellFormed(raw)) {
      finish(new RuntimeSupportError(`${W}: the worker sent a malformed message ${preview(raw)}; expected wasmfit's worker protocol. Check that worker.url is the worker-thread.mjs of this wasmfit build.`));
      return;
    }
    const m = raw;
    try {
      switch (m.type) {
        case 'ready':
          clearStartTimer();
          simdUsed = m.simd;
          buildUsed = m.build ?? (m.simd ? 'simd' : 'scalar');
          emit(m);
          break;
        case 'trainBegin':
        case 'batch':
          emit(m);
          break;
        case 'epoch':
          emit({ type: 'epoch', epoch: m.epoch, logs: m.logs, weights: m.weights ? tensors(m.weights) : null, predictions: m.predictions });
          break;
        case 'done':
          finish(null, { history: m.history, weights: tensors(m.weights), status: m.status, simd: simdUsed, build: buildUsed });
          break;
        case 'error':
          finish(fromWireError(m.error));
          break;
      }
    } catch (e) {
      // an event listener threw: the job ends with the caller's error
      finish(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const url = wo.url !== undefined ? new URL(String(wo.url), (globalThis as { location?: { href: string } }).location?.href) : null;
  const where = url ? shortUrl(url) : "wasmfit's worker-thread.mjs";
  // setTimeout holds at most 2^31 - 1 ms (about 24.8 days); longer limits wait forever
  if (startTimeoutMs <= 2_147_483_647) {
    startTimer = setTimeout(() => {
      finish(
        new RuntimeSupportError(
          `${W}: the worker did not start within ${startTimeoutMs} ms (no 'ready' message from ${where}). ` +
            `If the host is slow to load it, raise the limit with the option worker: { startTimeoutMs: ${Math.max(startTimeoutMs * 4, 120_000)} } (Infinity waits forever); ` +
            `otherwise check that worker.url is wasmfit's worker-thread.mjs.`,
        ),
      );
    }, startTimeoutMs);
  }
  // The worker script embeds no WASM bytes: it gets the module this thread compiled (once, cached
  // by the loader) unless the caller chose another one with worker.init.wasm.
  const module: Promise<WebAssembly.Module | undefined> = wasm !== undefined ? Promise.resolve(undefined) : Promise.resolve().then(() => compiledModule(build, W));
  module.catch(() => undefined); // reported through the chain below, once the worker exists
  spawnWorker(url, onMessage, (e) => finish(e))
    .then((p) => {
      port = p;
      return module;
    })
    .then(
      (mod) => {
        const p = port!;
        if (finished) {
          p.terminate();
          return;
        }
        const notSent = (e: unknown): OptionError =>
          new OptionError(
            'spec',
            `${W}: the spec and options could not be sent to the worker (${(e as Error).name}: ${(e as Error).message}); they must be plain data (numbers, strings, plain objects, typed arrays), without functions or class instances.`,
          );
        const send = (wasm: unknown, extra: ArrayBuffer[] = []): void => {
          const msg: StartMessage = { ...start, ...(wasm === undefined ? {} : { init: { ...start.init, wasm } }), ...(cancelRequested ? { cancelled: true } : {}) };
          p.post(msg, [...pk.transfer, ...extra]);
        };
        try {
          send(mod);
        } catch (e) {
          if (!mod || (e as Error)?.name !== 'DataCloneError') {
            finish(notSent(e));
            return;
          }
          // a host that cannot clone a WebAssembly.Module gets the module's bytes instead
          embeddedModuleBytes(build).then(
            (bytes) => {
              if (finished) return;
              try {
                send(bytes, [bytes.buffer as ArrayBuffer]);
              } catch (e2) {
                finish(notSent(e2));
              }
            },
            (e2: unknown) => finish(e2 instanceof WasmfitError ? e2 : new RuntimeSupportError(`${W}: cannot prepare the kernel module for the worker (${String(e2)}).`)),
          );
        }
      },
      (e: unknown) => finish(e instanceof WasmfitError ? e : new RuntimeSupportError(`${W}: cannot start the worker ${where} (${e instanceof Error ? e.message : String(e)}).`)),
    );

  return {
    result,
    cancel() {
      if (finished) return;
      cancelRequested = true;
      try {
        port?.post({ type: 'cancel' });
      } catch {
        // the worker is gone; its exit or error event ends the job
      }
    },
    on(type: string, listener: (e: never) => void) {
      if (type === 'error') {
        const fn = listener as (e: Error) => void;
        errorListeners.add(fn);
        return () => errorListeners.delete(fn);
      }
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set);
      set.add(listener as (e: FitJobEvent) => void);
      return () => set.delete(listener as (e: FitJobEvent) => void);
    },
    [Symbol.asyncIterator](): AsyncIterator<FitJobEvent> {
      const buffered: FitJobEvent[] = [];
      let ended = finished;
      let error: Error | undefined = finished ? failure : undefined;
      let wake: (() => void) | null = null;
      const q = {
        push(e: FitJobEvent | null, err?: Error) {
          if (e === null) {
            ended = true;
            error = err;
          } else buffered.push(e);
          wake?.();
          wake = null;
        },
      };
      if (!finished) queues.add(q);
      return {
        async next(): Promise<IteratorResult<FitJobEvent>> {
          for (;;) {
            if (buffered.length > 0) return { value: buffered.shift()!, done: false };
            if (ended) {
              queues.delete(q);
              if (error) {
                const e = error;
                error = undefined; // thrown once; later next() calls report the end
                throw e;
              }
              return { value: undefined, done: true };
            }
            await new Promise<void>((r) => (wake = r));
          }
        },
        async return(): Promise<IteratorResult<FitJobEvent>> {
          queues.delete(q);
          ended = true;
          error = undefined;
          buffered.length = 0;
          return { value: undefined, done: true };
        },
      };
    },
  };
}

