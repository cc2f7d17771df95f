/**
 * The option-checking helpers every public factory and entry point uses (internal; not
 * re-exported), so messages have one shape:
 * `<where>: <what was received>; <what is expected>. <how to fix>`, e.g.
 * `cosineAnnealingLR: option tMax = 0; expected an integer >= 1. Pass tMax as …`, and
 * `fit: unknown option 'batch_size'; known options are epochs, batchSize, …. Did you mean 'batchSize'?`
 * @internal
 */
import { OptionError } from './index.js';
import { preview } from './preview.js';

/** Short, single-line rendering of a received value for error messages (bounded; never throws). */
export function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'function') return 'a function';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return preview(v);
}

/** Throws an {@link OptionError} in the project message shape. */
export function fail(where: string, option: string, received: unknown, expected: string, fix: string): never {
  throw new OptionError(option, `${where}: option ${option} = ${fmt(received)}; expected ${expected}. ${fix}`);
}

/** Levenshtein distance (for "did you mean"). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** The known name a misspelt one most likely meant (same letters in another case or spelling, or within 2 edits). */
export function nearMiss(name: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  return known.find((n) => squash(n) === squash(name)) ?? known.find((n) => editDistance(n.toLowerCase(), name.toLowerCase()) <= 2);
}

/** How {@link checkOptions} names what it checks. */
export interface CheckOptionsNames {
  /** Prefix of the key in messages and `OptionError.option`, e.g. `'worker.'`. */
  readonly prefix?: string;
  /** The noun: `'option'` (default), `'spec key'`, … (plural adds an s). */
  readonly noun?: string;
}

/**
 * The options bag must be a plain object (`undefined` reads as `{}`); unknown keys are refused
 * (they are usually typos), with the known keys and the likely intended one. Own keys only.
 */
export function checkOptions(where: string, options: unknown, allowed: readonly string[], names: CheckOptionsNames = {}): Record<string, unknown> {
  const prefix = names.prefix ?? '';
  const noun = names.noun ?? 'option';
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionError(prefix ? prefix.replace(/\.$/, '') : 'options', `${where}: ${prefix ? prefix.replace(/\.$/, '') : 'options'} = ${fmt(options)}; expected an object${allowed.length ? ` with the ${noun}s ${allowed.join(', ')}` : ''}.`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      const near = nearMiss(key, allowed);
      throw new OptionError(`${prefix}${key}`, `${where}: unknown ${noun} '${prefix}${key}'; known ${noun}s are ${allowed.length ? allowed.join(', ') : 'none'}.${near ? ` Did you mean '${near}'?` : ''}`);
    }
  }
  return o;
}

export interface NumberSpec {
  /** Used when the option is `undefined`; without it the option is required. */
  readonly default?: number;
  readonly integer?: boolean;
  readonly gt?: number;
  readonly ge?: number;
  readonly lt?: number;
  readonly le?: number;
  /** How to fix, appended to the message; a sentence. */
  readonly fix?: string;
}

function describe(spec: NumberSpec): string {
  const parts: string[] = [];
  if (spec.gt !== undefined) parts.push(`> ${spec.gt}`);
  if (spec.ge !== undefined) parts.push(`>= ${spec.ge}`);
  if (spec.lt !== undefined) parts.push(`< ${spec.lt}`);
  if (spec.le !== undefined) parts.push(`<= ${spec.le}`);
  const kind = spec.integer ? 'an integer' : 'a finite number';
  return parts.length ? `${kind} ${parts.join(' and ')}` : kind;
}

/** Reads a numeric option: finite, optionally integer and bounded. NaN and ±Infinity always fail. */
export function num(where: string, option: string, value: unknown, spec: NumberSpec = {}): number {
  if (value === undefined && spec.default !== undefined) return spec.default;
  const expected = describe(spec);
  const fix = spec.fix ?? `Pass ${option} as ${expected}.`;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(where, option, value, expected, fix);
  if (spec.integer && !Number.isInteger(value)) fail(where, option, value, expected, fix);
  if (spec.gt !== undefined && !(value > spec.gt)) fail(where, option, value, expected, fix);
  if (spec.ge !== undefined && !(value >= spec.ge)) fail(where, option, value, expected, fix);
  if (spec.lt !== undefined && !(value < spec.lt)) fail(where, option, value, expected, fix);
  if (spec.le !== undefined && !(value <= spec.le)) fail(where, option, value, expected, fix);
  return value;
}

/** Reads a string option that must be one of `choices`. */
export function oneOf<T extends string>(
  where: string,
  option: string,
  value: unknown,
  choices: readonly T[],
  dflt?: T,
): T {
  if (value === undefined && dflt !== undefined) return dflt;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    fail(where, option, value, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, `Pass ${option}: '${choices[0]}' (or another listed value).`);
  }
  return value as T;
}

export function bool(where: string, option: string, value: unknown, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== 'boolean') fail(where, option, value, 'true or false', `Pass ${option}: true or ${option}: false.`);
  return value;
}

export function fn<F extends (...args: never[]) => unknown>(where: string, option: string, value: unknown): F {
  if (typeof value !== 'function') fail(where, option, value, 'a function', `Pass ${option} as a function, e.g. (t) => 0.95 ** t.`);
  return value as F;
}

/** Reads an array of finite numbers, each checked against `spec`; returns a frozen copy. */
export function numArray(
  where: string,
  option: string,
  value: unknown,
  spec: NumberSpec & { readonly minLength?: number; readonly order?: 'increasing' | 'nondecreasing' },
): readonly number[] {
  const minLength = spec.minLength ?? 0;
  if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    fail(where, option, value, `an array of numbers`, spec.fix ?? `Pass ${option} as an array, e.g. [30, 80].`);
  }
  const arr = Array.from(value as ArrayLike<unknown>);
  if (arr.length < minLength) {
    fail(where, option, value, `an array of at least ${minLength} number(s)`, spec.fix ?? `Pass at least ${minLength} value(s).`);
  }
  const out: number[] = [];
  arr.forEach((x, i) => {
    out.push(num(where, `${option}[${i}]`, x, spec));
  });
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1] as number;
    const b = out[i] as number;
    const bad = spec.order === 'increasing' ? !(b > a) : spec.order === 'nondecreasing' ? !(b >= a) : false;
    if (bad) {
      throw new OptionError(
        option,
        `${where}: option ${option} = ${fmt(value)} has ${option}[${i}] = ${b} after ${a}; expected ${spec.order === 'increasing' ? 'strictly increasing' : 'non-decreasing'} values. Sort ${option}${spec.order === 'increasing' ? ' and remove duplicates' : ''}.`,
      );
    }
  }
  return Object.freeze(out);
}

/** The counter every schedule receives: a non-negative finite number (fractional values are allowed). */
export function checkT(where: string, t: unknown): number {
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
    throw new OptionError(
      't',
      `${where}: t = ${fmt(t)}; expected a non-negative finite number (the 0-based epoch or step counter). Pass t >= 0, e.g. the number of completed epochs.`,
    );
  }
  return t;
}
