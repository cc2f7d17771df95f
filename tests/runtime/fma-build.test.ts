// The FMA build's post-link pass (scripts/fuse-madd.mjs): it fuses exactly the GEMM micro-kernel's
// accumulator updates, leaves every other instruction of the module as it was, and fails the build
// loudly when the kernel's shape is not what it expects.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fmaSupported as fmaSupportedNow } from '../../ts/runtime/loader.js';
// @ts-expect-error plain ESM script without types
import { applyPatch as applyPatchJs, fuseText } from '../../scripts/fuse-madd.mjs';

const fmaSupportedHere = fmaSupportedNow();
const fuse = fuseText as (text: string, expected?: number) => { text: string; fused: number };
const applyPatch = applyPatchJs as (bytes: Uint8Array, patch: Uint8Array) => Uint8Array;
const bin = join(process.cwd(), 'node_modules', '.bin');
const dis = (f: string): string => execFileSync(join(bin, 'wasm-dis'), [f], { encoding: 'utf8', maxBuffer: 1 << 28 });

/** Instruction (and other atom) counts of a binaryen text module. */
function histogram(text: string): Map<string, number> {
  const h = new Map<string, number>();
  for (const m of text.matchAll(/\(([a-z0-9_.]+)/g)) h.set(m[1]!, (h.get(m[1]!) ?? 0) + 1);
  return h;
}

const update = (acc: string, a: string, b: string): string => `(local.set ${acc} (f32x4.add (local.get ${acc}) (f32x4.mul (local.get ${a}) (local.get ${b}))))`;
const kernelLoop = (n: number, splat = true): string =>
  `(loop $l ${splat ? '(local.set $9 (v128.load32_splat (local.get $0)))' : ''} ${Array.from({ length: n }, (_, i) => update(`$${10 + i}`, '$8', '$9')).join(' ')} (br_if $l (local.get $1)))`;
const SIMD_ENABLED = ' (func $se (result i32)\n  (i32.const 1)\n )\n (export "simd_enabled" (func $se))\n';
const mod = (...bodies: string[]): string => `(module\n${bodies.map((b, i) => ` (func $${i} (param $0 i32) (param $1 i32)\n  ${b}\n )`).join('\n')}\n${SIMD_ENABLED})\n`;

describe('fuse-madd pass', () => {
  it('rewrites the 8 updates of the one splat loop and nothing else, and marks the module', () => {
    const other = `(loop $o ${update('$10', '$8', '$9')} (br_if $o (local.get $1)))`; // no splat: not the kernel
    const { text, fused } = fuse(mod(kernelLoop(8), other));
    expect(fused).toBe(8);
    expect(text.match(/\(nop\) \(nop\) \(nop\) \(local\.set \$1\d \(f32x4\.relaxed_madd \(local\.get \$8\) \(local\.get \$9\) \(local\.get \$1\d\)\)\)/g)).toHaveLength(8);
    expect(text).toContain(`(func $1 (param $0 i32) (param $1 i32)\n  ${other}`);
    expect(text).toContain(' (func $se (result i32)\n  (i32.const 2)\n )\n (export "simd_enabled" (func $se))\n'); // the FMA build's mark
  });

  it('fails loudly when the kernel changed shape', () => {
    expect(() => fuse(mod(kernelLoop(8, false)))).toThrow(/found 0; crates\/kernels\/src\/gemm.rs changed shape/);
    expect(() => fuse(mod(kernelLoop(8), kernelLoop(8)))).toThrow(/expected exactly one GEMM micro-kernel loop .* found 2/);
    expect(() => fuse(mod(kernelLoop(6)))).toThrow(/has 6 f32x4 accumulator updates, expected 8/);
    const writesAcc = `(loop $l (local.set $9 (v128.load32_splat (local.get $0))) (local.set $10 (f32x4.add (local.get $10) (f32x4.mul (local.tee $10 (local.get $8)) (local.get $9)))) (br_if $l (local.get $1)))`;
    expect(() => fuse(mod(writesAcc), 1)).toThrow(/writes the accumulator \$10/);
    // simd_enabled shared with another export (as duplicate-function elimination could make it)
    expect(() => fuse(mod(kernelLoop(8)).replace('(export "simd_enabled"', '(export "other" (func $se)) (export "simd_enabled"'))).toThrow(/used 1 more time/);
  });

  for (const [from, to] of [['simd', 'fma'], ['simd-threads', 'fma-threads']]) {
    it(`the built ${to} module is the ${from} module with 8 mul+add pairs fused, nothing else changed`, () => {
      const simd = readFileSync(join('build', `wasmfit-${from}.wasm`));
      const fma = readFileSync(join('build', `wasmfit-${to}.wasm`));
      expect(fma.length).toBe(simd.length); // same offsets: the loader patches the SIMD128 bytes
      const a = histogram(dis(join('build', `wasmfit-${from}.wasm`)));
      const b = histogram(dis(join('build', `wasmfit-${to}.wasm`)));
      const expected = new Map(a);
      const add = (k: string, d: number): void => void expected.set(k, (expected.get(k) ?? 0) + d);
      add('f32x4.mul', -8);
      add('f32x4.add', -8);
      add('f32x4.relaxed_madd', 8);
      add('nop', 24);
      for (const k of new Set([...expected.keys(), ...b.keys()])) expect([k, b.get(k) ?? 0]).toEqual([k, expected.get(k) ?? 0]);
      let differ = 0;
      for (let i = 0; i < simd.length; i++) if (simd[i] !== fma[i]) differ++;
      expect(differ).toBeLessThan(400); // the 8 rewritten updates and simd_enabled's constant
    });
  }

  it('the embedded patch turns the embedded SIMD128 module into exactly build/wasmfit-fma.wasm', async () => {
    const { FMA_PATCH_BASE64 } = await import('../../ts/runtime/wasm-fma.generated.js');
    const { SIMD_WASM_GZIP_BASE64 } = await import('../../ts/runtime/wasm-simd.generated.js');
    const patch = Buffer.from(FMA_PATCH_BASE64, 'base64');
    expect(patch.length).toBeLessThan(1024);
    const patched = applyPatch(gunzipSync(Buffer.from(SIMD_WASM_GZIP_BASE64, 'base64')), patch);
    expect(Buffer.compare(Buffer.from(patched), readFileSync(join('build', 'wasmfit-fma.wasm')))).toBe(0);
  });
});

// Node >= 22 validates relaxed SIMD natively: there the loader's FMA choice is what
// tests/relaxed-simd/ checks, and this case cannot be set up
describe.skipIf(fmaSupportedHere)('loader without relaxed SIMD (Node 20 without --experimental-wasm-relaxed-simd)', () => {
  it('init() keeps the SIMD128 build; fma: true is refused with what to do, and nothing changes', async () => {
    const { fmaSupported, getRuntime, init } = await import('../../ts/runtime/index.js');
    const { RuntimeSupportError } = await import('../../ts/errors/index.js');
    // the flag would make this test meaningless: it checks the host as vitest's 'node' project runs it
    expect(process.execArgv).not.toContain('--experimental-wasm-relaxed-simd');
    expect(fmaSupported()).toBe(false);
    const rt = await init();
    expect([rt.build, rt.fma, rt.simd]).toEqual(['simd', false, true]);
    const e = await init({ fma: true }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(RuntimeSupportError);
    expect((e as Error).message).toMatch(/does not validate relaxed SIMD .* --experimental-wasm-relaxed-simd/);
    expect(getRuntime()).toBe(rt);
    expect((await init({ simd: false })).build).toBe('scalar');
  });
});
