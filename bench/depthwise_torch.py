#!/usr/bin/python3
"""PyTorch side of bench/depthwise.mjs: training-step samples/s of a full 3x3 convolution and of a
depthwise-separable block (nn.Conv2d(groups=c) 3x3 + 1x1), each followed by global average pooling
and a Linear(10), Adam, cross-entropy, one thread. Argument: JSON {models: [{h, w, c, out, batch}],
rounds}. Prints JSON: per model the median/min/max samples/s of each (windows alternated)."""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
cfg = json.loads(sys.argv[1])
out = []
for m in cfg["models"]:
    c, o = m["c"], m["out"]
    full = nn.Sequential(nn.Conv2d(c, o, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(o, 10))
    sep = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c), nn.ReLU(), nn.Conv2d(c, o, 1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(o, 10))
    x = torch.randn(m["batch"], c, m["h"], m["w"])
    y = torch.arange(m["batch"]) % 10
    rates = {"full": [], "sep": []}
    opts = {k: torch.optim.Adam(v.parameters(), lr=1e-3) for k, v in (("full", full), ("sep", sep))}

    def window(name, net, k=3):
        t0 = time.perf_counter()
        for _ in range(k):
            opts[name].zero_grad()
            F.cross_entropy(net(x), y).backward()
            opts[name].step()
        return k * m["batch"] / (time.perf_counter() - t0)

    window("full", full)
    window("sep", sep)
    for r in range(cfg["rounds"]):
        order = [("full", full), ("sep", sep)] if r % 2 == 0 else [("sep", sep), ("full", full)]
        for name, net in order:
            rates[name].append(window(name, net))
    stat = lambda a: {"median": sorted(a)[len(a) // 2], "min": min(a), "max": max(a)}
    out.append({**m, "full": stat(rates["full"]), "sep": stat(rates["sep"])})
print(json.dumps(out))
