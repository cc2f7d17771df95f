// resolveFitOptions: fit's options validated and defaulted without a model (pure: nothing changes).
// Expected values are Keras's fit defaults (epochs 1, batch_size 32, shuffle True,
// validation_split 0) and the loop's documented order of callbacks.
import { describe, expect, it } from 'vitest';
import { OptionError, cosineAnnealingLR, earlyStopping, reduceLROnPlateau, type Callback } from '../../ts/index.js';
import { resolveFitOptions } from '../../ts/model/fit.js';

describe('resolveFitOptions', () => {
  it('fills in the defaults', () => {
    const s = resolveFitOptions({});
    expect(s).toMatchObject({ epochs: 1, initialEpoch: 0, batchSize: 32, shuffle: true, validationSplit: 0, verbose: 0, yieldEveryMs: 125, seed: null, schedule: null, resume: null });
    expect(s.callbacks).toEqual([]);
  });

  it('keeps what it is given, and a given seed', () => {
    const s = resolveFitOptions({ epochs: 5, initialEpoch: 2, batchSize: 7, shuffle: false, validationSplit: 0.25, seed: 11, yieldEveryMs: 0 });
    expect(s).toMatchObject({ epochs: 5, initialEpoch: 2, batchSize: 7, shuffle: false, validationSplit: 0.25, seed: 11, yieldEveryMs: 0 });
  });

  it('orders callbacks: the user\'s, the progress bar, then checkpoint writers (runsLast); plateau reducers are wrapped', () => {
    const writer: Callback = { runsLast: true };
    const es = earlyStopping({ patience: 1 });
    const s = resolveFitOptions({ callbacks: [writer, es, reduceLROnPlateau({ patience: 2 })], verbose: 2 });
    expect(s.callbacks).toHaveLength(4);
    expect(s.callbacks[0]).toBe(es);
    expect(s.callbacks[1]!.setsLearningRate).toBe(true);
    expect(s.callbacks[3]).toBe(writer);
    // verbose: 2 adds the per-epoch progress printer between them
    expect(s.callbacks[2]!.runsLast).not.toBe(true);
    expect(typeof s.callbacks[2]!.onEpochEnd).toBe('function');
  });

  it('checks the schedule and its first value before anything runs', () => {
    const sched = cosineAnnealingLR({ lr: 0.1, tMax: 10 });
    expect(resolveFitOptions({ schedule: sched }).schedule).toBe(sched);
    expect(() => resolveFitOptions({ schedule: ((t: number) => t) as never })).toThrow(OptionError);
    expect(() => resolveFitOptions({ schedule: sched, callbacks: [reduceLROnPlateau({ patience: 2 })] })).toThrow(/withPlateau/);
  });

  it.each([
    [{ epochs: 0 }, 'epochs'],
    [{ batchSize: 1.5 }, 'batchSize'],
    [{ initialEpoch: 3, epochs: 3 }, 'initialEpoch'],
    [{ shuffle: 'yes' }, 'shuffle'],
    [{ validationSplit: 1 }, 'validationSplit'],
    [{ verbose: 3 }, 'verbose'],
    [{ yieldEveryMs: -1 }, 'yieldEveryMs'],
    [{ seed: Infinity }, 'seed'],
    [{ callbacks: [null] }, 'callbacks'],
    [{ batch_size: 32 }, 'batch_size'],
  ])('refuses %j with OptionError naming %s', (options, option) => {
    let err: unknown;
    try {
      resolveFitOptions(options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).option).toBe(option);
  });

  it('suggests the camelCase spelling of a Keras option', () => {
    expect(() => resolveFitOptions({ batch_size: 32 } as never)).toThrow(/Did you mean 'batchSize'\?/);
  });
});

describe('resumeFrom: null', () => {
  it('is a fresh run (a checkpoint saved outside fit has resume === null)', () => {
    expect(resolveFitOptions({ resumeFrom: null }).resume).toBeNull();
    expect(() => resolveFitOptions({ resumeFrom: {} as never })).toThrow(OptionError);
  });
});
