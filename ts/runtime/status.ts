/**
 * Kernel statuses → typed errors. Every export that can fail returns one code of {@link STATUS}
 * (crates/kernels/src/abi.rs), and every caller passes it through {@link checkStatus}: no status
 * is ignored, and each code has one meaning and one error type.
 * @internal
 */
import { NonFiniteError, RuntimeSupportError, type WasmfitError } from '../errors/index.js';
import { STATUS } from './abi.js';

/** What a caller knows about a failed call, for the message. */
export interface StatusDetail {
  /** The batch loss the step computed (Σ per-sample loss, or a mean: as the caller reports it). */
  loss?: number;
  /** The tensor that went non-finite, e.g. `dense_1/kernel` or `dense_1/kernel (Adam state s2)`. */
  tensor?: string;
  /** Element index and value found there. */
  index?: number;
  value?: number;
  /** What the caller's state is after the failure (overrides the default text of the status). */
  kept?: string;
  /** Status 4 from a training step (no rollback happened): what the caller holds then. */
  unrestored?: string;
}

const KEPT = 'training stopped and the weights from before that step are kept';

/**
 * The typed error of a non-OK status. `where` names the caller and position (e.g.
 * `fit: epoch 3, batch 17`); `detail` adds what the caller knows.
 */
export function statusError(status: number, where: string, detail: StatusDetail = {}): WasmfitError {
  const at = detail.index !== undefined ? ` (element ${detail.index} = ${detail.value})` : '';
  const fix = 'Lower the learning rate, add gradient clipping (clipNorm) or check the data scale.';
  switch (status) {
    case STATUS.nonFiniteLoss:
      return new NonFiniteError(`${where}; ${detail.kept ?? KEPT}: the loss became ${detail.loss ?? 'non-finite'}, so the step was not taken (optimizer state and batch-norm statistics unchanged). ${fix}`);
    case STATUS.nonFiniteUpdate:
      return new NonFiniteError(
        `${where}; ${detail.kept ?? KEPT}: the update made ${detail.tensor ?? 'a parameter'} non-finite${at} although the loss was finite${detail.loss === undefined ? '' : Number.isFinite(detail.loss) ? ` (${detail.loss})` : ' (in float64; beyond the float32 range)'}, so the step was rolled back (parameters, optimizer state and batch-norm statistics restored bit for bit: the pre-step weights were kept). ${fix}`,
      );
    case STATUS.nonFiniteResult:
      return new NonFiniteError(`${where}: the update made ${detail.tensor ?? 'a parameter'} non-finite${at}; ${detail.unrestored ?? detail.kept ?? 'nothing was written back'}. ${fix}`);
    case STATUS.needsBackup:
      return new RuntimeSupportError(`${where}: the kernel asked for the plan's whole backup (status 5) where the caller cannot run the step again; nothing was changed. This is a wasmfit bug: please report it with the call that caused it.`);
    case STATUS.badArgument:
      return new RuntimeSupportError(`${where}: the kernel refused its arguments (status 2: a malformed record or argument); nothing was changed. This is a wasmfit bug: please report it with the call that caused it.`);
    default:
      return new RuntimeSupportError(`${where}: the kernel returned unknown status ${status}; the module does not match this wasmfit. Rebuild it.`);
  }
}

/** Throws {@link statusError} unless `status` is {@link STATUS.ok}. `detail` may be computed lazily. */
export function checkStatus(status: number, where: string, detail?: StatusDetail | (() => StatusDetail)): void {
  if (status === STATUS.ok) return;
  throw statusError(status, where, typeof detail === 'function' ? detail() : detail);
}
