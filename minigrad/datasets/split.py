"""Splitting a dataset into train and test parts."""

import numpy as np


def train_test_split(x, y, test_size=0.25, seed=0, stratify=True):
    """Shuffle (from ``seed``) and split; with ``stratify``, each class keeps its share in both parts.

    Returns:
        x_train, x_test, y_train, y_test
    """
    if not 0 < test_size < 1:
        raise ValueError(f"train_test_split: test_size must be in (0, 1), got {test_size}")
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"train_test_split: x has {n} rows but y has {y.shape[0]}")
    rng = np.random.default_rng(seed)
    labels = y.cpu().numpy().reshape(n, -1)[:, 0] if not y.dtype.is_floating_point and stratify else None
    if labels is None:
        order = rng.permutation(n)
        cut = int(round(n * test_size))
        test, train = order[:cut], order[cut:]
    else:
        test, train = [], []
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            cut = int(round(len(members) * test_size))
            test.extend(members[:cut])
            train.extend(members[cut:])
        test, train = rng.permutation(test), rng.permutation(train)
    return x[train], x[test], y[train], y[test]
