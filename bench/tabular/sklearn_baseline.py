#!/usr/bin/python3
"""scikit-learn baselines for bench/tabular, on the split files written by make_data.py.

Per data set and split seed: StandardScaler (fit on the training rows) followed by
  - classification: LogisticRegression() and MLPClassifier(random_state=seed)
  - regression:     LinearRegression()   and MLPRegressor(random_state=seed)
with scikit-learn's defaults, except max_iter=1000 for LogisticRegression (lbfgs) so that every
fit converges (its default of 100 warns on digits). The test metric is accuracy (classification)
or R² (regression). Writes baseline.json beside this file (committed) and prints a table.

    /usr/bin/python3 bench/tabular/sklearn_baseline.py     # Debian's python3-sklearn
"""
import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from make_data import HERE, SEEDS, SETS


def read(path):
    with open(path) as f:
        header = f.readline().strip().split(',')
    a = np.loadtxt(path, delimiter=',', skiprows=1, ndmin=2)
    assert header[-1] == 'target'
    return a[:, :-1], a[:, -1]


def main():
    data = os.path.join(HERE, 'data')
    out = {'sklearn': sklearn.__version__, 'seeds': list(SEEDS), 'sets': {}}
    notes = []
    for name, (_, task) in SETS.items():
        rows = {'task': task, 'metric': 'accuracy' if task == 'classification' else 'r2', 'linear': [], 'mlp': []}
        for s in SEEDS:
            xtr, ytr = read(os.path.join(data, name, f'train_{s}.csv'))
            xte, yte = read(os.path.join(data, name, f'test_{s}.csv'))
            if task == 'classification':
                models = {'linear': LogisticRegression(max_iter=1000), 'mlp': MLPClassifier(random_state=s)}
            else:
                models = {'linear': LinearRegression(), 'mlp': MLPRegressor(random_state=s)}
            for k, m in models.items():
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter('always', ConvergenceWarning)
                    p = make_pipeline(StandardScaler(), m).fit(xtr, ytr)
                    if any(issubclass(x.category, ConvergenceWarning) for x in w):
                        notes.append(f'{name} seed {s} {k}: ConvergenceWarning (scikit-learn default max_iter kept)')
                rows[k].append(float(p.score(xte, yte)))  # accuracy or R²
        out['sets'][name] = rows
    out['notes'] = notes
    with open(os.path.join(HERE, 'baseline.json'), 'w') as f:
        json.dump(out, f, indent=1)
    print(f"{'set':15} {'metric':9} {'linear':>8} {'mlp':>8}   (mean over seeds {list(SEEDS)})")
    for name, r in out['sets'].items():
        print(f"{name:15} {r['metric']:9} {np.mean(r['linear']):8.4f} {np.mean(r['mlp']):8.4f}")
    for n in notes:
        print(n, file=sys.stderr)


if __name__ == '__main__':
    main()
