// Per-operation time of the W5 CNN's convolution and pooling kernels (batch 32: conv 32 5×5 on
// 28×28×1 → maxPool 2 → conv 64 5×5 → maxPool 2), on the SIMD128 kernel-test module
// (build/wasmfit-simd-harness.wasm, one thread), so a step's time can be attributed per layer.
//   node bench/conv-ops.mjs [--rounds R] [--only <op name prefix>] [--wasm A.wasm [--wasm B.wasm]]
// With two --wasm modules, their windows alternate (bench/lib/ab.mjs) and the table gives each
// op's per-round ratio B/A by wall clock and by CPU time (the machine may be shared: read ratios).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init } from '../dist/wasmfit.mjs';
import { alternate, abTable } from './lib/ab.mjs';

const args = process.argv.slice(2);
const arg = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const rounds = Number(arg('--rounds', 9));
const only = arg('--only', '');
const wasms = args.flatMap((a, i) => (a === '--wasm' ? [args[i + 1]] : []));
if (wasms.length === 0) wasms.push(fileURLToPath(new URL('../build/wasmfit-simd-harness.wasm', import.meta.url)));

const FIELDS = ['h', 'w', 'c', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl', 'oh', 'ow', 'f'];
const N = 32;
const C1 = { h: 28, w: 28, c: 1, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: 24, ow: 24, f: 32 };
const P1 = { h: 24, w: 24, c: 32, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pl: 0, oh: 12, ow: 12, f: 32 };
const C2 = { h: 12, w: 12, c: 32, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: 8, ow: 8, f: 64 };
const P2 = { h: 8, w: 8, c: 64, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pl: 0, oh: 4, ow: 4, f: 64 };

async function setup(path) {
  const rt = await init({ wasm: readFileSync(path), simd: true });
  const a = rt.arena;
  const x = rt.kernels.testExport.bind(rt.kernels);
  let s = 1;
  const buf = (n) => {
    const p = a.allocF32(n);
    const f = a.f32;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      f[(p >> 2) + i] = s / 4294967296 - 0.5;
    }
    return p;
  };
  const geom = (g) => {
    const p = a.alloc(FIELDS.length * 4);
    FIELDS.forEach((k, i) => a.view.setUint32(p + 4 * i, g[k], true));
    return p;
  };
  const sz = (g) => [g.h * g.w * g.c, g.oh * g.ow * g.f, g.kh * g.kw * g.c];
  const ws = a.allocF32(64 * 256 + 256 * 1024);
  const conv = (g) => {
    const [ni, no, k] = sz(g);
    const scratchLen = Math.max(1, Math.floor(262144 / k)) * k;
    return { g: geom(g), x: buf(N * ni), w: buf(k * g.f), b: buf(g.f), y: buf(N * no), dy: buf(N * no), dx: buf(N * ni), dw: buf(k * g.f), db: buf(g.f), scratch: buf(scratchLen), scratchLen };
  };
  const pool = (g) => {
    const [ni, no] = sz(g);
    return { g: geom(g), x: buf(N * ni), y: buf(N * no), dy: buf(N * no), dx: buf(N * ni) };
  };
  const c1 = conv(C1), c2 = conv(C2), p1 = pool(P1), p2 = pool(P2);
  const cf = x('conv2d_forward'), cb = x('conv2d_backward'), pf = x('pool2d_forward'), pb = x('pool2d_backward');
  const ops = {
    'conv1 forward (m 18432, k 25, f 32)': () => cf(c1.g, c1.x, N, c1.w, c1.b, 1, c1.y, c1.scratch, c1.scratchLen, ws),
    'conv1 backward dW+db': () => cb(c1.g, c1.x, N, c1.dy, c1.w, 0, c1.dw, c1.db, c1.scratch, c1.scratchLen, ws),
    'maxPool1 forward': () => pf(p1.g, 0, p1.x, N, p1.y),
    'maxPool1 backward': () => pb(p1.g, 0, p1.x, N, p1.dy, p1.dx),
    'conv2 forward (m 2048, k 800, f 64)': () => cf(c2.g, c2.x, N, c2.w, c2.b, 1, c2.y, c2.scratch, c2.scratchLen, ws),
    'conv2 backward dW+db': () => cb(c2.g, c2.x, N, c2.dy, c2.w, 0, c2.dw, c2.db, c2.scratch, c2.scratchLen, ws),
    'conv2 backward dX': () => cb(c2.g, c2.x, N, c2.dy, c2.w, c2.dx, 0, 0, c2.scratch, c2.scratchLen, ws),
    'maxPool2 forward': () => pf(p2.g, 0, p2.x, N, p2.y),
    'maxPool2 backward': () => pb(p2.g, 0, p2.x, N, p2.dy, p2.dx),
  };
  return ops;
}

const builds = [];
for (const w of wasms) builds.push(await setup(w));
/** Calls of `f` in ~40 ms, then the window: as many calls; returns calls. */
const window = (f, reps) => () => {
  for (let i = 0; i < reps; i++) f();
  return reps;
};
const rows = [];
for (const name of Object.keys(builds[0]).filter((n) => n.startsWith(only))) {
  const f0 = builds[0][name];
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f0();
    if (performance.now() - t0 > 40) break;
    reps *= 2;
  }
  if (builds.length === 1) {
    const ts = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) f0();
      ts.push(((performance.now() - t0) / reps) * 1000);
    }
    ts.sort((a, b) => a - b);
    console.log(`${name.padEnd(40)} ${ts[(ts.length - 1) >> 1].toFixed(0).padStart(6)} µs  (${ts[0].toFixed(0)}–${ts[ts.length - 1].toFixed(0)})`);
  } else {
    const res = await alternate(builds.map((b) => window(b[name], reps)), rounds);
    rows.push({ label: name, res });
  }
}
if (builds.length > 1) {
  console.log(`calls/s; ${rounds} alternated rounds; A = ${wasms[0]}, B = ${wasms[1]}`);
  console.log(abTable(rows, { names: ['A', 'B'], unit: 'calls/s' }));
}
