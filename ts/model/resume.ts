/**
 * Resuming a checkpointed fit: the loop position a checkpoint holds, its validation, and the
 * registry through which a checkpoint taken from a callback reads the running fit's position.
 */
import { OptionError } from '../errors/index.js';
import type { ScheduleConfig } from '../schedules/index.js';

/**
 * Where a running `fit` was when a checkpoint was taken: everything the loop needs to continue
 * exactly. Built by `serializeCheckpoint` from inside `fit`; restored by `fit(..., { resumeFrom })`.
 */
export interface FitResumeState {
  /** The epoch in progress (or the next to start when `batch` is 0). */
  readonly epoch: number;
  /** Batches of `epoch` already done (0: the epoch has not begun). */
  readonly batch: number;
  /** Training rows, batch size and shuffle flag of the run (checked on resume). */
  readonly nTrain: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  /** Shuffling generator state (xoshiro128** words). */
  readonly rng: { readonly s: readonly number[]; readonly spare: number | null };
  /** The current row order (a permutation of 0 … nTrain − 1). */
  readonly idx: Int32Array;
  /** Σ loss and correct count of the batches of `epoch` done so far. */
  readonly lossSum: number;
  readonly correct: number;
  /** Optimizer steps taken in the checkpointed `fit` call (the counter of step-unit schedules). */
  readonly globalStep: number;
  /** The schedule's config (`schedule.toJSON()`), or null. */
  readonly schedule: ScheduleConfig | null;
  /** States of the stateful callbacks, in order. */
  readonly callbacks: readonly { readonly kind: string; readonly state: unknown }[];
  /** Whether a callback had asked training to stop (resuming then runs no more epochs, only `onTrainEnd`, as the uninterrupted run did). */
  readonly stopTraining: boolean;
}

/** The running fits, by model: each reports its current position. */
const activeFits = new WeakMap<object, () => FitResumeState>();

/** Registers the position reporter of the fit running on `model` (until {@link untrackFit}). @internal */
export function trackFit(model: object, position: () => FitResumeState): void {
  activeFits.set(model, position);
}

/** @internal */
export function untrackFit(model: object): void {
  activeFits.delete(model);
}

/**
 * The resume state of the `fit` running on `model` at this moment (from inside a callback), or
 * null when no fit is running. Called from `onEpochEnd` it points at the start of the next epoch;
 * from `onBatchEnd` at the next batch. @internal
 */
export function fitResumeState(model: object): FitResumeState | null {
  return activeFits.get(model)?.() ?? null;
}

/** Validates a resume state (it may come from user code). @internal */
export function checkResumeState(r: unknown): FitResumeState {
  const bad = (what: string): never => {
    throw new OptionError('resumeFrom', `fit: resumeFrom${what}; pass the \`resume\` of deserializeCheckpoint(bytes) or loadCheckpoint(path).`);
  };
  if (r === null || typeof r !== 'object') return bad(` = ${String(r)}`);
  const s = r as Record<string, unknown>;
  const count = (k: string, min = 0) => {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`.${k} = ${String(v)}`);
    return v as number;
  };
  const nTrain = count('nTrain', 1);
  const batchSize = count('batchSize', 1);
  count('epoch');
  const batch = count('batch');
  count('globalStep');
  count('correct');
  if (batch > Math.ceil(nTrain / batchSize)) bad(`.batch = ${batch} is past the epoch's ${Math.ceil(nTrain / batchSize)} batches`);
  if (typeof s.lossSum !== 'number' || !Number.isFinite(s.lossSum)) bad(`.lossSum = ${String(s.lossSum)}`);
  if (typeof s.shuffle !== 'boolean' || typeof s.stopTraining !== 'boolean') bad(' has no shuffle/stopTraining flags');
  const rng = s.rng as { s?: unknown; spare?: unknown } | null;
  if (!rng || !Array.isArray(rng.s) || rng.s.length !== 4 || !rng.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) || rng.s.every((w) => w === 0)) bad('.rng is not a generator state');
  if (rng!.spare !== null && (typeof rng!.spare !== 'number' || !Number.isFinite(rng!.spare))) bad('.rng.spare is not a finite number or null');
  const idx = s.idx;
  if (!(idx instanceof Int32Array) || idx.length !== nTrain) bad(`.idx is not an Int32Array of ${nTrain} row indices`);
  const seen = new Uint8Array(nTrain);
  for (const i of idx as Int32Array) {
    if (i < 0 || i >= nTrain || seen[i]) bad('.idx is not a permutation of the training rows');
    seen[i] = 1;
  }
  if (s.schedule !== null && (typeof s.schedule !== 'object' || Array.isArray(s.schedule))) bad('.schedule is not a schedule config or null');
  if (!Array.isArray(s.callbacks) || !s.callbacks.every((c) => c && typeof c === 'object' && typeof (c as { kind?: unknown }).kind === 'string')) bad('.callbacks is not a list of { kind, state }');
  return s as unknown as FitResumeState;
}
