// A/B of train_step throughput between two builds of wasmfit in ONE process, alternating their
// step windows so drift (thermal, other load, JIT) hits both alike:
//   node bench/step-ab.mjs <distA> <distB> [--rounds 41] [--quick]
// To compare against another commit, `npm run bench:step -- --against <ref>` builds that ref once
// (bench/.baseline/<sha>) and runs the same measurement with A = that build, B = this tree.
// Workloads, windows and statistics: bench/lib/step-ab.mjs and bench/lib/ab.mjs. Reports per build
// the median samples/s (IQR) by wall clock and per CPU-second, and the per-round ratio B/A
// (median, IQR, min–max).
import { runStepAB } from './lib/step-ab.mjs';

const args = process.argv.slice(2);
const ri = args.indexOf('--rounds');
const dists = args.filter((a, i) => !a.startsWith('--') && !(ri >= 0 && i === ri + 1));
if (dists.length !== 2) {
  console.error('usage: node bench/step-ab.mjs <distA> <distB> [--rounds N] [--quick]');
  process.exit(2);
}
const rounds = ri >= 0 ? Number(args[ri + 1]) : args.includes('--quick') ? 5 : 41;
await runStepAB({ dists, rounds });
