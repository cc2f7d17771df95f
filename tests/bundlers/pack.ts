// The package as npm publishes it: `npm pack` of the repository, extracted into `dir` (a fresh
// app's node_modules/wasmfit). Uses the dist/ that `npm run build` made.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function packInto(dir: string): { tarball: string; bytes: number } {
  if (!existsSync(join(process.cwd(), 'dist', 'wasmfit.mjs'))) throw new Error('dist/ is missing or stale: run npm run build (npm test does).');
  const dest = mkdtempSync(join(tmpdir(), 'wasmfit-pack-'));
  const out = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: process.cwd(), encoding: 'utf8' })) as { filename: string; size: number }[];
  const tarball = join(dest, out[0]!.filename);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
  return { tarball, bytes: out[0]!.size };
}

export function cleanPack(tarball: string): void {
  rmSync(join(tarball, '..'), { recursive: true, force: true });
}
