// ESM + CJS bundles and one .d.ts per entry. The WASM bytes are embedded (base64) through
// ts/runtime/wasm-{simd,scalar}.generated.ts (the scalar one in a chunk loaded only where SIMD128 is
// missing), so the bundle works with no bundler and no server setup.
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';

const entries = { wasmfit: 'ts/index.ts', node: 'ts/node.ts', worker: 'ts/worker/index.ts', onnx: 'ts/io/onnx.ts' };
// Scripts, not APIs: the worker script (loaded by `wasmfit/worker` next to itself) and the CLI.
const scripts = { 'worker-thread': 'ts/worker/thread.ts', cli: 'ts/cli/index.ts' };
// csv-parse (the CLI's dependency) and protobufjs (wasmfit/onnx only, an optional peer
// dependency) are never bundled
const external = (id) => id.startsWith('node:') || id === 'csv-parse' || id.startsWith('csv-parse/') || id === 'protobufjs' || id.startsWith('protobufjs/');
const banner = (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : '');

export default [
  {
    input: { ...entries, ...scripts },
    external,
    plugins: [esbuild({ target: 'es2020', minify: true, legalComments: 'none' })],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', sourcemap: true, banner },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', sourcemap: true, exports: 'named', banner },
    ],
  },
  {
    input: entries,
    external,
    plugins: [dts({ compilerOptions: { stripInternal: true } })],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' },
  },
];
