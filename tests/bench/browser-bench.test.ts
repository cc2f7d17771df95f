// The pure helpers of the browser benchmark (bench/browser.mjs, bench/lib/browser-report.mjs):
// the order of a round's windows, per-round ratios, the tables, the README section, and that
// bench/lib/workloads.mjs still defines W1/W2 as bench/run.mjs does. No timing is asserted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

interface Spread {
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  n: number;
}
interface Config {
  id: string;
  where: string;
  reason?: string;
}
interface Def {
  a: string;
  b: string;
  label: string;
  targets?: Record<string, number>;
}
type Results = Record<string, Record<string, { rates?: (number | null)[]; error?: string }>>;
interface Report {
  roundOrder(b: string[], n: string[], r: number): string[];
  pairedRatio(a: (number | null)[] | undefined, b: (number | null)[] | undefined): Spread | undefined;
  ratioDefs(n: number): Def[];
  rateRows(configs: Config[], res: Results[string] | undefined, short?: boolean): string[][];
  ratioRows(defs: Def[], workloads: string[], results: Results): string[][];
  renderSection(run: object, md?: boolean): string;
  replaceBetween(text: string, start: string, end: string, body: string): string;
}

const root = process.cwd();
const load = async <T,>(rel: string): Promise<T> => (await import(pathToFileURL(join(root, rel)).href)) as T;
let R: Report;
beforeAll(async () => {
  R = await load<Report>('bench/lib/browser-report.mjs');
});

describe('roundOrder', () => {
  it('alternates browser and python windows, the longer list’s rest last', () => {
    expect(R.roundOrder(['a', 'b', 'c'], ['p', 'q'], 0)).toEqual(['a', 'p', 'b', 'q', 'c']);
    expect(R.roundOrder(['a'], ['p', 'q', 's'], 0)).toEqual(['a', 'p', 'q', 's']);
    expect(R.roundOrder(['a', 'b'], [], 0)).toEqual(['a', 'b']);
  });
  it('rotates each list by the round so that every configuration leads once per cycle', () => {
    expect(R.roundOrder(['a', 'b', 'c'], ['p', 'q'], 1)).toEqual(['b', 'q', 'c', 'p', 'a']);
    const firsts = [0, 1, 2].map((r) => R.roundOrder(['a', 'b', 'c'], ['p', 'q'], r)[0]);
    expect(firsts.sort()).toEqual(['a', 'b', 'c']);
    for (let r = 0; r < 6; r++) expect([...R.roundOrder(['a', 'b', 'c'], ['p', 'q'], r)].sort()).toEqual(['a', 'b', 'c', 'p', 'q']);
  });
});

describe('pairedRatio', () => {
  it('divides round by round and skips rounds where either window is missing', () => {
    // rounds: 4/2 = 2, 6/3 = 2, (missing), 9/3 = 3 → sorted [2, 2, 3]
    const s = R.pairedRatio([4, 6, null, 9], [2, 3, 5, 3])!;
    expect(s.n).toBe(3);
    expect(s.median).toBe(2);
    expect(s.q1).toBe(2); // position 0.5 between 2 and 2
    expect(s.q3).toBe(2.5); // position 1.5 between 2 and 3
    expect([s.min, s.max]).toEqual([2, 3]);
  });
  it('is undefined without a round that has both', () => {
    expect(R.pairedRatio([1, null], [null, 2])).toBeUndefined();
    expect(R.pairedRatio(undefined, [1])).toBeUndefined();
  });
});

describe('tables', () => {
  const configs: Config[] = [
    { id: 'wasmfit-fma-1t', where: 'Chromium' },
    { id: 'wasmfit-simd-1t', where: 'Chromium' },
    { id: 'tfjs-wasm-2t', where: 'Chromium', reason: 'the page is not cross-origin isolated' },
    { id: 'pytorch', where: 'python3' },
    { id: 'pytorch-2t', where: 'python3' },
  ];
  const results: Results = {
    W1: { 'wasmfit-fma-1t': { rates: [300, 330, 360] }, 'wasmfit-simd-1t': { rates: [200, 220, 240] }, pytorch: { rates: [100, 300, 120] }, 'pytorch-2t': { error: 'python3 exited 1: boom' } },
    W2: { 'wasmfit-fma-1t': { rates: [700, 800] }, pytorch: { rates: [100, 100] } },
  };

  it('a throughput row carries the median (IQR) and window count, or the reason it has none', () => {
    const rows = R.rateRows(configs, results.W1);
    expect(rows[0]).toEqual(['wasmfit-fma-1t', 'Chromium', '330 (315–345)', '3']);
    expect(rows[2]).toEqual(['tfjs-wasm-2t', 'Chromium', 'cannot run: the page is not cross-origin isolated', '—']);
    expect(rows[4]).toEqual(['pytorch-2t', 'python3', 'failed: python3 exited 1: boom', '—']);
    expect(R.rateRows(configs, results.W2)[1]![2]).toBe('not measured');
  });

  it('a ratio row says whether its target is met, per workload', () => {
    const defs = R.ratioDefs(2);
    const rows = R.ratioRows(defs, ['W1', 'W2'], results);
    const fmaVsTorch = rows[defs.findIndex((d) => d.a === 'wasmfit-fma-1t' && d.b === 'pytorch')]!;
    // W1 per round 3, 1.1, 3 → median 3; W2 7, 8 → median 7.5 (target 8)
    expect(fmaVsTorch[1]).toBe('3.00× [2.05–3.00] (met)');
    expect(fmaVsTorch[2]).toBe('7.50× [7.25–7.75] (NOT met)');
    expect(fmaVsTorch[3]).toBe('W1 ≥ 1×, W2 ≥ 8×');
    const threads = rows[defs.findIndex((d) => d.a === 'wasmfit-2t' && d.b === 'wasmfit-simd-1t')]!;
    expect(threads.slice(1)).toEqual(['—', '—', 'W1 ≥ 1.7×, W2 ≥ 1×']);
  });

  it('ratioDefs has thread rows only on several cores, and a 2-thread row besides N > 2', () => {
    expect(R.ratioDefs(1).some((d) => /t$/.test(d.a) && /\d+t$/.test(d.a) && !d.a.endsWith('-1t'))).toBe(false);
    const ids = R.ratioDefs(4).map((d) => `${d.a}/${d.b}`);
    expect(ids).toContain('wasmfit-fma-4t/pytorch-4t');
    expect(ids).toContain('wasmfit-4t/pytorch-4t');
    expect(ids).toContain('wasmfit-fma-4t/wasmfit-fma-1t');
    expect(ids).toContain('wasmfit-2t/wasmfit-simd-1t');
    expect(ids).toContain('wasmfit-4t/tfjs-wasm-4t');
  });

  it('the rendered section names every configuration and workload, in text and Markdown', () => {
    const run = { title: 'T', configs, workloads: [{ id: 'W1', title: 'W1 title' }, { id: 'W2', title: 'W2 title' }], results, defs: R.ratioDefs(2), notes: ['a note'] };
    const text = R.renderSection(run, false);
    const md = R.renderSection(run, true);
    for (const s of [text, md]) {
      for (const c of configs) expect(s).toContain(c.id);
      expect(s).toContain('W1 title');
      expect(s).toContain('- a note');
    }
    expect(md).toContain('| configuration | where | samples/s | windows |');
    expect(md).toContain('cannot run: the page is not cross-origin isolated');
    expect(text).toContain('cannot run (the reason is listed above)');
  });
});

describe('README section', () => {
  it('replaceBetween swaps the body and keeps the markers; missing markers throw', () => {
    const t = 'head\n<!-- s -->\nold\n<!-- e -->\ntail';
    expect(R.replaceBetween(t, '<!-- s -->', '<!-- e -->', 'new')).toBe('head\n<!-- s -->\nnew\n<!-- e -->\ntail');
    expect(() => R.replaceBetween('no markers', '<!-- s -->', '<!-- e -->', 'x')).toThrow(/no <!-- s --> … <!-- e --> section/);
  });
  it('README.md has the browser section that --readme regenerates', async () => {
    const { README_START, README_END } = await load<{ README_START: string; README_END: string }>('bench/browser.mjs');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.indexOf(README_START)).toBeGreaterThan(readme.indexOf('<!-- bench:end -->'));
    expect(readme.indexOf(README_END)).toBeGreaterThan(readme.indexOf(README_START));
  });
});

describe('bench/lib/workloads.mjs', () => {
  it('defines W1, W2, the weight seed and the W2 data exactly as bench/run.mjs', async () => {
    const wl = await load<Record<string, unknown>>('bench/lib/workloads.mjs');
    const run = readFileSync(join(root, 'bench', 'run.mjs'), 'utf8');
    for (const name of ['W1', 'W2', 'WEIGHT_SEED']) {
      const m = new RegExp(`^const ${name} = (.+);$`, 'm').exec(run);
      expect(m, `bench/run.mjs defines ${name} on one line`).not.toBeNull();
      expect(wl[name]).toEqual(new Function(`return (${m![1]});`)());
    }
    const fn = (src: string) => /function regression\(rows, d\) \{[\s\S]*?\n\}/.exec(src)?.[0];
    expect(fn(run)).toBeDefined();
    expect(fn(readFileSync(join(root, 'bench', 'lib', 'workloads.mjs'), 'utf8'))).toBe(fn(run));
  });
});
