// Child process of tests/io/resume.test.ts, bundled from the TypeScript sources by esbuild
// (tests/io/spawn.ts) and run in a fresh Node process. Usage: node resume.mjs <mode> <dir> [args]
//   straight <dir> <epochs> <half>     train `epochs` epochs in one fit; then a new model trains `half`
//                                      epochs with modelCheckpoint → <dir>/ckpt (weights/history "first")
//   crash <dir> <epochs> <k> <stopAt>  checkpoint every k steps; exit the process right after step stopAt
//   resume <dir> <epochs>              load <dir>/ckpt in this new process and finish the run
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type History, Sequential, adam, cosineAnnealingWarmRestarts, dense, dropout, earlyStopping, init } from '../../../ts/index.js';
import { loadCheckpoint, loadDigits, modelCheckpoint } from '../../../ts/node.js';

const args = process.argv.slice(2) as [string, string, string, string?, string?];
let mode = args[0];
const [, dir, a1, a2, a3] = args;
const epochs = Number(a1);
await init({ simd: process.env.WASMFIT_SIMD !== '0' });
const { train } = await loadDigits({ seed: 3, trainSize: 500, testSize: 0 });
const schedule = cosineAnnealingWarmRestarts({ lr: 0.004, t0: 2, tMult: 2, etaMin: 1e-4 });
const es = earlyStopping({ monitor: 'valLoss', patience: 2, minDelta: 0.08, restoreBestWeights: true });
const fitOptions = { epochs, batchSize: 48, validationSplit: 0.2, schedule };
const build = () => {
  const m = new Sequential({ inputShape: [784], seed: 7, layers: [dense(24, { activation: 'relu' }), dropout(0.3), dense(16, { activation: 'elu' }), dropout(0.1), dense(10)] });
  m.compile({ optimizer: adam({ lr: 0.004 }), loss: 'softmaxCrossEntropy' });
  return m;
};
const finish = (model: Sequential, history: History) => {
  const w = model.getWeights();
  const bytes = Buffer.concat(w.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
  writeFileSync(join(dir, `weights-${mode}.bin`), bytes);
  writeFileSync(join(dir, `history-${mode}.json`), JSON.stringify({ epochs: history.epoch, valLoss: history.history.valLoss, lr: history.history.lr, loss: history.history.loss, stoppedEpoch: es.stoppedEpoch, bestEpoch: es.bestEpoch, wait: es.wait, step: model.optimizerStep }));
};
const ckpt = join(dir, 'ckpt');
if (mode === 'straight') {
  // the uninterrupted run of `epochs`, then (separate model, same process) the first half with a checkpoint
  const model = build();
  finish(model, await model.fit(train.x, train.y, { ...fitOptions, callbacks: [es] }));
  const half = build();
  mode = 'first';
  finish(half, await half.fit(train.x, train.y, { ...fitOptions, epochs: Number(a2), callbacks: [es, modelCheckpoint(ckpt)] }));
} else if (mode === 'crash') {
  const k = Number(a2);
  const stopAt = Number(a3);
  let steps = 0;
  // runs after the checkpoint writer (both run last, in list order): dies right after a write
  const die = { runsLast: true, onBatchEnd: () => { if (++steps === stopAt) process.exit(0); } };
  const model = build();
  await model.fit(train.x, train.y, { ...fitOptions, callbacks: [es, modelCheckpoint(ckpt, { everyEpochs: 0, everyBatches: k }), die] });
  throw new Error('crash: training finished before stopAt');
} else if (mode === 'resume') {
  const { model, resume } = await loadCheckpoint(ckpt);
  // the schedule is revived from the checkpoint when omitted; pass it here to check it matches
  finish(model, await model.fit(train.x, train.y, { ...fitOptions, callbacks: [es], resumeFrom: resume! }));
  writeFileSync(join(dir, `position-${mode}.json`), JSON.stringify({ epoch: resume!.epoch, batch: resume!.batch }));
} else throw new Error(`unknown mode ${mode}`);
