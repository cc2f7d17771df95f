// Small helpers shared by the benchmark harness: medians, timed windows, table formatting.

/** Median of a list of numbers (mean of the two middle values for even lengths). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** { median, min, max, n } of a list of rates. */
export function summarize(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Human number: 12345 → "12,345"; small values keep 3 significant digits. */
export function fmtNum(v) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  return v.toPrecision(3);
}

/** "median (min–max)" of a summary. */
export function fmtSummary(s) {
  return s ? `${fmtNum(s.median)} (${fmtNum(s.min)}–${fmtNum(s.max)})` : '—';
}

export function fmtRatio(r) {
  if (r === undefined || r === null || !Number.isFinite(r)) return '—';
  return r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

export function fmtBytes(b) {
  if (!Number.isFinite(b)) return '—';
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `${(b / 1024).toFixed(1)} KiB`;
}

/** Plain-text table with right-aligned numeric columns (all but the first `leftCols`). */
export function textTable(head, rows, leftCols = 1) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((x, i) => (i < leftCols ? String(x).padEnd(widths[i]) : String(x).padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Markdown table (pipes in cells escaped); `leftCols` lists the left-aligned columns (default the first). */
export function mdTable(head, rows, leftCols = [0]) {
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `| ${head.map((_, i) => (leftCols.includes(i) ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** Resolves on the next macrotask (lets timers and I/O run between windows). */
export const tick = () => new Promise((r) => setImmediate(r));
