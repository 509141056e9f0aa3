"""Rules compiled by CuPy into one GPU kernel each, written from the rule's trace.

The rule is traced once per configuration (the present state and the options,
``trace.py``) and the trace is written out as the body of a
``cupy.ElementwiseKernel`` (``kernel_source.cuda_kernel_parts``): param and
the present state are its output parameters — read at the start, assigned
once at the end, so each array is written once, in place — and ``grad`` and
the step's numbers (η, β, bias corrections, computed on the host) its inputs.
Per-step options (RAdam's rectification, SGD's first momentum step) pick one of
a few cached kernels. The kernel runs on the group's device (the optimizer
makes it current).

NOTE: without a GPU in the project's test machines, the kernels are proven on
the CPU: the trace they are written from equals the plain rule (tests trace
every configuration), and the generated source is checked; they run only on a
machine with CuPy (``benchmarks/gpu_check.sh``).
"""

from minigrad.accel import kernel_source
from minigrad.accel.trace import options_of, trace

_kernels = {}           # (rule, state names, device) -> its kernel
_compiled = {}          # (rule, present state, options) -> the ElementwiseKernel


def kernel(rule, state_names, device):
    """A kernel for ``rule`` on CuPy arrays, or None without CuPy (made once per rule and device)."""
    cupy = getattr(device.backend, "cupy", None)
    if cupy is None:
        return None
    key = (rule, state_names, str(device))
    if key not in _kernels:
        _kernels[key] = _make_kernel(cupy, rule, state_names)
    return _kernels[key]


def _make_kernel(cupy, rule, state_names):
    def run(param, grad, *states, **arguments):
        present = tuple(s is not None for s in states)
        key = (rule, present, options_of(arguments))
        elementwise = _compiled.get(key)
        if elementwise is None:
            in_params, out_params, body = kernel_source.cuda_kernel_parts(trace(rule, state_names, present, arguments))
            elementwise = _compiled[key] = cupy.ElementwiseKernel(
                in_params, out_params, body, f"minigrad_{rule.__name__}",
                options=("--fmad=false",))               # no a·b + c contracted: the plain path's rounding
        numbers = [float(value) for value in arguments.values() if not isinstance(value, bool)]
        elementwise(grad, *numbers, param, *[s for s in states if s is not None])

    return run
