/**
 * Shared test helpers: float64 closeness and option-error assertions.
 * Expected values in these tests come from upstream definitions re-implemented here
 * (PyTorch torch/optim/lr_scheduler.py, Keras keras/src/optimizers/schedules/learning_rate_schedule.py)
 * or from explicit values listed in upstream test files — never from running wasmfit.
 */
import { expect } from 'vitest';
import { OptionError } from '../../ts/errors/index.js';

/** |actual − expected| <= rel·|expected| + abs (rel 1e-6 as the project requires for schedules). */
export function expectClose(actual: number, expected: number, label = '', rel = 1e-6, abs = 1e-12): void {
  const ok = Math.abs(actual - expected) <= rel * Math.abs(expected) + abs;
  if (!ok) {
    throw new Error(`${label}: expected ${expected}, got ${actual} (diff ${Math.abs(actual - expected)})`);
  }
  expect(ok).toBe(true);
}

/** Compares `schedule(t)` for t = 0.. with a list of expected values. */
export function expectSeries(f: (t: number) => number, expected: readonly number[], label = '', rel = 1e-6, abs = 1e-12): void {
  expected.forEach((e, t) => expectClose(f(t), e, `${label} t=${t}`, rel, abs));
}

/** Asserts `fn` throws an OptionError naming `option` whose message contains `fragment`. */
export function expectOptionError(fn: () => unknown, option: string, fragment: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected an OptionError for ${option}`).toBeInstanceOf(OptionError);
  const err = caught as OptionError;
  expect(err.option).toBe(option);
  expect(err.code).toBe('E_OPTION');
  if (typeof fragment === 'string') expect(err.message).toContain(fragment);
  else expect(err.message).toMatch(fragment);
}

/** Python's `%` (result has the sign of the divisor). */
export function pymod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** `[0, 1, …, n−1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
