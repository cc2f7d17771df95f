/**
 * The main entry's side of the dense second-order methods (`wasmfit/newton`): what `compile`,
 * `fit`, saved models and checkpoints need to know about them without carrying their code. The
 * configs bring their own engine (`createEngine`, non-enumerable); a saved model compiled with one
 * is revived through the factory `wasmfit/newton` registers when it is imported.
 * @internal
 */
import { FormatError } from '../errors/index.js';
import type { Ptr } from '../runtime/arena.js';
import type { Runtime } from '../runtime/loader.js';
import type { EngineState, FlatObjective, StepReport } from './second-order.js';
import type { SecondOrderConfig } from './lbfgs.js';

/** The engine a full-batch optimizer runs on a model's flat objective (SecondOrderEngine has this shape). @internal */
export interface DenseEngine {
  readonly x: Ptr;
  readonly s: { lr: number };
  readonly size: number;
  step(obj: FlatObjective): StepReport;
  exportState(): EngineState;
  importState(st: EngineState): void;
  dispose(): void;
}

/** A newton / newtonCG / bfgs config as the main entry sees it. */
export interface DenseOptimizerConfig {
  readonly type: 'newton' | 'newtonCG' | 'bfgs';
}

/** Any full-batch optimizer config `compile` accepts. */
export type FullBatchConfig = SecondOrderConfig | DenseOptimizerConfig;

const TYPES: readonly string[] = ['newton', 'newtonCG', 'bfgs'];
let reviver: ((raw: unknown) => DenseOptimizerConfig) | null = null;

/** Called by `wasmfit/newton` when it loads. @internal */
export function registerDenseOptimizer(f: (raw: unknown) => DenseOptimizerConfig): void {
  reviver = f;
}

/** True for a config made by newton(), newtonCG() or bfgs(). @internal */
export function isDenseOptimizer(o: unknown): o is DenseOptimizerConfig {
  return typeof o === 'object' && o !== null && TYPES.includes((o as { type?: unknown }).type as string) && typeof (o as { createEngine?: unknown }).createEngine === 'function';
}

/** True for a stored (JSON) newton / newtonCG / bfgs config. @internal */
export function isStoredDenseOptimizer(o: unknown): boolean {
  return typeof o === 'object' && o !== null && TYPES.includes((o as { type?: unknown }).type as string);
}

/** The engine of a dense config (validated by {@link isDenseOptimizer}). @internal */
export function denseEngine(cfg: DenseOptimizerConfig, rt: Runtime, size: number): DenseEngine {
  return (cfg as unknown as { createEngine(rt: Runtime, size: number): DenseEngine }).createEngine(rt, size);
}

/** A stored config back to a live one; FormatError when `wasmfit/newton` was not imported. @internal */
export function reviveDense(raw: unknown, where: string): DenseOptimizerConfig {
  if (!reviver) {
    throw new FormatError(`${where}: the model was compiled with ${String((raw as { type?: unknown }).type)}, which lives in 'wasmfit/newton'; import it (import 'wasmfit/newton') before loading this file.`);
  }
  return reviver(raw);
}
