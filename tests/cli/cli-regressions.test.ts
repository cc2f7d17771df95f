// Regression tests for the CLI defects reproduced by ../shared/repros/R19-cli-regression-with-NA.sh,
// R20-cli-out-dir.sh and R24-cli-cosmetic.sh (issue 15, item 6): a missing cell in a numeric target,
// --out into a missing directory, and the one-line-error / class-label / flag-parsing oddities.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rand } from './rand.js';

const CLI = join(process.cwd(), 'dist', 'cli.mjs');
let dir: string;

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Exit code 2, exactly one line on stderr, no stack frame, nothing on stdout. */
function oneLine(r: { code: number; out: string; err: string }, re: RegExp): void {
  expect(r.code, r.err).toBe(2);
  expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
  expect(r.err).not.toMatch(/\n\s+at |internal error/);
  expect(r.err).toMatch(re);
  expect(r.out).toBe('');
}

/** R19's prices.csv, smaller: a continuous target (every value distinct), one 'NA' cell at the end. */
function prices(n: number, last: string): string {
  const r = rand(1);
  const lines = ['a,b,price'];
  for (let i = 0; i < n; i++) {
    const a = r();
    const b = r();
    lines.push(`${a.toFixed(5)},${b.toFixed(5)},${(a * 100 + b * 7 + r()).toFixed(4)}`);
  }
  lines.push(`0.5,0.5,${last}`);
  return lines.join('\n') + '\n';
}

/** R20/R24's two-feature set; `label(i, positive)` writes the label cell. */
function twoBlobs(n: number, label: (i: number, positive: boolean) => string): string {
  const r = rand(7);
  const lines = ['a,b,label'];
  for (let i = 0; i < n; i++) {
    const a = r() * 2 - 1;
    const b = r() * 2 - 1;
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${label(i, a + b > 0)}`);
  }
  return lines.join('\n') + '\n';
}

async function cliMeta(file: string): Promise<Record<string, unknown>> {
  const wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as typeof import('../../ts/index.js');
  return wf.readModelMetadata(readFileSync(join(dir, file)))!.wasmfitCli as Record<string, unknown>;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmfit-cli-regr-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('R19: a missing cell in a numeric target', () => {
  it("'NA' in a numeric target is a one-line error naming the line, the value and --drop-missing (not a 2,001-class classifier)", () => {
    writeFileSync(join(dir, 'prices.csv'), prices(2000, 'NA'));
    // line 1 is the header, so the 2,001st data row is line 2002
    oneLine(run('train', '--data', 'prices.csv', '--target', 'price', '--out', 'p.wasmfit', '--epochs', '1', '--quiet'),
      /prices\.csv:2002: column 'price' \(column 3\): 'NA' is a missing value in a numeric target.*--drop-missing/);
    expect(existsSync(join(dir, 'p.wasmfit'))).toBe(false);
    // the same with --task regression, and for other missing-value spellings
    oneLine(run('train', '--data', 'prices.csv', '--target', 'price', '--task', 'regression', '--out', 'p.wasmfit', '--quiet'), /prices\.csv:2002: .*'NA'/);
    for (const na of ['N/A', 'nan', 'null', '?']) {
      writeFileSync(join(dir, 'prices2.csv'), prices(100, na));
      oneLine(run('train', '--data', 'prices2.csv', '--target', 'price', '--out', 'p.wasmfit', '--quiet'), new RegExp(`prices2\\.csv:102: .*'${na.replace('?', '\\?')}' is a missing value`));
    }
    // an empty target cell: same rule, same option
    writeFileSync(join(dir, 'prices3.csv'), prices(100, ''));
    oneLine(run('train', '--data', 'prices3.csv', '--target', 'price', '--out', 'p.wasmfit', '--quiet'), /prices3\.csv:102: column 'price' \(column 3\): empty target cell.*--drop-missing/);
  });

  it('a stray non-numeric value in an otherwise continuous target is refused in --task auto, naming the line', () => {
    writeFileSync(join(dir, 'typo.csv'), prices(300, '125x'));
    oneLine(run('train', '--data', 'typo.csv', '--target', 'price', '--out', 'p.wasmfit', '--quiet'),
      /typo\.csv:302: column 'price' \(column 3\): '125x' is not a number, but 300 other cells are.*--task classification/);
  });

  it('--drop-missing skips the rows with a missing cell, says how many, and trains the regression', async () => {
    writeFileSync(join(dir, 'prices.csv'), prices(2000, 'NA'));
    const r = run('train', '--data', 'prices.csv', '--target', 'price', '--drop-missing', '--layers', '', '--lr', '0.05', '--epochs', '5', '--out', 'p.wasmfit', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/skipped 1 row with a missing cell \(prices\.csv:2002\)/);
    expect(r.err).toMatch(/1600 training rows, 400 validation rows, 2 features, regression/);
    expect(Number(/R²\s+([-\d.]+)\s+([-\d.]+)/.exec(r.out)![2])).toBeGreaterThan(0.95);
    expect(await cliMeta('p.wasmfit')).toMatchObject({ task: 'regression', classes: null });
    // missing feature cells are skipped too; without the option they name it
    writeFileSync(join(dir, 'holes.csv'), 'a,b,y\n1,2,3\nNA,3,4\n2,,5\n3,4,6\n4,5,7\n5,6,8\n6,7,9\n');
    oneLine(run('train', '--data', 'holes.csv', '--target', 'y', '--out', 'h.wasmfit', '--quiet'), /holes\.csv:3: column 'a' \(column 1\): 'NA' is a missing value.*--drop-missing/);
    const h = run('train', '--data', 'holes.csv', '--target', 'y', '--drop-missing', '--task', 'regression', '--validation-split', '0', '--epochs', '1', '--out', 'h.wasmfit', '--quiet');
    expect(h.code, h.err).toBe(0);
    expect(h.err).toMatch(/skipped 2 rows with a missing cell \(holes\.csv:3, 4\)/);
    expect(h.err).toMatch(/5 training rows/);
  });
});

describe('R20: --out is checked before any work', () => {
  it('train --out into a missing directory fails at once, before training, naming the directory', () => {
    writeFileSync(join(dir, 'd.csv'), twoBlobs(300, (_i, p) => (p ? 'yes' : 'no')));
    const t0 = Date.now();
    oneLine(run('train', '--data', 'd.csv', '--target', 'label', '--out', join('missing', 'm.wasmfit'), '--epochs', '30', '--quiet'),
      /--out: the directory '.*missing' does not exist; create it first \(mkdir -p\) or choose another path/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    mkdirSync(join(dir, 'adir'), { recursive: true });
    oneLine(run('train', '--data', 'd.csv', '--target', 'label', '--out', 'adir', '--quiet'), /--out: 'adir' is a directory; give a file path/);
    // through a file used as a directory
    oneLine(run('train', '--data', 'd.csv', '--target', 'label', '--out', join('d.csv', 'm.wasmfit'), '--quiet'), /--out: .*d\.csv' is not a directory/);
  });

  it('predict --out into a missing directory: one line, exit 2, no stack trace, nothing predicted', () => {
    writeFileSync(join(dir, 'd.csv'), twoBlobs(300, (_i, p) => (p ? 'yes' : 'no')));
    expect(run('train', '--data', 'd.csv', '--target', 'label', '--out', 'm.wasmfit', '--epochs', '2', '--quiet').code).toBe(0);
    oneLine(run('predict', '--model', 'm.wasmfit', '--data', 'd.csv', '--out', join('missing', 'p.csv')), /^wasmfit predict: --out: the directory '.*missing' does not exist/);
    // a good --out still works
    const ok = run('predict', '--model', 'm.wasmfit', '--data', 'd.csv', '--out', 'p.csv');
    expect(ok.code, ok.err).toBe(0);
    expect(readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n')).toHaveLength(301);
  });

  it('a layer too large for WASM memory is one line, exit 2', () => {
    writeFileSync(join(dir, 'd.csv'), twoBlobs(300, (_i, p) => (p ? 'yes' : 'no')));
    oneLine(run('train', '--data', 'd.csv', '--target', 'label', '--out', 'x.wasmfit', '--layers', '300000000', '--quiet'), /^wasmfit train: out of WASM memory/);
  });
});

describe('R24: class labels, numeric cells, messages, negative flag values', () => {
  it("'0' and '0.0' are one class; predict scores '0.0' truth against class '0'", async () => {
    writeFileSync(join(dir, 'labels.csv'), twoBlobs(300, (i, p) => (p ? '1' : i % 2 ? '0' : '0.0')));
    const r = run('train', '--data', 'labels.csv', '--target', 'label', '--layers', '8', '--lr', '0.02', '--epochs', '20', '--out', 'l.wasmfit', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/, 2 classes;/);
    expect((await cliMeta('l.wasmfit')).classes).toEqual(['0', '1']);
    const p = run('predict', '--model', 'l.wasmfit', '--data', 'labels.csv');
    expect(p.code, p.err).toBe(0);
    expect(p.out.split('\n')[0]).toBe('prediction,p_0,p_1');
    expect(Number(/accuracy\s+([\d.]+)/.exec(p.err)![1])).toBeGreaterThan(0.9);
  });

  it('hex, binary and octal literals are not numbers in a CSV cell', () => {
    writeFileSync(join(dir, 'hex.csv'), 'a,b,label\n0x10,1,yes\n0x1f,2,no\n0b11,3,yes\n');
    oneLine(run('train', '--data', 'hex.csv', '--target', 'label', '--out', 'h.wasmfit', '--epochs', '1', '--validation-split', '0', '--quiet'),
      /hex\.csv:2: column 'a' \(column 1\): '0x10' is not a decimal number/);
    // plain decimal spellings still parse
    writeFileSync(join(dir, 'dec.csv'), 'a,b,label\n+1.5,.5,yes\n-2,5.,no\n1e3,-0.25E-1,yes\n3,4,no\n');
    const ok = run('train', '--data', 'dec.csv', '--target', 'label', '--out', 'dec.wasmfit', '--epochs', '1', '--validation-split', '0', '--quiet');
    expect(ok.code, ok.err).toBe(0);
  });

  it('a NUL byte in the file is refused with its line', () => {
    writeFileSync(join(dir, 'nul.csv'), 'a,b,label\n1,2,yes\n3,4,n\0o\n5,6,yes\n');
    oneLine(run('train', '--data', 'nul.csv', '--target', 'label', '--out', 'n.wasmfit', '--quiet'), /nul\.csv:3: .*NUL byte/);
  });

  it('the message prefix appears once', () => {
    writeFileSync(join(dir, 'labels.csv'), twoBlobs(50, (_i, p) => (p ? '1' : '0')));
    const r = run('train', '--data', 'labels.csv', '--out', 'm.wasmfit');
    oneLine(r, /^wasmfit train: --target is required\. Run wasmfit train --help\.$/m);
    oneLine(run('predict', '--data', 'labels.csv'), /^wasmfit predict: --model is required/);
    expect(r.err.match(/wasmfit/g)).toHaveLength(2); // the prefix, and the "Run wasmfit train --help" hint
  });

  it('negative flag values reach the flag check (not "argument is ambiguous")', () => {
    writeFileSync(join(dir, 'labels.csv'), twoBlobs(50, (_i, p) => (p ? '1' : '0')));
    oneLine(run('train', '--data', 'labels.csv', '--target', 'label', '--out', 'm.wasmfit', '--lr', '-1'), /^wasmfit train: --lr: '-1' is not a number >= 0\.$/m);
    oneLine(run('train', '--data', 'labels.csv', '--target', 'label', '--out', 'm.wasmfit', '--epochs', '-3'), /--epochs: '-3' is not an integer >= 1/);
    // a negative seed is valid and trains
    const ok = run('train', '--data', 'labels.csv', '--target', 'label', '--out', 'm.wasmfit', '--seed', '-3', '--epochs', '1', '--quiet');
    expect(ok.code, ok.err).toBe(0);
    // a flag followed by another flag is still a usage error, not a value
    oneLine(run('train', '--data', 'labels.csv', '--target', '--out', 'm.wasmfit'), /--target/);
  });
});
