import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { Rng } from '../data/rng.js';

/**
 * Weight initializers with Keras's definitions (fan_in = inputs, fan_out = units of a dense
 * kernel). Seeded through the model's generator.
 *
 * - `glorotUniform` (Xavier, Keras default): U(−l, l), l = √(6 / (fan_in + fan_out)).
 * - `glorotNormal`: truncated normal (|z| ≤ 2σ, resampled), σ = √(2 / (fan_in + fan_out)) / 0.87962566103423978.
 * - `heNormal`: truncated normal, σ = √(2 / fan_in) / 0.87962566103423978.
 * - `heUniform`: U(−l, l), l = √(6 / fan_in).
 * - `lecunNormal`: truncated normal, σ = √(1 / fan_in) / 0.87962566103423978 (variance 1/fan_in).
 *   Self-normalizing networks use it with `selu` (and `alphaDropout` for dropout): Keras's recipe.
 * - `zeros`, `ones`, `{ constant: v }`.
 */
export type InitializerName = 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'lecunNormal' | 'zeros' | 'ones';
export type Initializer = InitializerName | { constant: number };

const TRUNC = 0.87962566103423978;

function truncatedNormal(rng: Rng, sigma: number): number {
  for (;;) {
    const z = rng.normal();
    if (Math.abs(z) <= 2) return z * sigma;
  }
}

/** Validates an initializer option. @internal */
export function checkInitializer(init: unknown, option: string, where: string): Initializer {
  if (typeof init === 'object' && init !== null && !Array.isArray(init) && Object.hasOwn(init, 'constant')) {
    const v = (init as { constant: unknown }).constant;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new OptionError(option, `${where}: ${option}.constant = ${preview(v)}; expected a finite number.`);
    const extra = Object.keys(init).filter((k) => k !== 'constant');
    if (extra.length > 0) throw new OptionError(option, `${where}: ${option} has unknown key '${extra[0]}'; a constant initializer is { constant: number }.`);
    return { constant: v };
  }
  const names: InitializerName[] = ['glorotUniform', 'glorotNormal', 'heNormal', 'heUniform', 'lecunNormal', 'zeros', 'ones'];
  if (typeof init !== 'string' || !names.includes(init as InitializerName)) {
    throw new OptionError(option, `${where}: ${option} = ${preview(init)}; expected one of ${names.join(', ')} or { constant: number }.`);
  }
  return init as InitializerName;
}

/** Fills `out` (a fan_in × fan_out kernel or a bias) from the initializer. @internal */
export function fillInitializer(init: Initializer, out: Float32Array, fanIn: number, fanOut: number, rng: Rng): void {
  const n = out.length;
  if (typeof init === 'object') {
    out.fill(init.constant);
    return;
  }
  switch (init) {
    case 'zeros':
      out.fill(0);
      return;
    case 'ones':
      out.fill(1);
      return;
    case 'glorotUniform': {
      const l = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * l;
      return;
    }
    case 'heUniform': {
      const l = Math.sqrt(6 / fanIn);
      for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * l;
      return;
    }
    case 'glorotNormal': {
      const s = Math.sqrt(2 / (fanIn + fanOut)) / TRUNC;
      for (let i = 0; i < n; i++) out[i] = truncatedNormal(rng, s);
      return;
    }
    case 'heNormal': {
      const s = Math.sqrt(2 / fanIn) / TRUNC;
      for (let i = 0; i < n; i++) out[i] = truncatedNormal(rng, s);
      return;
    }
    case 'lecunNormal': {
      const s = Math.sqrt(1 / fanIn) / TRUNC;
      for (let i = 0; i < n; i++) out[i] = truncatedNormal(rng, s);
      return;
    }
  }
}
