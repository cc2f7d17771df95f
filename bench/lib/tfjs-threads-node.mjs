// The threaded SIMD build of tfjs-backend-wasm in Node, for bench/run.mjs's peer list: probed in a
// child process (tfjs keeps one WASM backend per process, and the one-thread tfjs-wasm row owns
// this one). tfjs turns threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there,
// tensorflow/tfjs#3830); the probe forces the flag on with setThreadsCount(N) and reports what
// happens, so the row says why it cannot run.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Math.min(8, cpus().length);

const PROBE = `
const seen = [];
for (const k of ['log', 'warn', 'error', 'info']) console[k] = (...a) => seen.push(a.map(String).join(' '));
process.on('uncaughtException', (e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message || e).split('\\n')[0], seen }) + '\\n'); process.exit(0); });
const tf = require('@tensorflow/tfjs-core');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const { dirname } = require('node:path');
wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + '/');
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
wasm.setThreadsCount(Number(process.argv[1]));
tf.setBackend('wasm').then((ok) => {
  const out = ok ? { ok, threads: wasm.getThreadsCount() } : { error: 'tf.setBackend(\\'wasm\\') returned false', seen };
  process.stdout.write(JSON.stringify(out) + '\\n');
  process.exit(0);
}, (e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message || e), seen }) + '\\n'); process.exit(0); });
`;

/** What the probe found: { ok, threads } or { error, seen } (the console lines tfjs printed). */
export function probeTfjsThreads(threads = N) {
  const p = spawnSync(process.execPath, ['-e', PROBE, String(threads)], { cwd: benchDir, encoding: 'utf8', timeout: 60_000 });
  if (p.error) return { error: `the probe did not finish: ${p.error.message}` };
  try {
    return JSON.parse(p.stdout.trim().split('\n').pop());
  } catch {
    return { error: `the probe exited ${p.status}: ${(p.stderr || '').trim().split('\n').pop()}` };
  }
}

/** tfjs-wasm with its threaded SIMD build on N threads, in Node: a row that says why it does not run. */
export const tfjsWasmThreadsPeer = {
  id: `tfjs-wasm-${N}t`,
  async load() {
    const r = probeTfjsThreads(N);
    if (r.ok) {
      throw new Error(`its threaded SIMD build loads in a child process (getThreadsCount() = ${r.threads}), but tfjs keeps one WASM backend per process and the 1-thread tfjs-wasm row owns it here: measuring it needs its own process (not implemented)`);
    }
    const seen = (r.seen ?? []).find((s) => /Error/.test(s)) ?? r.error;
    const why = /ERR_WORKER_PATH/.test(seen) ? "Node's worker_threads refuse the blob: URL of its pthread workers (ERR_WORKER_PATH)" : seen.split('\n')[0].slice(0, 240);
    throw new Error(`tfjs-backend-wasm turns its threaded build off in Node (WASM_HAS_MULTITHREAD_SUPPORT false, tensorflow/tfjs#3830); forced on with setThreadsCount(${N}), it fails to start: ${why}`);
  },
};
