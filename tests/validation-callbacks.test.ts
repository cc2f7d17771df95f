// Issue 13 point 7: callback configuration (monitored keys, path templates, checkpoint
// directories) is checked before the first step, so a typo never costs an epoch of training or
// changes the weights (R21, R23); a missing directory is a typed error naming it, not ENOENT naming
// a temporary file (R21); temporary files of killed writes are removed by the next write (R22).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Callback, OptionError, type Sequential, adam, earlyStopping, init, kerasReduceLROnPlateau, plateauCallback, reduceLROnPlateau,
} from '../ts/index.js';
import { loadCheckpoint, loadModel, loadSafetensors, modelCheckpoint, saveCheckpoint, saveModel, saveSafetensors, writeFileAtomic } from '../ts/node.js';
import { type TinyOptions, tinyData, tinyModel } from './helpers.js';
import { bundle } from './io/spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'wasmfit-validation-cb-'));
beforeAll(async () => {
  await init();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TINY: TinyOptions = { inputSize: 8, seed: 4, optimizer: adam(), metrics: ['mae'], rows: 64, features: (i) => Math.sin(i * 1.7) };
const { x, y } = tinyData(TINY);
const model = (): Sequential => tinyModel(TINY).model;

/** fit must reject with `cls` matching `msg` before any step: weights unchanged, no epoch begun. */
async function refusedBeforeTraining(cb: Callback, msg: RegExp, options: Record<string, unknown> = {}): Promise<void> {
  const m = model();
  const before = m.getWeights();
  let epochs = 0;
  let batches = 0;
  const counter: Callback = { onEpochBegin: () => void epochs++, onBatchEnd: () => void batches++ };
  let err: unknown;
  try {
    await m.fit(x, y, { epochs: 3, batchSize: 16, ...options, callbacks: [counter, cb] });
  } catch (e) {
    err = e;
  }
  expect(err, String(msg)).toBeInstanceOf(OptionError);
  expect((err as Error).message).toMatch(msg);
  expect(epochs).toBe(0);
  expect(batches).toBe(0);
  expect(m.getWeights()).toEqual(before);
  m.dispose();
}

describe('R23: monitored keys are checked before the first step', () => {
  it("earlyStopping({ monitor: 'val_loss' }) reads the Keras name as valLoss (issue 15)", async () => {
    const m = model();
    const es = earlyStopping({ monitor: 'val_loss', patience: 0 });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 16, validationSplit: 0.25, callbacks: [es] });
    // patience 0: Keras stops at the first epoch whose valLoss does not improve on the best so far
    const v = h.history.valLoss!;
    const firstWorse = v.findIndex((l, i) => i > 0 && !(l < Math.min(...v.slice(0, i))));
    expect(h.epoch.length).toBe(firstWorse < 0 ? 3 : firstWorse + 1);
    expect(es.best).toBe(Math.min(...v));
    m.dispose();
  });
  it('a Keras name without validation data says how it was read', async () => {
    await refusedBeforeTraining(earlyStopping({ monitor: 'val_loss' }), /^earlyStopping: monitor = "val_loss" \(read as 'valLoss'\), which this fit does not log; the epoch logs have loss, accuracy, mae, lr\. Validation metrics need fit\(\{ validationSplit \}\)/);
  });
  it('a validation metric without validation data', async () => {
    await refusedBeforeTraining(earlyStopping(), /^earlyStopping: monitor = "valLoss", which this fit does not log; the epoch logs have loss, accuracy, mae, lr\. Validation metrics need fit\(\{ validationSplit \}\)/);
  });
  it('a misspelt metric', async () => {
    await refusedBeforeTraining(earlyStopping({ monitor: 'acuracy' }), /^earlyStopping: monitor = "acuracy"/);
  });
  it('plateauCallback, PyTorch and Keras reducers', async () => {
    await refusedBeforeTraining(plateauCallback(reduceLROnPlateau(), { monitor: 'val_lr' }), /^plateauCallback: monitor = "val_lr".*/, { validationSplit: 0.25 });
    await refusedBeforeTraining(plateauCallback(kerasReduceLROnPlateau(), { monitor: 'mse' }), /^plateauCallback: monitor = "mse"/);
  });
  it('modelCheckpoint with saveBestOnly', async () => {
    await refusedBeforeTraining(modelCheckpoint(join(dir, 'best.ckpt'), { saveBestOnly: true, monitor: 'val_accuracy' }), /^modelCheckpoint: monitor = "val_accuracy" \(read as 'valAccuracy'\), which this fit does not log.*Validation metrics need/);
  });
  it('valid monitors still train (compiled metrics and their val versions included)', async () => {
    const m = model();
    const es = earlyStopping({ monitor: 'valMae', patience: 10 });
    const h = await m.fit(x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, callbacks: [es, plateauCallback(reduceLROnPlateau(), { monitor: 'loss' })] });
    expect(h.epoch).toEqual([0, 1]);
    m.dispose();
  });
});

describe('R23: checkpoint path templates are checked before the first step', () => {
  it('{val_loss} is not a log key', async () => {
    await refusedBeforeTraining(modelCheckpoint(join(dir, 'wf-{val_loss}.ckpt')), /^modelCheckpoint: the path template names \{val_loss\}, which this fit does not log; available: epoch, loss, .*valLoss.*Log keys are camelCase/, { validationSplit: 0.25 });
  });
  it('{valLoss} without validation data', async () => {
    await refusedBeforeTraining(modelCheckpoint(join(dir, 'wf-{valLoss:.3f}.ckpt')), /names \{valLoss:\.3f\}, which this fit does not log/);
  });
  it('{batch} in epoch-end writes, and epoch-only keys in batch writes', async () => {
    await refusedBeforeTraining(modelCheckpoint(join(dir, 'wf-{batch}.ckpt')), /names \{batch\}, which only batch writes have/);
    await refusedBeforeTraining(modelCheckpoint(join(dir, 'wf-{epoch}-{batch}.ckpt'), { everyBatches: 2 }), /names \{batch\}, which only batch writes have/);
    await refusedBeforeTraining(modelCheckpoint(join(dir, 'wf-{lr}.ckpt'), { everyBatches: 2, everyEpochs: 0 }), /names \{lr\}, which batch writes \(everyBatches\) do not have; batch logs have epoch, batch, loss, accuracy/);
  });
  it('valid templates still write', async () => {
    const m = model();
    const sub = join(dir, 'templates');
    mkdirSync(sub);
    await m.fit(x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, callbacks: [modelCheckpoint(join(sub, 'e{epoch:02d}-{valLoss:.2f}-{mae:.1e}.ckpt')), modelCheckpoint(join(sub, 'b{epoch}-{batch}-{loss:.2f}.ckpt'), { everyBatches: 3, everyEpochs: 0 })] });
    const files = readdirSync(sub);
    expect(files.filter((f) => f.startsWith('e')).length).toBe(2);
    expect(files.filter((f) => f.startsWith('b')).length).toBe(2); // 3 batches per epoch: steps 3 and 6
    m.dispose();
  });
});

describe('R21: missing directories are typed errors naming the directory, before anything runs', () => {
  const missing = join(dir, 'no-such-dir');
  it('modelCheckpoint into a missing directory fails before the first step', async () => {
    await refusedBeforeTraining(modelCheckpoint(join(missing, 'run.ckpt')), /^modelCheckpoint: path = ".*no-such-dir\/run\.ckpt" is in the directory '.*no-such-dir', which does not exist; create it before fit/);
    await refusedBeforeTraining(modelCheckpoint(join(missing, 'run.ckpt'), { format: 'model', everyBatches: 1 }), /which does not exist/);
  });

  it('saveModel, saveCheckpoint, saveSafetensors and writeFileAtomic name the directory, not a temp file', async () => {
    const m = model();
    const cases: [() => Promise<void>, string][] = [
      [() => saveModel(join(missing, 'm.wasmfit'), m), 'saveModel'],
      [() => saveCheckpoint(join(missing, 'm.ckpt'), m), 'saveCheckpoint'],
      [() => saveSafetensors(join(missing, 'm.safetensors'), m), 'saveSafetensors'],
      [() => writeFileAtomic(join(missing, 'f.bin'), new Uint8Array(4)), 'writeFileAtomic'],
    ];
    for (const [f, where] of cases) {
      let err: unknown;
      try {
        await f();
      } catch (e) {
        err = e;
      }
      expect(err, where).toBeInstanceOf(OptionError);
      expect((err as Error).message).toMatch(new RegExp(`^${where}: path = ".*" is in the directory '.*no-such-dir', which does not exist; create it first`));
      expect((err as Error).message).not.toMatch(/\.tmp/);
    }
    m.dispose();
  });

  it('a file path whose parent is a file, and a directory as the file path', async () => {
    const m = model();
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    await expect(saveModel(join(file, 'm.wasmfit'), m)).rejects.toThrow(OptionError);
    await expect(saveModel(dir, m)).rejects.toThrow(/^saveModel: path = ".*" is a directory; expected a file path/);
    await expect(loadModel(dir)).rejects.toThrow(/^loadModel: path = ".*" is a directory; expected the file's path/);
    await expect(loadCheckpoint(dir)).rejects.toThrow(OptionError);
    await expect(loadSafetensors(dir, m)).rejects.toThrow(OptionError);
    m.dispose();
  });
});

describe('R22: temporary files of killed writes are removed by the next write', () => {
  /** A pid that no process has now: one of a child that has exited. */
  function deadPid(): number {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    return Number(r.stdout.toString());
  }

  it('stale temps of dead processes and of this process are removed; live writers and other files are not', async () => {
    const sub = join(dir, 'litter');
    mkdirSync(sub);
    const path = join(sub, 'run.ckpt');
    const dead = deadPid();
    const stale = [`.run.ckpt.${dead}.abcd1234.tmp`, `.run.ckpt.${process.pid}.zzzz0000.tmp`];
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const keep = [`.run.ckpt.${sleeper.pid}.live0000.tmp`, `.other.ckpt.${dead}.abcd1234.tmp`, 'run.ckpt.tmp', `.run.ckpt.${dead}.tmp`];
    for (const f of [...stale, ...keep]) writeFileSync(join(sub, f), new Uint8Array(1000));
    try {
      const m = model();
      await saveCheckpoint(path, m);
      m.dispose();
      expect(readdirSync(sub).sort()).toEqual(['run.ckpt', ...keep].sort());
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('after writers are SIGKILLed mid-write, one more write leaves no temporary file', async () => {
    const child = await bundle('tests/io/children/writer.ts');
    const sub = join(dir, 'killed');
    mkdirSync(sub);
    const path = join(sub, 'run.ckpt');
    for (const delay of [5, 40, 120]) {
      await new Promise<void>((resolve, reject) => {
        const p = spawn(process.execPath, [child, path, '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
        p.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) setTimeout(() => p.kill('SIGKILL'), delay);
        });
        p.on('error', reject);
        p.on('exit', () => resolve());
      });
    }
    const m = model();
    await saveCheckpoint(path, m);
    m.dispose();
    expect(readdirSync(sub)).toEqual(['run.ckpt']);
  });
});
