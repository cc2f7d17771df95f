// Two builds of the same sources, chosen by the `node` export condition (package.json "exports"):
//
// - dist/          Node: ESM + CJS, not minified (an uncaught error prints readable lines, not
//                  the whole minified bundle), static `node:` imports where Node needs them.
// - dist/browser/  everything else (browsers, bundlers, workers, Deno without the node condition):
//                  ESM, minified, and without a single `node:` import. A source file `x.ts` that has
//                  a sibling `x.browser.ts` is replaced by it here (host.ts, spawn.ts, boot.ts).
//
// The WASM bytes are embedded (base64) through ts/runtime/wasm-{simd,scalar}.generated.ts (the
// scalar one in a chunk loaded only where SIMD128 is missing), so the bundle works with no bundler
// and no server setup. The worker scripts (worker-thread.mjs) are built self-contained — one file,
// no chunk imports, so bundlers can emit them as worker entries — and without the WASM bytes: the
// main thread posts its compiled WebAssembly.Module to the worker.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const entries = { wasmfit: 'ts/index.ts', node: 'ts/node.ts', worker: 'ts/worker/index.ts', onnx: 'ts/io/onnx.ts' };
const browserEntries = { wasmfit: 'ts/index.ts', worker: 'ts/worker/index.ts', onnx: 'ts/io/onnx.ts' };
// csv-parse (the CLI's dependency) and protobufjs (wasmfit/onnx only, an optional peer
// dependency) are never bundled
const isPeer = (id) => id === 'csv-parse' || id.startsWith('csv-parse/') || id === 'protobufjs' || id.startsWith('protobufjs/');
const nodeExternal = (id) => id.startsWith('node:') || isPeer(id);

/** Resolves `./x.js` to `x.browser.ts` where that file exists (the browser build's host modules). */
const browserHost = () => ({
  name: 'wasmfit-browser-host',
  resolveId(source, importer) {
    if (!importer || !source.startsWith('.') || !source.endsWith('.js')) return null;
    const alt = join(dirname(importer), source.replace(/\.js$/, '.browser.ts'));
    return existsSync(alt) ? alt : null;
  },
  // the browser build must not reach Node built-ins, even through a dependency
  load(id) {
    if (id.startsWith('node:')) this.error(`the browser build imports ${id}; give the importing module a .browser.ts sibling`);
    return null;
  },
});

/** The worker scripts get the compiled module from the main thread: no embedded bytes. */
const noEmbeddedWasm = () => ({
  name: 'wasmfit-no-embedded-wasm',
  resolveId(source) {
    return /wasm-(simd|scalar|threads)\.generated\.js$/.test(source) ? `\0no-wasm:${source}` : null;
  },
  load(id) {
    if (!id.startsWith('\0no-wasm:')) return null;
    if (id.includes('threads')) return 'export const THREADS_WASM_GZIP_BASE64 = "";';
    return id.includes('simd') ? 'export const SIMD_WASM_GZIP_BASE64 = "";' : 'export const SCALAR_WASM_BASE64 = "";';
  },
});

/** `wasmfit/worker-thread` is a script, not an API: its declaration file says so and exports nothing. */
const threadTypes = (ext) => ({
  name: 'wasmfit-thread-types',
  generateBundle() {
    const source =
      "/** wasmfit's worker script (`new Worker(new URL('wasmfit/worker-thread', import.meta.url), { type: 'module' })`): started by fitInWorker, it exports nothing. */\nexport {};\n";
    this.emitFile({ type: 'asset', fileName: `worker-thread.${ext}`, source });
  },
});

const banner = (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : '');
// an unresolved import would be left as a bare import in the output: fail instead
const onwarn = (w, warn) => {
  if (w.code === 'UNRESOLVED_IMPORT') throw new Error(`rollup: ${w.message}`);
  if (w.code !== 'CIRCULAR_DEPENDENCY') warn(w);
};
// No source maps in the package. Without sourcesContent they point at ts/ files the package does
// not ship (devtools show nothing; Vite's dev server warns "Sourcemap … points to missing source
// files" for every file); with it the tarball grows from 628 kB to 1.1 MB. The Node build is
// readable as it is; debug the browser build from a clone (`npm run build` output is the same).
const nomap = { sourcemap: false };

// The host types the API names, declared for consumers whose `lib` lacks them (no DOM, no
// @types/node, no esnext.disposable): empty interfaces merge with the real ones where a lib has
// them, and `Symbol.dispose` is declared as @types/node and lib.esnext.disposable declare it.
const hostTypes = `declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
  interface URL {}
  interface Blob {}
  interface IDBFactory {}
  namespace WebAssembly {
    interface Module {}
  }
}
`;

export default [
  // Node: ESM + CJS of the APIs, ESM of the CLI; readable output.
  {
    input: { ...entries, cli: 'ts/cli/index.ts' },
    external: nodeExternal,
    onwarn,
    plugins: [esbuild({ target: 'es2022', minify: false, legalComments: 'none', define: { __WASMFIT_VERSION__: JSON.stringify(version) } })],
    output: [{ dir: 'dist', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', banner, ...nomap }],
  },
  {
    input: entries,
    external: nodeExternal,
    onwarn,
    plugins: [esbuild({ target: 'es2022', minify: false, legalComments: 'none' })],
    output: [{ dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', exports: 'named', ...nomap }],
  },
  // Node worker script: one ESM file.
  {
    input: { 'worker-thread': 'ts/worker/thread.ts' },
    external: nodeExternal,
    onwarn,
    plugins: [noEmbeddedWasm(), esbuild({ target: 'es2022', minify: false, legalComments: 'none' })],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].mjs', inlineDynamicImports: true, ...nomap },
  },
  // Browser: minified ESM without node: imports. `worker.mjs` and `worker-thread.mjs` sit side by
  // side: worker.mjs holds the literal `new Worker(new URL('./worker-thread.mjs', import.meta.url))`.
  {
    input: browserEntries,
    external: isPeer,
    onwarn,
    plugins: [browserHost(), esbuild({ target: 'es2020', minify: true, legalComments: 'none' })],
    output: { dir: 'dist/browser', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', ...nomap },
  },
  {
    input: { 'worker-thread': 'ts/worker/thread.ts' },
    external: isPeer,
    onwarn,
    plugins: [browserHost(), noEmbeddedWasm(), esbuild({ target: 'es2020', minify: true, legalComments: 'none' })],
    output: { dir: 'dist/browser', format: 'es', entryFileNames: '[name].mjs', inlineDynamicImports: true, ...nomap },
  },
  // Types: one tree for `import` (.d.ts) and one for `require` (.d.cts).
  ...[
    ['d.ts', 'es'],
    ['d.cts', 'cjs'],
  ].map(([ext]) => ({
    input: entries,
    external: nodeExternal,
    plugins: [dts({ compilerOptions: { stripInternal: true } }), threadTypes(ext)],
    output: { dir: 'dist', format: 'es', entryFileNames: `[name].${ext}`, chunkFileNames: `chunks/[name]-[hash].${ext}`, banner: hostTypes },
  })),
];
