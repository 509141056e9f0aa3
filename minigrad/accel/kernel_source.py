"""Kernels written from a trace: a Numba loop for the CPU, a CUDA elementwise kernel for CuPy, NumPy ufunc calls.

All of them read the same ``Trace`` (``trace.py``) and keep its two kinds of
values apart: numbers of the step are computed once, in double precision, and
converted to the arrays' dtype where they meet an element; element operations
run in the arrays' dtype. That is what the plain path does with Python floats
and NumPy arrays, so a kernel computes what the plain path computes.

The Numba and CUDA kernels read every input element once and write param and
each present state once, in place, after computing them: no copies back, no new
arrays. The NumPy kernel (``numpy_kernel``, for the JIT) makes the rule's ufunc
calls, one pass each, with ``out=`` into param, the state and a few work arrays
the caller keeps: no new arrays either. ``replay`` computes a trace with NumPy
for the tests.
"""

import math
import re

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


# ================================================================== NumPy: ufunc calls into the arrays and work buffers
_UFUNCS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "neg": "negative",
           "sqrt": "sqrt", "abs": "absolute", "maximum": "maximum"}


_PLAIN_NUMBERS = frozenset({float, int})


class NumpyKernel:
    """``function(n, W, param, grad, *state) -> bool``, written from a trace; ``source`` is its text.

    ``n`` is the rule's arguments (numbers and options, as ``rule_arguments`` returns them),
    ``W`` a sequence of at least ``buffers`` work arrays of the block's shape and dtype, and
    ``state`` the arrays ``trace.elements`` names after ``grad``. Returns False, having touched
    nothing, when an option in ``n`` is not identically the traced one; else updates param and
    the state in place and returns True. ``grad`` is only read; a work array is written before
    it is read. A number that is not a Python float or int (an ``np.float64`` η, which NumPy
    lets raise a float32 rule into float64) also returns False untouched.
    """

    __slots__ = ("source", "buffers", "function")

    def __init__(self, source, buffers, function):
        self.source, self.buffers, self.function = source, buffers, function

    def __repr__(self):
        return f"NumpyKernel(buffers={self.buffers}):\n{self.source}"


class _Copy:
    """``np.copyto(destination, source)``: an output whose new value is an input array the kernel never writes."""

    __slots__ = ("destination", "source")

    def __init__(self, destination, source):
        self.destination, self.source = destination, source


def numpy_kernel(trace, options, name="minigrad_numpy_step"):
    """The trace as NumPy ufunc calls with ``out=``, for the configuration ``options``: a ``NumpyKernel``, or None.

    ``options`` are the traced booleans (``options_of(arguments)``, or a dict); the function
    first checks that each is identically the same in ``n``. Then the number operations run,
    in trace order, as Python arithmetic on ``n``'s values (``math.sqrt``, ``max``, ``abs``);
    then each element operation is one ufunc call, operands in the trace's order, numbers and
    constants as Python floats: the plain rule's calls, so the same results bit for bit.
    Operations whose value no output needs are left out.

    Where each element value goes (``out=``), in trace order: an output's new value into the
    output's own array when nothing after it reads that array's old value (the same call may);
    any other value into an output's array whose old value is dead and whose new value comes at
    or after this value's last use, else into a work buffer whose value is dead, else a new
    buffer. An output's new value computed while its array's old value is still needed, or
    shared with an output before it, is copied in at the end (``np.copyto``). An output whose
    new value is an input the kernel never writes (SGD's first step: ``momentum_buffer = grad``)
    is copied from that input just after its own array's old value is last read.

    Returns None (the caller runs the plain rule) where an output's new value is the old value
    of an array the kernel writes, or a number's name is one the source uses for something else.
    """
    options = dict(options)
    outputs = {array: value.name for array, value in trace.outputs.items()}
    needed = set(outputs.values())
    operations = []
    for operation in reversed(trace.operations):                # the operations some output needs
        if operation.result.name in needed:
            operations.append(operation)
            needed.update(a.name for a in operation.args if isinstance(a, Symbol))
    operations.reverse()
    numbers = [number for number in trace.numbers if number in needed]
    names = [*trace.elements, *trace.numbers]
    if len(set(names)) < len(names) or any(x in {"n", "W", "np", "math", "max", "abs", "float", "type", "PLAIN", name}
                                           or re.fullmatch(r"[tw]\d+", x) for x in names):
        return None
    written = [array for array, value in outputs.items() if value != array]

    steps = [operation for operation in operations if operation.result.is_element]
    for array in written:
        source = outputs[array]
        if source in trace.elements:
            if source in written:
                return None
            last = max((i for i, step in enumerate(steps) if array in _reads(step)), default=-1)
            steps.insert(last + 1, _Copy(array, source))
    end = len(steps)
    last_use = {}
    for i, step in enumerate(steps):
        for value in _reads(step):
            last_use[value] = i

    # home: value -> the output array it is computed into; final_at: output array -> the step writing its new value
    home, final_at, copies = {}, {}, []
    defined_at = {step.result.name: i for i, step in enumerate(steps) if not isinstance(step, _Copy)}
    for i, step in enumerate(steps):
        if isinstance(step, _Copy):
            final_at[step.destination] = i
    for array in written:
        value = outputs[array]
        if array in final_at:
            continue
        if value not in home and last_use.get(array, -1) <= defined_at[value]:
            home[value], final_at[array] = array, defined_at[value]
        else:
            final_at[array] = end
            copies.append((array, value))
            last_use[value] = end

    busy_until = {array: last_use.get(array, -1) for array in written}   # array or buffer -> last use of its value
    location = {array: array for array in trace.elements}
    buffers, body = [], []
    for i, step in enumerate(steps):
        if isinstance(step, _Copy):
            body.append(f"np.copyto({step.destination}, {step.source})")
            busy_until[step.destination] = end + 1
            continue
        value = step.result.name
        where = home.get(value)
        if where is not None:
            busy_until[where] = end + 1
        else:
            where = next((array for array in written
                          if busy_until[array] <= i and last_use[value] <= final_at[array]), None) or \
                next((buffer for buffer in buffers if busy_until[buffer] <= i), None)
            if where is None:
                where = f"w{len(buffers)}"
                buffers.append(where)
            busy_until[where] = last_use[value]
        location[value] = where
        arguments = [location[a.name] if isinstance(a, Symbol) and a.is_element else _number_value(a)
                     for a in step.args]
        body.append(f"np.{_UFUNCS[step.op]}({', '.join(arguments)}, out={where})")
    body += [f"np.copyto({array}, {location[value]})" for array, value in copies]

    check = " or ".join(f"n[{option!r}] is not {value!r}" for option, value in sorted(options.items()))
    head = [f"if {check}:", "    return False"] if check else []
    head += [f"{number} = n[{number!r}]" for number in numbers]
    if numbers:                          # a NumPy scalar (np.float64 η) would make the plain rule compute in float64
        head += [f"if {' or '.join(f'type({number}) not in PLAIN' for number in numbers)}:", "    return False"]
    head += [f"{o.result.name} = {_WRITTEN[o.op][2].format(*map(_number_value, o.args))}"
             for o in operations if not o.result.is_element]
    head += [f"{buffer} = W[{k}]" for k, buffer in enumerate(buffers)]
    source = "\n".join([f"def {name}(n, W, {', '.join(trace.elements)}):",
                        *[f"    {line}" for line in head + body], "    return True", ""])
    namespace = {"np": np, "math": math, "PLAIN": _PLAIN_NUMBERS}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return NumpyKernel(source, len(buffers), namespace[name])


def _reads(step):
    """The element values a step reads."""
    if isinstance(step, _Copy):
        return (step.source,)
    return tuple(a.name for a in step.args if isinstance(a, Symbol) and a.is_element)


def _number_value(value):
    """A number operand of a ufunc call: the Python variable of a number, or a constant as a Python float."""
    if isinstance(value, Symbol):
        return value.name
    value = float(value)
    return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
