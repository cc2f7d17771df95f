// The CLI's defaults scale with the data (issue 15, item 3): with only --data/--target/--out,
// `wasmfit train` picks the architecture (--layers auto), ends training by early stopping
// (--epochs auto, patience 20) and refits on every row for the best epoch count. How well these
// defaults do on real data is measured by bench/tabular/run.mjs, not asserted here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'dist', 'cli.mjs');
let dir: string;

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Two linearly separable classes in 3 features, from a small fixed generator (not the library's). */
function blobs(n: number): string {
  let s = 12345;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) - 0.5;
  const lines = ['a,b,c,label'];
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    lines.push([k * 2 + r(), -k + r(), r(), k ? 'yes' : 'no'].map(String).join(','));
  }
  return lines.join('\n') + '\n';
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmfit-cli-defaults-'));
  writeFileSync(join(dir, 'blobs.csv'), blobs(120));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wasmfit train defaults', () => {
  it('tries a linear model and 64,32, stops early, refits on every row, and the model predicts', () => {
    const r = run('train', '--data', 'blobs.csv', '--target', 'label', '--out', 'm.wasmfit', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/--layers auto: '' validation loss [\d.]+; '64,32' validation loss [\d.]+; kept '(64,32)?'\./);
    expect(r.out).toMatch(/early stopping: (stopped at epoch \d+; )?weights of the best epoch, \d+, restored/);
    expect(r.out).toMatch(/Refit on all 120 rows (for \d+ epochs?|to convergence \(L-BFGS\))/);
    expect(existsSync(join(dir, 'm.wasmfit'))).toBe(true);
    const p = run('predict', '--model', 'm.wasmfit', '--data', 'blobs.csv', '--out', 'p.csv');
    expect(p.code, p.err).toBe(0);
    const acc = Number(/accuracy\s*\|?\s*([\d.]+)/.exec(p.err)?.[1]);
    expect(acc).toBeGreaterThan(0.95);
  });

  it('--early-stopping off runs every epoch and skips the refit; --refit is checked', () => {
    const r = run('train', '--data', 'blobs.csv', '--target', 'label', '--out', 'n.wasmfit', '--layers', '4', '--epochs', '3', '--early-stopping', 'off', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Trained 3 epochs in/);
    expect(r.out).not.toMatch(/Refit|early stopping|--layers auto/);
    const bad = run('train', '--data', 'blobs.csv', '--target', 'label', '--out', 'n.wasmfit', '--refit', 'maybe');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--refit: 'maybe' is unknown; use on or off\./);
  });
});
