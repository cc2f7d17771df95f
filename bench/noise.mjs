// Noise-layer backward: store the multipliers or draw them again? Times, per element, what the
// backward pass would cost either way on the SIMD128 kernel-test module (build/wasmfit-simd-harness.wasm,
// `npm run build` makes it):
//   draw   — the forward kernels (`gaussian_dropout_forward`, `alpha_dropout_forward`): Philox and,
//            for Gaussian dropout, Box–Muller per element, which a backward that redraws repeats;
//   stored — `dropout_backward` (g·m with the stored multipliers): what the layers' backward does.
// Each sample runs a kernel enough times to last >= 20 ms; draw and stored alternate within every
// round (AB, BA, ...), and the ratio is the median of per-round ratios with its range, so load from
// other processes hits both alike.
//
//   node bench/noise.mjs [--quick] [--n ELEMENTS]

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const nArg = argv.indexOf('--n');
const N = nArg >= 0 ? Number(argv[nArg + 1]) : 64 * 784; // a batch of 64 MNIST images
const rounds = quick ? 5 : 15;

const memory = new WebAssembly.Memory({ initial: 64 });
const { instance } = await WebAssembly.instantiate(readFileSync(join(root, 'build', 'wasmfit-simd-harness.wasm')), { env: { memory } });
const k = instance.exports;
const base = (k.__heap_base.value + 15) & ~15;
const need = base + 4 * 4 * N + 64;
if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
const [x, y, m, g] = [0, 1, 2, 3].map((i) => base + i * 4 * N);
const f = new Float32Array(memory.buffer);
for (let i = 0; i < N; i++) {
  f[(x >> 2) + i] = Math.sin(i);
  f[(g >> 2) + i] = Math.cos(i);
}

const kernels = {
  'gaussianDropout draw': () => k.gaussian_dropout_forward(x, y, m, N, 0.3, 1, 2, 3),
  'alphaDropout draw': () => k.alpha_dropout_forward(x, y, m, N, 0.3, 1, 2, 3),
  'dropout draw': () => k.dropout_forward(y, m, N, 0.3, 1, 2, 3), // dropout's mask, for scale
  'stored multiply': () => k.dropout_backward(g, m, N),
};

/** ns per element of one sample lasting >= 20 ms. */
function sample(fn) {
  let reps = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < reps; r++) fn();
    const dt = Number(process.hrtime.bigint() - t0);
    if (dt >= 20e6) return dt / reps / N;
    reps *= 2;
  }
}

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`noise backward: draw again vs stored multipliers, ${N} elements, SIMD128 harness module, ${rounds} alternated rounds (machine shared with other jobs)`);
for (const draw of ['gaussianDropout draw', 'alphaDropout draw', 'dropout draw']) {
  for (let w = 0; w < 3; w++) (sample(kernels[draw]), sample(kernels['stored multiply'])); // warm-up
  const a = [];
  const b = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [0, 1] : [1, 0];
    const t = [0, 0];
    for (const o of order) t[o] = sample(o === 0 ? kernels[draw] : kernels['stored multiply']);
    a.push(t[0]);
    b.push(t[1]);
  }
  const ratios = a.map((v, i) => v / b[i]);
  const fmt = (v) => v.toFixed(2);
  console.log(
    `${draw.padEnd(22)} ${fmt(median(a))} ns/element [${fmt(Math.min(...a))}–${fmt(Math.max(...a))}]; stored multiply ${fmt(median(b))} [${fmt(Math.min(...b))}–${fmt(Math.max(...b))}]; ` +
      `draw/stored ${fmt(median(ratios))}× [${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))}]`,
  );
}
