import { configDefaults, defineConfig } from 'vitest/config';
import { FMA_PROBE } from './ts/runtime/probes.js';

// tests/relaxed-simd/ runs in a Node started with --experimental-wasm-relaxed-simd (Node 20's V8
// validates relaxed SIMD only with it), so that init() loads the FMA build there; every other file
// runs in a plain Node, where the SIMD128 build is the default.
const RELAXED = 'tests/relaxed-simd/**/*.test.ts';
// Node >= 22 validates relaxed SIMD by default and refuses the flag ("bad option"), which would
// kill the project's worker: pass it only where it is needed (the loader's relaxed-SIMD probe says).
const relaxedByDefault = WebAssembly.validate(FMA_PROBE);

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
