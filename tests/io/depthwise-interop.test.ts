// Depthwise convolutions in PyTorch names and layouts (safetensors) and in ONNX (Conv with group =
// channels), against tests/fixtures/torch-depthwise.json and torch-depthwise-interop.safetensors
// (scripts/fixtures/torch_depthwise.py, Debian python3-torch 1.13): a seeded torch nn.Sequential
// with a depthwise ×2 convolution, a pointwise one and a strided depthwise one ('same', uneven:
// nn.ZeroPad2d), its state dict, eval outputs, and one SGD step. The torch file loads into the
// wasmfit stack and predicts torch's outputs; exporting the Keras-layout weights gives the torch
// file tensor for tensor; one training step from the imported weights gives torch's weights; the
// ONNX export run by onnxruntime predicts like wasmfit and torch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, Sequential, conv2d, dense, depthwiseConv2d, globalAveragePool2d, init, sgd } from '../../ts/index.js';
import { loadSafetensorsWeights, modelToSafetensors, readSafetensors, torchKeys, writeSafetensors } from '../../ts/safetensors.js';
import { toOnnx } from '../../ts/io/onnx.js';

interface TorchModel {
  inputShape: number[];
  keys: string[];
  x: number[];
  logits: number[];
  probs: number[];
  weights: number[][];
  step: { y: number[]; lr: number; loss: number; weights: number[][] };
}
const dir = join(__dirname, '..', 'fixtures');
const fx = (JSON.parse(readFileSync(join(dir, 'torch-depthwise.json'), 'utf8')) as { interop: TorchModel }).interop;
const torchFile = () => new Uint8Array(readFileSync(join(dir, 'torch-depthwise-interop.safetensors')));

const layers = () => [
  depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu' }),
  conv2d(8, { kernelSize: 1 }),
  depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }),
  globalAveragePool2d(),
  dense(4),
];
function build(seed = 1): Sequential {
  const m = new Sequential({ inputShape: fx.inputShape as [number, number, number], layers: layers(), seed });
  m.compile({ optimizer: sgd({ lr: fx.step.lr }), loss: 'softmaxCrossEntropy' });
  return m;
}
const f32 = (xs: number[]) => Float32Array.from(xs);
const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
async function runOnnx(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const r = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, dims) });
  return r[session.outputNames[0]!]!.data as Float32Array;
}

beforeAll(async () => {
  await init();
});

describe('depthwiseConv2d ↔ PyTorch nn.Conv2d(groups = channels)', () => {
  it('torchKeys name the torch modules (nn.ZeroPad2d before the uneven strided one) with torch shapes', () => {
    const m = build();
    const keys = torchKeys(m.inputShape, m.layers);
    expect(keys.map((k) => k.key)).toEqual(fx.keys);
    expect(keys.map((k) => `${k.key} ${k.shape.join('×')}`)).toEqual(['0.weight 6×1×3×3', '0.bias 6', '2.weight 8×6×1×1', '2.bias 8', '4.weight 8×1×3×3', '4.bias 8', '7.weight 4×8', '7.bias 4']);
    const file = readSafetensors(torchFile());
    for (const k of keys) expect(k.shape, k.key).toEqual(file.tensors.get(k.key)!.shape);
    m.dispose();
  });

  it("the torch file loads into Keras layouts ([kh, kw, c, m]) and predicts torch's outputs", () => {
    const m = build();
    loadSafetensorsWeights(m, torchFile());
    m.getWeights().forEach((w, i) => expect(Array.from(w.data), w.name).toEqual(Array.from(f32(fx.weights[i]!))));
    expect(m.getWeights()[0]!.shape).toEqual([3, 3, 3, 2]);
    expect(maxAbsDiff(m.predict(f32(fx.x)).data, fx.probs)).toBeLessThan(2e-6);
    m.dispose();
  });

  it('exporting the Keras-layout weights gives the torch file, tensor for tensor', () => {
    const m = build();
    m.setWeights(fx.weights.map((w) => ({ data: f32(w) })));
    const ours = readSafetensors(modelToSafetensors(m));
    const theirs = readSafetensors(torchFile());
    expect([...ours.tensors.keys()].sort()).toEqual([...theirs.tensors.keys()].sort());
    for (const [k, t] of theirs.tensors) {
      expect(ours.tensors.get(k)!.shape, k).toEqual(t.shape);
      expect(bytesEqual(ours.tensors.get(k)!.data, t.data), k).toBe(true);
    }
    m.dispose();
  });

  it("one SGD step from the imported weights gives torch's loss and weights", () => {
    const m = build();
    loadSafetensorsWeights(m, torchFile());
    const logs = m.trainOnBatch(f32(fx.x), Int32Array.from(fx.step.y));
    expect(logs.loss).toBeCloseTo(fx.step.loss, 5);
    m.getWeights().forEach((w, i) => {
      const want = fx.step.weights[i]!;
      const scale = Math.max(...want.map(Math.abs));
      expect(maxAbsDiff(w.data, want) / scale, w.name).toBeLessThan(2e-5);
      // the step moved every tensor (the comparison is not of unchanged weights)
      expect(maxAbsDiff(want, fx.weights[i]!), w.name).toBeGreaterThan(1e-4);
    });
    m.dispose();
  });

  it('a depthwise kernel in the wrong layout is refused with the torch shape named; the weights stay as they were', () => {
    const m = build();
    const before = m.getWeights();
    const good = readSafetensors(torchFile()).tensors;
    const w0 = good.get('0.weight')!;
    const bad = writeSafetensors(new Map(good).set('0.weight', { ...w0, shape: [3, 3, 3, 2] }));
    expect(() => loadSafetensorsWeights(m, bad)).toThrow(FormatError);
    expect(() => loadSafetensorsWeights(m, bad)).toThrow(/tensor '0\.weight'\.shape is \[3,3,3,2\]; the model needs \[6,1,3,3\]/);
    expect(m.getWeights()).toEqual(before);
    m.dispose();
  });

  it('ONNX: Conv with group = channels; onnxruntime equals wasmfit predict (batch 7 and 1) and torch logits', async () => {
    const m = build();
    loadSafetensorsWeights(m, torchFile());
    const x = f32(fx.x);
    const dims = [7, ...fx.inputShape];
    const onnx = toOnnx(m);
    expect(maxAbsDiff(await runOnnx(onnx, x, dims), m.predict(x).data)).toBeLessThan(2e-6);
    const one = x.subarray(0, x.length / 7);
    expect(maxAbsDiff(await runOnnx(onnx, one, [1, ...fx.inputShape]), m.predict(one).data)).toBeLessThan(2e-6);
    const logits = await runOnnx(toOnnx(m, { output: 'logits' }), x, dims);
    logits.forEach((v, i) => expect(Math.abs(v - fx.logits[i]!)).toBeLessThan(2e-5 * (1 + Math.abs(fx.logits[i]!))));
    // the group attribute is what makes it depthwise: the bytes say group 3 and group 8
    const text = Buffer.from(onnx).toString('latin1');
    expect(text.match(/group/g)?.length).toBe(2);
    m.dispose();
  });
});
