"""Native peers for the benchmark harness (bench/run.mjs, bench/lib/python-peer.mjs): the same MLP
recipe (ReLU hidden layers, a linear last layer, softmax cross-entropy or MSE, Adam with β1 0.9,
β2 0.999, ε 1e-8, mini-batches of a seeded permutation, the last partial batch dropped) in
  numpy    forward, backward and Adam written by hand in float32 on numpy's BLAS (OpenBLAS);
  pytorch  torch.nn.Linear/ReLU, torch.nn.functional.cross_entropy / mse_loss, torch.optim.Adam.
One long-lived process per library and thread count, so the harness can interleave its timed
windows with the JS libraries'. The thread count is fixed at start: OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS from the harness, and torch.set_num_threads.

    python3 bench/py_peer.py numpy|pytorch THREADS

Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
  {"op": "info"}                         → {"version": .., "label": ..}
  {"op": "create", "dims", "loss": "ce"|"mse", "lr", "batch", "weights": file[, "cnn", "shapes"]}
                                         → {}   (weights: float32 [W0 [in,out], b0, W1, b1, …]; with
                                                 cnn, the arrays of `shapes` in Keras layouts)
  {"op": "data", "id", "x": file, "y": file, "rows"}  → {}   (x float32; y int32 ids or float32)
  {"op": "epochs", "id", "n", "seed"}    → {"seconds": ..}
  {"op": "accuracy", "id"}               → {"accuracy": ..}
Errors: {"error": message}.
"""
import json
import sys
import time

import numpy as np

LIB = sys.argv[1]
THREADS = int(sys.argv[2])
B1, B2, EPS = 0.9, 0.999, 1e-8


def load_weights(spec):
    dims = spec["dims"]
    flat = np.fromfile(spec["weights"], dtype=np.float32)
    if spec.get("shapes"):  # a CNN: the arrays in order, Keras layouts
        out, o = [], 0
        for sh in spec["shapes"]:
            n = int(np.prod(sh))
            out.append(flat[o:o + n].reshape(sh).copy())
            o += n
        return out
    out, o = [], 0
    for l in range(len(dims) - 1):
        n = dims[l] * dims[l + 1]
        out.append(flat[o:o + n].reshape(dims[l], dims[l + 1]).copy())
        o += n
        out.append(flat[o:o + dims[l + 1]].copy())
        o += dims[l + 1]
    return out


class NumpyMLP:
    def __init__(self, spec):
        self.dims, self.loss, self.lr, self.B = spec["dims"], spec["loss"], spec["lr"], spec["batch"]
        self.L = len(self.dims) - 1
        self.params = load_weights(spec)
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def data(self, x, y):
        return x, y

    def forward(self, x):
        hs = [x]
        h = x
        for l in range(self.L):
            z = h @ self.params[2 * l] + self.params[2 * l + 1]
            h = np.maximum(z, 0, out=z) if l + 1 < self.L else z
            hs.append(h)
        return hs

    def step(self, x, y):
        hs = self.forward(x)
        z = hs[-1]
        if self.loss == "ce":
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            p[np.arange(len(y)), y] -= 1.0
            dz = p / np.float32(len(y))
        else:
            dz = (z - y) * np.float32(2.0 / z.size)
        grads = [None] * (2 * self.L)
        for l in range(self.L - 1, -1, -1):
            grads[2 * l] = hs[l].T @ dz
            grads[2 * l + 1] = dz.sum(axis=0)
            if l > 0:
                dz = (dz @ self.params[2 * l].T) * (hs[l] > 0)
        self.t += 1
        c1 = np.float32(self.lr / (1 - B1 ** self.t))
        c2 = np.float32(1 / (1 - B2 ** self.t))
        for i, g in enumerate(grads):
            self.m[i] *= np.float32(B1)
            self.m[i] += np.float32(1 - B1) * g
            self.v[i] *= np.float32(B2)
            self.v[i] += np.float32(1 - B2) * g * g
            self.params[i] -= c1 * self.m[i] / (np.sqrt(self.v[i] * c2) + np.float32(EPS))

    def epoch(self, d, seed):
        x, y = d
        idx = np.random.default_rng(seed).permutation(len(x))
        for s in range(0, len(x) - self.B + 1, self.B):
            b = idx[s:s + self.B]
            self.step(x[b], y[b])

    def accuracy(self, d):
        x, y = d
        return float((self.forward(x)[-1].argmax(axis=1) == y).mean())


class TorchCNN:
    """The harness's CNN (bench/lib/peers.mjs, cnn specs): conv 'valid' + ReLU + 2×2 max-pool per
    conv, flatten, ReLU dense layers, a linear last one; NCHW, so kernels go from Keras [kh, kw, in,
    out] to [out, in, kh, kw], inputs are transposed once when the data arrive, and the first
    Linear's input columns are permuted from (h, w, c) to torch.flatten's (c, h, w) order."""

    def __init__(self, spec):
        import torch
        self.torch = torch
        self.cnn, self.loss, self.B, self.dims = spec["cnn"], spec["loss"], spec["batch"], spec["dims"]
        w = load_weights(spec)
        mods, c, i = [], self.cnn["input"][2], 0
        for conv in self.cnn["convs"]:
            m = torch.nn.Conv2d(c, conv["filters"], conv["kernel"])
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(w[i].transpose(3, 2, 0, 1).copy()))
                m.bias.copy_(torch.from_numpy(w[i + 1]))
            mods += [m, torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            c, i = conv["filters"], i + 2
        mods.append(torch.nn.Flatten())
        first = True
        units = self.cnn["hidden"] + [self.cnn["classes"]]
        for j, u in enumerate(units):
            W = w[i]
            if first:  # rows (h, w, c) -> columns (c, h, w)
                hw = W.shape[0] // c
                W = W.reshape(hw, c, u).transpose(1, 0, 2).reshape(hw * c, u)
                first = False
            lin = torch.nn.Linear(W.shape[0], u)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.T.copy()))
                lin.bias.copy_(torch.from_numpy(w[i + 1]))
            mods.append(lin)
            if j + 1 < len(units):
                mods.append(torch.nn.ReLU())
            i += 2
        self.model = torch.nn.Sequential(*mods)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=spec["lr"], betas=(B1, B2), eps=EPS)
        self.fn = torch.nn.functional.cross_entropy

    def data(self, x, y):
        h, w, c = self.cnn["input"]
        xt = self.torch.from_numpy(x.reshape(-1, h, w, c).transpose(0, 3, 1, 2).copy())
        return xt, self.torch.from_numpy(y.astype(np.int64))

    epoch = None  # set below (TorchMLP's)
    accuracy = None


class TorchMLP:
    def __init__(self, spec):
        import torch
        self.torch = torch
        self.dims, self.loss, self.B = spec["dims"], spec["loss"], spec["batch"]
        w = load_weights(spec)
        mods = []
        for l in range(len(self.dims) - 1):
            lin = torch.nn.Linear(self.dims[l], self.dims[l + 1])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w[2 * l].T.copy()))  # nn.Linear keeps [out, in]
                lin.bias.copy_(torch.from_numpy(w[2 * l + 1]))
            mods.append(lin)
            if l + 2 < len(self.dims):
                mods.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*mods)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=spec["lr"], betas=(B1, B2), eps=EPS)
        self.fn = torch.nn.functional.cross_entropy if self.loss == "ce" else torch.nn.functional.mse_loss

    def data(self, x, y):
        t = self.torch
        return t.from_numpy(x), t.from_numpy(y.astype(np.int64) if self.loss == "ce" else y)

    def epoch(self, d, seed):
        x, y = d
        idx = self.torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))
        for s in range(0, len(x) - self.B + 1, self.B):
            b = idx[s:s + self.B]
            self.opt.zero_grad(set_to_none=True)
            self.fn(self.model(x[b]), y[b]).backward()
            self.opt.step()

    def accuracy(self, d):
        x, y = d
        with self.torch.no_grad():
            return float((self.model(x).argmax(dim=1) == y).float().mean())


TorchCNN.epoch = TorchMLP.epoch
TorchCNN.accuracy = TorchMLP.accuracy


def reference_blas():
    """The loaded BLAS when it is the reference (netlib) implementation, else None.

    Debian's numpy and python3-torch link libblas.so.3, which the alternatives system points at
    OpenBLAS, BLIS or the reference BLAS, whichever is installed. python3-torch alone pulls only the
    reference one, which runs W1 about 8x slower than OpenBLAS: a peer measured so would flatter
    wasmfit, so it is reported as unable to run instead. Read from /proc/self/maps after a product
    (Linux; elsewhere nothing is checked)."""
    a = np.ones((64, 64), dtype=np.float32)
    a @ a
    if LIB != "numpy":
        import torch
        torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line}
    except OSError:
        return None
    fast = [x for x in libs if any(k in x for k in ("openblas", "blis", "libmkl", "atlas"))]
    # Debian installs the reference BLAS as .../blas/libblas.so.3[.x.y]; OpenBLAS as .../openblas-*/libblas.so.3
    ref = [x for x in libs if "/blas/libblas.so" in x]
    return ref[0] if ref and not fast else None


def info():
    import platform
    ref = reference_blas()
    if ref:
        raise RuntimeError(f"the BLAS this python3 loads is the reference netlib BLAS ({ref}), several times slower than an optimized one: install one (Debian: apt-get install libopenblas0-pthread) to measure {LIB} as users run it")
    blas = ""
    try:  # numpy >= 1.25 names its BLAS
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:
        pass
    if LIB == "numpy":
        return {"version": np.__version__, "label": f"numpy {np.__version__} on Python {platform.python_version()}{' / ' + blas if blas else ''}, hand-written forward/backward/Adam, {THREADS} BLAS thread{'s' if THREADS > 1 else ''}"}
    import torch
    torch.set_num_threads(THREADS)
    return {"version": torch.__version__, "label": f"PyTorch {torch.__version__} (CPU, torch.set_num_threads({THREADS}), torch.optim.Adam)"}


def main():
    model, sets = None, {}
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            op = msg["op"]
            if op == "info":
                out = info()
            elif op == "create":
                if msg.get("cnn") and LIB == "numpy":
                    raise ValueError("the numpy peer is a hand-written MLP (no convolutions)")
                model = (NumpyMLP if LIB == "numpy" else TorchCNN if msg.get("cnn") else TorchMLP)(msg)
                sets = {}
                out = {}
            elif op == "data":
                rows, dims = msg["rows"], model.dims
                x = np.fromfile(msg["x"], dtype=np.float32).reshape(rows, dims[0])
                y = np.fromfile(msg["y"], dtype=np.int32) if model.loss == "ce" else np.fromfile(msg["y"], dtype=np.float32).reshape(rows, dims[-1])
                sets[msg["id"]] = model.data(x, y)
                out = {}
            elif op == "epochs":
                t0 = time.perf_counter()
                for e in range(msg["n"]):
                    model.epoch(sets[msg["id"]], msg["seed"] + e)
                out = {"seconds": time.perf_counter() - t0}
            elif op == "accuracy":
                out = {"accuracy": model.accuracy(sets[msg["id"]])}
            else:
                out = {"error": f"unknown op {op}"}
        except Exception as e:  # reported to the harness as this library's failure
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
