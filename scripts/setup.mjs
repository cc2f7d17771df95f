// Does all the set-up a fresh clone needs, and nothing that is already done:
//   1. npm dependencies (npm install) when node_modules is missing or older than package-lock.json;
//   2. the two WASM modules (SIMD128 + scalar) when the kernel sources changed;
//   3. with --bundle, the rollup bundles in dist/ when the TypeScript sources changed;
//   4. with --browser, Chromium for the browser tests (apt-get where it may; see chromium.mjs).
// Uses only Node built-ins so it can run before `npm ci`.
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[wasmfit] ${m}`);

function depsStale() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(marker)) return true;
  return existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000;
}

if (depsStale()) {
  // `npm install` honours package-lock.json; `npm ci` is avoided because npm 11.19 refuses its own
  // lockfile there (other platforms' optional rollup binaries reported missing).
  log('installing npm dependencies (npm install) ...');
  execSync('npm install --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}

const { buildWasm } = await import('./build-wasm.mjs');
buildWasm({ log });

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

if (process.argv.includes('--bundle')) {
  const h = createHash('sha256');
  for (const f of [...walk(join(root, 'ts')).sort(), join(root, 'rollup.config.mjs'), join(root, 'package.json')]) {
    h.update(relative(root, f));
    h.update(readFileSync(f));
  }
  const hash = h.digest('hex');
  // the stamp lives outside dist/, which is published as it is
  const stamp = join(root, 'build', 'bundle.stamp');
  const outputs = ['dist/wasmfit.mjs', 'dist/worker-thread.mjs', 'dist/browser/wasmfit.mjs', 'dist/browser/worker-thread.mjs'];
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash || !outputs.every((f) => existsSync(join(root, f)))) {
    log('bundling (rollup) ...');
    // start from an empty dist/: chunk names carry content hashes, so old ones would pile up
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    execSync('npx rollup -c --silent', { cwd: root, stdio: 'inherit' });
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, hash);
  }
}

if (process.argv.includes('--browser')) {
  const { ensureChromium } = await import('./chromium.mjs');
  try {
    ensureChromium({ log });
  } catch (e) {
    console.error(`[wasmfit] ${e.message}`);
    process.exit(1);
  }
}
