// One training scenario run identically in Node and in Chromium (main thread and worker), so the
// tests can compare SHA-256 hashes of the final weights. Plain ESM: `wf` is the wasmfit module
// (dist/ in Node, dist/browser/ in the page: the same sources), `fitInWorker` comes from worker.mjs.

export const DATA = { seed: 3, trainSize: 1000, testSize: 0 };

/** A model that exercises dropout masks, L2, a schedule and Adam's bias corrections. */
export function spec(wf) {
  return {
    inputShape: [784],
    layers: [wf.dense(32, { activation: 'relu', kernelInitializer: 'heNormal', kernelRegularizer: wf.l2(1e-4) }), wf.dropout(0.2), wf.dense(10)],
    seed: 7,
    optimizer: wf.adam({ lr: 2e-3 }),
    loss: 'softmaxCrossEntropy',
  };
}

export function fitOptions(wf) {
  return { epochs: 2, batchSize: 32, seed: 11, validationSplit: 0.1, schedule: wf.cosineAnnealingLR({ lr: 2e-3, tMax: 2 }) };
}

/** SHA-256 (hex) over the little-endian bytes of every weight tensor, in order. */
export async function hashWeights(weights) {
  const total = weights.reduce((s, w) => s + w.data.byteLength, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const w of weights) {
    bytes.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), o);
    o += w.data.byteLength;
  }
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Trains on the calling thread with `Sequential.fit`; resolves to { hash, simd }. */
export async function onThread(wf, x, y, initOptions) {
  const rt = await wf.init(initOptions);
  const s = spec(wf);
  const m = new wf.Sequential({ inputShape: s.inputShape, layers: s.layers, seed: s.seed, runtime: rt });
  m.compile({ optimizer: s.optimizer, loss: s.loss });
  await m.fit(x, y, fitOptions(wf));
  const hash = await hashWeights(m.getWeights());
  m.dispose();
  return { hash, simd: rt.simd };
}

/** Trains in a worker with `fitInWorker`; resolves to { hash, simd }. */
export async function inWorker(wf, fitInWorker, x, y, initOptions) {
  const r = await fitInWorker(spec(wf), x, y, { ...fitOptions(wf), worker: { init: initOptions } }).result;
  return { hash: await hashWeights(r.weights), simd: r.simd };
}
