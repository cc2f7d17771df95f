// A drawn digit to a 28×28 MNIST-style input, as LeCun et al. prepared MNIST: the bounding box of the
// ink is scaled (aspect ratio kept, anti-aliased by area averaging) so that its longer side is 20
// pixels, then placed in a 28×28 field so that its center of mass sits at the field's center.
// Plain ES module without imports or DOM: the playground calls it and Node unit-tests it.

/**
 * @param {ArrayLike<number>} ink row-major intensities, 0 = background, 1 = full ink
 * @param {number} width
 * @param {number} height
 * @param {{ box?: number, size?: number, threshold?: number }} [options] box: longer side after
 *   scaling (20), size: the field (28), threshold: ink above it counts for the bounding box (0)
 * @returns {Float32Array | null} size × size values in [0, 1], row-major; null when there is no ink
 */
export function toMnist(ink, width, height, options = {}) {
  const { box = 20, size = 28, threshold = 0 } = options;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new Error(`toMnist: width and height must be positive integers, got ${width} × ${height}`);
  if (ink.length !== width * height) throw new Error(`toMnist: ${ink.length} values for a ${width} × ${height} image (expected ${width * height})`);
  // 1. bounding box of the ink
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (ink[r * width + c] > threshold) {
        if (r < top) top = r;
        if (r > bottom) bottom = r;
        if (c < left) left = c;
        if (c > right) right = c;
      }
    }
  }
  if (bottom < 0) return null;
  const h = bottom - top + 1;
  const w = right - left + 1;
  // 2. scale the longer side to `box` (each side rounded to whole pixels, at least 1)
  const scale = box / Math.max(h, w);
  const oh = Math.max(1, Math.round(h * scale));
  const ow = Math.max(1, Math.round(w * scale));
  const small = areaResample(ink, width, top, left, h, w, oh, ow);
  // 3. center of mass (pixel centers at i + 0.5) moved to the center of the field, whole-pixel shift
  let mass = 0;
  let my = 0;
  let mx = 0;
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      const v = small[r * ow + c];
      mass += v;
      my += v * (r + 0.5);
      mx += v * (c + 0.5);
    }
  }
  const dy = Math.round(size / 2 - my / mass);
  const dx = Math.round(size / 2 - mx / mass);
  const out = new Float32Array(size * size);
  for (let r = 0; r < oh; r++) {
    const y = r + dy;
    if (y < 0 || y >= size) continue;
    for (let c = 0; c < ow; c++) {
      const x = c + dx;
      if (x < 0 || x >= size) continue;
      out[y * size + x] = Math.min(1, Math.max(0, small[r * ow + c]));
    }
  }
  return out;
}

/** Overlap of [a0, a1) and [b0, b1). */
const overlap = (a0, a1, b0, b1) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

/**
 * Area-averaging resample of the h × w window at (top, left) of a row-major image to oh × ow: each
 * output pixel is the mean of the source over the rectangle it covers (exact fractional overlaps).
 */
function areaResample(src, width, top, left, h, w, oh, ow) {
  const sy = h / oh;
  const sx = w / ow;
  const out = new Float64Array(oh * ow);
  for (let r = 0; r < oh; r++) {
    const y0 = r * sy;
    const y1 = y0 + sy;
    for (let c = 0; c < ow; c++) {
      const x0 = c * sx;
      const x1 = x0 + sx;
      let s = 0;
      for (let yy = Math.floor(y0); yy < Math.min(h, Math.ceil(y1)); yy++) {
        const fy = overlap(yy, yy + 1, y0, y1);
        for (let xx = Math.floor(x0); xx < Math.min(w, Math.ceil(x1)); xx++) {
          s += fy * overlap(xx, xx + 1, x0, x1) * src[(top + yy) * width + left + xx];
        }
      }
      out[r * ow + c] = s / (sy * sx);
    }
  }
  return out;
}

/**
 * The first convolution's filters as tiles: for a kernel of shape [kh, kw, c, f] (Keras layout),
 * filter `j` of input channel `ch` is the kh × kw grid `kernel[(i·kw + k)·c·f + ch·f + j]`.
 * Colors are diverging per filter: 0 white, +max|w| red (178, 24, 43), -max|w| blue (33, 102, 172).
 * @param {{ shape: number[], data: ArrayLike<number> }} kernel
 * @param {number} [ch] input channel (0)
 * @returns {{ kh: number, kw: number, rgba: Uint8ClampedArray }[]} one RGBA kh × kw image per filter
 */
export function filterTiles(kernel, ch = 0) {
  const [kh, kw, c, f] = kernel.shape;
  if (kernel.shape.length !== 4 || kernel.data.length !== kh * kw * c * f) throw new Error(`filterTiles: expected a [kh, kw, c, f] kernel, got shape [${kernel.shape}]`);
  const tiles = [];
  for (let j = 0; j < f; j++) {
    const at = (i, k) => kernel.data[(i * kw + k) * c * f + ch * f + j];
    let max = 0;
    for (let i = 0; i < kh; i++) for (let k = 0; k < kw; k++) max = Math.max(max, Math.abs(at(i, k)));
    const rgba = new Uint8ClampedArray(kh * kw * 4);
    for (let i = 0; i < kh; i++) {
      for (let k = 0; k < kw; k++) {
        const t = max > 0 ? at(i, k) / max : 0; // in [-1, 1]
        const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
        const a = Math.abs(t);
        rgba.set([255 - a * (255 - r), 255 - a * (255 - g), 255 - a * (255 - b), 255], (i * kw + k) * 4);
      }
    }
    tiles.push({ kh, kw, rgba });
  }
  return tiles;
}
