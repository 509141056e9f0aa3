"""Single-pass optimizer updates on the CPU with Numba (optional: ``pip install "minigrad[fast]"``).

An update rule is a short list of statements ``name = expression`` over arrays
and scalars (``+ - * /``, ``sqrt``, ``where``, comparisons); the GPU backend
compiles the same lists into CUDA kernels (``fused_cuda.py``). NumPy would run
each operator as its own pass over memory, a dozen passes for Adam. Here the
list becomes one loop over the elements, which Numba compiles to machine code:
each element is read once, carried through every statement in registers and
written once. ``kernel_source`` shows the loop; for Adam it reads::

    def minigrad_fused_update(param, grad, exp_avg, exp_avg_sq, beta1, ...):
        for i in prange(param.shape[0]):
            param_i = param[i]
            grad_i = grad[i]
            ...
            exp_avg_i = beta1 * exp_avg_i + one_minus_beta1 * grad_i
            ...
            param[i] = param_i
            ...

Runs of at least ``PARALLEL_MIN`` elements use a multi-threaded compilation
(``prange`` shares the elements among the cores); shorter ones a serial one,
whose call costs about a microsecond. Each (rule, dtype, serial/parallel)
compiles once per process, in a fraction of a second, the first time it runs.

The arithmetic is IEEE without reassociation or fused multiply-adds (Numba's
``fastmath`` is off), so float64 results match the NumPy path to rounding.
"""

import math
import os
import re
import threading

PARALLEL_MIN = 1 << 16

_NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")

_kernels = None
_checked = False


def kernels():
    """The Numba-backed runner, or None when Numba is not installed."""
    global _kernels, _checked
    if not _checked:
        _checked = True
        try:
            import numba
        except ImportError:
            return None
        if "NUMBA_THREADING_LAYER" not in os.environ:
            # OpenMP's threads spin after each parallel loop and slow the BLAS call that
            # follows to half speed on a small machine; the workqueue layer's threads sleep.
            numba.config.THREADING_LAYER = "workqueue"
        _kernels = NumbaKernels(numba)
    return _kernels


def kernel_source(statements, array_names, scalar_names):
    """Python source of one loop that applies ``statements`` to every element of the arrays.

    Each array ``a`` is read into a local ``a_i`` before the statements and, if a
    statement assigns it, written back after them; other assigned names are locals.
    """
    def local(match):
        name = match.group(0)
        return f"{name}_i" if name in array_names else name

    targets = [statement.split("=", 1)[0].strip() for statement in statements]
    lines = [f"def minigrad_fused_update({', '.join(array_names + scalar_names)}):",
             f"    for i in prange({array_names[0]}.shape[0]):"]
    lines += [f"        {name}_i = {name}[i]" for name in array_names]
    lines += [f"        {_NAME.sub(local, statement)}" for statement in statements]
    lines += [f"        {name}[i] = {name}_i" for name in array_names if name in targets]
    return "\n".join(lines) + "\n"


def _where(condition, if_true, if_false):
    return if_true if condition else if_false


class NumbaKernels:
    """Compiles and runs statement lists; ``preferred``: optimizers use it unless told ``fused=False``.

    Measured on a 2-core machine, Adam on 1.86M float32 parameters took 2.8 ms in one
    parallel pass against 9.0 ms for NumPy's dozen passes (``benchmarks/optimizer_step.py``).
    Parallel kernels run on Numba's "workqueue" threading layer unless
    ``NUMBA_THREADING_LAYER`` says otherwise. That layer aborts the process if two
    parallel kernels start at once from different Python threads, so their launches
    take turns behind a lock.
    """

    name = "numba"
    preferred = True
    dtypes = ("float32", "float64")  # Numba has no float16 arithmetic

    def __init__(self, numba):
        self._numba = numba
        self._compiled = {}
        self._namespace = {"prange": numba.prange, "sqrt": math.sqrt, "where": numba.njit(_where)}
        self._parallel_lock = threading.Lock()

    def run(self, statements, arrays, scalars):
        """Run ``statements`` over ``arrays`` (1-D, one shape and dtype; targets updated in place) with ``scalars``.

        Args:
            statements: tuple of "target = expression" strings.
            arrays: name -> array.
            scalars: name -> NumPy scalar of the arrays' dtype.
        """
        array_names, scalar_names = tuple(arrays), tuple(scalars)
        parallel = next(iter(arrays.values())).shape[0] >= PARALLEL_MIN
        key = (statements, array_names, scalar_names, parallel)
        kernel = self._compiled.get(key)
        if kernel is None:
            kernel = self._compiled[key] = self._compile(statements, array_names, scalar_names, parallel)
        if parallel:
            with self._parallel_lock:
                kernel(*arrays.values(), *scalars.values())
        else:
            kernel(*arrays.values(), *scalars.values())
        return arrays

    def _compile(self, statements, array_names, scalar_names, parallel):
        namespace = dict(self._namespace)
        source = kernel_source(statements, array_names, scalar_names)
        exec(compile(source, "<minigrad fused update>", "exec"), namespace)
        return self._numba.njit(namespace["minigrad_fused_update"], parallel=parallel, error_model="numpy")
