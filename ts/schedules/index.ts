/**
 * Learning-rate schedules: pure functions of a 0-based counter `t` that declare their unit
 * (`'epoch'` or `'step'`), closed forms only, plus a reduce-on-plateau reducer over explicit
 * JSON state. See docs/schedules.md for every formula and its curve.
 *
 * - PyTorch-named: stepLR, multiStepLR, exponentialLR, cosineAnnealingLR,
 *   cosineAnnealingWarmRestarts, cyclicLR, oneCycleLR, linearLR, polynomialLR, constantLR, lambdaLR.
 * - Keras-named: exponentialDecay, inverseTimeDecay, piecewiseConstantDecay, polynomialDecay,
 *   cosineDecay, cosineDecayRestarts.
 * - Source-document forms: constant, inverseTimeEpochDecay, exponentialEpochDecay,
 *   inverseSqrtDecay, stepDecay, manual.
 * - Composition: warmup, sequentialLR, chained, withPlateau.
 * - Plateau: reduceLROnPlateau (PyTorch), kerasReduceLROnPlateau (Keras).
 * - JSON: schedule.toJSON(), scheduleFromJSON, plateauFromJSON.
 */
export type { Schedule, ScheduleConfig, ScheduleUnit } from './schedule.js';
export {
  stepLR,
  multiStepLR,
  exponentialLR,
  cosineAnnealingLR,
  cosineAnnealingWarmRestarts,
  cyclicLR,
  oneCycleLR,
  linearLR,
  polynomialLR,
  constantLR,
  lambdaLR,
} from './pytorch.js';
export type {
  StepLROptions,
  MultiStepLROptions,
  ExponentialLROptions,
  CosineAnnealingLROptions,
  CosineAnnealingWarmRestartsOptions,
  CyclicLROptions,
  OneCycleLROptions,
  LinearLROptions,
  PolynomialLROptions,
  ConstantLROptions,
  LambdaLROptions,
} from './pytorch.js';
export {
  exponentialDecay,
  inverseTimeDecay,
  piecewiseConstantDecay,
  polynomialDecay,
  cosineDecay,
  cosineDecayRestarts,
} from './keras.js';
export type {
  KerasDecayOptions,
  PiecewiseConstantDecayOptions,
  PolynomialDecayOptions,
  CosineDecayOptions,
  CosineDecayRestartsOptions,
} from './keras.js';
export { constant, inverseTimeEpochDecay, exponentialEpochDecay, inverseSqrtDecay, stepDecay, manual } from './basic.js';
export type {
  ConstantOptions,
  InverseTimeEpochDecayOptions,
  ExponentialEpochDecayOptions,
  InverseSqrtDecayOptions,
  StepDecayOptions,
  ManualOptions,
} from './basic.js';
export { warmup, sequentialLR, chained } from './compose.js';
export type { WarmupOptions } from './compose.js';
export { reduceLROnPlateau, kerasReduceLROnPlateau, withPlateau } from './plateau.js';
export type {
  Plateau,
  PlateauState,
  PlateauConfig,
  ReduceLROnPlateauOptions,
  KerasReduceLROnPlateauOptions,
  ScheduleWithPlateau,
} from './plateau.js';
export { scheduleFromJSON, plateauFromJSON } from './json.js';
