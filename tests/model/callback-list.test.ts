// CallbackList: one hook call from the fit loop reaches every callback, in order, each awaited
// before the next starts; stateful callbacks' states go out and come back in order.
import { describe, expect, it } from 'vitest';
import { CallbackList } from '../../ts/model/callback-list.js';
import type { Callback } from '../../ts/model/callbacks.js';

describe('CallbackList', () => {
  it('calls every hook of every callback in list order, awaiting each before the next', async () => {
    const seen: string[] = [];
    const slow = (name: string): Callback => ({
      async onEpochEnd(e, logs) {
        seen.push(`${name} start ${e} ${logs.loss}`);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(`${name} end`);
      },
      onTrainEnd: () => void seen.push(`${name} trainEnd`),
    });
    const list = new CallbackList([slow('a'), {}, slow('b')]);
    await list.epochEnd(3, { loss: 0.5 });
    await list.trainEnd();
    expect(seen).toEqual(['a start 3 0.5', 'a end', 'b start 3 0.5', 'b end', 'a trainEnd', 'b trainEnd']);
  });

  it('collects and restores only the stateful callbacks, in order; answers terminateOnNonFinite', () => {
    let restored: unknown[] = [];
    const stateful = (kind: string, value: number): Callback => ({ stateKind: kind, getState: () => ({ value }), setState: (s) => void restored.push([kind, s]) });
    const list = new CallbackList([stateful('earlyStopping', 1), { onTrainEnd() {} }, stateful('plateau', 2)]);
    expect(list.states()).toEqual([{ kind: 'earlyStopping', state: { value: 1 } }, { kind: 'plateau', state: { value: 2 } }]);
    list.restoreStates([{ kind: 'earlyStopping', state: 'x' }, { kind: 'plateau', state: 'y' }]);
    expect(restored).toEqual([['earlyStopping', 'x'], ['plateau', 'y']]);
    expect(list.terminateOnNonFinite).toBe(false);
    expect(new CallbackList([{ terminateOnNonFinite: true }]).terminateOnNonFinite).toBe(true);
    restored = [];
  });
});
