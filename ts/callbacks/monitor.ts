import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { CallbackConfigContext } from '../model/callbacks.js';

/**
 * A callback's `monitor` with Keras / tfjs log names read as wasmfit's camelCase keys: Keras logs
 * `val_loss`, `val_accuracy`; tfjs `acc`, `val_acc`. So `'val_loss'` → `'valLoss'`, `'val_mae'` →
 * `'valMae'`, `'acc'` → `'accuracy'`, `'val_acc'` → `'valAccuracy'`; other names unchanged. @internal
 */
export function monitorKey(monitor: string): string {
  const camel = /^val_[a-z][A-Za-z0-9]*$/.test(monitor) ? `val${monitor[4]!.toUpperCase()}${monitor.slice(5)}` : monitor;
  return camel === 'acc' ? 'accuracy' : camel === 'valAcc' ? 'valAccuracy' : camel;
}

/**
 * Refuses, before training, a monitored key this fit's epoch logs will not have (a typo such as
 * `'val_loss'`, a validation metric without validation data). An own-key check: `'toString'` is
 * not a log key. @internal
 */
export function checkMonitor(where: string, monitor: string, context: CallbackConfigContext, asGiven = monitor): void {
  const keys = context?.logKeys;
  if (!Array.isArray(keys)) return;
  if (keys.includes(monitor)) return;
  const camel = monitor.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const hint = camel !== monitor && keys.includes(camel)
    ? ` Log keys are camelCase: use '${camel}'.`
    : monitor.startsWith('val') ? ' Validation metrics need fit({ validationSplit }) or fit({ validationData }).' : '';
  const shown = asGiven === monitor ? preview(monitor) : `${preview(asGiven)} (read as '${monitor}')`;
  throw new OptionError('monitor', `${where}: monitor = ${shown}, which this fit does not log; the epoch logs have ${keys.join(', ')}.${hint}`);
}
