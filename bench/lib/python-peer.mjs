// Native peers in a long-lived python3 child process (bench/py_peer.py), behind the same adapter
// as the JS libraries (bench/lib/peers.mjs), so the harness interleaves their timed windows with
// wasmfit's in one run. One process per library and thread count: BLAS and OpenMP read their
// thread counts when the process starts.
//
//   pythonPeer('numpy', 1), pythonPeer('pytorch', 2), …  → { id, load(), create(spec) }
//   closePythonPeers()                                   → ends every child
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cnnShapes } from './peers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, '..', 'py_peer.py');
const children = new Set();
let tmp = null;
let files = 0;

function tmpFile(arrays) {
  if (!tmp) {
    tmp = mkdtempSync(join(tmpdir(), 'wasmfit-pypeer-'));
    process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  }
  const f = join(tmp, `${files++}.bin`);
  writeFileSync(f, Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
  return f;
}

/**
 * The interpreter: `python3` on PATH for numpy (a pip numpy brings its own OpenBLAS; Debian's links
 * the system libblas), Debian's /usr/bin/python3 for PyTorch (python3-torch; PyPI is unreachable
 * here). WASMFIT_BENCH_PYTHON overrides both.
 */
function pythonFor(lib) {
  if (process.env.WASMFIT_BENCH_PYTHON) return process.env.WASMFIT_BENCH_PYTHON;
  return lib === 'pytorch' && existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** A python3 child speaking py_peer.py's line protocol; `call(msg)` resolves with its reply. */
function child(lib, threads) {
  const n = String(threads);
  const env = { ...process.env, OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n };
  const p = spawn(pythonFor(lib), [script, lib, n], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  const waiting = [];
  let stderr = '';
  let dead = null;
  p.stderr.on('data', (b) => (stderr = (stderr + b).slice(-4000)));
  const fail = (why) => {
    dead = why;
    while (waiting.length) waiting.shift().reject(new Error(why));
  };
  p.on('error', (e) => fail(`python3 could not start (${e.code ?? e.message})`));
  p.on('exit', (code) => {
    children.delete(p);
    const last = stderr.trim().split('\n').pop() ?? '';
    fail(/No module named .?(numpy|torch)/.test(stderr) ? `python3 has no ${/torch/.test(last) ? 'torch (Debian: apt-get install python3-torch)' : 'numpy (Debian: apt-get install python3-numpy)'}` : `python3 exited ${code}: ${last}`);
  });
  createInterface({ input: p.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (!w) return;
    const r = JSON.parse(line);
    if (r.error) w.reject(new Error(r.error));
    else w.resolve(r);
  });
  return {
    call(msg) {
      if (dead) return Promise.reject(new Error(dead));
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        p.stdin.write(JSON.stringify(msg) + '\n');
      });
    },
    end: () => p.stdin.end(),
  };
}

export function pythonPeer(lib, threads, id = `${lib}${threads > 1 ? `-${threads}t` : ''}`) {
  let c = null;
  let sets = 0;
  return {
    id,
    threads,
    async load() {
      c ??= child(lib, threads);
      return c.call({ op: 'info' });
    },
    async create(spec) {
      c ??= child(lib, threads);
      await c.call({ op: 'create', dims: spec.dims, loss: spec.loss, lr: spec.lr, batch: spec.batch, weights: tmpFile(spec.weights), ...(spec.cnn ? { cnn: spec.cnn, shapes: cnnShapes(spec.cnn) } : {}) });
      const send = async (d) => {
        if (!d.sent) d.sent = c.call({ op: 'data', id: d.id, x: d.x, y: d.y, rows: d.rows });
        await d.sent;
      };
      return {
        // the data go to the child on first use (the harness's untimed warm-up epoch)
        prepare: (x, y, rows) => ({ id: sets++, rows, x: tmpFile([x.subarray(0, rows * spec.dims[0])]), y: tmpFile([y.subarray(0, rows * (spec.loss === 'ce' ? 1 : spec.dims[spec.dims.length - 1]))]), sent: null }),
        async epoch(d, seed) {
          await send(d);
          await c.call({ op: 'epochs', id: d.id, n: 1, seed });
        },
        /** n passes; resolves to the seconds they took, timed inside python (perf_counter). */
        async epochs(d, n, seed) {
          await send(d);
          return (await c.call({ op: 'epochs', id: d.id, n, seed })).seconds;
        },
        async accuracy(d) {
          await send(d);
          return (await c.call({ op: 'accuracy', id: d.id })).accuracy;
        },
        dispose() {},
      };
    },
    close() {
      c?.end();
      c = null;
    },
  };
}

export function closePythonPeers() {
  for (const p of children) p.stdin.end();
}
