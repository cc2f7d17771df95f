// The libraries the harness compares, each behind one small adapter:
//
//   peer.load()          → { label, version } or throws an Error whose message says why it cannot run
//   peer.create(spec)    → a trainer for spec = { dims, loss: 'ce' | 'mse', lr, batch, weights }
//   trainer.prepare(x, y, rows) → the data in the library's own form (done once, outside timing)
//   trainer.epoch(data, seed)   → one shuffled pass of mini-batch Adam steps (async)
//   trainer.epochs?(data, n, seed) → n passes in one call of the library's own fit (when it has one)
//   trainer.accuracy(data)      → held-out accuracy (classification)
//   trainer.dispose()
//
// Every trainer starts from the same initial weights (`spec.weights`: [W0 [in,out], b0, W1, b1, …]
// from a seeded Glorot-uniform draw) and uses the same recipe: ReLU hidden layers, a linear last
// layer with softmax cross-entropy (or MSE), Adam(β1 0.9, β2 0.999, ε 1e-8 — each library's
// default epsilon where its API fixes it) and the same batch size. Where a library's API cannot
// express part of the recipe, its `note` says what it does instead.
//
// A CNN spec (W5) carries `cnn = { input: [h, w, c], convs: [{ filters, kernel }…], hidden: […],
// classes }`: each conv is 'valid', stride 1, ReLU, then a 2×2 max-pool; then flatten (channels-last
// order), ReLU dense layers and a linear one; weights (`cnnWeights`) in Keras layouts, kernels
// [kh, kw, in, out] — a peer whose layout differs converts them. A peer without convolutions
// throws from `create` with the reason.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tfjsWasmThreadsPeer } from './tfjs-threads-node.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = join(here, '..');
const root = join(benchDir, '..');
const require = createRequire(join(benchDir, 'package.json'));

/** A dependency's package.json, read from node_modules (some packages do not export it). */
export function pkgJson(name) {
  return JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8'));
}

/** Seeded Fisher–Yates permutation of 0…n−1 (xorshift32). */
export function permutation(n, seed) {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Seeded Glorot-uniform kernels and zero biases for the layer sizes `dims`. */
export function glorotWeights(dims, seed) {
  let s = (seed + 12345) >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const out = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const [nin, nout] = [dims[l], dims[l + 1]];
    const lim = Math.sqrt(6 / (nin + nout));
    const w = new Float32Array(nin * nout);
    for (let i = 0; i < w.length; i++) w[i] = (2 * u() - 1) * lim;
    out.push(w, new Float32Array(nout));
  }
  return out;
}

/** The weight shapes of a CNN spec (see the header), in order: kernel, bias per layer. */
export function cnnShapes(cnn) {
  let [h, w, c] = cnn.input;
  const shapes = [];
  for (const { filters, kernel } of cnn.convs) {
    shapes.push([kernel, kernel, c, filters], [filters]);
    h = Math.floor((h - kernel + 1) / 2);
    w = Math.floor((w - kernel + 1) / 2);
    c = filters;
  }
  let n = h * w * c;
  for (const u of [...cnn.hidden, cnn.classes]) {
    shapes.push([n, u], [u]);
    n = u;
  }
  return shapes;
}

/** Seeded Glorot-uniform kernels (Keras fans for convolutions: receptive field × channels) and zero biases. */
export function cnnWeights(cnn, seed) {
  let s = (seed + 12345) >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return cnnShapes(cnn).map((shape) => {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    if (shape.length === 1) return a;
    const rf = shape.length === 4 ? shape[0] * shape[1] : 1;
    const lim = Math.sqrt(6 / (rf * shape[shape.length - 2] + rf * shape[shape.length - 1]));
    for (let i = 0; i < a.length; i++) a[i] = (2 * u() - 1) * lim;
    return a;
  });
}

function argmaxRows(data, rows, k) {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (data[r * k + j] > data[r * k + best]) best = j;
    out[r] = best;
  }
  return out;
}

function oneHot(y, rows, k) {
  const t = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) t[r * k + y[r]] = 1;
  return t;
}

function gatherRows(src, d, idx, start, count, out) {
  for (let i = 0; i < count; i++) out.set(src.subarray(idx[start + i] * d, idx[start + i] * d + d), i * d);
  return out;
}

function quietly(fn) {
  const [w, l, i] = [console.warn, console.log, console.info];
  console.warn = console.log = console.info = () => {};
  try {
    return fn();
  } finally {
    [console.warn, console.log, console.info] = [w, l, i];
  }
}
async function quietlyAsync(fn) {
  const [w, l, i] = [console.warn, console.log, console.info];
  console.warn = console.log = console.info = () => {};
  try {
    return await fn();
  } finally {
    [console.warn, console.log, console.info] = [w, l, i];
  }
}

// ------------------------------------------------------------------------------------- wasmfit
let wf = null;
/** The library (one-thread runtime current) and, per thread count, a runtime. */
export async function loadWasmfit(threads = 1) {
  if (!wf) {
    const lib = await import(pathToFileURL(join(root, 'dist', 'wasmfit.mjs')).href);
    const node = await import(pathToFileURL(join(root, 'dist', 'node.mjs')).href);
    wf = { lib, node, runtimes: new Map() };
  }
  if (!wf.runtimes.has(threads)) wf.runtimes.set(threads, await wf.lib.init({ threads }));
  // the one-thread runtime stays the current one (the default init() would take every core)
  await wf.lib.init({ threads: 1 });
  return { ...wf, rt: wf.runtimes.get(threads) };
}

/** wasmfit on `threads` threads (1: the row every ratio is against). */
const wasmfitOn = (threads) => ({
  id: threads === 1 ? 'wasmfit' : `wasmfit-${threads}t`,
  async load() {
    const { rt } = await loadWasmfit(threads);
    const { version } = require(join(root, 'package.json'));
    return { version, label: `wasmfit ${version} (${rt.build} build, ${rt.threads} thread${rt.threads > 1 ? 's' : ''})` };
  },
  async create(spec) {
    const { lib, rt: runtime } = await loadWasmfit(threads);
    const { dims, cnn } = spec;
    const layers = [];
    if (cnn) {
      for (const c of cnn.convs) layers.push(lib.conv2d(c.filters, { kernelSize: c.kernel, activation: 'relu' }), lib.maxPool2d());
      layers.push(lib.flatten(), ...cnn.hidden.map((u) => lib.dense(u, { activation: 'relu' })), lib.dense(cnn.classes));
    } else {
      for (let l = 1; l < dims.length; l++) layers.push(lib.dense(dims[l], { activation: l + 1 < dims.length ? 'relu' : 'linear' }));
    }
    const model = new lib.Sequential({ inputShape: cnn ? cnn.input : [dims[0]], layers, seed: 1, runtime });
    model.setWeights(spec.weights.map((data) => ({ data })));
    model.compile({ optimizer: lib.adam({ lr: spec.lr }), loss: spec.loss === 'ce' ? 'softmaxCrossEntropy' : 'mse' });
    const k = dims[dims.length - 1];
    return {
      model,
      prepare: (x, y, rows) => ({ x, y: spec.loss === 'ce' ? y : { data: y, shape: [rows, k] }, rows }),
      epoch: (d, seed) => model.fit(d.x, d.y, { epochs: 1, batchSize: spec.batch, seed }),
      epochs: (d, n, seed) => model.fit(d.x, d.y, { epochs: n, batchSize: spec.batch, seed }),
      accuracy: (d) => model.evaluate(d.x, d.y).accuracy,
      dispose: () => model.dispose(),
    };
  },
});

export const wasmfitPeer = wasmfitOn(1);
const cores = (await import('node:os')).cpus().length;
/** wasmfit on every core (where threads work; same weights as one thread). */
export const wasmfitThreadsPeer = cores > 1 ? wasmfitOn(Math.min(8, cores)) : null;

// ------------------------------------------------------------------------------------- tfjs
let tfState = null;
async function loadTfjs() {
  if (tfState) return tfState;
  tfState = await quietlyAsync(async () => {
    const tf = require('@tensorflow/tfjs-core');
    const layers = require('@tensorflow/tfjs-layers');
    require('@tensorflow/tfjs-backend-cpu');
    let wasm = null;
    let wasmError = null;
    try {
      wasm = require('@tensorflow/tfjs-backend-wasm');
      const distDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
      // Emscripten reads the .wasm with fs in Node: point it at node_modules.
      wasm.setWasmPaths(distDir + '/');
      // One thread, as every other row: refuse the pthread build, ask XNNPACK for one thread.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setThreadsCount(1);
    } catch (e) {
      wasmError = e;
    }
    return { tf, layers, wasm, wasmError };
  });
  return tfState;
}

async function useBackend(tf, name) {
  if (tf.getBackend() !== name) {
    const ok = await quietlyAsync(() => tf.setBackend(name));
    if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  }
}

function tfjsPeer(backend) {
  return {
    id: backend === 'wasm' ? 'tfjs-wasm' : 'tfjs-cpu',
    async load() {
      const { tf, wasm, wasmError } = await loadTfjs();
      if (backend === 'wasm' && !wasm) throw new Error(`@tensorflow/tfjs-backend-wasm did not load: ${wasmError?.message}`);
      await useBackend(tf, backend);
      await tf.ready();
      const v = require('@tensorflow/tfjs-layers/package.json').version;
      if (backend === 'wasm') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        return { version: v, label: `@tensorflow/tfjs-layers ${v} on tfjs-backend-wasm ${wasm.version_wasm} (${simd ? 'SIMD' : 'no SIMD'}, threads=${wasm.getThreadsCount()})` };
      }
      return { version: v, label: `@tensorflow/tfjs-layers ${v} on tfjs-backend-cpu ${require('@tensorflow/tfjs-backend-cpu/package.json').version} (plain JS)` };
    },
    async create(spec) {
      const { tf, layers } = await loadTfjs();
      await useBackend(tf, backend);
      const { dims, cnn } = spec;
      if (cnn) {
        const missing = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'].filter((k) => !tf.getKernel(k, backend));
        if (missing.length) throw new Error(`tfjs-backend-${backend} ${require(`@tensorflow/tfjs-backend-${backend}/package.json`).version} has no ${missing.join(', ')} kernel${missing.length > 1 ? 's' : ''}: it cannot train a CNN (tfjs falls back to no other backend)`);
      }
      const model = layers.sequential();
      const L = layers.layers;
      if (cnn) {
        cnn.convs.forEach((c, i) => {
          model.add(L.conv2d({ filters: c.filters, kernelSize: c.kernel, activation: 'relu', ...(i === 0 ? { inputShape: cnn.input } : {}) }));
          model.add(L.maxPooling2d({ poolSize: 2 }));
        });
        model.add(L.flatten());
        for (const u of cnn.hidden) model.add(L.dense({ units: u, activation: 'relu' }));
        model.add(L.dense({ units: cnn.classes, activation: 'softmax' }));
        const shapes = cnnShapes(cnn);
        model.setWeights(spec.weights.map((w, i) => tf.tensor(w, shapes[i])));
      } else {
        for (let l = 1; l < dims.length; l++) {
          const last = l + 1 === dims.length;
          model.add(L.dense({ units: dims[l], activation: last ? (spec.loss === 'ce' ? 'softmax' : 'linear') : 'relu', inputShape: l === 1 ? [dims[0]] : undefined }));
        }
        model.setWeights(spec.weights.map((w, i) => (i % 2 === 0 ? tf.tensor2d(w, [dims[i / 2], dims[i / 2 + 1]]) : tf.tensor1d(w))));
      }
      model.compile({ optimizer: tf.train.adam(spec.lr, 0.9, 0.999, 1e-8), loss: spec.loss === 'ce' ? 'categoricalCrossentropy' : 'meanSquaredError' });
      const k = dims[dims.length - 1];
      return {
        prepare(x, y, rows) {
          return tf.tidy(() => ({
            x: cnn ? tf.tensor4d(x.subarray(0, rows * dims[0]), [rows, ...cnn.input]) : tf.tensor2d(x, [rows, dims[0]]),
            y: spec.loss === 'ce' ? tf.tensor2d(oneHot(y, rows, k), [rows, k]) : tf.tensor2d(y, [rows, k]),
            ids: y,
            rows,
          }));
        },
        async epoch(d) {
          await useBackend(tf, backend);
          await model.fit(d.x, d.y, { epochs: 1, batchSize: spec.batch, shuffle: true, verbose: 0 });
        },
        async epochs(d, n) {
          await useBackend(tf, backend);
          await model.fit(d.x, d.y, { epochs: n, batchSize: spec.batch, shuffle: true, verbose: 0 });
        },
        accuracy(d) {
          const out = model.predict(d.x);
          const p = out.dataSync();
          out.dispose();
          const pred = argmaxRows(p, d.rows, k);
          let c = 0;
          for (let r = 0; r < d.rows; r++) c += pred[r] === d.ids[r] ? 1 : 0;
          return c / d.rows;
        },
        dispose() {
          model.dispose();
        },
        disposeData(d) {
          d.x.dispose();
          d.y.dispose();
        },
        note: spec.loss === 'ce' ? 'softmax layer + categoricalCrossentropy (the tfjs-layers way)' : undefined,
      };
    },
  };
}
export const tfjsWasmPeer = tfjsPeer('wasm');
export const tfjsCpuPeer = tfjsPeer('cpu');

// ------------------------------------------------------------------------------------- brain.js
export const brainPeer = {
  id: 'brain.js',
  async load() {
    const brain = require('brain.js');
    if (typeof brain.NeuralNetwork !== 'function') throw new Error('brain.js has no NeuralNetwork export');
    const v = require('brain.js/package.json').version;
    return { version: v, label: `brain.js ${v} (NeuralNetwork, plain JS)` };
  },
  async create(spec) {
    if (spec.cnn) throw new Error('brain.js has no convolution layers');
    const brain = require('brain.js');
    const { dims } = spec;
    const net = new brain.NeuralNetwork({ hiddenLayers: dims.slice(1, -1), activation: 'relu', praxis: 'adam', learningRate: spec.lr });
    net.sizes = dims.slice();
    net.initialize();
    // brain.js stores weights[layer][node][input]; ours are [input, node] row-major.
    for (let l = 1; l < dims.length; l++) {
      const W = spec.weights[2 * (l - 1)];
      const b = spec.weights[2 * (l - 1) + 1];
      for (let n = 0; n < dims[l]; n++) {
        for (let i = 0; i < dims[l - 1]; i++) net.weights[l][n][i] = W[i * dims[l] + n];
        net.biases[l][n] = b[n];
      }
    }
    const k = dims[dims.length - 1];
    const opts = { iterations: 1, errorThresh: 1e-12, praxis: 'adam', learningRate: spec.lr, log: false };
    return {
      prepare(x, y, rows) {
        const d = dims[0];
        const items = [];
        for (let r = 0; r < rows; r++) {
          const input = Array.from(x.subarray(r * d, r * d + d));
          const output = spec.loss === 'ce' ? Array.from(oneHot(y.subarray(r, r + 1), 1, k)) : [y[r]];
          items.push({ input, output });
        }
        return { items, ids: y, rows };
      },
      async epoch(d, seed) {
        const p = permutation(d.rows, seed);
        net.train(Array.from(p, (i) => d.items[i]), opts);
      },
      accuracy(d) {
        let c = 0;
        for (let r = 0; r < d.rows; r++) {
          const o = net.run(d.items[r].input);
          let best = 0;
          for (let j = 1; j < k; j++) if (o[j] > o[best]) best = j;
          c += best === d.ids[r] ? 1 : 0;
        }
        return c / d.rows;
      },
      dispose() {},
      perSample: true, // no mini-batches: throughput may be timed on fewer rows than a batch
      note: `one Adam step per sample (no mini-batches), ReLU on every layer including the output, MSE loss (no softmax/linear output in brain.js ${require('brain.js/package.json').version})`,
    };
  },
};

// ------------------------------------------------------------------------------------- jax-js
let jaxState = null;
async function loadJax() {
  if (jaxState) return jaxState;
  // Node 20 has no `navigator`; jax-js reads navigator.userAgent and hardwareConcurrency.
  // hardwareConcurrency: 1 keeps it on one thread like every other row (Node has no Web Workers
  // for its pool anyway).
  if (typeof globalThis.navigator === 'undefined') globalThis.navigator = { userAgent: 'node', hardwareConcurrency: 1 };
  const jax = await import('@jax-js/jax');
  const devs = await jax.init('wasm');
  if (!devs.includes('wasm')) throw new Error(`jax-js found no wasm device (devices: ${devs.join(', ')})`);
  jax.defaultDevice('wasm');
  jaxState = jax;
  return jax;
}

/** CNN weights (Keras layouts) as jax-js arrays: kernels [out, in, kh, kw]; the first dense kernel's rows in (c, h, w) order. */
function jaxCnnParams(np, cnn, weights) {
  const shapes = cnnShapes(cnn);
  const nc = cnn.convs.length;
  return weights.map((w, i) => {
    const sh = shapes[i];
    if (i < 2 * nc && i % 2 === 0) {
      const [kh, kw, ci, co] = sh;
      const t = new Float32Array(w.length);
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) t[((o * ci + c) * kh + a) * kw + b] = w[((a * kw + b) * ci + c) * co + o];
      return np.array(t).reshape([co, ci, kh, kw]);
    }
    if (i === 2 * nc) {
      // rows (h, w, c) → (c, h, w)
      const [[, , , c]] = [shapes[2 * nc - 2]];
      const [n, out] = sh;
      const hw = n / c;
      const t = new Float32Array(w.length);
      for (let q = 0; q < hw; q++) for (let ch = 0; ch < c; ch++) t.set(w.subarray((q * c + ch) * out, (q * c + ch + 1) * out), (ch * hw + q) * out);
      return np.array(t).reshape(sh);
    }
    return np.array(w).reshape(sh);
  });
}

export const jaxPeer = {
  id: 'jax-js',
  async load() {
    await loadJax();
    const v = pkgJson('@jax-js/jax').version;
    return { version: v, label: `@jax-js/jax ${v} (wasm device, jit(valueAndGrad) + hand-written Adam)` };
  },
  async create(spec) {
    const jax = await loadJax();
    const { numpy: np, nn, jit, valueAndGrad, tree, lax } = jax;
    const { dims, batch: B, cnn } = spec;
    const L = dims.length - 1;
    const k = dims[L];
    const mk = (w, i) => (i % 2 === 0 ? np.array(w).reshape([dims[i / 2], dims[i / 2 + 1]]) : np.array(w));
    let params = cnn ? jaxCnnParams(np, cnn, spec.weights) : spec.weights.map(mk);
    let m = params.map((p) => np.zerosLike(p.ref));
    let v = params.map((p) => np.zerosLike(p.ref));
    const forward = cnn
      ? (p, x) => {
          // NCHW (lax.conv's layout): conv 'VALID' + bias + ReLU, 2×2 max-pool as a reshape and max
          let h = x;
          let i = 0;
          for (; i < cnn.convs.length; i++) {
            const f = cnn.convs[i].filters;
            h = nn.relu(lax.conv(h, p[2 * i], [1, 1], 'VALID').add(p[2 * i + 1].reshape([1, f, 1, 1])));
            const [n, c, hh, ww] = h.shape;
            const [ph, pw] = [Math.floor(hh / 2), Math.floor(ww / 2)];
            if (ph * 2 !== hh || pw * 2 !== ww) throw new Error('jax-js CNN: odd feature map before a 2×2 pool');
            h = h.reshape([n, c, ph, 2, pw, 2]).max([3, 5]);
          }
          h = h.reshape([h.shape[0], h.shape[1] * h.shape[2] * h.shape[3]]); // (c, h, w) order: the first dense kernel's rows were permuted to match
          for (let l = i; 2 * l < p.length; l++) {
            h = np.matmul(h, p[2 * l]).add(p[2 * l + 1]);
            if (2 * l + 2 < p.length) h = nn.relu(h);
          }
          return h;
        }
      : (p, x) => {
          let h = x;
          for (let l = 0; l < L; l++) {
            h = np.matmul(h, p[2 * l]).add(p[2 * l + 1]);
            if (l + 1 < L) h = nn.relu(h);
          }
          return h;
        };
    const lossFn = (p, x, y) => {
      const z = forward(p, x);
      if (spec.loss === 'ce') return nn.logSoftmax(z, -1).mul(y).sum().mul(-1 / B);
      const e = z.sub(y);
      return e.ref.mul(e).sum().mul(1 / (B * k));
    };
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    // One jitted step: loss and gradients, then Adam (PyTorch form; c1 = lr/(1−β1^t), c2 = 1/(1−β2^t)).
    const step = jit((p, m0, v0, x, y, c1, c2) => {
      const [loss, g] = valueAndGrad(lossFn)(tree.ref(p), x, y);
      const np1 = [];
      const nm = [];
      const nv = [];
      for (let i = 0; i < p.length; i++) {
        const mi = m0[i].mul(b1).add(g[i].ref.mul(1 - b1));
        const vi = v0[i].mul(b2).add(g[i].ref.mul(g[i]).mul(1 - b2));
        np1.push(p[i].sub(mi.ref.mul(c1.ref).div(np.sqrt(vi.ref.mul(c2.ref)).add(eps))));
        nm.push(mi);
        nv.push(vi);
      }
      c1.dispose();
      c2.dispose();
      return [np1, nm, nv, loss];
    });
    const predict = jit((p, x) => forward(p, x));
    // rows of h·w·c values → [n, c, h, w] (a transposed copy made in JS, outside the jitted step)
    const inputOf = (x, n) => {
      if (!cnn) return np.array(x).reshape([n, dims[0]]);
      const [h, w, c] = cnn.input;
      const t = new Float32Array(n * h * w * c);
      for (let r = 0; r < n; r++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let ch = 0; ch < c; ch++) t[((r * c + ch) * h + y) * w + z] = x[((r * h + y) * w + z) * c + ch];
      return np.array(t).reshape([n, c, h, w]);
    };
    let t = 0;
    return {
      prepare: (x, y, rows) => ({ x, y, rows, ids: y }),
      async epoch(d, seed) {
        const idx = permutation(d.rows, seed);
        const xb = new Float32Array(B * dims[0]);
        const yb = new Float32Array(B * k);
        let loss = null;
        for (let s = 0; s + B <= d.rows; s += B) {
          gatherRows(d.x, dims[0], idx, s, B, xb);
          if (spec.loss === 'ce') {
            yb.fill(0);
            for (let i = 0; i < B; i++) yb[i * k + d.y[idx[s + i]]] = 1;
          } else gatherRows(d.y, k, idx, s, B, yb);
          t++;
          // jax-js queues work lazily; reading each step's loss (as a training loop that logs it
          // would) keeps the queue short: without it an 8,000-row epoch ran 5–10× slower per step.
          if (loss) await loss.data(); // consumes it
          [params, m, v, loss] = step(params, m, v, inputOf(xb, B), np.array(yb).reshape([B, k]), np.array(spec.lr / (1 - b1 ** t)), np.array(1 / (1 - b2 ** t)));
        }
        if (loss) await loss.data(); // wait for the queued work (and consume it)
      },
      accuracy(d) {
        let c = 0;
        const chunk = 500;
        for (let s = 0; s < d.rows; s += chunk) {
          const n = Math.min(chunk, d.rows - s);
          const z = predict(tree.ref(params), inputOf(d.x.subarray(s * dims[0], (s + n) * dims[0]), n));
          const pred = argmaxRows(z.dataSync(), n, k);
          for (let r = 0; r < n; r++) c += pred[r] === d.ids[s + r] ? 1 : 0;
        }
        return c / d.rows;
      },
      dispose() {
        for (const a of [...params, ...m, ...v]) a.dispose();
      },
      note: 'the last partial batch of an epoch is dropped (a fixed batch shape keeps one jit trace)',
    };
  },
};

// tfjs-wasm's threaded SIMD build on every core (probed in a child process; its row says why it does not run in Node)
export const jsPeers = [wasmfitPeer, ...(wasmfitThreadsPeer ? [wasmfitThreadsPeer] : []), tfjsWasmPeer, ...(cores > 1 ? [tfjsWasmThreadsPeer] : []), tfjsCpuPeer, brainPeer, jaxPeer];
