import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { CallbackConfigContext } from '../model/callbacks.js';

/**
 * Refuses, before training, a monitored key this fit's epoch logs will not have (a typo such as
 * `'val_loss'`, a validation metric without validation data). An own-key check: `'toString'` is
 * not a log key. @internal
 */
export function checkMonitor(where: string, monitor: string, context: CallbackConfigContext): void {
  const keys = context?.logKeys;
  if (!Array.isArray(keys)) return;
  if (keys.includes(monitor)) return;
  const camel = monitor.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const hint = camel !== monitor && keys.includes(camel)
    ? ` Log keys are camelCase: use '${camel}'.`
    : monitor.startsWith('val') ? ' Validation metrics need fit({ validationSplit }) or fit({ validationData }).' : '';
  throw new OptionError('monitor', `${where}: monitor = ${preview(monitor)}, which this fit does not log; the epoch logs have ${keys.join(', ')}.${hint}`);
}
