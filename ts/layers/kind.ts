/**
 * What a layer kind is, said once: its parameter tensors (names, shapes, initial values,
 * penalties, whether the optimizer trains them), its output size, its PyTorch and ONNX mapping and
 * the fields of its plan record. Every place that walks a model's tensors — allocation,
 * getWeights/setWeights, checkpoints, model files, safetensors, ONNX, the summary, the plan —
 * iterates {@link describeStack}'s entries instead of working the layout out again.
 *
 * A layer kind is one module (`dense.ts`, `batch-norm.ts`, …) exporting its config type, its
 * factory and its {@link LayerKind}, listed once in `kinds.ts`; its kernel side is one module of
 * crates/kernels/src/layers/ with the same code. Dropout and activation layers are not kinds: they
 * fold into the preceding layer (its record's dropout rate and activation).
 */
import type { Initializer } from './initializers.js';
import type { ActivationName } from '../runtime/abi.js';
import type { Ptr } from '../runtime/arena.js';
import type { DenseParams } from '../model/plan.js';

/** One parameter tensor of a layer kind. */
export interface ParamSpec {
  /** Keras weight name within the layer (`kernel`, `bias`, `gamma`, `moving_mean`, …). */
  readonly name: string;
  /** Shape in wasmfit's (Keras's) layout, e.g. a dense kernel is `[inputs, units]`. */
  readonly shape: readonly number[];
  /** Trained by the optimizer (has a gradient and optimizer state); false for running statistics. */
  readonly trainable: boolean;
  /** Initial values: an initializer with the fans it uses. */
  readonly init: { readonly initializer: Initializer; readonly fanIn: number; readonly fanOut: number };
  /** Keras-convention penalty `l1·Σ|w| + l2·Σw²` (0 for none). */
  readonly penalty: { readonly l1: number; readonly l2: number };
  /**
   * The PyTorch state-dict name within the module and whether PyTorch stores it transposed
   * (`[out, in]`); a conv kernel `[kh, kw, c, f]` is also reordered channels-first (`nchw`:
   * `[kh·kw, c]`, so PyTorch's `[f, c, kh, kw]` is its `shape`).
   */
  readonly torch: { readonly name: string; readonly transpose: boolean; readonly shape?: readonly number[]; readonly nchw?: readonly [number, number] };
  /** Values must be >= 0 (a variance). */
  readonly nonNegative?: boolean;
}

/** The activation and dropout folded into a parameter layer from the layers after it. */
export interface Folded {
  act: ActivationName;
  alpha: number;
  dropout: number;
  /**
   * The layer ends in a softmax (`activation: 'softmax'`): `act` stays `'linear'` (the layer
   * computes logits) and the softmax is the one of the softmax cross-entropy loss and of
   * `predict`. Only the model's last layer may have it; only that loss may train it.
   */
  softmax?: boolean;
}

/** What every layer config has: its kind's `type`. */
export interface KindConfig {
  readonly type: string;
}

/** A layer kind. @internal */
export interface LayerKind<C extends KindConfig = KindConfig> {
  /** The config `type` this kind handles. */
  readonly type: C['type'];
  /** The record's `kind` code: the kernel module's `CODE` (crates/kernels/src/layers/). */
  readonly code: number;
  /**
   * The kernel module (crates/kernels/src/layers/<kernel>.rs) when it is not the config type in
   * snake case: global pooling runs the pooling kernels with a window the size of the image.
   */
  readonly kernel?: string;
  /** The config's keys besides `type` (hand-written configs are checked against them). */
  readonly keys: readonly string[];
  /** Keys that are factory arguments (`units`): passed to `build` as they are, null included. */
  readonly positional?: readonly string[];
  /** Keys whose value may be null (meaning none: an optional constraint or regularizer). */
  readonly nullable?: readonly string[];
  /**
   * The config rebuilt with the kind's factory from a hand-written one's own, defined, non-null
   * fields (so defaults are filled in and every value is checked as the factory checks it).
   */
  build(fields: Readonly<Record<string, unknown>>): C;
  /**
   * Draws from the model's random stream while training (as dropout does): full-batch optimizers
   * are refused, and Monte Carlo sampling keeps it on.
   */
  readonly stochastic?: boolean;
  /** Weight-name prefix: tensors are named `<prefix>_<i>/<param>` with `i` counted per kind. */
  readonly prefix: string;
  /** Output features for `nIn` input features. */
  outputSize(config: C, nIn: number): number;
  /**
   * The output shape for an input shape, for kinds that take images (`[height, width,
   * channels]`); throws an OptionError naming the fix when the input does not suit the layer.
   * Kinds without it take only flat inputs (`[features]`) and output `[outputSize]`, except
   * `shapePreserving` ones.
   */
  outputShape?(config: C, inShape: readonly number[], where: string): number[];
  /** Elementwise kinds (noise): any input shape, output of the same shape. */
  readonly shapePreserving?: boolean;
  /**
   * Has no backward (augmentation): the layer must come before every layer with parameters, where
   * no gradient is needed (describeStack refuses it elsewhere).
   */
  readonly inputOnly?: boolean;
  /** The parameter tensors, in getWeights order (none for a kind without parameters). */
  params(config: C, nIn: number, inShape: readonly number[]): ParamSpec[];
  /** The activation and parameters the layer itself brings (before folding). */
  folded(config: C): Folded;
  /**
   * Training normalizes with statistics of the batch (batch norm): training batches need at least
   * 2 rows, and full-batch optimizers (L-BFGS, CG) are refused.
   */
  readonly usesBatchStatistics?: boolean;
  /** Why the kind has no PyTorch / ONNX mapping yet (safetensors and ONNX refuse it), when it has none. */
  readonly interop?: string;
  /** Extra PyTorch state-dict entries with no wasmfit tensor (e.g. `num_batches_tracked`). */
  readonly torchExtras?: readonly string[];
  /**
   * The `nn.Sequential` modules the layer takes besides the one holding its parameters (default
   * none): `[before, after]`, e.g. `nn.ZeroPad2d` before a strided 'same' convolution whose
   * padding is uneven, `nn.Flatten` after `nn.AdaptiveAvgPool2d(1)`.
   */
  torchSpan?(config: C, inShape: readonly number[]): readonly [number, number];
  /**
   * The ONNX node computing the layer before its activation: the operator, its inputs after the
   * layer input (parameter names, as `params` names them), float attributes, and `nchw` for
   * operators on NCHW images (parameters then go in PyTorch's layout; the exporter adds a window
   * layer's `kernel_shape`, `strides`, `dilations` and `pads`; `ints` are further integer
   * attributes, e.g. a depthwise `Conv`'s `group`). The activation (folded) is emitted
   * after it by the exporter.
   */
  onnx(config: C, inShape: readonly number[]): { op: string; params: readonly string[]; floats?: Readonly<Record<string, number>>; ints?: Readonly<Record<string, number>>; nchw?: boolean };
  /** A short note for the summary row (e.g. `maxNorm 3`). */
  note?(config: C): string;
  /**
   * The fields of the layer's plan record, from its value and gradient blocks (in `params`
   * order); `scratch(n)` allocates a per-layer buffer the kernel needs (freed with the model).
   * The record's first and second trainable tensors are `w` and `b`.
   */
  record(config: C, entry: StackEntry, values: readonly Ptr[], grads: readonly (Ptr | null)[], scratch: (n: number) => Ptr): DenseParams;
}

/** One parameter tensor of a concrete model: its spec plus its full names. */
export interface StackParam extends ParamSpec {
  /** `<prefix>_<i>/<param>`, as getWeights names it. */
  readonly fullName: string;
  /** The PyTorch `nn.Sequential` state-dict key (`<module index>.<name>`). */
  readonly torchKey: string;
}

/** One parameter layer of a concrete model. */
export interface StackEntry {
  readonly kind: LayerKind;
  readonly config: KindConfig;
  /** Index among the layers of this kind (`dense_0`, `dense_1`, …). */
  readonly index: number;
  /** Position in the layer list. */
  readonly position: number;
  readonly nIn: number;
  readonly nOut: number;
  /** Input and output shapes (`[features]`, or `[height, width, channels]` for images). */
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  /** The activation and dropout of this layer after folding the activation/dropout layers after it. */
  readonly folded: Folded;
  readonly params: readonly StackParam[];
  /** PyTorch state-dict keys with no wasmfit tensor. */
  readonly torchExtras: readonly string[];
}

/**
 * A parameter layer of a live model: its stack entry, one value block per parameter (in
 * `entry.params` order), one gradient block per trainable parameter, and its plan record fields.
 * @internal
 */
export interface BoundLayer {
  readonly entry: StackEntry;
  readonly values: readonly Ptr[];
  /** Gradient blocks, null for parameters the optimizer does not train. */
  readonly grads: readonly (Ptr | null)[];
  /** The fields of the layer's plan record (optimizer slots are filled in by the Stepper). */
  readonly record: DenseParams;
}
