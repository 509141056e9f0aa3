"""A rule traced once with symbols: the list of scalar operations one element goes through.

``trace(rule, state_names, present, options)`` calls the update rule with
``Symbol``s in place of θ, g, the state and the numbers of the step, and with
the options (the booleans: amsgrad, maximize, …) as plain Python values. Each
arithmetic operation on a symbol appends one ``Operation`` and returns a new
symbol, so the rule's code runs once and leaves behind its data flow::

    exp_avg *= beta1          ->  t4 = mul(exp_avg, beta1)
    exp_avg += (1 - beta1)*g  ->  t5 = sub(1, beta1); t6 = mul(t5, g); t7 = add(t4, t6)

Like ``cupy.fuse`` and JAX's tracers, the tracer refuses what a compiled kernel
cannot do: a Python ``if`` or conversion on a traced value (``bool``,
``float``, ``int``, comparisons) raises ``TraceError``, naming the value — so
a rule whose branches depend on a number of the step cannot be compiled, and a
test says so. State the options switch off is passed as None, never as a
number; a rule that touched it would fail here.

Values are of two kinds. *Elements* (θ, g, the state, and anything computed
from them) live in the arrays' dtype; *numbers* (η, β, bias corrections, and
arithmetic on numbers alone) are the step's Python floats, computed in double
precision, and enter element arithmetic converted to the arrays' dtype — what
NumPy does with a Python float and a float32 array. The kernels generated
from a trace (``kernel_source.py``) follow the same rule, so they compute what
the plain path computes, bit for bit.
"""

from minigrad._rebind import bound


class TraceError(TypeError):
    """The rule did something a compiled kernel cannot: branch on, or convert, a traced value."""


class Operation:
    """``result = op(*args)``: args are symbols or Python numbers (constants)."""

    __slots__ = ("op", "args", "result")

    def __init__(self, op, args, result):
        self.op, self.args, self.result = op, args, result

    def __repr__(self):
        return f"{self.result.name} = {self.op}({', '.join(_name(a) for a in self.args)})"


class Symbol:
    """A traced value: an input (``name`` given) or the result of an operation."""

    __slots__ = ("trace", "name", "is_element")

    def __init__(self, trace, name, is_element):
        self.trace, self.name, self.is_element = trace, name, is_element

    def __repr__(self):
        return f"Symbol({self.name})"

    # ------------------------------------------------------------------ arithmetic: recorded
    def __add__(self, other):
        return self.trace.record("add", self, other)

    def __radd__(self, other):
        return self.trace.record("add", other, self)

    def __sub__(self, other):
        return self.trace.record("sub", self, other)

    def __rsub__(self, other):
        return self.trace.record("sub", other, self)

    def __mul__(self, other):
        return self.trace.record("mul", self, other)

    def __rmul__(self, other):
        return self.trace.record("mul", other, self)

    def __truediv__(self, other):
        return self.trace.record("div", self, other)

    def __rtruediv__(self, other):
        return self.trace.record("div", other, self)

    def __neg__(self):
        return self.trace.record("neg", self)

    def __abs__(self):
        return self.trace.record("abs", self)

    __iadd__, __isub__, __imul__, __itruediv__ = __add__, __sub__, __mul__, __truediv__

    # ------------------------------------------------------------------ what a kernel cannot do: refused
    def _refuse(self, what):
        raise TraceError(f"the rule {what} the traced value {self.name}: a compiled kernel cannot; make it an "
                         "option (a boolean fixed for the kernel) or compute it on the host with the step's numbers")

    def __bool__(self):
        self._refuse("branches on (bool of)")

    def __float__(self):
        self._refuse("converts to a Python float")

    def __int__(self):
        self._refuse("converts to a Python int")

    def __index__(self):
        self._refuse("uses as an index")

    def __complex__(self):
        self._refuse("converts to a Python complex")

    def __pow__(self, other):
        self._refuse("raises to a power (not in the kernels' operations)")

    def __lt__(self, other):
        self._refuse("compares")

    __le__ = __gt__ = __ge__ = __lt__
    __hash__ = object.__hash__

    def __eq__(self, other):
        self._refuse("compares")

    __ne__ = __eq__


class Trace:
    """The inputs, operations and outputs of one traced configuration of a rule."""

    def __init__(self):
        self.elements = []           # names of the array inputs, in order: param, grad, present state
        self.numbers = []            # names of the number inputs, in order
        self.operations = []
        self.outputs = {}            # array name -> the symbol (or input) holding its new value
        self._count = 0

    def element(self, name):
        self.elements.append(name)
        return Symbol(self, name, True)

    def number(self, name):
        self.numbers.append(name)
        return Symbol(self, name, False)

    def record(self, op, *args):
        for a in args:
            if not isinstance(a, (Symbol, int, float)) or isinstance(a, bool):
                raise TraceError(f"the rule applied {op} to {a!r} of type {type(a).__name__}: a kernel takes "
                                 "traced values and numbers only (absent state is None: did an option leave it on?)")
        self._count += 1
        is_element = any(isinstance(a, Symbol) and a.is_element for a in args)
        result = Symbol(self, f"t{self._count}", is_element)
        self.operations.append(Operation(op, args, result))
        return result

    def __repr__(self):
        lines = [f"inputs: {', '.join(self.elements)}; numbers: {', '.join(self.numbers)}"]
        lines += [repr(o) for o in self.operations]
        lines += [f"{name} <- {_name(value)}" for name, value in self.outputs.items()]
        return "\n".join(lines)


def _name(value):
    return value.name if isinstance(value, Symbol) else repr(float(value))


def _math(trace):
    """The rule's math functions, recording into ``trace``."""
    return {"sqrt": lambda x: trace.record("sqrt", x),
            "maximum": lambda a, b: trace.record("maximum", a, b),
            "absolute": lambda x: trace.record("abs", x)}


def trace(rule, state_names, present, arguments):
    """The trace of ``rule`` with state ``present`` (one bool per name) and these arguments.

    ``arguments`` maps each keyword of the rule to a value; booleans are options (kept as they
    are), every other value a number of the step (replaced by a symbol). Returns a ``Trace``
    whose outputs are param's and each present state's new value.
    """
    t = Trace()
    elements = [t.element("param"), t.element("grad")]
    states = [t.element(name) if here else None for name, here in zip(state_names, present)]
    keywords = {k: (v if isinstance(v, bool) else t.number(k)) for k, v in arguments.items()}
    results = bound(rule, _math(t))(*elements, *states, **keywords)
    for name, here, value in zip(("param", *state_names), (True, *present), results):
        if here:
            if not isinstance(value, Symbol) or not value.is_element:
                raise TraceError(f"the rule's new {name} is {value!r}, not an element value")
            t.outputs[name] = value
    return t


def options_of(arguments):
    """The options among a rule's arguments (its booleans), as a sorted tuple: a kernel's key."""
    return tuple(sorted((k, v) for k, v in arguments.items() if isinstance(v, bool)))
