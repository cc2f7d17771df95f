// The records TypeScript and Rust share are declared once on each side from a field list: the
// Rust `record!` blocks (crates/kernels/src) and the TypeScript `record(...)` lists (ts/runtime/
// abi.ts). The loader compares offsets at start-up; this test compares the names too (two fields
// swapped keep the offsets and would pass the loader's check).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONV_GEOM, GEMM_ARGS, LAYER, LAYOUT_NAMES, OPT_HYPER, OPT_TENSOR, PLAN } from '../../ts/runtime/abi.js';

const SRC = join(__dirname, '../../crates/kernels/src');

/** Field names of `pub struct <name>` inside a `record!` block of a Rust source file. */
function rustFields(file: string, name: string): string[] {
  const src = readFileSync(join(SRC, file), 'utf8');
  const start = src.indexOf(`pub struct ${name} {`);
  expect(start, `${name} in ${file}`).toBeGreaterThan(0);
  expect(src.lastIndexOf('record! {', start), `${name} is declared with record!`).toBeGreaterThan(src.lastIndexOf('\n}', start));
  const body = src.slice(start, src.indexOf('\n    }\n', start));
  return [...body.matchAll(/^\s+pub (\w+):/gm)].map((m) => m[1]!);
}

const snake = (f: string) => f.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

describe('shared records', () => {
  it.each([
    ['plan.rs', PLAN],
    ['plan.rs', LAYER],
    ['gemm.rs', GEMM_ARGS],
    ['optim.rs', OPT_HYPER],
    ['optim.rs', OPT_TENSOR],
    ['conv.rs', CONV_GEOM],
  ] as const)('%s %s: the same fields in the same order on both sides', (file, rec) => {
    expect(rec.fields.map(snake)).toEqual(rustFields(file, rec.name));
    expect(rec.size).toBe(rec.fields.length * 4);
  });

  it('the layout names cover every record field once, in the order abi_layout reports them', () => {
    const fields = [PLAN, LAYER, GEMM_ARGS, OPT_HYPER, OPT_TENSOR, CONV_GEOM].flatMap((r) => [`sizeof ${r.name}`, ...r.fields.map((f) => `${r.name}.${snake(f)}`)]);
    expect(LAYOUT_NAMES).toEqual([...fields, 'gemm workspace floats', 'shared packing floats']);
  });
});

describe('the embedded modules', () => {
  it('the SIMD build is embedded gzip-compressed and inflates to exactly build/wasmfit-simd.wasm', async () => {
    const { gunzipSync } = await import('node:zlib');
    const { SIMD_WASM_GZIP_BASE64 } = await import('../../ts/runtime/wasm-simd.generated.js');
    const built = readFileSync(join(__dirname, '../../build/wasmfit-simd.wasm'));
    expect(Buffer.compare(gunzipSync(Buffer.from(SIMD_WASM_GZIP_BASE64, 'base64')), built)).toBe(0);
  });
});
