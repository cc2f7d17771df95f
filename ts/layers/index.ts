/**
 * Layers: the factories and config types of every layer kind (kinds.ts), the folded dropout and
 * activation layers, and the helpers that check hand-written configs. Re-exports only.
 */
export * from './kinds.js';
export * from './folded.js';
export * from './shape.js';
export { ACTIVATION_NAMES, isActivationName, LAYER_ACTIVATION_NAMES, type LayerActivation } from './options.js';
export { normalizeLayer, normalizeLayers, type LayerConfig } from './registry.js';
export type { Initializer, InitializerName } from './initializers.js';
export type { ActivationName } from '../runtime/abi.js';
