// Randomized lifecycle test (memory-safety issue, item 1): random small models × random actions
// taken from fit callbacks at random batches — predict (with more rows than the batch, and Monte
// Carlo dropout), evaluate, getWeights, setWeights(getWeights()), dispose, compile, a second fit —
// on a runtime whose arena surrounds every block with guard bands.
// Checked on every run: no guard band changed and a bystander model's weights are untouched; every
// refused action (compile, a second fit) is a BusyError; a run whose model was disposed rejects
// with DisposedError; every other run ends bit-identical (weights and logged history) to the same
// run without any actions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BusyError, DisposedError, Rng, Sequential, adam, batchNorm, dense, dropout, sgd, type Callback, type History, type LayerConfig, type Runtime } from '../../ts/index.js';
import { guardedRuntime } from '../helpers.js';

type Action = 'predict' | 'predictMc' | 'evaluate' | 'getWeights' | 'setWeights' | 'dispose' | 'compile' | 'fit';

interface Spec {
  d: number;
  hidden: { units: number; act: 'relu' | 'tanh' | 'linear'; dropout: number; bn: boolean }[];
  classes: number;
  opt: 'sgd' | 'adam';
  clip: 'none' | 'value' | 'norm';
  batchSize: 4 | 8 | 16;
  epochs: number;
  actions: { epoch: number; batch: number; action: Action; rows: number }[];
}

const spec: fc.Arbitrary<Spec> = fc.record({
  d: fc.integer({ min: 1, max: 6 }),
  hidden: fc.array(
    fc.record({ units: fc.integer({ min: 1, max: 9 }), act: fc.constantFrom('relu' as const, 'tanh' as const, 'linear' as const), dropout: fc.constantFrom(0, 0, 0.3), bn: fc.boolean() }),
    { maxLength: 2 },
  ),
  classes: fc.integer({ min: 2, max: 4 }),
  opt: fc.constantFrom('sgd' as const, 'adam' as const),
  clip: fc.constantFrom('none' as const, 'value' as const, 'norm' as const),
  batchSize: fc.constantFrom(4 as const, 8 as const, 16 as const),
  epochs: fc.integer({ min: 1, max: 3 }),
  actions: fc.array(
    fc.record({
      epoch: fc.integer({ min: 0, max: 2 }),
      batch: fc.integer({ min: 0, max: 9 }),
      action: fc.constantFrom<Action>('predict', 'predictMc', 'evaluate', 'getWeights', 'setWeights', 'dispose', 'compile', 'fit'),
      rows: fc.integer({ min: 1, max: 70 }),
    }),
    { maxLength: 6 },
  ),
});

const ROWS = 40; // 40 % batchSize is never 1: batch norm always sees >= 2 rows

function layersOf(s: Spec): LayerConfig[] {
  const out: LayerConfig[] = [];
  for (const h of s.hidden) {
    out.push(dense(h.units, { activation: h.act }));
    if (h.bn) out.push(batchNorm());
    if (h.dropout > 0) out.push(dropout(h.dropout));
  }
  out.push(dense(s.classes));
  return out;
}

function dataOf(s: Spec, rows: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = new Rng(seed);
  const x = Float32Array.from({ length: rows * s.d }, () => r.normal());
  const y = Int32Array.from({ length: rows }, (_, i) => (i * 7 + Math.floor(Math.abs(x[i * s.d]!) * 3)) % s.classes);
  return { x, y };
}

const bits = (m: Sequential): number[] => m.getWeights().flatMap((t) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)));

async function run(rt: Runtime, s: Spec, withActions: boolean): Promise<{ weights: number[] | null; history: History | null; error: unknown; refused: unknown[]; disposed: boolean }> {
  const m = new Sequential({ inputShape: [s.d], layers: layersOf(s), seed: 11, runtime: rt });
  const clip = s.clip === 'value' ? { clipValue: 0.05 } : s.clip === 'norm' ? { clipNorm: 0.5 } : {};
  m.compile({ optimizer: s.opt === 'sgd' ? sgd({ lr: 0.05, momentum: 0.9, ...clip }) : adam({ lr: 0.01, ...clip }), loss: 'softmaxCrossEntropy', metrics: ['mse'] });
  const { x, y } = dataOf(s, ROWS, 5);
  const refused: unknown[] = [];
  const pending: Promise<unknown>[] = [];
  let disposed = false;
  let epoch = 0;
  const act = (a: Spec['actions'][number]): void => {
    const probe = dataOf(s, a.rows, 17 + a.rows);
    const refuse = (f: () => unknown): void => {
      try {
        f();
        refused.push(new Error(`${a.action} was accepted during fit`));
      } catch (e) {
        refused.push(e);
      }
    };
    switch (a.action) {
      case 'predict':
        m.predict(probe.x, { batchSize: 1 + (a.rows % 33) });
        break;
      case 'predictMc':
        m.predict(probe.x, { mcSamples: 2, seed: a.rows });
        break;
      case 'evaluate':
        m.evaluate(probe.x, probe.y, { batchSize: 1 + (a.rows % 50) });
        break;
      case 'getWeights':
        m.getWeights();
        break;
      case 'setWeights':
        m.setWeights(m.getWeights());
        break;
      case 'dispose':
        m.dispose();
        disposed = true;
        break;
      case 'compile':
        refuse(() => m.compile({ optimizer: sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' }));
        break;
      case 'fit':
        pending.push(m.fit(x, y, { epochs: 1, batchSize: 8 }).then(
          () => refused.push(new Error('a second fit was accepted during fit')),
          (e) => refused.push(e),
        ));
        break;
    }
  };
  const cb: Callback = {
    onEpochBegin: (e) => {
      epoch = e;
    },
    onBatchEnd: (batch) => {
      if (!withActions || disposed) return;
      for (const a of s.actions) if (a.epoch === epoch && a.batch === batch && !disposed) act(a);
    },
  };
  let history: History | null = null;
  let error: unknown = null;
  try {
    history = await m.fit(x, y, { epochs: s.epochs, batchSize: s.batchSize, validationSplit: 0.2, seed: 3, callbacks: [cb] });
  } catch (e) {
    error = e;
  }
  await Promise.all(pending);
  const weights = disposed ? null : bits(m);
  if (!disposed) m.dispose();
  return { weights, history, error, refused, disposed };
}

describe('fit callbacks × random actions (guard bands around every arena block)', () => {
  const guards = (rt: Runtime): unknown[] => (rt.arena as unknown as { checkGuards(): unknown[] }).checkGuards();

  it('no corruption, refused actions are BusyError, the rest bit-identical to a run without actions', async () => {
    let disposedRuns = 0;
    let refusedActions = 0;
    await fc.assert(
      fc.asyncProperty(spec, async (s) => {
        // a fresh guarded runtime per case: a failure shrinks to the case that caused it
        const rt = await guardedRuntime();
        const bystander = new Sequential({ inputShape: [5], layers: [dense(7), dense(3)], seed: 99, runtime: rt });
        const bystanderBits = bits(bystander);
        const plain = await run(rt, s, false);
        expect(plain.error).toBeNull();
        expect(guards(rt)).toEqual([]);
        const acted = await run(rt, s, true);
        for (const e of acted.refused) expect(e).toBeInstanceOf(BusyError);
        refusedActions += acted.refused.length;
        if (acted.disposed) {
          disposedRuns++;
          expect(acted.error).toBeInstanceOf(DisposedError);
        } else {
          expect(acted.error).toBeNull();
          expect(acted.weights).toEqual(plain.weights);
          expect(acted.history).toEqual(plain.history);
        }
        expect(guards(rt)).toEqual([]);
        expect(bits(bystander)).toEqual(bystanderBits);
        bystander.dispose();
      }),
      { numRuns: 80, seed: 20261202 },
    );
    // the generator exercised the interesting cases
    expect(disposedRuns).toBeGreaterThan(0);
    expect(refusedActions).toBeGreaterThan(0);
  });
});
