#!/usr/bin/python3
"""Writes the five tabular data sets of bench/tabular as CSV, with fixed stratified splits.

The data are the real data sets bundled with Debian's python3-sklearn (BSD-3-Clause package; the
data themselves are public: UCI iris, wine, breast cancer Wisconsin (diagnostic), optical
recognition of handwritten digits; Efron et al.'s diabetes). Nobody tuned wasmfit's CLI to them.

For each set and each seed s in SEEDS: data/<set>/train_<s>.csv and test_<s>.csv, a 75/25 split by
sklearn.model_selection.train_test_split(random_state=s), stratified for classification. The
header is the feature names plus 'target'. Both wasmfit (bench/tabular/run.mjs) and scikit-learn
(bench/tabular/sklearn_baseline.py) read exactly these files.

    /usr/bin/python3 bench/tabular/make_data.py      # needs apt-get install python3-sklearn
"""
import os
import sys

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

SEEDS = range(5)
SETS = {  # name: (loader, task)
    'iris': (datasets.load_iris, 'classification'),
    'wine': (datasets.load_wine, 'classification'),
    'breast_cancer': (datasets.load_breast_cancer, 'classification'),
    'digits': (datasets.load_digits, 'classification'),
    'diabetes': (lambda: datasets.load_diabetes(scaled=False), 'regression'),
}
HERE = os.path.dirname(os.path.abspath(__file__))


def write(path, x, y, names):
    with open(path, 'w') as f:
        f.write(','.join(names + ['target']) + '\n')
        for row, t in zip(x, y):
            f.write(','.join(repr(float(v)) for v in row) + ',' + (str(int(t)) if isinstance(t, (np.integer, int)) else repr(float(t))) + '\n')


def main(out):
    for name, (load, task) in SETS.items():
        b = load()
        x, y = b.data, b.target
        names = [str(n).replace(' ', '_') for n in getattr(b, 'feature_names', [f'x{i}' for i in range(x.shape[1])])]
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for s in SEEDS:
            xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=s, stratify=y if task == 'classification' else None)
            write(os.path.join(d, f'train_{s}.csv'), xtr, ytr, names)
            write(os.path.join(d, f'test_{s}.csv'), xte, yte, names)
        print(f'{name}: {x.shape[0]} rows, {x.shape[1]} features, {task}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'data'))
