/** Small helpers shared by the CLI commands. @internal */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/**
 * Refuses (CliError) an output path that cannot be written: its directory missing or not a
 * directory, the path itself a directory, or the directory not writable. Called before any work,
 * so a long training run is not lost at the end.
 */
export function checkOutFile(path: string, flag: string): void {
  const full = resolve(path);
  const dir = dirname(full);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${flag}: the directory '${dir}' does not exist; create it first (mkdir -p) or choose another path.`);
    if (code === 'ENOTDIR') throw new CliError(`${flag}: '${path}' goes through a file as if it were a directory; choose another path.`);
    throw new CliError(`${flag}: cannot use '${dir}': ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw new CliError(`${flag}: '${dir}' is not a directory; choose a path inside a directory.`);
  let target;
  try {
    target = statSync(full);
  } catch {
    /* does not exist yet: fine */
  }
  if (target?.isDirectory()) throw new CliError(`${flag}: '${path}' is a directory; give a file path such as '${join(path, 'out')}'.`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new CliError(`${flag}: cannot write in the directory '${dir}' (permission denied); choose another path.`);
  }
}

/**
 * `--flag -1` → `--flag=-1` for string options, so a negative number reaches the flag's own check
 * (node:util parseArgs otherwise calls it "ambiguous", taking it for an option).
 */
export function negativeValuesJoined(argv: readonly string[], options: Record<string, { type: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const opt = a.startsWith('--') && !a.includes('=') ? options[a.slice(2)] : undefined;
    if (opt?.type === 'string' && next !== undefined && /^-(?:\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
