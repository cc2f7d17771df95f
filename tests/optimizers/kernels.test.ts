// Fused optimizer updates (`optimizer_apply` over one tensor record) on both builds against the PyTorch single-tensor
// formulas (torch/optim/{sgd,adagrad,rmsprop,adam,adamw}.py) re-implemented here in float64, with
// L1/L2 penalties folded into the gradient (Keras convention: l2·Σw² has gradient 2·l2·w).
import { describe, expect, it } from 'vitest';
import type { Ptr } from '../../ts/runtime/arena.js';
import type { Runtime } from '../../ts/runtime/index.js';
import { BUILDS, get, put, runtimeFor } from '../helpers.js';
import { LAYOUT_NAMES } from '../../ts/runtime/abi.js';
import { testData } from '../reference/f64.js';
import { type Cfg, Ref } from '../reference/optim64.js';

/** OptHyper record (crates/kernels/src/optim.rs): 21 four-byte fields, written out here by hand. */
const HYP = {
  size: 84,
  kind: 0, flags: 4, lr: 8, momentum: 12, dampening: 16, beta1: 20, beta2: 24, eps: 28, weightDecay: 32,
  biasCorrection1: 36, biasCorrection2Sqrt: 40, oneMinusBeta1: 44, oneMinusBeta2: 48, stepSize: 52, decayKeep: 56,
  clipValue: 60, clipNorm: 64, globalClipNorm: 68, biasCorrection2: 72, c1: 76, c2: 80,
} as const;
/** OptTensor record: 8 four-byte fields. */
const TEN = { size: 32, len: 0, w: 4, g: 8, s1: 12, s2: 16, s3: 20, l1: 24, l2: 28 } as const;
/** Position of OptHyper's size in the abi_layout array (after Plan, Layer and GemmArgs). */
const HYP_AT = LAYOUT_NAMES.indexOf('sizeof OptHyper');
const KIND = { sgd: 0, adagrad: 1, rmsprop: 2, adam: 3, adamw: 4 } as const;
const FLAG = { firstStep: 1, nesterov: 2, centered: 4, amsgrad: 8, maximize: 16 } as const;

const VARIANTS: [string, Cfg][] = [
  ['sgd plain', { kind: 'sgd', lr: 0.05 }],
  ['sgd momentum', { kind: 'sgd', lr: 0.05, momentum: 0.9 }],
  ['sgd momentum+dampening', { kind: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.3 }],
  ['sgd nesterov', { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }],
  ['sgd weight decay', { kind: 'sgd', lr: 0.05, momentum: 0.5, weightDecay: 0.05 }],
  ['sgd maximize', { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.01, maximize: true }],
  ['adagrad lrDecay+initialAccumulatorValue', { kind: 'adagrad', lr: 0.05, lrDecay: 0.05, initialAccumulatorValue: 0.1, eps: 1e-10 }],
  ['adagrad weight decay', { kind: 'adagrad', lr: 0.05, weightDecay: 0.05, eps: 1e-10 }],
  ['rmsprop plain', { kind: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8 }],
  ['rmsprop centered', { kind: 'rmsprop', lr: 0.01, alpha: 0.9, eps: 1e-8, centered: true }],
  ['rmsprop momentum', { kind: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0.9 }],
  ['rmsprop centered+momentum+wd', { kind: 'rmsprop', lr: 0.01, alpha: 0.9, eps: 1e-8, centered: true, momentum: 0.5, weightDecay: 0.05 }],
  ['adam', { kind: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8 }],
  ['adam weight decay', { kind: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05 }],
  ['adam amsgrad', { kind: 'adam', lr: 0.01, betas: [0.8, 0.99], eps: 1e-8, amsgrad: true }],
  ['adamw', { kind: 'adamw', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 }],
  ['adamw amsgrad', { kind: 'adamw', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: true }],
  ['sgd + L1', { kind: 'sgd', lr: 0.05, l1: 0.02 }],
  ['sgd momentum + L2', { kind: 'sgd', lr: 0.05, momentum: 0.9, l2: 0.03 }],
  ['adam + elastic net', { kind: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, l1: 0.01, l2: 0.02 }],
  ['rmsprop + elastic net', { kind: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8, l1: 0.01, l2: 0.02 }],
];

const SIZES = [1, 3, 5, 17, 1023];
const STEPS = 20;
const G = 8; // NaN guard floats each side of every buffer


/** Writes an OptHyper record at `at` and one OptTensor record right after it (PyTorch's f64 scalars, rounded once). */
function writeArgs(rt: Runtime, at: Ptr, c: Cfg, t: number, n: number, w: Ptr, g: Ptr, s: (Ptr | 0)[]): void {
  const v = rt.arena.view;
  const u = (off: number, x: number) => v.setUint32(at + off, x, true);
  const f = (off: number, x: number) => v.setFloat32(at + off, x, true);
  const [b1, b2] = c.betas ?? [0.9, 0.999];
  const lr = c.kind === 'adagrad' ? c.lr / (1 + (t - 1) * (c.lrDecay ?? 0)) : c.lr;
  u(HYP.kind, KIND[c.kind]);
  u(
    HYP.flags,
    (t === 1 ? FLAG.firstStep : 0) |
      (c.nesterov ? FLAG.nesterov : 0) |
      (c.centered ? FLAG.centered : 0) |
      (c.amsgrad ? FLAG.amsgrad : 0) |
      (c.maximize ? FLAG.maximize : 0),
  );
  f(HYP.lr, lr);
  f(HYP.momentum, c.momentum ?? 0);
  f(HYP.dampening, c.dampening ?? 0);
  f(HYP.beta1, c.kind === 'rmsprop' ? c.alpha! : b1);
  f(HYP.beta2, b2);
  f(HYP.eps, c.eps ?? 0);
  f(HYP.weightDecay, c.weightDecay ?? 0);
  f(HYP.biasCorrection1, 1 - b1 ** t);
  f(HYP.biasCorrection2Sqrt, Math.sqrt(1 - b2 ** t));
  f(HYP.oneMinusBeta1, 1 - (c.kind === 'rmsprop' ? c.alpha! : b1));
  f(HYP.oneMinusBeta2, 1 - b2);
  // PyTorch: step_size = lr / bias_correction1 and AdamW's 1 − lr·wd, Python floats
  f(HYP.stepSize, lr / (1 - b1 ** t));
  f(HYP.decayKeep, 1 - lr * (c.weightDecay ?? 0));
  for (const k of ['clipValue', 'clipNorm', 'globalClipNorm'] as const) f(HYP[k], 0);
  const r = at + HYP.size;
  v.setUint32(r + TEN.len, n, true);
  v.setUint32(r + TEN.w, w, true);
  v.setUint32(r + TEN.g, g, true);
  v.setUint32(r + TEN.s1, s[0]!, true);
  v.setUint32(r + TEN.s2, s[1]!, true);
  v.setUint32(r + TEN.s3, s[2]!, true);
  v.setFloat32(r + TEN.l1, c.l1 ?? 0, true);
  v.setFloat32(r + TEN.l2, c.l2 ?? 0, true);
}

/** One `optimizer_apply` over the records {@link writeArgs} wrote at `at`. */
const apply = (rt: Runtime, at: Ptr): number => rt.kernels.optimizerApply(at, (at + HYP.size) as Ptr, 1);
const ARGS = HYP.size + TEN.size;

/** Which state buffers the kernel needs for this configuration. */
function needs(c: Cfg): [boolean, boolean, boolean] {
  switch (c.kind) {
    case 'sgd':
      return [(c.momentum ?? 0) !== 0, false, false];
    case 'adagrad':
      return [true, false, false];
    case 'rmsprop':
      return [true, (c.momentum ?? 0) > 0, !!c.centered];
    default:
      return [true, true, !!c.amsgrad];
  }
}

function expectGuards(out: Float32Array, n: number): void {
  for (let i = 0; i < G; i++) {
    expect(Number.isNaN(out[i]!)).toBe(true);
    expect(Number.isNaN(out[G + n + i]!)).toBe(true);
  }
}

describe.each(BUILDS)('optimizer_apply (%s build)', (build) => {
  it('OptHyper and OptTensor layouts match abi_layout', async () => {
    const rt = await runtimeFor(build);
    const out = rt.arena.alloc(4 * 256);
    const count = rt.kernels.abiLayout(out, 256);
    const got = Array.from(new Uint32Array(rt.arena.view.buffer, out, count));
    const { size, ...fields } = HYP;
    const { size: tsize, ...tfields } = TEN;
    expect(got.slice(HYP_AT, HYP_AT + 1 + 21 + 1 + 8)).toEqual([size, ...Object.values(fields), tsize, ...Object.values(tfields)]);
    rt.arena.free(out);
  });

  for (const [name, cfg] of VARIANTS) {
    it(`${name}: ${STEPS} steps match PyTorch's formula in f64, guard bands intact`, async () => {
      const rt = await runtimeFor(build);
      const need = needs(cfg);
      let seed = 101;
      for (const n of SIZES) {
        const w0 = testData(n, seed++);
        const W = put(rt, w0, G);
        const init = cfg.kind === 'adagrad' ? cfg.initialAccumulatorValue ?? 0 : 0;
        const S = need.map((k) => (k ? put(rt, new Float32Array(n).fill(init), G) : null));
        const args = rt.arena.alloc(ARGS) as Ptr;
        const ref = new Ref(w0, cfg);
        for (let t = 1; t <= STEPS; t++) {
          // gradients change sign pattern and scale from step to step
          const g = testData(n, 7919 * t + n, 0.2 + 0.1 * (t % 7));
          const Gr = put(rt, g, G);
          writeArgs(rt, args, cfg, t, n, W.ptr, Gr.ptr, S.map((s) => (s ? s.ptr : 0)));
          expect(apply(rt, args)).toBe(0);
          ref.step(t, g);
          const gOut = get(rt, Gr.base, n + 2 * G);
          expectGuards(gOut, n);
          expect(Array.from(gOut.subarray(G, G + n))).toEqual(Array.from(g)); // gradient read only
          rt.arena.free(Gr.base);
          const out = get(rt, W.base, n + 2 * G);
          expectGuards(out, n);
          for (let i = 0; i < n; i++) {
            const got = out[G + i]!;
            const want = ref.w[i]!;
            // Weights of order 1 are rounded to f32 at every step (≤ 6e-8 absolute each), so a
            // weight that crosses zero carries ~1e-7·t absolute error: 1e-5 relative down to
            // |w| = 0.1, 1e-6 absolute below.
            if (!(Math.abs(got - want) <= 1e-5 * Math.max(Math.abs(want), 0.1)))
              expect.fail(`${name} n=${n} t=${t} i=${i}: got ${got}, want ${want}`);
          }
          for (const s of S) if (s) expectGuards(get(rt, s.base, n + 2 * G), n);
        }
        rt.arena.free(args);
        rt.arena.free(W.base);
        for (const s of S) if (s) rt.arena.free(s.base);
      }
    });
  }

  it('returns 2 (bad argument) for an unknown kind and for a missing state buffer, writing nothing', async () => {
    const rt = await runtimeFor(build);
    const n = 5;
    const w0 = testData(n, 3);
    const W = put(rt, w0);
    const Gr = put(rt, testData(n, 4));
    const S = put(rt, new Float32Array(n));
    const args = rt.arena.alloc(ARGS) as Ptr;
    const call = () => apply(rt, args);
    writeArgs(rt, args, { kind: 'adam', lr: 0.1, eps: 1e-8 }, 1, n, W.ptr, Gr.ptr, [S.ptr, S.ptr, 0]);
    rt.arena.view.setUint32(args + HYP.kind, 14, true);
    expect(call()).toBe(2);
    const cases: [Cfg, (Ptr | 0)[]][] = [
      [{ kind: 'adam', lr: 0.1, eps: 1e-8 }, [S.ptr, 0, 0]],
      [{ kind: 'adam', lr: 0.1, eps: 1e-8, amsgrad: true }, [S.ptr, S.ptr, 0]],
      [{ kind: 'sgd', lr: 0.1, momentum: 0.9 }, [0, 0, 0]],
      [{ kind: 'rmsprop', lr: 0.1, alpha: 0.9, eps: 1e-8, centered: true }, [S.ptr, 0, 0]],
      [{ kind: 'adagrad', lr: 0.1, eps: 1e-8 }, [0, 0, 0]],
    ];
    for (const [c, s] of cases) {
      writeArgs(rt, args, c, 1, n, W.ptr, Gr.ptr, s);
      expect(call()).toBe(2);
    }
    writeArgs(rt, args, { kind: 'sgd', lr: 0.1 }, 1, n, 0 as Ptr, Gr.ptr, [0, 0, 0]);
    expect(call()).toBe(2);
    expect(Array.from(get(rt, W.ptr, n))).toEqual(Array.from(w0));
    expect(Array.from(get(rt, S.ptr, n))).toEqual([0, 0, 0, 0, 0]);
    rt.arena.free(args);
    for (const b of [W, Gr, S]) rt.arena.free(b.base);
  });
});

describe('optimizer_apply across builds', () => {
  // Same operations in the same order, no FMA, correctly rounded sqrt and division on both.
  it('SIMD and scalar builds agree bit for bit on every variant', async () => {
    const rts = await Promise.all(BUILDS.map((b) => runtimeFor(b)));
    const n = 1023;
    for (const [name, cfg] of VARIANTS) {
      const results = rts.map((rt) => {
        const need = needs(cfg);
        const W = put(rt, testData(n, 5));
        const init = cfg.kind === 'adagrad' ? cfg.initialAccumulatorValue ?? 0 : 0;
        const S = need.map((k) => (k ? put(rt, new Float32Array(n).fill(init)) : null));
        const args = rt.arena.alloc(ARGS) as Ptr;
        for (let t = 1; t <= 5; t++) {
          const Gr = put(rt, testData(n, 31 * t, 0.5));
          writeArgs(rt, args, cfg, t, n, W.ptr, Gr.ptr, S.map((s) => (s ? s.ptr : 0)));
          expect(apply(rt, args)).toBe(0);
          rt.arena.free(Gr.base);
        }
        const out = Array.from(new Uint32Array(get(rt, W.ptr, n).buffer));
        rt.arena.free(args);
        rt.arena.free(W.base);
        for (const s of S) if (s) rt.arena.free(s.base);
        return out;
      });
      expect(results[0], name).toEqual(results[1]);
    }
  });
});
