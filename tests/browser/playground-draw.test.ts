// The playground's drawing preprocessing (examples/playground/draw.js) in Node, against cases worked
// out by hand: MNIST's recipe (ink bounding box scaled to 20 pixels on its longer side by area
// averaging, center of mass moved to the center of the 28×28 field by a whole-pixel shift).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

interface DrawModule {
  toMnist(ink: ArrayLike<number>, width: number, height: number, o?: { box?: number; size?: number; threshold?: number }): Float32Array | null;
  filterTiles(kernel: { shape: number[]; data: ArrayLike<number> }, ch?: number): { kh: number; kw: number; rgba: Uint8ClampedArray }[];
}
let draw: DrawModule;
beforeAll(async () => {
  draw = (await import(pathToFileURL(join(process.cwd(), 'examples/playground/draw.js')).href)) as DrawModule;
});

/** A width × height image with `fill(r, c)` as values. */
function image(width: number, height: number, fill: (r: number, c: number) => number): Float64Array {
  const a = new Float64Array(width * height);
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) a[r * width + c] = fill(r, c);
  return a;
}

/** Checks every pixel of a 28×28 output against `want(r, c)`. */
function expectField(out: Float32Array | null, want: (r: number, c: number) => number): void {
  expect(out).not.toBeNull();
  expect(out!.length).toBe(784);
  const bad: string[] = [];
  for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) if (Math.abs(out![r * 28 + c]! - want(r, c)) > 1e-6) bad.push(`(${r},${c}) = ${out![r * 28 + c]} want ${want(r, c)}`);
  expect(bad.slice(0, 5)).toEqual([]);
}

describe('toMnist (draw a digit → 28×28)', () => {
  it('a 4×2 block: scaled ×5 to 20×10, its center of mass (10, 5) moved to (14, 14)', () => {
    // ink at rows 2..5, columns 3..4 of a 10×10 image
    const src = image(10, 10, (r, c) => (r >= 2 && r <= 5 && c >= 3 && c <= 4 ? 1 : 0));
    // 20 × 10 of ones; shift = 14 - 10 = 4 rows, 14 - 5 = 9 columns
    expectField(draw.toMnist(src, 10, 10), (r, c) => (r >= 4 && r <= 23 && c >= 9 && c <= 18 ? 1 : 0));
  });

  it('a 40×20 box halved: 2×2 averages, the center of mass pulled toward the heavier half', () => {
    // a 50 × 30 image; ink box at rows 5..24, columns 7..46: left 20 columns 1, right 20 columns 0.5
    const src = image(50, 30, (r, c) => (r < 5 || r > 24 || c < 7 || c > 46 ? 0 : c < 27 ? 1 : 0.5));
    // → 10 rows × 20 columns: columns 0..9 are 1, 10..19 are 0.5
    // center of mass: row 5; column (Σ_{0..9} (c+.5) + .5·Σ_{10..19} (c+.5)) / (10 + 5) = (50 + 75) / 15 = 8.33
    // shift: round(14 - 5) = 9 rows, round(14 - 8.33) = 6 columns
    expectField(draw.toMnist(src, 50, 30), (r, c) => (r < 9 || r > 18 || c < 6 || c > 25 ? 0 : c <= 15 ? 1 : 0.5));
  });

  it('a 1×3 row [1, 0.5, 0.25]: fractional area overlaps (scale 20/3) and a half-pixel tie', () => {
    const src = Float64Array.of(0, 0, 0, 0, 0, 1, 0.5, 0.25, 0, 0, 0, 0, 0, 0, 0); // 5 × 3, ink in the middle row
    // 20 columns of width 0.15 source pixels; 7 rows (round(20/3)) of the same values:
    //   0..5 → 1; 6 covers [0.9, 1.05): (0.1·1 + 0.05·0.5) / 0.15 = 5/6; 7..12 → 0.5;
    //   13 covers [1.95, 2.1): (0.05·0.5 + 0.1·0.25) / 0.15 = 1/3; 14..19 → 0.25
    const cols = [1, 1, 1, 1, 1, 1, 5 / 6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1 / 3, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25];
    // mass 35/3 per row; column moment 18 + 6.5·5/6 + 30 + 13.5/3 + 25.5 = 83.42 → center 7.15, shift round(6.85) = 7
    // rows: center 3.5, shift 14 - 3.5 = 10.5 → 11 (Math.round)
    expectField(draw.toMnist(src, 5, 3), (r, c) => (r >= 11 && r <= 17 && c >= 7 && c <= 26 ? cols[c - 7]! : 0));
  });

  it('no ink gives null; faint ink at or below the threshold does not count; wrong sizes throw', () => {
    expect(draw.toMnist(new Float64Array(100), 10, 10)).toBeNull();
    const faint = image(10, 10, (r, c) => (r === 0 && c === 0 ? 0.05 : r >= 2 && r <= 5 && c >= 3 && c <= 4 ? 1 : 0));
    expectField(draw.toMnist(faint, 10, 10, { threshold: 0.1 }), (r, c) => (r >= 4 && r <= 23 && c >= 9 && c <= 18 ? 1 : 0));
    expect(() => draw.toMnist(new Float64Array(99), 10, 10)).toThrow(/99 values for a 10 × 10 image/);
    expect(() => draw.toMnist(new Float64Array(0), 0, 0)).toThrow(/positive integers/);
  });
});

describe('filterTiles (first convolution → colored tiles)', () => {
  it('reads [kh, kw, c, f] (Keras layout) and colors each filter by its own largest |w|', () => {
    // kh = kw = 2, c = 1, f = 2: data[(i·2 + k)·2 + j]; filter 0 = [[2, -1], [0, 0.5]], filter 1 = 0
    const tiles = draw.filterTiles({ shape: [2, 2, 1, 2], data: [2, 0, -1, 0, 0, 0, 0.5, 0] });
    expect(tiles).toHaveLength(2);
    const px = (t: number, p: number) => Array.from(tiles[t]!.rgba.subarray(p * 4, p * 4 + 4));
    const near = (got: number[], want: number[]) => got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(0.5));
    near(px(0, 0), [178, 24, 43, 255]); // +max: full red
    near(px(0, 1), [144, 178.5, 213.5, 255]); // -max/2: half-way from white to blue (33, 102, 172)
    near(px(0, 2), [255, 255, 255, 255]); // 0: white
    near(px(0, 3), [235.75, 197.25, 202, 255]); // +max/4: a quarter of the way to red
    for (let p = 0; p < 4; p++) near(px(1, p), [255, 255, 255, 255]); // an all-zero filter stays white
    expect(() => draw.filterTiles({ shape: [5, 5], data: new Float32Array(25) })).toThrow(/\[kh, kw, c, f\]/);
  });
});
