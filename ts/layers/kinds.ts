/**
 * The registry of layer kinds: each kind's module (its config type, factory and `LayerKind`
 * descriptor) re-exported, and its config in the union. registry.ts finds the descriptors here;
 * the package exports the factories and config types from here.
 */
import type { DenseConfig } from './dense.js';
import type { BatchNormConfig } from './batch-norm.js';
import type { GaussianNoiseConfig } from './gaussian-noise.js';

export * from './dense.js';
export * from './batch-norm.js';
export * from './gaussian-noise.js';

/** The config of any layer kind. */
export type KindLayerConfig = DenseConfig | BatchNormConfig | GaussianNoiseConfig;
