/** `wasmfit worker`: a queue worker for searches run with `queueRunner` (wasmfit/queue). @internal */
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';
import { num, type Io } from './util.js';

export const WORKER_HELP = `Usage: wasmfit worker --redis redis://host:6379 [--concurrency 1] [--queue wasmfit] [--name host:pid]
                      [--lock-ms 30000] [--stalled-ms 30000]

Takes the trials of hyperparameter searches run with queueRunner (wasmfit/queue) from a BullMQ
queue in Redis, trains up to --concurrency of them at a time (each in a worker thread), and
reports each epoch and result. Start any number, on any number of machines; stop with Ctrl-C or
SIGTERM (running trials finish first; a second signal abandons them, and other workers retry them).
Needs the packages bullmq and ioredis (npm install bullmq ioredis).

  --redis URL        the Redis server (redis:// or rediss://, with :password@ and /db as needed)
  --concurrency N    trials at a time in this process (default 1; at most one per core pays)
  --queue NAME       the queue, as the search's queueRunner({ queueName }) (default wasmfit)
  --name NAME        this worker in the search's per-worker statistics (default host:pid)
  --lock-ms MS       how long a dead worker holds its trial before another retries it (default 30000)
  --stalled-ms MS    how often to look for trials of dead workers (default 30000)`;

const OPTIONS = {
  redis: { type: 'string' },
  concurrency: { type: 'string', default: '1' },
  queue: { type: 'string', default: 'wasmfit' },
  name: { type: 'string' },
  'lock-ms': { type: 'string', default: '30000' },
  'stalled-ms': { type: 'string', default: '30000' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function worker(argv: string[], io: Io): Promise<void> {
  const { values: a } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (a.help) {
    io.out(WORKER_HELP + '\n');
    return;
  }
  if (a.redis === undefined) throw new CliError('--redis is required: the Redis server the search queues its trials on, e.g. --redis redis://127.0.0.1:6379.');
  // wasmfit/queue (dist/queue.mjs beside this file), loaded at run time: the CLI bundle carries no copy
  const { startQueueWorker } = (await import(new URL('./queue.mjs', import.meta.url).href)) as typeof import('../queue/index.js');
  const w = startQueueWorker({
    connection: a.redis,
    queueName: a.queue,
    concurrency: num(a.concurrency, '--concurrency', { int: true, min: 1, max: 1024 }),
    lockDurationMs: num(a['lock-ms'], '--lock-ms', { int: true, min: 100 }),
    stalledIntervalMs: num(a['stalled-ms'], '--stalled-ms', { int: true, min: 100 }),
    ...(a.name !== undefined ? { name: a.name } : {}),
    onEvent: (e) => {
      const at = `${e.search.slice(0, 8)} trial ${e.trial}`;
      if (e.type === 'start') io.out(`start ${at}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}\n`);
      else if (e.type === 'done') io.out(`done ${at}: ${e.epochs} epochs in ${e.ms} ms\n`);
      else io.out(`failed ${at}${e.retry ? ' (to be retried)' : ''}: ${e.error.replace(/\s*\n\s*/g, ' ')}\n`);
    },
  });
  await w.ready;
  io.err(`wasmfit worker ${w.name}: waiting for trials on queue '${a.queue}'\n`);
  const proc = (globalThis as { process?: NodeJS.Process }).process!;
  await new Promise<void>((resolve) => {
    let signals = 0;
    const stop = () => {
      signals++;
      io.err(signals === 1 ? 'wasmfit worker: stopping after the running trials (signal again to abandon them)\n' : 'wasmfit worker: abandoning the running trials\n');
      w.close(signals > 1).then(resolve, resolve);
    };
    proc.on('SIGINT', stop);
    proc.on('SIGTERM', stop);
  });
}
