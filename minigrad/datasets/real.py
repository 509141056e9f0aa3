"""Small real data: Iris ships with minigrad; digits borrows scikit-learn's copy when installed."""

import os

import numpy as np

from minigrad.creation import tensor

SPECIES = ("setosa", "versicolor", "virginica")


def iris():
    """Fisher's Iris (1936): 150 flowers, 4 measurements (cm), 3 species as labels 0, 1, 2.

    Shipped in the package (``minigrad/datasets/iris.csv``), from the UCI Machine
    Learning Repository under the Creative Commons Attribution 4.0 licence.
    """
    path = os.path.join(os.path.dirname(__file__), "iris.csv")
    rows = [line.split(",") for line in open(path, encoding="utf-8") if line[0].isdigit()]
    x = np.array([[float(v) for v in row[:4]] for row in rows], dtype=np.float32)
    y = np.array([SPECIES.index(row[4].strip()) for row in rows], dtype=np.int64)
    return tensor(x), tensor(y)


def digits():
    """The 8×8 handwritten digits (1,797 images, 64 features scaled to [0, 1]); needs scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the digits dataset comes from scikit-learn, which is not installed: "
                          "pip install scikit-learn (or use spiral, moons, circles, xor, blobs, sine or iris)") from None
    bunch = load_digits()
    return tensor((bunch.data / 16.0).astype(np.float32)), tensor(bunch.target.astype(np.int64))
