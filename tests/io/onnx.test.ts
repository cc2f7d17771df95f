// ONNX export: the exported graph, run by onnxruntime-node (its CPU build), predicts like wasmfit
// within 1e-5 on the 2,000 held-out MNIST digits, for a model using every exported operator.
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs/light.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, Sequential, activation, adam, batchNorm, dense, dropout, init, sgd } from '../../ts/index.js';
import { toOnnx } from '../../ts/io/onnx.js';
import { loadDigits } from '../../ts/node.js';

let digits: Awaited<ReturnType<typeof loadDigits>>;
beforeAll(async () => {
  await init();
  digits = await loadDigits({ seed: 1, trainSize: 3000, testSize: 2000 });
});

async function runOnnx(bytes: Uint8Array, x: Float32Array, rows: number, d: number, input = 'input', output = 'output'): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  expect(session.inputNames).toEqual([input]);
  expect(session.outputNames).toEqual([output]);
  const r = await session.run({ [input]: new ort.Tensor('float32', x, [rows, d]) });
  return r[output]!.data as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Op types of the exported graph, decoded with a hand-written minimal reader of the ONNX field numbers. */
function opTypes(bytes: Uint8Array): string[] {
  const r = protobuf.Reader.create(bytes);
  const ops: string[] = [];
  const readNode = (end: number) => {
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 4) ops.push(r.string());
      else r.skipType(tag & 7);
    }
  };
  const readGraph = (end: number) => {
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) {
        const len = r.uint32();
        readNode(r.pos + len);
      } else r.skipType(tag & 7);
    }
  };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 7) {
      const len = r.uint32();
      readGraph(r.pos + len);
    } else r.skipType(tag & 7);
  }
  return ops;
}

describe('toOnnx', () => {
  it('MNIST: onnxruntime predictions equal wasmfit predictions within 1e-5 on the held-out digits', async () => {
    const model = new Sequential({
      inputShape: [784],
      seed: 5,
      layers: [
        dense(48), batchNorm(), activation('relu'), dropout(0.2),
        dense(32, { activation: 'elu', alpha: 0.7 }), dense(24, { activation: 'leakyRelu', alpha: 0.1 }),
        dense(16, { activation: 'tanh' }), dense(16, { activation: 'sigmoid', useBias: false }), dense(10),
      ],
    });
    model.compile({ optimizer: adam({ lr: 0.003 }), loss: 'softmaxCrossEntropy' });
    await model.fit(digits.train.x, digits.train.y, { epochs: 2, batchSize: 64 });
    const { accuracy } = model.evaluate(digits.test.x, digits.test.y);
    expect(accuracy).toBeGreaterThan(0.6); // trained, not random: the comparison exercises real weights
    const bytes = toOnnx(model);
    expect(opTypes(bytes)).toEqual(['Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'Elu', 'Gemm', 'LeakyRelu', 'Gemm', 'Tanh', 'MatMul', 'Sigmoid', 'Gemm', 'Softmax']);
    const ours = model.predict(digits.test.x).data;
    const theirs = await runOnnx(bytes, digits.test.x, digits.test.rows, 784);
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
    // logits: the graph without the final Softmax
    const logits = await runOnnx(toOnnx(model, { output: 'logits', inputName: 'x', outputName: 'z' }), digits.test.x.subarray(0, 784 * 50), 50, 784, 'x', 'z');
    const p0 = Array.from(logits.subarray(0, 10)).map(Math.exp);
    const s = p0.reduce((a, v) => a + v, 0);
    p0.forEach((v, j) => expect(v / s).toBeCloseTo(ours[j]!, 5));
    model.dispose();
  });

  it('custom-loss models end like predict: raw outputs, or the probabilities of a softmax last layer', async () => {
    const x = Float32Array.from({ length: 32 * 6 }, (_, i) => Math.sin(i * 0.37));
    const sq = (t: Float32Array, p: Float32Array) => ({ loss: p.reduce((a, v, i) => a + (v - t[i]!) ** 2, 0) / p.length, grad: p.map((v, i) => (2 * (v - t[i]!)) / p.length) });
    for (const last of [dense(3), dense(3, { activation: 'softmax' })]) {
      const model = new Sequential({ inputShape: 6, layers: [dense(8, { activation: 'tanh' }), last], seed: 2 });
      model.compile({ optimizer: sgd({ lr: 0.05 }), loss: { name: 'sq', fn: sq } });
      await model.fit(x, Float32Array.from({ length: 32 * 3 }, (_, i) => (i % 3 === 0 ? 1 : 0)), { epochs: 2, batchSize: 8 });
      const bytes = toOnnx(model);
      expect(opTypes(bytes)).toEqual(last.activation === 'softmax' ? ['Gemm', 'Tanh', 'Gemm', 'Softmax'] : ['Gemm', 'Tanh', 'Gemm']);
      expect(maxAbsDiff(model.predict(x).data, await runOnnx(bytes, x, 32, 6))).toBeLessThan(1e-5);
      model.dispose();
    }
  });

  it('regression and binary cross-entropy models end like predict (raw outputs / sigmoid)', async () => {
    const x = Float32Array.from({ length: 64 * 6 }, (_, i) => Math.sin(i * 0.37));
    for (const loss of ['mse', 'binaryCrossentropy'] as const) {
      const model = new Sequential({ inputShape: 6, layers: [dense(8, { activation: 'tanh' }), dense(3)], seed: 2 });
      model.compile({ optimizer: sgd({ lr: 0.05 }), loss });
      await model.fit(x, Float32Array.from({ length: 64 * 3 }, (_, i) => (i % 3 === 0 ? 1 : 0)) as never, { epochs: 3, batchSize: 16 });
      const bytes = toOnnx(model);
      expect(opTypes(bytes)).toEqual(loss === 'mse' ? ['Gemm', 'Tanh', 'Gemm'] : ['Gemm', 'Tanh', 'Gemm', 'Sigmoid']);
      expect(maxAbsDiff(model.predict(x).data, await runOnnx(bytes, x, 64, 6))).toBeLessThan(1e-5);
      model.dispose();
    }
  });

  it('refuses bad options', () => {
    const model = new Sequential({ inputShape: 2, layers: [dense(2)] });
    expect(() => toOnnx({} as never)).toThrow(OptionError);
    expect(() => toOnnx(model, { output: 'probs' as never })).toThrow(/output = "probs"/);
    expect(() => toOnnx(model, { inputName: 'a', outputName: 'a' })).toThrow(/both 'a'/);
    expect(() => toOnnx(model, { opset: 9 } as never)).toThrow(/unknown option 'opset'/);
    model.dispose();
    expect(() => toOnnx(model)).toThrow(/disposed/);
  });
});
