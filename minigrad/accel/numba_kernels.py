"""Rules compiled by Numba into one loop over the elements (optional: ``pip install "minigrad[fast]"``).

For a rule ``adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, …, amsgrad, …)``
the generated loop reads (``loop_source`` shows it)::

    def minigrad_fused_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, …):
        for i in prange(param.shape[0]):
            param[i], exp_avg[i], exp_avg_sq[i], _ = rule(param[i], grad[i], exp_avg[i], exp_avg_sq[i], …, False, …)

The options that are booleans (``amsgrad``…) are written in as constants, one
compiled loop per combination, so the branches they switch off disappear.

State a group does not use (``max_exp_avg_sq`` without amsgrad) arrives as the
number 0 and its result is dropped; each pattern of present and absent state
compiles once. Runs of at least ``PARALLEL_MIN`` elements use the multi-threaded
compilation (``prange`` shares the elements among the cores). The arithmetic is
IEEE without reassociation (Numba's ``fastmath`` is off).
"""

import inspect
import math
import os
import threading

from minigrad.accel.scalar import scalar_version

PARALLEL_MIN = 1 << 16
SCALAR_MATH = {"sqrt": math.sqrt, "maximum": max, "absolute": abs}

_numba = None
_checked = False
_kernels = {}           # (rule, state names) -> its kernel
_compiled = {}          # (rule, present state, flags, parallel) -> the compiled loop
_parallel_lock = threading.Lock()


def _import_numba():
    global _numba, _checked
    if not _checked:
        _checked = True
        try:
            import numba
        except ImportError:
            return None
        if "NUMBA_THREADING_LAYER" not in os.environ:
            # OpenMP's threads spin after each parallel loop and slow the BLAS call that follows
            # to half speed on a small machine; the workqueue layer's threads sleep.
            numba.config.THREADING_LAYER = "workqueue"
        _numba = numba
    return _numba


def kernel(rule, state_names):
    """A kernel for ``rule`` on NumPy arrays, or None without Numba (made once per rule)."""
    numba = _import_numba()
    if numba is None:
        return None
    found = _kernels.get((rule, state_names))
    if found is None:
        found = _kernels[(rule, state_names)] = _make_kernel(numba, rule, state_names)
    return found


def _make_kernel(numba, rule, state_names):
    arguments = list(inspect.signature(rule).parameters)[2 + len(state_names):]   # after θ, g and the state arrays

    def run(param, grad, *states, **values):
        present = tuple(hasattr(s, "shape") for s in states)
        flags = tuple((name, values[name]) for name in arguments if isinstance(values[name], bool))
        parallel = param.shape[0] >= PARALLEL_MIN
        key = (rule, present, flags, parallel)
        loop = _compiled.get(key)
        if loop is None:
            loop = _compiled[key] = _compile(numba, rule, state_names, present, arguments, dict(flags), parallel)
        args = (param, grad, *states, *(values[name] for name in arguments if not isinstance(values[name], bool)))
        if parallel:
            # the workqueue layer aborts when two threads start parallel loops at once
            with _parallel_lock:
                loop(*args)
        else:
            loop(*args)

    return run


def loop_source(state_names, present, arguments, flags):
    """Python source of one loop applying the rule to every element.

    Absent state is passed through as a number; the boolean options (``flags``) are
    written in as constants, so the compiler drops the branches they switch off.
    """
    numbers = [name for name in arguments if name not in flags]
    reads = ", ".join(["param[i]", "grad[i]"] + [f"{n}[i]" if p else n for n, p in zip(state_names, present)]
                      + [repr(flags[name]) if name in flags else name for name in arguments])
    writes = ", ".join(["param[i]"] + [f"{n}[i]" if p else "_" for n, p in zip(state_names, present)])
    signature = ", ".join(["param", "grad", *state_names, *numbers])
    return (f"def minigrad_fused_step({signature}):\n"
            f"    for i in prange(param.shape[0]):\n"
            f"        {writes} = rule({reads})\n")


def _compile(numba, rule, state_names, present, arguments, flags, parallel):
    namespace = {"prange": numba.prange,
                 "rule": scalar_version(rule, SCALAR_MATH, numba.njit(inline="always", error_model="numpy"))}
    source = loop_source(state_names, present, arguments, flags)
    exec(compile(source, f"<minigrad fused {rule.__name__}>", "exec"), namespace)
    return numba.njit(namespace["minigrad_fused_step"], parallel=parallel, error_model="numpy")
