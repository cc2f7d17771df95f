/** `wasmfit bench`: a quick training-throughput figure for this machine. @internal */
import { parseArgs } from 'node:util';
import { Rng } from '../data/rng.js';
import { dense } from '../layers/index.js';
import { modelFromSpec } from '../model/spec.js';
import { sgd } from '../optimizers/index.js';
import { fmaSupported, init, simdSupported, type InitOptions } from '../runtime/loader.js';
import { parseLayers } from './specs.js';
import { formatTable, num, type Io } from './util.js';

export const BENCH_HELP = `Usage: wasmfit bench [--layers 256,128] [--inputs 784] [--classes 10] [--batch-size 64] [--seconds 1]

Times training steps (forward, loss, backward and SGD update in one WASM call per batch) of a
ReLU MLP on random data, for the SIMD128 build (where supported) and the scalar build, and prints
samples/s, steps/s and the arithmetic rate (6 FLOPs per weight per sample).`;

const OPTIONS = {
  layers: { type: 'string', default: '256,128' },
  inputs: { type: 'string', default: '784' },
  classes: { type: 'string', default: '10' },
  'batch-size': { type: 'string', default: '64' },
  seconds: { type: 'string', default: '1' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function bench(argv: string[], io: Io): Promise<void> {
  const { values: a } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (a.help) {
    io.out(BENCH_HELP + '\n');
    return;
  }
  const hidden = parseLayers(a.layers);
  const inputs = num(a.inputs, '--inputs', { int: true, min: 1 });
  const classes = num(a.classes, '--classes', { int: true, min: 2 });
  const batch = num(a['batch-size'], '--batch-size', { int: true, min: 1 });
  const seconds = num(a.seconds, '--seconds', { min: 0.05, max: 600 });
  const sizes = [inputs, ...hidden, classes];
  let weights = 0;
  for (let i = 1; i < sizes.length; i++) weights += sizes[i - 1]! * sizes[i]!;
  const rows = batch * 16;
  const rng = new Rng(1);
  const x = Float32Array.from({ length: rows * inputs }, () => rng.next());
  const y = Int32Array.from({ length: rows }, () => Math.floor(rng.next() * classes));
  const out: string[][] = [];
  io.err(`wasmfit bench: MLP ${sizes.join('-')} (ReLU), batch ${batch}, ~${seconds} s per build\n`);
  // the FMA build where the host validates relaxed SIMD, then SIMD128, then scalar
  const builds: InitOptions[] = [...(fmaSupported() ? [{ fma: true }] : []), ...(simdSupported() ? [{ simd: true }] : []), { simd: false }];
  for (const opts0 of builds) {
    const rt = await init(opts0);
    const m = modelFromSpec({ inputShape: [inputs], layers: [...hidden.map((u) => dense(u, { activation: 'relu' })), dense(classes)], seed: 1, optimizer: sgd({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' }, undefined, rt);
    try {
      const opts = { batchSize: batch, shuffle: false, yieldEveryMs: 1e9 };
      await m.fit(x, y, { ...opts, epochs: 1 }); // warm-up
      let t0 = performance.now();
      await m.fit(x, y, { ...opts, epochs: 1 });
      const perEpoch = Math.max(1e-3, (performance.now() - t0) / 1000);
      const epochs = Math.max(1, Math.ceil(seconds / perEpoch));
      t0 = performance.now();
      await m.fit(x, y, { ...opts, epochs });
      const s = (performance.now() - t0) / 1000;
      const samples = (rows * epochs) / s;
      out.push([rt.fma ? 'FMA' : rt.simd ? 'SIMD128' : 'scalar', samples.toFixed(0), (samples / batch).toFixed(1), ((6 * weights * samples) / 1e9).toFixed(2)]);
    } finally {
      m.dispose();
    }
  }
  io.out(formatTable(['build', 'samples/s', 'steps/s', 'GFLOP/s'], out) + '\n');
}
