// The README's example runs as written, through the built bundle (package self-reference).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('the README quick-start example runs as written', () => {
  const readme = readFileSync('README.md', 'utf8');
  const m = readme.match(/## Quick start\s+```js\n([\s\S]*?)```/);
  expect(m).not.toBeNull();
  const dir = join('examples', '.readme-test');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'quick-start.mjs');
  writeFileSync(file, m![1]!);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    const acc = Number(out.match(/test accuracy: (\d\.\d{4})/)?.[1]);
    expect(acc).toBeGreaterThan(0.8); // 2,000 digits, 3 epochs: a real, if small, model
    expect(out).toMatch(/val accuracy per epoch: \[/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the README preprocessing example runs as written', () => {
  const readme = readFileSync('README.md', 'utf8');
  const m = readme.match(/## Preprocessing[\s\S]*?```js\n([\s\S]*?)```/);
  expect(m).not.toBeNull();
  const dir = join('examples', '.readme-test-preprocess');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'preprocessing.mjs');
  writeFileSync(file, m![1]!);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    // a label for the raw record, from the deserialized copy, and scikit-learn's output names
    expect(out).toMatch(/^\[ '(yes|no)' \]$/m);
    expect(out).toContain('num__age num__income cat__city_Lyon cat__city_Nice cat__city_Paris');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the README convolutional example runs as written and learns the digits', () => {
  const readme = readFileSync('README.md', 'utf8');
  const m = readme.match(/## Convolutional models[\s\S]*?```js\n([\s\S]*?)```/);
  expect(m).not.toBeNull();
  const dir = join('examples', '.readme-test-cnn');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'cnn.mjs');
  writeFileSync(file, m![1]!);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    expect(out).toMatch(/conv2d_0 \(relu, 3×3 valid\)\s+\[null, 26, 26, 8\]/);
    expect(out).toMatch(/max_pool2d_1 .*\[null, 6, 6, 16\]/);
    expect(Number(out.match(/cnn test accuracy: (\d\.\d{4})/)?.[1])).toBeGreaterThan(0.9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
