import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';
import { OPT_TENSOR, STATUS } from '../runtime/abi.js';
import type { Ptr } from '../runtime/arena.js';
import { getRuntime } from '../runtime/loader.js';
import { checkStatus } from '../runtime/status.js';
import type { OptimizerConfig, OptimizerState, SlotName } from './types.js';
import { BoundOptimizer, slotInit, slotNames } from './record.js';

type Tensors = Float32Array | readonly Float32Array[];
const list = (t: Tensors): readonly Float32Array[] => (t instanceof Float32Array ? [t] : t);

/** `opt.init(params)`: zeroed state (AdaGrad: `initialAccumulatorValue`), named as PyTorch names it. */
export function initState(c: OptimizerConfig, params: Tensors): OptimizerState {
  const ps = list(params);
  ps.forEach((p, i) => {
    if (!(p instanceof Float32Array)) throw new ShapeError(`${c.type}.init: params[${i}] is not a Float32Array.`);
  });
  const names = slotNames(c);
  return {
    step: 0,
    slots: ps.map((p) => {
      const s: Partial<Record<SlotName, Float32Array>> = {};
      names.forEach((n, k) => {
        if (n) s[n] = new Float32Array(p.length).fill(slotInit(c, k));
      });
      return s;
    }),
  };
}

/**
 * `opt.update(params, grads, state)`: one step of every tensor in place, through the same kernel
 * path `fit` uses (`optimizer_apply`: gradients clipped together in Keras's order — `clipNorm`,
 * `globalClipNorm`, `clipValue`, norms in f64 — then one fused update per tensor). Works on
 * copies in the arena: everything is validated before anything is written, and the caller's
 * arrays change only when every written value is finite.
 */
export function updateTensors(c: OptimizerConfig, params: Tensors, grads: Tensors, state: OptimizerState, lr = c.lr): void {
  const W = `${c.type}.update`;
  const ps = list(params);
  const gs = list(grads);
  if (gs.length !== ps.length) throw new ShapeError(`${W}: ${gs.length} gradients for ${ps.length} parameter tensors; pass one gradient per tensor.`);
  if (!state || !Array.isArray(state.slots) || state.slots.length !== ps.length || !Number.isInteger(state.step) || state.step < 0) {
    throw new OptionError('state', `${W}: state does not belong to these ${ps.length} tensors; create it with opt.init(params).`);
  }
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new OptionError('lr', `${W}: lr = ${String(lr)}; expected a finite number >= 0.`);
  const names = slotNames(c);
  ps.forEach((p, i) => {
    const g = gs[i]!;
    if (!(p instanceof Float32Array) || !(g instanceof Float32Array) || g.length !== p.length) {
      throw new ShapeError(`${W}: tensor ${i} has ${p?.length} parameters and ${g?.length} gradients; they must be Float32Arrays of equal length.`);
    }
    for (let j = 0; j < g.length; j++) {
      if (g[j]! - g[j]! !== 0) throw new NonFiniteError(`${W}: gradient ${i} holds ${g[j]} at ${j}; gradients must be finite.`);
    }
    const own = state.slots[i];
    for (const n of names) {
      const slot = n && own && typeof own === 'object' && Object.prototype.hasOwnProperty.call(own, n) ? own[n] : undefined;
      if (n && (!(slot instanceof Float32Array) || slot.length !== p.length)) throw new OptionError('state', `${W}: state '${n}' of tensor ${i} is missing or has the wrong length; create the state with opt.init(params).`);
    }
  });

  const rt = getRuntime();
  const a = rt.arena;
  const t = state.step + 1;
  const blocks: Ptr[] = [];
  try {
    const bound = a.atomic(() => {
      const b = new BoundOptimizer(a, c, ps.map((p) => p.length));
      blocks.push(...b.blocks);
      return b;
    });
    bound.prepare(t, lr);
    const recs = a.alloc(Math.max(1, ps.length) * OPT_TENSOR.size);
    blocks.push(recs);
    const copies = ps.map((p, i) => {
      const w = a.allocF32(p.length);
      const g = a.allocF32(p.length);
      blocks.push(w, g);
      a.writeF32(w, p);
      a.writeF32(g, gs[i]!);
      const s = bound.slots[i]!;
      names.forEach((n, k) => {
        if (n) a.writeF32(s[k]!, state.slots[i]![n]!);
      });
      const v = a.view;
      const r = recs + i * OPT_TENSOR.size;
      for (let o = 0; o < OPT_TENSOR.size; o += 4) v.setUint32(r + o, 0, true);
      v.setUint32(r + OPT_TENSOR.len, p.length, true);
      v.setUint32(r + OPT_TENSOR.w, w, true);
      v.setUint32(r + OPT_TENSOR.g, g, true);
      v.setUint32(r + OPT_TENSOR.s1, s[0] ?? 0, true);
      v.setUint32(r + OPT_TENSOR.s2, s[1] ?? 0, true);
      v.setUint32(r + OPT_TENSOR.s3, s[2] ?? 0, true);
      return { w, s };
    });
    const status = rt.kernels.optimizerApply(bound.hyper, recs, ps.length);
    const read = copies.map(({ w, s }, i) => ({ w: a.readF32(w, ps[i]!.length), s: s.map((q) => (q ? a.readF32(q, ps[i]!.length) : null)) }));
    checkStatus(status, W, () => {
      if (status !== STATUS.nonFiniteResult) return {};
      // name the first tensor and state the update made non-finite
      for (let i = 0; i < read.length; i++) {
        const parts: [string, Float32Array | null][] = [['the parameters', read[i]!.w], ...read[i]!.s.map((q, k): [string, Float32Array | null] => [`the optimizer state ${names[k]}`, q])];
        for (const [what, arr] of parts) {
          const j = arr ? arr.findIndex((x) => !Number.isFinite(x)) : -1;
          if (j >= 0) return { tensor: `${what} of parameter tensor ${i}`, index: j, value: arr![j], kept: 'the parameters and the optimizer state were left unchanged' };
        }
      }
      return { kept: 'the parameters and the optimizer state were left unchanged' };
    });
    read.forEach((r, i) => {
      ps[i]!.set(r.w);
      names.forEach((n, k) => {
        if (n) state.slots[i]![n]!.set(r.s[k]!);
      });
    });
    state.step = t;
  } finally {
    for (const b of blocks) a.free(b);
  }
}
