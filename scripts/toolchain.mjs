// Finds a Rust toolchain that can build wasm32-unknown-unknown, installing Debian's when it is
// missing and we may (root on Debian). Plain Node, no dependencies: runs before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const TARGET = 'wasm32-unknown-unknown';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return r.status === 0 ? (r.stdout || '').trim() : null;
}

function hasTarget(rustc) {
  const sysroot = run(rustc, ['--print', 'sysroot']);
  return sysroot !== null && existsSync(join(sysroot, 'lib', 'rustlib', TARGET, 'lib'));
}

/** Candidate (rustc, cargo) pairs, the user's own first. */
function candidates() {
  const out = [];
  if (process.env.WASMFIT_RUSTC) out.push({ rustc: process.env.WASMFIT_RUSTC, cargo: process.env.WASMFIT_CARGO || 'cargo' });
  out.push({ rustc: 'rustc', cargo: 'cargo' }); // rustup's (or whatever is on PATH)
  out.push({ rustc: '/usr/bin/rustc', cargo: '/usr/bin/cargo' }); // Debian's
  return out;
}

export function findToolchain() {
  for (const c of candidates()) {
    if (run(c.rustc, ['--version']) === null || run(c.cargo, ['--version']) === null) continue;
    if (hasTarget(c.rustc)) return { ...c, version: run(c.rustc, ['--version']) };
  }
  return null;
}

const HOW_TO = `wasmfit needs a Rust compiler with the ${TARGET} target to build its kernels. Install one of:
  - rustup:  rustup target add ${TARGET}
  - Debian/Ubuntu (offline-capable):  sudo apt-get install rustc cargo libstd-rust-dev-wasm32 lld
then run the command again.`;

export function ensureToolchain({ log = console.log } = {}) {
  let tc = findToolchain();
  if (tc) return tc;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const isDebian = existsSync('/etc/debian_version') && run('apt-get', ['--version']) !== null;
  if (isRoot && isDebian) {
    log('[wasmfit] no Rust toolchain with the wasm32 target found; installing Debian\'s rustc, cargo, libstd-rust-dev-wasm32, lld ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'rustc', 'cargo', 'libstd-rust-dev-wasm32', 'lld'], { stdio: 'inherit', env });
    tc = findToolchain();
    if (tc) return tc;
  }
  throw new Error(HOW_TO);
}

/** Native cargo for `cargo test`: every distinct toolchain present (Debian's 1.63 and rustup's stable). */
export function nativeCargos() {
  const seen = new Set();
  const out = [];
  for (const c of [{ rustc: 'rustc', cargo: 'cargo' }, { rustc: '/usr/bin/rustc', cargo: '/usr/bin/cargo' }]) {
    const v = run(c.rustc, ['--version']);
    if (v === null || run(c.cargo, ['--version']) === null || seen.has(v)) continue;
    seen.add(v);
    out.push({ ...c, version: v });
  }
  return out;
}
