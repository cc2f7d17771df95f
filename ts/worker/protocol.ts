/**
 * The messages between `fitInWorker` (main thread) and the worker script. Tensors travel as
 * typed arrays whose buffers are in the transfer list; everything else is small plain data
 * (layer configs, optimizer options, schedule JSON).
 * @internal
 */
import {
  BusyError,
  DisposedError,
  FormatError,
  MemoryError,
  NonFiniteError,
  NotFittedError,
  NotInitializedError,
  OptionError,
  RuntimeSupportError,
  ShapeError,
  UnknownCategoryError,
  WasmfitError,
  type ErrorCode,
} from '../errors/index.js';
import type { LayerConfig } from '../layers/index.js';
import type { ModelSpec } from '../model/spec.js';
import type { ScheduleConfig } from '../schedules/index.js';
import type { PlateauConfig } from '../schedules/index.js';
import type { EarlyStoppingOptions } from '../callbacks/index.js';
import type { Logs, History } from '../model/callbacks.js';

/** Features packed for transfer: row-major values (columns = the model's input size). */
export interface PackedFeatures {
  readonly data: Float32Array;
}

/** Labels or targets packed for transfer. `list` is a `number[]` carried as Float64Array. */
export type PackedTargets =
  | { readonly kind: 'ids'; readonly data: Int32Array | Uint8Array | Uint16Array }
  | { readonly kind: 'list'; readonly data: Float64Array }
  | { readonly kind: 'float'; readonly data: Float32Array }
  | { readonly kind: 'matrix'; readonly data: Float32Array; readonly shape: readonly [number, number] };

/** What the worker needs to rebuild and train the model. */
export interface StartMessage {
  readonly type: 'start';
  /**
   * The job was cancelled before this message was sent: the worker builds the model and reports
   * 'cancelled' without a step. (A `cancel` message alone could arrive after a short fit ends: the
   * worker reads messages only when training yields.)
   */
  readonly cancelled?: boolean;
  readonly init: { simd?: boolean; wasm?: unknown; initialPages?: number };
  readonly model: {
    readonly inputShape: number | readonly [number] | readonly [number, number, number];
    readonly layers: readonly LayerConfig[];
    readonly seed?: number;
    /** The optimizer's enumerable fields (its `type` and options); rebuilt with its factory. */
    readonly optimizer: Record<string, unknown>;
    readonly loss: ModelSpec['loss'];
    readonly weights: readonly Float32Array[] | null;
  };
  readonly x: PackedFeatures;
  readonly y: PackedTargets;
  readonly validationData: readonly [PackedFeatures, PackedTargets] | null;
  readonly sampleWeight: Float32Array | null;
  /** Plain fit options (epochs, batchSize, …) that need no conversion. */
  readonly fit: Record<string, unknown>;
  readonly schedule: ScheduleConfig | null;
  readonly earlyStopping: EarlyStoppingOptions | null;
  readonly terminateOnNaN: boolean;
  readonly plateau: { readonly config: PlateauConfig; readonly monitor?: string } | null;
  readonly batchEventMs: number | null;
  readonly epochWeights: boolean;
  readonly epochPredict: PackedFeatures | null;
}

export interface CancelMessage {
  readonly type: 'cancel';
}

export type ToWorker = StartMessage | CancelMessage;

/** A weight tensor as it crosses the boundary. */
export interface WireTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export type FromWorker =
  | { type: 'ready'; simd: boolean; build?: 'fma' | 'simd' | 'scalar' }
  | { type: 'trainBegin'; epochs: number; steps: number; samples: number }
  | { type: 'batch'; epoch: number; batch: number; steps: number; logs: Logs }
  | { type: 'epoch'; epoch: number; logs: Logs; weights: WireTensor[] | null; predictions: { data: Float32Array; shape: [number, number] } | null }
  | { type: 'done'; status: 'completed' | 'stopped' | 'cancelled' | 'nonFinite'; history: History; weights: WireTensor[] }
  | { type: 'error'; error: WireError };

/** An error as it crosses the boundary (Error objects lose their class in structured clone). */
export interface WireError {
  name: string;
  message: string;
  code?: ErrorCode;
  option?: string;
  /** MemoryError's byte counts. */
  memory?: { requestedBytes: number; committedBytes: number; inUseBytes: number; limitBytes: number };
  /** UnknownCategoryError's column and value. */
  category?: { column: string; value: string | number };
}

/** @internal */
export function toWireError(e: unknown): WireError {
  if (e instanceof WasmfitError) {
    return {
      name: e.name,
      message: e.message,
      code: e.code,
      ...(e instanceof OptionError ? { option: e.option } : {}),
      ...(e instanceof UnknownCategoryError ? { category: { column: e.column, value: e.value } } : {}),
      ...(e instanceof MemoryError ? { memory: { requestedBytes: e.requestedBytes, committedBytes: e.committedBytes, inUseBytes: e.inUseBytes, limitBytes: e.limitBytes } } : {}),
    };
  }
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

type FromWire = (w: WireError) => Error;

/**
 * One entry per {@link ErrorCode} (checked at compile time below), so a code added to
 * `ts/errors` without a case here fails the build instead of arriving as a plain `Error`.
 */
const FROM_WIRE = {
  E_SHAPE: (w) => new ShapeError(w.message),
  E_OPTION: (w) => new OptionError(w.option ?? 'options', w.message),
  E_NON_FINITE: (w) => new NonFiniteError(w.message),
  E_DISPOSED: (w) => new DisposedError(w.message),
  E_FORMAT: (w) => new FormatError(w.message),
  E_RUNTIME_SUPPORT: (w) => new RuntimeSupportError(w.message),
  E_NOT_INITIALIZED: (w) => new NotInitializedError(w.message),
  E_BUSY: (w) => new BusyError(w.message),
  // guard bands exist only on test runtimes (ts/runtime/arena.ts); the code and name survive
  E_GUARD_BAND: (w) => {
    const e = new WasmfitError('E_GUARD_BAND', w.message);
    e.name = 'GuardBandError';
    return e;
  },
  E_UNKNOWN_CATEGORY: (w) => new UnknownCategoryError(w.message, w.category?.column ?? '', w.category?.value ?? ''),
  E_NOT_FITTED: (w) => new NotFittedError(w.message),
  E_MEMORY: (w) => new MemoryError(w.message, w.memory ?? { requestedBytes: NaN, committedBytes: NaN, inUseBytes: NaN, limitBytes: NaN }),
} satisfies Record<string, FromWire>;

// compile-time exhaustiveness: fails to build when ErrorCode has a code FROM_WIRE lacks
type MissingWireCodes = Exclude<ErrorCode, keyof typeof FROM_WIRE>;
const exhaustive: [MissingWireCodes] extends [never] ? true : MissingWireCodes = true;
void exhaustive;

/** Rebuilds the typed error class from its wire form. @internal */
export function fromWireError(w: WireError): Error {
  const make = typeof w.code === 'string' && Object.prototype.hasOwnProperty.call(FROM_WIRE, w.code) ? (FROM_WIRE as Record<string, FromWire>)[w.code] : undefined;
  if (make) return make(w);
  const e = new Error(w.message);
  e.name = typeof w.name === 'string' && w.name ? w.name : 'Error';
  return e;
}
