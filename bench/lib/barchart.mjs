// A small, dependency-free horizontal bar chart in SVG, styled like wasmfit's plotSeries
// (same palette, font, grid colours). Bars are drawn on a log10 axis so ratios from 0.5× to 100×
// read side by side; a dashed line marks 1× and short ticks mark each bar's target when given.

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
}
const r2 = (v) => String(Math.round(v * 100) / 100);

/**
 * groups: [{ name: 'W1 …', bars: [{ label: 'tfjs-wasm', value: 9.1, target?: 8 }] }]
 * A bar whose value is not a finite positive number is drawn as a grey note (`bar.note`).
 * Bars sharing a `key` (default: the label) share a colour.
 * Options: title, xLabel, width (default 720).
 */
export function barChart(groups, options = {}) {
  const width = options.width ?? 720;
  // one colour per library (bar.key, default its label) across all groups
  const keys = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.key ?? b.label)))];
  const color = new Map(keys.map((l, i) => [l, PALETTE[i % PALETTE.length]]));
  const barH = 16;
  const gap = 4;
  const groupGap = 14;
  const top = options.title ? 40 : 16;
  const left = 250;
  const right = 70;
  const plotW = width - left - right;
  let rowsH = 0;
  for (const g of groups) rowsH += 20 + g.bars.length * (barH + gap) + groupGap;
  const bottom = 48;
  const height = top + rowsH + bottom;
  const vals = groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.target])).filter((v) => Number.isFinite(v) && v > 0);
  let lo = Math.floor(Math.log10(Math.min(0.5, ...vals)));
  let hi = Math.ceil(Math.log10(Math.max(2, ...vals)));
  if (hi <= lo) hi = lo + 1;
  const X = (v) => left + ((Math.log10(v) - lo) / (hi - lo)) * plotW;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (options.title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(options.title)}</text>`);
  // grid: 1-2-5 lines per decade; labels on 1-2-5 when the axis spans few decades, else decades only
  const ticks = [];
  for (let e = lo; e <= hi; e++) for (const m of [1, 2, 5]) if (e < hi || m === 1) ticks.push(m * 10 ** e);
  const labelAll = (hi - lo) * 3 * 34 < plotW;
  const yEnd = top + rowsH;
  for (const t of ticks) {
    const x = r2(X(t));
    const major = Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${yEnd}" stroke="${major ? '#d0d0d0' : '#ececec'}" stroke-width="1"/>`);
    if (major || labelAll) out.push(`<text x="${x}" y="${yEnd + 16}" text-anchor="middle" fill="#333">${t >= 1 ? t : t.toPrecision(1)}×</text>`);
  }
  out.push(`<line x1="${r2(X(1))}" y1="${top}" x2="${r2(X(1))}" y2="${yEnd}" stroke="#000" stroke-width="1" stroke-dasharray="4 3"/>`);
  if (options.xLabel) out.push(`<text x="${left + plotW / 2}" y="${yEnd + 36}" text-anchor="middle" fill="#333">${esc(options.xLabel)}</text>`);
  let y = top;
  for (const g of groups) {
    out.push(`<text x="8" y="${r2(y + 14)}" font-weight="bold">${esc(g.name)}</text>`);
    y += 20;
    for (const b of g.bars) {
      out.push(`<text x="${left - 6}" y="${r2(y + barH - 4)}" text-anchor="end" fill="#333">${esc(b.label)}</text>`);
      if (Number.isFinite(b.value) && b.value > 0) {
        // bars grow from 1×: right when wasmfit is faster, left when it is slower
        const x0 = X(1);
        const x1 = X(b.value);
        const [xa, xb] = x1 >= x0 ? [x0, x1] : [x1, x0];
        out.push(`<rect x="${r2(xa)}" y="${r2(y)}" width="${r2(Math.max(1, xb - xa))}" height="${barH}" fill="${color.get(b.key ?? b.label)}" fill-opacity="0.85"/>`);
        const txt = `${b.value >= 10 ? b.value.toFixed(1) : b.value.toFixed(2)}×`;
        out.push(x1 >= x0 ? `<text x="${r2(x1 + 4)}" y="${r2(y + barH - 4)}" fill="#000">${txt}</text>` : `<text x="${r2(x0 + 4)}" y="${r2(y + barH - 4)}" fill="#000">${txt}</text>`);
      } else {
        out.push(`<text x="${left + 4}" y="${r2(y + barH - 4)}" fill="#888" font-style="italic">${esc(b.note ?? 'n/a')}</text>`);
      }
      if (Number.isFinite(b.target) && b.target > 0) {
        const xt = r2(X(b.target));
        out.push(`<line x1="${xt}" y1="${r2(y - 2)}" x2="${xt}" y2="${r2(y + barH + 2)}" stroke="#000" stroke-width="2"/>`);
      }
      y += barH + gap;
    }
    y += groupGap;
  }
  if (groups.some((g) => g.bars.some((b) => Number.isFinite(b.target)))) {
    out.push(`<text x="${width - 8}" y="${yEnd + 36}" text-anchor="end" fill="#333">black tick: target</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
