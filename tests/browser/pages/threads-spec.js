// The model and data of tests/browser/threads.test.ts, shared by the browser worker and Node.
// Sized so the parallel regions run (64×256×256 products, 256×256 kernels).
export const SPEC = {
  d: 64,
  batch: 64,
  epochs: 2,
  seed: 3,
  layers: (wf) => [wf.dense(256, { activation: 'relu' }), wf.dense(256, { activation: 'relu' }), wf.dense(10)],
};

export function dataFor(wf) {
  const r = new wf.Rng(9);
  const rows = SPEC.batch * 4 + 7;
  const x = Float32Array.from({ length: rows * SPEC.d }, () => r.normal());
  const y = Int32Array.from({ length: rows }, (_, i) => (x[i * SPEC.d] > 0 ? 5 : 0) + (i % 5));
  return { x, y };
}
