"""Rules compiled by Numba into one loop over the elements (optional: the ``fast`` extra).

The rule is traced once per configuration — which state is present, and the
options (``amsgrad``, ``maximize``, …) — and the trace is written out as a
Python loop (``kernel_source.numba_loop_source``; print it to read it)::

    def minigrad_fused_step(param_a, grad_a, exp_avg_a, exp_avg_sq_a, lr, beta1, …):
        beta1_e = to_dtype(beta1)                    # the step's numbers, once
        …
        for i in prange(param_a.shape[0]):
            param = param_a[i]; grad = grad_a[i]; …   # each element read once
            t3 = exp_avg * beta1_e                    # the rule's operations, in the arrays' dtype
            …
            param_a[i] = t20; exp_avg_a[i] = t6; …    # each array written once

which Numba compiles. Runs of at least ``PARALLEL_MIN`` elements use the
multi-threaded compilation (``prange`` shares the elements among the cores).
The arithmetic is IEEE without reassociation or contraction (Numba's
``fastmath`` is off), so the loop computes what the plain path computes.
"""

import math
import os
import threading

import numpy as np

from minigrad.accel import kernel_source
from minigrad.accel.trace import options_of, trace

PARALLEL_MIN = 1 << 16

_numba = None
_checked = False
_kernels = {}           # (rule, state names) -> its kernel
_compiled = {}          # (rule, present state, options, dtype, parallel) -> the compiled loop
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
    def run(param, grad, *states, **arguments):
        present = tuple(s is not None for s in states)
        parallel = param.shape[0] >= PARALLEL_MIN
        key = (rule, present, options_of(arguments), param.dtype.str, parallel)
        loop = _compiled.get(key)
        if loop is None:
            loop = _compiled[key] = _compile(numba, trace(rule, state_names, present, arguments), param.dtype,
                                             parallel)
        numbers = [float(value) for value in arguments.values() if not isinstance(value, bool)]
        args = (param, grad, *[s for s in states if s is not None], *numbers)
        if parallel:
            # the workqueue layer aborts when two threads start parallel loops at once
            with _parallel_lock:
                loop(*args)
        else:
            loop(*args)

    return run


def _compile(numba, rule_trace, dtype, parallel):
    namespace = {"prange": numba.prange, "np": np, "math": math, "to_dtype": np.dtype(dtype).type}
    source = kernel_source.numba_loop_source(rule_trace)
    exec(compile(source, "<minigrad fused step>", "exec"), namespace)
    return numba.njit(namespace["minigrad_fused_step"], parallel=parallel, error_model="numpy")
