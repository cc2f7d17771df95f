/**
 * CSV reading for the CLI (csv-parse): a header row, then numeric feature cells. Every error names
 * the file, the line and the column.
 *
 * Numbers are decimal only (`12`, `-0.5`, `.5`, `1e-3`): `0x10`, `0b11`, `0o7` and `Infinity`, which
 * JavaScript's `Number()` would read, are not numbers here. Missing values are the cells listed in
 * {@link isMissing}.
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
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new CliError(`${file}:${line}: the file contains a NUL byte; is it a binary or UTF-16 file? Save it as UTF-8 CSV.`);
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

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The value of a decimal number cell; NaN for anything else (including hex, binary, octal, Infinity). */
export function decimal(cell: string): number {
  return DECIMAL.test(cell) ? Number(cell) : NaN;
}

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);

/** A missing-value cell: empty, or (any case) `NA`, `N/A`, `NaN`, `null`, `None`, `?`. */
export function isMissing(cell: string): boolean {
  return MISSING.has(cell.toLowerCase());
}

/**
 * A target cell as a class label: decimal numbers in canonical form (`0.0` → `0`, `1.50` → `1.5`),
 * so that one number is one class; other cells as they are.
 */
export function classLabel(cell: string): string {
  const v = decimal(cell);
  return Number.isFinite(v) ? String(v) : cell;
}

/** Where `${file}:${line}` points: the column's name and 1-based index. */
export function cellAt(t: Table, r: number, c: number): string {
  return `${t.file}:${t.lines[r]}: column '${t.header[c]}' (column ${c + 1})`;
}

/** The decimal number of a cell; otherwise a CliError naming it. `onMissing` ends the message for a missing-value cell. */
function numericCell(t: Table, r: number, c: number, onMissing: string): number {
  const cell = t.rows[r]![c]!;
  const v = decimal(cell);
  if (!Number.isFinite(v)) {
    const what =
      cell === '' ? `empty cell; features must be numbers: ${onMissing}`
      : isMissing(cell) ? `'${cell}' is a missing value; features must be numbers: ${onMissing}`
      : Number.isFinite(Number(cell)) ? `'${cell}' is not a decimal number (hex, binary and octal literals are not read); features must be numbers`
      : `'${cell}' is not a finite number; features must be numbers (a column of text only is one-hot encoded; this one mixes text and numbers)`;
    throw new CliError(`${cellAt(t, r, c)}: ${what}.`);
  }
  return v;
}

/**
 * Row-major Float32 features from the named columns; non-numeric or non-finite cells are errors.
 * `onMissing` ends the message for a missing-value cell (say what fixes it).
 */
export function numericColumns(t: Table, cols: readonly number[], onMissing = 'fill it in'): Float32Array {
  const out = new Float32Array(t.rows.length * cols.length);
  t.rows.forEach((_, r) => cols.forEach((c, j) => (out[r * cols.length + j] = numericCell(t, r, c, onMissing))));
  return out;
}

/** A cell that reads as a number to JavaScript (decimal, or a hex/binary/octal literal). */
function numberLike(cell: string): boolean {
  return Number.isFinite(decimal(cell)) || (cell.trim() !== '' && Number.isFinite(Number(cell)));
}

/**
 * The named feature columns as rows of cells: a column whose cells are all text (no cell reads as
 * a number) is a text column, kept as strings (one-hot encoded by the caller); every
 * other column must hold decimal numbers, with the errors of {@link numericColumns}. `text` names
 * the text columns when known (predict: from the model file); otherwise they are detected.
 */
export function featureRows(t: Table, cols: readonly number[], onMissing: string, text?: ReadonlySet<string>): { rows: (number | string)[][]; text: boolean[] } {
  const isText = cols.map((c) => (text ? text.has(t.header[c]!) : t.rows.some((row) => !isMissing(row[c]!)) && t.rows.every((row) => isMissing(row[c]!) || !numberLike(row[c]!))));
  const rows = t.rows.map((row, r) =>
    cols.map((c, j) => {
      if (!isText[j]) return numericCell(t, r, c, onMissing);
      const cell = row[c]!;
      if (isMissing(cell)) throw new CliError(`${cellAt(t, r, c)}: ${cell === '' ? 'empty cell' : `'${cell}' is a missing value`} in a text column; ${onMissing}.`);
      return cell;
    }),
  );
  return { rows, text: isText };
}

/** The table without the rows that have a missing cell in `cols`, and the lines of those rows. */
export function dropMissingRows(t: Table, cols: readonly number[]): { table: Table; dropped: number[] } {
  const keep: number[] = [];
  const dropped: number[] = [];
  t.rows.forEach((row, r) => (cols.some((c) => isMissing(row[c]!)) ? dropped : keep).push(r));
  return { table: { ...t, rows: keep.map((r) => t.rows[r]!), lines: keep.map((r) => t.lines[r]!) }, dropped: dropped.map((r) => t.lines[r]!) };
}

/** Quotes a CSV field when needed (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
