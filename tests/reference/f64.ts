// Float64 references written from the definitions, independent of the kernels.

/** C = op(A)·op(B) in f64; A is m×k given as element accessor. */
export function matmul64(m: number, n: number, k: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a(i, p) * b(p, j);
      c[i * n + j] = s;
    }
  return c;
}

export interface RefLayer {
  w: Float64Array; // [nIn, nOut]
  b: Float64Array | null;
  nIn: number;
  nOut: number;
  relu: boolean;
  /** Other activations (overrides relu when set). */
  act?: 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh';
  alpha?: number;
}

/** Activation definitions (PyTorch): leakyRelu x>0 ? x : αx; elu x>0 ? x : α(eˣ−1); σ; tanh. */
export function act64(l: RefLayer, s: number): number {
  switch (l.act) {
    case 'leakyRelu':
      return s > 0 ? s : (l.alpha ?? 0.01) * s;
    case 'elu':
      return s > 0 ? s : (l.alpha ?? 1) * (Math.exp(s) - 1);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-s));
    case 'tanh':
      return Math.tanh(s);
    default:
      return l.relu ? Math.max(0, s) : s;
  }
}

/** Forward of a dense stack in f64; returns logits [n, k]. */
export function forward64(layers: RefLayer[], x: Float64Array, n: number): Float64Array {
  let h = x;
  for (const l of layers) {
    const y = new Float64Array(n * l.nOut);
    for (let r = 0; r < n; r++)
      for (let o = 0; o < l.nOut; o++) {
        let s = l.b ? l.b[o]! : 0;
        for (let i = 0; i < l.nIn; i++) s += h[r * l.nIn + i]! * l.w[i * l.nOut + o]!;
        y[r * l.nOut + o] = act64(l, s);
      }
    h = y;
  }
  return h;
}

/** Mean softmax cross-entropy over rows, f64: mean_r( log Σ_j exp(z_rj) − z_r,y_r ). */
export function softmaxCe64(z: Float64Array, y: ArrayLike<number>, n: number, k: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, z[r * k + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(z[r * k + j]! - m);
    total += Math.log(s) + m - z[r * k + y[r]!]!;
  }
  return total / n;
}

/** Deterministic pseudo-random floats in [-1, 1) for test data (LCG, not the library's RNG). */
export function testData(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
