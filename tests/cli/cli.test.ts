// The `wasmfit` command (dist/cli.mjs, package.json "bin"): train and predict on small CSV files,
// a model file that wasmfit/node's loadModel also reads, bench, and one-line errors with exit
// code 2 for malformed CSV, unknown columns and bad flags.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rand } from './rand.js';
import { fmaSupported } from '../../ts/runtime/loader.js';

const CLI = join(process.cwd(), 'dist', 'cli.mjs');
let dir: string;

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Two species separated by petal size (plus a useless column), labels as strings. */
function flowers(n: number, seed: number): string {
  const r = rand(seed);
  const lines = ['petal_len,petal_wid,noise,species'];
  for (let i = 0; i < n; i++) {
    const big = i % 2 === 1;
    const len = (big ? 5 : 1.5) + (r() - 0.5) * 1.6;
    const wid = (big ? 1.8 : 0.3) + (r() - 0.5) * 0.6;
    lines.push(`${len.toFixed(3)},${wid.toFixed(3)},${(r() * 10).toFixed(2)},${big ? 'virginica' : 'setosa'}`);
  }
  return lines.join('\n') + '\n';
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmfit-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wasmfit train / predict', () => {
  it('trains a classifier on a CSV, saves a model loadModel reads, and predicts with probabilities', async () => {
    writeFileSync(join(dir, 'train.csv'), flowers(200, 1));
    const r = run('train', '--data', 'train.csv', '--target', 'species', '--layers', '16', '--optimizer', 'adam', '--lr', '1e-2',
      '--schedule', 'cosine:tMax=30', '--dropout', '0.1', '--epochs', '30', '--early-stopping', 'patience=5', '--out', 'flowers.wasmfit');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/dense_0 \(relu, dropout 0\.1\)/);
    expect(r.out).toMatch(/Total params: 98/); // 3·16 + 16 + 16·2 + 2
    const acc = /accuracy\s+([\d.]+)\s+([\d.]+)/.exec(r.out)!;
    expect(Number(acc[2])).toBeGreaterThanOrEqual(0.95); // validation accuracy, 40 held-out rows
    expect(r.err).toMatch(/160 training rows, 40 validation rows, 3 features, 2 classes/);
    expect(r.err).toMatch(/epoch 1\/30/); // progress (one line per epoch off a TTY)

    // the file is a regular wasmfit model file
    const node = (await import(pathToFileURL(join(process.cwd(), 'dist', 'node.mjs')).href)) as typeof import('../../ts/node.js');
    const wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as typeof import('../../ts/index.js');
    await wf.init();
    const m = await node.loadModel(join(dir, 'flowers.wasmfit'));
    expect(m.inputSize).toBe(3);
    expect(m.outputSize).toBe(2);
    // what predict needs travels as public user metadata (readModelMetadata)
    const meta = wf.readModelMetadata(readFileSync(join(dir, 'flowers.wasmfit')))!.wasmfitCli as Record<string, unknown>;
    expect(meta).toMatchObject({ version: 2, task: 'classification', target: 'species', features: ['petal_len', 'petal_wid', 'noise'], textFeatures: [], classes: ['setosa', 'virginica'] });
    // the standardization travels as the model's preprocessing (wasmfit/preprocess), so loadModel + predict takes raw rows
    expect(m.preprocessing?.steps.map((s) => [s.name, s.columns, s.transformers.map((t) => t.type)])).toEqual([['num', [0, 1, 2], ['standardScaler']]]);
    // a model saved from code has no CLI section: predict says so
    await node.saveModel(join(dir, 'plain.wasmfit'), m);
    m.dispose();
    writeFileSync(join(dir, 'plain.csv'), flowers(4, 9));
    const plain = run('predict', '--model', 'plain.wasmfit', '--data', 'plain.csv');
    expect(plain.code).toBe(2);
    expect(plain.err).toMatch(/plain\.wasmfit is a wasmfit model without the CLI's column metadata/);

    // new rows, columns in another order, no target column
    const fresh = flowers(60, 2).trim().split('\n').map((l) => l.split(','));
    const truth = fresh.slice(1).map((c) => c[3]);
    writeFileSync(join(dir, 'new.csv'), fresh.map((c) => [c[2], c[1], c[0]].join(',')).join('\n') + '\n');
    const p = run('predict', '--model', 'flowers.wasmfit', '--data', 'new.csv', '--out', 'preds.csv');
    expect(p.code, p.err).toBe(0);
    const rows = readFileSync(join(dir, 'preds.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['prediction', 'p_setosa', 'p_virginica']);
    expect(rows).toHaveLength(61);
    const right = rows.slice(1).filter((row, i) => row[0] === truth[i]).length;
    expect(right / 60).toBeGreaterThanOrEqual(0.95);
    for (const row of rows.slice(1)) {
      expect(Math.abs(Number(row[1]) + Number(row[2]) - 1)).toBeLessThan(1e-5);
      expect(row[0]).toBe(Number(row[1]) > Number(row[2]) ? 'setosa' : 'virginica');
    }
    // with the target present, predict reports accuracy on stderr; predictions go to stdout
    writeFileSync(join(dir, 'labelled.csv'), flowers(60, 2));
    const q = run('predict', '--model', 'flowers.wasmfit', '--data', 'labelled.csv');
    expect(q.code).toBe(0);
    expect(q.out.trim().split('\n')).toHaveLength(61);
    expect(Number(/accuracy\s+([\d.]+)/.exec(q.err)![1])).toBeCloseTo(right / 60, 10);
  });

  it('trains a regression on a numeric target and reports RMSE, MAE and R²', () => {
    const r0 = rand(3);
    const lines = ['a,b,y'];
    for (let i = 0; i < 300; i++) {
      const a = r0() * 4 - 2;
      const b = r0() * 4 - 2;
      lines.push(`${a.toFixed(4)},${b.toFixed(4)},${(2 * a - 3 * b + 10 + (r0() - 0.5) * 0.2).toFixed(4)}`);
    }
    writeFileSync(join(dir, 'reg.csv'), lines.join('\n') + '\n');
    const r = run('train', '--data', 'reg.csv', '--target', 'y', '--layers', '', '--optimizer', 'adam', '--lr', '0.05', '--epochs', '40', '--out', 'reg.wasmfit', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/regression/);
    const r2 = /R²\s+([-\d.]+)\s+([-\d.]+)/.exec(r.out)!;
    expect(Number(r2[2])).toBeGreaterThan(0.99);
    // a linear model of a linear target: predictions close to 2a − 3b + 10 (noise ±0.1)
    writeFileSync(join(dir, 'reg-new.csv'), 'b,a\n0,0\n1,1\n-1,2\n');
    const p = run('predict', '--model', 'reg.wasmfit', '--data', 'reg-new.csv');
    expect(p.code, p.err).toBe(0);
    const preds = p.out.trim().split('\n').slice(1).map(Number);
    [10, 9, 17].forEach((want, i) => expect(Math.abs(preds[i]! - want)).toBeLessThan(0.15));
  });
});

describe('wasmfit errors: one line, exit code 2', () => {
  const oneLine = (r: { code: number; err: string }, re: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(re);
  };

  it('malformed CSV rows name the line and column', () => {
    writeFileSync(join(dir, 'short.csv'), 'a,b,c\n1,2,x\n3,4,y\n5,6\n7,8,x\n');
    oneLine(run('train', '--data', 'short.csv', '--target', 'c', '--out', 'm.wasmfit'), /short\.csv:4: row has 2 fields but the header has 3 \(column 3 is missing\)/);
    writeFileSync(join(dir, 'text.csv'), 'a,b,c\n1,2,x\n3,abc,y\n5,6,x\n');
    oneLine(run('train', '--data', 'text.csv', '--target', 'c', '--out', 'm.wasmfit'), /text\.csv:3: column 'b' \(column 2\): 'abc' is not a finite number/);
    writeFileSync(join(dir, 'quote.csv'), 'a,b,c\n1,2,x\n3,"4,y\n5,6,x\n');
    oneLine(run('train', '--data', 'quote.csv', '--target', 'c', '--out', 'm.wasmfit'), /quote\.csv:\d+: .*[Qq]uote/);
    writeFileSync(join(dir, 'empty-cell.csv'), 'a,b,c\n1,2,x\n3,,y\n5,6,x\n');
    oneLine(run('train', '--data', 'empty-cell.csv', '--target', 'c', '--out', 'm.wasmfit'), /empty-cell\.csv:3: column 'b' \(column 2\): empty cell/);
  });

  it('unknown columns name the column and list the ones that exist', () => {
    writeFileSync(join(dir, 'ok.csv'), flowers(20, 4));
    oneLine(run('train', '--data', 'ok.csv', '--target', 'colour', '--out', 'm.wasmfit'), /--target 'colour' is not a column of ok\.csv; its columns are: petal_len, petal_wid, noise, species/);
    oneLine(run('train', '--data', 'ok.csv', '--target', 'species', '--features', 'petal_len,sepal', '--out', 'm.wasmfit'), /--features 'sepal' is not a column/);
    expect(run('train', '--data', 'ok.csv', '--target', 'species', '--epochs', '2', '--out', 'ok.wasmfit', '--quiet').code).toBe(0);
    writeFileSync(join(dir, 'missing.csv'), 'petal_len,noise\n1,2\n');
    oneLine(run('predict', '--model', 'ok.wasmfit', '--data', 'missing.csv'), /missing\.csv lacks the feature column 'petal_wid'/);
  });

  it('bad flags and values name the flag', () => {
    oneLine(run('train', '--data', 'ok.csv', '--target', 'species', '--out', 'm.wasmfit', '--epoch', '3'), /Unknown option '--epoch'/);
    oneLine(run('train', '--data', 'ok.csv', '--target', 'species', '--out', 'm.wasmfit', '--epochs', 'abc'), /--epochs: 'abc' is not an integer >= 1/);
    oneLine(run('train', '--data', 'ok.csv', '--target', 'species', '--out', 'm.wasmfit', '--optimizer', 'adamax'), /--optimizer: 'adamax' is unknown/);
    oneLine(run('train', '--data', 'ok.csv', '--target', 'species', '--out', 'm.wasmfit', '--schedule', 'cosine:tMax=-1'), /--schedule cosine:tMax=-1: .*tMax/);
    oneLine(run('train', '--data', 'ok.csv', '--target', 'species', '--out', 'm.wasmfit', '--schedule', 'zigzag'), /--schedule: 'zigzag' is unknown/);
    oneLine(run('train', '--data', 'ok.csv', '--target', 'species', '--out', 'm.wasmfit', '--early-stopping', 'patience=5,waitFor=3'), /unknown option 'waitFor'/);
    oneLine(run('train', '--target', 'species', '--out', 'm.wasmfit'), /--data is required/);
    oneLine(run('frobnicate'), /unknown command 'frobnicate'/);
    writeFileSync(join(dir, 'junk.wasmfit'), 'not a model');
    oneLine(run('predict', '--model', 'junk.wasmfit', '--data', 'ok.csv'), /junk\.wasmfit.*(magic|truncated)/);
  });
});

describe('wasmfit bench', () => {
  it('prints samples/s for the SIMD128 and scalar builds', () => {
    const r = run('bench', '--seconds', '0.05', '--layers', '16', '--inputs', '32', '--batch-size', '32');
    expect(r.code, r.err).toBe(0);
    const rows = r.out.trim().split('\n').slice(2).map((l) => l.trim().split(/\s+/));
    // the FMA build first where this Node validates relaxed SIMD (Node >= 22)
    expect(rows.map((x) => x[0])).toEqual([...(fmaSupported() ? ['FMA'] : []), 'SIMD128', 'scalar']);
    for (const row of rows) expect(Number(row[1])).toBeGreaterThan(0);
  });
});
