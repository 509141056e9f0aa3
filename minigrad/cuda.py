"""``minigrad.cuda``: is a GPU there, how many, wait for it, seed it (PyTorch's names)."""

from minigrad import random
from minigrad.backend.devices import as_device, cuda_device_count, is_cuda_available


def is_available():
    return is_cuda_available()


def device_count():
    return cuda_device_count()


def synchronize(device=None):
    """Wait until the work queued on a GPU has finished (timings need this)."""
    as_device(device or "cuda").backend.synchronize()


def manual_seed(seed):
    """Seed the default stream of every GPU (``minigrad.manual_seed`` seeds every device)."""
    for index in range(max(cuda_device_count(), 1)):
        random.default_generator(f"cuda:{index}").manual_seed(seed)


manual_seed_all = manual_seed


def get_rng_state(device="cuda"):
    return random.default_generator(device).get_state()


def set_rng_state(state, device="cuda"):
    random.default_generator(device).set_state(state)
