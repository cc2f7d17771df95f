import { init, type Runtime } from '../ts/runtime/index.js';
import { GEMM_ARGS } from '../ts/runtime/abi.js';
import type { Ptr } from '../ts/runtime/arena.js';

export const BUILDS = ['simd', 'scalar'] as const;
export type Build = (typeof BUILDS)[number];

export async function runtimeFor(build: Build): Promise<Runtime> {
  return init({ simd: build === 'simd' });
}

/** Copies `data` into a fresh block surrounded by `guard` floats of NaN on each side. */
export function put(rt: Runtime, data: ArrayLike<number>, guard = 0): { ptr: Ptr; base: Ptr; n: number; guard: number } {
  const base = rt.arena.allocF32(data.length + 2 * guard);
  const f = rt.arena.f32;
  const i0 = base >> 2;
  f.fill(NaN, i0, i0 + data.length + 2 * guard);
  f.set(data, i0 + guard);
  return { ptr: (base + guard * 4) as Ptr, base, n: data.length, guard };
}

export function get(rt: Runtime, ptr: Ptr, n: number): Float32Array {
  return rt.arena.readF32(ptr, n);
}

/** Calls the gemm (or gemm_ref) export through its argument record. */
export function gemmCall(
  rt: Runtime,
  which: 'gemm' | 'gemm_ref',
  a: { m: number; n: number; k: number; A: Ptr; rsa: number; csa: number; B: Ptr; rsb: number; csb: number; C: Ptr; rsc: number; beta: number; bias: Ptr | 0; act: number },
): number {
  const args = rt.arena.alloc(GEMM_ARGS.size);
  const v = rt.arena.view;
  const G = GEMM_ARGS;
  v.setUint32(args + G.m, a.m, true);
  v.setUint32(args + G.n, a.n, true);
  v.setUint32(args + G.k, a.k, true);
  v.setUint32(args + G.a, a.A, true);
  v.setInt32(args + G.rsa, a.rsa, true);
  v.setInt32(args + G.csa, a.csa, true);
  v.setUint32(args + G.b, a.B, true);
  v.setInt32(args + G.rsb, a.rsb, true);
  v.setInt32(args + G.csb, a.csb, true);
  v.setUint32(args + G.c, a.C, true);
  v.setInt32(args + G.rsc, a.rsc, true);
  v.setFloat32(args + G.beta, a.beta, true);
  v.setUint32(args + G.bias, a.bias, true);
  v.setUint32(args + G.act, a.act, true);
  v.setUint32(args + G.ws, rt.ws, true);
  const r = rt.k[which](args);
  rt.arena.free(args);
  return r;
}
