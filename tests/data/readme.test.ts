// The README's "Your data" example runs as written, through the built bundle (package self-reference).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('the README data example runs as written', () => {
  const readme = readFileSync('README.md', 'utf8');
  const m = readme.match(/## Your data: arrays, typed arrays, class names\s+```js\n([\s\S]*?)```/);
  expect(m).not.toBeNull();
  const dir = join('examples', '.readme-data-test');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'data.mjs');
  writeFileSync(file, m![1]!);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    expect(out).toMatch(/classes: \[ 'setosa', 'versicolor', 'virginica' \]/);
    // the flat sample is one row, answered with one name from the list
    expect(out).toMatch(/one sample: \[ '(setosa|versicolor|virginica)' \]/);
    expect(out).toMatch(/class ids: Int32Array\(6\) \[/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
