"""The accelerator layer: optimizer update rules compiled into one loop per step, at the edge of minigrad.

An update rule (``minigrad.optim.sgd``, ``adam``, …) is arithmetic that works on
whole arrays and on single numbers alike. Run on arrays, each operation is a
pass over memory — a dozen for Adam. Here the *same function* is traced once
with symbols (``trace.py``: the options fixed, the step's numbers symbolic)
and the trace is written out as one loop over the elements, each element read
once, carried through the rule in registers and written once
(``kernel_source.py``):

* on the CPU, as a Python loop that Numba compiles (``numba_kernels.py``, with
  the ``fast`` extra);
* on an NVIDIA GPU, as a CuPy elementwise kernel (``cupy_kernels.py``).

Nothing in the core (tensor, autograd, ops, nn) imports this package; an
optimizer asks ``kernel(...)`` for its rule when its ``fused`` option allows.
"""

from minigrad._extras import install_hint
from minigrad.accel import cupy_kernels, numba_kernels

# Below this many elements the compiled loop is slower than the plain path's dozen whole-array
# passes (one Adam step on the 2-core development machine: 26K elements 99 µs against 63 µs,
# 100K 440 against 236, 300K 551 against 790, 1M 1.27 ms against 2.64 ms). The loop is scalar
# code: NumPy's passes are vectorised, the compiled loop is one pass over memory.
FUSED_MIN_SIZE = 262_144


def kernel(rule, state_names, device, dtype):
    """A function ``kernel(θ, g, *state, **arguments)`` that applies ``rule`` in place, or None."""
    if dtype.name not in ("float32", "float64"):
        return None
    if device.type == "cpu":
        return numba_kernels.kernel(rule, state_names)
    if device.type == "cuda":
        return cupy_kernels.kernel(rule, state_names, device)
    return None


def worth_it(device, size):
    """Whether a compiled kernel is expected to beat the plain path for ``size`` elements (when not forced)."""
    if device.type == "cuda":
        return False        # NOTE: the CuPy kernels have not run on a GPU yet; opt in with fused=True
    return size >= FUSED_MIN_SIZE


def unavailable_reason(device, dtype):
    if dtype.name not in ("float32", "float64"):
        return f"the compiled kernels take float32 or float64 parameters, not {dtype.name}"
    if device.type == "cpu":
        return f"no compiled kernels on the CPU without Numba; install it with {install_hint('fast')}"
    if device.type == "cuda":
        return "no compiled kernels: CuPy is unavailable"
    return f"no compiled kernels for device {device}"
