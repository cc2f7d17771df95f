// A/B measurement of two builds in one process: their timed windows alternate (round r runs
// A then B for even r, B then A for odd r) so drift (thermal, other load, JIT) hits both alike,
// and each ratio is taken per round (paired) before its median and spread.
// Used by bench/step.mjs and bench/gemm.mjs (--against <ref>) and bench/step-ab.mjs.
import { textTable } from './stats.mjs';

export function median(a) {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
/** Linear-interpolated quantile (q in [0, 1]). */
export function quantile(a, q) {
  const s = [...a].sort((p, r) => p - r);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
}
/** { median, q1, q3, min, max, n } */
export function spread(a) {
  return { median: median(a), q1: quantile(a, 0.25), q3: quantile(a, 0.75), min: Math.min(...a), max: Math.max(...a), n: a.length };
}

/**
 * Runs `rounds` rounds of the two windows `run[0]`, `run[1]` (sync or async; each returns the
 * work it did, e.g. samples or flops) in alternating order and times each by wall clock and by
 * process CPU time (process.cpuUsage, user + system; less sensitive to other processes on a
 * shared machine). Returns per-build rates (work per second) and per-round ratios B/A.
 */
export async function alternate(run, rounds) {
  const wall = [[], []];
  const cpu = [[], []];
  const ratioWall = [];
  const ratioCpu = [];
  for (let r = 0; r < rounds; r++) {
    const w = [0, 0];
    const c = [0, 0];
    for (const b of r % 2 ? [1, 0] : [0, 1]) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const work = await run[b]();
      const dt = (performance.now() - t0) / 1000;
      const cu = process.cpuUsage(c0);
      const dc = Math.max((cu.user + cu.system) / 1e6, 1e-6);
      w[b] = work / dt;
      c[b] = work / dc;
      wall[b].push(w[b]);
      cpu[b].push(c[b]);
    }
    ratioWall.push(w[1] / w[0]);
    ratioCpu.push(c[1] / c[0]);
  }
  return {
    rounds,
    wall: wall.map(spread),
    cpu: cpu.map(spread),
    ratioWall: spread(ratioWall),
    ratioCpu: spread(ratioCpu),
  };
}

const rate = (s, digits) => `${s.median.toFixed(digits)} (${s.q1.toFixed(digits)}–${s.q3.toFixed(digits)})`;
const ratio = (s) => `${s.median.toFixed(3)} [${s.q1.toFixed(3)}–${s.q3.toFixed(3)}] (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;

/**
 * Plain-text table of A/B results: rows = [{ label, res }] from {@link alternate}. Rates as
 * "median (IQR)", ratios B/A as "median [IQR] (min–max)" of the per-round ratios.
 */
export function abTable(rows, { names = ['A', 'B'], unit = '/s', digits = 0, cpu = true } = {}) {
  const q = `${names[1]}/${names[0]}`;
  const head = ['workload', `${names[0]} ${unit}`, `${names[1]} ${unit}`, `${q} wall`];
  if (cpu) head.push(`${names[0]} per CPU-s`, `${names[1]} per CPU-s`, `${q} CPU`);
  const body = rows.map(({ label, res }) => {
    const r = [label, rate(res.wall[0], digits), rate(res.wall[1], digits), ratio(res.ratioWall)];
    if (cpu) r.push(rate(res.cpu[0], digits), rate(res.cpu[1], digits), ratio(res.ratioCpu));
    return r;
  });
  return textTable(head, body);
}

export const abLegend = (names = ['A', 'B']) =>
  `rates: median (interquartile range) over rounds; ${names[1]}/${names[0]}: median [IQR] (min–max) of the per-round ratios of throughput (> 1: ${names[1]} faster); CPU: process.cpuUsage user+system`;
