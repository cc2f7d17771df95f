/**
 * A module that engines with relaxed SIMD validate: `(func (param v128) (result v128)
 * (f32x4.relaxed_madd (local.get 0) (local.get 0) (local.get 0)))`. The loader tests it to choose
 * the FMA build; vitest.config.ts tests it to know whether this Node needs
 * --experimental-wasm-relaxed-simd. @internal
 */
export const FMA_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 0, 32, 0, 253, 133, 2, 11);
