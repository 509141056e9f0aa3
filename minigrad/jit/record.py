"""Recording a step: every array operation it performs, written down as it runs.

While a step is recorded, the arrays it starts from (the arguments', parameters',
buffers' and gradients' arrays) are viewed as ``Traced`` — a NumPy array subclass
whose operations NumPy hands back to it (``__array_ufunc__`` for ``a + b``,
``np.exp(a)``, ``a += b``; ``__array_function__`` for ``np.matmul``, ``np.where``…;
its own methods for indexing, ``reshape``, ``astype``…). Each such operation runs
for real on the plain arrays underneath and is appended to the recording as an
``Op``: the function, its arguments with every traced array replaced by the number
of its slot, and the slots of its results. Arrays the step makes from nothing go
through the same door: the backend's namespace and array methods (``zeros``,
``asarray``) and the random streams' draws are recorded as calls too, so a replay
makes them afresh.

What cannot be replayed is refused, never baked in silently:

* an array made from a traced one without passing through the recording (an
  unrecorded method) has no slot; using it raises ``RecordingError``;
* an operation that writes into an array the recording does not know (``out=``,
  ``a[i] = …`` on an untraced array) raises ``RecordingError``;
* a value read into Python (``bool(a)``, ``float(a)``, ``a.item()``) inside
  minigrad becomes a ``Guard``: the replay reads it again and compares; a read in
  the user's own function ends the recording with ``ReadInStep`` naming the line.
"""

import operator
import os
import sys
import threading

import numpy as np


class RecordingError(RuntimeError):
    """The step did something a replay could not repeat."""


class ReadInStep(RecordingError):
    """The user's step read a tensor's value into Python (``.item()``, ``bool()``, ``if loss > …``)."""


class Slot:
    """A reference to the array in slot ``index`` of a recording."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"v{self.index}"


class OuterSlot(Slot):
    """A traced array passed to a call as a strict device's array around it (``outer(v)`` on replay)."""

    __slots__ = ()

    def __repr__(self):
        return f"outer(v{self.index})"


class Live:
    """A persistent array a replay writes into as it is (a slice of an optimizer's storage): not a constant."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __eq__(self, other):
        return type(other) is Live and _address(other.array) == _address(self.array)

    __hash__ = None


def _address(array):
    inner = getattr(array, "_array", array)
    return inner.__array_interface__["data"][0], inner.shape, str(inner.dtype)


class InnerOf:
    """``function`` returning a strict device's array; replayed, it gives the NumPy array inside."""

    __slots__ = ("function",)

    def __init__(self, function):
        self.function = function

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)._array

    def __eq__(self, other):
        return type(other) is InnerOf and other.function == self.function

    __hash__ = None


class Op:
    """One recorded call: ``outputs = function(*args, **kwargs)``, with ``Slot``s standing for traced arrays.

    ``outputs`` is a slot index, a list of them (a function returning several arrays), or None (a call made for
    its effect); ``scalar`` marks a function that returned a NumPy scalar, which the recording turned into a
    0-d array (a tensor needs an array).
    """

    __slots__ = ("function", "args", "kwargs", "outputs", "scalar", "writes")

    def __init__(self, function, args, kwargs, outputs, scalar=False, writes=()):
        self.function, self.args, self.kwargs, self.outputs = function, args, kwargs, outputs
        self.scalar, self.writes = scalar, writes


class Guard:
    """A value the step read into Python: ``read(slot) == value`` must hold again on replay."""

    __slots__ = ("read", "slot", "value", "where")

    def __init__(self, read, slot, value, where):
        self.read, self.slot, self.value, self.where = read, slot, value, where


class Call:
    """A Python call replayed as it is (``optimizer.step()``, ``scheduler.step()``, ``zero_grad()``)."""

    __slots__ = ("function", "args", "kwargs", "name", "output", "idempotent")

    def __init__(self, function, args, kwargs, name, output=None):
        self.function, self.args, self.kwargs, self.name = function, args, kwargs, name
        self.output = output            # the slot of its result, when the replay uses it
        self.idempotent = False         # calling it twice is calling it once (zero_grad to None)


class Load:
    """``slot = <the array>``: an array the step starts from, read again from its place on every replay.

    ``source`` is ``("arg", i)`` (the i-th tensor argument) or ``("tensor", t)`` (a parameter, buffer or other
    tensor the step reaches); ``grad`` says whether the array is the tensor's or its gradient's.
    """

    __slots__ = ("source", "grad", "slot", "fixed")

    def __init__(self, source, grad, slot, fixed=False):
        self.source, self.grad, self.slot = source, grad, slot
        self.fixed = fixed        # no recorded Python call changes this array (an argument, a buffer, not a parameter)


class Store:
    """A tensor's array or gradient the step replaced, set again on replay from ``slot``.

    ``kind``: ``"array"`` (``t._array = v``), ``"grad"`` (a new gradient tensor around ``v``, as the engine makes
    one after ``zero_grad()``), ``"grad_array"`` (the same gradient tensor, a new array) or ``"no_grad"``
    (``t.grad = None``).
    """

    __slots__ = ("source", "kind", "slot")

    def __init__(self, source, kind, slot):
        self.source, self.kind, self.slot = source, kind, slot


# ---------------------------------------------------------------------------------------------- the recorder
class _Active(threading.local):
    recording = None


active = _Active()


def current():
    """The recording this thread is making, or None."""
    return active.recording


class Recording:
    """The list of steps (``Load``, ``Op``, ``Guard``, ``Call``, ``Store``) one run of the step performed."""

    def __init__(self, strict=False):
        self.strict = strict        # raise at the first thing that cannot be recorded (else: note it, run on)
        self.failure = None
        self.steps = []
        self.slots = 0
        self.depth = 0              # > 0 while a recorded call runs: what it does inside is its own business
        self.constants = []         # plain arrays the step used as they were (checked unchanged at the end)
        self.origin = {}            # slot -> the plain array the traced one views
        self.outer_type = None      # a strict device's array type (its arrays wrap NumPy's), when recording on one

    # ------------------------------------------------------------------ slots
    def new_slot(self):
        self.slots += 1
        return self.slots - 1

    def trace(self, array):
        """A ``Traced`` view of a plain array, in a new slot (``origin`` keeps the plain array itself)."""
        traced = np.ndarray.view(array, Traced)
        traced.slot = self.new_slot()
        traced.owner = self
        self.origin[traced.slot] = array
        return traced

    # ------------------------------------------------------------------ recording a call
    def call(self, function, args, kwargs, writes=()):
        """Run ``function`` on the plain arrays and record it; traced results come back traced.

        ``writes``: the arguments the call writes into (``out=``, the target of ``ufunc.at`` or ``a[i] = v``);
        each must be traced — an untraced one would keep the recording's values.
        """
        if self.depth:
            return function(*_plain(args), **_plain(kwargs))
        try:
            for target in writes:
                if not isinstance(target, Traced):
                    raise RecordingError(f"{_name(function)} writes into an array made outside the recording (a "
                                         f"{type(target).__name__} of shape {getattr(target, 'shape', '?')})")
            arg_spec, kwarg_spec = self.describe(args), self.describe(kwargs)
        except RecordingError as error:
            self.fail(error)
            return function(*_plain(args), **_plain(kwargs))
        self.depth += 1
        try:
            result = function(*_plain(args), **_plain(kwargs))
        finally:
            self.depth -= 1
        return self.finish(function, arg_spec, kwarg_spec, result, writes)

    def finish(self, function, arg_spec, kwarg_spec, result, writes=()):
        written = tuple(target.slot for target in writes)
        if self.outer_type is not None and isinstance(result, self.outer_type):     # made by a strict device
            result._array = self.trace(result._array)
            self.steps.append(Op(InnerOf(function), arg_spec, kwarg_spec, result._array.slot, writes=written))
            return result
        if isinstance(result, np.ndarray):
            for target in writes:                          # an in-place call returns the array it wrote into
                if np.ndarray.view(target, np.ndarray).__array_interface__ == result.__array_interface__:
                    self.steps.append(Op(function, arg_spec, kwarg_spec, target.slot, writes=written))
                    return target
            traced = self.trace(result)
            self.steps.append(Op(function, arg_spec, kwarg_spec, traced.slot, writes=written))
            return traced
        if isinstance(result, np.generic):
            traced = self.trace(np.asarray(result))
            self.steps.append(Op(function, arg_spec, kwarg_spec, traced.slot, scalar=True, writes=written))
            return traced
        if isinstance(result, (tuple, list)) and result and all(isinstance(r, np.ndarray) for r in result):
            traced = [self.trace(r) for r in result]
            self.steps.append(Op(function, arg_spec, kwarg_spec, [t.slot for t in traced], writes=written))
            return type(result)(traced)
        if result is None:
            self.steps.append(Op(function, arg_spec, kwarg_spec, None, writes=written))
            return None
        if isinstance(result, (bool, int, float)) and _touches_trace(arg_spec, kwarg_spec):
            self.fail(RecordingError(f"{_name(function)} returned a Python value computed from traced arrays"))
            return result
        self.steps.append(Op(function, arg_spec, kwarg_spec, None, writes=written))
        return result

    def describe(self, value):
        """``value`` with every traced array replaced by its ``Slot`` (lists, tuples, dicts and slices walked)."""
        if isinstance(value, Traced) and value.owner is not self and value.slot is not None:
            return self.describe(value.owner.origin[value.slot])   # kept from another recording: a plain array
        if isinstance(value, Traced):
            if value.slot is None:
                raise RecordingError("an array derived from a traced one without passing through the recording "
                                     f"(shape {value.shape}) was used: the operation that made it is not recorded")
            return Slot(value.slot)
        if isinstance(value, np.ndarray):
            base = value
            while base is not None:
                if isinstance(base, Traced):
                    raise RecordingError("a plain view of a traced array was used (np.asarray of a traced array?)")
                base = base.base if isinstance(base, np.ndarray) else None
            self.constants.append((value, value.copy()))
            return value
        if self.outer_type is not None and isinstance(value, self.outer_type):
            inner = value._array
            if isinstance(inner, Traced):
                return OuterSlot(self.describe(inner).index)
            return value
        if isinstance(value, (list, tuple)):
            described = [self.describe(v) for v in value]
            return described if isinstance(value, list) else tuple(described)
        if isinstance(value, dict):
            return {k: self.describe(v) for k, v in value.items()}
        if isinstance(value, slice):
            if any(isinstance(v, Traced) for v in (value.start, value.stop, value.step)):
                raise RecordingError("a slice bound is a traced array")
        return value

    # ------------------------------------------------------------------ reads into Python
    def read(self, traced, read):
        """``read(traced)`` (``bool``, ``float``, …): a guard when minigrad reads, an error when the user's step does."""
        value = read(np.ndarray.view(traced, np.ndarray))
        if self.depth:
            return value
        where, by_user = _reader()
        if by_user:
            self.fail(ReadInStep(f"{where}: the step reads a tensor's value into Python ({read.__name__}); a "
                                 "recording cannot replay a decision made on a value. Read it after the step, outside "
                                 "the jitted function (the step can return the tensor)."))
        elif traced.slot is None:
            self.fail(RecordingError(f"{where}: a value was read from an array the recording does not know"))
        else:
            self.steps.append(Guard(read, traced.slot, value, where))
        return value

    def copies_to_host(self, same_array):
        """An array asked for on the host inside the step (``.item()``, ``.numpy()``, ``np.asarray(t)``): a read when
        the user's step asks; inside minigrad harmless on the CPU (``same_array``: the host array is the traced one,
        whose reads become guards), not replayable on a device (a copy the recording cannot follow)."""
        if self.depth:
            return
        where, by_user = _reader()
        if not by_user and same_array:
            return
        if by_user:
            self.fail(ReadInStep(f"{where}: the step reads a tensor's value into Python; a recording cannot replay "
                                 "a decision made on a value. Read it after the step, outside the jitted function "
                                 "(the step can return the tensor)."))
        else:
            self.fail(RecordingError(f"{where}: the step copies an array to the host"))

    def fail(self, error):
        """Something cannot be recorded: raise it (strict), or note it and let the step run on unrecorded."""
        if self.strict:
            raise error
        if self.failure is None:
            self.failure = error
        self.depth = 1 << 30               # from here on every operation runs plainly

    def check_constants(self):
        """The plain arrays the step used must still hold what they held when it used them."""
        for array, copy in self.constants:
            if not np.array_equal(array, copy, equal_nan=True):
                self.fail(RecordingError(f"an array made outside the recording (shape {array.shape}) was changed during "
                                     "the step: a replay would start from its last values"))
                return


def _name(function):
    return getattr(function, "__qualname__", None) or getattr(function, "__name__", None) or repr(function)


def _plain(value):
    if isinstance(value, Traced):
        return np.ndarray.view(value, np.ndarray)
    if isinstance(value, (list, tuple)):
        plain = [_plain(v) for v in value]
        return plain if isinstance(value, list) else tuple(plain)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _touches_trace(*specs):
    for spec in specs:
        if isinstance(spec, Slot):
            return True
        if isinstance(spec, (list, tuple)) and _touches_trace(*spec):
            return True
        if isinstance(spec, dict) and _touches_trace(*spec.values()):
            return True
    return False


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TENSOR = os.path.join(_PACKAGE, "tensor.py")
_HERE = os.path.dirname(os.path.abspath(__file__))


def _reader():
    """Where a read happens, and whether the user's code asked for it (only ``tensor.py`` in between)."""
    frame = sys._getframe(1)
    inside = []
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename.startswith(_HERE) or "numpy" in filename.split(os.sep)[-3:-1]:
            frame = frame.f_back
            continue
        if not filename.startswith(_PACKAGE):
            by_user = all(f == _TENSOR for f in inside)
            return f"{frame.f_code.co_filename}:{frame.f_lineno}", by_user
        inside.append(filename)
        frame = frame.f_back
    return "?", False


# ---------------------------------------------------------------------------------------------- the traced array
class Traced(np.ndarray):
    """A NumPy array whose operations go into the current recording (see the module's docstring)."""

    slot = None
    owner = None                           # the Recording that made it

    def __array_finalize__(self, obj):
        self.slot = None                   # made without the recording knowing: usable only once recorded
        self.owner = None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        recording = current()
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        writes = tuple(kwargs.get("out") or ())
        if method == "at":
            writes += (inputs[0],)
        if recording is None:
            return function(*_plain(inputs), **_plain(kwargs))
        return recording.call(function, inputs, kwargs, writes)

    def __array_function__(self, function, types, args, kwargs):
        recording = current()
        out = kwargs.get("out")
        writes = () if out is None else (out,)
        if recording is None:
            return function(*_plain(args), **_plain(kwargs))
        return recording.call(function, args, kwargs, writes)

    def __setitem__(self, index, value):
        recording = current()
        if recording is None:
            return np.ndarray.__setitem__(np.ndarray.view(self, np.ndarray), _plain(index), _plain(value))
        recording.call(operator.setitem, (self, index, value), {}, (self,))

    def __reduce__(self):
        raise RecordingError("a traced array cannot be pickled or copied out of the recording")

    @property
    def T(self):
        return _method("transpose")(self)

    @property
    def mT(self):
        return _method("swapaxes")(self, -1, -2)


def _method(name):
    plain = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        recording = current()
        if recording is None:
            return plain(np.ndarray.view(self, np.ndarray), *_plain(args), **_plain(kwargs))
        writes = (self,) if name == "fill" else ()
        return recording.call(plain, (self, *args), kwargs, writes)

    method.__name__ = name
    return method


def _read(read):
    def method(self, *args):
        recording = current()
        if recording is None:
            return read(np.ndarray.view(self, np.ndarray), *args)
        return recording.read(self, read)

    method.__name__ = read.__name__
    return method


for _name_ in ("__getitem__", "reshape", "transpose", "astype", "copy", "ravel", "flatten", "squeeze", "swapaxes",
               "view", "argmax", "argmin", "argsort", "sort", "nonzero", "repeat", "take", "clip", "round", "cumsum",
               "cumprod", "fill", "all", "any", "max", "min", "sum", "mean", "prod", "std", "var", "dot", "conj",
               "__copy__", "diagonal", "trace", "searchsorted", "compress", "choose", "partition", "argpartition"):
    if hasattr(np.ndarray, _name_):
        setattr(Traced, _name_, _method(_name_))


def _item(array, *args):
    return array.item(*args)


def _tolist(array):
    return array.tolist()


_item.__name__, _tolist.__name__ = "item", "tolist"

for _name_, _reading in (("__bool__", bool), ("__float__", float), ("__int__", int), ("__index__", operator.index),
                         ("__complex__", complex), ("item", _item), ("tolist", _tolist)):
    setattr(Traced, _name_, _read(_reading))
