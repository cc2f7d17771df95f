/**
 * PyTorch-named schedules against (a) PyTorch's recursive "chainable" get_lr simulated step by step
 * in float64 here, (b) PyTorch's closed forms transcribed here, and (c) explicit values from
 * pytorch/pytorch test/optim/test_lrscheduler.py.
 */
import { describe, expect, it } from 'vitest';
import {
  constantLR,
  cosineAnnealingLR,
  cosineAnnealingWarmRestarts,
  cyclicLR,
  exponentialLR,
  lambdaLR,
  linearLR,
  multiStepLR,
  oneCycleLR,
  polynomialLR,
  stepLR,
} from '../../ts/schedules/index.js';
import { expectClose, expectOptionError, expectSeries, pymod, range } from './helpers.js';

/**
 * Simulates a PyTorch LRScheduler driven by step(): the constructor's initial step computes the lr
 * for last_epoch = 0 (`initial`), each step() increments last_epoch and applies `step` to the
 * optimizer's current lr. Returns the lr after 0, 1, …, n−1 step() calls.
 */
function torchRecursive(base: number, n: number, initial: (lr: number) => number, step: (lr: number, lastEpoch: number) => number): number[] {
  const out: number[] = [];
  let lr = initial(base);
  out.push(lr);
  for (let e = 1; e < n; e++) {
    lr = step(lr, e);
    out.push(lr);
  }
  return out;
}

describe('stepLR', () => {
  it('matches test_step_lr (lr 0.05, gamma 0.1, step_size 3)', () => {
    const s = stepLR({ lr: 0.05, gamma: 0.1, stepSize: 3 });
    expectSeries(s, [...Array(3).fill(0.05), ...Array(3).fill(0.005), ...Array(3).fill(0.0005), 0.00005], 'stepLR');
  });
  it('matches the recursive get_lr for 40 steps', () => {
    for (const [stepSize, gamma] of [[3, 0.1], [1, 0.5], [7, 0.9]] as const) {
      const ref = torchRecursive(0.1, 40, (lr) => lr, (lr, e) => (e % stepSize !== 0 ? lr : lr * gamma));
      expectSeries(stepLR({ lr: 0.1, stepSize, gamma }), ref, `stepLR(${stepSize},${gamma})`);
    }
  });
  it('defaults gamma to 0.1 and is an epoch schedule', () => {
    const s = stepLR({ lr: 1, stepSize: 2 });
    expect(s.unit).toBe('epoch');
    expect(s.name).toBe('stepLR');
    expectClose(s(2), 0.1, 'default gamma');
  });
});

describe('multiStepLR', () => {
  it('matches test_multi_step_lr (milestones [2, 5, 9])', () => {
    const s = multiStepLR({ lr: 0.05, gamma: 0.1, milestones: [2, 5, 9] });
    expectSeries(s, [0.05, 0.05, 0.005, 0.005, 0.005, 0.0005, 0.0005, 0.0005, 0.0005, 0.00005, 0.00005, 0.00005], 'multiStepLR');
  });
  it('matches the recursive get_lr (Counter semantics, milestone 0 and repeats)', () => {
    for (const milestones of [[2, 5, 9], [0, 3], [4, 4, 10]]) {
      const count = (e: number) => milestones.filter((m) => m === e).length;
      const gamma = 0.3;
      const ref = torchRecursive(0.2, 20, (lr) => lr * gamma ** count(0), (lr, e) => (count(e) ? lr * gamma ** count(e) : lr));
      expectSeries(multiStepLR({ lr: 0.2, milestones, gamma }), ref, `multiStepLR ${milestones}`);
    }
  });
});

describe('exponentialLR', () => {
  it('matches test_exp_lr and the recursive form', () => {
    expectSeries(exponentialLR({ lr: 0.05, gamma: 0.9 }), range(10).map((x) => 0.05 * 0.9 ** x), 'exp');
    const ref = torchRecursive(0.3, 60, (lr) => lr, (lr) => lr * 0.95);
    expectSeries(exponentialLR({ lr: 0.3, gamma: 0.95 }), ref, 'exp recursive');
  });
});

describe('cosineAnnealingLR', () => {
  const recursive = (base: number, tMax: number, etaMin: number, n: number) =>
    torchRecursive(base, n, (lr) => lr, (lr, e) =>
      pymod(e - 1 - tMax, 2 * tMax) === 0
        ? lr + ((base - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2
        : ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (lr - etaMin) + etaMin,
    );
  it('matches test_cos_anneal_lr (T_max 10, eta_min 1e-10)', () => {
    const etaMin = 1e-10;
    const s = cosineAnnealingLR({ lr: 0.05, tMax: 10, etaMin });
    expectSeries(s, range(10).map((x) => etaMin + ((0.05 - etaMin) * (1 + Math.cos((Math.PI * x) / 10))) / 2), 'cos');
  });
  it('keeps following the cosine past tMax, like the recursive form (3 periods)', () => {
    for (const [tMax, etaMin] of [[5, 1e-10], [10, 0.01], [7, 0]] as const) {
      const ref = recursive(0.1, tMax, etaMin, 6 * tMax + 1);
      // recursion near the trough loses relative precision; allow 1e-12 absolute on a 0.1 scale
      expectSeries(cosineAnnealingLR({ lr: 0.1, tMax, etaMin }), ref, `cos recursive T=${tMax}`, 1e-6, 1e-12);
    }
    const s = cosineAnnealingLR({ lr: 0.1, tMax: 10 });
    expectClose(s(20), 0.1, 'back at the peak after 2·tMax');
    expectClose(s(15), 0.05, 'rising again');
  });
});

describe('cosineAnnealingWarmRestarts', () => {
  const lrAt = (base: number, etaMin: number, tCur: number, tI: number) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;

  it('matches test_CosineAnnealingWarmRestarts_lr1 (T_0 10, T_mult 1, 2, 4; 100 steps)', () => {
    for (const tMult of [1, 2, 4]) {
      const etaMin = 1e-10;
      let tI = 10;
      let tCur = 0;
      const targets = [0.05];
      for (let i = 1; i < 100; i++) {
        tCur += 1;
        if (tCur >= tI) {
          tCur = tCur - tI;
          tI = tMult * tI;
        }
        targets.push(lrAt(0.05, etaMin, tCur, tI));
      }
      expectSeries(cosineAnnealingWarmRestarts({ lr: 0.05, t0: 10, tMult, etaMin }), targets, `SGDR T_mult=${tMult}`, 1e-6, 1e-12);
    }
  });

  it('matches test_CosineAnnealingWarmRestarts_lr3 (explicit T_cur/T_i, fractional epochs)', () => {
    const epochsFor = [
      [1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13],
      [1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3],
      [0.1, 0.2, 0.3, 1.3, 2.3, 17.5, 18.5, 19.5, 29.5, 30.5, 31.5, 50],
    ];
    const tCurs = [
      [1, 2, 3, 4, 5, 2, 7, 3, 4, 5, 6, 3],
      [1, 2, 3, 4, 5, 15, 2, 3, 4, 10, 11, 3],
      [0.1, 0.2, 0.3, 1.3, 2.3, 7.5, 8.5, 9.5, 19.5, 20.5, 21.5, 10],
    ];
    const tIs = [
      [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
      [10, 10, 10, 10, 10, 20, 40, 40, 40, 80, 80, 10],
      [10, 10, 10, 10, 10, 30, 30, 30, 30, 30, 30, 90],
    ];
    [1, 2, 3].forEach((tMult, k) => {
      const s = cosineAnnealingWarmRestarts({ lr: 0.05, t0: 10, tMult, etaMin: 1e-10 });
      (epochsFor[k] as number[]).forEach((epoch, j) => {
        expectClose(s(epoch), lrAt(0.05, 1e-10, tCurs[k]![j]!, tIs[k]![j]!), `T_mult=${tMult} epoch=${epoch}`);
      });
    });
  });

  it('matches test_CosineAnnealingWarmRestarts_lr2 (epochs in steps of 0.1, T_mult 1, 2, 4)', () => {
    for (const tMult of [1, 2, 4]) {
      const etaMin = 1e-10;
      let tI = 10;
      let tCur = 0;
      const s = cosineAnnealingWarmRestarts({ lr: 0.05, t0: 10, tMult, etaMin });
      for (let k = 1; k < 300; k++) {
        tCur = Math.round((tCur + 0.1) * 10) / 10;
        if (tCur >= tI) {
          tCur = tCur - tI;
          tI = tMult * tI;
        }
        expectClose(s(k / 10), lrAt(0.05, etaMin, tCur, tI), `T_mult=${tMult} t=${k / 10}`, 1e-6, 1e-12);
      }
    }
  });

  it("agrees with PyTorch's step(epoch) closed form (log-based) at fractional epochs", () => {
    const torchClosed = (epoch: number, t0: number, tMult: number, base: number, etaMin: number) => {
      let tCur: number;
      let tI = t0;
      if (epoch >= t0) {
        if (tMult === 1) tCur = pymod(epoch, t0);
        else {
          const n = Math.trunc(Math.log((epoch / t0) * (tMult - 1) + 1) / Math.log(tMult));
          tCur = epoch - (t0 * (tMult ** n - 1)) / (tMult - 1);
          tI = t0 * tMult ** n;
        }
      } else tCur = epoch;
      return lrAt(base, etaMin, tCur, tI);
    };
    for (const [t0, tMult] of [[10, 2], [3, 3], [5, 1], [1, 2]] as const) {
      const s = cosineAnnealingWarmRestarts({ lr: 0.2, t0, tMult, etaMin: 0.001 });
      for (const epoch of [0, 0.37, 2.5, 9.99, 10.01, 17.25, 29.75, 31.3, 100.6, 333.3]) {
        expectClose(s(epoch), torchClosed(epoch, t0, tMult, 0.2, 0.001), `t0=${t0} tMult=${tMult} epoch=${epoch}`);
      }
    }
  });

  it('restarts exactly at S_n even where a log-based cycle index would round down', () => {
    // t0 = 10, tMult = 3: restarts at 10, 40, 130, 400, 1210 (sum of 10·3^i).
    const s = cosineAnnealingWarmRestarts({ lr: 1, t0: 10, tMult: 3 });
    for (const restart of [10, 40, 130, 400, 1210]) expectClose(s(restart), 1, `restart at ${restart}`);
  });
});

describe('cyclicLR', () => {
  /** Transcription of CyclicLR.get_lr (it is already a closed form of last_epoch). */
  function torchCyclic(t: number, o: { baseLr: number; maxLr: number; up: number; down?: number; mode: string; gamma?: number; scaleFn?: (x: number) => number; scaleMode?: string }) {
    const down = o.down ?? o.up;
    const total = o.up + down;
    const ratio = o.up / total;
    const cycle = Math.floor(1 + t / total);
    const x = 1.0 + t / total - cycle;
    const sf = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    let fn: (x: number) => number;
    let mode: string;
    if (o.scaleFn) {
      fn = o.scaleFn;
      mode = o.scaleMode ?? 'cycle';
    } else if (o.mode === 'triangular') {
      fn = () => 1;
      mode = 'cycle';
    } else if (o.mode === 'triangular2') {
      fn = (c) => 1 / 2.0 ** (c - 1);
      mode = 'cycle';
    } else {
      fn = (i) => (o.gamma ?? 1) ** i;
      mode = 'iterations';
    }
    const h = (o.maxLr - o.baseLr) * sf;
    return mode === 'cycle' ? o.baseLr + h * fn(cycle) : o.baseLr + h * fn(t);
  }

  it('matches test_cycle_lr_triangular_mode_one_lr (stepSizeDown omitted)', () => {
    expectSeries(cyclicLR({ baseLr: 1, maxLr: 5, stepSizeUp: 4, mode: 'triangular' }), [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3], 'triangular');
  });
  it('matches test_cycle_lr_triangular2_mode_one_lr', () => {
    const target = [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.5, 1.75, 2.0, 1.75];
    expectSeries(cyclicLR({ baseLr: 1, maxLr: 5, stepSizeUp: 4, mode: 'triangular2' }), target, 'triangular2');
  });
  it('matches test_cycle_lr_exp_range_mode_one_lr (gamma 0.9)', () => {
    const xs = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25, 0, 0.25, 0.5, 0.75, 1];
    const s = cyclicLR({ baseLr: 1, maxLr: 5, stepSizeUp: 4, mode: 'exp_range', gamma: 0.9 });
    expectSeries(s, xs.map((x, i) => 1 + x * 4 * 0.9 ** i), 'exp_range');
  });
  it('matches the step_size_up/down tests (triangular 4/6, triangular2 2/6, exp_range 2/6)', () => {
    expectSeries(
      cyclicLR({ baseLr: 1, maxLr: 5, stepSizeUp: 4, stepSizeDown: 6, mode: 'triangular' }),
      [1, 2, 3, 4, 5, 13 / 3, 11 / 3, 9 / 3, 7 / 3, 5 / 3, 1],
      'triangular up/down',
    );
    expectSeries(
      cyclicLR({ baseLr: 1, maxLr: 5, stepSizeUp: 2, stepSizeDown: 6, mode: 'triangular2' }),
      [1, 3, 5, 13 / 3, 11 / 3, 9 / 3, 7 / 3, 5 / 3, 1, 2, 3, 8 / 3, 7 / 3, 6 / 3, 5 / 3, 4 / 3, 1, 3 / 2, 2, 11 / 6, 10 / 6, 9 / 6, 8 / 6, 7 / 6],
      'triangular2 up/down',
    );
    const xs = [0, 0.5, 1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0, 0.5, 1, 5 / 6, 4 / 6];
    expectSeries(
      cyclicLR({ baseLr: 1, maxLr: 5, stepSizeUp: 2, stepSizeDown: 6, mode: 'exp_range', gamma: 0.9 }),
      xs.map((x, i) => 1 + x * 4 * 0.9 ** i),
      'exp_range up/down',
    );
  });
  it('matches get_lr over several cycles, default sizes, custom scaleFn in both scale modes', () => {
    const cases = [
      { baseLr: 0.001, maxLr: 0.006, up: 2000, mode: 'triangular' },
      { baseLr: 0.001, maxLr: 0.006, up: 7, down: 3, mode: 'triangular2' },
      { baseLr: 0.01, maxLr: 0.1, up: 5, mode: 'exp_range', gamma: 0.99 },
      { baseLr: 0.01, maxLr: 0.1, up: 5, down: 2, mode: 'triangular', scaleFn: (x: number) => 1 / x, scaleMode: 'cycle' },
      { baseLr: 0.01, maxLr: 0.1, up: 3, mode: 'triangular', scaleFn: (x: number) => 1 / (1 + x), scaleMode: 'iterations' },
    ];
    for (const c of cases) {
      const s = cyclicLR({
        baseLr: c.baseLr,
        maxLr: c.maxLr,
        stepSizeUp: c.up === 2000 ? undefined : c.up,
        stepSizeDown: c.down,
        mode: c.mode as 'triangular',
        gamma: c.gamma,
        scaleFn: c.scaleFn,
        scaleMode: c.scaleMode as 'cycle' | undefined,
      });
      expect(s.unit).toBe('step');
      const ts = c.up === 2000 ? [0, 1, 999, 2000, 3999, 4000, 5123, 9999] : range(60);
      for (const t of ts) expectClose(s(t), torchCyclic(t, c), `cyclic ${c.mode} t=${t}`);
    }
  });
});

describe('oneCycleLR', () => {
  const annealingCos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  it('matches test_onecycle_lr_linear_annealing', () => {
    const s = oneCycleLR({ maxLr: 25, finalDivFactor: 2, totalSteps: 10, annealStrategy: 'linear' });
    expectSeries(s, [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5], 'linear');
  });
  it('matches test_onecycle_lr_linear_annealing_three_phases', () => {
    const s = oneCycleLR({ maxLr: 25, divFactor: 25, totalSteps: 10, annealStrategy: 'linear', pctStart: 0.4, finalDivFactor: 4, threePhase: true });
    expectSeries(s, [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25], 'three-phase');
  });
  it('matches test_onecycle_lr_cosine_annealing', () => {
    const s = oneCycleLR({ maxLr: 25, finalDivFactor: 2, totalSteps: 10 });
    const target = [1, 13, 25, ...[1, 2, 3, 4, 5, 6].map((k) => annealingCos(25, 0.5, k / 7)), 0.5];
    expectSeries(s, target, 'cos');
  });
  it('matches a transcription of OneCycleLR.get_lr (epochs × stepsPerEpoch, three phases, cos)', () => {
    const torch = (t: number, total: number, maxLr: number, pct: number, div: number, fdiv: number, three: boolean, cos: boolean) => {
      const init = maxLr / div;
      const min = init / fdiv;
      const phases = three
        ? [
            [pct * total - 1, init, maxLr],
            [2 * pct * total - 2, maxLr, init],
            [total - 1, init, min],
          ]
        : [
            [pct * total - 1, init, maxLr],
            [total - 1, maxLr, min],
          ];
      let start = 0;
      for (let i = 0; i < phases.length; i++) {
        const [end, a, b] = phases[i] as [number, number, number];
        if (t <= end || i === phases.length - 1) {
          const p = (t - start) / (end - start);
          return cos ? annealingCos(a, b, p) : (b - a) * p + a;
        }
        start = end;
      }
      throw new Error('unreachable');
    };
    const s = oneCycleLR({ maxLr: 0.01, epochs: 10, stepsPerEpoch: 37, threePhase: true, pctStart: 0.25 });
    expect(s.unit).toBe('step');
    expectClose(s.base, 0.01 / 25, 'base = initial lr');
    for (let t = 0; t <= 370; t++) expectClose(s(t), torch(t, 370, 0.01, 0.25, 25, 1e4, true, true), `t=${t}`);
    const s2 = oneCycleLR({ maxLr: 0.3, totalSteps: 101, pctStart: 0.1, divFactor: 10, finalDivFactor: 100 });
    for (let t = 0; t <= 101; t++) expectClose(s2(t), torch(t, 101, 0.3, 0.1, 10, 100, false, true), `t=${t}`);
  });
  it('throws past totalSteps, as PyTorch does', () => {
    const s = oneCycleLR({ maxLr: 1, totalSteps: 10 });
    expect(() => s(10)).not.toThrow();
    expectOptionError(() => s(11), 't', 'totalSteps = 10');
    expectOptionError(() => s.sample(12), 't', 'expected t <= totalSteps');
  });
});

describe('linearLR, constantLR, polynomialLR, lambdaLR', () => {
  it('linearLR matches test_linearlr, test_get_last_lr_linearlr and the recursive form', () => {
    expectSeries(linearLR({ lr: 0.05, startFactor: 0.5, totalIters: 4 }), [...range(4).map((i) => 0.05 * (0.5 + (i * 0.5) / 4)), ...Array(6).fill(0.05)], 'linear');
    const [sf, ef] = [1 / 4, 3 / 5];
    expectSeries(linearLR({ lr: 0.05, startFactor: sf, endFactor: ef, totalIters: 4 }), [...range(4).map((i) => 0.05 * (sf + (i * (ef - sf)) / 4)), ...Array(6).fill(0.05 * ef)], 'linear end');
    for (const [s0, e0, T] of [[1 / 3, 0.7, 4], [1 / 3, 1, 5], [0.9, 0.1, 7]] as const) {
      const ref = torchRecursive(0.1, 20, (lr) => lr * s0, (lr, e) => (e > T ? lr : lr * (1 + (e0 - s0) / (T * s0 + (e - 1) * (e0 - s0)))));
      expectSeries(linearLR({ lr: 0.1, startFactor: s0, endFactor: e0, totalIters: T }), ref, `linear recursive ${s0},${e0},${T}`);
    }
  });
  it('constantLR matches test_constantlr and the recursive form', () => {
    expectSeries(constantLR({ lr: 0.05, factor: 0.5, totalIters: 5 }), [...Array(5).fill(0.025), ...Array(5).fill(0.05)], 'constant');
    const ref = torchRecursive(0.1, 20, (lr) => lr / 3, (lr, e) => (e !== 4 ? lr : lr * (1 / (1 / 3))));
    expectSeries(constantLR({ lr: 0.1, totalIters: 4 }), ref, 'constant recursive (default factor 1/3)');
  });
  it('polynomialLR matches test_poly_lr and the recursive form', () => {
    expectSeries(polynomialLR({ lr: 0.05, power: 0.9, totalIters: 5 }), [...range(5).map((x) => (1 - x / 5) ** 0.9 * 0.05), ...Array(5).fill(0)], 'poly');
    const ref = torchRecursive(0.05, 15, (lr) => lr, (lr, e) => (e > 5 ? lr : lr * ((1 - e / 5) / (1 - (e - 1) / 5)) ** 0.9));
    expectSeries(polynomialLR({ lr: 0.05, power: 0.9 }), ref, 'poly recursive', 1e-6, 1e-15);
  });
  it('lambdaLR matches test_lambda_lr', () => {
    expectSeries(lambdaLR({ lr: 0.05, lrLambda: (x) => 0.9 ** x }), range(10).map((x) => 0.05 * 0.9 ** x), 'lambda');
    expectSeries(lambdaLR({ lr: 0.4, lrLambda: (x) => 0.8 ** x }), range(10).map((x) => 0.4 * 0.8 ** x), 'lambda 2');
  });
});
