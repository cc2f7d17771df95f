// The FMA build's post-link pass: turns the SIMD128 GEMM micro-kernel's multiply-then-add
// accumulations into relaxed-SIMD fused multiply-adds, through binaryen's text form.
//
// Rust 1.63 has no relaxed-SIMD intrinsics, so the kernel crate is compiled once for SIMD128 and
// this pass rewrites, in the optimized module, exactly the accumulator updates of the micro-kernel
// (crates/kernels/src/gemm.rs, `kernel`):
//     (local.set $c (f32x4.add (local.get $c) (f32x4.mul A B)))
//  →  (local.set $c (f32x4.relaxed_madd A B (local.get $c)))
// and nothing else. The micro-kernel's loop is recognized by its shape: the only loop of the module
// that holds `v128.load32_splat`s (the broadcast A values) together with accumulator updates; it
// must hold exactly MR·NR/4 = 8 of them. Anything else (no such loop, two of them, another count,
// an operand that writes the accumulator) fails the build, so a changed kernel cannot silently ship
// an unfused "FMA" build. The pass also makes `simd_enabled()` return 2 instead of 1, by which a
// loaded module says it is this build (ts/runtime/kernels.ts).
//
// The rewrite keeps every byte offset of the module: `f32x4.mul` + `f32x4.add` (3 + 3 bytes) become
// `f32x4.relaxed_madd` (3 bytes) + three `nop`s (free: the compilers emit nothing for them), and
// `i32.const 1` becomes `i32.const 2`. So the FMA module differs from the SIMD128 one in a few
// hundred bytes, and the loader makes it from the SIMD128 bytes with a patch (fmaPatch) instead of
// embedding a second module.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Accumulator updates per micro-kernel loop iteration: the 4×8 tile in 8 f32x4 registers. */
export const FUSED_PER_KERNEL = 8;

/**
 * Parses binaryen's text format into nodes `{ start, end, items }` (items: nodes or atom strings),
 * keeping source offsets so that rewrites can splice the original text.
 */
export function parseSexpr(text) {
  const stack = [{ start: 0, end: text.length, items: [] }];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '(') {
      if (text[i + 1] === ';') {
        // block comment (; ... ;)
        const e = text.indexOf(';)', i + 2);
        if (e < 0) throw new Error('fuse-madd: unterminated block comment');
        i = e + 2;
        continue;
      }
      stack.push({ start: i, end: -1, items: [] });
      i++;
    } else if (ch === ')') {
      const node = stack.pop();
      if (stack.length === 0) throw new Error(`fuse-madd: unbalanced ')' at ${i}`);
      node.end = i + 1;
      stack[stack.length - 1].items.push(node);
      i++;
    } else if (ch === ';' && text[i + 1] === ';') {
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      stack[stack.length - 1].items.push(text.slice(i, j + 1));
      i = j + 1;
    } else if (ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r') {
      i++;
    } else {
      let j = i;
      while (j < n && !' \n\t\r()"'.includes(text[j])) j++;
      stack[stack.length - 1].items.push(text.slice(i, j));
      i = j;
    }
  }
  if (stack.length !== 1) throw new Error('fuse-madd: unbalanced parentheses');
  return stack[0];
}

const head = (node) => (typeof node === 'object' && typeof node.items[0] === 'string' ? node.items[0] : undefined);
const isList = (x) => typeof x === 'object';

function* walk(node) {
  yield node;
  for (const c of node.items) if (isList(c)) yield* walk(c);
}

/** Nodes under `node` (not itself) that are not inside a nested loop. */
function* walkOwn(node) {
  for (const c of node.items) {
    if (!isList(c)) continue;
    yield c;
    if (head(c) !== 'loop') yield* walkOwn(c);
  }
}

/** `(local.set $c (f32x4.add (local.get $c) (f32x4.mul A B)))` (either add operand order) → { acc, mul }. */
function accumulatorUpdate(node) {
  if (head(node) !== 'local.set' || node.items.length !== 3) return null;
  const acc = node.items[1];
  const add = node.items[2];
  if (head(add) !== 'f32x4.add' || add.items.length !== 3) return null;
  const isAcc = (x) => head(x) === 'local.get' && x.items.length === 2 && x.items[1] === acc;
  const isMul = (x) => head(x) === 'f32x4.mul' && x.items.length === 3;
  if (isAcc(add.items[1]) && isMul(add.items[2])) return { acc, mul: add.items[2] };
  if (isMul(add.items[1]) && isAcc(add.items[2])) return { acc, mul: add.items[1] };
  return null;
}

/**
 * Rewrites the micro-kernel's accumulator updates of a binaryen text module into
 * `f32x4.relaxed_madd`; returns `{ text, fused }`. Throws unless exactly one loop qualifies and it
 * holds exactly `expected` updates.
 */
export function fuseText(text, expected = FUSED_PER_KERNEL) {
  const root = parseSexpr(text);
  const module = root.items.find((x) => head(x) === 'module');
  if (!module) throw new Error('fuse-madd: no (module ...) in the text');
  if (text.includes('relaxed_')) throw new Error('fuse-madd: the module already has relaxed-SIMD instructions');
  const candidates = [];
  for (const func of module.items.filter((x) => head(x) === 'func')) {
    for (const node of walk(func)) {
      if (head(node) !== 'loop') continue;
      const own = [...walkOwn(node)];
      const splats = own.filter((x) => head(x) === 'v128.load32_splat').length;
      const updates = [];
      for (const x of own) {
        const u = accumulatorUpdate(x);
        if (u) updates.push({ ...u, node: x });
      }
      if (splats > 0 && updates.length > 0) candidates.push({ func, loop: node, updates });
    }
  }
  if (candidates.length !== 1) {
    throw new Error(`fuse-madd: expected exactly one GEMM micro-kernel loop (v128.load32_splat + f32x4 accumulator updates), found ${candidates.length}; crates/kernels/src/gemm.rs changed shape — update scripts/fuse-madd.mjs`);
  }
  const { updates } = candidates[0];
  if (updates.length !== expected) {
    throw new Error(`fuse-madd: the GEMM micro-kernel loop has ${updates.length} f32x4 accumulator updates, expected ${expected} (the 4×8 tile); update scripts/fuse-madd.mjs`);
  }
  const edits = updates.map(({ acc, mul, node }) => {
    const [a, b] = [mul.items[1], mul.items[2]];
    // relaxed_madd evaluates the accumulator after A and B: neither may write it
    for (const op of [a, b]) {
      for (const x of walk(op)) {
        if ((head(x) === 'local.set' || head(x) === 'local.tee') && x.items[1] === acc) throw new Error(`fuse-madd: an operand of the product writes the accumulator ${acc}; refusing to reorder`);
      }
    }
    const src = (x) => text.slice(x.start, x.end);
    // three nops keep the instruction bytes (and so every offset of the module) unchanged
    return { start: node.start, end: node.end, out: `(nop) (nop) (nop) (local.set ${acc} (f32x4.relaxed_madd ${src(a)} ${src(b)} (local.get ${acc})))` };
  });
  edits.push(markSimdEnabled(text, module));
  let out = '';
  let pos = 0;
  for (const e of edits.sort((x, y) => x.start - y.start)) {
    out += text.slice(pos, e.start) + e.out;
    pos = e.end;
  }
  out += text.slice(pos);
  return { text: out, fused: edits.length - 1 };
}

/**
 * The edit that makes `simd_enabled` return 2 (the FMA build's mark): its function must be
 * `(func $f (result i32) (i32.const 1))`, exported once and referenced nowhere else.
 */
function markSimdEnabled(text, module) {
  const exp = module.items.filter((x) => head(x) === 'export' && x.items[1] === '"simd_enabled"');
  const ref = exp.length === 1 && head(exp[0].items[2]) === 'func' ? exp[0].items[2].items[1] : undefined;
  const func = module.items.find((x) => head(x) === 'func' && x.items[1] === ref);
  const body = func?.items.slice(2);
  const ok = body?.length === 2 && head(body[0]) === 'result' && body[0].items[1] === 'i32' && head(body[1]) === 'i32.const' && body[1].items[1] === '1';
  if (!ok) throw new Error('fuse-madd: expected the export simd_enabled to be (func (result i32) (i32.const 1)); update scripts/fuse-madd.mjs');
  // function references: definitions, (func $f) in exports, calls, ref.func, table elements
  let uses = 0;
  for (const n of walk(module)) {
    const h = head(n);
    if (h === 'elem') uses += n.items.filter((x) => x === ref).length;
    else if ((h === 'func' || h === 'call' || h === 'return_call' || h === 'ref.func') && n.items[1] === ref) uses++;
  }
  if (uses !== 2) throw new Error(`fuse-madd: the simd_enabled function ${ref} is used ${uses - 2} more time(s) (merged with another function?); refusing to change it`);
  return { start: body[1].start, end: body[1].end, out: '(i32.const 2)' };
}

/**
 * The FMA module as a patch of the SIMD128 one (same length): runs of differing bytes, encoded as
 * [u32 offset, u16 length, bytes…] little-endian, one after another. Runs closer than 8 bytes merge.
 */
export function fmaPatch(simd, fma) {
  if (simd.length !== fma.length) throw new Error(`fuse-madd: the FMA module has ${fma.length} bytes, the SIMD128 one ${simd.length}; the rewrite must keep every offset`);
  const runs = [];
  for (let i = 0; i < simd.length; i++) {
    if (simd[i] === fma[i]) continue;
    const last = runs[runs.length - 1];
    if (last && i - last.end < 8) last.end = i + 1;
    else runs.push({ start: i, end: i + 1 });
  }
  const out = [];
  for (const { start, end } of runs) {
    const h = Buffer.alloc(6);
    h.writeUInt32LE(start, 0);
    h.writeUInt16LE(end - start, 4);
    out.push(h, fma.subarray(start, end));
  }
  return Buffer.concat(out);
}

/** Applies a {@link fmaPatch} to a copy of `bytes` (the loader has its own copy of these lines). */
export function applyPatch(bytes, patch) {
  const out = Uint8Array.from(bytes);
  const v = new DataView(patch.buffer, patch.byteOffset, patch.byteLength);
  for (let i = 0; i < patch.length; ) {
    const at = v.getUint32(i, true);
    const n = v.getUint16(i + 4, true);
    out.set(patch.subarray(i + 6, i + 6 + n), at);
    i += 6 + n;
  }
  return out;
}

/**
 * Rewrites `wasmFile` (a SIMD128 build, or the threaded one: pass its binaryen `features`, e.g.
 * `--enable-threads`) into `outFile` with fused multiply-adds; returns the count and the patch that
 * turns the one into the other.
 */
export function fuseMadd(wasmFile, outFile, binDir, features = []) {
  const text = execFileSync(join(binDir, 'wasm-dis'), [wasmFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const { text: fusedText, fused } = fuseText(text);
  const watFile = outFile.replace(/\.wasm$/, '.wat');
  writeFileSync(watFile, fusedText);
  execFileSync(join(binDir, 'wasm-as'), ['--enable-simd', '--enable-relaxed-simd', '--enable-nontrapping-float-to-int', ...features, watFile, '-o', outFile], { stdio: 'inherit' });
  const check = execFileSync(join(binDir, 'wasm-dis'), [outFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const count = (check.match(/f32x4\.relaxed_madd/g) ?? []).length;
  if (count !== fused) throw new Error(`fuse-madd: ${outFile} holds ${count} f32x4.relaxed_madd, expected ${fused}`);
  const simd = readFileSync(wasmFile);
  const fma = readFileSync(outFile);
  const patch = fmaPatch(simd, fma);
  if (Buffer.compare(Buffer.from(applyPatch(simd, patch)), fma) !== 0) throw new Error('fuse-madd: the patch does not reproduce the FMA module');
  return { fused, patch };
}
