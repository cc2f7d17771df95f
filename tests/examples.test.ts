// The examples in examples/ run (reduced size) and their numbers show the documented effect.
// Only directions are checked, never exact values: each example is deterministic (seeded), but the
// point is the technique's effect, with margins wide enough for any sound implementation.
// The examples import the built bundle ('wasmfit' → dist/), which `npm test` builds first.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// A non-literal specifier: the examples are plain .mjs without type declarations.
const load = (name: string): Promise<any> => import(`../examples/${name}.mjs`); // eslint-disable-line @typescript-eslint/no-explicit-any

const quick = { quick: true, svgDir: null };
const svgDir = mkdtempSync(join(tmpdir(), 'wasmfit-examples-'));
afterAll(() => rmSync(svgDir, { recursive: true, force: true }));

type Row = Record<string, number | string>;
const byName = (rows: Row[], name: string): Row => {
  const r = rows.find((x) => x.name === name);
  if (!r) throw new Error(`no row ${name}`);
  return r;
};

describe('examples (reduced size) show their documented effects', () => {
  it('lr-decay: decaying schedules end with less loss noise than a constant rate; cosine ends lower and generalizes better', async () => {
    const { rows } = await (await load('lr-decay')).run(quick);
    const c = byName(rows, 'constant');
    for (const name of ['inverse-time', 'exponential', 'step', 'cosine']) {
      expect(byName(rows, name).noise as number).toBeLessThan(0.5 * (c.noise as number));
    }
    const cos = byName(rows, 'cosine');
    expect(cos.finalLoss as number).toBeLessThan(c.finalLoss as number);
    expect(cos.testAccuracy as number).toBeGreaterThan(c.testAccuracy as number);
    // every schedule still learns
    for (const r of rows as Row[]) expect(r.testAccuracy as number).toBeGreaterThan(0.8);
    // the rates actually followed the schedules: constant stays, the decays end at a quarter of it or below
    expect(c.lastLr).toBeCloseTo(0.2, 12);
    for (const name of ['inverse-time', 'exponential', 'step', 'cosine']) expect(byName(rows, name).lastLr as number).toBeLessThanOrEqual(0.25 * 0.2 + 1e-9);
  });

  it('regularization: L1 sparsifies, L2 shrinks, dropout narrows the gap, max-norm caps unit norms, early stopping restores the best epoch', async () => {
    const { rows, epochs, maxNormValue } = await (await load('regularization')).run(quick);
    const none = byName(rows, 'none');
    // the baseline over-fits: near-zero training loss, validation loss far above it
    expect(none.trainLoss as number).toBeLessThan(0.05);
    expect((none.valLoss as number) - (none.trainLoss as number)).toBeGreaterThan(0.2);
    const L1 = byName(rows, 'L1');
    expect(L1.sparsity as number).toBeGreaterThan(5 * (none.sparsity as number));
    expect(L1.sparsity as number).toBeGreaterThan(byName(rows, 'L2').sparsity as number);
    expect(byName(rows, 'elastic net').sparsity as number).toBeGreaterThan(5 * (none.sparsity as number));
    expect(byName(rows, 'L2').weightNorm as number).toBeLessThan(0.9 * (none.weightNorm as number));
    const drop = byName(rows, 'dropout');
    expect((drop.valLoss as number) - (drop.trainLoss as number)).toBeLessThan((none.valLoss as number) - (none.trainLoss as number));
    expect(none.maxNorm as number).toBeGreaterThan(maxNormValue);
    expect(byName(rows, 'max-norm').maxNorm as number).toBeLessThanOrEqual(maxNormValue * (1 + 1e-5));
    const es = byName(rows, 'early stopping');
    expect(es.epochsRun as number).toBeLessThan(epochs);
    expect(es.valLoss as number).toBeCloseTo(es.bestValLoss as number, 4); // best weights restored
    expect(es.valLoss as number).toBeLessThan(none.valLoss as number);
    for (const r of rows as Row[]) expect(r.valAccuracy as number).toBeGreaterThan(0.7);
  });

  it('optimizers: momentum and the adaptive methods reach a lower training loss than plain SGD at its rate', async () => {
    const { rows } = await (await load('optimizers')).run(quick);
    const s = byName(rows, 'SGD');
    expect(byName(rows, 'momentum').trainLoss as number).toBeLessThan(0.5 * (s.trainLoss as number));
    for (const name of ['AdaGrad', 'RMSProp', 'Adam']) {
      expect(byName(rows, name).trainLoss as number).toBeLessThan(0.5 * (s.trainLoss as number));
      expect(byName(rows, name).testAccuracy as number).toBeGreaterThan(s.testAccuracy as number);
    }
  });

  it('initialization: He keeps ReLU activations at scale through depth, Xavier lets them shrink; sigmoid gradients vanish downwards', async () => {
    const { rows } = await (await load('initialization')).run(quick);
    type Stat = { std: number; gradStd: number; zeroFraction: number };
    const stats = (name: string): Stat[] => (rows as { name: string; stats: Stat[] }[]).find((r) => r.name === name)!.stats;
    const depthRatio = (s: Stat[]) => s[s.length - 1]!.std / s[0]!.std;
    // theory: ReLU halves the second moment; Xavier's 2/(fan_in+fan_out) = 1/256 here, He's 2/256
    // → Xavier's std shrinks ~1/√2 per layer (5 layers: ~0.18), He's stays ~1
    expect(depthRatio(stats('ReLU + He'))).toBeGreaterThan(0.7);
    expect(depthRatio(stats('ReLU + Xavier'))).toBeLessThan(0.35);
    for (const s of stats('ReLU + He')) expect(s.zeroFraction).toBeGreaterThan(0.3); // ReLU zeroes about half
    // gradient of the first kernel vs the last hidden one
    const gradRatio = (s: Stat[]) => s[0]!.gradStd / s[s.length - 1]!.gradStd;
    expect(gradRatio(stats('sigmoid + Xavier'))).toBeLessThan(0.05);
    expect(gradRatio(stats('sigmoid + He'))).toBeLessThan(0.05);
    expect(gradRatio(stats('ReLU + He'))).toBeGreaterThan(0.3);
    const acc = (name: string) => (rows as { name: string; testAccuracy: number }[]).find((r) => r.name === name)!.testAccuracy;
    expect(acc('ReLU + He')).toBeGreaterThan(acc('sigmoid + Xavier'));
  });

  it('mc-dropout: predictions on noise images are more uncertain than on real digits', async () => {
    const r = await (await load('mc-dropout')).run(quick);
    expect(r.digits.accuracy).toBeGreaterThan(0.85);
    expect(r.noise.std).toBeGreaterThan(1.2 * r.digits.std);
    expect(r.noise.entropy).toBeGreaterThan(2 * r.digits.entropy);
    expect(r.noise.confidence).toBeLessThan(r.digits.confidence);
  });

  it('cnn: augmentation narrows the gap between training and held-out accuracy (1,000 digits, 8 epochs)', async () => {
    const { run } = await load('cnn');
    const plain = await run({ trainSize: 1000, epochs: 8 });
    const augmented = await run({ trainSize: 1000, epochs: 8, augment: true });
    // the plain CNN fits its 1,000 digits almost perfectly and generalizes less well
    expect(plain.trainAccuracy).toBeGreaterThan(0.97);
    expect(plain.testAccuracy).toBeGreaterThan(0.85);
    expect(augmented.testAccuracy).toBeGreaterThan(0.85);
    expect(augmented.gap).toBeLessThan(plain.gap);
  });

  it('mc-augment: MC-dropout uncertainty is higher on moved digits, and lower on them after training with augmentation', async () => {
    const r = await (await load('mc-augment')).run(quick);
    expect(r.plain.clean.accuracy).toBeGreaterThan(0.85);
    expect(r.plain.moved.entropy).toBeGreaterThan(r.plain.clean.entropy);
    expect(r.plain.moved.std).toBeGreaterThan(r.plain.clean.std);
    expect(r.augmented.moved.entropy).toBeLessThan(r.plain.moved.entropy);
    expect(r.augmented.moved.accuracy).toBeGreaterThan(r.plain.moved.accuracy);
  });

  it('grid-vs-random: with the same nine trials, random search is better on average, in its worst placement and less placement-dependent', async () => {
    const r = await (await load('grid-vs-random')).run(quick);
    expect(r.placements).toHaveLength(5);
    expect(r.summary.random.mean).toBeGreaterThan(r.summary.grid.mean);
    expect(r.summary.random.worst).toBeGreaterThan(r.summary.grid.worst);
    expect(r.summary.random.spread).toBeLessThan(r.summary.grid.spread);
  });

  it('second-order: Newton and the quasi-Newton methods reach the gradient-norm target in far fewer iterations than gradient descent; Newton refuses the MLP', async () => {
    const r = await (await load('second-order')).run(quick);
    const [lr, mlp] = r.problems as { name: string; params: number; rows: Row[] }[];
    const it = (rows: Row[], name: string) => byName(rows, name).iterations as number;
    for (const row of lr!.rows) expect(row.reached, `${row.name} reaches the target`).toBe(true);
    const gd = it(lr!.rows, 'gradient descent');
    expect(it(lr!.rows, 'momentum')).toBeLessThan(gd / 2);
    for (const name of ['CG', 'L-BFGS', 'BFGS', 'BFGS, scaled H0', 'Newton-CG']) expect(it(lr!.rows, name), name).toBeLessThan(gd / 5);
    // Newton: a handful of iterations (quadratic convergence), paid for with n Hessian-vector products each
    expect(it(lr!.rows, 'Newton')).toBeLessThanOrEqual(10);
    expect(it(lr!.rows, 'Newton')).toBeLessThan(gd / 50);
    expect(byName(lr!.rows, 'Newton').evaluations as number).toBeGreaterThan(byName(lr!.rows, 'Newton-CG').evaluations as number);
    // the MLP: Newton is refused above its parameter cap and points to newtonCG, which converges
    expect(String(byName(mlp!.rows, 'Newton').refused)).toMatch(/maxParams.*newtonCG/);
    const mgd = it(mlp!.rows, 'gradient descent');
    for (const name of ['L-BFGS', 'Newton-CG']) {
      expect(byName(mlp!.rows, name).reached, name).toBe(true);
      expect(it(mlp!.rows, name), name).toBeLessThan(mgd / 5);
    }
  });

  it('an example runs as one command, prints its table and writes its SVG', () => {
    const out = execFileSync(process.execPath, [join('examples', 'optimizers.mjs'), '--quick'], {
      encoding: 'utf8',
      env: { ...process.env, WASMFIT_EXAMPLES_SVG_DIR: svgDir },
    });
    expect(out).toMatch(/optimizer\s+train loss\s+test loss\s+test accuracy/);
    expect(out).toMatch(/\nAdam\s+\d\.\d{4}\s+\d\.\d{4}\s+0\.\d{4}/);
    const svg = join(svgDir, 'optimizers.svg');
    expect(existsSync(svg)).toBe(true);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\s*$/);
  });
});
