"""Kernels written from a trace: a Numba loop for the CPU, a CUDA elementwise kernel for CuPy, and a NumPy replay.

All three read the same ``Trace`` (``trace.py``) and keep its two kinds of
values apart: numbers of the step are computed once, in double precision, and
converted to the arrays' dtype where they meet an element; element operations
run in the arrays' dtype. That is what the plain path does with Python floats
and NumPy arrays, so a kernel computes what the plain path computes.

Each kernel reads every input element once and writes param and each present
state once, in place, after computing them: no copies back, no new arrays.
"""

import math

import numpy as np

from minigrad.accel.trace import Symbol

_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
# op -> how each kernel writes it: (CUDA C++, for T and double alike; Python on elements; Python on numbers)
_WRITTEN = {
    **{op: (f"{{0}} {sign} {{1}}",) * 3 for op, sign in _BINARY.items()},
    "neg": ("-{0}",) * 3,
    "sqrt": ("sqrt({0})", "np.sqrt({0})", "math.sqrt({0})"),
    "abs": ("fabs({0})", "np.abs({0})", "abs({0})"),
    "maximum": ("(({0} > {1} || {0} != {0}) ? {0} : {1})",       # NaN wins, as in NumPy's maximum
                "np.maximum({0}, {1})", "max({0}, {1})"),
}


# ================================================================== NumPy: the trace replayed (for tests)
def replay(trace, elements, numbers):
    """The trace's outputs computed with NumPy from ``elements`` (name -> array) and ``numbers`` (name -> float)."""
    values = dict(elements)
    values.update({k: float(v) for k, v in numbers.items()})
    for operation in trace.operations:
        args = [values[a.name] if isinstance(a, Symbol) else float(a) for a in operation.args]
        element = operation.result.is_element
        op = operation.op
        if op in _BINARY:
            a, b = args
            result = a + b if op == "add" else a - b if op == "sub" else a * b if op == "mul" else a / b
        elif op == "neg":
            result = -args[0]
        elif op == "sqrt":
            result = np.sqrt(args[0]) if element else math.sqrt(args[0])
        elif op == "abs":
            result = np.abs(args[0]) if element else abs(args[0])
        elif op == "maximum":
            result = np.maximum(*args) if element else max(args)
        else:
            raise ValueError(f"unknown operation {op}")
        values[operation.result.name] = result
    return {name: values[value.name] for name, value in trace.outputs.items()}


# ================================================================== CUDA, for cupy.ElementwiseKernel
def cuda_kernel_parts(trace):
    """``(in_params, out_params, operation)`` of a ``cupy.ElementwiseKernel`` applying the trace in place.

    The outputs (param and the present state) are the kernel's output parameters, read at the
    start and assigned once at the end; ``grad`` and the numbers are inputs. ``T`` is the arrays'
    dtype; numbers are ``float64``.
    """
    outputs = list(trace.outputs)
    inputs = [name for name in trace.elements if name not in trace.outputs]
    in_params = ", ".join([f"T {name}" for name in inputs] + [f"float64 {name}" for name in trace.numbers])
    out_params = ", ".join(f"T {name}" for name in outputs)
    lines = []
    for operation in trace.operations:
        kind = "T" if operation.result.is_element else "double"
        lines.append(f"const {kind} {operation.result.name} = {_c_expression(operation)};")
    for name, value in trace.outputs.items():
        lines.append(f"{name} = {value.name};")
    return in_params, out_params, "\n".join(lines)


def _c_expression(operation):
    element = operation.result.is_element
    return _WRITTEN[operation.op][0].format(*[_c_value(a, element) for a in operation.args])


def _c_value(value, element):
    if isinstance(value, Symbol):
        return f"(T){value.name}" if element and not value.is_element else value.name
    return f"(T){float(value)!r}" if element else f"{float(value)!r}"


# ================================================================== Python, for Numba
def numba_loop_source(trace, name="minigrad_fused_step"):
    """A Python function looping over the elements, for Numba to compile (``prange`` and ``to_dtype`` as globals).

    The numbers are computed before the loop and converted to the arrays' dtype once
    (``to_dtype``, e.g. ``numpy.float32``); inside, one element of each array is read, the
    operations run in that dtype, and param and the state are written once.
    """
    head, body = [], []
    converted = set()
    for operation in trace.operations:
        element = operation.result.is_element
        for a in operation.args:
            if element and isinstance(a, Symbol) and not a.is_element and a.name not in converted:
                converted.add(a.name)
                head.append(f"    {a.name}_e = to_dtype({a.name})")
        line = f"{operation.result.name} = {_python_expression(operation)}"
        (body if element else head).append(("        " if element else "    ") + line)
    reads = [f"        {n} = {n}_a[i]" for n in trace.elements]
    writes = [f"        {n}_a[i] = {v.name}" for n, v in trace.outputs.items()]
    signature = ", ".join([f"{n}_a" for n in trace.elements] + trace.numbers)
    return "\n".join([f"def {name}({signature}):", *head,
                      "    for i in prange(param_a.shape[0]):", *reads, *body, *writes, ""])


def _python_expression(operation):
    element = operation.result.is_element
    written = _WRITTEN[operation.op][1 if element else 2]
    return written.format(*[_python_value(a, element) for a in operation.args])


def _python_value(value, element):
    if isinstance(value, Symbol):
        return f"{value.name}_e" if element and not value.is_element else value.name
    return f"to_dtype({float(value)!r})" if element else repr(float(value))
