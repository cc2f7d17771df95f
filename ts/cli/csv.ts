/**
 * CSV reading for the CLI (csv-parse): a header row, then numeric feature cells. Every error names
 * the file, the line and the column.
 * @internal
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { CliError } from './errors.js';

export interface Table {
  file: string;
  header: string[];
  rows: string[][];
  /** 1-based line in the file where each row starts. */
  lines: number[];
}

export function readCsv(file: string): Table {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, trim: true, bom: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const err = e as Error & { code?: string; lines?: number; record?: unknown[]; column?: unknown };
    const line = err.lines ?? '?';
    if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      const m = /expect (\d+), got (\d+)/.exec(err.message);
      const want = Number(m?.[1]);
      const got = Number(m?.[2]);
      const col = got < want ? `column ${got + 1} is missing` : `column ${want + 1} is extra`;
      throw new CliError(`${file}:${line}: row has ${got} fields but the header has ${want} (${col}). Fix the row, or quote fields that contain commas.`);
    }
    throw new CliError(`${file}:${line}: ${err.message.replace(/\s+/g, ' ')}`);
  }
  if (records.length === 0) throw new CliError(`${file}: the file is empty; expected a header row and data rows.`);
  const header = records[0]!.record;
  const seen = new Set<string>();
  header.forEach((h, i) => {
    if (h === '') throw new CliError(`${file}:${records[0]!.info.lines}: column ${i + 1} has an empty name in the header row.`);
    if (seen.has(h)) throw new CliError(`${file}:${records[0]!.info.lines}: column name '${h}' appears twice in the header row.`);
    seen.add(h);
  });
  const body = records.slice(1);
  if (body.length === 0) throw new CliError(`${file}: no data rows after the header.`);
  return { file, header, rows: body.map((r) => r.record), lines: body.map((r) => r.info.lines) };
}

/** Index of a named column, or a CliError listing the columns. */
export function columnIndex(t: Table, name: string, flag: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) throw new CliError(`${flag} '${name}' is not a column of ${t.file}; its columns are: ${t.header.join(', ')}.`);
  return i;
}

/** Row-major Float32 features from the named columns; non-numeric or non-finite cells are errors. */
export function numericColumns(t: Table, cols: readonly number[]): Float32Array {
  const out = new Float32Array(t.rows.length * cols.length);
  t.rows.forEach((row, r) => {
    cols.forEach((c, j) => {
      const cell = row[c]!;
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new CliError(`${t.file}:${t.lines[r]}: column '${t.header[c]}' (column ${c + 1}): ${cell === '' ? 'empty cell' : `'${cell}' is not a finite number`}; features must be numbers.`);
      }
      out[r * cols.length + j] = v;
    });
  });
  return out;
}

/** Quotes a CSV field when needed (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
