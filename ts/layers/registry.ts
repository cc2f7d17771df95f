/**
 * The layer kinds by config type (from kinds.ts), the {@link LayerConfig} union they make with the
 * folded layers, {@link describeStack} — the one walk of a layer list that every consumer
 * (Sequential, model files, safetensors, ONNX) uses — and {@link normalizeLayer}.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { activation, dropout, type ActivationConfig, type DropoutConfig } from './folded.js';
import { flatten, reshape, reshapeTo, type FlattenConfig, type ReshapeConfig } from './shape.js';
import type { KindConfig, LayerKind, StackEntry, StackParam } from './kind.js';
import * as kinds from './kinds.js';
import type { KindLayerConfig } from './kinds.js';

const isKind = (v: unknown): v is LayerKind => typeof v === 'object' && v !== null && typeof (v as LayerKind).type === 'string' && typeof (v as LayerKind).record === 'function';

/** Every layer kind, by config type. */
const KINDS = new Map<string, LayerKind>((Object.values(kinds) as unknown[]).filter(isKind).map((k) => [k.type, k]));


/**
 * A layer config: a layer kind's, a dropout or activation layer folded into the layer before it,
 * or a shape layer (flatten, reshape).
 */
export type LayerConfig = KindLayerConfig | DropoutConfig | ActivationConfig | FlattenConfig | ReshapeConfig;

/** The config types `normalizeLayer` accepts, in the order its messages list them. */
const TYPES = [...KINDS.keys(), 'dropout', 'activation', 'flatten', 'reshape'];
const quoted = (xs: readonly string[]) => xs.map((t) => `'${t}'`).join(', ');
const BUILD_HINT = `Build layers with their factories (${[...KINDS.keys()].join(', ')}, dropout, activation, flatten, reshape), e.g. dense(units).`;
const isShapeLayer = (l: { type: string }): l is FlattenConfig | ReshapeConfig => l.type === 'flatten' || l.type === 'reshape';
const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** The kind of a config, or null for the folded layers (dropout, activation). @internal */
export function kindOf(config: KindConfig): LayerKind | null {
  return KINDS.get(config.type) ?? null;
}

/**
 * The parameter layers of a stack with their tensors, names and PyTorch keys. Dropout and
 * activation layers fold into the preceding parameter layer; PyTorch module indices count them as
 * `nn.Sequential` would (a dense layer with an activation is two modules). Checks the stack:
 * folded layers must follow a parameter layer, one dropout per layer, an activation layer only
 * after a layer without activation or dropout.
 * @internal
 */
export function describeStack(inputShape: number | readonly number[], layers: readonly LayerConfig[], where = 'Sequential'): StackEntry[] {
  const out: (StackEntry & { dropoutSeen: boolean })[] = [];
  const counts = new Map<string, number>();
  let shape: readonly number[] = typeof inputShape === 'number' ? [inputShape] : [...inputShape];
  let module = 0;
  let weighted: StackEntry | undefined; // the first layer with parameters
  layers.forEach((l, position) => {
    const type = typeof l === 'object' && l !== null ? (l as { type?: unknown }).type : undefined;
    if (type !== 'dropout' && type !== 'activation' && type !== 'flatten' && type !== 'reshape' && (typeof type !== 'string' || !KINDS.has(type))) {
      throw new OptionError('layers', `${where}: layers[${position}] is not a layer config. ${BUILD_HINT}`);
    }
    if (isShapeLayer(l)) {
      shape = reshapeTo(l, shape, `${where}: layers[${position}]`);
      module += 1; // nn.Flatten / nn.Unflatten
      return;
    }
    const kind = kindOf(l);
    if (kind) {
      const index = counts.get(kind.prefix) ?? 0;
      counts.set(kind.prefix, index + 1);
      const nIn = shape.reduce((a, b) => a * b, 1);
      const at = `${where}: layers[${position}] (${kind.type})`;
      if (kind.inputOnly && weighted) {
        throw new OptionError('layers', `${at} follows layers[${weighted.position}] (${weighted.kind.type}), which has parameters; augmentation layers pass no gradient back, so they go at the input: move it before layers[${weighted.position}].`);
      }
      let outShape: number[];
      if (kind.outputShape) outShape = kind.outputShape(l, shape, at);
      else if (kind.shapePreserving) outShape = [...shape];
      else if (shape.length !== 1) throw new OptionError('layers', `${at} takes [features] rows but receives ${fmt(shape)}; put flatten() before it.`);
      else outShape = [kind.outputSize(l, nIn)];
      const nOut = outShape.reduce((a, b) => a * b, 1);
      const folded = kind.folded(l);
      const [before, after] = kind.torchSpan?.(l, shape) ?? [0, 0];
      module += before; // e.g. nn.ZeroPad2d
      const params: StackParam[] = kind.params(l, nIn, shape).map((p) => ({ ...p, fullName: `${kind.prefix}_${index}/${p.name}`, torchKey: `${module}.${p.torch.name}` }));
      out.push({ kind, config: l, index, position, nIn, nOut, inShape: shape, outShape, folded, params, torchExtras: (kind.torchExtras ?? []).map((e) => `${module}.${e}`), dropoutSeen: false });
      if (params.length > 0) weighted ??= out[out.length - 1];
      module += after + (folded.act === 'linear' && !folded.softmax ? 1 : 2);
      shape = outShape;
      return;
    }
    const last = out[out.length - 1];
    if (last && last.outShape !== shape) {
      throw new OptionError('layers', `${where}: layers[${position}] (${l.type}) follows ${layers[position - 1]!.type}; put it right after the layer it applies to.`);
    }
    if (!last) throw new OptionError('layers', `${where}: layers[${position}] (${l.type}) does not follow a layer it can fold into (${[...KINDS.keys()].join(', ')}); put it after a dense(...) layer.`);
    if (last.folded.softmax) {
      throw new OptionError('layers', `${where}: layers[${position}] (${l.type}) follows a softmax; softmax must end the model. Move it before the last layer, or remove it.`);
    }
    if (l.type === 'dropout') {
      if (last.dropoutSeen) throw new OptionError('layers', `${where}: layers[${position}] is a second dropout on the same layer; use one dropout with the combined rate.`);
      last.folded.dropout = l.rate;
      last.dropoutSeen = true;
    } else {
      if (last.folded.act !== 'linear' || last.dropoutSeen) {
        throw new OptionError('layers', `${where}: layers[${position}] (activation) follows a layer that already has an activation or dropout; give the preceding layer no activation, and put dropout after the activation.`);
      }
      const act = l as ActivationConfig;
      if (act.activation === 'softmax') last.folded.softmax = true;
      else last.folded.act = act.activation;
      last.folded.alpha = act.alpha;
    }
    module += 1;
  });
  // softmax is fused into the loss, so only the output layer may have it
  const early = out.findIndex((e, i) => i < out.length - 1 && e.folded.softmax === true);
  if (early >= 0) {
    throw new OptionError('layers', `${where}: layers[${out[early]!.position}] has a softmax activation but is not the last layer; softmax is for the output layer only. Use 'relu' on hidden layers.`);
  }
  if (shape.length !== 1) throw new OptionError('layers', `${where}: the model ends with ${fmt(shape)} outputs per row; end it with flatten() and a dense layer (or globalAveragePool2d()).`);
  return out.map(({ dropoutSeen: _, ...e }) => e);
}

/** The folded layers' keys and factories (the kinds bring their own). */
const FOLDED: Record<string, Pick<LayerKind, 'keys' | 'positional'> & { build(f: Readonly<Record<string, unknown>>): LayerConfig }> = {
  dropout: { keys: ['rate'], positional: ['rate'], build: (f) => dropout(f.rate as number) },
  activation: { keys: ['activation', 'alpha'], positional: ['activation'], build: (f) => activation(f.activation as ActivationConfig['activation'], f.alpha === undefined ? {} : { alpha: f.alpha as number }) },
  flatten: { keys: [], build: () => flatten() },
  reshape: { keys: ['targetShape'], positional: ['targetShape'], build: (f) => reshape(f.targetShape as number[]) },
};

/**
 * Validates one layer config — a factory result or a hand-written object such as
 * `{ type: 'dense', units: 3 }` — and rebuilds it with its factory, so defaults are filled in
 * (bias, initializers) and every field is checked exactly as the factory checks it. `null` stands
 * for "none" in the optional fields (kernelConstraint, regularizers), as factory results and JSON
 * hold them. A factory result comes back equal to itself.
 * @param where the caller named in errors (e.g. `'Sequential'`); `path` the config's name there (e.g. `'layers[2]'`).
 * @throws OptionError for a non-object, an unknown `type`, an unknown key or an invalid value
 * (the factory's message, prefixed with `where` and `path`).
 */
export function normalizeLayer(config: unknown, where: string, path = 'layer'): LayerConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new OptionError('layers', `${where}: ${path} = ${preview(config)}; expected a layer config. ${BUILD_HINT}`);
  }
  const c = config as Record<string, unknown>;
  const type = Object.hasOwn(c, 'type') ? c.type : undefined;
  const kind = typeof type === 'string' ? (KINDS.get(type) ?? null) : null;
  const folded = typeof type === 'string' && Object.hasOwn(FOLDED, type) ? FOLDED[type]! : null;
  if (!kind && !folded) {
    throw new OptionError('layers', `${where}: ${path}.type = ${preview(type)}; expected one of ${quoted(TYPES)}. ${BUILD_HINT}`);
  }
  const { keys, positional = [] } = kind ?? folded!;
  const nullable = kind?.nullable ?? [];
  const known = ['type', ...keys];
  for (const k of Object.keys(c)) {
    if (!known.includes(k)) throw new OptionError(k, `${where}: ${path} (${type as string}) has unknown key '${k}'; a ${type as string} layer has ${known.join(', ')}.`);
  }
  // only own, defined, non-null fields are passed on, so the factory applies its defaults
  const fields: Record<string, unknown> = {};
  for (const k of keys) {
    if (positional.includes(k) && Object.hasOwn(c, k)) {
      fields[k] = c[k]; // a factory argument, checked (null included) by the factory itself
      continue;
    }
    if (!Object.hasOwn(c, k) || c[k] === undefined) continue;
    if (c[k] === null) {
      if (nullable.includes(k)) continue;
      // JSON writes Infinity and NaN as null: never read null as "use the default"
      throw new OptionError(k, `${where}: ${path}.${k} = null; expected ${k === 'activation' ? 'an activation name' : 'a value'} (omit the key for the default).`);
    }
    fields[k] = c[k];
  }
  try {
    return kind ? (kind.build(fields) as LayerConfig) : folded!.build(fields);
  } catch (e) {
    if (e instanceof OptionError) {
      const field = e.option === 'options' ? path : `${path}.${e.option}`;
      throw new OptionError(e.option, `${where}: ${field} is invalid: ${e.message}`);
    }
    throw e;
  }
}

/**
 * {@link normalizeLayer} over an array: `configs[i]` is named `${path}[i]` in errors.
 * @throws OptionError when `configs` is not an array, or for the first invalid layer.
 * @example
 * ```ts
 * normalizeLayers([{ type: 'dense', units: 3 }], 'Sequential') // [dense(3)]
 * ```
 */
export function normalizeLayers(configs: unknown, where: string, path = 'layers'): LayerConfig[] {
  if (!Array.isArray(configs)) {
    throw new OptionError('layers', `${where}: ${path} = ${preview(configs)}; expected an array of layer configs, e.g. [dense(64, { activation: 'relu' }), dense(10)].`);
  }
  const out: LayerConfig[] = [];
  for (let i = 0; i < configs.length; i++) out.push(normalizeLayer(configs[i], where, `${path}[${i}]`));
  return out;
}
