// Shared by the benchmark workers: the workload's data, fetched once from bench/browser.mjs's
// server as raw bytes (x float32 [rows, d], then y: int32 class ids or float32 [rows, k], then the
// initial weights float32 [W0 [in, out], b0, W1, b1, …], the same seeded Glorot draw as bench/run.mjs).
export async function loadWorkload(spec) {
  const res = await fetch(`/data/${spec.id}.bin`);
  if (!res.ok) throw new Error(`GET /data/${spec.id}.bin: ${res.status}`);
  const buf = await res.arrayBuffer();
  const { dims, rows, loss } = spec;
  const d = dims[0];
  const k = dims[dims.length - 1];
  let o = 0;
  const x = new Float32Array(buf, o, rows * d);
  o += x.byteLength;
  const yLen = loss === 'ce' ? rows : rows * k;
  const y = loss === 'ce' ? new Int32Array(buf, o, yLen) : new Float32Array(buf, o, yLen);
  o += y.byteLength;
  const weights = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const w = new Float32Array(buf, o, dims[l] * dims[l + 1]);
    o += w.byteLength;
    const b = new Float32Array(buf, o, dims[l + 1]);
    o += b.byteLength;
    weights.push(w, b);
  }
  if (o !== buf.byteLength) throw new Error(`/data/${spec.id}.bin: ${buf.byteLength} bytes, expected ${o}`);
  return { x, y, weights };
}
