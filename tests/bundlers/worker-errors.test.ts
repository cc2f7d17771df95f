// fitInWorker's start-up: the worker gets the main thread's compiled WebAssembly.Module (its
// script embeds no bytes), or the bytes where the host cannot clone a module; failures are typed
// and short — no kilobytes of `data:` URL in a message, and a bundled Node app without
// worker-thread.mjs next to it is told which file to copy.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'wasmfit-worker-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('fitInWorker module transfer', () => {
  it('posts the compiled module, or its bytes where postMessage cannot clone a module (DataCloneError)', () => {
    const script = join(tmp, 'transfer.mjs');
    writeFileSync(
      script,
      [
        "import { Worker } from 'node:worker_threads';",
        `const wf = await import(${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)});`,
        `const { fitInWorker } = await import(${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)});`,
        'const post = Worker.prototype.postMessage;',
        'const sent = [];',
        'let refuse = false;',
        'Worker.prototype.postMessage = function (m, t) {',
        "  if (m && m.type === 'start') {",
        "    const w = m.init.wasm;",
        "    sent.push(w instanceof WebAssembly.Module ? 'module' : ArrayBuffer.isView(w) ? 'bytes' : typeof w);",
        "    if (refuse && w instanceof WebAssembly.Module) throw new DOMException('cannot clone', 'DataCloneError');",
        '  }',
        '  return post.call(this, m, t);',
        '};',
        "const spec = { inputShape: [2], layers: [wf.dense(2)], optimizer: wf.sgd(), loss: 'mse' };",
        'const statuses = [];',
        'for (const r of [false, true]) {',
        '  refuse = r;',
        '  const res = await fitInWorker(spec, new Float32Array(8), new Float32Array(8), { epochs: 1, worker: { init: { simd: r } } }).result;',
        '  statuses.push(res.status + ":" + res.simd);',
        '}',
        'console.log(JSON.stringify({ sent, statuses }));',
      ].join('\n'),
    );
    const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })) as { sent: string[]; statuses: string[] };
    expect(out).toEqual({ sent: ['module', 'module', 'bytes'], statuses: ['completed:false', 'completed:true'] });
  });
});

describe('fitInWorker start-up errors', () => {
  it('cut a long data: worker URL short in the message', async () => {
    const W = (await import(pathToFileURL(join(process.cwd(), 'dist', 'worker.mjs')).href)) as typeof import('../../ts/worker/index.js');
    const wf = (await import(pathToFileURL(join(process.cwd(), 'dist', 'wasmfit.mjs')).href)) as typeof import('../../ts/index.js');
    const url = `data:text/javascript;base64,${Buffer.from(`throw new Error('x');//${'a'.repeat(4000)}`).toString('base64')}`;
    const job = W.fitInWorker({ inputShape: [2], layers: [wf.dense(2)], optimizer: wf.sgd(), loss: 'mse' }, new Float32Array(4), new Float32Array(4), { worker: { url } });
    const e = (await job.result.then(() => null, (err: unknown) => err)) as Error & { code?: string };
    expect(e).toBeInstanceOf(wf.RuntimeSupportError);
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toMatch(/^fitInWorker: the worker data:text\/javascript;base64,.{20,}…/);
  });

  it('name the missing worker-thread.mjs of a bundled Node app and what to copy', () => {
    const esbuild = join(process.cwd(), 'node_modules', '.bin', 'esbuild');
    const src = join(tmp, 'app.mjs');
    writeFileSync(
      src,
      [
        `import { dense, sgd } from ${JSON.stringify(join(process.cwd(), 'dist', 'wasmfit.mjs'))};`,
        `import { fitInWorker } from ${JSON.stringify(join(process.cwd(), 'dist', 'worker.mjs'))};`,
        "await fitInWorker({ inputShape: [2], layers: [dense(2)], optimizer: sgd(), loss: 'mse' }, new Float32Array(4), new Float32Array(4)).result;",
      ].join('\n'),
    );
    execFileSync(esbuild, [src, '--bundle', '--platform=node', '--format=esm', `--outfile=${join(tmp, 'out', 'app.mjs')}`, '--log-level=error']);
    const r = spawnSync(process.execPath, [join(tmp, 'out', 'app.mjs')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/RuntimeSupportError: fitInWorker: the worker script file:\/\/.*\/out\/worker-thread\.mjs does not exist\. .*copy node_modules\/wasmfit\/dist\/worker-thread\.mjs there/);
  });
});
