import { NonFiniteError, OptionError, ShapeError } from '../errors/index.js';
import { OPT_ARGS } from '../runtime/abi.js';
import type { Ptr } from '../runtime/arena.js';
import { getRuntime } from '../runtime/loader.js';
import { checkStatus } from '../runtime/status.js';
import type { OptimizerConfig, OptimizerState } from './types.js';
import { slotInit, stateSlots, writeStep, writeTemplate } from './record.js';

type Tensors = Float32Array | readonly Float32Array[];
const list = (t: Tensors): readonly Float32Array[] => (t instanceof Float32Array ? [t] : t);

/** `opt.init(params)`: zeroed state (AdaGrad: `initialAccumulatorValue`). */
export function initState(c: OptimizerConfig, params: Tensors): OptimizerState {
  const ps = list(params);
  ps.forEach((p, i) => {
    if (!(p instanceof Float32Array)) throw new ShapeError(`${c.type}.init: params[${i}] is not a Float32Array.`);
  });
  const need = stateSlots(c);
  return { step: 0, slots: ps.map((p) => need.map((n, s) => (n ? new Float32Array(p.length).fill(slotInit(c, s)) : null))) };
}

/**
 * `opt.update(params, grads, state)`: one fused update of every tensor in place, with the same
 * WASM kernel `fit` uses. Gradients are clipped first (Keras order: `clipNorm`, `globalClipNorm`,
 * `clipValue`, norms in f64). Everything is validated before anything is written.
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
  const need = stateSlots(c);
  ps.forEach((p, i) => {
    const g = gs[i]!;
    if (!(p instanceof Float32Array) || !(g instanceof Float32Array) || g.length !== p.length) {
      throw new ShapeError(`${W}: tensor ${i} has ${p?.length} parameters and ${g?.length} gradients; they must be Float32Arrays of equal length.`);
    }
    for (let j = 0; j < g.length; j++) {
      if (g[j]! - g[j]! !== 0) throw new NonFiniteError(`${W}: gradient ${i} holds ${g[j]} at ${j}; gradients must be finite.`);
    }
    need.forEach((n, s) => {
      const slot = state.slots[i]![s];
      if (n && (!(slot instanceof Float32Array) || slot.length !== p.length)) throw new OptionError('state', `${W}: state slot ${s} of tensor ${i} is missing or has the wrong length; create the state with opt.init(params).`);
    });
  });
  // clipping on copies (the caller's gradients are not modified)
  const cg = gs.map((g) => Float32Array.from(g));
  const norm = (g: Float32Array) => Math.sqrt(g.reduce((a, v) => a + v * v, 0));
  if (c.clipNorm > 0) for (const g of cg) { const n = norm(g); if (n > c.clipNorm) { const f = Math.fround(c.clipNorm / n); g.forEach((v, i) => (g[i] = v * f)); } }
  if (c.globalClipNorm > 0) {
    const n = Math.sqrt(cg.reduce((a, g) => a + norm(g) ** 2, 0));
    if (n > c.globalClipNorm) { const f = Math.fround(c.globalClipNorm / n); for (const g of cg) g.forEach((v, i) => (g[i] = v * f)); }
  }
  if (c.clipValue > 0) for (const g of cg) g.forEach((v, i) => (g[i] = Math.max(-c.clipValue, Math.min(c.clipValue, v))));

  const rt = getRuntime();
  const a = rt.arena;
  const t = state.step + 1;
  const args = a.alloc(OPT_ARGS.size);
  const blocks: Ptr[] = [args];
  try {
    writeTemplate(a.view, args, c);
    writeStep(a.view, args, c, t, lr);
    // every tensor is updated on copies first; the caller's arrays change only when all are finite
    const results: { w: Float32Array; s: (Float32Array | null)[] }[] = [];
    ps.forEach((p, i) => {
      const n = p.length;
      const wp = a.allocF32(n);
      const gp = a.allocF32(n);
      blocks.push(wp, gp);
      a.writeF32(wp, p);
      a.writeF32(gp, cg[i]!);
      const sp = need.map((nd, s) => {
        if (!nd) return 0;
        const q = a.allocF32(n);
        blocks.push(q);
        a.writeF32(q, state.slots[i]![s]!);
        return q;
      });
      const v = a.view;
      v.setUint32(args + OPT_ARGS.n, n, true);
      v.setUint32(args + OPT_ARGS.w, wp, true);
      v.setUint32(args + OPT_ARGS.g, gp, true);
      v.setUint32(args + OPT_ARGS.s1, sp[0]!, true);
      v.setUint32(args + OPT_ARGS.s2, sp[1]!, true);
      v.setUint32(args + OPT_ARGS.s3, sp[2]!, true);
      checkStatus(rt.kernels.optimizerUpdate(args), W, () => ({ tensor: `parameter tensor ${i} (or its optimizer state)`, kept: 'the parameters and the optimizer state were left unchanged' }));
      results.push({ w: a.readF32(wp, n), s: sp.map((q) => (q ? a.readF32(q as Ptr, n) : null)) });
    });
    results.forEach((r, i) => {
      ps[i]!.set(r.w);
      r.s.forEach((q, s) => {
        if (q) state.slots[i]![s]!.set(q);
      });
    });
    state.step = t;
  } finally {
    for (const b of blocks) a.free(b);
  }
}
