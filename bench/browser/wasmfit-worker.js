// One wasmfit configuration (init options) in a module Worker of bench/browser.mjs's page.
// Requests: { op: 'init', init } → { label, build, threads, isolated };
//           { op: 'setup', spec } → {} (model from the spec's initial weights; no training yet);
//           { op: 'window', epochs, seed } → { ms } (one fit call of `epochs` passes, timed here);
//           { op: 'dispose' } → {}.
import * as wf from '/dist/browser/wasmfit.mjs';

let rt = null;
let job = null;

async function handle(m) {
  if (m.op === 'init') {
    rt = await wf.init(m.init);
    return { build: rt.build, threads: rt.threads, isolated: self.crossOriginIsolated === true, cores: navigator.hardwareConcurrency };
  }
  if (m.op === 'setup') {
    const { loadWorkload } = await import('/bench/common.js');
    const { spec } = m;
    const { x, y, weights } = await loadWorkload(spec);
    const { dims } = spec;
    const layers = [];
    for (let l = 1; l < dims.length; l++) layers.push(wf.dense(dims[l], { activation: l + 1 < dims.length ? 'relu' : 'linear' }));
    job?.model.dispose();
    const model = new wf.Sequential({ inputShape: [dims[0]], layers, seed: 1, runtime: rt });
    model.setWeights(weights.map((data) => ({ data })));
    model.compile({ optimizer: wf.adam({ lr: spec.lr }), loss: spec.loss === 'ce' ? 'softmaxCrossEntropy' : 'mse' });
    const k = dims[dims.length - 1];
    job = { model, spec, x, y: spec.loss === 'ce' ? y : { data: y, shape: [spec.rows, k] } };
    return {};
  }
  if (m.op === 'window') {
    const t0 = performance.now();
    await job.model.fit(job.x, job.y, { epochs: m.epochs, batchSize: job.spec.batch, seed: m.seed });
    return { ms: performance.now() - t0 };
  }
  if (m.op === 'dispose') {
    job?.model.dispose();
    job = null;
    return {};
  }
  throw new Error(`unknown op ${m.op}`);
}

onmessage = async (e) => {
  try {
    postMessage(await handle(e.data));
  } catch (err) {
    postMessage({ error: `${err?.name ?? 'Error'}: ${err?.message ?? err}` });
  }
};
