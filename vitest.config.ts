import { configDefaults, defineConfig } from 'vitest/config';

// tests/relaxed-simd/ runs in a Node started with --experimental-wasm-relaxed-simd (Node 20's V8
// validates relaxed SIMD only with it), so that init() loads the FMA build there; every other file
// runs in a plain Node, where the SIMD128 build is the default.
const RELAXED = 'tests/relaxed-simd/**/*.test.ts';
// Node >= 22 validates relaxed SIMD by default and refuses the flag ("bad option"), which would
// kill the project's worker: pass it only where it is needed. The probe is ts/runtime/loader.ts's
// FMA_PROBE, a function `(v128) -> v128` holding one f32x4.relaxed_madd.
const relaxedByDefault = WebAssembly.validate(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 0, 32, 0, 253, 133, 2, 11));

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'node', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, RELAXED] } },
      { extends: true, test: { name: 'relaxed-simd', include: [RELAXED], execArgv: relaxedByDefault ? [] : ['--experimental-wasm-relaxed-simd'] } },
    ],
  },
});
