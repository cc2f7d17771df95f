// gridSearch: the grid is the Cartesian product of each dimension's grid values (defined from the
// bounds here, independently of the code), trials run through the same loop as randomSearch
// (same seeds per index, same table/best), refinement shrinks around the best, and bad options are
// refused before any trial runs.
import { beforeAll, describe, expect, it } from 'vitest';
import { choice, gridSearch, gridValues, intUniform, logUniform, randomSearch, uniform } from '../../ts/tuning/index.js';
import { Sequential, dense, adam, init } from '../../ts/index.js';
import { OptionError } from '../../ts/errors/index.js';

beforeAll(async () => {
  await init();
});

describe('gridValues', () => {
  it('spaces values evenly (log space for logUniform), dedupes integers, keeps every option', () => {
    expect(gridValues(uniform(-1, 3), 5)).toEqual([-1, 0, 1, 2, 3]);
    const lv = gridValues(logUniform(1e-4, 1), 5) as number[];
    const want = [1e-4, 1e-3, 1e-2, 1e-1, 1];
    lv.forEach((v, i) => expect(v / want[i]!).toBeCloseTo(1, 12));
    expect(lv[0]).toBe(1e-4);
    expect(lv[4]).toBe(1);
    expect(gridValues(intUniform(1, 3), 5)).toEqual([1, 2, 3]); // 1, 1.5→2, 2, 2.5→3, 3
    expect(gridValues(intUniform(16, 128), 3)).toEqual([16, 72, 128]);
    expect(gridValues(uniform(2, 4), 1)).toEqual([3]);
    expect(gridValues(choice(['a', 'b', 'c']), 2)).toEqual(['a', 'b', 'c']);
  });
});

describe('gridSearch', () => {
  it('runs every combination once, last hyperparameter fastest, with randomSearch’s seeds per trial index', async () => {
    const seen: { lr: number; act: string; seed: number; trial: number }[] = [];
    const space = { lr: logUniform(1e-3, 1e-1), act: choice(['relu', 'tanh']) };
    const r = await gridSearch({
      space,
      points: 3,
      seed: 4,
      objective: (c, ctx) => {
        seen.push({ lr: c.lr, act: c.act, seed: ctx.seed, trial: ctx.trial });
        return Math.abs(Math.log10(c.lr) + 2) + (c.act === 'relu' ? 0 : 0.5);
      },
    });
    expect(seen.map((s) => [s.lr, s.act])).toEqual([
      [1e-3, 'relu'], [1e-3, 'tanh'], [gridValues(space.lr, 3)[1], 'relu'], [gridValues(space.lr, 3)[1], 'tanh'], [1e-1, 'relu'], [1e-1, 'tanh'],
    ]);
    expect(seen[2]!.lr).toBeCloseTo(1e-2, 14);
    expect(r.trials).toHaveLength(6);
    expect(r.best.config.act).toBe('relu');
    expect(r.best.config.lr).toBeCloseTo(1e-2, 14);
    expect(r.mode).toBe('min');
    // trial seeds: the same function of (seed, index) as randomSearch's
    const rs: number[] = [];
    await randomSearch({ space, trials: 6, seed: 4, objective: (_c, ctx) => (rs.push(ctx.seed), 0) });
    expect(seen.map((s) => s.seed)).toEqual(rs);
    expect(r.table()).toMatch(/rank\s+round/);
  });

  it('refines with a new grid on the space shrunk around the best trial', async () => {
    const r = await gridSearch({ space: { x: uniform(0, 8) }, points: 5, refine: { rounds: 1, shrink: 0.5 }, objective: (c) => Math.abs(c.x - 2.2) });
    expect(r.spaces).toHaveLength(2);
    // round 0: 0, 2, 4, 6, 8 → best 2; round 1: width 4 centred on 2 → [0, 4]
    expect(r.spaces[1]).toEqual({ x: uniform(0, 4) });
    const round1 = r.trials.filter((t) => t.round === 1).map((t) => t.config.x).sort((a, b) => a - b);
    expect(round1).toEqual([0, 1, 2, 3, 4]);
    expect(r.trials).toHaveLength(10);
  });

  it('trains models from build like randomSearch, and scores the best epoch', async () => {
    const x = Float32Array.from({ length: 64 * 2 }, (_, i) => ((i * 37) % 11) / 11 - 0.5);
    const y = { data: Float32Array.from({ length: 64 }, (_, r) => x[2 * r]! - 2 * x[2 * r + 1]!), shape: [64, 1] as [number, number] };
    const r = await gridSearch({
      space: { lr: logUniform(1e-3, 1e-1) },
      points: 2,
      data: { x: { data: x, shape: [64, 2] }, y },
      metric: 'loss',
      budget: { epochs: 3 },
      build: (c, { seed }) => {
        const m = new Sequential({ inputShape: [2], layers: [dense(1)], seed });
        m.compile({ optimizer: adam({ lr: c.lr }), loss: 'mse' });
        return { model: m, fit: { batchSize: 16 } };
      },
    });
    expect(r.trials).toHaveLength(2);
    for (const t of r.trials) expect(t.metric).toBe(Math.min(...t.history!.history.loss!));
    // a 100× larger rate fits this linear target faster in 3 epochs
    expect(r.best.config.lr).toBe(1e-1);
  });

  it('refuses bad points and options before any trial runs', async () => {
    let calls = 0;
    const objective = () => ++calls;
    const space = { a: uniform(0, 1), b: choice([1, 2]) };
    for (const points of [0, 1.5, -2, 1001, 'x', [3]] as never[]) await expect(gridSearch({ space, points, objective })).rejects.toThrow(OptionError);
    await expect(gridSearch({ space, points: { c: 3 } as never, objective })).rejects.toThrow(/points\.c names no hyperparameter/);
    await expect(gridSearch({ space, points: { a: 0 }, objective })).rejects.toThrow(/points\.a = 0/);
    await expect(gridSearch({ space, trials: 3, objective } as never)).rejects.toThrow(/unknown option 'trials'/);
    await expect(gridSearch({ space: { a: uniform(2, 1) }, objective })).rejects.toThrow(/space\.a/);
    await expect(gridSearch({ space: { a: uniform(0, 1), b: uniform(0, 1), c: uniform(0, 1) }, points: 100, objective })).rejects.toThrow(/grid has 1000000 points/);
    expect(calls).toBe(0);
  });
});
