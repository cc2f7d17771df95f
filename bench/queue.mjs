// Trials per minute of a search on the Redis queue (wasmfit/queue) with 1, 2 and 4 `wasmfit worker`
// processes, and the per-trial overhead of the queue against workerRunner (worker threads in this
// process), windows alternated in one run so drift and other load hit every configuration alike:
//   npm run bench:queue                 (node bench/queue.mjs [--rounds 3] [--trials 12])
// Starts its own redis-server (Debian's /usr/bin/redis-server) on a free port and stops it. Also
// times the one-off data transfer: the search data through Redis (SET once, GET once per worker)
// against the same bytes through a file on a shared disk.
// On a 2-core machine expect trials/min to grow from 1 to 2 workers and stay flat beyond 2.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const dist = (f) => import(pathToFileURL(join(root, 'dist', f)).href);
const wf = { ...(await dist('wasmfit.mjs')), ...(await dist('tuning.mjs')) };
const { queueRunner } = await dist('queue.mjs');
const { workerRunner } = await dist('worker.mjs');
await wf.init();

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const rounds = arg('--rounds', 3);
const trials = arg('--trials', 12);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = new Set();
const tmp = mkdtempSync(join(tmpdir(), 'wasmfit-bench-queue-'));

async function freePort() {
  return await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
function started(p) {
  procs.add(p);
  p.once('exit', () => procs.delete(p));
  return p;
}
async function cleanup() {
  for (const p of procs) p.kill('SIGKILL');
  await sleep(200);
  rmSync(tmp, { recursive: true, force: true });
}
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));

const port = await freePort();
const url = `redis://127.0.0.1:${port}`;
started(spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', tmp, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
const { default: Redis } = await import('ioredis');
const redis = new Redis(url, { maxRetriesPerRequest: null });
for (let i = 0; (await redis.ping().catch(() => '')) !== 'PONG'; i++) {
  if (i > 100) throw new Error('redis-server did not start');
  await sleep(50);
}

try {
  // ---- the workload: small MLPs on a 3-class problem, 4 epochs each
  const rng = new wf.Rng(1);
  const n = 2000;
  const d = 16;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() + (j === i % 3 ? 1.2 : 0);
  }
  const search = (runner) =>
    wf.randomSearch({
      space: { lr: wf.logUniform(1e-3, 1e-1), hidden: wf.intUniform(16, 64) },
      spec: (c) => ({ model: { inputShape: [d], layers: [wf.dense(c.hidden, { activation: 'relu' }), wf.dense(3)], optimizer: wf.adam({ lr: c.lr }), loss: 'softmaxCrossEntropy' }, fit: { batchSize: 16 } }),
      data: { x, y },
      metric: 'loss',
      trials,
      budget: { epochs: 4 },
      seed: 1,
      runner,
    });

  // ---- worker processes: queue q1 has 1, q2 has 2, q4 has 4 (idle ones block on Redis, costing nothing)
  const cli = join(root, 'dist', 'cli.mjs');
  const ready = [];
  for (const [q, k] of [['q1', 1], ['q2', 2], ['q4', 4]]) {
    for (let i = 0; i < k; i++) {
      const p = started(spawn(process.execPath, [cli, 'worker', '--redis', url, '--queue', q, '--name', `${q}-${i}`], { stdio: ['ignore', 'ignore', 'pipe'] }));
      ready.push(new Promise((r) => p.stderr.on('data', (b) => String(b).includes('waiting for trials') && r())));
    }
  }
  await Promise.all(ready);

  const configs = {
    'workerRunner, 1 thread': () => workerRunner({ concurrency: 1 }),
    'workerRunner, 2 threads': () => workerRunner({ concurrency: 2 }),
    'queue, 1 worker': () => queueRunner({ connection: url, queueName: 'q1' }),
    'queue, 2 workers': () => queueRunner({ connection: url, queueName: 'q2' }),
    'queue, 4 workers': () => queueRunner({ connection: url, queueName: 'q4' }),
  };
  const names = Object.keys(configs);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  await search(configs['queue, 4 workers']()); // warm-up: every worker has the data and a compiled module
  await search(configs['workerRunner, 1 thread']());
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const k of order) {
      const t0 = performance.now();
      await search(configs[k]());
      times[k].push(performance.now() - t0);
    }
  }
  const med = (a) => {
    const s = [...a].sort((p, q) => p - q);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  console.log(`queue bench: ${trials} trials per search (MLP 16-[16..64]-3, ${n} rows, 4 epochs), ${rounds} alternated rounds, ${cpus().length} cores; the machine may be shared: figures are indicative`);
  console.log('configuration              trials/min median (range)');
  for (const k of names) {
    const tpm = times[k].map((ms) => (trials * 60_000) / ms);
    console.log(`${k.padEnd(26)} ${med(tpm).toFixed(0).padStart(6)} (${Math.min(...tpm).toFixed(0)}–${Math.max(...tpm).toFixed(0)})`);
  }
  // per-trial overhead: the same serial work (1 trial at a time) through the queue or in a thread
  const over = times['queue, 1 worker'].map((q, i) => (q - times['workerRunner, 1 thread'][i]) / trials);
  console.log(`queue overhead per trial vs workerRunner (1 at a time): median ${med(over).toFixed(1)} ms (range ${Math.min(...over).toFixed(1)}–${Math.max(...over).toFixed(1)}); a trial here takes ~${(med(times['workerRunner, 1 thread']) / trials).toFixed(0)} ms`);

  // ---- the data: Redis (content-addressed, SET once, GET per worker) against a file on a shared disk
  const big = new Float32Array(10_000 * 784).map(() => rng.next());
  const bytes = Buffer.from(big.buffer);
  const mb = (bytes.byteLength / 2 ** 20).toFixed(1);
  const rows = [];
  for (let r = 0; r < 5; r++) {
    let t0 = performance.now();
    await redis.set('bench:data', bytes);
    const set = performance.now() - t0;
    t0 = performance.now();
    const got = await redis.getBuffer('bench:data');
    const get = performance.now() - t0;
    if (got.byteLength !== bytes.byteLength) throw new Error('short read');
    t0 = performance.now();
    writeFileSync(join(tmp, 'data.bin'), bytes);
    const write = performance.now() - t0;
    t0 = performance.now();
    readFileSync(join(tmp, 'data.bin'));
    const read = performance.now() - t0;
    rows.push({ set, get, write, read });
  }
  const m = (k) => med(rows.map((r) => r[k])).toFixed(0);
  console.log(`search data of ${mb} MiB (10,000 × 784 float32): Redis SET ${m('set')} ms, GET ${m('get')} ms per worker; local file write ${m('write')} ms, read ${m('read')} ms (medians of 5)`);
  console.log('(a shared disk across machines adds its network on top of the file figures; Redis needs no shared file system, and the data goes once per search and once per worker)');
} finally {
  await redis.quit().catch(() => {});
  await cleanup();
}
process.exit(0);
