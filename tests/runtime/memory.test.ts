// WASM memory limits (issue 13, defect 4; repros R06, R07, R08): memory that cannot grow gives a
// typed MemoryError naming the bytes asked and the wasm32 4 GiB ceiling; growth is clamped at the
// ceiling; pointers above 2 GiB work; after a failure the runtime stays usable. The big memories
// are made with large arena blocks that nothing writes (the host commits untouched pages lazily),
// so each test takes seconds and little RAM; every test uses its own runtime, dropped at the end.
import { describe, expect, it } from 'vitest';
import { MemoryError, Sequential, WasmfitError, adam, dense, init, sgd, type Runtime } from '../../ts/index.js';
import { createRuntime } from '../../ts/runtime/loader.js';
import type { Ptr } from '../../ts/runtime/arena.js';
import { softmaxCrossEntropy } from '../../ts/kernels/index.js';
import { tinyModel } from '../helpers.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const CEILING = 4 * GiB;

function expectMemoryError(f: () => unknown): MemoryError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a MemoryError').toBeInstanceOf(MemoryError);
  const e = caught as MemoryError;
  expect(e).toBeInstanceOf(WasmfitError);
  expect(e.code).toBe('E_MEMORY');
  expect(e.name).toBe('MemoryError');
  return e;
}

/** Allocates (never writes) blocks of halving size until less than 64 KiB below 4 GiB is left. */
function fillToCeiling(rt: Runtime): Ptr[] {
  const blocks: Ptr[] = [];
  for (let s = 2 * GiB; s >= 64 * 1024; ) {
    try {
      blocks.push(rt.arena.alloc(s));
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      s /= 2;
    }
  }
  return blocks;
}

/** A small classifier trained for 2 epochs; returns its weights and predictions. */
async function trainSmall(rt: Runtime): Promise<{ weights: number[][]; pred: number[] }> {
  const { model: m, x, y } = tinyModel({ inputSize: 6, hidden: 16, seed: 7, runtime: rt, optimizer: adam({ lr: 0.01 }), rows: 48, features: (i) => Math.sin(i * 0.37) });
  try {
    await m.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 } as never);
    return { weights: m.getWeights().map((w) => Array.from(w.data)), pred: Array.from(m.predict(x).data) };
  } finally {
    m.dispose();
  }
}

describe('WASM memory limits (R06, R07, R08)', () => {
  it('R07: a model larger than wasm32 memory gives MemoryError naming the bytes and the 4 GiB ceiling; nothing is committed', async () => {
    const rt = await init();
    const before = rt.memoryStats();
    const e = expectMemoryError(() => new Sequential({ inputShape: [100000], layers: [dense(100000)] }));
    // the first block is the 100000 x 100000 kernel
    expect(e.requestedBytes).toBe(100000 * 100000 * 4);
    expect(e.limitBytes).toBe(CEILING);
    expect(e.committedBytes).toBe(before.committedBytes);
    expect(e.inUseBytes).toBe(before.inUseBytes);
    expect(e.message).toMatch(/40,000,000,000 bytes/);
    expect(e.message).toMatch(/4 GiB/);
    expect(e.message).toMatch(/dispose/i);
    expect(e.message).toMatch(/smaller model or batch size/);
    // nothing grew, nothing leaked, the runtime works
    expect(rt.memoryStats().committedBytes).toBe(before.committedBytes);
    expect(rt.memoryStats().inUseBytes).toBe(before.inUseBytes);
    const m = new Sequential({ inputShape: [4], layers: [dense(2)] });
    expect(m.predict(new Float32Array(4)).shape).toEqual([1, 2]);
    m.dispose();
  });

  it('R07: a single block of more than 4 GiB, or one that cannot fit beside what is committed, is a MemoryError', async () => {
    const rt = await createRuntime();
    expectMemoryError(() => rt.arena.alloc(5 * GiB));
    expectMemoryError(() => rt.arena.alloc(CEILING));
    const e = expectMemoryError(() => rt.arena.allocF32(2 ** 30 + 1));
    expect(e.requestedBytes).toBe(4 * (2 ** 30 + 1));
    expect(rt.memoryStats().committedBytes).toBeLessThan(64 * MiB);
  });

  it('R06: a model whose blocks lie above 2 GiB trains bit-identically to one at low addresses', async () => {
    const baseline = await trainSmall(await createRuntime());
    const rt = await createRuntime();
    const filler = rt.arena.alloc(2 * GiB + 256 * MiB); // never written
    const probe = rt.arena.alloc(16);
    expect(probe).toBeGreaterThan(2 ** 31); // the next blocks are above 2 GiB
    rt.arena.free(probe);
    const high = await trainSmall(rt);
    expect(high).toEqual(baseline);
    rt.arena.free(filler);
  }, 20000);

  it('R06: above 2 GiB, a model that does not fit gives MemoryError, frees its partial blocks, and later models work', async () => {
    const baseline = await trainSmall(await createRuntime());
    const rt = await createRuntime();
    const filler = rt.arena.alloc(2 * GiB + 256 * MiB);
    const before = rt.memoryStats();
    // the first layer fits (and is allocated and initialized), the second layer's kernel does not
    const e = expectMemoryError(() => new Sequential({ inputShape: [4], layers: [dense(1000), dense(600000)], runtime: rt }));
    expect(e.requestedBytes).toBe(1000 * 600000 * 4);
    expect(e.limitBytes).toBe(CEILING);
    expect(e.message).toMatch(/2,400,000,000 bytes/);
    expect(rt.memoryStats().inUseBytes).toBe(before.inUseBytes);
    // the runtime stays usable: several new models in a row, bit-identical to a fresh runtime
    for (let i = 0; i < 3; i++) expect(await trainSmall(rt)).toEqual(baseline);
    expect(rt.memoryStats().inUseBytes).toBe(before.inUseBytes);
    rt.arena.free(filler);
  }, 20000);

  it('R06: a compile or predict that does not fit gives MemoryError and leaves the model working', async () => {
    const rt = await createRuntime();
    const m = new Sequential({ inputShape: [600], layers: [dense(64, { activation: 'relu' }), dense(3)], seed: 7, runtime: rt });
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    const x = new Float32Array(4 * 600).map((_, i) => Math.cos(i));
    const good = Array.from(m.predict(x).data);
    const filler = fillToCeiling(rt);
    expect(rt.memoryStats().committedBytes).toBe(CEILING);
    // Adam's state for 38,659 parameters (2 x 155 KB) does not fit in what is left
    expectMemoryError(() => m.compile({ optimizer: adam({ lr: 0.1 }), loss: 'softmaxCrossEntropy' }));
    // 100,000 rows need a 240 MB input buffer
    expectMemoryError(() => m.predict(new Float32Array(100000 * 600)));
    expect(Array.from(m.predict(x).data)).toEqual(good);
    for (const p of filler) rt.arena.free(p);
    m.compile({ optimizer: adam({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    expect(Array.from(m.predict(x).data)).toEqual(good);
    m.dispose();
  }, 20000);

  it('R08: memory filled by leaked models ends in MemoryError close to the 4 GiB ceiling (growth is clamped, not geometric past it); after dispose new models work', async () => {
    const rt = await createRuntime();
    const leaked: Ptr[] = [];
    const step = 192 * MiB; // a "leaked model" that nothing writes
    let err: MemoryError | null = null;
    for (let i = 0; i < 64 && !err; i++) {
      try {
        leaked.push(rt.arena.alloc(step));
      } catch (e) {
        err = expectMemoryError(() => {
          throw e;
        });
      }
    }
    expect(err).not.toBeNull();
    const e = err!;
    expect(e.requestedBytes).toBe(step);
    expect(e.limitBytes).toBe(CEILING);
    expect(e.inUseBytes).toBe(rt.memoryStats().inUseBytes);
    expect(e.committedBytes).toBe(rt.memoryStats().committedBytes);
    expect(e.committedBytes).toBeLessThanOrEqual(CEILING);
    // clamped growth: the allocations filled memory to within one block of the ceiling
    expect(e.inUseBytes).toBeGreaterThan(CEILING - 2 * step);
    expect(e.message).toMatch(/201,326,592 bytes/);
    expect(e.message).toMatch(/4 GiB/);
    expect(e.message).toMatch(/in use/);
    // a small model does not fit either, with the same typed error (not a RangeError)
    const small = () => new Sequential({ inputShape: [784], layers: [dense(65536)], runtime: rt });
    expectMemoryError(small);
    // dispose the leaked models but the first 12 (2.25 GiB): the next ones land above 2 GiB
    const baseline = await trainSmall(await createRuntime());
    for (const p of leaked.splice(12)) rt.arena.free(p);
    expect(await trainSmall(rt)).toEqual(baseline);
    for (const p of leaked) rt.arena.free(p);
  }, 20000);

  it('growth near the ceiling is clamped: a block that fits below 4 GiB is allocated even when the geometric step would pass it', async () => {
    const rt = await createRuntime();
    const big = rt.arena.alloc(3 * GiB + 512 * MiB); // committed is now about 3.5 GiB
    const committed = rt.memoryStats().committedBytes;
    expect(committed + committed / 4).toBeGreaterThan(CEILING); // the geometric step would not fit
    const p = rt.arena.alloc(300 * MiB);
    expect(rt.memoryStats().committedBytes).toBeLessThanOrEqual(CEILING);
    // the rest fills up to exactly 4 GiB; the last word below the ceiling is addressable
    const rest = fillToCeiling(rt);
    expect(rt.memoryStats().committedBytes).toBe(CEILING);
    rt.arena.f32[CEILING / 4 - 1] = 1.5;
    expect(rt.arena.readF32((CEILING - 4) as Ptr, 1)[0]).toBe(1.5);
    for (const q of [...rest, p, big]) rt.arena.free(q);
  }, 20000);

  it('a host that refuses to grow gives MemoryError (limit = what is committed); a refused geometric step falls back to the minimum', async () => {
    const rt = await createRuntime();
    const mem = rt.arena.memory as WebAssembly.Memory & { grow(pages: number): number };
    const realGrow = mem.grow.bind(mem);
    const asked: number[] = [];
    try {
      // refuses everything
      mem.grow = (pages: number) => {
        asked.push(pages);
        throw new RangeError('WebAssembly.Memory.grow(): Unable to grow instance memory');
      };
      const committed = rt.memoryStats().committedBytes;
      const e = expectMemoryError(() => rt.arena.alloc(64 * MiB));
      expect(e.limitBytes).toBe(committed);
      expect(e.message).toMatch(/host refused/);
      expect(e.message).toMatch(/4 GiB/);
      // refuses more than the minimum only
      mem.grow = realGrow;
      rt.arena.alloc(256 * MiB); // committed is now about 260 MiB; a quarter of it is 1040 pages
      asked.length = 0;
      mem.grow = (pages: number) => {
        asked.push(pages);
        if (pages > 100) throw new RangeError('WebAssembly.Memory.grow(): Unable to grow instance memory');
        return realGrow(pages);
      };
      const p = rt.arena.alloc(4 * MiB);
      expect(asked.length).toBe(2);
      expect(asked[0]).toBeGreaterThan(100);
      expect(asked[1]).toBeLessThanOrEqual(100);
      rt.arena.free(p);
    } finally {
      delete (mem as { grow?: unknown }).grow; // back to WebAssembly.Memory.prototype.grow
    }
  });

  it('arena.atomic frees the blocks of a failed multi-block allocation and restores the free list', async () => {
    const rt = await createRuntime();
    const a = rt.arena;
    const inUse = a.bytesInUse;
    const probe = a.alloc(32);
    a.free(probe);
    expect(() =>
      a.atomic(() => {
        a.alloc(1000);
        const keep = a.alloc(2000);
        a.free(keep); // freed inside the scope: not freed twice
        a.atomic(() => a.alloc(3000)); // an inner scope that succeeded belongs to the outer one
        a.alloc(5 * GiB); // MemoryError
      }),
    ).toThrow(MemoryError);
    expect(a.bytesInUse).toBe(inUse);
    // the free list coalesced back: the next block is where it was before
    const again = a.alloc(32);
    expect(again).toBe(probe);
    a.free(again);
    // a successful scope keeps its blocks
    const [x, y] = a.atomic(() => [a.alloc(64), a.alloc(64)]);
    expect(a.bytesInUse).toBe(inUse + 128);
    a.free(x);
    a.free(y);
  });

  it('softmaxCrossEntropy frees its blocks when one of its allocations fails', async () => {
    const rt = await init();
    const a = rt.arena;
    const inUse = a.bytesInUse;
    const alloc = a.alloc.bind(a);
    let calls = 0;
    a.alloc = ((bytes: number) => {
      if (++calls === 3) throw new MemoryError('simulated', { requestedBytes: bytes, committedBytes: 0, inUseBytes: 0, limitBytes: 0 });
      return alloc(bytes);
    }) as typeof a.alloc;
    try {
      expect(() => softmaxCrossEntropy({ data: new Float32Array(6), shape: [2, 3] }, new Int32Array([0, 1]))).toThrow(MemoryError);
    } finally {
      a.alloc = alloc;
    }
    expect(a.bytesInUse).toBe(inUse);
  });
});
