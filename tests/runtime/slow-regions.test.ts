/**
 * The thread pool's back-off (SlowRegions): a busy host serializes regions quickly and for longer
 * each time it stays busy; a host whose other core stalls in short bursts keeps its threads.
 * The inputs are the slow/not-slow verdicts the pool records per region (ts/runtime/threads.ts).
 */
import { describe, expect, it } from 'vitest';
import { SlowRegions } from '../../ts/runtime/threads.js';

/** Feeds `verdicts` one by one; returns [index, asks] of every back-off. */
function feed(p: SlowRegions, verdicts: Iterable<boolean>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  for (const v of verdicts) {
    const n = p.record(v);
    if (n > 0) out.push([i, n]);
    i++;
  }
  return out;
}
const repeat = (n: number, v: boolean) => Array.from({ length: n }, () => v);

describe('SlowRegions: when the pool backs off to serial regions', () => {
  it('a busy host (every region slow): the first back-off after one window, then each failed probe doubles the serial stretch up to the cap', () => {
    const p = new SlowRegions();
    const got = feed(p, repeat(64 + 8 * 8, true));
    expect(got[0]).toEqual([63, 200]);
    // probes of 8 regions after each back-off, all slow
    expect(got.slice(1).map(([, n]) => n)).toEqual([400, 800, 1600, 3200, 6400, 6400, 6400, 6400]);
    expect(got.slice(1).map(([i]) => i)).toEqual([71, 79, 87, 95, 103, 111, 119, 127]);
  });

  it('a host that is free again: a passing probe returns to the full window and the first stretch', () => {
    const p = new SlowRegions();
    expect(feed(p, repeat(64, true))).toEqual([[63, 200]]);
    // the probe: 3 of 8 slow (< half) passes
    expect(feed(p, [true, false, true, false, true, false, false, false])).toEqual([]);
    // busy again: a back-off needs a whole window again (the probe's 8 regions, 3 slow, and 56
    // more), and starts at 200 asks
    expect(feed(p, repeat(56, true))).toEqual([[55, 200]]);
  });

  it('bursts of slow regions on a free machine (a VM whose other core stalls now and then) never back off', () => {
    const p = new SlowRegions();
    // 12 slow in a row every 100 regions, 20,000 regions: the old score rule (8 net slow) backed
    // off at every burst
    const bursts = Array.from({ length: 20_000 }, (_, i) => i % 100 < 12);
    expect(feed(p, bursts)).toEqual([]);
    // 20% slow at random (seeded LCG; 32 of 64 is then 6 standard deviations out)
    let s = 12345;
    const random = Array.from({ length: 20_000 }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296 < 0.2;
    });
    expect(feed(new SlowRegions(), random)).toEqual([]);
  });

  it('exactly half of a window slow backs off; one fewer does not', () => {
    const half = new SlowRegions();
    expect(feed(half, [...repeat(32, true), ...repeat(32, false)])).toEqual([[63, 200]]);
    const under = new SlowRegions();
    expect(feed(under, [...repeat(31, true), ...repeat(33, false)])).toEqual([]);
  });
});
