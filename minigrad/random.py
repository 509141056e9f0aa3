"""Seeding: one call makes CPU and GPU random numbers reproducible."""

from minigrad.backend import devices as _device

_seed = None


def manual_seed(seed):
    """Seed the random streams of every device (those created later too).

    ``rand``, ``randn``, ``randint``, initialisers, dropout and data shuffling
    draw from these streams, so a run seeded the same way repeats exactly. The
    CPU and each GPU have their own stream: the same seed gives reproducible
    numbers per device, not the same numbers on both.
    """
    global _seed
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _seed = seed
    _device.CPU.backend.seed(seed)
    for name, backend in _device._backends.items():
        if name != "cpu":
            backend.seed(seed)
    return seed


seed = manual_seed


def initial_seed():
    return _seed


def get_rng_state():
    """The CPU stream's state (a dict), for ``set_rng_state``."""
    return _device.CPU.backend.get_rng_state()


def set_rng_state(state):
    _device.CPU.backend.set_rng_state(state)
