// Native peak of mul+add against fused multiply-add on this CPU, 128-bit vectors (fma-peak.c):
//   node bench/native/fma-peak.mjs [--rounds N]
// Needs gcc on an x86-64 host with FMA3; otherwise it prints why it cannot run. It explains the
// ceiling of the FMA build's GEMM gain (issue: GEMM FMA ≥ 1.5× non-FMA): when both peak alike,
// relaxed_madd saves instructions, not arithmetic pipe time.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ri = process.argv.indexOf('--rounds');
const rounds = ri >= 0 ? Number(process.argv[ri + 1]) : 9;
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds needs a positive integer');
if (process.arch !== 'x64') {
  console.log(`fma-peak: not run: needs an x86-64 host (this one is ${process.arch})`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'wasmfit-fma-peak-'));
try {
  const exe = join(dir, 'fma-peak');
  const cc = spawnSync('gcc', ['-O2', '-mfma', '-ffp-contract=off', '-o', exe, join(dirname(fileURLToPath(import.meta.url)), 'fma-peak.c')], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    console.log(`fma-peak: not run: gcc could not build it (${cc.error ? cc.error.message : cc.stderr.trim().split('\n')[0]})`);
    process.exit(0);
  }
  const r = JSON.parse(execFileSync(exe, [String(rounds)], { encoding: 'utf8' })).rounds;
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const ratios = r.map((x) => x.fma / x.mulAdd);
  console.log(`fma-peak: ${rounds} alternated rounds, the SIMD128 build's 4×8 micro-kernel natively, kc 256 in L1, multiply-adds per ns (= GMAC/s)`);
  console.log(`  mul+add median ${med(r.map((x) => x.mulAdd)).toFixed(1)}, fma median ${med(r.map((x) => x.fma)).toFixed(1)}; fma ÷ mul+add per round median ${med(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
