// Pure helpers of bench/browser.mjs (no browser, no timing): the order of a round's windows, the
// per-round ratios, the ratio definitions and the tables. Tested in tests/bench/browser-bench.test.ts.
import { spread } from './ab.mjs';
import { fmtNum, mdTable, textTable } from './stats.mjs';

/**
 * The windows of round `r`: browser and native (python) configurations alternate (browser, python,
 * browser, …; the longer list's rest at the end), each list rotated by `r` so that no
 * configuration always runs first or right after the same neighbour.
 */
export function roundOrder(browserIds, nativeIds, r) {
  const rot = (a) => (a.length ? a.map((_, i) => a[(i + r) % a.length]) : []);
  const b = rot(browserIds);
  const n = rot(nativeIds);
  const out = [];
  for (let i = 0; i < Math.max(b.length, n.length); i++) {
    if (i < b.length) out.push(b[i]);
    if (i < n.length) out.push(n[i]);
  }
  return out;
}

/**
 * { median, q1, q3, min, max, n } of the per-round ratios a[i] / b[i] over the rounds where both
 * were measured (a rate of null/undefined/non-finite: that window failed or did not run), or
 * undefined when no round has both.
 */
export function pairedRatio(a, b) {
  const r = [];
  for (let i = 0; i < Math.min(a?.length ?? 0, b?.length ?? 0); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] > 0) r.push(a[i] / b[i]);
  }
  return r.length ? spread(r) : undefined;
}

/** The ratios the browser section reports (a ÷ b, throughputs), with the targets. */
export function ratioDefs(n) {
  const defs = [
    { a: 'wasmfit-fma-1t', b: 'pytorch', label: 'wasmfit FMA 1 thread ÷ PyTorch 1 thread', targets: { W1: 1.0, W2: 8 } },
    { a: 'wasmfit-simd-1t', b: 'pytorch', label: 'wasmfit SIMD128 1 thread ÷ PyTorch 1 thread' },
    { a: 'wasmfit-fma-1t', b: 'wasmfit-simd-1t', label: 'wasmfit FMA ÷ SIMD128 (1 thread)' },
  ];
  if (n > 1) {
    defs.push({ a: `wasmfit-${n}t`, b: 'wasmfit-simd-1t', label: `wasmfit ${n} threads ÷ 1 thread (SIMD128)`, targets: n === 2 ? { W1: 1.7, W2: 1.0 } : { W2: 1.0 } });
    if (n > 2) defs.push({ a: 'wasmfit-2t', b: 'wasmfit-simd-1t', label: 'wasmfit 2 threads ÷ 1 thread (SIMD128)', targets: { W1: 1.7, W2: 1.0 } });
    defs.push({ a: `wasmfit-fma-${n}t`, b: 'wasmfit-fma-1t', label: `wasmfit FMA ${n} threads ÷ FMA 1 thread` });
    defs.push({ a: `wasmfit-fma-${n}t`, b: `pytorch-${n}t`, label: `wasmfit FMA ${n} threads ÷ PyTorch ${n} threads (every core)`, targets: { W1: 1.0 } });
    defs.push({ a: `wasmfit-${n}t`, b: `pytorch-${n}t`, label: `wasmfit SIMD128 ${n} threads ÷ PyTorch ${n} threads` });
  }
  defs.push({ a: 'wasmfit-simd-1t', b: 'tfjs-wasm-1t', label: 'wasmfit SIMD128 ÷ tfjs-wasm, 1 thread each' });
  if (n > 1) defs.push({ a: `wasmfit-${n}t`, b: `tfjs-wasm-${n}t`, label: `wasmfit ${n} threads ÷ tfjs-wasm threaded build, setThreadsCount(${n})` });
  return defs;
}

const fmtRate = (s) => `${fmtNum(s.median)} (${fmtNum(s.q1)}–${fmtNum(s.q3)})`;
const fmtRatioSpread = (s) => `${s.median.toFixed(2)}× [${s.q1.toFixed(2)}–${s.q3.toFixed(2)}]`;

/**
 * Rows of the throughput table for one workload: [configuration, where, samples/s median (IQR),
 * windows]. `configs`: [{ id, where, label?, reason? }]; `res`: { [id]: { rates, error? } }.
 */
export function rateRows(configs, res, short = false) {
  return configs.map((c) => {
    if (c.reason) return [c.id, c.where, short ? 'cannot run (the reason is listed above)' : `cannot run: ${c.reason}`, '—'];
    const r = res?.[c.id];
    if (!r) return [c.id, c.where, 'not measured', '—'];
    if (r.error) return [c.id, c.where, `failed: ${r.error}`, '—'];
    const ok = r.rates.filter(Number.isFinite);
    if (!ok.length) return [c.id, c.where, 'no window completed', '—'];
    return [c.id, c.where, fmtRate(spread(ok)), String(ok.length)];
  });
}

/** Rows of the ratio table: [ratio, one cell per workload, targets]. */
export function ratioRows(defs, workloads, results) {
  return defs.map((d) => {
    const cells = workloads.map((wl) => {
      const s = pairedRatio(results[wl]?.[d.a]?.rates, results[wl]?.[d.b]?.rates);
      if (!s) return '—';
      const t = d.targets?.[wl];
      return `${fmtRatioSpread(s)}${t === undefined ? '' : s.median >= t ? ' (met)' : ' (NOT met)'}`;
    });
    const targets = d.targets ? Object.entries(d.targets).map(([wl, t]) => `${wl} ≥ ${t}×`).join(', ') : '';
    return [d.label, ...cells, targets];
  });
}

/**
 * The section as plain text (`md` false) or Markdown: per workload the throughput table, then the
 * ratio table. `run`: { title, legend, configs, workloads: [{ id, title }], results, defs, notes }.
 */
export function renderSection(run, md = false) {
  const table = md ? (h, r) => mdTable(h, r, [0, 1]) : (h, r) => textTable(h, r, 2);
  const out = [];
  out.push(md ? run.title : `\n${run.title}`, '');
  if (run.legend) out.push(run.legend, '');
  for (const wl of run.workloads) {
    out.push(md ? `**${wl.title}** — training samples/s, median (interquartile range) over the rounds` : `${wl.title}\ntraining samples/s, median (interquartile range) over the rounds`, '');
    out.push(table(['configuration', 'where', 'samples/s', 'windows'], rateRows(run.configs, run.results[wl.id], !md)), '');
  }
  out.push(md ? '**Ratios** — median [interquartile range] of the per-round ratios (windows of one round run back to back)' : 'ratios: median [interquartile range] of the per-round ratios (windows of one round run back to back)', '');
  out.push(table(['ratio', ...run.workloads.map((w) => w.id), 'target'], ratioRows(run.defs, run.workloads.map((w) => w.id), run.results)));
  if (run.notes?.length) out.push('', ...run.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

/** `text` with the part between the `start` and `end` marker lines replaced by `body` (markers kept). */
export function replaceBetween(text, start, end, body) {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`no ${start} … ${end} section to regenerate`);
  return text.slice(0, a) + `${start}\n${body}\n${end}` + text.slice(b + end.length);
}
