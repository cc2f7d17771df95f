/**
 * The thread pool of a threaded runtime (`init({ threads })` > 1): one shared
 * `WebAssembly.Memory`, one instance of the threaded kernel module per thread, each with its own
 * stack, and a barrier on `Atomics.wait`/`notify`.
 *
 * The calling thread runs the step as always; inside it, a parallel region (see
 * crates/kernels/src/par.rs) calls the import `env.wasmfit_parallel(job, parts)`: this publishes
 * the job address in a control block and wakes the workers; then every thread, the caller too,
 * claims parts from one counter (`CLAIM`: the region's generation in the high bits, the next part
 * in the low 10, so a late worker can never claim a part of a newer region with an older job) and
 * runs them through its own instance's `par_run`. The caller returns once every part is done
 * (`DONE`). A worker that is slow to wake leaves its part to the caller. Between regions,
 * threads poll briefly, then block in `Atomics.wait`. Blocking is allowed on Node's main thread
 * and in Web Workers, not on a page's main thread: there a runtime stays single-threaded (see
 * thread-host.browser.ts) and the README says to train in a Worker.
 *
 * Loaded on demand (a dynamic import), so single-threaded hosts never load it. @internal
 */
import { RuntimeSupportError } from '../errors/index.js';
import type { Arena } from './arena.js';
import { spawnThread, type ThreadHandle } from './thread-host.js';

/** Control block words (Int32). */
const GEN = 0;
const JOB = 1;
const PARTS = 2;
const DONE = 3;
const STOP = 4;
const FAILED = 5;
const CLAIM = 6;
/** Low bits of CLAIM: the next part (parts per region < 1024); the generation (21 bits) above. */
const PART_BITS = 10;
const GEN_MASK = 0x1fffff;
/** Bytes of the control block. */
export const CONTROL_BYTES = 32;
/**
 * Polls (about 0.1 ms) before blocking: a step runs its regions back to back, and a thread woken
 * from Atomics.wait on a busy host starts a scheduler slice later (~0.5 ms here, as long as a
 * W1 part), which serialized the parts; the bound keeps an idle pool from burning a core. Measured
 * on W1 (2 threads, 2 shared cores; tests run serially): 2 000 polls ~200 ms per 2 epochs,
 * 10 000–50 000 ~140–175 ms, 200 000 ~365 ms (the spinning worker took the caller's core).
 */
const SPIN = 20000;
/** Stack bytes of each worker's instance (the kernels use a few KiB; scratch is arena memory). */
export const WORKER_STACK_BYTES = 128 * 1024;

/**
 * Claims and runs parts of region `gen` until none is left (or a newer region began), counting
 * each finished part in DONE; a part that throws sets FAILED. Shared by the caller and the workers
 * (the workers get its source).
 */
function drain(c: Int32Array, gen: number, job: number, parts: number, run: (job: number, part: number) => void): number {
  for (let done = 0; ; done++) {
    const v = Atomics.load(c, CLAIM);
    const part = v & ((1 << PART_BITS) - 1);
    if (v >>> PART_BITS !== gen || part >= parts) return done;
    if (Atomics.compareExchange(c, CLAIM, v, v + 1) !== v) continue;
    try {
      run(job, part);
    } catch {
      Atomics.store(c, FAILED, 1);
    }
    if (Atomics.add(c, DONE, 1) + 1 === parts) Atomics.notify(c, DONE);
  }
}
const DRAIN = `function drain(c, gen, job, parts, run) {
    for (;;) {
      const v = Atomics.load(c, ${CLAIM});
      const part = v & ${(1 << PART_BITS) - 1};
      if (v >>> ${PART_BITS} !== gen || part >= parts) return;
      if (Atomics.compareExchange(c, ${CLAIM}, v, v + 1) !== v) continue;
      try { run(job, part); } catch (e) { Atomics.store(c, ${FAILED}, 1); }
      if (Atomics.add(c, ${DONE}, 1) + 1 === parts) Atomics.notify(c, ${DONE});
    }
  }`;

/** The compute worker's script body (host prelude in thread-host: `post`, then `start(msg)`). */
const WORKER_SOURCE = `
function start(d) {
  let x;
  try {
    const env = { memory: d.memory, wasmfit_threads: () => 1, wasmfit_parallel: () => { throw new Error('wasmfit: nested parallel region'); } };
    x = new WebAssembly.Instance(d.module, { env }).exports;
    x.__stack_pointer.value = d.stack;
  } catch (e) {
    post({ error: String(e && e.message || e) });
    return;
  }
  const c = new Int32Array(d.memory.buffer, d.control, ${CONTROL_BYTES / 4});
  ${DRAIN}
  let gen = Atomics.load(c, ${GEN});
  post({ ready: true });
  for (;;) {
    for (let i = 0; i < ${SPIN} && Atomics.load(c, ${GEN}) === gen; i++);
    Atomics.wait(c, ${GEN}, gen);
    const g = Atomics.load(c, ${GEN});
    if (g === gen) continue;
    gen = g;
    if (Atomics.load(c, ${STOP}) !== 0) return;
    drain(c, g, Atomics.load(c, ${JOB}), Atomics.load(c, ${PARTS}), (job, i) => x.par_run(job, i, d.index));
  }
}
`;

/**
 * Whether the host gives a pool's workers a core, judged from recent parallel regions (slow: the
 * region took longer than its parts would have on the calling thread alone). {@link record}
 * returns how many asks to run serial (0: go on in parallel):
 * - normally, once at least half of the last {@link SlowRegions.WINDOW} regions were slow. A busy
 *   host (every core taken by other work) makes nearly every region slow and trips it within a
 *   window; a virtual machine whose other core stalls now and then makes bursts of a few slow
 *   regions among many good ones, which must not serialize the next regions (the previous rule, a
 *   score of 8 net slow regions, backed off 6 times in 15 rounds of bench/threads.mjs W1 on an idle
 *   2-core VM: 1,200 asks, about 80 of its 960 2-thread steps, run serial);
 * - after a back-off, threads are tried again for {@link SlowRegions.PROBE} regions: if half of
 *   them are slow the host is still busy, and the pool backs off again for twice as long (up to
 *   {@link SlowRegions.MAX_SERIAL} asks), so a busy host spends little time on slow parallel regions.
 * @internal
 */
export class SlowRegions {
  static readonly WINDOW = 64;
  static readonly PROBE = 8;
  static readonly SERIAL = 200;
  static readonly MAX_SERIAL = 6400;
  private readonly ring = new Uint8Array(SlowRegions.WINDOW);
  private at = 0;
  private seen = 0;
  private slow = 0;
  /** Asks of the last back-off (0: none since the host last looked free). */
  private last = 0;

  /** Records one region; returns how many asks to run serial (0: none). */
  record(slow: boolean): number {
    const W = SlowRegions.WINDOW;
    if (this.seen === W) this.slow -= this.ring[this.at]!;
    else this.seen++;
    this.ring[this.at] = slow ? 1 : 0;
    this.slow += slow ? 1 : 0;
    this.at = (this.at + 1) % W;
    const probing = this.last > 0;
    const n = probing ? SlowRegions.PROBE : W;
    if (this.seen < n) return 0;
    if (this.slow * 2 >= n) {
      this.last = probing ? Math.min(2 * this.last, SlowRegions.MAX_SERIAL) : SlowRegions.SERIAL;
      this.ring.fill(0);
      this.seen = this.slow = this.at = 0;
      return this.last;
    }
    // a probe that passed: the host looks free again
    if (probing) this.last = 0;
    return 0;
  }
}

/** What a pool needs from the runtime: where its control block and worker stacks live. */
export interface PoolLayout {
  /** Address of {@link CONTROL_BYTES} zeroed bytes. */
  control: number;
  /** Address of `(threads − 1) · WORKER_STACK_BYTES` bytes (16-aligned). */
  stacks: number;
}

/** The workers of one threaded runtime and the import the main instance calls. */
export class ThreadPool {
  readonly threads: number;
  private readonly handles: ThreadHandle[] = [];
  private c: Int32Array | null = null;
  private run: ((job: number, part: number) => void) | null = null;
  private closed = false;
  /** @internal Whether regions that did not overlap make later ones serial (tests turn it off). */
  backOff = true;
  /** @internal Parallel regions run so far. */
  regions = 0;
  /** @internal Times the pool backed off to serial regions (a busy host; bench/threads.mjs reports it). */
  backOffs = 0;
  /** Back-off on a host that gives the workers no core: see {@link parallel}. */
  private asks = 0;
  private serialUntil = 0;
  private readonly slowness = new SlowRegions();

  constructor(threads: number) {
    this.threads = threads;
  }

  /** The imports of the main instance (bound before it exists; {@link start} supplies the rest). */
  imports(): { wasmfit_threads: () => number; wasmfit_parallel: (job: number, parts: number) => void } {
    return {
      wasmfit_threads: () => (this.closed || ++this.asks < this.serialUntil ? 1 : this.threads),
      wasmfit_parallel: (job, parts) => this.parallel(job, parts),
    };
  }

  /** Starts the workers on `module`/`memory`; resolves once each has its instance and stack. */
  async start(module: WebAssembly.Module, memory: WebAssembly.Memory, layout: PoolLayout, run: (job: number, part: number) => void): Promise<void> {
    this.run = run;
    this.c = new Int32Array(memory.buffer, layout.control, CONTROL_BYTES / 4);
    const ready: Promise<void>[] = [];
    for (let i = 1; i < this.threads; i++) {
      const h = spawnThread(WORKER_SOURCE);
      this.handles.push(h);
      ready.push(
        new Promise<void>((resolve, reject) => {
          h.onceMessage((m) => {
            const msg = m as { ready?: boolean; error?: string };
            if (msg.ready) resolve();
            else reject(new RuntimeSupportError(`init({ threads }): worker ${i} could not instantiate the threaded kernel module (${msg.error}).`));
          });
          h.onError((e) => reject(new RuntimeSupportError(`init({ threads }): worker ${i} failed to start (${e instanceof Error ? e.message : String(e)}).`)));
        }),
      );
      h.post({ module, memory, control: layout.control, index: i, stack: layout.stacks + i * WORKER_STACK_BYTES });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** `env.wasmfit_parallel`: parts claimed by this thread and the workers; returns when all are done. */
  private parallel(job: number, parts: number): void {
    const c = this.c;
    const run = this.run;
    if (!c || !run || this.closed) throw new RuntimeSupportError('wasmfit: a parallel region ran on a runtime whose threads were stopped.');
    if (parts >= 1 << PART_BITS) throw new RuntimeSupportError(`wasmfit: a parallel region of ${parts} parts (at most ${(1 << PART_BITS) - 1}).`);
    this.regions++;
    const gen = (Atomics.load(c, GEN) + 1) & GEN_MASK;
    Atomics.store(c, JOB, job);
    Atomics.store(c, PARTS, parts);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, FAILED, 0);
    Atomics.store(c, CLAIM, gen << PART_BITS);
    Atomics.store(c, GEN, gen);
    Atomics.notify(c, GEN);
    const t0 = performance.now();
    const mine = drain(c, gen, job, parts, run);
    const t1 = performance.now();
    for (let i = 0; i < SPIN && Atomics.load(c, DONE) < parts; i++);
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d >= parts) break;
      Atomics.wait(c, DONE, d);
    }
    // Parts are the same size: when the region took longer than this thread alone would have
    // (its time per part × parts), the other threads did not run alongside (a host whose cores are
    // busy). When most recent regions were slow, SlowRegions says how many asks run serial before
    // threads are tried again. The thread count never changes the result, only the time.
    const serial = this.backOff && mine > 0 ? this.slowness.record(performance.now() - t0 > ((t1 - t0) / mine) * parts) : 0;
    if (serial > 0) {
      this.serialUntil = this.asks + serial;
      this.backOffs++;
    }
    if (Atomics.load(c, FAILED) !== 0) throw new RuntimeSupportError('wasmfit: a kernel trapped on a worker thread; report it with the model and data shapes.');
  }

  /** @internal Resolves when every worker has exited (after {@link close}). */
  exited(): Promise<void> {
    return Promise.all(this.handles.map((h) => h.exited)).then(() => undefined);
  }

  /** Stops and terminates the workers (idempotent); the runtime then runs single-threaded. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.c) {
      Atomics.store(this.c, STOP, 1);
      Atomics.store(this.c, GEN, (Atomics.load(this.c, GEN) + 1) & GEN_MASK);
      Atomics.notify(this.c, GEN);
    }
    for (const h of this.handles) h.terminate();
  }
}

/**
 * Instantiates the threaded module on the shared `memory` for the calling thread (its data copied
 * in once by `init_memory`), wraps it with `makeRuntime`, then starts `threads − 1` workers with
 * their own instances and stacks (allocated from the runtime's arena). @internal
 */
export async function startThreaded<R extends { arena: Arena; pool: ThreadPool | null }>(
  mod: WebAssembly.Module,
  memory: WebAssembly.Memory,
  threads: number,
  makeRuntime: (exports: WebAssembly.Exports) => R,
  failure: (e: unknown) => Error,
): Promise<R> {
  const pool = new ThreadPool(threads);
  let inst: WebAssembly.Instance;
  try {
    inst = await WebAssembly.instantiate(mod, { env: { memory, ...pool.imports() } });
  } catch (e) {
    throw failure(e);
  }
  const ex = inst.exports as { init_memory?: () => void; par_run?: (job: number, part: number, thread: number) => void };
  if (typeof ex.init_memory !== 'function' || typeof ex.par_run !== 'function') throw new RuntimeSupportError('init({ threads }): the module is not a threaded wasmfit build (no init_memory/par_run exports).');
  ex.init_memory();
  const rt = makeRuntime(inst.exports);
  const control = rt.arena.alloc(CONTROL_BYTES);
  rt.arena.u8.fill(0, control, control + CONTROL_BYTES);
  const stacks = rt.arena.alloc(Math.max(16, (threads - 1) * WORKER_STACK_BYTES));
  const parRun = ex.par_run;
  await pool.start(mod, memory, { control, stacks }, (job, part) => parRun(job, part, 0));
  rt.pool = pool;
  return rt;
}
