"""Native reference for the benchmark harness (bench/run.mjs): the same MLP recipe in numpy,
forward, backward and Adam written by hand, float32, one BLAS thread (the harness sets
OPENBLAS_NUM_THREADS=1 before starting this process).

Reads one JSON job on stdin, prints one JSON result on stdout:
  {"job": "throughput", "dims": [...], "loss": "ce"|"mse", "lr": .., "batch": ..,
   "x": file, "y": file, "rows": n, "weights": file, "window_ms": .., "min_windows": ..,
   "max_windows": .., "budget_ms": ..}
      → {"rates": [samples/s per timed window], "epochs_per_window": e}
  {"job": "w3", ..., "x": train file, "y": .., "rows": .., "xt": test file, "yt": .., "rows_t": ..,
   "targets": [0.97, 0.95], "cap_s": .., "max_epochs": ..}
      → {"curve": [[train seconds, held-out accuracy], ...]}
Files are raw little-endian float32 (x, weights in [W0, b0, W1, b1, ...] order) or int32 (class ids).
"""
import json
import sys
import time

import numpy as np

job = json.loads(sys.stdin.read())
dims = job["dims"]
L = len(dims) - 1
k = dims[-1]
B = job["batch"]
lr = job["lr"]
b1, b2, eps = 0.9, 0.999, 1e-8


def load_weights():
    flat = np.fromfile(job["weights"], dtype=np.float32)
    out, o = [], 0
    for l in range(L):
        n = dims[l] * dims[l + 1]
        out.append(flat[o:o + n].reshape(dims[l], dims[l + 1]).copy())
        o += n
        out.append(flat[o:o + dims[l + 1]].copy())
        o += dims[l + 1]
    return out


params = load_weights()
m = [np.zeros_like(p) for p in params]
v = [np.zeros_like(p) for p in params]
t = 0


def forward(x):
    hs = [x]
    h = x
    for l in range(L):
        z = h @ params[2 * l] + params[2 * l + 1]
        h = np.maximum(z, 0, out=z) if l + 1 < L else z
        hs.append(h)
    return hs


def train_step(x, y):
    global t
    hs = forward(x)
    z = hs[-1]
    if job["loss"] == "ce":
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        p[np.arange(len(y)), y] -= 1.0
        dz = p / np.float32(len(y))
    else:
        dz = (z - y) * np.float32(2.0 / z.size)
    grads = [None] * (2 * L)
    for l in range(L - 1, -1, -1):
        grads[2 * l] = hs[l].T @ dz
        grads[2 * l + 1] = dz.sum(axis=0)
        if l > 0:
            dz = (dz @ params[2 * l].T) * (hs[l] > 0)
    t += 1
    c1 = np.float32(lr / (1 - b1 ** t))
    c2 = np.float32(1 / (1 - b2 ** t))
    for i, g in enumerate(grads):
        m[i] *= np.float32(b1)
        m[i] += np.float32(1 - b1) * g
        v[i] *= np.float32(b2)
        v[i] += np.float32(1 - b2) * g * g
        params[i] -= c1 * m[i] / (np.sqrt(v[i] * c2) + np.float32(eps))


def load(path, dtype, shape):
    return np.fromfile(path, dtype=dtype).reshape(shape)


def epoch(x, y, seed):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(x))
    for s in range(0, len(x) - B + 1, B):
        b = idx[s:s + B]
        train_step(x[b], y[b])


rows = job["rows"]
x = load(job["x"], np.float32, (rows, dims[0]))
y = load(job["y"], np.int32, (rows,)) if job["loss"] == "ce" else load(job["y"], np.float32, (rows, k))

if job["job"] == "throughput":
    epoch(x, y, 0)  # warm-up
    t0 = time.perf_counter()
    epoch(x, y, 1)
    one = time.perf_counter() - t0
    e = max(1, round(job["window_ms"] / 1e3 / max(one, 1e-6)))
    rates = []
    start = time.perf_counter()
    seed = 2
    while len(rates) < job["min_windows"] or (len(rates) < job["max_windows"] and time.perf_counter() - start < job["budget_ms"] / 1e3):
        t0 = time.perf_counter()
        for _ in range(e):
            epoch(x, y, seed)
            seed += 1
        rates.append(e * (rows // B) * B / (time.perf_counter() - t0))
    print(json.dumps({"rates": rates, "epochs_per_window": e}))
else:
    xt = load(job["xt"], np.float32, (job["rows_t"], dims[0]))
    yt = load(job["yt"], np.int32, (job["rows_t"],))
    curve = []
    trained = 0.0
    for ep in range(job["max_epochs"]):
        t0 = time.perf_counter()
        epoch(x, y, 1000 + ep)
        trained += time.perf_counter() - t0
        acc = float((forward(xt)[-1].argmax(axis=1) == yt).mean())
        curve.append([trained, acc])
        if acc >= max(job["targets"]) or trained >= job["cap_s"]:
            break
    print(json.dumps({"curve": curve}))
