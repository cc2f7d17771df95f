import { configDefaults, defineConfig } from 'vitest/config';

// tests/relaxed-simd/ runs in a Node started with --experimental-wasm-relaxed-simd (Node 20's V8
// validates relaxed SIMD only with it), so that init() loads the FMA build there; every other file
// runs in a plain Node, where the SIMD128 build is the default.
const RELAXED = 'tests/relaxed-simd/**/*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'node', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, RELAXED] } },
      { extends: true, test: { name: 'relaxed-simd', include: [RELAXED], execArgv: ['--experimental-wasm-relaxed-simd'] } },
    ],
  },
});
