// Batch norm against PyTorch 1.13 (tests/fixtures/torch-batchnorm.json, written by
// scripts/fixtures/torch_batchnorm.py): a PyTorch state dict (with its own num_batches_tracked
// per layer) → loadSafetensorsWeights → fit → modelToSafetensors equals PyTorch's state dict after
// the same training — weights to float32 tolerance, num_batches_tracked exactly — and
// `l2(λ/2)` on kernels, biases, γ (gammaRegularizer) and β (betaRegularizer) is PyTorch's
// `weight_decay = λ`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, OptionError, Sequential, activation, adam, batchNorm, deserializeCheckpoint, deserializeModel, dense, init, l1, l2, serializeCheckpoint, serializeModel, sgd, type Regularizer } from '../../ts/index.js';
import { loadSafetensorsWeights, modelToSafetensors, readSafetensors, writeSafetensors } from '../../ts/safetensors.js';
import { editHeaderText } from './container-util.js';

beforeAll(async () => {
  await init();
});

interface Case { name: string; optimizer: 'sgd' | 'adam'; options: { lr: number; momentum?: number; weight_decay: number }; x: number[]; y: number[]; start: string; end: string; end64: Record<string, number[]> }
const fx = JSON.parse(readFileSync(join(__dirname, '../fixtures/torch-batchnorm.json'), 'utf8')) as {
  torch: string; inputs: number; outputs: number; batch: number; steps: number; tracked: number[]; cases: Case[];
};
const bytesOf = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const tracked = (bytes: Uint8Array, key: string) => new DataView(readSafetensors(bytes).tensors.get(key)!.data.slice().buffer).getBigInt64(0, true);

/** wasmfit's twin of the fixture's network; `reg` on every kernel and bias, `bnReg` on γ and β. */
function build(reg: Regularizer | undefined, bnReg: Regularizer | undefined): Sequential {
  const bn = () => batchNorm({ momentum: 0.9, epsilon: 1e-5, ...(bnReg ? { gammaRegularizer: bnReg, betaRegularizer: bnReg } : {}) });
  const d = (u: number) => dense(u, reg ? { kernelRegularizer: reg, biasRegularizer: reg } : {});
  return new Sequential({ inputShape: [fx.inputs], layers: [d(6), bn(), activation('relu'), d(5), bn(), activation('tanh'), d(fx.outputs)] });
}

async function train(c: Case, reg: Regularizer | undefined, bnReg: Regularizer | undefined, weightDecay = 0): Promise<Sequential> {
  const m = build(reg, bnReg);
  const o = c.options;
  // PyTorch's weight_decay is in the regularizers, or in the optimizer's weightDecay
  m.compile({ optimizer: c.optimizer === 'sgd' ? sgd({ lr: o.lr, momentum: o.momentum ?? 0, weightDecay }) : adam({ lr: o.lr, weightDecay }), loss: 'mse' });
  loadSafetensorsWeights(m, bytesOf(c.start));
  const rows = fx.batch * fx.steps;
  await m.fit({ data: Float32Array.from(c.x), shape: [rows, fx.inputs] }, { data: Float32Array.from(c.y), shape: [rows, fx.outputs] }, { epochs: 1, batchSize: fx.batch, shuffle: false });
  return m;
}

/**
 * max over every float value of |ours − torch| / (2e-6 + 2e-5·|torch| + 2·|torch − torch64|): float32
 * tolerance, widened where float32 PyTorch is itself that far from its float64 twin (Adam on the
 * bias of a layer followed by batch norm, whose data gradient is 0 up to rounding);
 * num_batches_tracked compared exactly.
 */
function compare(ours: Uint8Array, torch: Uint8Array, end64: Record<string, number[]>): number {
  const a = readSafetensors(ours).tensors;
  const b = readSafetensors(torch).tensors;
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  let worst = 0;
  for (const [k, t] of b) {
    const u = a.get(k)!;
    expect([u.dtype, u.shape], k).toEqual([t.dtype, t.shape]);
    if (t.dtype === 'I64') {
      expect(Buffer.from(u.data).equals(Buffer.from(t.data)), k).toBe(true);
      continue;
    }
    const x = new Float32Array(u.data.slice().buffer);
    const y = new Float32Array(t.data.slice().buffer);
    const z = end64[k]!;
    y.forEach((v, i) => (worst = Math.max(worst, Math.abs(x[i]! - v) / (2e-6 + 2e-5 * Math.abs(v) + 2 * Math.abs(v - z[i]!)))));
  }
  return worst;
}

describe('batch norm: PyTorch → wasmfit → PyTorch (safetensors), trained with weight decay', () => {
  it('the fixture comes from PyTorch 1.13, its layers carry their own counts', () => {
    expect(fx.torch).toMatch(/^1\.13/);
    const s = bytesOf(fx.cases[0]!.start);
    expect([tracked(s, '1.num_batches_tracked'), tracked(s, '4.num_batches_tracked')]).toEqual(fx.tracked.map(BigInt));
  });

  it.each(fx.cases.map((c) => [c.name, c] as const))('%s: l2(λ/2) on kernels, biases, γ and β equals PyTorch weight_decay = λ; num_batches_tracked continues per layer', async (_n, c) => {
    const r = l2(c.options.weight_decay / 2);
    const m = await train(c, r, r);
    const out = modelToSafetensors(m);
    expect(compare(out, bytesOf(c.end), c.end64)).toBeLessThanOrEqual(1);
    expect([tracked(out, '1.num_batches_tracked'), tracked(out, '4.num_batches_tracked')]).toEqual(fx.tracked.map((t) => BigInt(t + fx.steps)));
    // without the batch-norm regularizers (γ and β not decayed) the run ends elsewhere
    const partial = await train(c, r, undefined);
    expect(compare(modelToSafetensors(partial), bytesOf(c.end), c.end64)).toBeGreaterThan(1);
    // the optimizer's weightDecay (PyTorch's) decays every trainable tensor, γ and β included
    const wd = await train(c, undefined, undefined, c.options.weight_decay);
    expect(compare(modelToSafetensors(wd), bytesOf(c.end), c.end64)).toBeLessThanOrEqual(1);
    for (const k of [m, partial, wd]) k.dispose();
  });

  it('the counts survive checkpoints and re-compiles (model files start them at 0); a refused step does not count', async () => {
    const c = fx.cases[0]!;
    const r = l2(c.options.weight_decay / 2);
    const m = await train(c, r, r);
    const want = fx.tracked.map((t) => BigInt(t + fx.steps));
    const counts = (model: Sequential) => {
      const b = modelToSafetensors(model);
      return [tracked(b, '1.num_batches_tracked'), tracked(b, '4.num_batches_tracked')];
    };
    // a model file holds weights, not training state (as the optimizer state)
    const copy = deserializeModel(serializeModel(m));
    expect(counts(copy)).toEqual([0n, 0n]);
    const ckpt = serializeCheckpoint(m);
    const { model: resumed } = deserializeCheckpoint(ckpt);
    expect(counts(resumed)).toEqual(want);
    // a corrupt count is refused; a checkpoint written before counts were kept reads as 0
    for (const bad of ['[-1,2]', '[1]', '"x"']) {
      expect(() => deserializeCheckpoint(editHeaderText(ckpt, (t) => t.replace(/"tracked":\[[0-9,]*\]/, `"tracked":${bad}`)))).toThrow(/tracked is not one count per batch-norm layer/);
    }
    const old = deserializeCheckpoint(editHeaderText(ckpt, (t) => t.replace(/,"tracked":\[[0-9,]*\]/, '')));
    expect(counts(old.model)).toEqual([0n, 0n]);
    old.model.dispose();
    resumed.compile({ optimizer: sgd({ lr: 0.01 }), loss: 'mse' });
    expect(counts(resumed)).toEqual(want);
    // trainOnBatch counts one; a non-finite step (refused, statistics restored) counts none
    resumed.trainOnBatch({ data: Float32Array.from(c.x.slice(0, 8 * fx.inputs)), shape: [8, fx.inputs] }, { data: Float32Array.from(c.y.slice(0, 8 * fx.outputs)), shape: [8, fx.outputs] });
    expect(counts(resumed)).toEqual(want.map((n) => n + 1n));
    const huge = Float32Array.from(c.y.slice(0, 8 * fx.outputs), () => 3e38);
    expect(() => resumed.trainOnBatch({ data: Float32Array.from(c.x.slice(0, 8 * fx.inputs)), shape: [8, fx.inputs] }, { data: huge, shape: [8, fx.outputs] })).toThrow();
    expect(counts(resumed)).toEqual(want.map((n) => n + 1n));
    for (const k of [m, copy, resumed]) k.dispose();
  });

  it('refuses a negative or oversized num_batches_tracked with FormatError, leaving the model as it was', () => {
    const c = fx.cases[0]!;
    const m = build(undefined, undefined);
    const before = modelToSafetensors(m);
    for (const v of [-1n, 2n ** 53n]) {
      const f = readSafetensors(bytesOf(c.start));
      const d = new Uint8Array(8);
      new DataView(d.buffer).setBigInt64(0, v, true);
      f.tensors.set('4.num_batches_tracked', { dtype: 'I64', shape: [], data: d });
      expect(() => loadSafetensorsWeights(m, writeSafetensors(f.tensors, f.metadata))).toThrow(FormatError);
      expect(() => loadSafetensorsWeights(m, writeSafetensors(f.tensors, f.metadata))).toThrow(/4\.num_batches_tracked.*a count in/);
    }
    expect(Buffer.from(modelToSafetensors(m)).equals(Buffer.from(before))).toBe(true);
    m.dispose();
  });
});

describe('batchNorm({ gammaRegularizer, betaRegularizer })', () => {
  it('are stored only when given (older configs unchanged) and survive a model file', () => {
    expect(batchNorm()).toEqual({ type: 'batchNorm', momentum: 0.99, epsilon: 1e-3 });
    const b = batchNorm({ gammaRegularizer: l1(1e-3), betaRegularizer: l2(2e-3) });
    expect(b).toMatchObject({ gammaRegularizer: { l1: 1e-3, l2: 0 }, betaRegularizer: { l1: 0, l2: 2e-3 } });
    const m = new Sequential({ inputShape: [3], layers: [dense(4), b, dense(2)] });
    const copy = deserializeModel(serializeModel(m));
    expect(copy.layers[1]).toEqual(b);
    m.dispose();
    copy.dispose();
  });

  it('refuses a non-regularizer with OptionError naming the option', () => {
    expect(() => batchNorm({ gammaRegularizer: 0.01 as never })).toThrow(OptionError);
    expect(() => batchNorm({ betaRegularizer: { l2: 1 } as never })).toThrow(/betaRegularizer/);
    expect(() => batchNorm({ gammaRegularizer: l2(1), bogus: 1 } as never)).toThrow(/bogus/);
  });
});
