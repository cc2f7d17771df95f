// modelCheckpoint against Keras ModelCheckpoint's rules (keras/src/callbacks/model_checkpoint.py):
// file-name templates filled from epoch + 1 and the logs, save_best_only with a strict comparison
// against the best so far (or initial_value_threshold), mode auto/min/max.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError, init, readModelMetadata, sgd } from '../../ts/index.js';
import { loadModel, modelCheckpoint } from '../../ts/node.js';
import { formatCheckpointPath } from '../../ts/io/node.js';
import { type TinyOptions, tinyData, tinyModel } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'wasmfit-mc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 6 → 32 relu → 3 on 120 rows; unrelated labels: valLoss goes up and down
const TINY: TinyOptions = { inputSize: 6, hidden: 32, optimizer: sgd({ lr: 0.3 }), rows: 120, dataSeed: 21, label: (r) => (r * 7) % 3 };
const { x, y } = tinyData(TINY);
const model = (seed: number) => tinyModel({ ...TINY, seed }).model;

describe('modelCheckpoint (Keras ModelCheckpoint)', () => {
  it('formats templates like Keras: {epoch:03d}, {valLoss:.4f}, {loss:.2e}', () => {
    expect(formatCheckpointPath('m-{epoch:03d}-{valLoss:.4f}-{loss:.2e}-{epoch}.bin', { epoch: 7, valLoss: 0.123456, loss: 0.000123 })).toBe('m-007-0.1235-1.23e-4-7.bin');
    expect(() => formatCheckpointPath('{nope}', { epoch: 1 })).toThrow(OptionError);
  });

  it('saveBestOnly writes exactly the epochs whose valLoss beat every earlier one, named from the logs', async () => {
    await init();
    const m = model(1);
    const snapshots: Float32Array[][] = [];
    const probe = { onEpochEnd: () => void snapshots.push(m.getWeights().map((t) => t.data)) };
    const cb = modelCheckpoint(join(dir, 'best-{epoch:02d}-{valLoss:.4f}.wasmfit'), { format: 'model', saveBestOnly: true, metadata: { run: 'mc-test' } });
    const h = await m.fit(x, y, { epochs: 12, batchSize: 8, validationSplit: 0.25, callbacks: [probe, cb] });
    const v = h.history.valLoss!;
    const expected: string[] = [];
    let best = Infinity;
    v.forEach((loss, e) => {
      if (loss < best) {
        best = loss;
        expected.push(`best-${String(e + 1).padStart(2, '0')}-${loss.toFixed(4)}.wasmfit`);
      }
    });
    const files = readdirSync(dir).filter((f) => f.startsWith('best-')).sort();
    expect(files).toEqual(expected.sort());
    expect(files.length).toBeLessThan(12); // it skipped the epochs that did not improve
    // the last file holds the weights of the best epoch
    const bestEpoch = v.indexOf(Math.min(...v));
    const lastFile = join(dir, expected[expected.length - 1]!);
    expect(readModelMetadata(new Uint8Array(readFileSync(lastFile)))).toEqual({ run: 'mc-test' });
    const loaded = await loadModel(lastFile);
    expect(loaded.getWeights().map((t) => Array.from(t.data))).toEqual(snapshots[bestEpoch]!.map((d) => Array.from(d)));
    loaded.dispose();
    m.dispose();
  });

  it('mode max (auto for accuracy names) and initialValueThreshold: nothing beats 1.01 accuracy', async () => {
    await init();
    const m = model(2);
    await m.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.25, callbacks: [modelCheckpoint(join(dir, 'acc-{epoch}.ckpt'), { saveBestOnly: true, monitor: 'valAccuracy', initialValueThreshold: 1.01 })] });
    expect(readdirSync(dir).filter((f) => f.startsWith('acc-'))).toEqual([]);
    await m.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.25, callbacks: [modelCheckpoint(join(dir, 'acc2-{epoch}.ckpt'), { saveBestOnly: true, monitor: 'valAccuracy' })] });
    expect(readdirSync(dir).filter((f) => f.startsWith('acc2-')).length).toBeGreaterThanOrEqual(1);
    m.dispose();
  });

  it('bad options are refused before training; the model is unchanged', async () => {
    await init();
    const m = model(3);
    const before = m.getWeights().map((t) => Array.from(t.data));
    expect(() => modelCheckpoint(join(dir, 'a'), { every: 1 } as never)).toThrow(/unknown option 'every'/);
    expect(() => modelCheckpoint(join(dir, 'a-{epoch:x}'))).toThrow(OptionError);
    expect(() => modelCheckpoint(join(dir, 'a'), { saveBestOnly: true, everyBatches: 2 })).toThrow(OptionError);
    expect(() => modelCheckpoint(join(dir, 'a'), { format: 'onnx' as never })).toThrow(OptionError);
    expect(() => modelCheckpoint('')).toThrow(OptionError);
    expect(() => modelCheckpoint(join(dir, 'a'), { metadata: { bad: NaN } })).toThrow(/metadata/);
    await expect(m.fit(x, y, { epochs: 2, callbacks: [modelCheckpoint(join(dir, 'a'), { saveBestOnly: true })] })).rejects.toThrow(/validation/);
    expect(m.getWeights().map((t) => Array.from(t.data))).toEqual(before);
    m.dispose();
  });
});
