// Depthwise convolution: (1) why a direct kernel and not the conv2d GEMM packing, (2) what a
// depthwise-separable block buys over a full convolution in a training step, (3) PyTorch beside it.
//
//   npm run build && node bench/depthwise.mjs [--rounds N] [--quick] [--no-torch]
//
// (1) Kernel level, SIMD harness module (build/wasmfit-simd-harness.wasm), one thread: forward +
//     backward (dx, dw, db) of a 3×3 'same' depthwise layer on MobileNet-like shapes, by
//     crates/kernels/src/depthwise.rs (A) against the GEMM lowering's lower bound (B): conv2d's
//     im2col + packed GEMM run on each channel as its own 1-channel image (k = 9, n = 1), c calls
//     per pass, not counting the copies that would split NHWC channels into separate images and
//     merge them back (which favours B).
// (2) Model level (dist/wasmfit.mjs, 1 thread): samples/s of a training step (Adam, softmax
//     cross-entropy) of input [h, w, c] → block → globalAveragePool2d → dense(10), where the block
//     is depthwiseConv2d(3×3 'same', relu) + conv2d(c_out, 1×1, relu) (separable) or conv2d(c_out,
//     3×3 'same', relu) (full).
// Windows alternate (A, B, B, A, …) and every ratio is the median of per-round ratios, with its
// IQR and range (bench/lib/ab.mjs): the machine may be shared, so read medians and ranges.
// (3) PyTorch 1.13 (Debian python3-torch), torch.set_num_threads(1), the same two models and batch
//     (NCHW, nn.Conv2d(groups = c)), median of timed steps: bench/depthwise_torch.py.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { alternate, abTable } from './lib/ab.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const ri = args.indexOf('--rounds');
const quick = args.includes('--quick');
const rounds = ri >= 0 ? Number(args[ri + 1]) : quick ? 5 : 15;
const wf = await import(pathToFileURL(join(root, 'dist', 'wasmfit.mjs')).href);

// ---------------------------------------------------------------- (1) kernel level
const rt = await wf.init({ wasm: readFileSync(join(root, 'build', 'wasmfit-simd-harness.wasm')), simd: true, threads: 1 });
const K = (n) => rt.kernels.testExport(n);
const FIELDS = ['h', 'w', 'c', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl', 'oh', 'ow', 'f'];
const geom = (g) => {
  const p = rt.arena.alloc(FIELDS.length * 4);
  FIELDS.forEach((f, i) => rt.arena.view.setUint32(p + 4 * i, g[f], true));
  return p;
};
const buf = (n) => {
  const p = rt.arena.allocF32(n);
  const f = rt.arena.f32;
  for (let i = 0; i < n; i++) f[(p >> 2) + i] = Math.sin(i * 0.37);
  return p;
};
const GEMM_WS = 1 << 20; // floats; ≥ the GEMM workspace (checked by the loader's layout, here generous)

function kernelCase(n, h, w, c) {
  const g = { h, w, c, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, oh: h, ow: w, f: c };
  const g1 = { ...g, c: 1, f: 1 };
  const [geo, geo1] = [geom(g), geom(g1)];
  const [x, wt, b, y, dy, dx, dw, db] = [n * h * w * c, 9 * c, c, n * h * w * c, n * h * w * c, n * h * w * c, 9 * c, c].map(buf);
  const [x1, y1, dy1, dx1] = [n * h * w, n * h * w, n * h * w, n * h * w].map(buf);
  const rows = 4096;
  const scratch = buf(rows * 9);
  const ws = buf(GEMM_WS);
  const direct = () => {
    K('depthwise_forward')(geo, x, n, wt, b, 1, 0, y);
    K('depthwise_backward')(geo, x, n, dy, wt, dx, dw, db);
    return n;
  };
  const gemm = () => {
    for (let ch = 0; ch < c; ch++) {
      K('conv2d_forward')(geo1, x1, n, wt + 4 * 9 * ch, b + 4 * ch, 1, y1, scratch, rows * 9, ws);
      K('conv2d_backward')(geo1, x1, n, dy1, wt + 4 * 9 * ch, dx1, dw + 4 * 9 * ch, db + 4 * ch, scratch, rows * 9, ws);
    }
    return n;
  };
  return { label: `n${n} ${h}×${w}×${c} 3×3 same`, run: [gemm, direct] };
}

const kcases = [kernelCase(32, 28, 28, 32), kernelCase(32, 14, 14, 64), kernelCase(8, 56, 56, 16)];
const krows = [];
for (const k of kcases) {
  for (let i = 0; i < 2; i++) k.run.forEach((f) => f()); // warm-up
  krows.push({ label: k.label, res: await alternate(k.run, rounds) });
}
console.log('(1) depthwise forward + backward, samples/s (1 thread, SIMD): A = per-channel conv2d GEMM lowering (lower bound), B = direct kernel');
console.log(abTable(krows, { names: ['gemm', 'direct'], digits: 0 }));

// ---------------------------------------------------------------- (2) model level
await wf.init({ threads: 1 });
const MODELS = [
  { h: 32, w: 32, c: 32, out: 64, batch: 32 },
  { h: 16, w: 16, c: 64, out: 128, batch: 32 },
];
function model(m, separable) {
  const block = separable
    ? [wf.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }), wf.conv2d(m.out, { kernelSize: 1, activation: 'relu' })]
    : [wf.conv2d(m.out, { kernelSize: 3, padding: 'same', activation: 'relu' })];
  const s = new wf.Sequential({ inputShape: [m.h, m.w, m.c], layers: [...block, wf.globalAveragePool2d(), wf.dense(10)], seed: 1 });
  s.compile({ optimizer: wf.adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
  return s;
}
const mrows = [];
for (const m of MODELS) {
  const rng = new wf.Rng(3);
  const x = new Float32Array(m.batch * m.h * m.w * m.c).map(() => rng.normal());
  const y = Int32Array.from({ length: m.batch }, (_, i) => i % 10);
  const [full, sep] = [model(m, false), model(m, true)];
  const steps = (s, k) => () => {
    for (let i = 0; i < k; i++) s.trainOnBatch(x, y);
    return k * m.batch;
  };
  const run = [steps(full, 3), steps(sep, 3)];
  run.forEach((f) => f());
  mrows.push({ label: `[${m.h}, ${m.w}, ${m.c}] → ${m.out}, batch ${m.batch}`, res: await alternate(run, rounds) });
  full.dispose();
  sep.dispose();
}
console.log('\n(2) training step samples/s (1 thread): A = conv2d 3×3, B = depthwise 3×3 + conv2d 1×1');
console.log(abTable(mrows, { names: ['full', 'separable'], digits: 0 }));

// ---------------------------------------------------------------- (3) PyTorch, 1 thread
if (!args.includes('--no-torch')) {
  const r = spawnSync('/usr/bin/python3', [join(here, 'depthwise_torch.py'), JSON.stringify({ models: MODELS, rounds })], { encoding: 'utf8' });
  if (r.status !== 0) console.log(`\n(3) PyTorch: not run (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
  else {
    console.log('\n(3) PyTorch 1 thread, training step samples/s, median (min–max) of timed windows:');
    for (const row of JSON.parse(r.stdout)) console.log(`  [${row.h}, ${row.w}, ${row.c}] → ${row.out}: full ${row.full.median.toFixed(0)} (${row.full.min.toFixed(0)}–${row.full.max.toFixed(0)}), separable ${row.sep.median.toFixed(0)} (${row.sep.min.toFixed(0)}–${row.sep.max.toFixed(0)}), separable/full ${(row.sep.median / row.full.median).toFixed(3)}`);
  }
}
