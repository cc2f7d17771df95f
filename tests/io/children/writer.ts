// Child process of tests/io/crash.test.ts: writes checkpoints of versions base+1, base+2, … to one
// path in a loop (atomically, through saveCheckpoint) until it is killed. The version is the
// learning rate stored in the checkpoint: lr = version · 1e-6. Prints "ready", then "saved <v>"
// after each completed write (synchronous writes to the stdout pipe).
import { writeSync } from 'node:fs';
import { Sequential, adam, dense, init } from '../../../ts/index.js';
import { saveCheckpoint } from '../../../ts/node.js';

const [path, baseArg] = process.argv.slice(2) as [string, string];
const base = Number(baseArg);
await init();
const model = new Sequential({ inputShape: [256], layers: [dense(512, { activation: 'relu' }), dense(10)], seed: 1 });
model.compile({ optimizer: adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
writeSync(1, 'ready\n');
for (let v = base + 1; ; v++) {
  model.learningRate = v * 1e-6;
  await saveCheckpoint(path, model);
  writeSync(1, `saved ${v}\n`);
}
