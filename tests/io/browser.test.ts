// Browser storage helpers: Blob round trip and IndexedDB (fake-indexeddb, an in-memory
// implementation of the IndexedDB spec) save / load / delete of real model and checkpoint bytes.
import { IDBFactory as FakeIDBFactory } from 'fake-indexeddb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FormatError, OptionError, RuntimeSupportError, Sequential, adam, blobToBytes, bytesToBlob, deleteFromIndexedDB, dense, deserializeCheckpoint, deserializeModel,
  init, loadFromIndexedDB, saveToIndexedDB, serializeCheckpoint, serializeModel,
} from '../../ts/index.js';

let model: Sequential;
beforeAll(async () => {
  await init();
  model = new Sequential({ inputShape: 4, layers: [dense(5, { activation: 'sigmoid' }), dense(2)], seed: 1 });
  model.compile({ optimizer: adam({ lr: 0.01 }), loss: 'mse' });
  await model.fit(new Float32Array(40).map((_, i) => Math.sin(i)), new Float32Array(20).map((_, i) => Math.cos(i)) as never, { epochs: 2, batchSize: 4 });
});

describe('Blob helpers', () => {
  it('bytes → Blob → bytes is exact and loads', async () => {
    const bytes = serializeModel(model);
    const blob = bytesToBlob(bytes);
    expect(blob.size).toBe(bytes.length);
    expect(blob.type).toBe('application/octet-stream');
    const back = await blobToBytes(blob);
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);
    deserializeModel(back).dispose();
    expect(() => bytesToBlob('x' as never)).toThrow(OptionError);
    await expect(blobToBytes(new Uint8Array(2) as never)).rejects.toThrow(OptionError);
  });
});

describe('IndexedDB helpers', () => {
  it('save, overwrite, load, delete; separate stores; missing keys are null', async () => {
    const indexedDB = new FakeIDBFactory();
    const m = serializeModel(model);
    const c = serializeCheckpoint(model);
    await saveToIndexedDB('digits', m, { indexedDB });
    expect(Buffer.from((await loadFromIndexedDB('digits', { indexedDB }))!).equals(Buffer.from(m))).toBe(true);
    await saveToIndexedDB('digits', c, { indexedDB });
    const got = (await loadFromIndexedDB('digits', { indexedDB }))!;
    expect(Buffer.from(got).equals(Buffer.from(c))).toBe(true);
    const { model: restored } = deserializeCheckpoint(got);
    expect(restored.optimizerStep).toBe(model.optimizerStep);
    // a second store in the same database is added by a version upgrade
    await saveToIndexedDB('digits', m, { indexedDB, storeName: 'other' });
    expect(Buffer.from((await loadFromIndexedDB('digits', { indexedDB }))!).equals(Buffer.from(c))).toBe(true);
    expect(Buffer.from((await loadFromIndexedDB('digits', { indexedDB, storeName: 'other' }))!).equals(Buffer.from(m))).toBe(true);
    expect(await loadFromIndexedDB('nothing', { indexedDB })).toBeNull();
    await deleteFromIndexedDB('digits', { indexedDB });
    expect(await loadFromIndexedDB('digits', { indexedDB })).toBeNull();
  });

  it('refuses bad keys, bad bytes, non-byte values and a host without indexedDB', async () => {
    const indexedDB = new FakeIDBFactory();
    await expect(saveToIndexedDB('', new Uint8Array(1), { indexedDB })).rejects.toThrow(OptionError);
    await expect(saveToIndexedDB('k', [1, 2] as never, { indexedDB })).rejects.toThrow(/Uint8Array/);
    await expect(loadFromIndexedDB('k', { indexedDB: undefined as never, dbName: 'x' }).catch((e) => e)).resolves.toBeInstanceOf(RuntimeSupportError);
    // a value some other code put there
    await saveToIndexedDB('k', new Uint8Array(1), { indexedDB });
    await new Promise<void>((res, rej) => {
      const r = indexedDB.open('wasmfit');
      r.onsuccess = () => {
        const tx = r.result.transaction('files', 'readwrite');
        tx.objectStore('files').put({ not: 'bytes' }, 'k');
        tx.oncomplete = () => (r.result.close(), res());
        tx.onerror = () => rej(tx.error);
      };
    });
    await expect(loadFromIndexedDB('k', { indexedDB })).rejects.toThrow(FormatError);
  });
});
