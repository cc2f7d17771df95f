// Crash safety: a process writing checkpoints in a loop is SIGKILLed at 10 random moments; after
// every kill the checkpoint path loads, and holds the last version the writer reported complete
// or the one it was writing — never a torn file.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { init } from '../../ts/index.js';
import { loadCheckpoint } from '../../ts/node.js';
import { bundle } from './spawn.js';

let dir = '';
let child = '';
beforeAll(async () => {
  await init();
  dir = mkdtempSync(join(tmpdir(), 'wasmfit-crash-'));
  child = await bundle('tests/io/children/writer.ts');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until `delayMs` after it is ready, then SIGKILLs it; resolves with the versions it reported. */
function writeAndKill(path: string, base: number, delayMs: number): Promise<{ saved: number[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, path, String(base)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const saved: number[] = [];
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') setTimeout(() => p.kill('SIGKILL'), delayMs);
        else if (l.startsWith('saved ')) saved.push(Number(l.slice(6)));
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve({ saved, signal }) : reject(new Error(`writer exited without being killed: ${err}`))));
  });
}

it('a checkpoint write killed at random points always leaves a complete checkpoint', async () => {
  const path = join(dir, 'run.ckpt');
  let rng = 12345;
  const rand = () => ((rng = (Math.imul(rng, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let onDisk = 0; // the version the path held at the last check (0: no file yet)
  let completed = 0; // writes reported complete, over all writers
  let kills = 0;
  for (let i = 0; i < 10; i++) {
    const base = (i + 1) * 1_000_000;
    const { saved } = await writeAndKill(path, base, Math.floor(rand() * 250));
    kills++;
    completed += saved.length;
    // the newest complete version: this writer's last reported one, else what was there before
    const last = saved.length ? saved[saved.length - 1]! : onDisk;
    // the one it may have been writing: renamed into place, killed before reporting it
    const inFlight = saved.length ? last + 1 : base + 1;
    if (last === 0 && !existsSync(path)) continue; // killed before any write ever finished
    const { model } = await loadCheckpoint(path); // a torn file would throw FormatError here
    const v = Math.round(model.learningRate / 1e-6);
    model.dispose();
    expect([last, inFlight]).toContain(v);
    onDisk = v;
  }
  expect(kills).toBe(10);
  expect(completed).toBeGreaterThan(0); // writes did complete between kills
  // temporary files of killed writes may remain (a SIGKILL cannot clean up); they never replace the checkpoint
  for (const f of readdirSync(dir)) expect(f === 'run.ckpt' || /^\.run\.ckpt\.\d+\.[a-z0-9]+\.tmp$/.test(f)).toBe(true);
});
