// A module Worker that trains one model with init(options) and answers with the runtime's thread
// count and the SHA-256 of the final weights' bytes (tests/browser/threads.test.ts compares it with
// the same run in Node).
import * as wf from '/dist/browser/wasmfit.mjs';
import { SPEC, dataFor } from './threads-spec.js';

onmessage = async (e) => {
  try {
    const rt = await wf.init(e.data.init);
    const m = new wf.Sequential({ inputShape: [SPEC.d], layers: SPEC.layers(wf), seed: SPEC.seed });
    m.compile({ optimizer: wf.adam({ lr: 1e-3 }), loss: 'softmaxCrossEntropy' });
    const { x, y } = dataFor(wf);
    await m.fit(x, y, { epochs: SPEC.epochs, batchSize: SPEC.batch, seed: SPEC.seed });
    const bytes = new Uint8Array(m.getWeights().reduce((n, w) => n + w.data.byteLength, 0));
    let o = 0;
    for (const w of m.getWeights()) {
      bytes.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), o);
      o += w.data.byteLength;
    }
    const hash = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
    m.dispose();
    postMessage({ threads: rt.threads, build: rt.build, isolated: self.crossOriginIsolated === true, hash });
    rt.dispose();
  } catch (err) {
    postMessage({ error: `${err.name}: ${err.message}` });
  }
};
