// Random search: space validation, sampling, the documented shrink rule, pluggable runners, failed
// trials, the table and plots; and on the MNIST digits (1000 train / 500 validation / 500 test,
// 3 epochs per trial) the search's pick beats the median trial, and refinement beats the best
// trial of the first round for most seeds.
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Sequential, adam, dense, init, matrix, sgd } from '../../ts/index.js';
import { choice, intUniform, logUniform, randomSearch, shrinkSpace, uniform } from '../../ts/tuning/index.js';
import type { Space, TrialRunner } from '../../ts/tuning/index.js';
import { loadDigits } from '../../ts/node.js';

beforeAll(async () => {
  await init();
});

describe('search spaces', () => {
  const run = (space: Space) => {
    let calls = 0;
    const p = randomSearch({ space, objective: () => ++calls, trials: 2 });
    return { p, calls: () => calls };
  };
  it.each([
    ['lr', { lr: uniform(0.5, 0.1) }, /low > high/],
    ['lr', { lr: logUniform(0, 1) }, /low > 0/],
    ['decay', { decay: logUniform(-1e-3, 1) }, /low > 0/],
    ['act', { act: choice([]) }, /no options/],
    ['units', { units: intUniform(1.5, 8) }, /integer bounds/],
    ['units', { units: intUniform(8, 4) }, /low > high/],
    ['m', { m: uniform(NaN, 1) }, /finite/],
    ['bad', { bad: { kind: 'normal' } as never }, /unknown kind/],
  ])('invalid space.%s → OptionError naming it, before any trial', async (name, space, msg) => {
    const { p, calls } = run({ ok: uniform(0, 1), ...space } as Space);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).option).toBe(name);
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message).toContain(`space.${name}`);
    expect(calls()).toBe(0);
  });

  it('rejects bad search options before any trial', async () => {
    const space = { a: uniform(0, 1) };
    await expect(randomSearch({ space, objective: () => 0, trials: 0 })).rejects.toThrow(/trials/);
    await expect(randomSearch({ space, objective: () => 0, trials: 2, mode: 'up' as never })).rejects.toThrow(/mode/);
    await expect(randomSearch({ space, objective: () => 0, trials: 2, refine: { shrink: 1 } })).rejects.toThrow(/shrink/);
    await expect(randomSearch({ space, trials: 2 } as never)).rejects.toThrow(/build/);
    await expect(randomSearch({ space, build: () => null as never, trials: 2 })).rejects.toThrow(/data/);
    await expect(randomSearch({ space, objective: () => 0, trials: 2, bogus: 1 } as never)).rejects.toThrow(/unknown option 'bogus'/);
  });

  it('samples within bounds: uniform, log-uniform (uniform in log space), every integer, every option; reproducible by seed', async () => {
    const space = { u: uniform(-2, 3), l: logUniform(1e-4, 1), i: intUniform(2, 5), c: choice(['a', 'b', 'c']) };
    const res = await randomSearch({ space, objective: (c) => c.u, trials: 400, seed: 5 });
    const cs = res.trials.map((t) => t.config);
    expect(cs.every((c) => c.u >= -2 && c.u <= 3 && c.l >= 1e-4 && c.l <= 1)).toBe(true);
    expect(new Set(cs.map((c) => c.i))).toEqual(new Set([2, 3, 4, 5]));
    expect(new Set(cs.map((c) => c.c))).toEqual(new Set(['a', 'b', 'c']));
    // log10(l) is uniform on [−4, 0]: each decade holds about a quarter of the samples
    for (let d = -4; d < 0; d++) {
      const share = cs.filter((c) => Math.log10(c.l) >= d && Math.log10(c.l) < d + 1).length / cs.length;
      expect(Math.abs(share - 0.25)).toBeLessThan(0.08);
    }
    // sorted best first (mode min for a metric without "acc")
    expect(res.mode).toBe('min');
    expect(res.best.metric).toBe(Math.min(...res.trials.map((t) => t.metric)));
    const again = await randomSearch({ space, objective: (c) => c.u, trials: 400, seed: 5 });
    expect(again.trials.map((t) => t.config)).toEqual(res.trials.map((t) => t.config));
  });

  it('shrinks the space around the best trials by the documented rule', () => {
    const space: Space = { u: uniform(0, 10), l: logUniform(1e-4, 1), i: intUniform(1, 100), c: choice(['a', 'b', 'c', 'd']) };
    const best = { u: 9, l: 1e-2, i: 3, c: 'b' };
    const s = shrinkSpace(space, best, [best, { u: 1, l: 1e-3, i: 50, c: 'd' }], 0.5);
    // uniform: width 10 → 5 centred on 9 = [6.5, 11.5], shifted inside [0, 10] → [5, 10]
    expect(s.u).toEqual({ kind: 'uniform', low: 5, high: 10 });
    // logUniform: log-width ln(1e4) → half, centred on ln(1e-2): [1e-4, 1] → [1e-3, 1e-1]
    expect((s.l as { low: number }).low).toBeCloseTo(1e-3, 12);
    expect((s.l as { high: number }).high).toBeCloseTo(1e-1, 12);
    // intUniform: width 99 → 49.5 centred on 3: [−21.75, 27.75] → shifted [1, 50.5] → integers [1, 51]
    expect(s.i).toEqual({ kind: 'intUniform', low: 1, high: 51 });
    // choice: the options used by the top trials, in their original order
    expect(s.c).toEqual({ kind: 'choice', options: ['b', 'd'] });
  });

  it('refinement samples from the shrunk spaces; custom runners get JSON-able tasks', async () => {
    const seen: { round: number; encoded: Record<string, number> }[] = [];
    const runner: TrialRunner = async (tasks, run) => {
      const out = [];
      for (const t of tasks) {
        seen.push({ round: t.round, encoded: JSON.parse(JSON.stringify(t.encoded)) });
        out.push(await run(t));
      }
      return out;
    };
    const space = { lr: logUniform(1e-5, 10), act: choice(['relu', 'tanh', 'elu']) };
    // a smooth objective with its minimum at lr = 1e-2 and act = 'tanh'
    const res = await randomSearch({ space, objective: (c) => (Math.log10(c.lr) + 2) ** 2 + (c.act === 'tanh' ? 0 : 1), trials: 10, refine: { rounds: 2, trials: 10, top: 1 }, seed: 1, runner });
    expect(res.spaces.length).toBe(3);
    expect(seen.length).toBe(30);
    for (const r of [1, 2]) {
      const sp = res.spaces[r]!.lr as { low: number; high: number };
      const prev = res.spaces[r - 1]!.lr as { low: number; high: number };
      expect(Math.log(sp.high / sp.low)).toBeCloseTo(0.5 * Math.log(prev.high / prev.low), 9);
      for (const t of res.trials.filter((x) => x.round === r)) expect(t.config.lr >= sp.low && t.config.lr <= sp.high).toBe(true);
    }
    // encoded choices are indices into the original options
    for (const t of res.trials) expect(seen[t.index]!.encoded.act).toBe(['relu', 'tanh', 'elu'].indexOf(t.config.act));
    // a runner that loses outcomes is refused
    await expect(randomSearch({ space, objective: () => 1, trials: 2, runner: async () => [] })).rejects.toThrow(/runner returned 0 outcomes/);
  });
});

describe('randomSearch with models', () => {
  it('records diverged trials as failed and sorts them last; table and per-parameter SVG plots', async () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => (i % 8) / 4 - 1);
    const y = matrix(Float32Array.from(x, (v) => 3 * v + 1), [64, 1]);
    const res = await randomSearch({
      space: { lr: choice([1e-2, 1e9]), hidden: intUniform(2, 6) },
      build: (c, { seed }) => {
        const model = new Sequential({ inputShape: [1], layers: [dense(c.hidden, { activation: 'tanh' }), dense(1)], seed });
        model.compile({ optimizer: sgd({ lr: c.lr }), loss: 'mse' });
        return { model, fit: { batchSize: 8 } };
      },
      data: { x, y },
      metric: 'loss',
      trials: 8,
      budget: { epochs: 4 },
      seed: 3,
    });
    const failed = res.trials.filter((t) => Number.isNaN(t.metric));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((t) => t.config.lr === 1e9 && /loss became|the update made .* non-finite/.test(t.error ?? ''))).toBe(true);
    expect(res.trials.slice(-failed.length)).toEqual(failed);
    expect(res.best.config.lr).toBe(1e-2);
    const table = res.table().split('\n');
    expect(table[0]).toMatch(/rank\s+round\s+loss\s+epochs\s+time ms\s+lr\s+hidden/);
    expect(table.length).toBe(2 + 8);
    expect(table.filter((l) => l.includes('failed')).length).toBe(failed.length);
    const plots = res.plot();
    expect(Object.keys(plots)).toEqual(['lr', 'hidden']);
    for (const svg of Object.values(plots)) {
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('loss vs ');
      // one dot per finished trial
      expect((svg.match(/<circle /g) ?? []).length).toBe(8 - failed.length);
    }
  });

  it('MNIST digits: the pick beats the median trial; refinement beats the first round for most seeds', async () => {
    const { train, test } = await loadDigits({ seed: 0, trainSize: 1500, testSize: 500 });
    const x = train.x.subarray(0, 1000 * 784);
    const y = train.y.subarray(0, 1000);
    const validationData = [train.x.subarray(1000 * 784), train.y.subarray(1000)] as const;
    const space = { lr: logUniform(1e-4, 0.3), hidden: intUniform(8, 64), batchSize: choice([16, 32, 64]) };
    const SEEDS = [1, 2, 3, 4, 5];
    const MARGIN = 0.01; // valLoss
    let wins = 0;
    let testGap = 0;
    for (const seed of SEEDS) {
      const res = await randomSearch({
        space,
        // common random numbers: every trial of a search starts from the same initialization and
        // shuffling, so trials differ only by their hyperparameters
        build: (c) => {
          const model = new Sequential({ inputShape: [784], layers: [dense(c.hidden, { activation: 'relu' }), dense(10)], seed });
          model.compile({ optimizer: adam({ lr: c.lr }), loss: 'softmaxCrossEntropy' });
          return { model, fit: { batchSize: c.batchSize, seed: 99 } };
        },
        data: { x, y, validationData },
        inspect: (m) => ({ testAccuracy: m.evaluate(test.x, test.y).accuracy }),
        trials: 8,
        budget: { epochs: 3, earlyStopping: { patience: 1 } },
        metric: 'valLoss',
        seed,
        refine: { rounds: 2, trials: 6, shrink: 0.3, top: 2 },
      });
      const first = res.trials.filter((t) => t.round === 0);
      const refined = res.trials.filter((t) => t.round > 0);
      expect(res.trials.length).toBe(20);
      if (refined[0]!.metric < first[0]!.metric - MARGIN) wins++;
      // the pick beats the median trial of random search (first round) on validation and on the
      // held-out test digits
      const median = first[Math.floor(first.length / 2)]!;
      expect(res.best.metric).toBeLessThan(median.metric - 0.05);
      expect(res.best.extra!.testAccuracy!).toBeGreaterThanOrEqual(median.extra!.testAccuracy!);
      expect(res.best.extra!.testAccuracy!).toBeGreaterThan(0.85);
      testGap += (res.best.extra!.testAccuracy! - median.extra!.testAccuracy!) / SEEDS.length;
    }
    // measured: mean test-accuracy gap 0.098
    expect(testGap).toBeGreaterThan(0.04);
    // measured: 4 of 5 seeds beat it by more than 0.01 (seed 1 misses by 0.0014)
    expect(wins).toBeGreaterThan(SEEDS.length / 2);
  }, 60000);
});
