"""``minigrad.jit(fn)``: run a training step eagerly, record it, then replay the recording.

The life of a jitted step, per signature (the conditions ``guards.compiled_check`` checks):

1. the first call runs eagerly — the optimizer makes its state, the model its
   buffers;
2. the second call runs eagerly *and is recorded* (``record.Recording``);
3. the third is recorded again and the two recordings are compared: every
   operation, every wiring and every constant must agree, or the step depends on
   something the recording cannot see (a value that changes without passing
   through a recorded operation) and the signature runs eagerly from then on;
4. every later call replays the compiled recording (``program.compile_program``).

A guard read inside the step that reads differently on replay falls back to
eager for that call (or raises, when the step had already changed state before
the read). More than ``cache_size`` signatures, a failed recording, a
``MINIGRAD_JIT=0`` environment: the function runs eagerly; ``fallbacks`` says
why, and ``strict=True`` raises instead.
"""

import os
import threading
import warnings

import numpy as np

from minigrad.backend.devices import as_device
from minigrad.jit import guards, optimizer_step, seams
from minigrad.jit.arrays import arrays_of
from minigrad.jit.program import GuardFailed, compile_program
from minigrad.jit.record import Call, Guard, Load, Op, Recording, RecordingError, Slot, Store, Traced, active
from minigrad.jit.replayed import mark_replayed, replayed_node
from minigrad.tensor import Tensor

_recording_lock = threading.Lock()        # recording patches process-wide doors (seams.opened): one at a time


class JitError(RuntimeError):
    """A jitted step could not be recorded or replayed, under ``strict=True``."""


class _Entry:
    """What is known about one signature: how often it was seen, its recordings, its compiled program."""

    def __init__(self, reach, check):
        self.reach = reach         # what the step works on (guards.discover), as it was when the signature appeared
        self.check = check         # guards.compiled_check: True for the calls of this signature
        self.calls = 0
        self.first = None          # the first recording, kept to compare with the second
        self.program = None
        self.outputs = None        # how to rebuild fn's return value from the program's output arrays
        self.node = None           # the graph node of replayed outputs that require grad (replayed.Replayed)
        self.device = None         # where the outputs live
        self.eager_reason = None   # set when this signature runs eagerly for good


class JitFunction:
    """A step function that replays its recording; see ``minigrad.jit``."""

    def __init__(self, fn, strict=False, cache_size=8):
        self.fn = fn
        self.strict = strict
        self.cache_size = cache_size
        self.recordings = 0
        self.replays = 0
        self.fallbacks = []              # why it ran eagerly, each reason once, in the order first seen
        self._counts = {}                # reason -> how many calls
        self._entries = []
        self._lock = threading.RLock()
        self._warned = False
        self._last = None                # the entry called last: its check is tried first
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "step")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __get__(self, obj, objtype=None):
        """``@minigrad.jit`` on a method: one jitted function per object, kept in the object."""
        if obj is None:
            return self
        key = f"_minigrad_jit_{self.__name__}"
        found = vars(obj).get(key) if hasattr(obj, "__dict__") else None
        if found is None:
            found = JitFunction(self.fn.__get__(obj, objtype), self.strict, self.cache_size)
            if hasattr(obj, "__dict__"):
                vars(obj)[key] = found
        return found

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if _switched_off() or active.recording is not None:
            return self.fn(*args, **kwargs)              # off; or called inside a step being recorded: part of it
        with self._lock:
            entry = self._last
            if entry is None or not _holds(entry, args, kwargs):
                entry = self._entry(args, kwargs)
                if entry is None:
                    return self._eager(f"more than {self.cache_size} signatures recorded (cache_size)", args, kwargs)
                self._last = entry
            entry.calls += 1
            if entry.program is not None:
                return self._replay(entry, args, kwargs)
            if entry.eager_reason is not None:
                return self._eager(entry.eager_reason, args, kwargs, warn=False)
            if entry.calls == 1:
                return self.fn(*args, **kwargs)
            return self._record(entry, args, kwargs)

    def _entry(self, args, kwargs):
        """The signature this call belongs to: a known one, or a new one (None past ``cache_size``)."""
        for entry in self._entries:
            if _holds(entry, args, kwargs):
                return entry
        if len(self._entries) >= self.cache_size:
            return None
        if not all(guards.acceptable(v) for v in (*args, *kwargs.values())):
            entry = _Entry(None, lambda args, kwargs: False)
            entry.eager_reason = ("an argument is not a tensor, a number, a string or None, nor a list, tuple or dict "
                                  "of them: a recording could not see what it holds")
            return entry
        reach = guards.discover(self.fn)              # again: a new parameter group, a new module
        entry = _Entry(reach, guards.compiled_check(args, kwargs, reach))
        self._entries.append(entry)
        return entry

    def _eager(self, reason, args, kwargs, warn=True):
        if self.strict:
            raise JitError(f"minigrad.jit({self.__name__}): {reason}")
        self._fell_back(reason)
        if warn and not self._warned:
            self._warned = True
            warnings.warn(f"minigrad.jit({self.__name__}) runs eagerly: {reason}", stacklevel=3)
        return self.fn(*args, **kwargs)

    def _fell_back(self, reason):
        if reason not in self._counts:
            self.fallbacks.append(reason)
        self._counts[reason] = self._counts.get(reason, 0) + 1

    # ------------------------------------------------------------------ replaying
    def _replay(self, entry, args, kwargs):
        tensors = _tensor_arguments(args, kwargs)
        try:
            with entry.device.backend.context():         # computed where eager computes (CuPy: the current GPU)
                arrays = entry.program.run(tensors)
        except GuardFailed as failed:
            guard = entry.program.guards[failed.index]
            reason = f"a value read at {guard.where} changed since the recording"
            if failed.changed:
                raise JitError(f"minigrad.jit({self.__name__}): {reason}, after the replay had changed state; "
                               "the step cannot be finished eagerly (move the read before any update)") from None
            return self._eager(reason, args, kwargs, warn=False)
        self.replays += 1
        return _rebuild(entry.outputs, arrays, entry.device, entry.node)

    # ------------------------------------------------------------------ recording
    def _record(self, entry, args, kwargs):
        try:
            with _recording_lock:
                result, recording, outputs = _run_recorded(self.fn, args, kwargs, entry.reach, self.strict)
        except RecordingError as error:
            entry.eager_reason = f"the step cannot be recorded: {error}"
            if self.strict:
                raise JitError(f"minigrad.jit({self.__name__}): {entry.eager_reason}") from error
            self._fell_back(entry.eager_reason)
            if isinstance(error, _RanToo):
                return error.result
            raise
        self.recordings += 1
        if entry.first is None:
            entry.first = (recording, outputs)
            return result
        difference = _difference(entry.first, (recording, outputs))
        entry.first = None
        if difference is not None:
            entry.eager_reason = f"two recordings of the step differ ({difference})"
            self._fell_back(entry.eager_reason)
            if self.strict:
                raise JitError(f"minigrad.jit({self.__name__}): {entry.eager_reason}")
            return result
        (slots, structure), kind = outputs
        entry.program = compile_program(recording.steps, slots, Tensor._wrap, kind, recording.origin)
        entry.outputs = structure
        entry.device = _device_of(kind)
        entry.node = replayed_node()
        return result

    # ------------------------------------------------------------------ looking inside
    def explain(self):
        """What the JIT did and holds: counts, fallbacks with their reasons, each recording's size and source."""
        lines = [f"minigrad.jit({self.__name__}): {self.recordings} recordings, {self.replays} replays, "
                 f"{sum(self._counts.values())} eager fallbacks"]
        for reason in self.fallbacks:
            lines.append(f"  fallback x{self._counts[reason]}: {reason}")
        for number, entry in enumerate(self._entries):
            if entry.program is None:
                continue
            source = entry.program.source
            lines.append(f"  signature {number}: {source.count(chr(10)) - 1} replayed lines, "
                         f"{len(entry.program.guards)} guards, {entry.program.nbytes()} bytes held (constants and buffers)")
            lines.append("    " + source.replace("\n", "\n    ").rstrip())
        return "\n".join(lines)

    def reset(self):
        """Forget every recording (their constants are freed) and the objects the step reaches."""
        with self._lock:
            self._entries.clear()
            self._last = None


try:                                      # CPython's environment mapping, read without encoding the key every call
    _ENVIRON, _KEY, _OFF = os.environ._data, os.environ.encodekey("MINIGRAD_JIT"), os.environ.encodevalue("0")
except AttributeError:
    _ENVIRON = None


def _switched_off():
    """Whether ``MINIGRAD_JIT=0`` is set now (``os.environ.get`` costs a few microseconds inside a step)."""
    if _ENVIRON is None:
        return os.environ.get("MINIGRAD_JIT", "1") == "0"
    return _ENVIRON.get(_KEY) == _OFF


def _holds(entry, args, kwargs):
    """Whether this call is of ``entry``'s signature (a check that cannot even be asked does not hold)."""
    try:
        return entry.check(args, kwargs)
    except (KeyError, IndexError, AttributeError, TypeError):
        return False


def jit(fn=None, *, strict=False, cache_size=8):
    """Record a training step once and replay it: ``step = minigrad.jit(step)``, also ``@minigrad.jit``.

    ``fn`` takes tensors (and Python numbers) and performs a whole step — ``zero_grad``,
    forward, loss, ``backward``, ``optimizer.step()`` — and returns tensors. The first
    call runs eagerly, the next two record (and must agree), later calls replay the
    recorded NumPy operations in a generated function, with the learning rate and
    step counts read afresh. ``strict=True`` raises where the step would fall back to
    eager; ``MINIGRAD_JIT=0`` turns replaying off. See docs/jit.md.
    """
    if fn is None:
        return lambda f: JitFunction(f, strict=strict, cache_size=cache_size)
    return JitFunction(fn, strict=strict, cache_size=cache_size)


# ---------------------------------------------------------------------------------------------- one recording
class _RanToo(RecordingError):
    """A recording failed after the step had run (its effects are eager's); ``result`` is what it returned."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


def _tensor_arguments(args, kwargs):
    if not kwargs and all(type(a) is Tensor for a in args):
        return list(args)                                # the common case, quickly
    return [v for v in _flatten((args, kwargs)) if isinstance(v, Tensor)]


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    else:
        yield value


class _Places:
    """The tensors a recording loads from and stores into, with the array each holds at the last sync."""

    def __init__(self, arguments, reach, arrays):
        self.sources = [(("arg", i), t) for i, t in enumerate(arguments)]
        taken = {id(t) for t in arguments}
        self.sources += [(("tensor", t), t) for t in reach.tensors if id(t) not in taken]
        self.arrays = arrays
        self.seen = {}
        self.updated = {id(p) for o in reach.optimizers for group in o.param_groups for p in group["params"]}

    def load(self, recording):
        """Trace every array the step starts from (again after a replayed Python call, which may have changed them)."""
        arrays = self.arrays
        for source, t in self.sources:
            t._array = arrays.trace(recording, t._array)
            recording.steps.append(Load(source, False, _slot_of(arrays, t._array), fixed=id(t) not in self.updated))
            grad = t._grad
            if grad is not None:
                grad._array = arrays.trace(recording, grad._array)
                recording.steps.append(Load(source, True, _slot_of(arrays, grad._array)))
            self.seen[id(t)] = (t._array, grad, None if grad is None else grad._array)

    def store(self, recording):
        """Write down what the step changed about the tensors since the last sync."""
        arrays = self.arrays
        for source, t in self.sources:
            array, grad, grad_array = self.seen[id(t)]
            if t._array is not array:
                recording.steps.append(Store(source, "array", _slot_of(arrays, t._array)))
            if t._grad is None:
                if grad is not None:
                    recording.steps.append(Store(source, "no_grad", None))
            elif t._grad is not grad:
                if t._grad.grad_fn is not None or t._grad._requires_grad:
                    raise RecordingError("the step leaves a gradient that is part of a graph (create_graph=True)")
                recording.steps.append(Store(source, "grad", _slot_of(arrays, t._grad._array)))
            elif t._grad._array is not grad_array:
                recording.steps.append(Store(source, "grad_array", _slot_of(arrays, t._grad._array)))
            self.seen[id(t)] = (t._array, t._grad, None if t._grad is None else t._grad._array)

    def restore(self, recording, grads=True):
        """Give every tensor back plain arrays (those the traced ones view); ``grads=False``: the gradients stay."""
        for _, t in self.sources:
            t._array = self.arrays.plain(recording, t._array)
            if grads and t._grad is not None:
                t._grad._array = self.arrays.plain(recording, t._grad._array)


def _slot_of(arrays, array):
    inner = arrays.inner(array) if arrays.wraps else array
    if not isinstance(inner, Traced) or inner.slot is None:
        raise RecordingError("the step gives a tensor an array the recording did not make")
    return inner.slot


def _the_arrays(sources):
    """The one kind of array the step's tensors hold (a step on two devices is not recorded)."""
    backends = {id(t.device.backend): t.device.backend for _, t in sources}
    if len(backends) != 1:
        raise RecordingError(f"the step's tensors are on {len(backends)} devices; a recording has one")
    return arrays_of(next(iter(backends.values())))


def _run_recorded(fn, args, kwargs, reach, strict):
    """Run ``fn`` once, recording it; returns its result, the recording and ``(output slots, output structure)``."""
    recording = Recording(strict)
    arguments = _tensor_arguments(args, kwargs)
    sources = [(None, t) for t in arguments] + [(None, t) for t in reach.tensors]
    places = _Places(arguments, reach, _the_arrays(sources))
    patched = _python_calls(reach, recording, places)
    result, outputs = None, None
    try:
        active.recording = recording
        with seams.opened(places.arrays):
            places.load(recording)
            result = fn(*args, **kwargs)
            try:
                places.store(recording)
                outputs = _outputs(result, places.arrays, places)
                recording.check_constants()
            except RecordingError as error:
                recording.fail(error)
    finally:
        active.recording = None
        _unpatch(patched)
        places.restore(recording)
        _plain_outputs(result, recording, places.arrays)
    if recording.failure is not None:
        raise _RanToo(str(recording.failure), result) from recording.failure
    return result, recording, (outputs, places.arrays)


def _python_calls(reach, recording, places):
    """Replace the step's optimizers' and schedulers' ``step``/``zero_grad`` by recorded calls (on the instances);
    an optimizer's step is recorded as its rule calls where it can be (optimizer_step.py)."""
    patched = []
    for owner, names in [(o, ("step", "zero_grad")) for o in reach.optimizers] + \
                        [(s, ("step",)) for s in reach.schedulers]:
        for name in names:
            real = getattr(owner, name)
            if name == "step" and owner in reach.optimizers and optimizer_step.recordable(owner):
                wrapper = _recorded_step(owner, real, recording, places)
            else:
                wrapper = _replayed_call(real, f"{type(owner).__name__}.{name}", recording, places)
            setattr(owner, name, wrapper)
            patched.append((owner, name))
    return patched


def _recorded_step(optimizer, real, recording, places):
    def step(closure=None):
        if recording.depth:
            return real(closure)
        if closure is not None:
            recording.fail(RecordingError(f"{type(optimizer).__name__}.step is given a closure inside the step"))
            return real(closure)
        try:
            places.store(recording)
        except RecordingError as error:
            recording.fail(error)
            return real()
        places.restore(recording, grads=False)     # the optimizer checks its parameters' own arrays; grads stay traced
        result = optimizer_step.record_step(optimizer, real, recording)
        places.load(recording)
        return result

    return step


def _unpatch(patched):
    for owner, name in patched:
        vars(owner).pop(name, None)


def _replayed_call(real, name, recording, places):
    def call(*args, **kwargs):
        if recording.depth:
            return real(*args, **kwargs)
        if any(isinstance(v, Tensor) or callable(v) for v in _flatten((args, kwargs))):
            recording.fail(RecordingError(f"{name} is given a tensor or a closure inside the step; call it outside "
                                          "the jitted function (ReduceLROnPlateau.step(loss) after reading the loss)"))
            return real(*args, **kwargs)
        try:
            places.store(recording)
        except RecordingError as error:
            recording.fail(error)
            return real(*args, **kwargs)
        places.restore(recording)              # the call sees the tensors' own arrays, as eager
        recording.depth += 1
        try:
            result = real(*args, **kwargs)
        finally:
            recording.depth -= 1
        call = Call(real, args, kwargs, name)
        call.idempotent = name.endswith(".zero_grad") and kwargs.get("set_to_none", args[0] if args else True)
        recording.steps.append(call)
        places.load(recording)
        return result

    return call


def _outputs(result, arrays, places):
    """The output slots and a structure telling ``_rebuild`` where each goes."""
    slots = []
    sources = {id(t): t for _, t in places.sources}

    def walk(value):
        if id(value) in sources:                         # a parameter or an argument itself: the same object
            return ("same", value)
        if isinstance(value, Tensor):
            slots.append(_slot_of(arrays, value._array))
            return ("tensor", len(slots) - 1, value.requires_grad)
        if isinstance(value, (list, tuple)):
            return (type(value), [walk(v) for v in value])
        if isinstance(value, dict):
            return (dict, {k: walk(v) for k, v in value.items()})
        if value is None or isinstance(value, (bool, int, float, str)):
            return ("value", value)
        raise RecordingError(f"the step returns a {type(value).__name__}; a jitted step returns tensors, numbers, "
                             "and lists, tuples or dicts of them")

    return slots, walk(result)


def _plain_outputs(result, recording, arrays):
    for value in _flatten(result if isinstance(result, (list, tuple, dict)) else [result]):
        if isinstance(value, Tensor):
            value._array = arrays.plain(recording, value._array)


def _rebuild(structure, arrays, device, node):
    kind = structure[0]
    if kind == "tensor":
        _, index, requires_grad = structure
        t = Tensor._wrap(arrays[index], device)
        return mark_replayed(t, node) if requires_grad else t
    if kind in ("value", "same"):
        return structure[1]
    if kind is dict:
        return {k: _rebuild(v, arrays, device, node) for k, v in structure[1].items()}
    values = [_rebuild(v, arrays, device, node) for v in structure[1]]
    return kind(*values) if hasattr(kind, "_fields") else kind(values)      # a named tuple takes its fields


def _device_of(arrays):
    name = arrays.backend.name
    return as_device(name)


def _difference(first, second):
    """Where two recordings of one signature differ (None when they agree step for step)."""
    (a, (a_out, _)), (b, (b_out, _)) = first, second
    if a_out != b_out:
        return "the step returns different things"
    if len(a.steps) != len(b.steps):
        return f"{len(a.steps)} recorded steps, then {len(b.steps)}"
    for number, (x, y) in enumerate(zip(a.steps, b.steps)):
        if type(x) is not type(y):
            return f"step {number}: {type(x).__name__} then {type(y).__name__}"
        if isinstance(x, Op):
            same = x.function == y.function and x.outputs == y.outputs and _same(x.args, y.args) \
                and _same(x.kwargs, y.kwargs)
        elif isinstance(x, Load):
            same = x.slot == y.slot and x.grad == y.grad and _same_source(x.source, y.source)
        elif isinstance(x, Store):
            same = x.slot == y.slot and x.kind == y.kind and _same_source(x.source, y.source)
        elif isinstance(x, Call):
            same = x.function == y.function and x.output == y.output and _same(x.args, y.args) \
                and _same(x.kwargs, y.kwargs)
        else:
            same = x.read == y.read and x.slot == y.slot and _same(x.value, y.value)
        if not same:
            return f"step {number} ({_describe(x)})"
    return None


def _same_source(a, b):
    return a[0] == b[0] and (a[1] == b[1] if a[0] == "arg" else a[1] is b[1])


def _same(a, b):
    if isinstance(a, Slot):
        return isinstance(b, Slot) and a.index == b.index
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and \
            np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:                                  # noqa: BLE001 - objects without a usable ==
        return a is b


def _describe(step):
    if isinstance(step, Guard):
        return f"a value read at {step.where}: {step.value!r}, then something else"
    if isinstance(step, (Op, Call)):
        function = step.function
        return getattr(function, "__qualname__", None) or getattr(function, "__name__", repr(function))
    return type(step).__name__
