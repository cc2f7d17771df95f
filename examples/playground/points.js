// Seeded 2-D toy data sets in [-1, 1]² for the playground (two moons, circles, spiral, xor).

/**
 * @param {'moons' | 'circles' | 'spiral' | 'xor'} kind
 * @param {{ next(): number, normal(): number }} rng wasmfit Rng
 * @param {number} [n] points per class
 * @returns {{ x: number, y: number, c: number }[]}
 */
export function makePreset(kind, rng, n = 100) {
  const pts = [];
  const noise = (s) => rng.normal() * s;
  const clamp = (v) => Math.max(-1, Math.min(1, v));
  const add = (x, y, c) => pts.push({ x: clamp(x), y: clamp(y), c });
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    if (kind === 'moons') {
      const a = Math.PI * u;
      add(0.6 * Math.cos(a) - 0.3 + noise(0.06), 0.6 * Math.sin(a) - 0.15 + noise(0.06), 0);
      add(0.6 - 0.6 * Math.cos(a) - 0.3 + noise(0.06), -0.6 * Math.sin(a) + 0.15 + noise(0.06), 1);
    } else if (kind === 'circles') {
      const a = 2 * Math.PI * u;
      add(0.35 * Math.cos(a) + noise(0.05), 0.35 * Math.sin(a) + noise(0.05), 0);
      add(0.8 * Math.cos(a) + noise(0.05), 0.8 * Math.sin(a) + noise(0.05), 1);
    } else if (kind === 'spiral') {
      for (let c = 0; c < 3; c++) {
        const r = 0.05 + 0.9 * (i / n);
        const a = (c * 2 * Math.PI) / 3 + 1.75 * 2 * Math.PI * (i / n) * 0.5 + noise(0.12);
        add(r * Math.cos(a), r * Math.sin(a), c);
      }
    } else {
      const x = rng.next() * 2 - 1;
      const y = rng.next() * 2 - 1;
      add(x, y, x * y > 0 ? 0 : 1);
    }
  }
  return pts;
}
