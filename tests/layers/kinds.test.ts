// The layer kinds are registered once on each side — ts/layers/kinds.ts and the KINDS table of
// crates/kernels/src/layers/mod.rs — and a kind's TypeScript descriptor and Rust module must agree
// on its record code (the loader's layout check cannot see codes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kinds from '../../ts/layers/kinds.js';
import type { LayerKind } from '../../ts/layers/kind.js';

const SRC = join(__dirname, '../../crates/kernels/src/layers');
const snake = (t: string) => t.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

describe('layer kinds', () => {
  const ts = (Object.values(kinds) as unknown[]).filter((v): v is LayerKind => typeof v === 'object' && v !== null && typeof (v as LayerKind).record === 'function');
  const table = readFileSync(join(SRC, 'mod.rs'), 'utf8').match(/pub static KINDS: &\[&Kind\] = &\[([^\]]*)\];/)![1]!;
  const rust = [...table.matchAll(/&(\w+)::KIND/g)].map((m) => m[1]!);

  const module = (k: LayerKind) => k.kernel ?? snake(k.type);

  it('the same kinds are registered on both sides', () => {
    expect([...new Set(ts.map(module))].sort()).toEqual([...rust].sort());
  });

  it.each(ts.map((k) => [k.type, k] as const))('%s: the descriptor code is its Rust module CODE, and a code means one module', (_t, k) => {
    const src = readFileSync(join(SRC, `${module(k)}.rs`), 'utf8');
    expect(Number(src.match(/pub const CODE: u32 = (\d+);/)![1])).toBe(k.code);
    // several descriptors may run one kernel (global pooling); one code never names two kernels
    expect(new Set(ts.filter((o) => o.code === k.code).map(module))).toEqual(new Set([module(k)]));
  });
});
