// The README's "Saving, checkpoints and interop" example runs as written, through the built
// bundle (package self-reference), in a scratch directory.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

it('the README persistence example runs as written', () => {
  const readme = readFileSync('README.md', 'utf8');
  const m = readme.match(/## Saving, checkpoints and interop\s+```js\n([\s\S]*?)```/);
  expect(m).not.toBeNull();
  const dir = resolve('examples', '.readme-io-test');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'persistence.mjs');
  writeFileSync(file, m![1]!);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: dir });
    expect(out).toMatch(/same predictions: true/);
    expect(out).toMatch(/resumed epochs: \[ 2, 3 \]/);
    for (const f of ['run.ckpt', 'mlp.safetensors', 'mlp.onnx']) expect(existsSync(join(dir, f))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
