// Builds the kernel crate twice (SIMD128 and scalar) for wasm32-unknown-unknown, optimizes both
// with binaryen's wasm-opt, derives the FMA build from the SIMD128 one (scripts/fuse-madd.mjs), and
// embeds their bytes (base64) in ts/runtime/wasm-{simd,scalar}.generated.ts (two files: the loader
// imports the scalar one dynamically, so SIMD hosts never download it) and the FMA build as a patch
// of the SIMD128 bytes in ts/runtime/wasm-fma.generated.ts (a few hundred bytes).
// Skips the work when sources and flags are unchanged (stamp in build/wasm.stamp).
//   node scripts/build-wasm.mjs [--force]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureToolchain } from './toolchain.mjs';
import { fuseMadd } from './fuse-madd.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const crate = join(root, 'crates', 'kernels');
const buildDir = join(root, 'build');
/** Where a variant with `embed: name` is embedded (gzip-compressed, like the SIMD one). */
const generatedFor = (name) => join(root, 'ts', 'runtime', `wasm-${name}.generated.ts`);
const generated = { simd: join(root, 'ts', 'runtime', 'wasm-simd.generated.ts'), scalar: join(root, 'ts', 'runtime', 'wasm-scalar.generated.ts'), fma: join(root, 'ts', 'runtime', 'wasm-fma.generated.ts') };

const COMMON_FLAGS = [
  '-C', 'link-arg=--import-memory', // TypeScript owns the one WebAssembly.Memory
  '-C', 'link-arg=-zstack-size=262144', // kernels use little stack; scratch comes from the arena
  '-C', 'link-arg=--export=__heap_base',
  '-C', 'strip=debuginfo',
];
// `--low-memory-unused` lets wasm-opt fold `ptr + c` (c < 1024) into a load's offset immediate:
// sound here because nothing lives in the first KiB (the 256 KiB stack sits below the data and
// the arena starts at __heap_base; kernels use far less stack than that).
const OPT_FLAGS = ['-O3', '--low-memory-unused', '--optimize-added-constants-propagate'];
// The SIMD128 builds also use the non-trapping float-to-int conversions (i32.trunc_sat_f32_s…):
// every engine with SIMD128 has them (they came years earlier), and Rust's saturating `as` casts
// become one instruction instead of a range-checked branch sequence each (~480 B gzip smaller).
const SIMD = ['-C', 'target-feature=+simd128,+nontrapping-fptoint'];
const SIMD_OPT = ['--enable-simd', '--enable-nontrapping-float-to-int'];
const VARIANTS = [
  { name: 'simd', flags: SIMD, opt: SIMD_OPT, foldSplats: true },
  { name: 'scalar', flags: [], opt: [], foldSplats: false },
  // the kernel tests' modules: the same kernels plus the test-only exports (crates/kernels/src/harness.rs); not embedded
  { name: 'simd-harness', flags: SIMD, opt: SIMD_OPT, foldSplats: true, features: ['harness'] },
  { name: 'scalar-harness', flags: [], opt: [], foldSplats: false, features: ['harness'] },
  // the threaded build (init({ threads }) > 1): the SIMD kernels plus parallel regions, with a
  // shared memory, passive data and an exported stack pointer (sharedMemoryPass); not embedded
  // in the browser entry: ts/runtime/wasm-threads.generated.ts is loaded on demand
  { name: 'simd-threads', flags: SIMD, opt: SIMD_OPT, foldSplats: true, features: ['threads'], shared: true, embed: 'threads' },
];
// Builds made from another's module by a post-link pass, not by cargo: the FMA build is the SIMD128
// module with the GEMM micro-kernel's mul+add fused into f32x4.relaxed_madd (scripts/fuse-madd.mjs),
// byte for byte the same length, so it is embedded as a patch of the SIMD128 bytes; the threaded FMA
// build is the same rewrite of the threaded module, embedded as a patch beside that module's bytes
// (ts/runtime/wasm-threads.generated.ts, loaded on demand). Both fuse the same 8 updates of the same
// micro-kernel, so the FMA build gives the same bits on 1 thread and on several.
const THREAD_FEATURES = ['--enable-threads', '--enable-bulk-memory', '--enable-mutable-globals'];
const DERIVED = [
  { name: 'fma', from: 'simd' },
  { name: 'fma-threads', from: 'simd-threads', features: THREAD_FEATURES },
];

const SPLAT_ADD = /\(v128\.load32_splat align=1\s*\(i32\.add\s*\(local\.get (\$\d+)\)\s*\(i32\.const (\d+)\)\s*\)\s*\)/g;

/**
 * wasm-opt's added-constant folding skips SIMD loads, so the GEMM micro-kernel's
 * `v128.load32_splat (i32.add p c)` keep an i32.add each (one extra instruction per splat in
 * V8's code, ~10% of the inner loop). This folds them into the offset immediate under the same
 * low-memory-unused rule as above (c < 1024), through binaryen's text form.
 */
function foldSplatOffsets(wasmFile, binDir) {
  const text = execFileSync(join(binDir, 'wasm-dis'), [wasmFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  let folded = 0;
  const out = text.replace(SPLAT_ADD, (all, local, c) => {
    if (Number(c) >= 1024) return all;
    folded++;
    return `(v128.load32_splat offset=${c} align=1 (local.get ${local}))`;
  });
  if (folded === 0) throw new Error('build-wasm: found no splat loads to fold; the GEMM micro-kernel changed shape — update foldSplatOffsets');
  const watFile = wasmFile.replace(/\.wasm$/, '.wat');
  writeFileSync(watFile, out);
  execFileSync(join(binDir, 'wasm-as'), ['--enable-simd', '--enable-nontrapping-float-to-int', watFile, '-o', wasmFile], { stdio: 'inherit' });
  return folded;
}

/** Byte length of a data string in binaryen's text form (escapes: \\t \\n \\r \\' \\" \\\\ and \\XX). */
function watStringBytes(str) {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    if (str[i] === '\\') i += '\\tnr"\''.includes(str[i + 1]) ? 1 : 2;
    else if (str.charCodeAt(i) > 126) throw new Error('build-wasm: unexpected non-ASCII byte in a data string');
    n++;
  }
  return n;
}

const MAX_PAGES = 65536;
/**
 * The threaded build's post-link pass. Rust 1.63's prebuilt `core` for wasm32 has no
 * atomics/bulk-memory, so `wasm-ld --shared-memory` refuses it; the kernels need no atomics
 * (the host's workers synchronize with Atomics.wait/notify), so the module is made shareable here,
 * through binaryen's text form:
 * - the imported memory becomes `shared` with a maximum of 4 GiB (SharedArrayBuffer-backed);
 * - active data segments become passive, copied in by the exported `init_memory` (the first
 *   instance calls it once; a worker's instance never rewrites memory that others use);
 * - the stack pointer (the module's only mutable global) is exported, so each instance is given
 *   its own stack before it runs anything.
 */
function sharedMemoryPass(wasmFile, binDir) {
  let text = execFileSync(join(binDir, 'wasm-dis'), [wasmFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const mem = /\(import "env" "memory" \(memory (\$\S+) (\d+)\)\)/;
  if (!mem.test(text)) throw new Error('build-wasm: sharedMemoryPass found no imported memory without a maximum');
  text = text.replace(mem, (_, name, min) => `(import "env" "memory" (memory ${name} ${min} ${MAX_PAGES} shared))`);
  const inits = [];
  text = text.replace(/\(data (\$\S+) \(i32\.const (\d+)\) "((?:[^"\\]|\\.)*)"\)/g, (_, name, off, str) => {
    inits.push(`  (memory.init ${name} (i32.const ${off}) (i32.const 0) (i32.const ${watStringBytes(str)}))\n  (data.drop ${name})`);
    return `(data ${name} "${str}")`;
  });
  if (/\(data \$\S+ \(/.test(text)) throw new Error('build-wasm: sharedMemoryPass left an active data segment');
  const globals = [...text.matchAll(/^ \(global (\$\S+) \(mut i32\)/gm)];
  if (globals.length !== 1) throw new Error(`build-wasm: sharedMemoryPass expected one mutable global (the stack pointer), found ${globals.length}`);
  const extra = ` (func $__wasmfit_init_memory\n${inits.join('\n')}\n )\n (export "init_memory" (func $__wasmfit_init_memory))\n (export "__stack_pointer" (global ${globals[0][1]}))\n`;
  const at = text.lastIndexOf(')');
  text = text.slice(0, at) + extra + text.slice(at);
  const watFile = wasmFile.replace(/\.wasm$/, '.shared.wat');
  writeFileSync(watFile, text);
  execFileSync(join(binDir, 'wasm-as'), ['--enable-simd', '--enable-nontrapping-float-to-int', '--enable-threads', '--enable-bulk-memory', '--enable-mutable-globals', watFile, '-o', wasmFile], { stdio: 'inherit' });
  return inits.length;
}

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function sourceHash() {
  const h = createHash('sha256');
  const files = [join(root, 'Cargo.toml'), join(crate, 'Cargo.toml'), fileURLToPath(import.meta.url), join(root, 'scripts', 'fuse-madd.mjs'), ...walk(join(crate, 'src')).sort()];
  for (const f of files) {
    h.update(relative(root, f));
    h.update(readFileSync(f));
  }
  h.update(JSON.stringify(VARIANTS) + JSON.stringify(DERIVED) + COMMON_FLAGS.join(' ') + OPT_FLAGS.join(' '));
  return h.digest('hex');
}

export function buildWasm({ force = false, log = console.log } = {}) {
  const hash = sourceHash();
  const stamp = join(buildDir, 'wasm.stamp');
  const outputs = [...VARIANTS, ...DERIVED].map((v) => join(buildDir, `wasmfit-${v.name}.wasm`));
  if (!force && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && outputs.every(existsSync) && Object.values(generated).every(existsSync) && VARIANTS.every((v) => !v.embed || existsSync(generatedFor(v.embed)))) {
    return false;
  }
  const tc = ensureToolchain({ log });
  log(`[wasmfit] building kernels with ${tc.version}`);
  mkdirSync(buildDir, { recursive: true });
  const wasmOpt = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'wasm-opt.cmd' : 'wasm-opt');
  if (!existsSync(wasmOpt)) throw new Error('wasm-opt (npm package binaryen) is missing: run `npm ci` first.');
  const b64 = {};
  for (const v of VARIANTS) {
    const targetDir = join(root, 'target', `wasm-${v.name}`);
    const env = { ...process.env, RUSTFLAGS: [...v.flags, ...COMMON_FLAGS].join(' '), RUSTC: tc.rustc };
    const features = v.features ? ['--features', v.features.join(',')] : [];
    execFileSync(tc.cargo, ['build', '--release', '--target', 'wasm32-unknown-unknown', '--target-dir', targetDir, '--manifest-path', join(crate, 'Cargo.toml'), ...features], { stdio: 'inherit', env });
    const raw = join(targetDir, 'wasm32-unknown-unknown', 'release', 'wasmfit_kernels.wasm');
    const out = join(buildDir, `wasmfit-${v.name}.wasm`);
    execFileSync(wasmOpt, [raw, ...OPT_FLAGS, ...v.opt, '--strip-debug', '--strip-producers', '-o', out], { stdio: 'inherit' });
    if (v.foldSplats) log(`[wasmfit] folded ${foldSplatOffsets(out, dirname(wasmOpt))} splat-load offsets`);
    if (v.shared) log(`[wasmfit] shared memory: ${sharedMemoryPass(out, dirname(wasmOpt))} passive data segments`);
    const bytes = readFileSync(out);
    b64[v.name] = bytes.toString('base64');
    log(`[wasmfit] ${relative(root, out)}: ${bytes.length} bytes`);
  }
  const patches = {};
  for (const d of DERIVED) {
    const out = join(buildDir, `wasmfit-${d.name}.wasm`);
    const { fused, patch } = fuseMadd(join(buildDir, `wasmfit-${d.from}.wasm`), out, dirname(wasmOpt), d.features ?? []);
    log(`[wasmfit] ${relative(root, out)}: ${readFileSync(out).length} bytes (${fused} f32x4.relaxed_madd in the GEMM micro-kernel; a ${patch.length}-byte patch of ${d.from})`);
    patches[d.name] = patch.toString('base64');
  }
  // the loader makes the FMA module from the SIMD128 bytes (ts/runtime/loader.ts, patched)
  writeFileSync(generated.fma, `// Generated by scripts/build-wasm.mjs (scripts/fuse-madd.mjs, fmaPatch). Do not edit.\nexport const FMA_PATCH_BASE64 = ${JSON.stringify(patches.fma)};\n`);
  for (const v of VARIANTS.filter((x) => x.embed)) {
    // the threaded FMA build travels as a patch beside the threaded module's bytes
    const fmaPatchLine = v.embed === 'threads' ? `export const THREADS_FMA_PATCH_BASE64 = ${JSON.stringify(patches['fma-threads'])};\n` : '';
    writeFileSync(generatedFor(v.embed), `// Generated by scripts/build-wasm.mjs from crates/kernels (scripts/fuse-madd.mjs for the patch). Do not edit.\nexport const ${v.embed.toUpperCase()}_WASM_GZIP_BASE64 = ${JSON.stringify(gzipSync(Buffer.from(b64[v.name], 'base64'), { level: 9 }).toString('base64'))};\n${fmaPatchLine}`);
  }
  for (const v of VARIANTS.filter((x) => !x.features)) {
    // the SIMD module, which every current host loads, is embedded gzip-compressed (the loader
    // inflates it with DecompressionStream, or node:zlib): 23 KB instead of 31 KB in a gzipped
    // bundle, since gzip cannot undo base64's expansion; the scalar fallback, for hosts that may
    // lack DecompressionStream, stays plain
    const packed = v.name === 'simd';
    const name = `${v.name.toUpperCase()}_WASM_${packed ? 'GZIP_' : ''}BASE64`;
    const data = packed ? gzipSync(Buffer.from(b64[v.name], 'base64'), { level: 9 }).toString('base64') : b64[v.name];
    writeFileSync(generated[v.name], `// Generated by scripts/build-wasm.mjs from crates/kernels. Do not edit.\nexport const ${name} = ${JSON.stringify(data)};\n`);
  }
  writeFileSync(stamp, hash);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildWasm({ force: process.argv.includes('--force') });
}
