/**
 * ONNX export for inference (`import { toOnnx } from 'wasmfit/onnx'`). Needs the `protobufjs`
 * package (an optional peer dependency of wasmfit: `npm install protobufjs`).
 * @packageDocumentation
 */
import protobuf from 'protobufjs/light.js';
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkFiniteTensors } from './container.js';
import { Sequential } from '../model/sequential.js';
import { describeStack } from '../layers/registry.js';
import type { StackParam } from '../layers/kind.js';
import type { Conv2dConfig } from '../layers/conv2d.js';
import type { Pool2dConfig } from '../layers/pooling.js';
import { geometry, pads } from '../layers/window.js';
import { torchOrder } from './safetensors.js';
import { checkOptions } from '../errors/validate.js';

/**
 * The subset of onnx.proto3 (github.com/onnx/onnx, onnx/onnx.proto3) an inference export needs, as
 * a protobufjs JSON descriptor. Field numbers are those of the ONNX schema; fields not listed are
 * never written.
 */
const ONNX_PROTO = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 }, docString: { type: 'string', id: 3 } } },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 } },
          nested: { Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
      },
    },
  },
};

/** ONNX `TensorProto.DataType.FLOAT` and `AttributeProto.AttributeType` codes. */
const FLOAT = 1;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;
/** `TensorProto.DataType.INT64` (Reshape's shape input). */
const INT64 = 7;
/** The default ai.onnx opset written (Gemm, BatchNormalization, Softmax… all at their opset-13 definitions). */
export const ONNX_OPSET = 13;
/** IR version 7 is the one opset 13 requires. */
const IR_VERSION = 7;

let modelType: protobuf.Type | null = null;
function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_PROTO).lookupType('onnx.ModelProto');
  return modelType;
}

/** Options of {@link toOnnx}. */
export interface ToOnnxOptions {
  /**
   * `'predict'` (default): the graph ends like `model.predict` — Softmax for softmax
   * cross-entropy, Sigmoid for binary cross-entropy, raw outputs for regression losses (and for
   * an uncompiled model, Softmax, as predict does). `'logits'`: the last layer's raw outputs.
   */
  output?: 'predict' | 'logits';
  /**
   * Graph input name (default `'input'`), float32, shape `[batch, features]`, or `[batch, height,
   * width, channels]` (NHWC, wasmfit's row layout) for a model with an image `inputShape`.
   */
  inputName?: string;
  /** Graph output name (default `'output'`), shape `[batch, outputs]`, float32. */
  outputName?: string;
  /** `ModelProto.doc_string` (default empty). */
  docString?: string;
}

type Node = { opType: string; input: string[]; output: string[]; name: string; attribute: { name: string; type: number; f?: number; i?: number; ints?: number[] }[] };

function f32Raw(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const v = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) v.setFloat32(i * 4, a[i]!, true);
  return out;
}

/**
 * Exports a model for inference as an ONNX `ModelProto` (IR version 7, opset 13), encoded with
 * protobufjs: each dense layer is a `Gemm` (`Y = X·W + b`, W stored `[in, out]`, no transpose) or
 * a `MatMul` when it has no bias; batch normalization is `BatchNormalization` in inference form
 * (running mean and variance, the layer's ε); activations are `Relu`, `LeakyRelu` (alpha),
 * `Elu` (alpha), `Sigmoid`, `Tanh`; dropout is removed; the output activation follows
 * {@link ToOnnxOptions.output}. The batch dimension is symbolic (`'batch'`). Runs in
 * onnxruntime (Node, web, Python) and any ONNX runtime supporting opset 13.
 *
 * Images: the graph takes NHWC input like wasmfit and runs ONNX's NCHW operators after a
 * `Transpose`: `conv2d` is `Conv` (W `[filters, channels, kh, kw]`, explicit `pads` — 'same'
 * padding's odd extra row/column at the bottom/right, as TensorFlow — `strides`, `dilations`),
 * `maxPool2d` is `MaxPool`, `avgPool2d` is `AveragePool` with `count_include_pad = 0` (padding
 * excluded from the average, as wasmfit), global pools are `GlobalAveragePool` / `GlobalMaxPool`
 * then `Flatten`, batch norm on images is `BatchNormalization` per channel. Before `flatten()` /
 * `reshape` the image goes back to NHWC (`Transpose`, then `Flatten` or `Reshape`), so the flat
 * rows keep wasmfit's (row, column, channel) order and dense kernels are exported as they are.
 *
 * @throws OptionError for bad options; DisposedError after `dispose()`.
 * @example
 * ```ts
 * import { toOnnx } from 'wasmfit/onnx';
 * writeFileSync('digits.onnx', toOnnx(model));
 * // python: onnxruntime.InferenceSession('digits.onnx').run(None, { 'input': x })
 * ```
 */
export function toOnnx(model: Sequential, options: ToOnnxOptions = {}): Uint8Array {
  const W = 'toOnnx';
  if (!(model instanceof Sequential)) throw new OptionError('model', `${W}: expected a Sequential model.`);
  model.assertUsable(W);
  if (options === null || typeof options !== 'object') throw new OptionError('options', `${W}: options must be an object.`);
  checkOptions(W, options, ['output', 'inputName', 'outputName', 'docString']);
  const output = options.output ?? 'predict';
  if (output !== 'predict' && output !== 'logits') throw new OptionError('output', `${W}: output = ${preview(output)}; expected 'predict' or 'logits'.`);
  const name = (k: 'inputName' | 'outputName', def: string) => {
    const v = options[k] ?? def;
    if (typeof v !== 'string' || v.length === 0) throw new OptionError(k, `${W}: ${k} must be a non-empty string.`);
    return v;
  };
  const inputName = name('inputName', 'input');
  const outputName = name('outputName', 'output');
  if (inputName === outputName) throw new OptionError('outputName', `${W}: inputName and outputName are both '${inputName}'; use two names.`);
  const docString = options.docString ?? '';
  if (typeof docString !== 'string') throw new OptionError('docString', `${W}: docString must be a string.`);

  const all = model.getWeights();
  // an ONNX file with NaN weights loads everywhere and predicts NaN: refuse it like the other writers
  checkFiniteTensors(all, W);
  const weights = new Map(all.map((w) => [w.name, w]));
  const initializer: { name: string; dims: number[]; dataType: number; rawData: Uint8Array }[] = [];
  const init = (n: string, p?: StackParam): string => {
    const w = weights.get(n)!;
    // NCHW operators (Conv) take PyTorch's layout: W [f, c, kh, kw]
    const torch = p?.torch.shape;
    const data = torch ? torchOrder(w.data, { key: n, name: n, shape: [...torch], transpose: p!.torch.transpose, nchw: (p!.torch.nchw ?? null) as [number, number] | null }) : w.data;
    initializer.push({ name: n, dims: torch ? [...torch] : w.shape, dataType: FLOAT, rawData: f32Raw(data) });
    return n;
  };
  const ints = (name: string, v: number | readonly number[]) => (typeof v === 'number' ? { name, type: ATTR.INT, i: v } : { name, type: ATTR.INTS, ints: [...v] });
  const nodes: Node[] = [];
  let cur = inputName;
  let seq = 0;
  const emit = (opType: string, inputs: string[], attribute: Node['attribute'] = []): void => {
    const out = `${opType.toLowerCase()}_${seq}`;
    nodes.push({ opType, input: inputs, output: [out], name: `${opType}_${seq++}`, attribute });
    cur = out;
  };
  const act = (a: string, alpha: number): void => {
    switch (a) {
      case 'linear':
        return;
      case 'relu':
        return emit('Relu', [cur]);
      case 'leakyRelu':
        return emit('LeakyRelu', [cur], [{ name: 'alpha', type: ATTR.FLOAT, f: alpha }]);
      case 'elu':
        return emit('Elu', [cur], [{ name: 'alpha', type: ATTR.FLOAT, f: alpha }]);
      case 'sigmoid':
        return emit('Sigmoid', [cur]);
      case 'tanh':
        return emit('Tanh', [cur]);
      case 'selu': // ONNX's defaults are SELU's constants; written out for readers
        return emit('Selu', [cur], [{ name: 'alpha', type: ATTR.FLOAT, f: 1.6732632 }, { name: 'gamma', type: ATTR.FLOAT, f: 1.050701 }]);
      default:
        throw new OptionError('activation', `${W}: activation ${a} has no ONNX mapping.`);
    }
  };
  // one node per parameter layer (from its kind), then its folded activation; dropout is the identity
  const entries = describeStack(model.inputShape, model.layers, W);
  const alien = entries.find((e) => e.kind.interop);
  if (alien) throw new OptionError('layers', `${W}: layers[${alien.position}] (${alien.kind.type}): ${alien.kind.interop}; save the model with saveModel instead.`);
  // images are NCHW inside the graph (ONNX's Conv and pooling layout); `img` is the current
  // tensor's [h, w, c] while it is an image, null while it is [batch, features]. Between layers,
  // images go back to NHWC before Flatten/Reshape, so flat rows keep wasmfit's (h, w, c) order.
  const input = model.inputShape;
  let img: readonly number[] | null = null;
  // the graph input, [batch, h, w, c], until the first layer
  let hwc: readonly number[] | null = input.length === 3 ? input : null;
  const layout = (want: readonly number[] | null): void => {
    if (String(img) === String(want) && !hwc) return;
    if (img) {
      emit('Transpose', [cur], [ints('perm', [0, 2, 3, 1])]);
      hwc = img;
    }
    if (want) {
      if (String(hwc) !== String(want)) {
        const n = `shape_${seq}`;
        const raw = new DataView(new ArrayBuffer(32));
        [-1, ...want].forEach((d, i) => raw.setBigInt64(i * 8, BigInt(d), true));
        initializer.push({ name: n, dims: [4], dataType: INT64, rawData: new Uint8Array(raw.buffer) });
        emit('Reshape', [cur, n]);
      }
      emit('Transpose', [cur], [ints('perm', [0, 3, 1, 2])]);
    } else if (hwc) emit('Flatten', [cur], [ints('axis', 1)]);
    img = want;
    hwc = null;
  };
  let softmaxLast = false;
  for (const e of entries) {
    softmaxLast = e.folded.softmax === true;
    layout(e.inShape.length === 3 ? e.inShape : null);
    const node = e.kind.onnx(e.config as never, e.inShape);
    const attrs: Node['attribute'] = Object.entries(node.floats ?? {}).map(([n, f]) => ({ name: n, type: ATTR.FLOAT, f }));
    for (const [n, v] of Object.entries(node.ints ?? {})) attrs.push(ints(n, v));
    // window layers (conv2d, maxPool2d, avgPool2d): explicit pads, [top, left, bottom, right]
    const win = e.config as Partial<Omit<Conv2dConfig, 'type'> & Omit<Pool2dConfig, 'type'>>;
    if (win.padding) {
      const k = (win.kernelSize ?? win.poolSize)!;
      const d = win.dilationRate ?? [1, 1];
      attrs.push(ints('kernel_shape', k), ints('strides', win.strides!), ...(win.dilationRate ? [ints('dilations', d)] : []), ints('pads', pads(geometry(e.inShape, k, win.strides!, d, win.padding, 0, W))));
      // the average of the values inside the image, as wasmfit's (and Keras's) average pooling
      if (node.op === 'AveragePool') attrs.push(ints('count_include_pad', 0));
    }
    emit(node.op, [cur, ...node.params.map((p) => init(`${e.kind.prefix}_${e.index}/${p}`, node.nchw ? e.params.find((q) => q.name === p) : undefined))], attrs);
    act(e.folded.act, e.folded.alpha);
    img = e.outShape.length === 3 ? e.outShape : null;
    // global pooling gives [batch, c, 1, 1]
    if (node.nchw && !img) emit('Flatten', [cur], [ints('axis', 1)]);
  }
  layout(null);
  if (output === 'predict') {
    const loss = model.compileOptions?.loss ?? 'softmaxCrossEntropy';
    const kind = typeof loss === 'string' ? loss : loss.type;
    // a custom loss sees (and predict returns) a softmax last layer's probabilities
    if (kind === 'softmaxCrossEntropy' || (kind === 'custom' && softmaxLast)) emit('Softmax', [cur], [{ name: 'axis', type: ATTR.INT, i: 1 }]);
    else if (kind === 'binaryCrossentropy') emit('Sigmoid', [cur]);
  }
  if (nodes.length === 0) emit('Identity', [cur]);
  nodes[nodes.length - 1]!.output = [outputName];
  const valueInfo = (n: string, dims: readonly number[]) => ({
    name: n,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, ...dims.map((d) => ({ dimValue: d }))] } } },
  });
  const T = onnxModelType();
  const msg = T.fromObject({
    irVersion: IR_VERSION,
    producerName: 'wasmfit',
    producerVersion: '0.1.0',
    docString,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'wasmfit',
      node: nodes,
      initializer,
      input: [valueInfo(inputName, input)],
      output: [valueInfo(outputName, [model.outputSize])],
    },
  });
  return T.encode(msg).finish();
}
