/**
 * The registry of layer kinds: each kind's module (its config type, factory and `LayerKind`
 * descriptor) re-exported, and its config in the union. registry.ts finds the descriptors here;
 * the package exports the factories and config types from here.
 */
import type { DenseConfig } from './dense.js';
import type { BatchNormConfig } from './batch-norm.js';
import type { GaussianNoiseConfig } from './gaussian-noise.js';
import type { GaussianDropoutConfig } from './gaussian-dropout.js';
import type { AlphaDropoutConfig } from './alpha-dropout.js';
import type { Conv2dConfig } from './conv2d.js';
import type { GlobalPool2dConfig, Pool2dConfig } from './pooling.js';
import type { AugmentConfig } from './augment.js';
import type { DepthwiseConv2dConfig } from './depthwise-conv2d.js';

export * from './dense.js';
export * from './batch-norm.js';
export * from './gaussian-noise.js';
export * from './gaussian-dropout.js';
export * from './alpha-dropout.js';
export * from './conv2d.js';
export * from './pooling.js';
export * from './augment.js';
export * from './depthwise-conv2d.js';

/** The config of any layer kind. */
export type KindLayerConfig = DenseConfig | BatchNormConfig | GaussianNoiseConfig | GaussianDropoutConfig | AlphaDropoutConfig | Conv2dConfig | Pool2dConfig | GlobalPool2dConfig | AugmentConfig | DepthwiseConv2dConfig;
