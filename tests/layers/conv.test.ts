// Convolutional models (conv2d, pooling, flatten) trained step by step against PyTorch 1.13:
// tests/fixtures/torch-cnn.json (scripts/fixtures/torch_cnn.py) holds the initial weights, six
// batches and the weights after every SGD (Nesterov momentum) and Adam step of the same network
// run by PyTorch on NCHW tensors. Both builds, through the public API (trainOnBatch). Also: shapes
// in summaries and errors, model files round trip, bad configurations refused with the fix named.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  OptionError, Sequential, activation, adam, avgPool2d, batchNorm, conv2d, dense, dropout, flatten, globalAveragePool2d, maxPool2d, reshape, sgd,
} from '../../ts/index.js';
import { deserializeModel, serializeModel } from '../../ts/io/model.js';
import { modelToSafetensors, readSafetensors } from '../../ts/io/safetensors.js';
import { BUILDS, runtimeFor, thrown } from '../helpers.js';

type Steps = { loss: number; weights: number[][] }[];
type Fixture = { initial: number[][]; batches: { x: number[]; y: number[] }[]; runs: { optimizer: 'sgd' | 'adam'; steps: Steps }[]; bn: { initial: number[][]; steps: Steps } };
const fx = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'torch-cnn.json'), 'utf8')) as Fixture;

const layers = () => [
  conv2d(4, { kernelSize: 3, padding: 'same', activation: 'relu' }),
  maxPool2d(),
  conv2d(5, { kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu' }),
  avgPool2d({ poolSize: 2, strides: 1, padding: 'same' }),
  flatten(),
  dense(4),
];

describe.each(BUILDS)('convolutional models vs PyTorch (%s build)', (build) => {
  /** Trains `m` on the fixture's batches and checks every step against PyTorch's weights and loss. */
  const follow = (m: Sequential, steps: Steps) => {
    let worst = 0;
    steps.forEach((step, i) => {
      const b = fx.batches[i]!;
      const logs = m.trainOnBatch(Float32Array.from(b.x), Int32Array.from(b.y));
      expect(Math.abs(logs.loss! - step.loss)).toBeLessThan(1e-5 * (1 + step.loss));
      m.getWeights().forEach((t, j) => {
        const want = step.weights[j]!;
        expect(t.data.length).toBe(want.length);
        for (let k = 0; k < want.length; k++) {
          const e = Math.abs(t.data[k]! - want[k]!);
          if (!(e <= 2e-5 * (1 + Math.abs(want[k]!)))) expect.fail(`step ${i + 1}, ${t.name}[${k}] = ${t.data[k]} vs PyTorch ${want[k]}`);
          worst = Math.max(worst, e);
        }
      });
    });
    expect(worst).toBeGreaterThan(0); // the runs differ in summation order; identical output would mean nothing ran
  };

  for (const run of fx.runs) {
    it(`${run.optimizer}: six steps give PyTorch's weights and losses`, async () => {
      const runtime = await runtimeFor(build);
      const m = new Sequential({ inputShape: [9, 8, 2], layers: layers(), seed: 0, runtime });
      m.setWeights(fx.initial.map((w) => ({ data: Float32Array.from(w) })));
      m.compile({ optimizer: run.optimizer === 'sgd' ? sgd({ lr: 0.05, momentum: 0.9, nesterov: true }) : adam({ lr: 0.01 }), loss: 'softmaxCrossEntropy' });
      follow(m, run.steps);
      m.dispose();
    });
  }

  it('batch norm over feature maps (BatchNorm2d): weights, running statistics and losses follow PyTorch', async () => {
    const runtime = await runtimeFor(build);
    const m = new Sequential({
      inputShape: [9, 8, 2],
      layers: [conv2d(3, { kernelSize: 3, padding: 'same' }), batchNorm({ momentum: 0.9, epsilon: 1e-5 }), activation('relu'), maxPool2d(), flatten(), dense(4)],
      runtime,
    });
    expect(m.getWeights().map((t) => t.shape)).toEqual([[3, 3, 2, 3], [3], [3], [3], [3], [3], [48, 4], [4]]);
    m.setWeights(fx.bn.initial.map((w) => ({ data: Float32Array.from(w) })));
    m.compile({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }), loss: 'softmaxCrossEntropy' });
    follow(m, fx.bn.steps);
    m.dispose();
  });
});

describe('convolutional model shapes and files', () => {
  it('summary shows image shapes; a model file round trip predicts the same bits', async () => {
    const runtime = await runtimeFor('simd');
    const m = new Sequential({ inputShape: [9, 8, 2], layers: [...layers().slice(0, 2), globalAveragePool2d(), dense(3)], seed: 3, runtime });
    expect(m.inputShape).toEqual([9, 8, 2]);
    expect(m.inputSize).toBe(144);
    expect(m.summary()).toMatch(/conv2d_0 \(relu, 3×3 same\)\s+\[null, 9, 8, 4\]\s+76/);
    expect(m.summary()).toMatch(/max_pool2d_0 .*\[null, 4, 4, 4\]/);
    expect(m.summary()).toMatch(/global_average_pool2d_0 .*\[null, 4\]/);
    const x = Float32Array.from(fx.batches[0]!.x.slice(0, 3 * 144));
    const before = m.predict(x).data;
    const back = deserializeModel(serializeModel(m), { runtime });
    expect(back.inputShape).toEqual([9, 8, 2]);
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(before));
    back.dispose();
    m.dispose();
  });

  it('refuses misplaced or misfitting layers with the fix named, and conv models in safetensors', async () => {
    const runtime = await runtimeFor('simd');
    const make = (inputShape: number[], ls: unknown[]) => () => new Sequential({ inputShape: inputShape as [number], layers: ls as never, runtime });
    expect(thrown(make([9, 8, 2], [conv2d(2, { kernelSize: 3 }), dense(3)]))).toMatchObject({ name: 'OptionError', message: expect.stringMatching(/dense\) takes \[features\] rows but receives \[7, 6, 2\]; put flatten\(\) before it/) });
    expect(thrown(make([784], [conv2d(2, { kernelSize: 3 }), flatten(), dense(3)]))).toMatchObject({ message: expect.stringMatching(/takes \[height, width, channels\] images but receives \[784\]; give the model inputShape \[height, width, channels\] or reshape/) });
    expect(thrown(make([4, 4, 1], [conv2d(2, { kernelSize: 5 }), flatten(), dense(3)]))).toMatchObject({ message: expect.stringMatching(/a 5×5 window does not fit a 4×4 input with padding 'valid'/) });
    expect(thrown(make([4, 4, 1], [conv2d(2, { kernelSize: 3 }), dense(3)]))).toBeInstanceOf(OptionError);
    expect(thrown(make([4, 4, 1], [conv2d(2, { kernelSize: 3, padding: 'same' })]))).toMatchObject({ message: expect.stringMatching(/ends with \[4, 4, 2\] outputs per row; end it with flatten\(\) and a dense layer/) });
    expect(thrown(make([4, 4, 1], [conv2d(2, { kernelSize: 3 }), flatten(), dropout(0.1), dense(2)]))).toMatchObject({ message: expect.stringMatching(/\(dropout\) follows flatten; put it right after the layer it applies to/) });
    expect(thrown(make([784], [reshape([28, 28, 2]), conv2d(2, { kernelSize: 3 }), flatten(), dense(3)]))).toMatchObject({ message: expect.stringMatching(/reshape\(\[28, 28, 2\]\) holds 1568 values per row but its input \[784\] has 784/) });
    expect(thrown(() => conv2d(3, {} as never))).toMatchObject({ name: 'OptionError', message: expect.stringMatching(/options need kernelSize/) });
    expect(thrown(() => conv2d(3, { kernelSize: [3, 0] }))).toMatchObject({ message: expect.stringMatching(/kernelSize = \[3,0\]; expected a positive integer or a \[height, width\] pair/) });
    expect(thrown(() => conv2d(3, { kernelSize: 3, padding: 'full' as never }))).toMatchObject({ message: expect.stringMatching(/padding = "full"; expected 'valid' or 'same'/) });
    expect(thrown(() => maxPool2d({ poolSize: 2, stride: 2 } as never))).toMatchObject({ message: expect.stringMatching(/unknown/) });
    expect(thrown(() => new Sequential({ inputShape: [28, 28] as never, layers: [dense(1)], runtime }))).toMatchObject({ message: expect.stringMatching(/expected \[features\] or \[height, width, channels\]/) });
    // a reshape turns flat rows into images
    const r = new Sequential({ inputShape: [16], layers: [reshape([4, 4, 1]), conv2d(2, { kernelSize: 3 }), flatten(), dense(2)], runtime });
    expect(r.predict(new Float32Array(32).fill(0.5)).shape).toEqual([2, 2]);
    // nn.Unflatten(1, (1, 4, 4)), Conv2d, Flatten, Linear (tests/io/cnn-interop.test.ts checks the layouts against PyTorch)
    expect([...readSafetensors(modelToSafetensors(r)).tensors.keys()].sort()).toEqual(['1.bias', '1.weight', '3.bias', '3.weight']);
    r.dispose();
  });
});
