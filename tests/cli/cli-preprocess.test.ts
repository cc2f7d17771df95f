// The CLI's preprocessing is wasmfit/preprocess (issue 15, item 3): text feature columns are
// one-hot encoded, the fitted preprocessing is in the model file, `wasmfit predict` and
// `loadModel(...).predict(rawRows)` read raw CSV rows; model files of the first CLI format
// (standardization in the metadata) still predict.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rand } from './rand.js';

const CLI = join(process.cwd(), 'dist', 'cli.mjs');
let dir: string;
type Wf = typeof import('../../ts/index.js');
type Node = typeof import('../../ts/node.js');
let wf: Wf;
let node: Node;

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The class is decided by the colour (a text column) and the size: no model without the colour does well. */
function shop(n: number, seed: number, colours = ['red', 'green', 'blue']): string {
  const r = rand(seed);
  const lines = ['size,colour,price,bought'];
  for (let i = 0; i < n; i++) {
    const colour = colours[i % colours.length]!;
    const size = r() * 10;
    const likes = colour === 'green' ? size > 3 : colour === 'red' ? size < 6 : false;
    lines.push(`${size.toFixed(3)},${colour},${(r() * 100).toFixed(2)},${likes ? 'yes' : 'no'}`);
  }
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmfit-cli-prep-'));
  wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as Wf;
  node = (await import(pathToFileURL(join(process.cwd(), 'dist', 'node.mjs')).href)) as Node;
  await wf.init();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wasmfit train / predict with text feature columns', () => {
  it('one-hot encodes a text column, stores the encoding in the model file, and predicts raw CSV rows', async () => {
    writeFileSync(join(dir, 'shop.csv'), shop(600, 1));
    const r = run('train', '--data', 'shop.csv', '--target', 'bought', '--layers', '16', '--epochs', '60', '--out', 'shop.wasmfit', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/3 features \(1 of text, one-hot encoded: 5 inputs\), 2 classes/);
    const acc = /accuracy\s+([\d.]+)\s+([\d.]+)/.exec(r.out)!;
    expect(Number(acc[2])).toBeGreaterThan(0.9);

    // the model file: preprocessing (scaler on size and price, one-hot on colour) and the CLI metadata
    const m = await node.loadModel(join(dir, 'shop.wasmfit'));
    const p = m.preprocessing!;
    expect(p.featureNames).toEqual(['size', 'colour', 'price']);
    expect(p.steps.map((s) => [s.name, s.columns])).toEqual([['num', [0, 2]], ['cat', [1]]]);
    expect(p.steps[1]!.transformers[0]).toMatchObject({ type: 'oneHotEncoder', handleUnknown: 'ignore', categories: [['blue', 'green', 'red']] });
    expect((wf.readModelMetadata(readFileSync(join(dir, 'shop.wasmfit')))!.wasmfitCli as { textFeatures: string[] }).textFeatures).toEqual(['colour']);

    // predict a raw CSV (columns in another order, a colour never seen: encoded as all zeros)
    const fresh = shop(40, 2, ['red', 'green', 'blue', 'purple']).trim().split('\n').map((l) => l.split(','));
    writeFileSync(join(dir, 'new.csv'), fresh.map((c) => [c[2], c[1], c[0]].join(',')).join('\n') + '\n');
    const pr = run('predict', '--model', 'shop.wasmfit', '--data', 'new.csv');
    expect(pr.code, pr.err).toBe(0);
    const out = pr.out.trim().split('\n').map((l) => l.split(','));
    expect(out[0]).toEqual(['prediction', 'p_no', 'p_yes']);
    // the same probabilities from code: loadModel + predict on the raw rows
    const rawRows = fresh.slice(1).map((c) => [Number(c[0]), c[1]!, Number(c[2])]);
    const probs = m.predict(rawRows);
    out.slice(1).forEach((line, i) => {
      expect(Number(line[1])).toBeCloseTo(probs.data[2 * i]!, 5);
      expect(Number(line[2])).toBeCloseTo(probs.data[2 * i + 1]!, 5);
    });
    const known = fresh.slice(1).map((c, i) => [c, out[i + 1]![0]] as const).filter(([c]) => c[1] !== 'purple');
    expect(known.filter(([c, pred]) => c[3] === pred).length / known.length).toBeGreaterThan(0.85);
    m.dispose();
  });

  it('a missing cell in a text column is a one-line error naming its line', () => {
    writeFileSync(join(dir, 'hole.csv'), 'size,colour,bought\n1,red,yes\n2,,no\n3,blue,no\n4,red,yes\n');
    const r = run('train', '--data', 'hole.csv', '--target', 'bought', '--out', 'h.wasmfit', '--quiet');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/hole\.csv:3: column 'colour' \(column 2\): empty cell in a text column; fix the cell, or pass --drop-missing/);
  });

  it('a model file of the first CLI format (standardization in the metadata) still predicts', async () => {
    // written as wasmfit train wrote it before the preprocessing moved into the model file
    const m = new wf.Sequential({ inputShape: [2], layers: [wf.dense(2)], seed: 3 });
    const mean = [10, -2];
    const std = [4, 0.5];
    const meta = { version: 1, task: 'classification', target: 'label', features: ['a', 'b'], mean, std, classes: ['no', 'yes'], yMean: 0, yStd: 1 };
    await node.saveModel(join(dir, 'v1.wasmfit'), m, { metadata: { wasmfitCli: meta } });
    const rows = [[12, -1.5], [7, -3], [10, -2]];
    writeFileSync(join(dir, 'v1.csv'), 'b,a\n' + rows.map(([a, b]) => `${b},${a}`).join('\n') + '\n');
    const r = run('predict', '--model', 'v1.wasmfit', '--data', 'v1.csv');
    expect(r.code, r.err).toBe(0);
    // the network on (x − mean) / std, computed here
    const want = m.predict(rows.map(([a, b]) => [(a! - mean[0]!) / std[0]!, (b! - mean[1]!) / std[1]!]));
    r.out.trim().split('\n').slice(1).forEach((line, i) => expect(Number(line.split(',')[2])).toBeCloseTo(want.data[2 * i + 1]!, 5));
    m.dispose();
  });
});
