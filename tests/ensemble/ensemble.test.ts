// Ensembles: bagging reduces the variance of predictions across training sets compared with its
// members; the members' spread grows away from the data; SAMME boosting's training error falls
// round over round where one small network under-fits; snapshot ensembles keep the weights at the
// end of each warm-restart cycle; bad input gets typed errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Rng, Sequential, adam, cosineAnnealingWarmRestarts, dense, exponentialDecay, init, matrix, sgd } from '../../ts/index.js';
import { bagging, boosting, snapshotEnsemble } from '../../ts/ensemble/index.js';
import type { Matrix } from '../../ts/index.js';
import { tinyModel } from '../helpers.js';

beforeAll(async () => {
  await init();
});

const regressor = ({ seed }: { seed: number }) => {
  const m = new Sequential({ inputShape: [1], layers: [dense(24, { activation: 'tanh' }), dense(1)], seed });
  m.compile({ optimizer: adam({ lr: 0.02 }), loss: 'mse' });
  return m;
};

/** A noisy 1-D regression set: y = sin(3x) + N(0, 0.3²), x ~ U(−1, 1). */
function noisySine(seed: number, n: number): { x: Float32Array; y: Matrix } {
  const r = new Rng(seed);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = r.next() * 2 - 1;
    y[i] = Math.sin(3 * x[i]!) + 0.3 * r.normal();
  }
  return { x, y: matrix(y, [n, 1]) };
}

describe('bagging', () => {
  it('reduces the variance of predictions across training sets compared with its members', async () => {
    const grid = Float32Array.from({ length: 21 }, (_, i) => -1 + i / 10);
    const D = 6; // independent noisy training sets
    const M = 6; // members
    const member: Float32Array[][] = Array.from({ length: M }, () => []); // member[i][d] = predictions on grid
    const ens: Float32Array[] = [];
    for (let d = 0; d < D; d++) {
      const { x, y } = noisySine(100 + d, 60);
      const b = bagging(regressor, { n: M, seed: d });
      await b.fit(x, y, { epochs: 60, batchSize: 16 });
      b.memberPredictions(grid).forEach((p, i) => member[i]!.push(p.data));
      ens.push(b.predict(grid).data);
      b.dispose();
    }
    const varAcross = (preds: Float32Array[]): number => {
      // mean over grid points of the variance over training sets
      let tot = 0;
      for (let g = 0; g < grid.length; g++) {
        const v = preds.map((p) => p[g]!);
        const mu = v.reduce((a, b) => a + b, 0) / v.length;
        tot += v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length;
      }
      return tot / grid.length;
    };
    const memberVar = member.reduce((s, p) => s + varAcross(p), 0) / M;
    const ensVar = varAcross(ens);
    // measured: ensemble 0.0130 vs members 0.0215 (ratio 0.61)
    expect(ensVar).toBeLessThan(0.75 * memberVar);
  });

  it('the members spread more away from the data than inside it (uncertainty)', async () => {
    const { x, y } = noisySine(7, 60);
    const b = bagging(regressor, { n: 6, seed: 3 });
    await b.fit(x, y, { epochs: 60, batchSize: 16 });
    const inside = Float32Array.from({ length: 9 }, (_, i) => -0.8 + i * 0.2);
    const outside = Float32Array.from([-3, -2.75, -2.5, 2.5, 2.75, 3]);
    const meanStd = (xs: Float32Array) => {
      const { std } = b.predict(xs, { spread: true });
      return std.data.reduce((a, v) => a + v, 0) / std.data.length;
    };
    // the spread is the population std of the members, computed here from memberPredictions
    const preds = b.memberPredictions(inside);
    const { mean, std } = b.predict(inside, { spread: true });
    for (let i = 0; i < inside.length; i++) {
      const v = preds.map((p) => p.data[i]!);
      const mu = v.reduce((a, c) => a + c, 0) / v.length;
      expect(mean.data[i]).toBeCloseTo(mu, 5);
      expect(std.data[i]).toBeCloseTo(Math.sqrt(v.reduce((a, c) => a + (c - mu) ** 2, 0) / v.length), 5);
    }
    expect(meanStd(outside)).toBeGreaterThan(3 * meanStd(inside));
    b.dispose();
  });

  it('votes: hard = majority of the members, soft = argmax of mean probabilities; reproducible by seed', async () => {
    const r = new Rng(1);
    const n = 120;
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = r.normal();
      x[2 * i + 1] = r.normal();
      y[i] = (x[2 * i]! + 0.5 * x[2 * i + 1]! + 0.4 * r.normal() > 0 ? 1 : 0) + (x[2 * i + 1]! > 1 ? 1 : 0);
    }
    const clf = ({ seed }: { seed: number }) => tinyModel({ inputSize: 2, hidden: 8, classes: 3, seed, optimizer: sgd({ lr: 0.1 }) }).model;
    const a = bagging(clf, { n: 5, seed: 9 });
    await a.fit(x, y, { epochs: 5, batchSize: 16 });
    const preds = a.memberPredictions(x);
    const hard = a.predictClasses(x, { vote: 'hard' });
    const soft = a.predictClasses(x);
    for (let i = 0; i < n; i++) {
      const counts = [0, 0, 0];
      const mean = [0, 0, 0];
      for (const p of preds) {
        const row = [p.data[3 * i]!, p.data[3 * i + 1]!, p.data[3 * i + 2]!];
        counts[row.indexOf(Math.max(...row))]!++;
        row.forEach((v, k) => (mean[k]! += v / preds.length));
      }
      const top = Math.max(...counts);
      const tied = [0, 1, 2].filter((k) => counts[k] === top);
      const want = tied.reduce((bst, k) => (mean[k]! > mean[bst]! ? k : bst), tied[0]!);
      expect(hard[i]).toBe(want);
      expect(soft[i]).toBe(mean.indexOf(Math.max(...mean)));
    }
    const b = bagging(clf, { n: 5, seed: 9 });
    await b.fit(x, y, { epochs: 5, batchSize: 16 });
    expect(b.predict(x).data).toEqual(a.predict(x).data);
    a.dispose();
    b.dispose();
  });

  it('rejects bad options and input with typed errors', async () => {
    expect(() => bagging(regressor, { n: 0 })).toThrow(OptionError);
    expect(() => bagging(regressor, { n: 2, bootstrap: 'yes' as never })).toThrow(/bootstrap/);
    expect(() => bagging(regressor, { n: 2, seeds: 1 } as never)).toThrow(/unknown option 'seeds'/);
    expect(() => bagging(regressor, { n: 2 }).predict(new Float32Array([0]))).toThrow(/no members yet/);
    const b = bagging(regressor, { n: 2 });
    await expect(b.fit(new Float32Array([0, 1]), matrix(new Float32Array([0, 1]), [2, 1]), { validationSplit: 0.5 })).rejects.toThrow(/validationData/);
    await expect(b.fit(new Float32Array([0, NaN]), matrix(new Float32Array([0, 1]), [2, 1]))).rejects.toThrow();
    expect(b.size).toBe(0);
    await expect(bagging(() => 3 as never, { n: 1 }).fit(new Float32Array([0]), [0])).rejects.toThrow(/factory/);
  });
});

describe('boosting (SAMME)', () => {
  it('training error falls over the rounds where one small network under-fits (disk, 2 → 2 tanh → 2)', async () => {
    const r = new Rng(4);
    const n = 300;
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const a = r.next() * 2 - 1;
      const c = r.next() * 2 - 1;
      x[2 * i] = a;
      x[2 * i + 1] = c;
      y[i] = a * a + c * c < 0.5 ? 1 : 0;
    }
    const weak = ({ seed }: { seed: number }) => tinyModel({ inputSize: 2, hidden: 2, activation: 'tanh', classes: 2, seed, optimizer: adam({ lr: 0.05 }) }).model;
    const b = boosting(weak, { rounds: 10, seed: 1 });
    const rep = await b.fit(x, y, { epochs: 30, batchSize: 32 });
    const errs = rep.trainErrors;
    expect(rep.stopped).toBe('rounds');
    expect(errs.length).toBe(10);
    // one small network under-fits the disk
    expect(errs[0]!).toBeGreaterThan(0.15);
    // boosting at least halves it, and from the third round on the ensemble always beats the first member
    // (with two members the vote is the stronger member's, so round 2 need not improve)
    expect(errs[errs.length - 1]!).toBeLessThan(0.5 * errs[0]!);
    for (let i = 2; i < errs.length; i++) expect(errs[i]!).toBeLessThan(errs[0]!);
    // AdaBoost's bound (binary SAMME = discrete AdaBoost): the training error after m rounds is at most
    // Π 2·√(ε_j(1 − ε_j)), which falls strictly every round; it holds only if the weights were updated right
    let bound = 1;
    rep.memberErrors.forEach((e, m) => {
      const next = bound * 2 * Math.sqrt(e * (1 - e));
      expect(next).toBeLessThan(bound);
      bound = next;
      expect(errs[m]!).toBeLessThanOrEqual(bound);
    });
    // the ensemble's prediction is the α-weighted vote, recomputed here from the members
    const preds = b.memberPredictions(x);
    const cls = b.predictClasses(x);
    for (let i = 0; i < n; i++) {
      const v = [0, 0];
      preds.forEach((p, m) => {
        v[p.data[2 * i + 1]! > p.data[2 * i]! ? 1 : 0]! += rep.alphas[m]!;
      });
      expect(cls[i]).toBe(v[1]! > v[0]! ? 1 : 0);
    }
    expect(cls.reduce((s, c, i) => s + (c !== y[i] ? 1 : 0), 0) / n).toBeCloseTo(errs[errs.length - 1]!, 10);
    // α from the SAMME formula with the reported errors (K = 2: ln(K − 1) = 0)
    rep.memberErrors.forEach((e, m) => expect(rep.alphas[m]).toBeCloseTo(Math.log((1 - e) / e), 10));
    b.dispose();
  });

  it('rejects regressors, bad options and class weights', async () => {
    expect(() => boosting(regressor, { rounds: 0 })).toThrow(/rounds/);
    expect(() => boosting(regressor, { learningRate: -1 })).toThrow(/learningRate/);
    await expect(boosting(regressor).fit(new Float32Array([0, 1]), [0, 1])).rejects.toThrow(/classifiers/);
    await expect(boosting(regressor).fit(new Float32Array([0, 1]), [0, 1], { classWeight: { 0: 2 } })).rejects.toThrow(/classWeight/);
    expect(() => boosting(regressor).predict(new Float32Array([0]), { spread: true })).toThrow(OptionError);
  });
});

describe('snapshot ensembles', () => {
  const build = () => regressor({ seed: 5 });
  const { x, y } = noisySine(3, 48);
  const schedule = cosineAnnealingWarmRestarts({ lr: 0.05, t0: 4 });

  it('snapshots at the end of each cycle; a snapshot equals a run stopped at that restart', async () => {
    const m = build();
    const snap = await snapshotEnsemble(m, x, y, { schedule, epochs: 14, batchSize: 16, seed: 11 });
    // cycles end after epochs 3, 7, 11; epochs 12–13 are an incomplete cycle
    expect(snap.size).toBe(3);
    expect(snap.history.epoch.length).toBe(14);
    const m2 = build();
    await m2.fit(x, y, { schedule, epochs: 8, batchSize: 16, seed: 11 });
    const w2 = m2.getWeights();
    snap.snapshots[1]!.forEach((t, i) => expect(t.data).toEqual(w2[i]!.data));
    // predictions average the snapshots and leave the model's own weights in place
    const own = m.getWeights();
    const grid = Float32Array.from([-0.5, 0, 0.5]);
    const each = snap.memberPredictions(grid);
    const mean = snap.predict(grid);
    for (let i = 0; i < 3; i++) expect(mean.data[i]).toBeCloseTo((each[0]!.data[i]! + each[1]!.data[i]! + each[2]!.data[i]!) / 3, 6);
    m.getWeights().forEach((t, i) => expect(t.data).toEqual(own[i]!.data));
    const last2 = await snapshotEnsemble(build(), x, y, { schedule, epochs: 12, batchSize: 16, keep: 2 });
    expect(last2.size).toBe(2);
    m.dispose();
    m2.dispose();
    last2.model.dispose();
  });

  it('refuses schedules without a cycle end in range and step-unit schedules, before training', async () => {
    const m = build();
    const before = m.getWeights();
    await expect(snapshotEnsemble(m, x, y, { schedule, epochs: 3 })).rejects.toThrow(/no end of a warm-restart cycle/);
    await expect(snapshotEnsemble(m, x, y, { schedule: exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9 }), epochs: 5 })).rejects.toThrow(/epoch-unit/);
    await expect(snapshotEnsemble(m, x, y, { schedule, epochs: 8, keep: 0 })).rejects.toThrow(/keep/);
    m.getWeights().forEach((t, i) => expect(t.data).toEqual(before[i]!.data));
    m.dispose();
  });
});
