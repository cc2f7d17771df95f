// Adamax, NAdam, RAdam, Adadelta and Lion: the fused kernel (`optimizer_apply`, records written by
// ts/optimizers/record.ts) on both builds against the published formulas in float64
// (tests/reference/optim64-more.ts) with NaN guard bands; SIMD = scalar bit for bit; the
// standalone init/update; string names; options refused with typed errors; checkpoint resume.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OptionError, Sequential, adadelta, adamax, dense, deserializeCheckpoint, deserializeModel, init, lion, nadam, radam, serializeCheckpoint,
  serializeModel, type OptimizerConfig,
} from '../../ts/index.js';
import { OPT_HYPER, OPT_TENSOR } from '../../ts/runtime/abi.js';
import type { Ptr } from '../../ts/runtime/arena.js';
import type { Runtime } from '../../ts/runtime/index.js';
import { slotNames, writeStep, writeTemplate } from '../../ts/optimizers/record.js';
import { BUILDS, get, put, runtimeFor } from '../helpers.js';
import { testData } from '../reference/f64.js';
import { type MoreCfg, RefMore } from '../reference/optim64-more.js';
import { classData } from '../io/container-util.js';

/** [name, config, the same setting for the reference, L1, L2]. */
const VARIANTS: [string, () => OptimizerConfig, MoreCfg][] = [
  ['adamax', () => adamax({ lr: 0.01 }), { kind: 'adamax', lr: 0.01, eps: 1e-8 }],
  ['adamax wd + maximize + elastic net', () => adamax({ lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05, maximize: true }), { kind: 'adamax', lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05, maximize: true, l1: 1e-3, l2: 2e-3 }],
  ['nadam', () => nadam({ lr: 0.01 }), { kind: 'nadam', lr: 0.01, eps: 1e-8 }],
  ['nadam wd + momentumDecay + L2', () => nadam({ lr: 0.02, betas: [0.8, 0.99], weightDecay: 0.05, momentumDecay: 0.05 }), { kind: 'nadam', lr: 0.02, betas: [0.8, 0.99], eps: 1e-8, weightDecay: 0.05, momentumDecay: 0.05, l2: 1e-2 }],
  // β2 = 0.9: unrectified for the first 5 steps, rectified afterwards
  ['radam (both branches)', () => radam({ lr: 0.01, betas: [0.9, 0.9] }), { kind: 'radam', lr: 0.01, betas: [0.9, 0.9], eps: 1e-8 }],
  ['radam wd + L1', () => radam({ lr: 0.02, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.05 }), { kind: 'radam', lr: 0.02, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.05, l1: 1e-3 }],
  ['adadelta', () => adadelta(), { kind: 'adadelta', lr: 1, rho: 0.9, eps: 1e-6 }],
  ['adadelta wd + maximize + elastic net', () => adadelta({ lr: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.05, maximize: true }), { kind: 'adadelta', lr: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.05, maximize: true, l1: 1e-3, l2: 1e-3 }],
  ['lion', () => lion({ lr: 1e-3 }), { kind: 'lion', lr: 1e-3, betas: [0.9, 0.99] }],
  ['lion decoupled wd + elastic net', () => lion({ lr: 3e-3, betas: [0.95, 0.98], weightDecay: 0.5 }), { kind: 'lion', lr: 3e-3, betas: [0.95, 0.98], weightDecay: 0.5, l1: 1e-2, l2: 1e-2 }],
];
const SIZES = [1, 3, 5, 17, 1023];
const STEPS = 30;
const G = 8; // NaN guard floats each side of every buffer
const ARGS = OPT_HYPER.size + OPT_TENSOR.size;

/** Writes the records (record.ts: template, then step t) and one tensor record after them. */
function writeArgs(rt: Runtime, at: Ptr, c: OptimizerConfig, r: MoreCfg, t: number, n: number, w: Ptr, g: Ptr, s: (Ptr | 0)[]): void {
  const v = rt.arena.view;
  if (t === 1) writeTemplate(v, at, c);
  writeStep(v, at, c, t, c.lr);
  const q = at + OPT_HYPER.size;
  for (let o = 0; o < OPT_TENSOR.size; o += 4) v.setUint32(q + o, 0, true);
  v.setUint32(q + OPT_TENSOR.len, n, true);
  v.setUint32(q + OPT_TENSOR.w, w, true);
  v.setUint32(q + OPT_TENSOR.g, g, true);
  v.setUint32(q + OPT_TENSOR.s1, s[0]!, true);
  v.setUint32(q + OPT_TENSOR.s2, s[1]!, true);
  v.setFloat32(q + OPT_TENSOR.l1, r.l1 ?? 0, true);
  v.setFloat32(q + OPT_TENSOR.l2, r.l2 ?? 0, true);
}
const apply = (rt: Runtime, at: Ptr): number => rt.kernels.optimizerApply(at, (at + OPT_HYPER.size) as Ptr, 1);
const guards = (out: Float32Array, n: number) => out.subarray(0, G).every(Number.isNaN) && out.subarray(G + n).every(Number.isNaN);

describe.each(BUILDS)('optimizer_apply: Adamax, NAdam, RAdam, Adadelta, Lion (%s build)', (build) => {
  for (const [name, make, ref] of VARIANTS) {
    it(`${name}: ${STEPS} steps match the formula in f64, guard bands intact`, async () => {
      const rt = await runtimeFor(build);
      const c = make();
      const need = slotNames(c).map((s) => s !== null);
      expect(need).toEqual([true, c.type !== 'lion', false]);
      let seed = 301;
      for (const n of SIZES) {
        const w0 = testData(n, seed++);
        const W = put(rt, w0, G);
        const S = need.map((k) => (k ? put(rt, new Float32Array(n), G) : null));
        const args = rt.arena.alloc(ARGS) as Ptr;
        const r = new RefMore(w0, ref);
        for (let t = 1; t <= STEPS; t++) {
          const g = testData(n, 7919 * t + n, 0.2 + 0.1 * (t % 7));
          const Gr = put(rt, g, G);
          writeArgs(rt, args, c, ref, t, n, W.ptr, Gr.ptr, S.map((s) => (s ? s.ptr : 0)));
          expect(apply(rt, args)).toBe(0);
          r.step(t, g);
          const gOut = get(rt, Gr.base, n + 2 * G);
          expect(guards(gOut, n)).toBe(true);
          expect(Array.from(gOut.subarray(G, G + n))).toEqual(Array.from(g));
          rt.arena.free(Gr.base);
          const out = get(rt, W.base, n + 2 * G);
          expect(guards(out, n)).toBe(true);
          for (let i = 0; i < n; i++) {
            const got = out[G + i]!;
            const want = r.w[i]!;
            // as tests/optimizers/kernels.test.ts: 1e-5 relative down to |w| = 0.1, 1e-6 absolute below
            if (!(Math.abs(got - want) <= 1e-5 * Math.max(Math.abs(want), 0.1))) expect.fail(`${name} n=${n} t=${t} i=${i}: got ${got}, want ${want}`);
          }
          for (const s of S) if (s) expect(guards(get(rt, s.base, n + 2 * G), n)).toBe(true);
        }
        rt.arena.free(args);
        rt.arena.free(W.base);
        for (const s of S) if (s) rt.arena.free(s.base);
      }
    });
  }

  it('a state slot the kind needs at address 0 is refused (status 2), nothing written', async () => {
    const rt = await runtimeFor(build);
    const n = 5;
    const w0 = testData(n, 3);
    const W = put(rt, w0);
    const Gr = put(rt, testData(n, 4));
    const S = put(rt, new Float32Array(n));
    const args = rt.arena.alloc(ARGS) as Ptr;
    for (const [, make, ref] of VARIANTS.filter(([, , r]) => r.kind !== 'lion')) {
      writeArgs(rt, args, make(), ref, 1, n, W.ptr, Gr.ptr, [S.ptr, 0]);
      expect(apply(rt, args)).toBe(2);
    }
    writeArgs(rt, args, lion(), { kind: 'lion', lr: 1e-4 }, 1, n, W.ptr, Gr.ptr, [0, 0]);
    expect(apply(rt, args)).toBe(2);
    rt.arena.view.setUint32(args + OPT_HYPER.kind, 14, true); // one past the last kind (kerasAdam, 13)
    expect(apply(rt, args)).toBe(2);
    expect(Array.from(get(rt, W.ptr, n))).toEqual(Array.from(w0));
    expect(Array.from(get(rt, S.ptr, n))).toEqual([0, 0, 0, 0, 0]);
    rt.arena.free(args);
    for (const b of [W, Gr, S]) rt.arena.free(b.base);
  });
});

describe('Adamax, NAdam, RAdam, Adadelta, Lion across builds', () => {
  // same operations in the same order, no FMA, correctly rounded sqrt and division on both
  it('SIMD and scalar builds agree bit for bit on every variant (40 steps, 1023 elements)', async () => {
    const rts = await Promise.all(BUILDS.map((b) => runtimeFor(b)));
    const n = 1023;
    for (const [name, make, ref] of VARIANTS) {
      const results = rts.map((rt) => {
        const c = make();
        const W = put(rt, testData(n, 5));
        const S = slotNames(c).map((k) => (k ? put(rt, new Float32Array(n)) : null));
        const args = rt.arena.alloc(ARGS) as Ptr;
        for (let t = 1; t <= 40; t++) {
          const Gr = put(rt, testData(n, 31 * t, 0.5));
          writeArgs(rt, args, c, ref, t, n, W.ptr, Gr.ptr, S.map((s) => (s ? s.ptr : 0)));
          expect(apply(rt, args)).toBe(0);
          rt.arena.free(Gr.base);
        }
        const out = [W, ...S].flatMap((b) => (b ? Array.from(new Uint32Array(get(rt, b.ptr, n).buffer)) : []));
        rt.arena.free(args);
        for (const b of [W, ...S]) if (b) rt.arena.free(b.base);
        return out;
      });
      expect(results[0], name).toEqual(results[1]);
    }
  });
});

describe('Adamax, NAdam, RAdam, Adadelta, Lion: standalone, names, options, checkpoints', () => {
  beforeAll(async () => {
    await init();
  });

  for (const [name, make, ref] of VARIANTS.filter(([, , r]) => !r.l1 && !r.l2)) {
    it(`${name}: opt.init/opt.update on two tensors follow the formula for 40 steps; state named as PyTorch names it`, () => {
      const opt = make();
      const params = [testData(17, 1), testData(5, 2)];
      const refs = params.map((p) => new RefMore(p, ref));
      const state = opt.init(params);
      const names = { adamax: ['m', 'expInf'], nadam: ['m', 'v'], radam: ['m', 'v'], adadelta: ['squareAvg', 'accDelta'], lion: ['m'] }[ref.kind];
      expect(Object.keys(state.slots[0]!).sort()).toEqual([...names].sort());
      for (let t = 1; t <= 40; t++) {
        const grads = [testData(17, 100 + t), testData(5, 200 + t)];
        opt.update(params, grads, state);
        refs.forEach((r, i) => r.step(t, grads[i]!));
      }
      expect(state.step).toBe(40);
      params.forEach((p, i) => p.forEach((v, j) => expect(Math.abs(v - refs[i]!.w[j]!)).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(refs[i]!.w[j]!), 0.1))));
      // the state is the reference's state too (Adadelta: square_avg and acc_delta; Lion: exp_avg)
      names.forEach((nm, k) => state.slots[1]![nm as 'm']!.forEach((v, j) => expect(Math.abs(v - refs[1]!.s[k]![j]!)).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(refs[1]!.s[k]![j]!), 1e-3))));
      expect(JSON.parse(JSON.stringify(opt)).type).toBe(opt.type);
    });
  }

  it('PyTorch defaults (Lion: lion-pytorch) and the names compile / specs accept', () => {
    expect(adamax()).toMatchObject({ lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(nadam()).toMatchObject({ lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 });
    expect(radam()).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(adadelta()).toMatchObject({ lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 });
    expect(lion()).toMatchObject({ lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0 });
    for (const name of ['adamax', 'nadam', 'radam', 'adadelta', 'lion'] as const) {
      const m = new Sequential({ inputShape: [3], layers: [dense(2)] });
      m.compile({ optimizer: name, loss: 'mse' });
      expect(m.compileOptions!.optimizer).toMatchObject({ type: name });
      m.dispose();
    }
    const m = new Sequential({ inputShape: [3], layers: [dense(2)] });
    expect(() => m.compile({ optimizer: 'adadleta' as never, loss: 'mse' })).toThrow(/expected one of 'sgd', .*'lion', .*'kerasAdam' or a config.*Did you mean 'adadelta'/);
    m.dispose();
  });

  it('bad options are refused with OptionError naming the option; update with foreign state changes nothing', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => adamax({ betas: [0.9, 1] }), /adamax: betas = \[0.9,1\]; expected \[β1, β2\] with each in \[0, 1\)/],
      [() => radam({ eps: -1 }), /radam: eps = -1; expected a finite number in \[0, ∞\)/],
      [() => nadam({ momentumDecay: -0.1 }), /nadam: momentumDecay = -0.1/],
      [() => nadam({ amsgrad: true } as never), /nadam: .*amsgrad/],
      [() => adadelta({ rho: 1.5 }), /adadelta: rho = 1.5; expected a finite number in \[0, 1\]/],
      [() => adadelta({ epsilon: 1e-7 } as never), /unknown option 'epsilon'; use eps/],
      [() => lion({ eps: 1e-8 } as never), /lion: .*eps/],
      [() => lion({ lr: NaN }), /lion: lr = NaN/],
      [() => lion({ weightDecay: -1 }), /lion: weightDecay = -1/],
    ];
    for (const [f, msg] of bad) {
      expect(f).toThrow(OptionError);
      expect(f).toThrow(msg);
    }
    const opt = nadam();
    const w = testData(4, 3);
    const before = Array.from(w);
    const state = opt.init(w);
    const foreign = adamax().init(w); // m and expInf, not m and v
    expect(() => opt.update(w, new Float32Array(4), foreign)).toThrow(/state 'v' of tensor 0 is missing/);
    expect(Array.from(w)).toEqual(before);
    expect([state.step, foreign.step]).toEqual([0, 0]);
    expect(Array.from(foreign.slots[0]!.m!)).toEqual([0, 0, 0, 0]);
  });

  const { x, y } = classData(90, 5, 4);
  const build = (optimizer: OptimizerConfig) => {
    const m = new Sequential({ inputShape: [5], seed: 3, layers: [dense(12, { activation: 'relu' }), dense(3)] });
    m.compile({ optimizer, loss: 'softmaxCrossEntropy' });
    return m;
  };
  const bytesOf = (m: Sequential) => Buffer.concat(m.getWeights().map((t) => Buffer.from(t.data.buffer)));
  it.each(VARIANTS.filter(([, , r]) => !r.l1 && !r.l2).map(([n, make]) => [n, make] as const))('%s: a checkpoint resumes bit-identically to uninterrupted training', async (_n, make) => {
    const a = build(make());
    await a.fit(x, y, { epochs: 2, batchSize: 16 });
    const { model: b } = deserializeCheckpoint(serializeCheckpoint(a));
    expect(b.optimizerStep).toBe(a.optimizerStep);
    await a.fit(x, y, { epochs: 2, batchSize: 16, seed: 9 });
    await b.fit(x, y, { epochs: 2, batchSize: 16, seed: 9 });
    expect(bytesOf(b).equals(bytesOf(a))).toBe(true);
    // the same continuation from a fresh optimizer differs (the state was needed)
    const c = deserializeModel(serializeModel(b));
    expect(c.optimizerStep).toBe(0);
    await c.fit(x, y, { epochs: 1, batchSize: 16, seed: 9 });
    const { model: e } = deserializeCheckpoint(serializeCheckpoint(b));
    await e.fit(x, y, { epochs: 1, batchSize: 16, seed: 9 });
    expect(bytesOf(c).equals(bytesOf(e))).toBe(false);
    for (const m of [a, b, c, e]) m.dispose();
  });
});
