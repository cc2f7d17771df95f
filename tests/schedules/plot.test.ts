/** The dependency-free SVG chart (ts/plot): structure, escaping, line breaks, validation. */
import { describe, expect, it } from 'vitest';
import { plotSchedules, plotSeries } from '../../ts/plot/index.js';
import { cosineAnnealingLR, stepLR } from '../../ts/schedules/index.js';
import { expectOptionError } from './helpers.js';

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe('plotSeries', () => {
  it('draws axes, ticks, a legend and one polyline per series, with escaped text', () => {
    const svg = plotSeries(
      [
        { name: 'loss <train> & "val"', values: [1, 0.6, 0.4, 0.3] },
        { name: 'acc', values: [0.2, 0.5, 0.7, 0.8] },
      ],
      { width: 500, height: 300, title: 'History <1>', xLabel: 'epoch' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="500" height="300"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(count(svg, /<polyline /g)).toBe(2);
    expect(svg).toContain('loss &lt;train&gt; &amp; &quot;val&quot;');
    expect(svg).toContain('History &lt;1&gt;');
    expect(svg).not.toContain('<train>');
    expect(count(svg, /<text /g)).toBeGreaterThan(8);
    expect(svg).toContain('>epoch</text>');
    // well-formed enough for an XML parser: balanced g elements
    expect(count(svg, /<g[ >]/g)).toBe(count(svg, /<\/g>/g));
    // deterministic
    expect(plotSeries([{ name: 'a', values: [1, 2] }])).toBe(plotSeries([{ name: 'a', values: [1, 2] }]));
  });
  it('breaks lines at non-finite values and at values <= 0 on a log axis', () => {
    const svg = plotSeries([{ name: 'x', values: [1, 2, NaN, 3, 4, Infinity, 5] }]);
    expect(count(svg, /<polyline /g)).toBe(2);
    expect(count(svg, /<circle /g)).toBe(1);
    const log = plotSeries([{ name: 'lr', values: [0.1, 0.01, 0, 0.001, 1e-4] }], { logY: true });
    expect(count(log, /<polyline /g)).toBe(2);
    expect(log).toContain('>1e-4</text>');
  });
  it('accepts explicit x and refuses bad input', () => {
    expect(plotSeries([{ name: 'x', values: [1, 2, 3], x: [0, 10, 20] }])).toContain('<polyline ');
    expectOptionError(() => plotSeries([]), 'series', 'non-empty array');
    expectOptionError(() => plotSeries([{ name: 'x', values: [1, 2], x: [1] }]), 'series[0].x', 'length of values');
    expectOptionError(() => plotSeries([{ values: [1] } as never]), 'series[0]', 'name: string');
    expectOptionError(() => plotSeries([{ name: 'x', values: [1] }], { width: NaN }), 'width', 'pixels');
  });
});

describe('plotSchedules', () => {
  it('samples schedules, labels them by name and unit', () => {
    const svg = plotSchedules([cosineAnnealingLR({ lr: 0.1, tMax: 20 }), stepLR({ lr: 0.1, stepSize: 10 }), { name: 'manual', values: [0.05, 0.05] }], { n: 40 });
    expect(count(svg, /<polyline /g)).toBe(3);
    expect(svg).toContain('>cosineAnnealingLR</text>');
    expect(svg).toContain('>stepLR</text>');
    expect(svg).toContain('>epoch</text>');
    expect(svg).toContain('>learning rate</text>');
    const points = /<polyline points="([^"]+)"/.exec(svg)?.[1]?.split(' ') ?? [];
    expect(points.length).toBe(40);
    expectOptionError(() => plotSchedules([stepLR({ lr: 0.1, stepSize: 1 })], { n: 0 }), 'n', 'integer >= 1');
  });
});
