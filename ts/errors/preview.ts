/**
 * Bounded text of untrusted values for error messages. `JSON.stringify` on a value from a file or
 * from a caller can recurse 100,000 levels deep (stack overflow: an untyped `RangeError` instead of
 * the typed error being built), run getters, or produce megabytes of message; {@link preview}
 * never throws, stops at a depth and a length, and lists at most a few items per container.
 * @internal
 */

/** Stands for a property whose getter threw. */
const THREW: unique symbol = Symbol('threw');

/** Limits of {@link preview}. */
export interface PreviewLimits {
  /** Longest result, in characters, `…` included (default 80). */
  maxLength?: number;
  /** Containers nested deeper than this print as `[…]` / `{…}` (default 3). */
  maxDepth?: number;
  /** Items printed per array or object before `…` (default 8). */
  maxItems?: number;
}

/**
 * A short text of `v` for an error message, as `JSON.stringify` writes small JSON values
 * (`[6,8]`, `{"units":3}`, `"relu"`), plus what JSON cannot show: `NaN`/`Infinity`/`-0`,
 * `undefined`, bigints (`12n`), functions and symbols named, typed arrays as `Float32Array(10)`,
 * other class instances by their tag; at most `maxDepth` levels, `maxItems` items per level and
 * `maxLength` characters. Never throws (getters and proxies that throw print as `?`).
 * @example preview([[[[1]]]]) // '[[[[…]]]]'
 */
export function preview(v: unknown, limits: PreviewLimits = {}): string {
  const maxLength = Math.max(4, limits.maxLength ?? 80);
  const maxDepth = Math.max(0, limits.maxDepth ?? 3);
  const maxItems = Math.max(1, limits.maxItems ?? 8);
  let out = '';
  // stops writing once the result is full; the walk itself is bounded by depth × items
  const put = (s: string): boolean => {
    out += s;
    return out.length <= maxLength;
  };
  const walk = (x: unknown, depth: number): boolean => {
    try {
      if (x === null) return put('null');
      switch (typeof x) {
        case 'undefined':
          return put('undefined');
        case 'boolean':
          return put(String(x));
        case 'number':
          return put(Object.is(x, -0) ? '-0' : String(x));
        case 'bigint':
          return put(`${x}n`);
        case 'string':
          return put(JSON.stringify(x.length > maxLength ? `${x.slice(0, maxLength)}…` : x));
        case 'symbol':
          return put(x.description === undefined ? 'Symbol()' : `Symbol(${x.description.slice(0, 20)})`);
        case 'function':
          return put('a function');
        default:
          break;
      }
      if (ArrayBuffer.isView(x)) return put(`${Object.prototype.toString.call(x).slice(8, -1)}(${'length' in x ? (x as { length: number }).length : x.byteLength})`);
      if (Array.isArray(x)) {
        if (depth >= maxDepth) return put(x.length === 0 ? '[]' : '[…]');
        if (!put('[')) return false;
        const n = x.length;
        for (let i = 0; i < Math.min(n, maxItems); i++) {
          if (i > 0 && !put(',')) return false;
          if (!walk(x[i], depth + 1)) return false;
        }
        if (n > maxItems && !put(`,… ${n - maxItems} more`)) return false;
        return put(']');
      }
      const proto = Object.getPrototypeOf(x) as object | null;
      if (proto !== Object.prototype && proto !== null) return put(Object.prototype.toString.call(x));
      const keys = Object.keys(x as object);
      if (depth >= maxDepth) return put(keys.length === 0 ? '{}' : '{…}');
      if (!put('{')) return false;
      for (let i = 0; i < Math.min(keys.length, maxItems); i++) {
        const k = keys[i]!;
        if (i > 0 && !put(',')) return false;
        if (!put(`${JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k)}:`)) return false;
        let val: unknown;
        try {
          val = (x as Record<string, unknown>)[k];
        } catch {
          val = THREW;
        }
        if (!(val === THREW ? put('?') : walk(val, depth + 1))) return false;
      }
      if (keys.length > maxItems && !put(`,… ${keys.length - maxItems} more`)) return false;
      return put('}');
    } catch {
      return put('?');
    }
  };
  walk(v, 0);
  return out.length <= maxLength ? out : `${out.slice(0, maxLength - 1)}…`;
}

/** Deepest JSON nesting (arrays and objects) the file readers accept. */
export const MAX_JSON_DEPTH = 128;

/**
 * The nesting depth of JSON text at which it first exceeds `maxDepth`, found by a linear scan that
 * skips string contents; returns the character offset of the bracket that goes too deep, or -1.
 * Run before `JSON.parse` on untrusted text: a parsed value nested 100,000 levels deep overflows
 * the stack of every recursive walk that follows (validators, `JSON.stringify` in messages).
 * @internal
 */
export function jsonTooDeepAt(text: string, maxDepth: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}
