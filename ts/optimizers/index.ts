/**
 * The optimizers' public face (re-exports only): the first-order factories (`configs.ts`), their
 * types (`types.ts`) and the full-batch ones (`lbfgs.ts`).
 */
export * from './configs.js';
export type { AdadeltaConfig, AdagradConfig, AdamaxConfig, AdamConfig, ClipOptions, LionConfig, NadamConfig, OptimizerConfig, OptimizerState, RmspropConfig, SgdConfig } from './types.js';
export type { KerasAdagradConfig, KerasAdamConfig, KerasOptimizerConfig, KerasRmspropConfig, KerasSgdConfig, KerasSlotName } from './types.js';
export { lbfgs, cg, Minimizer } from './lbfgs.js';
export type { LbfgsConfig, LbfgsOptions, CgConfig, CgOptions, SecondOrderConfig, LossAndGrad, MinimizeResult, ObjectiveFn, SecondOrderState, StopReason } from './lbfgs.js';
