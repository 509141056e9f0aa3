"""Random streams: one ``Generator`` per device, seeded together by ``manual_seed``.

Every stream draws its numbers on the host with NumPy's PCG64 and moves them
to its device. So the same seed gives the same numbers — the same initial
weights, the same dropout masks — on the CPU, on a GPU and on the strict test
devices, and a stream's whole state is a small dict that checkpoints save and
restore exactly. (The price: a GPU stream copies its numbers to the device,
which is negligible for initialisation and small for toy-sized dropout.)
"""

import numpy as np

from minigrad.backend.devices import as_device


class Generator:
    """A random stream for one device, with PyTorch's ``Generator`` interface.

    Args:
        device: where the tensors it draws live (default "cpu").

    Example:
        >>> g = minigrad.Generator().manual_seed(42)
        >>> minigrad.randn(3, generator=g)        # the same three numbers on every run
    """

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._initial_seed = int(np.random.SeedSequence().entropy % 2 ** 63)
        self._rng = np.random.Generator(np.random.PCG64(self._initial_seed))

    # ------------------------------------------------------------------ seeding and state
    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (a non-negative int); returns the generator."""
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
        self._initial_seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        """Restart the stream from a fresh, non-deterministic seed; returns that seed."""
        seed = int(np.random.SeedSequence().entropy % 2 ** 63)
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """The stream's position, as a dict of plain values (PyTorch gives a byte tensor instead)."""
        return {"seed": self._initial_seed, "pcg64": self._rng.bit_generator.state}

    def set_state(self, state):
        """Continue from a state that ``get_state`` returned."""
        if not isinstance(state, dict) or "pcg64" not in state:
            raise ValueError("set_state: expected a state dict from Generator.get_state()")
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = state["pcg64"]
        self._rng = rng
        self._initial_seed = int(state.get("seed", self._initial_seed))
        return self

    # ------------------------------------------------------------------ drawing (arrays on the device)
    def uniform(self, shape, dtype, low=0.0, high=1.0):
        """Samples from U[low, high) as an array of ``dtype`` on the generator's device."""
        values = self._rng.random(shape, dtype=_compute_dtype(dtype))
        if low != 0.0 or high != 1.0:
            values = values * (high - low) + low
        return self._to_device(values, dtype)

    def normal(self, shape, dtype, mean=0.0, std=1.0):
        """Samples from N(mean, std²)."""
        values = self._rng.standard_normal(shape, dtype=_compute_dtype(dtype))
        if mean != 0.0 or std != 1.0:
            values = values * std + mean
        return self._to_device(values, dtype)

    def integers(self, low, high, shape, dtype):
        """Integers drawn uniformly from [low, high)."""
        return self._to_device(self._rng.integers(low, high, size=shape), dtype)

    def permutation(self, n, dtype):
        """A uniformly random order of 0 … n-1."""
        return self._to_device(self._rng.permutation(n), dtype)

    def host_permutation(self, n):
        """A random order of 0 … n-1 as a NumPy array (for data loaders, which index on the host)."""
        return self._rng.permutation(n)

    def _to_device(self, values, dtype):
        return self.device.backend.asarray(np.asarray(values).astype(dtype.numpy, copy=False), dtype)


def _compute_dtype(dtype):
    return np.float64 if dtype.name == "float64" else np.float32


# ---------------------------------------------------------------- the default streams, one per device
_defaults = {}
_seed = None


def default_generator(device=None):
    """The default stream of ``device`` (created on first use, seeded by the last ``manual_seed``)."""
    dev = as_device(device)
    key = str(dev)
    found = _defaults.get(key)
    if found is None:
        found = _defaults[key] = Generator(dev)
        if _seed is not None:
            found.manual_seed(_seed)
    return found


def manual_seed(seed):
    """Seed the default stream of every device (those used later too) with ``seed``.

    ``rand``, ``randn``, ``randint``, the initialisers, dropout and data shuffling
    draw from these streams, so a run seeded the same way repeats exactly — on
    any device, with the same numbers.
    """
    global _seed
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _seed = seed
    default_generator("cpu").manual_seed(seed)
    for generator in _defaults.values():
        generator.manual_seed(seed)
    return default_generator("cpu")


def seed():
    """Seed every default stream non-deterministically; returns the seed."""
    return manual_seed(np.random.SeedSequence().entropy % 2 ** 63).initial_seed()


def initial_seed():
    return default_generator("cpu").initial_seed()


def get_rng_state():
    """The CPU stream's state (a dict), for ``set_rng_state``."""
    return default_generator("cpu").get_state()


def set_rng_state(state):
    default_generator("cpu").set_state(state)


def get_all_rng_states():
    """Every device's default stream state, ``{device: state}``: what a checkpoint saves."""
    default_generator("cpu")
    return {key: generator.get_state() for key, generator in _defaults.items()}


def set_all_rng_states(states):
    """Restore what ``get_all_rng_states`` returned (devices not present here are created)."""
    for key, state in states.items():
        default_generator(key).set_state(state)
