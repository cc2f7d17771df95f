/**
 * Typed errors. Every error wasmfit throws is a {@link WasmfitError} with a stable `code`,
 * so callers can branch on `err.code` (or `instanceof`) instead of parsing messages.
 *
 * Message shape: `<where>: <what was received>; <what is expected>. <how to fix>`.
 */

/** Stable error codes. Never renamed once published. */
export type ErrorCode =
  | 'E_SHAPE'
  | 'E_OPTION'
  | 'E_NON_FINITE'
  | 'E_DISPOSED'
  | 'E_FORMAT'
  | 'E_RUNTIME_SUPPORT'
  | 'E_NOT_INITIALIZED'
  | 'E_BUSY'
  | 'E_MEMORY'
  | 'E_GUARD_BAND'
  | 'E_UNKNOWN_CATEGORY'
  | 'E_NOT_FITTED';

/** Base class of every error wasmfit throws. */
export class WasmfitError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    // set explicitly (not new.target.name): minifiers rename classes
    this.name = 'WasmfitError';
  }
}

/** A tensor or array has the wrong shape, length or feature count. */
export class ShapeError extends WasmfitError {
  constructor(message: string) {
    super('E_SHAPE', message);
    this.name = 'ShapeError';
  }
}

/** An option (hyper-parameter, config field) is missing, of the wrong type or out of range. */
export class OptionError extends WasmfitError {
  /** The name of the offending option, e.g. `'lr'` or `'validationSplit'`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super('E_OPTION', message);
    this.name = 'OptionError';
    this.option = option;
  }
}

/** Input data or a computed loss contains NaN or ±Infinity. */
export class NonFiniteError extends WasmfitError {
  constructor(message: string) {
    super('E_NON_FINITE', message);
    this.name = 'NonFiniteError';
  }
}

/** An object was used after `dispose()`. */
export class DisposedError extends WasmfitError {
  constructor(message: string) {
    super('E_DISPOSED', message);
    this.name = 'DisposedError';
  }
}

/** A file or byte buffer is corrupt, truncated, or written by an incompatible build. */
export class FormatError extends WasmfitError {
  constructor(message: string) {
    super('E_FORMAT', message);
    this.name = 'FormatError';
  }
}

/** The host lacks something wasmfit needs (WebAssembly, SIMD when forced, a module whose ABI matches). */
export class RuntimeSupportError extends WasmfitError {
  constructor(message: string) {
    super('E_RUNTIME_SUPPORT', message);
    this.name = 'RuntimeSupportError';
  }
}

/** A function that needs the WASM module was called before `await init()`. */
export class NotInitializedError extends WasmfitError {
  constructor(message: string) {
    super('E_NOT_INITIALIZED', message);
    this.name = 'NotInitializedError';
  }
}

/**
 * The call conflicts with an operation in progress on the same object, e.g. `compile()` or a
 * second `fit()` while a `fit` is running. Nothing was changed; await the running operation first.
 */
export class BusyError extends WasmfitError {
  constructor(message: string) {
    super('E_BUSY', message);
    this.name = 'BusyError';
  }
}

/**
 * The WASM memory cannot hold what was asked: the allocation would pass the wasm32 4 GiB ceiling,
 * or the host refused to grow the memory. Nothing was allocated and the runtime stays usable:
 * dispose models you no longer need (`model.dispose()`), or use a smaller model or batch size.
 */
export class MemoryError extends WasmfitError {
  /** Bytes the failed allocation asked for. */
  readonly requestedBytes: number;
  /** Bytes of WASM memory committed when it failed (memory never shrinks). */
  readonly committedBytes: number;
  /** Bytes in use by live wasmfit objects when it failed. */
  readonly inUseBytes: number;
  /** The ceiling: 4 GiB for wasm32, lower when the host refused to grow the memory. */
  readonly limitBytes: number;
  constructor(message: string, info: { requestedBytes: number; committedBytes: number; inUseBytes: number; limitBytes: number }) {
    super('E_MEMORY', message);
    this.name = 'MemoryError';
    this.requestedBytes = info.requestedBytes;
    this.committedBytes = info.committedBytes;
    this.inUseBytes = info.inUseBytes;
    this.limitBytes = info.limitBytes;
  }
}


/**
 * A categorical column holds a value its encoder did not see when fitted (scikit-learn's
 * `OneHotEncoder(handle_unknown='error')`). `column` names the raw column, `value` is the cell.
 * Refit on data that has it, or configure the encoder with `handleUnknown: 'ignore'`.
 */
export class UnknownCategoryError extends WasmfitError {
  readonly column: string;
  readonly value: string | number;
  constructor(message: string, column: string, value: string | number) {
    super('E_UNKNOWN_CATEGORY', message);
    this.name = 'UnknownCategoryError';
    this.column = column;
    this.value = value;
  }
}

/** A preprocessing transformer was used (transform, toJSON, a fitted attribute) before `fit`. */
export class NotFittedError extends WasmfitError {
  constructor(message: string) {
    super('E_NOT_FITTED', message);
    this.name = 'NotFittedError';
  }
}
