// ESM + CJS bundles and one .d.ts per entry. The WASM bytes are embedded (base64) through
// ts/runtime/wasm-bytes.generated.ts, so the bundle works with no bundler and no server setup.
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';

const entries = { wasmfit: 'ts/index.ts', node: 'ts/node.ts', onnx: 'ts/io/onnx.ts' };
// protobufjs (wasmfit/onnx only) is an optional peer dependency, never bundled
const external = (id) => id.startsWith('node:') || id === 'protobufjs' || id.startsWith('protobufjs/');

export default [
  {
    input: entries,
    external,
    plugins: [esbuild({ target: 'es2020', minify: true, legalComments: 'none' })],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', sourcemap: true },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', sourcemap: true, exports: 'named' },
    ],
  },
  {
    input: entries,
    external,
    plugins: [dts()],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' },
  },
];
