// Shared plumbing of the examples (not part of the library): "run as a script" detection, the
// reduced-size switch, SVG output, a side-by-side grid of plotSeries charts and small statistics.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** True when the module at `url` is the script node was started with. */
export function isMain(url) {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === url;
}

/** Reduced size: `--quick` on the command line or WASMFIT_EXAMPLES_QUICK=1. */
export function quickFromEnv() {
  return process.argv.includes('--quick') || process.env.WASMFIT_EXAMPLES_QUICK === '1';
}

/**
 * Writes an SVG to docs/img/examples/NAME (or `dir`, or $WASMFIT_EXAMPLES_SVG_DIR); returns the
 * path. `dir: null` skips it.
 */
export function writeSvg(name, svg, dir = process.env.WASMFIT_EXAMPLES_SVG_DIR || join(repoRoot, 'docs', 'img', 'examples')) {
  if (dir === null) return null;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, svg);
  return file;
}

export function rel(p) {
  return p ? relative(process.cwd(), p) : '(not written)';
}

/** Lays out several SVG documents (e.g. plotSeries outputs) in a grid, in one SVG. */
export function svgGrid(svgs, cols) {
  const size = (s) => {
    const m = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(s);
    return m ? [Number(m[1]), Number(m[2])] : [640, 360];
  };
  const sizes = svgs.map(size);
  const cellW = Math.max(...sizes.map((s) => s[0]));
  const cellH = Math.max(...sizes.map((s) => s[1]));
  const rows = Math.ceil(svgs.length / cols);
  const W = cellW * Math.min(cols, svgs.length);
  const H = cellH * rows;
  const parts = svgs.map((s, i) => {
    const x = (i % cols) * cellW;
    const y = Math.floor(i / cols) * cellH;
    return s.replace(/^\s*(<\?xml[^>]*>\s*)?/, '').replace(/<svg\b/, `<svg x="${x}" y="${y}"`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n<rect width="${W}" height="${H}" fill="#ffffff"/>\n${parts.join('\n')}\n</svg>\n`;
}

export function mean(xs) {
  let s = 0;
  for (const v of xs) s += v;
  return s / xs.length;
}

/** Population standard deviation. */
export function std(xs) {
  const m = mean(xs);
  let s = 0;
  for (const v of xs) s += (v - m) ** 2;
  return Math.sqrt(s / xs.length);
}

/** Prints rows as an aligned text table (first column left-aligned). */
export function printTable(head, rows) {
  const cells = rows.map((r) => r.map(String));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of cells) console.log(line(r));
}
