// Runs the kernel crate's native tests (the scalar kernels against f64 references) with every
// Rust toolchain on the machine: Debian's 1.63 (the minimum we support) and rustup's stable.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeCargos } from './toolchain.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cargos = nativeCargos();
if (cargos.length === 0) {
  console.error('[wasmfit] no cargo found for the native kernel tests; install rustc and cargo.');
  process.exit(1);
}
for (const c of cargos) {
  console.log(`[wasmfit] cargo test with ${c.version}`);
  const targetDir = join(root, 'target', `native-${c.version.split(' ')[1]}`);
  execFileSync(c.cargo, ['test', '--release', '--features', 'harness', '--manifest-path', join(root, 'crates/kernels/Cargo.toml'), '--target-dir', targetDir], {
    stdio: 'inherit',
    env: { ...process.env, RUSTC: c.rustc },
  });
}
