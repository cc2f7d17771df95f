// Threads over one shared memory (issue 17 item 1): one model trained on 1, 2 and 3 threads, on
// the default single-threaded build and on the threaded build's serial path ends with bit-identical
// weights, optimizer-visible predictions and losses; the options are checked with typed errors;
// dispose stops the workers; memory growth and guard bands hold with workers running.
// (The split itself — each part writes only its own rows/columns/range, bit-identical to the
// serial kernel — is tested natively in crates/kernels/src/par.rs.)
import { describe, expect, it } from 'vitest';
import {
  OptionError, Rng, Sequential, adam, avgPool2d, batchNorm, conv2d, dense, depthwiseConv2d, dropout, flatten, globalAveragePool2d, init, maxPool2d,
  randomContrast, randomFlip, randomRotation, randomTranslation, randomZoom, sgd, type CompileOptions, type LayerConfig,
} from '../../ts/index.js';
import { createRuntime, type Runtime } from '../../ts/runtime/loader.js';

interface Case {
  name: string;
  d: number;
  /** Image input `[h, w, c]` (`d` = h·w·c); flat `[d]` when absent. */
  shape?: [number, number, number];
  /** Also compare the scalar build (one thread). */
  scalar?: boolean;
  k: number;
  layers: () => LayerConfig[];
  compile: () => CompileOptions;
  batch: number;
}

// Sizes chosen so that the parallel regions run: GEMMs of 64×256×256 and 256×256×64 (≥ 2 parts of
// 2^19 multiply-adds each), 256×256 kernels (the update splits tensors of ≥ 2·2^15 elements),
// plus odd sizes (97, 37) whose edge tiles fall inside one part.
const cases: Case[] = [
  {
    name: 'adam, relu, dropout',
    d: 97,
    k: 5,
    layers: () => [dense(256, { activation: 'relu' }), dropout(0.2), dense(256, { activation: 'relu' }), dense(37, { activation: 'tanh' }), dense(5)],
    compile: () => ({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' }),
    batch: 64,
  },
  {
    name: 'sgd momentum, batch norm',
    d: 256,
    k: 3,
    layers: () => [dense(256), batchNorm(), dense(300, { activation: 'elu' }), dense(3)],
    compile: () => ({ optimizer: sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), loss: 'softmaxCrossEntropy' }),
    batch: 96,
  },
  {
    // depthwise regions split by output rows (forward), samples (dx) and channel blocks (dw); 36
    // channels (not a multiple of 16), a multiplier-2 layer on the scalar lane path
    name: 'depthwise-separable convolutions',
    d: 16 * 14 * 36,
    shape: [16, 14, 36],
    k: 3,
    layers: () => [
      depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }), conv2d(24, { kernelSize: 1, activation: 'relu' }),
      depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: 'same' }), dropout(0.1), globalAveragePool2d(), dense(3),
    ],
    compile: () => ({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' }),
    batch: 32,
  },
  // Convolutions (conv.rs, pool.rs: forward and dW split by output tiles, dX and pooling by
  // whole images). Batch 32 so every conv GEMM has ≥ 3 parts of 2^19 multiply-adds, the first
  // pooling 2 parts and the batch norm (32 channels: two 16-channel blocks) 2 parts; 'same' padding, stride 2, dilation 2, batch norm over feature maps, max and
  // average pooling, and augmentation before the first layer.
  {
    name: 'cnn: same, stride 2, dilation 2, batch norm over maps, max/avg pool, augmentation',
    d: 20 * 18 * 3,
    shape: [20, 18, 3],
    k: 5,
    layers: () => [
      randomFlip(), randomTranslation(0.1, 0.1), randomRotation(0.05), randomZoom(0.1), randomContrast(0.2),
      conv2d(32, { kernelSize: 3, padding: 'same', activation: 'relu' }), batchNorm(), maxPool2d(),
      conv2d(24, { kernelSize: 3, strides: 2, padding: 'same' }),
      conv2d(16, { kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' }),
      avgPool2d({ padding: 'same' }), flatten(), dense(5),
    ],
    compile: () => ({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' }),
    batch: 32,
    scalar: true,
  },
  {
    name: 'cnn: the W5 shape (conv 5×5, valid, 1 channel; conv 5×5 on 32 channels), sgd',
    d: 28 * 28,
    shape: [28, 28, 1],
    k: 10,
    layers: () => [conv2d(32, { kernelSize: 5, activation: 'relu' }), maxPool2d(), conv2d(64, { kernelSize: 5, activation: 'relu' }), maxPool2d(), flatten(), dense(10)],
    compile: () => ({ optimizer: sgd({ lr: 0.02, momentum: 0.9 }), loss: 'softmaxCrossEntropy' }),
    batch: 16,
    scalar: true,
  },
];

function dataFor(c: Case): { x: Float32Array; y: Int32Array } {
  const r = new Rng(7);
  const rows = c.batch * 3 + 5; // a short last batch
  const x = Float32Array.from({ length: rows * c.d }, () => r.normal());
  const y = Int32Array.from({ length: rows }, (_, i) => (x[i * c.d]! > 0 ? 1 : 0) + (i % Math.max(1, c.k - 1)));
  return { x, y };
}

async function train(c: Case, rt: Runtime): Promise<{ bits: string[]; loss: number[]; pred: Float32Array }> {
  const m = new Sequential({ inputShape: c.shape ?? [c.d], layers: c.layers(), runtime: rt, seed: 11 });
  m.compile(c.compile());
  const { x, y } = dataFor(c);
  const h = await m.fit(x, y, { epochs: 2, batchSize: c.batch, seed: 5 });
  const bits = m.getWeights().map((w) => Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)).join(','));
  const pred = m.predict(x.subarray(0, 9 * c.d), { batchSize: 9 }).data;
  m.dispose();
  return { bits, loss: h.history.loss as number[], pred: Float32Array.from(pred) };
}

describe('threads: the result does not depend on the thread count', () => {
  for (const c of cases) {
    it(`${c.name}: 1, 2, 3 threads, the default build and the threaded build's serial path agree bit for bit`, async () => {
      // the default build: SIMD128, or FMA where relaxed SIMD validates (Node >= 22); the threaded
      // runtimes below pick the same one
      const one = await createRuntime({ threads: 1 });
      const ref = await train(c, one);
      expect(ref.loss.every(Number.isFinite)).toBe(true);
      if (c.scalar) {
        // the scalar build matches SIMD128 (FMA rounds differently)
        const simd = one.build === 'simd' ? ref : await train(c, await createRuntime({ threads: 1, reproducible: true }));
        const rt = await createRuntime({ simd: false });
        const got = await train(c, rt);
        rt.dispose();
        expect(got.bits, 'scalar build').toEqual(simd.bits);
        expect(got.loss).toEqual(simd.loss);
      }
      for (const opts of [{ threadedBuild: true }, { threads: 2 }, { threads: 3 }]) {
        const rt = await createRuntime(opts);
        expect(rt.threads).toBe(opts.threads ?? 1);
        // every region split, even on a host too busy for threads to pay (the pool would back off)
        rt.pool!.backOff = false;
        const got = await train(c, rt);
        // the threaded runs did run parallel regions (the serial path runs none)
        expect(rt.pool!.regions > 0).toBe((opts.threads ?? 1) > 1);
        rt.dispose();
        expect(got.bits, JSON.stringify(opts)).toEqual(ref.bits);
        expect(got.loss).toEqual(ref.loss);
        expect(Array.from(new Uint32Array(got.pred.buffer))).toEqual(Array.from(new Uint32Array(ref.pred.buffer)));
      }
    }, 120_000);
  }

  it('guard bands around every arena block stay intact with 3 threads writing (dense, and a CNN: per-part im2col scratch slices)', async () => {
    const rt = await createRuntime({ threads: 3, guardBands: true });
    rt.pool!.backOff = false;
    await train(cases[0]!, rt);
    await train(cases[3]!, rt);
    expect(rt.arena.checkGuards()).toBeGreaterThan(0);
    rt.dispose();
  }, 60_000);

  it('memory.grow while workers are running: views re-derived, same bits as one thread', async () => {
    // 16 pages (1 MiB): the per-thread GEMM workspaces alone need more, so memory grows at once and
    // again for the model; the workers' instances see the grown shared memory
    const rt = await createRuntime({ threads: 2, initialPages: 16 });
    rt.pool!.backOff = false;
    const before = rt.memoryStats().committedBytes;
    const c = cases[1]!;
    const ref = await train(c, await createRuntime({ threads: 1, initialPages: 16 }));
    const first = await train(c, rt);
    // grow again between trainings: a large block, then train once more
    const big = rt.arena.allocF32(8 << 20);
    expect(rt.memoryStats().committedBytes).toBeGreaterThan(before);
    const second = await train(c, rt);
    rt.arena.free(big);
    expect(first.bits).toEqual(ref.bits);
    expect(second.bits).toEqual(ref.bits);
    rt.dispose();
  }, 120_000);
});

describe('threads: options and lifetime', () => {
  it('rejects bad thread counts with OptionError and leaves the current runtime as it was', async () => {
    const rt = await init({ threads: 1 });
    for (const bad of [0, -1, 1.5, 65, NaN, Infinity, '2', null]) {
      const e = await init({ threads: bad as number }).catch((x: unknown) => x);
      expect(e, String(bad)).toBeInstanceOf(OptionError);
      expect((e as OptionError).option).toBe('threads');
      expect((e as Error).message).toMatch(/integer in \[1, 64\]/);
    }
    const e = await init({ threads: 2, simd: false }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OptionError);
    expect((e as Error).message).toMatch(/conflict.*threads: 1/);
    const w = await init({ threads: 2, wasm: new Uint8Array(8) }).catch((x: unknown) => x);
    expect(w).toBeInstanceOf(OptionError);
    const { getRuntime } = await import('../../ts/index.js');
    expect(getRuntime()).toBe(rt);
  });

  it('init() defaults to the cores available here (shared memory works in Node) and caches by thread count', async () => {
    const { availableParallelism } = await import('node:os');
    const rt = await init();
    expect(rt.threads).toBe(Math.min(8, availableParallelism()));
    expect(await init({ threads: rt.threads })).toBe(rt);
    expect((await init({ threads: 1 })).threads).toBe(1);
  });

  it('dispose terminates the workers; models on the runtime keep working on one thread, with the same bits', async () => {
    const c = cases[0]!;
    const ref = await train(c, await createRuntime({ threads: 1 }));
    const rt = await createRuntime({ threads: 3 });
    const pool = rt.pool!;
    rt.dispose();
    await pool.exited();
    expect(rt.threads).toBe(1);
    const after = await train(c, rt);
    expect(after.bits).toEqual(ref.bits);
    rt.dispose(); // idempotent
  }, 60_000);

  it('a Node script that trains on threads and never disposes exits on its own (idle workers keep nothing alive)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const { join } = await import('node:path');
    const dist = pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href;
    const src = `import { init, Sequential, dense, sgd } from '${dist}';
      const rt = await init({ threads: 2 });
      const m = new Sequential({ inputShape: [256], layers: [dense(256, { activation: 'relu' }), dense(2)], seed: 1 });
      m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
      const x = new Float32Array(64 * 256).map((_, i) => Math.sin(i));
      await m.fit(x, new Int32Array(64).map((_, i) => i % 2), { epochs: 1, batchSize: 64 });
      console.log('trained on', rt.threads);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error, 'the script did not exit within 60 s').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('trained on 2');
    expect(r.status).toBe(0);
  }, 90_000);

  it('dispose of the init() runtime: the next init() starts a new pool', async () => {
    const a = await init({ threads: 2 });
    a.dispose();
    const b = await init({ threads: 2 });
    expect(b).not.toBe(a);
    expect(b.threads).toBe(2);
    b.dispose();
  });
});
