"""Generated 2-D classification sets and a 1-D regression, each reproducible from ``seed``."""

import numpy as np

from minigrad.creation import tensor


def _pack(x, y, regression=False):
    y = y.astype(np.float32).reshape(-1, 1) if regression else y.astype(np.int64)
    return tensor(x.astype(np.float32)), tensor(y)


def spiral(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """``n_classes`` interleaved spiral arms in the plane (the classic hard-for-linear-models set)."""
    rng = np.random.default_rng(seed)
    per = n_samples // n_classes
    xs, ys = [], []
    for c in range(n_classes):
        r = np.linspace(0.0, 1.0, per)
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, per) + rng.standard_normal(per) * noise
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(per, c))
    return _pack(np.concatenate(xs), np.concatenate(ys))


def moons(n_samples=300, noise=0.1, seed=0):
    """Two interleaving half circles."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.stack([np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))], axis=1)
    inner = np.stack([1 - np.cos(np.linspace(0, np.pi, n_in)), 0.5 - np.sin(np.linspace(0, np.pi, n_in))], axis=1)
    x = np.concatenate([outer, inner]) + rng.standard_normal((n_samples, 2)) * noise
    return _pack(x, np.concatenate([np.zeros(n_out), np.ones(n_in)]))


def circles(n_samples=300, noise=0.05, factor=0.5, seed=0):
    """A small circle (class 1) inside a large one (class 0); ``factor`` is the radius ratio."""
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    a_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    a_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.concatenate([np.stack([np.cos(a_out), np.sin(a_out)], 1), factor * np.stack([np.cos(a_in), np.sin(a_in)], 1)])
    x += rng.standard_normal(x.shape) * noise
    return _pack(x, np.concatenate([np.zeros(n_out), np.ones(n_in)]))


def xor(n_samples=300, noise=0.1, seed=0):
    """Points in the four quadrants; the label is 1 where x·y < 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_samples, 2))
    y = (x[:, 0] * x[:, 1] < 0).astype(np.int64)
    return _pack(x + rng.standard_normal(x.shape) * noise, y)


def blobs(n_samples=300, centers=3, std=0.5, seed=0):
    """Gaussian clusters around ``centers`` points placed on a circle of radius 2."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(centers) / centers
    means = 2 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = np.arange(n_samples) % centers
    return _pack(means[y] + rng.standard_normal((n_samples, 2)) * std, y)


def sine(n_samples=200, noise=0.1, seed=0):
    """A 1-D regression: y = sin(x) + noise for x uniform in [-π, π]; y has shape (n, 1)."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-np.pi, np.pi, n_samples)).reshape(-1, 1)
    return _pack(x, np.sin(x) + rng.standard_normal(x.shape) * noise, regression=True)
