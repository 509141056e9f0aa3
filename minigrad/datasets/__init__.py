"""Toy datasets, generated from a seed or shipped in the package.

Every generator returns ``(X, y)`` tensors: X float32 of shape (n, features),
y int64 class labels (or float32 targets of shape (n, 1) for ``sine``).
``train_test_split`` divides them; ``load(name)`` picks one by name.
"""

from minigrad.datasets.generated import blobs, circles, moons, sine, spiral, xor  # noqa: F401
from minigrad.datasets.real import digits, iris  # noqa: F401
from minigrad.datasets.split import train_test_split  # noqa: F401

REGISTRY = {"spiral": spiral, "moons": moons, "circles": circles, "xor": xor, "blobs": blobs, "sine": sine,
            "iris": iris, "digits": digits}


FIXED_SIZE = ("iris", "digits")      # real data sets: --samples does not apply


def load(name, **kwargs):
    """A dataset by name: one of spiral, moons, circles, xor, blobs, sine, iris, digits."""
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(REGISTRY)}")
    return REGISTRY[name](**kwargs)
