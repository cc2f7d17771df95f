// A build of another git ref of this repository, for `--against <ref>` in bench/step.mjs and
// bench/gemm.mjs: checked out once as a detached git worktree in bench/.baseline/<sha>
// (git-ignored), with node_modules symlinked from this checkout, and built there with
// `npm run build`. Later runs reuse it (the build is incremental anyway; a finished one is marked).
// Remove one with `git worktree remove --force bench/.baseline/<sha>`.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, symlinkSync, utimesSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const log = (m) => process.stderr.write(`[bench --against] ${m}\n`);
const git = (args, cwd = repoRoot) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * Returns { ref, sha, short, dir, dist } of the baseline build of `ref`, building it first if
 * needed. Build output goes to stderr so a benchmark's stdout stays a clean report.
 */
export function baselineBuild(ref) {
  let sha;
  try {
    sha = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(`--against ${ref}: not a commit of this repository (git rev-parse failed)`);
  }
  const short = sha.slice(0, 7);
  const dir = join(repoRoot, 'bench', '.baseline', sha);
  const done = join(dir, '.bench-baseline-built');
  const dist = join(dir, 'dist');
  if (existsSync(done) && existsSync(join(dist, 'wasmfit.mjs'))) {
    log(`reusing the build of ${ref} (${short}) in ${dir}`);
    return { ref, sha, short, dir, dist };
  }
  if (existsSync(dir) && !existsSync(join(dir, '.git'))) rmSync(dir, { recursive: true, force: true }); // a stray directory
  if (!existsSync(dir)) {
    log(`checking out ${ref} (${short}) into ${dir}`);
    git(['worktree', 'prune']); // forget worktrees whose directory was deleted by hand
    git(['worktree', 'add', '--detach', dir, sha]);
  }
  // node_modules from this checkout; the lock file dated no later than its install marker so
  // scripts/setup.mjs does not reinstall (which would replace the symlink by a fresh install).
  const nm = join(dir, 'node_modules');
  const ownNm = join(repoRoot, 'node_modules');
  if (!existsSync(nm) && !isLink(nm)) symlinkSync(ownNm, nm, 'dir');
  const marker = join(ownNm, '.package-lock.json');
  const lock = join(dir, 'package-lock.json');
  if (existsSync(marker) && existsSync(lock)) {
    const t = statSync(marker).mtime;
    utimesSync(lock, t, t);
  }
  log(`building ${short} (npm run build in ${dir}; once) ...`);
  const t0 = performance.now();
  execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: ['ignore', process.stderr, process.stderr] });
  if (!existsSync(join(dist, 'wasmfit.mjs'))) throw new Error(`building ${ref} produced no ${join(dist, 'wasmfit.mjs')}`);
  writeFileSync(done, `${sha}\n`);
  log(`built ${short} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return { ref, sha, short, dir, dist };
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Short commit of this checkout, with "+dirty" when tracked files differ from it. */
export function currentDescription() {
  try {
    const short = git(['rev-parse', '--short=7', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
    return `${short}${dirty ? '+dirty' : ''}`;
  } catch {
    return 'working tree';
  }
}
