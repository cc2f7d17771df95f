/**
 * A tiny, dependency-free SVG line chart: learning-rate schedules, or a training History's
 * loss / accuracy curves. Returns an SVG document as a string (write it to a file, or put it in
 * an `<img src="data:image/svg+xml,…">` / `innerHTML`). Deterministic output: the same input
 * gives the same bytes.
 */
import { OptionError } from '../errors/index.js';
import type { Schedule } from '../schedules/index.js';

/** One line: `values[i]` is drawn at `x[i]` (default `i`). Non-finite values break the line. */
export interface Series {
  /** Legend label (escaped for XML). */
  readonly name: string;
  readonly values: ArrayLike<number>;
  /** x coordinates, same length as `values`. Default `0, 1, …`. */
  readonly x?: ArrayLike<number>;
}

/** Options of {@link plotSeries}. */
export interface PlotOptions {
  /** Width in pixels. Default 640. */
  readonly width?: number;
  /** Height in pixels. Default 360. */
  readonly height?: number;
  /** Title above the chart. Default none. */
  readonly title?: string;
  /** x-axis label. Default none ({@link plotSchedules}: the schedules' unit). */
  readonly xLabel?: string;
  /** y-axis label. Default none ({@link plotSchedules}: `'learning rate'`). */
  readonly yLabel?: string;
  /** Logarithmic y axis; values <= 0 are left out (they break the line). Default false. */
  readonly logY?: boolean;
  /** Line colours, cycled. Default a 10-colour palette readable on white. */
  readonly colors?: readonly string[];
}

/** Options of {@link plotSchedules}: {@link PlotOptions} plus the number of samples. */
export interface PlotSchedulesOptions extends PlotOptions {
  /** Each schedule is drawn at `t = 0 … n−1`. Default 100. */
  readonly n?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Escapes text for XML content and attribute values. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function r2(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function bad(option: string, received: string, expected: string, fix: string): never {
  throw new OptionError(option, `plot: option ${option} = ${received}; expected ${expected}. ${fix}`);
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/** Tick label: plain decimals in [1e-3, 1e5), `1e-4` / `2.5e-7` style outside. */
function fmtTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) {
    const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
    return v.toFixed(decimals);
  }
  const [m, e] = v.toExponential(3).split('e') as [string, string];
  const mant = String(Number(m));
  return `${mant}e${Number(e)}`;
}

interface Scale {
  readonly ticks: number[];
  readonly labels: string[];
  map(v: number): number;
}

function linearScale(min: number, max: number, from: number, to: number, count: number): Scale {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = Math.round(lo / step); k <= Math.round(hi / step); k++) ticks.push(k * step);
  return {
    ticks,
    labels: ticks.map((t) => fmtTick(t, step)),
    map: (v) => from + ((v - lo) / (hi - lo)) * (to - from),
  };
}

function logScale(min: number, max: number, from: number, to: number): Scale {
  let lo = Math.floor(Math.log10(min) + 1e-9);
  let hi = Math.ceil(Math.log10(max) - 1e-9);
  if (hi <= lo) {
    lo -= 0;
    hi = lo + 1;
  }
  const ticks: number[] = [];
  const sub = hi - lo <= 2 ? [1, 2, 5] : [1];
  const every = Math.ceil((hi - lo) / 8);
  for (let e = lo; e <= hi; e += every) {
    for (const m of sub) {
      const v = m * 10 ** e;
      if (e === hi && m > 1) continue;
      ticks.push(v);
    }
  }
  return {
    ticks,
    labels: ticks.map((t) => fmtTick(t, t)),
    map: (v) => from + ((Math.log10(v) - lo) / (hi - lo)) * (to - from),
  };
}

function checkSeries(series: unknown): Series[] {
  if (!Array.isArray(series) || series.length === 0) {
    bad('series', Array.isArray(series) ? '[]' : typeof series, 'a non-empty array of { name, values }', 'Pass e.g. [{ name: "loss", values: history.loss }].');
  }
  series.forEach((s: unknown, i: number) => {
    const o = s as Partial<Series> | null;
    if (o === null || typeof o !== 'object' || typeof o.name !== 'string' || o.values === undefined || typeof o.values.length !== 'number') {
      bad(`series[${i}]`, typeof s === 'object' ? 'an object without name/values' : typeof s, 'an object { name: string, values: number[] }', 'Pass a name and an array of numbers.');
    }
    if (o.x !== undefined && o.x.length !== o.values.length) {
      bad(`series[${i}].x`, `an array of length ${o.x.length}`, `the length of values (${o.values.length})`, 'Pass one x per value, or leave x out.');
    }
  });
  return series as Series[];
}

function checkDim(option: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 100 || v > 10000) {
    bad(option, String(v), 'a number of pixels between 100 and 10000', `Pass e.g. ${option}: ${dflt}.`);
  }
  return v;
}

/**
 * Draws line charts of arbitrary series — e.g. a History's `loss` and `val_loss` per epoch — as an
 * SVG string with axes, "nice" 1-2-5 ticks, light grid lines, a legend and one `<polyline>` per
 * series (several when non-finite values, or values <= 0 with `logY`, break it).
 *
 * @example
 * const svg = plotSeries(
 *   [{ name: 'loss', values: history.loss }, { name: 'val_loss', values: history.valLoss }],
 *   { title: 'MNIST MLP', xLabel: 'epoch', logY: true },
 * );
 * fs.writeFileSync('loss.svg', svg);
 */
export function plotSeries(series: readonly Series[], options: PlotOptions = {}): string {
  const list = checkSeries(series);
  if (options === null || typeof options !== 'object') bad('options', String(options), 'an options object', 'Pass e.g. { width: 640, height: 360 }.');
  const width = checkDim('width', options.width, 640);
  const height = checkDim('height', options.height, 360);
  const logY = options.logY === true;
  const colors = options.colors && options.colors.length > 0 ? options.colors : PALETTE;
  const title = options.title;
  const render = (below: boolean): { svg: string; hidden: number } => {
    const top = title ? 34 : 14;
    const bottom = options.xLabel ? 46 : 30;
    const left = options.yLabel ? 78 : 62;
    const right = 16;
    const plotW = width - left - right;
    const charW = 6.6;
    const legendH = 8 + 18 * list.length;
    const plotH = height - top - bottom - (below ? legendH + 6 : 0);

    // Data extents (finite values only; positive only on a log axis).
    let xMin = Infinity;
    let xMax = -Infinity;
    let yMin = Infinity;
    let yMax = -Infinity;
    const usable = (v: number) => Number.isFinite(v) && (!logY || v > 0);
    for (const s of list) {
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i] as number;
        const x = s.x ? (s.x[i] as number) : i;
        if (!usable(v) || !Number.isFinite(x)) continue;
        xMin = Math.min(xMin, x);
        xMax = Math.max(xMax, x);
        yMin = Math.min(yMin, v);
        yMax = Math.max(yMax, v);
      }
    }
    if (xMin === Infinity) {
      xMin = 0;
      xMax = 1;
      yMin = logY ? 0.1 : 0;
      yMax = 1;
    }
    if (!logY && yMin > 0 && yMin < 0.25 * yMax) yMin = 0; // learning rates and losses read best from 0
    const xs = linearScale(xMin, xMax, left, left + plotW, Math.max(2, Math.round(plotW / 90)));
    const ys = logY ? logScale(yMin, yMax, top + plotH, top) : linearScale(yMin, yMax, top + plotH, top, Math.max(2, Math.round(plotH / 55)));

    const out: string[] = [];
    out.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="12">`,
    );
    if (title) out.push(`<title>${esc(title)}</title>`);
    out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
    if (title) out.push(`<text x="${r2(left + plotW / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="600" fill="#222">${esc(title)}</text>`);

    // Grid and ticks.
    out.push('<g stroke="#e6e6e6" stroke-width="1">');
    for (const t of xs.ticks) out.push(`<line x1="${r2(xs.map(t))}" y1="${top}" x2="${r2(xs.map(t))}" y2="${top + plotH}"/>`);
    for (const t of ys.ticks) out.push(`<line x1="${left}" y1="${r2(ys.map(t))}" x2="${left + plotW}" y2="${r2(ys.map(t))}"/>`);
    out.push('</g>');
    out.push(`<g fill="#444" font-size="11">`);
    xs.ticks.forEach((t, i) => out.push(`<text x="${r2(xs.map(t))}" y="${top + plotH + 16}" text-anchor="middle">${esc(xs.labels[i] as string)}</text>`));
    ys.ticks.forEach((t, i) => out.push(`<text x="${left - 6}" y="${r2(ys.map(t) + 4)}" text-anchor="end">${esc(ys.labels[i] as string)}</text>`));
    out.push('</g>');
    // Axes.
    out.push(`<g stroke="#444" stroke-width="1"><line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}"/></g>`);
    if (options.xLabel) out.push(`<text x="${r2(left + plotW / 2)}" y="${top + plotH + 36}" text-anchor="middle" fill="#222">${esc(options.xLabel)}</text>`);
    if (options.yLabel) {
      const cy = top + plotH / 2;
      out.push(`<text x="16" y="${r2(cy)}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${r2(cy)})">${esc(options.yLabel)}</text>`);
    }

    // Lines (points kept to place the legend where it hides the least).
    const drawn: [number, number][] = [];
    list.forEach((s, k) => {
      const color = esc(colors[k % colors.length] as string);
      out.push(`<g fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">`);
      let seg: string[] = [];
      const flush = () => {
        if (seg.length === 1) {
          const [px, py] = (seg[0] as string).split(',');
          out.push(`<circle cx="${px}" cy="${py}" r="2" fill="${color}"/>`);
        } else if (seg.length > 1) out.push(`<polyline points="${seg.join(' ')}"/>`);
        seg = [];
      };
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i] as number;
        const x = s.x ? (s.x[i] as number) : i;
        if (!usable(v) || !Number.isFinite(x)) {
          flush();
          continue;
        }
        const px = xs.map(x);
        const py = ys.map(v);
        const prev = drawn[drawn.length - 1];
        if (seg.length > 0 && prev) {
          // Densify long segments (jumps, sparse data) so the legend placement sees them.
          const steps = Math.min(200, Math.floor(Math.hypot(px - prev[0], py - prev[1]) / 4));
          for (let j = 1; j < steps; j++) drawn.push([prev[0] + ((px - prev[0]) * j) / steps, prev[1] + ((py - prev[1]) * j) / steps]);
        }
        drawn.push([px, py]);
        seg.push(`${r2(px)},${r2(py)}`);
      }
      flush();
      out.push('</g>');
    });

    // Legend (top right, inside the plot).
    const legendW = Math.min(plotW - 8, 34 + charW * Math.max(...list.map((s) => s.name.length)));
    // Candidate corners, best first on ties: top right, top left, bottom right, bottom left.
    const corners: [number, number][] = [
      [left + plotW - legendW - 8, top + 8],
      [left + 8, top + 8],
      [left + plotW - legendW - 8, top + plotH - legendH - 8],
      [left + 8, top + plotH - legendH - 8],
    ];
    const hidden = ([cx, cy]: [number, number]) =>
      drawn.filter(([px, py]) => px >= cx - 4 && px <= cx + legendW + 4 && py >= cy - 4 && py <= cy + legendH + 4).length;
    let [lx, ly] = corners[0] as [number, number];
    let least = hidden([lx, ly]);
    if (below) {
      lx = left;
      ly = height - legendH - 4;
      least = 0;
    } else for (const c of corners.slice(1)) {
      const h = hidden(c);
      if (h < least) {
        least = h;
        [lx, ly] = c;
      }
    }
    out.push(`<g><rect x="${r2(lx)}" y="${ly}" width="${r2(legendW)}" height="${legendH}" rx="4" fill="#ffffff" fill-opacity="0.88" stroke="#cccccc"/>`);
    list.forEach((s, k) => {
      const y = ly + 14 + 18 * k;
      const color = esc(colors[k % colors.length] as string);
      out.push(`<line x1="${r2(lx + 8)}" y1="${y - 4}" x2="${r2(lx + 26)}" y2="${y - 4}" stroke="${color}" stroke-width="2.5"/>`);
      out.push(`<text x="${r2(lx + 32)}" y="${y}" fill="#222">${esc(s.name)}</text>`);
    });
    out.push('</g>');
    out.push('</svg>');
    return { svg: out.join('\n') + '\n', hidden: least };
  };
  const inside = render(false);
  return inside.hidden === 0 ? inside.svg : render(true).svg;
}

/**
 * Plots schedules (sampled at `t = 0 … n−1` with `schedule.sample(n)`) and/or ready-made series
 * on one chart; a schedule's legend label is its `name`. The x label defaults to the first
 * schedule's unit, the y label to `'learning rate'`.
 *
 * @example
 * const svg = plotSchedules(
 *   [cosineAnnealingLR({ lr: 0.1, tMax: 50 }), cosineDecay({ initialLearningRate: 0.1, decaySteps: 50 })],
 *   { n: 120, title: 'Cosine past its end: PyTorch oscillates, Keras clamps' },
 * );
 */
export function plotSchedules(items: readonly (Schedule | Series)[], options: PlotSchedulesOptions = {}): string {
  const n = options.n ?? 100;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) bad('n', String(n), 'an integer >= 1', 'Pass e.g. n: 100 (the number of epochs or steps to draw).');
  if (!Array.isArray(items) || items.length === 0) bad('series', String(items), 'a non-empty array of schedules or { name, values }', 'Pass e.g. [stepLR({ lr: 0.1, stepSize: 10 })].');
  let unit: string | undefined;
  const series: Series[] = items.map((it) => {
    if (typeof it === 'function') {
      const s = it as Schedule;
      unit ??= s.unit;
      return { name: s.name, values: s.sample(n) };
    }
    return it as Series;
  });
  const { n: _n, ...rest } = options;
  return plotSeries(series, { xLabel: unit, yLabel: 'learning rate', ...rest });
}
