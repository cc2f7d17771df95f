// Decodes /data/digits.bin (written by scripts/playground.mjs encodeDigits) and splits it with a
// seeded permutation. Plain ES module without imports: the playground, the browser tests and Node
// use the same code, so they see the same floats.

/**
 * @param {ArrayBuffer} buf the bytes of digits.bin
 * @returns {{ x: Float32Array, y: Int32Array, rows: number, cols: number }} pixels in [0, 1] (byte / 255)
 */
export function decodeDigits(buf) {
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  const magic = String.fromCharCode(u8[0], u8[1], u8[2], u8[3]);
  if (magic !== 'WFDG' || dv.getUint32(4, true) !== 1) throw new Error('digits.bin: not a wasmfit digits file (expected magic WFDG, version 1)');
  const rows = dv.getUint32(8, true);
  const cols = dv.getUint32(12, true);
  if (u8.length !== 16 + rows + rows * cols) throw new Error(`digits.bin: ${u8.length} bytes; expected ${16 + rows + rows * cols}`);
  const y = Int32Array.from(u8.subarray(16, 16 + rows));
  const px = u8.subarray(16 + rows);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = px[i] / 255;
  return { x, y, rows, cols };
}

/**
 * Seeded train / held-out split (the permutation comes from `new Rng(seed).shuffle`).
 * @param {{ x: Float32Array, y: Int32Array, rows: number, cols: number }} all
 * @param {{ seed: number, trainSize: number, testSize: number }} opts
 * @param {new (seed: number) => { shuffle(a: Int32Array): void }} Rng wasmfit's Rng class
 */
export function splitDigits(all, opts, Rng) {
  const { seed, trainSize, testSize } = opts;
  if (trainSize + testSize > all.rows) throw new Error(`splitDigits: ${trainSize} + ${testSize} rows requested; the file has ${all.rows}`);
  const perm = new Int32Array(all.rows);
  for (let i = 0; i < all.rows; i++) perm[i] = i;
  new Rng(seed).shuffle(perm);
  const take = (from, n) => {
    const x = new Float32Array(n * all.cols);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = perm[from + i];
      x.set(all.x.subarray(r * all.cols, (r + 1) * all.cols), i * all.cols);
      y[i] = all.y[r];
    }
    return { x, y, rows: n };
  };
  return { train: take(0, trainSize), test: take(trainSize, testSize) };
}
