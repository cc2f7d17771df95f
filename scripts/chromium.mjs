// Finds the Chromium that the browser tests drive (tests/browser, tests/bundlers), installing
// Debian's when it is missing and we may (root on Debian). Plain Node, no dependencies.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.WASMFIT_CHROMIUM ?? '/usr/bin/chromium';

/** The Chromium executable; installs it with apt-get where possible, else throws what to do. */
export function ensureChromium({ log = console.log } = {}) {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = existsSync('/etc/debian_version') && spawnSync('apt-get', ['--version']).status === 0;
  if (process.env.WASMFIT_CHROMIUM === undefined && isRoot && apt) {
    log('installing chromium for the browser tests (apt-get install chromium) ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
    if (existsSync(CHROMIUM)) return CHROMIUM;
  }
  throw new Error(
    `Chromium not found at ${CHROMIUM}; the browser tests need it. Install it (Debian/Ubuntu: sudo apt-get install chromium) or set WASMFIT_CHROMIUM to a Chromium or Chrome executable.`,
  );
}
