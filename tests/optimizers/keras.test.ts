// Keras's arithmetic: kerasSGD, kerasRMSprop, kerasAdagrad, kerasAdam (kernel `keras_step`) and
// maxNorm({ epsilon }), against tests/fixtures/keras-optimizers.json (scripts/fixtures/keras_optimizers.py:
// Keras 3's update_step rules in numpy, checked there against Keras's own hard-coded test values,
// which the fixture also carries). Both builds, NaN guard bands, SIMD = scalar bit for bit, the
// standalone init/update, training against the float32/float64 runs, checkpoint resume, names,
// typed errors that leave state unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OptionError, Sequential, dense, deserializeCheckpoint, deserializeModel, init, kerasAdagrad, kerasAdam, kerasRMSprop, kerasSGD, maxNorm, nadam, serializeCheckpoint,
  serializeModel, sgd, type OptimizerConfig,
} from '../../ts/index.js';
import { OPT_HYPER, OPT_TENSOR } from '../../ts/runtime/abi.js';
import type { Ptr } from '../../ts/runtime/arena.js';
import type { Runtime } from '../../ts/runtime/index.js';
import { slotNames, writeStep, writeTemplate } from '../../ts/optimizers/record.js';
import { BUILDS, get, put, runtimeFor } from '../helpers.js';
import { classData } from '../io/container-util.js';

type Kind = 'sgd' | 'rmsprop' | 'adagrad' | 'adam';
interface KOpts { learning_rate: number; momentum?: number; nesterov?: boolean; rho?: number; epsilon?: number; centered?: boolean; initial_accumulator_value?: number; beta_1?: number; beta_2?: number; amsgrad?: boolean; weight_decay?: number; lr_schedule?: number[] }
interface Standalone { kind: Kind; options: KOpts; w0: number[]; grads: number[][]; after: number[][]; state: Record<string, number[]>[] }
interface Training { kind: Kind; options: KOpts; x: number[]; y: number[]; init: number[][]; after32: number[][][]; after64: number[][][] }
const fx = JSON.parse(readFileSync(join(__dirname, '../fixtures/keras-optimizers.json'), 'utf8')) as {
  upstream: {
    source: string;
    singleStep: { kind: Kind; options: KOpts; want: number[] }[];
    golden: { kind: Kind; options: KOpts; golden: number[][] }[];
    weightDecay: { learning_rate: number; weight_decay: number; w0: number; steps: number; want: number };
    maxNorm: { maxValue: number; epsilon: number; columns: number[][]; want: number[][] };
  };
  standalone: Standalone[];
  training: { inputs: number; hidden: number; outputs: number; batch: number; batches: number; steps: number; record: number[]; cases: Training[] };
};

/** The wasmfit config of a fixture case (Keras's snake_case options in camelCase). */
function config(kind: Kind, o: KOpts): OptimizerConfig {
  const base = { learningRate: o.learning_rate, ...(o.weight_decay !== undefined ? { weightDecay: o.weight_decay } : {}) };
  const pick = <T extends object>(x: T) => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as T;
  switch (kind) {
    case 'sgd':
      return kerasSGD(pick({ ...base, momentum: o.momentum, nesterov: o.nesterov }));
    case 'rmsprop':
      return kerasRMSprop(pick({ ...base, rho: o.rho, momentum: o.momentum, epsilon: o.epsilon, centered: o.centered }));
    case 'adagrad':
      return kerasAdagrad(pick({ ...base, initialAccumulatorValue: o.initial_accumulator_value, epsilon: o.epsilon }));
    case 'adam':
      return kerasAdam(pick({ ...base, beta1: o.beta_1, beta2: o.beta_2, epsilon: o.epsilon, amsgrad: o.amsgrad }));
  }
}
const label = (kind: Kind, o: KOpts) => `keras ${kind} ${JSON.stringify({ ...o, lr_schedule: o.lr_schedule ? 'varying' : undefined })}`;

const G = 8; // NaN guard floats each side of every buffer
const ARGS = OPT_HYPER.size + OPT_TENSOR.size;
function writeArgs(rt: Runtime, at: Ptr, c: OptimizerConfig, t: number, lr: number, n: number, w: Ptr, g: Ptr, s: (Ptr | 0)[]): void {
  const v = rt.arena.view;
  if (t === 1) writeTemplate(v, at, c);
  writeStep(v, at, c, t, lr);
  const q = at + OPT_HYPER.size;
  for (let o = 0; o < OPT_TENSOR.size; o += 4) v.setUint32(q + o, 0, true);
  v.setUint32(q + OPT_TENSOR.len, n, true);
  v.setUint32(q + OPT_TENSOR.w, w, true);
  v.setUint32(q + OPT_TENSOR.g, g, true);
  v.setUint32(q + OPT_TENSOR.s1, s[0]!, true);
  v.setUint32(q + OPT_TENSOR.s2, s[1]!, true);
  v.setUint32(q + OPT_TENSOR.s3, s[2]!, true);
}
const apply = (rt: Runtime, at: Ptr): number => rt.kernels.optimizerApply(at, (at + OPT_HYPER.size) as Ptr, 1);
const guards = (out: Float32Array, n: number) => out.subarray(0, G).every(Number.isNaN) && out.subarray(G + n).every(Number.isNaN);
const close = (got: number, want: number) => Math.abs(got - want) <= 1e-5 * Math.max(Math.abs(want), 0.1);

describe.each(BUILDS)('optimizer_apply: Keras SGD, RMSprop, Adagrad, Adam (%s build)', (build) => {
  it.each(fx.standalone.map((c, i) => [label(c.kind, c.options), i] as const))('%s: 12 steps match the Keras rule in f64 (weights and state), guard bands intact', async (_n, ci) => {
    const c = fx.standalone[ci]!;
    const rt = await runtimeFor(build);
    const cfg = config(c.kind, c.options);
    const names = slotNames(cfg);
    const n = c.w0.length;
    const W = put(rt, c.w0, G);
    const S = names.map((nm, k) => (nm ? put(rt, new Float32Array(n).fill(k === 0 && c.kind === 'adagrad' ? (c.options.initial_accumulator_value ?? 0.1) : 0), G) : null));
    const args = rt.arena.alloc(ARGS) as Ptr;
    for (let t = 1; t <= c.grads.length; t++) {
      const Gr = put(rt, c.grads[t - 1]!, G);
      writeArgs(rt, args, cfg, t, c.options.lr_schedule?.[t - 1] ?? cfg.lr, n, W.ptr, Gr.ptr, S.map((s) => (s ? s.ptr : 0)));
      expect(apply(rt, args)).toBe(0);
      const out = get(rt, W.base, n + 2 * G);
      expect(guards(out, n)).toBe(true);
      expect(guards(get(rt, Gr.base, n + 2 * G), n)).toBe(true);
      rt.arena.free(Gr.base);
      for (let i = 0; i < n; i++) if (!close(out[G + i]!, c.after[t - 1]![i]!)) expect.fail(`t=${t} i=${i}: got ${out[G + i]}, Keras rule ${c.after[t - 1]![i]}`);
      names.forEach((nm, k) => {
        if (!nm) return;
        const s = get(rt, S[k]!.base, n + 2 * G);
        expect(guards(s, n), nm).toBe(true);
        const want = c.state[t - 1]![nm]!;
        for (let i = 0; i < n; i++) expect(Math.abs(s[G + i]! - want[i]!), `${nm} t=${t} i=${i}`).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(want[i]!), 1e-3));
      });
    }
    expect(Object.keys(c.state[0]!).sort()).toEqual(names.filter((x) => x !== null).sort());
    rt.arena.free(args);
    for (const b of [W, ...S]) if (b) rt.arena.free(b.base);
  });
});

describe.each(BUILDS)('optimizer_apply: Keras kinds refuse a missing state slot (%s build)', (build) => {
  it('a slot the kind and settings need at address 0: status 2, nothing written', async () => {
    const rt = await runtimeFor(build);
    const n = 5;
    const w0 = [0.5, -0.25, 1, 2, -3];
    const W = put(rt, w0);
    const Gr = put(rt, [1, 2, 3, 4, 5]);
    const S = put(rt, new Float32Array(n));
    const args = rt.arena.alloc(ARGS) as Ptr;
    const cases: [OptimizerConfig, (Ptr | 0)[]][] = [
      [kerasSGD({ momentum: 0.9 }), [0, 0, 0]],
      [kerasRMSprop({ centered: true }), [S.ptr, 0, 0]],
      [kerasRMSprop({ momentum: 0.5 }), [S.ptr, 0, 0]],
      [kerasAdagrad(), [0, 0, 0]],
      [kerasAdam(), [S.ptr, 0, 0]],
      [kerasAdam({ amsgrad: true }), [S.ptr, S.ptr, 0]],
    ];
    for (const [c, s] of cases) {
      writeArgs(rt, args, c, 1, c.lr, n, W.ptr, Gr.ptr, s);
      expect(apply(rt, args), c.type).toBe(2);
    }
    expect(Array.from(get(rt, W.ptr, n))).toEqual(w0);
    expect(Array.from(get(rt, S.ptr, n))).toEqual([0, 0, 0, 0, 0]);
    rt.arena.free(args);
    for (const b of [W, Gr, S]) rt.arena.free(b.base);
  });
});

describe('Keras optimizers across builds', () => {
  it('SIMD and scalar builds agree bit for bit (40 steps, 1023 elements, every standalone case)', async () => {
    const rts = await Promise.all(BUILDS.map((b) => runtimeFor(b)));
    const n = 1023;
    const data = (seed: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * scale);
    for (const c of fx.standalone) {
      const results = rts.map((rt) => {
        const cfg = config(c.kind, c.options);
        const W = put(rt, data(5));
        const S = slotNames(cfg).map((k) => (k ? put(rt, new Float32Array(n)) : null));
        const args = rt.arena.alloc(ARGS) as Ptr;
        for (let t = 1; t <= 40; t++) {
          const Gr = put(rt, data(31 * t, 0.5));
          writeArgs(rt, args, cfg, t, cfg.lr, n, W.ptr, Gr.ptr, S.map((s) => (s ? s.ptr : 0)));
          expect(apply(rt, args)).toBe(0);
          rt.arena.free(Gr.base);
        }
        const out = [W, ...S].flatMap((b) => (b ? Array.from(new Uint32Array(get(rt, b.ptr, n).buffer)) : []));
        rt.arena.free(args);
        for (const b of [W, ...S]) if (b) rt.arena.free(b.base);
        return out;
      });
      expect(results[0], label(c.kind, c.options)).toEqual(results[1]);
    }
  });
});

describe(`Keras's own test values (${fx.upstream.source})`, () => {
  beforeAll(async () => {
    await init();
  });

  it('test_single_step: lr 0.5, g [1, 6, 7, 2] from w [1, 2, 3, 4] (rtol = atol = 1e-4)', () => {
    for (const c of fx.upstream.singleStep) {
      const opt = config(c.kind, c.options);
      const w = Float32Array.from([1, 2, 3, 4]);
      opt.update(w, Float32Array.from([1, 6, 7, 2]), opt.init(w));
      w.forEach((v, i) => expect(Math.abs(v - c.want[i]!), `${c.kind}[${i}]: ${v}`).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(c.want[i]!)));
    }
  });

  it('test_correctness_with_golden: 0.01 then arange(0.1, 1.1, 0.1), five golden rows (rtol = atol = 5e-4)', () => {
    const g10 = Float32Array.from({ length: 10 }, (_, i) => 0.1 * (i + 1));
    for (const c of fx.upstream.golden) {
      const opt = config(c.kind, c.options);
      const x = new Float32Array(10).fill(1);
      const st = opt.init(x);
      opt.update(x, new Float32Array(10).fill(0.01), st);
      for (const row of c.golden) {
        x.forEach((v, i) => expect(Math.abs(v - row[i]!), `${c.kind} step ${st.step}[${i}]: ${v} vs ${row[i]}`).toBeLessThanOrEqual(5e-4 + 5e-4 * Math.abs(row[i]!)));
        opt.update(x, g10, st);
      }
    }
  });

  it('test_weight_decay: lr 1, weight_decay 0.004, zero gradients, three steps from 2.0 → 1.9760959 (6 decimals)', () => {
    const u = fx.upstream.weightDecay;
    for (const make of [kerasSGD, kerasRMSprop, kerasAdagrad, kerasAdam] as ((o: object) => OptimizerConfig)[]) {
      const w = Float32Array.of(u.w0);
      for (let i = 0; i < u.steps; i++) {
        const opt = make({ learningRate: u.learning_rate, weightDecay: u.weight_decay });
        opt.update(w, Float32Array.of(0), opt.init(w));
      }
      expect(Math.abs(w[0]! - u.want)).toBeLessThan(1.5e-6);
    }
  });

  it('test_max_norm: MaxNorm(2.0) on [0,0,0], [1,0,0], [3,0,0], [3,3,3] through a dense layer (assertAllClose 1e-6); the exact form leaves the inside columns bit-identical', () => {
    const u = fx.upstream.maxNorm;
    // dense(4) on 3 inputs: kernel [3, 4] row-major, column j = unit j; SGD at lr 0 leaves W as it is, then the constraint runs
    const kernel = Float32Array.from({ length: 12 }, (_, k) => u.columns[k % 4]![Math.floor(k / 4)]!);
    const run = (c: ReturnType<typeof maxNorm>) => {
      const m = new Sequential({ inputShape: [3], layers: [dense(4, { kernelConstraint: c, useBias: false })] });
      m.compile({ optimizer: sgd({ lr: 0 }), loss: 'mse' });
      m.setWeights([{ data: kernel }]);
      m.trainOnBatch({ data: new Float32Array(3), shape: [1, 3] }, { data: new Float32Array(4), shape: [1, 4] });
      const w = m.getWeights()[0]!.data;
      m.dispose();
      return w;
    };
    const keras = run(maxNorm({ maxValue: u.maxValue, epsilon: u.epsilon }));
    for (let k = 0; k < 12; k++) expect(Math.abs(keras[k]! - u.want[k % 4]![Math.floor(k / 4)]!)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(u.want[k % 4]![Math.floor(k / 4)]!));
    // Keras's ε shrinks the inside column [1, 0, 0] by 1/(1 + ε); wasmfit's exact form does not touch it
    expect(keras[1]).toBe(Math.fround(1 / (1 + u.epsilon)));
    const exact = run(maxNorm({ maxValue: u.maxValue }));
    expect(exact[1]).toBe(1);
    // a larger ε: the formula w·min(‖w‖, r)/(ε + ‖w‖) on every column, in f64
    const big = run(maxNorm({ maxValue: 2, epsilon: 0.25 }));
    for (let j = 0; j < 4; j++) {
      const col = u.columns[j]!;
      const norm = Math.hypot(...col);
      for (let i = 0; i < 3; i++) expect(Math.abs(big[i * 4 + j]! - (col[i]! * Math.min(norm, 2)) / (0.25 + norm))).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe.each(BUILDS)('Keras optimizers inside training, against the Keras rules in float32/float64 (%s)', (build) => {
  const tr = fx.training;
  it.each(tr.cases.map((c, i) => [label(c.kind, c.options), i] as const))('%s: weights after 40 steps', async (_n, ci) => {
    const c = tr.cases[ci]!;
    const rt = await runtimeFor(build);
    const m = new Sequential({ inputShape: [tr.inputs], layers: [dense(tr.hidden, { activation: 'tanh' }), dense(tr.outputs)], runtime: rt });
    m.compile({ optimizer: config(c.kind, c.options), loss: 'mse' });
    m.setWeights(c.init.map((d) => ({ data: Float32Array.from(d) })));
    const { inputs: d, outputs: k, batch: n } = tr;
    let rec = 0;
    for (let t = 1; t <= tr.steps; t++) {
      const b = (t - 1) % tr.batches;
      m.trainOnBatch({ data: Float32Array.from(c.x.slice(b * n * d, (b + 1) * n * d)), shape: [n, d] }, { data: Float32Array.from(c.y.slice(b * n * k, (b + 1) * n * k)), shape: [n, k] });
      if (tr.record[rec] !== t) continue;
      const w32 = c.after32[rec]!;
      const w64 = c.after64[rec]!;
      rec++;
      // as tests/optimizers/torch-more.test.ts: the float32 run's distance from the float64 run, 4×, plus 2e-6 + 2e-5·|w|
      const gap = Math.max(...w32.flatMap((tt, i) => tt.map((v, j) => Math.abs(v - w64[i]![j]!))));
      m.getWeights().forEach((w, i) => {
        w32[i]!.forEach((v, j) => {
          expect(Math.abs(w.data[j]! - v), `step ${t} tensor ${i}[${j}]: ours ${w.data[j]}, Keras rule float32 ${v}, float64 ${w64[i]![j]}`).toBeLessThanOrEqual(2e-6 + 2e-5 * Math.abs(v) + 4 * gap);
        });
      });
    }
    expect(rec).toBe(tr.record.length);
    const moved = Math.max(...c.init.flatMap((tt, i) => tt.map((v, j) => Math.abs(v - c.after32[c.after32.length - 1]![i]![j]!))));
    expect(moved).toBeGreaterThan(0.04);
    m.dispose();
  });
});

describe('Keras optimizers: standalone, names, options, checkpoints', () => {
  beforeAll(async () => {
    await init();
  });

  it("Keras's defaults, state named as Keras names its variables, and the names compile accepts", () => {
    expect(kerasSGD()).toMatchObject({ type: 'kerasSGD', lr: 0.01, momentum: 0, nesterov: false, weightDecay: 0 });
    expect(kerasRMSprop()).toMatchObject({ type: 'kerasRMSprop', lr: 1e-3, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false });
    expect(kerasAdagrad()).toMatchObject({ type: 'kerasAdagrad', lr: 1e-3, initialAccumulatorValue: 0.1, epsilon: 1e-7 });
    expect(kerasAdam()).toMatchObject({ type: 'kerasAdam', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false });
    expect(kerasAdam({ lr: 0.01 }).lr).toBe(0.01);
    const p = new Float32Array(3);
    expect(Object.keys(kerasSGD({ momentum: 0.9 }).init(p).slots[0]!)).toEqual(['momentum']);
    expect(Object.keys(kerasRMSprop({ momentum: 0.9, centered: true }).init(p).slots[0]!)).toEqual(['velocity', 'momentum', 'averageGradient']);
    expect(Array.from(kerasAdagrad().init(p).slots[0]!.accumulator!)).toEqual([0.1, 0.1, 0.1].map(Math.fround));
    expect(Object.keys(kerasAdam({ amsgrad: true }).init(p).slots[0]!)).toEqual(['momentum', 'velocity', 'velocityHat']);
    for (const name of ['kerasSGD', 'kerasRMSprop', 'kerasAdagrad', 'kerasAdam'] as const) {
      const m = new Sequential({ inputShape: [3], layers: [dense(2)] });
      m.compile({ optimizer: name, loss: 'mse' });
      expect(m.compileOptions!.optimizer).toMatchObject({ type: name });
      // a model file keeps the config: revived with the same arithmetic
      expect(deserializeModel(serializeModel(m)).compileOptions!.optimizer).toEqual(JSON.parse(JSON.stringify(m.compileOptions!.optimizer)));
      m.dispose();
    }
  });

  it('bad options are refused with OptionError naming the option; a failed update changes nothing', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => kerasSGD({ momentum: 1.5 }), /kerasSGD: momentum = 1.5; expected a finite number in \[0, 1\]/],
      [() => kerasSGD({ dampening: 0.1 } as never), /kerasSGD: .*dampening/],
      [() => kerasRMSprop({ rho: -0.1 }), /kerasRMSprop: rho = -0.1; expected a finite number in \[0, 1\]/],
      [() => kerasRMSprop({ epsilon: 0 }), /kerasRMSprop: epsilon = 0; expected a finite number in \(0, ∞\)/],
      [() => kerasRMSprop({ alpha: 0.9 } as never), /kerasRMSprop: .*alpha/],
      [() => kerasAdagrad({ initialAccumulatorValue: -1 }), /kerasAdagrad: initialAccumulatorValue = -1/],
      [() => kerasAdam({ beta1: 1 }), /kerasAdam: beta1 = 1; expected a finite number in \[0, 1\)/],
      [() => kerasAdam({ betas: [0.9, 0.999] } as never), /kerasAdam: .*betas/],
      [() => kerasAdam({ weightDecay: -1 }), /kerasAdam: weightDecay = -1/],
      [() => kerasAdam({ lr: 0.1, learningRate: 0.1 }), /kerasAdam: pass lr or learningRate/],
      [() => kerasAdam({ epsilon: NaN }), /kerasAdam: epsilon = NaN/],
      [() => maxNorm({ maxValue: 2, epsilon: 0 }), /maxNorm: epsilon = 0; expected a finite number > 0/],
    ];
    for (const [f, msg] of bad) {
      expect(f).toThrow(OptionError);
      expect(f).toThrow(msg);
    }
    // the PyTorch factories name the Keras-named ones for Keras's option names
    expect(() => sgd({ epsilon: 1 } as never)).toThrow(/unknown option 'epsilon'; .*kerasSGD\(\)/);
    const opt = kerasAdam({ amsgrad: true });
    const w = Float32Array.from([0.5, -0.25, 1, 2]);
    const before = Array.from(w);
    const state = opt.init(w);
    const foreign = kerasAdam().init(w); // no velocityHat
    expect(() => opt.update(w, new Float32Array(4), foreign)).toThrow(/state 'velocityHat' of tensor 0 is missing/);
    expect(() => opt.update(w, Float32Array.from([1, NaN, 0, 0]), state)).toThrow(/gradient 0 holds NaN/);
    expect(() => opt.update(w, new Float32Array(4), state, -1)).toThrow(OptionError);
    expect(Array.from(w)).toEqual(before);
    expect([state.step, foreign.step]).toEqual([0, 0]);
    expect(Array.from(state.slots[0]!.momentum!)).toEqual([0, 0, 0, 0]);
  });

  it('a learning rate that changes: the Keras velocity keeps each step’s rate (PyTorch’s buffer does not)', () => {
    const c = fx.standalone.find((s) => s.options.lr_schedule)!;
    const opt = config(c.kind, c.options);
    const w = Float32Array.from(c.w0);
    const st = opt.init(w);
    c.grads.forEach((g, t) => opt.update(w, Float32Array.from(g), st, c.options.lr_schedule![t]));
    w.forEach((v, i) => expect(close(v, c.after[c.after.length - 1]![i]!)).toBe(true));
    // PyTorch's SGD from the same rates ends elsewhere (the comparison tells the two forms apart)
    const pt = sgd({ lr: 0.05, momentum: 0.9 });
    const w2 = Float32Array.from(c.w0);
    const s2 = pt.init(w2);
    c.grads.forEach((g, t) => pt.update(w2, Float32Array.from(g), s2, c.options.lr_schedule![t]));
    expect(Math.max(...Array.from(w2, (v, i) => Math.abs(v - w[i]!)))).toBeGreaterThan(1e-3);
  });

  const { x, y } = classData(90, 5, 4);
  const build = (optimizer: OptimizerConfig) => {
    const m = new Sequential({ inputShape: [5], seed: 3, layers: [dense(12, { activation: 'relu', kernelConstraint: maxNorm({ maxValue: 1, epsilon: 1e-7 }) }), dense(3)] });
    m.compile({ optimizer, loss: 'softmaxCrossEntropy' });
    return m;
  };
  const bytesOf = (m: Sequential) => Buffer.concat(m.getWeights().map((t) => Buffer.from(t.data.buffer)));
  const MAKERS: [string, () => OptimizerConfig][] = [
    ['kerasSGD nesterov', () => kerasSGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    ['kerasRMSprop centered momentum', () => kerasRMSprop({ momentum: 0.5, centered: true })],
    ['kerasAdagrad', () => kerasAdagrad({ learningRate: 0.05 })],
    ['kerasAdam amsgrad', () => kerasAdam({ learningRate: 0.01, amsgrad: true, weightDecay: 0.01 })],
  ];
  it.each(MAKERS)('%s: a checkpoint resumes bit-identically to uninterrupted training', async (_n, make) => {
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

// Keras's Nadam (keras/src/optimizers/nadam.py) decays the momentum schedule per step,
// u_t = β1(1 − ½·0.96^t), where PyTorch's NAdam uses μ_t = β1(1 − ½·0.96^(ψ·t)) with ψ =
// momentum_decay = 0.004; the products, bias corrections and ε outside the root are the same. So
// `nadam({ momentumDecay: 1, eps: 1e-7 })` is Keras's Nadam (with PyTorch's ψ = 0.004 the first
// step already misses Keras's value by 3e-3): checked against Keras's own test values
// (keras/src/optimizers/nadam_test.py: test_single_step, test_correctness_with_golden).
describe("Keras's Nadam is nadam({ momentumDecay: 1, eps: 1e-7 }) (keras/src/optimizers/nadam_test.py)", () => {
  beforeAll(async () => {
    await init();
  });
  it('test_single_step: lr 0.5, ε 1e-7, g [1, 6, 7, 2] from w [1, 2, 3, 4] → [0.4686, 1.4686, 2.4686, 3.4686] (rtol = atol = 1e-4)', () => {
    const opt = nadam({ lr: 0.5, eps: 1e-7, momentumDecay: 1 });
    const w = Float32Array.from([1, 2, 3, 4]);
    opt.update(w, Float32Array.from([1, 6, 7, 2]), opt.init(w));
    const want = [0.4686, 1.4686, 2.4686, 3.4686];
    w.forEach((v, i) => expect(Math.abs(v - want[i]!), `w[${i}] = ${v}`).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(want[i]!)));
  });
  it('test_correctness_with_golden: lr 0.5, β (0.5, 0.67), ε 1e-5; 0.01 then arange(0.1, 1.1, 0.1), five golden rows (rtol = atol = 5e-4)', () => {
    const golden = [
      [0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281],
      [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
      [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
      [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
      [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454],
    ];
    const opt = nadam({ lr: 0.5, betas: [0.5, 0.67], eps: 1e-5, momentumDecay: 1 });
    const x = new Float32Array(10).fill(1);
    const st = opt.init(x);
    opt.update(x, new Float32Array(10).fill(0.01), st);
    const g10 = Float32Array.from({ length: 10 }, (_, i) => 0.1 * (i + 1));
    for (const row of golden) {
      x.forEach((v, i) => expect(Math.abs(v - row[i]!), `step ${st.step}[${i}]: ${v} vs ${row[i]}`).toBeLessThanOrEqual(5e-4 + 5e-4 * Math.abs(row[i]!)));
      opt.update(x, g10, st);
    }
  });
});
