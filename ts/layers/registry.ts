/**
 * The layer kinds with parameters, by config type, and {@link describeStack}: the one walk of a
 * layer list that every consumer (Sequential, model files, safetensors, ONNX) uses.
 */
import { OptionError } from '../errors/index.js';
import type { ActivationConfig, LayerConfig } from './index.js';
import type { LayerKind, StackEntry, StackParam } from './kind.js';
import { denseKind } from './dense.js';
import { batchNormKind } from './batch-norm.js';

/** Registered kinds: one line per layer kind with parameters. */
const KINDS = new Map<string, LayerKind>([
  [denseKind.type, denseKind as LayerKind],
  [batchNormKind.type, batchNormKind as LayerKind],
]);

/** The kind of a config with parameters, or null for the folded layers (dropout, activation). */
export function kindOf(config: LayerConfig): LayerKind | null {
  return KINDS.get(config.type) ?? null;
}

/**
 * The parameter layers of a stack with their tensors, names and PyTorch keys. Dropout and
 * activation layers fold into the preceding parameter layer; PyTorch module indices count them as
 * `nn.Sequential` would (a dense layer with an activation is two modules). Checks the stack:
 * folded layers must follow a parameter layer, one dropout per layer, an activation layer only
 * after a layer without activation or dropout.
 */
export function describeStack(inputSize: number, layers: readonly LayerConfig[], where = 'Sequential'): StackEntry[] {
  const out: (StackEntry & { dropoutSeen: boolean })[] = [];
  const counts = new Map<string, number>();
  let nIn = inputSize;
  let module = 0;
  layers.forEach((l, position) => {
    const type = typeof l === 'object' && l !== null ? (l as { type?: unknown }).type : undefined;
    if (type !== 'dropout' && type !== 'activation' && (typeof type !== 'string' || !KINDS.has(type))) {
      throw new OptionError('layers', `${where}: layers[${position}] is not a layer config; build layers with dense(...), batchNorm(), activation(name) or dropout(rate).`);
    }
    const kind = kindOf(l);
    if (kind) {
      const index = counts.get(kind.prefix) ?? 0;
      counts.set(kind.prefix, index + 1);
      const nOut = kind.outputSize(l, nIn);
      const folded = kind.folded(l);
      const params: StackParam[] = kind.params(l, nIn).map((p) => ({ ...p, fullName: `${kind.prefix}_${index}/${p.name}`, torchKey: `${module}.${p.torch.name}` }));
      out.push({ kind, config: l, index, position, nIn, nOut, folded, params, torchExtras: (kind.torchExtras ?? []).map((e) => `${module}.${e}`), dropoutSeen: false });
      module += folded.act === 'linear' ? 1 : 2;
      nIn = nOut;
      return;
    }
    const last = out[out.length - 1];
    if (!last) throw new OptionError('layers', `${where}: layers[${position}] (${l.type}) does not follow a dense or batch-norm layer; put it after a dense(...) or batchNorm().`);
    if (l.type === 'dropout') {
      if (last.dropoutSeen) throw new OptionError('layers', `${where}: layers[${position}] is a second dropout on the same layer; use one dropout with the combined rate.`);
      last.folded.dropout = l.rate;
      last.dropoutSeen = true;
    } else {
      if (last.folded.act !== 'linear' || last.dropoutSeen) {
        throw new OptionError('layers', `${where}: layers[${position}] (activation) follows a layer that already has an activation or dropout; give the preceding dense/batch-norm layer no activation, and put dropout after the activation.`);
      }
      const act = l as ActivationConfig;
      last.folded.act = act.activation;
      last.folded.alpha = act.alpha;
    }
    module += 1;
  });
  return out.map(({ dropoutSeen: _, ...e }) => e);
}
