// The acceptance test for exact resume: N epochs straight vs N/2 epochs, checkpoint, a NEW
// process loads it and trains N/2 more → bit-identical weights (same build), with Adam, cosine
// warm restarts, dropout and early stopping (restoreBestWeights, stopping in the second half).
// Also a checkpoint taken mid-epoch by a process that dies right after writing it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, run } from './spawn.js';

const N = 12;
let dir = '';
let child = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmfit-resume-'));
  child = await bundle('tests/io/children/resume.ts');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function node(build: string, ...args: string[]): Promise<void> {
  const r = await run(child, args, { WASMFIT_SIMD: build === 'simd' ? '1' : '0' });
  if (r.code !== 0) throw new Error(`child ${args.join(' ')} exited ${r.code} ${r.signal}: ${r.stderr}`);
}

describe.each(['simd', 'scalar'])('resume in a new process (%s build)', (build) => {
  it(`N/2 + N/2 epochs across processes equal ${N} straight epochs bit for bit`, async () => {
    const d = join(dir, build);
    await import('node:fs').then((fs) => fs.mkdirSync(d));
    await node(build, 'straight', d, String(N), String(N / 2));
    await node(build, 'resume', d, String(N));
    const straight = JSON.parse(readFileSync(join(d, 'history-straight.json'), 'utf8'));
    const resumed = JSON.parse(readFileSync(join(d, 'history-resume.json'), 'utf8'));
    // early stopping really carried state across the processes: it stopped in the second half
    // and restored the best epoch's weights in both runs
    expect(straight.stoppedEpoch).toBeGreaterThan(N / 2);
    expect(straight.stoppedEpoch).toBeLessThan(N - 1);
    expect(resumed.epochs[0]).toBe(N / 2);
    for (const k of ['stoppedEpoch', 'bestEpoch', 'wait', 'step']) expect(resumed[k]).toBe(straight[k]);
    const tail = straight.epochs.indexOf(N / 2);
    for (const k of ['loss', 'valLoss', 'lr']) expect(resumed[k]).toEqual(straight[k].slice(tail));
    expect(readFileSync(join(d, 'weights-resume.bin')).equals(readFileSync(join(d, 'weights-straight.bin')))).toBe(true);
    // the first half alone ends elsewhere (it restored its own best weights): the comparison is not vacuous
    expect(readFileSync(join(d, 'weights-first.bin')).equals(readFileSync(join(d, 'weights-straight.bin')))).toBe(false);

    if (build === 'scalar') return; // the mid-epoch case once (SIMD build) keeps the suite fast
    // mid-epoch: checkpoint every 5 steps, the process exits right after step 30 (9 steps/epoch:
    // epoch 3, batch 3); a new process resumes from there
    await node(build, 'crash', d, String(N), '5', '30');
    await node(build, 'resume', d, String(N));
    expect(JSON.parse(readFileSync(join(d, 'position-resume.json'), 'utf8'))).toEqual({ epoch: 3, batch: 3 });
    const mid = JSON.parse(readFileSync(join(d, 'history-resume.json'), 'utf8'));
    const at3 = straight.epochs.indexOf(3);
    for (const k of ['loss', 'valLoss', 'lr']) expect(mid[k]).toEqual(straight[k].slice(at3));
    expect(readFileSync(join(d, 'weights-resume.bin')).equals(readFileSync(join(d, 'weights-straight.bin')))).toBe(true);
  });
});
