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
    const entries = ['wasmfit', 'node', 'worker', 'onnx', 'preprocess', 'queue'].map((e) => join(dist, `${e}.d.ts`));
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

  it('the module graph of the kernel crate has no cycle (abi.rs only shims; records beside their kernels)', async () => {
    const { crateGraph, cycles } = (await import(join(process.cwd(), 'scripts', 'import-graph.mjs'))) as {
      crateGraph(): { modules: string[]; edges: Map<string, Set<string>> };
      cycles(edges: Map<string, Set<string>>): string[][];
    };
    const { modules, edges } = crateGraph();
    expect(modules).toEqual(expect.arrayContaining(['abi', 'step', 'plan', 'optim', 'layers', 'gemm']));
    // known edges: the step runs layer kinds and the optimizer path; the ABI shims call the step
    expect(edges.get('step')?.has('layers')).toBe(true);
    expect(edges.get('abi')?.has('step')).toBe(true);
    expect(cycles(edges)).toEqual([]);
    // nothing below the ABI imports it except the test-only harness
    expect([...edges].filter(([m, e]) => m !== 'harness' && e.has('abi')).map(([m]) => m)).toEqual([]);
  });

  it('only the Kernels facade (ts/runtime/kernels.ts) and the loader touch the raw kernel exports', async () => {
    const { KERNEL_FUNCTIONS } = await import('../ts/runtime/abi.js');
    const { importGraph } = (await import(join(process.cwd(), 'scripts', 'import-graph.mjs'))) as { importGraph(): { files: string[] } };
    const names = [...KERNEL_FUNCTIONS, '__heap_base'].join('|');
    // `x.train_step(`, `x['train_step']`, `rt.k.…`, the raw interface itself, or the kernel tests'
    // harness accessor; `kernels.gemm(` (the facade's method of the same name) and a spread
    // (`...gemm`) are fine
    const raw = [new RegExp(`(?<!\\bkernels|\\.\\.)\\.\\s*(?:${names})\\b`), new RegExp(`\\[\\s*['"\`](?:${names})['"\`]\\s*\\]`), /\.k\./, /\bKernelExports\b/, /\.testExport\b/];
    const strip = (t: string) => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    const facade = strip(readFileSync('ts/runtime/kernels.ts', 'utf8'));
    // the scan sees raw access where there is some
    expect(raw[0]!.test(facade) && raw[3]!.test(facade)).toBe(true);
    expect(raw[0]!.test('rt.kernels.gemm(args)') || raw[0]!.test('[...gemm]')).toBe(false);
    expect(raw[0]!.test('rt.x.gemm(args)') && raw[0]!.test('ex.__heap_base.value') && raw[1]!.test("k['vec_dot']")).toBe(true);
    const allowed = new Set(['ts/runtime/kernels.ts', 'ts/runtime/loader.ts', 'ts/runtime/abi.ts']);
    const offenders: string[] = [];
    const { files } = importGraph();
    for (const f of files) {
      if (allowed.has(f)) continue;
      const text = strip(readFileSync(f, 'utf8'));
      for (const r of raw) if (r.test(text)) offenders.push(`${f}: ${text.match(r)![0]}`);
    }
    expect(offenders).toEqual([]);
    // abi.ts declares the contract (KernelExports, KERNEL_FUNCTIONS) but calls nothing
    expect(raw[0]!.test(strip(readFileSync('ts/runtime/abi.ts', 'utf8')))).toBe(false);
  });

  it('Sequential is a facade under 300 lines', () => {
    const lines = readFileSync('ts/model/sequential.ts', 'utf8').split('\n').length;
    expect(lines).toBeLessThan(300);
  });
});
