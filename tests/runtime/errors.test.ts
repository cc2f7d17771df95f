// Typed errors from the loader (issue 13: R15 for init, R16 for compile failures) and the arena's
// test-only guard-band mode.
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rejection, thrown } from '../helpers.js';
import * as W from '../../ts/index.js';
import { OptionError, RuntimeSupportError, Sequential, WasmfitError, adam, batchNorm, dense, dropout, getRuntime, init } from '../../ts/index.js';
import { ACT_CODE } from '../../ts/runtime/abi.js';
import { GUARD_BYTES, GuardBandError, type Ptr } from '../../ts/runtime/arena.js';
import { createRuntime } from '../../ts/runtime/loader.js';

const scalarBytes = () => readFileSync(new URL('../../build/wasmfit-scalar.wasm', import.meta.url));



afterEach(() => {
  vi.restoreAllMocks();
});

describe('init options (R15, R16)', () => {
  it('refuses options that are not an object, with OptionError', async () => {
    for (const bad of [null, [], 5, 'simd', true]) {
      const e = await rejection(init(bad as never));
      expect(e).toBeInstanceOf(OptionError);
      expect((e as OptionError).option).toBe('options');
      expect(e.message).toMatch(/init: options = .*; expected an object with the options simd, wasm, initialPages/);
    }
    // nothing (or undefined) is the default
    expect((await init(undefined)).simd).toBe(true);
  });

  it('refuses unknown option keys, listing the valid ones and the near miss', async () => {
    const e = await rejection(init({ initalPages: 4096 } as never));
    expect(e).toBeInstanceOf(OptionError);
    expect((e as OptionError).option).toBe('initalPages');
    expect(e.message).toMatch(/init: unknown option 'initalPages'; known options are simd, wasm, initialPages, fma, reproducible, threads\. Did you mean 'initialPages'\?/);
    const e2 = await rejection(init({ simd: true, guardBands: true } as never));
    expect((e2 as OptionError).option).toBe('guardBands');
    const e3 = await rejection(init({ SIMD: false } as never));
    expect(e3.message).toMatch(/Did you mean 'simd'/);
    // valid keys still work, and the current runtime was not changed by the refusals
    expect(getRuntime().simd).toBe(true);
  });

  it('refuses a wasm option of the wrong type with OptionError', async () => {
    for (const bad of [42, null, { bytes: 1 }]) {
      const e = await rejection(init({ wasm: bad as never }));
      expect(e).toBeInstanceOf(OptionError);
      expect((e as OptionError).option).toBe('wasm');
    }
  });
});

describe('compile and instantiate failures (R16)', () => {
  it('corrupt module bytes: RuntimeSupportError naming the Content-Security-Policy requirement, the CompileError as cause', async () => {
    const e = await rejection(init({ wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]) }));
    expect(e).toBeInstanceOf(RuntimeSupportError);
    expect((e as WasmfitError).code).toBe('E_RUNTIME_SUPPORT');
    expect(e.message).toMatch(/^init: compiling the WebAssembly module passed as init\(\{ wasm \}\) failed \(CompileError: /);
    expect(e.message).toMatch(/Content-Security-Policy/);
    expect(e.message).toMatch(/'wasm-unsafe-eval'/);
    expect(e.message).toMatch(/not a valid wasmfit kernel module/);
    expect((e as { cause?: unknown }).cause).toBeInstanceOf(WebAssembly.CompileError);
    // a bad URL's bytes too
    const e2 = await rejection(init({ wasm: new URL('../../package.json', import.meta.url) }));
    expect(e2).toBeInstanceOf(RuntimeSupportError);
    expect(e2.message).toMatch(/'wasm-unsafe-eval'/);
    const e3 = await rejection(init({ wasm: new URL('../../no-such-module.wasm', import.meta.url) }));
    expect(e3).toBeInstanceOf(RuntimeSupportError);
    expect(e3.message).toMatch(/reading the module from file:.*no-such-module\.wasm failed/);
  });

  it("a CSP that forbids WebAssembly (the browser's CompileError): RuntimeSupportError saying to allow 'wasm-unsafe-eval'; not cached", async () => {
    const csp = new WebAssembly.CompileError(
      "WebAssembly.compile(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\".",
    );
    const spy = vi.spyOn(WebAssembly, 'compile').mockRejectedValue(csp);
    // the embedded module (this test file has not compiled the scalar one yet) and custom bytes
    for (const opts of [{ simd: false }, { wasm: scalarBytes() }]) {
      const e = await rejection(init(opts));
      expect(e).toBeInstanceOf(RuntimeSupportError);
      expect(e.message).toMatch(/Content Security Policy directive/);
      expect(e.message).toMatch(/A page with a strict Content-Security-Policy must allow WebAssembly: add 'wasm-unsafe-eval' to its script-src directive/);
      expect(e.message).not.toMatch(/not a valid wasmfit kernel module/); // the cause is known
    }
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    // the failed compile was not remembered: once allowed, the same call works
    const rt = await init({ simd: false });
    expect(rt.simd).toBe(false);
    await init();
  });

  it('a LinkError at instantiation: RuntimeSupportError with the same hint', async () => {
    const m = binaryen.parseText('(module (import "env" "no_such_function" (func $f)) (func (export "g") (call $f)))');
    const bytes = m.emitBinary();
    m.dispose();
    const e = await rejection(init({ wasm: bytes }));
    expect(e).toBeInstanceOf(RuntimeSupportError);
    expect(e.message).toMatch(/^init: instantiating the kernel module failed \(LinkError: /);
    expect(e.message).toMatch(/'wasm-unsafe-eval'/);
    expect((e as { cause?: unknown }).cause).toBeInstanceOf(WebAssembly.LinkError);
    expect(getRuntime().simd).toBe(true);
  });
});

describe('guard-band arena (test-only)', () => {
  it('a model trains, predicts and is disposed on a guarded runtime with every band intact, bit-identically to an unguarded one', async () => {
    const run = async (guardBands: boolean) => {
      const rt = await createRuntime({ guardBands });
      expect(rt.arena.guardBands).toBe(guardBands);
      const m = new Sequential({ inputShape: [5], layers: [dense(8, { activation: 'relu' }), batchNorm(), dropout(0.2), dense(3)], seed: 3, runtime: rt });
      // (no clipping: with batch norm it reads and writes past the γ-gradient until the clip_gradients fix)
      m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
      const x = new Float32Array(40 * 5).map((_, i) => Math.sin(i));
      const y = Int32Array.from({ length: 40 }, (_, i) => i % 3);
      const h = await m.fit(x, y, { epochs: 2, batchSize: 8, validationSplit: 0.2 });
      const out = { loss: h.history.loss, weights: m.getWeights().map((w) => Array.from(w.data)), pred: Array.from(m.predict(x).data) };
      if (guardBands) {
        expect(rt.arena.checkGuards()).toBeGreaterThan(5);
        expect(rt.arena.checkFreed()).toBeGreaterThan(0);
      }
      m.dispose();
      if (guardBands) {
        expect(rt.arena.checkGuards()).toBe(1); // the GEMM workspace
        rt.arena.checkFreed();
      }
      return out;
    };
    // fresh blocks hold canary words, not zeros, on a guarded runtime: nothing may depend on that
    expect(await run(true)).toEqual(await run(false));
  });

  it('finds a kernel that writes one float past its buffer (the band after)', async () => {
    const rt = await createRuntime({ guardBands: true });
    const n = 7;
    const p = rt.arena.allocF32(n);
    rt.arena.writeF32(p, [1, -2, 3, -4, 5, -6, 7]);
    const other = rt.arena.allocF32(4);
    rt.arena.checkGuards();
    rt.kernels.actForward(ACT_CODE.relu, p, n + 1, 0); // one element too many
    const e = thrown(() => rt.arena.checkGuards());
    expect(e).toBeInstanceOf(GuardBandError);
    const g = e as GuardBandError;
    expect(g.code).toBe('E_GUARD_BAND');
    expect(g.ptr).toBe(p);
    expect(g.bytes).toBe(n * 4);
    expect(g.side).toBe('after');
    expect(g.address).toBe(p + n * 4);
    expect(g.message).toMatch(/guard band after block \d+ \(28 bytes\) was overwritten at address \d+ \(0 bytes past its end\)/);
    void other;
  });

  it('catches clamping and rescaling writes that a NaN-only canary would miss, writes before a block, and into alignment padding', async () => {
    const rt = await createRuntime({ guardBands: true });
    const a = rt.arena;
    // a clip of the 16 floats after a block to ±1e-3: NaN words stay NaN, the finite ones change
    const p = a.allocF32(4);
    const f = a.f32;
    const i0 = (p >>> 2) + 4;
    // (like a scalar `if x > c { c } else if x < -c { -c } else { x }`, which keeps a NaN's bits)
    const clip = (v: number) => (v > 1e-3 ? 1e-3 : v < -1e-3 ? -1e-3 : v);
    for (let i = i0; i < i0 + 16; i++) f[i] = clip(f[i]!);
    let e = thrown(() => a.checkGuards()) as GuardBandError;
    expect(e).toBeInstanceOf(GuardBandError);
    expect(e.side).toBe('after');
    expect(e.ptr).toBe(p);
    expect(new Uint32Array(a.memory.buffer)[i0]).toBe(0x7fc0dead); // the NaN word survived the clip
    expect(e.address).toBe(p + 16 + 4); // the first finite word was clipped

    // a rescale by 0.5 of the band before another block (on a fresh runtime)
    const rt2 = await createRuntime({ guardBands: true });
    const q = rt2.arena.allocF32(8);
    const f2 = rt2.arena.f32;
    for (let i = (q >>> 2) - GUARD_BYTES / 4; i < q >>> 2; i++) f2[i] = f2[i]! * 0.5;
    e = thrown(() => rt2.arena.checkGuards()) as GuardBandError;
    expect(e.side).toBe('before');
    expect(e.ptr).toBe(q);

    // 6 bytes asked: a write at byte 8 is in the 16-byte alignment padding, still outside the block
    const rt3 = await createRuntime({ guardBands: true });
    const r = rt3.arena.alloc(6);
    rt3.arena.u8[r + 5] = 1; // inside
    rt3.arena.checkGuards();
    rt3.arena.u8[r + 8] = 1;
    e = thrown(() => rt3.arena.checkGuards()) as GuardBandError;
    expect(e.side).toBe('after');
    expect(e.address).toBe(r + 8);
  });

  it('checkGuards reports a block whose band was broken before it was freed; checkFreed finds a write after free', async () => {
    const rt = await createRuntime({ guardBands: true });
    const a = rt.arena;
    const p = a.allocF32(4);
    a.f32[(p >>> 2) + 4] = 0; // past the end
    a.free(p); // the free itself succeeds (a dispose chain is never cut short)
    const e = thrown(() => a.checkGuards()) as GuardBandError;
    expect(e.ptr).toBe(p);
    expect(e.side).toBe('after');

    const rt2 = await createRuntime({ guardBands: true });
    const b = rt2.arena.allocF32(16);
    const keep = rt2.arena.allocF32(16);
    rt2.arena.free(b);
    rt2.arena.checkFreed();
    rt2.arena.f32[(b >>> 2) + 3] = 42; // use after free
    const e2 = thrown(() => rt2.arena.checkFreed()) as GuardBandError;
    expect(e2).toBeInstanceOf(GuardBandError);
    expect(e2.side).toBe('freed');
    expect(e2.address).toBe(b + 12);
    expect(rt2.arena.checkGuards()).toBe(2); // live blocks are fine
    void keep;
  });

  it('guard-band checks need a guarded runtime; GuardBandError and createRuntime are not public', async () => {
    const rt = await createRuntime();
    expect(rt.arena.guardBands).toBe(false);
    expect(() => rt.arena.checkGuards()).toThrow(OptionError);
    expect(() => rt.arena.checkFreed()).toThrow(/guardBands: true/);
    expect('GuardBandError' in W).toBe(false);
    expect('createRuntime' in W).toBe(false);
    expect('MemoryError' in W).toBe(true);
    await expect(createRuntime({ guardBands: 'yes' } as never)).rejects.toThrow(OptionError);
    await expect(createRuntime({ gardBands: true } as never)).rejects.toThrow(/Did you mean 'guardBands'/);
    // a guarded runtime is its own memory: the shared one is untouched
    const g = await createRuntime({ guardBands: true });
    expect(g.arena).not.toBe((await init()).arena);
    const pp: Ptr = g.arena.alloc(4);
    g.arena.free(pp);
  });
});

describe('the kernel module contract', () => {
  it('every function the library calls is checked when the module loads: a module lacking one is refused, naming it', async () => {
    const { KERNEL_FUNCTIONS } = await import('../../ts/runtime/abi.js');
    const mod = await WebAssembly.compile(scalarBytes());
    const exported = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
    for (const n of KERNEL_FUNCTIONS) expect(exported.has(n), n).toBe(true);
    // the same module with one export renamed (same length, so the binary stays valid)
    const bytes = new Uint8Array(scalarBytes());
    const from = new TextEncoder().encode('vec_add_sign');
    const to = new TextEncoder().encode('vec_add_sigX');
    let renamed = 0;
    for (let i = 0; i + from.length <= bytes.length; i++) {
      if (from.every((b, j) => bytes[i + j] === b)) {
        bytes.set(to, i);
        renamed++;
      }
    }
    expect(renamed).toBeGreaterThan(0);
    const e = await createRuntime({ wasm: bytes }).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(RuntimeSupportError);
    expect((e as Error).message).toMatch(/lacks the export 'vec_add_sign'/);
  });
});
