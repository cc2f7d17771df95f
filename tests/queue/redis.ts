// Test helpers: a private redis-server (Debian's /usr/bin/redis-server) on 127.0.0.1, a free port
// and a temp directory, with append-only persistence so its data survives a restart; and
// `wasmfit worker` processes (dist/cli.mjs). Everything started here is stopped by stopAll().
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const started = new Set<ChildProcess>();
const dirs: string[] = [];

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once something answers PING with +PONG on the port. */
async function waitPong(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => c.write('PING\r\n'));
      c.setTimeout(500, () => (c.destroy(), resolve(false)));
      c.on('data', (d) => (c.destroy(), resolve(d.toString().startsWith('+PONG'))));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  proc: ChildProcess;
  /** SIGTERM (redis writes its append-only file and exits), then the same server again on the same port and directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
}

export async function startRedis(): Promise<RedisServer> {
  if (!existsSync('/usr/bin/redis-server')) throw new Error('tests/queue needs Debian\'s redis-server: apt-get install redis-server (.ci/run installs it)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wasmfit-queue-redis-'));
  dirs.push(dir);
  const launch = async (): Promise<ChildProcess> => {
    const p = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no', '--logfile', join(dir, 'redis.log')], { stdio: 'ignore' });
    started.add(p);
    p.once('exit', () => started.delete(p));
    await waitPong(port);
    return p;
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    proc: await launch(),
    async restart() {
      server.proc.kill('SIGTERM');
      await exited(server.proc);
      server.proc = await launch();
    },
    async stop() {
      server.proc.kill('SIGTERM');
      await Promise.race([exited(server.proc), sleep(3000)]);
      server.proc.kill('SIGKILL');
    },
  };
  return server;
}

export interface WorkerProc {
  name: string;
  proc: ChildProcess;
  out: () => string;
}

/** `node dist/cli.mjs worker --redis URL --name NAME ...` with short lock and stalled-check periods. */
export function startWorker(url: string, name: string, extra: string[] = [], onOut?: (text: string) => void): WorkerProc {
  const proc = spawn(process.execPath, [join(process.cwd(), 'dist', 'cli.mjs'), 'worker', '--redis', url, '--name', name, '--lock-ms', '2000', '--stalled-ms', '500', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(proc);
  proc.once('exit', () => started.delete(proc));
  let text = '';
  proc.stdout!.on('data', (d) => {
    text += d;
    onOut?.(text);
  });
  proc.stderr!.on('data', (d) => (text += d));
  return { name, proc, out: () => text };
}

/** Kills (SIGKILL) every process started here and removes the temp directories. */
export async function stopAll(): Promise<void> {
  const all = [...started];
  for (const p of all) p.kill('SIGKILL');
  await Promise.all(all.map((p) => Promise.race([exited(p), sleep(3000)])));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
