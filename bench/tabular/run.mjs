// wasmfit's CLI, with its defaults, against scikit-learn on five real tabular data sets.
//
//   /usr/bin/python3 bench/tabular/make_data.py         # the split files (once; python3-sklearn)
//   /usr/bin/python3 bench/tabular/sklearn_baseline.py  # baseline.json (committed)
//   npm run build && node bench/tabular/run.mjs [--json FILE] [-- extra train options]
//
// For every set and split seed it runs `wasmfit train --data train_S.csv --target target --out M
// --quiet` (plus any options after `--`; none for the README table) and `wasmfit predict --model M
// --data test_S.csv --out P`, then scores P against the test file's target column: accuracy, or R²
// for regression. The table shows the mean over the seeds and the gap to the better scikit-learn
// model in percentage points (accuracy × 100, or R² × 100).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'cli.mjs');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const jsonOut = own.includes('--json') ? own[own.indexOf('--json') + 1] : null;
const only = own.includes('--only') ? own[own.indexOf('--only') + 1].split(',') : null;

const base = JSON.parse(readFileSync(join(here, 'baseline.json'), 'utf8'));
if (!existsSync(join(here, 'data', 'iris', 'train_0.csv'))) {
  console.error('bench/tabular/data is missing: run /usr/bin/python3 bench/tabular/make_data.py first.');
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'wasmfit-tabular-'));
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;

function column(file, name) {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const i = lines[0].split(',').indexOf(name);
  return lines.slice(1).map((l) => l.split(',')[i]);
}

async function one(set, task, seed) {
  const dir = join(here, 'data', set);
  const model = join(tmp, `${set}_${seed}.wasmfit`);
  const preds = join(tmp, `${set}_${seed}.csv`);
  const t0 = Date.now();
  const tr = await run(process.execPath, [cli, 'train', '--data', join(dir, `train_${seed}.csv`), '--target', 'target', '--out', model, '--quiet', ...extra], { maxBuffer: 1 << 26 });
  const seconds = (Date.now() - t0) / 1000;
  await run(process.execPath, [cli, 'predict', '--model', model, '--data', join(dir, `test_${seed}.csv`), '--out', preds]);
  const epochs = Number(/Trained (\d+) epoch/.exec(tr.stdout)?.[1]);
  const truth = column(join(dir, `test_${seed}.csv`), 'target');
  const pred = column(preds, 'prediction');
  let score;
  if (task === 'classification') score = mean(truth.map((v, i) => (Number(v) === Number(pred[i]) ? 1 : 0)));
  else {
    const y = truth.map(Number);
    const m = mean(y);
    const ssRes = y.reduce((s, v, i) => s + (v - Number(pred[i])) ** 2, 0);
    const ssTot = y.reduce((s, v) => s + (v - m) ** 2, 0);
    score = 1 - ssRes / ssTot;
  }
  return { score, epochs, seconds };
}

const results = {};
try {
  for (const [set, b] of Object.entries(base.sets)) {
    if (only && !only.includes(set)) continue;
    const runs = [];
    for (const seed of base.seeds) runs.push(await one(set, b.task, seed));
    results[set] = { task: b.task, metric: b.metric, wasmfit: runs.map((r) => r.score), epochs: runs.map((r) => r.epochs), seconds: runs.map((r) => r.seconds), linear: b.linear, mlp: b.mlp };
    const r = results[set];
    process.stderr.write(`${set}: ${r.wasmfit.map((v) => v.toFixed(4)).join(' ')} (epochs ${r.epochs.join(' ')})\n`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`wasmfit train defaults${extra.length ? ' + ' + extra.join(' ') : ''} vs scikit-learn ${base.sklearn}; mean test score over split seeds ${base.seeds.join(',')}`);
console.log(`| data set | rows × features | metric | wasmfit CLI | sklearn LogisticRegression / LinearRegression | sklearn MLP | wasmfit − best (pp) | epochs run |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const [set, r] of Object.entries(results)) {
  const f = readFileSync(join(here, 'data', set, `train_0.csv`), 'utf8').trim().split('\n');
  const rows = f.length - 1 + readFileSync(join(here, 'data', set, `test_0.csv`), 'utf8').trim().split('\n').length - 1;
  const w = mean(r.wasmfit), l = mean(r.linear), m = mean(r.mlp);
  const gap = (w - Math.max(l, m)) * 100;
  console.log(`| ${set} | ${rows} × ${f[0].split(',').length - 1} | ${r.metric === 'r2' ? 'R²' : 'accuracy'} | ${w.toFixed(4)} | ${l.toFixed(4)} | ${m.toFixed(4)} | ${gap >= 0 ? '+' : ''}${gap.toFixed(2)} | ${Math.min(...r.epochs)}–${Math.max(...r.epochs)} |`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ extra, baseline: base.sklearn, results }, null, 1) + '\n');
