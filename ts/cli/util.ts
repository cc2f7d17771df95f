/** Small helpers shared by the CLI commands. @internal */
import { CliError } from './errors.js';

/** Where a command writes: results to `out` (stdout), progress and notes to `err` (stderr). */
export interface Io {
  out(s: string): void;
  err(s: string): void;
  errStream: { isTTY?: boolean; columns?: number; write(s: string): unknown };
}

/** Parses a numeric flag value; anything else is a one-line usage error. */
export function num(raw: string | undefined, flag: string, o: { int?: boolean; min?: number; max?: number } = {}): number {
  const v = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  const { int = false, min = -Infinity, max = Infinity } = o;
  if (!Number.isFinite(v) || (int && !Number.isInteger(v)) || v < min || v > max) {
    const range = `${min === -Infinity ? '' : `>= ${min}`}${min !== -Infinity && max !== Infinity ? ' and ' : ''}${max === Infinity ? '' : `<= ${max}`}`;
    throw new CliError(`${flag}: '${raw ?? ''}' is not ${int ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}.`);
  }
  return v;
}

/** A plain-text table with a header rule. */
export function formatTable(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

/** RMSE, MAE and R² (1 − SS_res / SS_tot) of predictions against targets, in float64. */
export function regressionMetrics(y: Float64Array, p: Float64Array): { rmse: number; mae: number; r2: number } {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]! / n;
  let se = 0;
  let ae = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    const e = p[i]! - y[i]!;
    se += e * e;
    ae += Math.abs(e);
    tot += (y[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2: tot > 0 ? 1 - se / tot : NaN };
}
