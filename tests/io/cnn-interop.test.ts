// Convolutional models in PyTorch names and layouts (safetensors) and in ONNX (NHWC input, NCHW
// operators). tests/fixtures/torch-cnn-interop.json and torch-cnn-interop-<m>.safetensors
// (scripts/fixtures/torch_cnn_interop.py, Debian python3-torch 1.13) hold four seeded torch
// nn.Sequential CNNs written module by module as the README's NHWC ↔ NCHW table says, their
// state dicts, inputs, eval-mode outputs, the same weights converted to wasmfit's (Keras) layouts by
// torch's own view/permute, and one SGD training step of model "a". The tests check that
// torchKeys names the torch modules, that the torch file loads into the wasmfit stack and predicts
// torch's outputs, that wasmfit's export of the Keras-layout weights is the torch file tensor for
// tensor, that a training step from the imported weights gives torch's weights, and that the ONNX
// export run by onnxruntime predicts like wasmfit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, OptionError, Sequential, activation, adam, avgPool2d, batchNorm, conv2d, dense, dropout, flatten, globalAveragePool2d, globalMaxPool2d, init, maxPool2d, reshape, sgd, type LayerConfig } from '../../ts/index.js';
import { loadSafetensorsWeights, modelToSafetensors, readSafetensors, torchKeys, writeSafetensors, type SafetensorsTensor } from '../../ts/safetensors.js';
import { toOnnx } from '../../ts/io/onnx.js';

interface TorchModel {
  inputShape: number[];
  module: string;
  keys: string[];
  x: number[];
  logits: number[];
  probs: number[];
  weights: number[][];
  step?: { y: number[]; lr: number; loss: number; weights: number[][] };
}
const dir = join(__dirname, '..', 'fixtures');
const fx = JSON.parse(readFileSync(join(dir, 'torch-cnn-interop.json'), 'utf8')) as { torch: string; models: Record<string, TorchModel> };
const torchFile = (m: string) => new Uint8Array(readFileSync(join(dir, `torch-cnn-interop-${m}.safetensors`)));

/** The wasmfit stacks of the fixture's torch modules (see the script's comments). */
const STACKS: Record<string, () => LayerConfig[]> = {
  a: () => [
    conv2d(4, { kernelSize: 3, padding: 'same' }), batchNorm({ momentum: 0.9, epsilon: 1e-3 }), activation('relu'),
    conv2d(6, { kernelSize: 5, strides: 2, activation: 'elu', alpha: 0.7 }),
    conv2d(6, { kernelSize: [2, 3], padding: 'same', dilationRate: [1, 2], activation: 'tanh' }),
    conv2d(8, { kernelSize: 2, strides: 2, padding: 'same', activation: 'leakyRelu', alpha: 0.1 }),
    maxPool2d({ poolSize: 2, strides: 1, padding: 'same' }),
    avgPool2d({ poolSize: 3, strides: 1, padding: 'same' }),
    flatten(), dense(5),
  ],
  b: () => [reshape([4, 5, 1]), conv2d(3, { kernelSize: 3 }), flatten(), batchNorm({ epsilon: 1e-3 }), dense(4)],
  c: () => [conv2d(3, { kernelSize: 3, padding: 'same', activation: 'relu' }), globalAveragePool2d(), dense(4)],
  d: () => [conv2d(3, { kernelSize: 3, padding: 'same', activation: 'relu' }), globalMaxPool2d(), dense(4)],
};
const NAMES = Object.keys(STACKS);

function build(name: string, seed = 1): Sequential {
  const m = new Sequential({ inputShape: fx.models[name]!.inputShape as never, layers: STACKS[name]!(), seed });
  m.compile({ optimizer: sgd({ lr: fx.models[name]!.step?.lr ?? 0.05 }), loss: 'softmaxCrossEntropy' });
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

describe('safetensors in PyTorch names and layouts (fixture: torch ' + fx.torch + ')', () => {
  it.each(NAMES)('model %s: torchKeys are the torch state-dict keys, with its shapes', (name) => {
    const m = build(name);
    const file = readSafetensors(torchFile(name));
    const keys = torchKeys(m.inputShape, m.layers);
    expect(keys.map((k) => k.key)).toEqual(fx.models[name]!.keys);
    for (const k of keys) expect(k.shape, k.key).toEqual(file.tensors.get(k.key)!.shape);
    m.dispose();
  });

  it.each(NAMES)("model %s: the torch file loads into wasmfit's layouts and predicts torch's outputs", (name) => {
    const fxm = fx.models[name]!;
    const m = build(name);
    loadSafetensorsWeights(m, torchFile(name));
    // the weights torch's view/permute put in Keras layout, value for value
    m.getWeights().forEach((w, i) => expect(Array.from(w.data), w.name).toEqual(Array.from(f32(fxm.weights[i]!))));
    const p = m.predict(f32(fxm.x)).data;
    expect(maxAbsDiff(p, fxm.probs)).toBeLessThan(2e-6);
    m.dispose();
  });

  it.each(NAMES)('model %s: exporting the Keras-layout weights gives the torch file, tensor for tensor', (name) => {
    const fxm = fx.models[name]!;
    const m = build(name);
    m.setWeights(fxm.weights.map((w) => ({ data: f32(w) })));
    const ours = readSafetensors(modelToSafetensors(m));
    const theirs = readSafetensors(torchFile(name));
    expect([...ours.tensors.keys()].sort()).toEqual([...theirs.tensors.keys()].sort());
    for (const [k, t] of theirs.tensors) {
      const o = ours.tensors.get(k)!;
      expect(o.shape, k).toEqual(t.shape);
      expect(o.dtype, k).toBe(t.dtype);
      if (!k.endsWith('num_batches_tracked')) expect(bytesEqual(o.data, t.data), k).toBe(true);
    }
    m.dispose();
  });

  it('model a: one SGD step from the imported weights gives torch\'s weights and running statistics', () => {
    const fxm = fx.models.a!;
    const m = build('a');
    loadSafetensorsWeights(m, torchFile('a'));
    const logs = m.trainOnBatch(f32(fxm.x), Int32Array.from(fxm.step!.y));
    expect(logs.loss).toBeCloseTo(fxm.step!.loss, 5);
    m.getWeights().forEach((w, i) => {
      const want = fxm.step!.weights[i]!;
      const scale = Math.max(...want.map(Math.abs));
      expect(maxAbsDiff(w.data, want) / scale, w.name).toBeLessThan(2e-5);
    });
    // exported after the step: num_batches_tracked counts on from the file's value (the fixture
    // script sets 3) by one training batch, as torch's module counts it: 3 + 1
    const f = readSafetensors(modelToSafetensors(m));
    expect(new DataView(f.tensors.get('1.num_batches_tracked')!.data.buffer).getBigInt64(0, true)).toBe(4n);
    m.dispose();
  });

  it('a trained wasmfit CNN → safetensors → a fresh model: the same weights, predictions and file bytes', async () => {
    const layers = [
      conv2d(5, { kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), batchNorm(), dropout(0.1),
      maxPool2d({ poolSize: 3, strides: 2, padding: 'same' }), conv2d(4, { kernelSize: [1, 3], useBias: false }),
      avgPool2d({ poolSize: 2, padding: 'same' }), flatten(), dense(6, { activation: 'tanh' }), batchNorm(), dense(3),
    ];
    const x = Float32Array.from({ length: 14 * 11 * 9 * 2 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
    const y = Int32Array.from({ length: 14 }, (_, i) => i % 3);
    const a = new Sequential({ inputShape: [11, 9, 2], layers, seed: 3 });
    a.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    await a.fit(x, y, { epochs: 3, batchSize: 7 });
    const bytes = modelToSafetensors(a);
    const b = new Sequential({ inputShape: [11, 9, 2], layers, seed: 4 });
    b.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    loadSafetensorsWeights(b, bytes);
    a.getWeights().forEach((w, i) => expect(bytesEqual(new Uint8Array(b.getWeights()[i]!.data.buffer), new Uint8Array(w.data.buffer)), w.name).toBe(true));
    expect(bytesEqual(new Uint8Array(b.predict(x).data.buffer), new Uint8Array(a.predict(x).data.buffer))).toBe(true);
    // Conv2d(padding=(1, 1)) 0 (3×3/2 'same' on 11×9: 1 row/column on each side → 6×5), ReLU 1,
    // BatchNorm2d 2, Dropout 3; the 3×3/2 'same' max pool on 6×5 pads rows 0/1 (uneven) and columns
    // 1/1: ConstantPad2d 4, MaxPool2d 5 (→ 3×3); Conv2d 6 (→ 3×1), AvgPool2d 7 (→ 2×1), Flatten 8,
    // Linear 9 (8 inputs), Tanh 10, BatchNorm1d 11, Linear 12
    expect(torchKeys([11, 9, 2], layers).map((k) => `${k.key} ${k.shape.join('×')}`)).toEqual([
      '0.weight 5×2×3×3', '0.bias 5', '2.weight 5', '2.bias 5', '2.running_mean 5', '2.running_var 5', '2.num_batches_tracked ',
      '6.weight 4×5×1×3', '9.weight 6×8', '9.bias 6', '11.weight 6', '11.bias 6', '11.running_mean 6', '11.running_var 6', '11.num_batches_tracked ', '12.weight 3×6', '12.bias 3',
    ]);
    const c = new Sequential({ inputShape: [11, 9, 2], layers, seed: 5 });
    loadSafetensorsWeights(c, bytes);
    expect(bytesEqual(modelToSafetensors(b), modelToSafetensors(c))).toBe(true);
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('refuses layers PyTorch cannot express, naming the layer and why; a mis-laid file leaves the weights as they were', () => {
    const refused = (inputShape: number[], layers: LayerConfig[], msg: RegExp) => {
      const m = new Sequential({ inputShape: inputShape as never, layers });
      let err: unknown;
      try {
        modelToSafetensors(m);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OptionError);
      expect((err as Error).message).toMatch(msg);
      expect(() => torchKeys(inputShape, layers)).toThrow(msg);
      m.dispose();
    };
    // channels-last rows read as (c, h, w) by nn.Unflatten would scramble the image
    refused([16], [reshape([2, 2, 4]), conv2d(2, { kernelSize: 1 }), flatten(), dense(2)], /layers\[0\] \(reshape\): nn\.Unflatten reads \(c, h, w\) order, wasmfit \(h, w, c\).*give the model inputShape \[2,2,4\] instead\); save the model with saveModel instead/);
    refused([4, 4, 2], [conv2d(2, { kernelSize: 1 }), flatten(), reshape([4, 8, 1]), conv2d(1, { kernelSize: 1 }), flatten(), dense(2)], /layers\[2\] \(reshape\)/);
    refused([4, 4, 2], [conv2d(2, { kernelSize: 1 }), reshape([8, 4, 1]), conv2d(1, { kernelSize: 1 }), flatten(), dense(2)], /layers\[1\] \(reshape\): no PyTorch module reshapes NCHW images/);
    // flatten then reshape back to the same image is nn.Flatten + nn.Unflatten(1, (c, h, w)): fine
    expect(torchKeys([4, 4, 2], [conv2d(2, { kernelSize: 1 }), flatten(), reshape([4, 4, 2]), conv2d(1, { kernelSize: 1 }), flatten(), dense(2)]).map((k) => k.key)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '5.weight', '5.bias']);

    const m = build('a');
    const before = m.getWeights();
    const good = readSafetensors(torchFile('a')).tensors;
    const edit = (key: string, t: SafetensorsTensor) => writeSafetensors(new Map(good).set(key, t));
    // a conv kernel in Keras layout [kh, kw, c, f] instead of torch's [f, c, kh, kw]
    const w0 = good.get('0.weight')!;
    expect(() => loadSafetensorsWeights(m, edit('0.weight', { ...w0, shape: [3, 3, 3, 4] }))).toThrow(FormatError);
    expect(() => loadSafetensorsWeights(m, edit('0.weight', { ...w0, shape: [3, 3, 3, 4] }))).toThrow(/tensor '0\.weight'\.shape is \[3,3,3,4\]; the model needs \[4,3,3,3\] \(PyTorch layout \[out, in, kh, kw\]\)/);
    const lin = good.get('14.weight')!;
    expect(() => loadSafetensorsWeights(m, edit('14.weight', { ...lin, shape: [96, 5] }))).toThrow(/the model needs \[5,96\]/);
    expect(m.getWeights()).toEqual(before);
    m.dispose();
  });
});

describe('toOnnx: convolutional models in onnxruntime (NHWC input, NCHW operators)', () => {
  it.each(NAMES)('model %s with the torch weights: onnxruntime equals wasmfit predict (batch 7 and 1) and torch', async (name) => {
    const fxm = fx.models[name]!;
    const m = build(name);
    loadSafetensorsWeights(m, torchFile(name));
    const x = f32(fxm.x);
    const dims = [7, ...fxm.inputShape];
    const ours = m.predict(x).data;
    const onnx = toOnnx(m);
    expect(maxAbsDiff(await runOnnx(onnx, x, dims), ours)).toBeLessThan(2e-6);
    const one = x.subarray(0, x.length / 7);
    expect(maxAbsDiff(await runOnnx(onnx, one, [1, ...fxm.inputShape]), m.predict(one).data)).toBeLessThan(2e-6);
    // logits: torch's, independently of wasmfit
    const logits = await runOnnx(toOnnx(m, { output: 'logits' }), x, dims);
    logits.forEach((v, i) => expect(Math.abs(v - fxm.logits[i]!)).toBeLessThan(2e-5 * (1 + Math.abs(fxm.logits[i]!))));
    m.dispose();
  });

  it('writes Conv/MaxPool/AveragePool with explicit pads, Transposes around Flatten, and matches a trained model', async () => {
    const layers = [
      conv2d(5, { kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), batchNorm(), dropout(0.1),
      maxPool2d({ poolSize: 3, strides: 2, padding: 'same' }), conv2d(4, { kernelSize: [1, 3], useBias: false, activation: 'sigmoid' }),
      avgPool2d({ poolSize: 2, padding: 'same' }), reshape([1, 2, 4]), conv2d(3, { kernelSize: 1 }), flatten(), dense(6, { activation: 'tanh' }), dense(3),
    ];
    const x = Float32Array.from({ length: 14 * 13 * 10 * 2 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
    const y = Int32Array.from({ length: 14 }, (_, i) => i % 3);
    const m = new Sequential({ inputShape: [13, 10, 2], layers, seed: 3 });
    m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
    await m.fit(x, y, { epochs: 3, batchSize: 7 });
    const bytes = toOnnx(m);
    const got = await runOnnx(bytes, x, [14, 13, 10, 2]);
    expect(maxAbsDiff(got, m.predict(x).data)).toBeLessThan(2e-6);
    const graph = onnxGraph(bytes);
    expect(graph.map((n) => n.op)).toEqual([
      'Transpose', 'Conv', 'Relu', 'BatchNormalization', 'MaxPool', 'Conv', 'Sigmoid', 'AveragePool',
      'Transpose', 'Reshape', 'Transpose', 'Conv', 'Transpose', 'Flatten', 'Gemm', 'Tanh', 'Gemm', 'Softmax',
    ]);
    // TensorFlow's 'same' (pads [top, left, bottom, right]): 3×3/2 on 13×10 → 7×5, total padding
    // 2 rows (1/1) and 1 column (0/1); 3×3/2 max pool on 7×5 → 4×3, 2 and 2 (1/1, 1/1); the [1, 3]
    // conv → 4×1; 2×2/2 avg pool on 4×1 → 2×1, 0 rows and 1 column (0/1)
    expect(graph[1]!.ints).toEqual({ kernel_shape: [3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 0, 1, 1] });
    expect(graph[4]!.ints).toEqual({ kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    expect(graph[7]!.ints).toEqual({ kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 1], count_include_pad: 0 });
    m.dispose();
  });

  it('an image model that starts with flatten() is a dense network on NHWC rows', async () => {
    const m = new Sequential({ inputShape: [5, 3, 2], layers: [flatten(), dense(4, { activation: 'relu' }), dense(2)], seed: 2 });
    m.compile({ optimizer: sgd(), loss: 'mse' });
    const x = Float32Array.from({ length: 30 * 3 }, (_, i) => Math.sin(i));
    const bytes = toOnnx(m);
    expect(onnxGraph(bytes).map((n) => n.op)).toEqual(['Flatten', 'Gemm', 'Relu', 'Gemm']);
    expect(maxAbsDiff(await runOnnx(bytes, x, [3, 5, 3, 2]), m.predict(x).data)).toBeLessThan(1e-6);
    m.dispose();
  });
});

/** Op types and integer attributes of the exported graph, read with a hand-written reader of the ONNX field numbers. */
function onnxGraph(bytes: Uint8Array): { op: string; ints: Record<string, number | number[]> }[] {
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = bytes[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  /** Calls f(field, wire, end) for every field up to `end`; f must consume length-delimited fields. */
  const fields = (end: number, f: (field: number, wire: number, end: number) => boolean) => {
    while (pos < end) {
      const tag = varint();
      const wire = tag & 7;
      if (wire === 2) {
        const len = varint();
        const stop = pos + len;
        if (!f(tag >>> 3, wire, stop)) pos = stop;
        pos = stop;
      } else if (wire === 0) {
        const v = varint();
        f(tag >>> 3, wire, v);
      } else if (wire === 5) pos += 4;
      else pos += 8;
    }
  };
  const text = (end: number) => new TextDecoder().decode(bytes.subarray(pos, end));
  const nodes: { op: string; ints: Record<string, number | number[]> }[] = [];
  fields(bytes.length, (field, _w, end) => {
    if (field !== 7) return false;
    fields(end, (g, _w2, gend) => {
      if (g !== 1) return false;
      const node = { op: '', ints: {} as Record<string, number | number[]> };
      fields(gend, (nf, _w3, nend) => {
        if (nf === 4) node.op = text(nend);
        if (nf !== 5) return false;
        let name = '';
        let i: number | null = null;
        const list: number[] = [];
        fields(nend, (af, wire, aend) => {
          if (af === 1) name = text(aend);
          else if (af === 20 && aend === 2) i ??= 0; // type INT; proto3 leaves out a 0 value
          else if (af === 3 && wire === 0) i = aend;
          else if (af === 8 && wire === 0) list.push(aend);
          else if (af === 8 && wire === 2) {
            while (pos < aend) list.push(varint());
            return true;
          }
          return false;
        });
        if (i !== null) node.ints[name] = i;
        else if (list.length) node.ints[name] = list;
        return true;
      });
      nodes.push(node);
      return true;
    });
    return true;
  });
  return nodes;
}
