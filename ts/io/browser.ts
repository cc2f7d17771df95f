/**
 * Browser storage helpers for model files and checkpoints (they also work wherever `Blob` /
 * `indexedDB` exist). The bytes are those of `serializeModel` / `serializeCheckpoint` /
 * `saveSafetensors`; an IndexedDB `put` is one transaction, so a tab closed mid-save keeps the
 * previous value.
 */
import { FormatError, OptionError, RuntimeSupportError } from '../errors/index.js';
import { preview } from '../errors/preview.js';

/** Where {@link saveToIndexedDB} and friends keep files. */
export interface IndexedDBOptions {
  /** Database name (default `'wasmfit'`). */
  dbName?: string;
  /** Object store name (default `'files'`). */
  storeName?: string;
  /** The IndexedDB factory (default `globalThis.indexedDB`; pass one for workers or tests). */
  indexedDB?: IDBFactory;
}

/**
 * Wraps file bytes in a Blob (type `application/octet-stream`), e.g. for a download link:
 * `URL.createObjectURL(bytesToBlob(serializeModel(model)))`.
 */
export function bytesToBlob(bytes: Uint8Array): Blob {
  if (!(bytes instanceof Uint8Array)) throw new OptionError('bytes', 'bytesToBlob: bytes must be a Uint8Array (e.g. from serializeModel).');
  if (typeof Blob !== 'function') throw new RuntimeSupportError('bytesToBlob: this host has no Blob.');
  return new Blob([bytes.slice()], { type: 'application/octet-stream' });
}

/**
 * Reads a Blob or File (e.g. from an `<input type="file">`) into bytes for `deserializeModel`,
 * `deserializeCheckpoint` or `loadSafetensors`.
 * @example const model = deserializeModel(await blobToBytes(input.files[0]))
 */
export async function blobToBytes(blob: Blob): Promise<Uint8Array> {
  if (typeof Blob !== 'function' || !(blob instanceof Blob)) throw new OptionError('blob', 'blobToBytes: expected a Blob or File.');
  return new Uint8Array(await blob.arrayBuffer());
}

function resolve(options: IndexedDBOptions, where: string): { factory: IDBFactory; db: string; store: string } {
  if (options === null || typeof options !== 'object') throw new OptionError('options', `${where}: options must be an object.`);
  const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) throw new RuntimeSupportError(`${where}: this host has no indexedDB; pass options.indexedDB or use the Node file helpers (wasmfit/node).`);
  const db = options.dbName ?? 'wasmfit';
  const store = options.storeName ?? 'files';
  if (typeof db !== 'string' || db.length === 0) throw new OptionError('dbName', `${where}: dbName must be a non-empty string.`);
  if (typeof store !== 'string' || store.length === 0) throw new OptionError('storeName', `${where}: storeName must be a non-empty string.`);
  return { factory, db, store };
}

function checkKey(key: unknown, where: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new OptionError('key', `${where}: key = ${preview(key)}; expected a non-empty string, e.g. 'digits-model'.`);
  return key;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((res, rej) => {
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

function openDb(factory: IDBFactory, name: string, store: string): Promise<IDBDatabase> {
  const open = (version?: number): Promise<IDBDatabase> =>
    new Promise((res, rej) => {
      const r = version === undefined ? factory.open(name) : factory.open(name, version);
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(store)) r.result.createObjectStore(store);
      };
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
  return open().then((db) => {
    if (db.objectStoreNames.contains(store)) return db;
    // the database exists without this store: add it in a version upgrade
    const v = db.version + 1;
    db.close();
    return open(v);
  });
}

async function withStore<T>(options: IndexedDBOptions, where: string, mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const { factory, db: name, store } = resolve(options, where);
  const db = await openDb(factory, name, store);
  try {
    const tx = db.transaction(store, mode);
    const done = new Promise<void>((res, rej) => {
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error);
      tx.onabort = () => rej(tx.error ?? new Error('transaction aborted'));
    });
    const result = await request(f(tx.objectStore(store)));
    await done;
    return result as T;
  } finally {
    db.close();
  }
}

/**
 * Stores file bytes under `key` in IndexedDB (database `'wasmfit'`, store `'files'` by default),
 * replacing any previous value in one transaction.
 * @example await saveToIndexedDB('digits', serializeCheckpoint(model))
 */
export async function saveToIndexedDB(key: string, bytes: Uint8Array, options: IndexedDBOptions = {}): Promise<void> {
  checkKey(key, 'saveToIndexedDB');
  if (!(bytes instanceof Uint8Array)) throw new OptionError('bytes', 'saveToIndexedDB: bytes must be a Uint8Array (e.g. from serializeModel).');
  await withStore(options, 'saveToIndexedDB', 'readwrite', (s) => s.put(bytes.slice(), key));
}

/**
 * Reads the bytes stored under `key`, or `null` when there are none.
 * @throws FormatError when the stored value is not bytes.
 * @example const bytes = await loadFromIndexedDB('digits'); if (bytes) model = deserializeModel(bytes);
 */
export async function loadFromIndexedDB(key: string, options: IndexedDBOptions = {}): Promise<Uint8Array | null> {
  checkKey(key, 'loadFromIndexedDB');
  const v = await withStore<unknown>(options, 'loadFromIndexedDB', 'readonly', (s) => s.get(key));
  if (v === undefined) return null;
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new FormatError(`loadFromIndexedDB: the value under '${key}' is not bytes (${Object.prototype.toString.call(v)}).`);
}

/** Deletes the value stored under `key` (no error when there is none). */
export async function deleteFromIndexedDB(key: string, options: IndexedDBOptions = {}): Promise<void> {
  checkKey(key, 'deleteFromIndexedDB');
  await withStore(options, 'deleteFromIndexedDB', 'readwrite', (s) => s.delete(key));
}
