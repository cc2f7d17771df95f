/**
 * The callbacks of one fit as one object (tfjs-layers `CallbackList`): the fit loop calls each hook
 * once and the list calls every callback's, in order, awaiting each. Also answers what the loop
 * asks of the callbacks as a whole (stop on a non-finite loss?) and carries their checkpoint state.
 * @internal
 */
import type { Callback, CallbackConfigContext, CallbackModel, Logs } from './callbacks.js';

/** A stateful callback's checkpoint entry. */
export interface CallbackStateEntry {
  kind: string;
  state: unknown;
}

export class CallbackList {
  constructor(readonly callbacks: readonly Callback[]) {}

  /** Some callback asks that a non-finite loss end the fit cleanly (`terminateOnNaN`). */
  get terminateOnNonFinite(): boolean {
    return this.callbacks.some((cb) => cb.terminateOnNonFinite === true);
  }

  private get stateful(): Callback[] {
    return this.callbacks.filter((cb) => typeof cb.getState === 'function');
  }

  checkConfig(context: CallbackConfigContext): void {
    for (const cb of this.callbacks) cb.checkConfig?.(context);
  }

  setModel(model: CallbackModel): void {
    for (const cb of this.callbacks) cb.setModel?.(model);
  }

  async trainBegin(logs: Logs): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainBegin?.(logs);
  }

  async epochBegin(epoch: number): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochBegin?.(epoch, {});
  }

  async batchEnd(batch: number, logs: Logs): Promise<void> {
    for (const cb of this.callbacks) await cb.onBatchEnd?.(batch, logs);
  }

  async epochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochEnd?.(epoch, logs);
  }

  async trainEnd(): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainEnd?.({});
  }

  /** The stateful callbacks' states, in order, for a checkpoint. */
  states(): CallbackStateEntry[] {
    return this.stateful.map((cb) => ({ kind: cb.stateKind ?? 'callback', state: cb.getState!() }));
  }

  /** Hands checkpointed states back, in order (their kinds were checked when the fit options were resolved). */
  restoreStates(saved: readonly CallbackStateEntry[]): void {
    this.stateful.forEach((cb, i) => cb.setState?.(saved[i]!.state));
  }
}
