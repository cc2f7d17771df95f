/**
 * Loading the optional peer dependencies (`bullmq`, `ioredis`) and checking the Redis connection
 * option, shared by the search side (`queueRunner`) and the worker (`wasmfit worker`).
 * @internal
 */
import { OptionError, RuntimeSupportError } from '../errors/index.js';

/** Where Redis is: a `redis://` / `rediss://` URL, or ioredis options (`host`, `port`, `password`, `db`, `tls`, …). */
export type QueueConnection = string | { host?: string; port?: number; username?: string; password?: string; db?: number; tls?: object; [option: string]: unknown };

/** The parts of BullMQ this entry uses (typed here so the published types do not depend on bullmq's). @internal */
export interface BullJob {
  id?: string;
  data: unknown;
  returnvalue: unknown;
  failedReason: string;
  attemptsMade: number;
  attemptsStarted?: number;
  progress: unknown;
  processedOn?: number;
  finishedOn?: number;
  token?: string;
  getState(): Promise<string>;
  remove(): Promise<void>;
  updateProgress(p: object): Promise<void>;
}
/** @internal */
export interface BullQueue {
  add(name: string, data: unknown, opts: Record<string, unknown>): Promise<BullJob>;
  getJob(id: string): Promise<BullJob | undefined>;
  getJobs(types: string[], start?: number, end?: number): Promise<BullJob[]>;
  close(): Promise<void>;
  waitUntilReady(): Promise<unknown>;
  on(ev: string, f: (...a: unknown[]) => void): unknown;
}
/** @internal */
export interface BullWorker {
  close(force?: boolean): Promise<void>;
  on(ev: string, f: (...a: unknown[]) => void): unknown;
  waitUntilReady(): Promise<unknown>;
}
/** @internal */
export interface BullMQ {
  Queue: new (name: string, opts: Record<string, unknown>) => BullQueue;
  Worker: new (name: string, processor: (job: BullJob, token?: string) => Promise<unknown>, opts: Record<string, unknown>) => BullWorker;
  UnrecoverableError: new (message: string) => Error;
}
/** The ioredis client calls used for the data blobs. @internal */
export interface RedisClient {
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: Uint8Array | string, ...args: (string | number)[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  exists(key: string): Promise<number>;
  expire(key: string, seconds: number): Promise<number>;
  del(...keys: string[]): Promise<number>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(ev: string, f: (...a: unknown[]) => void): unknown;
}

const INSTALL = 'npm install bullmq ioredis';

/** `import(name)` of an optional peer dependency, or a {@link RuntimeSupportError} naming what to install. @internal */
export async function loadPeer<T>(name: string, where: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new RuntimeSupportError(`${where}: the package '${name}' is not installed; wasmfit/queue runs searches on BullMQ over Redis, whose packages are optional peer dependencies: run \`${INSTALL}\`.`);
    }
    throw e;
  }
}

/** `import('bullmq')`, or a {@link RuntimeSupportError} naming the packages to install. @internal */
export async function loadBullmq(where: string): Promise<BullMQ> {
  const m = await loadPeer<BullMQ & { default?: BullMQ }>('bullmq', where);
  return m.Queue ? m : (m.default as BullMQ);
}

/** A new ioredis client (commands wait through reconnections), or a {@link RuntimeSupportError}. @internal */
export async function redisClient(conn: QueueConnection, where: string): Promise<RedisClient> {
  const m = await loadPeer<{ default?: unknown; Redis?: unknown }>('ioredis', where);
  const Redis = (m.Redis ?? m.default) as new (...a: unknown[]) => RedisClient;
  const opts = { maxRetriesPerRequest: null, lazyConnect: false };
  const c = typeof conn === 'string' ? new Redis(conn, opts) : new Redis({ ...conn, ...opts });
  // ioredis reconnects by itself; without a listener an 'error' event would be thrown
  c.on('error', () => {});
  return c;
}

/**
 * Checks the connection option: a `redis://` or `rediss://` URL with a host (port 1–65535), or
 * an object of ioredis options. Returns what BullMQ's `connection` option takes.
 */
export function checkConnection(v: unknown, where: string): { bull: Record<string, unknown>; conn: QueueConnection; label: string } {
  if (typeof v === 'string') {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return badUrl(v, where, 'it is not a URL');
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return badUrl(v, where, `the scheme is ${u.protocol} (expected redis: or rediss:)`);
    if (!u.hostname) return badUrl(v, where, 'it names no host');
    if (u.port !== '' && !(Number(u.port) >= 1 && Number(u.port) <= 65535)) return badUrl(v, where, `port ${u.port} is out of range`);
    const db = u.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d+$/.test(db)) return badUrl(v, where, `the path /${db} is not a database number`);
    return { bull: { url: v }, conn: v, label: `${u.protocol}//${u.hostname}:${u.port || 6379}${db ? `/${db}` : ''}` };
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o.port !== undefined && !(Number.isInteger(o.port) && (o.port as number) >= 1 && (o.port as number) <= 65535)) {
      throw new OptionError('connection', `${where}: connection.port = ${String(o.port)}; expected an integer from 1 to 65535.`);
    }
    if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) throw new OptionError('connection', `${where}: connection.host = ${JSON.stringify(o.host)}; expected a host name.`);
    return { bull: { ...o }, conn: { ...o } as QueueConnection, label: `redis://${(o.host as string) ?? 'localhost'}:${(o.port as number) ?? 6379}` };
  }
  throw new OptionError('connection', `${where}: connection = ${v === undefined ? 'undefined' : JSON.stringify(v)}; pass the Redis URL, e.g. 'redis://127.0.0.1:6379', or ioredis options { host, port, password }.`);
}

function badUrl(v: string, where: string, why: string): never {
  throw new OptionError('connection', `${where}: connection = ${JSON.stringify(v)} is not a Redis URL (${why}); pass e.g. 'redis://127.0.0.1:6379' or 'redis://:password@host:6379/0'.`);
}

/** Checks a queue name (BullMQ refuses ':' in it: it separates the parts of its keys). */
export function checkQueueName(v: unknown, where: string): string {
  const name = v ?? 'wasmfit';
  if (typeof name !== 'string' || name.length === 0 || name.includes(':') || name.length > 200) {
    throw new OptionError('queueName', `${where}: queueName = ${JSON.stringify(v)}; expected a non-empty name without ':' (default 'wasmfit'); the search and its workers must use the same one.`);
  }
  return name;
}

/** The Redis key of a data blob: the queue's prefix, then the SHA-256 of its bytes. */
export function dataKey(queueName: string, sha256: string): string {
  return `wasmfit:${queueName}:data:${sha256}`;
}
/** The Redis key that marks a search as cancelled (workers stop its running trials). */
export function cancelKey(queueName: string, searchId: string): string {
  return `wasmfit:${queueName}:cancel:${searchId}`;
}
