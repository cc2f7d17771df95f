// The training loop's lifecycle (memory-safety issue, item 1): a running fit owns its training plan.
// Regression tests of ../shared/repros R01–R05, R14 and R15 (Sequential, predict, evaluate):
// each failed on the code before the fix (fit trained on freed memory, predict from a callback
// replaced the plan under the fit, compile and a second fit ran interleaved, setWeights took any
// shape with the right length, unknown option keys were ignored).
import { beforeAll, describe, expect, it } from 'vitest';
import { BusyError, DisposedError, OptionError, Rng, Sequential, ShapeError, WasmfitError, adam, dense, dropout, init, sgd, type Callback, type History } from '../../ts/index.js';

function data(rows: number, cols: number, classes: number, seed = 1): { x: Float32Array; y: Int32Array } {
  const r = new Rng(seed);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = r.normal();
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[i * cols + j]! * (j + 1);
    y[i] = Math.abs(Math.floor(s)) % classes;
  }
  return { x, y };
}

const bits = (m: Sequential): number[] => m.getWeights().flatMap((t) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return null;
}

describe('fit lifecycle', () => {
  beforeAll(async () => {
    await init();
  });
  const { x, y } = data(512, 8, 3);

  const build = (seed = 1): Sequential => {
    const m = new Sequential({ inputShape: [8], layers: [dense(16, { activation: 'relu' }), dropout(0.2), dense(3)], seed });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy', metrics: ['mse', 'crossentropy'] });
    return m;
  };

  it('R01: dispose() during fit rejects with DisposedError at the next batch boundary; a model built afterwards in the freed memory is untouched', async () => {
    const m = build();
    let bystander: Sequential | null = null;
    let before: number[] = [];
    let batchesAfterDispose = 0;
    let disposed = false;
    const cb: Callback = {
      onBatchEnd: (s) => {
        if (disposed) batchesAfterDispose++;
        if (s === 3) {
          m.dispose();
          disposed = true;
          // reuses the freed blocks
          bystander = new Sequential({ inputShape: [8], layers: [dense(16), dense(3)], seed: 5 });
          before = bits(bystander);
        }
      },
    };
    const err = await rejection(m.fit(x, y, { epochs: 3, batchSize: 16, callbacks: [cb] }));
    expect(err).toBeInstanceOf(DisposedError);
    expect((err as Error).message).toMatch(/disposed during training \(epoch 0, batch 4\)/);
    expect(batchesAfterDispose).toBe(0);
    expect(bits(bystander!)).toEqual(before);
    const fresh = new Sequential({ inputShape: [8], layers: [dense(16), dense(3)], seed: 5 });
    expect(bits(bystander!)).toEqual(bits(fresh));
    bystander!.dispose();
    fresh.dispose();
  });

  it('R01: dispose() from a timer while fit yields to the event loop', async () => {
    const m = build();
    const big = data(4096, 8, 3);
    let bystander: Sequential | null = null;
    let before: number[] = [];
    setTimeout(() => {
      m.dispose();
      bystander = new Sequential({ inputShape: [8], layers: [dense(16), dense(3)], seed: 5 });
      before = bits(bystander);
    }, 20);
    const err = await rejection(m.fit(big.x, big.y, { epochs: 50, batchSize: 16, yieldEveryMs: 0 }));
    expect(err).toBeInstanceOf(DisposedError);
    expect(bystander).not.toBeNull();
    expect(bits(bystander!)).toEqual(before);
    bystander!.dispose();
  });

  it('R01: dispose() in onEpochEnd of the last epoch and in onTrainBegin also reject', async () => {
    for (const hook of ['onEpochEnd', 'onTrainBegin', 'onEpochBegin'] as const) {
      const m = build();
      const err = await rejection(m.fit(x, y, { epochs: 1, batchSize: 64, validationSplit: 0.2, callbacks: [{ [hook]: () => m.dispose() }] }));
      expect(err, hook).toBeInstanceOf(DisposedError);
    }
  });

  const reference = async (opts: { withCalls: boolean }): Promise<{ weights: number[]; history: History; eval: number[] }> => {
    const m = build(7);
    const probe = data(700, 8, 3, 9); // more rows than the training batch: predict/evaluate need a bigger plan
    const cb: Callback = {
      onBatchEnd: (s) => {
        if (!opts.withCalls) return;
        if (s % 5 === 0) m.predict(probe.x);
        if (s % 7 === 0) m.evaluate(probe.x, probe.y, { batchSize: 300 });
        if (s % 11 === 0) m.predict(probe.x, { mcSamples: 3, seed: 4 });
      },
      onEpochEnd: () => {
        if (opts.withCalls) m.predict(probe.x, { batchSize: 1000 });
      },
    };
    const history = await m.fit(x, y, { epochs: 3, batchSize: 32, validationSplit: 0.25, callbacks: [cb] });
    const e = m.evaluate(probe.x, probe.y);
    const out = { weights: bits(m), history, eval: [e.loss, e.accuracy] };
    m.dispose();
    return out;
  };

  it('R02/R03: predict()/evaluate() from callbacks run on their own buffers: weights, logged loss and metrics bit-identical to a run without them', async () => {
    const plain = await reference({ withCalls: false });
    const called = await reference({ withCalls: true });
    expect(called.weights).toEqual(plain.weights);
    expect(called.history).toEqual(plain.history);
    expect(called.eval).toEqual(plain.eval);
    expect(Object.keys(plain.history.history)).toEqual(expect.arrayContaining(['loss', 'accuracy', 'mse', 'crossentropy', 'valLoss', 'valMse']));
  });

  it('R02: predict from a callback after another model was freed does not corrupt the running training', async () => {
    const run = async (interfere: boolean): Promise<number[]> => {
      const other = new Sequential({ inputShape: [8], layers: [dense(64), dense(3)] });
      const m = build(3);
      await m.fit(x, y, {
        epochs: 2, batchSize: 16, callbacks: [{ onEpochEnd: (e) => {
          if (interfere && e === 0) {
            other.dispose();
            m.predict(data(900, 8, 3, 2).x);
          }
        } }],
      });
      if (!other.disposed) other.dispose();
      const w = bits(m);
      m.dispose();
      return w;
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it('R04: compile() from a fit callback is refused with BusyError; the fit goes on unaffected when the error is caught', async () => {
    const m = build(2);
    const ref = build(2);
    let caught: unknown = null;
    await m.fit(x, y, { epochs: 1, batchSize: 16, seed: 3, callbacks: [{ onBatchEnd: (s) => {
      if (s === 2) {
        try {
          m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
        } catch (e) {
          caught = e;
        }
      }
    } }] });
    await ref.fit(x, y, { epochs: 1, batchSize: 16, seed: 3 });
    expect(caught).toBeInstanceOf(BusyError);
    expect((caught as WasmfitError).code).toBe('E_BUSY');
    expect((caught as Error).message).toMatch(/compile: this model is training/);
    expect(bits(m)).toEqual(bits(ref));
    expect(m.optimizerStep).toBe(ref.optimizerStep);
    // after the fit, compile works again
    m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
    m.dispose();
    ref.dispose();
  });

  it('R04: an uncaught compile() in a callback rejects the fit with BusyError and leaves a bystander intact', async () => {
    const m = build(2);
    let by: Sequential | null = null;
    let h0: number[] = [];
    const err = await rejection(m.fit(x, y, { epochs: 1, batchSize: 16, callbacks: [{ onBatchEnd: (s) => {
      if (s === 2) {
        by = new Sequential({ inputShape: [8], layers: [dense(16), dense(3)], seed: 3 });
        h0 = bits(by);
        m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' });
      }
    } }] }));
    expect(err).toBeInstanceOf(BusyError);
    expect(bits(by!)).toEqual(h0);
    expect(m.isTraining).toBe(false);
  });

  it('R05: a second fit() while one runs is refused with BusyError; the first is identical to running alone', async () => {
    const a = build(1);
    const b = build(1);
    const results = await Promise.allSettled([a.fit(x, y, { epochs: 2, batchSize: 16, seed: 1, yieldEveryMs: 0 }), a.fit(x, y, { epochs: 2, batchSize: 64, seed: 2, yieldEveryMs: 0 })]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1].status).toBe('rejected');
    const err = (results[1] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(BusyError);
    expect(err.message).toMatch(/fit: this model is training/);
    await b.fit(x, y, { epochs: 2, batchSize: 16, seed: 1 });
    expect(bits(a)).toEqual(bits(b));
    // the next fit after the first resolved is accepted
    await a.fit(x, y, { epochs: 1, batchSize: 64, seed: 2 });
    a.dispose();
    b.dispose();
  });

  it('a fit that failed (bad callback) releases the model: the next fit runs', async () => {
    const m = build(1);
    const err = await rejection(m.fit(x, y, { epochs: 1, callbacks: [{ onBatchEnd: () => { throw new Error('boom'); } }] }));
    expect((err as Error).message).toBe('boom');
    expect(m.isTraining).toBe(false);
    await m.fit(x, y, { epochs: 1 });
    m.dispose();
  });

  it('Symbol.dispose: `using` frees the model at the end of the scope', () => {
    let kept: Sequential | null = null;
    {
      const m = new Sequential({ inputShape: [8], layers: [dense(3)] });
      kept = m;
      (m as unknown as { [Symbol.dispose](): void })[Symbol.dispose]();
    }
    expect(kept.disposed).toBe(true);
  });
});

describe('constructor and compile failures free what they took', () => {
  beforeAll(async () => {
    await init();
  });

  it('a constructor whose allocation fails frees its partial blocks; the runtime stays usable', async () => {
    const rt = await init();
    const arena = rt.arena;
    const inUse = arena.bytesInUse;
    const alloc = arena.alloc.bind(arena);
    let calls = 0;
    arena.alloc = (bytes: number) => {
      if (++calls === 4) throw new Error('out of memory (simulated)');
      return alloc(bytes);
    };
    try {
      expect(() => new Sequential({ inputShape: [8], layers: [dense(16), dense(3)] })).toThrow(/simulated/);
    } finally {
      arena.alloc = alloc;
    }
    expect(arena.bytesInUse).toBe(inUse);
    const m = new Sequential({ inputShape: [8], layers: [dense(16), dense(3)] });
    m.dispose();
    expect(arena.bytesInUse).toBe(inUse);
  });

  it('a compile whose allocation fails leaves the previous compile in place', async () => {
    const rt = await init();
    const arena = rt.arena;
    const m = new Sequential({ inputShape: [8], layers: [dense(16), dense(3)] });
    m.compile({ optimizer: sgd({ lr: 0.1, momentum: 0.9 }), loss: 'softmaxCrossEntropy' });
    const { x, y } = data(64, 8, 3);
    await m.fit(x, y, { epochs: 1 });
    const inUse = arena.bytesInUse;
    const state = JSON.stringify(Array.from(m.exportTrainingState().slots, (s) => [s.name, Array.from(s.data)]));
    const alloc = arena.alloc.bind(arena);
    let calls = 0;
    arena.alloc = (bytes: number) => {
      if (++calls === 3) throw new Error('out of memory (simulated)');
      return alloc(bytes);
    };
    try {
      expect(() => m.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' })).toThrow(/simulated/);
    } finally {
      arena.alloc = alloc;
    }
    expect(arena.bytesInUse).toBe(inUse);
    expect(m.compileOptions?.optimizer.type).toBe('sgd');
    expect(JSON.stringify(Array.from(m.exportTrainingState().slots, (s) => [s.name, Array.from(s.data)]))).toBe(state);
    await m.fit(x, y, { epochs: 1 });
    m.dispose();
  });
});

describe('R14/R15: shapes and unknown options', () => {
  beforeAll(async () => {
    await init();
  });

  it('R14: setWeights refuses a transposed kernel and a nonsense bias shape, changing nothing', () => {
    const m = new Sequential({ inputShape: [4], layers: [dense(8), dense(3)] });
    const w = m.getWeights();
    const before = bits(m);
    expect(() => m.setWeights([{ shape: [8, 4], data: w[0]!.data }, w[1]!, w[2]!, w[3]!])).toThrow(ShapeError);
    expect(() => m.setWeights([{ shape: [8, 4], data: w[0]!.data }, w[1]!, w[2]!, w[3]!])).toThrow(/dense_0\/kernel\) has shape \[8, 4\]; expected \[4, 8\]/);
    expect(() => m.setWeights([w[0]!, { shape: [1, 2, 4], data: w[1]!.data }, w[2]!, w[3]!])).toThrow(ShapeError);
    expect(() => m.setWeights([null as never, w[1]!, w[2]!, w[3]!])).toThrow(ShapeError);
    expect(() => m.setWeights([{ shape: [4, 8], data: Array.from(w[0]!.data) as never }, w[1]!, w[2]!, w[3]!])).toThrow(/Float32Array/);
    expect(bits(m)).toEqual(before);
    m.setWeights(w);
    m.dispose();
  });

  it('R15: unknown option keys are refused by new Sequential, predict and evaluate', () => {
    expect(() => new Sequential({ inputShape: [4], inputDim: 4, layers: [dense(3)] } as never)).toThrow(OptionError);
    const m = new Sequential({ inputShape: [4], layers: [dense(3)] });
    m.compile({ optimizer: sgd(), loss: 'softmaxCrossEntropy' });
    const x = new Float32Array(40);
    const y = new Int32Array(10);
    for (const f of [() => m.predict(x, { batch_size: 2 } as never), () => m.evaluate(x, y, { batch_size: 2 } as never)]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OptionError);
      expect((err as OptionError).option).toBe('batch_size');
      expect((err as Error).message).toMatch(/known options are batchSize/);
    }
    m.dispose();
  });
});
