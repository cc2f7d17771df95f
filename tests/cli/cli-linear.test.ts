// `wasmfit train`'s linear model without optimizer options is scikit-learn's LogisticRegression()
// (L2, C = 1) / LinearRegression() on standardized features, fitted by full-batch L-BFGS. Both
// objectives are strictly convex, so the CLI's model must predict what scikit-learn's minimizer
// predicts. Reference: tests/fixtures/sklearn-linear.json (scripts/fixtures/sklearn_linear.py,
// Debian python3-sklearn), fitted on every row to tol 1e-10.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'dist', 'cli.mjs');
type Set = { task: 'classification' | 'regression'; classes: string[] | null; csv: string; predictions: number[][] | number[] };
const fixture = JSON.parse(readFileSync(join(process.cwd(), 'tests', 'fixtures', 'sklearn-linear.json'), 'utf8')) as { sets: Record<string, Set> };
let dir: string;

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The prediction CSV's numeric columns after 'prediction' (class probabilities), or 'prediction'. */
function predictions(file: string, classification: boolean): number[][] {
  const lines = readFileSync(join(dir, file), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const f = l.split(',');
    return classification ? f.slice(1).map(Number) : [Number(f[0])];
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmfit-cli-linear-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wasmfit train: the linear model is scikit-learn\'s', () => {
  for (const [name, set] of Object.entries(fixture.sets)) {
    it(`${name}: predictions equal scikit-learn's ${set.task === 'classification' ? 'LogisticRegression()' : 'LinearRegression()'} on every row`, () => {
      writeFileSync(join(dir, `${name}.csv`), set.csv);
      const t = run('train', '--data', `${name}.csv`, '--target', 'target', '--out', `${name}.wasmfit`, '--layers', '', '--validation-split', '0', '--quiet');
      expect(t.code, t.err).toBe(0);
      const p = run('predict', '--model', `${name}.wasmfit`, '--data', `${name}.csv`, '--out', `${name}.pred.csv`);
      expect(p.code, p.err).toBe(0);
      const classification = set.task === 'classification';
      const got = predictions(`${name}.pred.csv`, classification);
      const want = (classification ? set.predictions : (set.predictions as number[]).map((v) => [v])) as number[][];
      expect(got.length).toBe(want.length);
      // probabilities: absolute; regression: relative to the target's spread
      const ys = want.map((r) => r[0]!);
      const spread = classification ? 1 : Math.sqrt(ys.reduce((s, v) => s + v * v, 0) / ys.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) for (let j = 0; j < want[i]!.length; j++) worst = Math.max(worst, Math.abs(got[i]![j]! - want[i]![j]!) / spread);
      expect(worst).toBeLessThan(1e-3); // measured: iris 2.6e-5, breast_cancer 1.3e-4, diabetes 1.5e-4
      expect(worst).not.toBeNaN();
    });
  }

  it('an explicit optimizer option trains the linear model with that optimizer (no penalty added)', () => {
    const set = fixture.sets.iris!;
    writeFileSync(join(dir, 'iris.csv'), set.csv);
    const t = run('train', '--data', 'iris.csv', '--target', 'target', '--out', 'sgd.wasmfit', '--layers', '', '--optimizer', 'sgd', '--epochs', '2', '--early-stopping', 'off', '--quiet');
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/Trained 2 epochs/);
  });
});
