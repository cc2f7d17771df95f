// Structure checks of the redesign (issue 14): the published declarations expose no internals and
// no pointers, the TypeScript import graph has no cycle, and Sequential stays a thin facade.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = join(process.cwd(), 'dist');
const dtsFiles = (): string[] => [
  ...readdirSync(dist).filter((f) => f.endsWith('.d.ts')).map((f) => join(dist, f)),
  ...readdirSync(join(dist, 'chunks')).filter((f) => f.endsWith('.d.ts')).map((f) => join(dist, 'chunks', f)),
];

describe('published declarations', () => {
  it('carry no @internal member and no Ptr (stripInternal)', () => {
    const files = dtsFiles();
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/@internal/);
      expect(text, f).not.toMatch(/\bPtr\b/);
      expect(text, f).not.toMatch(/[:<(,|]\s*(CompiledPlan|Stepper|FitModel|DenseParams)\b/);
    }
  });

  it('type-check on their own (a consumer with strict settings)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmfit-dts-'));
    const entries = ['wasmfit', 'node', 'worker', 'onnx'].map((e) => join(dist, `${e}.d.ts`));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM', 'ESNext.Disposable'], types: [] },
      files: entries,
    }));
    const tsc = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe('');
  }, 60_000);
});

describe('source structure', () => {
  it('the TypeScript import graph of ts/ has no cycle (type-only imports included)', async () => {
    const { importGraph, cycles } = (await import(join(process.cwd(), 'scripts', 'import-graph.mjs'))) as {
      importGraph(): { files: string[]; edges: Map<string, Set<string>> };
      cycles(edges: Map<string, Set<string>>): string[][];
    };
    const { files, edges } = importGraph();
    expect(files.length).toBeGreaterThan(50);
    // the walker sees the edges it should: a known import and a known type-only import
    expect(edges.get('ts/model/sequential.ts')?.has('ts/model/stepper.ts')).toBe(true);
    expect(edges.get('ts/optimizers/standalone.ts')?.has('ts/optimizers/types.ts')).toBe(true);
    expect(cycles(edges)).toEqual([]);
    // and it finds a cycle when there is one
    expect(cycles(new Map([['a', new Set(['b'])], ['b', new Set(['a'])]]))).toEqual([['a', 'b']]);
  });

  it('Sequential is a facade under 300 lines', () => {
    const lines = readFileSync('ts/model/sequential.ts', 'utf8').split('\n').length;
    expect(lines).toBeLessThan(300);
  });
});
