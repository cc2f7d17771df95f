// The loader (compile once, feature detection, forced builds, bring-your-own module, ABI checks)
// and the arena (alignment, free with coalescing, growth with re-derived views, dispose).
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RuntimeSupportError, Sequential, dense, getRuntime, init, simdSupported } from '../../ts/index.js';
import { ABI_VERSION, expectedLayout } from '../../ts/runtime/abi.js';

/** A module that imports memory and exports what the loader probes, with a chosen ABI answer. */
function fakeModule(version: number, layout: number[] | null): Uint8Array {
  const stores = (layout ?? [])
    .map((v, i) => `(i32.store (i32.add (local.get 0) (i32.const ${i * 4})) (i32.const ${v}))`)
    .join(' ');
  const wat = `(module
    (import "env" "memory" (memory 1))
    (global $hb i32 (i32.const 4096))
    (export "__heap_base" (global $hb))
    (func (export "abi_version") (result i32) (i32.const ${version}))
    (func (export "abi_layout") (param i32 i32) (result i32) ${stores} (i32.const ${layout ? layout.length : 0}))
    (func (export "train_step") (param i32 i32 i32 i32) (result i32) (i32.const 0))
    (func (export "gemm") (param i32) (result i32) (i32.const 0))
    (func (export "simd_enabled") (result i32) (i32.const 0)))`;
  const m = binaryen.parseText(wat);
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

describe('runtime', () => {
  it('init() compiles once and returns the same runtime; picks SIMD where supported', async () => {
    const a = await init();
    const b = await init();
    expect(a).toBe(b);
    expect(getRuntime()).toBe(a);
    expect(simdSupported()).toBe(true); // Node >= 16 supports SIMD128
    expect(a.simd).toBe(true);
  });

  it('init({ simd: false }) forces the scalar build', async () => {
    const s = await init({ simd: false });
    expect(s.simd).toBe(false);
    expect(getRuntime()).toBe(s);
    await init();
  });

  it('accepts the module as bytes, a file URL, or a compiled WebAssembly.Module', async () => {
    const bytes = readFileSync(new URL('../../build/wasmfit-scalar.wasm', import.meta.url));
    const r1 = await init({ wasm: bytes });
    expect(r1.simd).toBe(false);
    const r2 = await init({ wasm: pathToFileURL('build/wasmfit-simd.wasm') });
    expect(r2.simd).toBe(true);
    const r3 = await init({ wasm: new WebAssembly.Module(bytes) });
    expect(r3.simd).toBe(false);
    // each is a working runtime
    const m = new Sequential({ inputShape: [2], layers: [dense(2)], runtime: r3 });
    expect(m.predict([[1, 2]]).shape).toEqual([1, 2]);
    m.dispose();
    await init();
  });

  it('refuses a module with another ABI version, a drifted layout, or missing exports', async () => {
    const layout = expectedLayout();
    await expect(init({ wasm: fakeModule(ABI_VERSION + 1, layout) })).rejects.toThrow(RuntimeSupportError);
    await expect(init({ wasm: fakeModule(ABI_VERSION + 1, layout) })).rejects.toThrow(new RegExp(`ABI version ${ABI_VERSION + 1}; this wasmfit expects ${ABI_VERSION}`));
    const drifted = [...layout];
    drifted[10] = drifted[10]! + 4; // Plan.seed moved
    await expect(init({ wasm: fakeModule(ABI_VERSION, drifted) })).rejects.toThrow(/record layout mismatch at Plan.seed: module says 40, wasmfit expects 36/);
    await expect(init({ wasm: fakeModule(ABI_VERSION, layout.slice(0, 5)) })).rejects.toThrow(/describes 5 layout fields/);
    const m = binaryen.parseText('(module (func (export "f")))');
    const bare = m.emitBinary();
    m.dispose();
    await expect(init({ wasm: bare })).rejects.toThrow(/lacks the export 'abi_version'; it is not a wasmfit kernel module/);
    // the current runtime is untouched by failed inits
    expect(getRuntime().simd).toBe(true);
  });

  it('rejects invalid init options', async () => {
    await expect(init({ simd: 'yes' as never })).rejects.toThrow(/option simd/);
    await expect(init({ initialPages: 0 })).rejects.toThrow(/initialPages/);
  });
});

describe('arena', () => {
  it('hands out 16-byte aligned, non-overlapping blocks and coalesces on free', async () => {
    const rt = await init({ simd: false, initialPages: 16 });
    const a = rt.arena;
    const base = a.bytesInUse;
    const ptrs = [1, 3, 17, 64, 5].map((n) => a.alloc(n));
    for (const p of ptrs) expect(p % 16).toBe(0);
    const sorted = [...ptrs].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(16);
    for (const p of ptrs) a.free(p);
    expect(a.bytesInUse).toBe(base);
    // after coalescing, one large block fits where the small ones were
    const big = a.alloc(16 * 5);
    expect(big).toBe(sorted[0]);
    a.free(big);
    expect(() => a.free(big)).toThrow(/double free/);
  });

  it('grows memory on demand and re-derives views; data survives growth', async () => {
    const rt = await init({ simd: false, initialPages: 16 });
    const a = rt.arena;
    const before = a.memory.buffer.byteLength;
    const p = a.allocF32(4);
    a.writeF32(p, [1, 2, 3, 4]);
    const oldView = a.f32;
    const huge = a.allocF32(4 * 1024 * 1024); // 16 MiB
    expect(a.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(oldView.buffer).not.toBe(a.f32.buffer); // old view detached, a fresh one is handed out
    expect(Array.from(a.readF32(p, 4))).toEqual([1, 2, 3, 4]);
    a.f32[(huge >> 2) + 4 * 1024 * 1024 - 1] = 7; // last float of the block is addressable
    a.free(huge);
    a.free(p);
  });

  it('dispose() returns every block a model held', async () => {
    const rt = await init();
    const base = rt.arena.bytesInUse;
    const m = new Sequential({ inputShape: [30], layers: [dense(20, { activation: 'relu' }), dense(4)] });
    m.predict(new Float32Array(30 * 7)); // compiles a plan too
    expect(rt.arena.bytesInUse).toBeGreaterThan(base);
    m.dispose();
    expect(rt.arena.bytesInUse).toBe(base);
  });
});
