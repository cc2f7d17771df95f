// TensorFlow.js layers on tfjs-backend-wasm in a classic Worker of bench/browser.mjs's page (its
// UMD bundles load with importScripts). The recipe of bench/lib/peers.mjs's tfjs adapter: dense
// layers from the same initial weights, a softmax last layer with categoricalCrossentropy (or a
// linear one with MSE), Adam(lr, 0.9, 0.999, 1e-8), model.fit with shuffling.
// Requests: { op: 'init', threads } (1: the SIMD build without threads, as in Node; N: the threaded
//           SIMD build with setThreadsCount(N), which needs a cross-origin isolated page)
//           → { label, threads, simd, multithread };
//           { op: 'setup', spec }, { op: 'window', epochs, seed } → { ms }, { op: 'dispose' }.
importScripts('/tfjs/tf-core.min.js', '/tfjs/tf-layers.min.js', '/tfjs/tf-backend-wasm.min.js');

let job = null;
let commonP = null;
const common = () => (commonP ??= import('/bench/common.js'));

async function handle(m) {
  if (m.op === 'init') {
    tf.wasm.setWasmPaths('/tfjs/');
    if (m.threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.wasm.setThreadsCount(m.threads);
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error("tf.setBackend('wasm') returned false");
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return { version: tf.version_layers ?? tf.version?.['tfjs-layers'], wasmVersion: tf.wasm.version_wasm, threads: tf.wasm.getThreadsCount(), simd, multithread, isolated: self.crossOriginIsolated === true };
  }
  if (m.op === 'setup') {
    const { spec } = m;
    const { x, y, weights } = await (await common()).loadWorkload(spec);
    const { dims, rows } = spec;
    const k = dims[dims.length - 1];
    if (job) dispose();
    const model = tf.sequential();
    for (let l = 1; l < dims.length; l++) {
      const last = l + 1 === dims.length;
      model.add(tf.layers.dense({ units: dims[l], activation: last ? (spec.loss === 'ce' ? 'softmax' : 'linear') : 'relu', inputShape: l === 1 ? [dims[0]] : undefined }));
    }
    model.setWeights(weights.map((w, i) => (i % 2 === 0 ? tf.tensor2d(w, [dims[i / 2], dims[i / 2 + 1]]) : tf.tensor1d(w))));
    model.compile({ optimizer: tf.train.adam(spec.lr, 0.9, 0.999, 1e-8), loss: spec.loss === 'ce' ? 'categoricalCrossentropy' : 'meanSquaredError' });
    let yt;
    if (spec.loss === 'ce') {
      const t = new Float32Array(rows * k);
      for (let r = 0; r < rows; r++) t[r * k + y[r]] = 1;
      yt = tf.tensor2d(t, [rows, k]);
    } else yt = tf.tensor2d(y, [rows, k]);
    job = { model, spec, x: tf.tensor2d(x, [rows, dims[0]]), y: yt };
    return {};
  }
  if (m.op === 'window') {
    const t0 = performance.now();
    await job.model.fit(job.x, job.y, { epochs: m.epochs, batchSize: job.spec.batch, shuffle: true, verbose: 0 });
    return { ms: performance.now() - t0 };
  }
  if (m.op === 'dispose') {
    dispose();
    return {};
  }
  throw new Error(`unknown op ${m.op}`);
}

function dispose() {
  if (!job) return;
  job.model.dispose();
  job.x.dispose();
  job.y.dispose();
  job = null;
}

onmessage = async (e) => {
  try {
    postMessage(await handle(e.data));
  } catch (err) {
    postMessage({ error: `${err?.name ?? 'Error'}: ${err?.message ?? err}` });
  }
};
