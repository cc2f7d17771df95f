// Runs a TypeScript child script in a fresh Node process: esbuild bundles it (and the wasmfit
// sources it imports, WASM bytes included) into one .mjs file first.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const cache = new Map<string, Promise<string>>();

/** Bundles `entry` (a .ts file) once per test process; resolves to the .mjs path. */
export function bundle(entry: string): Promise<string> {
  let p = cache.get(entry);
  if (!p) {
    const out = join(mkdtempSync(join(tmpdir(), 'wasmfit-child-')), basename(entry).replace(/\.ts$/, '.mjs'));
    p = build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node18', outfile: out, logLevel: 'error', external: ['mnist'] }).then(() => out);
    cache.set(entry, p);
  }
  return p;
}

/** Runs `node script args...`; resolves with its exit code, signal and output. */
export function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}
