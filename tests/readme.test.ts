// The README's examples run as written, through the built bundle (package self-reference).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

/** Runs the first ```js block after `## <section>` as a module in examples/ and returns its stdout. */
function runBlock(section: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const m = readme.match(new RegExp(`## ${section}[\\s\\S]*?\`\`\`js\\n([\\s\\S]*?)\`\`\``));
  expect(m, `README section '${section}' with a js block`).not.toBeNull();
  const dir = join('examples', `.readme-test-${section.toLowerCase().replace(/\W+/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'example.mjs');
  writeFileSync(file, m![1]!);
  try {
    return execFileSync(process.execPath, [file], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('the README quick-start example runs as written', () => {
  const out = runBlock('Quick start');
  const acc = Number(out.match(/test accuracy: (\d\.\d{4})/)?.[1]);
  expect(acc).toBeGreaterThan(0.8); // 2,000 digits, 3 epochs: a real, if small, model
  expect(out).toMatch(/val accuracy per epoch: \[/);
});

it('the README preprocessing example runs as written', () => {
  const out = runBlock('Preprocessing');
  // a label for the raw record, from the deserialized copy, and scikit-learn's output names
  expect(out).toMatch(/^\[ '(yes|no)' \]$/m);
  expect(out).toContain('num__age num__income cat__city_Lyon cat__city_Nice cat__city_Paris');
});

it('the README convolutional example runs as written and learns the digits', () => {
  const out = runBlock('Convolutional models');
  expect(out).toMatch(/conv2d_0 \(relu, 3×3 valid\)\s+\[null, 26, 26, 8\]/);
  expect(out).toMatch(/max_pool2d_1 .*\[null, 6, 6, 16\]/);
  expect(Number(out.match(/cnn test accuracy: (\d\.\d{4})/)?.[1])).toBeGreaterThan(0.9);
}, 120_000);

it('the README augmentation example runs as written and learns the digits', () => {
  const out = runBlock('Augmentation in training');
  expect(Number(out.match(/augmented cnn test accuracy: (\d\.\d{4})/)?.[1])).toBeGreaterThan(0.85);
}, 120_000);
