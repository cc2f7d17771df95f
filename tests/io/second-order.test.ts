// Persistence of models compiled with the full-batch optimizers (L-BFGS, CG): model files carry the
// lbfgs / cg compile config, and checkpoints carry their state (torch.optim.LBFGS.state: direction,
// previous gradient, curvature pairs, ro, H_diag, t, counters; CG: restart counter, previous gᵀd),
// so N full-batch epochs straight equal N/2 + checkpoint + load + N/2 bit for bit — from inside
// fit (resumeFrom, shuffled rows) and from outside it. Tampered state → FormatError naming the field.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FormatError, Sequential, adam, cg, checkpointCallback, dense, deserializeCheckpoint, deserializeModel, init, l2, lbfgs,
  serializeCheckpoint, serializeModel, type CompileOptions,
} from '../../ts/index.js';
import { classData, join, split } from './container-util.js';

const rows = 60;
const d = 4;
const data = (seed: number) => classData(rows, d, seed);
const { x, y } = data(7);
type Opt = CompileOptions['optimizer'];
const build = (optimizer: Opt) => {
  const m = new Sequential({ inputShape: [d], seed: 3, layers: [dense(8, { activation: 'tanh', kernelRegularizer: l2(1e-3) }), dense(3)] });
  m.compile({ optimizer, loss: 'softmaxCrossEntropy' });
  return m;
};
const bytesOf = (m: Sequential) => Buffer.concat(m.getWeights().map((t) => Buffer.from(t.data.buffer)));
const N = 8;
const full = { batchSize: rows, seed: 5 };

// small maxIter so that every epoch's step stops at maxIter and the state carries over; a history
// of 3 pairs wraps around several times in 8 epochs × 4 iterations
const optimizers: [string, () => Opt][] = [
  ['lbfgs strong Wolfe', () => lbfgs({ lineSearch: 'strongWolfe', maxIter: 4, historySize: 3 })],
  ['lbfgs fixed step', () => lbfgs({ lr: 0.5, maxIter: 4, historySize: 5 })],
  ['cg', () => cg({ maxIter: 4, restartEvery: 7, c2: 0.2 })],
];

beforeAll(async () => {
  await init();
});

describe.each(optimizers)('%s', (_name, opt) => {
  it(`N/2 epochs + checkpoint (inside fit) + load + N/2 epochs = ${N} epochs straight, bit for bit`, async () => {
    const straight = build(opt());
    const hs = await straight.fit(x, y, { ...full, epochs: N });
    const a = build(opt());
    let saved: Uint8Array | null = null;
    await a.fit(x, y, { ...full, epochs: N / 2, callbacks: [checkpointCallback({ save: (b, at) => void (at.epoch === N / 2 && (saved = b)) })] });
    const mid = bytesOf(a);
    a.dispose();
    expect(saved).not.toBeNull();
    const { model: b, resume } = deserializeCheckpoint(saved!);
    expect(resume).not.toBeNull();
    expect(JSON.parse(JSON.stringify(b.compileOptions))).toEqual(JSON.parse(JSON.stringify(straight.compileOptions)));
    const h = await b.fit(x, y, { batchSize: rows, epochs: N, resumeFrom: resume! });
    expect(h.epoch).toEqual([4, 5, 6, 7]);
    expect(h.history.loss).toEqual(hs.history.loss!.slice(N / 2));
    expect(bytesOf(b).equals(bytesOf(straight))).toBe(true);
    expect(b.optimizerStep).toBe(straight.optimizerStep);
    // not vacuous: training moved on after the checkpoint, and the same resume without the
    // L-BFGS / CG state (optimizer re-compiled: empty history, direction, step) ends elsewhere
    expect(bytesOf(b).equals(mid)).toBe(false);
    const { model: c, resume: r2 } = deserializeCheckpoint(saved!);
    const st = c.exportTrainingState();
    c.compile(c.compileOptions!);
    c.importTrainingState(st);
    await c.fit(x, y, { batchSize: rows, epochs: N, resumeFrom: r2! });
    expect(bytesOf(c).equals(bytesOf(straight))).toBe(false);
    for (const m of [straight, b, c]) m.dispose();
  });

  it('checkpoint taken outside fit (serializeCheckpoint), continued with initialEpoch, unshuffled', async () => {
    const o = { batchSize: rows, shuffle: false };
    const straight = build(opt());
    await straight.fit(x, y, { ...o, epochs: N });
    const a = build(opt());
    await a.fit(x, y, { ...o, epochs: N / 2 });
    const { model: b, resume } = deserializeCheckpoint(serializeCheckpoint(a));
    a.dispose();
    expect(resume).toBeNull();
    await b.fit(x, y, { ...o, epochs: N, initialEpoch: N / 2 });
    expect(bytesOf(b).equals(bytesOf(straight))).toBe(true);
    straight.dispose();
    b.dispose();
  });

  it('model files carry the compile config: it round-trips and trains the same', async () => {
    const m = build(opt());
    const bytes = serializeModel(m);
    const cfg = (split(bytes).header.compile as { optimizer: Record<string, unknown> }).optimizer;
    expect(cfg.type).toBe((m.compileOptions!.optimizer as { type: string }).type);
    const copy = deserializeModel(bytes);
    expect(JSON.parse(JSON.stringify(copy.compileOptions))).toEqual(JSON.parse(JSON.stringify(m.compileOptions)));
    expect(typeof (copy.compileOptions!.optimizer as { minimize?: unknown }).minimize).toBe('function');
    await m.fit(x, y, { ...full, epochs: 2 });
    await copy.fit(x, y, { ...full, epochs: 2 });
    expect(bytesOf(copy).equals(bytesOf(m))).toBe(true);
    m.dispose();
    copy.dispose();
  });
});

describe('bad second-order configs and state', () => {
  const tamper = (bytes: Uint8Array, f: (h: Record<string, any>) => void): Uint8Array => {
    const p = split(bytes);
    f(p.header);
    return join(p);
  };
  const refuse = (bytes: Uint8Array, read: (b: Uint8Array) => unknown, msg: RegExp) => {
    let err: unknown = null;
    try {
      read(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(msg);
  };

  it('model files: invalid lbfgs / cg options name the field', () => {
    const l = build(lbfgs({ lineSearch: 'strongWolfe', historySize: 4 }));
    const c = build(cg());
    const lb = serializeModel(l);
    const cb = serializeModel(c);
    refuse(tamper(lb, (h) => (h.compile.optimizer.historySize = 0)), deserializeModel, /header\.compile\.optimizer\.historySize is invalid/);
    refuse(tamper(lb, (h) => (h.compile.optimizer.lineSearch = 'armijo')), deserializeModel, /header\.compile\.optimizer\.lineSearch/);
    refuse(tamper(lb, (h) => (h.compile.optimizer.momentum = 0.9)), deserializeModel, /header\.compile\.optimizer\.momentum.*unknown option/);
    refuse(tamper(cb, (h) => (h.compile.optimizer.lineSearch = null)), deserializeModel, /header\.compile\.optimizer\.lineSearch/);
    refuse(tamper(cb, (h) => (h.compile.optimizer.c2 = 2)), deserializeModel, /header\.compile\.optimizer\.c2/);
    l.dispose();
    c.dispose();
  });

  it('checkpoints: tampered L-BFGS / CG state → FormatError naming the field', async () => {
    const m = build(lbfgs({ lineSearch: 'strongWolfe', maxIter: 4, historySize: 3 }));
    await m.fit(x, y, { ...full, epochs: 3 });
    const good = serializeCheckpoint(m);
    const st = (split(good).header as Record<string, any>).training.secondOrder;
    expect(st.pairs).toBe(3);
    expect(st.nIter).toBeGreaterThan(3);
    const W = deserializeCheckpoint;
    const so = (f: (s: Record<string, any>) => void) => tamper(good, (h) => f(h.training.secondOrder));
    refuse(tamper(good, (h) => delete h.training.secondOrder), W, /header\.training\.secondOrder is missing/);
    refuse(so((s) => (s.method = 'cg')), W, /secondOrder\.method is "cg"; the checkpoint's optimizer is lbfgs/);
    refuse(so((s) => (s.size += 1)), W, /secondOrder\.size is \d+; the model has \d+ trainable parameters/);
    refuse(so((s) => (s.pairs = 4)), W, /secondOrder\.pairs is 4; historySize is 3/);
    refuse(so((s) => (s.nIter = 1.5)), W, /secondOrder\.nIter is 1\.5/);
    refuse(so((s) => (s.funcEvals = -1)), W, /secondOrder\.funcEvals/);
    refuse(so((s) => (s.hDiag = 0)), W, /secondOrder\.hDiag is 0; expected a finite number > 0/);
    refuse(so((s) => (s.t = 'x')), W, /secondOrder\.t is "x"/);
    refuse(so((s) => (s.prevGtd = null)), W, /secondOrder\.prevGtd is null/);
    refuse(so((s) => (s.ro[1] = -2)), W, /secondOrder\.ro\[1\] is -2/);
    refuse(so((s) => s.ro.pop()), W, /secondOrder\.ro is not an array of 3 numbers/);
    refuse(so((s) => (s.extra = 1)), W, /secondOrder\.extra is not a field/);
    refuse(
      tamper(good, (h) => {
        for (const t of h.tensors) if (t.name === 'secondOrder/dirs/1') t.name = 'secondOrder/dirs/7';
      }),
      W,
      /tensor 'secondOrder\/dirs\/1' is missing/,
    );
    refuse(
      so((s) => {
        s.pairs = 2;
        s.ro.pop();
      }),
      W,
      /tensor 'secondOrder\/dirs\/2' is not part of the lbfgs state/,
    );
    // a tensor of the right name but another length: swap the shape with the bias (3 values)
    refuse(
      tamper(good, (h) => {
        const i = h.tensors.findIndex((t: { name: string }) => t.name === 'secondOrder/stps/2');
        expect(i).toBe(h.tensors.length - 1);
        h.tensors[i].shape = [3];
        h.tensors[i - 1].shape = [h.tensors[i - 1].shape[0] * 2 - 3];
        h.tensors[i].offset = h.tensors[i - 1].offset + h.tensors[i - 1].shape[0] * 4;
      }),
      W,
      /tensor 'secondOrder\/stps\/1'\.shape is \[\d+\]; expected \[\d+\]/,
    );
    // a non-finite value in the direction vector
    const p = split(good);
    const e = (p.header.tensors as { name: string; offset: number }[]).find((t) => t.name === 'secondOrder/d')!;
    new DataView(p.data.buffer, p.data.byteOffset).setFloat32(e.offset + 8, NaN, true);
    refuse(join(p), W, /tensor 'secondOrder\/d' holds NaN at index 2/);
    // state where the optimizer has none
    const a = build(adam());
    await a.fit(x, y, { ...full, epochs: 1 });
    const ab = serializeCheckpoint(a);
    refuse(tamper(ab, (h) => (h.training.secondOrder = st)), W, /secondOrder is present, but the checkpoint's optimizer \(adam\)/);
    // and the untampered file still loads
    const ok = W(good);
    expect(bytesOf(ok.model).equals(bytesOf(m))).toBe(true);
    for (const mm of [m, a, ok.model]) mm.dispose();
  });
});
