// Lifecycle of fitInWorker jobs (issue 13, defect 6; R15 for specs; R18): a failing job never
// kills the process with an unhandled rejection, whichever surface (async iterator, `result`,
// events) the caller consumes; a worker that never answers hits worker.startTimeoutMs; a worker
// that dies or breaks the protocol gives a typed error, not a hang; unknown spec keys are refused
// before any worker starts, by the same check in fitInWorker and randomSearch (in process and in
// workers); errors cross the wire with their class and code. Runs against the built bundle.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as errorsSrc from '../../ts/errors/index.js';
import { fromWireError, toWireError } from '../../ts/worker/protocol.js';

type Lib = typeof import('../../ts/index.js') & typeof import('../../ts/tuning/index.js');
type WorkerLib = typeof import('../../ts/worker/index.js');

let wf: Lib;
let W: WorkerLib;
let tmp: string;
const distUrl = (f: string): string => pathToFileURL(join(process.cwd(), 'dist', f)).href;

beforeAll(async () => {
  wf = { ...(await import(distUrl('wasmfit.mjs'))), ...(await import(distUrl('tuning.mjs'))) } as Lib;
  W = (await import(distUrl('worker.mjs'))) as WorkerLib;
  await wf.init();
  tmp = mkdtempSync(join(tmpdir(), 'wasmfit-worker-lifecycle-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a worker script (worker_threads) to the temp dir; returns its file URL. */
function script(name: string, body: string): URL {
  const f = join(tmp, name);
  writeFileSync(f, `import { parentPort } from 'node:worker_threads';\n${body}\n`);
  return pathToFileURL(f);
}

let scripts = 0;
/**
 * Runs an ES module (written to a file, as a user's script) in a child node process against
 * dist/; returns its exit status and output. `eval`: pass it with `--input-type=module -e` instead.
 */
function child(code: string, timeout = 20000, evalFlag = false): { status: number | null; stdout: string; stderr: string } {
  const src = `const wf = await import(${JSON.stringify(distUrl('wasmfit.mjs'))});\nconst { fitInWorker } = await import(${JSON.stringify(distUrl('worker.mjs'))});\n${code}\n`;
  const f = join(tmp, `child-${scripts++}.mjs`);
  writeFileSync(f, src);
  const r = spawnSync(process.execPath, evalFlag ? ['--input-type=module', '-e', src] : [f], { encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const failingJob = `fitInWorker({ inputShape: [2], layers: [wf.dense(2)], optimizer: wf.adam(), loss: 'bogus' }, new Float32Array(8), [0, 1, 0, 1])`;
const tick = `await new Promise((r) => setTimeout(r, 300)); console.log('alive');`;

const rejects = async (p: Promise<unknown>): Promise<Error & { code?: string; option?: string }> =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error & { code?: string; option?: string },
  );

function sync(f: () => unknown): Error & { option?: string } {
  try {
    f();
  } catch (e) {
    return e as Error & { option?: string };
  }
  throw new Error('expected a throw');
}

const spec = () => ({ inputShape: [2] as [number], layers: [wf.dense(2)], optimizer: wf.sgd({ lr: 0.1 }), loss: 'softmaxCrossEntropy' as const });
const x = () => new Float32Array([0, 1, 1, 0, 1, 1, 0, 0]);
const y = () => new Int32Array([0, 1, 0, 1]);

describe('fitInWorker: a failing job never ends the process with an unhandled rejection (R18)', () => {
  it.each([
    ['for await (R18)', `const job = ${failingJob};\ntry { for await (const e of job) console.log('event', e.type); } catch (e) { console.log('caught', e.name); }\n${tick}`],
    ['events only, with on("error")', `const job = ${failingJob};\njob.on('ready', () => console.log('event ready'));\njob.on('error', (e) => console.log('caught', e.name));\n${tick}`],
    ['events only, without an error listener', `const job = ${failingJob};\njob.on('epoch', () => {});\nconsole.log('caught nothing');\n${tick}`],
    ['for await, then result awaited later', `const job = ${failingJob};\ntry { for await (const e of job); } catch (e) { console.log('iterator', e.name); }\n${tick}\ntry { await job.result; } catch (e) { console.log('caught', e.name, 'from result'); }`],
  ])('%s: the error reaches the consumer, the process exits 0', (_name, code) => {
    const r = child(code);
    expect(r.stderr).not.toMatch(/unhandled|UnhandledPromiseRejection|triggerUncaughtException/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/caught (OptionError|nothing)/);
    expect(r.stdout).toMatch(/alive/);
  });

  it('works from `node --input-type=module -e` (the worker does not inherit the parent\'s --input-type)', () => {
    const r = child(`const job = ${failingJob};\ntry { await job.result; } catch (e) { console.log('caught', e.name, e.option); }`, 20000, true);
    expect(r.stdout).toMatch(/caught OptionError loss/);
    expect(r.status).toBe(0);
  });

  it('the iterator throws the error also when it is created after the job failed; an awaited result still rejects', async () => {
    const job = W.fitInWorker({ ...spec(), loss: 'bogus' as never }, x(), y());
    const e = await rejects(job.result);
    expect(e).toBeInstanceOf(wf.OptionError);
    expect(e.option).toBe('loss');
    const it = job[Symbol.asyncIterator]();
    expect(await rejects(it.next())).toBe(e);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    const seen: Error[] = [];
    job.on('error', (err) => seen.push(err)); // after the end: never called
    expect(seen).toEqual([]);
  });

  it('a listener that throws ends the job with its error (result, iterator, on("error")); the process survives', async () => {
    const job = W.fitInWorker(spec(), x(), y(), { epochs: 50 });
    const boom = new Error('listener bug');
    job.on('trainBegin', () => {
      throw boom;
    });
    const viaEvent = new Promise<Error>((r) => job.on('error', r));
    const events: string[] = [];
    const viaIterator = (async () => {
      try {
        for await (const e of job) events.push(e.type);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(await rejects(job.result)).toBe(boom);
    expect(await viaEvent).toBe(boom);
    expect(await viaIterator).toBe(boom);
    expect(events).toEqual(['ready']); // the event whose listener threw is not delivered further
  });
});

describe('fitInWorker: workers that never answer, die or break the protocol', () => {
  it('a worker that never answers: RuntimeSupportError after worker.startTimeoutMs naming the option; the worker is terminated', async () => {
    const silent = script('silent.mjs', `parentPort.on('message', () => {});`);
    const t0 = Date.now();
    const job = W.fitInWorker(spec(), x(), y(), { worker: { url: silent, startTimeoutMs: 300 } });
    const e = await rejects(job.result);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(e).toBeInstanceOf(wf.RuntimeSupportError);
    expect(e.code).toBe('E_RUNTIME_SUPPORT');
    expect(e.message).toMatch(/did not start within 300 ms/);
    expect(e.message).toMatch(/startTimeoutMs/);
    expect(W.DEFAULT_START_TIMEOUT_MS).toBe(30000);
    // in a child process: nothing (worker, timer) keeps the process alive after the timeout
    const r = child(
      `const job = fitInWorker({ inputShape: [2], layers: [wf.dense(2)], optimizer: wf.sgd(), loss: 'mse' }, new Float32Array(4), new Float32Array(4), { worker: { url: ${JSON.stringify(silent.href)}, startTimeoutMs: 200 } });\n` +
        `job.result.catch((e) => console.log('caught', e.name, e.code));`,
      10000,
    );
    expect(r.stdout).toMatch(/caught RuntimeSupportError E_RUNTIME_SUPPORT/);
    expect(r.status).toBe(0);
    // workerRunner passes it on: a trial whose worker does not start is a setup error
    const search = wf.randomSearch({
      space: { lr: wf.choice([0.1]) },
      spec: () => ({ model: spec() }),
      data: { x: x(), y: y() },
      trials: 1,
      budget: { epochs: 1 },
      metric: 'loss',
      runner: W.workerRunner({ concurrency: 1, worker: { url: silent, startTimeoutMs: 200 } }),
    });
    expect(await rejects(search)).toMatchObject({ name: 'RuntimeSupportError', message: expect.stringMatching(/startTimeoutMs/) });
  });

  it('refuses a bad worker.startTimeoutMs with OptionError', () => {
    for (const v of [0, -1, Number.NaN, '100'] as never[]) {
      const e = sync(() => W.fitInWorker(spec(), x(), y(), { worker: { startTimeoutMs: v } }));
      expect(e).toMatchObject({ name: 'OptionError', option: 'worker.startTimeoutMs' });
      expect(e.message).toMatch(/expected a number of ms > 0 \(default 30000; Infinity waits forever\)/);
    }
    expect(sync(() => W.workerRunner({ worker: { startTimeoutMs: -5 } })).message).toMatch(/workerRunner: worker.startTimeoutMs = -5; expected a number of ms > 0/);
  });

  it('a worker that starts within worker.startTimeoutMs trains normally (Infinity: no limit)', async () => {
    for (const startTimeoutMs of [20000, Infinity]) {
      const r = await W.fitInWorker(spec(), x(), y(), { epochs: 2, worker: { startTimeoutMs } }).result;
      expect(r.status).toBe('completed');
    }
    const runner = W.workerRunner({ concurrency: 1, worker: { startTimeoutMs: 20000 } });
    const res = await wf.randomSearch({ space: { lr: wf.choice([0.1]) }, spec: () => ({ model: spec() }), data: { x: x(), y: y() }, trials: 1, budget: { epochs: 1 }, metric: 'loss', runner });
    expect(res.trials[0]!.error).toBeUndefined();
  });

  it('a worker that dies (exits, throws, exits before ready) fails the job with RuntimeSupportError on every surface', async () => {
    const cases: [string, string, RegExp][] = [
      ['exit-after-ready.mjs', `parentPort.on('message', (m) => { if (m.type === 'start') { parentPort.postMessage({ type: 'ready', simd: false }); setTimeout(() => process.exit(3), 10); } });`, /exited \(code 3\)/],
      ['throws.mjs', `parentPort.on('message', () => { throw new Error('kaboom'); });`, /kaboom/],
      ['exit-at-once.mjs', `process.exit(0);`, /exited \(code 0\)/],
    ];
    for (const [name, body, msg] of cases) {
      const job = W.fitInWorker(spec(), x(), y(), { worker: { url: script(name, body) } });
      const viaEvent = new Promise<Error>((r) => job.on('error', r));
      let viaIterator: unknown = null;
      try {
        for await (const e of job) void e;
      } catch (err) {
        viaIterator = err;
      }
      const e = await rejects(job.result);
      expect(e, name).toBeInstanceOf(wf.RuntimeSupportError);
      expect(e.message, name).toMatch(msg);
      expect(viaIterator, name).toBe(e);
      expect(await viaEvent, name).toBe(e);
    }
  });

  it('a malformed message from the worker fails the job with RuntimeSupportError instead of crashing or hanging', async () => {
    const bad = [
      'null',
      '42',
      `'hello'`,
      `{ type: 'bogus' }`,
      `{ type: 'done' }`,
      `{ type: 'done', status: 'completed', history: { epoch: [], history: {} }, weights: [{ name: 'w', shape: [1], data: [1] }] }`,
      `{ type: 'error', error: 'oops' }`,
      `{ type: 'epoch', epoch: 0, logs: {}, weights: 'x', predictions: null }`,
    ];
    for (const [i, m] of bad.entries()) {
      const url = script(`malformed-${i}.mjs`, `parentPort.on('message', (m) => { if (m.type === 'start') { parentPort.postMessage({ type: 'ready', simd: false }); parentPort.postMessage(${m}); } });`);
      const e = await rejects(W.fitInWorker(spec(), x(), y(), { worker: { url, startTimeoutMs: 5000 } }).result);
      expect(e, m).toBeInstanceOf(wf.RuntimeSupportError);
      expect(e.message, m).toMatch(/malformed message/);
    }
  });
});

describe('specs that cannot cross to a worker', () => {
  it('a spec holding a function (not structured-cloneable) rejects result with OptionError instead of an unhandled rejection', async () => {
    const odd = { ...spec(), layers: [{ ...wf.dense(2), onBuild: () => 1 }] } as never;
    const job = W.fitInWorker(odd, x(), y());
    const e = await rejects(job.result);
    expect(e).toBeInstanceOf(wf.OptionError);
    expect(e.option).toBe('spec');
    expect(e.message).toMatch(/could not be sent to the worker .*plain data/);
  });
});

describe('spec keys (R15): refused before any worker starts, the same way in every path', () => {
  it('fitInWorker refuses unknown spec keys synchronously with OptionError listing the valid keys', () => {
    const e = sync(() => W.fitInWorker({ ...spec(), lr: 0.5 } as never, x(), y()));
    expect(e).toBeInstanceOf(wf.OptionError);
    expect(e.option).toBe('lr');
    expect(e.message).toMatch(/fitInWorker: unknown spec key 'lr'; known spec keys are inputShape, layers, seed, optimizer, loss, weights/);
    expect(sync(() => W.fitInWorker({ ...spec(), metrics: ['mae'] } as never, x(), y()))).toMatchObject({ name: 'OptionError', option: 'metrics' });
  });

  it('randomSearch spec trials: unknown model, fit and result keys refused in process and with workerRunner, before any worker loads', async () => {
    const marker = join(tmp, 'loaded');
    const watched = script('marker.mjs', `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, '1');\nawait import(${JSON.stringify(distUrl('worker-thread.mjs'))});`);
    const bads: [string, () => object, string, RegExp][] = [
      ['model key', () => ({ model: { ...spec(), lr: 0.5 } }), 'lr', /unknown spec model key 'lr'; known spec model keys are inputShape, layers, seed, optimizer, loss, weights/],
      ['fit key', () => ({ model: spec(), fit: { batchsize: 2 } }), 'batchsize', /unknown spec fit key 'batchsize'; known spec fit keys are batchSize, /],
      ['worker-only fit key', () => ({ model: spec(), fit: { epochWeights: true } }), 'epochWeights', /unknown spec fit key 'epochWeights'/],
      ['result key', () => ({ model: spec(), fitOptions: {} }), 'fitOptions', /unknown spec result key 'fitOptions'; known spec result keys are model, fit/],
    ];
    for (const [name, make, option, msg] of bads) {
      const common = { space: { lr: wf.choice([0.1]) }, spec: make as never, data: { x: x(), y: y() }, trials: 2, budget: { epochs: 1 }, metric: 'loss' };
      const inProc = await rejects(wf.randomSearch(common));
      const inWorkers = await rejects(wf.randomSearch({ ...common, runner: W.workerRunner({ concurrency: 2, worker: { url: watched } }) }));
      for (const e of [inProc, inWorkers]) {
        expect(e, name).toBeInstanceOf(wf.OptionError);
        expect(e.option, name).toBe(option);
        expect(e.message, name).toMatch(msg);
      }
      expect(inWorkers.message).toBe(inProc.message);
      expect(existsSync(marker), name).toBe(false);
    }
    // the public in-process trainer checks the same way
    const job = { model: { ...spec(), lr: 1 }, fit: { epochs: 1 } } as never;
    expect(await rejects(wf.inProcessTrainer(job, x(), y()))).toMatchObject({ name: 'OptionError', option: 'lr', message: expect.stringMatching(/known job.model keys are|known .* keys are/) });
  });
});

describe('errors cross the wire with their class and code', () => {
  it('fromWireError rebuilds every WasmfitError subclass of ts/errors (and keeps E_MEMORY)', () => {
    const classes = Object.entries(errorsSrc).filter(
      ([, v]) => typeof v === 'function' && v.prototype instanceof errorsSrc.WasmfitError,
    ) as [string, new (...a: string[]) => errorsSrc.WasmfitError][];
    expect(classes.map(([n]) => n)).toContain('BusyError');
    for (const [name, C] of classes) {
      const e = C.length >= 2 ? new C('someOption', `${name} message`) : new C(`${name} message`);
      const back = fromWireError(structuredClone(toWireError(e))) as errorsSrc.WasmfitError & { option?: string };
      expect(back, name).toBeInstanceOf(C);
      expect(back.name, name).toBe(e.name);
      expect(back.code, name).toBe(e.code);
      expect(back.message, name).toBe(e.message);
      if (e instanceof errorsSrc.OptionError) expect(back.option).toBe('someOption');
    }
    // another branch adds MemoryError (E_MEMORY): until then the code and name survive
    const mem = fromWireError({ name: 'MemoryError', message: 'out of memory', code: 'E_MEMORY' as never }) as errorsSrc.WasmfitError;
    expect(mem).toBeInstanceOf(errorsSrc.WasmfitError);
    expect(mem.code).toBe('E_MEMORY');
    expect(mem.name).toBe('MemoryError');
  });

  it('a BusyError raised in the worker arrives as the bundle\'s BusyError', async () => {
    const url = script(
      'busy.mjs',
      `parentPort.on('message', (m) => { if (m.type === 'start') { parentPort.postMessage({ type: 'ready', simd: false }); parentPort.postMessage({ type: 'error', error: { name: 'BusyError', message: 'fit: busy', code: 'E_BUSY' } }); } });`,
    );
    const e = await rejects(W.fitInWorker(spec(), x(), y(), { worker: { url } }).result);
    expect(e).toBeInstanceOf(wf.BusyError);
    expect(e.code).toBe('E_BUSY');
  });
});
