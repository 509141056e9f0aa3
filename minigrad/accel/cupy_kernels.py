"""Rules fused by CuPy into one GPU kernel (``cupy.fuse``), from the same function as the plain path.

``cupy.fuse`` traces the rule with symbolic arrays — its ``sqrt``/``maximum``
bound to CuPy's ufuncs — and compiles one elementwise kernel; the options that
are booleans (``amsgrad``, ``nesterov``, …) are fixed per kernel, the numbers
(η, t, …) are its arguments. The kernel returns the new values, which are
copied into the parameter and state arrays.

NOTE: no GPU has been available to this project yet, so these kernels have not
run; the optimizers use them only with ``fused=True`` on a CUDA device.
"""

import inspect

from minigrad.accel.scalar import scalar_version

_compiled = {}
_kernels = {}           # (rule, state names, device) -> its kernel


def kernel(rule, state_names, device):
    """A kernel for ``rule`` on CuPy arrays, or None when CuPy cannot fuse (made once per rule and device)."""
    backend = device.backend
    cupy = getattr(backend, "cupy", None)
    if cupy is None or not hasattr(cupy, "fuse"):
        return None
    key = (rule, state_names, str(device))
    if key not in _kernels:
        _kernels[key] = _make_kernel(rule, backend, cupy, device)
    return _kernels[key]


def _make_kernel(rule, backend, cupy, device):
    parameters = list(inspect.signature(rule).parameters)

    def run(param, grad, *states, **values):
        flags = tuple(sorted((k, v) for k, v in values.items() if isinstance(v, bool)))
        present = tuple(hasattr(s, "shape") for s in states)
        key = (rule, flags, present, str(device))
        fused = _compiled.get(key)
        if fused is None:
            fused = _compiled[key] = _fuse(cupy, rule, dict(flags), parameters)
        numbers = {k: v for k, v in values.items() if not isinstance(v, bool)}
        with backend.context():
            results = fused(param, grad, *states, *(numbers[k] for k in parameters if k in numbers))
        for target, value in zip((param, *states), results):
            if hasattr(target, "shape"):
                target[...] = value

    return run


def _fuse(cupy, rule, flags, parameters):
    scalar_rule = scalar_version(rule, {"sqrt": cupy.sqrt, "maximum": cupy.maximum, "absolute": cupy.absolute})
    numbers = [p for p in parameters if p not in flags][2:]

    def fused(*args):
        named = dict(zip(["param", "grad"] + numbers, args))
        named.update(flags)
        return scalar_rule(**named)

    return cupy.fuse(kernel_name=f"minigrad_{rule.__name__}")(fused)
