// The import graph of ts/ (and, crateGraph, the module graph of the kernel crate) (static `import`/`export … from`, including `import type`, and dynamic
// `import('…')` of relative paths), and its cycles (strongly connected components with more than
// one module, or a module importing itself). `node scripts/import-graph.mjs` prints the cycles and
// exits 1 when there is one; tests/architecture.test.ts runs the same check.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Every .ts file under `dir` (generated files included: they are modules too). */
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const SPEC = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** `{ files, edges: Map<file, Set<file>> }` with paths relative to the repository root. */
export function importGraph(root = resolve(here, '..'), src = 'ts') {
  const files = walk(join(root, src));
  const edges = new Map();
  for (const f of files) {
    const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const out = new Set();
    for (const m of text.matchAll(SPEC)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
      const ts = target.endsWith('.ts') ? target : `${target}.ts`;
      out.add(relative(root, ts));
    }
    edges.set(relative(root, f), out);
  }
  return { files: [...edges.keys()], edges };
}

/**
 * The module graph of the kernel crate: one node per top-level module of crates/kernels/src (a
 * folder such as `layers/` is one module), an edge for every `crate::<module>` path in its code
 * (`use` or inline; test modules and comments excluded, so only what the library builds counts).
 */
export function crateGraph(root = resolve(here, '..'), src = 'crates/kernels/src') {
  const dir = join(root, src);
  const edges = new Map();
  const strip = (t) => t.replace(/\/\/.*$/gm, '').replace(/#\[cfg\(test\)\]\s*mod tests \{[\s\S]*$/m, '');
  const walkRs = (d) => readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walkRs(p) : p.endsWith('.rs') ? [p] : [];
  });
  for (const f of walkRs(dir)) {
    const rel = relative(dir, f);
    const mod = rel.split(/[\\/]/)[0].replace(/\.rs$/, '');
    if (mod === 'lib') continue;
    const out = edges.get(mod) ?? new Set();
    for (const m of strip(readFileSync(f, 'utf8')).matchAll(/crate::(\w+)/g)) if (m[1] !== mod) out.add(m[1]);
    // `use crate::{a, b::c}` groups
    for (const g of strip(readFileSync(f, 'utf8')).matchAll(/crate::\{([^}]*)\}/g)) {
      for (const part of g[1].split(',')) {
        const name = part.trim().split('::')[0];
        if (/^\w+$/.test(name) && name !== 'self' && name !== mod) out.add(name);
      }
    }
    edges.set(mod, out);
  }
  return { modules: [...edges.keys()], edges };
}

/** Cycles as lists of modules (Tarjan's strongly connected components). */
export function cycles(edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (edges.get(v) ?? new Set()).has(v)) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let bad = 0;
  for (const [what, { edges }] of [['ts/', importGraph()], ['crates/kernels', crateGraph()]]) {
    const found = cycles(edges);
    for (const c of found) console.log(`cycle in ${what}: ${c.join(' <-> ')}`);
    console.log(`${what}: ${edges.size} modules, ${[...edges.values()].reduce((s, e) => s + e.size, 0)} imports, ${found.length} cycle(s)`);
    bad += found.length;
  }
  process.exit(bad ? 1 : 0);
}
