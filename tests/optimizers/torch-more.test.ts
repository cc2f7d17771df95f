// Adamax, NAdam, RAdam, Adadelta and Lion inside training, against PyTorch 1.13 itself
// (tests/fixtures/torch-optimizers-more.json, written by scripts/fixtures/torch_optimizers_more.py:
// torch.optim.Adamax/RAdam/Adadelta single-tensor, NAdam foreach (the published μ-product), Lion
// as lion-pytorch's update in numpy): a 3 → 5 tanh → 2 MLP with mean squared error, 50 steps on
// 5 fixed batches from the same weights. The fixture holds the float32 run and the float64 run of
// the same training; wasmfit must be as close to the float32 run as the custom-loss test asks
// (2e-6 + 2e-5·|w|, tests/model/custom-loss.test.ts), plus, over 50 steps, 4× how far PyTorch's
// own float32 run is from its float64 run at that step (rounding differences compound).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sequential, adadelta, adamax, dense, lion, nadam, radam, type OptimizerConfig } from '../../ts/index.js';
import { BUILDS, runtimeFor } from '../helpers.js';

interface Options { lr: number; betas?: [number, number]; eps?: number; weight_decay?: number; momentum_decay?: number; rho?: number }
interface Case { optimizer: 'adamax' | 'nadam' | 'radam' | 'adadelta' | 'lion'; options: Options; x: number[]; y: number[]; init: number[][]; after32: number[][][]; after64: number[][][] }
const fx = JSON.parse(readFileSync(join(__dirname, '../fixtures/torch-optimizers-more.json'), 'utf8')) as {
  torch: string; inputs: number; hidden: number; outputs: number; batch: number; batches: number; steps: number; record: number[]; cases: Case[];
};

/** The wasmfit config of a fixture case (PyTorch's snake_case options in camelCase). */
function config(c: Case): OptimizerConfig {
  const o = c.options;
  const wd = o.weight_decay ?? 0;
  switch (c.optimizer) {
    case 'adamax':
      return adamax({ lr: o.lr, betas: o.betas!, eps: o.eps!, weightDecay: wd });
    case 'radam':
      return radam({ lr: o.lr, betas: o.betas!, eps: o.eps!, weightDecay: wd });
    case 'nadam':
      return nadam({ lr: o.lr, betas: o.betas!, eps: o.eps!, weightDecay: wd, ...(o.momentum_decay !== undefined ? { momentumDecay: o.momentum_decay } : {}) });
    case 'adadelta':
      return adadelta({ lr: o.lr, rho: o.rho!, eps: o.eps!, weightDecay: wd });
    case 'lion':
      return lion({ lr: o.lr, betas: o.betas!, weightDecay: wd });
  }
}

describe.each(BUILDS)(`Adamax, NAdam, RAdam, Adadelta, Lion against PyTorch ${fx.torch} (%s)`, (build) => {
  it.each(fx.cases.map((c, i) => [`${c.optimizer} ${JSON.stringify(c.options)}`, i] as const))('%s: weights after 50 steps of training', async (_name, ci) => {
    const c = fx.cases[ci]!;
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [fx.inputs], layers: [dense(fx.hidden, { activation: 'tanh' }), dense(fx.outputs)], runtime: rt });
    m.compile({ optimizer: config(c), loss: 'mse' });
    m.setWeights(c.init.map((d) => ({ data: Float32Array.from(d) })));
    const { inputs: d, outputs: k, batch: n } = fx;
    let rec = 0;
    let worst = 0;
    for (let t = 1; t <= fx.steps; t++) {
      const b = (t - 1) % fx.batches;
      const xb = Float32Array.from(c.x.slice(b * n * d, (b + 1) * n * d));
      const yb = Float32Array.from(c.y.slice(b * n * k, (b + 1) * n * k));
      m.trainOnBatch({ data: xb, shape: [n, d] }, { data: yb, shape: [n, k] });
      if (fx.record[rec] !== t) continue;
      const w32 = c.after32[rec]!;
      const w64 = c.after64[rec]!;
      rec++;
      // how far PyTorch's float32 run is from its float64 run at this step
      const gap = Math.max(...w32.flatMap((tt, i) => tt.map((v, j) => Math.abs(v - w64[i]![j]!))));
      m.getWeights().forEach((w, i) => {
        w32[i]!.forEach((v, j) => {
          const err = Math.abs(w.data[j]! - v);
          const tol = 2e-6 + 2e-5 * Math.abs(v) + 4 * gap;
          worst = Math.max(worst, err / tol);
          expect(err, `step ${t} tensor ${i}[${j}]: ours ${w.data[j]}, torch float32 ${v}, float64 ${w64[i]![j]}`).toBeLessThanOrEqual(tol);
        });
      });
    }
    expect(rec).toBe(fx.record.length);
    // the training moved the weights far beyond the tolerance: the comparison is not vacuous
    const moved = Math.max(...c.init.flatMap((tt, i) => tt.map((v, j) => Math.abs(v - c.after32[c.after32.length - 1]![i]![j]!))));
    expect(moved).toBeGreaterThan(0.04);
    console.log(`${c.optimizer} ${JSON.stringify(c.options)}: worst error / tolerance ${worst.toFixed(3)}, weights moved up to ${moved.toFixed(3)}`);
    m.dispose();
  });
});
